"""Tenant-scoped repositories over the orders database; every query carries the tenant id."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from bridge_orders.adapters.db.tables import cached_customers, order_records
from bridge_orders.app.ports import ConcurrentWrite
from bridge_orders.domain.customers import CachedCustomer
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


class SqlCachedCustomerRepository:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self._session, self._tenant_id = session, tenant_id

    def get(self, kind: str, key: str) -> CachedCustomer | None:
        return self._session.get(CachedCustomer, (self._tenant_id, kind, key))

    def add(self, cached: CachedCustomer) -> None:
        if cached.tenant_id != self._tenant_id:
            raise ValueError("a cached customer of another tenant")
        self._session.add(cached)

    def forget(self, customer_number: str) -> None:
        c = cached_customers.c
        self._session.execute(
            delete(cached_customers).where(c.tenant_id == self._tenant_id, c.customer_number == customer_number)
        )


class SqlOrdersUnitOfWork(SqlUnitOfWork):
    settings: SqlOrderSettingsRepository
    orders: SqlOrderRecordRepository
    customers: SqlCachedCustomerRepository

    def __init__(self, sessions: sessionmaker[Session], tenant_id: str) -> None:
        super().__init__(sessions, tenant_id)

    def _open(self, session: Session) -> None:
        self.settings = SqlOrderSettingsRepository(session, self.tenant_id)
        self.orders = SqlOrderRecordRepository(session, self.tenant_id)
        self.customers = SqlCachedCustomerRepository(session, self.tenant_id)

    def commit(self) -> None:
        """Commits; a lost race (the row changed since it was read: `version`; or the same order listed
        twice, or the same buyer key cached twice: the unique key) rolls back and raises ConcurrentWrite."""
        try:
            self.session.commit()
        except (StaleDataError, IntegrityError) as lost:
            self.session.rollback()
            raise ConcurrentWrite("another transaction wrote the same order first") from lost
