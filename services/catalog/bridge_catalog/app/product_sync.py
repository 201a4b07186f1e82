"""Product sync in both modes, its dry run (preview), and exporting one line now (product.md §3).

One planner serves the three: it walks the source side (everything on the first run, what changed since the
watermark after that), decides per line what to do and why, and, unless it is a dry run, writes only the
values that differ from what Bridge last wrote or found equal (the echo guard: Bridge's own writes come
back as "changed" through lastmodified/updatedAt but equal the line's synced values, so they write nothing).
A failed line records its error and never stops the others; the watermark advances only after a run in
which no line failed. Nothing is ever deleted on the other side: a relation that stops holding is orphaned.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from bridge_catalog.app.ports import (
    CatalogUnitOfWork,
    Clock,
    FortnoxArticle,
    FortnoxCatalog,
    IkasCatalog,
    IkasVariant,
    NewArticle,
    RunProgress,
    RunReport,
    UnitOfWorkFactory,
    VariantUpdate,
)
from bridge_catalog.app.product_lines import LAST_PRODUCT_SYNC
from bridge_catalog.domain.lines import (
    CREATED,
    EXPORT_NOW,
    FAILED,
    IGNORED,
    LINKED,
    ORPHANED,
    PRODUCT_SYNC,
    UNCHANGED,
    UPDATED,
    WAS_ORPHANED,
    LineError,
    ProductLine,
    SyncedValues,
    error_detail,
)
from bridge_catalog.domain.matching import article_number_problem, clean_sku
from bridge_catalog.domain.pricing import StoreTax
from bridge_catalog.domain.settings import FORTNOX_TO_IKAS, CatalogSettings
from bridge_catalog.domain.units import fortnox_unit
from bridge_platform.errors import (
    Conflict,
    DomainError,
    NotFound,
    OutcomeUnknown,
    UpstreamError,
    UpstreamRejected,
    UpstreamUnavailable,
)

FORTNOX_WATERMARK: Final = "fortnox_articles"
IKAS_WATERMARK: Final = "ikas_products"
FORTNOX_RECONCILED: Final = "fortnox_reconciled"
RECONCILE_EVERY: Final = timedelta(days=1)
# The next watermark is the run's start minus this overlap: a change made while the walk ran is read again
# (and found equal, so it writes nothing) rather than missed; Fortnox's lastmodified has minute precision.
OVERLAP: Final = timedelta(minutes=2)
MAX_DESCRIPTION: Final = 200
# Beyond this many article lookups in one run, reading the whole article list (500 a page) is cheaper: one list
# read costs ceil(articles / 500) + 1 calls, fewer than 50 lookups for any company below 24 000 articles.
LIST_INSTEAD_OF_LOOKUPS: Final = 50


def line_error(error: UpstreamError | NotFound, at: datetime) -> LineError:
    """The error object of product.md §8 from an upstream's answer."""
    if isinstance(error, UpstreamError):
        return LineError(error.message, error.upstream_code, error.extra.get("hint"), at)
    return LineError(error.message, None, None, at)


def error_entry(entity: str, error: LineError) -> dict[str, Any]:
    return {
        "entity": entity,
        "message": error.message,
        "upstream_code": error.upstream_code,
        "hint": error.hint,
        "at": error.at.isoformat(),
    }


def article_description(variant: IkasVariant) -> str:
    """Product name plus variant values, cut to Fortnox's 200 characters."""
    text = f"{variant.product_name} {variant.variant_name}".strip() if variant.variant_name else variant.product_name
    return text.strip()[:MAX_DESCRIPTION]


def duplicate_sku(sku: str, count: int) -> str:
    return f"the SKU {sku} is used by {count} ikas variants; none of them is linked"


def _price_owed(line: ProductLine, values: SyncedValues) -> bool:
    """Bridge created the article (its name is recorded) but its base price row was never written."""
    return line.synced_name is not None and line.synced_price is None and values.price is not None


def _never_synced(line: ProductLine) -> bool:
    """Related by matching, but no product values written or compared yet (stock may have been)."""
    synced = line.synced
    return (synced.name, synced.price, synced.ean) == (None, None, None)


