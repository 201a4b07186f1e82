"""One HTTP call to an upstream on behalf of one tenant: budget, token, retries that are safe.

`UpstreamTransport.send` is the only place where Bridge's upstream clients touch the network:

- it spends one unit of the tenant's rate budget before every attempt;
- it adds `Authorization: Bearer <token>` from the `TokenSource`; on a 401 it reports the token as
  rejected once and repeats once with the new one (a second 401 means: reconnect);
- a 429 was never processed, so it is retried (also for writes) with capped exponential backoff
  and full jitter, honouring `Retry-After`;
- 502/503/504, timeouts and dropped connections are retried only when the call is safe to repeat
  (reads, and writes the caller marks idempotent). For any other write it raises
  `UpstreamUnavailable` when the request certainly never reached the server, else `OutcomeUnknown`,
  so the caller looks its write up by its own key before trying again;
- any other status is returned for the caller to translate.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import httpx

from bridge_platform.errors import OutcomeUnknown, UpstreamRejected, UpstreamUnavailable
from bridge_upstreams.rate_budget import RateBudget
from bridge_upstreams.tokens import TokenSource

logger = logging.getLogger(__name__)

RETRYABLE_STATUSES: Final = frozenset({502, 503, 504})
NEVER_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Transport errors after which the request certainly never reached the server."""
MAX_RETRY_AFTER_S: Final = 120.0
RETRIES_EXTENSION: Final = "bridge.retries"
"""`response.extensions[RETRIES_EXTENSION]`: how many times this call was repeated (int)."""


@dataclass(frozen=True)
class RetryPolicy:
    """At most `max_attempts` attempts; the n-th retry waits a random time in
    [0, min(max_delay_s, base_delay_s * 2**(n-1))] (full jitter), or `Retry-After` when given."""

    max_attempts: int = 4
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0

    def backoff_s(self, retry_number: int, rng: Callable[[float, float], float] = random.uniform) -> float:
        cap = min(self.max_delay_s, self.base_delay_s * 2 ** max(retry_number - 1, 0))
        return rng(0.0, cap)


@dataclass(frozen=True)
class RetryEvent:
    """One repeat of a call, for metrics (issue #11): never carries tokens or payloads."""

    upstream: str
    tenant_id: str
    method: str
    reason: str  # "429", "503", "ReadTimeout", "401-refresh", ...
    attempt: int  # the attempt that failed, 1-based
    delay_s: float


