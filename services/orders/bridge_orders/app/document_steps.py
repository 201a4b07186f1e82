"""The documents after the Fortnox order: its invoice, the invoice e-mail, the PDF on the ikas order (product.md §5).

Each step is one intent on the record (domain/order_record.py), claimed and committed BEFORE the upstream call,
its outcome recorded in a second transaction, exactly like the order's own step (export_order.py):
- create_invoice: the Fortnox order's InvoiceReference first (read, or the answer of the create just made), after an
  unclear outcome also the key among the invoices, and only then `createinvoice` (the client reads both of its
  answer shapes). A lost answer is looked up after settling.
- send_invoice_email: `GET …/email` once. Nothing can be looked up afterwards, so a lost answer, or a worker that
  died after committing the intent, makes the e-mail `unknown`; it is never asked again by itself, only by an
  explicit resend (`again`). A call that certainly never reached Fortnox (a refused token, a 429 the transport
  gave up on, a connection never made) leaves it `not_requested`, so it may be asked for later.
- attach_invoice_pdf: the ikas order's invoices first (this app's, with this invoice number: then it is attached
  already); then the PDF and addOrderInvoice. When Fortnox e-mails the invoice (orders.send_invoice_email) the
  e-mail is the delivery: the PDF is Fortnox's `preview` (the invoice stays unsent until the e-mail marks it
  sent) and ikas does not notify the customer. Otherwise the attachment is the delivery: `print` (Fortnox marks
  the invoice sent) and ikas notifies the customer.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from bridge_orders.app.export_order import PAUSED, failed_exchange, is_paused, upstream_failure
from bridge_orders.app.ports import (
    Clock,
    ConcurrentWrite,
    FortnoxInvoices,
    FortnoxOrderState,
    IkasOrderInvoices,
    IkasOrders,
    UnitOfWorkFactory,
)
from bridge_orders.domain.order_record import (
    ATTACH_INVOICE_PDF,
    CLAIM_LEASE,
    CREATE_INVOICE,
    EMAIL_NOT_REQUESTED,
    SEND_INVOICE_EMAIL,
    OrderBusy,
    OrderError,
    OrderRecord,
    StepCall,
)
from bridge_orders.domain.settings import OrderSettings
from bridge_platform.errors import Conflict, NotFound, OutcomeUnknown, UpstreamError, UpstreamRejected

_Apply = Callable[[OrderRecord, datetime], None]

# StepResult.outcome
CREATED: Final = "created"
FOUND: Final = "found"
SENT: Final = "sent"
ATTACHED: Final = "attached"
NOTHING: Final = "nothing"  # the step had nothing to do (done before, or not asked again)
BUSY: Final = "busy"
UNKNOWN: Final = "unknown"
FAILED: Final = "failed"
WAITING: Final = "waiting"  # the connection is paused
CANCELLED: Final = "cancelled"  # the cancellation steps (cancellation_step.py)
CREDITED: Final = "credited"
DONE: Final = frozenset({CREATED, FOUND, SENT, ATTACHED, CANCELLED, CREDITED})


@dataclass(frozen=True)
class StepResult:
    step: str
    outcome: str
    wrote: bool  # this attempt certainly wrote to Fortnox or ikas
    record: OrderRecord | None  # as committed after the step; None when another worker had it
    reason: str | None = None
    refusal: Conflict | None = None  # why the step could not run now (busy, paused), for the per-order actions


class StepFailed(Exception):
    """The step cannot succeed as things stand (a document is gone or cancelled)."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message, self.hint = message, hint


@dataclass(frozen=True)
class StepDone:
    apply: _Apply
    outcome: str
    wrote: bool


