"""An ikas order as a Fortnox order and customer (product.md §5, "Mapping"); plain values, exact decimals.

Rows: one per line item (article number when related, else free text), the unit of base-priced products per
orders.unit_source, shipping per orders.shipping, gift packaging, and order-level adjustments that ikas did not
fold into the lines' final prices (ikas-api.md §6.3: in its sample it does). Whether an adjustment is folded is
read from the totals: what the rows charge is compared with totalFinalPrice, and the rest becomes adjustment rows,
split over the VAT rates by what the ikas tax lines say was charged at each rate, so that in order_row mode the
Fortnox total equals totalFinalPrice. Free-text, shipping, gift and adjustment rows (and any row at a rate Sweden
does not have) carry the sales account of their VAT rate; Fortnox refuses a non-standard rate without one
(error 2004167), so a missing account is this mapping's error, with a hint, before anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Final
from zoneinfo import ZoneInfo

from bridge_orders.domain.ikas_order import AttributeValues, IkasAddress, IkasLine, IkasOrder, IkasShippingLine
from bridge_orders.domain.order_record import idempotency_key
from bridge_orders.domain.settings import (
    ALWAYS_EN,
    ALWAYS_SV,
    ATTRIBUTE,
    CUSTOMER_ELSE_SV,
    FREIGHT,
    OrderSettings,
    canonical_vat_rate,
)
from bridge_platform.errors import InvalidInput

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
# A refunded line is not sold either, but ikas keeps it in the order's totals [?] (the ikas sandbox's reading):
# it is left out of the rows and still counted as charged when the adjustment rows reconcile totalFinalPrice.
REFUNDED_LINE_STATUSES: Final = frozenset({"REFUNDED"})
# fortnox-api.md §5.5: Freight appears to be a NET amount Fortnox adds VAT to, also on VATIncluded documents
# [L]. Should a real company show otherwise, this is the one line to change.
FREIGHT_IS_NET: Final = True
MAX_ROW_DESCRIPTION: Final = 255
MAX_UNIT_CODE: Final = 20  # Fortnox unit codes are 1-20 characters (fortnox-api.md §5.3)
CENT: Final = Decimal("0.01")
ZERO: Final = Decimal(0)
# ikas ProductUnitTypeEnum -> the Fortnox unit (code, description); Fortnox companies start with kg, g, l, ml, m,
# cm (and st); the others are created when first needed.
UNIT_CODES: Final = {
    "MILLIGRAM": ("mg", "Milligram"),
    "GRAM": ("g", "Gram"),
    "KILOGRAM": ("kg", "Kilogram"),
    "MILLILITER": ("ml", "Milliliter"),
    "CENTILITER": ("cl", "Centiliter"),
    "LITER": ("l", "Liter"),
    "MILLIMETER": ("mm", "Millimeter"),
    "CENTIMETER": ("cm", "Centimeter"),
    "METER": ("m", "Meter"),
    "SQUARE_METERS": ("m2", "Kvadratmeter"),
    "CUBIC_METERS": ("m3", "Kubikmeter"),
}
PIECES: Final = ("st", "Styck")
# How many of the family's smallest unit one unit is; units convert within a family only.
_UNIT_SCALE: Final = {
    "MILLIGRAM": ("mass", Decimal("0.001")),
    "GRAM": ("mass", Decimal(1)),
    "KILOGRAM": ("mass", Decimal(1000)),
    "MILLILITER": ("volume", Decimal(1)),
    "CENTILITER": ("volume", Decimal(10)),
    "LITER": ("volume", Decimal(1000)),
    "MILLIMETER": ("length", Decimal(1)),
    "CENTIMETER": ("length", Decimal(10)),
    "METER": ("length", Decimal(1000)),
    "SQUARE_METERS": ("area", Decimal(1)),
    "CUBIC_METERS": ("cubic", Decimal(1)),
}
GIFT_PACKAGING: Final = "Gift packaging"
ORDER_ADJUSTMENT: Final = "Order adjustment"

SEVAT, EUVAT, EUREVERSEDVAT, EXPORT = "SEVAT", "EUVAT", "EUREVERSEDVAT", "EXPORT"


class MappingError(InvalidInput):
    """The order cannot be put into Fortnox as the settings stand; `hint` says what to change."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class FortnoxUnit:
    code: str
    description: str


