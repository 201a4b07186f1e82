"""Tenant-scoped repositories over the catalog database; every query carries the tenant id."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from bridge_catalog.domain.settings import TenantCatalogSettings
from bridge_platform.db import SqlUnitOfWork


class SqlCatalogSettingsRepository:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self._session, self._tenant_id = session, tenant_id

    def get(self) -> TenantCatalogSettings | None:
        return self._session.get(TenantCatalogSettings, self._tenant_id)

    def add(self, settings: TenantCatalogSettings) -> None:
        if settings.tenant_id != self._tenant_id:
            raise ValueError("settings of another tenant")
        self._session.add(settings)


class SqlCatalogUnitOfWork(SqlUnitOfWork):
    settings: SqlCatalogSettingsRepository

    def __init__(self, sessions: sessionmaker[Session], tenant_id: str) -> None:
        super().__init__(sessions, tenant_id)

    def _open(self, session: Session) -> None:
        self.settings = SqlCatalogSettingsRepository(session, self.tenant_id)
