"""What the orders use cases need from the outside world, as small Protocols (style.md rule 3)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Protocol, Self

from bridge_orders.domain.after_transfer import CreditRow, FortnoxRow, RowPut
from bridge_orders.domain.customers import CachedCustomer
from bridge_orders.domain.ikas_order import AttributeValues, IkasOrder
from bridge_orders.domain.mapping import CustomerDraft, OrderDraft
from bridge_orders.domain.order_record import Exchange, OrderRecord
from bridge_orders.domain.settings import TenantOrderSettings
from bridge_platform.errors import Conflict, UpstreamRejected


class OrderSettingsRepository(Protocol):
    """The stored order settings of the unit of work's tenant."""

    def get(self) -> TenantOrderSettings | None: ...
    def add(self, settings: TenantOrderSettings) -> None: ...


class OrderRecordRepository(Protocol):
    """The order records of the unit of work's tenant, one per ikas order (unique by ikas order id)."""

    def get(self, ikas_order_id: str) -> OrderRecord | None: ...
    def add(self, record: OrderRecord) -> None: ...


class CachedCustomerRepository(Protocol):
    """The unit of work's tenant's buyer keys -> Fortnox customers (domain/customers.py; unique by kind and key)."""

    def get(self, kind: str, key: str) -> CachedCustomer | None: ...
    def add(self, cached: CachedCustomer) -> None: ...
    def forget(self, customer_number: str) -> None:
        """Drops every key that points at this Fortnox customer."""
        ...


class ConcurrentWrite(Conflict):
    """`commit()` lost a race: another transaction changed or inserted the same record first."""


class OrdersUnitOfWork(Protocol):
    """One transaction for one tenant; nothing is written unless `commit()` is called. `commit()` raises
    ConcurrentWrite when another transaction claimed or inserted the same order record (or cached the same buyer
    key) first."""

    # Read-only, so an implementation may hold a more specific repository (a mutable protocol
    # attribute would have to match its type exactly).
    @property
    def settings(self) -> OrderSettingsRepository: ...
    @property
    def orders(self) -> OrderRecordRepository: ...
    @property
    def customers(self) -> CachedCustomerRepository: ...

    def __enter__(self) -> Self: ...
    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None: ...
    def commit(self) -> None: ...


UnitOfWorkFactory = Callable[[str], OrdersUnitOfWork]


class Clock(Protocol):
    """The current time, timezone-aware UTC."""

    def now(self) -> datetime: ...


class IkasOrders(Protocol):
    """Orders of one tenant's ikas store. Raises UpstreamUnavailable, UpstreamRejected, or a Conflict whose
    details name reason needs_reauth|disconnected when the connection is paused."""

    def get_order(self, tenant_id: str, ikas_order_id: str) -> IkasOrder | None: ...
    def prices_include_vat(self, tenant_id: str) -> bool: ...

    def attribute_values(self, tenant_id: str, attribute: str, product_ids: Collection[str]) -> AttributeValues:
        """The values of the product attribute named exactly `attribute` on these products and their variants
        (empty when the store has no such attribute)."""
        ...


@dataclass(frozen=True)
class AttachedInvoice:
    """An invoice file addOrderInvoice put on an ikas order."""

    created_at: datetime | None
    exchange: Exchange


class IkasOrderInvoices(Protocol):
    """Invoice files on one tenant's ikas orders (ikas-api.md §6.5). `attach` is never repeated by the adapter:
    each call adds an invoice, so after OutcomeUnknown the caller reads Order.invoices before writing again.
    Raises NotFound for an order ikas does not have, and the errors of IkasOrders."""

    def app_id(self, tenant_id: str) -> str:
        """The id ikas records as the invoice's storeAppId when this app attaches one."""
        ...

    def attach(
        self,
        tenant_id: str,
        ikas_order_id: str,
        invoice_number: str,
        pdf: bytes,
        *,
        buyer_is_company: bool,
        notify_customer: bool,
    ) -> AttachedInvoice: ...


class ArticleNumbers(Protocol):
    """The Fortnox article numbers of related ikas variants (the catalog's product relations).

    `variants` maps variant id -> the SKU the order line carries; the answer maps the related variant ids
    to their article numbers and leaves the unrelated ones out."""

    def for_variants(self, tenant_id: str, variants: Mapping[str, str | None]) -> dict[str, str]: ...


