"""What the auth use cases need from the outside world, as small Protocols (style.md rule 3)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from bridge_auth.domain.tenants import Tenant


class TenantRepository(Protocol):
    """The registry of every tenant (not scoped by tenant: it is where tenants come from)."""

    def get(self, tenant_id: str) -> Tenant | None: ...
    def by_store_name(self, store_name: str) -> Tenant | None: ...
    def add(self, tenant: Tenant) -> None: ...


class AuthUnitOfWork(Protocol):
    """One transaction over the tenant registry; nothing is written unless `commit()` is called.

    `commit()` raises DuplicateTenant when a tenant with the same id or store name was stored first.
    """

    @property
    def tenants(self) -> TenantRepository: ...  # read-only, so an adapter may hold its own repository class

    def __enter__(self) -> Self: ...
    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None: ...
    def commit(self) -> None: ...


# Unlike the catalog's and orders' factories, this one takes no tenant id: the tenant registry is where
# tenant ids come from, so it is the one store not scoped by tenant (style.md rule 7).
UnitOfWorkFactory = Callable[[], AuthUnitOfWork]


class Clock(Protocol):
    """The current time, timezone-aware UTC."""

    def now(self) -> datetime: ...
