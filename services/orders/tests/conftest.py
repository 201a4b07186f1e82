"""Fakes for the orders service's unit tests: small classes with behaviour, not mocks."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Self

import pytest

from bridge_orders.app.ports import (
    AttachedInvoice,
    ConcurrentWrite,
    FortnoxDocument,
    FortnoxInvoiceRef,
    FortnoxInvoiceState,
    FortnoxOrderState,
    FortnoxOrderSummary,
    FortnoxPayment,
    OrderHead,
    UnknownCustomer,
)
from bridge_orders.bootstrap import Services, build
from bridge_orders.domain.after_transfer import CreditRow, FortnoxRow, RowPut
from bridge_orders.domain.customers import CachedCustomer
from bridge_orders.domain.ikas_order import AttributeValues, IkasInvoice, IkasOrder
from bridge_orders.domain.mapping import CustomerDraft, OrderDraft, OrderRow
from bridge_orders.domain.order_record import Exchange, OrderRecord
from bridge_orders.domain.settings import TenantOrderSettings
from bridge_platform.errors import UpstreamRejected
from bridge_platform.settings import BridgeSettings

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class FakeSettingsRepository:
    def __init__(self, store: dict[str, TenantOrderSettings], tenant_id: str) -> None:
        self._store, self._tenant_id = store, tenant_id
        self.pending: TenantOrderSettings | None = None

    def get(self) -> TenantOrderSettings | None:
        return self.pending or self._store.get(self._tenant_id)

    def add(self, settings: TenantOrderSettings) -> None:
        self.pending = settings


class FakeOrderRecords:
    """Hands out copies of what is committed, so an uncommitted change is lost as in a real rollback."""

    def __init__(self, store: dict[tuple[str, str], OrderRecord], tenant_id: str) -> None:
        self._store, self._tenant_id = store, tenant_id
        self.loaded: dict[str, tuple[OrderRecord, int]] = {}  # ikas order id -> (copy, version read)
        self.added: list[OrderRecord] = []

    def get(self, ikas_order_id: str) -> OrderRecord | None:
        stored = self._store.get((self._tenant_id, ikas_order_id))
        if stored is None:
            return None
        record = copy.deepcopy(stored)
        self.loaded[ikas_order_id] = (record, getattr(stored, "_fake_version", 0))
        return record

    def add(self, record: OrderRecord) -> None:
        self.added.append(record)


class FakeCachedCustomers:
    """The cache rows of one tenant: copies out, written back on commit (a new key taken meanwhile is a lost race)."""

    def __init__(self, store: dict[tuple[str, str, str], CachedCustomer], tenant_id: str) -> None:
        self._store, self._tenant_id = store, tenant_id
        self.loaded: list[CachedCustomer] = []
        self.added: list[CachedCustomer] = []
        self.forgotten: list[str] = []

    def get(self, kind: str, key: str) -> CachedCustomer | None:
        stored = self._store.get((self._tenant_id, kind, key))
        if stored is None:
            return None
        cached = copy.deepcopy(stored)
        self.loaded.append(cached)
        return cached

    def add(self, cached: CachedCustomer) -> None:
        assert cached.tenant_id == self._tenant_id
        self.added.append(cached)

    def forget(self, customer_number: str) -> None:
        self.forgotten.append(customer_number)

    def commit(self) -> None:
        if any((c.tenant_id, c.kind, c.key) in self._store for c in self.added):
            raise ConcurrentWrite("the buyer key is cached already")
        for cached in [*self.loaded, *self.added]:
            self._store[(cached.tenant_id, cached.kind, cached.key)] = copy.deepcopy(cached)
        for key, cached in list(self._store.items()):
            if key[0] == self._tenant_id and cached.customer_number in self.forgotten:
                del self._store[key]
        self.loaded, self.added, self.forgotten = [], [], []


class FakeUnitOfWork:
    """Keeps what was committed per tenant; the database counts commits across all units of work."""

    def __init__(self, database: FakeDatabase, tenant_id: str) -> None:
        self._database, self.tenant_id = database, tenant_id
        self.settings = FakeSettingsRepository(database.settings, tenant_id)
        self.orders = FakeOrderRecords(database.orders, tenant_id)
        self.customers = FakeCachedCustomers(database.customers, tenant_id)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        pass

    def commit(self) -> None:
        store = self._database.orders
        for record in self.orders.added:  # the unique key (tenant, ikas order id)
            if (self.tenant_id, record.ikas_order_id) in store:
                raise ConcurrentWrite("listed twice")
        for order_id, (_record, version) in self.orders.loaded.items():  # the version check
            if getattr(store[(self.tenant_id, order_id)], "_fake_version", 0) != version:
                raise ConcurrentWrite("changed since read")
        for record in [*self.orders.added, *(r for r, _ in self.orders.loaded.values())]:
            saved = copy.deepcopy(record)
            saved._fake_version = getattr(record, "_fake_version", 0) + 1  # type: ignore[attr-defined]
            store[(self.tenant_id, record.ikas_order_id)] = saved
        self.orders.added, self.orders.loaded = [], {}
        if self.settings.pending is not None:
            self._database.settings[self.tenant_id] = self.settings.pending
        self.customers.commit()
        self._database.commits += 1


class FakeDatabase:
    def __init__(self) -> None:
        self.settings: dict[str, TenantOrderSettings] = {}
        self.orders: dict[tuple[str, str], OrderRecord] = {}
        self.customers: dict[tuple[str, str, str], CachedCustomer] = {}  # (tenant, kind, key)
        self.commits = 0

    def unit_of_work(self, tenant_id: str) -> FakeUnitOfWork:
        return FakeUnitOfWork(self, tenant_id)


class FixedClock:
    def __init__(self, at: datetime = NOW) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def database() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


def _one_shot(hooks: dict[str, BaseException], name: str) -> None:
    """Raises the fault planned for `name`, once."""
    fault = hooks.pop(name, None)
    if fault is not None:
        raise fault


class FakeIkasOrders:
    """The ikas store: orders (IkasOrders) and the invoices attached to them (IkasOrderInvoices). An attachment
    is added to the stored order's invoices; `fail_before` / `fail_after` raise once, keyed "attach", before
    or after the attachment happened (a refusal; a lost answer or a crash)."""

    APP_ID = "bridge-store-app"

    def __init__(self) -> None:
        self.orders: dict[str, IkasOrder] = {}
        self.gross = True
        self.attributes = AttributeValues()
        self.attribute_reads: list[tuple[str, frozenset[str]]] = []
        self.attachments: list[dict[str, object]] = []
        self.fail_before: dict[str, BaseException] = {}
        self.fail_after: dict[str, BaseException] = {}

    def get_order(self, tenant_id: str, ikas_order_id: str) -> IkasOrder | None:
        return self.orders.get(ikas_order_id)

    def prices_include_vat(self, tenant_id: str) -> bool:
        return self.gross

    def attribute_values(self, tenant_id: str, attribute: str, product_ids: Collection[str]) -> AttributeValues:
        self.attribute_reads.append((attribute, frozenset(product_ids)))
        return self.attributes

    def app_id(self, tenant_id: str) -> str:
        return self.APP_ID

    def attach(
        self,
        tenant_id: str,
        ikas_order_id: str,
        invoice_number: str,
        pdf: bytes,
        *,
        buyer_is_company: bool,
        notify_customer: bool,
    ) -> AttachedInvoice:
        _one_shot(self.fail_before, "attach")
        order = self.orders[ikas_order_id]
        invoice = IkasInvoice(f"inv-{len(self.attachments) + 1}", invoice_number, self.APP_ID, self.APP_ID, NOW)
        self.orders[ikas_order_id] = dataclasses.replace(order, invoices=(*order.invoices, invoice))
        self.attachments.append(
            {
                "order": ikas_order_id,
                "number": invoice_number,
                "pdf": pdf,
                "notify": notify_customer,
                "company": buyer_is_company,
            }
        )
        _one_shot(self.fail_after, "attach")
        return AttachedInvoice(NOW, Exchange(f"addOrderInvoice({invoice_number})", "attached"))


class FakeArticleNumbers:
    """Relations by SKU, like the stand-in adapter."""

    def __init__(self, articles: set[str]) -> None:
        self.articles = articles

    def for_variants(self, tenant_id: str, variants: Mapping[str, str | None]) -> dict[str, str]:
        return {v: sku for v, sku in variants.items() if sku in self.articles}


@dataclass
class FakeFortnox:
    """Orders and customers in one Fortnox company. `after_create` runs just after an order is stored (to
    lose the answer, or to crash the caller); `reject` refuses every create; an order or a VATType change for a
    customer the company does not have (deleted: `customers.pop`) is refused as UnknownCustomer."""

    orders: dict[str, OrderDraft] = field(default_factory=dict)  # number -> draft
    customers: dict[str, CustomerDraft] = field(default_factory=dict)
    vat_types: dict[str, str] = field(default_factory=dict)
    finds: int = 0
    invoice_searches: int = 0  # finds that also searched the invoices (in_invoices)
    customer_calls: list[str] = field(default_factory=list)  # "email", "organisation_number", "create", "vat_type"
    after_create: Callable[[], None] | None = None
    reject: bool = False
    invoices: dict[str, str] = field(default_factory=dict)  # invoice number -> order number
    invoice_of: dict[str, str] = field(default_factory=dict)  # order number -> InvoiceReference
    cancelled: set[str] = field(default_factory=set)  # order numbers
    emails: list[str] = field(default_factory=list)  # invoice numbers, one per e-mail Fortnox sent
    pdfs: list[tuple[str, bool]] = field(default_factory=list)  # (invoice number, printed: marks it sent)
    currencies: set[str] = field(default_factory=lambda: {"SEK", "EUR"})
    units: set[str] = field(default_factory=lambda: {"st", "kg", "g", "l", "ml"})
    created_units: list[str] = field(default_factory=list)
    refuse_units: bool = False
    invoice_calls: int = 0  # order_state + find + create_from_order
    booked: set[str] = field(default_factory=set)  # invoice numbers
    cancelled_invoices: set[str] = field(default_factory=set)
    credits: dict[str, str] = field(default_factory=dict)  # invoice number -> its credit invoice's number
    # Credit invoices of rows (POST /3/invoices): invoice number -> [(credit number, rows, freight)]
    partial_credits: dict[str, list[tuple[str, tuple[FortnoxRow, ...], Decimal]]] = field(default_factory=dict)
    order_updates: list[str] = field(default_factory=list)  # order numbers, one per PUT /3/orders/{n}
    # Payments as Fortnox holds them: number -> {"invoice", "amount", "mode", "booked"}
    payments: dict[str, dict[str, object]] = field(default_factory=dict)
    settlement_writes: list[str] = field(default_factory=list)  # "bookkeep 500", "pay 500", "bookkeep payment 1"
    # Faults raised once, keyed "create_invoice" | "email" | "pay" | "bookkeep_payment" | "credit" | "cancel":
    # before the work (nothing happened) or after it (it happened; the answer is lost or the worker dies).
    fail_before: dict[str, BaseException] = field(default_factory=dict)
    fail_after: dict[str, BaseException] = field(default_factory=dict)

    def find(self, tenant_id: str, key: str, *, in_invoices: bool) -> FortnoxOrderSummary | None:
        self.finds += 1
        self.invoice_searches += int(in_invoices)
        for number, draft in self.orders.items():
            if draft.external_invoice_reference1 == key:
                return self._summary(number, draft)
        return None

    def create(self, tenant_id: str, draft: OrderDraft) -> FortnoxOrderSummary:
        if self.reject:
            raise UpstreamRejected("fortnox", "The article was not found in Fortnox", 400, "2001302", {"hint": "h"})
        if draft.customer_number not in self.customers:
            raise UnknownCustomer("fortnox", "The customer was not found in Fortnox", 400, "2000204", {"hint": "h"})
        number = str(len(self.orders) + 1)
        self.orders[number] = draft
        if self.after_create is not None:
            after, self.after_create = self.after_create, None
            after()
        return self._summary(number, draft)

    @staticmethod
    def _summary(number: str, draft: OrderDraft) -> FortnoxOrderSummary:
        # Like Fortnox: rows in price terms, the net freight plus its VAT (25 %); TotalVAT is not modelled.
        freight_vat = ((draft.freight or Decimal(0)) * Decimal("0.25")).quantize(Decimal("0.01"))
        total = sum((r.price * r.quantity for r in draft.rows), Decimal(0)) + (draft.freight or 0) + freight_vat
        return FortnoxOrderSummary(number, draft.currency, total, None, Decimal(0), freight_vat)

    def find_by_email(self, tenant_id: str, email: str) -> tuple[str, str | None] | None:
        self.customer_calls.append("email")
        for number, customer in self.customers.items():
            if customer.email == email:
                return number, self.vat_types[number]
        return None

    def find_by_organisation_number(self, tenant_id: str, number: str) -> tuple[str, str | None] | None:
        self.customer_calls.append("organisation_number")
        for customer_number, customer in self.customers.items():
            if customer.organisation_number == number:
                return customer_number, self.vat_types[customer_number]
        return None

    def create_customer(self, tenant_id: str, draft: CustomerDraft) -> str:
        self.customer_calls.append("create")
        number = str(100 + len(self.vat_types))  # numbers are never reused, also after a delete
        self.customers[number], self.vat_types[number] = draft, draft.vat_type
        return number

    def set_vat_type(self, tenant_id: str, number: str, vat_type: str) -> None:
        self.customer_calls.append("vat_type")
        if number not in self.customers:
            raise UnknownCustomer("fortnox", "The customer was not found in Fortnox", 404, "2000433")
        self.vat_types[number] = vat_type


class FakeFortnoxInvoices:
    """FortnoxInvoices over a FakeFortnox: createinvoice sets the order's InvoiceReference."""

    def __init__(self, fortnox: FakeFortnox) -> None:
        self._fortnox = fortnox

    def order_state(self, tenant_id: str, order_number: str) -> FortnoxOrderState | None:
        fortnox = self._fortnox
        fortnox.invoice_calls += 1
        if order_number not in fortnox.orders:
            return None
        reference = fortnox.invoice_of.get(order_number)
        return FortnoxOrderState(
            order_number, reference, order_number in fortnox.cancelled, Exchange(f"GET {order_number}", str(reference))
        )

    def find(self, tenant_id: str, key: str) -> FortnoxInvoiceRef | None:
        fortnox = self._fortnox
        fortnox.invoice_calls += 1
        for number, order_number in fortnox.invoices.items():
            if fortnox.orders[order_number].external_invoice_reference1 == key:
                return FortnoxInvoiceRef(number, Exchange(f"GET invoices {key}", number))
        return None

    def create_from_order(self, tenant_id: str, order_number: str) -> FortnoxInvoiceRef:
        fortnox = self._fortnox
        fortnox.invoice_calls += 1
        _one_shot(fortnox.fail_before, "create_invoice")
        if order_number in fortnox.invoice_of:
            raise UpstreamRejected("fortnox", "The order is invoiced already", 400, "2003125")
        number = str(500 + len(fortnox.invoices))
        fortnox.invoices[number], fortnox.invoice_of[order_number] = order_number, number
        _one_shot(fortnox.fail_after, "create_invoice")
        return FortnoxInvoiceRef(number, Exchange(f"PUT /3/orders/{order_number}/createinvoice", f"Invoice {number}"))

    def email(self, tenant_id: str, invoice_number: str) -> Exchange:
        _one_shot(self._fortnox.fail_before, "email")
        self._fortnox.emails.append(invoice_number)
        _one_shot(self._fortnox.fail_after, "email")
        return Exchange(f"GET /3/invoices/{invoice_number}/email", "Sent: true")

    def pdf(self, tenant_id: str, invoice_number: str, *, mark_sent: bool) -> bytes:
        self._fortnox.pdfs.append((invoice_number, mark_sent))
        return b"%PDF-1.4 invoice " + invoice_number.encode()


