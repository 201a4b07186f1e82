"""Runs as durable jobs: a huey task queue for delivery, a `runs` ledger for exactly-once execution.

product.md §6 asks for runs that survive restarts, spread over every replica, never overlap for
one tenant and scope, and are retried when their worker dies. huey (SQLite file locally, Redis
in production) stores and delivers the jobs, with priorities and delays. huey alone removes a job
from its queue before running it, so a worker killed mid-job would lose it; the ledger adds what
is missing:

- a row per run in the service's own database, keyed by the caller's id, so submitting is
  idempotent, and an `exclusive_key` (unique while set) so a tenant has one active run per scope;
- a claim by conditional update with a `running_key` (unique while set): two workers can never
  run one tenant's scope at once; a busy job is delivered again after a short delay;
- a lease that the owning process renews; a sweeper in every consumer re-queues runs whose lease
  ran out (their worker died) and redelivers queued runs whose message may have been lost.

A job may thus start more than once after a crash; handlers are written to be safe to repeat.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from huey import PriorityRedisHuey, SqliteHuey
from huey.api import Huey
from huey.consumer import Consumer
from sqlalchemy import JSON, Column, Engine, Index, Integer, MetaData, String, Table, func, select, update
from sqlalchemy.exc import IntegrityError

from bridge_platform.db import UtcDateTime

log = logging.getLogger(__name__)

QUEUED: Final = "queued"
RUNNING: Final = "running"
SUCCEEDED: Final = "succeeded"
FAILED: Final = "failed"
PARTIALLY_FAILED: Final = "partially_failed"
FINAL_STATES: Final = (SUCCEEDED, FAILED, PARTIALLY_FAILED)

# Higher runs first (huey's convention). Order work goes ahead of bulk product and stock work.
PRIORITY_ORDERS: Final = 30
PRIORITY_INTERACTIVE: Final = 20
PRIORITY_BULK: Final = 10


def define_runs_table(metadata: MetaData) -> Table:
    """The run ledger, one per service database that runs jobs."""
    return Table(
        "runs",
        metadata,
        Column("id", String(64), primary_key=True),
        Column("tenant_id", String(64), nullable=False),
        Column("scope", String(32), nullable=False),
        Column("trigger", String(32), nullable=False),
        Column("state", String(20), nullable=False),
        Column("priority", Integer, nullable=False),
        Column("payload", JSON, nullable=False),
        # "tenant:scope" while an exclusive run is active, else NULL (NULLs never collide).
        Column("exclusive_key", String(200), nullable=True),
        # "tenant:scope" while the run executes, else NULL: at most one running run per tenant and scope.
        Column("running_key", String(200), nullable=True),
        Column("attempts", Integer, nullable=False),
        Column("lease_owner", String(120), nullable=True),
        Column("lease_expires_at", UtcDateTime(), nullable=True),
        Column("progress_done", Integer, nullable=False),
        Column("progress_total", Integer, nullable=True),
        Column("counts", JSON, nullable=False),
        Column("errors", JSON, nullable=False),
        Column("result", JSON, nullable=False),
        Column("created_at", UtcDateTime(), nullable=False),
        Column("enqueued_at", UtcDateTime(), nullable=False),
        Column("started_at", UtcDateTime(), nullable=True),
        Column("finished_at", UtcDateTime(), nullable=True),
        Index(None, "exclusive_key", unique=True),
        Index(None, "running_key", unique=True),
        Index(None, "tenant_id", "created_at"),
        Index(None, "state", "enqueued_at"),
    )


@dataclass(frozen=True)
class Submitted:
    """The outcome of a submit: the run that is (now) active, and whether this call created it."""

    run_id: str
    created: bool


@dataclass
class RunOutcome:
    """What a handler reports at the end of a run."""

    state: str = SUCCEEDED
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunContext:
    """What a handler knows about the run it executes."""

    run_id: str
    tenant_id: str
    scope: str
    payload: dict[str, Any]
    attempt: int
    _queue: RunQueue

    def progress(self, done: int, total: int | None = None) -> None:
        self._queue.record_progress(self.run_id, done, total)

    def lease_lost(self) -> bool:
        """True when another worker took the run over (this one stalled); the handler should stop."""
        return self._queue.has_lost(self.run_id)


RunHandler = Callable[[RunContext], RunOutcome]


def make_huey(name: str, *, queue_url: str | None, data_dir: Path) -> Huey:
    """huey on Redis when BRIDGE_QUEUE_URL is set, else on a SQLite file in the data directory."""
    if queue_url:
        return PriorityRedisHuey(name, url=queue_url, results=False, utc=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=str(data_dir / f"{name}-queue.db"), results=False, utc=True)


class _EmbeddedConsumer(Consumer):
    """huey's consumer inside a service process: the service owns the signal handlers."""

    def _set_signal_handlers(self) -> None:
        pass


