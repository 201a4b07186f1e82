"""Conversions to the shared messages of bridge.common.v1 that every service's servicers need: timestamps,
Money from exact decimals, an entity error, and a Run from a row of the run ledger (bridge_platform.jobs)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final, Protocol

from google.protobuf.struct_pb2 import Struct
from google.protobuf.timestamp_pb2 import Timestamp

from bridge.common.v1 import common_pb2

_RUN_STATES: Final = {
    "queued": common_pb2.RUN_STATE_QUEUED,
    "running": common_pb2.RUN_STATE_RUNNING,
    "succeeded": common_pb2.RUN_STATE_SUCCEEDED,
    "failed": common_pb2.RUN_STATE_FAILED,
    "partially_failed": common_pb2.RUN_STATE_PARTIALLY_FAILED,
}

# ISO 4217 currencies whose minor unit is not the hundredth (öre, cent); every other code has two digits.
_CODES_BY_MINOR_UNIT_DIGITS: Final = {
    0: "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF",
    3: "BHD IQD JOD KWD LYD OMR TND",
    4: "CLF UYW",
}
_MINOR_UNIT_DIGITS: Final = {
    code: digits for digits, codes in _CODES_BY_MINOR_UNIT_DIGITS.items() for code in codes.split()
}


def timestamp(at: datetime | None) -> Timestamp | None:
    """An aware datetime as a Timestamp; None stays unset."""
    if at is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(at.astimezone(UTC))
    return stamp


def minor_unit_digits(currency: str) -> int:
    return _MINOR_UNIT_DIGITS.get(currency.upper(), 2)


def money_to_proto(amount: Decimal, currency: str) -> common_pb2.Money:
    """An exact amount as integer minor units: 149.50 SEK is 14950. An amount finer than the currency's minor
    unit (ikas may carry more decimals than Fortnox) is rounded half up, as a receipt would show it."""
    minor = amount.scaleb(minor_unit_digits(currency)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return common_pb2.Money(currency_code=currency, amount_minor=int(minor))


def entity_error(
    message: str, upstream_code: str | None, hint: str | None, at: datetime | None
) -> common_pb2.EntityError:
    return common_pb2.EntityError(message=message, upstream_code=upstream_code or "", hint=hint or "", at=timestamp(at))


class RunView(Protocol):
    """What a service shows of one run of its ledger."""

    @property
    def id(self) -> str: ...
    @property
    def scope(self) -> str: ...
    @property
    def trigger(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def progress_done(self) -> int: ...
    @property
    def progress_total(self) -> int | None: ...
    @property
    def counts(self) -> Mapping[str, int]: ...
    @property
    def errors(self) -> Sequence[Mapping[str, Any]]: ...
    @property
    def result(self) -> Mapping[str, Any]: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def started_at(self) -> datetime | None: ...
    @property
    def finished_at(self) -> datetime | None: ...


def run_to_proto(run: RunView) -> common_pb2.Run:
    """The Run message. The planned actions of a dry run are kept in `result["planned"]` and travel as `planned`
    only (not twice: the rest of the result document goes into `result`)."""
    counts = run.counts
    planned = run.result.get("planned", []) if isinstance(run.result, Mapping) else []
    return common_pb2.Run(
        id=run.id,
        scope=run.scope,
        state=_RUN_STATES.get(run.state, common_pb2.RUN_STATE_UNSPECIFIED),
        trigger=run.trigger,
        progress_done=run.progress_done,
        progress_total=run.progress_total,
        counts=common_pb2.RunCounts(
            created=counts.get("created", 0),
            updated=counts.get("updated", 0),
            unchanged=counts.get("unchanged", 0),
            failed=counts.get("failed", 0),
        ),
        created_at=timestamp(run.created_at),
        started_at=timestamp(run.started_at),
        finished_at=timestamp(run.finished_at),
        errors=[
            common_pb2.EntityError(
                message=str(e.get("message", "")),
                upstream_code=str(e.get("upstream_code") or ""),
                hint=str(e.get("hint") or ""),
                at=timestamp(datetime.fromisoformat(e["at"])) if e.get("at") else None,
            )
            for e in run.errors
        ],
        planned=[
            common_pb2.PlannedAction(action=p.get("action", ""), entity=p.get("entity", ""), reason=p.get("reason", ""))
            for p in planned
        ],
        result=_struct(
            {k: v for k, v in run.result.items() if k != "planned"} if isinstance(run.result, Mapping) else None
        ),
    )


def _struct(document: object) -> Struct | None:
    """The run's result document as a Struct (JSON values only; numbers become doubles)."""
    if not isinstance(document, Mapping) or not document:
        return None
    struct = Struct()
    struct.update(json.loads(json.dumps(dict(document), default=str)))
    return struct
