"""PurgeTenantData on a real server at port 0, on both engines: ALL deletes one tenant's settings and runs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import grpc
import pytest
from sqlalchemy import func, insert, select

from bridge.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from bridge.common.v1 import common_pb2
from bridge_catalog.adapters.db.tables import catalog_settings, runs
from bridge_catalog.bootstrap import MIGRATIONS, build
from bridge_catalog.entrypoints.grpc_servicer import register
from bridge_platform.db import make_engine, upgrade_to_head
from bridge_platform.grpc_client import grpc_channel
from bridge_platform.grpc_server import create_server
from bridge_platform.settings import BridgeSettings

TOKEN = "service-token-for-tests"
AT = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> BridgeSettings:
    return BridgeSettings(data_dir=str(tmp_path), catalog_database_url=database_url)


@pytest.fixture
def stub(settings: BridgeSettings) -> Iterator[catalog_pb2_grpc.CatalogTenantDataServiceStub]:
    upgrade_to_head(MIGRATIONS, settings.catalog_database_url)
    services = build(settings, with_runs=False)
    server, port = create_server("127.0.0.1:0", partial(register, services), service_token=TOKEN)
    server.start()
    yield catalog_pb2_grpc.CatalogTenantDataServiceStub(grpc_channel(f"127.0.0.1:{port}", service_token=TOKEN))
    server.stop(0)
    assert services.engine is not None
    services.engine.dispose()


def seed(settings: BridgeSettings, tenant_id: str) -> None:
    engine = make_engine(settings.catalog_database_url)
    with engine.begin() as db:
        db.execute(
            insert(catalog_settings).values(
                tenant_id=tenant_id,
                products_sync_mode="ikas_to_fortnox",
                products_sync_automatically=True,
                products_create_new=True,
                products_update_existing=True,
                stock_sync_automatically=True,
                updated_at=AT,
            )
        )
        db.execute(
            insert(runs).values(
                id=f"run-{tenant_id}",
                tenant_id=tenant_id,
                scope="products",
                trigger="manual",
                state="succeeded",
                priority=0,
                payload={},
                attempts=1,
                progress_done=0,
                counts={},
                errors=[],
                result={},
                created_at=AT,
                enqueued_at=AT,
            )
        )
    engine.dispose()


def count(settings: BridgeSettings, tenant_id: str) -> int:
    engine = make_engine(settings.catalog_database_url)
    with engine.connect() as db:
        total = sum(
            db.scalar(select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id)) or 0
            for table in (catalog_settings, runs)
        )
    engine.dispose()
    return total


def test_all_deletes_the_tenants_settings_and_runs_only(
    settings: BridgeSettings, stub: catalog_pb2_grpc.CatalogTenantDataServiceStub
) -> None:
    seed(settings, "t_a")
    seed(settings, "t_b")

    personal = stub.PurgeTenantData(
        catalog_pb2.PurgeTenantDataRequest(tenant_id="t_a", scope=common_pb2.PURGE_SCOPE_PERSONAL_DATA)
    )
    assert (personal.records_deleted, count(settings, "t_a")) == (0, 2)  # the catalog holds no personal data
    purged = stub.PurgeTenantData(catalog_pb2.PurgeTenantDataRequest(tenant_id="t_a", scope=common_pb2.PURGE_SCOPE_ALL))
    again = stub.PurgeTenantData(catalog_pb2.PurgeTenantDataRequest(tenant_id="t_a", scope=common_pb2.PURGE_SCOPE_ALL))

    assert (purged.records_deleted, again.records_deleted) == (2, 0)
    assert (count(settings, "t_a"), count(settings, "t_b")) == (0, 2)


def test_a_scope_is_required(stub: catalog_pb2_grpc.CatalogTenantDataServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as failed:
        stub.PurgeTenantData(catalog_pb2.PurgeTenantDataRequest(tenant_id="t_a"))
    assert failed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
