"""The catalog's run ledger over bridge_platform.jobs.RunQueue and its `runs` table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import Engine, func, select, update

from bridge_catalog.adapters.db.tables import catalog_settings, runs
from bridge_catalog.app.ports import RunRecord
from bridge_platform.jobs import PRIORITY_BULK, PRIORITY_INTERACTIVE, QUEUED, RUNNING, RunQueue

_INTERACTIVE = frozenset({"match", "preview", "reset"})
# The mark a wake-up leaves on a running run's payload (the handler read its payload when it started).
FOLLOW_UP_REQUESTED: Final = "follow_up_requested"


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
    """RunLedger: submits through the queue, reads the ledger rows of one tenant."""

    def __init__(self, queue: RunQueue, engine: Engine) -> None:
        self._queue, self._engine = queue, engine

    def submit(self, tenant_id: str, scope: str, trigger: str, payload: Mapping[str, Any]) -> tuple[str, bool]:
        priority = PRIORITY_INTERACTIVE if scope in _INTERACTIVE or trigger != "schedule" else PRIORITY_BULK
        submitted = self._queue.submit(
            tenant_id=tenant_id, scope=scope, trigger=trigger, payload=payload, priority=priority
        )
        return submitted.run_id, submitted.created

    def get(self, tenant_id: str, run_id: str) -> RunRecord | None:
        row = self._queue.get(tenant_id, run_id)
        return record_of(row) if row else None

    def request_follow_up(self, tenant_id: str, run_id: str) -> bool:
        c = runs.c
        mine = (c.id == run_id) & (c.tenant_id == tenant_id) & c.exclusive_key.is_not(None)
        with self._engine.begin() as connection:
            row = connection.execute(select(c.state, c.payload).where(mine)).first()
            if row is None:
                return False
            if row.state == QUEUED:
                return True
            # Only while the run still holds its tenant and scope: its end releases that hold before it reads
            # the mark, so a mark set here is always seen (the conditional update and the release serialize on
            # the row).
            marked = connection.execute(
                update(runs)
                .where(mine, c.state == RUNNING)
                .values(payload={**(row.payload or {}), FOLLOW_UP_REQUESTED: True})
            ).rowcount
        return bool(marked)

    def release(self, tenant_id: str, run_id: str) -> bool:
        c = runs.c
        mine = (c.id == run_id) & (c.tenant_id == tenant_id)
        with self._engine.begin() as connection:
            connection.execute(update(runs).where(mine).values(exclusive_key=None))
            payload = connection.execute(select(c.payload).where(mine)).scalar()
        return bool((payload or {}).get(FOLLOW_UP_REQUESTED))

    def list(self, tenant_id: str, scope: str | None, page: int, page_size: int) -> tuple[list[RunRecord], int]:
        where = [runs.c.tenant_id == tenant_id]
        if scope:
            where.append(runs.c.scope == scope)
        with self._engine.begin() as connection:
            total = connection.scalar(select(func.count()).select_from(runs).where(*where)) or 0
            rows = connection.execute(
                select(runs)
                .where(*where)
                .order_by(runs.c.created_at.desc(), runs.c.id)
                .offset((page - 1) * page_size)
                .limit(page_size)
            ).all()
        return [record_of(dict(row._mapping)) for row in rows], int(total)


class SqlDueTenants:
    """Tenants whose automatic sync of a scope is switched on."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def due(self, scope: str) -> list[str]:
        c = catalog_settings.c
        flag = c.products_sync_automatically if scope == "products" else c.stock_sync_automatically
        with self._engine.begin() as connection:
            return list(connection.scalars(select(c.tenant_id).where(flag.is_(True)).order_by(c.tenant_id)))
