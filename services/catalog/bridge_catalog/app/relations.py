"""Relations between ikas variants and Fortnox articles: matching, unlink, relink, reset (product.md §3)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bridge_catalog.app.ports import (
    AuthConnections,
    CatalogUnitOfWork,
    Clock,
    FortnoxCatalog,
    IkasCatalog,
    IkasVariant,
    ProductLineRepository,
    RunProgress,
    RunReport,
    UnitOfWorkFactory,
)
from bridge_catalog.domain.lines import (
    IGNORED,
    LINKED,
    MATCH,
    RELINK,
    RESET,
    UNLINK,
    UNLINKED,
    WAS_ORPHANED,
    WAS_RESET,
    ProductLine,
)
from bridge_catalog.domain.matching import VariantKey, article_number_problem, clean_sku, plan_matches
from bridge_catalog.domain.stock import ikas_total
from bridge_platform.errors import Conflict, InvalidInput, NotFound

PRODUCT_WATERMARKS = ["fortnox_articles", "ikas_products", "ikas_stock", "fortnox_stock", "fortnox_reconciled"]


def refresh_lines(
    tenant_id: str, lines: ProductLineRepository, variants: Iterable[IkasVariant], at: datetime
) -> list[ProductLine]:
    """Brings the tenant's lines in step with the ikas variants read now (a full read, by the match run).

    New variants get a line; names, SKUs and ikas stock follow ikas; a related line whose variant is gone
    or whose SKU no longer equals its article number is orphaned with an explanation (on its timeline too).
    Nothing is deleted.
    """
    existing = {(line.ikas_product_id, line.ikas_variant_id): line for line in lines.all()}
    seen: set[tuple[str, str]] = set()
    for variant in variants:
        key = (variant.product_id, variant.variant_id)
        seen.add(key)
        line = existing.get(key)
        if line is None:
            line = ProductLine(tenant_id, variant.product_id, variant.variant_id, "")
            lines.add(line)
            existing[key] = line
        line.name, line.variant_name, line.sku = variant.product_name, variant.variant_name, variant.sku
        line.ikas_stock = ikas_total(variant.stock.values())
        number = line.fortnox_article_number
        if line.is_related and number is not None and clean_sku(variant.sku) != number:
            shown = clean_sku(variant.sku) or "nothing"
            _orphan(line, f"the ikas SKU changed from {number} to {shown}; link the line again to relate it", at)
    for key, line in existing.items():
        if key not in seen and line.is_related:
            _orphan(line, "the ikas product or variant was deleted; nothing was deleted in Fortnox", at)
    return list(existing.values())


def _orphan(line: ProductLine, why: str, at: datetime) -> None:
    line.orphan(why)
    line.log(at, MATCH, WAS_ORPHANED, why)


class MatchProducts:
    """The `match` run: links every exact SKU match without changing either side, and reports the rest."""

    def __init__(self, uow_for: UnitOfWorkFactory, ikas: IkasCatalog, fortnox: FortnoxCatalog, clock: Clock) -> None:
        self._uow_for, self._ikas, self._fortnox, self._clock = uow_for, ikas, fortnox, clock

    def __call__(self, tenant_id: str, progress: RunProgress) -> RunReport:
        variants = list(self._ikas.variants(tenant_id))
        articles = {a.number: a for a in self._fortnox.articles(tenant_id) if a.active}
        progress.progress(0, len(variants))
        with self._uow_for(tenant_id) as uow:
            lines = refresh_lines(tenant_id, uow.lines, variants, self._clock.now())
            by_key = {(line.ikas_product_id, line.ikas_variant_id): line for line in lines}
            related = {key: line.fortnox_article_number for key, line in by_key.items() if line.fortnox_article_number}
            ignored = [key for key, line in by_key.items() if line.status == IGNORED]
            keys = [VariantKey(v.product_id, v.variant_id, v.sku) for v in variants]
            plan = plan_matches(keys, articles, related={k: n for k, n in related.items() if n}, ignored=ignored)
            for key, number in plan.links.items():
                line = by_key[key]
                line.link(number)
                line.fortnox_stock = articles[number].quantity_in_stock
                line.log(self._clock.now(), MATCH, LINKED, f"the SKU equals the Fortnox article number {number}")
            for key in plan.without_sku:
                by_key[key].mark_unmatched("the ikas variant has no SKU")
            for sku, keys_of_sku in plan.duplicate_skus.items():
                for key in keys_of_sku:
                    by_key[key].mark_unmatched(
                        f"the SKU {sku} is used by {len(keys_of_sku)} ikas variants; none of them is linked"
                    )
            for key, why in plan.illegal.items():
                by_key[key].mark_unmatched(why)
            for key in plan.no_article:
                by_key[key].mark_unmatched(f"Fortnox has no active article numbered {clean_sku(by_key[key].sku)}")
            uow.commit()
        progress.progress(len(variants), len(variants))
        return RunReport(
            counts={"created": 0, "updated": len(plan.links), "unchanged": len(plan.already_linked), "failed": 0},
            result={"report": plan.report()},
        )


class UnlinkLine:
    """Marks one line ignored: its relation is dropped and it is never matched again automatically."""

    def __init__(self, uow_for: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_for, self._clock = uow_for, clock

    def __call__(self, tenant_id: str, line_id: str) -> ProductLine:
        with self._uow_for(tenant_id) as uow:
            line = uow.lines.get(line_id)
            if line is None:
                raise NotFound("no such product line")
            number = line.fortnox_article_number
            line.unlink()
            was = f" from the Fortnox article {number}" if number else ""
            detail = f"unlinked by hand{was}; it is not matched again automatically"
            line.log(self._clock.now(), UNLINK, UNLINKED, detail)
            uow.commit()
        return line


class RelinkLine:
    """Relates one line again to the article whose number equals its SKU exactly."""

    def __init__(self, uow_for: UnitOfWorkFactory, fortnox: FortnoxCatalog, clock: Clock) -> None:
        self._uow_for, self._fortnox, self._clock = uow_for, fortnox, clock

    def __call__(self, tenant_id: str, line_id: str) -> ProductLine:
        with self._uow_for(tenant_id) as uow:
            line = uow.lines.get(line_id)
        if line is None:
            raise NotFound("no such product line")
        sku = clean_sku(line.sku)
        if sku is None:
            raise InvalidInput("the ikas variant has no SKU, so it cannot be linked")
        problem = article_number_problem(sku)
        if problem is not None:
            raise InvalidInput(problem)
        article = self._fortnox.article(tenant_id, sku)
        if article is None or not article.active:
            raise Conflict(f"Fortnox has no active article numbered {sku}")
        with self._uow_for(tenant_id) as uow:
            holder = next(
                (other for other in uow.lines.all() if other.fortnox_article_number == sku and other.id != line_id),
                None,
            )
            if holder is not None:
                raise Conflict(f"the Fortnox article {sku} is already linked to another line", {"line_id": holder.id})
            line = uow.lines.get(line_id)
            if line is None:
                raise NotFound("no such product line")
            line.link(sku)
            line.fortnox_stock = article.quantity_in_stock
            line.log(self._clock.now(), RELINK, LINKED, f"linked by hand to the Fortnox article {sku}")
            uow.commit()
        return line


class ResetRelations:
    """Forgets every relation and watermark of the tenant, then tells auth the relations are gone."""

    def __init__(self, uow_for: UnitOfWorkFactory, auth: AuthConnections, clock: Clock) -> None:
        self._uow_for, self._auth, self._clock = uow_for, auth, clock

    @staticmethod
    def reset_in(uow: CatalogUnitOfWork, at: datetime, why: str = "every product relation was reset") -> int:
        """Resets inside the caller's transaction (the settings save that changes sync_mode)."""
        count = 0
        for line in uow.lines.all():
            if line.fortnox_article_number is not None or line.status != "unmatched":
                count += 1
                number = line.fortnox_article_number
                detail = f"{why}; it was related to the Fortnox article {number}" if number else why
                line.log(at, RESET, WAS_RESET, detail)
            line.reset()
        uow.marks.clear(PRODUCT_WATERMARKS)
        return count

    def __call__(self, tenant_id: str, progress: RunProgress | None = None) -> RunReport:
        with self._uow_for(tenant_id) as uow:
            count = self.reset_in(uow, self._clock.now())
            uow.commit()
        self._auth.forget_fortnox_company(tenant_id)
        return RunReport(counts={"created": 0, "updated": count, "unchanged": 0, "failed": 0}, result={"reset": count})
