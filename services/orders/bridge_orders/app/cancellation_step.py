"""Following an ikas cancellation into Fortnox, once (product.md §5b, orders.follow_cancellations).

An ikas order CANCELLED after it reached Fortnox: its Fortnox order is cancelled while it is not invoiced
(`cancel_fortnox_order`), and its invoice is credited once it is (`credit_invoice`). Each is an intent on the record,
claimed and committed before any write, like the document steps (document_steps.py), and its work reads first:
- cancel_fortnox_order: the Fortnox order. Cancelled already: done. Invoiced meanwhile (by the merchant, or by a
  createinvoice whose answer was lost): the invoice is recorded, and the credit follows in the same call. Otherwise
  `PUT …/cancel`.
- credit_invoice: CreditTakenBack (changes_step.py) credits whatever of the invoice its credit invoices do not
  credit yet: Fortnox's own credit action when nothing is credited, else a credit invoice of the rest (after a
  partial refund). Cancelled in Fortnox: nothing to credit. The invoice is bookkept first when it is not (Fortnox
  credits booked invoices only, and an invoice once bookkept cannot be cancelled: fortnox-api.md §5.6).
A lost answer is looked up after the settling time (the record's rules), never written blindly again.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from bridge_orders.app.changes_step import CreditTakenBack, joined
from bridge_orders.app.document_steps import (
    CANCELLED,
    DONE,
    FOUND,
    DocumentSteps,
    StepDone,
    StepFailed,
    StepResult,
)
from bridge_orders.app.ports import FortnoxInvoices, FortnoxSettlements, UnitOfWorkFactory
from bridge_orders.domain.ikas_order import IkasOrder
from bridge_orders.domain.order_record import CANCEL_FORTNOX_ORDER, StepCall
from bridge_orders.domain.settings import OrderSettings

CANCELLED_STATUS: Final = "CANCELLED"
REFUNDED_STATUS: Final = "REFUNDED"


class FollowCancellation:
    """The cancellation steps of one order; safe to call again at any time, by any worker."""

    def __init__(
        self,
        uow_for: UnitOfWorkFactory,
        steps: DocumentSteps,
        orders: FortnoxInvoices,
        fortnox: FortnoxSettlements,
        credit: CreditTakenBack,
    ) -> None:
        self._uow_for, self._steps, self._orders, self._fortnox = uow_for, steps, orders, fortnox
        self._credit_taken_back = credit

    @staticmethod
    def applies(order: IkasOrder, settings: OrderSettings) -> bool:
        """Whether the order's ikas cancellation is followed into Fortnox (instead of the documents' steps). A
        wholly refunded order is followed the same way (orders.follow_refunds): nothing of it is sold any more, so
        its Fortnox order is cancelled, or its invoice credited in full."""
        if order.status == REFUNDED_STATUS:
            return settings.follow_refunds
        return settings.follow_cancellations and order.status == CANCELLED_STATUS

    def __call__(self, tenant_id: str, order: IkasOrder) -> list[StepResult]:
        with self._uow_for(tenant_id) as uow:
            record = uow.orders.get(order.id)
        if record is None or record.fortnox_order_number is None:
            return []
        results: list[StepResult] = []
        if record.fortnox_invoice_number is None:
            cancelled = self._cancel(tenant_id, order.id)
            results.append(cancelled)
            if cancelled.outcome not in DONE or cancelled.record is None:
                return results
            if cancelled.record.fortnox_invoice_number is None:
                return results
        results.append(self._credit(tenant_id, order.id))
        return results

    def _cancel(self, tenant_id: str, ikas_order_id: str) -> StepResult:
        def work(call: StepCall) -> StepDone:
            number = call.fortnox_order_number
            assert number is not None  # claim_step checked it
            state = self._orders.order_state(tenant_id, number)
            if state is None:
                raise StepFailed(
                    f"Fortnox has no order {number} any more, so it cannot be cancelled",
                    "check the order in Fortnox",
                )
            if state.invoice_number:
                invoice, exchange = state.invoice_number, state.exchange
                return StepDone(
                    lambda r, at: r.record_invoice(call.claim_token, invoice, found=True, at=at, exchange=exchange),
                    FOUND,
                    False,
                )
            if state.cancelled:
                detail = f"Fortnox order {number} (found cancelled already)"
                return StepDone(
                    lambda r, at: r.record_cancelled(
                        call.claim_token, detail, found=True, at=at, exchange=state.exchange
                    ),
                    FOUND,
                    False,
                )
            exchange = joined([state.exchange, self._fortnox.cancel_order(tenant_id, number)])
            return StepDone(
                lambda r, at: r.record_cancelled(
                    call.claim_token, f"Fortnox order {number}", found=False, at=at, exchange=exchange
                ),
                CANCELLED,
                True,
            )

        return self._steps.run_step(tenant_id, ikas_order_id, CANCEL_FORTNOX_ORDER, False, work)

    def _credit(self, tenant_id: str, ikas_order_id: str) -> StepResult:
        # Everything invoiced is credited: what earlier credits (a partial refund, a lost answer) did not yet.
        return self._credit_taken_back(tenant_id, ikas_order_id, (), Decimal(0), everything=True, followed=None)
