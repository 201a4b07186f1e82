"""ExportOrder: the Fortnox order of one ikas order, exactly once (product.md §5; style.md rule 6).

Three transactions around the Fortnox calls: the record (listed, or waiting with its reason); the intent with a
claim, committed BEFORE anything is written to Fortnox; the outcome. Between the second and the third, the key
is looked up first, so a crash, a lost answer or a second worker never yields a second Fortnox order. Before the
create, the registers the order points at are checked: its currency must exist in Fortnox (a clear error
otherwise), and the units of base-priced rows are created when missing. After it, the totals are compared
(domain/totals.py).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from bridge_orders.app.match_customer import MatchCustomer, customer_gone
from bridge_orders.app.ports import (
    ArticleNumbers,
    Clock,
    ConcurrentWrite,
    FortnoxCustomers,
    FortnoxOrders,
    FortnoxOrderState,
    FortnoxOrderSummary,
    FortnoxRegisters,
    IkasOrders,
    UnitOfWorkFactory,
    UnknownCustomer,
)
from bridge_orders.domain.ikas_order import AttributeValues, IkasOrder
from bridge_orders.domain.mapping import (
    CustomerDraft,
    MappingError,
    MissingRelations,
    OrderDraft,
    customer_draft,
    missing_relations,
    needs_unit_attribute,
    order_draft,
)
from bridge_orders.domain.order_record import CLAIM_LEASE, Exchange, Money, OrderBusy, OrderError, OrderRecord, StepCall
from bridge_orders.domain.selection import select
from bridge_orders.domain.settings import FREIGHT, OrderSettings
from bridge_orders.domain.totals import FortnoxTotals, check_totals
from bridge_platform.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    OutcomeUnknown,
    UpstreamError,
    UpstreamRejected,
)

_Apply = Callable[[OrderRecord, datetime], None]

PAUSE_REASONS: Final = ("needs_reauth", "disconnected")
PAUSED: Final = "paused: the Fortnox or ikas connection needs reconnecting; the order is sent afterwards"
HOME_CURRENCY: Final = "SEK"  # every Fortnox company keeps its books in SEK

# ExportOrderResult.outcome
CREATED: Final = "created"
FOUND: Final = "found"  # the look-up found the order an earlier attempt created
ALREADY_SENT: Final = "already_sent"
WAITING: Final = "waiting"
SKIPPED: Final = "skipped"
BUSY: Final = "busy"
UNKNOWN: Final = "unknown"
FAILED: Final = "failed"


@dataclass(frozen=True)
class ExportOrderRequest:
    tenant_id: str
    ikas_order_id: str
    manual: bool = False  # "send now": ignores sync_from and create_orders
    order: IkasOrder | None = None  # already read by the caller (a run's page); None: read it here


@dataclass(frozen=True)
class ExportOrderResult:
    ikas_order_id: str
    outcome: str
    status: str | None  # the record's status; None when the order is not listed (skipped)
    fortnox_order_number: str | None = None
    reason: str | None = None
    # The Fortnox order as this call's create answered (outcome CREATED only): the invoice step needs no read.
    fortnox_order: FortnoxOrderState | None = None
    # The ikas order as read for this call (when one was): the steps after the order (payment) need no read.
    order: IkasOrder | None = None


def is_paused(error: Exception) -> bool:
    return isinstance(error, Conflict) and error.details.get("reason") in PAUSE_REASONS


def failed_exchange(error: UpstreamError) -> Exchange | None:
    """The timeline's view of a failed call: the request the adapter put on the error, and what came back."""
    request = error.extra.get("request", "")
    if not request:
        return None
    status = f"{error.status} " if error.status else ""
    code = f"code {error.upstream_code}: " if error.upstream_code else ""
    return Exchange(request, f"{status}{code}{error.detail or error.message}")


def upstream_failure(error: UpstreamError, at: datetime) -> OrderError:
    return OrderError(error.detail or error.message, error.upstream_code, error.extra.get("hint"), at)


