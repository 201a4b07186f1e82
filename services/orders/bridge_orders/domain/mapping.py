"""An ikas order as a Fortnox order and customer (product.md §5, "Mapping"); plain values, exact decimals.

What is left for later (issue 7): units per orders.unit_source, order-level adjustments as rows (in the ikas
sample they are already folded into the lines' final prices), and gift packaging lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final
from zoneinfo import ZoneInfo

from bridge_orders.domain.ikas_order import IkasAddress, IkasOrder
from bridge_orders.domain.order_record import idempotency_key
from bridge_orders.domain.settings import (
    ALWAYS_EN,
    ALWAYS_SV,
    CUSTOMER_ELSE_SV,
    FREIGHT,
    OrderSettings,
    canonical_vat_rate,
)

STOCKHOLM: Final = ZoneInfo("Europe/Stockholm")
HOME_COUNTRY: Final = "SE"  # Fortnox companies are Swedish
SWEDISH_RATES: Final = frozenset({Decimal(25), Decimal(12), Decimal(6), Decimal(0)})
EU_COUNTRIES: Final = frozenset(
    {
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    }
)
SKIPPED_LINE_STATUSES: Final = frozenset({"CANCELLED"})
# fortnox-api.md §5.5: Freight appears to be a NET amount Fortnox adds VAT to, also on VATIncluded documents
# [L]. Should a real company show otherwise, this is the one line to change.
FREIGHT_IS_NET: Final = True
MAX_ROW_DESCRIPTION: Final = 255

SEVAT, EUVAT, EUREVERSEDVAT, EXPORT = "SEVAT", "EUVAT", "EUREVERSEDVAT", "EXPORT"


@dataclass(frozen=True)
class OrderRow:
    article_number: str | None  # None: a free-text row
    description: str
    quantity: Decimal
    price: Decimal  # per unit, gross when the document's vat_included
    vat: Decimal
    account_number: int | None = None


@dataclass(frozen=True)
class OrderDraft:
    external_invoice_reference1: str
    your_order_number: str
    order_date: date
    customer_number: str
    currency: str
    language: str  # EN | SV
    vat_included: bool
    freight: Decimal | None
    rows: tuple[OrderRow, ...]


@dataclass(frozen=True)
class CustomerDraft:
    type: str  # PRIVATE | COMPANY
    name: str
    email: str | None
    phone: str | None
    address1: str | None
    address2: str | None
    zip_code: str | None
    city: str | None
    country_code: str | None
    organisation_number: str | None
    vat_number: str | None
    vat_type: str


@dataclass(frozen=True)
class MissingRelations:
    """Lines without a product relation while orders.sync_items_without_relation is off."""

    skus: tuple[str, ...]

    @property
    def waiting_reason(self) -> str:
        return "waiting for product relations: " + ", ".join(self.skus)


def language(order: IkasOrder, settings: OrderSettings) -> str:
    """The four rules of orders.language: `customer_else_*` takes the primary subtag of the customer's
    preferred language (case-insensitive) when it is en or sv, else the fallback."""
    if settings.language == ALWAYS_EN:
        return "EN"
    if settings.language == ALWAYS_SV:
        return "SV"
    fallback = "SV" if settings.language == CUSTOMER_ELSE_SV else "EN"
    preferred = order.customer.preferred_language if order.customer else None
    primary = (preferred or "").strip().replace("_", "-").split("-")[0].lower()
    return {"en": "EN", "sv": "SV"}.get(primary, fallback)


def vat_type(order: IkasOrder) -> str:
    """VATType per §5: from the VAT ikas actually charged and the billing address."""
    address = order.billing_address
    country = (address.country_iso2 if address else None) or HOME_COUNTRY
    country = country.upper()
    charged = order.total_vat != 0
    in_eu = country in EU_COUNTRIES
    if not charged and country != HOME_COUNTRY:
        if in_eu and address is not None and address.is_company and (address.tax_number or "").strip():
            return EUREVERSEDVAT
        if not in_eu:
            return EXPORT
    # OSS: a rate Sweden does not have means the buyer's country's rate was charged. A foreign rate equal
    # to a Swedish one (Denmark's 25) cannot be told apart from the tax lines and stays SEVAT.
    foreign_rate = any(line.rate not in SWEDISH_RATES for line in order.tax_lines if line.amount != 0)
    if charged and in_eu and country != HOME_COUNTRY and not (address and address.is_company) and foreign_rate:
        return EUVAT
    return SEVAT


def organisation_number(address: IkasAddress) -> str | None:
    """The tax number as an organisation number: a Swedish VAT number `SE<10 digits>01` gives its digits."""
    tax = (address.tax_number or "").strip().replace(" ", "")
    if not tax:
        return None
    if tax.upper().startswith("SE") and tax.endswith("01") and tax[2:-2].isdigit() and len(tax) == 14:
        return tax[2:-2]
    return tax


def customer_draft(order: IkasOrder) -> CustomerDraft:
    address = order.billing_address
    is_company = address is not None and address.is_company
    phone = (address.phone if address else None) or (order.customer.phone if order.customer else None)
    return CustomerDraft(
        type="COMPANY" if is_company else "PRIVATE",
        name=order.customer_name or order.customer_email or f"ikas order {order.number}",
        email=order.customer_email,
        phone=phone,
        address1=address.address_line1 if address else None,
        address2=address.address_line2 if address else None,
        zip_code=address.postal_code if address else None,
        city=address.city if address else None,
        country_code=address.country_iso2.upper() if address and address.country_iso2 else None,
        organisation_number=organisation_number(address) if address and is_company else None,
        vat_number=(address.tax_number or "").strip() or None if address and is_company else None,
        vat_type=vat_type(order),
    )


def missing_relations(order: IkasOrder, article_numbers: Mapping[str, str]) -> MissingRelations | None:
    skus = sorted(
        {
            (line.sku or "").strip() or f"(no SKU: {line.name})"
            for line in order.lines
            if line.status not in SKIPPED_LINE_STATUSES
            and (line.variant_id is None or line.variant_id not in article_numbers)
        }
    )
    return MissingRelations(tuple(skus)) if skus else None


def order_draft(
    order: IkasOrder,
    settings: OrderSettings,
    *,
    customer_number: str,
    article_numbers: Mapping[str, str],
    prices_include_vat: bool,
) -> OrderDraft | MissingRelations:
    """The Fortnox order, or the SKUs it waits for."""
    if not settings.sync_items_without_relation:
        missing = missing_relations(order, article_numbers)
        if missing is not None:
            return missing
    rows: list[OrderRow] = []
    for line in order.lines:
        if line.status in SKIPPED_LINE_STATUSES:
            continue
        rate = line.vat_rate or Decimal(0)
        number = article_numbers.get(line.variant_id) if line.variant_id else None
        rows.append(
            OrderRow(
                article_number=number,
                description=line.name[:MAX_ROW_DESCRIPTION],
                quantity=line.quantity,
                price=line.unit_price,
                vat=rate,
                account_number=None if number else _sales_account(settings, rate),
            )
        )
    freight: Decimal | None = None
    if settings.shipping == FREIGHT:
        freight = sum(
            (_freight_amount(s.final_price, s.vat_rate, prices_include_vat) for s in order.shipping_lines), Decimal(0)
        )
    else:
        for shipping in order.shipping_lines:
            rate = shipping.vat_rate or Decimal(0)
            rows.append(
                OrderRow(
                    article_number=settings.shipping_article_number,
                    description=shipping.title[:MAX_ROW_DESCRIPTION],
                    quantity=Decimal(1),
                    price=shipping.final_price,
                    vat=rate,
                    account_number=_sales_account(settings, rate),
                )
            )
    return OrderDraft(
        external_invoice_reference1=idempotency_key(order.id),
        your_order_number=order.number,
        order_date=order.ordered_at.astimezone(STOCKHOLM).date(),
        customer_number=customer_number,
        currency=order.currency,
        language=language(order, settings),
        vat_included=prices_include_vat,
        freight=freight,
        rows=tuple(rows),
    )


def _sales_account(settings: OrderSettings, rate: Decimal) -> int | None:
    return settings.sales_accounts.get(canonical_vat_rate(str(rate)))


def _freight_amount(price: Decimal, rate: Decimal | None, prices_include_vat: bool) -> Decimal:
    if not (FREIGHT_IS_NET and prices_include_vat and rate):
        return price
    return (price * 100 / (100 + rate)).quantize(Decimal("0.01"))
