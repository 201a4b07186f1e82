"""Starting and reading order runs (product.md §6): `orders` (the incremental sync) and `backfill` (a date
range, optionally a dry run)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from bridge_orders.app.ports import DueTenants, RunLedger, RunRecord
from bridge_platform.errors import Conflict, FieldViolation, InvalidInput, NotFound

ORDERS: Final = "orders"
BACKFILL: Final = "backfill"
RUN_SCOPES: Final = (ORDERS, BACKFILL)
SCHEDULED_SCOPES: Final = (ORDERS,)
TRIGGERS: Final = ("on_demand", "operation", "webhook")
SCHEDULE: Final = "schedule"

DEFAULT_PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 200


def check_page(page: int, page_size: int) -> tuple[int, int]:
    """Defaults of product.md §8 (page 1, 50 per page); more than 200 is 422."""
    page, page_size = page or 1, page_size or DEFAULT_PAGE_SIZE
    violations = []
    if page < 1:
        violations.append(FieldViolation("page", "invalid_value", "must be 1 or more"))
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        violations.append(FieldViolation("page_size", "invalid_value", f"must be 1..{MAX_PAGE_SIZE}"))
    if violations:
        raise InvalidInput("invalid paging", violations)
    return page, page_size


@dataclass(frozen=True)
class StartOrderRunRequest:
    tenant_id: str
    scope: str
    trigger: str = ""
    backfill_from: datetime | None = None
    backfill_to: datetime | None = None
    dry_run: bool = False


def _payload(request: StartOrderRunRequest) -> dict[str, object]:
    if request.scope != BACKFILL:
        if request.backfill_from or request.backfill_to or request.dry_run:
            violation = FieldViolation("scope", "invalid_value", "backfill_from, backfill_to and dry_run need backfill")
            raise InvalidInput("only a backfill takes a date range", [violation])
        return {}
    start, end = request.backfill_from, request.backfill_to
    if start is None or end is None or start >= end:
        violations = [
            FieldViolation(name, "required", "is required for a backfill")
            for name, value in (("backfill_from", start), ("backfill_to", end))
            if value is None
        ]
        if start is not None and end is not None:
            violations.append(FieldViolation("backfill_to", "invalid_value", "must be later than backfill_from"))
        raise InvalidInput("the backfill's date range is invalid", violations)
    return {"from": start.isoformat(), "to": end.isoformat(), "dry_run": request.dry_run}


class StartOrderRun:
    """Queues one run; a run of the same tenant and scope that is still going is a Conflict naming it."""

    def __init__(self, ledger: RunLedger) -> None:
        self._ledger = ledger

    def __call__(self, request: StartOrderRunRequest) -> RunRecord:
        if not request.tenant_id.strip():
            raise InvalidInput("tenant_id is required", [FieldViolation("tenant_id", "required", "is required")])
        if request.scope not in RUN_SCOPES:
            choices = ", ".join(RUN_SCOPES)
            raise InvalidInput(
                "unknown scope", [FieldViolation("scope", "invalid_choice", f"must be one of {choices}")]
            )
        trigger = request.trigger or "on_demand"
        if trigger not in TRIGGERS:
            choices = ", ".join(TRIGGERS)
            raise InvalidInput(
                "unknown trigger", [FieldViolation("trigger", "invalid_choice", f"must be one of {choices}")]
            )
        run_id, created = self._ledger.submit(request.tenant_id, request.scope, trigger, _payload(request))
        if not created:
            raise Conflict(f"the {request.scope} run of this tenant is still going", {"run_id": run_id})
        run = self._ledger.get(request.tenant_id, run_id)
        assert run is not None
        return run


@dataclass(frozen=True)
class DueSyncs:
    enqueued: int
    skipped: int


class RunDueSyncs:
    """The schedule's tick: one orders run per tenant whose automatic order sync is on; a tenant whose run is
    still going is skipped (never a second run)."""

    def __init__(self, ledger: RunLedger, due: DueTenants) -> None:
        self._ledger, self._due = ledger, due

    def __call__(self, scope: str) -> DueSyncs:
        if scope not in SCHEDULED_SCOPES:
            raise InvalidInput("unknown scope", [FieldViolation("scope", "invalid_choice", "must be orders")])
        enqueued = skipped = 0
        for tenant_id in self._due.due():
            _, created = self._ledger.submit(tenant_id, scope, SCHEDULE, {})
            enqueued, skipped = (enqueued + 1, skipped) if created else (enqueued, skipped + 1)
        return DueSyncs(enqueued, skipped)


class GetOrderRun:
    def __init__(self, ledger: RunLedger) -> None:
        self._ledger = ledger

    def __call__(self, tenant_id: str, run_id: str) -> RunRecord:
        run = self._ledger.get(tenant_id, run_id)
        if run is None:
            raise NotFound("no such run")
        return run


@dataclass(frozen=True)
class RunPage:
    runs: list[RunRecord]
    total: int
    page: int
    page_size: int


class ListOrderRuns:
    def __init__(self, ledger: RunLedger) -> None:
        self._ledger = ledger

    def __call__(self, tenant_id: str, scope: str | None, page: int, page_size: int) -> RunPage:
        page, page_size = check_page(page, page_size)
        if scope and scope not in RUN_SCOPES:
            choices = ", ".join(RUN_SCOPES)
            raise InvalidInput(
                "unknown scope", [FieldViolation("scope", "invalid_choice", f"must be one of {choices}")]
            )
        runs, total = self._ledger.list(tenant_id, scope or None, page, page_size)
        return RunPage(runs, total, page, page_size)
