"""Resolvers of the Admin API v1 operations Bridge uses; every other field of the schema answers an error."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from graphql import GraphQLResolveInfo

from bridge_sandboxes.ikas import model
from bridge_sandboxes.ikas.model import IkasError
from bridge_sandboxes.ikas.state import Installation, Record, SandboxState, Store, new_id

ALLOWED_WEBHOOK_SCOPES = (  # fact sheet §8: the data scopes saveWebhook accepts
    "store/order/created",
    "store/order/updated",
    "store/product/created",
    "store/product/updated",
    "store/customer/created",
    "store/customer/updated",
    "store/customerFavoriteProducts/created",
    "store/customerFavoriteProducts/updated",
    "store/stock/created",
    "store/stock/updated",
)


@dataclass
class Context:
    state: SandboxState
    store: Store
    installation: Installation
    scope: str
    emit: model.Emit
    base_url: str  # e.g. http://127.0.0.1:8123, for URLs the API hands out


Resolver = Callable[..., Any]


def _ctx(info: GraphQLResolveInfo) -> Context:
    context: Context = info.context
    return context


# ---------------------------------------------------------------- filters, sort, pagination


def _match(value: Any, condition: Record | None) -> bool:
    """A StringFilterInput / DateFilterInput / enum filter against a scalar or a list (any element matches)."""
    if not condition:
        return True
    values = value if isinstance(value, list) else [value]

    def norm(item: Any) -> Any:
        return int(item) if isinstance(item, (int, float, Decimal)) and not isinstance(item, bool) else item

    values = [norm(v) for v in values]
    if "eq" in condition and condition["eq"] is not None and norm(condition["eq"]) not in values:
        return False
    if "ne" in condition and condition["ne"] is not None and norm(condition["ne"]) in values:
        return False
    if condition.get("in") is not None and not {norm(v) for v in condition["in"]} & set(values):
        return False
    if condition.get("nin") is not None and {norm(v) for v in condition["nin"]} & set(values):
        return False
    for op, test in (
        ("gt", lambda a, b: a > b),
        ("gte", lambda a, b: a >= b),
        ("lt", lambda a, b: a < b),
        ("lte", lambda a, b: a <= b),
    ):
        if condition.get(op) is not None and not any(v is not None and test(v, norm(condition[op])) for v in values):
            return False
    return True


def _sorted(records: list[Record], sort: str | None, allowed: Iterable[str], default: str) -> list[Record]:
    sort = sort or default
    key = sort.lstrip("-")
    if key not in allowed:
        raise IkasError(f"Invalid sort field: {key}")  # [?] real message unknown
    return sorted(records, key=lambda r: (r.get(key) is None, r.get(key) or 0, r["id"]), reverse=sort.startswith("-"))


def _page(records: list[Record], pagination: Record | None) -> Record:
    page = (pagination or {}).get("page") or 1
    limit = (pagination or {}).get("limit")
    limit = 50 if limit is None else limit
    if limit < 1 or limit > 200:
        raise IkasError("pagination.limit must be between 1 and 200")
    if page < 1:
        raise IkasError("pagination.page must be at least 1")
    start = (page - 1) * limit
    data = records[start : start + limit]
    return {"data": data, "count": len(data), "hasNext": len(records) > start + limit, "page": page, "limit": limit}


# ---------------------------------------------------------------- queries


def me(_: Any, info: GraphQLResolveInfo) -> Record:
    c = _ctx(info)
    inst = c.installation
    return {
        "id": inst.authorized_app_id,  # [?] fact sheet: for private apps `me.id` = the client id
        "name": inst.name,
        "email": None,
        "scope": c.scope,
        "scopes": [s.upper() for s in c.scope.split(",") if s],
        "storeAppId": inst.store_app_id,
        "salesChannelId": c.store.sales_channel_id,
        "partnerId": inst.partner_id,
        "addedDate": inst.added_date,
        "supportsMultipleInstallation": False,
    }


def get_merchant(_: Any, info: GraphQLResolveInfo) -> Record:
    return _ctx(info).store.merchant


def get_authorized_app(_: Any, info: GraphQLResolveInfo) -> Record:
    c = _ctx(info)
    inst = c.installation
    return {
        "id": inst.authorized_app_id,
        "storeAppId": inst.store_app_id,
        "partnerId": inst.partner_id,
        "salesChannelId": c.store.sales_channel_id,
        "scope": inst.scope,
        "addedDate": inst.added_date,
        "createdAt": inst.added_date,
        "updatedAt": inst.added_date,
        "deleted": False,
        "supportsMultipleInstallation": False,
    }


def _filtered(records: Iterable[Record], **filters: Record | None) -> list[Record]:
    return [r for r in records if all(_match(r.get(k), f) for k, f in filters.items())]


def list_stock_location(_: Any, info: GraphQLResolveInfo, **args: Any) -> list[Record]:
    return _filtered(_ctx(info).store.stock_locations.values(), **args)


def list_product_tag(_: Any, info: GraphQLResolveInfo, search: str | None = None, **args: Any) -> list[Record]:
    tags = _filtered(_ctx(info).store.tags.values(), **args)
    return [t for t in tags if not search or search.lower() in t["name"].lower()]


def list_variant_type(_: Any, info: GraphQLResolveInfo, **args: Any) -> list[Record]:
    return _filtered(_ctx(info).store.variant_types.values(), **args)


def list_product_attribute(_: Any, info: GraphQLResolveInfo, **args: Any) -> list[Record]:
    return _filtered(_ctx(info).store.product_attributes.values(), **args)


def list_price_list(_: Any, info: GraphQLResolveInfo, **args: Any) -> list[Record]:
    return _filtered(_ctx(info).store.price_lists.values(), **args)


def list_sales_channel(_: Any, info: GraphQLResolveInfo, **args: Any) -> list[Record]:
    return _filtered(_ctx(info).store.sales_channels.values(), **args)


def get_sales_channel(_: Any, info: GraphQLResolveInfo) -> Record | None:
    store = _ctx(info).store
    return store.sales_channels.get(store.sales_channel_id)


def list_tax_settings(
    _: Any,
    info: GraphQLResolveInfo,
    includeDeleted: bool | None = None,  # noqa: N803 (GraphQL argument name)
    **args: Any,
) -> list[Record]:
    settings = _filtered(_ctx(info).store.tax_settings.values(), **args)
    return [s for s in settings if includeDeleted or not s["deleted"]]


def get_global_tax_settings(_: Any, info: GraphQLResolveInfo) -> Record:
    return _ctx(info).store.global_tax_settings


def list_product(
    _: Any,
    info: GraphQLResolveInfo,
    search: str | None = None,
    includeDeleted: bool | None = None,  # noqa: N803 (GraphQL argument name)
    sort: str | None = None,
    pagination: Record | None = None,
    **filters: Record | None,
) -> Record:
    store = _ctx(info).store
    views = [model.product_view(store, p) for p in store.products.values()]
    if not includeDeleted:
        views = [p for p in views if not p["deleted"]]
    derived = {
        "sku": lambda p: [v["sku"] for v in p["variants"] if v["sku"]],
        "barcodeList": lambda p: [b for v in p["variants"] for b in v["barcodeList"]],
        "variantTypeId": lambda p: [t["variantTypeId"] for t in p.get("productVariantTypes") or []],
        "variantStockLocationId": lambda p: [s["stockLocationId"] for v in p["variants"] for s in v["stocks"]],
        "attributeId": lambda p: [a.get("productAttributeId") for a in p.get("attributes") or []],
        "bundleProductsProductId": lambda p: [],
    }
    for name, condition in filters.items():
        if condition:
            getter = derived.get(name, lambda p, n=name: p.get(n))
            views = [p for p in views if _match(getter(p), condition)]
    if search:
        needle = search.lower()
        views = [
            p
            for p in views
            if needle in p["name"].lower()
            or any(
                needle in (v["sku"] or "").lower() or any(needle in b.lower() for b in v["barcodeList"])
                for v in p["variants"]
            )
        ]
    return _page(_sorted(views, sort, ("createdAt", "updatedAt", "name"), "createdAt"), pagination)


def list_product_stock_location(
    _: Any, info: GraphQLResolveInfo, sort: str | None = None, pagination: Record | None = None, **filters: Any
) -> Record:
    rows = _filtered(_ctx(info).store.stocks.values(), **filters)
    return _page(_sorted(rows, sort, ("createdAt", "updatedAt"), "createdAt"), pagination)


def list_order(
    _: Any,
    info: GraphQLResolveInfo,
    search: str | None = None,
    sort: str | None = None,
    pagination: Record | None = None,
    **filters: Any,
) -> Record:
    store = _ctx(info).store
    derived = {
        "customerEmail": lambda o: (o.get("customer") or {}).get("email"),
        "paymentMethodType": lambda o: [m["type"] for m in o.get("paymentMethods") or []],
        "invoicesStoreAppId": lambda o: [i["storeAppId"] for i in o.get("invoices") or []],
        "closedAt": lambda o: None,
        "branchId": lambda o: None,
        "branchSessionId": lambda o: None,
        "terminalId": lambda o: None,
    }
    orders = [o for o in store.orders.values() if not o["deleted"]]
    for name, condition in filters.items():
        if condition:
            getter = derived.get(name, lambda o, n=name: o.get(n))
            orders = [o for o in orders if _match(getter(o), condition)]
    if search:  # [?] the v1 docs do not list listOrder's search fields; order number, e-mail and name here
        needle = search.lower()
        orders = [
            o
            for o in orders
            if needle in (o.get("orderNumber") or "").lower()
            or needle in ((o.get("customer") or {}).get("email") or "").lower()
            or needle in ((o.get("customer") or {}).get("fullName") or "").lower()
        ]
    allowed = ("createdAt", "updatedAt", "orderedAt", "orderNumber", "orderSequence")  # [?]
    return _page(_sorted(orders, sort, allowed, "-orderedAt"), pagination)  # [?] default order


def list_webhook(_: Any, info: GraphQLResolveInfo) -> list[Record]:
    c = _ctx(info)
    return [w for (app_id, _), w in c.store.webhooks.items() if app_id == c.installation.authorized_app_id]


def get_timeline_entry(_: Any, info: GraphQLResolveInfo) -> str:
    # [?] v1 declares `getTimelineEntry: String!` without arguments; the sandbox answers the app's entries as JSON
    c = _ctx(info)
    return json.dumps([e for e in c.store.timeline if e["appName"] == c.installation.name], default=str)


# ---------------------------------------------------------------- mutations


def save_product(_: Any, info: GraphQLResolveInfo, input: Record) -> Record:
    c = _ctx(info)
    return model.save_product(c.store, input, c.state.now_ms(), c.emit)


def save_variant_prices(_: Any, info: GraphQLResolveInfo, input: Record) -> bool:
    c = _ctx(info)
    return model.save_variant_prices(c.store, input, c.state.now_ms(), c.emit)


def save_product_stock_locations(_: Any, info: GraphQLResolveInfo, input: Record) -> bool:
    c = _ctx(info)
    return model.save_stock_locations(c.store, input.get("productStockLocationInputs") or [], c.state.now_ms(), c.emit)


def save_product_tag(_: Any, info: GraphQLResolveInfo, input: Record) -> Record:
    c = _ctx(info)
    now = c.state.now_ms()
    existing = c.store.tags.get(input["id"]) if input.get("id") else None
    if input.get("id") and existing is None:
        raise IkasError(f"Product tag not found: {input['id']}")
    tag = {
        "id": existing["id"] if existing else new_id(),
        "name": input["name"],
        "translations": input.get("translations") or [],
        "createdAt": existing["createdAt"] if existing else now,
        "updatedAt": now,
        "deleted": bool(input.get("deleted")),
    }
    c.store.tags[tag["id"]] = tag
    return tag


def save_product_attribute(_: Any, info: GraphQLResolveInfo, input: Record) -> Record:
    """saveProductAttribute: create (no id) or replace an attribute; options keep their ids when given [?]."""
    c = _ctx(info)
    now = c.state.now_ms()
    existing = c.store.product_attributes.get(input["id"]) if input.get("id") else None
    if input.get("id") and existing is None:
        raise IkasError(f"Product attribute not found: {input['id']}")
    attribute = {
        "id": existing["id"] if existing else new_id(),
        "name": input["name"],
        "description": input.get("description"),
        "type": input["type"],
        "options": [
            {
                "id": option.get("id") or new_id(),
                "name": option["name"],
                "colorCode": option.get("colorCode"),
                "thumbnailImageId": option.get("thumbnailImageId"),
                "createdAt": now,
                "updatedAt": now,
                "deleted": bool(option.get("deleted")),
            }
            for option in input.get("options") or []
        ],
        "tableTemplate": input.get("tableTemplate"),
        "translations": input.get("translations") or [],
        "createdAt": existing["createdAt"] if existing else now,
        "updatedAt": now,
        "deleted": bool(input.get("deleted")),
    }
    c.store.product_attributes[attribute["id"]] = attribute
    return attribute


def add_order_invoice(_: Any, info: GraphQLResolveInfo, input: Record) -> Record:
    c = _ctx(info)
    return model.add_invoice(c.store, input, c.installation.name, c.installation.store_app_id, c.state.now_ms(), c.emit)


def get_order_invoice_pdf_url(_: Any, info: GraphQLResolveInfo, input: Record) -> str | None:
    c = _ctx(info)
    order = c.store.orders.get(input["orderId"])
    if order is None or not any(i["id"] == input["invoiceId"] for i in order.get("invoices") or []):
        raise IkasError("Invoice not found")
    if input["invoiceId"] not in c.store.invoice_pdfs:
        return None
    return f"{c.base_url}/stores/{c.store.name}/admin/invoices/{input['invoiceId']}.pdf"


def add_custom_timeline_entry(_: Any, info: GraphQLResolveInfo, input: Record) -> bool:
    c = _ctx(info)
    return model.add_timeline_entry(c.store, input, c.installation.name, c.state.now_ms())


def _endpoint_allowed(endpoint: str, local_mode: bool) -> bool:
    import ipaddress
    from urllib.parse import urlsplit

    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    if parts.scheme == "http":
        return local_mode and host in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" or not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host != "localhost" or local_mode
    return local_mode or address.is_global  # private/reserved IPs are refused (fact sheet §8)


def save_webhook(_: Any, info: GraphQLResolveInfo, input: Record) -> list[Record]:
    c = _ctx(info)
    endpoint, scopes = input["endpoint"], input["scopes"]
    if not _endpoint_allowed(endpoint, c.state.local_mode):
        raise IkasError("Webhook endpoint must be a public https URL")  # [?] real message unknown
    for scope in scopes:
        if scope not in ALLOWED_WEBHOOK_SCOPES:
            raise IkasError(f"Invalid webhook scope: {scope}")
    now = c.state.now_ms()
    saved = []
    for scope in scopes:  # one row per scope; saving a scope again replaces its endpoint [?]
        key = (c.installation.authorized_app_id, scope)
        old = c.store.webhooks.get(key)
        row = {
            "id": old["id"] if old else new_id(),
            "scope": scope,
            "endpoint": endpoint,
            "createdAt": old["createdAt"] if old else now,
            "updatedAt": now,
            "deleted": False,
        }
        c.store.webhooks[key] = row
        saved.append(row)
    return saved


def delete_webhook(_: Any, info: GraphQLResolveInfo, scopes: list[str]) -> bool:
    c = _ctx(info)
    for scope in scopes:
        c.store.webhooks.pop((c.installation.authorized_app_id, scope), None)
    return True


QUERIES: dict[str, Resolver] = {
    "me": me,
    "getMerchant": get_merchant,
    "getAuthorizedApp": get_authorized_app,
    "listStockLocation": list_stock_location,
    "listProductTag": list_product_tag,
    "listVariantType": list_variant_type,
    "listPriceList": list_price_list,
    "listProductAttribute": list_product_attribute,
    "listSalesChannel": list_sales_channel,
    "getSalesChannel": get_sales_channel,
    "listTaxSettings": list_tax_settings,
    "getGlobalTaxSettings": get_global_tax_settings,
    "listProduct": list_product,
    "listProductStockLocation": list_product_stock_location,
    "listOrder": list_order,
    "listWebhook": list_webhook,
    "getTimelineEntry": get_timeline_entry,
}

MUTATIONS: dict[str, Resolver] = {
    "saveProduct": save_product,
    "saveVariantPrices": save_variant_prices,
    "saveProductStockLocations": save_product_stock_locations,
    "saveProductTag": save_product_tag,
    "saveProductAttribute": save_product_attribute,
    "addOrderInvoice": add_order_invoice,
    "getOrderInvoicePdfUrl": get_order_invoice_pdf_url,
    "addCustomTimelineEntry": add_custom_timeline_entry,
    "saveWebhook": save_webhook,
    "deleteWebhook": delete_webhook,
}

# The scope family each operation needs (fact sheet §2.4 [M]); operations not listed need none.
REQUIRED_SCOPE: dict[str, str] = {
    **dict.fromkeys(
        ["listProduct", "listProductTag", "listVariantType", "listPriceList", "listProductAttribute"], "read_products"
    ),
    **dict.fromkeys(["saveProduct", "saveVariantPrices", "saveProductTag", "saveProductAttribute"], "write_products"),
    **dict.fromkeys(["listStockLocation", "listProductStockLocation"], "read_inventories"),
    "saveProductStockLocations": "write_inventories",
    "listOrder": "read_orders",
    **dict.fromkeys(["addOrderInvoice", "addCustomTimelineEntry", "getOrderInvoicePdfUrl"], "write_orders"),
}
