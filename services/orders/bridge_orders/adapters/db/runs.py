"""The orders service's run ledger over bridge_platform.jobs, the tenants due for a scheduled run, the
tenant marks (watermark, last sync) and the pending webhook wake-ups."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from bridge_orders.adapters.db.tables import order_marks, order_settings, order_wake_ups
from bridge_orders.app.ports import RunRecord, WakeUp
from bridge_platform.jobs import PRIORITY_ORDERS, RunQueue


def record_of(row: Mapping[str, Any]) -> RunRecord:
    return RunRecord(
        id=row["id"],
        tenant_id=row["tenant_id"],
        scope=row["scope"],
        trigger=row["trigger"],
        state=row["state"],
        progress_done=row["progress_done"],
        progress_total=row["progress_total"],
        counts=dict(row["counts"] or {}),
        errors=list(row["errors"] or []),
        result=dict(row["result"] or {}),
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
    )


class SqlRunLedger:
    """RunLedger: every order run goes ahead of bulk product and stock work (product.md §6)."""

    def __init__(self, queue: RunQueue) -> None:
        self._queue = queue

    def submit(self, tenant_id: str, scope: str, trigger: str, payload: Mapping[str, Any]) -> tuple[str, bool]:
        submitted = self._queue.submit(
            tenant_id=tenant_id, scope=scope, trigger=trigger, payload=payload, priority=PRIORITY_ORDERS
        )
        return submitted.run_id, submitted.created

    def follow_up(self, tenant_id: str, scope: str, after_run_id: str, trigger: str) -> str:
        # Not exclusive (the running run holds the tenant's key until it ends); its id is derived from the run
        # it follows, so asking again adds nothing; the queue's running key makes it wait for that run.
        submitted = self._queue.submit(
            tenant_id=tenant_id,
            scope=scope,
            trigger=trigger,
            priority=PRIORITY_ORDERS,
            run_id=f"{after_run_id[:40]}-after",
            exclusive=False,
        )
        return submitted.run_id

    def get(self, tenant_id: str, run_id: str) -> RunRecord | None:
        row = self._queue.get(tenant_id, run_id)
        return record_of(row) if row else None

    def list(self, tenant_id: str, scope: str | None, page: int, page_size: int) -> tuple[list[RunRecord], int]:
        rows, total = self._queue.page(tenant_id, scope, page, page_size)
        return [record_of(row) for row in rows], total


class SqlDueTenants:
    """Tenants whose automatic order sync is switched on."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def due(self) -> list[str]:
        c = order_settings.c
        due = select(c.tenant_id).where(c.sync_automatically.is_(True)).order_by(c.tenant_id)
        with self._engine.begin() as connection:
            return list(connection.scalars(due))


class SqlOrderMarks:
    """Named instants per tenant, one transaction per call."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get(self, tenant_id: str, name: str) -> datetime | None:
        c = order_marks.c
        with self._engine.begin() as connection:
            found: datetime | None = connection.scalar(select(c.at).where(c.tenant_id == tenant_id, c.name == name))
        return found

    def set(self, tenant_id: str, name: str, at: datetime) -> None:
        c = order_marks.c
        where = (c.tenant_id == tenant_id) & (c.name == name)
        for _ in range(2):  # a concurrent first insert wins the key; the update then goes through
            try:
                with self._engine.begin() as connection:
                    if connection.execute(update(order_marks).where(where).values(at=at)).rowcount == 0:
                        connection.execute(insert(order_marks).values(tenant_id=tenant_id, name=name, at=at))
                return
            except IntegrityError:
                continue
        raise RuntimeError(f"could not set mark {name}")


class SqlWakeUps:
    """WakeUps over order_wake_ups: one row per (tenant, order), `wakes` counting the webhooks."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, tenant_id: str, ikas_order_id: str, scope: str, at: datetime) -> None:
        c = order_wake_ups.c
        where = (c.tenant_id == tenant_id) & (c.ikas_order_id == ikas_order_id)
        for _ in range(2):
            try:
                with self._engine.begin() as connection:
                    woken = connection.execute(
                        update(order_wake_ups).where(where).values(wakes=c.wakes + 1, scope=scope, woken_at=at)
                    ).rowcount
                    if woken == 0:
                        connection.execute(
                            insert(order_wake_ups).values(
                                tenant_id=tenant_id, ikas_order_id=ikas_order_id, scope=scope, wakes=1, woken_at=at
                            )
                        )
                return
            except IntegrityError:  # the same order's other webhook inserted first: count this one on its row
                continue
        raise RuntimeError("could not record the wake-up")

    def pending(self, tenant_id: str, limit: int) -> list[WakeUp]:
        c = order_wake_ups.c
        with self._engine.begin() as connection:
            rows = connection.execute(
                select(c.ikas_order_id, c.wakes)
                .where(c.tenant_id == tenant_id)
                .order_by(c.woken_at, c.ikas_order_id)
                .limit(limit)
            ).all()
        return [WakeUp(row.ikas_order_id, row.wakes) for row in rows]

    def done(self, tenant_id: str, wake_up: WakeUp) -> None:
        c = order_wake_ups.c
        with self._engine.begin() as connection:
            connection.execute(
                delete(order_wake_ups).where(
                    c.tenant_id == tenant_id, c.ikas_order_id == wake_up.ikas_order_id, c.wakes == wake_up.wakes
                )
            )
