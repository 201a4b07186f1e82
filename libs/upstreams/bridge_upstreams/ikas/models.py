"""What the ikas client returns and accepts: frozen dataclasses, money as Decimal, times as aware UTC.

The `*_from_json` functions map the GraphQL answers (parsed with Decimal for every JSON number that has
a fraction or exponent) to these classes; a missing or mistyped field raises KeyError/TypeError/ValueError,
which the client turns into a clear upstream error (never a crash).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# --- scalars -----------------------------------------------------------------------------------------


def timestamp_to_datetime(value: Any) -> datetime | None:
    """ikas `Timestamp` (milliseconds since the Unix epoch, fact sheet §2.1) -> aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal | float):
        raise TypeError(f"a Timestamp must be a number of milliseconds, not {value!r}")
    return _EPOCH + timedelta(milliseconds=int(value))


def datetime_to_timestamp(value: datetime) -> int:
    """Aware datetime -> ikas `Timestamp` (ms). Naive datetimes are refused: their zone is a guess."""
    if value.tzinfo is None:
        raise ValueError("ikas timestamps need a timezone-aware datetime")
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def money(value: Any) -> Decimal:
    """A JSON number -> Decimal, exactly as written in the answer (never through float)."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError(f"expected a number, got {value!r}")
    return Decimal(value)


def optional_money(value: Any) -> Decimal | None:
    return None if value is None else money(value)


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value


def _opt_str(value: Any) -> str | None:
    return None if value is None else _str(value)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected a boolean, got {value!r}")
    return value


def _strs(value: Any) -> tuple[str, ...]:
    return tuple(_str(item) for item in (value or ()))


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return value


# --- app, merchant, settings ------------------------------------------------------------------------


@dataclass(frozen=True)
class Me:
    """The calling app (`me`); for a private app `id` is the client id."""

    id: str
    name: str | None
    email: str | None
    scope: str | None
    store_app_id: str | None
    sales_channel_id: str | None
    partner_id: str | None
    added_at: datetime | None


@dataclass(frozen=True)
class Merchant:
    id: str
    store_name: str | None
    merchant_name: str | None
    email: str
    region: str | None


@dataclass(frozen=True)
class AuthorizedApp:
    """One installation of the app in a store; `id` is the authorizedAppId a tenant is keyed by."""

    id: str
    store_app_id: str
    partner_id: str
    sales_channel_id: str | None
    scope: str
    added_at: datetime | None
    deleted: bool

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(part.strip() for part in self.scope.split(",") if part.strip())


@dataclass(frozen=True)
class StockLocation:
    id: str
    name: str
    type: str | None
    deleted: bool


@dataclass(frozen=True)
class ProductTag:
    id: str
    name: str
    deleted: bool


@dataclass(frozen=True)
class VariantValue:
    id: str
    name: str


@dataclass(frozen=True)
class VariantType:
    id: str
    name: str
    values: tuple[VariantValue, ...]


@dataclass(frozen=True)
class StateTaxRate:
    state_id: str | None
    rate: Decimal


@dataclass(frozen=True)
class ProductTaxOverride:
    """A VAT rate for products carrying any of `product_tag_ids` (fact sheet §4.4)."""

    product_tag_ids: tuple[str, ...]
    state_id: str | None
    rate: Decimal


@dataclass(frozen=True)
class TaxSettings:
    """VAT of one country; rates are percentages (25 = 25 %)."""

    id: str
    country_id: str
    rate: Decimal
    state_rates: tuple[StateTaxRate, ...]
    product_overrides: tuple[ProductTaxOverride, ...]
    shipping_rates: tuple[StateTaxRate, ...]


@dataclass(frozen=True)
class GlobalTaxSettings:
    tax_excluded_on_prices: bool
    tax_excluded_on_shipping_prices: bool


# --- products and stock -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Price:
    """One price row of a variant; `price_list_id` None is the default price list."""

    sell_price: Decimal
    discount_price: Decimal | None = None
    buy_price: Decimal | None = None
    currency: str | None = None
    price_list_id: str | None = None


@dataclass(frozen=True)
class VariantStock:
    stock_location_id: str
    count: Decimal


@dataclass(frozen=True)
class VariantUnit:
    """The variant holds `amount` of `type` (500 GRAM)."""

    amount: Decimal | None
    type: str


@dataclass(frozen=True)
class BaseUnit:
    """The product's reference quantity for unit prices; `unit_id` names a custom unit (type CUSTOM)."""

    base_amount: Decimal | None
    type: str
    unit_id: str | None


