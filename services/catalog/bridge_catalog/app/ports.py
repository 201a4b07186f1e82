"""What the catalog use cases need from the outside world, as small Protocols (style.md rule 3)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Protocol, Self

from bridge_catalog.domain.lines import ProductLine
from bridge_catalog.domain.pricing import StoreTax
from bridge_catalog.domain.settings import TenantCatalogSettings


class CatalogSettingsRepository(Protocol):
    """The stored product and stock settings of the unit of work's tenant."""

    def get(self) -> TenantCatalogSettings | None: ...
    def add(self, settings: TenantCatalogSettings) -> None: ...


class ProductLineRepository(Protocol):
    """The product lines of the unit of work's tenant; another tenant's lines are invisible."""

    def get(self, line_id: str) -> ProductLine | None: ...
    def all(self) -> list[ProductLine]: ...
    def add(self, line: ProductLine) -> None: ...
    def page(self, query: str, status: str | None, page: int, page_size: int) -> tuple[list[ProductLine], int]: ...
    def has_relations(self) -> bool: ...
    def related_article_numbers(self, variant_ids: Sequence[str]) -> dict[str, str]:
        """Variant id -> Fortnox article number of the given variants' related lines (synced, pending or error
        with a relation); unrelated, ignored and orphaned lines are left out."""
        ...

    def flush(self) -> None: ...


class MarkRepository(Protocol):
    """Named instants of the tenant: watermarks of incremental runs, last sync times."""

    def get(self, name: str) -> datetime | None: ...
    def set(self, name: str, at: datetime) -> None: ...
    def clear(self, names: list[str]) -> None: ...


class CatalogUnitOfWork(Protocol):
    """One transaction for one tenant; nothing is written unless `commit()` is called."""

    @property
    def settings(self) -> CatalogSettingsRepository: ...
    @property
    def lines(self) -> ProductLineRepository: ...
    @property
    def marks(self) -> MarkRepository: ...

    def __enter__(self) -> Self: ...
    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None: ...
    def commit(self) -> None: ...


UnitOfWorkFactory = Callable[[str], CatalogUnitOfWork]


class Clock(Protocol):
    """The current time, timezone-aware UTC."""

    def now(self) -> datetime: ...


# -- upstream views: what the use cases read of ikas and Fortnox -----------------------------------------


@dataclass(frozen=True)
class IkasVariant:
    """One ikas variant with what the catalog needs of its product."""

    product_id: str
    variant_id: str
    product_name: str
    variant_name: str
    sku: str | None
    barcodes: tuple[str, ...]
    sell_price: Decimal | None  # default price list
    stock: Mapping[str, Decimal]  # per ikas stock location id
    tag_ids: tuple[str, ...]
    is_physical: bool = True
    unit_type: str | None = None
    deleted: bool = False
    single_variant: bool = True  # the product has only this variant (its name is the line's name)


@dataclass(frozen=True)
class StockLocation:
    id: str
    name: str


@dataclass(frozen=True)
class FortnoxArticle:
    number: str
    description: str | None
    active: bool
    ean: str | None
    vat: Decimal | None
    base_price: Decimal | None
    quantity_in_stock: Decimal | None


@dataclass(frozen=True)
class NewArticle:
    """What ikas_to_fortnox writes of one variant (mapped fields only; the price is written separately)."""

    number: str
    description: str
    ean: str | None
    unit: str | None
    stock_goods: bool


@dataclass(frozen=True)
class VariantUpdate:
    """Mapped fields of one ikas variant and its product; None leaves a field as it is."""

    product_id: str
    variant_id: str
    name: str | None = None
    sell_price: Decimal | None = None
    barcodes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class StockWrite:
    product_id: str
    variant_id: str
    location_id: str
    count: Decimal


class IkasCatalog(Protocol):
    """The tenant's ikas store. Raises UpstreamUnavailable, UpstreamRejected, or ConnectionPaused."""

    def variants(self, tenant_id: str) -> Iterator[IkasVariant]:
        """Every variant of every product (deleted ones left out), streamed page by page."""
        ...

    def fortnox_tag_ids(self, tenant_id: str) -> set[str]:
        """Ids of the tags named "fortnox" (case-insensitive)."""
        ...

    def variants_changed_since(self, tenant_id: str, since: datetime) -> Iterator[IkasVariant]:
        """Variants of products updated at or after `since` (deleted ones included, marked `deleted`)."""
        ...

    def variants_of_product(self, tenant_id: str, product_id: str) -> list[IkasVariant]:
        """The live variants of one product (none when it was deleted)."""
        ...

    def variants_by_sku(self, tenant_id: str, sku: str) -> list[IkasVariant]:
        """Every live variant whose trimmed SKU is exactly `sku` (the lookup before any create; more than
        one is a duplicate SKU, which links none of them)."""
        ...

    def create_product(self, tenant_id: str, name: str, sku: str, sell_price: Decimal, ean: str | None) -> IkasVariant:
        """A new product with one variant. Not safe to repeat: look the SKU up after OutcomeUnknown."""
        ...

    def update_variant(self, tenant_id: str, update: VariantUpdate) -> bool:
        """Read-merge-write of the product: only the given fields change. False when nothing differed."""
        ...

    def stock_locations(self, tenant_id: str) -> list[StockLocation]: ...
    def store_tax(self, tenant_id: str) -> StoreTax: ...
    def set_stock(self, tenant_id: str, writes: Sequence[StockWrite]) -> None:
        """Absolute counts per (variant, location); other locations untouched."""
        ...

    def stock_changed_since(self, tenant_id: str, since: datetime) -> Iterator[tuple[str, str, str, Decimal]]:
        """(product id, variant id, location id, count) of stock rows updated since `since`."""
        ...

    def stock_of(self, tenant_id: str, variant_ids: Sequence[str]) -> dict[str, dict[str, Decimal]]:
        """Counts per location of the given variants (variant id -> location id -> count)."""
        ...