@dataclass(frozen=True)
class OrderRow:
    article_number: str | None  # None: a free-text row
    description: str
    quantity: Decimal
    price: Decimal  # per unit, gross when the document's vat_included
    vat: Decimal
    account_number: int | None = None
    unit: str | None = None  # a Fortnox unit code; None: the article's own unit


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
    units: tuple[FortnoxUnit, ...] = ()  # the units the rows name, which must exist in Fortnox first


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
    unit_attributes: AttributeValues | None = None,
) -> OrderDraft | MissingRelations:
    """The Fortnox order, or the SKUs it waits for. Raises MappingError for an order without lines (product.md
    §11: a clear error on that order, not an empty Fortnox order) and when a row cannot be sent as the settings
    stand (a missing sales account for a non-standard VAT rate, an unusable unit)."""
    if not order.lines:
        raise MappingError(
            f"ikas order {order.number} has no lines, so there is nothing to put in a Fortnox order",
            "add the products to the order in ikas, then send it again",
        )
    if not settings.sync_items_without_relation:
        missing = missing_relations(order, article_numbers)
        if missing is not None:
            return missing
    active = [line for line in order.lines if line.status not in SKIPPED_LINE_STATUSES | REFUNDED_LINE_STATUSES]
    rows, units, freight = document_rows(
        order,
        settings,
        active,
        order.shipping_lines,
        article_numbers=article_numbers,
        prices_include_vat=prices_include_vat,
        unit_attributes=unit_attributes,
    )
    rows.extend(adjustment_rows(order, settings, prices_include_vat=prices_include_vat))
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
        units=tuple(units.values()),
    )


def document_rows(
    order: IkasOrder,
    settings: OrderSettings,
    lines: Sequence[IkasLine],
    shipping_lines: Sequence[IkasShippingLine],
    *,
    article_numbers: Mapping[str, str],
    prices_include_vat: bool,
    unit_attributes: AttributeValues | None = None,
    gifts: bool = True,
) -> tuple[list[OrderRow], dict[str, FortnoxUnit], Decimal | None]:
    """The rows of the given lines and shipping lines (and the gift packaging, when `gifts`), the units they name
    and the freight (None unless orders.shipping is freight): the Fortnox order's rows without the adjustment
    rows. The order's own rows use the lines still sold; §5b compares and credits other selections of lines."""
    rows: list[OrderRow] = []
    units: dict[str, FortnoxUnit] = {}
    for line in lines:
        rate = line.vat_rate or ZERO
        number = article_numbers.get(line.variant_id) if line.variant_id else None
        quantity = row_quantity(line, settings, unit_attributes)
        if quantity.unit is not None:
            units.setdefault(quantity.unit.code, quantity.unit)
        rows.append(
            OrderRow(
                article_number=number,
                description=(line.name + quantity.note)[:MAX_ROW_DESCRIPTION],
                quantity=quantity.quantity,
                price=quantity.price,
                vat=rate,
                # An article row books to the article's account, except at a rate Sweden does not have (OSS),
                # where Fortnox needs the row's own account.
                account_number=_account(settings, rate, line.name)
                if number is None or rate not in SWEDISH_RATES
                else None,
                unit=quantity.unit.code if quantity.unit is not None else None,
            )
        )
    freight: Decimal | None = None
    if settings.shipping == FREIGHT:
        freight = sum((_freight_amount(s.final_price, s.vat_rate, prices_include_vat) for s in shipping_lines), ZERO)
    else:
        for shipping in shipping_lines:
            rate = shipping.vat_rate or ZERO
            rows.append(
                OrderRow(
                    article_number=settings.shipping_article_number,
                    description=shipping.title[:MAX_ROW_DESCRIPTION],
                    quantity=Decimal(1),
                    price=shipping.final_price,
                    vat=rate,
                    account_number=_account(settings, rate, f"shipping ({shipping.title})"),
                )
            )
    for gift in order.gift_package_lines if gifts else ():
        rate = gift.vat_rate or ZERO
        rows.append(
            OrderRow(None, GIFT_PACKAGING, Decimal(1), gift.price, rate, _account(settings, rate, GIFT_PACKAGING))
        )
    return rows, units, freight


