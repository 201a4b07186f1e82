"""What the catalog use cases need from the outside world, as small Protocols (style.md rule 3)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from bridge_catalog.domain.settings import TenantCatalogSettings


class CatalogSettingsRepository(Protocol):
    """The stored product and stock settings of the unit of work's tenant."""

    def get(self) -> TenantCatalogSettings | None: ...
    def add(self, settings: TenantCatalogSettings) -> None: ...


class CatalogUnitOfWork(Protocol):
    """One transaction for one tenant; nothing is written unless `commit()` is called."""

    @property
    def settings(self) -> CatalogSettingsRepository: ...

    def __enter__(self) -> Self: ...
    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None: ...
    def commit(self) -> None: ...


UnitOfWorkFactory = Callable[[str], CatalogUnitOfWork]


class Clock(Protocol):
    """The current time, timezone-aware UTC."""

    def now(self) -> datetime: ...
