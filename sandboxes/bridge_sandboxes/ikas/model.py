"""What the ikas store does with its data: product views and full-replace saves, stock rows, prices, orders with
ikas's price and VAT arithmetic (fact sheet §6.3), refunds and cancellations of an order's lines, invoices and
timeline entries.

Guesses about ikas are marked [?]. Two of them shape `change_order_lines` (refunds and cancellations, fact sheet
§6.2, §6.4): a cancel lowers the order's totals as if the cancelled lines had not been bought [?], while a refund
leaves every total as it was, money returned not being a change of what was bought [?]. A partial quantity splits
the line, the new line carrying originalOrderLineItemId ("Partial cancels split a line item" [L]).

Every function here runs under `SandboxState.lock` (the callers hold it) and reports changes through `Events`,
which the webhook dispatcher turns into deliveries.
"""

from __future__ import annotations

import base64
import binascii
import copy
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bridge_sandboxes.ikas.state import Record, Store, new_id, to_decimal

Emit = Callable[[Store, str, Record], None]  # (store, webhook scope, payload record)

CENT = Decimal("0.01")
CURRENCY_SYMBOLS = {"SEK": "kr", "EUR": "€", "USD": "$", "NOK": "kr", "DKK": "kr", "GBP": "£", "TRY": "₺"}
COUNTRIES = {  # iso2 -> OrderAddressCountry fields
    "SE": ("SWE", "Sweden"),
    "DE": ("DEU", "Germany"),
    "FI": ("FIN", "Finland"),
    "NO": ("NOR", "Norway"),
    "DK": ("DNK", "Denmark"),
    "US": ("USA", "United States"),
    "TR": ("TUR", "Türkiye"),
}


class IkasError(Exception):
    """An error the GraphQL API answers in `errors[]` with `extensions.code` (fact sheet §7)."""

    def __init__(self, message: str, code: str = "ARGUMENT_VALIDATION_ERROR") -> None:
        super().__init__(message)
        self.code = code


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------- products


def product_view(store: Store, product: Record) -> Record:
    """A stored product as the v1 `Product` type: tags, per-variant stocks and totalStock derived."""
    view = dict(product)
    view["tags"] = [
        {k: tag[k] for k in ("id", "name", "createdAt", "updatedAt", "deleted")}
        for tag_id in product.get("tagIds") or []
        if (tag := store.tags.get(tag_id)) is not None
    ]
    total = Decimal(0)
    variants = []
    for variant in product["variants"]:
        stocks = [
            row for (variant_id, _), row in store.stocks.items() if variant_id == variant["id"] and not row["deleted"]
        ]
        total += sum((row["stockCount"] for row in stocks), Decimal(0))
        variants.append({**variant, "stocks": stocks})
    view["variants"] = variants
    view["totalStock"] = total
    return view


def _price_record(store: Store, price: Record, price_list_id: str | None) -> Record:
    price_list = store.price_lists.get(price_list_id or "")
    currency = price.get("currency") or (price_list["currencyCode"] if price_list else store.currency_code)
    return {
        "sellPrice": to_decimal(price["sellPrice"]),
        "discountPrice": to_decimal(price.get("discountPrice")),
        "buyPrice": to_decimal(price.get("buyPrice")),
        "currency": currency,
        "currencyCode": currency,
        "currencySymbol": CURRENCY_SYMBOLS.get(currency, currency),
        "priceListId": price_list_id,
    }


def _check_price_list(store: Store, price_list_id: str | None) -> None:
    if price_list_id is not None and price_list_id not in store.price_lists:
        raise IkasError(f"Price list not found: {price_list_id}")


