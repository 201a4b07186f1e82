"""The JSON documents of the REST API (product.md §2, §8) as pydantic models, shared by api/ and clients/.

Input is strict: every key present (nullable keys as null; only a flag with a stated default may be left
out), JSON types as they are (no "true" for true), unknown keys rejected. Choice fields are `Literal`s so
/openapi.json lists their values; the services still check them, since they own the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Final, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

_STRICT = ConfigDict(strict=True, extra="forbid")

# The proto carries account numbers as int64; a bigger JSON integer is refused here rather than
# failing in the conversion. Which accounts are valid is the orders service's rule.
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]


@dataclass(frozen=True)
class Tenant:
    """The tenant a request acts for: one ikas store. Comes from the session, never from the input."""

    id: str
    store_name: str
    merchant_id: str = ""
    authorized_app_id: str = ""


@dataclass(frozen=True)
class Session:
    """A dashboard session as the auth service opened it: the gateway puts both tokens in cookies."""

    token: str
    csrf_token: str
    expires_at: datetime | None
    tenant: Tenant


@dataclass(frozen=True)
class ResolvedSession:
    """The tenant behind a session cookie, and the CSRF token its writes must echo."""

    tenant: Tenant
    csrf_token: str


@dataclass(frozen=True)
class InstallResult:
    """A completed ikas install: the merchant is signed in; `webhook_warning` is empty unless ikas refused one."""

    session: Session
    webhook_warning: str


WebhookOutcome = Literal["accepted", "duplicate", "ignored"]


@dataclass(frozen=True)
class WebhookResult:
    outcome: WebhookOutcome
    tenant_id: str
    scope: str
    entity_id: str = ""


ConnectionStatus = Literal["connected", "disconnected", "needs_reauth"]


class IkasConnection(BaseModel):
    """`ikas` of the connection document (product.md §1.7)."""

    store_name: str
    merchant_id: str | None
    status: ConnectionStatus
    webhook_warning: str | None = Field(
        description="why ikas refused a webhook registration (polling covers the gap); null when none"
    )


class FortnoxConnection(BaseModel):
    """`fortnox` of the connection document (product.md §1.7); nulls where nothing is known."""

    status: ConnectionStatus
    company_name: str | None
    organisation_number: str | None
    scopes: list[str]
    connected_at: datetime | None = Field(description="RFC 3339 date-time with offset")
    warehouse_module: bool | None


class Connection(BaseModel):
    """GET /api/v1/connection: the tenant's ikas store and Fortnox company (product.md §1.7)."""

    ikas: IkasConnection
    fortnox: FortnoxConnection


@dataclass(frozen=True)
class FortnoxConnected:
    """A completed Fortnox consent: whose it was, and the connection as it is now."""

    tenant_id: str
    fortnox: FortnoxConnection


class AuthorizeUrl(BaseModel):
    """Where the dashboard sends the merchant to consent (opened in a new window)."""

    authorize_url: str


class ProductSettings(BaseModel):
    """`products`: direction and scope of the product sync."""

    model_config = _STRICT

    sync_mode: Literal["fortnox_to_ikas", "ikas_to_fortnox"]
    sync_automatically: bool
    create_new: bool
    update_existing: bool


class StockSettings(BaseModel):
    """`stock`: the stock sync and where stock is read and written."""

    model_config = _STRICT

    sync_automatically: bool
    ikas_stock_location_id: str | None
    fortnox_stock_point: str | None


class OrderSettings(BaseModel):
    """`orders`: how ikas orders become Fortnox orders and invoices."""

    model_config = _STRICT

    sync_automatically: bool
    sync_from: str | None = Field(
        description="RFC 3339 date-time with offset; orders placed before it are never sent automatically"
    )
    create_orders: bool
    create_invoice: bool
    sync_items_without_relation: bool
    send_invoice_email: bool
    unit_source: Literal["base_unit", "attribute"]
    unit_attribute: str | None
    language: Literal["always_en", "always_sv", "customer_else_en", "customer_else_sv"]
    shipping: Literal["freight", "order_row"]
    shipping_article_number: str | None
    sales_accounts: dict[str, Int64] = Field(description='VAT rate (such as "25") -> Fortnox sales account number')
    send_when: Literal["placed", "paid"]
    register_payments: bool
    modes_of_payment: dict[str, str] = Field(description="ikas payment method type -> Fortnox mode of payment code")
    follow_cancellations: bool
    follow_refunds: bool


class CatalogSettings(BaseModel):
    """The part of the settings document that the catalog service owns."""

    model_config = _STRICT

    products: ProductSettings
    stock: StockSettings


