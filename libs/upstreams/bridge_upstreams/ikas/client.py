"""The ikas Admin GraphQL API v1 client: one method per operation Bridge uses (product.md §1-§5).

Every operation is a `.graphql` document in `documents/` (one operation per file, named for it), checked
against the v1 schema by a test. Calls go through the shared `UpstreamTransport` (per-tenant rate budget,
bearer token with one refresh on 401, retries only where safe); this module maps the answers to the
dataclasses of `models.py` and every failure to a bridge_platform error (`errors.py`).

Reads are safe to repeat. Mutations are not, except the two absolute sets the fact sheet shows are
idempotent (saveVariantPrices, saveProductStockLocations); after an OutcomeUnknown from any other
mutation the caller looks the result up before writing again.
"""

from __future__ import annotations

import base64
import copy
import functools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from importlib import resources
from typing import Any, Final, TypeVar

from graphql import OperationDefinitionNode, OperationType, parse
from graphql.language import FieldNode

from bridge_platform.errors import NotFound, UpstreamRejected
from bridge_upstreams.ikas import models as m
from bridge_upstreams.ikas.errors import UPSTREAM, graphql_error, http_error, unreadable_answer
from bridge_upstreams.transport import UpstreamTransport

T = TypeVar("T")

MAX_PAGE_SIZE: Final = 200  # PaginationInput.limit: min 1, max 200 (fact sheet §7)
MAX_PRICES_PER_CALL: Final = 3000  # saveVariantPrices accepts at most 3000 entries (fact sheet §4.5)

IDEMPOTENT_MUTATIONS: Final = frozenset(
    {
        # "The price object given overrides the existing one" (fact sheet §4.5): sending the same prices
        # twice leaves the same prices, so the transport may repeat it after a 503 or a lost answer.
        "saveVariantPrices",
        # An upsert of an absolute count per (variant, location) (fact sheet §5): repeating it writes the
        # same counts; stock is never written as a delta (product.md §4).
        "saveProductStockLocations",
    }
)

_READ_ERRORS: Final = (KeyError, TypeError, ValueError, AttributeError, ArithmeticError, IndexError)


@dataclass(frozen=True)
class Document:
    """One GraphQL operation: its text, the root field it selects, and whether it writes."""

    name: str
    text: str
    root_field: str
    is_mutation: bool

    @property
    def safe_to_repeat(self) -> bool:
        return not self.is_mutation or self.name in IDEMPOTENT_MUTATIONS


@functools.cache
def document(name: str) -> Document:
    """The document `documents/<name>.graphql`, parsed once."""
    text = resources.files("bridge_upstreams.ikas").joinpath("documents", f"{name}.graphql").read_text("utf-8")
    operations = [d for d in parse(text).definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].name is None or operations[0].name.value != name:
        raise ValueError(f"documents/{name}.graphql must hold exactly one operation named {name}")
    operation = operations[0]
    root = operation.selection_set.selections[0]
    assert isinstance(root, FieldNode)
    return Document(name, text, root.name.value, operation.operation == OperationType.MUTATION)


def _json_number(value: Decimal) -> int | float:
    # JSON has one number type and ikas's Float is a double: an integral amount goes as an int, any
    # other as the float whose shortest repr is the same decimal text (exact for up to 15 digits).
    return int(value) if value == value.to_integral_value() else float(value)