def save_product(store: Store, data: Record, now: int, emit: Emit) -> Record:
    """saveProduct: create (no id) or FULL replace (fact sheet §4.5): whatever the input leaves out is gone."""
    existing = store.products.get(data["id"]) if data.get("id") else None
    if data.get("id") and existing is None:
        raise IkasError(f"Product not found: {data['id']}")  # [?] real ikas may create with the given id
    if not data.get("variants"):
        raise IkasError("A product needs at least one variant")  # [?]
    for tag_id in data.get("tagIds") or []:
        if tag_id not in store.tags:
            raise IkasError(f"Product tag not found: {tag_id}")
    old_variants = {v["id"]: v for v in existing["variants"]} if existing else {}
    variants = []
    for variant_input in data["variants"]:
        variant_id = variant_input.get("id")
        old = old_variants.get(variant_id) if variant_id else None
        if variant_id and old is None:
            raise IkasError(f"Variant not found in product: {variant_id}")  # [?]
        for relation in variant_input.get("variantValueIds") or []:
            variant_type = store.variant_types.get(relation["variantTypeId"])
            if variant_type is None or relation["variantValueId"] not in {v["id"] for v in variant_type["values"]}:
                raise IkasError(f"Variant value not found: {relation['variantValueId']}")
        prices = []
        for price in variant_input["prices"]:
            _check_price_list(store, price.get("priceListId"))
            prices.append(_price_record(store, price, price.get("priceListId")))
        unit = variant_input.get("unit")
        variants.append(
            {
                # every VariantInput field, as given (absent = null/empty: full replace)
                "id": variant_id or new_id(),
                "sku": variant_input.get("sku"),
                "barcodeList": list(variant_input.get("barcodeList") or []),
                "isActive": variant_input.get("isActive") if variant_input.get("isActive") is not None else True,
                "sellIfOutOfStock": variant_input.get("sellIfOutOfStock"),
                "weight": to_decimal(variant_input.get("weight")),
                "hsCode": variant_input.get("hsCode"),
                "fileId": variant_input.get("fileId"),
                "prices": prices,
                "unit": {"amount": to_decimal(unit.get("amount")), "type": unit["type"]} if unit else None,
                "variantValueIds": list(variant_input.get("variantValueIds") or []),
                "attributes": list(variant_input.get("attributes") or []),
                "images": list(variant_input.get("images") or []),
                "bundleSettings": variant_input.get("bundleSettings"),
                "subscriptionPlanId": variant_input.get("subscriptionPlanId"),
                "createdAt": old["createdAt"] if old else now,
                "updatedAt": now,
                "deleted": bool(variant_input.get("deleted")),
            }
        )
    kept = {v["id"] for v in variants}
    for (variant_id, _), row in store.stocks.items():  # stock of variants the replace dropped goes with them
        if variant_id in old_variants and variant_id not in kept and not row["deleted"]:
            row.update(deleted=True, updatedAt=now)
    base_unit = data.get("baseUnit")
    product = {
        **{key: value for key, value in data.items() if key not in ("variants", "createdAt", "updatedAt")},
        "id": existing["id"] if existing else new_id(),
        "type": data["type"],
        "baseUnit": (
            {
                "baseAmount": to_decimal(base_unit.get("baseAmount")),
                "type": base_unit["type"],
                "unitId": base_unit.get("unitId"),
            }
            if base_unit
            else None
        ),
        "weight": to_decimal(data.get("weight")),
        "maxQuantityPerCart": to_decimal(data.get("maxQuantityPerCart")),
        "tagIds": list(data.get("tagIds") or []),
        "deleted": bool(data.get("deleted")),
        "variants": variants,
        "createdAt": existing["createdAt"] if existing else now,
        "updatedAt": now,
    }
    store.products[product["id"]] = product
    view = product_view(store, product)
    emit(store, "store/product/updated" if existing else "store/product/created", view)
    return view


def find_variant(store: Store, product_id: str, variant_id: str) -> tuple[Record, Record]:
    product = store.products.get(product_id)
    if product is None:
        raise IkasError(f"Product not found: {product_id}")
    for variant in product["variants"]:
        if variant["id"] == variant_id:
            return product, variant
    raise IkasError(f"Variant not found: {variant_id}")


def save_variant_prices(store: Store, data: Record, now: int, emit: Emit) -> bool:
    """saveVariantPrices: the price given replaces that price list's entry of each variant (fact sheet §4.5)."""
    entries = data["variantPriceInputs"]
    if len(entries) > 3000:
        raise IkasError("variantPriceInputs can contain at most 3000 entries")
    list_id = data.get("priceListId")
    _check_price_list(store, list_id)
    changed: dict[str, Record] = {}
    for entry in entries:
        product, variant = find_variant(store, entry["productId"], entry["variantId"])
        price_list_id = list_id if list_id is not None else entry["price"].get("priceListId")
        _check_price_list(store, price_list_id)
        rest = [p for p in variant["prices"] if p.get("priceListId") != price_list_id]
        variant["prices"] = (
            rest if entry.get("deleted") else [*rest, _price_record(store, entry["price"], price_list_id)]
        )
        variant["updatedAt"] = product["updatedAt"] = now
        changed[product["id"]] = product
    for product in changed.values():
        emit(store, "store/product/updated", product_view(store, product))
    return True


