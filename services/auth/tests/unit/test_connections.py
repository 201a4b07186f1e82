"""The token vault's use cases and the Fortnox connection with fakes (product.md §1.3-§1.5, §1.7)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from bridge_auth.app.connections import CompleteFortnoxConnectRequest
from bridge_auth.bootstrap import Services
from bridge_auth.domain.connections import FORTNOX_SCOPES, CompanyInformation, ConnectionStatus, Upstream
from bridge_auth.domain.tenants import Tenant
from bridge_platform.errors import Conflict, InvalidInput, NotFound

Fakes = Any  # the `fakes` fixture of tests/conftest.py (conftest modules are not importable)
REDIRECT = "https://bridge.example/oauth/fortnox/callback"


def connect(services: Services, fakes: Fakes, tenant: Tenant, code: str = "code") -> None:
    url = services.begin_fortnox_connect(tenant.id, REDIRECT)
    state = parse_qs(urlsplit(url).query)["state"][0]
    services.complete_fortnox_connect(CompleteFortnoxConnectRequest(state, code, ""))


@pytest.fixture
def tenant(services: Services) -> Tenant:
    return services.ensure_development_tenant("demo")


def test_begin_asks_for_offline_access_with_the_scopes_of_the_product(
    services: Services, fakes: Fakes, tenant: Tenant
) -> None:
    services.begin_fortnox_connect(tenant.id, REDIRECT)

    state, redirect, scopes = fakes.fortnox.authorize_calls[0]
    assert scopes == FORTNOX_SCOPES
    assert " ".join(scopes) == "article customer order invoice price companyinformation settings currency payment"
    assert redirect == REDIRECT
    assert len(state) >= 40
    assert state not in str(fakes.database.authorizations)  # only the hash is stored


def test_connect_stores_sealed_tokens_and_the_company(services: Services, fakes: Fakes, tenant: Tenant) -> None:
    connect(services, fakes, tenant)

    stored = fakes.database.connections[(tenant.id, "fortnox")]
    assert stored.status == ConnectionStatus.CONNECTED
    assert stored.access_token is not None
    assert "fortnox-access-1" not in stored.access_token
    assert stored.refresh_token is not None
    assert "fortnox-refresh-1" not in stored.refresh_token
    assert (stored.company_name, stored.organisation_number) == ("Demo AB", "556677-8899")
    assert stored.refresh_expires_at == fakes.clock.now() + timedelta(days=45)
    card = services.get_connection(tenant.id)
    assert card.fortnox is not None
    assert card.fortnox.connected_at == fakes.clock.now()
    assert services.get_access_token(tenant.id, Upstream.FORTNOX).token == "fortnox-access-1"


def test_a_state_is_single_use(services: Services, fakes: Fakes, tenant: Tenant) -> None:
    url = services.begin_fortnox_connect(tenant.id, REDIRECT)
    state = parse_qs(urlsplit(url).query)["state"][0]
    services.complete_fortnox_connect(CompleteFortnoxConnectRequest(state, "code", ""))

    with pytest.raises(InvalidInput, match="unknown, used or expired"):
        services.complete_fortnox_connect(CompleteFortnoxConnectRequest(state, "code", ""))
    assert fakes.fortnox.issued == 1


@pytest.mark.parametrize("state", ["", "never-issued"])
def test_an_unknown_state_changes_nothing(services: Services, fakes: Fakes, tenant: Tenant, state: str) -> None:
    with pytest.raises(InvalidInput, match="unknown, used or expired"):
        services.complete_fortnox_connect(CompleteFortnoxConnectRequest(state, "code", ""))
    assert fakes.database.connections == {}
    assert fakes.fortnox.issued == 0


def test_an_expired_state_changes_nothing(services: Services, fakes: Fakes, tenant: Tenant) -> None:
    url = services.begin_fortnox_connect(tenant.id, REDIRECT)
    fakes.clock.advance(minutes=10)

    with pytest.raises(InvalidInput):
        services.complete_fortnox_connect(
            CompleteFortnoxConnectRequest(parse_qs(urlsplit(url).query)["state"][0], "code", "")
        )
    assert fakes.database.connections == {}


def test_a_declined_consent_changes_nothing(services: Services, fakes: Fakes, tenant: Tenant) -> None:
    url = services.begin_fortnox_connect(tenant.id, REDIRECT)
    state = parse_qs(urlsplit(url).query)["state"][0]

    with pytest.raises(Conflict, match="declined") as refused:
        services.complete_fortnox_connect(CompleteFortnoxConnectRequest(state, "", "access_denied"))
    assert refused.value.details == {"reason": "access_denied"}
    assert fakes.database.connections == {}
    assert fakes.fortnox.issued == 0


def test_another_company_is_refused_until_relations_are_reset(services: Services, fakes: Fakes, tenant: Tenant) -> None:
    connect(services, fakes, tenant)
    services.disconnect_fortnox(tenant.id)
    fakes.company.company = CompanyInformation("Andra AB", "551122-3344", True)

    with pytest.raises(Conflict, match="connected to another company; reset the product relations first"):
        connect(services, fakes, tenant)
    stored = fakes.database.connections[(tenant.id, "fortnox")]
    assert (stored.status, stored.company_name) == (ConnectionStatus.DISCONNECTED, "Demo AB")
    assert "fortnox-refresh-2" in fakes.fortnox.revoked  # the refused consent is not left behind

    services.forget_fortnox_company(tenant.id)
    connect(services, fakes, tenant)
    stored = fakes.database.connections[(tenant.id, "fortnox")]
    assert (stored.status, stored.company_name, stored.warehouse_module) == ("connected", "Andra AB", True)


def test_reconnecting_the_same_company_continues(services: Services, fakes: Fakes, tenant: Tenant) -> None:
    connect(services, fakes, tenant)
    services.disconnect_fortnox(tenant.id)
    connect(services, fakes, tenant)

    assert fakes.database.connections[(tenant.id, "fortnox")].status == ConnectionStatus.CONNECTED


def test_disconnect_revokes_and_deletes_the_tokens_and_keeps_the_company(
    services: Services, fakes: Fakes, tenant: Tenant
) -> None:
    connect(services, fakes, tenant)

    services.disconnect_fortnox(tenant.id)

    assert fakes.fortnox.revoked == ["fortnox-refresh-1"]
    stored = fakes.database.connections[(tenant.id, "fortnox")]
    assert (stored.access_token, stored.refresh_token, stored.status) == (None, None, "disconnected")
    assert stored.company_name == "Demo AB"
    with pytest.raises(Conflict) as refused:
        services.get_access_token(tenant.id, Upstream.FORTNOX)
    assert refused.value.details == {"reason": "disconnected"}


def test_a_fresh_token_is_returned_without_a_refresh(services: Services, fakes: Fakes, tenant: Tenant) -> None:
    connect(services, fakes, tenant)
    fakes.clock.advance(minutes=54)

    assert services.get_access_token(tenant.id, Upstream.FORTNOX).token == "fortnox-access-1"
    assert fakes.fortnox.refreshes == []


def test_a_token_expiring_within_the_margin_is_refreshed_once(services: Services, fakes: Fakes, tenant: Tenant) -> None:
    connect(services, fakes, tenant)
    fakes.clock.advance(minutes=56)

    first = services.get_access_token(tenant.id, Upstream.FORTNOX)
    second = services.get_access_token(tenant.id, Upstream.FORTNOX)

    assert first.token == second.token == "fortnox-access-2"
    assert fakes.fortnox.refreshes == ["fortnox-refresh-1"]
    assert fakes.database.connections[(tenant.id, "fortnox")].refresh_expires_at == fakes.clock.now() + timedelta(
        days=45
    )


def test_a_dead_refresh_token_means_needs_reauth_and_an_alert(services: Services, fakes: Fakes, tenant: Tenant) -> None:
    connect(services, fakes, tenant)
    fakes.fortnox.live_refresh_tokens.clear()  # revoked at Fortnox
    fakes.clock.advance(hours=2)

    with pytest.raises(Conflict) as refused:
        services.get_access_token(tenant.id, Upstream.FORTNOX)
    assert refused.value.details == {"reason": "needs_reauth"}
    assert fakes.alerts.raised == [(tenant.id, "fortnox")]
    stored = fakes.database.connections[(tenant.id, "fortnox")]
    assert (stored.status, stored.access_token, stored.refresh_token) == ("needs_reauth", None, None)

    with pytest.raises(Conflict) as again:
        services.get_access_token(tenant.id, Upstream.FORTNOX)
    assert again.value.details == {"reason": "needs_reauth"}
    assert len(fakes.fortnox.refreshes) == 1  # the dead token is not sent again
    assert fakes.alerts.raised == [(tenant.id, "fortnox")]

    connect(services, fakes, tenant)  # reconnecting ends it
    assert services.get_access_token(tenant.id, Upstream.FORTNOX).token == "fortnox-access-2"


def test_a_rejected_token_is_refreshed_only_while_it_is_current(
    services: Services, fakes: Fakes, tenant: Tenant
) -> None:
    connect(services, fakes, tenant)

    services.report_rejected_token(tenant.id, Upstream.FORTNOX, "fortnox-access-1")
    services.report_rejected_token(tenant.id, Upstream.FORTNOX, "fortnox-access-1")  # already replaced

    assert fakes.fortnox.refreshes == ["fortnox-refresh-1"]
    assert services.get_access_token(tenant.id, Upstream.FORTNOX).token == "fortnox-access-2"


def test_due_tokens_are_refreshed_before_the_refresh_token_ends(
    services: Services, fakes: Fakes, tenant: Tenant
) -> None:
    connect(services, fakes, tenant)
    fakes.clock.advance(minutes=30)
    assert services.refresh_due_tokens().refreshed == 0

    stored = fakes.database.connections[(tenant.id, "fortnox")]
    stored.access_expires_at = fakes.clock.now() + timedelta(days=400)  # only the refresh token's age counts now
    fakes.clock.advance(days=37)
    assert services.refresh_due_tokens().refreshed == 0
    fakes.clock.advance(days=1, seconds=1)  # 7 days before the 45-day lifetime ends
    result = services.refresh_due_tokens()

    assert (result.refreshed, result.failed) == (1, 0)
    assert fakes.fortnox.refreshes == ["fortnox-refresh-1"]


def test_idle_expired_tokens_are_refreshed_and_failures_counted(
    services: Services, fakes: Fakes, tenant: Tenant
) -> None:
    other = services.ensure_development_tenant("other")
    connect(services, fakes, tenant)
    connect(services, fakes, other)
    fakes.fortnox.live_refresh_tokens.discard("fortnox-refresh-2")  # the other tenant's grant died
    fakes.clock.advance(hours=3)

    result = services.refresh_due_tokens()

    assert (result.refreshed, result.failed) == (1, 1)
    assert fakes.alerts.raised == [(other.id, "fortnox")]


def test_unknown_tenants_have_no_connection(services: Services) -> None:
    with pytest.raises(NotFound):
        services.get_connection("t_" + "0" * 24)
    with pytest.raises(NotFound):
        services.begin_fortnox_connect("t_" + "0" * 24, REDIRECT)


def test_a_connection_card_before_connecting(services: Services, tenant: Tenant) -> None:
    card = services.get_connection(tenant.id)

    assert card.tenant.store_name == "demo"
    assert (card.ikas, card.fortnox) == (None, None)