@dataclass(frozen=True)
class VariantValueRef:
    variant_type_id: str
    variant_value_id: str


@dataclass(frozen=True)
class Variant:
    id: str
    sku: str | None
    barcodes: tuple[str, ...]
    is_active: bool
    deleted: bool
    updated_at: datetime | None
    prices: tuple[Price, ...]
    stocks: tuple[VariantStock, ...]
    unit: VariantUnit | None
    values: tuple[VariantValueRef, ...]

    def price_on(self, price_list_id: str | None = None) -> Price | None:
        """The price row of one price list (None: the default list)."""
        return next((p for p in self.prices if p.price_list_id == price_list_id), None)

    @property
    def total_stock(self) -> Decimal:
        return sum((s.count for s in self.stocks), Decimal(0))


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    type: str
    tag_ids: tuple[str, ...]
    deleted: bool
    created_at: datetime | None
    updated_at: datetime | None
    base_unit: BaseUnit | None
    variants: tuple[Variant, ...]


@dataclass(frozen=True)
class ProductStock:
    """One (variant, stock location) count from listProductStockLocation."""

    id: str
    product_id: str
    variant_id: str
    stock_location_id: str
    count: Decimal
    deleted: bool
    updated_at: datetime | None


@dataclass(frozen=True)
class NewVariant:
    sku: str
    sell_price: Decimal
    barcodes: tuple[str, ...] = ()
    is_active: bool = True


@dataclass(frozen=True)
class NewProduct:
    """A product to create (product.md §3, mode fortnox_to_ikas: name, SKU, sellPrice, EAN)."""

    name: str
    variants: tuple[NewVariant, ...]
    type: str = "PHYSICAL"
    tag_ids: tuple[str, ...] = ()
    sales_channel_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class VariantChanges:
    """Fields of one variant to change; None leaves a field as it is."""

    sku: str | None = None
    barcodes: tuple[str, ...] | None = None
    is_active: bool | None = None
    sell_price: Decimal | None = None  # on the default price list


@dataclass(frozen=True)
class ProductChanges:
    """What `IkasClient.update_product_fields` changes; everything else of the product is kept."""

    name: str | None = None
    add_tag_ids: tuple[str, ...] = ()
    remove_tag_ids: tuple[str, ...] = ()
    variants: Mapping[str, VariantChanges] = field(default_factory=dict)


@dataclass(frozen=True)
class PriceUpdate:
    product_id: str
    variant_id: str
    sell_price: Decimal
    discount_price: Decimal | None = None
    buy_price: Decimal | None = None
    currency: str | None = None


@dataclass(frozen=True)
class StockUpdate:
    """An absolute count for one (variant, location)."""

    product_id: str
    variant_id: str
    stock_location_id: str
    count: Decimal


# --- product attributes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductAttribute:
    """A product attribute (listProductAttribute); `options` are (id, name) of choice attributes."""

    id: str
    name: str
    type: str
    deleted: bool
    options: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class AttributeValue:
    attribute_id: str | None
    option_id: str | None
    value: str | None


@dataclass(frozen=True)
class ProductAttributeValues:
    """The attribute values of one product and of each of its variants (variant id -> values)."""

    product_id: str
    values: tuple[AttributeValue, ...]
    variants: Mapping[str, tuple[AttributeValue, ...]]


# --- orders -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderCustomer:
    id: str | None
    email: str | None
    first_name: str | None
    last_name: str | None
    full_name: str | None
    phone: str | None
    preferred_language: str | None


@dataclass(frozen=True)
class OrderAddress:
    first_name: str
    last_name: str
    company: str | None
    address_line1: str
    address_line2: str | None
    postal_code: str | None
    city: str
    country_iso2: str | None
    country_name: str
    phone: str | None
    tax_number: str | None
    tax_office: str | None

    @property
    def is_company(self) -> bool:
        """A company name or a tax number makes the buyer a company (product.md §5)."""
        return bool((self.company or "").strip() or (self.tax_number or "").strip())


@dataclass(frozen=True)
class OrderLineVariant:
    id: str | None
    product_id: str | None
    sku: str | None
    name: str
    barcodes: tuple[str, ...]
    unit: VariantUnit | None
    base_unit_amount: Decimal | None
    base_unit_type: str | None
    base_unit_name: str | None
    values: tuple[tuple[str | None, str | None], ...]  # (variant type name, value name)


