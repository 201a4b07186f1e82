"""ikas product and stock webhooks (product.md §3): an accepted store/product/* or store/stock/* delivery wakes the
catalog's products or stock sync of that tenant; the catalog starts nothing while the scope's automatic sync is
off, and names the run going (one more then follows it) instead of refusing; a wake-up that fails still answers
200. And the CatalogClient's side: a short deadline, and an answer without a run means nothing was started."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any, TypeAlias

import grpc
import pytest

from bridge.catalog.v1 import catalog_pb2
from bridge.common.v1 import common_pb2
from bridge_gateway.api.webhooks import WAKE_UPS
from bridge_gateway.clients import catalog as catalog_client
from bridge_gateway.models import CatalogSettings
from bridge_platform.errors import UpstreamUnavailable

if TYPE_CHECKING:
    from starlette.testclient import TestClient

FakeAuth: TypeAlias = Any
FakeCatalog: TypeAlias = Any
FakeOrders: TypeAlias = Any

WEBHOOKS = "/webhooks/ikas"
PRODUCT_SCOPES = ("store/product/created", "store/product/updated")
STOCK_SCOPES = ("store/stock/created", "store/stock/updated")


def delivery(auth: FakeAuth, scope: str, *, webhook_id: str = "w-1", store: str = "demo") -> bytes:
    """A signed delivery from `store`, as ikas posts it (data is a JSON string)."""
    tenant = auth.ensure_development_tenant(store)
    data = json.dumps({"id": "product-9", "name": "Enamel mug"})
    return json.dumps(
        {
            "id": webhook_id,
            "scope": scope,
            "merchantId": tenant.merchant_id,
            "authorizedAppId": tenant.authorized_app_id,
            "data": data,
            "signature": auth.sign(data),
        }
    ).encode()


def automatic(catalog: FakeCatalog, tenant_id: str, *, products: bool, stock: bool) -> None:
    document = CatalogSettings.model_validate(
        {
            "products": {
                "sync_mode": "fortnox_to_ikas",
                "sync_automatically": products,
                "create_new": False,
                "update_existing": False,
            },
            "stock": {"sync_automatically": stock, "ikas_stock_location_id": None, "fortnox_stock_point": None},
        }
    )
    catalog.stored[tenant_id] = document


@pytest.mark.parametrize(
    ("scope", "sync"), [(s, "products") for s in PRODUCT_SCOPES] + [(s, "stock") for s in STOCK_SCOPES]
)
def test_an_accepted_product_or_stock_webhook_wakes_that_sync_of_the_tenant(
    anonymous: TestClient, auth: FakeAuth, catalog: FakeCatalog, orders: FakeOrders, scope: str, sync: str
) -> None:
    automatic(catalog, "t_demo", products=True, stock=True)

    response = anonymous.post(WEBHOOKS, content=delivery(auth, scope))

    assert response.status_code == 200, response.text
    assert response.json() == {"status": "accepted"}
    assert catalog.wake_ups == [("t_demo", sync)]
    assert catalog.started == [("t_demo", sync, "webhook")]
    assert orders.webhooks == []


def test_nothing_starts_while_automatic_sync_of_the_scope_is_off(
    anonymous: TestClient, auth: FakeAuth, catalog: FakeCatalog
) -> None:
    automatic(catalog, "t_demo", products=True, stock=False)

    response = anonymous.post(WEBHOOKS, content=delivery(auth, "store/stock/updated"))

    assert response.json() == {"status": "accepted"}
    assert catalog.wake_ups == [("t_demo", "stock")]  # the catalog decides, from the tenant's settings
    assert catalog.started == []


def test_a_wake_up_while_a_run_is_going_asks_for_one_more_run_and_starts_none_beside_it(
    anonymous: TestClient, auth: FakeAuth, catalog: FakeCatalog
) -> None:
    automatic(catalog, "t_demo", products=True, stock=True)
    going = catalog.add_run("t_demo", "products", "running")

    first = anonymous.post(WEBHOOKS, content=delivery(auth, "store/product/updated", webhook_id="w-1"))
    second = anonymous.post(WEBHOOKS, content=delivery(auth, "store/product/created", webhook_id="w-2"))

    assert (first.status_code, second.status_code) == (200, 200)
    assert catalog.started == []
    assert catalog.follow_ups == {going.id}
    assert [run.id for run in catalog.runs["t_demo"]] == [going.id]


def test_duplicates_and_other_scopes_do_not_wake_the_catalog(
    anonymous: TestClient, auth: FakeAuth, catalog: FakeCatalog
) -> None:
    automatic(catalog, "t_demo", products=True, stock=True)
    body = delivery(auth, "store/product/updated")

    anonymous.post(WEBHOOKS, content=body)
    again = anonymous.post(WEBHOOKS, content=body)
    for number, scope in enumerate(["store/order/created", "store/customer/updated", "store/app/deleted"]):
        anonymous.post(WEBHOOKS, content=delivery(auth, scope, webhook_id=f"w-other-{number}"))

    assert again.json() == {"status": "duplicate"}
    assert catalog.wake_ups == [("t_demo", "products")]


def test_each_tenant_wakes_only_its_own_sync(anonymous: TestClient, auth: FakeAuth, catalog: FakeCatalog) -> None:
    automatic(catalog, "t_demo", products=True, stock=True)
    automatic(catalog, "t_other", products=True, stock=True)

    anonymous.post(WEBHOOKS, content=delivery(auth, "store/stock/updated", store="other"))

    assert catalog.wake_ups == [("t_other", "stock")]
    assert catalog.runs.get("t_demo", []) == []


def test_a_bad_signature_wakes_nothing(anonymous: TestClient, auth: FakeAuth, catalog: FakeCatalog) -> None:
    forged = json.loads(delivery(auth, "store/product/updated"))
    forged["signature"] = "0" * 64

    response = anonymous.post(WEBHOOKS, content=json.dumps(forged).encode())

    assert response.status_code == 401
    assert catalog.wake_ups == []


@pytest.mark.parametrize(
    "error", [UpstreamUnavailable("service", "catalog is restarting"), RuntimeError("the catalog client broke")]
)
def test_a_catalog_that_is_down_is_logged_and_the_delivery_still_answers_200(
    anonymous: TestClient, auth: FakeAuth, catalog: FakeCatalog, caplog: pytest.LogCaptureFixture, error: Exception
) -> None:
    automatic(catalog, "t_demo", products=True, stock=True)
    catalog.error = error
    body = delivery(auth, "store/stock/created")

    with caplog.at_level(logging.WARNING, logger="bridge_gateway.api.webhooks"):
        response = anonymous.post(WEBHOOKS, content=body)

    assert response.status_code == 200, response.text
    assert response.json() == {"status": "accepted"}
    (record,) = [r for r in caplog.records if r.name == "bridge_gateway.api.webhooks"]
    assert "store/stock/created" in record.getMessage()
    assert "t_demo" in record.getMessage()
    assert auth.sign(json.loads(body)["data"]) not in caplog.text  # the signature is never logged
    catalog.error = None
    assert anonymous.post(WEBHOOKS, content=body).json() == {"status": "duplicate"}  # ikas need not send it again


def test_every_product_and_stock_scope_ikas_registers_has_an_owner() -> None:
    assert set(PRODUCT_SCOPES + STOCK_SCOPES) <= set(WAKE_UPS)
    assert "store/app/deleted" not in WAKE_UPS  # the uninstall is the auth service's own business


# ---- the client


class RecordingStub:
    """Answers every method with a fixed response and records (method, request, keyword arguments)."""

    def __init__(self, response: Any) -> None:
        self.response = response
        self.requests: list[tuple[str, Any, dict[str, Any]]] = []

    def __getattr__(self, method: str) -> Any:
        def invoke(request: Any, **options: Any) -> Any:
            self.requests.append((method, request, options))
            return self.response

        return invoke


def _client_with(response: Any) -> tuple[catalog_client.CatalogClient, RecordingStub]:
    client = catalog_client.CatalogClient(grpc.insecure_channel("127.0.0.1:1"))
    stub = RecordingStub(response)
    client._runs = stub  # type: ignore[assignment]
    return client, stub


def test_a_wake_up_is_a_webhook_run_with_a_short_deadline() -> None:
    run = common_pb2.Run(id="r7", scope="stock", state=common_pb2.RUN_STATE_RUNNING, trigger="on_demand")
    client, stub = _client_with(catalog_pb2.StartCatalogRunResponse(run=run))

    assert client.wake_sync("t1", "stock") == "r7"  # the run going: one more follows it

    ((method, request, options),) = stub.requests
    assert method == "StartCatalogRun"
    assert (request.tenant_id, request.scope, request.trigger) == ("t1", "stock", "webhook")
    assert options == {"timeout": catalog_client.WAKE_UP_TIMEOUT_S}
    assert catalog_client.WAKE_UP_TIMEOUT_S < 10  # shorter than the channel's default deadline


def test_an_answer_without_a_run_means_nothing_was_started() -> None:
    client, _ = _client_with(catalog_pb2.StartCatalogRunResponse())

    assert client.wake_sync("t1", "products") is None
