"""The JSON documents of the REST API (product.md §2, §8) as pydantic models, shared by api/ and clients/.

Input is strict: every key present (nullable keys as null), JSON types as they are (no "true" for
true), unknown keys rejected. Choice fields are `Literal`s so /openapi.json lists their values; the
services still check them, since they own the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

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
