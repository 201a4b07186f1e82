"""Starting and reading catalog runs (product.md §6)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from bridge_catalog.app.ports import DueTenants, RunLedger, RunRecord
from bridge_catalog.app.product_lines import check_page
from bridge_platform.errors import Conflict, FieldViolation, InvalidInput, NotFound

RUN_SCOPES: Final = ("products", "stock", "match", "preview", "reset")
SCHEDULED_SCOPES: Final = ("products", "stock")
TRIGGERS: Final = ("on_demand", "operation", "webhook")


class StartCatalogRun:
    """Queues one run; a run of the same tenant and scope that is still going is a Conflict naming it."""

    def __init__(self, ledger: RunLedger) -> None:
        self._ledger = ledger

    def __call__(self, tenant_id: str, scope: str, trigger: str) -> RunRecord:
        if scope not in RUN_SCOPES:
            raise InvalidInput("unknown scope", [FieldViolation("scope", "invalid_choice", ", ".join(RUN_SCOPES))])
        trigger = trigger or "on_demand"
        if trigger not in TRIGGERS:
            raise InvalidInput("unknown trigger", [FieldViolation("trigger", "invalid_choice", ", ".join(TRIGGERS))])
        run_id, created = self._ledger.submit(tenant_id, scope, trigger, {})
        if not created:
            raise Conflict(f"a {scope} run is already going", {"run_id": run_id})
        run = self._ledger.get(tenant_id, run_id)
        assert run is not None
        return run


@dataclass(frozen=True)
class DueSyncs:
    enqueued: int
    skipped: int


class RunDueSyncs:
    """The schedule's tick: one run per tenant whose automatic sync of `scope` is on; tenants whose run of
    that scope is still going are skipped (never a second run)."""

    def __init__(self, ledger: RunLedger, due: DueTenants) -> None:
        self._ledger, self._due = ledger, due

    def __call__(self, scope: str) -> DueSyncs:
        if scope not in SCHEDULED_SCOPES:
            raise InvalidInput("unknown scope", [FieldViolation("scope", "invalid_choice", "products, stock")])
        enqueued = skipped = 0
        for tenant_id in self._due.due(scope):
            _, created = self._ledger.submit(tenant_id, scope, "schedule", {})
            enqueued, skipped = (enqueued + 1, skipped) if created else (enqueued, skipped + 1)
        return DueSyncs(enqueued, skipped)


class GetCatalogRun:
    def __init__(self, ledger: RunLedger) -> None:
        self._ledger = ledger

    def __call__(self, tenant_id: str, run_id: str) -> RunRecord:
        run = self._ledger.get(tenant_id, run_id)
        if run is None:
            raise NotFound("no such run")
        return run


class ListCatalogRuns:
    def __init__(self, ledger: RunLedger) -> None:
        self._ledger = ledger

    def __call__(
        self, tenant_id: str, scope: str | None, page: int, page_size: int
    ) -> tuple[list[RunRecord], int, int, int]:
        page, page_size = check_page(page, page_size)
        runs, total = self._ledger.list(tenant_id, scope, page, page_size)
        return runs, total, page, page_size
