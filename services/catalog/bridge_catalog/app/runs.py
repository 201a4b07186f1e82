"""Starting and reading catalog runs (product.md §6), and webhooks as wake-ups (§3).

A webhook wakes the products or stock sync of its tenant when that scope's automatic sync is on. A wake-up
is never lost and never piles up: with no run going it queues one; a queued run reads the change anyway when
it starts; a running run may have read past it already, so it is marked on the ledger and, when it ends, one
more run follows it (however many wake-ups came in the meantime). The end of a run first releases its hold
on the tenant and scope and only then reads the mark, and a wake-up marks only a run that still holds it, so
every wake-up either marks a run whose end sees the mark or finds the scope free and queues a run itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from bridge_catalog.app.ports import DueTenants, RunLedger, RunRecord, UnitOfWorkFactory
from bridge_catalog.app.product_lines import check_page
from bridge_catalog.domain.settings import CatalogSettings
from bridge_platform.errors import Conflict, FieldViolation, InvalidInput, NotFound

RUN_SCOPES: Final = ("products", "stock", "match", "preview", "reset")
SCHEDULED_SCOPES: Final = ("products", "stock")
WEBHOOK: Final = "webhook"
TRIGGERS: Final = ("on_demand", "operation", WEBHOOK)
# A wake-up submits again only when the run it found ended in between; three tries outlast any real race.
_WAKE_ATTEMPTS: Final = 3


class StartCatalogRun:
    """Queues one run; a run of the same tenant and scope that is still going is a Conflict naming it.

    With the trigger `webhook` (products or stock only) nothing is ever refused: None, starting nothing, while
    the scope's automatic sync is off; a run already going is returned and one more run follows it."""

    def __init__(self, ledger: RunLedger, uow_for: UnitOfWorkFactory) -> None:
        self._ledger, self._uow_for = ledger, uow_for

    def __call__(self, tenant_id: str, scope: str, trigger: str) -> RunRecord | None:
        if scope not in RUN_SCOPES:
            raise InvalidInput("unknown scope", [FieldViolation("scope", "invalid_choice", ", ".join(RUN_SCOPES))])
        trigger = trigger or "on_demand"
        if trigger not in TRIGGERS:
            raise InvalidInput("unknown trigger", [FieldViolation("trigger", "invalid_choice", ", ".join(TRIGGERS))])
        if trigger == WEBHOOK:
            return self._wake(tenant_id, scope)
        run_id, created = self._ledger.submit(tenant_id, scope, trigger, {})
        if not created:
            raise Conflict(f"a {scope} run is already going", {"run_id": run_id})
        return self._record(tenant_id, run_id)

    def _wake(self, tenant_id: str, scope: str) -> RunRecord | None:
        if scope not in SCHEDULED_SCOPES:
            raise InvalidInput(
                "webhooks wake only product and stock syncs",
                [FieldViolation("scope", "invalid_choice", ", ".join(SCHEDULED_SCOPES))],
            )
        with self._uow_for(tenant_id) as uow:
            stored = uow.settings.get()
        if not (stored.settings if stored else CatalogSettings()).syncs_automatically(scope):
            return None
        for _ in range(_WAKE_ATTEMPTS):
            run_id, created = self._ledger.submit(tenant_id, scope, WEBHOOK, {})
            if created or self._ledger.request_follow_up(tenant_id, run_id):
                break
        return self._record(tenant_id, run_id)

    def _record(self, tenant_id: str, run_id: str) -> RunRecord:
        run = self._ledger.get(tenant_id, run_id)
        assert run is not None
        return run


class FollowUpWakeUps:
    """The end of a products or stock run: releases the scope and queues one more run when a webhook woke
    the scope while this one ran. Returns the id of that run, if any."""

    def __init__(self, ledger: RunLedger) -> None:
        self._ledger = ledger

    def __call__(self, tenant_id: str, scope: str, run_id: str) -> str | None:
        if scope not in SCHEDULED_SCOPES or not self._ledger.release(tenant_id, run_id):
            return None
        follow_up, _ = self._ledger.submit(tenant_id, scope, WEBHOOK, {})
        return follow_up


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
