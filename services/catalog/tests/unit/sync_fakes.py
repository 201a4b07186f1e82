"""In-memory fakes with behaviour for the product- and stock-sync unit tests: the catalog database (lines, marks,
settings, committed only on commit), an ikas store and a Fortnox company that keep change stamps and record every
write, and a clock the tests move. No I/O, no mocks."""

from __future__ import annotations

import copy
import itertools
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

from bridge_catalog.app.ports import (
    FortnoxArticle,
    IkasVariant,
    NewArticle,
    StockLocation,
    StockWrite,
    VariantUpdate,
)
from bridge_catalog.bootstrap import Services, build
from bridge_catalog.domain.lines import RELATED_STATUSES, ProductLine
from bridge_catalog.domain.pricing import StoreTax, TagOverride
from bridge_catalog.domain.settings import (
    CatalogSettings,
    ProductSettings,
    StockSettings,
    TenantCatalogSettings,
)
from bridge_platform.errors import NotFound, OutcomeUnknown, UpstreamRejected
from bridge_platform.settings import BridgeSettings

TENANT = "tenant-a"
FORTNOX_TAG, FOOD_TAG = "tag-fortnox", "tag-food"
MAIN, SHOP = "loc-main", "loc-shop"


class MovingClock:
    """Bridge's clock and both upstreams' change stamps: the tests move it forward."""

    def __init__(self) -> None:
        self.at = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    def advance(self, minutes: float) -> None:
        self.at += timedelta(minutes=minutes)


# -- the catalog database ---------------------------------------------------------------------------------


class CatalogDatabase:
    """What is committed, per tenant; a unit of work changes copies and writes them back on commit."""

    def __init__(self) -> None:
        self.settings: dict[str, TenantCatalogSettings] = {}
        self.lines: dict[str, dict[str, ProductLine]] = {}
        self.marks: dict[str, dict[str, datetime]] = {}
        self.commits = 0

    def unit_of_work(self, tenant_id: str) -> FakeUnitOfWork:
        return FakeUnitOfWork(self, tenant_id)

    def committed_lines(self, tenant_id: str = TENANT) -> list[ProductLine]:
        return list(self.lines.get(tenant_id, {}).values())

    def line(self, sku: str, tenant_id: str = TENANT) -> ProductLine:
        (found,) = [line for line in self.committed_lines(tenant_id) if line.sku == sku]
        return found


class _Lines:
    def __init__(self, working: dict[str, ProductLine], tenant_id: str) -> None:
        self._working, self._tenant_id = working, tenant_id

    def get(self, line_id: str) -> ProductLine | None:
        return self._working.get(line_id)

    def all(self) -> list[ProductLine]:
        return sorted(self._working.values(), key=lambda line: (line.name, line.variant_name))

    def add(self, line: ProductLine) -> None:
        assert line.tenant_id == self._tenant_id, "a line of another tenant"
        self._working[line.id] = line

    def page(self, query: str, status: str | None, page: int, page_size: int) -> tuple[list[ProductLine], int]:
        found = [line for line in self.all() if status is None or line.status == status]
        return found[(page - 1) * page_size : page * page_size], len(found)

    def has_relations(self) -> bool:
        return any(line.fortnox_article_number for line in self._working.values())

    def related_article_numbers(self, variant_ids: Sequence[str]) -> dict[str, str]:
        return {
            line.ikas_variant_id: line.fortnox_article_number
            for line in self._working.values()
            if line.ikas_variant_id in variant_ids and line.fortnox_article_number and line.status in RELATED_STATUSES
        }

    def flush(self) -> None:
        numbers = [line.fortnox_article_number for line in self._working.values() if line.fortnox_article_number]
        assert len(numbers) == len(set(numbers)), "one article related to two lines"  # the unique index


class _Settings:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    def get(self) -> TenantCatalogSettings | None:
        return self._uow.pending_settings or self._uow.database.settings.get(self._uow.tenant_id)

    def add(self, settings: TenantCatalogSettings) -> None:
        self._uow.pending_settings = settings


class _Marks:
    def __init__(self, working: dict[str, datetime]) -> None:
        self._working = working

    def get(self, name: str) -> datetime | None:
        return self._working.get(name)

    def set(self, name: str, at: datetime) -> None:
        self._working[name] = at

    def clear(self, names: list[str]) -> None:
        for name in names:
            self._working.pop(name, None)


