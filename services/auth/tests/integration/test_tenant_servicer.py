"""The auth service's TenantService on a real server at port 0, over a real channel."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bridge.auth.v1 import auth_pb2, auth_pb2_grpc
from bridge_auth.bootstrap import MIGRATIONS, build
from bridge_auth.entrypoints.grpc_servicer import register
from bridge_platform.db import upgrade_to_head
from bridge_platform.errors import InvalidInput, PermissionDenied
from bridge_platform.grpc_client import grpc_channel
from bridge_platform.grpc_errors import error_from_rpc
from bridge_platform.grpc_server import create_server
from bridge_platform.settings import BridgeSettings

TOKEN = "t"


@contextmanager
def serving(settings: BridgeSettings) -> Iterator[str]:
    upgrade_to_head(MIGRATIONS, settings.auth_database_url)
    services = build(settings)
    server, port = create_server("127.0.0.1:0", partial(register, services), service_token=TOKEN)
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(0)
        assert services.engine is not None
        services.engine.dispose()


@pytest.fixture
def address(local_settings: BridgeSettings) -> Iterator[str]:
    with serving(local_settings) as address:
        yield address


def stub(address: str, token: str = TOKEN) -> auth_pb2_grpc.TenantServiceStub:
    return auth_pb2_grpc.TenantServiceStub(grpc_channel(address, service_token=token))


def test_an_unknown_tenant_is_not_found(address: str) -> None:
    with pytest.raises(grpc.RpcError) as failed:
        stub(address).GetTenant(auth_pb2.GetTenantRequest(tenant_id="t_000000000000000000000000"))

    assert failed.value.code() == grpc.StatusCode.NOT_FOUND


def test_ensure_development_tenant_is_idempotent(address: str) -> None:
    tenants = stub(address)

    first = tenants.EnsureDevelopmentTenant(auth_pb2.EnsureDevelopmentTenantRequest(store_name="demo")).tenant
    second = tenants.EnsureDevelopmentTenant(auth_pb2.EnsureDevelopmentTenantRequest(store_name="demo")).tenant
    got = tenants.GetTenant(auth_pb2.GetTenantRequest(tenant_id=first.id)).tenant

    assert first.id.startswith("t_")
    assert first.store_name == "demo"
    assert second == first
    assert got == first


def test_a_bad_store_name_is_invalid_argument_with_a_field_violation(address: str) -> None:
    with pytest.raises(grpc.RpcError) as failed:
        stub(address).EnsureDevelopmentTenant(auth_pb2.EnsureDevelopmentTenantRequest(store_name="-Demo-"))

    assert failed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    error = error_from_rpc(failed.value)
    assert isinstance(error, InvalidInput)
    assert [(v.field, v.code) for v in error.violations] == [("store_name", "invalid_store_name")]


def test_development_tenants_are_refused_in_production(production_settings: BridgeSettings) -> None:
    with serving(production_settings) as address, pytest.raises(grpc.RpcError) as failed:
        stub(address).EnsureDevelopmentTenant(auth_pb2.EnsureDevelopmentTenantRequest(store_name="demo"))

    assert failed.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert isinstance(error_from_rpc(failed.value), PermissionDenied)


def test_a_call_without_the_service_credential_is_refused(address: str) -> None:
    with pytest.raises(grpc.RpcError) as failed:
        stub(address, token="wrong").EnsureDevelopmentTenant(auth_pb2.EnsureDevelopmentTenantRequest(store_name="demo"))

    assert failed.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_health_answers_without_a_credential(address: str) -> None:
    health = health_pb2_grpc.HealthStub(grpc.insecure_channel(address))

    for service in ("", "bridge.auth.v1.TenantService"):
        response = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert response.status == health_pb2.HealthCheckResponse.SERVING
