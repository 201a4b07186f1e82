"""Stock sync (product.md §4): absolute values in the direction of the sync mode, related lines only, and
only values that differ from the target side's current value (a no-change run writes nothing).

Incremental where the upstreams allow it: ikas stock rows changed since the watermark
(listProductStockLocation updatedAt), Fortnox articles changed since it (lastmodified). With the Fortnox
warehouse module, the balance (the chosen stock point, or the sum of all) is read and every write of the
run goes through one stock-taking document.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

from bridge_catalog.app.ports import (
    Clock,
    FortnoxCatalog,
    IkasCatalog,
    RunProgress,
    RunReport,
    StockWrite,
    UnitOfWorkFactory,
)
from bridge_catalog.app.product_lines import LAST_STOCK_SYNC
from bridge_catalog.app.product_sync import Outcome, line_error
from bridge_catalog.domain.lines import (
    STOCK_SYNC,
    STOCK_WRITTEN,
    SYNC_STOCK_NOW,
    UNCHANGED,
    LineError,
    ProductLine,
    quantity_text,
)
from bridge_catalog.domain.settings import FORTNOX_TO_IKAS, CatalogSettings
from bridge_catalog.domain.stock import StockLocationRequired, fortnox_balance, ikas_total, needs_write
from bridge_platform.errors import Conflict, DomainError, NotFound, UpstreamRejected, UpstreamUnavailable

IKAS_STOCK_WATERMARK: Final = "ikas_stock"
FORTNOX_STOCK_WATERMARK: Final = "fortnox_stock"
OVERLAP: Final = timedelta(minutes=2)


class SyncStock:
    """The `stock` run and SyncLineStock (one line now)."""

    def __init__(self, uow_for: UnitOfWorkFactory, ikas: IkasCatalog, fortnox: FortnoxCatalog, clock: Clock) -> None:
        self._uow_for, self._ikas, self._fortnox, self._clock = uow_for, ikas, fortnox, clock

    def __call__(self, tenant_id: str, progress: RunProgress) -> RunReport:
        started = self._clock.now()
        outcome = Outcome(dry=False, step=STOCK_SYNC)
        with self._uow_for(tenant_id) as uow:
            stored = uow.settings.get()
            settings = stored.settings if stored else CatalogSettings()
            to_ikas = settings.products.sync_mode == FORTNOX_TO_IKAS
            name = FORTNOX_STOCK_WATERMARK if to_ikas else IKAS_STOCK_WATERMARK
            watermark = uow.marks.get(name)
            related = [line for line in uow.lines.all() if line.is_related]
            uow.commit()  # ends the read transaction, so the ledger can record progress
            progress.progress(0, len(related))
            try:
                self._sync(tenant_id, settings, related, watermark, outcome)
            except DomainError:
                uow.commit()  # lines written so far stay recorded; the watermark does not move
                raise
            if not outcome.counts["failed"]:
                uow.marks.set(name, started - OVERLAP)
            uow.marks.set(LAST_STOCK_SYNC, self._clock.now())
            uow.commit()
        progress.progress(len(related), len(related))
        report = outcome.report()
        report.result = {}
        return report

    def line(self, tenant_id: str, line_id: str) -> ProductLine:
        """Writes one related line's stock now, in the direction of the sync mode."""
        outcome = Outcome(dry=False, step=SYNC_STOCK_NOW)
        with self._uow_for(tenant_id) as uow:
            line = uow.lines.get(line_id)
            if line is None:
                raise NotFound("no such product line")
            if not line.is_related:
                raise Conflict("only a line related to a Fortnox article has stock to sync")
            stored = uow.settings.get()
            settings = stored.settings if stored else CatalogSettings()
            newest = line.timeline[-1] if line.timeline else None
            self._sync(tenant_id, settings, [line], None, outcome)
            if not outcome.errors and (line.timeline[-1] if line.timeline else None) is newest:
                # Asked for by hand, so it shows even when nothing needed writing (a run would add nothing).
                shown = quantity_text(line.synced_stock) if line.synced_stock is not None else "the same stock"
                line.log(self._clock.now(), SYNC_STOCK_NOW, UNCHANGED, f"both sides already hold {shown}")
            uow.commit()
        if outcome.errors:
            raise Conflict(f"the stock sync failed: {outcome.errors[0]['message']}")
        return line

    # -----------------------------------------------------------------------------------------------------

    def _sync(
        self,
        tenant_id: str,
        settings: CatalogSettings,
        lines: list[ProductLine],
        watermark: datetime | None,
        outcome: Outcome,
    ) -> None:
        if not lines:
            return
        if settings.products.sync_mode == FORTNOX_TO_IKAS:
            self._to_ikas(tenant_id, settings, lines, watermark, outcome)
        else:
            self._to_fortnox(tenant_id, settings, lines, watermark, outcome)

    def _fail(self, outcome: Outcome, line: ProductLine, error: LineError) -> None:
        outcome.fail(line.fortnox_article_number or line.id, error, line)

    def _written(self, outcome: Outcome, line: ProductLine, detail: str) -> None:
        line.log(self._clock.now(), outcome.step, STOCK_WRITTEN, detail)
        outcome.count("updated")

    def _fortnox_stock(
        self, tenant_id: str, settings: CatalogSettings, numbers: list[str], watermark: datetime | None
    ) -> tuple[bool, dict[str, Decimal]]:
        """(warehouse module on, current Fortnox stock per article number) - only changed articles when a
        watermark allows it (without the warehouse module)."""
        if self._fortnox.warehouse_activated(tenant_id):
            balances = self._fortnox.stock_balances(tenant_id, numbers, settings.stock.fortnox_stock_point)
            return True, {number: fortnox_balance({None: balances.get(number, Decimal(0))}, None) for number in numbers}
        wanted = set(numbers)
        articles = (
            self._fortnox.articles(tenant_id)
            if watermark is None
            else self._fortnox.articles_changed_since(tenant_id, watermark)
        )
        return False, {a.number: a.quantity_in_stock or Decimal(0) for a in articles if a.number in wanted}

    def _to_ikas(
        self,
        tenant_id: str,
        settings: CatalogSettings,
        lines: list[ProductLine],
        watermark: datetime | None,
        outcome: Outcome,
    ) -> None:
        location = settings.stock.ikas_stock_location_id
        if location is None:
            error = StockLocationRequired()
            for line in lines:
                self._fail(outcome, line, LineError(error.message, None, None, self._clock.now()))
            return
        numbers = [line.fortnox_article_number for line in lines if line.fortnox_article_number]
        _, fortnox = self._fortnox_stock(tenant_id, settings, numbers, watermark)
        changed = [line for line in lines if line.fortnox_article_number in fortnox]
        if not changed:
            outcome.counts["unchanged"] += len(lines)
            return
        current = self._ikas.stock_of(tenant_id, [line.ikas_variant_id for line in changed])
        writes: list[tuple[ProductLine, StockWrite]] = []
        for line in changed:
            target = fortnox[line.fortnox_article_number or ""]
            line.fortnox_stock = target
            counts = current.get(line.ikas_variant_id, {})
            if needs_write(counts.get(location), target):
                write = StockWrite(line.ikas_product_id, line.ikas_variant_id, location, target)
                writes.append((line, write))
            else:
                line.ikas_stock = ikas_total(counts.values())
                line.mark_stock_synced(target, self._clock.now())
                outcome.count("unchanged")
        outcome.counts["unchanged"] += len(lines) - len(changed)
        if not writes:
            return
        try:
            self._ikas.set_stock(tenant_id, [write for _, write in writes])
        except (UpstreamRejected, UpstreamUnavailable, NotFound) as failure:
            for line, _ in writes:
                self._fail(outcome, line, line_error(failure, self._clock.now()))
            return
        for line, write in writes:
            counts = {**current.get(line.ikas_variant_id, {}), location: write.count}
            line.ikas_stock = ikas_total(counts.values())
            line.mark_stock_synced(write.count, self._clock.now())
            self._written(
                outcome, line, f"the ikas stock at the chosen location was set to {quantity_text(write.count)}"
            )

    def _to_fortnox(
        self,
        tenant_id: str,
        settings: CatalogSettings,
        lines: list[ProductLine],
        watermark: datetime | None,
        outcome: Outcome,
    ) -> None:
        by_variant = {line.ikas_variant_id: line for line in lines}
        if watermark is not None:
            moved = {variant for _, variant, _, _ in self._ikas.stock_changed_since(tenant_id, watermark)}
            candidates = [line for line in lines if line.ikas_variant_id in moved]
        else:
            candidates = list(lines)
        outcome.counts["unchanged"] += len(lines) - len(candidates)
        if not candidates:
            return
        stock = self._ikas.stock_of(tenant_id, [line.ikas_variant_id for line in candidates])
        targets = {line.id: ikas_total(stock.get(line.ikas_variant_id, {}).values()) for line in candidates}
        numbers = [line.fortnox_article_number for line in candidates if line.fortnox_article_number]
        warehouse, current = self._fortnox_stock(tenant_id, settings, numbers, None)
        pending: dict[str, Decimal] = {}
        for line in candidates:
            number, target = line.fortnox_article_number or "", targets[line.id]
            line.ikas_stock = target
            if not needs_write(current.get(number), target):
                line.fortnox_stock = target
                line.mark_stock_synced(target, self._clock.now())
                outcome.count("unchanged")
            elif warehouse:
                pending[number] = target
            else:
                try:
                    self._fortnox.set_quantity_in_stock(tenant_id, number, target)
                except (UpstreamRejected, UpstreamUnavailable, NotFound) as failure:
                    self._fail(outcome, line, line_error(failure, self._clock.now()))
                    continue
                line.fortnox_stock = target
                line.mark_stock_synced(target, self._clock.now())
                self._written(outcome, line, f"the Fortnox stock was set to {quantity_text(target)}")
        if pending:
            self._stock_taking(tenant_id, settings, pending, by_variant, candidates, outcome)

    def _stock_taking(
        self,
        tenant_id: str,
        settings: CatalogSettings,
        pending: Mapping[str, Decimal],
        by_variant: Mapping[str, ProductLine],
        candidates: list[ProductLine],
        outcome: Outcome,
    ) -> None:
        lines = [line for line in candidates if line.fortnox_article_number in pending]
        try:
            self._fortnox.stock_taking(tenant_id, pending, settings.stock.fortnox_stock_point)
        except (UpstreamRejected, UpstreamUnavailable, NotFound) as failure:
            for line in lines:
                self._fail(outcome, line, line_error(failure, self._clock.now()))
            return
        for line in lines:
            target = pending[line.fortnox_article_number or ""]
            line.fortnox_stock = target
            line.mark_stock_synced(target, self._clock.now())
            self._written(
                outcome, line, f"the Fortnox stock was set to {quantity_text(target)} through a stock-taking document"
            )