class FakeUnitOfWork:
    def __init__(self, database: CatalogDatabase, tenant_id: str) -> None:
        self.database, self.tenant_id = database, tenant_id
        self.pending_settings: TenantCatalogSettings | None = None
        self._lines = copy.deepcopy(database.lines.get(tenant_id, {}))
        self._marks = dict(database.marks.get(tenant_id, {}))
        self.settings = _Settings(self)
        self.lines = _Lines(self._lines, tenant_id)
        self.marks = _Marks(self._marks)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, _t: type[BaseException] | None, _v: BaseException | None, _tb: TracebackType | None) -> None:
        pass

    def commit(self) -> None:
        self.lines.flush()
        self.database.lines[self.tenant_id] = copy.deepcopy(self._lines)
        self.database.marks[self.tenant_id] = dict(self._marks)
        if self.pending_settings is not None:
            self.database.settings[self.tenant_id] = self.pending_settings
        self.database.commits += 1


# -- ikas -------------------------------------------------------------------------------------------------


@dataclass
class IkasProduct:
    id: str
    name: str
    tag_ids: tuple[str, ...]
    variants: dict[str, IkasVariant]
    updated_at: datetime
    deleted: bool = False


class FakeIkas:
    """One ikas store: products with variants, stock per location with its own stamps, tax settings."""

    def __init__(self, clock: MovingClock) -> None:
        self._clock = clock
        self.products: dict[str, IkasProduct] = {}
        self.stock: dict[tuple[str, str], tuple[Decimal, datetime]] = {}  # (variant, location) -> count, stamp
        self.tax = StoreTax(Decimal(25), (TagOverride((FOOD_TAG,), Decimal(12)),))
        self.writes: list[tuple[Any, ...]] = []
        self.reads: Counter[str] = Counter()
        self._ids = itertools.count(1)

    # -- the merchant's hand

    def add(
        self,
        sku: str | None,
        price: str | None,
        *,
        name: str | None = None,
        tags: tuple[str, ...] = (FORTNOX_TAG,),
        stock: Mapping[str, str] | None = None,
        barcodes: tuple[str, ...] = (),
        variant_name: str = "",
        product_id: str | None = None,
        unit_type: str | None = None,
    ) -> IkasVariant:
        """A product with one variant, or one more variant of `product_id`."""
        number = next(self._ids)
        product = self.products.get(product_id or "")
        if product is None:
            product = IkasProduct(f"p{number}", name or f"Product {number}", tags, {}, self._clock.now())
            self.products[product.id] = product
        variant = IkasVariant(
            product_id=product.id,
            variant_id=f"v{number}",
            product_name=product.name,
            variant_name=variant_name,
            sku=sku,
            barcodes=barcodes,
            sell_price=Decimal(price) if price is not None else None,
            stock={},
            tag_ids=product.tag_ids,
            unit_type=unit_type,
        )
        product.variants[variant.variant_id] = variant
        product.updated_at = self._clock.now()
        for location, count in (stock or {}).items():
            self.stock[(variant.variant_id, location)] = (Decimal(count), self._clock.now())
        return variant

    def edit(self, of: str, **changes: Any) -> None:
        """Changes the variant with the SKU `of` (sku, sell_price, barcodes) or its product (name, tag_ids), as a
        saveProduct does."""
        product, variant = self._find(of)
        product_changes = {k: v for k, v in changes.items() if k in ("name", "tag_ids")}
        if "name" in product_changes:
            product.name = product_changes["name"]
        if "tag_ids" in product_changes:
            product.tag_ids = tuple(product_changes["tag_ids"])
        variant_changes = {k: v for k, v in changes.items() if k not in ("name", "tag_ids")}
        if "sell_price" in variant_changes:
            variant_changes["sell_price"] = Decimal(variant_changes["sell_price"])
        product.variants[variant.variant_id] = replace(variant, **variant_changes)
        self._restamp(product)

    def remove_variant(self, sku: str) -> None:
        """The product saved without this variant: saveProduct drops it, leaving no `deleted` flag."""
        product, variant = self._find(sku)
        del product.variants[variant.variant_id]
        self._restamp(product)

    def delete_product(self, sku: str) -> None:
        product, _ = self._find(sku)
        product.deleted = True
        product.updated_at = self._clock.now()

    def count(self, sku: str, location: str, count: str) -> None:
        _, variant = self._find(sku)
        self.stock[(variant.variant_id, location)] = (Decimal(count), self._clock.now())

    def _find(self, sku: str) -> tuple[IkasProduct, IkasVariant]:
        (found,) = [
            (product, variant)
            for product in self.products.values()
            if not product.deleted
            for variant in product.variants.values()
            if variant.sku == sku
        ]
        return found

    def _restamp(self, product: IkasProduct) -> None:
        product.updated_at = self._clock.now()
        for variant_id, variant in product.variants.items():
            product.variants[variant_id] = replace(variant, product_name=product.name, tag_ids=product.tag_ids)

    def variant(self, sku: str) -> IkasVariant:
        return self._find(sku)[1]

    def live_skus(self) -> list[str | None]:
        return [v.sku for p in self.products.values() if not p.deleted for v in p.variants.values()]

    # -- IkasCatalog

    def _variants_of(self, product: IkasProduct, *, keep_deleted: bool) -> Iterator[IkasVariant]:
        if product.deleted and not keep_deleted:
            return
        for variant in product.variants.values():
            counts = {loc: count for (vid, loc), (count, _) in self.stock.items() if vid == variant.variant_id}
            yield replace(
                variant,
                stock=counts,
                deleted=product.deleted,
                single_variant=len(product.variants) == 1,
            )

    def variants(self, tenant_id: str) -> Iterator[IkasVariant]:
        self.reads["variants"] += 1
        for product in list(self.products.values()):
            yield from self._variants_of(product, keep_deleted=False)

    def fortnox_tag_ids(self, tenant_id: str) -> set[str]:
        self.reads["tags"] += 1
        return {FORTNOX_TAG}

    def variants_changed_since(self, tenant_id: str, since: datetime) -> Iterator[IkasVariant]:
        self.reads["variants_changed_since"] += 1
        for product in list(self.products.values()):
            if product.updated_at >= since:
                yield from self._variants_of(product, keep_deleted=True)

    def variants_of_product(self, tenant_id: str, product_id: str) -> list[IkasVariant]:
        product = self.products.get(product_id)
        return list(self._variants_of(product, keep_deleted=False)) if product else []

    def variants_by_sku(self, tenant_id: str, sku: str) -> list[IkasVariant]:
        self.reads["variants_by_sku"] += 1
        return [
            variant
            for product in self.products.values()
            for variant in self._variants_of(product, keep_deleted=False)
            if variant.sku is not None and variant.sku.strip() == sku
        ]

    def create_product(self, tenant_id: str, name: str, sku: str, sell_price: Decimal, ean: str | None) -> IkasVariant:
        self.writes.append(("create_product", sku, sell_price))
        return self.add(sku, str(sell_price), name=name, tags=(), barcodes=(ean,) if ean else ())

    def update_variant(self, tenant_id: str, update: VariantUpdate) -> bool:
        self.reads["product_for_update"] += 1  # the read of the read-merge-write, even when nothing differs
        product = self.products.get(update.product_id)
        if product is None or product.deleted or update.variant_id not in product.variants:
            raise NotFound("the ikas product or variant is gone")
        variant = product.variants[update.variant_id]
        changed = replace(
            variant,
            sell_price=update.sell_price if update.sell_price is not None else variant.sell_price,
            barcodes=update.barcodes if update.barcodes is not None else variant.barcodes,
        )
        name = update.name if update.name is not None else product.name
        if changed == variant and name == product.name:
            return False
        self.writes.append(("update_variant", variant.sku, update))
        product.name = name
        product.variants[variant.variant_id] = changed
        self._restamp(product)  # ikas stamps Bridge's own write like any other: the echo comes back
        return True

    def stock_locations(self, tenant_id: str) -> list[StockLocation]:
        return [StockLocation(MAIN, "Main warehouse"), StockLocation(SHOP, "Shop")]

    def store_tax(self, tenant_id: str) -> StoreTax:
        self.reads["store_tax"] += 1
        return self.tax

    def set_stock(self, tenant_id: str, writes: Sequence[StockWrite]) -> None:
        self.writes.append(("set_stock", tuple((w.variant_id, w.location_id, w.count) for w in writes)))
        for write in writes:
            self.stock[(write.variant_id, write.location_id)] = (write.count, self._clock.now())

    def stock_changed_since(self, tenant_id: str, since: datetime) -> Iterator[tuple[str, str, str, Decimal]]:
        self.reads["stock_changed_since"] += 1
        for (variant_id, location), (count, at) in list(self.stock.items()):
            if at >= since:
                product_id = next(p.id for p in self.products.values() if variant_id in p.variants)
                yield product_id, variant_id, location, count

    def stock_of(self, tenant_id: str, variant_ids: Sequence[str]) -> dict[str, dict[str, Decimal]]:
        self.reads["stock_of"] += 1
        found: dict[str, dict[str, Decimal]] = {variant_id: {} for variant_id in variant_ids}
        for (variant_id, location), (count, _) in self.stock.items():
            if variant_id in found:
                found[variant_id][location] = count
        return found


