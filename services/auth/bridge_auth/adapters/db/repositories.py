"""Repositories over the auth database.

The tenant registry is the one place in Bridge that is not scoped by tenant (style.md rule 7): it is
where tenant ids come from, so a lookup cannot be made "for a tenant" before the tenant is known
(a store name or tenant id is the key itself). Tenant-owned data this service adds later (installs,
connections, tokens) gets tenant-scoped repositories like the other services'.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bridge_auth.adapters.db.tables import tenants
from bridge_auth.domain.tenants import DuplicateTenant, Tenant
from bridge_platform.db import SqlUnitOfWork


class SqlTenantRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, tenant_id: str) -> Tenant | None:
        return self._session.get(Tenant, tenant_id)

    def by_store_name(self, store_name: str) -> Tenant | None:
        return self._session.scalars(select(Tenant).where(tenants.c.store_name == store_name)).one_or_none()

    def add(self, tenant: Tenant) -> None:
        self._session.add(tenant)


class SqlAuthUnitOfWork(SqlUnitOfWork):
    """A transaction over the tenant registry, built without a tenant id (see the module docstring)."""

    tenants: SqlTenantRepository

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        # The platform base carries a tenant id for tenant-scoped repositories; this unit of work has
        # none, and builds no repository that reads it.
        super().__init__(sessions, tenant_id="")

    def _open(self, session: Session) -> None:
        self.tenants = SqlTenantRepository(session)

    def commit(self) -> None:
        try:
            super().commit()
        except IntegrityError as error:  # the only constraints are unique keys: id and store name
            raise DuplicateTenant("a tenant with this id or store name exists already") from error
