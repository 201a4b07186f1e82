"""The orders service's gRPC servicer on a real server at port 0, over a real channel."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bridge.orders.v1 import orders_pb2, orders_pb2_grpc
from bridge_orders.bootstrap import MIGRATIONS, build
from bridge_orders.entrypoints.grpc_servicer import register
from bridge_platform.db import upgrade_to_head
from bridge_platform.errors import InvalidInput
from bridge_platform.grpc_client import grpc_channel
from bridge_platform.grpc_errors import error_from_rpc
from bridge_platform.grpc_server import create_server
from bridge_platform.settings import BridgeSettings

TOKEN = "t"


@pytest.fixture
def address(tmp_path: Path) -> Iterator[str]:
    # The database named explicitly, so a BRIDGE_ORDERS_DATABASE_URL in the environment cannot redirect the test.
    settings = BridgeSettings(data_dir=tmp_path, orders_database_url=f"sqlite:///{tmp_path / 'orders.db'}")
    upgrade_to_head(MIGRATIONS, settings.orders_database_url)
    services = build(settings, with_runs=False)
    server, port = create_server("127.0.0.1:0", partial(register, services), service_token=TOKEN)
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop(0)


def stub(address: str, token: str = TOKEN) -> orders_pb2_grpc.OrderSettingsServiceStub:
    return orders_pb2_grpc.OrderSettingsServiceStub(grpc_channel(address, service_token=token))


def document(**changes: Any) -> orders_pb2.OrderSettings:
    fields: dict[str, Any] = {
        "sync_automatically": True,
        "sync_from": "2026-01-01T00:00:00+00:00",
        "create_orders": True,
        "create_invoice": True,
        "unit_source": "attribute",
        "unit_attribute": "Birim",
        "language": "customer_else_sv",
        "shipping": "order_row",
        "shipping_article_number": "FRAKT",
        "sales_accounts": {"25": 3001, "12.5": 3002},
        "send_when": "paid",
        "register_payments": True,
        "modes_of_payment": {"CREDIT_CARD": "KORT"},
        "follow_cancellations": True,
    }
    return orders_pb2.OrderSettings(**{**fields, **changes})


def update(address: str, settings: orders_pb2.OrderSettings, tenant_id: str = "t1") -> orders_pb2.OrderSettings:
    request = orders_pb2.UpdateOrderSettingsRequest(tenant_id=tenant_id, settings=settings)
    return stub(address).UpdateOrderSettings(request).settings


def get(address: str, tenant_id: str = "t1") -> orders_pb2.OrderSettings:
    return stub(address).GetOrderSettings(orders_pb2.GetOrderSettingsRequest(tenant_id=tenant_id)).settings


DEFAULTS = orders_pb2.OrderSettings(
    create_orders=True,
    unit_source="base_unit",
    language="customer_else_en",
    shipping="freight",
    send_when="placed",
    follow_cancellations=True,
    follow_refunds=True,
)


def test_before_the_first_save_the_defaults_are_returned(address: str) -> None:
    got = get(address)

    assert got == DEFAULTS
    for optional in ("sync_from", "unit_attribute", "shipping_article_number"):
        assert not got.HasField(optional)  # null is unset, not ""


def test_update_then_get_returns_the_stored_document(address: str) -> None:
    returned = update(address, document())

    assert returned == document()
    assert get(address) == document()
    assert get(address, "t2") == DEFAULTS


def test_update_answers_with_what_was_stored(address: str) -> None:
    sent = document(sync_from="2026-01-01T01:00:00+01:00", sales_accounts={"25.0": 3001, "12.50": 3002})
    sent.ClearField("shipping_article_number")

    returned = update(address, sent)

    assert returned.sync_from == "2026-01-01T00:00:00+00:00"  # the same instant, in UTC
    assert dict(returned.sales_accounts) == {"25": 3001, "12.5": 3002}
    assert not returned.HasField("shipping_article_number")
    assert get(address) == returned


def test_first_enabling_automatic_sync_fills_sync_from(address: str) -> None:
    before = datetime.now(UTC)
    sent = document()
    sent.ClearField("sync_from")

    returned = update(address, sent)

    assert returned.HasField("sync_from")
    assert before <= datetime.fromisoformat(returned.sync_from) <= datetime.now(UTC)


def test_invalid_settings_are_invalid_argument_with_field_violations(address: str) -> None:
    settings = document(sync_from="2026-01-01", language="tr", sales_accounts={"25": 99}, modes_of_payment={"x": "K"})

    with pytest.raises(grpc.RpcError) as failed:
        stub(address).ValidateOrderSettings(orders_pb2.ValidateOrderSettingsRequest(tenant_id="t1", settings=settings))

    assert failed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    error = error_from_rpc(failed.value)
    assert isinstance(error, InvalidInput)
    assert [(v.field, v.code) for v in error.violations] == [
        ("orders.sync_from", "invalid_datetime"),
        ("orders.language", "invalid_choice"),
        ("orders.sales_accounts.25", "invalid_account"),
        ("orders.modes_of_payment.x", "invalid_payment_method"),
    ]


def test_a_valid_document_validates(address: str) -> None:
    request = orders_pb2.ValidateOrderSettingsRequest(tenant_id="t1", settings=document())

    assert stub(address).ValidateOrderSettings(request) == orders_pb2.ValidateOrderSettingsResponse()


def test_an_invalid_update_stores_nothing(address: str) -> None:
    with pytest.raises(grpc.RpcError) as failed:
        update(address, document(unit_attribute="  "))

    assert failed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    error = error_from_rpc(failed.value)
    assert isinstance(error, InvalidInput)
    assert [(v.field, v.code) for v in error.violations] == [("orders.unit_attribute", "required")]
    assert get(address) == DEFAULTS


def test_a_missing_tenant_is_invalid_argument(address: str) -> None:
    with pytest.raises(grpc.RpcError) as failed:
        get(address, tenant_id="")

    assert failed.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_a_call_without_the_service_credential_is_refused(address: str) -> None:
    with pytest.raises(grpc.RpcError) as failed:
        stub(address, token="wrong").GetOrderSettings(orders_pb2.GetOrderSettingsRequest(tenant_id="t1"))

    assert failed.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_health_answers_without_a_credential(address: str) -> None:
    health = health_pb2_grpc.HealthStub(grpc.insecure_channel(address))

    for service in ("", "bridge.orders.v1.OrderSettingsService"):
        response = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert response.status == health_pb2.HealthCheckResponse.SERVING
