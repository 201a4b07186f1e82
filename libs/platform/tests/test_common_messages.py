"""bridge_platform.common_messages: exact Money in minor units per currency, and a ledger run as a Run message."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from google.protobuf import json_format

from bridge.common.v1 import common_pb2
from bridge_platform.common_messages import entity_error, money_to_proto, run_to_proto, timestamp

AT = datetime(2026, 11, 24, 12, 0, 0, 250000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("149.50", "SEK", 14950),
        ("0.01", "EUR", 1),
        ("1500", "JPY", 1500),
        ("1.234", "KWD", 1234),
        ("149.505", "SEK", 14951),  # finer than öre: half up
        ("-20.10", "SEK", -2010),
    ],
)
def test_money_is_exact_minor_units(amount: str, currency: str, minor: int) -> None:
    assert money_to_proto(Decimal(amount), currency) == common_pb2.Money(currency_code=currency, amount_minor=minor)


def test_times_keep_the_instant_and_none_stays_unset() -> None:
    stamp = timestamp(AT)
    assert stamp is not None
    assert stamp.ToDatetime(tzinfo=UTC) == AT
    assert timestamp(None) is None
    error = entity_error("Fortnox refused", None, "fix it", AT)
    assert (error.upstream_code, error.hint, error.at.ToDatetime(tzinfo=UTC)) == ("", "fix it", AT)


@dataclass(frozen=True)
class Run:
    id: str = "r-1"
    scope: str = "backfill"
    trigger: str = "on_demand"
    state: str = "partially_failed"
    progress_done: int = 3
    progress_total: int | None = 3
    counts: dict[str, int] = field(default_factory=lambda: {"created": 2, "failed": 1})
    errors: list[dict[str, Any]] = field(
        default_factory=lambda: [{"message": "order 1001: refused", "upstream_code": "2000433", "at": AT.isoformat()}]
    )
    result: dict[str, Any] = field(
        default_factory=lambda: {"planned": [{"action": "skip", "entity": "1001", "reason": "already in Fortnox"}]}
    )
    created_at: datetime = AT
    started_at: datetime | None = AT
    finished_at: datetime | None = None


def test_a_run_travels_with_counts_errors_and_planned_actions() -> None:
    message = run_to_proto(Run())

    assert message.state == common_pb2.RUN_STATE_PARTIALLY_FAILED
    assert (message.counts.created, message.counts.updated, message.counts.failed) == (2, 0, 1)
    assert message.progress_total == 3
    assert not message.HasField("finished_at")
    (error,) = message.errors
    assert (error.message, error.upstream_code, error.at.ToDatetime(tzinfo=UTC)) == (
        "order 1001: refused",
        "2000433",
        AT,
    )
    assert [(p.action, p.entity, p.reason) for p in message.planned] == [("skip", "1001", "already in Fortnox")]
    assert "planned" not in json_format.MessageToDict(message.result)  # once, as `planned`
    unknown = run_to_proto(Run(state="paused?", progress_total=None, result={}))
    assert unknown.state == common_pb2.RUN_STATE_UNSPECIFIED
    assert not unknown.HasField("progress_total")
    assert not unknown.HasField("result")