class FakeFortnoxSettlements:
    """FortnoxSettlements over a FakeFortnox: like the sandbox, a payment needs a booked invoice and a second
    bookkeep is refused."""

    def __init__(self, fortnox: FakeFortnox) -> None:
        self._fortnox = fortnox

    def invoice_state(self, tenant_id: str, invoice_number: str) -> FortnoxInvoiceState | None:
        fortnox = self._fortnox
        order_number = fortnox.invoices.get(invoice_number)
        if order_number is None:
            return None
        summary = fortnox._summary(order_number, fortnox.orders[order_number])
        assert summary.total is not None
        return FortnoxInvoiceState(
            invoice_number,
            summary.currency or "SEK",
            summary.total,
            invoice_number in fortnox.booked,
            invoice_number in fortnox.cancelled_invoices,
            fortnox.credits.get(invoice_number),
            Exchange(f"GET /3/invoices/{invoice_number}", f"Total {summary.total}"),
        )

    def bookkeep_invoice(self, tenant_id: str, invoice_number: str) -> Exchange:
        if invoice_number in self._fortnox.booked:
            raise UpstreamRejected("fortnox", "The invoice is booked already", 400, "2000000")
        self._fortnox.booked.add(invoice_number)
        self._fortnox.settlement_writes.append(f"bookkeep {invoice_number}")
        return Exchange(f"PUT /3/invoices/{invoice_number}/bookkeep", "Booked: true")

    def payments(self, tenant_id: str, invoice_number: str, currency: str) -> list[FortnoxPayment]:
        return [
            self._payment(number)
            for number, payment in self._fortnox.payments.items()
            if payment["invoice"] == invoice_number
        ]

    def register_payment(
        self, tenant_id: str, invoice_number: str, amount: Decimal, currency: str, mode_of_payment: str
    ) -> FortnoxPayment:
        fortnox = self._fortnox
        _one_shot(fortnox.fail_before, "pay")
        if invoice_number not in fortnox.booked:
            raise UpstreamRejected("fortnox", "The invoice must be booked first", 400, "2000425")
        number = str(len(fortnox.payments) + 1)
        fortnox.payments[number] = {
            "invoice": invoice_number,
            "amount": amount,
            "mode": mode_of_payment,
            "booked": False,
        }
        fortnox.settlement_writes.append(f"pay {invoice_number}")
        _one_shot(fortnox.fail_after, "pay")
        return self._payment(number)

    def bookkeep_payment(self, tenant_id: str, payment_number: str) -> Exchange:
        fortnox = self._fortnox
        _one_shot(fortnox.fail_before, "bookkeep_payment")
        payment = fortnox.payments[payment_number]
        if payment["booked"]:
            raise UpstreamRejected("fortnox", "The payment is booked already", 400, "2000425")
        payment["booked"] = True
        fortnox.settlement_writes.append(f"bookkeep payment {payment_number}")
        _one_shot(fortnox.fail_after, "bookkeep_payment")
        return Exchange(f"PUT /3/invoicepayments/{payment_number}/bookkeep", "Booked: true")

    def credit_invoice(self, tenant_id: str, invoice_number: str) -> FortnoxInvoiceRef:
        fortnox = self._fortnox
        _one_shot(fortnox.fail_before, "credit")
        if invoice_number not in fortnox.booked:
            raise UpstreamRejected("fortnox", "The invoice must be booked to be credited", 400, "2000000")
        if invoice_number in fortnox.credits or fortnox.partial_credits.get(invoice_number):
            raise UpstreamRejected("fortnox", "The invoice is credited already", 400, "2000000")
        number = str(900 + len(fortnox.credits))
        fortnox.credits[invoice_number] = number
        fortnox.settlement_writes.append(f"credit {invoice_number}")
        _one_shot(fortnox.fail_after, "credit")
        return FortnoxInvoiceRef(number, Exchange(f"PUT /3/invoices/{invoice_number}/credit", number))

    def cancel_order(self, tenant_id: str, order_number: str) -> Exchange:
        fortnox = self._fortnox
        _one_shot(fortnox.fail_before, "cancel")
        if order_number in fortnox.cancelled or order_number in fortnox.invoice_of:
            raise UpstreamRejected("fortnox", "The order cannot be cancelled", 400, "2000000")
        fortnox.cancelled.add(order_number)
        fortnox.settlement_writes.append(f"cancel {order_number}")
        _one_shot(fortnox.fail_after, "cancel")
        return Exchange(f"PUT /3/orders/{order_number}/cancel", "Cancelled: true")

    def _payment(self, number: str) -> FortnoxPayment:
        payment = self._fortnox.payments[number]
        amount = payment["amount"]
        assert isinstance(amount, Decimal)
        return FortnoxPayment(number, amount, bool(payment["booked"]), Exchange("GET payments", number))