@dataclass(frozen=True)
class OrderLine:
    """One line item; prices are per unit (VAT-inclusive unless the store is net); tax_rate is a percentage."""

    id: str
    quantity: Decimal
    price: Decimal
    discount_price: Decimal | None
    final_price: Decimal | None
    tax_rate: Decimal | None
    status: str
    original_line_id: str | None
    variant: OrderLineVariant

    @property
    def unit_price(self) -> Decimal:
        """The price the buyer paid per unit: `finalPrice ?? price` (fact sheet §6.3)."""
        return self.final_price if self.final_price is not None else self.price


@dataclass(frozen=True)
class TaxLine:
    rate: Decimal
    amount: Decimal


@dataclass(frozen=True)
class ShippingLine:
    title: str
    price: Decimal
    final_price: Decimal
    tax_rate: Decimal | None
    is_refunded: bool


@dataclass(frozen=True)
class AdjustmentLine:
    order_line_id: str
    amount: Decimal
    applied_quantity: Decimal


@dataclass(frozen=True)
class OrderAdjustment:
    """An order-level discount (DECREMENT) or surcharge (INCREMENT); amount_type AMOUNT or RATIO."""

    name: str
    type: str
    amount: Decimal
    amount_type: str
    order: Decimal
    applied_lines: tuple[AdjustmentLine, ...]


@dataclass(frozen=True)
class GiftPackageLine:
    price: Decimal
    tax_rate: Decimal | None
    is_refunded: bool


@dataclass(frozen=True)
class PaymentMethod:
    type: str
    amount: Decimal
    gateway_name: str | None


@dataclass(frozen=True)
class Invoice:
    id: str
    number: str
    app_id: str
    store_app_id: str
    type: str
    has_pdf: bool
    created_at: datetime | None


@dataclass(frozen=True)
class Order:
    id: str
    number: str | None
    status: str
    payment_status: str | None
    package_status: str | None
    ordered_at: datetime | None
    updated_at: datetime | None
    cancelled_at: datetime | None
    currency: str
    total_price: Decimal
    total_final_price: Decimal
    net_total_final_price: Decimal | None
    shipping_method: str
    note: str | None
    customer: OrderCustomer | None
    billing_address: OrderAddress | None
    shipping_address: OrderAddress | None
    lines: tuple[OrderLine, ...]
    tax_lines: tuple[TaxLine, ...]
    shipping_lines: tuple[ShippingLine, ...]
    adjustments: tuple[OrderAdjustment, ...]
    gift_package_lines: tuple[GiftPackageLine, ...]
    payment_methods: tuple[PaymentMethod, ...]
    invoices: tuple[Invoice, ...]

    @property
    def total_tax(self) -> Decimal:
        return sum((t.amount for t in self.tax_lines), Decimal(0))


@dataclass(frozen=True)
class InvoiceAttachment:
    """An invoice PDF to attach to an ikas order with addOrderInvoice (fact sheet §6.5)."""

    order_id: str
    invoice_number: str
    app_id: str
    pdf: bytes
    type: str = "OTHER"  # InvoiceTypeEnum: COMPANY | INDIVIDUAL | OTHER
    send_notification_to_customer: bool = False
    created_at: datetime | None = None


@dataclass(frozen=True)
class Webhook:
    id: str
    scope: str
    endpoint: str
    deleted: bool
    created_at: datetime | None
    updated_at: datetime | None


# --- JSON -> models ---------------------------------------------------------------------------------


def me_from_json(raw: Mapping[str, Any]) -> Me:
    return Me(
        id=_str(raw["id"]),
        name=_opt_str(raw.get("name")),
        email=_opt_str(raw.get("email")),
        scope=_opt_str(raw.get("scope")),
        store_app_id=_opt_str(raw.get("storeAppId")),
        sales_channel_id=_opt_str(raw.get("salesChannelId")),
        partner_id=_opt_str(raw.get("partnerId")),
        added_at=timestamp_to_datetime(raw.get("addedDate")),
    )


def merchant_from_json(raw: Mapping[str, Any]) -> Merchant:
    return Merchant(
        id=_str(raw["id"]),
        store_name=_opt_str(raw.get("storeName")),
        merchant_name=_opt_str(raw.get("merchantName")),
        email=_str(raw["email"]),
        region=_opt_str(raw.get("region")),
    )


