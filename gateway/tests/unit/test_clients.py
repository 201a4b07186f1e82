"""The typed clients' conversions (pydantic <-> proto) and their error translation, without a network."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from google.protobuf import timestamp_pb2

from bridge.auth.v1 import auth_pb2
from bridge_gateway.clients import auth as auth_client
from bridge_gateway.clients import catalog as catalog_client
from bridge_gateway.clients import orders as orders_client
from bridge_gateway.clients.rpc import SERVICE_CREDENTIAL_REFUSED, call
from bridge_gateway.models import CatalogSettings, OrderSettings, Tenant
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


def test_a_users_credential_refused_is_unauthenticated_for_rpcs_that_check_one(rpc_error: Any) -> None:
    def refused(_request: object) -> None:
        raise rpc_error(grpc.StatusCode.UNAUTHENTICATED, "the session is unknown or has expired")

    with pytest.raises(Unauthenticated):
        call("auth", refused, object(), checks_user=True)


def test_the_service_credential_refused_stays_a_500_even_for_rpcs_that_check_a_user(rpc_error: Any) -> None:
    def refused(_request: object) -> None:
        raise rpc_error(grpc.StatusCode.UNAUTHENTICATED, SERVICE_CREDENTIAL_REFUSED)

    with pytest.raises(DomainError) as raised:
        call("auth", refused, object(), checks_user=True)

    assert not isinstance(raised.value, Unauthenticated)


def test_a_connection_with_nothing_known_has_nulls() -> None:
    message = auth_pb2.GetConnectionResponse(
        ikas=auth_pb2.IkasConnection(store_name="demo", status=auth_pb2.CONNECTION_STATUS_CONNECTED),
        fortnox=auth_pb2.FortnoxConnection(),
    )

    document = auth_client.connection_from_proto(message).model_dump(mode="json")

    assert document == {
        "ikas": {"store_name": "demo", "merchant_id": None, "status": "connected", "webhook_warning": None},
        "fortnox": {
            "status": "disconnected",
            "company_name": None,
            "organisation_number": None,
            "scopes": [],
            "connected_at": None,
            "warehouse_module": None,
        },
    }


def test_a_connected_company_comes_through_with_an_rfc3339_time() -> None:
    connected_at = timestamp_pb2.Timestamp()
    connected_at.FromDatetime(datetime(2026, 3, 1, 12, 30, tzinfo=UTC))
    message = auth_pb2.FortnoxConnection(
        status=auth_pb2.CONNECTION_STATUS_NEEDS_REAUTH,
        company_name="Demo AB",
        organisation_number="556677-8899",
        scopes=["article", "invoice"],
        connected_at=connected_at,
        warehouse_module=False,
    )

    fortnox = auth_client.fortnox_from_proto(message).model_dump(mode="json")

    assert fortnox == {
        "status": "needs_reauth",
        "company_name": "Demo AB",
        "organisation_number": "556677-8899",
        "scopes": ["article", "invoice"],
        "connected_at": "2026-03-01T12:30:00Z",
        "warehouse_module": False,
    }


def test_a_session_carries_its_tenant_and_an_aware_expiry() -> None:
    expires_at = timestamp_pb2.Timestamp()
    expires_at.FromDatetime(datetime(2026, 3, 1, 20, 0, tzinfo=UTC))
    message = auth_pb2.Session(
        session_token="s",
        csrf_token="c",
        expires_at=expires_at,
        tenant=auth_pb2.Tenant(id="t1", store_name="demo", merchant_id="m1", authorized_app_id="a1"),
    )

    session = auth_client.session_from_proto(message)

    assert (session.token, session.csrf_token) == ("s", "c")
    assert session.expires_at == datetime(2026, 3, 1, 20, 0, tzinfo=UTC)
    assert session.tenant == Tenant(id="t1", store_name="demo", merchant_id="m1", authorized_app_id="a1")
    assert auth_client.session_from_proto(auth_pb2.Session(session_token="s")).expires_at is None
