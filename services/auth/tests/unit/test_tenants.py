"""Tenants: the store-name rule, GetTenant, and local mode's development tenants (product.md §1.2)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bridge_auth.bootstrap import Services
from bridge_auth.domain.tenants import Tenant, check_store_name, new_tenant_id
from bridge_platform.errors import InvalidInput, NotFound, PermissionDenied

TOO_LONG = "x" * 64


@pytest.mark.parametrize("name", ["demo", "a", "7", "my-store", "store-2", "a--b", "x" * 63])
def test_valid_store_names_are_accepted(name: str) -> None:
    assert check_store_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "-demo", "demo-", "-", "Demo", "DEMO", "my_store", "my.store", "a b", " demo", "dëmo", "demo\n", TOO_LONG],
)
def test_invalid_store_names_are_invalid_input_naming_the_field(name: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_store_name(name)

    assert [(v.field, v.code) for v in refused.value.violations] == [("store_name", "invalid_store_name")]


def test_tenant_ids_are_opaque_and_fresh() -> None:
    ids = {new_tenant_id() for _ in range(100)}

    assert len(ids) == 100
    assert all(re.fullmatch(r"t_[0-9a-f]{24}", tenant_id) for tenant_id in ids)


def test_a_tenant_needs_an_aware_creation_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Tenant("t_1", "demo", datetime(2026, 11, 24, 12, 0))


def test_an_unknown_tenant_is_not_found(services: Services) -> None:
    with pytest.raises(NotFound):
        services.get_tenant("t_000000000000000000000000")


def test_a_tenant_id_is_required(services: Services) -> None:
    with pytest.raises(InvalidInput):
        services.get_tenant(" ")


def test_the_development_tenant_is_created_on_first_use(services: Services, stored_tenants: dict[str, Tenant]) -> None:
    tenant = services.ensure_development_tenant("demo")

    assert (tenant.store_name, tenant.is_development) == ("demo", True)
    assert tenant.created_at == datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert list(stored_tenants) == [tenant.id]
    assert services.get_tenant(tenant.id) == tenant


def test_the_second_call_returns_the_same_tenant(services: Services, stored_tenants: dict[str, Tenant]) -> None:
    first = services.ensure_development_tenant("demo")
    second = services.ensure_development_tenant("demo")

    assert second.id == first.id
    assert len(stored_tenants) == 1


def test_each_store_gets_its_own_tenant(services: Services) -> None:
    assert services.ensure_development_tenant("demo").id != services.ensure_development_tenant("other").id


def test_the_loser_of_a_race_returns_the_winners_tenant(
    services: Services, stored_tenants: dict[str, Tenant], commits_first: Callable[[Tenant], None]
) -> None:
    winner = Tenant("t_" + "a" * 24, "demo", datetime(2026, 11, 24, 11, 59, tzinfo=UTC), is_development=True)
    commits_first(winner)  # stored after our read, before our commit

    tenant = services.ensure_development_tenant("demo")

    assert tenant == winner
    assert list(stored_tenants.values()) == [winner]


def test_a_bad_store_name_creates_nothing(services: Services, stored_tenants: dict[str, Tenant]) -> None:
    with pytest.raises(InvalidInput) as refused:
        services.ensure_development_tenant("Not A Store")

    assert [v.field for v in refused.value.violations] == ["store_name"]
    assert stored_tenants == {}


def test_development_tenants_are_refused_outside_local_mode(
    production_services: Services, stored_tenants: dict[str, Tenant]
) -> None:
    with pytest.raises(PermissionDenied, match="only available in local mode"):
        production_services.ensure_development_tenant("demo")

    assert stored_tenants == {}