def save_stock_locations(store: Store, rows: list[Record], now: int, emit: Emit) -> bool:
    """saveProductStockLocations: upsert the absolute count per (variant, location) (fact sheet §5)."""
    for row in rows:
        find_variant(store, row["productId"], row["variantId"])
        if row["stockLocationId"] not in store.stock_locations:
            raise IkasError(f"Stock location not found: {row['stockLocationId']}")
    for row in rows:
        set_stock(
            store,
            row["productId"],
            row["variantId"],
            row["stockLocationId"],
            row["stockCount"],
            now,
            emit,
            deleted=bool(row.get("deleted")),
        )
    return True


def set_stock(
    store: Store,
    product_id: str,
    variant_id: str,
    location_id: str,
    count: Any,
    now: int,
    emit: Emit,
    *,
    deleted: bool = False,
) -> Record:
    key = (variant_id, location_id)
    existing = store.stocks.get(key)
    if existing is None:
        existing = {
            "id": new_id(),
            "productId": product_id,
            "variantId": variant_id,
            "stockLocationId": location_id,
            "createdAt": now,
        }
        store.stocks[key] = existing
        scope = "store/stock/created"
    else:
        scope = "store/stock/updated"
    existing.update(stockCount=to_decimal(count), updatedAt=now, deleted=deleted)
    emit(store, scope, dict(existing))
    return existing


# ---------------------------------------------------------------- tax


def product_tax_rate(store: Store, product: Record) -> Decimal | None:
    """The country rate, unless one of the product's tags hits a productOverride (fact sheet §4.6)."""
    for settings in store.tax_settings.values():
        if settings["deleted"]:
            continue
        tag_ids = set(product.get("tagIds") or [])
        for override in settings.get("productOverrides") or []:
            if tag_ids & set(override["productTagIds"]):
                return Decimal(override["taxRate"])
        return Decimal(settings["taxRate"])
    return None


# ---------------------------------------------------------------- orders


def _address(spec: Record | None) -> Record | None:
    if spec is None:
        return None
    iso2 = spec.get("country", "SE")
    iso3, country_name = COUNTRIES.get(iso2, (iso2, iso2))
    return {
        "id": spec.get("id") or new_id(),
        "firstName": spec.get("firstName", ""),
        "lastName": spec.get("lastName", ""),
        "company": spec.get("company"),
        "addressLine1": spec.get("addressLine1", ""),
        "addressLine2": spec.get("addressLine2"),
        "postalCode": spec.get("postalCode"),
        "city": {"id": None, "code": None, "name": spec.get("city", "")},
        "district": None,
        "state": None,
        "region": None,
        "country": {"id": iso3.lower(), "code": iso3, "iso2": iso2, "iso3": iso3, "name": country_name},
        "phone": spec.get("phone"),
        "taxNumber": spec.get("taxNumber"),
        "taxOffice": spec.get("taxOffice"),
        "identityNumber": None,
        "isDefault": False,
    }


def _variant_by(store: Store, line: Record) -> tuple[Record, Record]:
    for product in store.products.values():
        for variant in product["variants"]:
            if variant["id"] == line.get("variantId") or (line.get("sku") and variant["sku"] == line["sku"]):
                return product, variant
    raise IkasError(f"No variant for order line {line}")


def _line_status(order_package_status: str | None, order_status: str) -> str:
    if order_status == "CANCELLED":
        return "CANCELLED"
    if order_package_status in ("FULFILLED", "DELIVERED"):
        return order_package_status
    return "UNFULFILLED"


