"""A run-queue consumer process for the multi-process tests of bridge_platform.jobs.

Its handler records each execution (start and finish, with the process id) in an `executions`
table of the same database, so the test can prove exactly-once execution and that no two runs of
one tenant and scope ever overlapped. A run whose payload says `"hang": true` never finishes here,
so the test can kill this process in the middle of it.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import threading
import time
from pathlib import Path

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, insert, update

from bridge_platform.db import make_engine, new_metadata
from bridge_platform.jobs import RunContext, RunOutcome, RunQueue, define_runs_table, make_huey

executions_metadata = MetaData()
executions = Table(
    "executions",
    executions_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False),
    Column("tenant_id", String(64), nullable=False),
    Column("scope", String(32), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started", Float, nullable=False),
    Column("finished", Float, nullable=True),
)
runs_metadata = new_metadata()
runs = define_runs_table(runs_metadata)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--queue-url", default=None)
    parser.add_argument("--queue-name", required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--lease-s", type=float, default=30.0)
    arguments = parser.parse_args()
    engine = make_engine(arguments.database_url)

    def handler(context: RunContext) -> RunOutcome:
        with engine.begin() as connection:
            inserted = connection.execute(
                insert(executions).values(
                    run_id=context.run_id,
                    tenant_id=context.tenant_id,
                    scope=context.scope,
                    pid=os.getpid(),
                    started=time.time(),
                )
            ).inserted_primary_key
        assert inserted is not None
        execution_id = inserted[0]
        if context.payload.get("hang"):
            Path(arguments.data_dir, f"hanging-{os.getpid()}").write_text(context.run_id)
            time.sleep(3600)
        time.sleep(random.uniform(0.005, 0.03))
        with engine.begin() as connection:
            connection.execute(update(executions).where(executions.c.id == execution_id).values(finished=time.time()))
        return RunOutcome(counts={"done": 1})

    huey = make_huey(arguments.queue_name, queue_url=arguments.queue_url, data_dir=Path(arguments.data_dir))
    queue = RunQueue(
        huey=huey,
        engine=engine,
        table=runs,
        handlers={"demo": handler},
        lease_s=arguments.lease_s,
        redeliver_after_s=2.0,
        busy_retry_s=0.2,
    )
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    queue.start_consumer(workers=2, poll_max_delay_s=0.2)
    print("consumer ready", flush=True)
    stopping.wait()
    queue.stop_consumer()


if __name__ == "__main__":
    main()