class FortnoxCatalog(Protocol):
    """The tenant's Fortnox company. Raises UpstreamUnavailable, UpstreamRejected, or ConnectionPaused."""

    def articles(self, tenant_id: str) -> Iterator[FortnoxArticle]:
        """Every article (list fields), streamed page by page."""
        ...

    def articles_changed_since(self, tenant_id: str, since: datetime) -> Iterator[FortnoxArticle]:
        """Articles changed at or after `since` (lastmodified), inactive ones marked."""
        ...

    def article(self, tenant_id: str, number: str) -> FortnoxArticle | None: ...
    def create_article(self, tenant_id: str, article: NewArticle) -> None:
        """Not safe to repeat: look the number up (`article`) after OutcomeUnknown."""
        ...

    def update_article(self, tenant_id: str, number: str, fields: Mapping[str, Any]) -> None:
        """A partial update of PascalCase fields (Description, EAN, Unit, ...)."""
        ...

    def set_base_price(self, tenant_id: str, number: str, price: Decimal) -> None:
        """The FromQuantity 0 row in the pre-selected price list (absolute, safe to repeat)."""
        ...

    def unit_exists(self, tenant_id: str, code: str) -> bool: ...
    def set_quantity_in_stock(self, tenant_id: str, number: str, quantity: Decimal) -> None: ...
    def warehouse_activated(self, tenant_id: str) -> bool: ...
    def stock_balances(self, tenant_id: str, numbers: Sequence[str], stock_point: str | None) -> dict[str, Decimal]:
        """Warehouse stock per article: the chosen stock point's balance, or the sum of all."""
        ...

    def stock_taking(self, tenant_id: str, counts: Mapping[str, Decimal], stock_point: str | None) -> None:
        """Sets absolute warehouse stock through ONE stock-taking document (created, counted, released)."""
        ...


class AuthConnections(Protocol):
    """The auth service's side of the tenant and its Fortnox connection."""

    def forget_fortnox_company(self, tenant_id: str) -> None:
        """Relations are gone: a different Fortnox company may be connected now."""
        ...

    def store_name(self, tenant_id: str) -> str:
        """The tenant's ikas store name (links into the ikas admin). Raises NotFound for an unknown tenant."""
        ...


# -- runs -----------------------------------------------------------------------------------------------


@dataclass
class RunReport:
    """What a run handler returns: state, counts, per-entity errors, a result document."""

    state: str = "succeeded"
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)


class RunProgress(Protocol):
    """What a run handler may tell about itself while it runs."""

    def progress(self, done: int, total: int | None = None) -> None: ...
    def lease_lost(self) -> bool: ...


@dataclass(frozen=True)
class RunRecord:
    """One run of the ledger, as the catalog shows it."""

    id: str
    tenant_id: str
    scope: str
    trigger: str
    state: str
    progress_done: int
    progress_total: int | None
    counts: Mapping[str, int]
    errors: Sequence[Mapping[str, Any]]
    result: Mapping[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class RunLedger(Protocol):
    """The service's durable run queue and its ledger."""

    def submit(self, tenant_id: str, scope: str, trigger: str, payload: Mapping[str, Any]) -> tuple[str, bool]:
        """Queues a run; an active run of the same tenant and scope is returned instead (created False)."""
        ...

    def get(self, tenant_id: str, run_id: str) -> RunRecord | None: ...
    def list(self, tenant_id: str, scope: str | None, page: int, page_size: int) -> tuple[list[RunRecord], int]: ...

    def request_follow_up(self, tenant_id: str, run_id: str) -> bool:
        """A wake-up for the active run `run_id`: True when it is still queued (it reads the change when it
        starts) or running, then marked so that one more run of its scope follows it (`release` tells);
        False when it is no longer active (submit again). Marking twice still means one more run."""
        ...

    def release(self, tenant_id: str, run_id: str) -> bool:
        """The run's handler is done: from now on a submit of its tenant and scope queues a new run (behind
        this one, which still finishes first). True when a wake-up asked for one more run while it ran."""
        ...


class DueTenants(Protocol):
    """Tenants whose automatic sync of a scope is on."""

    def due(self, scope: str) -> list[str]: ...
