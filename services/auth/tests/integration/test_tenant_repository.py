"""The tenant registry on SQLite and PostgreSQL: repository, unit of work, unique store names."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial

import pytest
from sqlalchemy import Engine, func, select

from bridge_auth.adapters.db.repositories import SqlAuthUnitOfWork
from bridge_auth.adapters.db.tables import map_tables, tenants
from bridge_auth.bootstrap import MIGRATIONS, build
from bridge_auth.domain.tenants import DuplicateTenant, Tenant
from bridge_platform.db import make_engine, session_factory, upgrade_to_head
from bridge_platform.settings import BridgeSettings

AT = datetime(2026, 11, 24, 13, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    upgrade_to_head(MIGRATIONS, database_url)
    map_tables()
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def uow_for(engine: Engine) -> partial[SqlAuthUnitOfWork]:
    return partial(SqlAuthUnitOfWork, session_factory(engine))


def tenant(tenant_id: str = "t_" + "1" * 24, store_name: str = "demo") -> Tenant:
    return Tenant(tenant_id, store_name, AT, is_development=True)


def test_tenant_round_trip(uow_for: partial[SqlAuthUnitOfWork]) -> None:
    with uow_for() as uow:
        uow.tenants.add(tenant())
        uow.commit()

    with uow_for() as uow:
        by_id = uow.tenants.get("t_" + "1" * 24)
        by_store = uow.tenants.by_store_name("demo")
    assert by_id == tenant()
    assert by_store == tenant()
    assert by_id is not None
    assert by_id.created_at == AT  # timezone-aware UTC on both engines
    assert by_id.is_development is True


def test_unknown_tenants_are_none(uow_for: partial[SqlAuthUnitOfWork]) -> None:
    with uow_for() as uow:
        uow.tenants.add(tenant())
        uow.commit()

    with uow_for() as uow:
        assert uow.tenants.get("t_" + "2" * 24) is None
        assert uow.tenants.by_store_name("other") is None


def test_a_store_name_belongs_to_one_tenant(uow_for: partial[SqlAuthUnitOfWork]) -> None:
    with uow_for() as uow:
        uow.tenants.add(tenant())
        uow.commit()

    with uow_for() as uow:
        uow.tenants.add(tenant("t_" + "2" * 24, "demo"))
        with pytest.raises(DuplicateTenant):
            uow.commit()

    with uow_for() as uow:
        assert uow.tenants.get("t_" + "2" * 24) is None
        assert uow.tenants.by_store_name("demo") == tenant()


def test_nothing_is_written_without_commit(uow_for: partial[SqlAuthUnitOfWork]) -> None:
    with uow_for() as uow:
        uow.tenants.add(tenant())

    with uow_for() as uow:
        assert uow.tenants.get("t_" + "1" * 24) is None
        assert uow.tenants.by_store_name("demo") is None


def test_concurrent_first_sign_ins_yield_one_tenant(engine: Engine, local_settings: BridgeSettings) -> None:
    services = build(local_settings, engine=engine)
    callers = 8
    start = threading.Barrier(callers)

    def sign_in() -> str:
        start.wait()
        return services.ensure_development_tenant("demo").id

    with ThreadPoolExecutor(callers) as pool:
        ids = set(pool.map(lambda _: sign_in(), range(callers)))

    assert len(ids) == 1
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(tenants)) == 1
