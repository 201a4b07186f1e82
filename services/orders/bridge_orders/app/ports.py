"""What the orders use cases need from the outside world, as small Protocols (style.md rule 3)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from bridge_orders.domain.settings import TenantOrderSettings


class OrderSettingsRepository(Protocol):
    """The stored order settings of the unit of work's tenant."""

    def get(self) -> TenantOrderSettings | None: ...
    def add(self, settings: TenantOrderSettings) -> None: ...


class OrdersUnitOfWork(Protocol):
    """One transaction for one tenant; nothing is written unless `commit()` is called."""

    # Read-only, so an implementation may hold a more specific repository (a mutable protocol
    # attribute would have to match its type exactly).
    @property
    def settings(self) -> OrderSettingsRepository: ...

    def __enter__(self) -> Self: ...
    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None: ...
    def commit(self) -> None: ...


UnitOfWorkFactory = Callable[[str], OrdersUnitOfWork]


class Clock(Protocol):
    """The current time, timezone-aware UTC."""

    def now(self) -> datetime: ...