def build_order(store: Store, spec: Record, now: int, existing: Record | None = None) -> Record:
    """An Order from a compact spec (lines by SKU or variantId, shipping, an order-level discount), priced the way
    ikas prices it (fact sheet §6.3): gross unit prices, the adjustment folded into the lines' finalPrice,
    taxLines per rate over lines and shipping, totalFinalPrice = lines + shipping.

    With `existing` (a rebuild: an edit after transfer) the order keeps its id, number, orderedAt, createdAt and
    invoices; a line spec with "id" keeps that line id; customer, billingAddress and shippingAddress are kept
    unless the spec has the key (a compact address as the seed writes them, or None to clear it). Everything
    else comes from the spec as for a new order."""
    currency = spec.get("currencyCode") or (existing or {}).get("currencyCode") or store.currency_code
    price_list_id = spec.get("priceListId")
    if price_list_id is None and currency != store.currency_code:
        price_list_id = next((pl["id"] for pl in store.price_lists.values() if pl["currencyCode"] == currency), None)
    discount = spec.get("discount")
    percent = Decimal(str(discount["percent"])) if discount and "percent" in discount else None
    stock_location_id = spec.get("stockLocationId") or next(iter(store.stock_locations), None)
    status = spec.get("status", "CREATED")
    package_status = spec.get("orderPackageStatus", "UNFULFILLED")
    lines: list[Record] = []
    for line_spec in spec["lines"]:
        product, variant = _variant_by(store, line_spec)
        quantity = Decimal(str(line_spec.get("quantity", 1)))
        list_price = (
            next((p for p in variant["prices"] if p["priceListId"] == price_list_id), None) or variant["prices"][0]
        )
        price = Decimal(str(line_spec["price"])) if "price" in line_spec else list_price["sellPrice"]
        final = price
        if percent is not None:
            final = money(price * (100 - percent) / 100)
        rate = Decimal(str(line_spec["taxValue"])) if "taxValue" in line_spec else product_tax_rate(store, product)
        base_unit, unit = product.get("baseUnit"), variant.get("unit")
        unit_price = final_unit_price = None
        if base_unit and unit and unit.get("amount"):  # price per base unit (fact sheet §6.3)
            factor = _unit_factor(unit["type"], base_unit["type"]) * unit["amount"] / (base_unit["baseAmount"] or 1)
            unit_price, final_unit_price = money(price / factor), money(final / factor)
        names = _variant_value_names(store, variant)
        lines.append(
            {
                "id": line_spec.get("id") or new_id(),
                "quantity": quantity,
                "price": price,
                "discountPrice": None,
                "finalPrice": final,
                "unitPrice": unit_price,
                "finalUnitPrice": final_unit_price,
                "taxValue": rate,
                "discount": None,
                "status": _line_status(package_status, status),
                "statusUpdatedAt": now,
                "stockLocationId": stock_location_id,
                "currencyCode": currency,
                "currencySymbol": CURRENCY_SYMBOLS.get(currency, currency),
                "originalOrderLineItemId": None,
                "options": [],
                "createdAt": now,
                "updatedAt": now,
                "deleted": False,
                "variant": {
                    "id": variant["id"],
                    "productId": product["id"],
                    "sku": variant["sku"],
                    "barcodeList": list(variant["barcodeList"]),
                    "name": product["name"],
                    "slug": None,
                    "mainImageId": None,
                    "unit": dict(unit) if unit else None,
                    "baseUnit": {"baseAmount": base_unit["baseAmount"], "type": base_unit["type"], "unit": None}
                    if base_unit
                    else None,
                    "prices": [
                        {k: p[k] for k in ("sellPrice", "discountPrice", "buyPrice", "currency", "priceListId")}
                        | {"currencySymbol": p["currencySymbol"], "unitPrice": None}
                        for p in variant["prices"]
                    ],
                    "variantValues": names,
                    "tagIds": list(product.get("tagIds") or []),
                    "tags": [
                        {"id": t, "name": store.tags[t]["name"]} for t in product.get("tagIds") or [] if t in store.tags
                    ],
                    "brand": None,
                    "categories": [],
                    "weight": variant.get("weight"),
                    "hsCode": variant.get("hsCode"),
                    "taxValue": rate,
                },
            }
        )
    shipping_lines = [
        {
            "title": s["title"],
            "price": Decimal(str(s["price"])),
            "finalPrice": Decimal(str(s.get("finalPrice", s["price"]))),
            "taxValue": Decimal(str(s.get("taxValue", 25))),  # [?] shipping VAT: the standard rate in the demo
            "isRefunded": False,
            "paymentMethod": None,
            "cargoCompanyId": None,
            "shippingSettingsId": None,
            "shippingZoneRateId": None,
            "priceListId": price_list_id,
            "transactionId": None,
        }
        for s in spec.get("shipping", [])
    ]
    adjustments = []
    if discount:
        applied = [
            {
                "orderLineId": line["id"],
                "amount": (line["price"] - line["finalPrice"]) * line["quantity"],
                "appliedQuantity": line["quantity"],
                "isAutoCreated": False,
            }
            for line in lines
        ]
        adjustments.append(
            {
                "name": discount.get("name", "Discount"),
                "type": "DECREMENT",
                "amount": percent if percent is not None else sum((a["amount"] for a in applied), Decimal(0)),
                "amountType": "RATIO" if percent is not None else "AMOUNT",
                "order": 0,
                "appliedOrderLines": applied,
                "campaignId": None,
                "campaignType": None,
                "couponId": discount.get("couponId"),
                "createdFor": None,
                "usedLoyaltyPoints": None,
                "transactionId": None,
            }
        )
    totals = _order_totals(lines, shipping_lines)
    number = (existing or {}).get("orderNumber") or spec.get("orderNumber") or str(store.next_order_number)
    if existing is None and "orderNumber" not in spec:
        store.next_order_number += 1
    ordered_at = spec.get("orderedAt") or (existing or {}).get("orderedAt") or now
    customer_spec = spec.get("customer")
    customer = None if "customer" in spec or existing is None else existing["customer"]
    if customer_spec:
        customer = {
            "id": customer_spec.get("id") or new_id(),
            "email": customer_spec.get("email"),
            "firstName": customer_spec.get("firstName"),
            "lastName": customer_spec.get("lastName"),
            "fullName": f"{customer_spec.get('firstName', '')} {customer_spec.get('lastName', '')}".strip(),
            "phone": customer_spec.get("phone"),
            "preferredLanguage": customer_spec.get("preferredLanguage"),
            "isGuestCheckout": customer_spec.get("isGuestCheckout", False),
            "notificationsAccepted": customer_spec.get("notificationsAccepted", False),
        }
    # a new order ships to the billing address unless the spec gives a shippingAddress
    if existing is not None:
        billing = _address(spec["billingAddress"]) if "billingAddress" in spec else existing["billingAddress"]
        shipping_address = (
            _address(spec["shippingAddress"]) if "shippingAddress" in spec else existing["shippingAddress"]
        )
    else:
        billing = _address(spec.get("billingAddress"))
        shipping_address = _address(spec.get("shippingAddress") or spec.get("billingAddress"))
    location = store.stock_locations.get(stock_location_id or "")
    price_list = store.price_lists.get(price_list_id or "")
    sales_channel = store.sales_channels.get(store.sales_channel_id, {"name": "Storefront"})
    order_id = (existing or {}).get("id") or spec.get("id") or new_id()
    packages = []
    if package_status in ("FULFILLED", "DELIVERED"):
        packages.append(
            {
                "id": str(new_id()),
                "orderPackageNumber": f"{number}-1",
                "orderLineItemIds": [line["id"] for line in lines],
                "orderPackageFulfillStatus": package_status,
                "stockLocationId": stock_location_id,
                "trackingInfo": {
                    "trackingNumber": f"PN{number}SE",
                    "trackingLink": None,
                    "cargoCompany": "PostNord",
                    "cargoCompanyId": None,
                    "barcode": None,
                    "isSendNotification": False,
                },
                "note": None,
                "errorMessage": None,
                "deleted": False,
                "createdAt": now,
                "updatedAt": now,
            }
        )
    return {
        "id": order_id,
        "orderNumber": number,
        "orderSequence": int(number) if str(number).isdigit() else None,
        "status": status,
        "orderPaymentStatus": spec.get("orderPaymentStatus", "PAID"),
        "orderPackageStatus": package_status,
        "orderedAt": ordered_at,
        "createdAt": (existing or {}).get("createdAt") or ordered_at,
        "updatedAt": now,
        "cancelledAt": spec.get("cancelledAt") or (now if status == "CANCELLED" else None),
        "cancelReason": spec.get("cancelReason") or ("CUSTOMER" if status == "CANCELLED" else None),
        "currencyCode": currency,
        "currencySymbol": CURRENCY_SYMBOLS.get(currency, currency),
        "currencyRates": [
            {"code": store.currency_code, "rate": Decimal(str(r)), "originalRate": Decimal(str(r))}
            for r in ([spec["currencyRate"]] if "currencyRate" in spec else [])
        ],  # [?] semantics of currencyRates undocumented
        "totalPrice": totals["totalPrice"],
        "totalFinalPrice": totals["totalFinalPrice"],
        "netTotalFinalPrice": totals["netTotalFinalPrice"],
        "customer": customer,
        "customerId": customer["id"] if customer else None,
        "billingAddress": billing,
        "shippingAddress": shipping_address,
        "orderLineItems": lines,
        "shippingLines": shipping_lines,
        "orderAdjustments": adjustments,
        "taxLines": totals["taxLines"],
        "giftPackageLines": [],
        "paymentMethods": [
            {
                "type": spec.get("paymentMethod", "CREDIT_CARD"),
                "price": totals["totalFinalPrice"],
                "paymentGatewayName": "Sandbox Pay",
                "paymentGatewayCode": "sandbox-pay",
                "paymentGatewayId": "sandbox-pay",
            }
        ],
        "orderPackages": packages,
        "invoices": list((existing or {}).get("invoices") or []),
        "orderTagIds": list(spec.get("orderTagIds") or []),
        "salesChannel": {"id": store.sales_channel_id, "name": sales_channel["name"], "type": None},
        "salesChannelId": store.sales_channel_id,
        "stockLocation": {"id": location["id"], "name": location["name"]} if location else None,
        "stockLocationId": stock_location_id,
        "priceList": {"id": price_list["id"], "name": price_list["name"]} if price_list else None,
        "priceListId": price_list_id,
        "shippingMethod": spec.get("shippingMethod", "SHIPMENT" if shipping_lines else "NO_SHIPMENT"),
        "note": spec.get("note"),
        "merchantId": store.merchant_id,
        "itemCount": totals["itemCount"],
        "deleted": False,
        "archived": False,
    }


