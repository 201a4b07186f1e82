"""One ikas order known to Bridge, and the state machine that sends it to Fortnox exactly once (product.md §5).

Exactly once rests on three rules kept here:
- an intent (`create_fortnox_order`, `create_invoice`, `send_invoice_email`, `attach_invoice_pdf`) is recorded and
  committed, together with a claim that no other worker may take while it lasts, BEFORE the upstream call; the
  outcome is recorded in a second transaction;
- every create is preceded by a look-up: the order by its idempotency key (`ikas:<order id>` in
  ExternalInvoiceReference1), the invoice by the Fortnox order's InvoiceReference and the same key, the
  attachment by the ikas order's invoices. An intent found without its outcome (a crash between the two
  transactions) or an outcome recorded as unknown (a timeout, a dropped connection) is therefore resolved by that
  look-up, never by a blind second create;
- the e-mail request is the exception: Fortnox's `GET …/email` has a side effect and nothing to look up, so an
  e-mail intent that outlives its worker, or whose answer is lost, makes the e-mail state `unknown` and is never
  asked again by itself; only an explicit resend (`again`) asks Fortnox a second time.

After an unknown outcome the claim is held for a settling time, so a request still in flight upstream lands
before anyone looks again. The steps run one at a time per record (one claim), in order: the Fortnox order, its
invoice, the e-mail, the PDF on the ikas order; after them §5b's `register_payment`, and for an order cancelled
in ikas `cancel_fortnox_order` or `credit_invoice`, for refunds and partial cancellations `credit_invoice` (the
rows taken back), and for edits before invoicing `update_fortnox_order` (domain/after_transfer.py).
`fortnox_state` follows the Fortnox documents (`order`, `invoiced`, `paid`, `cancelled`, `credited`,
`partially_credited`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

from bridge_platform.errors import Conflict

OUTGOING: Final = "outgoing"
CREATED: Final = "created"
FULFILLED: Final = "fulfilled"
ERROR: Final = "error"
STATUSES: Final = (ERROR, FULFILLED, CREATED, OUTGOING)  # precedence: the first that applies wins

EMAIL_NOT_REQUESTED: Final = "not_requested"
EMAIL_SENT: Final = "sent"
EMAIL_UNKNOWN: Final = "unknown"
EMAIL_STATES: Final = (EMAIL_NOT_REQUESTED, EMAIL_SENT, EMAIL_UNKNOWN)

FORTNOX_ORDER: Final = "order"
FORTNOX_INVOICED: Final = "invoiced"
FORTNOX_PAID: Final = "paid"
FORTNOX_CANCELLED: Final = "cancelled"
FORTNOX_CREDITED: Final = "credited"
FORTNOX_PARTIALLY_CREDITED: Final = "partially_credited"
FORTNOX_STATES: Final = (
    FORTNOX_ORDER,
    FORTNOX_INVOICED,
    FORTNOX_PAID,
    FORTNOX_CANCELLED,
    FORTNOX_CREDITED,
    FORTNOX_PARTIALLY_CREDITED,
)
# The states after which nothing is paid any more (a cancelled or credited order is not paid by Bridge).
_SETTLED: Final = frozenset({FORTNOX_PAID, FORTNOX_CANCELLED, FORTNOX_CREDITED})
# The states of an order whose cancellation Fortnox follows already.
_UNDONE: Final = frozenset({FORTNOX_CANCELLED, FORTNOX_CREDITED})

CREATE_FORTNOX_ORDER: Final = "create_fortnox_order"
CREATE_INVOICE: Final = "create_invoice"
SEND_INVOICE_EMAIL: Final = "send_invoice_email"
ATTACH_INVOICE_PDF: Final = "attach_invoice_pdf"
REGISTER_PAYMENT: Final = "register_payment"
CANCEL_FORTNOX_ORDER: Final = "cancel_fortnox_order"
CREDIT_INVOICE: Final = "credit_invoice"
UPDATE_FORTNOX_ORDER: Final = "update_fortnox_order"
STEPS: Final = (
    CREATE_FORTNOX_ORDER,
    CREATE_INVOICE,
    SEND_INVOICE_EMAIL,
    ATTACH_INVOICE_PDF,
    REGISTER_PAYMENT,
    CANCEL_FORTNOX_ORDER,
    CREDIT_INVOICE,
    UPDATE_FORTNOX_ORDER,
)
# What a step's success proves done as well: the e-mail and the attachment need the invoice, which needs the
# order; the e-mail and the attachment are independent of each other.
_PROVES_DONE: Final = {
    CREATE_FORTNOX_ORDER: frozenset({CREATE_FORTNOX_ORDER}),
    CREATE_INVOICE: frozenset({CREATE_FORTNOX_ORDER, CREATE_INVOICE}),
    SEND_INVOICE_EMAIL: frozenset({CREATE_FORTNOX_ORDER, CREATE_INVOICE, SEND_INVOICE_EMAIL}),
    ATTACH_INVOICE_PDF: frozenset({CREATE_FORTNOX_ORDER, CREATE_INVOICE, ATTACH_INVOICE_PDF}),
    REGISTER_PAYMENT: frozenset({CREATE_FORTNOX_ORDER, CREATE_INVOICE, REGISTER_PAYMENT}),
    CANCEL_FORTNOX_ORDER: frozenset({CREATE_FORTNOX_ORDER, CANCEL_FORTNOX_ORDER}),
    CREDIT_INVOICE: frozenset({CREATE_FORTNOX_ORDER, CREATE_INVOICE, REGISTER_PAYMENT, CREDIT_INVOICE}),
    UPDATE_FORTNOX_ORDER: frozenset({CREATE_FORTNOX_ORDER, UPDATE_FORTNOX_ORDER}),
}

FULFILLED_PACKAGE_STATUSES: Final = frozenset({"FULFILLED", "DELIVERED"})

# Longer than any upstream call may take, rate-limit waits and 429 retries included, so a live worker never
# loses its claim while its write may still land. A crashed worker's order waits this long before another
# worker looks it up (BRIDGE_ORDER_CLAIM_LEASE_S sets it; tests shorten it, production keeps the default).
CLAIM_LEASE: Final = timedelta(minutes=5)
# After an unknown outcome nobody looks again before this: a request the upstream is still processing lands first.
UNKNOWN_OUTCOME_SETTLE: Final = timedelta(seconds=30)

MAX_TIMELINE: Final = 200  # the oldest attempts are dropped beyond this; the record stays small
MAX_EXCHANGE: Final = 600  # characters kept of one request or response on the timeline

_UNCONFIRMED: Final = {
    CREATE_FORTNOX_ORDER: "Fortnox did not confirm whether the order was created",
    CREATE_INVOICE: "Fortnox did not confirm whether the invoice was created",
    ATTACH_INVOICE_PDF: "ikas did not confirm whether the invoice PDF was attached",
    REGISTER_PAYMENT: "Fortnox did not confirm whether the payment was registered and bookkept",
    CANCEL_FORTNOX_ORDER: "Fortnox did not confirm whether the order was cancelled",
    CREDIT_INVOICE: "Fortnox did not confirm whether the invoice was credited",
    UPDATE_FORTNOX_ORDER: "Fortnox did not confirm whether the order's rows were updated",
}
_LOOKED_UP: Final = {
    CREATE_FORTNOX_ORDER: "Bridge looks the order up in Fortnox before it tries again; nothing is created twice",
    CREATE_INVOICE: (
        "Bridge reads the Fortnox order's invoice reference before it tries again; nothing is invoiced twice"
    ),
    ATTACH_INVOICE_PDF: "Bridge reads the ikas order's invoices before it tries again; nothing is attached twice",
    REGISTER_PAYMENT: (
        "Bridge reads the invoice's payments before it tries again; a payment of the invoice's total is Bridge's, "
        "so nothing is paid twice"
    ),
    CANCEL_FORTNOX_ORDER: "Bridge reads the Fortnox order's Cancelled flag before it tries again",
    CREDIT_INVOICE: (
        "Bridge reads the invoice's credit invoices before it tries again and credits only what they do not; "
        "nothing is credited twice"
    ),
    UPDATE_FORTNOX_ORDER: (
        "Bridge reads the Fortnox order's rows again before it tries again; an update sets the rows, so it is "
        "never applied twice"
    ),
}
EMAIL_UNKNOWN_HINT: Final = (
    "Fortnox may or may not have sent the e-mail; Bridge never asks again by itself. Check with the customer "
    "or in Fortnox, and use Resend e-mail if it did not arrive"
)


def idempotency_key(ikas_order_id: str) -> str:
    """ExternalInvoiceReference1 of the Fortnox order and invoice of one ikas order (product.md §5)."""
    return f"ikas:{ikas_order_id}"


class OrderBusy(Conflict):
    """Another worker holds the order's claim (or an unknown outcome is settling); try again later."""

    def __init__(self, ikas_order_id: str, until: datetime | None) -> None:
        super().__init__(
            f"order {ikas_order_id} is being sent by another worker",
            {"ikas_order_id": ikas_order_id, "until": until.isoformat() if until else ""},
        )


