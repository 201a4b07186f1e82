"""register_payment: a paid ikas order's payment onto its Fortnox invoice, once (product.md §5b).

When the ikas order is PAID and its Fortnox invoice exists (whichever came first), Bridge registers one invoice
payment of the invoice's total, in the invoice's currency, with the Fortnox mode of payment that
orders.modes_of_payment maps the ikas payment method to, and bookkeeps it. One intent on the record, claimed and
committed before any write, like the document steps (document_steps.py); its work reads before it writes:
- the invoice: a cancelled or credited invoice is not paid; one not yet bookkept is bookkept first (Fortnox takes
  payments on booked invoices only, fortnox-api.md §5.6b as the sandbox models it), after reading Booked, since a
  second bookkeep is refused;
- the invoice's payments: one of the invoice's total (to the cent) is Bridge's, from an earlier attempt whose answer
  was lost or a worker that died, so it is never registered twice; then only its bookkeeping may be missing
  (Booked is read first: a second bookkeep is refused).
An unmapped payment method makes no call at all: the order carries the note (its error, with the hint to map the
method) until the mapping is saved, and the next run or webhook registers the payment.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from bridge_orders.app.document_steps import BUSY, WAITING, DocumentSteps, StepDone, StepFailed, StepResult
from bridge_orders.app.ports import Clock, ConcurrentWrite, FortnoxPayment, FortnoxSettlements, UnitOfWorkFactory
from bridge_orders.domain.ikas_order import IkasOrder
from bridge_orders.domain.order_record import REGISTER_PAYMENT, Exchange, OrderError, StepCall
from bridge_orders.domain.selection import PAID_PAYMENT
from bridge_orders.domain.settings import OrderSettings

CENT: Final = Decimal("0.01")
CREATED: Final = "created"
FOUND: Final = "found"


def unmapped_payment_method(method: str | None) -> tuple[str, str]:
    """The note of an order whose payment method has no Fortnox mode of payment: message and hint."""
    shown = method or "(none)"
    return (
        f"the ikas payment method {shown} has no Fortnox mode of payment, so the invoice stays unpaid in Fortnox",
        f"map the ikas payment method {shown} in orders.modes_of_payment; the payment is registered afterwards",
    )


class RegisterPayment:
    """The register_payment step of one order; safe to call again at any time, by any worker."""

    def __init__(
        self, uow_for: UnitOfWorkFactory, steps: DocumentSteps, fortnox: FortnoxSettlements, clock: Clock
    ) -> None:
        self._uow_for, self._steps, self._fortnox, self._clock = uow_for, steps, fortnox, clock

    def __call__(self, tenant_id: str, order: IkasOrder, settings: OrderSettings) -> StepResult | None:
        """None when there is nothing to do: payments are not registered, the order is not paid, it has no
        invoice yet, or its payment is done."""
        with self._uow_for(tenant_id) as uow:
            record = uow.orders.get(order.id)
        if record is None or record.fortnox_invoice_number is None:
            return None
        resuming = record.intent == REGISTER_PAYMENT  # an earlier attempt's outcome is unclear: resolve it
        wanted = settings.register_payments and order.payment_status == PAID_PAYMENT and order.status != "CANCELLED"
        if not resuming and not wanted:
            return None
        method = order.payment_method_type
        mode = settings.modes_of_payment.get(method) if method else None
        if mode is None and not resuming:
            return self._unmapped(tenant_id, order.id, method)

        def work(call: StepCall) -> StepDone:
            invoice_number = call.fortnox_invoice_number
            assert invoice_number is not None  # claim_step checked it
            return self._work(tenant_id, call, invoice_number, mode)

        return self._steps.run_step(tenant_id, order.id, REGISTER_PAYMENT, False, work)

    def _work(self, tenant_id: str, call: StepCall, invoice_number: str, mode: str | None) -> StepDone:
        invoice = self._fortnox.invoice_state(tenant_id, invoice_number)
        if invoice is None:
            raise StepFailed(
                f"Fortnox has no invoice {invoice_number} any more, so its payment cannot be registered",
                "check the invoice in Fortnox",
            )
        if invoice.cancelled or invoice.credit_invoice_number:
            raise StepFailed(
                f"the Fortnox invoice {invoice_number} is {'cancelled' if invoice.cancelled else 'credited'}, so "
                "Bridge registers no payment on it",
                "register the payment in Fortnox by hand if it belongs there after all",
            )
        ours = self._ours(tenant_id, invoice_number, invoice.currency, invoice.total)
        wrote = False
        exchanges: list[Exchange] = [invoice.exchange]
        if ours is None:
            if mode is None:  # a resumed attempt whose mapping was removed meanwhile: nothing was paid
                message, hint = unmapped_payment_method(None)
                raise StepFailed(message, hint)
            if not invoice.booked:
                exchanges.append(self._fortnox.bookkeep_invoice(tenant_id, invoice_number))
                wrote = True
            ours = self._fortnox.register_payment(tenant_id, invoice_number, invoice.total, invoice.currency, mode)
            wrote, found = True, False
        else:
            found = True
        exchanges.append(ours.exchange)
        if not ours.booked:
            exchanges.append(self._fortnox.bookkeep_payment(tenant_id, ours.number))
            wrote = True
        exchange = Exchange(
            "\n".join(e.request for e in exchanges), "\n".join(e.response for e in exchanges if e.response)
        )
        number = ours.number
        return StepDone(
            lambda r, at: r.record_paid(call.claim_token, number, found=found, at=at, exchange=exchange),
            FOUND if found else CREATED,
            wrote,
        )

    def _ours(self, tenant_id: str, invoice_number: str, currency: str, total: Decimal) -> FortnoxPayment | None:
        """A payment of the invoice's total is Bridge's (registered by an attempt whose answer was lost)."""
        for payment in self._fortnox.payments(tenant_id, invoice_number, currency):
            if abs(payment.amount - total) < CENT:
                return payment
        return None

    def _unmapped(self, tenant_id: str, ikas_order_id: str, method: str | None) -> StepResult:
        message, hint = unmapped_payment_method(method)
        try:
            with self._uow_for(tenant_id) as uow:
                record = uow.orders.get(ikas_order_id)
                assert record is not None
                record.payment_waits(OrderError(message, None, hint, self._clock.now()))
                uow.commit()
        except ConcurrentWrite as busy:
            return StepResult(REGISTER_PAYMENT, BUSY, False, None, busy.message, busy)
        # Waiting, not failed: the merchant's mapping is what is missing, and a run is not failed by it.
        return StepResult(REGISTER_PAYMENT, WAITING, False, record, message)
