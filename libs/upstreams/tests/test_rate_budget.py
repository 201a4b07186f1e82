"""The rate budget: admits `limit` per window, delays the next, keeps tenants apart, and holds
across processes (SQLite file locally, Redis in production)."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bridge_platform.errors import UpstreamUnavailable
from bridge_upstreams.rate_budget import FORTNOX_RATES, IKAS_RATES, RateBudget, make_rate_budget

REDIS_URL = "redis://127.0.0.1:6379/0"
WORKER = Path(__file__).with_name("budget_worker.py")


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


BACKENDS = ["sqlite", pytest.param("redis", marks=pytest.mark.skipif(not redis_available(), reason="no Redis"))]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str | None, str]]:
    """(url, redis key prefix) for one backend; the prefix is unique per test."""
    prefix = f"bridge-test:{uuid.uuid4().hex}:"
    url = REDIS_URL if request.param == "redis" else None
    yield url, prefix
    if url:
        client = redis.Redis.from_url(url)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
        client.close()


def make(tmp_path: Path, backend: tuple[str | None, str], limit: int, interval_s: float) -> RateBudget:
    url, prefix = backend
    return make_rate_budget("test", [(limit, interval_s)], url=url, data_dir=tmp_path, redis_prefix=prefix)


def max_in_any_window(stamps: list[float], window_s: float) -> int:
    """The most timestamps in any closed window of `window_s` (every window starting at a stamp)."""
    ordered = sorted(stamps)
    best, low = 0, 0
    for high, stamp in enumerate(ordered):
        while stamp - ordered[low] > window_s:
            low += 1
        best = max(best, high - low + 1)
    return best


def test_defaults_stay_below_the_real_limits() -> None:
    assert FORTNOX_RATES == [(20, 5.0)]
    assert IKAS_RATES == [(40, 10.0)]


def test_admits_limit_then_delays_the_next(tmp_path: Path, backend: tuple[str | None, str]) -> None:
    with make(tmp_path, backend, 5, 0.5) as budget:
        started = time.monotonic()
        for _ in range(5):
            budget.acquire("test:t1", timeout_s=1)
        assert time.monotonic() - started < 0.3
        budget.acquire("test:t1", timeout_s=2)
        assert time.monotonic() - started >= 0.5


def test_times_out_with_unavailable(tmp_path: Path, backend: tuple[str | None, str]) -> None:
    with make(tmp_path, backend, 2, 30.0) as budget:
        budget.acquire("test:t1", timeout_s=1)
        budget.acquire("test:t1", timeout_s=1)
        started = time.monotonic()
        with pytest.raises(UpstreamUnavailable, match="rate budget exhausted") as caught:
            budget.acquire("test:t1", timeout_s=0.2)
        assert caught.value.upstream == "test"
        assert 0.15 <= time.monotonic() - started < 1.0


def test_two_tenants_do_not_share(tmp_path: Path, backend: tuple[str | None, str]) -> None:
    with make(tmp_path, backend, 3, 30.0) as budget:
        for _ in range(3):
            budget.acquire("test:t1", timeout_s=1)
        started = time.monotonic()
        for _ in range(3):
            budget.acquire("test:t2", timeout_s=1)
        assert time.monotonic() - started < 0.3
        with pytest.raises(UpstreamUnavailable):
            budget.acquire("test:t1", timeout_s=0.05)


def test_two_budget_objects_share_one_store(tmp_path: Path, backend: tuple[str | None, str]) -> None:
    with make(tmp_path, backend, 3, 30.0) as first, make(tmp_path, backend, 3, 30.0) as second:
        first.acquire("test:t1", timeout_s=1)
        second.acquire("test:t1", timeout_s=1)
        first.acquire("test:t1", timeout_s=1)
        with pytest.raises(UpstreamUnavailable):
            second.acquire("test:t1", timeout_s=0.05)


def test_two_processes_never_exceed_the_limit_in_any_window(tmp_path: Path, backend: tuple[str | None, str]) -> None:
    url, prefix = backend
    limit, interval_s, calls = 8, 0.5, 18
    start_at = time.time() + 1.5  # both processes are loaded and waiting before the first call
    args = [str(tmp_path), url or "-", prefix, "test:shared", str(calls), str(limit), str(interval_s), f"{start_at}"]
    workers = [
        subprocess.Popen([sys.executable, str(WORKER), *args], stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outputs = [worker.communicate(timeout=60)[0] for worker in workers]
    assert all(worker.returncode == 0 for worker in workers)
    per_worker = [[float(line) for line in output.split()] for output in outputs]
    assert [len(stamps) for stamps in per_worker] == [calls, calls]
    stamps = [stamp for worker_stamps in per_worker for stamp in worker_stamps]

    ordered = sorted((stamp, index) for index, worker_stamps in enumerate(per_worker) for stamp in worker_stamps)
    timeline = [(index, round(stamp - ordered[0][0], 4)) for stamp, index in ordered]
    assert max_in_any_window(stamps, interval_s) <= limit, timeline
    # Both really competed: their admission periods overlap, and the pair was throttled together.
    first, second = per_worker
    assert max(min(first), min(second)) < min(max(first), max(second))
    assert max(stamps) - min(stamps) >= (2 * calls // limit - 1) * interval_s


def test_max_in_any_window() -> None:
    assert max_in_any_window([0.0, 0.1, 0.2, 1.0, 1.05], 0.5) == 3
    assert max_in_any_window([0.0, 0.5, 1.0], 0.5) == 2
