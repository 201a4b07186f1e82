"""Seed data: the demo store (from demo_catalog.py) with Swedish tax settings and ~15 orders, and the store "other".

Ids are deterministic (uuid5 of store and name), so a reseeded sandbox shows the same ids.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from bridge_sandboxes.demo_catalog import DEMO_PRODUCTS, OTHER_STORE_PRODUCTS, STOCK_LOCATIONS, DemoProduct
from bridge_sandboxes.ikas import model
from bridge_sandboxes.ikas.state import Record, SandboxState, Store

DEMO_CLIENT_ID, DEMO_CLIENT_SECRET = "bridge-local", "bridge-local-secret"  # Bridge's local defaults
DAY_MS = 86_400_000


def sid(store: str, *parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "ikas-sandbox:" + store + ":" + ":".join(map(str, parts))))


def _no_event(_store: Store, _scope: str, _record: Record) -> None:
    return None


def create_store(state: SandboxState, name: str, *, merchant_name: str | None = None) -> Store:
    """An empty store with merchant, sales channel, default + EUR price lists, tax settings and one location."""
    now = state.now_ms()
    merchant_id = sid(name, "merchant")
    merchant = {
        "id": merchant_id,
        "email": f"owner@{name}.example",
        "firstName": "Sandbox",
        "lastName": "Merchant",
        "merchantName": merchant_name or f"{name.title()} Store AB",
        "storeName": name,
        "phoneNumber": "+46700000000",
        "region": "EU",
        "merchantSequence": 1,
        "address": {
            "company": merchant_name or f"{name.title()} Store AB",
            "title": None,
            "addressLine1": "Drottninggatan 1",
            "addressLine2": None,
            "postalCode": "111 51",
            "city": {"id": None, "code": None, "name": "Stockholm"},
            "country": {"id": "swe", "code": "SWE", "iso2": "SE", "iso3": "SWE", "name": "Sweden"},
            "taxNumber": "SE556000000001",
            "taxOffice": None,
            "vkn": None,
            "type": "CORPORATE",
        },
        "billingAddress": None,
    }
    store = Store(name=name, merchant_id=merchant_id, merchant=merchant, sales_channel_id=sid(name, "sales-channel"))
    eur_list = sid(name, "price-list", "EUR")
    store.price_lists[eur_list] = {
        "id": eur_list,
        "name": "EUR",
        "currency": "EUR",
        "currencyCode": "EUR",
        "currencySymbol": "€",
        "type": "MANUAL",
        "ruleList": None,
        "addProductsAutomatically": False,
        "createdAt": now,
        "updatedAt": now,
        "deleted": False,
    }
    store.sales_channels[store.sales_channel_id] = {
        "id": store.sales_channel_id,
        "name": "Storefront",
        "type": "STOREFRONT",
        "priceListId": None,
        "stockLocations": [],
        "paymentGateways": [],
        "createdAt": now,
        "updatedAt": now,
        "deleted": False,
    }
    store.global_tax_settings = {
        "id": sid(name, "global-tax"),
        "isTaxExcludedOnPrices": False,
        "isTaxExcludedOnShippingPrices": False,
        "storefrontId": None,
        "createdAt": now,
        "updatedAt": now,
        "deleted": False,
    }
    for index, location_name in enumerate(STOCK_LOCATIONS if name == "demo" else STOCK_LOCATIONS[:1]):
        location_id = sid(name, "stock-location", location_name)
        store.stock_locations[location_id] = {
            "id": location_id,
            "name": location_name,
            "type": "PHYSICAL",
            "description": None,
            "deliveryTime": None,
            "address": {
                "address": "Lagervägen 1",
                "postalCode": "123 45",
                "phone": None,
                "city": {"id": None, "code": None, "name": "Stockholm" if index == 0 else "Göteborg"},
                "country": {"id": "swe", "code": "SWE", "name": "Sweden"},
                "district": None,
                "state": None,
            },
            "isRemindOutOfStockEnabled": False,
            "outOfStockMailList": None,
            "translations": None,
            "createdAt": now,
            "updatedAt": now,
            "deleted": False,
        }
        store.sales_channels[store.sales_channel_id]["stockLocations"].append({"id": location_id, "order": index})
    state.stores[name] = store
    return store


def _tag(store: Store, name: str, now: int) -> str:
    tag_id = sid(store.name, "tag", name)
    store.tags.setdefault(
        tag_id, {"id": tag_id, "name": name, "translations": [], "createdAt": now, "updatedAt": now, "deleted": False}
    )
    return tag_id


def _variant_value(store: Store, type_name: str, value_name: str, now: int) -> dict[str, str]:
    type_id = sid(store.name, "variant-type", type_name)
    variant_type = store.variant_types.setdefault(
        type_id,
        {
            "id": type_id,
            "name": type_name,
            "selectionType": "COLOR" if type_name == "Colour" else "CHOICE",
            "translations": [],
            "values": [],
            "createdAt": now,
            "updatedAt": now,
            "deleted": False,
        },
    )
    value_id = sid(store.name, "variant-value", type_name, value_name)
    if not any(v["id"] == value_id for v in variant_type["values"]):
        variant_type["values"].append(
            {
                "id": value_id,
                "name": value_name,
                "colorCode": None,
                "thumbnailImageId": None,
                "createdAt": now,
                "updatedAt": now,
                "deleted": False,
            }
        )
    return {"variantTypeId": type_id, "variantValueId": value_id}


def add_catalog(store: Store, products: tuple[DemoProduct, ...], now: int) -> None:
    """Products through the same code path as saveProduct (then stock), with stable ids, one ms apart."""
    locations = list(store.stock_locations)
    eur_list = next(pl["id"] for pl in store.price_lists.values() if pl["currencyCode"] == "EUR")
    for index, item in enumerate(products):
        at = now - (len(products) - index) * 60_000
        relations = [[_variant_value(store, t, v, at) for t, v in variant.values] for variant in item.variants]
        type_ids = list(dict.fromkeys(r["variantTypeId"] for rel in relations for r in rel))
        data: dict[str, Any] = {
            "name": item.name,
            "type": "PHYSICAL",
            "description": item.description or None,
            "tagIds": [_tag(store, t, at) for t in item.tags],
            "salesChannelIds": [store.sales_channel_id],
            "baseUnit": {"baseAmount": item.base_unit[0], "type": item.base_unit[1]} if item.base_unit else None,
            "productVariantTypes": [
                {
                    "variantTypeId": t,
                    "order": i,
                    "variantValueIds": list(
                        dict.fromkeys(r["variantValueId"] for rel in relations for r in rel if r["variantTypeId"] == t)
                    ),
                }
                for i, t in enumerate(type_ids)
            ],
            "variants": [
                {
                    "sku": v.sku,
                    "barcodeList": [v.barcode] if v.barcode else [],
                    "isActive": True,
                    "prices": [{"sellPrice": v.sell_price, "buyPrice": v.buy_price}]
                    + ([{"sellPrice": item.eur_price, "priceListId": eur_list}] if item.eur_price else []),
                    "unit": {"amount": v.unit_amount, "type": v.unit_type} if v.unit_type else None,
                    "variantValueIds": relations[n],
                }
                for n, v in enumerate(item.variants)
            ],
        }
        product = model.save_product(store, data, at, _no_event)
        stored = store.products.pop(product["id"])  # re-key with a stable id
        stored["id"] = sid(store.name, "product", index, item.name)
        for n, variant in enumerate(stored["variants"]):
            variant["id"] = sid(store.name, "variant", index, n)
        store.products[stored["id"]] = stored
        for variant, demo_variant in zip(stored["variants"], item.variants, strict=True):
            for location_id, count in zip(locations, demo_variant.stock, strict=False):
                model.set_stock(store, stored["id"], variant["id"], location_id, count, at, _no_event)


def _tax_settings(store: Store, now: int) -> None:
    settings_id = sid(store.name, "tax", "SE")
    store.tax_settings[settings_id] = {
        "id": settings_id,
        "countryId": "swe",
        "taxRate": Decimal(25),
        "rates": [],
        "productOverrides": [
            {"productTagIds": [_tag(store, "food", now)], "stateId": None, "taxRate": Decimal(12)},
            {"productTagIds": [_tag(store, "books", now)], "stateId": None, "taxRate": Decimal(6)},
        ],
        "shippingTaxRates": [],
        "giftPackageTaxRates": [],
        "createdAt": now,
        "updatedAt": now,
        "deleted": False,
    }


_ANNA = {
    "email": "anna.svensson@example.se",
    "firstName": "Anna",
    "lastName": "Svensson",
    "phone": "+46701234567",
    "preferredLanguage": "sv",
}
_ANNA_ADDR = {
    "firstName": "Anna",
    "lastName": "Svensson",
    "addressLine1": "Storgatan 12",
    "postalCode": "411 38",
    "city": "Göteborg",
    "country": "SE",
}
_ERIK = {"email": "erik.lind@example.se", "firstName": "Erik", "lastName": "Lind", "preferredLanguage": "en-GB"}
_ERIK_ADDR = {
    "firstName": "Erik",
    "lastName": "Lind",
    "addressLine1": "Kungsgatan 5",
    "postalCode": "111 43",
    "city": "Stockholm",
    "country": "SE",
}
_COMPANY = {"email": "inkop@nordiskdesign.se", "firstName": "Karin", "lastName": "Berg", "preferredLanguage": "sv"}
_COMPANY_ADDR = {
    "firstName": "Karin",
    "lastName": "Berg",
    "company": "Nordisk Design AB",
    "taxNumber": "SE556677889901",
    "addressLine1": "Industrivägen 3",
    "postalCode": "171 48",
    "city": "Solna",
    "country": "SE",
}
_HANS = {"email": "hans.mueller@example.de", "firstName": "Hans", "lastName": "Müller", "preferredLanguage": "de"}
_HANS_ADDR = {
    "firstName": "Hans",
    "lastName": "Müller",
    "addressLine1": "Hauptstraße 7",
    "postalCode": "10115",
    "city": "Berlin",
    "country": "DE",
}
_POSTNORD = [{"title": "PostNord MyPack", "price": "49.00"}]

DEMO_ORDERS: list[dict[str, Any]] = [
    {
        "customer": _ANNA,
        "billingAddress": _ANNA_ADDR,
        "lines": [{"sku": "DEMO-1005", "quantity": 2}],
        "shipping": _POSTNORD,
    },
    {
        "customer": _ERIK,
        "billingAddress": _ERIK_ADDR,
        "lines": [{"sku": "DEMO-1011", "quantity": 3}, {"sku": "DEMO-1012", "quantity": 1}],
        "shipping": _POSTNORD,
    },
    {
        "customer": _ANNA,
        "billingAddress": _ANNA_ADDR,
        "lines": [{"sku": "DEMO-1017", "quantity": 1}, {"sku": "DEMO-1001-M", "quantity": 2}],
        "shipping": _POSTNORD,
    },
    {
        "customer": _ERIK,
        "billingAddress": _ERIK_ADDR,  # VAT 25/12/6 in one order, 10 % order discount
        "lines": [
            {"sku": "DEMO-1003-L", "quantity": 1},
            {"sku": "DEMO-1013", "quantity": 4},
            {"sku": "DEMO-1019", "quantity": 1},
        ],
        "shipping": _POSTNORD,
        "discount": {"name": "WELCOME10", "percent": "10", "couponId": "WELCOME10"},
    },
    {
        "customer": _COMPANY,
        "billingAddress": _COMPANY_ADDR,
        "paymentMethod": "MONEY_ORDER",
        "lines": [{"sku": "DEMO-1008", "quantity": 5}, {"sku": "DEMO-1009", "quantity": 2}],
        "shipping": [{"title": "DHL Freight", "price": "199.00"}],
    },
    {
        "customer": _HANS,
        "billingAddress": _HANS_ADDR,
        "currencyCode": "EUR",
        "currencyRate": "11.45",
        "lines": [{"sku": "DEMO-1011", "quantity": 2}, {"sku": "DEMO-1006", "quantity": 1, "price": "26.90"}],
        "shipping": [{"title": "DHL Europe", "price": "9.90"}],
    },
    {
        "customer": _ANNA,
        "billingAddress": _ANNA_ADDR,
        "orderPackageStatus": "FULFILLED",
        "lines": [{"sku": "DEMO-1023-White", "quantity": 1}],
        "shipping": _POSTNORD,
    },
    {
        "customer": _ERIK,
        "billingAddress": _ERIK_ADDR,
        "orderPackageStatus": "DELIVERED",
        "lines": [{"sku": "DEMO-1024-Grey", "quantity": 1}, {"sku": "DEMO-1026", "quantity": 2}],
        "shipping": _POSTNORD,
    },
    {
        "customer": _ANNA,
        "billingAddress": _ANNA_ADDR,
        "status": "CANCELLED",
        "orderPaymentStatus": "REFUNDED",
        "orderPackageStatus": "CANCELLED",
        "lines": [{"sku": "DEMO-1007", "quantity": 2}],
        "shipping": _POSTNORD,
    },
    {
        "customer": _ERIK,
        "billingAddress": _ERIK_ADDR,
        "lines": [{"sku": "DEMO-1015", "quantity": 2}],
        "shipping": _POSTNORD,
    },  # base-unit (per kg) product
    {
        "customer": _ANNA,
        "billingAddress": _ANNA_ADDR,
        "orderPaymentStatus": "WAITING",
        "paymentMethod": "CASH_ON_DELIVERY",
        "lines": [{"sku": "DEMO-1022", "quantity": 1}],
        "shipping": _POSTNORD,
    },
    {
        "customer": _ERIK,
        "billingAddress": _ERIK_ADDR,
        "lines": [{"sku": "DEMO-1004-NAT", "quantity": 1}, {"variant": "no-sku", "quantity": 1}],
        "shipping": _POSTNORD,
    },  # a line whose variant has no SKU
    {
        "customer": _ANNA,
        "billingAddress": _ANNA_ADDR,
        "lines": [{"sku": "DEMO-1028", "quantity": 3}],
        "shippingMethod": "CLICK_AND_COLLECT",
    },
    {
        "customer": _ERIK,
        "billingAddress": _ERIK_ADDR,
        "orderPaymentStatus": "FAILED",
        "lines": [{"sku": "DEMO-1030", "quantity": 1}],
        "shipping": _POSTNORD,
    },
    {
        "customer": _COMPANY,
        "billingAddress": _COMPANY_ADDR,
        "lines": [{"sku": "DEMO-1018", "quantity": 10}, {"sku": "DEMO-1014", "quantity": 20}],
        "shipping": [{"title": "DHL Freight", "price": "199.00"}],
    },
]


def _add_orders(store: Store, specs: list[dict[str, Any]], now: int) -> None:
    no_sku_variant = next((v["id"] for p in store.products.values() for v in p["variants"] if v["sku"] is None), None)
    for index, spec in enumerate(specs):
        ordered_at = now - (len(specs) - index) * DAY_MS // 2
        lines = [
            {**line, "variantId": no_sku_variant} if line.get("variant") == "no-sku" else line for line in spec["lines"]
        ]
        order = model.build_order(
            store, {**spec, "lines": lines, "orderedAt": ordered_at, "id": sid(store.name, "order", index)}, ordered_at
        )
        store.orders[order["id"]] = order


def seed_demo(state: SandboxState) -> dict[str, Any]:
    """Stores "demo" (catalogue, tax, 15 orders) and "other"; the app bridge-local installed in both."""
    with state.lock:
        now = state.now_ms()
        demo = create_store(state, "demo", merchant_name="Demo Design AB")
        _tax_settings(demo, now)
        add_catalog(demo, DEMO_PRODUCTS, now)
        _add_orders(demo, DEMO_ORDERS, now)
        other = create_store(state, "other", merchant_name="Other Shop AB")
        _tax_settings(other, now)
        add_catalog(other, OTHER_STORE_PRODUCTS, now)
        _add_orders(
            other,
            [{"customer": _ERIK, "billingAddress": _ERIK_ADDR, "lines": [{"sku": "OTHER-2001", "quantity": 1}]}],
            now,
        )
        state.register_app(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, "demo", sid("demo", "authorized-app"))
        state.register_app(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, "other", sid("other", "authorized-app"))
        return {"stores": sorted(state.stores), "products": len(demo.products), "orders": len(demo.orders)}