def retry_after_s(response: httpx.Response, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> float | None:
    """The response's `Retry-After` in seconds (delta-seconds or an HTTP date), or None."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now()).total_seconds())


class UpstreamTransport:
    """Sends requests to one upstream for many tenants; see the module docstring for the rules.

    `retries` counts repeats by reason over the transport's life; `on_retry` (optional) hears each
    one; the response of a call carries its own count in `extensions["bridge.retries"]`.
    """

    def __init__(
        self,
        *,
        upstream: str,
        http: httpx.Client,
        tokens: TokenSource,
        budget: RateBudget,
        retry: RetryPolicy = RetryPolicy(),
        budget_timeout_s: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: Callable[[RetryEvent], None] | None = None,
        jitter: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.upstream = upstream
        self.http = http
        self._tokens = tokens
        self._budget = budget
        self._retry = retry
        self._budget_timeout_s = budget_timeout_s
        self._sleep = sleep
        self._on_retry = on_retry
        self._jitter = jitter
        self._lock = threading.Lock()
        self.retries: Counter[str] = Counter()

    def send(
        self,
        tenant_id: str,
        method: str,
        url: str,
        *,
        safe_to_repeat: bool,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        """Sends one call and returns its final response (any status but 401, 429, and the retried ones).

        Raises UpstreamRejected(status=401) when a refreshed token is rejected too, UpstreamUnavailable
        when the budget, the network or the upstream gives out, OutcomeUnknown when a write that is
        not safe to repeat may or may not have happened. `content` is a ready body (e.g. JSON with exact
        decimals) for callers that set their own Content-Type.
        """
        key = f"{self.upstream}:{tenant_id}"
        attempt = 0
        repeats = 0
        refreshed = False
        while True:
            attempt += 1
            self._budget.acquire(key, timeout_s=self._budget_timeout_s)
            token = self._tokens.access_token(tenant_id)
            request_headers = {**(headers or {}), "Authorization": f"Bearer {token}"}
            try:
                response = self.http.request(
                    method, url, json=json, params=params, data=data, content=content, headers=request_headers
                )
            except httpx.TransportError as error:
                reason = type(error).__name__
                if not safe_to_repeat:
                    if isinstance(error, NEVER_SENT):
                        raise UpstreamUnavailable(
                            self.upstream, f"{method} {_path(url)} never reached {self.upstream}: {reason}"
                        ) from error
                    raise OutcomeUnknown(
                        self.upstream, f"{method} {_path(url)} was sent but its answer was lost: {reason}"
                    ) from error
                if attempt >= self._retry.max_attempts:
                    raise UpstreamUnavailable(
                        self.upstream, f"{method} {_path(url)} failed {attempt} times; last: {reason}"
                    ) from error
                self._pause(tenant_id, method, reason, attempt, self._retry.backoff_s(attempt, self._jitter))
                repeats += 1
                continue

            status = response.status_code
            if status == 401:
                response.close()
                if refreshed:
                    raise UpstreamRejected(
                        self.upstream,
                        f"{self.upstream} rejected the connection's access token even after a refresh; "
                        f"reconnect {self.upstream} in Bridge's settings",
                        status=401,
                        extra={"hint": f"reconnect {self.upstream}"},
                    )
                self._tokens.report_rejected(tenant_id, token)
                refreshed = True
                attempt -= 1  # a refreshed token is a new start, not a spent attempt
                self._count(tenant_id, method, "401-refresh", attempt + 1, 0.0)
                repeats += 1
                continue

            if status == 429 or status in RETRYABLE_STATUSES:
                if status != 429 and not safe_to_repeat:
                    response.close()
                    raise OutcomeUnknown(
                        self.upstream,
                        f"{method} {_path(url)} answered {status}; the write may or may not have happened",
                        status=status,
                    )
                if attempt >= self._retry.max_attempts:
                    response.close()
                    raise UpstreamUnavailable(
                        self.upstream,
                        f"{method} {_path(url)} answered {status} {attempt} times"
                        + ("; rate limited" if status == 429 else ""),
                        status=status,
                    )
                hinted = retry_after_s(response)
                delay = min(hinted, MAX_RETRY_AFTER_S) if hinted is not None else None
                if delay is None:
                    delay = self._retry.backoff_s(attempt, self._jitter)
                response.close()
                self._pause(tenant_id, method, str(status), attempt, delay)
                repeats += 1
                continue

            response.extensions[RETRIES_EXTENSION] = repeats
            return response

    def _pause(self, tenant_id: str, method: str, reason: str, attempt: int, delay_s: float) -> None:
        self._count(tenant_id, method, reason, attempt, delay_s)
        logger.info(
            "retrying upstream call",
            extra={"upstream": self.upstream, "reason": reason, "attempt": attempt, "delay_s": round(delay_s, 3)},
        )
        self._sleep(delay_s)

    def _count(self, tenant_id: str, method: str, reason: str, attempt: int, delay_s: float) -> None:
        with self._lock:
            self.retries[reason] += 1
        if self._on_retry is not None:
            self._on_retry(RetryEvent(self.upstream, tenant_id, method, reason, attempt, delay_s))


def retries_of(response: httpx.Response) -> int:
    """How many times the call that produced `response` was repeated."""
    value = response.extensions.get(RETRIES_EXTENSION, 0)
    return value if isinstance(value, int) else 0


def _path(url: str) -> str:
    """The URL without its query (which may carry e-mail addresses)."""
    return url.split("?", 1)[0]