@dataclass(frozen=True)
class FortnoxOrderSummary:
    number: str
    currency: str | None
    total: Decimal | None
    total_vat: Decimal | None
    round_off: Decimal | None
    freight_vat: Decimal | None
    exchange: Exchange | None = None  # the call that produced it, for the timeline
    invoice_number: str | None = None  # the order's InvoiceReference (None until invoiced)
    cancelled: bool = False


class UnknownCustomer(UpstreamRejected):
    """Fortnox refused the write because it has no such customer (deleted in Fortnox since it was matched)."""


class FortnoxOrders(Protocol):
    """Orders in one tenant's Fortnox. `create` is never repeated by the adapter: a lost answer is
    OutcomeUnknown, and the caller looks up by the key before it writes again."""

    def find(self, tenant_id: str, key: str, *, in_invoices: bool) -> FortnoxOrderSummary | None:
        """The order whose ExternalInvoiceReference1 is exactly `key` among the orders; when none is and
        `in_invoices`, then among the invoices too (the order found through the invoice's order reference)."""
        ...

    def create(self, tenant_id: str, draft: OrderDraft) -> FortnoxOrderSummary:
        """Raises UnknownCustomer when Fortnox has no customer `draft.customer_number`."""
        ...


@dataclass(frozen=True)
class FortnoxOrderState:
    """What decides whether a Fortnox order may be invoiced: its InvoiceReference and whether it is cancelled."""

    number: str
    invoice_number: str | None
    cancelled: bool
    exchange: Exchange


@dataclass(frozen=True)
class FortnoxInvoiceRef:
    number: str
    exchange: Exchange


class FortnoxInvoices(Protocol):
    """Invoices in one tenant's Fortnox (fortnox-api.md §5.5, §5.6). `create_from_order` and `email` are never
    repeated by the adapter: a lost answer is OutcomeUnknown. Every failed call's UpstreamError carries the
    redacted request in `extra["request"]`."""

    def order_state(self, tenant_id: str, order_number: str) -> FortnoxOrderState | None:
        """None when Fortnox has no such order."""
        ...

    def find(self, tenant_id: str, key: str) -> FortnoxInvoiceRef | None:
        """The (non-credit) invoice whose ExternalInvoiceReference1 is exactly `key`."""
        ...

    def create_from_order(self, tenant_id: str, order_number: str) -> FortnoxInvoiceRef:
        """createinvoice, whichever of its two answer shapes Fortnox gives."""
        ...

    def email(self, tenant_id: str, invoice_number: str) -> Exchange:
        """Asks Fortnox to e-mail the invoice (a GET with a side effect)."""
        ...

    def pdf(self, tenant_id: str, invoice_number: str, *, mark_sent: bool) -> bytes:
        """The invoice PDF: `print` (Fortnox marks the invoice sent) or `preview` (it stays unsent)."""
        ...


@dataclass(frozen=True)
class FortnoxInvoiceState:
    """What decides a payment or a credit: the invoice's total (in its currency) and where it stands."""

    number: str
    currency: str
    total: Decimal
    booked: bool
    cancelled: bool
    credit_invoice_number: str | None
    exchange: Exchange


@dataclass(frozen=True)
class FortnoxPayment:
    """One invoice payment; `amount` in the invoice's currency."""

    number: str
    amount: Decimal
    booked: bool
    exchange: Exchange


class FortnoxSettlements(Protocol):
    """What follows an invoice in one tenant's Fortnox (fortnox-api.md §5.6, §5.6b): its state, bookkeeping, its
    payments. No write is repeated by the adapter: a lost answer is OutcomeUnknown, resolved by reading again.
    Every failed call's UpstreamError carries the redacted request in `extra["request"]`."""

    def invoice_state(self, tenant_id: str, invoice_number: str) -> FortnoxInvoiceState | None:
        """None when Fortnox has no such invoice."""
        ...

    def bookkeep_invoice(self, tenant_id: str, invoice_number: str) -> Exchange: ...

    def payments(self, tenant_id: str, invoice_number: str, currency: str) -> list[FortnoxPayment]:
        """The payments registered on the invoice, by anyone (`currency`: the invoice's)."""
        ...

    def register_payment(
        self, tenant_id: str, invoice_number: str, amount: Decimal, currency: str, mode_of_payment: str
    ) -> FortnoxPayment:
        """POST /3/invoicepayments of `amount` in the invoice's `currency`."""
        ...

    def bookkeep_payment(self, tenant_id: str, payment_number: str) -> Exchange: ...

    def credit_invoice(self, tenant_id: str, invoice_number: str) -> FortnoxInvoiceRef:
        """PUT …/credit: a credit invoice of the whole (booked) invoice; the credit invoice's number."""
        ...

    def cancel_order(self, tenant_id: str, order_number: str) -> Exchange:
        """PUT /3/orders/{n}/cancel (an order not invoiced)."""
        ...