def authorized_app_from_json(raw: Mapping[str, Any]) -> AuthorizedApp:
    return AuthorizedApp(
        id=_str(raw["id"]),
        store_app_id=_str(raw["storeAppId"]),
        partner_id=_str(raw["partnerId"]),
        sales_channel_id=_opt_str(raw.get("salesChannelId")),
        scope=_str(raw["scope"]),
        added_at=timestamp_to_datetime(raw.get("addedDate")),
        deleted=_bool(raw["deleted"]),
    )


def stock_location_from_json(raw: Mapping[str, Any]) -> StockLocation:
    return StockLocation(
        id=_str(raw["id"]), name=_str(raw["name"]), type=_opt_str(raw.get("type")), deleted=_bool(raw["deleted"])
    )


def product_tag_from_json(raw: Mapping[str, Any]) -> ProductTag:
    return ProductTag(id=_str(raw["id"]), name=_str(raw["name"]), deleted=_bool(raw["deleted"]))


def variant_type_from_json(raw: Mapping[str, Any]) -> VariantType:
    return VariantType(
        id=_str(raw["id"]),
        name=_str(raw["name"]),
        values=tuple(VariantValue(id=_str(v["id"]), name=_str(v["name"])) for v in _list(raw["values"])),
    )


def _state_rate(raw: Mapping[str, Any]) -> StateTaxRate:
    return StateTaxRate(state_id=_opt_str(raw.get("stateId")), rate=money(raw["taxRate"]))


def tax_settings_from_json(raw: Mapping[str, Any]) -> TaxSettings:
    return TaxSettings(
        id=_str(raw["id"]),
        country_id=_str(raw["countryId"]),
        rate=money(raw["taxRate"]),
        state_rates=tuple(_state_rate(r) for r in _list(raw.get("rates"))),
        product_overrides=tuple(
            ProductTaxOverride(
                product_tag_ids=_strs(o["productTagIds"]),
                state_id=_opt_str(o.get("stateId")),
                rate=money(o["taxRate"]),
            )
            for o in _list(raw.get("productOverrides"))
        ),
        shipping_rates=tuple(_state_rate(r) for r in _list(raw.get("shippingTaxRates"))),
    )


def global_tax_settings_from_json(raw: Mapping[str, Any]) -> GlobalTaxSettings:
    return GlobalTaxSettings(
        tax_excluded_on_prices=_bool(raw["isTaxExcludedOnPrices"]),
        tax_excluded_on_shipping_prices=_bool(raw["isTaxExcludedOnShippingPrices"]),
    )


def _price(raw: Mapping[str, Any]) -> Price:
    return Price(
        sell_price=money(raw["sellPrice"]),
        discount_price=optional_money(raw.get("discountPrice")),
        buy_price=optional_money(raw.get("buyPrice")),
        currency=_opt_str(raw.get("currency")),
        price_list_id=_opt_str(raw.get("priceListId")),
    )


def _variant_unit(raw: Mapping[str, Any] | None) -> VariantUnit | None:
    if raw is None:
        return None
    return VariantUnit(amount=optional_money(raw.get("amount")), type=_str(raw["type"]))


def variant_from_json(raw: Mapping[str, Any]) -> Variant:
    return Variant(
        id=_str(raw["id"]),
        sku=_opt_str(raw.get("sku")),
        barcodes=_strs(raw.get("barcodeList")),
        is_active=_bool(raw["isActive"]),
        deleted=_bool(raw["deleted"]),
        updated_at=timestamp_to_datetime(raw.get("updatedAt")),
        prices=tuple(_price(p) for p in _list(raw["prices"])),
        stocks=tuple(
            VariantStock(stock_location_id=_str(s["stockLocationId"]), count=money(s["stockCount"]))
            for s in _list(raw.get("stocks"))
        ),
        unit=_variant_unit(raw.get("unit")),
        values=tuple(
            VariantValueRef(variant_type_id=_str(v["variantTypeId"]), variant_value_id=_str(v["variantValueId"]))
            for v in _list(raw.get("variantValueIds"))
        ),
    )


