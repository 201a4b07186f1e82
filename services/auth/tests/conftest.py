"""Fakes and settings for the auth service's tests: small classes with behaviour, not mocks."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

import pytest

from bridge_auth.bootstrap import Services, build
from bridge_auth.domain.tenants import DuplicateTenant, Tenant
from bridge_platform.settings import BridgeSettings, Mode, load_settings


class FakeTenantRepository:
    def __init__(self, stored: dict[str, Tenant]) -> None:
        self._stored = stored
        self.pending: list[Tenant] = []

    def _all(self) -> list[Tenant]:
        return [*self._stored.values(), *self.pending]

    def get(self, tenant_id: str) -> Tenant | None:
        return next((t for t in self._all() if t.id == tenant_id), None)

    def by_store_name(self, store_name: str) -> Tenant | None:
        return next((t for t in self._all() if t.store_name == store_name), None)

    def add(self, tenant: Tenant) -> None:
        self.pending.append(tenant)


class FakeUnitOfWork:
    """Writes the added tenants on commit, holding the unique keys of the real table (id, store name)."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        self.tenants = FakeTenantRepository(database.tenants)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, _t: type[BaseException] | None, _v: BaseException | None, _tb: TracebackType | None) -> None:
        self.tenants.pending.clear()  # what was not committed is rolled back

    def commit(self) -> None:
        if self._database.before_commit is not None:
            self._database.before_commit()
        stored = self._database.tenants.values()
        for tenant in self.tenants.pending:
            if any(t.id == tenant.id or t.store_name == tenant.store_name for t in stored):
                raise DuplicateTenant("a tenant with this id or store name exists already")
        for tenant in self.tenants.pending:
            self._database.tenants[tenant.id] = tenant
        self.tenants.pending.clear()
        self._database.commits += 1


class FakeDatabase:
    """The committed tenants by id; `before_commit` lets a test play a concurrent writer."""

    def __init__(self) -> None:
        self.tenants: dict[str, Tenant] = {}
        self.commits = 0
        self.before_commit: Callable[[], None] | None = None

    def unit_of_work(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)


class FixedClock:
    def __init__(self, at: datetime = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def local_settings(tmp_path: Path) -> BridgeSettings:
    """Local mode, everything under tmp_path (the auth database is a SQLite file there)."""
    return load_settings(mode=Mode.LOCAL, data_dir=tmp_path, auth_database_url=f"sqlite:///{tmp_path / 'auth.db'}")


@pytest.fixture
def production_settings(tmp_path: Path) -> BridgeSettings:
    """Production mode with every required variable set; the auth database is a SQLite file in tmp_path."""
    return load_settings(
        mode=Mode.PRODUCTION,
        data_dir=tmp_path,
        auth_database_url=f"sqlite:///{tmp_path / 'auth.db'}",
        catalog_database_url=f"sqlite:///{tmp_path / 'catalog.db'}",
        orders_database_url=f"sqlite:///{tmp_path / 'orders.db'}",
        public_url="https://bridge.example",
        service_token="service-token-for-tests",
        vault_key=base64.b64encode(bytes(32)).decode(),
    )


@pytest.fixture
def database() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def services(local_settings: BridgeSettings, database: FakeDatabase, clock: FixedClock) -> Services:
    return build(local_settings, uow_for=database.unit_of_work, clock=clock)


@pytest.fixture
def production_services(production_settings: BridgeSettings, database: FakeDatabase, clock: FixedClock) -> Services:
    return build(production_settings, uow_for=database.unit_of_work, clock=clock)


@pytest.fixture
def stored_tenants(database: FakeDatabase) -> dict[str, Tenant]:
    """The committed tenants by id."""
    return database.tenants


@pytest.fixture
def commits_first(database: FakeDatabase) -> Callable[[Tenant], None]:
    """Plays a concurrent caller: the tenant handed in is committed just before the next commit."""

    def arrange(tenant: Tenant) -> None:
        def write() -> None:
            database.tenants[tenant.id] = tenant
            database.before_commit = None

        database.before_commit = write

    return arrange
