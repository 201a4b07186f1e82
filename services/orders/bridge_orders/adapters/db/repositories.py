"""Tenant-scoped repositories over the orders database; every query carries the tenant id."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from bridge_orders.domain.settings import TenantOrderSettings
from bridge_platform.db import SqlUnitOfWork


class SqlOrderSettingsRepository:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self._session, self._tenant_id = session, tenant_id

    def get(self) -> TenantOrderSettings | None:
        return self._session.get(TenantOrderSettings, self._tenant_id)

    def add(self, settings: TenantOrderSettings) -> None:
        if settings.tenant_id != self._tenant_id:
            raise ValueError("settings of another tenant")
        self._session.add(settings)


class SqlOrdersUnitOfWork(SqlUnitOfWork):
    settings: SqlOrderSettingsRepository

    def __init__(self, sessions: sessionmaker[Session], tenant_id: str) -> None:
        super().__init__(sessions, tenant_id)

    def _open(self, session: Session) -> None:
        self.settings = SqlOrderSettingsRepository(session, self.tenant_id)
