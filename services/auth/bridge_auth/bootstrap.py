"""The auth service's composition root: the only place that picks adapters (style.md rule 8)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

from sqlalchemy import Engine

from bridge_auth.adapters.db.repositories import SqlAuthUnitOfWork
from bridge_auth.adapters.db.tables import map_tables
from bridge_auth.app.ports import Clock, UnitOfWorkFactory
from bridge_auth.app.tenants import EnsureDevelopmentTenant, GetTenant
from bridge_platform.clock import SystemClock
from bridge_platform.db import make_engine, session_factory
from bridge_platform.settings import BridgeSettings

MIGRATIONS = Path(__file__).parent / "adapters" / "db" / "migrations"


@dataclass(frozen=True)
class Services:
    """Everything the auth service's entrypoints call. Auth runs no sync jobs, so it has no run queue."""

    get_tenant: GetTenant
    ensure_development_tenant: EnsureDevelopmentTenant
    engine: Engine | None


def build(
    settings: BridgeSettings,
    *,
    engine: Engine | None = None,
    uow_for: UnitOfWorkFactory | None = None,
    clock: Clock | None = None,
) -> Services:
    """Wires the auth service; each keyword replaces one port, so tests can pass fakes."""
    clock = clock or SystemClock()
    if uow_for is None:
        map_tables()
        engine = engine or make_engine(settings.auth_database_url)
        uow_for = partial(SqlAuthUnitOfWork, session_factory(engine))
    return Services(
        get_tenant=GetTenant(uow_for),
        ensure_development_tenant=EnsureDevelopmentTenant(uow_for, clock, local=settings.is_local),
        engine=engine,
    )