def _order_totals(lines: list[Record], shipping_lines: list[Record]) -> Record:
    """totalPrice, totalFinalPrice, netTotalFinalPrice, taxLines and itemCount over these lines and shipping
    (fact sheet §6.3): VAT per rate from the gross sums, rounded once per rate."""
    by_rate: dict[Decimal, Decimal] = {}
    for line in lines:
        if line["taxValue"] is not None:
            by_rate[line["taxValue"]] = (
                by_rate.get(line["taxValue"], Decimal(0)) + line["finalPrice"] * line["quantity"]
            )
    for shipping in shipping_lines:
        by_rate[shipping["taxValue"]] = by_rate.get(shipping["taxValue"], Decimal(0)) + shipping["finalPrice"]
    tax_lines = [
        {"rate": rate, "price": money(gross * rate / (100 + rate))} for rate, gross in sorted(by_rate.items()) if rate
    ]
    total_final = sum((line["finalPrice"] * line["quantity"] for line in lines), Decimal(0)) + sum(
        (s["finalPrice"] for s in shipping_lines), Decimal(0)
    )
    return {
        "totalPrice": sum((line["price"] * line["quantity"] for line in lines), Decimal(0)),
        "totalFinalPrice": total_final,
        "netTotalFinalPrice": total_final - sum((t["price"] for t in tax_lines), Decimal(0)),
        "taxLines": tax_lines,
        "itemCount": sum((line["quantity"] for line in lines), Decimal(0)),
    }