class StepNotPossible(Conflict):
    """The step cannot run now: the document it builds on does not exist yet."""

    def __init__(self, ikas_order_id: str, message: str) -> None:
        super().__init__(message, {"ikas_order_id": ikas_order_id})


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class OrderError:
    """The error object of product.md §8: plain English, the upstream code, a hint, when."""

    message: str
    upstream_code: str | None
    hint: str | None
    at: datetime


def _shortened(text: str) -> str:
    return text if len(text) <= MAX_EXCHANGE else text[: MAX_EXCHANGE - 1] + "…"


@dataclass(frozen=True)
class Exchange:
    """What one upstream call sent and got back, as the timeline shows it: short and redacted (never tokens,
    secrets or e-mail bodies; the adapters build it from what they send, not from raw HTTP)."""

    request: str
    response: str

    def shortened(self) -> Exchange:
        return Exchange(_shortened(self.request), _shortened(self.response))


@dataclass(frozen=True)
class Attempt:
    """One entry of the order's timeline: a step (intent) and what came of it, with the exchange if one was made."""

    at: datetime
    step: str
    # started | resumed | created | found | unknown | failed | refused | waiting | paused | sent | attached |
    # cancelled | credited | updated | edited_after_invoice
    outcome: str
    detail: str = ""
    request: str = ""
    response: str = ""


