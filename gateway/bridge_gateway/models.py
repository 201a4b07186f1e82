"""The JSON documents of the REST API (product.md §2, §8) as pydantic models, shared by api/ and clients/.

Input is strict: every key present (nullable keys as null), JSON types as they are (no "true" for
true), unknown keys rejected. Choice fields are `Literal`s so /openapi.json lists their values; the
services still check them, since they own the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
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
