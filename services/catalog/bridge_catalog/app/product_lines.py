"""Reading product lines and stock locations (product.md §8)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bridge_catalog.app.manage_settings import require_tenant
from bridge_catalog.app.ports import IkasCatalog, StockLocation, UnitOfWorkFactory
from bridge_catalog.domain.lines import STATUSES, ProductLine
from bridge_platform.errors import FieldViolation, InvalidInput, NotFound

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_RESOLVED_VARIANTS = 1000  # far more lines than an order has; a bound on one request's query
LAST_PRODUCT_SYNC = "last_product_sync"
LAST_STOCK_SYNC = "last_stock_sync"


@dataclass(frozen=True)
class LinePage:
    lines: list[ProductLine]
    total: int
    page: int
    page_size: int
    last_product_sync_at: datetime | None
    last_stock_sync_at: datetime | None


def check_page(page: int, page_size: int) -> tuple[int, int]:
    """Defaults of product.md §8 (page 1, 50 per page); more than 200 is 422."""
    page, page_size = page or 1, page_size or DEFAULT_PAGE_SIZE
    violations = []
    if page < 1:
        violations.append(FieldViolation("page", "invalid_value", "must be 1 or more"))
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        violations.append(FieldViolation("page_size", "invalid_value", f"must be 1..{MAX_PAGE_SIZE}"))
    if violations:
        raise InvalidInput("invalid paging", violations)
    return page, page_size


class ListProductLines:
    """Lines sorted by name then variant; `query` searches name and SKU, `status` filters."""

    def __init__(self, uow_for: UnitOfWorkFactory) -> None:
        self._uow_for = uow_for

    def __call__(self, tenant_id: str, query: str, status: str | None, page: int, page_size: int) -> LinePage:
        page, page_size = check_page(page, page_size)
        if status is not None and status not in STATUSES:
            raise InvalidInput("unknown status", [FieldViolation("status", "invalid_choice", ", ".join(STATUSES))])
        with self._uow_for(tenant_id) as uow:
            lines, total = uow.lines.page(query, status, page, page_size)
            products, stock = uow.marks.get(LAST_PRODUCT_SYNC), uow.marks.get(LAST_STOCK_SYNC)
        return LinePage(lines, total, page, page_size, products, stock)


class GetProductLine:
    """One line of the tenant with its timeline; another tenant's line id is NotFound, never its data."""

    def __init__(self, uow_for: UnitOfWorkFactory) -> None:
        self._uow_for = uow_for

    def __call__(self, tenant_id: str, line_id: str) -> ProductLine:
        require_tenant(tenant_id)
        with self._uow_for(tenant_id) as uow:
            line = uow.lines.get(line_id)
        if line is None:
            raise NotFound("no such product line")
        return line


class ListStockLocations:
    """The store's ikas stock locations, read live."""

    def __init__(self, ikas: IkasCatalog) -> None:
        self._ikas = ikas

    def __call__(self, tenant_id: str) -> list[StockLocation]:
        return self._ikas.stock_locations(tenant_id)

    def ids(self, tenant_id: str) -> set[str]:
        return {location.id for location in self._ikas.stock_locations(tenant_id)}


class ResolveArticleNumbers:
    """The Fortnox article numbers of an order's ikas variants: related lines only (the relation decides, not
    the SKU an order line carries); unrelated, unlinked (ignored) and orphaned lines are left out."""

    def __init__(self, uow_for: UnitOfWorkFactory) -> None:
        self._uow_for = uow_for

    def __call__(self, tenant_id: str, variant_ids: Sequence[str]) -> dict[str, str]:
        require_tenant(tenant_id)
        if len(variant_ids) > MAX_RESOLVED_VARIANTS:
            raise InvalidInput(
                "too many variants", [FieldViolation("variants", "too_many", f"at most {MAX_RESOLVED_VARIANTS}")]
            )
        wanted = [variant_id for variant_id in variant_ids if variant_id.strip()]
        if not wanted:
            return {}
        with self._uow_for(tenant_id) as uow:
            return uow.lines.related_article_numbers(wanted)