# -- units -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowQuantity:
    """A line's quantity and per-unit price in the unit of its Fortnox row; `note` goes after the description."""

    quantity: Decimal
    price: Decimal
    unit: FortnoxUnit | None
    note: str = ""


def needs_unit_attribute(order: IkasOrder, settings: OrderSettings) -> bool:
    """Whether the mapping reads orders.unit_attribute for this order (a base-priced line, attribute source)."""
    return (
        settings.unit_source == ATTRIBUTE
        and bool(settings.unit_attribute)
        and any(line.base_unit is not None for line in order.lines)
    )


def row_quantity(line: IkasLine, settings: OrderSettings, attributes: AttributeValues | None) -> RowQuantity:
    """orders.unit_source for a product with base (unit) prices; other lines keep their article's unit.

    `attribute`: the value of orders.unit_attribute on the variant, else on the product, names the row's unit and
    the quantity stays in items (the attribute names what one item is: "påse", "förp"). Otherwise (and when
    neither has the attribute) the row is in the product's base unit: 2 bags of 500 g of a product priced per
    kilogram are 1 kg at the kilogram price, the same row total. When that is not exact to the öre (Fortnox keeps
    quantities and prices to two decimals), the row stays in pieces and the description names the pack size."""
    as_items = RowQuantity(line.quantity, line.unit_price, None)
    base = line.base_unit
    if base is None:
        return as_items
    if settings.unit_source == ATTRIBUTE and attributes is not None:
        value = (line.variant_id and attributes.by_variant.get(line.variant_id)) or (
            line.product_id and attributes.by_product.get(line.product_id)
        )
        if value and value.strip():
            code = value.strip()
            if len(code) > MAX_UNIT_CODE:
                raise MappingError(
                    f"the unit {code!r} of {line.name} is longer than Fortnox allows ({MAX_UNIT_CODE} characters)",
                    f"shorten the value of the ikas attribute {settings.unit_attribute!r}, or use the base unit",
                )
            return RowQuantity(line.quantity, line.unit_price, FortnoxUnit(code, code))
    if base.type in UNIT_CODES:
        unit = FortnoxUnit(*UNIT_CODES[base.type])
    elif (base.name or "").strip() and len((base.name or "").strip()) <= MAX_UNIT_CODE:
        name = (base.name or "").strip()
        unit = FortnoxUnit(name, name)
    else:
        return as_items
    if line.unit is None or line.unit.amount is None:
        return RowQuantity(line.quantity, line.unit_price, unit)  # sold by the base unit itself
    factor = _unit_factor(line.unit.type, base.type)
    if factor is None:
        return _in_pieces(line)
    quantity = line.quantity * line.unit.amount * factor
    total = line.quantity * line.unit_price
    if quantity == 0:
        return _in_pieces(line)
    price = (total / quantity).quantize(CENT, rounding=ROUND_HALF_UP)
    if quantity != quantity.quantize(CENT) or price * quantity != total:
        return _in_pieces(line)
    return RowQuantity(_plain(quantity), price, unit)


def _in_pieces(line: IkasLine) -> RowQuantity:
    unit = line.unit
    assert unit is not None
    assert unit.amount is not None
    code = UNIT_CODES.get(unit.type, (unit.type.lower(), ""))[0]
    return RowQuantity(line.quantity, line.unit_price, FortnoxUnit(*PIECES), f" ({_plain(unit.amount):f} {code})")


def _unit_factor(unit_type: str, base_type: str) -> Decimal | None:
    """How many base units one `unit_type` is (GRAM of a KILOGRAM base: 0.001); None across families."""
    if unit_type == base_type:
        return Decimal(1)
    unit, base = _UNIT_SCALE.get(unit_type), _UNIT_SCALE.get(base_type)
    if unit is None or base is None or unit[0] != base[0]:
        return None
    return unit[1] / base[1]


