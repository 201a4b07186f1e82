"""Conversions of the shared messages (bridge.common.v1, well-known types) that every client needs."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from google.protobuf import json_format, timestamp_pb2

from bridge.common.v1 import common_pb2
from bridge_gateway.models import (
    EntityError,
    Money,
    PageRequest,
    PlannedAction,
    Run,
    RunCounts,
    RunProgress,
    RunState,
)
from bridge_platform.common_messages import minor_unit_digits

_RUN_STATE: Final[dict[int, RunState]] = {
    common_pb2.RUN_STATE_QUEUED: "queued",
    common_pb2.RUN_STATE_RUNNING: "running",
    common_pb2.RUN_STATE_SUCCEEDED: "succeeded",
    common_pb2.RUN_STATE_FAILED: "failed",
    common_pb2.RUN_STATE_PARTIALLY_FAILED: "partially_failed",
}


def money_from_proto(message: common_pb2.Money) -> Money:
    """Integer minor units as the exact decimal string of the API: 14950 SEK is "149.50", 1500 JPY is "1500".
    The digits per currency are the ones the services wrote the minor units with (one table, in the platform)."""
    amount = Decimal(message.amount_minor).scaleb(-minor_unit_digits(message.currency_code))
    return Money(amount=format(amount, "f"), currency=message.currency_code)


def money_to_proto(money: Money) -> common_pb2.Money:
    """The inverse of money_from_proto; ValueError for an amount finer than the currency's minor unit."""
    minor = Decimal(money.amount).scaleb(minor_unit_digits(money.currency))
    if not minor.is_finite() or minor != minor.to_integral_value():
        raise ValueError(f"{money.amount} {money.currency} is not a whole number of minor units")
    return common_pb2.Money(currency_code=money.currency, amount_minor=int(minor))


def time_from_proto(message: timestamp_pb2.Timestamp, *, present: bool) -> datetime | None:
    """A set Timestamp as an aware UTC datetime; an unset one (or the epoch zero value) as None."""
    if not present or (message.seconds == 0 and message.nanos == 0):
        return None
    return message.ToDatetime(tzinfo=UTC)


def field_time(message: Any, name: str) -> datetime | None:
    """The Timestamp field `name` of a message, None when unset."""
    return time_from_proto(getattr(message, name), present=message.HasField(name))


def time_to_proto(moment: datetime) -> timestamp_pb2.Timestamp:
    """An aware datetime as a Timestamp (the instant; the offset is not carried)."""
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment.astimezone(UTC))
    return stamp


def page_to_proto(page: PageRequest) -> common_pb2.PageRequest:
    return common_pb2.PageRequest(page=page.page, page_size=page.page_size)


def entity_error_from_proto(message: common_pb2.EntityError) -> EntityError:
    return EntityError(
        message=message.message,
        upstream_code=message.upstream_code or None,
        hint=message.hint or None,
        at=field_time(message, "at"),
    )


def _whole_numbers(value: Any) -> Any:
    """A Struct carries every number as a double: counts come back as ints (2, not 2.0)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _whole_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(item) for item in value]
    return value


def run_from_proto(message: common_pb2.Run) -> Run:
    counts = message.counts
    return Run(
        id=message.id,
        scope=message.scope,
        # A run the service has not yet given a state to is waiting for a worker.
        state=_RUN_STATE.get(message.state, "queued"),
        trigger=message.trigger,
        progress=RunProgress(
            done=message.progress_done,
            total=message.progress_total if message.HasField("progress_total") else None,
        ),
        counts=RunCounts(
            created=counts.created, updated=counts.updated, unchanged=counts.unchanged, failed=counts.failed
        ),
        created_at=field_time(message, "created_at"),
        started_at=field_time(message, "started_at"),
        finished_at=field_time(message, "finished_at"),
        errors=[entity_error_from_proto(error) for error in message.errors],
        planned=[
            PlannedAction(action=planned.action, entity=planned.entity, reason=planned.reason)
            for planned in message.planned
        ],
        result=_whole_numbers(json_format.MessageToDict(message.result)) if message.HasField("result") else {},
    )