def _unit_factor(unit_type: str, base_type: str) -> Decimal:
    """How many base units one `unit_type` is (500 GRAM of a KILOGRAM base: 0.001 per gram)."""
    scale = {
        "MILLIGRAM": Decimal("0.001"),
        "GRAM": Decimal(1),
        "KILOGRAM": Decimal(1000),
        "MILLILITER": Decimal(1),
        "CENTILITER": Decimal(10),
        "LITER": Decimal(1000),
        "MILLIMETER": Decimal("0.1"),
        "CENTIMETER": Decimal(1),
        "METER": Decimal(100),
    }
    if unit_type in scale and base_type in scale:
        return scale[unit_type] / scale[base_type]
    return Decimal(1)


def _variant_value_names(store: Store, variant: Record) -> list[Record]:
    values = []
    for index, relation in enumerate(variant.get("variantValueIds") or []):
        variant_type = store.variant_types.get(relation["variantTypeId"])
        value = next((v for v in (variant_type or {}).get("values", []) if v["id"] == relation["variantValueId"]), None)
        values.append(
            {
                "order": index,
                "variantTypeId": relation["variantTypeId"],
                "variantTypeName": variant_type["name"] if variant_type else None,
                "variantValueId": relation["variantValueId"],
                "variantValueName": value["name"] if value else None,
            }
        )
    return values


