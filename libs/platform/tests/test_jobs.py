"""The run queue (bridge_platform.jobs): durable, exactly-once, one run per tenant and scope at a time.

Two set-ups are exercised: local mode (SQLite database, huey on a SQLite file) and production
(PostgreSQL database, huey on Redis). The multi-process tests start real consumer processes.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

from bridge_platform.db import make_engine
from bridge_platform.jobs import FAILED, QUEUED, RUNNING, SUCCEEDED, RunContext, RunOutcome, RunQueue, make_huey

CONSUMER = Path(__file__).with_name("consumer_process.py")
sys.path.insert(0, str(CONSUMER.parent))  # the consumer module also defines the tables the tests read
from consumer_process import (  # type: ignore[import-not-found]  # noqa: E402  (found through sys.path above)
    executions,
    executions_metadata,
    runs,
    runs_metadata,
)

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass
class Setup:
    database_url: str
    queue_url: str | None
    queue_name: str
    data_dir: Path
    engine: Engine

    def queue(
        self, handlers: dict[str, Callable[[RunContext], RunOutcome]] | None = None, **options: float
    ) -> RunQueue:
        huey = make_huey(self.queue_name, queue_url=self.queue_url, data_dir=self.data_dir)
        return RunQueue(huey=huey, engine=self.engine, table=runs, handlers=handlers or {}, **options)  # type: ignore[arg-type]


@pytest.fixture(params=["local", "production"])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Setup]:
    if request.param == "local":
        database_url, queue_url = f"sqlite:///{tmp_path / 'runs.db'}", None
    else:
        database_url, queue_url = request.getfixturevalue("new_postgres_database")(), REDIS_URL
    engine = make_engine(database_url)
    runs_metadata.create_all(engine)
    executions_metadata.create_all(engine)
    queue_name = f"bridge-test-{uuid.uuid4().hex[:8]}"
    yield Setup(database_url, queue_url, queue_name, tmp_path, engine)
    if queue_url:
        make_huey(queue_name, queue_url=queue_url, data_dir=tmp_path).storage.flush_all()
    engine.dispose()


def states(engine: Engine) -> dict[str, str]:
    with engine.begin() as connection:
        return {row.id: row.state for row in connection.execute(select(runs.c.id, runs.c.state))}


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.1)


def test_submitting_is_idempotent_by_run_id(setup: Setup) -> None:
    queue = setup.queue()

    first = queue.submit(tenant_id="t1", scope="demo", trigger="test", run_id="run-1", exclusive=False)
    again = queue.submit(tenant_id="t1", scope="demo", trigger="test", run_id="run-1", exclusive=False)

    assert (first.created, again.created) == (True, False)
    assert again.run_id == "run-1"
    assert list(states(setup.engine).values()) == [QUEUED]


def test_an_exclusive_submit_returns_the_active_run_of_the_tenant_and_scope(setup: Setup) -> None:
    queue = setup.queue()

    first = queue.submit(tenant_id="t1", scope="products", trigger="schedule")
    duplicate = queue.submit(tenant_id="t1", scope="products", trigger="on_demand")
    other_scope = queue.submit(tenant_id="t1", scope="stock", trigger="schedule")
    other_tenant = queue.submit(tenant_id="t2", scope="products", trigger="schedule")

    assert duplicate == type(duplicate)(first.run_id, created=False)
    assert other_scope.created
    assert other_tenant.created
    assert len(states(setup.engine)) == 3


def test_a_page_of_runs_is_one_tenants_newest_first(setup: Setup) -> None:
    clock = iter(datetime(2026, 11, 24, 12, minute, tzinfo=UTC) for minute in range(10))
    queue = setup.queue(clock=lambda: next(clock))  # type: ignore[arg-type]
    ids = [queue.submit(tenant_id="t1", scope=s, trigger="test", exclusive=False).run_id for s in ("a", "b", "a")]
    queue.submit(tenant_id="t2", scope="a", trigger="test")

    assert queue.page("t1", None, 1, 2) == ([queue.get("t1", ids[2]), queue.get("t1", ids[1])], 3)
    rows, total = queue.page("t1", "a", 1, 50)
    assert ([row["id"] for row in rows], total) == ([ids[2], ids[0]], 2)
    assert [row["id"] for row in queue.page("t1", None, 2, 2)[0]] == [ids[0]]
    assert queue.page("t3", None, 1, 50) == ([], 0)


def test_a_run_executes_once_and_records_its_outcome(setup: Setup) -> None:
    seen: list[str] = []

    def handler(context: RunContext) -> RunOutcome:
        seen.append(context.run_id)
        context.progress(1, 2)
        return RunOutcome(counts={"created": 2}, result={"note": "ok"})

    queue = setup.queue({"products": handler})
    submitted = queue.submit(tenant_id="t1", scope="products", trigger="test")
    queue.start_consumer(workers=2, poll_max_delay_s=0.1)
    try:
        wait_until(lambda: states(setup.engine)[submitted.run_id] == SUCCEEDED, 20, "the run to finish")
    finally:
        queue.stop_consumer()

    run = queue.get("t1", submitted.run_id)
    assert run is not None
    assert seen == [submitted.run_id]
    assert (run["counts"], run["result"], run["progress_done"], run["attempts"]) == (
        {"created": 2},
        {"note": "ok"},
        1,
        1,
    )
    assert run["exclusive_key"] is None  # the tenant may start the next run of this scope
    assert queue.get("another-tenant", submitted.run_id) is None
    assert queue.submit(tenant_id="t1", scope="products", trigger="test").created


def test_a_failing_handler_fails_its_run_only(setup: Setup) -> None:
    def handler(context: RunContext) -> RunOutcome:
        if context.tenant_id == "broken":
            raise RuntimeError("ikas answered nonsense")
        return RunOutcome()

    queue = setup.queue({"orders": handler})
    broken = queue.submit(tenant_id="broken", scope="orders", trigger="test")
    fine = queue.submit(tenant_id="fine", scope="orders", trigger="test")
    queue.start_consumer(workers=1, poll_max_delay_s=0.1)
    try:
        wait_until(lambda: set(states(setup.engine).values()) <= {SUCCEEDED, FAILED}, 20, "both runs to finish")
    finally:
        queue.stop_consumer()

    assert states(setup.engine) == {broken.run_id: FAILED, fine.run_id: SUCCEEDED}
    run = queue.get("broken", broken.run_id)
    assert run is not None
    assert run["errors"] == [{"message": "RuntimeError: ikas answered nonsense"}]


def test_a_run_whose_worker_vanished_is_queued_again_and_given_up_after_max_attempts(setup: Setup) -> None:
    queue = setup.queue(max_attempts=2)
    submitted = queue.submit(tenant_id="t1", scope="stock", trigger="test")
    expired = datetime.now(UTC) - timedelta(seconds=1)

    def vanish(attempts: int) -> None:  # what a worker that died mid-run leaves behind
        with setup.engine.begin() as connection:
            connection.execute(
                update(runs)
                .where(runs.c.id == submitted.run_id)
                .values(
                    state=RUNNING,
                    running_key="t1:stock",
                    lease_owner="dead",
                    lease_expires_at=expired,
                    attempts=attempts,
                )
            )

    vanish(attempts=1)
    queue.recover()
    assert states(setup.engine)[submitted.run_id] == QUEUED

    vanish(attempts=2)
    queue.recover()
    run = queue.get("t1", submitted.run_id)
    assert run is not None
    assert run["state"] == FAILED
    assert "stopped 2 times" in run["errors"][0]["message"]
    assert (run["running_key"], run["exclusive_key"]) == (None, None)


def start_consumer(setup: Setup, lease_s: float = 30.0) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [
            sys.executable,
            str(CONSUMER),
            "--database-url",
            setup.database_url,
            "--queue-name",
            setup.queue_name,
            "--data-dir",
            str(setup.data_dir),
            "--lease-s",
            str(lease_s),
            *(["--queue-url", setup.queue_url] if setup.queue_url else []),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "consumer ready"
    return process


@pytest.fixture
def consumers() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def test_two_consumers_run_100_jobs_of_10_tenants_each_once_never_two_of_a_tenant_at_once(
    setup: Setup, consumers: list[subprocess.Popen[str]]
) -> None:
    queue = setup.queue()
    run_ids = [f"run-{tenant}-{n}" for tenant in range(10) for n in range(10)]
    consumers.extend(start_consumer(setup) for _ in range(2))
    for run_id in run_ids:
        tenant = run_id.split("-")[1]
        for _ in range(2):  # every job is submitted twice: the second submit must change nothing
            queue.submit(tenant_id=f"t{tenant}", scope="demo", trigger="test", run_id=run_id, exclusive=False)

    wait_until(lambda: set(states(setup.engine).values()) == {SUCCEEDED}, 120, "all 100 runs to succeed")

    with setup.engine.begin() as connection:
        done = connection.execute(select(executions).order_by(executions.c.started)).all()
    assert sorted(row.run_id for row in done) == sorted(run_ids)  # each job ran exactly once
    assert {row.pid for row in done} == {process.pid for process in consumers}  # both consumers took work
    by_tenant: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for row in done:
        by_tenant[f"{row.tenant_id}:{row.scope}"].append((row.started, row.finished))
    for key, spans in by_tenant.items():
        for (_, previous_end), (next_start, _) in itertools.pairwise(spans):
            assert next_start >= previous_end, f"two runs of {key} overlapped"


def test_a_job_that_dies_with_its_worker_is_run_again_by_another(
    setup: Setup, consumers: list[subprocess.Popen[str]]
) -> None:
    queue = setup.queue()
    first = start_consumer(setup, lease_s=1.0)
    consumers.append(first)
    submitted = queue.submit(tenant_id="t1", scope="demo", trigger="test", payload={"hang": True})
    hanging = setup.data_dir / f"hanging-{first.pid}"
    wait_until(hanging.exists, 30, "the first consumer to start the run")

    os.killpg(first.pid, signal.SIGKILL)
    first.wait(10)
    with setup.engine.begin() as connection:  # the same run, this time it may finish
        connection.execute(update(runs).where(runs.c.id == submitted.run_id).values(payload={}))
    consumers.append(start_consumer(setup, lease_s=1.0))

    wait_until(lambda: states(setup.engine)[submitted.run_id] == SUCCEEDED, 60, "the run to be taken over")
    run = queue.get("t1", submitted.run_id)
    assert run is not None
    assert run["attempts"] == 2
    with setup.engine.begin() as connection:
        attempts = connection.execute(select(executions.c.pid, executions.c.finished)).all()
    assert [(pid == first.pid, finished is None) for pid, finished in attempts] == [(True, True), (False, False)]
