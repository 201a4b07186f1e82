"""The typed clients' conversions (pydantic <-> proto) and their error translation, without a network."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from bridge_gateway.clients import catalog as catalog_client
from bridge_gateway.clients import orders as orders_client
from bridge_gateway.clients.rpc import call
from bridge_gateway.models import CatalogSettings, OrderSettings
from bridge_platform.errors import DomainError, NotFound, Unauthenticated, UpstreamUnavailable

CATALOG: dict[str, Any] = {
    "products": {
        "sync_mode": "ikas_to_fortnox",
        "sync_automatically": True,
        "create_new": False,
        "update_existing": True,
    },
    "stock": {"sync_automatically": True, "ikas_stock_location_id": "loc-1", "fortnox_stock_point": None},
}
ORDERS: dict[str, Any] = {
    "sync_automatically": True,
    "sync_from": "2026-01-01T00:00:00+01:00",
    "create_orders": False,
    "create_invoice": True,
    "sync_items_without_relation": True,
    "send_invoice_email": True,
    "unit_source": "attribute",
    "unit_attribute": "Unit",
    "language": "always_sv",
    "shipping": "order_row",
    "shipping_article_number": None,
    "sales_accounts": {"25": 3001, "6": 3003},
    "send_when": "paid",
    "register_payments": True,
    "modes_of_payment": {"CREDIT_CARD": "KORT"},
    "follow_cancellations": False,
    "follow_refunds": False,
}


def test_the_catalog_part_survives_the_proto_both_ways() -> None:
    settings = CatalogSettings.model_validate(CATALOG)

    message = catalog_client.settings_to_proto(settings)

    assert not message.stock.HasField("fortnox_stock_point")  # null travels as unset, not ""
    assert catalog_client.settings_from_proto(message) == settings


@pytest.mark.parametrize("sync_from", ["2026-01-01T00:00:00+01:00", None])
def test_the_orders_part_survives_the_proto_both_ways(sync_from: str | None) -> None:
    settings = OrderSettings.model_validate({**ORDERS, "sync_from": sync_from})

    message = orders_client.settings_to_proto(settings)

    assert message.HasField("sync_from") is (sync_from is not None)
    assert not message.HasField("shipping_article_number")
    assert orders_client.settings_from_proto(message) == settings


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (grpc.StatusCode.NOT_FOUND, NotFound),
        (grpc.StatusCode.UNAVAILABLE, UpstreamUnavailable),
        (grpc.StatusCode.DEADLINE_EXCEEDED, UpstreamUnavailable),
        (grpc.StatusCode.INTERNAL, DomainError),
    ],
)
def test_a_failed_call_raises_the_neutral_error(rpc_error: Any, code: grpc.StatusCode, expected: type) -> None:
    def failing(_request: object) -> None:
        raise rpc_error(code, "details")

    with pytest.raises(expected):
        call("catalog", failing, object())


def test_a_refused_service_credential_is_a_fault_of_the_gateway_not_of_the_user(rpc_error: Any) -> None:
    def refused(_request: object) -> None:
        raise rpc_error(grpc.StatusCode.UNAUTHENTICATED, "missing or invalid service credential")

    with pytest.raises(DomainError) as raised:
        call("catalog", refused, object())

    assert not isinstance(raised.value, Unauthenticated)  # a 500 for the operators, never a 401 for the browser