class SettingsDocument(BaseModel):
    """A tenant's whole settings document (product.md §2)."""

    model_config = _STRICT

    products: ProductSettings
    stock: StockSettings
    orders: OrderSettings

    @property
    def catalog_part(self) -> CatalogSettings:
        return CatalogSettings(products=self.products, stock=self.stock)

    @classmethod
    def of(cls, catalog: CatalogSettings, orders: OrderSettings) -> SettingsDocument:
        return cls(products=catalog.products, stock=catalog.stock, orders=orders)


# ---- lists (product.md §8)

DEFAULT_PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 200


@dataclass(frozen=True)
class PageRequest:
    """Which page of a list: `page` counts from 1."""

    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE


# ---- product lines and stock locations (product.md §3, §4, §8)

LineStatus = Literal["synced", "error", "pending", "unmatched", "ignored", "orphaned"]


class EntityError(BaseModel):
    """Why one entity failed (product.md §8): plain English, the upstream's code and what to do about it."""

    message: str
    upstream_code: str | None
    hint: str | None
    at: datetime | None = Field(description="RFC 3339 date-time with offset")


class ProductLine(BaseModel):
    """One ikas variant (a product without variants has one) and its Fortnox article, if related."""

    id: str = Field(description="Bridge's id of the line")
    ikas_product_id: str | None
    ikas_variant_id: str | None
    ikas_url: str | None = Field(description="the product in the ikas admin")
    name: str
    variant_name: str | None
    sku: str | None
    fortnox_article_number: str | None
    status: LineStatus
    error: EntityError | None = Field(description="set when status is error")
    ikas_stock: str | None = Field(description="exact decimal string; null when unknown")
    fortnox_stock: str | None = Field(description="exact decimal string; null when unknown")
    last_synced_at: datetime | None = Field(description="RFC 3339 date-time with offset")


class LineTimelineEntry(BaseModel):
    """One attempt on a product line: the run or action that acted on it and what came of it."""

    at: datetime | None = Field(description="RFC 3339 date-time with offset")
    step: str = Field(
        description="match, relink, unlink, reset, product_sync, stock_sync, export_now or sync_stock_now"
    )
    outcome: str = Field(
        description="linked, unlinked, reset, created, updated, unchanged, failed, orphaned or stock_written"
    )
    detail: str | None = Field(description="in plain English: what was written, the error, or why it was orphaned")


class ProductLineDetail(ProductLine):
    """GET /api/v1/products/{id}: the line with its timeline of attempts (oldest first, the newest 100)."""

    timeline: list[LineTimelineEntry]


class ProductLinePage(BaseModel):
    """GET /api/v1/products: one page of lines, sorted by name then variant, with the last sync times."""

    items: list[ProductLine]
    total: int
    page: int
    page_size: int
    last_product_sync_at: datetime | None = Field(description="end of the last successful product run")
    last_stock_sync_at: datetime | None = Field(description="end of the last successful stock run")


class StockLocation(BaseModel):
    """An ikas stock location of the store."""

    id: str
    name: str


# ---- runs (product.md §6)

RunState = Literal["queued", "running", "succeeded", "failed", "partially_failed"]
CatalogRunScope = Literal["products", "stock", "match", "preview", "reset"]
RunTrigger = Literal["schedule", "on_demand", "webhook", "operation"]
SyncScope = Literal["products", "stock", "orders"]


class RunProgress(BaseModel):
    done: int
    total: int | None = Field(description="null while unknown")


class RunCounts(BaseModel):
    created: int
    updated: int
    unchanged: int
    failed: int


class PlannedAction(BaseModel):
    """What a dry run (preview) would do to one entity, and why."""

    action: str = Field(description="create, update or skip")
    entity: str
    reason: str


class Run(BaseModel):
    """One run of one tenant and scope (product.md §6)."""

    id: str
    scope: str = Field(description="products, stock, orders, match, preview, reset or backfill")
    state: RunState
    trigger: str = Field(description="schedule, on_demand, webhook or operation")
    progress: RunProgress
    counts: RunCounts
    created_at: datetime | None = Field(description="RFC 3339 date-time with offset")
    started_at: datetime | None
    finished_at: datetime | None
    errors: list[EntityError]
    planned: list[PlannedAction] = Field(description="preview only: what a product sync would do")
    result: dict[str, Any] = Field(
        default_factory=dict,
        description="what the run produced: the match report (`report`), what a reset removed (`reset`), ...",
    )


class RunPage(BaseModel):
    """GET /api/v1/sync/runs: one page of runs, newest first."""

    items: list[Run]
    total: int
    page: int
    page_size: int


class StartedRun(BaseModel):
    id: str
    scope: str


class StartedRuns(BaseModel):
    """The answer of a long operation (202): the runs it started; follow them at /api/v1/sync/runs/{id}."""

    runs: list[StartedRun]


class SyncRequest(BaseModel):
    """POST /api/v1/sync: start synchronisation now for these scopes."""

    model_config = _STRICT

    scopes: list[SyncScope] = Field(min_length=1)


