"""The catalog's gRPC servicer on a real server at port 0, over a real channel."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bridge.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from bridge_catalog.app.ports import StockLocation
from bridge_catalog.bootstrap import MIGRATIONS, build
from bridge_catalog.entrypoints.grpc_servicer import register
from bridge_platform.db import upgrade_to_head
from bridge_platform.errors import InvalidInput
from bridge_platform.grpc_client import grpc_channel
from bridge_platform.grpc_errors import error_from_rpc
from bridge_platform.grpc_server import create_server
from bridge_platform.settings import BridgeSettings

TOKEN = "service-token-for-tests"


class FakeIkas:
    """Only stock locations: a saved ikas_stock_location_id must be one of them."""

    def stock_locations(self, tenant_id: str) -> list[StockLocation]:
        return [StockLocation("loc-1", "Main warehouse")]


class FakeFortnox:
    pass


class FakeAuth:
    def forget_fortnox_company(self, tenant_id: str) -> None:
        pass

    def store_name(self, tenant_id: str) -> str:
        return f"store-of-{tenant_id}"


@pytest.fixture
def address(tmp_path: Path) -> Iterator[str]:
    settings = BridgeSettings(data_dir=str(tmp_path))
    upgrade_to_head(MIGRATIONS, settings.catalog_database_url)
    services = build(settings, with_runs=False, ikas=FakeIkas(), fortnox=FakeFortnox(), auth=FakeAuth())  # type: ignore[arg-type]
    server, port = create_server("127.0.0.1:0", partial(register, services), service_token=TOKEN)
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop(0)


def stub(address: str, token: str = TOKEN) -> catalog_pb2_grpc.CatalogSettingsServiceStub:
    return catalog_pb2_grpc.CatalogSettingsServiceStub(grpc_channel(address, service_token=token))


def document(mode: str = "ikas_to_fortnox", location: str | None = "loc-1") -> catalog_pb2.CatalogSettings:
    return catalog_pb2.CatalogSettings(
        products=catalog_pb2.ProductSettings(sync_mode=mode, sync_automatically=True),
        stock=catalog_pb2.StockSettings(sync_automatically=True, ikas_stock_location_id=location),
    )


def test_update_then_get_returns_the_stored_document(address: str) -> None:
    catalog = stub(address)

    catalog.UpdateCatalogSettings(catalog_pb2.UpdateCatalogSettingsRequest(tenant_id="t1", settings=document()))
    got = catalog.GetCatalogSettings(catalog_pb2.GetCatalogSettingsRequest(tenant_id="t1")).settings

    assert got == document()
    assert not got.stock.HasField("fortnox_stock_point")  # null stays null, not ""


def test_invalid_settings_are_invalid_argument_with_field_violations(address: str) -> None:
    with pytest.raises(grpc.RpcError) as failed:
        stub(address).ValidateCatalogSettings(
            catalog_pb2.ValidateCatalogSettingsRequest(tenant_id="t1", settings=document(mode="sideways", location=""))
        )

    assert failed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    error = error_from_rpc(failed.value)
    assert isinstance(error, InvalidInput)
    assert [(v.field, v.code) for v in error.violations] == [
        ("products.sync_mode", "invalid_choice"),
        ("stock.ikas_stock_location_id", "invalid_value"),
    ]


def test_a_call_without_the_service_credential_is_refused(address: str) -> None:
    with pytest.raises(grpc.RpcError) as failed:
        stub(address, token="wrong").GetCatalogSettings(catalog_pb2.GetCatalogSettingsRequest(tenant_id="t1"))

    assert failed.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_health_answers_without_a_credential(address: str) -> None:
    health = health_pb2_grpc.HealthStub(grpc.insecure_channel(address))

    for service in ("", "bridge.catalog.v1.CatalogSettingsService"):
        response = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert response.status == health_pb2.HealthCheckResponse.SERVING