class DocumentSteps:
    """Runs the steps after the Fortnox order for one ikas order; each safe to call again at any time."""

    def __init__(
        self,
        uow_for: UnitOfWorkFactory,
        ikas: IkasOrders,
        ikas_invoices: IkasOrderInvoices,
        fortnox: FortnoxInvoices,
        clock: Clock,
        *,
        claim_lease: timedelta = CLAIM_LEASE,
    ) -> None:
        self._uow_for, self._ikas, self._ikas_invoices = uow_for, ikas, ikas_invoices
        self._fortnox, self._clock, self._claim_lease = fortnox, clock, claim_lease

    def follow_up(
        self,
        tenant_id: str,
        ikas_order_id: str,
        settings: OrderSettings,
        *,
        invoice: bool,
        just_created: FortnoxOrderState | None = None,
    ) -> list[StepResult]:
        """What follows the Fortnox order: the invoice when `invoice` (orders.create_invoice, or asked for),
        then the e-mail per orders.send_invoice_email, then the PDF (automatically once there is an invoice).
        Unfinished intents are resolved whatever the settings say now. `just_created`: the order as the create of
        this same attempt answered (ExportOrderResult.fortnox_order)."""
        record = self._record(tenant_id, ikas_order_id)
        results: list[StepResult] = []
        if record.fortnox_order_number is None:
            return results
        if record.fortnox_invoice_number is None:
            if not (invoice or record.intent == CREATE_INVOICE):
                return results
            result = self.create_invoice(tenant_id, ikas_order_id, just_created=just_created)
            results.append(result)
            if result.outcome not in DONE or result.record is None:
                return results
            record = result.record
        wants_email = settings.send_invoice_email and record.invoice_email_state == EMAIL_NOT_REQUESTED
        if wants_email or record.intent == SEND_INVOICE_EMAIL:
            result = self.send_email(tenant_id, ikas_order_id)
            results.append(result)
            if result.record is None or result.outcome in (BUSY, WAITING):
                return results
            record = result.record
        # ikas blocks apps whose calls fail often (ikas-api.md §7): a refused attachment waits for the merchant's
        # "attach PDF" instead of being sent again by every run.
        if record.invoice_attached_at is None and not record.was_refused(ATTACH_INVOICE_PDF):
            results.append(self.attach_pdf(tenant_id, ikas_order_id, settings))
        return results

    # -- the steps ------------------------------------------------------------------------------------------

    def create_invoice(
        self, tenant_id: str, ikas_order_id: str, *, just_created: FortnoxOrderState | None = None
    ) -> StepResult:
        """`just_created`: the Fortnox order as its create answered moments ago, in this same attempt."""

        def work(call: StepCall) -> StepDone:
            order_number = call.fortnox_order_number
            assert order_number is not None  # claim_step checked it
            state: FortnoxOrderState | None
            if just_created is not None and just_created.number == order_number and not call.resumed:
                # No GET: the create's answer is the order's state. Nothing of Bridge's can have invoiced it
                # since (the step is not resumed: no createinvoice of an earlier attempt is unaccounted for), and
                # a merchant invoicing it by hand had no wider window than between a GET and the PUT below.
                state = just_created
            else:
                state = self._fortnox.order_state(tenant_id, order_number)
            if state is None:
                raise StepFailed(
                    f"Fortnox has no order {order_number} any more, so it cannot be invoiced",
                    "check the order in Fortnox; Bridge never creates a second one",
                )
            if state.invoice_number:
                number, exchange = state.invoice_number, state.exchange
                return StepDone(
                    lambda r, at: r.record_invoice(call.claim_token, number, found=True, at=at, exchange=exchange),
                    FOUND,
                    False,
                )
            if state.cancelled:
                raise StepFailed(
                    f"the Fortnox order {order_number} is cancelled, so it is not invoiced",
                    "invoice it in Fortnox by hand if it should be invoiced after all",
                )
            # The key among the invoices after an unclear outcome only (product.md §5: "after any unclear
            # outcome ... orders and invoices"). On a first attempt it cannot change the decision: every earlier
            # createinvoice recorded its invoice (then this step is not claimed) or failed clearly before
            # Fortnox made anything, and an invoice made from this order, by anyone, is its InvoiceReference,
            # checked above.
            found = self._fortnox.find(tenant_id, call.key) if call.resumed else None
            if found is not None:
                return StepDone(
                    lambda r, at: r.record_invoice(
                        call.claim_token, found.number, found=True, at=at, exchange=found.exchange
                    ),
                    FOUND,
                    False,
                )
            created = self._fortnox.create_from_order(tenant_id, order_number)
            return StepDone(
                lambda r, at: r.record_invoice(
                    call.claim_token, created.number, found=False, at=at, exchange=created.exchange
                ),
                CREATED,
                True,
            )

        return self.run_step(tenant_id, ikas_order_id, CREATE_INVOICE, False, work)

    def send_email(self, tenant_id: str, ikas_order_id: str, *, again: bool = False) -> StepResult:
        def work(call: StepCall) -> StepDone:
            invoice_number = call.fortnox_invoice_number
            assert invoice_number is not None
            exchange = self._fortnox.email(tenant_id, invoice_number)
            return StepDone(lambda r, at: r.record_email_sent(call.claim_token, at, exchange), SENT, True)

        return self.run_step(tenant_id, ikas_order_id, SEND_INVOICE_EMAIL, again, work)

    def attach_pdf(
        self, tenant_id: str, ikas_order_id: str, settings: OrderSettings, *, again: bool = False
    ) -> StepResult:
        def work(call: StepCall) -> StepDone:
            invoice_number = call.fortnox_invoice_number
            assert invoice_number is not None
            # Always read again, not only after an unknown outcome: Order.invoices is what decides.
            order = self._ikas.get_order(tenant_id, ikas_order_id)
            if order is None:
                raise StepFailed(
                    f"ikas has no order {ikas_order_id} any more, so the invoice PDF cannot be attached",
                    "check the order in ikas",
                )
            app_id = self._ikas_invoices.app_id(tenant_id)
            listed = [
                invoice
                for invoice in order.invoices
                if invoice.number == invoice_number and app_id in (invoice.store_app_id, invoice.app_id)
            ]
            if listed:
                attached_at = listed[-1].created_at
                return StepDone(
                    lambda r, at: r.record_attached(
                        call.claim_token,
                        attached_at or at,
                        found=True,
                        detail=f"invoice {invoice_number} is on the ikas order already",
                    ),
                    FOUND,
                    False,
                )
            fortnox_emails = settings.send_invoice_email
            pdf = self._fortnox.pdf(tenant_id, invoice_number, mark_sent=not fortnox_emails)
            buyer_is_company = order.billing_address is not None and order.billing_address.is_company
            attached = self._ikas_invoices.attach(
                tenant_id,
                ikas_order_id,
                invoice_number,
                pdf,
                buyer_is_company=buyer_is_company,
                notify_customer=not fortnox_emails,
            )
            return StepDone(
                lambda r, at: r.record_attached(call.claim_token, at, found=False, exchange=attached.exchange),
                ATTACHED,
                True,
            )

        return self.run_step(tenant_id, ikas_order_id, ATTACH_INVOICE_PDF, again, work)

    # -- the two transactions around a step ----------------------------------------------------------------

    def run_step(
        self, tenant_id: str, ikas_order_id: str, step: str, again: bool, work: Callable[[StepCall], StepDone]
    ) -> StepResult:
        """One step between its two transactions: the intent claimed and committed, `work` (the look-up first,
        then the write), the outcome recorded. Also the runner of the steps after invoicing (payment_step.py)."""
        token = uuid.uuid4().hex
        try:
            with self._uow_for(tenant_id) as uow:
                record = self._existing(uow.orders.get(ikas_order_id), ikas_order_id)
                call = record.claim_step(step, token, self._clock.now(), again=again, lease=self._claim_lease)
                uow.commit()  # the intent is durable before anything is written upstream
        except (OrderBusy, ConcurrentWrite) as busy:
            return StepResult(step, BUSY, False, None, busy.message, busy)
        if call is None:
            return StepResult(step, NOTHING, False, record)
        refusal: Conflict | None = None
        try:
            done = work(call)
        except OutcomeUnknown as unknown:
            detail, exchange = unknown.message, failed_exchange(unknown)
            done = StepDone(lambda r, at: r.record_unknown(token, detail, at, exchange), UNKNOWN, False)
        except UpstreamError as error:
            failure, exchange = upstream_failure(error, self._clock.now()), failed_exchange(error)
            refused = isinstance(error, UpstreamRejected)
            done = StepDone(lambda r, at: r.record_failure(token, failure, exchange, refused=refused), FAILED, False)
        except StepFailed as failed:
            failure = OrderError(failed.message, None, failed.hint, self._clock.now())
            done = StepDone(lambda r, at: r.record_failure(token, failure), FAILED, False)
        except NotFound as missing:
            failure = OrderError(missing.message, None, "check the order in ikas and Fortnox", self._clock.now())
            done = StepDone(lambda r, at: r.record_failure(token, failure), FAILED, False)
        except Conflict as error:
            if not is_paused(error):
                raise
            refusal = error
            done = StepDone(lambda r, at: r.pause(token, PAUSED, at), WAITING, False)
        try:
            with self._uow_for(tenant_id) as uow:
                record = self._existing(uow.orders.get(ikas_order_id), ikas_order_id)
                done.apply(record, self._clock.now())
                uow.commit()
        except (OrderBusy, ConcurrentWrite) as busy:
            # Our claim ran out and another worker took over; its look-up finds what we did.
            return StepResult(step, BUSY, done.wrote, None, busy.message, busy)
        reason = record.error.message if done.outcome in (FAILED, UNKNOWN) and record.error else None
        if done.outcome == UNKNOWN and reason is None:
            reason = "Fortnox did not confirm whether it e-mailed the invoice"
        if done.outcome == WAITING:
            reason = PAUSED
        return StepResult(step, done.outcome, done.wrote, record, reason, refusal)

    def _record(self, tenant_id: str, ikas_order_id: str) -> OrderRecord:
        with self._uow_for(tenant_id) as uow:
            return self._existing(uow.orders.get(ikas_order_id), ikas_order_id)

    @staticmethod
    def _existing(record: OrderRecord | None, ikas_order_id: str) -> OrderRecord:
        if record is None:
            raise NotFound(f"no order {ikas_order_id} is known to Bridge")
        return record