def _plain(value: Decimal) -> Decimal:
    """500.000 -> 500, 0.50 -> 0.5: the same number, written the way a person would."""
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal


# -- order-level adjustments -------------------------------------------------------------------------------------


def adjustment_rows(order: IkasOrder, settings: OrderSettings, *, prices_include_vat: bool) -> list[OrderRow]:
    """Rows for what totalFinalPrice holds beyond the lines, shipping and gift packaging: the order-level
    adjustments ikas did not fold into the lines' final prices (none, when it did)."""
    charged: dict[Decimal, Decimal] = {}  # VAT rate -> what the other rows charge at it (price terms)

    def add(rate: Decimal | None, amount: Decimal) -> None:
        charged[rate or ZERO] = charged.get(rate or ZERO, ZERO) + amount

    for line in order.lines:
        if line.status not in SKIPPED_LINE_STATUSES:
            add(line.vat_rate, line.quantity * line.unit_price)
    for shipping in (*order.shipping_lines, *order.refunded_shipping_lines):
        add(shipping.vat_rate, shipping.final_price)
    for gift in order.gift_package_lines:
        add(gift.vat_rate, gift.price)
    # totalFinalPrice is what the buyer pays (VAT included); a net store's rows leave the VAT out.
    payable = order.total_final_price if prices_include_vat else order.total_final_price - order.total_vat
    residual = payable - sum(charged.values(), ZERO)
    if abs(residual) < CENT:
        return []
    charged_vat = {line.rate: line.amount for line in order.tax_lines}
    parts: dict[Decimal, Decimal] = {}
    for rate in sorted(set(charged) | set(charged_vat)):
        if rate == 0:
            continue
        implied = charged.get(rate, ZERO) * rate / ((100 + rate) if prices_include_vat else 100)
        vat_part = charged_vat.get(rate, ZERO) - implied
        part = (vat_part * ((100 + rate) if prices_include_vat else 100) / rate).quantize(CENT, ROUND_HALF_UP)
        if part:
            parts[rate] = part
    rest = residual - sum(parts.values(), ZERO)
    if rest:
        # What the tax lines do not place (VAT-free amounts, rounding) goes to the 0 % rate when the order has
        # VAT-free rows, else to the largest part (or the rate the order charges most at).
        if ZERO in charged or (not parts and not charged):
            target = ZERO
        elif parts:
            target = max(parts, key=lambda r: abs(parts[r]))
        else:
            target = max(charged, key=lambda r: charged[r])
        parts[target] = parts.get(target, ZERO) + rest
    names = ", ".join(a.name.strip() for a in order.adjustments if a.name.strip()) or ORDER_ADJUSTMENT
    several = len([p for p in parts.values() if p]) > 1
    rows = []
    for rate, part in sorted(parts.items()):
        if not part:
            continue
        description = f"{names} ({canonical_vat_rate(str(rate))} % VAT)" if several else names
        rows.append(
            OrderRow(
                None,
                description[:MAX_ROW_DESCRIPTION],
                Decimal(1),
                part,
                rate,
                _account(settings, rate, ORDER_ADJUSTMENT.lower()),
            )
        )
    return rows


def _sales_account(settings: OrderSettings, rate: Decimal) -> int | None:
    return settings.sales_accounts.get(canonical_vat_rate(str(rate)))


def _account(settings: OrderSettings, rate: Decimal, what: str) -> int | None:
    """The sales account of a row's VAT rate; Fortnox needs one for a rate Sweden does not have (2004167)."""
    account = _sales_account(settings, rate)
    if account is None and rate not in SWEDISH_RATES:
        rate_text = canonical_vat_rate(str(rate))
        raise MappingError(
            f"no sales account for {rate_text} % VAT, which the row for {what} needs",
            f'map the rate to an account in the order settings (orders.sales_accounts "{rate_text}")',
        )
    return account


def _freight_amount(price: Decimal, rate: Decimal | None, prices_include_vat: bool) -> Decimal:
    if not (FREIGHT_IS_NET and prices_include_vat and rate):
        return price
    return (price * 100 / (100 + rate)).quantize(Decimal("0.01"))