def same_values(line: ProductLine, values: SyncedValues) -> bool:
    """The echo guard: the source still holds what Bridge last wrote or found equal."""
    synced = line.synced
    return (synced.name, synced.price, synced.ean) == (values.name, values.price, values.ean)


@dataclass
class Outcome:
    """What one run decided and did: counts, per-line errors, the planned actions of a preview. `step` names the
    run or action on the timelines of the lines it fails."""

    dry: bool
    step: str = PRODUCT_SYNC
    counts: dict[str, int] = field(default_factory=lambda: {"created": 0, "updated": 0, "unchanged": 0, "failed": 0})
    errors: list[dict[str, Any]] = field(default_factory=list)
    planned: list[dict[str, str]] = field(default_factory=list)
    without_sku: int = 0

    def plan(self, action: str, entity: str, reason: str) -> None:
        if self.dry:
            self.planned.append({"action": action, "entity": entity, "reason": reason})

    def count(self, name: str) -> None:
        self.counts[name] += 1

    def fail(self, entity: str, error: LineError, line: ProductLine | None) -> None:
        self.counts["failed"] += 1
        self.errors.append(error_entry(entity, error))
        if line is not None and not self.dry:
            line.fail(error)
            line.log(error.at, self.step, FAILED, error_detail(error))

    def report(self) -> RunReport:
        state = "succeeded" if not self.counts["failed"] else "partially_failed"
        result: dict[str, Any] = {"without_sku": self.without_sku}
        if self.dry:
            result["planned"] = self.planned
        return RunReport(state=state, counts=dict(self.counts), errors=self.errors, result=result)


class _Session:
    """One run of one tenant: the lines (in the caller's unit of work), settings, and lazy store facts."""

    def __init__(
        self, tenant_id: str, uow: CatalogUnitOfWork, ikas: IkasCatalog, outcome: Outcome, clock: Clock
    ) -> None:
        self.tenant_id, self.uow, self.outcome, self.clock = tenant_id, uow, outcome, clock
        self.now = clock.now()
        stored = uow.settings.get()
        self.settings = stored.settings if stored else CatalogSettings()
        self.lines = uow.lines.all()
        self.by_key = {(line.ikas_product_id, line.ikas_variant_id): line for line in self.lines}
        self.by_number = {line.fortnox_article_number: line for line in self.lines if line.fortnox_article_number}
        self._ikas = ikas
        self._tax: StoreTax | None = None
        self.duplicate_skus: dict[str, int] = {}  # SKU -> how many live ikas variants carry it
        # Every article of the company (inactive ones marked), when this run read the whole list: it then
        # answers the lookups before a create or a first sync and the id reconciliation, call-free.
        self.articles: dict[str, FortnoxArticle] | None = None
        self.units: dict[str, bool] = {}  # Fortnox unit code -> whether the company has it (asked once a run)

    def checkpoint(self, progress: RunProgress, done: int, total: int) -> None:
        """Commits the lines so far (ending the transaction, so the ledger can record progress), then
        reports progress. The watermark is only set at the end of a run without failures."""
        self.uow.commit()
        progress.progress(done, total)

    @property
    def tax(self) -> StoreTax:
        if self._tax is None:
            self._tax = self._ikas.store_tax(self.tenant_id)
        return self._tax

    def line_for(self, variant: IkasVariant) -> ProductLine:
        key = (variant.product_id, variant.variant_id)
        line = self.by_key.get(key)
        if line is None:
            line = ProductLine(self.tenant_id, variant.product_id, variant.variant_id, variant.product_name)
            if not self.outcome.dry:
                self.uow.lines.add(line)
            self.by_key[key] = line
            self.lines.append(line)
        line.name, line.variant_name, line.sku = variant.product_name, variant.variant_name, variant.sku
        return line

    def link(self, line: ProductLine, number: str) -> None:
        if self.outcome.dry:
            return
        holder = self.by_number.get(number)
        if holder is not None and holder is not line:
            holder.fortnox_article_number = None  # an orphaned line keeps no claim on the article
            self.uow.lines.flush()
        line.link(number)
        self.by_number[number] = line

    def orphan(self, line: ProductLine, why: str) -> None:
        self.outcome.plan("skip", _entity(line), f"the relation would be orphaned: {why}")
        if not self.outcome.dry:
            line.orphan(why)
            line.log(self.clock.now(), self.outcome.step, WAS_ORPHANED, why)
            self.by_number.pop(line.fortnox_article_number or "", None)

    def log(self, line: ProductLine, outcome: str, detail: str) -> None:
        """An attempt on the line's timeline, under the run's or action's step (never in a dry run)."""
        if not self.outcome.dry:
            line.log(self.clock.now(), self.outcome.step, outcome, detail)