@dataclass(frozen=True)
class FortnoxDocument:
    """A Fortnox order or invoice as §5b compares it: its rows (RowIds as just read), freight and state."""

    number: str
    rows: tuple[FortnoxRow, ...]
    freight: Decimal
    exchange: Exchange
    invoice_number: str | None = None  # an order's InvoiceReference
    cancelled: bool = False
    booked: bool = False
    credit: bool = False
    total: Decimal | None = None
    # the head a credit invoice of an invoice repeats
    customer_number: str | None = None
    currency: str | None = None
    vat_included: bool = True
    your_order_number: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class OrderHead:
    """The Fortnox order's address fields an ikas edit may change (the billing address)."""

    name: str
    address1: str
    address2: str
    zip_code: str
    city: str


class FortnoxDocuments(Protocol):
    """The rows of one tenant's Fortnox orders and invoices, and the writes that follow ikas after transfer
    (fortnox-api.md §5.5, §5.6). No write is repeated by the adapter: a lost answer is OutcomeUnknown, resolved by
    reading again. Every failed call's UpstreamError carries the redacted request in `extra["request"]`."""

    def order(self, tenant_id: str, number: str) -> FortnoxDocument | None:
        """None when Fortnox has no such order."""
        ...

    def update_order(
        self, tenant_id: str, number: str, rows: Sequence[RowPut], freight: Decimal | None, head: OrderHead | None
    ) -> FortnoxDocument:
        """PUT /3/orders/{n} with the rows (RowId rules), the freight when given and the head when given; the
        order as Fortnox answers it (its new RowIds)."""
        ...

    def invoice(self, tenant_id: str, number: str) -> FortnoxDocument | None:
        """None when Fortnox has no such invoice."""
        ...

    def credits_of(self, tenant_id: str, key: str, invoice_number: str) -> list[FortnoxDocument]:
        """Every credit invoice of the invoice: those carrying the order's key (a credit copies it) whose
        CreditInvoiceReference is the invoice, whoever made them."""
        ...

    def create_credit(
        self, tenant_id: str, invoice: FortnoxDocument, key: str, rows: Sequence[CreditRow], freight: Decimal
    ) -> FortnoxInvoiceRef:
        """POST /3/invoices: a credit invoice of the (booked) invoice for the rows and freight given."""
        ...


class FortnoxRegisters(Protocol):
    """The registers a Fortnox document points at (fortnox-api.md §5.3, §5.7)."""

    def has_currency(self, tenant_id: str, code: str) -> bool: ...

    def ensure_unit(self, tenant_id: str, code: str, description: str) -> bool:
        """Makes sure the unit exists (a unit code is unique, so creating it is safe to repeat); True when it
        was created now."""
        ...


class FortnoxCustomers(Protocol):
    """Customers in one tenant's Fortnox; finds compare exactly (Fortnox searches match substrings)."""

    def find_by_email(self, tenant_id: str, email: str) -> tuple[str, str | None] | None:
        """(customer number, VATType) of the customer with exactly this e-mail."""
        ...

    def find_by_organisation_number(self, tenant_id: str, number: str) -> tuple[str, str | None] | None: ...
    def create(self, tenant_id: str, draft: CustomerDraft) -> str: ...
    def set_vat_type(self, tenant_id: str, number: str, vat_type: str) -> None:
        """Raises UnknownCustomer when Fortnox has no customer `number`."""
        ...


# -- order runs, webhook wake-ups and the read side -----------------------------------------------------------