# -- Fortnox ----------------------------------------------------------------------------------------------


@dataclass
class Article:
    description: str | None
    base_price: Decimal | None
    vat: Decimal | None = Decimal(25)
    ean: str | None = None
    active: bool = True
    quantity: Decimal = Decimal(0)
    modified: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))


class FakeFortnox:
    """One Fortnox company: articles with a lastmodified stamp, units, optionally the warehouse module.

    `made_meanwhile` articles appear just before Bridge creates their number (the create is then refused, as
    Fortnox refuses a number that exists); `lose_create_answers` makes those creates happen but lose their
    answer (OutcomeUnknown); `reject_prices` and `reject_quantities` refuse those articles' writes."""

    def __init__(self, clock: MovingClock) -> None:
        self._clock = clock
        self.company: dict[str, Article] = {}  # number -> article
        self.units = {"kg", "st"}
        self.warehouse = False
        self.balances: dict[str, Decimal] = {}
        self.writes: list[tuple[Any, ...]] = []
        self.reads: Counter[str] = Counter()
        self.made_meanwhile: dict[str, Article] = {}  # made by someone else just before Bridge's create
        self.lose_create_answers: set[str] = set()
        self.reject_prices: set[str] = set()
        self.reject_quantities: set[str] = set()

    def add(self, number: str, description: str, price: str | None, **fields: Any) -> None:
        self.company[number] = Article(
            description, Decimal(price) if price is not None else None, modified=self._clock.now(), **fields
        )

    def edit(self, number: str, **fields: Any) -> None:
        article = self.company[number]
        for name, value in fields.items():
            setattr(article, name, Decimal(value) if name in ("base_price", "quantity") else value)
        article.modified = self._clock.now()

    def _view(self, number: str, article: Article) -> FortnoxArticle:
        return FortnoxArticle(
            number, article.description, article.active, article.ean, article.vat, article.base_price, article.quantity
        )

    # -- FortnoxCatalog

    def articles_list(self) -> list[FortnoxArticle]:
        return [self._view(number, article) for number, article in self.company.items()]

    def articles(self, tenant_id: str) -> Iterator[FortnoxArticle]:
        self.reads["articles"] += 1
        return iter(self.articles_list())

    def articles_changed_since(self, tenant_id: str, since: datetime) -> Iterator[FortnoxArticle]:
        self.reads["articles_changed_since"] += 1
        return iter([self._view(n, a) for n, a in self.company.items() if a.modified >= since])

    def article(self, tenant_id: str, number: str) -> FortnoxArticle | None:
        self.reads["article"] += 1
        found = self.company.get(number)
        return self._view(number, found) if found else None

    def create_article(self, tenant_id: str, article: NewArticle) -> None:
        if article.number in self.made_meanwhile:
            self.company[article.number] = self.made_meanwhile.pop(article.number)
        if article.number in self.company:
            raise UpstreamRejected("fortnox", "Artikelnumret används redan", upstream_code="2000013")
        self.writes.append(("create_article", article))
        self.company[article.number] = Article(
            article.description, Decimal(0), None, article.ean, modified=self._clock.now()
        )
        if article.number in self.lose_create_answers:
            raise OutcomeUnknown("fortnox", "the connection dropped after the create was sent")

    def update_article(self, tenant_id: str, number: str, fields: Mapping[str, Any]) -> None:
        if number not in self.company:
            raise NotFound("no such article")
        self.writes.append(("update_article", number, dict(fields)))
        article = self.company[number]
        article.description = fields.get("Description", article.description)
        article.ean = fields.get("EAN", article.ean)
        article.modified = self._clock.now()

    def set_base_price(self, tenant_id: str, number: str, price: Decimal) -> None:
        if number in self.reject_prices:
            raise UpstreamRejected("fortnox", "Ogiltigt pris", upstream_code="2000360")
        if number not in self.company:
            raise NotFound("no such article")
        self.writes.append(("set_base_price", number, price))
        self.company[number].base_price = price
        self.company[number].modified = self._clock.now()

    def unit_exists(self, tenant_id: str, code: str) -> bool:
        self.reads["unit"] += 1
        return code in self.units

    def set_quantity_in_stock(self, tenant_id: str, number: str, quantity: Decimal) -> None:
        if number in self.reject_quantities:
            raise UpstreamRejected("fortnox", "Lagerantal kan inte ändras", upstream_code="2001302")
        self.writes.append(("set_quantity_in_stock", number, quantity))
        self.company[number].quantity = quantity
        self.company[number].modified = self._clock.now()

    def warehouse_activated(self, tenant_id: str) -> bool:
        self.reads["warehouse"] += 1
        return self.warehouse

    def stock_balances(self, tenant_id: str, numbers: Sequence[str], stock_point: str | None) -> dict[str, Decimal]:
        self.reads["stock_balances"] += 1
        return {number: self.balances.get(number, Decimal(0)) for number in numbers}

    def stock_taking(self, tenant_id: str, counts: Mapping[str, Decimal], stock_point: str | None) -> None:
        self.writes.append(("stock_taking", dict(counts), stock_point))
        self.balances.update(counts)


