"""Webhooks per fact sheet §8: https-only registration (http on localhost in local mode), signed delivery, retries."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from fastapi.testclient import TestClient

SAVE = """mutation($i: WebhookInput!) { saveWebhook(input: $i) { id scope endpoint } }"""
SECRET = "bridge-local-secret"


def test_registration_rules(client: TestClient, gql: Any) -> None:
    saved = gql(
        SAVE,
        {
            "i": {
                "endpoint": "https://bridge.example.com/webhooks/ikas",
                "scopes": ["store/order/created", "store/order/updated"],
            }
        },
    )["data"]["saveWebhook"]
    assert {w["scope"] for w in saved} == {"store/order/created", "store/order/updated"}
    assert len(gql("{ listWebhook { id scope } }")["data"]["listWebhook"]) == 2
    assert gql('mutation { deleteWebhook(scopes: ["store/order/created"]) }')["data"]["deleteWebhook"] is True
    assert [w["scope"] for w in gql("{ listWebhook { scope } }")["data"]["listWebhook"]] == ["store/order/updated"]
    for endpoint in ("http://bridge.example.com/x", "https://10.1.2.3/x"):
        client.post("/__admin/local-mode", json={"enabled": False})
        refused = gql(SAVE, {"i": {"endpoint": endpoint, "scopes": ["store/order/created"]}})
        assert refused["data"]["saveWebhook"] is None
        assert refused["errors"][0]["extensions"]["code"] == "ARGUMENT_VALIDATION_ERROR"
    refused = gql(SAVE, {"i": {"endpoint": "http://127.0.0.1:9/x", "scopes": ["store/order/created"]}})
    assert refused["data"]["saveWebhook"] is None
    client.post("/__admin/local-mode", json={"enabled": True})
    assert gql(SAVE, {"i": {"endpoint": "http://127.0.0.1:9/x", "scopes": ["store/order/created"]}})["data"][
        "saveWebhook"
    ]
    bad_scope = gql(SAVE, {"i": {"endpoint": "https://bridge.example.com/x", "scopes": ["store/app/deleted"]}})
    assert bad_scope["data"]["saveWebhook"] is None


def test_signed_delivery_on_order_product_and_stock_changes(client: TestClient, gql: Any, receiver: Any) -> None:
    scopes = ["store/order/created", "store/order/updated", "store/product/updated", "store/stock/updated"]
    gql(SAVE, {"i": {"endpoint": receiver.url, "scopes": scopes}})
    order = client.post("/__admin/orders", json={"store": "demo", "lines": [{"sku": "DEMO-1005", "quantity": 1}]})
    client.post("/__admin/stock", json={"store": "demo", "sku": "DEMO-1005", "stockCount": 7})
    mug = gql('{ listProduct(sku: {eq: "DEMO-1005"}) { data { id variants { id } } } }')["data"]["listProduct"]
    product = mug["data"][0]
    gql(
        """mutation($i: SaveVariantPricesInput!) { saveVariantPrices(input: $i) }""",
        {
            "i": {
                "variantPriceInputs": [
                    {"productId": product["id"], "variantId": product["variants"][0]["id"], "price": {"sellPrice": 150}}
                ]
            }
        },
    )
    deliveries = client.get("/__admin/webhook-deliveries", params={"wait": True}).json()
    assert all(d["delivered"] for d in deliveries)
    assert len(deliveries) == 3
    by_scope = {r["body"]["scope"]: r["body"] for r in receiver.received}
    assert set(by_scope) == {"store/order/created", "store/stock/updated", "store/product/updated"}
    for body in by_scope.values():
        assert set(body) == {"id", "createdAt", "scope", "merchantId", "authorizedAppId", "data", "signature"}
        assert isinstance(body["data"], str)
        assert body["signature"] == hmac.new(SECRET.encode(), body["data"].encode(), hashlib.sha256).hexdigest()
    assert json.loads(by_scope["store/order/created"]["data"])["id"] == order.json()["id"]
    assert json.loads(by_scope["store/stock/updated"]["data"])["stockCount"] == 7
    assert all("signature" not in {k.lower() for k in r["headers"]} for r in receiver.received)


def test_failed_delivery_is_retried_three_times(client: TestClient, gql: Any, receiver: Any) -> None:
    client.app.state.sandbox.webhook_retry_delay_s = 0.01  # type: ignore[attr-defined]
    gql(SAVE, {"i": {"endpoint": receiver.url, "scopes": ["store/order/created"]}})
    receiver.statuses = [500, 500, 500, 500]
    client.post("/__admin/orders", json={"store": "demo", "lines": [{"sku": "DEMO-1005", "quantity": 1}]})
    delivery = client.get("/__admin/webhook-deliveries", params={"wait": True}).json()[0]
    assert delivery["statuses"] == [500, 500, 500, 500]
    assert delivery["delivered"] is False
