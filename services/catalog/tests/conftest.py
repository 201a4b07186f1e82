"""Fakes for the catalog's unit tests: small classes with behaviour, not mocks."""

from __future__ import annotations

from datetime import UTC, datetime
from types import TracebackType
from typing import Self

import pytest

from bridge_catalog.app.ports import StockLocation
from bridge_catalog.bootstrap import Services, build
from bridge_catalog.domain.settings import TenantCatalogSettings
from bridge_platform.settings import BridgeSettings


class FakeSettingsRepository:
    def __init__(self, store: dict[str, TenantCatalogSettings], tenant_id: str) -> None:
        self._store, self._tenant_id = store, tenant_id
        self.pending: TenantCatalogSettings | None = None

    def get(self) -> TenantCatalogSettings | None:
        return self.pending or self._store.get(self._tenant_id)

    def add(self, settings: TenantCatalogSettings) -> None:
        self.pending = settings


class FakeLineRepository:
    """No lines: the settings tests need only `has_relations`."""

    def __init__(self) -> None:
        self.relations = False

    def get(self, line_id: str) -> None:
        return None

    def all(self) -> list[object]:
        return []

    def add(self, line: object) -> None:
        raise NotImplementedError

    def page(self, query: str, status: str | None, page: int, page_size: int) -> tuple[list[object], int]:
        return [], 0

    def has_relations(self) -> bool:
        return self.relations

    def flush(self) -> None:
        pass


class FakeMarks:
    def __init__(self) -> None:
        self.marks: dict[str, datetime] = {}

    def get(self, name: str) -> datetime | None:
        return self.marks.get(name)

    def set(self, name: str, at: datetime) -> None:
        self.marks[name] = at

    def clear(self, names: list[str]) -> None:
        for name in names:
            self.marks.pop(name, None)


class FakeUnitOfWork:
    """Keeps what was committed per tenant; `commits` counts commits across all units of work."""

    def __init__(self, database: FakeDatabase, tenant_id: str) -> None:
        self._database, self.tenant_id = database, tenant_id
        self.settings = FakeSettingsRepository(database.settings, tenant_id)
        self.lines = FakeLineRepository()
        self.marks = FakeMarks()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, _t: type[BaseException] | None, _v: BaseException | None, _tb: TracebackType | None) -> None:
        pass

    def commit(self) -> None:
        if self.settings.pending is not None:
            self._database.settings[self.tenant_id] = self.settings.pending
        self._database.commits += 1


class FakeDatabase:
    def __init__(self) -> None:
        self.settings: dict[str, TenantCatalogSettings] = {}
        self.commits = 0

    def unit_of_work(self, tenant_id: str) -> FakeUnitOfWork:
        return FakeUnitOfWork(self, tenant_id)


class FixedClock:
    def __init__(self, at: datetime = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def database() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def services(database: FakeDatabase, tmp_path: object) -> Services:
    return build(
        BridgeSettings(data_dir=str(tmp_path)),
        uow_for=database.unit_of_work,  # type: ignore[arg-type]
        clock=FixedClock(),
        ikas=FakeIkas(),  # type: ignore[arg-type]
        fortnox=FakeFortnox(),  # type: ignore[arg-type]
        auth=FakeAuth(),
    )


class FakeIkas:
    """Only stock locations: the settings tests check the chosen one."""

    def stock_locations(self, tenant_id: str) -> list[StockLocation]:
        return [StockLocation("loc-1", "Main warehouse"), StockLocation("loc-2", "Shop")]


class FakeFortnox:
    pass


class FakeAuth:
    def __init__(self) -> None:
        self.forgotten: list[str] = []

    def forget_fortnox_company(self, tenant_id: str) -> None:
        self.forgotten.append(tenant_id)

    def store_name(self, tenant_id: str) -> str:
        return f"store-of-{tenant_id}"