def _rows_of(draft: OrderDraft) -> tuple[FortnoxRow, ...]:
    return tuple(
        FortnoxRow(
            str(index + 1), r.article_number, r.description, r.quantity, r.price, r.vat, r.account_number, r.unit
        )
        for index, r in enumerate(draft.rows)
    )


class FakeFortnoxDocuments:
    """FortnoxDocuments over a FakeFortnox: an invoice has its order's rows; an invoiced order is not updated; the
    full credit (FakeFortnoxSettlements.credit_invoice) and the credit invoices of rows are its credits."""

    def __init__(self, fortnox: FakeFortnox) -> None:
        self._fortnox = fortnox

    def order(self, tenant_id: str, number: str) -> FortnoxDocument | None:
        fortnox = self._fortnox
        draft = fortnox.orders.get(number)
        if draft is None:
            return None
        return FortnoxDocument(
            number,
            _rows_of(draft),
            draft.freight or Decimal(0),
            Exchange(f"GET /3/orders/{number}", "rows"),
            invoice_number=fortnox.invoice_of.get(number),
            cancelled=number in fortnox.cancelled,
        )

    def update_order(
        self, tenant_id: str, number: str, rows: Sequence[RowPut], freight: Decimal | None, head: OrderHead | None
    ) -> FortnoxDocument:
        fortnox = self._fortnox
        _one_shot(fortnox.fail_before, "update")
        if number in fortnox.invoice_of or number in fortnox.cancelled:
            raise UpstreamRejected("fortnox", "The order is locked", 400, "2000000")
        current = {row.row_id: row for row in _rows_of(fortnox.orders[number])}
        new_rows = []
        for put in rows:
            if put.row is not None:
                new_rows.append(put.row)
            else:
                kept = current[put.row_id]
                new_rows.append(OrderRow(kept.article_number, kept.description, kept.quantity, kept.price, kept.vat))
        draft = fortnox.orders[number]
        fortnox.orders[number] = dataclasses.replace(
            draft, rows=tuple(new_rows), freight=freight if freight is not None else draft.freight
        )
        fortnox.order_updates.append(number)
        _one_shot(fortnox.fail_after, "update")
        answered = self.order(tenant_id, number)
        assert answered is not None
        return answered

    def invoice(self, tenant_id: str, number: str) -> FortnoxDocument | None:
        fortnox = self._fortnox
        order_number = fortnox.invoices.get(number)
        if order_number is None:
            return None
        draft = fortnox.orders[order_number]
        return FortnoxDocument(
            number,
            _rows_of(draft),
            draft.freight or Decimal(0),
            Exchange(f"GET /3/invoices/{number}", "rows"),
            cancelled=number in fortnox.cancelled_invoices,
            booked=number in fortnox.booked,
            customer_number=draft.customer_number,
            currency=draft.currency,
        )

    def credits_of(self, tenant_id: str, key: str, invoice_number: str) -> list[FortnoxDocument]:
        fortnox = self._fortnox
        found = []
        invoice = self.invoice(tenant_id, invoice_number)
        if invoice_number in fortnox.credits and invoice is not None:
            negated = tuple(dataclasses.replace(r, quantity=-r.quantity) for r in invoice.rows)
            found.append(
                FortnoxDocument(fortnox.credits[invoice_number], negated, -invoice.freight, Exchange("GET", ""))
            )
        for number, rows, freight in fortnox.partial_credits.get(invoice_number, []):
            found.append(FortnoxDocument(number, rows, -freight, Exchange("GET", ""), credit=True))
        return found

    def create_credit(
        self, tenant_id: str, invoice: FortnoxDocument, key: str, rows: Sequence[CreditRow], freight: Decimal
    ) -> FortnoxInvoiceRef:
        fortnox = self._fortnox
        _one_shot(fortnox.fail_before, "credit_rows")
        if invoice.number not in fortnox.booked:
            raise UpstreamRejected("fortnox", "The invoice must be booked to be credited", 400, "2000000")
        number = str(800 + sum(len(c) for c in fortnox.partial_credits.values()))
        negated = tuple(dataclasses.replace(r.invoiced, row_id=None, quantity=-r.quantity) for r in rows)
        fortnox.partial_credits.setdefault(invoice.number, []).append((number, negated, freight))
        fortnox.settlement_writes.append(f"credit rows {invoice.number}")
        _one_shot(fortnox.fail_after, "credit_rows")
        return FortnoxInvoiceRef(number, Exchange("POST /3/invoices", number))