def upsert_order(store: Store, spec: Record, now: int, emit: Emit) -> Record:
    """The admin's order change: a new order from a spec, or an update of an existing one (rebuilt when the spec
    has lines; otherwise the given top-level fields are set). Fires store/order/created|updated."""
    existing = store.orders.get(spec["id"]) if spec.get("id") else None
    if existing is None:
        order = build_order(store, spec, now)
        store.orders[order["id"]] = order
        emit(store, "store/order/created", order)
        return order
    if "lines" in spec:
        order = build_order(store, spec, now, existing)
    else:
        order = existing
        order.update({k: v for k, v in spec.items() if k not in ("id", "store")})
        _mark_cancelled(order, now)
        for line in order["orderLineItems"]:
            # a line refunded or cancelled on its own (change_order_lines) stays so unless the order's status is set
            if "status" in spec or line["status"] not in ("CANCELLED", "REFUNDED"):
                line["status"] = _line_status(order.get("orderPackageStatus"), order["status"])
        if order.get("orderPackageStatus") in ("FULFILLED", "DELIVERED") and not order["orderPackages"]:
            order["orderPackages"] = [
                {
                    "id": new_id(),
                    "orderPackageNumber": f"{order['orderNumber']}-1",
                    "orderLineItemIds": [line["id"] for line in order["orderLineItems"]],
                    "orderPackageFulfillStatus": order["orderPackageStatus"],
                    "stockLocationId": order["stockLocationId"],
                    "trackingInfo": None,
                    "note": None,
                    "errorMessage": None,
                    "deleted": False,
                    "createdAt": now,
                    "updatedAt": now,
                }
            ]
        for package in order["orderPackages"]:
            if order.get("orderPackageStatus") in ("FULFILLED", "DELIVERED"):
                package.update(orderPackageFulfillStatus=order["orderPackageStatus"], updatedAt=now)
        order["updatedAt"] = now
    store.orders[order["id"]] = order
    emit(store, "store/order/updated", order)
    return order


def _mark_cancelled(order: Record, now: int) -> None:
    if order["status"] == "CANCELLED" and not order.get("cancelledAt"):
        order["cancelledAt"] = now
        order["cancelReason"] = order.get("cancelReason") or "CUSTOMER"


def _change_quantity(line: Record, wanted: Any, split: bool) -> Decimal:
    """The quantity a refund or cancel takes from `line`; raises IkasError when ikas would refuse it."""
    if line["status"] in ("CANCELLED", "REFUNDED"):
        raise IkasError(f"Order line {line['id']} is already {line['status']}")
    if wanted is None:
        return Decimal(line["quantity"])
    if isinstance(wanted, bool) or not isinstance(wanted, int | float):
        raise IkasError(f"Quantity of order line {line['id']} must be a number")
    quantity = Decimal(str(wanted))
    if not quantity.is_finite() or quantity <= 0 or quantity > line["quantity"]:
        raise IkasError(f"Quantity of order line {line['id']} must be above 0 and at most {line['quantity']}")
    if quantity < line["quantity"] and not split:
        raise IkasError("ikas refunds or cancels whole lines in this reading")
    return quantity


