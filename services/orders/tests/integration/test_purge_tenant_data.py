"""PurgeTenantData on a real server at port 0, on both engines: personal data is blanked, ALL deletes everything."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import grpc
import pytest
from sqlalchemy import func, insert, select

from bridge.common.v1 import common_pb2
from bridge.orders.v1 import orders_pb2, orders_pb2_grpc
from bridge_orders.adapters.db.tables import (
    cached_customers,
    order_marks,
    order_records,
    order_settings,
    order_wake_ups,
    runs,
)
from bridge_orders.bootstrap import MIGRATIONS, build
from bridge_orders.entrypoints.grpc_servicer import register
from bridge_platform.db import make_engine, upgrade_to_head
from bridge_platform.grpc_client import grpc_channel
from bridge_platform.grpc_server import create_server
from bridge_platform.settings import BridgeSettings

TOKEN = "service-token-for-tests"
AT = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> BridgeSettings:
    return BridgeSettings(data_dir=str(tmp_path), orders_database_url=database_url)


@pytest.fixture
def stub(settings: BridgeSettings) -> Iterator[orders_pb2_grpc.OrderTenantDataServiceStub]:
    upgrade_to_head(MIGRATIONS, settings.orders_database_url)
    services = build(settings, with_runs=False)
    server, port = create_server("127.0.0.1:0", partial(register, services), service_token=TOKEN)
    server.start()
    yield orders_pb2_grpc.OrderTenantDataServiceStub(grpc_channel(f"127.0.0.1:{port}", service_token=TOKEN))
    server.stop(0)
    assert services.engine is not None
    services.engine.dispose()


def seed(settings: BridgeSettings, tenant_id: str) -> None:
    engine = make_engine(settings.orders_database_url)
    with engine.begin() as db:
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
        db.execute(
            insert(order_records).values(
                id=f"o-{tenant_id}",
                tenant_id=tenant_id,
                ikas_order_id=f"ikas-{tenant_id}",
                ikas_order_number="1001",
                ordered_at=AT,
                customer_name="Astrid Lindgren",
                customer_email="astrid@example.se",
                status="created",
                invoice_email_state="not_requested",
                timeline=(),
                created_at=AT,
                updated_at=AT,
                version=1,
            )
        )
        db.execute(insert(order_marks).values(tenant_id=tenant_id, name="ikas_orders_updated", at=AT))
        db.execute(
            insert(order_wake_ups).values(
                tenant_id=tenant_id,
                ikas_order_id=f"ikas-{tenant_id}",
                scope="store/order/updated",
                wakes=1,
                woken_at=AT,
            )
        )
        for kind, key in (("email", "astrid@example.se"), ("organisation_number", "1907111400")):
            db.execute(
                insert(cached_customers).values(
                    tenant_id=tenant_id, kind=kind, key=key, customer_number="17", vat_type="SEVAT", updated_at=AT
                )
            )
    engine.dispose()


def cached_keys(settings: BridgeSettings, tenant_id: str) -> list[str]:
    engine = make_engine(settings.orders_database_url)
    with engine.connect() as db:
        keys = list(db.scalars(select(cached_customers.c.key).where(cached_customers.c.tenant_id == tenant_id)))
    engine.dispose()
    return sorted(keys)


def customers(settings: BridgeSettings, tenant_id: str) -> list[tuple[str, str | None]]:
    engine = make_engine(settings.orders_database_url)
    with engine.connect() as db:
        found = db.execute(
            select(order_records.c.customer_name, order_records.c.customer_email).where(
                order_records.c.tenant_id == tenant_id
            )
        ).all()
    engine.dispose()
    return [(row.customer_name, row.customer_email) for row in found]


def count(settings: BridgeSettings, tenant_id: str) -> int:
    engine = make_engine(settings.orders_database_url)
    with engine.connect() as db:
        total = sum(
            db.scalar(select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id)) or 0
            for table in (order_settings, runs, order_records, order_marks, order_wake_ups, cached_customers)
        )
    engine.dispose()
    return total


def test_all_deletes_the_tenants_data_only(
    settings: BridgeSettings, stub: orders_pb2_grpc.OrderTenantDataServiceStub
) -> None:
    seed(settings, "t_a")
    seed(settings, "t_b")

    personal = stub.PurgeTenantData(
        orders_pb2.PurgeTenantDataRequest(tenant_id="t_a", scope=common_pb2.PURGE_SCOPE_PERSONAL_DATA)
    )
    # The order blanked, not deleted; the cached e-mail and organisation number deleted.
    assert (personal.records_deleted, count(settings, "t_a")) == (3, 4)
    assert customers(settings, "t_a") == [("", None)]
    assert cached_keys(settings, "t_a") == []
    assert customers(settings, "t_b") == [("Astrid Lindgren", "astrid@example.se")]
    assert cached_keys(settings, "t_b") == ["1907111400", "astrid@example.se"]
    purged = stub.PurgeTenantData(orders_pb2.PurgeTenantDataRequest(tenant_id="t_a", scope=common_pb2.PURGE_SCOPE_ALL))
    again = stub.PurgeTenantData(orders_pb2.PurgeTenantDataRequest(tenant_id="t_a", scope=common_pb2.PURGE_SCOPE_ALL))

    assert (purged.records_deleted, again.records_deleted) == (4, 0)
    assert (count(settings, "t_a"), count(settings, "t_b")) == (0, 6)
    everything = stub.PurgeTenantData(
        orders_pb2.PurgeTenantDataRequest(tenant_id="t_b", scope=common_pb2.PURGE_SCOPE_ALL)
    )
    assert (everything.records_deleted, count(settings, "t_b"), cached_keys(settings, "t_b")) == (6, 0, [])


def test_a_scope_is_required(stub: orders_pb2_grpc.OrderTenantDataServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as failed:
        stub.PurgeTenantData(orders_pb2.PurgeTenantDataRequest(tenant_id="t_a"))
    assert failed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