def product_from_json(raw: Mapping[str, Any]) -> Product:
    base = raw.get("baseUnit")
    return Product(
        id=_str(raw["id"]),
        name=_str(raw["name"]),
        type=_str(raw["type"]),
        tag_ids=_strs(raw.get("tagIds")),
        deleted=_bool(raw["deleted"]),
        created_at=timestamp_to_datetime(raw.get("createdAt")),
        updated_at=timestamp_to_datetime(raw.get("updatedAt")),
        base_unit=None
        if base is None
        else BaseUnit(
            base_amount=optional_money(base.get("baseAmount")),
            type=_str(base["type"]),
            unit_id=_opt_str(base.get("unitId")),
        ),
        variants=tuple(variant_from_json(v) for v in _list(raw["variants"])),
    )


def product_stock_from_json(raw: Mapping[str, Any]) -> ProductStock:
    return ProductStock(
        id=_str(raw["id"]),
        product_id=_str(raw["productId"]),
        variant_id=_str(raw["variantId"]),
        stock_location_id=_str(raw["stockLocationId"]),
        count=money(raw["stockCount"]),
        deleted=_bool(raw["deleted"]),
        updated_at=timestamp_to_datetime(raw.get("updatedAt")),
    )


def _address(raw: Mapping[str, Any] | None) -> OrderAddress | None:
    if raw is None:
        return None
    country = raw["country"]
    return OrderAddress(
        first_name=_str(raw["firstName"]),
        last_name=_str(raw["lastName"]),
        company=_opt_str(raw.get("company")),
        address_line1=_str(raw["addressLine1"]),
        address_line2=_opt_str(raw.get("addressLine2")),
        postal_code=_opt_str(raw.get("postalCode")),
        city=_str(raw["city"]["name"]),
        country_iso2=_opt_str(country.get("iso2")),
        country_name=_str(country["name"]),
        phone=_opt_str(raw.get("phone")),
        tax_number=_opt_str(raw.get("taxNumber")),
        tax_office=_opt_str(raw.get("taxOffice")),
    )


def _customer(raw: Mapping[str, Any] | None) -> OrderCustomer | None:
    if raw is None:
        return None
    return OrderCustomer(
        id=_opt_str(raw.get("id")),
        email=_opt_str(raw.get("email")),
        first_name=_opt_str(raw.get("firstName")),
        last_name=_opt_str(raw.get("lastName")),
        full_name=_opt_str(raw.get("fullName")),
        phone=_opt_str(raw.get("phone")),
        preferred_language=_opt_str(raw.get("preferredLanguage")),
    )


def _line_variant(raw: Mapping[str, Any]) -> OrderLineVariant:
    base = raw.get("baseUnit")
    base_unit = base.get("unit") if base is not None else None
    return OrderLineVariant(
        id=_opt_str(raw.get("id")),
        product_id=_opt_str(raw.get("productId")),
        sku=_opt_str(raw.get("sku")),
        name=_str(raw["name"]),
        barcodes=_strs(raw.get("barcodeList")),
        unit=_variant_unit(raw.get("unit")),
        base_unit_amount=optional_money(base.get("baseAmount")) if base is not None else None,
        base_unit_type=_opt_str(base.get("type")) if base is not None else None,
        base_unit_name=_opt_str(base_unit.get("name")) if base_unit is not None else None,
        values=tuple(
            (_opt_str(v.get("variantTypeName")), _opt_str(v.get("variantValueName")))
            for v in _list(raw.get("variantValues"))
        ),
    )


def _line(raw: Mapping[str, Any]) -> OrderLine:
    return OrderLine(
        id=_str(raw["id"]),
        quantity=money(raw["quantity"]),
        price=money(raw["price"]),
        discount_price=optional_money(raw.get("discountPrice")),
        final_price=optional_money(raw.get("finalPrice")),
        tax_rate=optional_money(raw.get("taxValue")),
        status=_str(raw["status"]),
        original_line_id=_opt_str(raw.get("originalOrderLineItemId")),
        variant=_line_variant(raw["variant"]),
    )


def invoice_from_json(raw: Mapping[str, Any]) -> Invoice:
    return Invoice(
        id=_str(raw["id"]),
        number=_str(raw["invoiceNumber"]),
        app_id=_str(raw["appId"]),
        store_app_id=_str(raw["storeAppId"]),
        type=_str(raw["type"]),
        has_pdf=bool(raw.get("hasPdf")),
        created_at=timestamp_to_datetime(raw.get("createdAt")),
    )


