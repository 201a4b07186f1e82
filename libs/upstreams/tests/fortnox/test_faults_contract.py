"""The transport and client against the sandbox's faults: 429 bursts, 503s, timeouts, dropped
connections, expired tokens, malformed answers. Small retry delays keep these fast."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bridge_platform.errors import OutcomeUnknown, UpstreamUnavailable
from bridge_upstreams.fortnox.client import FortnoxClient
from bridge_upstreams.transport import RetryPolicy

DEMO_TENANT = "1001"
Fortnox = Any


@pytest.fixture
def impatient(sandbox_url: str, admin: Any, tmp_path: Path, make_fortnox: Any) -> Iterator[Fortnox]:
    """A client whose read timeout (0.5 s) is shorter than the injected delays (1.5 s)."""
    made = make_fortnox(sandbox_url, admin, tmp_path, read_timeout_s=0.5)
    yield made
    made.budget.close()
    made.http.close()


def test_injected_429_burst_is_retried_even_for_a_create(fortnox: Fortnox) -> None:
    fortnox.admin.fault("status", status=429, method="POST", path="^/3/articles$", times=3)
    created = fortnox.client.create_article(DEMO_TENANT, {"ArticleNumber": "R-429", "Description": "x"})
    assert created.number == "R-429"
    assert [event.reason for event in fortnox.retries] == ["429", "429", "429"]
    assert fortnox.transport.retries["429"] == 3


def test_sandbox_rate_limit_429s_are_recovered(sandbox_url: str, admin: Any, tmp_path: Path, make_fortnox: Any) -> None:
    """A budget misconfigured above Fortnox's limit meets real 429s from the sliding window; backoff wins."""
    admin.post("/rate-limit", {"limit": 5, "window_s": 1.0})
    made = make_fortnox(
        sandbox_url, admin, tmp_path, retry=RetryPolicy(max_attempts=8, base_delay_s=0.2, max_delay_s=1.0)
    )
    try:
        for _ in range(12):
            assert made.client.get_article(DEMO_TENANT, "FX-2001") is not None
        assert made.transport.retries["429"] > 0
    finally:
        made.budget.close()
        made.http.close()


def test_the_budget_keeps_below_the_sandbox_limit(
    sandbox_url: str, admin: Any, tmp_path: Path, make_fortnox: Any
) -> None:
    """With the budget below the sandbox's limit (4 per 1 s vs 5 per 1 s), no 429 is ever provoked."""
    admin.post("/rate-limit", {"limit": 5, "window_s": 1.0})
    made = make_fortnox(sandbox_url, admin, tmp_path, rates=[(4, 1.0)])
    try:
        started = time.monotonic()
        for _ in range(10):
            made.client.get_article(DEMO_TENANT, "FX-2001")
        assert time.monotonic() - started >= 2.0
        assert made.transport.retries["429"] == 0
        assert all(call["status"] != 429 for call in admin.calls())
    finally:
        made.budget.close()
        made.http.close()


def test_503_on_a_read_is_retried(fortnox: Fortnox) -> None:
    fortnox.admin.fault("status", status=503, method="GET", path="/3/articles/", times=2)
    assert fortnox.client.get_article(DEMO_TENANT, "FX-2001") is not None
    assert [event.reason for event in fortnox.retries] == ["503", "503"]


def test_503_on_a_create_is_outcome_unknown(fortnox: Fortnox) -> None:
    fortnox.admin.fault("status", status=503, method="POST", path="^/3/articles$")
    with pytest.raises(OutcomeUnknown):
        fortnox.client.create_article(DEMO_TENANT, {"ArticleNumber": "R-503", "Description": "x"})
    # the caller's follow-up: look it up by its own key (the sandbox did not process it)
    assert fortnox.client.find_article(DEMO_TENANT, "R-503") is None


def test_persistent_503_gives_unavailable_with_the_status(fortnox: Fortnox) -> None:
    fortnox.admin.fault("status", status=503, method="GET", path="/3/companyinformation", times=10)
    with pytest.raises(UpstreamUnavailable) as caught:
        fortnox.client.company_information(DEMO_TENANT)
    assert caught.value.status == 503
    assert not isinstance(caught.value, OutcomeUnknown)


