"""The catalog's ports over the shared upstream clients and the auth service: map, decide nothing."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal

import grpc

from bridge.auth.v1 import auth_pb2, auth_pb2_grpc
from bridge_catalog.app.ports import FortnoxArticle, IkasVariant, StockLocation, StockWrite
from bridge_catalog.domain.pricing import StoreTax, TagOverride
from bridge_platform.grpc_errors import error_from_rpc
from bridge_upstreams.fortnox.client import Article, FortnoxClient
from bridge_upstreams.ikas import models as m
from bridge_upstreams.ikas.client import IkasClient

SWEDISH_VAT = Decimal(25)


class HttpIkasCatalog:
    """IkasCatalog over the ikas Admin API v1."""

    def __init__(self, client: IkasClient) -> None:
        self._client = client

    def variants(self, tenant_id: str) -> Iterator[IkasVariant]:
        names = {value.id: value.name for kind in self._client.list_variant_types(tenant_id) for value in kind.values}
        for product in self._client.iter_products(tenant_id):
            if product.deleted:
                continue
            for variant in product.variants:
                if variant.deleted:
                    continue
                price = next((p.sell_price for p in variant.prices if p.price_list_id is None), None)
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
                    unit_type=variant.unit.type if variant.unit else None,
                )

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

    def articles(self, tenant_id: str) -> Iterator[FortnoxArticle]:
        # The list items carry no Active flag: read the inactive ones once and mark them.
        inactive = {a.number for a in self._client.iter_articles(tenant_id, active=False)}
        for article in self._client.iter_articles(tenant_id):
            found = _article(article)
            yield FortnoxArticle(**{**found.__dict__, "active": found.number not in inactive})

    def article(self, tenant_id: str, number: str) -> FortnoxArticle | None:
        found = self._client.get_article(tenant_id, number)
        return _article(found) if found is not None and found.number == number else None

    def set_quantity_in_stock(self, tenant_id: str, number: str, quantity: Decimal) -> None:
        self._client.update_article(tenant_id, number, {"StockGoods": True, "QuantityInStock": quantity})

    def warehouse_activated(self, tenant_id: str) -> bool:
        return self._client.warehouse_activated(tenant_id)


class GrpcAuthConnections:
    """AuthConnections over the auth service's ConnectionService."""

    def __init__(self, channel: grpc.Channel, timeout_s: float = 10.0) -> None:
        self._stub = auth_pb2_grpc.ConnectionServiceStub(channel)
        self._timeout_s = timeout_s

    def forget_fortnox_company(self, tenant_id: str) -> None:
        try:
            self._stub.ForgetFortnoxCompany(
                auth_pb2.ForgetFortnoxCompanyRequest(tenant_id=tenant_id), timeout=self._timeout_s
            )
        except grpc.RpcError as failure:
            raise error_from_rpc(failure) from failure
