"""The per-tenant request budget for one upstream, shared by every process that calls it.

Fortnox allows 25 requests per 5 s per tenant (a sliding window) and ikas about 50 per 10 s; Bridge
stays below both (20/5 s, 40/10 s by default) so that it never provokes 429s, whichever of its
processes makes the calls. The budget is a sliding-window log in pyrate-limiter buckets, one bucket
per key (`f"{upstream}:{tenant_id}"`):

- production: Redis at `BRIDGE_RATE_BUDGET_URL` (a `RedisBucket` per key; the check-and-insert is one
  Lua script, so every replica on every machine shares the window);
- local mode: one SQLite file per upstream under the data directory, `rate-budget-<upstream>.db`,
  one table per key, every check-and-insert under an exclusive `flock` on `<file>.lock`, so every
  process on the machine shares the window.

Each admitted request is stamped inside the critical section (SQLite) or immediately before it
(Redis), and every window is widened by `guard_s` (0.2 s): the time between being admitted and the
request leaving the process never lets a real window of the nominal length hold more than `limit`.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Final

from pyrate_limiter import AbstractBucket, BucketFactory, Limiter, Rate, RateItem, RedisBucket, SQLiteBucket
from pyrate_limiter.buckets.redis_bucket import LuaScript
from redis.exceptions import NoScriptError, RedisError

from bridge_platform.errors import UpstreamUnavailable

FORTNOX_RATES: Final[list[tuple[int, float]]] = [(20, 5.0)]
"""Fortnox: 20 requests per 5 s per tenant (the real limit is 25 per 5 s, sliding)."""
IKAS_RATES: Final[list[tuple[int, float]]] = [(40, 10.0)]
"""ikas: 40 requests per 10 s per store (the real limit is about 50 per 10 s)."""
DEFAULT_GUARD_S: Final = 0.2
DEFAULT_REDIS_PREFIX: Final = "bridge:rate-budget:"

_MIN_SLEEP_S: Final = 0.005


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class _InterProcessLock:
    """A reentrant lock that also excludes other processes: a thread lock around `flock` on a file."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if not self._thread_lock.acquire(blocking, timeout):
            return False
        if self._depth == 0:
            if self._fd is None:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        self._depth += 1
        return True

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread_lock.release()

    def close(self) -> None:
        with self._thread_lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> _InterProcessLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class _StampedSQLiteBucket(SQLiteBucket):
    """A SQLiteBucket that stamps each item inside the inter-process lock.

    Stamped outside it, a process that waited for the lock would record a time earlier than its
    admission, and the window would slide open early.
    """

    def put(self, item: RateItem) -> bool:
        with self.lock:
            item.timestamp = self.now()
            return bool(super().put(item))


_ZCOUNT_UP_TO_NOW: Final = "redis.call('ZCOUNT', bucket, window_start, now)"
_ZCOUNT_ALL_NEWER: Final = "redis.call('ZCOUNT', bucket, window_start, '+inf')"
if _ZCOUNT_UP_TO_NOW not in LuaScript.PUT_ITEM:  # pragma: no cover - a pyrate-limiter upgrade changed the script
    raise ImportError("pyrate_limiter's Redis script changed; review bridge_upstreams.rate_budget")
PUT_ITEM_SCRIPT: Final = LuaScript.PUT_ITEM.replace(_ZCOUNT_UP_TO_NOW, _ZCOUNT_ALL_NEWER)
"""pyrate-limiter's check-and-insert, counting every entry from the window start on, not only those up to
the item's own timestamp: an item stamped a moment before another process's entries, but inserted after
them, would otherwise not see them and overfill the window (found by the two-process test)."""


class _StampedRedisBucket(RedisBucket):
    """A RedisBucket that stamps each item right before the script runs (not before the limiter's lock)."""

    def put(self, item: RateItem) -> bool:
        item.timestamp = self.now()
        try:
            return bool(super().put(item))
        except NoScriptError:  # Redis restarted and lost its script cache
            self.script_hash = str(self.redis.script_load(PUT_ITEM_SCRIPT))
            item.timestamp = self.now()
            return bool(super().put(item))


def _table_name(key: str) -> str:
    readable = re.sub(r"[^A-Za-z0-9_]", "_", key)[:40]
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return f"budget_{readable}_{digest}"