class IkasOrderFeed(Protocol):
    """Orders of one tenant's ikas store, read in bulk, each order once. Raises UpstreamUnavailable,
    UpstreamRejected, or a Conflict whose details name reason needs_reauth|disconnected (connection paused)."""

    def updated_since(self, tenant_id: str, since: datetime) -> Iterator[IkasOrder]:
        """Orders updated at or after `since`, oldest updatedAt first."""
        ...

    def placed_between(self, tenant_id: str, start: datetime, end: datetime) -> Iterator[IkasOrder]:
        """Orders with orderedAt in [start, end), oldest first."""
        ...

    def by_ids(self, tenant_id: str, ikas_order_ids: Sequence[str]) -> Iterator[IkasOrder]:
        """The orders with these ids that ikas has (at most 200 ids: one listOrder page)."""
        ...


class OrderMarks(Protocol):
    """Named instants of one tenant (the run's updatedAt watermark, the last order sync); each call is a
    transaction of its own."""

    def get(self, tenant_id: str, name: str) -> datetime | None: ...
    def set(self, tenant_id: str, name: str, at: datetime) -> None: ...


@dataclass(frozen=True)
class WakeUp:
    """An order a webhook woke up; `wakes` tells this wake-up from a later one of the same order."""

    ikas_order_id: str
    wakes: int


class WakeUps(Protocol):
    """Orders woken by webhooks, durable until a run processed them."""

    def add(self, tenant_id: str, ikas_order_id: str, scope: str, at: datetime) -> None:
        """Records the wake-up (one row per order, however many webhooks came); committed when it returns."""
        ...

    def pending(self, tenant_id: str, limit: int) -> list[WakeUp]: ...
    def done(self, tenant_id: str, wake_up: WakeUp) -> None:
        """Forgets the wake-up, unless the order was woken again since it was read."""
        ...


@dataclass(frozen=True)
class OrderFilter:
    """ListOrders' filters: `query` matches order number, customer name or e-mail (case-insensitive);
    ordered_at in [ordered_from, ordered_to)."""

    query: str = ""
    status: str | None = None
    ordered_from: datetime | None = None
    ordered_to: datetime | None = None


class OrderReads(Protocol):
    """The read side over one tenant's order records; another tenant's records are invisible."""

    def page(self, tenant_id: str, filters: OrderFilter, page: int, page_size: int) -> tuple[list[OrderRecord], int]:
        """Newest ordered_at first, and how many match."""
        ...

    def by_id(self, tenant_id: str, record_id: str) -> OrderRecord | None: ...
    def unfinished(self, tenant_id: str, except_waiting: Sequence[str], limit: int) -> list[OrderRecord]:
        """Records with an open intent, in error, or outgoing (not in Fortnox yet) except those waiting for
        one of `except_waiting` (waits that only a change of the ikas order ends); least recently updated
        first."""
        ...


@dataclass
class RunReport:
    """What a run handler returns: state, counts, per-entity errors, a result document."""

    state: str = "succeeded"
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)


class RunProgress(Protocol):
    """What a run handler may tell about itself while it runs."""

    def progress(self, done: int, total: int | None = None) -> None: ...
    def lease_lost(self) -> bool: ...


@dataclass(frozen=True)
class RunRecord:
    """One run of the ledger, as the orders service shows it."""

    id: str
    tenant_id: str
    scope: str
    trigger: str
    state: str
    progress_done: int
    progress_total: int | None
    counts: Mapping[str, int]
    errors: Sequence[Mapping[str, Any]]
    result: Mapping[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class RunLedger(Protocol):
    """The service's durable run queue and its ledger."""

    def submit(self, tenant_id: str, scope: str, trigger: str, payload: Mapping[str, Any]) -> tuple[str, bool]:
        """Queues a run; an active run of the same tenant and scope is returned instead (created False)."""
        ...

    def follow_up(self, tenant_id: str, scope: str, after_run_id: str, trigger: str) -> str:
        """Queues one run of `scope` to start once the running run `after_run_id` ended (idempotent: one
        follow-up per running run, however often it is asked for)."""
        ...

    def get(self, tenant_id: str, run_id: str) -> RunRecord | None: ...
    def list(self, tenant_id: str, scope: str | None, page: int, page_size: int) -> tuple[list[RunRecord], int]: ...


class DueTenants(Protocol):
    """Tenants whose automatic order sync is on."""

    def due(self) -> list[str]: ...


class StoreNames(Protocol):
    """The tenant's ikas store name (links into the ikas admin). Raises NotFound for an unknown tenant."""

    def store_name(self, tenant_id: str) -> str: ...
