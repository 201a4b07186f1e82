"""The catalog's ports over the shared upstream clients and the auth service: map, decide nothing."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import grpc

from bridge.auth.v1 import auth_pb2, auth_pb2_grpc
from bridge_catalog.app.ports import (
    FortnoxArticle,
    IkasVariant,
    NewArticle,
    StockLocation,
    StockWrite,
    VariantUpdate,
)
from bridge_catalog.domain.pricing import StoreTax, TagOverride
from bridge_platform.errors import NotFound
from bridge_platform.grpc_errors import error_from_rpc
from bridge_upstreams.fortnox.client import Article, FortnoxClient
from bridge_upstreams.ikas import models as m
from bridge_upstreams.ikas.client import IkasClient

SWEDISH_VAT = Decimal(25)
STOCKHOLM = ZoneInfo("Europe/Stockholm")


class HttpIkasCatalog:
    """IkasCatalog over the ikas Admin API v1."""

    def __init__(self, client: IkasClient) -> None:
        self._client = client

    def _value_names(self, tenant_id: str) -> dict[str, str]:
        return {value.id: value.name for kind in self._client.list_variant_types(tenant_id) for value in kind.values}

    @staticmethod
    def _variants_of(product: m.Product, names: Mapping[str, str], *, keep_deleted: bool) -> Iterator[IkasVariant]:
        live = [v for v in product.variants if not v.deleted]
        for variant in product.variants:
            deleted = product.deleted or variant.deleted
            if deleted and not keep_deleted:
                continue
            price = next((p.sell_price for p in variant.prices if p.price_list_id is None), None)
            unit = variant.unit.type if variant.unit else product.base_unit.type if product.base_unit else None
            yield IkasVariant(
                product_id=product.id,
                variant_id=variant.id,
                product_name=product.name,
                variant_name=", ".join(names.get(v.variant_value_id, "") for v in variant.values),
                sku=variant.sku,
                barcodes=variant.barcodes,
                sell_price=price,
                stock={s.stock_location_id: s.count for s in variant.stocks},
                tag_ids=product.tag_ids,
                is_physical=product.type == "PHYSICAL",
                unit_type=unit,
                deleted=deleted,
                single_variant=len(live) <= 1,
            )

    def variants(self, tenant_id: str) -> Iterator[IkasVariant]:
        names: dict[str, str] | None = None
        for product in self._client.iter_products(tenant_id):
            names = self._value_names(tenant_id) if names is None else names  # not read when no product is
            yield from self._variants_of(product, names, keep_deleted=False)

    def variants_changed_since(self, tenant_id: str, since: datetime) -> Iterator[IkasVariant]:
        # The variant types are read once the first changed product is: an idle tenant's run costs one read.
        names: dict[str, str] | None = None
        for product in self._client.iter_products_updated_since(tenant_id, since, include_deleted=True):
            names = self._value_names(tenant_id) if names is None else names
            yield from self._variants_of(product, names, keep_deleted=True)

    def variants_of_product(self, tenant_id: str, product_id: str) -> list[IkasVariant]:
        names = self._value_names(tenant_id)
        return [
            variant
            for product in self._client.iter_products(tenant_id, ids=[product_id])
            if product.id == product_id
            for variant in self._variants_of(product, names, keep_deleted=False)
        ]

    def variants_by_sku(self, tenant_id: str, sku: str) -> list[IkasVariant]:
        return [
            variant
            for product in self._client.iter_products(tenant_id, skus=[sku])
            for variant in self._variants_of(product, {}, keep_deleted=False)
            if variant.sku is not None and variant.sku.strip() == sku
        ]

    def create_product(self, tenant_id: str, name: str, sku: str, sell_price: Decimal, ean: str | None) -> IkasVariant:
        product = self._client.create_product(
            tenant_id,
            m.NewProduct(
                name=name, variants=(m.NewVariant(sku=sku, sell_price=sell_price, barcodes=(ean,) if ean else ()),)
            ),
        )
        variant = next(self._variants_of(product, {}, keep_deleted=False), None)
        if variant is None:
            raise NotFound(f"ikas created product {product.id} without a variant")
        return variant

    def update_variant(self, tenant_id: str, update: VariantUpdate) -> bool:
        changes = m.ProductChanges(
            name=update.name,
            variants={update.variant_id: m.VariantChanges(barcodes=update.barcodes, sell_price=update.sell_price)},
        )
        return self._client.update_product_fields(tenant_id, update.product_id, changes) is not None

    def stock_changed_since(self, tenant_id: str, since: datetime) -> Iterator[tuple[str, str, str, Decimal]]:
        for row in self._client.iter_product_stocks(tenant_id, updated_since=since):
            yield row.product_id, row.variant_id, row.stock_location_id, Decimal(0) if row.deleted else row.count

    def stock_of(self, tenant_id: str, variant_ids: Sequence[str]) -> dict[str, dict[str, Decimal]]:
        found: dict[str, dict[str, Decimal]] = {variant_id: {} for variant_id in variant_ids}
        for start in range(0, len(variant_ids), 500):
            for row in self._client.iter_product_stocks(tenant_id, variant_ids=variant_ids[start : start + 500]):
                if not row.deleted:
                    found.setdefault(row.variant_id, {})[row.stock_location_id] = row.count
        return found

    def fortnox_tag_ids(self, tenant_id: str) -> set[str]:
        return {t.id for t in self._client.list_product_tags(tenant_id) if t.name.strip().lower() == "fortnox"}

    def stock_locations(self, tenant_id: str) -> list[StockLocation]:
        return [
            StockLocation(location.id, location.name)
            for location in self._client.list_stock_locations(tenant_id)
            if not location.deleted
        ]

    def store_tax(self, tenant_id: str) -> StoreTax:
        settings = self._client.list_tax_settings(tenant_id)
        chosen = settings[0] if settings else None
        global_settings = self._client.get_global_tax_settings(tenant_id)
        return StoreTax(
            country_rate=chosen.rate if chosen else SWEDISH_VAT,
            overrides=tuple(
                TagOverride(o.product_tag_ids, o.rate)
                for o in (chosen.product_overrides if chosen else ())
                if o.state_id is None
            ),
            prices_exclude_vat=bool(global_settings and global_settings.tax_excluded_on_prices),
        )

    def set_stock(self, tenant_id: str, writes: Sequence[StockWrite]) -> None:
        self._client.set_stock(
            tenant_id, [m.StockUpdate(w.product_id, w.variant_id, w.location_id, w.count) for w in writes]
        )


def _article(article: Article) -> FortnoxArticle:
    return FortnoxArticle(
        number=article.number,
        description=article.description,
        active=article.active is not False,
        ean=article.ean,
        vat=article.vat,
        base_price=article.sales_price,
        quantity_in_stock=article.quantity_in_stock,
    )


class HttpFortnoxCatalog:
    """FortnoxCatalog over the Fortnox REST API v3."""

    def __init__(self, client: FortnoxClient) -> None:
        self._client = client
        self._price_lists: dict[str, str] = {}  # tenant -> pre-selected price list code

    def articles(self, tenant_id: str) -> Iterator[FortnoxArticle]:
        # The list items carry no Active flag: read the inactive ones once and mark them.
        inactive = {a.number for a in self._client.iter_articles(tenant_id, active=False)}
        for article in self._client.iter_articles(tenant_id):
            found = _article(article)
            yield FortnoxArticle(**{**found.__dict__, "active": found.number not in inactive})

    def articles_changed_since(self, tenant_id: str, since: datetime) -> Iterator[FortnoxArticle]:
        inactive = {a.number for a in self._client.iter_articles(tenant_id, active=False, changed_since=since)}
        for article in self._client.iter_articles(tenant_id, changed_since=since):
            found = _article(article)
            yield FortnoxArticle(**{**found.__dict__, "active": found.number not in inactive})

    def article(self, tenant_id: str, number: str) -> FortnoxArticle | None:
        found = self._client.get_article(tenant_id, number)
        return _article(found) if found is not None and found.number == number else None

    def create_article(self, tenant_id: str, article: NewArticle) -> None:
        fields: dict[str, Any] = {"ArticleNumber": article.number, "Description": article.description}
        if article.ean:
            fields["EAN"] = article.ean
        if article.unit:
            fields["Unit"] = article.unit
        fields["StockGoods"] = article.stock_goods
        if not article.stock_goods:
            fields["Type"] = "SERVICE"
        self._client.create_article(tenant_id, fields)

    def update_article(self, tenant_id: str, number: str, fields: Mapping[str, Any]) -> None:
        self._client.update_article(tenant_id, number, fields)

    def set_base_price(self, tenant_id: str, number: str, price: Decimal) -> None:
        price_list = self._price_lists.get(tenant_id)
        if price_list is None:
            chosen = self._client.preselected_price_list(tenant_id)
            price_list = self._price_lists[tenant_id] = chosen.code if chosen else "A"
        try:
            self._client.update_price(tenant_id, price_list, number, price)
        except NotFound:
            self._client.create_price(tenant_id, price_list, number, price)

    def unit_exists(self, tenant_id: str, code: str) -> bool:
        return self._client.get_unit(tenant_id, code) is not None

    def set_quantity_in_stock(self, tenant_id: str, number: str, quantity: Decimal) -> None:
        self._client.update_article(tenant_id, number, {"StockGoods": True, "QuantityInStock": quantity})

    def warehouse_activated(self, tenant_id: str) -> bool:
        return self._client.warehouse_activated(tenant_id)

    def stock_balances(self, tenant_id: str, numbers: Sequence[str], stock_point: str | None) -> dict[str, Decimal]:
        found = {number: Decimal(0) for number in numbers}
        for start in range(0, len(numbers), 100):
            for balance in self._client.stock_balances(
                tenant_id, numbers[start : start + 100], (stock_point,) if stock_point else ()
            ):
                if balance.item_id in found and (stock_point is None or balance.stock_point_code == stock_point):
                    found[balance.item_id] += balance.in_stock or Decimal(0)
        return found

    def stock_taking(self, tenant_id: str, counts: Mapping[str, Decimal], stock_point: str | None) -> None:
        if not counts:
            return
        points = self._client.stock_points(tenant_id)
        point = next((p for p in points if stock_point in (p.code, p.id)), None) if stock_point else None
        point = point or (points[0] if points else None)
        if point is None:
            raise NotFound("the Fortnox company has no active stock point to count stock in")
        taking = self._client.create_stock_taking(tenant_id, name="Bridge stock sync", responsible="Bridge")
        today = datetime.now(STOCKHOLM).date().isoformat()
        head = {"name": "Bridge stock sync", "responsible": "Bridge", "state": "started", "date": today}
        self._client.update_stock_taking(tenant_id, taking.id, head)
        self._client.add_stock_taking_rows(
            tenant_id, taking.id, [{"itemId": number, "stockPointId": point.id} for number in counts]
        )
        others: dict[str, Decimal] = {}
        if stock_point is None:  # the target is the sum over all points: the default point takes the difference
            for balance in self._client.stock_balances(tenant_id, list(counts)):
                if balance.stock_point_code != point.code:
                    others[balance.item_id] = others.get(balance.item_id, Decimal(0)) + (balance.in_stock or 0)
        rows = [
            {
                "itemId": number,
                "stockPointId": point.id,
                "stockTakenQuantity": count - others.get(number, Decimal(0)),
                "countedBy": "Bridge",
            }
            for number, count in counts.items()
        ]
        self._client.update_stock_taking(tenant_id, taking.id, {**head, "rows": rows})
        self._client.release_stock_taking(tenant_id, taking.id)


class GrpcAuthConnections:
    """AuthConnections over the auth service's ConnectionService and TenantService."""

    def __init__(self, channel: grpc.Channel, timeout_s: float = 10.0) -> None:
        self._stub = auth_pb2_grpc.ConnectionServiceStub(channel)
        self._tenants = auth_pb2_grpc.TenantServiceStub(channel)
        self._timeout_s = timeout_s
        self._store_names: dict[str, str] = {}  # a tenant's store never changes: ask auth once per process

    def store_name(self, tenant_id: str) -> str:
        if tenant_id not in self._store_names:
            try:
                answer = self._tenants.GetTenant(
                    auth_pb2.GetTenantRequest(tenant_id=tenant_id), timeout=self._timeout_s
                )
            except grpc.RpcError as failure:
                raise error_from_rpc(failure) from failure
            self._store_names[tenant_id] = answer.tenant.store_name
        return self._store_names[tenant_id]

    def forget_fortnox_company(self, tenant_id: str) -> None:
        try:
            self._stub.ForgetFortnoxCompany(
                auth_pb2.ForgetFortnoxCompanyRequest(tenant_id=tenant_id), timeout=self._timeout_s
            )
        except grpc.RpcError as failure:
            raise error_from_rpc(failure) from failure