_FIELD_WORDS: Final = {"Description": "description", "EAN": "barcode"}


def _entity(line: ProductLine) -> str:
    return line.fortnox_article_number or clean_sku(line.sku) or f"{line.name} {line.variant_name}".strip()


class SyncProducts:
    """The `products` run, the `preview` run (same planning, nothing written) and ExportProductLine."""

    def __init__(self, uow_for: UnitOfWorkFactory, ikas: IkasCatalog, fortnox: FortnoxCatalog, clock: Clock) -> None:
        self._uow_for, self._ikas, self._fortnox, self._clock = uow_for, ikas, fortnox, clock

    def __call__(self, tenant_id: str, progress: RunProgress) -> RunReport:
        return self._run(tenant_id, progress, dry=False)

    def preview(self, tenant_id: str, progress: RunProgress) -> RunReport:
        return self._run(tenant_id, progress, dry=True)

    # -- a run ----------------------------------------------------------------------------------------------

    def _run(self, tenant_id: str, progress: RunProgress, *, dry: bool) -> RunReport:
        outcome = Outcome(dry)
        with self._uow_for(tenant_id) as uow:
            session = _Session(tenant_id, uow, self._ikas, outcome, self._clock)
            started = session.now
            fortnox_to_ikas = session.settings.products.sync_mode == FORTNOX_TO_IKAS
            watermark_name = FORTNOX_WATERMARK if fortnox_to_ikas else IKAS_WATERMARK
            watermark = uow.marks.get(watermark_name)
            try:
                if fortnox_to_ikas:
                    self._fortnox_to_ikas(session, watermark, progress)
                else:
                    self._ikas_to_fortnox(session, watermark, progress)
                self._reconcile_articles(session, full=watermark is None)
            except DomainError:
                # A paused connection (or an upstream that is down) ends the run: what was written stays
                # recorded on its lines, the watermark stays where it was, and the next run goes on from there.
                if not dry:
                    uow.commit()
                raise
            if not dry:
                if not outcome.counts["failed"]:
                    uow.marks.set(watermark_name, started - OVERLAP)
                uow.marks.set(LAST_PRODUCT_SYNC, self._clock.now())
                uow.commit()
        return outcome.report()

    def _fortnox_to_ikas(self, session: _Session, watermark: datetime | None, progress: RunProgress) -> None:
        tenant_id = session.tenant_id
        if watermark is None:
            articles = list(self._fortnox.articles(tenant_id))
            session.articles = {article.number: article for article in articles}
        else:
            articles = list(self._fortnox.articles_changed_since(tenant_id, watermark))
        session.checkpoint(progress, 0, len(articles))
        for done, article in enumerate(articles, start=1):
            self._guarded(session, article.number, session.by_number.get(article.number), self._article, article)
            if done % 50 == 0:
                session.checkpoint(progress, done, len(articles))
        session.checkpoint(progress, len(articles), len(articles))

    def _guarded(
        self,
        session: _Session,
        entity: str,
        line: ProductLine | None,
        step: Callable[[_Session, Any], None],
        item: Any,
    ) -> None:
        """One line's work; its failure is recorded on the line and the run goes on."""
        try:
            step(session, item)
        except (UpstreamRejected, UpstreamUnavailable, NotFound) as error:
            session.outcome.fail(entity, line_error(error, self._clock.now()), line)

    def _article(self, session: _Session, article: FortnoxArticle) -> None:
        outcome, settings = session.outcome, session.settings.products
        line = session.by_number.get(article.number)
        if line is not None and not line.is_related:
            line = None
        if not article.active:
            if line is not None:
                session.orphan(
                    line, f"the Fortnox article {article.number} was made inactive; nothing was deleted in ikas"
                )
            outcome.plan("skip", article.number, "the Fortnox article is inactive")
            outcome.count("unchanged")
            return
        values = SyncedValues(article.description, article.base_price, article.ean)
        if line is None:
            self._new_article(session, article, values)
            return
        if same_values(line, values):
            outcome.plan("skip", article.number, "no change since the last sync")
            outcome.count("unchanged")
            return
        if not settings.update_existing:
            outcome.plan("skip", article.number, "changed, but update_existing is off")
            outcome.count("unchanged")
            return
        self._update_ikas(session, line, article, values)

    def _ikas_price(self, session: _Session, article: FortnoxArticle) -> Decimal:
        rate = article.vat if article.vat is not None else session.tax.country_rate
        return session.tax.to_ikas(article.base_price or Decimal(0), rate)

    def _update_ikas(self, session: _Session, line: ProductLine, article: FortnoxArticle, values: SyncedValues) -> None:
        outcome = session.outcome
        if outcome.dry:
            outcome.plan("update", article.number, "the name, price or barcode changed in Fortnox")
            outcome.count("updated")
            return
        update = VariantUpdate(
            line.ikas_product_id,
            line.ikas_variant_id,
            name=article.description if not line.variant_name and article.description else None,
            sell_price=self._ikas_price(session, article),
            barcodes=(article.ean,) if article.ean else None,
        )
        try:
            changed = self._ikas.update_variant(session.tenant_id, update)
        except NotFound:
            session.orphan(line, "the ikas product or variant was deleted; nothing was deleted in Fortnox")
            return
        line.mark_synced(values, self._clock.now())
        if changed:
            session.log(line, UPDATED, f"the ikas product was updated from the Fortnox article {article.number}")
        outcome.count("updated" if changed else "unchanged")

    def _new_article(self, session: _Session, article: FortnoxArticle, values: SyncedValues) -> None:
        outcome, settings, tenant_id = session.outcome, session.settings.products, session.tenant_id
        ignored = next((x for x in session.lines if x.status == IGNORED and clean_sku(x.sku) == article.number), None)
        if ignored is not None:
            outcome.plan("skip", article.number, "the matching ikas variant was unlinked by hand")
            outcome.count("unchanged")
            return
        if not settings.create_new:
            outcome.plan("skip", article.number, "no related ikas variant, and create_new is off")
            outcome.count("unchanged")
            return
        # Never a duplicate: the SKU is looked up before creating (an unlinked ikas variant is linked instead),
        # and a SKU that several ikas variants share links none of them (product.md §3).
        same_sku = self._ikas.variants_by_sku(tenant_id, article.number)
        if len(same_sku) > 1:
            why = duplicate_sku(article.number, len(same_sku))
            outcome.plan("skip", article.number, why)
            outcome.count("unchanged")
            if not outcome.dry:
                for variant in same_sku:
                    session.line_for(variant).mark_unmatched(why)
            return
        found = same_sku[0] if same_sku else None
        if outcome.dry:  # the preview reads like the run, so it plans what the run would do
            if found is None:
                outcome.plan("create", article.number, "a new active Fortnox article without an ikas product")
                outcome.count("created")
            else:
                outcome.plan("update", article.number, "relates the ikas variant with this SKU")
                outcome.count("updated")
            return
        if found is None:
            name = article.description or article.number
            try:
                found = self._ikas.create_product(
                    tenant_id, name, article.number, self._ikas_price(session, article), article.ean
                )
            except OutcomeUnknown:
                found = next(iter(self._ikas.variants_by_sku(tenant_id, article.number)), None)
                if found is None:
                    raise
            line = session.line_for(found)
            session.link(line, article.number)
            line.mark_synced(values, self._clock.now())
            session.log(line, CREATED, f"a new ikas product was created from the Fortnox article {article.number}")
            outcome.count("created")
            return
        line = session.line_for(found)
        if line.status == IGNORED:
            outcome.count("unchanged")
            return
        session.link(line, article.number)
        session.log(line, LINKED, f"related to the Fortnox article {article.number}, whose number equals the SKU")
        if settings.update_existing:
            self._update_ikas(session, line, article, values)
        else:
            outcome.count("unchanged")

    # -- ikas -> Fortnox ------------------------------------------------------------------------------------

    def _ikas_to_fortnox(self, session: _Session, watermark: datetime | None, progress: RunProgress) -> None:
        tenant_id = session.tenant_id
        if watermark is None:
            variants = list(self._ikas.variants(tenant_id))
            self._orphan_unseen(session, variants, None)
        else:
            variants = list(self._ikas.variants_changed_since(tenant_id, watermark))
            # saveProduct is a full replace: a variant left out of it is gone without a `deleted` flag.
            self._orphan_unseen(session, variants, {v.product_id for v in variants})
        # The "fortnox" tag matters only to variants to look at: a run with none (an idle tenant) spends no read.
        tags: set[str] | None = self._ikas.fortnox_tag_ids(tenant_id) if variants else set()
        session.duplicate_skus = self._count_skus(session, variants, full=watermark is None)
        if watermark is None or self._lookups_needed(session, variants) > LIST_INSTEAD_OF_LOOKUPS:
            session.articles = {article.number: article for article in self._fortnox.articles(tenant_id)}
        session.checkpoint(progress, 0, len(variants))
        for done, variant in enumerate(variants, start=1):
            # The line exists before the work, so a failure (even of a create) is recorded on it.
            line = session.by_key.get((variant.product_id, variant.variant_id))
            if line is None and not variant.deleted:
                line = session.line_for(variant)
            entity = clean_sku(variant.sku) or variant.variant_id
            self._guarded(session, entity, line, partial_variant(self._variant, tags), variant)
            if done % 50 == 0:
                session.checkpoint(progress, done, len(variants))
        session.checkpoint(progress, len(variants), len(variants))

    @staticmethod
    def _lookups_needed(session: _Session, variants: Iterable[IkasVariant]) -> int:
        """How many of these variants would look their article up: those without a relation (before a
        create) and related ones never synced since matching (their first sync compares with Fortnox)."""
        count = 0
        for variant in variants:
            line = session.by_key.get((variant.product_id, variant.variant_id))
            if variant.deleted or clean_sku(variant.sku) is None:
                continue
            if line is None or not line.is_related or _never_synced(line):
                count += 1
        return count

    def _article_of(self, session: _Session, number: str) -> FortnoxArticle | None:
        """The company's article with this number: from the run's list read when there is one, else looked up."""
        if session.articles is not None:
            return session.articles.get(number)
        return self._fortnox.article(session.tenant_id, number)

    def _has_unit(self, session: _Session, code: str) -> bool:
        if code not in session.units:
            session.units[code] = self._fortnox.unit_exists(session.tenant_id, code)
        return session.units[code]

    def _orphan_unseen(self, session: _Session, variants: Iterable[IkasVariant], products: set[str] | None) -> None:
        """Orphans related lines whose variant is gone: any unseen one after a full read, or an unseen variant
        of a product that was read (`products`) after an incremental one."""
        seen = {(v.product_id, v.variant_id) for v in variants if not v.deleted}
        for key, line in session.by_key.items():
            if key in seen or not line.is_related or (products is not None and key[0] not in products):
                continue
            session.orphan(line, "the ikas product or variant was deleted; nothing was deleted in Fortnox")

    @staticmethod
    def _count_skus(session: _Session, variants: list[IkasVariant], *, full: bool) -> dict[str, int]:
        """How many live ikas variants carry each SKU: those read now, and after an incremental read also the
        known lines of products not read now (their SKUs did not change)."""
        counts = Counter(sku for v in variants if not v.deleted and (sku := clean_sku(v.sku)) is not None)
        if not full:
            read = {v.product_id for v in variants}
            for line in session.lines:
                sku = clean_sku(line.sku)
                if sku is not None and line.ikas_product_id not in read and line.status != ORPHANED:
                    counts[sku] += 1
        return {sku: count for sku, count in counts.items() if count > 1}

    def _variant(self, session: _Session, variant: IkasVariant, tags: set[str] | None) -> None:
        """One ikas variant in ikas_to_fortnox; `tags` None: exported by hand, the fortnox tag not required."""
        outcome, settings = session.outcome, session.settings.products
        key = (variant.product_id, variant.variant_id)
        if variant.deleted:
            line = session.by_key.get(key)
            if line is not None and line.is_related:
                session.orphan(line, "the ikas product or variant was deleted; nothing was deleted in Fortnox")
            return
        line = session.line_for(variant)
        sku = clean_sku(variant.sku)
        if line.is_related and line.fortnox_article_number != sku:
            shown = sku or "nothing"
            session.orphan(
                line,
                f"the ikas SKU changed from {line.fortnox_article_number} to {shown}; link the line again to relate it",
            )
            return
        if tags is not None and not tags.intersection(variant.tag_ids):
            if line.is_related:
                session.orphan(
                    line, "the fortnox tag was removed from the ikas product; nothing was deleted in Fortnox"
                )
            else:
                outcome.plan("skip", sku or variant.variant_id, "the ikas product is not tagged fortnox")
            return
        if line.status == IGNORED:
            outcome.plan("skip", sku or variant.variant_id, "the line was unlinked by hand")
            outcome.count("unchanged")
            return
        if sku is None:
            outcome.without_sku += 1
            outcome.plan("skip", variant.variant_id, "the ikas variant has no SKU; no article is created")
            if not outcome.dry:
                line.mark_unmatched("the ikas variant has no SKU")
            return
        problem = article_number_problem(sku)
        if problem is not None:
            outcome.plan("skip", sku, problem)
            if not outcome.dry:
                line.mark_unmatched(problem)
            return
        if sku in session.duplicate_skus:
            why = duplicate_sku(sku, session.duplicate_skus[sku])
            outcome.plan("skip", sku, why)
            if not outcome.dry:
                if line.is_related:
                    session.orphan(line, f"{why}; nothing was deleted in Fortnox")
                else:
                    line.mark_unmatched(why)
            return
        holder = session.by_number.get(sku)
        if holder is not None and holder is not line and holder.is_related:
            why = f"the SKU {sku} is already related to another ikas variant"
            outcome.plan("skip", sku, why)
            if not outcome.dry:
                line.mark_unmatched(why)
            return
        price = None
        if variant.sell_price is not None:
            price = session.tax.to_fortnox(variant.sell_price, session.tax.rate_for(variant.tag_ids))
        ean = variant.barcodes[0] if variant.barcodes else None
        values = SyncedValues(article_description(variant), price, ean)
        if line.is_related:
            if same_values(line, values):
                outcome.plan("skip", sku, "no change since the last sync")
                outcome.count("unchanged")
            elif not settings.update_existing and not _price_owed(line, values):
                outcome.plan("skip", sku, "changed, but update_existing is off")
                outcome.count("unchanged")
            else:
                self._update_article(session, line, sku, values)
            return
        self._create_article(session, line, variant, sku, values)

    def _update_article(self, session: _Session, line: ProductLine, number: str, values: SyncedValues) -> None:
        outcome, tenant_id = session.outcome, session.tenant_id
        baseline = line.synced
        if _never_synced(line):
            # The first sync since matching related the line without writing: what Fortnox holds now is the
            # baseline, so values that are already equal are not written again (§3: only real changes).
            current = self._article_of(session, number)
            if current is None:
                session.orphan(line, f"the Fortnox article {number} was deleted; nothing was deleted in ikas")
                return
            baseline = SyncedValues(current.description, current.base_price, current.ean)
        fields: dict[str, Any] = {}
        if values.name != baseline.name and values.name:
            fields["Description"] = values.name
        if values.ean != baseline.ean and values.ean:
            fields["EAN"] = values.ean
        price_changed = values.price is not None and values.price != baseline.price
        if not fields and not price_changed:
            outcome.plan("skip", number, "Fortnox already holds these values")
            if not outcome.dry:
                line.mark_synced(values, self._clock.now())
            outcome.count("unchanged")
            return
        if outcome.dry:
            outcome.plan("update", number, "the name, price or barcode changed in ikas")
            outcome.count("updated")
            return
        try:
            if fields:
                self._fortnox.update_article(tenant_id, number, fields)
            if price_changed and values.price is not None:
                self._fortnox.set_base_price(tenant_id, number, values.price)
        except NotFound:
            session.orphan(line, f"the Fortnox article {number} was deleted; nothing was deleted in ikas")
            return
        line.mark_synced(values, self._clock.now())
        written = [_FIELD_WORDS[name] for name in fields] + (["base price"] if price_changed else [])
        session.log(line, UPDATED, f"the Fortnox article {number} was updated: {', '.join(written)}")
        outcome.count("updated")

    def _create_article(
        self, session: _Session, line: ProductLine, variant: IkasVariant, number: str, values: SyncedValues
    ) -> None:
        outcome, tenant_id = session.outcome, session.tenant_id
        existing = self._article_of(session, number)
        if existing is not None:
            self._relate_existing(session, line, number, existing, values)
            return
        if not session.settings.products.create_new:
            outcome.plan("skip", number, "no Fortnox article with this number, and create_new is off")
            outcome.count("unchanged")
            return
        if outcome.dry:
            outcome.plan("create", number, "a tagged ikas variant without a Fortnox article")
            outcome.count("created")
            return
        unit = fortnox_unit(variant.unit_type)
        if unit is not None and not self._has_unit(session, unit):
            unit = None
        new = NewArticle(number, values.name or number, values.ean, unit, variant.is_physical)
        try:
            self._fortnox.create_article(tenant_id, new)
        except OutcomeUnknown:
            if self._fortnox.article(tenant_id, number) is None:
                raise
        except UpstreamRejected:
            # Refused: perhaps someone made the article since the run's list read. Then relate it, as above.
            made_meanwhile = self._fortnox.article(tenant_id, number)
            if made_meanwhile is None:
                raise
            if session.articles is not None:  # the id reconciliation at the end of the run knows it, too
                session.articles[number] = made_meanwhile
            self._relate_existing(session, line, number, made_meanwhile, values)
            return
        # The article exists from here on: the line is related and records what is written so far, so a failed
        # price row shows as this line's error and the next run writes it (see _price_owed), never a second article.
        session.link(line, number)
        line.mark_synced(SyncedValues(values.name, None, values.ean), self._clock.now())
        session.log(line, CREATED, f"the Fortnox article {number} was created from the ikas variant")
        if session.articles is not None:  # the id reconciliation at the end of the run knows it, too
            session.articles[number] = FortnoxArticle(number, values.name, True, values.ean, None, None, None)
        if values.price is not None:
            self._fortnox.set_base_price(tenant_id, number, values.price)
        line.mark_synced(values, self._clock.now())
        outcome.count("created")

    def _relate_existing(
        self, session: _Session, line: ProductLine, number: str, existing: FortnoxArticle, values: SyncedValues
    ) -> None:
        """Already in Fortnox (made by hand, or by an earlier run whose answer was lost): relate, never duplicate."""
        outcome = session.outcome
        if not existing.active:
            outcome.plan("skip", number, "a Fortnox article with this number exists but is inactive")
            if not outcome.dry:
                line.mark_unmatched(f"the Fortnox article {number} is inactive")
            return
        outcome.plan("update", number, "relates the existing Fortnox article with this number")
        session.link(line, number)
        if outcome.dry:
            outcome.count("updated")
            return
        session.log(line, LINKED, f"related to the existing Fortnox article {number}, whose number equals the SKU")
        mine = SyncedValues(existing.description, existing.base_price, existing.ean)
        line.mark_synced(mine, self._clock.now())
        if session.settings.products.update_existing and not same_values(line, values):
            self._update_article(session, line, number, values)
        else:
            outcome.count("unchanged")

    # -- lifecycle ------------------------------------------------------------------------------------------

    def _reconcile_articles(self, session: _Session, *, full: bool) -> None:
        """Deletions are invisible to lastmodified: on a full run, and once a day, every related line's
        article number is checked against the company's active articles."""
        uow = session.uow
        last = uow.marks.get(FORTNOX_RECONCILED)
        related = [line for line in session.lines if line.is_related]
        if not related or (not full and last is not None and session.now - last < RECONCILE_EVERY):
            return
        listed = (
            session.articles.values() if session.articles is not None else self._fortnox.articles(session.tenant_id)
        )
        active = {a.number for a in listed if a.active}
        for line in related:
            if line.fortnox_article_number not in active and line.is_related:
                session.orphan(
                    line,
                    f"the Fortnox article {line.fortnox_article_number} was deleted or made inactive; "
                    "nothing was deleted in ikas",
                )
        if not session.outcome.dry:
            uow.marks.set(FORTNOX_RECONCILED, session.now)

    # -- one line now ---------------------------------------------------------------------------------------

    def export(self, tenant_id: str, line_id: str) -> ProductLine:
        """Creates or updates the line's target side now, whatever create_new/update_existing say."""
        with self._uow_for(tenant_id) as uow:
            if uow.lines.get(line_id) is None:
                raise NotFound("no such product line")
            outcome = Outcome(dry=False, step=EXPORT_NOW)
            session = _Session(tenant_id, uow, self._ikas, outcome, self._clock)
            products = session.settings.products
            session.settings = CatalogSettings(
                type(products)(products.sync_mode, products.sync_automatically, True, True), session.settings.stock
            )
            line = next(x for x in session.lines if x.id == line_id)
            if line.status == IGNORED:
                raise Conflict("the line was unlinked by hand; link it again before exporting it")
            line.synced_name = line.synced_ean = None
            line.synced_price = None  # export writes what differs now, whatever was synced before
            newest = line.timeline[-1] if line.timeline else None
            if session.settings.products.sync_mode == FORTNOX_TO_IKAS:
                number = line.fortnox_article_number or clean_sku(line.sku)
                article = self._fortnox.article(tenant_id, number) if number else None
                if article is None:
                    raise Conflict("the line has no Fortnox article to export: its SKU equals no article number")
                self._guarded(session, article.number, line, self._article, article)
            else:
                variant = next(
                    (
                        v
                        for v in self._ikas.variants_of_product(tenant_id, line.ikas_product_id)
                        if v.variant_id == line.ikas_variant_id
                    ),
                    None,
                )
                if variant is None:
                    session.orphan(line, "the ikas product or variant was deleted; nothing was deleted in Fortnox")
                else:
                    sku = clean_sku(variant.sku)
                    same_sku = len(self._ikas.variants_by_sku(tenant_id, sku)) if sku else 0
                    session.duplicate_skus = {sku: same_sku} if sku and same_sku > 1 else {}
                    entity = sku or variant.variant_id
                    self._guarded(session, entity, line, partial_variant(self._variant, None), variant)
            if not outcome.errors and (line.timeline[-1] if line.timeline else None) is newest:
                # Asked for by hand, so it shows even when both sides already agreed (a run would add nothing).
                session.log(line, UNCHANGED, "both sides already hold the same name, price and barcode")
            uow.commit()
        if outcome.errors:
            raise Conflict(f"the export failed: {outcome.errors[0]['message']}")
        return line


def partial_variant(
    step: Callable[[_Session, IkasVariant, set[str] | None], None], tags: set[str] | None
) -> Callable[[_Session, Any], None]:
    def run(session: _Session, variant: Any) -> None:
        step(session, variant, tags)

    return run
