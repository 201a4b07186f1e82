"""The read side over order records: the list of product.md §8, one record by Bridge's id, and the records a
run picks up again. Every query carries the tenant id."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy import ColumnElement, Engine, event, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from bridge_orders.adapters.db.tables import order_records
from bridge_orders.app.ports import OrderFilter
from bridge_orders.domain.order_record import ERROR, OUTGOING, OrderRecord

# SQLite's lower() folds ASCII only; customer names are Swedish (Åsa, Örjan). A Python function under this
# name does it on SQLite; PostgreSQL's lower() folds Unicode already.
_LOWER: Final = "bridge_lower"


def register_sql_functions(engine: Engine) -> None:
    """Adds the functions the queries need to every new SQLite connection of `engine`."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.create_function(_LOWER, 1, lambda text: text.lower() if isinstance(text, str) else text)


class SqlOrderReads:
    """OrderReads over order_records."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def page(self, tenant_id: str, filters: OrderFilter, page: int, page_size: int) -> tuple[list[OrderRecord], int]:
        c = order_records.c
        where: list[ColumnElement[bool]] = [c.tenant_id == tenant_id]
        if filters.status:
            where.append(c.status == filters.status)
        if filters.ordered_from is not None:
            where.append(c.ordered_at >= filters.ordered_from)
        if filters.ordered_to is not None:
            where.append(c.ordered_at < filters.ordered_to)
        with self._sessions() as session:
            if filters.query.strip():
                lower = func.lower if session.get_bind().dialect.name != "sqlite" else getattr(func, _LOWER)
                needle = filters.query.strip().lower()
                where.append(
                    or_(
                        *(
                            lower(column).contains(needle, autoescape=True)
                            for column in (c.ikas_order_number, c.customer_name, c.customer_email)
                        )
                    )
                )
            total = session.scalar(select(func.count()).select_from(order_records).where(*where)) or 0
            records = session.scalars(
                select(OrderRecord)
                .where(*where)
                .order_by(c.ordered_at.desc(), c.id)
                .offset((page - 1) * page_size)
                .limit(page_size)
            ).all()
        return list(records), int(total)

    def by_id(self, tenant_id: str, record_id: str) -> OrderRecord | None:
        c = order_records.c
        with self._sessions() as session:
            return session.scalars(select(OrderRecord).where(c.tenant_id == tenant_id, c.id == record_id)).one_or_none()

    def unfinished(self, tenant_id: str, except_waiting: Sequence[str], limit: int) -> list[OrderRecord]:
        c = order_records.c
        waiting = (
            (c.status == OUTGOING)
            & c.fortnox_order_number.is_(None)
            & (c.waiting_reason.is_(None) | c.waiting_reason.not_in(list(except_waiting)))
        )
        with self._sessions() as session:
            records = session.scalars(
                select(OrderRecord)
                .where(c.tenant_id == tenant_id, c.intent.is_not(None) | (c.status == ERROR) | waiting)
                .order_by(c.updated_at, c.id)
                .limit(limit)
            ).all()
        return list(records)