class ExportOrder:
    """Creates the Fortnox order for one ikas order; safe to call again after any crash, by any worker."""

    def __init__(
        self,
        uow_for: UnitOfWorkFactory,
        ikas: IkasOrders,
        articles: ArticleNumbers,
        customers: FortnoxCustomers,
        fortnox: FortnoxOrders,
        registers: FortnoxRegisters,
        clock: Clock,
        *,
        claim_lease: timedelta = CLAIM_LEASE,
    ) -> None:
        self._uow_for, self._ikas, self._articles = uow_for, ikas, articles
        self._fortnox, self._registers, self._clock = fortnox, registers, clock
        self._match_customer = MatchCustomer(uow_for, customers, clock)
        self._claim_lease = claim_lease

    def __call__(self, request: ExportOrderRequest) -> ExportOrderResult:
        if not request.tenant_id.strip() or not request.ikas_order_id.strip():
            raise InvalidInput("tenant_id and ikas_order_id are required")
        tenant_id, order_id = request.tenant_id, request.ikas_order_id
        order = request.order
        if order is not None and order.id != order_id:
            raise InvalidInput(f"the order given is {order.id}, not {order_id}")
        try:
            order = order or self._ikas.get_order(tenant_id, order_id)
        except Conflict as error:
            if is_paused(error):
                return self._pause(request, None)
            raise
        if order is None:
            raise NotFound(f"ikas has no order {order_id}")
        with self._uow_for(tenant_id) as uow:
            stored = uow.settings.get()
        settings = stored.settings if stored else OrderSettings()
        selection = select(order, settings, manual=request.manual)
        # The rules of §5 choose what is sent; an order already in Fortnox is followed whatever they say now
        # (cancelled, or placed before a later sync_from): §5b's steps come after it.
        if selection.skip_reason is not None and not self._in_fortnox(tenant_id, order_id):
            return ExportOrderResult(order_id, SKIPPED, None, reason=selection.skip_reason)

        try:
            record = self._listed(tenant_id, order, selection.waiting_reason)
        except ConcurrentWrite:
            return ExportOrderResult(order_id, BUSY, None, reason="another worker is listing the order")
        if record.fortnox_order_number is not None:
            return dataclasses.replace(self._result(record, ALREADY_SENT), order=order)
        if selection.waiting_reason is not None:
            return self._result(record, WAITING, selection.waiting_reason)

        try:
            variants = {line.variant_id: line.sku for line in order.lines if line.variant_id}
            article_numbers = self._articles.for_variants(tenant_id, variants)
        except Conflict as error:
            if is_paused(error):
                return self._pause(request, None)
            raise
        missing = missing_relations(order, article_numbers)
        if missing is not None and not settings.sync_items_without_relation:
            return self._wait(tenant_id, order_id, missing.waiting_reason)

        token = uuid.uuid4().hex
        try:
            with self._uow_for(tenant_id) as uow:
                record = self._get(uow.orders.get(order_id), order_id)
                call = record.claim(token, self._clock.now(), lease=self._claim_lease)
                uow.commit()  # the intent is durable before anything is written to Fortnox
        except (OrderBusy, ConcurrentWrite) as busy:
            return ExportOrderResult(order_id, BUSY, None, reason=busy.message)
        if call is None:
            return dataclasses.replace(self._result(record, ALREADY_SENT), order=order)
        return dataclasses.replace(self._send(tenant_id, order, settings, article_numbers, call), order=order)

    def _in_fortnox(self, tenant_id: str, order_id: str) -> bool:
        with self._uow_for(tenant_id) as uow:
            record = uow.orders.get(order_id)
        return record is not None and record.fortnox_order_number is not None

    # -- the Fortnox calls between intent and outcome --------------------------------------------------------

    def _send(
        self,
        tenant_id: str,
        order: IkasOrder,
        settings: OrderSettings,
        article_numbers: dict[str, str],
        call: StepCall,
    ) -> ExportOrderResult:
        found = True
        prices_include_vat: bool | None = None
        try:
            # Always first, also on a first attempt: the key decides, not our memory (a reinstalled tenant has
            # no records, and its orders are still in Fortnox). The invoices are searched after an unclear
            # outcome only: an invoice carries our key only when it was made from an order that carries it
            # (Bridge invoices only with createinvoice, which copies ExternalInvoiceReference1 onto the invoice,
            # fortnox-api.md §5.5-5.6), and a Fortnox order cannot be deleted, so when no order has the key no
            # invoice has it either. The orders search has no default filter: invoiced orders are in it.
            summary = self._fortnox.find(tenant_id, call.key, in_invoices=call.resumed)
            if summary is None:
                found = False
                prices_include_vat = self._ikas.prices_include_vat(tenant_id)
                draft = self._draft(tenant_id, order, settings, article_numbers, prices_include_vat)
                summary = self._create(tenant_id, draft)
            elif settings.shipping == FREIGHT and order.shipping_lines and summary.total is not None:
                prices_include_vat = self._ikas.prices_include_vat(tenant_id)  # the totals check needs it
        except OutcomeUnknown as unknown:
            detail, exchange = unknown.message, failed_exchange(unknown)
            return self._outcome(
                tenant_id, call, lambda r, at: r.record_unknown(call.claim_token, detail, at, exchange)
            )
        except UpstreamError as error:
            failure, exchange = upstream_failure(error, self._clock.now()), failed_exchange(error)
            return self._outcome(tenant_id, call, lambda r, at: r.record_failure(call.claim_token, failure, exchange))
        except Conflict as error:
            if is_paused(error):
                return self._outcome(tenant_id, call, lambda r, at: r.pause(call.claim_token, PAUSED, at))
            raise
        except InvalidInput as error:
            hint = error.hint if isinstance(error, MappingError) else "Send the order again"
            failure = OrderError(error.message, None, hint, self._clock.now())
            return self._outcome(tenant_id, call, lambda r, at: r.record_failure(call.claim_token, failure))
        total = Money(summary.total, summary.currency or order.currency) if summary.total is not None else None
        checked = None
        if summary.total is not None:
            fortnox_totals = FortnoxTotals(
                summary.total, summary.total_vat, summary.round_off, summary.freight_vat, summary.currency or ""
            )
            checked = check_totals(
                order,
                fortnox_totals,
                freight_mode=settings.shipping == FREIGHT,
                prices_include_vat=prices_include_vat if prices_include_vat is not None else True,
            )

        def created(record: OrderRecord, at: datetime) -> None:
            record.record_created(
                call.claim_token, summary.number, found=found, fortnox_total=total, at=at, exchange=summary.exchange
            )
            if checked is not None:
                record.check_totals(checked.fortnox_total, checked.matches, at, checked.explanation)

        if found:
            return self._outcome(tenant_id, call, created, FOUND)
        answered = FortnoxOrderState(
            summary.number, summary.invoice_number, summary.cancelled, summary.exchange or Exchange("", "")
        )
        return self._outcome(tenant_id, call, created, CREATED, answered)

    def _create(self, tenant_id: str, draft: OrderDraft) -> FortnoxOrderSummary:
        try:
            return self._fortnox.create(tenant_id, draft)
        except UnknownCustomer as gone:
            # The customer was deleted in Fortnox since Bridge matched it (and cached the match): forget it, so the
            # next attempt matches the buyer again. Nothing was created, so that attempt is safe.
            self._match_customer.forget(tenant_id, draft.customer_number)
            raise customer_gone(gone, draft.customer_number) from gone

    def _draft(
        self,
        tenant_id: str,
        order: IkasOrder,
        settings: OrderSettings,
        article_numbers: dict[str, str],
        prices_include_vat: bool,
    ) -> OrderDraft:
        """The order as Fortnox will get it, with the registers it points at in place (raises MappingError)."""
        currency = order.currency.strip().upper()
        if currency != HOME_CURRENCY and not self._registers.has_currency(tenant_id, currency):
            raise MappingError(
                f"Fortnox has no currency {currency}, the currency of this order",
                f"add {currency} to Fortnox's currencies (Inställningar > Bokföring > Valutor), then send the "
                "order again",
            )
        attributes = AttributeValues()
        if needs_unit_attribute(order, settings) and settings.unit_attribute:
            products = {line.product_id for line in order.lines if line.base_unit is not None and line.product_id}
            attributes = self._ikas.attribute_values(tenant_id, settings.unit_attribute, products)
        draft = order_draft(
            order,
            settings,
            customer_number=self._customer_number(tenant_id, customer_draft(order)),
            article_numbers=article_numbers,
            prices_include_vat=prices_include_vat,
            unit_attributes=attributes,
        )
        if isinstance(draft, MissingRelations):  # cannot happen: checked before the claim
            raise InvalidInput(draft.waiting_reason)
        for unit in draft.units:
            try:
                self._registers.ensure_unit(tenant_id, unit.code, unit.description)
            except UpstreamRejected as error:
                raise MappingError(
                    f"Fortnox has no unit {unit.code!r} and Bridge could not create it ({error.detail or error})",
                    f"add the unit {unit.code!r} in Fortnox (Inställningar > Artiklar > Enheter), then send the "
                    "order again",
                ) from error
        return draft

    def _customer_number(self, tenant_id: str, draft: CustomerDraft) -> str:
        """The tenant's cached match, else by exact e-mail, then by organisation number for companies, else
        created; a customer whose VATType differs from what this order needs is updated first (§5)."""
        return self._match_customer(tenant_id, draft)

    # -- the record's transactions -------------------------------------------------------------------------

    def _listed(self, tenant_id: str, order: IkasOrder, waiting_reason: str | None) -> OrderRecord:
        now = self._clock.now()
        with self._uow_for(tenant_id) as uow:
            record = uow.orders.get(order.id)
            if record is None:
                record = OrderRecord(
                    id=uuid.uuid4().hex,
                    tenant_id=tenant_id,
                    ikas_order_id=order.id,
                    ikas_order_number=order.number,
                    ordered_at=order.ordered_at,
                    at=now,
                )
                uow.orders.add(record)
            record.observe(
                number=order.number,
                ordered_at=order.ordered_at,
                customer_name=order.customer_name,
                customer_email=order.customer_email,
                package_status=order.package_status,
                total=Money(order.total_final_price, order.currency),
                at=now,
            )
            if waiting_reason is not None:
                record.wait(waiting_reason, now)
            uow.commit()
        return record

    def _wait(self, tenant_id: str, order_id: str, reason: str) -> ExportOrderResult:
        try:
            with self._uow_for(tenant_id) as uow:
                record = self._get(uow.orders.get(order_id), order_id)
                record.wait(reason, self._clock.now())
                uow.commit()
        except ConcurrentWrite as busy:
            return ExportOrderResult(order_id, BUSY, None, reason=busy.message)
        return self._result(record, WAITING, reason)

    def _pause(self, request: ExportOrderRequest, token: str | None) -> ExportOrderResult:
        with self._uow_for(request.tenant_id) as uow:
            record = uow.orders.get(request.ikas_order_id)
            if record is not None and record.fortnox_order_number is None:
                record.pause(token, PAUSED, self._clock.now())
                uow.commit()
        status = record.status if record is not None else None
        return ExportOrderResult(request.ikas_order_id, WAITING, status, reason=PAUSED)

    def _outcome(
        self,
        tenant_id: str,
        call: StepCall,
        apply: _Apply,
        outcome: str | None = None,
        answered: FortnoxOrderState | None = None,
    ) -> ExportOrderResult:
        try:
            with self._uow_for(tenant_id) as uow:
                record = self._get(uow.orders.get(call.ikas_order_id), call.ikas_order_id)
                apply(record, self._clock.now())
                uow.commit()
        except (OrderBusy, ConcurrentWrite) as busy:
            # Our claim ran out and another worker took over; its look-up finds what we did.
            return ExportOrderResult(call.ikas_order_id, BUSY, None, reason=busy.message)
        if outcome is None:
            outcome = {"error": UNKNOWN if record.intent else FAILED}.get(record.status, WAITING)
        result = self._result(record, outcome, record.error.message if record.error else record.waiting_reason)
        return dataclasses.replace(result, fortnox_order=answered) if answered is not None else result

    @staticmethod
    def _get(record: OrderRecord | None, order_id: str) -> OrderRecord:
        if record is None:
            raise NotFound(f"no record of ikas order {order_id}")
        return record

    @staticmethod
    def _result(record: OrderRecord, outcome: str, reason: str | None = None) -> ExportOrderResult:
        return ExportOrderResult(record.ikas_order_id, outcome, record.status, record.fortnox_order_number, reason)