class FakeRegisters:
    """FortnoxRegisters over a FakeFortnox."""

    def __init__(self, fortnox: FakeFortnox) -> None:
        self._fortnox = fortnox

    def has_currency(self, tenant_id: str, code: str) -> bool:
        return code in self._fortnox.currencies

    def ensure_unit(self, tenant_id: str, code: str, description: str) -> bool:
        if code in self._fortnox.units:
            return False
        if self._fortnox.refuse_units:
            raise UpstreamRejected("fortnox", "no rights for the scope", 403, "2000663")
        self._fortnox.units.add(code)
        self._fortnox.created_units.append(code)
        return True


class FakeCustomers:
    """FortnoxCustomers over a FakeFortnox (its `create` is the order create)."""

    def __init__(self, fortnox: FakeFortnox) -> None:
        self._fortnox = fortnox
        self.find_by_email = fortnox.find_by_email
        self.find_by_organisation_number = fortnox.find_by_organisation_number
        self.create = fortnox.create_customer
        self.set_vat_type = fortnox.set_vat_type


@pytest.fixture
def ikas() -> FakeIkasOrders:
    return FakeIkasOrders()


@pytest.fixture
def fortnox() -> FakeFortnox:
    return FakeFortnox()


@pytest.fixture
def services(
    database: FakeDatabase, clock: FixedClock, tmp_path: Path, ikas: FakeIkasOrders, fortnox: FakeFortnox
) -> Services:
    settings = BridgeSettings(data_dir=tmp_path)
    return build(
        settings,
        uow_for=database.unit_of_work,
        clock=clock,
        ikas_orders=ikas,
        article_numbers=FakeArticleNumbers({"SKU-1", "SKU-2"}),
        fortnox_orders=fortnox,
        fortnox_customers=FakeCustomers(fortnox),
        ikas_invoices=ikas,
        fortnox_invoices=FakeFortnoxInvoices(fortnox),
        fortnox_registers=FakeRegisters(fortnox),
        fortnox_settlements=FakeFortnoxSettlements(fortnox),
        fortnox_documents=FakeFortnoxDocuments(fortnox),
    )


@pytest.fixture
def fortnox_after_invoicing(fortnox: FakeFortnox) -> tuple[FakeFortnoxInvoices, FakeFortnoxSettlements]:
    """The invoices and settlements ports over the test's FakeFortnox, for tests that build the service themselves."""
    return FakeFortnoxInvoices(fortnox), FakeFortnoxSettlements(fortnox)


@pytest.fixture
def fortnox_documents(fortnox: FakeFortnox) -> FakeFortnoxDocuments:
    """The documents port over the test's FakeFortnox, for tests that build the service themselves."""
    return FakeFortnoxDocuments(fortnox)


@pytest.fixture
def commits(database: FakeDatabase) -> Callable[[], int]:
    """How many units of work committed so far (test modules cannot import the fake's class to type it)."""
    return lambda: database.commits


@pytest.fixture
def stored(database: FakeDatabase) -> Callable[[str], TenantOrderSettings | None]:
    """What is committed for a tenant."""
    return database.settings.get
