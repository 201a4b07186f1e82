"""The orders service's composition root: the only place that picks adapters (style.md rule 8)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from sqlalchemy import Engine

from bridge_orders.adapters.db.repositories import SqlOrdersUnitOfWork
from bridge_orders.adapters.db.tables import map_tables, runs
from bridge_orders.adapters.db.tenant_data import SqlTenantData
from bridge_orders.app.manage_settings import GetOrderSettings, UpdateOrderSettings, ValidateOrderSettings
from bridge_orders.app.ports import Clock, UnitOfWorkFactory
from bridge_orders.app.purge_tenant_data import PurgeTenantData
from bridge_platform.clock import SystemClock
from bridge_platform.db import make_engine, session_factory
from bridge_platform.jobs import RunQueue, make_huey
from bridge_platform.settings import BridgeSettings

MIGRATIONS = Path(__file__).parent / "adapters" / "db" / "migrations"
QUEUE_NAME = "bridge-orders"


@dataclass(frozen=True)
class Services:
    """Everything the orders service's entrypoints call."""

    get_settings: GetOrderSettings
    validate_settings: ValidateOrderSettings
    update_settings: UpdateOrderSettings
    purge_tenant_data: PurgeTenantData
    runs: RunQueue | None
    engine: Engine | None


def build(
    settings: BridgeSettings,
    *,
    engine: Engine | None = None,
    uow_for: UnitOfWorkFactory | None = None,
    clock: Clock | None = None,
    with_runs: bool = True,
    delete_tenant_data: Callable[[str], int] | None = None,
) -> Services:
    """Wires the orders service; each keyword replaces one port, so tests can pass fakes."""
    clock = clock or SystemClock()
    if uow_for is None:
        map_tables()
        engine = engine or make_engine(settings.orders_database_url)
        uow_for = partial(SqlOrdersUnitOfWork, session_factory(engine))
    run_queue = None
    if with_runs and engine is not None:
        huey = make_huey(QUEUE_NAME, queue_url=settings.queue_url, data_dir=settings.data_dir)
        run_queue = RunQueue(huey=huey, engine=engine, table=runs, handlers={})
    if delete_tenant_data is None:
        delete_tenant_data = SqlTenantData(engine).delete_all if engine is not None else _no_database
    return Services(
        get_settings=GetOrderSettings(uow_for),
        validate_settings=ValidateOrderSettings(),
        update_settings=UpdateOrderSettings(uow_for, clock),
        purge_tenant_data=PurgeTenantData(delete_tenant_data),
        runs=run_queue,
        engine=engine,
    )


def _no_database(tenant_id: str) -> int:
    raise RuntimeError("built without a database: pass delete_tenant_data")