class RunQueue:
    """Submits runs and, in consumer processes, executes them with the registered handlers."""

    def __init__(
        self,
        *,
        huey: Huey,
        engine: Engine,
        table: Table,
        handlers: Mapping[str, RunHandler],
        lease_s: float = 30.0,
        redeliver_after_s: float = 60.0,
        busy_retry_s: float = 1.0,
        max_attempts: int = 5,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._huey, self._engine, self._runs = huey, engine, table
        self._handlers = dict(handlers)
        self._lease = timedelta(seconds=lease_s)
        self._redeliver_after = timedelta(seconds=redeliver_after_s)
        self._busy_retry_s = busy_retry_s
        self._max_attempts = max_attempts
        self._now = clock
        self._owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._held: set[str] = set()
        self._lost: set[str] = set()
        self._held_lock = threading.Lock()
        self._deliver = huey.task(name=f"{huey.name}.execute_run")(self._execute)
        self._consumer: _EmbeddedConsumer | None = None
        self._stopping = threading.Event()
        self._keeper: threading.Thread | None = None

    # -- submitting -----------------------------------------------------------------------------

    def submit(
        self,
        *,
        tenant_id: str,
        scope: str,
        trigger: str,
        payload: Mapping[str, Any] | None = None,
        priority: int = PRIORITY_BULK,
        run_id: str | None = None,
        exclusive: bool = True,
    ) -> Submitted:
        """Records the run and queues it; idempotent by `run_id`, and by tenant and scope when `exclusive`.

        With `exclusive`, an active (queued or running) run of the same tenant and scope is returned
        instead of a new one (`created` False): a CronJob firing twice, or "sync now" during a run.
        """
        run_id = run_id or uuid.uuid4().hex
        now = self._now()
        row = {
            "id": run_id,
            "tenant_id": tenant_id,
            "scope": scope,
            "trigger": trigger,
            "state": QUEUED,
            "priority": priority,
            "payload": dict(payload or {}),
            "exclusive_key": f"{tenant_id}:{scope}" if exclusive else None,
            "running_key": None,
            "attempts": 0,
            "progress_done": 0,
            "progress_total": None,
            "counts": {},
            "errors": [],
            "result": {},
            "created_at": now,
            "enqueued_at": now,
        }
        try:
            with self._engine.begin() as connection:
                connection.execute(self._runs.insert().values(**row))
        except IntegrityError:
            existing = self._active_or_same(run_id, tenant_id, scope, exclusive)
            if existing is None:  # the other run finished in between: try once more
                return self.submit(
                    tenant_id=tenant_id,
                    scope=scope,
                    trigger=trigger,
                    payload=payload,
                    priority=priority,
                    run_id=run_id,
                    exclusive=exclusive,
                )
            return Submitted(existing, created=False)
        self._enqueue(run_id, priority)
        return Submitted(run_id, created=True)

    def _active_or_same(self, run_id: str, tenant_id: str, scope: str, exclusive: bool) -> str | None:
        runs = self._runs.c
        with self._engine.begin() as connection:
            if connection.execute(select(runs.id).where(runs.id == run_id)).scalar() is not None:
                return run_id
            if exclusive:
                active = select(runs.id).where(runs.exclusive_key == f"{tenant_id}:{scope}")
                found: str | None = connection.execute(active).scalar()
                return found
        return None

    def _enqueue(self, run_id: str, priority: int, delay_s: float = 0.0) -> None:
        if delay_s > 0:
            self._deliver.schedule((run_id,), delay=delay_s, priority=priority)
        else:
            self._huey.enqueue(self._deliver.s(run_id, priority=priority))

    def get(self, tenant_id: str, run_id: str) -> dict[str, Any] | None:
        """The ledger row of one run of one tenant, as a dict."""
        runs = self._runs.c
        with self._engine.begin() as connection:
            row = connection.execute(select(self._runs).where(runs.id == run_id, runs.tenant_id == tenant_id)).first()
        return dict(row._mapping) if row else None

    def page(self, tenant_id: str, scope: str | None, page: int, page_size: int) -> tuple[list[dict[str, Any]], int]:
        """One page of a tenant's runs (of one scope, or all), newest first, and how many there are."""
        runs = self._runs.c
        where = [runs.tenant_id == tenant_id]
        if scope:
            where.append(runs.scope == scope)
        with self._engine.begin() as connection:
            total = connection.scalar(select(func.count()).select_from(self._runs).where(*where)) or 0
            rows = connection.execute(
                select(self._runs)
                .where(*where)
                .order_by(runs.created_at.desc(), runs.id)
                .offset((page - 1) * page_size)
                .limit(page_size)
            ).all()
        return [dict(row._mapping) for row in rows], int(total)

    # -- executing ------------------------------------------------------------------------------

    def _execute(self, run_id: str) -> None:
        """The huey task: claim the run, execute its handler, record the outcome."""
        context = self._claim(run_id)
        if context is None:
            return
        handler = self._handlers.get(context.scope)
        try:
            if handler is None:
                outcome = RunOutcome(FAILED, errors=[{"message": f"no handler for scope {context.scope}"}])
            else:
                outcome = handler(context)
        except Exception as error:  # one run's failure never stops the consumer
            log.exception("run failed", extra={"run_id": run_id, "scope": context.scope})
            outcome = RunOutcome(FAILED, errors=[{"message": f"{type(error).__name__}: {error}"}])
        self._finish(run_id, outcome)

    def _claim(self, run_id: str) -> RunContext | None:
        runs = self._runs.c
        with self._engine.begin() as connection:
            row = connection.execute(select(self._runs).where(runs.id == run_id)).first()
        if row is None or row.state != QUEUED:
            return None  # finished, running elsewhere, or a duplicate delivery
        now = self._now()
        key = f"{row.tenant_id}:{row.scope}"
        self._release_expired(key, now)
        try:
            with self._engine.begin() as connection:
                claimed = connection.execute(
                    update(self._runs)
                    .where(runs.id == run_id, runs.state == QUEUED)
                    .values(
                        state=RUNNING,
                        running_key=key,
                        lease_owner=self._owner,
                        lease_expires_at=now + self._lease,
                        attempts=runs.attempts + 1,
                        started_at=row.started_at or now,
                    )
                ).rowcount
        except IntegrityError:  # another run of this tenant and scope is running: come back shortly
            with self._engine.begin() as connection:  # counts as a delivery, so recover() does not add another
                connection.execute(update(self._runs).where(runs.id == run_id).values(enqueued_at=now))
            self._enqueue(run_id, row.priority, delay_s=self._busy_retry_s)
            return None
        if claimed != 1:
            return None
        with self._held_lock:
            self._held.add(run_id)
        return RunContext(run_id, row.tenant_id, row.scope, dict(row.payload), row.attempts + 1, self)

    def _release_expired(self, running_key: str, now: datetime) -> None:
        """A run whose lease ran out lost its worker: queue it again (or fail it after max_attempts)."""
        runs = self._runs.c
        with self._engine.begin() as connection:
            stale = connection.execute(
                select(runs.id, runs.attempts, runs.priority).where(
                    runs.running_key == running_key, runs.lease_expires_at < now
                )
            ).all()
        for run in stale:
            self._requeue_stale(run.id, run.attempts, run.priority, now)

    def _requeue_stale(self, run_id: str, attempts: int, priority: int, now: datetime) -> None:
        runs = self._runs.c
        exhausted = attempts >= self._max_attempts
        values: dict[str, Any] = {"running_key": None, "lease_owner": None, "lease_expires_at": None}
        if exhausted:
            values.update(
                state=FAILED,
                exclusive_key=None,
                finished_at=now,
                errors=[{"message": f"the worker running this run stopped {attempts} times; giving up"}],
            )
        else:
            values.update(state=QUEUED, enqueued_at=now)
        with self._engine.begin() as connection:
            changed = connection.execute(
                update(self._runs)
                .where(runs.id == run_id, runs.state == RUNNING, runs.lease_expires_at < now)
                .values(**values)
            ).rowcount
        if changed and not exhausted:
            log.warning("re-queued a run whose worker stopped", extra={"run_id": run_id, "attempts": attempts})
            self._enqueue(run_id, priority)

    def _finish(self, run_id: str, outcome: RunOutcome) -> None:
        runs = self._runs.c
        with self._engine.begin() as connection:
            done = connection.execute(
                update(self._runs)
                .where(runs.id == run_id, runs.lease_owner == self._owner, runs.state == RUNNING)
                .values(
                    state=outcome.state,
                    running_key=None,
                    exclusive_key=None,
                    lease_owner=None,
                    lease_expires_at=None,
                    finished_at=self._now(),
                    counts=outcome.counts,
                    errors=outcome.errors,
                    result=outcome.result,
                )
            ).rowcount
        with self._held_lock:
            self._held.discard(run_id)
            self._lost.discard(run_id)
        if done != 1:
            log.warning("a run finished after another worker took it over", extra={"run_id": run_id})

    def record_progress(self, run_id: str, done: int, total: int | None) -> None:
        runs = self._runs.c
        with self._engine.begin() as connection:
            connection.execute(
                update(self._runs)
                .where(runs.id == run_id, runs.lease_owner == self._owner)
                .values(progress_done=done, progress_total=total)
            )

    def has_lost(self, run_id: str) -> bool:
        with self._held_lock:
            return run_id in self._lost

    # -- lease keeping and recovery -------------------------------------------------------------

    def renew_leases(self) -> None:
        with self._held_lock:
            held = set(self._held)
        if not held:
            return
        runs = self._runs.c
        with self._engine.begin() as connection:
            connection.execute(
                update(self._runs)
                .where(runs.id.in_(held), runs.lease_owner == self._owner)
                .values(lease_expires_at=self._now() + self._lease)
            )
            still_mine = set(
                connection.execute(select(runs.id).where(runs.id.in_(held), runs.lease_owner == self._owner)).scalars()
            )
        with self._held_lock:
            self._lost |= held - still_mine

    def recover(self) -> None:
        """Re-queues runs of dead workers and redelivers queued runs whose message may be lost."""
        now = self._now()
        runs = self._runs.c
        with self._engine.begin() as connection:
            stale = connection.execute(
                select(runs.id, runs.attempts, runs.priority).where(runs.state == RUNNING, runs.lease_expires_at < now)
            ).all()
            forgotten = connection.execute(
                select(runs.id, runs.priority).where(
                    runs.state == QUEUED, runs.enqueued_at < now - self._redeliver_after
                )
            ).all()
        for run in stale:
            self._requeue_stale(run.id, run.attempts, run.priority, now)
        for lost in forgotten:
            with self._engine.begin() as connection:
                touched = connection.execute(
                    update(self._runs)
                    .where(runs.id == lost.id, runs.state == QUEUED, runs.enqueued_at < now - self._redeliver_after)
                    .values(enqueued_at=now)
                ).rowcount
            if touched:  # duplicates are harmless: only one delivery can claim the run
                self._enqueue(lost.id, lost.priority)

    def start_consumer(self, workers: int = 2, poll_max_delay_s: float = 1.0) -> None:
        """Consumes the queue in this process: huey worker threads plus the lease keeper."""
        self._consumer = _EmbeddedConsumer(
            self._huey,
            workers=workers,
            periodic=False,
            worker_type="thread",
            max_delay=poll_max_delay_s,
            check_worker_health=True,
        )
        self._consumer.start()
        self._stopping.clear()
        self._keeper = threading.Thread(target=self._keep, name="run-lease-keeper", daemon=True)
        self._keeper.start()

    def _keep(self) -> None:
        interval_s = max(self._lease.total_seconds() / 3, 0.1)
        while not self._stopping.wait(interval_s):
            try:
                self.renew_leases()
                self.recover()
                if self._consumer is not None:
                    self._consumer.check_worker_health()
            except Exception:
                log.exception("run lease keeper failed; retrying")

    def stop_consumer(self, timeout_s: float = 10.0) -> None:
        """Lets running jobs finish (up to `timeout_s`); unfinished ones are recovered by lease expiry."""
        self._stopping.set()
        if self._consumer is not None:
            self._consumer.shutdown_timeout = timeout_s
            self._consumer.stop(graceful=True)
            self._consumer = None
        if self._keeper is not None:
            self._keeper.join(timeout_s)
            self._keeper = None
