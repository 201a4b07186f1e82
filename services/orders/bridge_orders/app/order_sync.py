"""The `orders` run and the `backfill` run (product.md §5 "Which orders", §6).

The orders run finds work three ways and sends every order through ProcessOrder, which is safe to repeat:
- the pending webhook wake-ups (drained before and after the rest, so one that comes in meanwhile is caught);
- ikas orders updated since the tenant's watermark, each read once (the page's order is handed on);
- the tenant's records that wait for something ikas never announces: product relations in the catalog, a
  paused connection coming back, an unclear outcome to look up, an upstream that could not answer.
One order's failure is recorded on that order and never stops the others. A paused connection stops the run:
nothing is lost, the watermark stays, and the next run after reconnecting drains what waited. The watermark
advances (to the run's start minus an overlap) once the walk completed with every order accounted for.

The backfill run sends the orders placed in [from, to) by the manual rules (sync_from and create_orders do not
apply, the order's own state does); as a dry run it plans create or skip per order, with the reason, and
writes nothing anywhere.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from bridge_orders.app.export_order import CREATED, FAILED, FOUND, PAUSE_REASONS, PAUSED, UNKNOWN, WAITING, is_paused
from bridge_orders.app.order_queries import LAST_ORDER_SYNC
from bridge_orders.app.ports import (
    ArticleNumbers,
    Clock,
    IkasOrderFeed,
    OrderMarks,
    OrderReads,
    RunProgress,
    RunReport,
    UnitOfWorkFactory,
    WakeUp,
    WakeUps,
)
from bridge_orders.app.process_order import ProcessOrderRequest, ProcessOrderResult
from bridge_orders.domain.ikas_order import IkasOrder
from bridge_orders.domain.mapping import missing_relations
from bridge_orders.domain.order_record import ERROR, OUTGOING, OrderRecord
from bridge_orders.domain.selection import WAITING_FOR_MANUAL_SENDING, WAITING_FOR_PAYMENT, select
from bridge_orders.domain.settings import OrderSettings
from bridge_platform.errors import Conflict, DomainError, NotFound, UpstreamUnavailable

log = logging.getLogger(__name__)

WATERMARK: Final = "ikas_orders_updated"
# The next watermark is the run's start minus this: an order changed while the walk ran (or stamped by a
# clock a little behind ours) is read again, and found done, rather than missed.
OVERLAP: Final = timedelta(minutes=2)
# Waits that only a change of the ikas order ends; that change brings the order back through the watermark.
WAITS_FOR_IKAS: Final = (WAITING_FOR_MANUAL_SENDING, WAITING_FOR_PAYMENT)
# A failed order is tried again by the runs once its failure is this old: an upstream that could not answer
# gets its time, and one that refused costs a few calls per interval until the merchant fixes the cause.
RETRY_ERRORS_AFTER: Final = timedelta(minutes=10)
RETRY_LIMIT: Final = 500
WAKE_UP_BATCH: Final = 200
MAX_DRAINS: Final = 5
PROGRESS_EVERY: Final = 10


class _Stop(Exception):
    """Ends the run early: the connection is paused, an upstream is down, or another worker took over."""


@dataclass
class _Pass:
    """What one run decided and did."""

    dry: bool = False
    counts: dict[str, int] = field(default_factory=lambda: {"created": 0, "updated": 0, "unchanged": 0, "failed": 0})
    errors: list[dict[str, Any]] = field(default_factory=list)
    planned: list[dict[str, str]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    done: int = 0
    # An order failed without its record saying so (an exception): the watermark must not pass it.
    unaccounted: bool = False
    stopped_by: dict[str, Any] | None = None

    def fail(self, entity: str, message: str) -> None:
        """One order failed; its record holds the whole error object (§8), the run names the order."""
        self.counts["failed"] += 1
        self.errors.append({"entity": entity, "message": f"order {entity}: {message}"})

    def report(self) -> RunReport:
        result: dict[str, Any] = {}
        if self.dry:
            result["planned"] = self.planned
        if self.stopped_by is not None:
            return RunReport("failed", dict(self.counts), [*self.errors, self.stopped_by], result)
        state = "partially_failed" if self.counts["failed"] else "succeeded"
        return RunReport(state, dict(self.counts), self.errors, result)


def _count(outcome: _Pass, entity: str, result: ProcessOrderResult) -> None:
    if result.outcome in (CREATED, FOUND):
        outcome.counts["created"] += 1
    elif result.outcome in (FAILED, UNKNOWN):
        outcome.fail(entity, result.reason or result.outcome)
    elif result.wrote:
        outcome.counts["updated"] += 1  # e.g. the invoice or the PDF of an order already in Fortnox
    else:
        outcome.counts["unchanged"] += 1  # already sent, waiting, skipped, or another worker's (busy)


def is_retried(record: OrderRecord, now: datetime) -> bool:
    """Whether a run picks the record up again without ikas announcing a change (see the module docstring)."""
    if record.intent is not None:
        return True  # an unclear outcome (or a dead worker's step): ProcessOrder looks it up first
    if record.status == ERROR:  # the order's or a later step's failure (invoice, PDF)
        return record.error is None or record.error.at <= now - RETRY_ERRORS_AFTER
    if record.status == OUTGOING and record.fortnox_order_number is None:
        return record.waiting_reason not in WAITS_FOR_IKAS
    return False


class SyncOrders:
    """The `orders` run (`__call__`) and the `backfill` run (`backfill`)."""

    def __init__(
        self,
        uow_for: UnitOfWorkFactory,
        feed: IkasOrderFeed,
        process: Callable[[ProcessOrderRequest], ProcessOrderResult],
        articles: ArticleNumbers,
        reads: OrderReads,
        marks: OrderMarks,
        wake_ups: WakeUps,
        clock: Clock,
    ) -> None:
        self._uow_for, self._feed, self._process, self._articles = uow_for, feed, process, articles
        self._reads, self._marks, self._wake_ups, self._clock = reads, marks, wake_ups, clock

    # -- the orders run -------------------------------------------------------------------------------------

    def __call__(self, tenant_id: str, progress: RunProgress) -> RunReport:
        started = self._clock.now()
        settings = self._settings(tenant_id)
        watermark = self._marks.get(tenant_id, WATERMARK)
        since = max((at for at in (watermark, settings.sync_from) if at is not None), default=None)
        outcome = _Pass()
        walked = False
        try:
            self._drain(tenant_id, outcome, progress)
            if since is not None:  # without sync_from nothing is sent automatically: no walk needed
                for order in self._feed.updated_since(tenant_id, since):
                    if order.id not in outcome.seen:  # a wake-up just processed it
                        self._one(tenant_id, order, outcome, progress, manual=False)
            walked = True
            self._retry(tenant_id, outcome, progress)
            self._drain(tenant_id, outcome, progress)
        except _Stop:
            pass
        except Conflict as error:  # the feed itself (ikas) is paused
            if not is_paused(error):
                raise
            outcome.stopped_by = _paused_entry(error.message, error.details.get("reason"))
        progress.progress(outcome.done, outcome.done)
        if outcome.stopped_by is None and not progress.lease_lost():
            if walked and since is not None and not outcome.unaccounted:
                self._marks.set(tenant_id, WATERMARK, started - OVERLAP)
            if not outcome.counts["failed"]:
                self._marks.set(tenant_id, LAST_ORDER_SYNC, self._clock.now())
        return outcome.report()

    def _drain(self, tenant_id: str, outcome: _Pass, progress: RunProgress) -> None:
        """Processes the pending wake-ups until none is left, re-reading their orders (one listOrder per batch);
        a wake-up is forgotten only after its order was processed, and only if no webhook woke it again
        meanwhile. One for an order ikas does not have (deleted) is forgotten too."""
        tried: set[WakeUp] = set()  # one that failed stays pending for the next run, not for another round
        for _ in range(MAX_DRAINS):
            pending = [w for w in self._wake_ups.pending(tenant_id, WAKE_UP_BATCH + len(tried)) if w not in tried]
            if not pending:
                return
            tried.update(pending)
            orders = self._read(tenant_id, [w.ikas_order_id for w in pending])
            for wake_up in pending:
                order = orders.get(wake_up.ikas_order_id)
                if order is None or self._one(tenant_id, order, outcome, progress, manual=False):
                    self._wake_ups.done(tenant_id, wake_up)

    def _retry(self, tenant_id: str, outcome: _Pass, progress: RunProgress) -> None:
        now = self._clock.now()
        due = [
            record.ikas_order_id
            for record in self._reads.unfinished(tenant_id, WAITS_FOR_IKAS, RETRY_LIMIT)
            if record.ikas_order_id not in outcome.seen and is_retried(record, now)
        ]
        for start in range(0, len(due), WAKE_UP_BATCH):
            orders = self._read(tenant_id, due[start : start + WAKE_UP_BATCH])
            for order in orders.values():
                self._one(tenant_id, order, outcome, progress, manual=False)

    def _read(self, tenant_id: str, ikas_order_ids: list[str]) -> dict[str, IkasOrder]:
        return {order.id: order for order in self._feed.by_ids(tenant_id, ikas_order_ids)}

    # -- the backfill run -----------------------------------------------------------------------------------

    def backfill(self, tenant_id: str, payload: Mapping[str, Any], progress: RunProgress) -> RunReport:
        start, end = datetime.fromisoformat(payload["from"]), datetime.fromisoformat(payload["to"])
        dry = bool(payload.get("dry_run"))
        outcome = _Pass(dry=dry)
        orders = self._feed.placed_between(tenant_id, start, end)
        try:
            if dry:
                self._plan(tenant_id, orders, outcome, progress)
            else:
                for order in orders:
                    self._one(tenant_id, order, outcome, progress, manual=True)
        except _Stop:
            pass
        except Conflict as error:
            if not is_paused(error):
                raise
            outcome.stopped_by = _paused_entry(error.message, error.details.get("reason"))
        progress.progress(outcome.done, outcome.done)
        return outcome.report()

    def _plan(self, tenant_id: str, orders: Iterable[IkasOrder], outcome: _Pass, progress: RunProgress) -> None:
        """What a backfill would do, order by order, from reads only (ikas, the records, the relations)."""
        settings = self._settings(tenant_id)
        for order in orders:
            action, reason = self._planned(tenant_id, order, settings)
            outcome.planned.append({"action": action, "entity": order.number, "reason": reason})
            outcome.counts["created" if action == "create" else "unchanged"] += 1
            outcome.done += 1
            if outcome.done % PROGRESS_EVERY == 0:
                progress.progress(outcome.done)

    def _planned(self, tenant_id: str, order: IkasOrder, settings: OrderSettings) -> tuple[str, str]:
        with self._uow_for(tenant_id) as uow:
            record = uow.orders.get(order.id)
        if record is not None and record.fortnox_order_number is not None:
            return "skip", f"already in Fortnox as order {record.fortnox_order_number}"
        selection = select(order, settings, manual=True)
        if selection.skip_reason is not None:
            return "skip", selection.skip_reason
        if selection.waiting_reason is not None:
            return "skip", selection.waiting_reason
        variants = {line.variant_id: line.sku for line in order.lines if line.variant_id}
        missing = missing_relations(order, self._articles.for_variants(tenant_id, variants))
        if missing is not None and not settings.sync_items_without_relation:
            return "skip", missing.waiting_reason
        if missing is not None:
            return "create", "not in Fortnox yet; lines without a relation become free-text rows"
        return "create", "not in Fortnox yet"

    # -- one order ------------------------------------------------------------------------------------------

    def _one(self, tenant_id: str, order: IkasOrder, outcome: _Pass, progress: RunProgress, *, manual: bool) -> bool:
        """Processes one order; True when it is accounted for (done, or its record says what is missing).
        Raises _Stop when the whole run has to end."""
        if progress.lease_lost():
            raise _Stop  # another worker took the run over; it goes on from the same ledger row
        entity, accounted = order.number, True
        try:
            result = self._process(ProcessOrderRequest(tenant_id, order.id, manual=manual, order=order))
        except Conflict as error:
            if is_paused(error):
                outcome.stopped_by = _paused_entry(error.message, error.details.get("reason"))
                raise _Stop from error
            outcome.counts["unchanged"] += 1  # another worker holds the order; its record carries on
        except UpstreamUnavailable as error:
            # Not this order's fault (ikas, Fortnox or the catalog cannot answer): every next order would wait
            # for the same timeouts. The run ends; the next one goes on from the same watermark.
            outcome.unaccounted = True
            outcome.stopped_by = {"message": f"the run stopped early: {error.message}", "hint": "nothing was lost"}
            raise _Stop from error
        except NotFound:
            outcome.counts["unchanged"] += 1  # ikas has no such order (a webhook for a deleted one): nothing to do
        except DomainError as error:
            outcome.fail(entity, error.message)
            outcome.unaccounted, accounted = True, False
        except Exception as error:  # a bug in one order must not stop the others; it is logged in full
            log.exception("processing an order failed", extra={"tenant_id": tenant_id, "ikas_order_id": order.id})
            outcome.fail(entity, f"internal error ({type(error).__name__}); the order is tried again next run")
            outcome.unaccounted, accounted = True, False
        else:
            if result.outcome == WAITING and result.reason == PAUSED:
                outcome.stopped_by = _paused_entry(PAUSED, None)
                raise _Stop
            _count(outcome, entity, result)
        outcome.seen.add(order.id)
        outcome.done += 1
        if outcome.done % PROGRESS_EVERY == 0:
            progress.progress(outcome.done)
        return accounted

    def _settings(self, tenant_id: str) -> OrderSettings:
        with self._uow_for(tenant_id) as uow:
            stored = uow.settings.get()
        return stored.settings if stored else OrderSettings()


def _paused_entry(message: str, reason: str | None) -> dict[str, Any]:
    return {
        "message": f"the run stopped: {message}",
        "upstream_code": reason if reason in PAUSE_REASONS else None,
        "hint": "reconnect in Bridge's settings; the orders waiting are sent by the next run",
    }