def test_timeout_on_a_read_is_retried(impatient: Fortnox) -> None:
    impatient.admin.fault("delay", delay_s=1.5, method="GET", path="/3/articles/")
    assert impatient.client.get_article(DEMO_TENANT, "FX-2001") is not None
    assert impatient.retries[0].reason == "ReadTimeout"


def test_timeout_on_a_create_is_outcome_unknown(impatient: Fortnox) -> None:
    impatient.admin.fault("delay", delay_s=1.5, method="POST", path="^/3/articles$")
    with pytest.raises(OutcomeUnknown):
        impatient.client.create_article(DEMO_TENANT, {"ArticleNumber": "R-SLOW", "Description": "x"})
    assert len(impatient.admin.calls("POST", "/3/articles")) <= 1  # never repeated


def test_timeout_on_a_create_still_creates_the_article(impatient: Fortnox) -> None:
    impatient.admin.fault("delay", delay_s=1.5, method="POST", path="^/3/articles$")
    with pytest.raises(OutcomeUnknown):
        impatient.client.create_article(DEMO_TENANT, {"ArticleNumber": "R-SLOW", "Description": "x"})
    deadline = time.monotonic() + 5
    found = None
    while found is None and time.monotonic() < deadline:
        time.sleep(0.2)
        found = impatient.client.find_article(DEMO_TENANT, "R-SLOW")
    assert found is not None


def test_dropped_connection_after_a_create_is_outcome_unknown_and_found_afterwards(fortnox: Fortnox) -> None:
    fortnox.admin.fault("drop_after", method="POST", path="^/3/articles$")
    with pytest.raises(OutcomeUnknown):
        fortnox.client.create_article(DEMO_TENANT, {"ArticleNumber": "R-DROP", "Description": "x"})
    found = fortnox.client.find_article(DEMO_TENANT, "R-DROP")
    assert found is not None
    assert found.number == "R-DROP"


def test_dropped_connection_on_a_read_is_retried(fortnox: Fortnox) -> None:
    fortnox.admin.fault("drop_after", method="GET", path="/3/articles/")
    assert fortnox.client.get_article(DEMO_TENANT, "FX-2001") is not None
    assert fortnox.retries[0].reason == "RemoteProtocolError"


def test_expired_token_is_refreshed_once_and_the_call_succeeds(fortnox: Fortnox) -> None:
    c: FortnoxClient = fortnox.client
    assert c.get_article(DEMO_TENANT, "FX-2001") is not None
    first_token = fortnox.tokens.access[DEMO_TENANT]
    fortnox.admin.post("/clock", {"advance_s": 3700})  # past the 1 h lifetime
    assert c.get_article(DEMO_TENANT, "FX-2001") is not None
    assert fortnox.tokens.rejected == [(DEMO_TENANT, first_token)]
    assert fortnox.tokens.access[DEMO_TENANT] != first_token
    assert [event.reason for event in fortnox.retries] == ["401-refresh"]


def test_malformed_answer_to_a_read_is_a_clear_error(fortnox: Fortnox) -> None:
    fortnox.admin.fault("malformed", method="GET", path="/3/articles/")
    with pytest.raises(UpstreamUnavailable) as caught:
        fortnox.client.get_article(DEMO_TENANT, "FX-2001")
    assert not isinstance(caught.value, OutcomeUnknown)
    assert "could not be read" in caught.value.detail


def test_malformed_answer_to_a_create_is_outcome_unknown(fortnox: Fortnox) -> None:
    fortnox.admin.fault("malformed", method="POST", path="^/3/articles$")
    with pytest.raises(OutcomeUnknown):
        fortnox.client.create_article(DEMO_TENANT, {"ArticleNumber": "R-BAD", "Description": "x"})
    assert fortnox.client.find_article(DEMO_TENANT, "R-BAD") is not None


def test_malformed_page_is_a_clear_error(fortnox: Fortnox) -> None:
    fortnox.admin.fault("malformed", method="GET", path="^/3/articles$")
    with pytest.raises(UpstreamUnavailable):
        list(fortnox.client.iter_articles(DEMO_TENANT))