@dataclass(frozen=True)
class StepCall:
    """What a claim allows: one intent, keyed for the look-up that precedes any create."""

    intent: str
    ikas_order_id: str
    key: str
    claim_token: str
    resumed: bool  # an earlier attempt's outcome is unknown (crash or lost answer)
    fortnox_order_number: str | None = None
    fortnox_invoice_number: str | None = None


FortnoxCall = StepCall  # the name the order's own step had first


class OrderRecord:
    """One ikas order per tenant (unique by tenant and ikas order id)."""

    def __init__(
        self,
        *,
        id: str,
        tenant_id: str,
        ikas_order_id: str,
        ikas_order_number: str,
        ordered_at: datetime,
        at: datetime,
    ) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.ikas_order_id = ikas_order_id
        self.ikas_order_number = ikas_order_number
        self.ordered_at = ordered_at
        self.customer_name = ""
        self.customer_email: str | None = None
        self.package_status: str | None = None
        self.status = OUTGOING
        self.waiting_reason: str | None = None
        self.error: OrderError | None = None
        self.fortnox_state: str | None = None
        self.fortnox_order_number: str | None = None
        self.fortnox_invoice_number: str | None = None
        self.invoice_email_state = EMAIL_NOT_REQUESTED
        self.invoice_email_at: datetime | None = None
        self.invoice_attached_at: datetime | None = None
        self.ikas_total: Money | None = None
        self.fortnox_total: Money | None = None
        self.totals_match: bool | None = None
        self.totals_explanation: str | None = None
        self.intent: str | None = None
        self.claim_token: str | None = None
        self.claim_expires_at: datetime | None = None
        self.timeline: tuple[Attempt, ...] = ()
        # What Bridge last made the Fortnox documents agree with (after_transfer.Followed as JSON); None until the
        # Fortnox order exists and §5b first looked.
        self.followed: dict[str, str] | None = None
        self.edited_after_invoice = False
        self.edit_advice: str | None = None
        self.created_at = at
        self.updated_at = at

    # -- what ikas says ---------------------------------------------------------------------------------

    def observe(
        self,
        *,
        number: str,
        ordered_at: datetime,
        customer_name: str,
        customer_email: str | None,
        package_status: str | None,
        total: Money,
        at: datetime,
    ) -> None:
        """Takes the ikas order's current facts (a re-read after a webhook or a run)."""
        self.ikas_order_number, self.ordered_at = number, ordered_at
        self.customer_name, self.customer_email = customer_name, customer_email
        self.package_status, self.ikas_total = package_status, total
        self._settle_status(at)

    # -- waiting ----------------------------------------------------------------------------------------

    def wait(self, reason: str, at: datetime) -> None:
        """Listed as outgoing, not sent: waiting for manual sending, payment, relations, the connection."""
        if self.fortnox_order_number is not None:
            return
        if self.waiting_reason != reason:
            self._log(Attempt(at, CREATE_FORTNOX_ORDER, "waiting", reason))
        self.waiting_reason = reason
        self._settle_status(at)

    # -- the Fortnox order: intent and outcome ----------------------------------------------------------

    def claim(self, token: str, now: datetime, *, lease: timedelta = CLAIM_LEASE) -> StepCall | None:
        """Records the intent to create the Fortnox order under a claim; None when the order exists.

        Raises OrderBusy while another claim lasts (or an unknown outcome settles). The caller commits
        before it calls Fortnox, and looks the key up before it creates anything."""
        if self.fortnox_order_number is not None:
            return None
        self._check_free(token, now)
        return self._take(CREATE_FORTNOX_ORDER, token, now, lease, resumed=self.intent is not None)

    def record_created(
        self,
        token: str,
        number: str,
        *,
        found: bool,
        fortnox_total: Money | None,
        at: datetime,
        exchange: Exchange | None = None,
    ) -> None:
        """The Fortnox order exists (`found`: by the look-up, not by this attempt's create)."""
        self._check_claim(token, at)
        self.fortnox_order_number = number
        self.fortnox_state = self.fortnox_state or FORTNOX_ORDER
        self.fortnox_total = fortnox_total
        self._release()
        self.waiting_reason = None
        self._clear_error(CREATE_FORTNOX_ORDER)
        detail = f"Fortnox order {number}" + (" (found by its key)" if found else "")
        self._log_outcome(at, CREATE_FORTNOX_ORDER, "found" if found else "created", detail, exchange)
        self._settle_status(at)

    def record_unknown(self, token: str, detail: str, at: datetime, exchange: Exchange | None = None) -> None:
        """The write was sent and its answer lost. For the order, the invoice and the attachment the intent stays
        and the next attempt looks up first, not before the settling time; for the e-mail the state becomes
        `unknown` and nothing asks again by itself."""
        self._check_claim(token, at)
        step = self.intent or CREATE_FORTNOX_ORDER
        if step == SEND_INVOICE_EMAIL:
            self._release()
            self._email_unknown(at, detail, exchange)
            self._settle_status(at)
            return
        self.claim_token, self.claim_expires_at = None, at + UNKNOWN_OUTCOME_SETTLE
        self.error = OrderError(_UNCONFIRMED[step], None, _LOOKED_UP[step], at)
        self._log_outcome(at, step, "unknown", detail, exchange)
        self._settle_status(at)

    def record_failure(
        self, token: str, error: OrderError, exchange: Exchange | None = None, *, refused: bool = False
    ) -> None:
        """The attempt failed clearly (unavailable before anything was written, or `refused` by the upstream:
        the same request would be refused again)."""
        self._check_claim(token, error.at)
        step = self.intent or CREATE_FORTNOX_ORDER
        self._release()
        self.error = error
        self._log_outcome(error.at, step, "refused" if refused else "failed", error.message, exchange)
        self._settle_status(error.at)

    def was_refused(self, step: str) -> bool:
        """Whether the step's last outcome was a refusal (nothing since has done it)."""
        last = next((a.outcome for a in reversed(self.timeline) if a.step == step and a.outcome != "started"), None)
        return last == "refused"

    def pause(self, token: str | None, reason: str, at: datetime) -> None:
        """The connection is paused: nothing was sent (the token was refused before the request went out).
        Before the Fortnox order exists, the order waits as outgoing; an unclear intent stays unclear."""
        step = self.intent or CREATE_FORTNOX_ORDER
        if token is not None:
            self._check_claim(token, at)
            self.claim_token = self.claim_expires_at = None
            if step == SEND_INVOICE_EMAIL:
                self.intent = None  # certainly not asked: the e-mail may be asked for later
        if self.fortnox_order_number is None:
            self.waiting_reason = reason
        self._log(Attempt(at, step, "paused", reason))
        self._settle_status(at)

    # -- the steps after the order: invoice, e-mail, PDF ------------------------------------------------

    def claim_step(
        self, step: str, token: str, now: datetime, *, again: bool = False, lease: timedelta = CLAIM_LEASE
    ) -> StepCall | None:
        """Records the intent of one step under a claim; None when there is nothing to do.

        `again` is the merchant's explicit request (resend the e-mail, attach the PDF now): the step runs even
        though it ran before. Raises OrderBusy while another claim lasts, StepNotPossible when the document the
        step builds on does not exist. The caller commits (also after None: a dead worker's e-mail intent may
        just have become `unknown`) before it calls the upstream."""
        if step == CREATE_FORTNOX_ORDER:
            return self.claim(token, now, lease=lease)
        if step not in STEPS:
            raise ValueError(f"unknown step {step}")
        self._check_free(token, now)
        if self.fortnox_order_number is None:
            raise StepNotPossible(self.ikas_order_id, "the order is not in Fortnox yet: send it first")
        if step in (CANCEL_FORTNOX_ORDER, UPDATE_FORTNOX_ORDER) and self.fortnox_invoice_number is not None:
            raise StepNotPossible(
                self.ikas_order_id, "the Fortnox order is invoiced: its invoice is credited (or flagged) instead"
            )
        if (
            step not in (CREATE_INVOICE, CANCEL_FORTNOX_ORDER, UPDATE_FORTNOX_ORDER)
            and self.fortnox_invoice_number is None
        ):
            raise StepNotPossible(self.ikas_order_id, "the Fortnox order has no invoice yet: create the invoice first")
        leftover = self.intent
        if leftover == SEND_INVOICE_EMAIL:
            # The worker that recorded this intent stopped before its outcome: Fortnox may have sent the e-mail.
            self._release()
            self._email_unknown(now, "the previous attempt stopped after asking Fortnox to e-mail the invoice", None)
            self._settle_status(now)
            if step == SEND_INVOICE_EMAIL and not again:
                return None
            leftover = None
        done = {
            CREATE_INVOICE: self.fortnox_invoice_number is not None,
            SEND_INVOICE_EMAIL: self.invoice_email_state != EMAIL_NOT_REQUESTED and not again,
            ATTACH_INVOICE_PDF: self.invoice_attached_at is not None and not again,
            REGISTER_PAYMENT: self.fortnox_state in _SETTLED or self._paid_before(),
            CANCEL_FORTNOX_ORDER: self.fortnox_state in _UNDONE,
            CREDIT_INVOICE: self.fortnox_state in _UNDONE,
            UPDATE_FORTNOX_ORDER: self.fortnox_state in _UNDONE,
        }[step]
        if done:
            return None
        return self._take(step, token, now, lease, resumed=leftover == step)

    def record_invoice(
        self, token: str, number: str, *, found: bool, at: datetime, exchange: Exchange | None = None
    ) -> None:
        """The Fortnox invoice of the order exists (`found`: by the order's InvoiceReference or the key)."""
        self._check_claim(token, at)
        self.fortnox_invoice_number = number
        if self.fortnox_state in (None, FORTNOX_ORDER):
            self.fortnox_state = FORTNOX_INVOICED
        self._release()
        self._clear_error(CREATE_INVOICE)
        detail = f"Fortnox invoice {number}" + (" (found: the order was invoiced already)" if found else "")
        self._log_outcome(at, CREATE_INVOICE, "found" if found else "created", detail, exchange)
        self._settle_status(at)

    def record_email_sent(self, token: str, at: datetime, exchange: Exchange | None = None) -> None:
        self._check_claim(token, at)
        self.invoice_email_state, self.invoice_email_at = EMAIL_SENT, at
        self._release()
        self._clear_error(SEND_INVOICE_EMAIL)
        detail = f"Fortnox e-mailed invoice {self.fortnox_invoice_number}"
        self._log_outcome(at, SEND_INVOICE_EMAIL, "sent", detail, exchange)
        self._settle_status(at)

    def record_attached(
        self, token: str, at: datetime, *, found: bool, exchange: Exchange | None = None, detail: str = ""
    ) -> None:
        """The invoice PDF is on the ikas order (`found`: ikas already listed it)."""
        self._check_claim(token, at)
        self.invoice_attached_at = at
        self._release()
        self._clear_error(ATTACH_INVOICE_PDF)
        detail = detail or f"invoice {self.fortnox_invoice_number} on the ikas order"
        self._log_outcome(at, ATTACH_INVOICE_PDF, "found" if found else "attached", detail, exchange)
        self._settle_status(at)

    def record_paid(
        self, token: str, payment_number: str, *, found: bool, at: datetime, exchange: Exchange | None = None
    ) -> None:
        """The invoice's payment is registered and bookkept in Fortnox (`found`: by the look-up of its payments)."""
        self._check_claim(token, at)
        self.fortnox_state = FORTNOX_PAID
        self._release()
        self._clear_error(REGISTER_PAYMENT)
        detail = f"payment {payment_number} of invoice {self.fortnox_invoice_number}, bookkept" + (
            " (found among the invoice's payments)" if found else ""
        )
        self._log_outcome(at, REGISTER_PAYMENT, "found" if found else "created", detail, exchange)
        self._settle_status(at)

    def record_cancelled(
        self, token: str, detail: str, *, found: bool, at: datetime, exchange: Exchange | None = None
    ) -> None:
        """The ikas cancellation is followed: the Fortnox order (or its unbooked invoice) is cancelled (`found`:
        it was already)."""
        self._check_claim(token, at)
        step = self.intent or CANCEL_FORTNOX_ORDER
        self.fortnox_state = FORTNOX_CANCELLED
        self._release()
        self._clear_error(step)
        self._log_outcome(at, step, "found" if found else "cancelled", detail, exchange)
        self._settle_status(at)

    def record_credited(
        self,
        token: str,
        credit_number: str,
        *,
        found: bool,
        at: datetime,
        exchange: Exchange | None = None,
        whole: bool = True,
        followed: dict[str, str] | None = None,
        detail: str = "",
    ) -> None:
        """The invoice is credited by the credit invoice `credit_number` (`found`: credited already, by the look-up
        of its credit invoices). `whole`: the credits now cover the whole invoice; otherwise it is partially
        credited. `followed`: what the documents now agree with (§5b)."""
        self._check_claim(token, at)
        self.fortnox_state = FORTNOX_CREDITED if whole else FORTNOX_PARTIALLY_CREDITED
        if followed is not None:
            self.followed = dict(followed)
        self._release()
        self._clear_error(CREDIT_INVOICE)
        detail = detail or f"invoice {self.fortnox_invoice_number} credited by credit invoice {credit_number}" + (
            " (found among the invoice's credit invoices)" if found else ""
        )
        self._log_outcome(at, CREDIT_INVOICE, "found" if found else "credited", detail, exchange)
        self._settle_status(at)

    def record_nothing_to_credit(
        self, token: str, followed: dict[str, str] | None, detail: str, *, at: datetime, exchange: Exchange | None
    ) -> None:
        """The invoice holds nothing of what ikas took back (it was left out before invoicing): no credit, the
        state stays."""
        self._check_claim(token, at)
        if followed is not None:
            self.followed = dict(followed)
        self._release()
        self._clear_error(CREDIT_INVOICE)
        self._log_outcome(at, CREDIT_INVOICE, "found", detail, exchange)
        self._settle_status(at)

    def record_updated(
        self,
        token: str,
        followed: dict[str, str],
        detail: str,
        *,
        found: bool,
        at: datetime,
        exchange: Exchange | None = None,
    ) -> None:
        """The Fortnox order's rows (and freight) are the ikas order's again (`found`: they were already)."""
        self._check_claim(token, at)
        self.followed = dict(followed)
        self._release()
        self._clear_error(UPDATE_FORTNOX_ORDER)
        self._log_outcome(at, UPDATE_FORTNOX_ORDER, "found" if found else "updated", detail, exchange)
        self._settle_status(at)

    def follow(self, followed: dict[str, str], at: datetime) -> None:
        """What the Fortnox documents agree with, without a write: the baseline, or a change Bridge does not follow
        (a refund with follow_refunds off)."""
        self.followed = dict(followed)
        self.updated_at = at

    def flag_edited_after_invoice(self, followed: dict[str, str], changes: str, advice: str, at: datetime) -> None:
        """The ikas order was edited after its invoice was made: shown on the order, logged once per edit."""
        self.followed = dict(followed)
        self.edited_after_invoice, self.edit_advice = True, advice
        self._log(Attempt(at, UPDATE_FORTNOX_ORDER, "edited_after_invoice", f"{changes}. {advice}"))
        self.updated_at = at

    def payment_waits(self, error: OrderError) -> None:
        """The payment cannot be registered until the merchant acts (an unmapped payment method): the note is
        the order's error, shown once on the timeline however often a run looks again; no claim, no call made."""
        if self.fortnox_state in _SETTLED:
            return
        if self.error is None or self.error.message != error.message:
            self._log(Attempt(error.at, REGISTER_PAYMENT, "refused", error.message))
        self.error = error
        self._settle_status(error.at)

    # -- the totals check -------------------------------------------------------------------------------

    def check_totals(self, fortnox_total: Money, matches: bool, at: datetime, explanation: str = "") -> None:
        self.fortnox_total, self.totals_match = fortnox_total, matches
        self.totals_explanation = explanation or None
        self.updated_at = at

    # -- internals --------------------------------------------------------------------------------------

    def _check_free(self, token: str, now: datetime) -> None:
        if self.claim_expires_at is not None and now < self.claim_expires_at and self.claim_token != token:
            raise OrderBusy(self.ikas_order_id, self.claim_expires_at)

    def _take(self, step: str, token: str, now: datetime, lease: timedelta, *, resumed: bool) -> StepCall:
        self.intent = step
        self.claim_token, self.claim_expires_at = token, now + lease
        detail = "the previous attempt's outcome is unknown: looking up before writing" if resumed else ""
        self._log(Attempt(now, step, "resumed" if resumed else "started", detail))
        self.updated_at = now
        return StepCall(
            step,
            self.ikas_order_id,
            idempotency_key(self.ikas_order_id),
            token,
            resumed,
            self.fortnox_order_number,
            self.fortnox_invoice_number,
        )

    def _check_claim(self, token: str, at: datetime) -> None:
        if self.claim_token != token:
            # Our claim ran out and another worker took the order over: its look-up decides, not us.
            raise OrderBusy(self.ikas_order_id, self.claim_expires_at)

    def _clear_error(self, succeeded: str) -> None:
        """A success clears the error of its own step (and of the steps it proves done), never another's: a failed
        e-mail stays shown when the PDF is attached after it."""
        if self.error is None:
            return
        failed = next(
            (
                a.step
                for a in reversed(self.timeline)
                if a.outcome in ("failed", "refused") or (a.outcome == "unknown" and a.step != SEND_INVOICE_EMAIL)
            ),
            None,
        )
        if failed is None or failed in _PROVES_DONE[succeeded]:
            self.error = None

    def _paid_before(self) -> bool:
        """A partial credit after the payment leaves the state partially_credited: the payment is still done."""
        return self.fortnox_state == FORTNOX_PARTIALLY_CREDITED and any(
            a.step == REGISTER_PAYMENT and a.outcome in ("created", "found") for a in self.timeline
        )

    def _release(self) -> None:
        self.intent = self.claim_token = self.claim_expires_at = None

    def _email_unknown(self, at: datetime, detail: str, exchange: Exchange | None) -> None:
        self.invoice_email_state, self.invoice_email_at = EMAIL_UNKNOWN, at
        self._log_outcome(at, SEND_INVOICE_EMAIL, "unknown", f"{detail}. {EMAIL_UNKNOWN_HINT}", exchange)

    def _log_outcome(self, at: datetime, step: str, outcome: str, detail: str, exchange: Exchange | None) -> None:
        shown = exchange.shortened() if exchange is not None else Exchange("", "")
        self._log(Attempt(at, step, outcome, detail, shown.request, shown.response))

    def _log(self, attempt: Attempt) -> None:
        # Reassigned, never mutated in place, so the mapper sees the change.
        self.timeline = (*self.timeline, attempt)[-MAX_TIMELINE:]

    def _settle_status(self, at: datetime) -> None:
        if self.error is not None:
            self.status = ERROR
        elif self.fortnox_order_number is not None and self.package_status in FULFILLED_PACKAGE_STATUSES:
            self.status = FULFILLED
        elif self.fortnox_order_number is not None:
            self.status = CREATED
        else:
            self.status = OUTGOING
        if self.status != OUTGOING:
            self.waiting_reason = None
        self.updated_at = at
