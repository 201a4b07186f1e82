"""ikas order webhooks (product.md §5): an accepted store/order/created|updated delivery wakes the orders service
for that tenant and order; duplicates and other scopes do not; a wake-up that fails still answers 200."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any, TypeAlias

import pytest

from bridge_platform.errors import UpstreamUnavailable

if TYPE_CHECKING:
    from starlette.testclient import TestClient

FakeAuth: TypeAlias = Any
FakeOrders: TypeAlias = Any

WEBHOOKS = "/webhooks/ikas"


def delivery(auth: FakeAuth, scope: str, *, webhook_id: str = "w-1", order_id: str = "ikas-77") -> bytes:
    """A signed delivery from the store `demo`, as ikas posts it (data is a JSON string)."""
    tenant = auth.ensure_development_tenant("demo")
    data = json.dumps({"id": order_id, "orderNumber": "1077"})
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


@pytest.mark.parametrize("scope", ["store/order/created", "store/order/updated"])
def test_an_accepted_order_webhook_wakes_the_orders_service(
    anonymous: TestClient, auth: FakeAuth, orders: FakeOrders, scope: str
) -> None:
    response = anonymous.post(WEBHOOKS, content=delivery(auth, scope))

    assert response.status_code == 200, response.text
    assert response.json() == {"status": "accepted"}
    assert orders.webhooks == [("t_demo", "ikas-77", scope)]


def test_a_duplicate_delivery_wakes_nobody_again(anonymous: TestClient, auth: FakeAuth, orders: FakeOrders) -> None:
    body = delivery(auth, "store/order/created")

    anonymous.post(WEBHOOKS, content=body)
    again = anonymous.post(WEBHOOKS, content=body)

    assert again.json() == {"status": "duplicate"}
    assert len(orders.webhooks) == 1


@pytest.mark.parametrize("scope", ["store/product/updated", "store/customer/updated", "other/thing"])
def test_other_scopes_do_not_reach_the_orders_service(
    anonymous: TestClient, auth: FakeAuth, orders: FakeOrders, scope: str
) -> None:
    response = anonymous.post(WEBHOOKS, content=delivery(auth, scope))

    assert response.status_code == 200, response.text
    assert orders.webhooks == []


def test_a_bad_signature_wakes_nobody(anonymous: TestClient, auth: FakeAuth, orders: FakeOrders) -> None:
    forged = json.loads(delivery(auth, "store/order/created"))
    forged["signature"] = "0" * 64

    response = anonymous.post(WEBHOOKS, content=json.dumps(forged).encode())

    assert response.status_code == 401
    assert orders.webhooks == []


@pytest.mark.parametrize(
    "error", [UpstreamUnavailable("service", "orders is restarting"), RuntimeError("the orders client broke")]
)
def test_a_wake_up_that_fails_is_logged_and_the_delivery_still_answers_200(
    anonymous: TestClient, auth: FakeAuth, orders: FakeOrders, caplog: pytest.LogCaptureFixture, error: Exception
) -> None:
    orders.error = error
    body = delivery(auth, "store/order/created")

    with caplog.at_level(logging.WARNING, logger="bridge_gateway.api.webhooks"):
        response = anonymous.post(WEBHOOKS, content=body)

    assert response.status_code == 200, response.text
    assert response.json() == {"status": "accepted"}
    (record,) = [r for r in caplog.records if r.name == "bridge_gateway.api.webhooks"]
    assert "store/order/created" in record.getMessage()
    assert "t_demo" in record.getMessage()
    assert auth.sign(json.loads(body)["data"]) not in caplog.text  # the signature is never logged
    orders.error = None
    assert anonymous.post(WEBHOOKS, content=body).json() == {"status": "duplicate"}  # ikas need not send it again
