"""One ikas order known to Bridge, and the state machine that sends it to Fortnox exactly once (product.md §5).

Exactly once rests on three rules kept here:
- an intent (`create_fortnox_order`) is recorded and committed, together with a claim that no other worker
  may take while it lasts, BEFORE the Fortnox call; the outcome is recorded in a second transaction;
- every create is preceded by a look-up of the idempotency key (`ikas:<order id>` in ExternalInvoiceReference1);
  an intent found without its outcome (a crash between the two transactions) or an outcome recorded as unknown
  (a timeout, a dropped connection) is therefore resolved by that look-up, never by a blind second create;
- after an unknown outcome the claim is held for a settling time, so a request still in flight at Fortnox
  lands before anyone looks again.

Room is left for what follows the order (invoice, e-mail, PDF, and §5b's payments, cancellations, refunds and
edits): each is another intent with its own outcome on the same record, and `fortnox_state` follows the
Fortnox documents (`order`, `invoiced`, `paid`, `cancelled`, `credited`, `partially_credited`).
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

FORTNOX_STATES: Final = ("order", "invoiced", "paid", "cancelled", "credited", "partially_credited")

CREATE_FORTNOX_ORDER: Final = "create_fortnox_order"

FULFILLED_PACKAGE_STATUSES: Final = frozenset({"FULFILLED", "DELIVERED"})

# Longer than any Fortnox call may take (HTTP timeouts are seconds), so a live worker never loses its claim.
CLAIM_LEASE: Final = timedelta(minutes=5)
# After an unknown outcome nobody looks again before this: a request Fortnox is still processing lands first.
UNKNOWN_OUTCOME_SETTLE: Final = timedelta(seconds=30)

MAX_TIMELINE: Final = 200  # the oldest attempts are dropped beyond this; the record stays small


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


@dataclass(frozen=True)
class Attempt:
    """One entry of the order's timeline: a step (intent) and what came of it."""

    at: datetime
    step: str
    outcome: str  # started | resumed | created | found | unknown | failed | waiting | paused
    detail: str = ""


@dataclass(frozen=True)
class FortnoxCall:
    """What a claim allows: one intent, keyed for the look-up that precedes any create."""

    intent: str
    ikas_order_id: str
    key: str
    claim_token: str
    resumed: bool  # an earlier attempt's outcome is unknown (crash or lost answer)


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
        self.intent: str | None = None
        self.claim_token: str | None = None
        self.claim_expires_at: datetime | None = None
        self.timeline: tuple[Attempt, ...] = ()
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

    # -- the intent and its outcome ---------------------------------------------------------------------

    def claim(self, token: str, now: datetime) -> FortnoxCall | None:
        """Records the intent to create the Fortnox order under a claim; None when the order exists.

        Raises OrderBusy while another claim lasts (or an unknown outcome settles). The caller commits
        before it calls Fortnox, and looks the key up before it creates anything."""
        if self.fortnox_order_number is not None:
            return None
        if self.claim_expires_at is not None and now < self.claim_expires_at and self.claim_token != token:
            raise OrderBusy(self.ikas_order_id, self.claim_expires_at)
        resumed = self.intent is not None
        self.intent = CREATE_FORTNOX_ORDER
        self.claim_token, self.claim_expires_at = token, now + CLAIM_LEASE
        detail = "the previous attempt's outcome is unknown: looking up before creating" if resumed else ""
        self._log(Attempt(now, CREATE_FORTNOX_ORDER, "resumed" if resumed else "started", detail))
        self.updated_at = now
        return FortnoxCall(
            CREATE_FORTNOX_ORDER, self.ikas_order_id, idempotency_key(self.ikas_order_id), token, resumed
        )

    def record_created(
        self, token: str, number: str, *, found: bool, fortnox_total: Money | None, at: datetime
    ) -> None:
        """The Fortnox order exists (`found`: by the look-up, not by this attempt's create)."""
        self._check_claim(token, at)
        self.fortnox_order_number = number
        self.fortnox_state = self.fortnox_state or "order"
        self.fortnox_total = fortnox_total
        self.intent = self.claim_token = self.claim_expires_at = None
        self.error = self.waiting_reason = None
        self._log(Attempt(at, CREATE_FORTNOX_ORDER, "found" if found else "created", f"Fortnox order {number}"))
        self._settle_status(at)

    def record_unknown(self, token: str, detail: str, at: datetime) -> None:
        """The create was sent and its answer lost: the intent stays, and the next attempt looks up first,
        not before the settling time."""
        self._check_claim(token, at)
        self.claim_token, self.claim_expires_at = None, at + UNKNOWN_OUTCOME_SETTLE
        self.error = OrderError(
            "Fortnox did not confirm whether the order was created",
            None,
            "Bridge looks the order up in Fortnox before it tries again; nothing is created twice",
            at,
        )
        self._log(Attempt(at, CREATE_FORTNOX_ORDER, "unknown", detail))
        self._settle_status(at)

    def record_failure(self, token: str, error: OrderError) -> None:
        """The attempt failed clearly (refused, or unavailable before anything was written)."""
        self._check_claim(token, error.at)
        self.intent = self.claim_token = self.claim_expires_at = None
        self.error = error
        self._log(Attempt(error.at, CREATE_FORTNOX_ORDER, "failed", error.message))
        self._settle_status(error.at)

    def pause(self, token: str | None, reason: str, at: datetime) -> None:
        """The connection is paused: the order waits as outgoing (an unclear intent stays unclear)."""
        if token is not None:
            self._check_claim(token, at)
            self.claim_token = self.claim_expires_at = None
        self.waiting_reason = reason
        self._log(Attempt(at, CREATE_FORTNOX_ORDER, "paused", reason))
        self._settle_status(at)

    # -- the totals check -------------------------------------------------------------------------------

    def check_totals(self, fortnox_total: Money, matches: bool, at: datetime) -> None:
        self.fortnox_total, self.totals_match = fortnox_total, matches
        self.updated_at = at

    # -- internals --------------------------------------------------------------------------------------

    def _check_claim(self, token: str, at: datetime) -> None:
        if self.claim_token != token:
            # Our claim ran out and another worker took the order over: its look-up decides, not us.
            raise OrderBusy(self.ikas_order_id, self.claim_expires_at)

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
