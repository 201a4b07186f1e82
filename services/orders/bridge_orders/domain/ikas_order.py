"""An ikas order as the orders service sees it (ikas-api.md §6): plain values, exact decimals.

The adapter maps the ikas client's models onto these, so the domain never imports an upstream package.
Prices are per unit and follow the store's gross/net convention (VAT-inclusive unless the store says
otherwise); VAT rates are percentages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class IkasCustomer:
    email: str | None
    name: str | None
    phone: str | None
    preferred_language: str | None


@dataclass(frozen=True)
class IkasAddress:
    first_name: str
    last_name: str
    company: str | None
    address_line1: str
    address_line2: str | None
    postal_code: str | None
    city: str
    country_iso2: str | None
    phone: str | None
    tax_number: str | None

    @property
    def is_company(self) -> bool:
        """A company name or a tax number makes the buyer a company (product.md §5)."""
        return bool((self.company or "").strip() or (self.tax_number or "").strip())

    @property
    def person_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True)
class IkasUnit:
    """What one item of a variant holds: `amount` of `type` (500 GRAM), ProductUnitTypeEnum values."""

    amount: Decimal | None
    type: str


@dataclass(frozen=True)
class IkasBaseUnit:
    """The product's base unit when it applies base (unit) prices (`1 KILOGRAM`: "119 kr / kg").
    `name` names a CUSTOM unit (ikas ProductUnit)."""

    amount: Decimal | None
    type: str
    name: str | None = None


@dataclass(frozen=True)
class IkasLine:
    id: str
    variant_id: str | None
    sku: str | None
    name: str
    quantity: Decimal
    unit_price: Decimal  # what the buyer paid per unit: finalPrice ?? price (ikas-api.md §6.3)
    vat_rate: Decimal | None
    status: str
    product_id: str | None = None
    unit: IkasUnit | None = None
    base_unit: IkasBaseUnit | None = None  # set only when the product applies base prices


@dataclass(frozen=True)
class IkasShippingLine:
    title: str
    final_price: Decimal
    vat_rate: Decimal | None


@dataclass(frozen=True)
class IkasTaxLine:
    rate: Decimal
    amount: Decimal


@dataclass(frozen=True)
class IkasAdjustment:
    """An order-level discount (DECREMENT) or surcharge (INCREMENT); ikas may already have folded it into the
    lines' final prices (ikas-api.md §6.3), which the mapping finds out from the totals."""

    name: str
    type: str
    amount: Decimal
    amount_type: str  # AMOUNT | RATIO


@dataclass(frozen=True)
class IkasGiftPackageLine:
    price: Decimal
    vat_rate: Decimal | None


@dataclass(frozen=True)
class IkasInvoice:
    """An invoice attached to the ikas order (Order.invoices, ikas-api.md §6.5)."""

    id: str
    number: str
    app_id: str | None
    store_app_id: str | None
    created_at: datetime | None


@dataclass(frozen=True)
class IkasPaymentMethod:
    """How the buyer paid (Order.paymentMethods, ikas-api.md §6): a PaymentMethodTypeEnum value and the amount."""

    type: str
    amount: Decimal


@dataclass(frozen=True)
class AttributeValues:
    """The values one product attribute has on variants and on products (option names for choice attributes)."""

    by_variant: Mapping[str, str] = field(default_factory=dict)
    by_product: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IkasOrder:
    id: str
    number: str
    status: str
    payment_status: str | None
    package_status: str | None
    ordered_at: datetime
    updated_at: datetime | None
    currency: str
    total_final_price: Decimal
    customer: IkasCustomer | None
    billing_address: IkasAddress | None
    lines: tuple[IkasLine, ...]
    shipping_lines: tuple[IkasShippingLine, ...]
    tax_lines: tuple[IkasTaxLine, ...]
    adjustments: tuple[IkasAdjustment, ...] = ()
    gift_package_lines: tuple[IkasGiftPackageLine, ...] = ()
    invoices: tuple[IkasInvoice, ...] = ()
    payment_methods: tuple[IkasPaymentMethod, ...] = ()
    # Shipping the buyer got back (isRefunded): not charged by the order's rows, credited after invoicing (§5b).
    refunded_shipping_lines: tuple[IkasShippingLine, ...] = ()

    @property
    def payment_method_type(self) -> str | None:
        """The method that paid the most: Fortnox gets one payment per invoice, with one mode of payment."""
        paying = sorted(self.payment_methods, key=lambda method: method.amount, reverse=True)
        return paying[0].type if paying else None

    @property
    def total_vat(self) -> Decimal:
        return sum((t.amount for t in self.tax_lines), Decimal(0))

    @property
    def customer_name(self) -> str:
        address = self.billing_address
        if address is not None and (address.company or "").strip():
            return (address.company or "").strip()
        if self.customer is not None and (self.customer.name or "").strip():
            return (self.customer.name or "").strip()
        return address.person_name if address is not None else ""

    @property
    def customer_email(self) -> str | None:
        return self.customer.email.strip() if self.customer and self.customer.email else None