class NoAuth:
    def forget_fortnox_company(self, tenant_id: str) -> None:
        pass

    def store_name(self, tenant_id: str) -> str:
        return "demo"


class Progress:
    def __init__(self) -> None:
        self.reported: list[tuple[int, int | None]] = []

    def progress(self, done: int, total: int | None = None) -> None:
        self.reported.append((done, total))

    def lease_lost(self) -> bool:
        return False


@dataclass
class World:
    """The catalog built through bootstrap.build over the fakes, and the fakes to arrange and inspect."""

    services: Services
    database: CatalogDatabase
    ikas: FakeIkas
    fortnox: FakeFortnox
    clock: MovingClock

    def configure(
        self,
        mode: str,
        *,
        create_new: bool = False,
        update_existing: bool = False,
        location: str | None = None,
        stock_point: str | None = None,
    ) -> None:
        settings = CatalogSettings(
            ProductSettings(mode, False, create_new, update_existing), StockSettings(False, location, stock_point)
        )
        self.database.settings[TENANT] = TenantCatalogSettings(
            TENANT, settings.products, settings.stock, self.clock.now()
        )

    def products_run(self) -> Any:
        return self.services.sync_products(TENANT, Progress())

    def preview(self) -> Any:
        return self.services.sync_products.preview(TENANT, Progress())

    def stock_run(self) -> Any:
        return self.services.sync_stock(TENANT, Progress())

    def match(self) -> Any:
        return self.services.match_products(TENANT, Progress())

    def forget_calls(self) -> None:
        self.ikas.writes.clear()
        self.ikas.reads.clear()
        self.fortnox.writes.clear()
        self.fortnox.reads.clear()


def world(tmp_path: Any) -> World:
    clock = MovingClock()
    database, ikas, fortnox = CatalogDatabase(), FakeIkas(clock), FakeFortnox(clock)
    services = build(
        BridgeSettings(data_dir=str(tmp_path)),
        uow_for=database.unit_of_work,
        clock=clock,
        ikas=ikas,
        fortnox=fortnox,
        auth=NoAuth(),
    )
    return World(services, database, ikas, fortnox, clock)