def _to_json(value: Any) -> Any:
    """Variables -> JSON-ready values: Decimal as a number, None-valued keys left out (None == absent)."""
    if isinstance(value, Decimal):
        return _json_number(value)
    if isinstance(value, Mapping):
        return {k: _to_json(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    return value


def _ms(value: datetime) -> int:
    return m.datetime_to_timestamp(value)


def _string_filter(values: Sequence[str] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {"in": list(values)}


class IkasClient:
    """ikas Admin API v1 for many tenants: `tenant_id` picks the store's token and rate budget."""

    def __init__(self, transport: UpstreamTransport, api_url: str) -> None:
        self._transport = transport
        self._api_url = api_url

    # --- the app and the store ------------------------------------------------------------------

    def me(self, tenant_id: str) -> m.Me:
        return self._one(tenant_id, "me", {}, m.me_from_json)

    def get_merchant(self, tenant_id: str) -> m.Merchant:
        return self._one(tenant_id, "getMerchant", {}, m.merchant_from_json)

    def get_authorized_app(self, tenant_id: str) -> m.AuthorizedApp:
        return self._one(tenant_id, "getAuthorizedApp", {}, m.authorized_app_from_json)

    def list_stock_locations(self, tenant_id: str) -> list[m.StockLocation]:
        return self._list(tenant_id, "listStockLocation", {}, m.stock_location_from_json)

    def list_product_tags(
        self, tenant_id: str, *, name: str | None = None, search: str | None = None
    ) -> list[m.ProductTag]:
        variables = {"name": {"eq": name} if name is not None else None, "search": search}
        return self._list(tenant_id, "listProductTag", variables, m.product_tag_from_json)

    def list_variant_types(self, tenant_id: str, *, ids: Sequence[str] | None = None) -> list[m.VariantType]:
        return self._list(tenant_id, "listVariantType", {"id": _string_filter(ids)}, m.variant_type_from_json)

    def list_tax_settings(self, tenant_id: str, *, country_id: str | None = None) -> list[m.TaxSettings]:
        variables = {"countryId": {"eq": country_id} if country_id is not None else None}
        return self._list(tenant_id, "listTaxSettings", variables, m.tax_settings_from_json)

    def get_global_tax_settings(self, tenant_id: str) -> m.GlobalTaxSettings | None:
        """None when the store never saved tax settings (ikas then treats prices as VAT-inclusive)."""
        data = self._execute(tenant_id, "getGlobalTaxSettings", {})
        raw = data["getGlobalTaxSettings"]
        if raw is None:
            return None
        return self._read("getGlobalTaxSettings", lambda: m.global_tax_settings_from_json(raw))

    def list_product_attributes(self, tenant_id: str, *, name: str | None = None) -> list[m.ProductAttribute]:
        """The store's product attributes, optionally only those named exactly `name` (ikas's filter)."""
        variables = {"name": {"eq": name} if name is not None else None}
        return self._list(tenant_id, "listProductAttribute", variables, m.product_attribute_from_json)

    def product_attribute_values(self, tenant_id: str, product_ids: Sequence[str]) -> list[m.ProductAttributeValues]:
        """The attribute values of these products and their variants (products ikas does not have are absent)."""
        found: list[m.ProductAttributeValues] = []
        ids = list(dict.fromkeys(product_ids))
        for start in range(0, len(ids), MAX_PAGE_SIZE):
            chunk = ids[start : start + MAX_PAGE_SIZE]
            found.extend(
                self._pages(
                    tenant_id,
                    "listProductAttributeValues",
                    {"id": _string_filter(chunk)},
                    m.product_attribute_values_from_json,
                    MAX_PAGE_SIZE,
                )
            )
        return found

    # --- products -------------------------------------------------------------------------------

    def iter_products(
        self,
        tenant_id: str,
        *,
        ids: Sequence[str] | None = None,
        skus: Sequence[str] | None = None,
        barcodes: Sequence[str] | None = None,
        tag_ids: Sequence[str] | None = None,
        search: str | None = None,
        include_deleted: bool = False,
        sort: str = "createdAt",
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[m.Product]:
        """Every product matching the filters, page by page. The default sort is by creation time, a key
        that does not move while the walk runs (fact sheet §7, page drift); products are yielded once."""
        variables = {
            "id": _string_filter(ids),
            "sku": _string_filter(skus),
            "barcodeList": _string_filter(barcodes),
            "tagIds": _string_filter(tag_ids),
            "search": search,
            "includeDeleted": include_deleted,
            "sort": sort,
        }
        seen: set[str] = set()
        for product in self._pages(tenant_id, "listProduct", variables, m.product_from_json, page_size):
            if product.id not in seen:
                seen.add(product.id)
                yield product

    def iter_products_updated_since(
        self,
        tenant_id: str,
        since: datetime,
        *,
        tag_ids: Sequence[str] | None = None,
        include_deleted: bool = False,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[m.Product]:
        """Products updated at or after `since`, newest first.

        v1 listProduct has no updatedAt filter (product.md §3, fact sheet §4.4): the walk sorts
        "-updatedAt" and stops at the first product older than the watermark. A product updated while
        the walk runs moves to the front, which only repeats items (deduplicated here), never skips one
        still behind the cursor; such a product is seen by the next run, so callers take the time the
        walk *started* (minus a small overlap) as the next watermark, not the newest updatedAt seen.
        """
        variables = {
            "tagIds": _string_filter(tag_ids),
            "includeDeleted": include_deleted,
            "sort": "-updatedAt",
        }
        seen: set[str] = set()
        for product in self._pages(tenant_id, "listProduct", variables, m.product_from_json, page_size):
            if product.updated_at is None or product.updated_at < since:
                return
            if product.id not in seen:
                seen.add(product.id)
                yield product

    def get_product(self, tenant_id: str, product_id: str) -> m.Product | None:
        found = list(self.iter_products(tenant_id, ids=[product_id], page_size=1))
        return found[0] if found else None

    def create_product(self, tenant_id: str, product: m.NewProduct) -> m.Product:
        """Creates a product with its variants (saveProduct without id). Not safe to repeat: after
        OutcomeUnknown, look the SKU up (`iter_products(skus=...)`) before creating again."""
        product_input = {
            "name": product.name,
            "type": product.type,
            "tagIds": list(product.tag_ids),
            "salesChannelIds": list(product.sales_channel_ids) or None,
            "variants": [
                {
                    "sku": v.sku,
                    "barcodeList": list(v.barcodes),
                    "isActive": v.is_active,
                    "prices": [{"sellPrice": v.sell_price}],
                }
                for v in product.variants
            ],
        }
        return self._save_product(tenant_id, product_input)

    def update_product_fields(self, tenant_id: str, product_id: str, changes: m.ProductChanges) -> m.Product | None:
        """Changes the named fields of one product and keeps everything else; returns the saved product,
        or None when the product already had these values (nothing is written then).

        Why read-merge-write: saveProduct is a full replace. Any field left out of its input is erased,
        images and price-list rows included (fact sheet §4.5), so the product is read with every field
        ProductInput can carry (getProductForSave), changed in memory, and sent back whole. ikas v1 has
        no version check, so a change made by someone else between the read and the write is lost;
        the window is one round trip. Raises NotFound for an unknown product or variant id. After an
        OutcomeUnknown, calling this again is safe: it reads the current product before merging.
        """
        data = self._execute(tenant_id, "getProductForSave", {"id": product_id})
        rows = self._read("getProductForSave", lambda: list(data["listProduct"]["data"]))
        current = next((row for row in rows if isinstance(row, Mapping) and row.get("id") == product_id), None)
        if current is None:
            raise NotFound(f"ikas has no product {product_id}")
        merged = _merge_product(current, changes)
        if merged == current:
            return None
        return self._save_product(tenant_id, merged)

    def set_variant_prices(
        self, tenant_id: str, updates: Sequence[m.PriceUpdate], *, price_list_id: str | None = None
    ) -> None:
        """Sets variant prices on one price list (None: the default list) without touching anything else.

        Each update replaces the variant's whole price row on that list: pass the current discount and
        buy price to keep them. Sent in batches of at most 3000 (fact sheet §4.5)."""
        for start in range(0, len(updates), MAX_PRICES_PER_CALL):
            batch = updates[start : start + MAX_PRICES_PER_CALL]
            variables = {
                "input": {
                    "priceListId": price_list_id,
                    "variantPriceInputs": [
                        {
                            "productId": u.product_id,
                            "variantId": u.variant_id,
                            "price": {
                                "sellPrice": u.sell_price,
                                "discountPrice": u.discount_price,
                                "buyPrice": u.buy_price,
                                "currency": u.currency,
                                "priceListId": price_list_id,
                            },
                        }
                        for u in batch
                    ],
                }
            }
            self._expect_true(tenant_id, "saveVariantPrices", variables)

    # --- stock ----------------------------------------------------------------------------------

    def iter_product_stocks(
        self,
        tenant_id: str,
        *,
        updated_since: datetime | None = None,
        product_ids: Sequence[str] | None = None,
        variant_ids: Sequence[str] | None = None,
        stock_location_id: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[m.ProductStock]:
        """Stock counts per (variant, location); with `updated_since`, the delta feed for stock (fact sheet
        §5), walked oldest first by updatedAt so a count changed during the walk is never skipped."""
        variables: dict[str, Any] = {
            "productId": _string_filter(product_ids),
            "variantId": _string_filter(variant_ids),
            "stockLocationId": {"eq": stock_location_id} if stock_location_id is not None else None,
        }
        if updated_since is None:
            yield from self._pages(
                tenant_id,
                "listProductStockLocation",
                {**variables, "sort": "createdAt"},
                m.product_stock_from_json,
                page_size,
            )
            return
        yield from self._walk_updated_since(
            tenant_id,
            "listProductStockLocation",
            variables,
            updated_since,
            m.product_stock_from_json,
            lambda s: s.id,
            lambda s: s.updated_at,
            page_size,
        )

    def set_stock(self, tenant_id: str, updates: Sequence[m.StockUpdate]) -> None:
        """Sets absolute stock counts per (variant, location); other locations are untouched."""
        if not updates:
            return
        variables = {
            "input": {
                "productStockLocationInputs": [
                    {
                        "productId": u.product_id,
                        "variantId": u.variant_id,
                        "stockLocationId": u.stock_location_id,
                        "stockCount": u.count,
                    }
                    for u in updates
                ]
            }
        }
        self._expect_true(tenant_id, "saveProductStockLocations", variables)

    # --- orders ---------------------------------------------------------------------------------

    def iter_orders(
        self,
        tenant_id: str,
        *,
        ids: Sequence[str] | None = None,
        numbers: Sequence[str] | None = None,
        ordered_from: datetime | None = None,
        ordered_before: datetime | None = None,
        statuses: Sequence[str] | None = None,
        exclude_statuses: Sequence[str] | None = None,
        sort: str = "orderedAt",
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[m.Order]:
        """Orders matching the filters (orderedAt in [ordered_from, ordered_before)), page by page."""
        ordered_at: dict[str, Any] = {}
        if ordered_from is not None:
            ordered_at["gte"] = _ms(ordered_from)
        if ordered_before is not None:
            ordered_at["lt"] = _ms(ordered_before)
        status: dict[str, Any] = {}
        if statuses is not None:
            status["in"] = list(statuses)
        if exclude_statuses is not None:
            status["nin"] = list(exclude_statuses)
        variables = {
            "id": _string_filter(ids),
            "orderNumber": _string_filter(numbers),
            "orderedAt": ordered_at or None,
            "status": status or None,
            "sort": sort,
        }
        seen: set[str] = set()
        for order in self._pages(tenant_id, "listOrder", variables, m.order_from_json, page_size):
            if order.id not in seen:
                seen.add(order.id)
                yield order

    def iter_orders_updated_since(
        self, tenant_id: str, since: datetime, *, page_size: int = MAX_PAGE_SIZE
    ) -> Iterator[m.Order]:
        """Orders updated at or after `since`, oldest first (the order watermark, product.md §5).

        Paging by page number over a list sorted by updatedAt would skip an order whenever an earlier
        one is updated during the walk (it moves to the end and everything behind it shifts up), so
        each page is asked for as `updatedAt >= last updatedAt seen`, page 1, and repeats are dropped."""
        yield from self._walk_updated_since(
            tenant_id, "listOrder", {}, since, m.order_from_json, lambda o: o.id, lambda o: o.updated_at, page_size
        )

    def get_order(self, tenant_id: str, order_id: str) -> m.Order | None:
        found = list(self.iter_orders(tenant_id, ids=[order_id], page_size=1))
        return found[0] if found else None

    def add_order_invoice(self, tenant_id: str, attachment: m.InvoiceAttachment) -> tuple[m.Invoice, ...]:
        """Attaches an invoice PDF to an order and returns the order's invoices afterwards.

        Not safe to repeat (each call adds an invoice): read `Order.invoices` first, and again after an
        OutcomeUnknown (product.md §5)."""
        variables = {
            "input": {
                "orderId": attachment.order_id,
                "invoiceNumber": attachment.invoice_number,
                "appId": attachment.app_id,
                "type": attachment.type,
                "sendNotificationToCustomer": attachment.send_notification_to_customer,
                "base64": base64.b64encode(attachment.pdf).decode("ascii"),
                "createdAt": _ms(attachment.created_at) if attachment.created_at is not None else None,
            }
        }
        data = self._execute(tenant_id, "addOrderInvoice", variables)
        raw = data["addOrderInvoice"]
        if raw is None:
            raise NotFound(f"ikas has no order {attachment.order_id}")
        return self._read(
            "addOrderInvoice",
            lambda: tuple(m.invoice_from_json(i) for i in raw.get("invoices") or ()),
            is_write=True,
        )

    # --- webhooks -------------------------------------------------------------------------------

    def save_webhooks(
        self,
        tenant_id: str,
        endpoint: str,
        scopes: Sequence[str],
        *,
        sales_channel_ids: Sequence[str] | None = None,
    ) -> list[m.Webhook]:
        """Registers `endpoint` for each scope (one Webhook per scope). The real ikas accepts https only."""
        variables = {
            "input": {
                "endpoint": endpoint,
                "scopes": list(scopes),
                "salesChannelIds": list(sales_channel_ids) if sales_channel_ids is not None else None,
            }
        }
        data = self._execute(tenant_id, "saveWebhook", variables)
        return self._read(
            "saveWebhook", lambda: [m.webhook_from_json(w) for w in data["saveWebhook"] or ()], is_write=True
        )

    def list_webhooks(self, tenant_id: str) -> list[m.Webhook]:
        return self._list(tenant_id, "listWebhook", {}, m.webhook_from_json)

    def delete_webhooks(self, tenant_id: str, scopes: Sequence[str]) -> bool:
        """Removes the app's webhooks for `scopes`; ikas's answer (True: removed)."""
        data = self._execute(tenant_id, "deleteWebhook", {"scopes": list(scopes)})
        result = data["deleteWebhook"]
        if not isinstance(result, bool):
            raise unreadable_answer("deleteWebhook", f"expected a boolean, got {result!r}", is_write=True, status=200)
        return result

    # --- the mechanics --------------------------------------------------------------------------

    def _execute(self, tenant_id: str, operation: str, variables: Mapping[str, Any]) -> Mapping[str, Any]:
        """Runs one operation and returns its `data`, whose root field is present; raises the translated
        error otherwise."""
        doc = document(operation)
        body = {"query": doc.text, "variables": _to_json(variables), "operationName": operation}
        response = self._transport.send(tenant_id, "POST", self._api_url, safe_to_repeat=doc.safe_to_repeat, json=body)
        status = response.status_code
        try:
            payload = json.loads(response.content, parse_float=Decimal)
        except ValueError:
            if status != 200:
                raise http_error(operation, status, response.text, is_write=doc.is_mutation) from None
            not_json = unreadable_answer(operation, "the body is not JSON", is_write=doc.is_mutation, status=status)
            raise not_json from None
        if isinstance(payload, dict) and payload.get("errors"):
            errors = payload["errors"]
            raise graphql_error(
                operation, errors if isinstance(errors, list) else [errors], is_write=doc.is_mutation, status=status
            )
        if status != 200:
            raise http_error(operation, status, response.text, is_write=doc.is_mutation)
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, dict) or doc.root_field not in data:
            raise unreadable_answer(
                operation, f"no data.{doc.root_field} in the answer", is_write=doc.is_mutation, status=status
            )
        return data

    def _read(self, operation: str, parse_answer: Callable[[], T], *, is_write: bool = False) -> T:
        """Maps an answer with `parse_answer`; a missing or mistyped field is an unreadable answer."""
        try:
            return parse_answer()
        except _READ_ERRORS as error:
            raise unreadable_answer(
                operation, f"{type(error).__name__}: {error}", is_write=is_write, status=200
            ) from error

    def _one(self, tenant_id: str, operation: str, variables: Mapping[str, Any], parse_one: Callable[[Any], T]) -> T:
        data = self._execute(tenant_id, operation, variables)
        root = document(operation).root_field
        if data[root] is None:
            raise NotFound(f"ikas: {operation} returned nothing")
        return self._read(operation, lambda: parse_one(data[root]))

    def _list(
        self, tenant_id: str, operation: str, variables: Mapping[str, Any], parse_one: Callable[[Any], T]
    ) -> list[T]:
        data = self._execute(tenant_id, operation, variables)
        root = document(operation).root_field
        return self._read(operation, lambda: [parse_one(item) for item in data[root]])

    def _page(
        self,
        tenant_id: str,
        operation: str,
        variables: Mapping[str, Any],
        parse_one: Callable[[Any], T],
        page: int,
        page_size: int,
    ) -> tuple[list[T], bool]:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        data = self._execute(tenant_id, operation, {**variables, "pagination": {"page": page, "limit": page_size}})
        root = data[document(operation).root_field]

        def read_page() -> tuple[list[T], bool]:
            has_next = root["hasNext"]
            if not isinstance(has_next, bool):
                raise TypeError(f"hasNext must be a boolean, got {has_next!r}")
            return [parse_one(item) for item in root["data"]], has_next

        return self._read(operation, read_page)

    def _pages(
        self,
        tenant_id: str,
        operation: str,
        variables: Mapping[str, Any],
        parse_one: Callable[[Any], T],
        page_size: int,
    ) -> Iterator[T]:
        page = 1
        while True:
            items, has_next = self._page(tenant_id, operation, variables, parse_one, page, page_size)
            yield from items
            if not has_next or not items:  # an empty page that claims more would loop forever
                return
            page += 1

    def _walk_updated_since(
        self,
        tenant_id: str,
        operation: str,
        variables: Mapping[str, Any],
        since: datetime,
        parse_one: Callable[[Any], T],
        id_of: Callable[[T], str],
        updated_at_of: Callable[[T], datetime | None],
        page_size: int,
    ) -> Iterator[T]:
        """Keyset walk over `updatedAt >= cursor`, sorted by updatedAt: page 1 each time from the newest
        updatedAt seen; page numbers only advance while a whole page shares one updatedAt."""
        cursor = _ms(since)
        page = 1
        seen: set[str] = set()
        while True:
            page_variables = {**variables, "updatedAt": {"gte": cursor}, "sort": "updatedAt"}
            items, has_next = self._page(tenant_id, operation, page_variables, parse_one, page, page_size)
            for item in items:
                if id_of(item) not in seen:
                    seen.add(id_of(item))
                    yield item
            if not has_next or not items:
                return
            last = updated_at_of(items[-1])
            last_ms = _ms(last) if last is not None else cursor
            if last_ms > cursor:
                cursor, page = last_ms, 1
            else:
                page += 1

    def _save_product(self, tenant_id: str, product_input: Mapping[str, Any]) -> m.Product:
        data = self._execute(tenant_id, "saveProduct", {"input": product_input})
        return self._read("saveProduct", lambda: m.product_from_json(data["saveProduct"]), is_write=True)

    def _expect_true(self, tenant_id: str, operation: str, variables: Mapping[str, Any]) -> None:
        data = self._execute(tenant_id, operation, variables)
        answer = data[document(operation).root_field]
        if answer is not True:
            raise UpstreamRejected(
                UPSTREAM,
                f"ikas answered {operation} with {answer!r} instead of true",
                extra={"operation": operation, "hint": "ikas did not confirm the write; Bridge tries again next run."},
            )


def _merge_product(current: Mapping[str, Any], changes: m.ProductChanges) -> dict[str, Any]:
    """The product as read by getProductForSave with `changes` applied; nothing else is touched."""
    merged: dict[str, Any] = copy.deepcopy(dict(current))
    if changes.name is not None:
        merged["name"] = changes.name
    if changes.add_tag_ids or changes.remove_tag_ids:
        tag_ids = [t for t in merged.get("tagIds") or [] if t not in changes.remove_tag_ids]
        tag_ids += [t for t in changes.add_tag_ids if t not in tag_ids]
        merged["tagIds"] = tag_ids
    variants = {v.get("id"): v for v in merged.get("variants") or []}
    for variant_id, change in changes.variants.items():
        variant = variants.get(variant_id)
        if variant is None:
            raise NotFound(f"ikas product {merged.get('id')} has no variant {variant_id}")
        if change.sku is not None:
            variant["sku"] = change.sku
        if change.barcodes is not None:
            variant["barcodeList"] = list(change.barcodes)
        if change.is_active is not None:
            variant["isActive"] = change.is_active
        if change.sell_price is not None:
            prices = variant.setdefault("prices", [])
            default = next((p for p in prices if p.get("priceListId") is None), None)
            if default is None:
                prices.append({"sellPrice": change.sell_price, "priceListId": None})
            else:
                default["sellPrice"] = change.sell_price
    return merged
