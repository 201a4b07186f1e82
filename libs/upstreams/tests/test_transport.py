"""UpstreamTransport: every branch, over httpx.MockTransport, with a fake sleep (instant)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from bridge_platform.errors import OutcomeUnknown, UpstreamRejected, UpstreamUnavailable
from bridge_upstreams.rate_budget import RateBudget, make_rate_budget
from bridge_upstreams.transport import RetryEvent, RetryPolicy, UpstreamTransport, retries_of, retry_after_s


class FakeTokens:
    def __init__(self) -> None:
        self.generation = 1
        self.rejected: list[tuple[str, str]] = []

    def access_token(self, tenant_id: str) -> str:
        return f"{tenant_id}-token-{self.generation}"

    def report_rejected(self, tenant_id: str, token: str) -> None:
        self.rejected.append((tenant_id, token))
        self.generation += 1


Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def budget(tmp_path: Path) -> Iterator[RateBudget]:
    with make_rate_budget("test", [(1000, 1.0)], url=None, data_dir=tmp_path) as made:
        yield made


class Harness:
    def __init__(self, budget: RateBudget, handlers: list[Handler], policy: RetryPolicy | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []
        self.events: list[RetryEvent] = []
        self.tokens = FakeTokens()
        remaining = list(handlers)

        def handle(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            handler = remaining.pop(0) if len(remaining) > 1 else remaining[0]
            return handler(request)

        self.transport = UpstreamTransport(
            upstream="fortnox",
            http=httpx.Client(transport=httpx.MockTransport(handle), base_url="https://api.example"),
            tokens=self.tokens,
            budget=budget,
            retry=policy or RetryPolicy(),
            sleep=self.sleeps.append,
            on_retry=self.events.append,
            jitter=lambda low, high: high,  # deterministic: the cap
        )

    def send(self, method: str = "GET", *, safe: bool = True, **kwargs: object) -> httpx.Response:
        return self.transport.send("t1", method, "/3/articles", safe_to_repeat=safe, **kwargs)  # type: ignore[arg-type]


def status(code: int, headers: dict[str, str] | None = None, body: object = None) -> Handler:
    return lambda request: httpx.Response(code, headers=headers, json=body if body is not None else {})


def raises(error: type[httpx.TransportError]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error("boom", request=request)

    return handler


def test_success_sends_bearer_token_and_body(budget: RateBudget) -> None:
    h = Harness(budget, [status(200, body={"ok": True})])
    response = h.send("POST", safe=False, json={"Article": {"Description": "x"}}, params={"a": "1"}, headers={"X": "y"})
    assert response.json() == {"ok": True}
    request = h.requests[0]
    assert request.headers["Authorization"] == "Bearer t1-token-1"
    assert request.headers["X"] == "y"
    assert request.url.params["a"] == "1"
    assert request.content == b'{"Article":{"Description":"x"}}' or b'"Description"' in request.content
    assert retries_of(response) == 0
    assert h.sleeps == []


def test_form_data_is_sent(budget: RateBudget) -> None:
    h = Harness(budget, [status(200)])
    h.send("POST", safe=False, data={"grant_type": "x"})
    assert h.requests[0].content == b"grant_type=x"


@pytest.mark.parametrize("code", [200, 201, 204, 400, 403, 404, 500])
def test_other_statuses_are_returned(budget: RateBudget, code: int) -> None:
    h = Harness(budget, [status(code)])
    assert h.send("POST", safe=False).status_code == code
    assert len(h.requests) == 1


def test_401_refreshes_once_then_succeeds(budget: RateBudget) -> None:
    h = Harness(budget, [status(401, body={"message": "unauthorized"}), status(200)])
    response = h.send()
    assert response.status_code == 200
    assert h.tokens.rejected == [("t1", "t1-token-1")]
    assert [r.headers["Authorization"] for r in h.requests] == ["Bearer t1-token-1", "Bearer t1-token-2"]
    assert h.sleeps == []
    assert retries_of(response) == 1
    assert h.transport.retries["401-refresh"] == 1


def test_second_401_asks_to_reconnect(budget: RateBudget) -> None:
    h = Harness(budget, [status(401)])
    with pytest.raises(UpstreamRejected) as caught:
        h.send("POST", safe=False)
    assert caught.value.status == 401
    assert "reconnect" in caught.value.detail
    assert len(h.requests) == 2
    assert len(h.tokens.rejected) == 1


def test_429_is_retried_with_capped_exponential_backoff_even_for_writes(budget: RateBudget) -> None:
    h = Harness(budget, [status(429), status(429), status(429), status(201)], RetryPolicy(4, 0.5, 1.5))
    response = h.send("POST", safe=False)
    assert response.status_code == 201
    assert h.sleeps == [0.5, 1.0, 1.5]
    assert retries_of(response) == 3
    assert [e.reason for e in h.events] == ["429", "429", "429"]
    assert h.transport.retries["429"] == 3


def test_full_jitter_draws_between_zero_and_the_cap() -> None:
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=8.0)
    seen: list[tuple[float, float]] = []

    def record(low: float, high: float) -> float:
        seen.append((low, high))
        return 0.0

    policy.backoff_s(6, record)
    assert seen == [(0.0, 8.0)]
    assert all(0 <= policy.backoff_s(n) <= min(8.0, 0.5 * 2 ** (n - 1)) for n in range(1, 10) for _ in range(20))


def test_429_honours_retry_after(budget: RateBudget) -> None:
    h = Harness(budget, [status(429, {"Retry-After": "3"}), status(200)])
    assert h.send().status_code == 200
    assert h.sleeps == [3.0]


def test_retry_after_as_http_date() -> None:
    response = httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    from datetime import UTC, datetime

    assert retry_after_s(response, now=lambda: datetime(2015, 10, 21, 7, 27, 50, tzinfo=UTC)) == 10.0
    assert retry_after_s(httpx.Response(429, headers={"Retry-After": "soon"})) is None
    assert retry_after_s(httpx.Response(429)) is None


def test_429_until_exhausted_is_unavailable(budget: RateBudget) -> None:
    h = Harness(budget, [status(429)])
    with pytest.raises(UpstreamUnavailable) as caught:
        h.send("POST", safe=False)
    assert caught.value.status == 429
    assert not isinstance(caught.value, OutcomeUnknown)
    assert len(h.requests) == 4


@pytest.mark.parametrize("code", [502, 503, 504])
def test_5xx_retried_when_safe(budget: RateBudget, code: int) -> None:
    h = Harness(budget, [status(code), status(200)])
    assert h.send().status_code == 200
    assert len(h.requests) == 2


@pytest.mark.parametrize("code", [502, 503, 504])
def test_5xx_on_unsafe_write_is_outcome_unknown(budget: RateBudget, code: int) -> None:
    h = Harness(budget, [status(code), status(201)])
    with pytest.raises(OutcomeUnknown) as caught:
        h.send("POST", safe=False)
    assert caught.value.status == code
    assert len(h.requests) == 1


def test_5xx_until_exhausted_reports_last_status(budget: RateBudget) -> None:
    h = Harness(budget, [status(502), status(503), status(504), status(503)])
    with pytest.raises(UpstreamUnavailable) as caught:
        h.send()
    assert caught.value.status == 503
    assert not isinstance(caught.value, OutcomeUnknown)
    assert len(h.requests) == 4


@pytest.mark.parametrize(
    "error", [httpx.ReadTimeout, httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.RemoteProtocolError]
)
def test_transport_errors_retried_when_safe(budget: RateBudget, error: type[httpx.TransportError]) -> None:
    h = Harness(budget, [raises(error), status(200)])
    response = h.send()
    assert response.status_code == 200
    assert retries_of(response) == 1
    assert h.events[0].reason == error.__name__


@pytest.mark.parametrize("error", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
def test_write_that_never_left_is_unavailable_not_unknown(
    budget: RateBudget, error: type[httpx.TransportError]
) -> None:
    h = Harness(budget, [raises(error)])
    with pytest.raises(UpstreamUnavailable) as caught:
        h.send("POST", safe=False)
    assert not isinstance(caught.value, OutcomeUnknown)
    assert len(h.requests) == 1


@pytest.mark.parametrize(
    "error", [httpx.ReadTimeout, httpx.WriteTimeout, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError]
)
def test_write_whose_answer_was_lost_is_outcome_unknown(budget: RateBudget, error: type[httpx.TransportError]) -> None:
    h = Harness(budget, [raises(error), status(201)])
    with pytest.raises(OutcomeUnknown):
        h.send("POST", safe=False)
    assert len(h.requests) == 1


def test_transport_errors_until_exhausted(budget: RateBudget) -> None:
    h = Harness(budget, [raises(httpx.ReadTimeout)], RetryPolicy(max_attempts=3))
    with pytest.raises(UpstreamUnavailable) as caught:
        h.send()
    assert not isinstance(caught.value, OutcomeUnknown)
    assert "ReadTimeout" in caught.value.detail
    assert len(h.requests) == 3
    assert len(h.sleeps) == 2


def test_budget_is_spent_before_every_attempt(tmp_path: Path) -> None:
    class CountingBudget:
        def __init__(self) -> None:
            self.keys: list[str] = []

        def acquire(self, key: str, *, timeout_s: float) -> None:
            self.keys.append(key)

    counting = CountingBudget()
    h = Harness(counting, [status(503), status(401), status(200)])  # type: ignore[arg-type]
    h.send()
    assert counting.keys == ["fortnox:t1"] * 3


def test_budget_exhausted_is_unavailable(tmp_path: Path) -> None:
    with make_rate_budget("test", [(1, 60.0)], url=None, data_dir=tmp_path) as tight:
        h = Harness(tight, [status(200)])
        h.transport = UpstreamTransport(
            upstream="fortnox", http=h.transport.http, tokens=h.tokens, budget=tight, budget_timeout_s=0.05
        )
        h.send()
        with pytest.raises(UpstreamUnavailable, match="rate budget exhausted"):
            h.send()
