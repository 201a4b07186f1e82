"""Repositories over the auth database.

The tenant registry is the one place in Bridge that is not scoped by tenant (style.md rule 7): it is
where tenant ids come from, so a lookup cannot be made "for a tenant" before the tenant is known
(a store name, authorizedAppId or tenant id is the key itself). Connections and sessions are looked up
by their tenant explicitly.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bridge_auth.adapters.db.tables import (
    connections,
    pending_authorizations,
    sessions,
    tenants,
    webhook_deliveries,
)
from bridge_auth.domain.connections import Connection, ConnectionStatus, Upstream
from bridge_auth.domain.sessions import DashboardSession, PendingAuthorization
from bridge_auth.domain.tenants import DuplicateTenant, Tenant
from bridge_platform.db import SqlUnitOfWork


class SqlTenantRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, tenant_id: str) -> Tenant | None:
        return self._session.get(Tenant, tenant_id)

    def by_store_name(self, store_name: str) -> Tenant | None:
        return self._session.scalars(select(Tenant).where(tenants.c.store_name == store_name)).one_or_none()

    def by_authorized_app_id(self, authorized_app_id: str) -> Tenant | None:
        query = select(Tenant).where(tenants.c.authorized_app_id == authorized_app_id)
        return self._session.scalars(query).one_or_none()

    def add(self, tenant: Tenant) -> None:
        self._session.add(tenant)

    def installed_page(self, after_id: str, limit: int) -> list[Tenant]:
        query = (
            select(Tenant)
            .where(tenants.c.uninstalled_at.is_(None), tenants.c.id > after_id)
            .order_by(tenants.c.id)
            .limit(limit)
        )
        return list(self._session.scalars(query))

    def purges_due(self, now: datetime) -> list[Tenant]:
        c = tenants.c
        query = select(Tenant).where(
            c.uninstalled_at.is_not(None),
            or_(
                c.purge_at <= now,
                (c.personal_data_purge_at <= now) & c.personal_data_purged_at.is_(None),
            ),
        )
        return list(self._session.scalars(query.order_by(c.id)))

    def delete(self, tenant_id: str) -> None:
        # Children first: SQLite enforces the foreign keys, and not every engine cascades the same way.
        for table in (connections, pending_authorizations, sessions, webhook_deliveries):
            self._session.execute(delete(table).where(table.c.tenant_id == tenant_id))
        self._session.execute(delete(tenants).where(tenants.c.id == tenant_id))


class SqlConnectionRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, tenant_id: str, upstream: Upstream, *, for_update: bool = False) -> Connection | None:
        query = select(Connection).where(connections.c.tenant_id == tenant_id, connections.c.upstream == upstream.value)
        if for_update:
            # PostgreSQL: a row lock until commit or rollback; SQLite has no row locks and renders nothing, but
            # every transaction there starts with BEGIN IMMEDIATE (bridge_platform.db), which serialises writers.
            # populate_existing: re-read the row even if this session saw it before taking the lock.
            query = query.with_for_update().execution_options(populate_existing=True)
        return self._session.scalars(query).one_or_none()

    def add(self, connection: Connection) -> None:
        self._session.add(connection)

    def of_tenant(self, tenant_id: str) -> list[Connection]:
        query = select(Connection).where(connections.c.tenant_id == tenant_id).order_by(connections.c.upstream)
        return list(self._session.scalars(query.with_for_update()))

    def refresh_candidates(self) -> list[tuple[str, str]]:
        c = connections.c
        query = (
            select(c.tenant_id, c.upstream)
            .where(c.status == ConnectionStatus.CONNECTED.value, c.refresh_token.is_not(None))
            .order_by(c.tenant_id, c.upstream)
        )
        return [(row.tenant_id, row.upstream) for row in self._session.execute(query)]


class SqlPendingAuthorizationRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, pending: PendingAuthorization) -> None:
        self._session.add(pending)

    def take(self, state_hash: str) -> PendingAuthorization | None:
        query = (
            select(PendingAuthorization)
            .where(pending_authorizations.c.state_hash == state_hash)
            .with_for_update()  # a second callback with the same state waits, then finds it gone
        )
        pending = self._session.scalars(query).one_or_none()
        if pending is not None:
            self._session.delete(pending)
        return pending


class SqlSessionRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, session: DashboardSession) -> None:
        self._session.add(session)

    def get(self, token_hash: str) -> DashboardSession | None:
        return self._session.get(DashboardSession, token_hash)

    def delete(self, token_hash: str) -> None:
        self._session.execute(delete(sessions).where(sessions.c.token_hash == token_hash))

    def delete_of_tenant(self, tenant_id: str) -> None:
        self._session.execute(delete(sessions).where(sessions.c.tenant_id == tenant_id))


class SqlWebhookLog:
    def __init__(self, session: Session) -> None:
        self._session = session

    def record(self, webhook_id: str, tenant_id: str, scope: str, at: datetime) -> bool:
        values = {"webhook_id": webhook_id, "tenant_id": tenant_id, "scope": scope, "received_at": at}
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(webhook_deliveries)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["webhook_id"])
            .returning(webhook_deliveries.c.webhook_id)  # a row back: inserted now; none: recorded before
        )
        return self._session.execute(statement).scalar_one_or_none() is not None


class SqlAuthUnitOfWork(SqlUnitOfWork):
    """A transaction over the auth database, built without a tenant id (see the module docstring)."""

    tenants: SqlTenantRepository
    connections: SqlConnectionRepository
    authorizations: SqlPendingAuthorizationRepository
    sessions: SqlSessionRepository
    webhooks: SqlWebhookLog

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        # The platform base carries a tenant id for tenant-scoped repositories; this unit of work has
        # none, and builds no repository that reads it.
        super().__init__(sessions, tenant_id="")

    def _open(self, session: Session) -> None:
        self.tenants = SqlTenantRepository(session)
        self.connections = SqlConnectionRepository(session)
        self.authorizations = SqlPendingAuthorizationRepository(session)
        self.sessions = SqlSessionRepository(session)
        self.webhooks = SqlWebhookLog(session)

    def commit(self) -> None:
        try:
            super().commit()
        except IntegrityError as error:  # the unique keys of tenants: id, store name, authorizedAppId
            raise DuplicateTenant("a tenant with this id, store name or installation exists already") from error
