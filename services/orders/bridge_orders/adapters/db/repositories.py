"""Tenant-scoped repositories over the orders database; every query carries the tenant id."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from bridge_orders.adapters.db.tables import order_records
from bridge_orders.app.ports import ConcurrentWrite
from bridge_orders.domain.order_record import OrderRecord
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


class SqlOrderRecordRepository:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self._session, self._tenant_id = session, tenant_id

    def get(self, ikas_order_id: str) -> OrderRecord | None:
        c = order_records.c
        return self._session.scalars(
            select(OrderRecord).where(c.tenant_id == self._tenant_id, c.ikas_order_id == ikas_order_id)
        ).one_or_none()

    def add(self, record: OrderRecord) -> None:
        if record.tenant_id != self._tenant_id:
            raise ValueError("an order record of another tenant")
        self._session.add(record)


class SqlOrdersUnitOfWork(SqlUnitOfWork):
    settings: SqlOrderSettingsRepository
    orders: SqlOrderRecordRepository

    def __init__(self, sessions: sessionmaker[Session], tenant_id: str) -> None:
        super().__init__(sessions, tenant_id)

    def _open(self, session: Session) -> None:
        self.settings = SqlOrderSettingsRepository(session, self.tenant_id)
        self.orders = SqlOrderRecordRepository(session, self.tenant_id)

    def commit(self) -> None:
        """Commits; a lost race (the row changed since it was read: `version`; or the same order listed
        twice: the unique key) rolls back and raises ConcurrentWrite."""
        try:
            self.session.commit()
        except (StaleDataError, IntegrityError) as lost:
            self.session.rollback()
            raise ConcurrentWrite("another transaction wrote the same order first") from lost