# ---- orders (product.md §5, §8)

OrderStatus = Literal["error", "fulfilled", "created", "outgoing"]
FortnoxState = Literal["order", "invoiced", "paid", "cancelled", "credited", "partially_credited"]
InvoiceEmailState = Literal["not_requested", "sent", "unknown"]


def _date_time_text(value: Any) -> Any:
    """Input dates travel as RFC 3339 strings only: a bare number would silently be read as Unix seconds."""
    if not isinstance(value, str):
        raise PydanticCustomError("datetime_type", "Input should be an RFC 3339 date-time string with offset")
    return value


# Strict models take no string for a datetime in Python mode (which FastAPI validates bodies in); this one field
# parses its string, and AwareDatetime refuses a time without offset.
DateTimeInput = Annotated[AwareDatetime, Field(strict=False), BeforeValidator(_date_time_text)]


class Money(BaseModel):
    """An exact amount: a decimal string in the currency's own minor unit digits, never a float."""

    amount: str = Field(description='exact decimal string, such as "149.50"', examples=["149.50"])
    currency: str = Field(description="ISO 4217 code", examples=["SEK"])


class Customer(BaseModel):
    """Who placed the order; both null after the tenant's personal data was purged."""

    name: str | None
    email: str | None


class InvoiceEmail(BaseModel):
    """Whether Fortnox was asked to e-mail the invoice: `unknown` when the request's outcome is unclear (it is
    never retried automatically; the merchant may resend)."""

    state: InvoiceEmailState
    at: datetime | None = Field(description="RFC 3339 date-time with offset; when it was requested")


class Order(BaseModel):
    """One ikas order known to Bridge and what became of it in Fortnox (product.md §5)."""

    id: str = Field(description="Bridge's id of the order")
    ikas_order_id: str
    ikas_order_number: str
    ikas_url: str | None = Field(description="the order in the ikas admin")
    ordered_at: datetime | None = Field(description="RFC 3339 date-time with offset")
    customer: Customer
    status: OrderStatus = Field(description="the first that applies: error, fulfilled, created, outgoing")
    waiting_reason: str | None = Field(description="why an outgoing order is not in Fortnox yet")
    error: EntityError | None = Field(description="set when status is error")
    fortnox_state: FortnoxState | None = Field(description="null while the order is not in Fortnox")
    fortnox_order_number: str | None
    fortnox_invoice_number: str | None
    invoice_email: InvoiceEmail
    invoice_attached_at: datetime | None = Field(description="when the invoice PDF was attached to the ikas order")
    ikas_total: Money | None
    fortnox_total: Money | None = Field(description="null while the order is not in Fortnox")
    totals_match: bool | None = Field(description="null until Fortnox's totals were compared with ikas's")
    totals_explanation: str | None = Field(
        description="why the totals differ (the part explained by Fortnox's freight VAT, round-off, ...)"
    )
    edited_after_invoice: bool = Field(
        description="the ikas order changed after its Fortnox invoice was made; the invoice is not edited"
    )
    edit_advice: str | None = Field(description="what to do about an edit after invoicing")


class TimelineEntry(BaseModel):
    """One attempt on an order: a step and what came of it, with the exchange redacted (no tokens, no secrets)."""

    at: datetime | None = Field(description="RFC 3339 date-time with offset")
    step: str = Field(description="create_fortnox_order, create_invoice, send_invoice_email, attach_invoice_pdf, ...")
    outcome: str = Field(description="started, resumed, created, found, unknown, failed, waiting, paused, sent, ...")
    detail: str | None
    request: str | None = Field(description="the request sent, redacted; null when none was made")
    response: str | None = Field(description="the response received, redacted; null when none came")


class OrderDetail(Order):
    """GET /api/v1/orders/{id}: the order with its timeline of attempts."""

    timeline: list[TimelineEntry]


class OrderPage(BaseModel):
    """GET /api/v1/orders: one page of orders, newest ordered_at first, with the last order sync time."""

    items: list[Order]
    total: int
    page: int
    page_size: int
    last_order_sync_at: datetime | None = Field(description="end of the last successful order run")


@dataclass(frozen=True)
class InvoicePdf:
    """An order's invoice as Fortnox prints it."""

    content: bytes
    filename: str


class BackfillRequest(BaseModel):
    """POST /api/v1/orders/backfill: send the orders placed in [from, to); a dry run only lists them."""

    model_config = _STRICT

    from_: DateTimeInput = Field(alias="from", description="RFC 3339 date-time with offset; included")
    to: DateTimeInput = Field(description="RFC 3339 date-time with offset; excluded, after `from`")
    dry_run: bool = Field(
        default=False, description="plan only: the run's planned actions list what would be sent (default false)"
    )