class _BudgetBuckets(BucketFactory):
    """Routes each key to its own bucket, created on first use."""

    def __init__(self, rates: list[Rate], make_bucket: Callable[[str], AbstractBucket]) -> None:
        self._rates = rates
        self._make_bucket = make_bucket
        self._buckets: dict[str, AbstractBucket] = {}
        self._lock = threading.Lock()

    def wrap_item(self, name: str, weight: int = 1) -> RateItem:
        return RateItem(name, _now_ms(), weight=weight)

    def get(self, item: RateItem) -> AbstractBucket:
        return self.bucket_for(item.name)

    def bucket_for(self, key: str) -> AbstractBucket:
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._make_bucket(key)
                self.schedule_leak(bucket)
                self._buckets[key] = bucket
            return bucket

    def owned_buckets(self) -> list[AbstractBucket]:
        return list(self._buckets.values())


class RateBudget:
    """One upstream's request budget, per key (`f"{upstream}:{tenant_id}"`), shared across processes."""

    def __init__(
        self,
        upstream: str,
        buckets: _BudgetBuckets,
        *,
        sleep: Callable[[float], None] = time.sleep,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.upstream = upstream
        self._buckets = buckets
        self._limiter = Limiter(buckets)
        self._sleep = sleep
        self._on_close = on_close

    def acquire(self, key: str, *, timeout_s: float) -> None:
        """Blocks until `key` may send one request; raises UpstreamUnavailable after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if self._limiter.try_acquire(key, blocking=False):
                    return
                hint_s = self._wait_hint_s(key)
            except (sqlite3.Error, OSError, RedisError) as error:
                raise UpstreamUnavailable(self.upstream, f"rate budget store unavailable: {error}") from error
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise UpstreamUnavailable(self.upstream, "rate budget exhausted")
            self._sleep(min(max(hint_s, _MIN_SLEEP_S), remaining))

    def _wait_hint_s(self, key: str) -> float:
        bucket = self._buckets.bucket_for(key)
        wait_ms = bucket.waiting(RateItem(key, _now_ms()))
        return wait_ms / 1000 if isinstance(wait_ms, int) and wait_ms > 0 else 0.0

    def close(self) -> None:
        self._limiter.close()
        if self._on_close is not None:
            self._on_close()

    def __enter__(self) -> RateBudget:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _to_rates(rates: list[tuple[int, float]], guard_s: float) -> list[Rate]:
    if not rates:
        raise ValueError("a rate budget needs at least one rate")
    return [Rate(limit, round((interval_s + guard_s) * 1000)) for limit, interval_s in rates]


def make_rate_budget(
    upstream: str,
    rates: list[tuple[int, float]],
    *,
    url: str | None,
    data_dir: Path,
    redis_prefix: str = DEFAULT_REDIS_PREFIX,
    guard_s: float = DEFAULT_GUARD_S,
) -> RateBudget:
    """The budget for `upstream`: `rates` are (limit, interval in seconds) pairs, all enforced.

    With `url` (BRIDGE_RATE_BUDGET_URL) the windows live in Redis under `redis_prefix`; without it in
    `data_dir/rate-budget-<upstream>.db`, shared by every process on this machine.
    """
    pyrate_rates = _to_rates(rates, guard_s)
    if url:
        from redis import Redis

        client = Redis.from_url(url)

        script_hash = str(client.script_load(PUT_ITEM_SCRIPT))

        def redis_bucket(key: str) -> AbstractBucket:
            return _StampedRedisBucket(pyrate_rates, client, f"{redis_prefix}{key}", script_hash)

        return RateBudget(upstream, _BudgetBuckets(pyrate_rates, redis_bucket), on_close=client.close)

    data_dir.mkdir(parents=True, exist_ok=True)
    db_path = data_dir / f"rate-budget-{upstream}.db"
    lock = _InterProcessLock(Path(f"{db_path}.lock"))
    with lock:
        conn = sqlite3.connect(db_path, isolation_level="DEFERRED", check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.commit()

    def sqlite_bucket(key: str) -> AbstractBucket:
        table = _table_name(key)
        with lock:
            conn.execute(f"CREATE TABLE IF NOT EXISTS '{table}' (name VARCHAR, item_timestamp INTEGER)")
            conn.execute(f"CREATE INDEX IF NOT EXISTS 'idx_{table}' ON '{table}' (item_timestamp)")
            conn.commit()
        return _StampedSQLiteBucket(pyrate_rates, conn, table, lock=lock)

    def close() -> None:
        with lock:
            conn.close()
        lock.close()

    return RateBudget(upstream, _BudgetBuckets(pyrate_rates, sqlite_bucket), on_close=close)
