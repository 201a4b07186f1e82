"""The built-in scheduler of local mode: every job on its interval, a failing job retried next time."""

from __future__ import annotations

import threading
import time

from bridge_platform.service_main import LocalScheduler, ScheduledJob
from bridge_platform.settings import BridgeSettings


def test_jobs_run_on_their_interval_and_a_failure_does_not_stop_them() -> None:
    runs: list[str] = []
    done = threading.Event()

    def flaky(_settings: BridgeSettings) -> str:
        runs.append("flaky")
        if len(runs) == 1:
            raise RuntimeError("the service was still starting")
        if runs.count("flaky") >= 3:
            done.set()
        return "ok"

    scheduler = LocalScheduler([ScheduledJob("flaky", 0.05, flaky)], BridgeSettings())
    scheduler.start()
    try:
        assert done.wait(5)
    finally:
        scheduler.stop()
    count = len(runs)
    time.sleep(0.2)

    assert len(runs) == count  # stopped means stopped
