"""Fakes for the orders service's unit tests: small classes with behaviour, not mocks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

import pytest

from bridge_orders.bootstrap import Services, build
from bridge_orders.domain.settings import TenantOrderSettings
from bridge_platform.settings import BridgeSettings

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class FakeSettingsRepository:
    def __init__(self, store: dict[str, TenantOrderSettings], tenant_id: str) -> None:
        self._store, self._tenant_id = store, tenant_id
        self.pending: TenantOrderSettings | None = None

    def get(self) -> TenantOrderSettings | None:
        return self.pending or self._store.get(self._tenant_id)

    def add(self, settings: TenantOrderSettings) -> None:
        self.pending = settings


class FakeUnitOfWork:
    """Keeps what was committed per tenant; the database counts commits across all units of work."""

    def __init__(self, database: FakeDatabase, tenant_id: str) -> None:
        self._database, self.tenant_id = database, tenant_id
        self.settings = FakeSettingsRepository(database.settings, tenant_id)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        pass

    def commit(self) -> None:
        if self.settings.pending is not None:
            self._database.settings[self.tenant_id] = self.settings.pending
        self._database.commits += 1


class FakeDatabase:
    def __init__(self) -> None:
        self.settings: dict[str, TenantOrderSettings] = {}
        self.commits = 0

    def unit_of_work(self, tenant_id: str) -> FakeUnitOfWork:
        return FakeUnitOfWork(self, tenant_id)


class FixedClock:
    def __init__(self, at: datetime = NOW) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def database() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def services(database: FakeDatabase, clock: FixedClock, tmp_path: Path) -> Services:
    settings = BridgeSettings(data_dir=tmp_path)
    return build(settings, uow_for=database.unit_of_work, clock=clock)


@pytest.fixture
def commits(database: FakeDatabase) -> Callable[[], int]:
    """How many units of work committed so far (test modules cannot import the fake's class to type it)."""
    return lambda: database.commits


@pytest.fixture
def stored(database: FakeDatabase) -> Callable[[str], TenantOrderSettings | None]:
    """What is committed for a tenant."""
    return database.settings.get
