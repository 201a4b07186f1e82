"""IkasClient under the sandbox's faults: 429 bursts, 503s, timeouts, dropped connections, expired tokens,
malformed answers and GraphQL errors, each ending in a recovered call or a clear bridge_platform error."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest

from bridge_platform.errors import OutcomeUnknown, UpstreamRejected, UpstreamUnavailable
from bridge_upstreams.ikas import client as client_module
from bridge_upstreams.ikas import models as m
from bridge_upstreams.ikas.client import Document, IkasClient
from bridge_upstreams.ikas.errors import RECONNECT_HINT
from bridge_upstreams.transport import RetryPolicy

TENANT = "demo"
Sandbox = Any  # conftest.py fixtures (not importable under --import-mode=importlib)
ClientFactory = Any
PDF = b"%PDF-1.4\n%%EOF\n"


def _attachment(order_id: str, number: str) -> m.InvoiceAttachment:
    return m.InvoiceAttachment(order_id=order_id, invoice_number=number, app_id="bridge", pdf=PDF)


def test_a_429_burst_is_absorbed_by_retries(make_client: ClientFactory, sandbox: Sandbox) -> None:
    ikas = make_client(retry=RetryPolicy(max_attempts=30, base_delay_s=0.05, max_delay_s=0.3))
    ikas.me(TENANT)  # the token first, outside the burst
    sandbox.post("rate-limit", {"limit": 5, "window_s": 1.0})
    started = time.monotonic()
    names = [ikas.get_merchant(TENANT).store_name for _ in range(15)]
    assert names == ["demo"] * 15
    statuses = [c["status"] for c in sandbox.graphql_calls()]
    assert 429 in statuses
    assert statuses.count(200) == 16
    assert time.monotonic() - started < 20


def test_429_and_503_faults_on_reads_are_retried(ikas: IkasClient, sandbox: Sandbox) -> None:
    ikas.me(TENANT)
    sandbox.fault("status", status=429, times=2, body={"errors": [{"message": "slow down"}]})
    sandbox.fault("status", status=503, times=2, body="<html>maintenance</html>")
    assert len(list(ikas.iter_orders(TENANT))) == 15
    assert [c["status"] for c in sandbox.graphql_calls()][-5:] == [429, 429, 503, 503, 200]


def test_a_503_on_a_write_is_retried_only_when_the_write_is_an_absolute_set(ikas: IkasClient, sandbox: Sandbox) -> None:
    product = next(iter(ikas.iter_products(TENANT)))
    variant = product.variants[0]
    location = ikas.list_stock_locations(TENANT)[0].id
    sandbox.fault("status", method="POST", status=503, times=1)
    ikas.set_stock(TENANT, [m.StockUpdate(product.id, variant.id, location, Decimal(3))])  # idempotent: retried
    order = next(iter(ikas.iter_orders(TENANT)))
    sandbox.fault("status", status=503, times=1)
    with pytest.raises(OutcomeUnknown):
        ikas.add_order_invoice(TENANT, _attachment(order.id, "F-503"))


def test_a_timeout_on_a_mutation_is_outcome_unknown_and_the_caller_looks_it_up(
    make_client: ClientFactory, sandbox: Sandbox
) -> None:
    ikas = make_client(timeout_s=0.5)
    order = next(iter(ikas.iter_orders(TENANT)))
    sandbox.fault("delay", delay_s=1.5)
    with pytest.raises(OutcomeUnknown) as lost:
        ikas.add_order_invoice(TENANT, _attachment(order.id, "F-TIMEOUT"))
    assert lost.value.upstream == "ikas"
    assert "answer was lost" in lost.value.message
    time.sleep(1.2)  # past the sandbox's delay
    # the write happened although its answer was lost: the caller's look-up finds it, so it writes nothing again
    reread = ikas.get_order(TENANT, order.id)
    assert reread is not None
    assert [i.number for i in reread.invoices] == ["F-TIMEOUT"]


def delayed_answers(sandbox: Sandbox) -> int:
    return sum(1 for c in sandbox.graphql_calls() if c["fault"] == "delay")


def test_a_timeout_on_a_read_is_retried(make_client: ClientFactory, sandbox: Sandbox) -> None:
    ikas = make_client(timeout_s=0.5)
    ikas.me(TENANT)
    answered = delayed_answers(sandbox)
    sandbox.fault("delay", delay_s=1.0)
    assert ikas.get_merchant(TENANT).store_name == "demo"
    # The abandoned attempt is still being answered: wait for it, so its late entry does not land among the next
    # tests' calls (the expired-token test reads the last two).
    deadline = time.monotonic() + 10
    while delayed_answers(sandbox) == answered:
        assert time.monotonic() < deadline, "the sandbox never answered the delayed request"
        time.sleep(0.05)


def test_a_connection_dropped_after_a_mutation_is_outcome_unknown(ikas: IkasClient, sandbox: Sandbox) -> None:
    order = next(iter(ikas.iter_orders(TENANT)))
    sandbox.fault("drop_after")
    with pytest.raises(OutcomeUnknown):
        ikas.add_order_invoice(TENANT, _attachment(order.id, "F-DROP"))
    reread = ikas.get_order(TENANT, order.id)
    assert reread is not None
    assert [i.number for i in reread.invoices] == ["F-DROP"]


def test_a_connection_dropped_during_a_read_is_retried(ikas: IkasClient, sandbox: Sandbox) -> None:
    ikas.me(TENANT)
    sandbox.fault("drop_after")
    assert len(ikas.list_stock_locations(TENANT)) == 2


def test_an_expired_token_is_refreshed_and_the_call_repeated(ikas: IkasClient, sandbox: Sandbox, tokens: Any) -> None:
    first = ikas.me(TENANT)
    old_token = tokens.tokens[TENANT]
    sandbox.advance_clock(4 * 3600 + 1)  # past the 4 h access-token lifetime
    assert ikas.me(TENANT) == first
    assert tokens.refreshes == [TENANT]
    assert tokens.tokens[TENANT].access_token != old_token.access_token
    assert tokens.tokens[TENANT].refresh_token != old_token.refresh_token
    assert [c["status"] for c in sandbox.graphql_calls()][-2:] == [401, 200]


def test_a_private_app_token_is_asked_for_again_when_it_expires(
    make_client: ClientFactory, sandbox: Sandbox, http: Any, oauth: Any, tokens: Any
) -> None:
    private = type(tokens)(http, oauth, "client_credentials")  # conftest's SandboxTokens, private-app grant
    ikas = make_client(token_source=private)
    ikas.me(TENANT)
    assert private.tokens[TENANT].refresh_token is None
    sandbox.advance_clock(4 * 3600 + 1)
    assert ikas.get_merchant(TENANT).store_name == "demo"
    assert private.refreshes == [TENANT]


def test_a_token_rejected_after_a_refresh_means_reconnect(make_client: ClientFactory) -> None:
    class DeadTokens:
        def access_token(self, tenant_id: str) -> str:
            return "revoked"

        def report_rejected(self, tenant_id: str, token: str) -> None:
            return None

    ikas = make_client(token_source=DeadTokens())
    with pytest.raises(UpstreamRejected) as rejected:
        ikas.me(TENANT)
    assert rejected.value.status == 401
    assert "reconnect" in rejected.value.message


@pytest.mark.parametrize("operation", ["read", "write"])
def test_a_malformed_answer_is_a_clear_error(ikas: IkasClient, sandbox: Sandbox, operation: str) -> None:
    order = next(iter(ikas.iter_orders(TENANT)))
    sandbox.fault("malformed")
    if operation == "read":
        with pytest.raises(UpstreamUnavailable) as unreadable:
            ikas.get_order(TENANT, order.id)
        assert not isinstance(unreadable.value, OutcomeUnknown)
        assert "listOrder" in unreadable.value.message
        assert "not JSON" in unreadable.value.message
    else:
        with pytest.raises(OutcomeUnknown) as unknown:
            ikas.add_order_invoice(TENANT, _attachment(order.id, "F-MALFORMED"))
        assert "addOrderInvoice" in unknown.value.message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"data": {"listOrder": {"data": [{"id": 5}], "hasNext": False}}}, "expected a string, got 5"),
        ({"data": {"listOrder": {"data": [{"id": "o1"}], "hasNext": False}}}, "KeyError"),
        ({"data": {"listOrder": {"data": "nope", "hasNext": False}}}, "could not be read"),
        ({"data": {"listOrder": {"data": [], "hasNext": "yes"}}}, "hasNext"),
        ({"data": {}}, "no data.listOrder"),
        ({"data": None}, "no data.listOrder"),
        ([1, 2, 3], "no data.listOrder"),
        ("<html>hello</html>", "not JSON"),
    ],
)
def test_an_answer_of_the_wrong_shape_is_a_clear_error(
    ikas: IkasClient, sandbox: Sandbox, body: Any, expected: str
) -> None:
    ikas.me(TENANT)
    sandbox.fault("status", status=200, body=body)
    with pytest.raises(UpstreamUnavailable) as unreadable:
        list(ikas.iter_orders(TENANT))
    assert expected in unreadable.value.message
    assert unreadable.value.extra["hint"]


def test_an_unexpected_http_status_is_a_clear_error(ikas: IkasClient, sandbox: Sandbox) -> None:
    ikas.me(TENANT)
    sandbox.fault("status", status=500, body="<html>Internal</html>")
    with pytest.raises(UpstreamUnavailable) as failed:
        ikas.list_webhooks(TENANT)
    assert failed.value.status == 500
    assert "listWebhook" in failed.value.message
    sandbox.fault("status", status=404, body="Not Found")
    with pytest.raises(UpstreamRejected) as wrong_url:
        ikas.list_webhooks(TENANT)
    assert wrong_url.value.status == 404
    assert "ikas API address" in wrong_url.value.extra["hint"]


def test_a_missing_scope_names_the_scope(make_client: ClientFactory, sandbox: Sandbox, http: Any) -> None:
    sandbox.post(
        "apps", {"client_id": "narrow", "client_secret": "narrow-secret", "store": "demo", "scope": "read_products"}
    )
    from bridge_upstreams.ikas.oauth import IkasOAuth

    narrow = IkasOAuth(
        http,
        client_id="narrow",
        client_secret="narrow-secret",
        store_url_template=sandbox.store_url_template,
        api_url=sandbox.base_url,
    )

    class PrivateAppTokens:
        def access_token(self, tenant_id: str) -> str:
            return narrow.client_credentials(tenant_id).access_token

        def report_rejected(self, tenant_id: str, token: str) -> None:
            return None

    ikas = make_client(token_source=PrivateAppTokens())
    assert list(ikas.iter_products(TENANT, page_size=1))
    with pytest.raises(UpstreamRejected) as refused:
        list(ikas.iter_orders(TENANT))
    assert refused.value.upstream_code == "FORBIDDEN"
    assert refused.value.extra["missing_scope"] == "read_orders"
    assert "read_orders" in refused.value.message
    assert "Authorize Bridge again" in refused.value.extra["hint"]


def test_a_validation_error_names_the_operation(ikas: IkasClient) -> None:
    with pytest.raises(UpstreamRejected) as rejected:
        ikas.create_product(TENANT, m.NewProduct(name="No variants", variants=()))
    assert rejected.value.upstream_code == "ARGUMENT_VALIDATION_ERROR"
    assert "saveProduct" in rejected.value.message
    assert rejected.value.extra["operation"] == "saveProduct"


def test_a_document_the_schema_rejects_is_reported_as_a_bridge_bug(
    ikas: IkasClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = Document("me", "query me { me { id clientSecret } }", "me", is_mutation=False)
    monkeypatch.setattr(client_module, "document", lambda name: bad)
    with pytest.raises(UpstreamRejected) as rejected:
        ikas.me(TENANT)
    assert rejected.value.status == 400
    assert rejected.value.upstream_code == "GRAPHQL_VALIDATION_FAILED"
    assert "clientSecret" in rejected.value.message
    assert "Bridge bug" in rejected.value.extra["hint"]


def test_a_page_larger_than_ikas_allows_is_refused_before_sending(ikas: IkasClient, sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="between 1 and 200"):
        list(ikas.iter_products(TENANT, page_size=201))
    assert sandbox.graphql_calls() == []


def test_unauthenticated_in_an_errors_array_says_reconnect() -> None:
    from bridge_upstreams.ikas.errors import graphql_error

    error = graphql_error(
        "listOrder",
        [{"message": "Unauthorized", "extensions": {"code": "UNAUTHENTICATED"}}],
        is_write=False,
        status=200,
    )
    assert isinstance(error, UpstreamRejected)
    assert error.extra["hint"] == RECONNECT_HINT
