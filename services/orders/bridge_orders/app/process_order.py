"""ProcessOrder: one ikas order through everything the tenant's settings ask for (product.md §5).

ExportOrder makes the Fortnox order (exactly once); then, per the settings, DocumentSteps make the invoice
(orders.create_invoice), ask Fortnox to e-mail it (orders.send_invoice_email) and attach its PDF to the ikas order
(automatically once the invoice exists); then RegisterPayment pays the invoice of a paid order
(orders.register_payments, §5b). An order cancelled in ikas gets no further documents: FollowCancellation cancels
its Fortnox order, or credits its invoice (orders.follow_cancellations, §5b). Edits, refunds and partial
cancellations go through FollowChanges before the documents' steps (changes_step.py). Every step is its own
intent with a claim and a look-up first, so ProcessOrder may be called again at any time, by any worker, after
any crash: what is done is never done twice, and what was interrupted is resumed (or, for the e-mail, reported as
unknown).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from bridge_orders.app.cancellation_step import FollowCancellation
from bridge_orders.app.changes_step import FollowChanges
from bridge_orders.app.document_steps import DocumentSteps, StepResult
from bridge_orders.app.export_order import ALREADY_SENT, CREATED, FOUND, ExportOrder, ExportOrderRequest
from bridge_orders.app.payment_step import RegisterPayment
from bridge_orders.app.ports import UnitOfWorkFactory
from bridge_orders.domain.ikas_order import IkasOrder
from bridge_orders.domain.settings import OrderSettings

# The step outcomes that outrank the order's own, worst first.
_WORST_FIRST: Final = ("failed", "unknown", "busy", "waiting")


@dataclass(frozen=True)
class ProcessOrderRequest:
    tenant_id: str
    ikas_order_id: str
    manual: bool = False  # "send now" by hand (ignores sync_from / create_orders)
    order: IkasOrder | None = None  # already read by the caller (a run's page); None: ProcessOrder reads it


@dataclass(frozen=True)
class ProcessOrderResult:
    ikas_order_id: str
    # the ExportOrderResult outcomes (created, found, already_sent, waiting, skipped, busy, unknown, failed); a step
    # after the order that failed, stayed unknown, met another worker or a paused connection reports that instead
    outcome: str
    status: str | None  # the record's status, None when not listed
    reason: str | None = None
    wrote: bool = False  # True when any Fortnox/ikas write happened (order, invoice, e-mail, attachment)


class ProcessOrder:
    """ExportOrder, then per the tenant's settings: invoice (create_invoice), e-mail (send_invoice_email), PDF onto
    the ikas order (after invoicing); every step exactly once and resumable. Safe to call again at any time."""

    def __init__(
        self,
        uow_for: UnitOfWorkFactory,
        export: ExportOrder,
        steps: DocumentSteps,
        payment: RegisterPayment,
        cancellation: FollowCancellation,
        changes: FollowChanges,
    ) -> None:
        self._uow_for, self._export, self._steps = uow_for, export, steps
        self._payment, self._cancellation, self._changes = payment, cancellation, changes

    def __call__(self, request: ProcessOrderRequest) -> ProcessOrderResult:
        exported = self._export(
            ExportOrderRequest(request.tenant_id, request.ikas_order_id, manual=request.manual, order=request.order)
        )
        wrote = exported.outcome == CREATED
        if exported.outcome not in (CREATED, FOUND, ALREADY_SENT):
            return ProcessOrderResult(request.ikas_order_id, exported.outcome, exported.status, exported.reason, wrote)
        with self._uow_for(request.tenant_id) as uow:
            stored = uow.settings.get()
        settings = stored.settings if stored else OrderSettings()
        order = exported.order
        if order is not None and self._cancellation.applies(order, settings):
            # Cancelled in ikas: no further documents; the Fortnox order is cancelled, or its invoice credited (§5b).
            cancelled = self._cancellation(request.tenant_id, order)
            return combined(request.ikas_order_id, exported.outcome, exported.status, exported.reason, wrote, cancelled)
        # Edits, refunds and partial cancellations since the documents were made: the Fortnox order updated before
        # invoicing, the rows taken back credited after (§5b); first, so an invoice made next has the new rows.
        steps = self._changes(request.tenant_id, order, settings) if order is not None else []
        steps += self._steps.follow_up(
            request.tenant_id,
            request.ikas_order_id,
            settings,
            invoice=settings.create_invoice,
            just_created=exported.fortnox_order,
        )
        # After the invoice (made just now or long ago): a paid order's payment, once (§5b).
        if order is not None and (paid := self._payment(request.tenant_id, order, settings)):
            steps.append(paid)
        return combined(request.ikas_order_id, exported.outcome, exported.status, exported.reason, wrote, steps)


def combined(
    ikas_order_id: str, outcome: str, status: str | None, reason: str | None, wrote: bool, steps: list[StepResult]
) -> ProcessOrderResult:
    """The order's outcome, unless a later step's is worse; the status the record ended with."""
    for step in steps:
        wrote = wrote or step.wrote
        if step.record is not None:
            status = step.record.status
        if step.outcome in _WORST_FIRST and (
            outcome not in _WORST_FIRST or _WORST_FIRST.index(step.outcome) < _WORST_FIRST.index(outcome)
        ):
            outcome, reason = step.outcome, step.reason
    return ProcessOrderResult(ikas_order_id, outcome, status, reason, wrote)
