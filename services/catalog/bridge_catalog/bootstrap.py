"""The catalog's composition root: the only place that picks adapters (style.md rule 8)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from sqlalchemy import Engine

from bridge_catalog.adapters.db.repositories import SqlCatalogUnitOfWork
from bridge_catalog.adapters.db.tables import map_tables, runs
from bridge_catalog.adapters.db.tenant_data import SqlTenantData
from bridge_catalog.app.manage_settings import GetCatalogSettings, UpdateCatalogSettings, ValidateCatalogSettings
from bridge_catalog.app.ports import Clock, UnitOfWorkFactory
from bridge_catalog.app.purge_tenant_data import PurgeTenantData
from bridge_platform.clock import SystemClock
from bridge_platform.db import make_engine, session_factory
from bridge_platform.jobs import RunQueue, make_huey
from bridge_platform.settings import BridgeSettings

MIGRATIONS = Path(__file__).parent / "adapters" / "db" / "migrations"
QUEUE_NAME = "bridge-catalog"


@dataclass(frozen=True)
class Services:
    """Everything the catalog's entrypoints call."""

    get_settings: GetCatalogSettings
    validate_settings: ValidateCatalogSettings
    update_settings: UpdateCatalogSettings
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
    """Wires the catalog; each keyword replaces one port, so tests can pass fakes."""
    clock = clock or SystemClock()
    if uow_for is None:
        map_tables()
        engine = engine or make_engine(settings.catalog_database_url)
        uow_for = partial(SqlCatalogUnitOfWork, session_factory(engine))
    run_queue = None
    if with_runs and engine is not None:
        huey = make_huey(QUEUE_NAME, queue_url=settings.queue_url, data_dir=settings.data_dir)
        run_queue = RunQueue(huey=huey, engine=engine, table=runs, handlers={})
    if delete_tenant_data is None:
        delete_tenant_data = SqlTenantData(engine).delete_all if engine is not None else _no_database
    return Services(
        get_settings=GetCatalogSettings(uow_for),
        validate_settings=ValidateCatalogSettings(),
        update_settings=UpdateCatalogSettings(uow_for, clock),
        purge_tenant_data=PurgeTenantData(delete_tenant_data),
        runs=run_queue,
        engine=engine,
    )


def _no_database(tenant_id: str) -> int:
    raise RuntimeError("built without a database: pass delete_tenant_data")
