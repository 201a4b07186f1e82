"""GrpcStoreNames against the real auth service at port 0: the store name of a tenant, asked once."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

from bridge.auth.v1 import auth_pb2, auth_pb2_grpc
from bridge_auth.bootstrap import MIGRATIONS, build
from bridge_auth.entrypoints.grpc_servicer import register
from bridge_platform.db import upgrade_to_head
from bridge_platform.errors import NotFound, UpstreamUnavailable
from bridge_platform.grpc_client import grpc_channel
from bridge_platform.grpc_server import create_server
from bridge_platform.settings import BridgeSettings, Mode, load_settings
from bridge_upstreams.auth_tenants import GrpcStoreNames

TOKEN = "service-token-for-tests"


def test_the_store_name_comes_from_auth_once_and_unknown_tenants_are_not_found(tmp_path: Path) -> None:
    settings = load_settings(
        BridgeSettings,
        mode=Mode.LOCAL,
        data_dir=tmp_path,
        service_token=TOKEN,
        auth_database_url=f"sqlite:///{tmp_path}/a.db",
    )
    upgrade_to_head(MIGRATIONS, settings.auth_database_url)
    server, port = create_server("127.0.0.1:0", partial(register, build(settings, purgers=[])), service_token=TOKEN)
    server.start()
    channel = grpc_channel(f"127.0.0.1:{port}", service_token=TOKEN)
    names = GrpcStoreNames(channel, timeout_s=2)
    try:
        tenant = (
            auth_pb2_grpc.TenantServiceStub(channel)
            .EnsureDevelopmentTenant(auth_pb2.EnsureDevelopmentTenantRequest(store_name="demo"))
            .tenant
        )
        assert names.store_name(tenant.id) == "demo"
        with pytest.raises(NotFound):
            names.store_name("no-such-tenant")
    finally:
        server.stop(0)
    assert names.store_name(tenant.id) == "demo"  # a tenant's store never changes: not asked again
    with pytest.raises(UpstreamUnavailable):
        names.store_name("another-tenant")