def order_from_json(raw: Mapping[str, Any]) -> Order:
    return Order(
        id=_str(raw["id"]),
        number=_opt_str(raw.get("orderNumber")),
        status=_str(raw["status"]),
        payment_status=_opt_str(raw.get("orderPaymentStatus")),
        package_status=_opt_str(raw.get("orderPackageStatus")),
        ordered_at=timestamp_to_datetime(raw.get("orderedAt")),
        updated_at=timestamp_to_datetime(raw.get("updatedAt")),
        cancelled_at=timestamp_to_datetime(raw.get("cancelledAt")),
        currency=_str(raw["currencyCode"]),
        total_price=money(raw["totalPrice"]),
        total_final_price=money(raw["totalFinalPrice"]),
        net_total_final_price=optional_money(raw.get("netTotalFinalPrice")),
        shipping_method=_str(raw["shippingMethod"]),
        note=_opt_str(raw.get("note")),
        customer=_customer(raw.get("customer")),
        billing_address=_address(raw.get("billingAddress")),
        shipping_address=_address(raw.get("shippingAddress")),
        lines=tuple(_line(line) for line in _list(raw["orderLineItems"])),
        tax_lines=tuple(TaxLine(rate=money(t["rate"]), amount=money(t["price"])) for t in _list(raw.get("taxLines"))),
        shipping_lines=tuple(
            ShippingLine(
                title=_str(s["title"]),
                price=money(s["price"]),
                final_price=money(s["finalPrice"]),
                tax_rate=optional_money(s.get("taxValue")),
                is_refunded=bool(s.get("isRefunded")),
            )
            for s in _list(raw.get("shippingLines"))
        ),
        adjustments=tuple(
            OrderAdjustment(
                name=_str(a["name"]),
                type=_str(a["type"]),
                amount=money(a["amount"]),
                amount_type=_str(a["amountType"]),
                order=money(a["order"]),
                applied_lines=tuple(
                    AdjustmentLine(
                        order_line_id=_str(line["orderLineId"]),
                        amount=money(line["amount"]),
                        applied_quantity=money(line["appliedQuantity"]),
                    )
                    for line in _list(a.get("appliedOrderLines"))
                ),
            )
            for a in _list(raw.get("orderAdjustments"))
        ),
        gift_package_lines=tuple(
            GiftPackageLine(
                price=money(g["price"]),
                tax_rate=optional_money(g.get("taxValue")),
                is_refunded=bool(g.get("isRefunded")),
            )
            for g in _list(raw.get("giftPackageLines"))
        ),
        payment_methods=tuple(
            PaymentMethod(
                type=_str(p["type"]), amount=money(p["price"]), gateway_name=_opt_str(p.get("paymentGatewayName"))
            )
            for p in _list(raw.get("paymentMethods"))
        ),
        invoices=tuple(invoice_from_json(i) for i in _list(raw.get("invoices"))),
    )


def product_attribute_from_json(raw: Mapping[str, Any]) -> ProductAttribute:
    return ProductAttribute(
        id=_str(raw["id"]),
        name=_str(raw["name"]),
        type=_str(raw["type"]),
        deleted=_bool(raw["deleted"]),
        options=tuple((_str(o["id"]), _str(o["name"])) for o in _list(raw.get("options"))),
    )


def _attribute_values(raw: Any) -> tuple[AttributeValue, ...]:
    return tuple(
        AttributeValue(
            attribute_id=_opt_str(a.get("productAttributeId")),
            option_id=_opt_str(a.get("productAttributeOptionId")),
            value=_opt_str(a.get("value")),
        )
        for a in _list(raw)
    )


def product_attribute_values_from_json(raw: Mapping[str, Any]) -> ProductAttributeValues:
    return ProductAttributeValues(
        product_id=_str(raw["id"]),
        values=_attribute_values(raw.get("attributes")),
        variants={_str(v["id"]): _attribute_values(v.get("attributes")) for v in _list(raw.get("variants"))},
    )


def webhook_from_json(raw: Mapping[str, Any]) -> Webhook:
    return Webhook(
        id=_str(raw["id"]),
        scope=_str(raw["scope"]),
        endpoint=_str(raw["endpoint"]),
        deleted=_bool(raw["deleted"]),
        created_at=timestamp_to_datetime(raw.get("createdAt")),
        updated_at=timestamp_to_datetime(raw.get("updatedAt")),
    )