def change_order_lines(store: Store, order: Record, change: Record, now: int, emit: Emit) -> Record:
    """A refund or cancel of some of an order's lines, as the merchant does it in the ikas admin (fact sheet §6.2,
    §6.4). `change`: {"action": "refund"|"cancel", "lines": [{"id", "quantity"?}], "shipping"?: bool (refund
    only: every shipping line isRefunded), "split"?: bool (default true)}. A whole line's status becomes
    REFUNDED/CANCELLED; a part of one is split off into a new line right after it, with
    originalOrderLineItemId [L]. Everything is checked before anything changes. Fires store/order/updated."""
    action = change.get("action")
    if action not in ("refund", "cancel"):
        raise IkasError('action must be "refund" or "cancel"')
    line_changes = change.get("lines") or []
    shipping, split = change.get("shipping", False), change.get("split", True)
    if not isinstance(line_changes, list) or not all(
        isinstance(c, dict) and isinstance(c.get("id"), str) for c in line_changes
    ):
        raise IkasError('lines must be a list of {"id", "quantity"}')
    if not isinstance(shipping, bool) or not isinstance(split, bool):
        raise IkasError("shipping and split must be true or false")
    if shipping and action == "cancel":
        raise IkasError("shipping can only be refunded, not cancelled")
    if not line_changes and not shipping:
        raise IkasError(f"Nothing to {action}: no lines given")
    ids = [c["id"] for c in line_changes]
    if len(set(ids)) != len(ids):
        raise IkasError("An order line is named twice")
    lines = {line["id"]: line for line in order["orderLineItems"]}
    planned = []
    for line_change in line_changes:
        line = lines.get(line_change["id"])
        if line is None:
            raise IkasError(f"Order line not found: {line_change['id']}")
        planned.append((line, _change_quantity(line, line_change.get("quantity"), split)))
    status = "REFUNDED" if action == "refund" else "CANCELLED"
    for line, quantity in planned:
        if quantity == line["quantity"]:
            line.update(status=status, statusUpdatedAt=now, updatedAt=now)
            continue
        part = {
            **copy.deepcopy(line),
            "id": new_id(),
            "quantity": quantity,
            "status": status,
            "statusUpdatedAt": now,
            "originalOrderLineItemId": line["id"],
            "createdAt": now,
            "updatedAt": now,
        }
        line.update(quantity=line["quantity"] - quantity, updatedAt=now)
        items = order["orderLineItems"]
        items.insert(items.index(line) + 1, part)
        for package in order["orderPackages"]:
            if line["id"] in package["orderLineItemIds"]:
                ids_in_package = package["orderLineItemIds"]
                ids_in_package.insert(ids_in_package.index(line["id"]) + 1, part["id"])
                package["updatedAt"] = now
    items = order["orderLineItems"]
    if action == "refund":
        for shipping_line in order["shippingLines"] if shipping else []:
            shipping_line["isRefunded"] = True
        whole = (
            all(line["status"] in ("REFUNDED", "CANCELLED") for line in items)
            and any(line["status"] == "REFUNDED" for line in items)
            and all(s["isRefunded"] for s in order["shippingLines"])
        )
        order["status"] = "REFUNDED" if whole else "PARTIALLY_REFUNDED"
        if whole:
            order["orderPaymentStatus"] = "REFUNDED"  # ikas has no partially-refunded payment status (§6.4)
        # [?] a refund leaves the totals as they were: money returned is not a change of what was bought
    else:
        order["status"] = "CANCELLED" if all(line["status"] == "CANCELLED" for line in items) else "PARTIALLY_CANCELLED"
        _mark_cancelled(order, now)
        # [?] a cancel prices the order as if the cancelled lines had never been bought (shipping stays)
        order.update(_order_totals([line for line in items if line["status"] != "CANCELLED"], order["shippingLines"]))
    order["updatedAt"] = now
    emit(store, "store/order/updated", order)
    return order


def add_invoice(store: Store, data: Record, app_name: str, store_app_id: str, now: int, emit: Emit) -> Record:
    """addOrderInvoice: the invoice (with its base64 file) shows in Order.invoices (fact sheet §6.5)."""
    order = store.orders.get(data["orderId"])
    if order is None:
        raise IkasError(f"Order not found: {data['orderId']}")
    content = data.get("base64")
    if content is not None:
        try:
            base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError) as error:
            raise IkasError("base64 is not valid base64") from error  # [?]
    invoice = {
        "id": new_id(),
        "invoiceNumber": data["invoiceNumber"],
        "appId": data["appId"],
        "appName": app_name,
        "storeAppId": store_app_id,
        "type": data["type"],
        "hasPdf": bool(content),
        "invoiceData": data.get("invoiceData"),
        "createdAt": data.get("createdAt") or now,
        "sendNotificationToCustomer": data["sendNotificationToCustomer"],  # kept for tests; not in the schema
    }
    if content:
        store.invoice_pdfs[invoice["id"]] = content
    order["invoices"] = [*order.get("invoices", []), invoice]
    order["updatedAt"] = now
    emit(store, "store/order/updated", order)  # [?] whether ikas fires order/updated for an invoice
    return order


def add_timeline_entry(store: Store, data: Record, app_name: str, now: int) -> bool:
    if data["sourceType"] == "ORDER" and data["sourceId"] not in store.orders:
        raise IkasError(f"Order not found: {data['sourceId']}")
    if data["sourceType"] == "PRODUCT" and data["sourceId"] not in store.products:
        raise IkasError(f"Product not found: {data['sourceId']}")
    store.timeline.append({"id": new_id(), **data, "appName": app_name, "createdAt": now})
    return True
