"""Product lines (product.md §3): one ikas variant and its relation to one Fortnox article.

A line is created for every ikas variant Bridge has seen (a product without variants has one). Its
status says where the relation stands; `error` explains a failed write and `explanation` an orphaned or
unmatched line, in plain English. The `synced_*` values are what Bridge last wrote or found equal on
both sides: the echo guard (Bridge's own writes never flow back as changes) and no-change detection
compare against them. `timeline` keeps the newest attempts on the line (product.md §7: a per-entity
timeline): what was linked, written, refused or orphaned, and why; a run that changes nothing adds nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Final

SYNCED: Final = "synced"
ERROR: Final = "error"
PENDING: Final = "pending"
UNMATCHED: Final = "unmatched"
IGNORED: Final = "ignored"
ORPHANED: Final = "orphaned"
STATUSES: Final = (SYNCED, ERROR, PENDING, UNMATCHED, IGNORED, ORPHANED)
RELATED_STATUSES: Final = (SYNCED, ERROR, PENDING)  # a line in one of these with an article number is related

MAX_TIMELINE: Final = 100  # the oldest attempts are dropped beyond this; the line stays small

# Steps of the timeline: the run or action that acted on the line.
MATCH: Final = "match"
RELINK: Final = "relink"
UNLINK: Final = "unlink"
RESET: Final = "reset"
PRODUCT_SYNC: Final = "product_sync"
STOCK_SYNC: Final = "stock_sync"
EXPORT_NOW: Final = "export_now"
SYNC_STOCK_NOW: Final = "sync_stock_now"
RUN_STEPS: Final = (MATCH, PRODUCT_SYNC, STOCK_SYNC)  # runs the schedule or a button repeats

# Outcomes of the timeline.
LINKED: Final = "linked"
UNLINKED: Final = "unlinked"
WAS_RESET: Final = "reset"
CREATED: Final = "created"
UPDATED: Final = "updated"
UNCHANGED: Final = "unchanged"  # only for an action asked for by hand (export now, sync stock now)
FAILED: Final = "failed"
WAS_ORPHANED: Final = "orphaned"
STOCK_WRITTEN: Final = "stock_written"


@dataclass(frozen=True)
class LineError:
    """The error object of product.md §8: plain English, the upstream's code, what to do about it."""

    message: str
    upstream_code: str | None
    hint: str | None
    at: datetime


def error_detail(error: LineError) -> str:
    """A failure as the timeline tells it: the message, the upstream's code, and the hint."""
    code = f" (code {error.upstream_code})" if error.upstream_code else ""
    told = error.message.rstrip(". ") + code
    return f"{told}. {error.hint}" if error.hint else told


@dataclass(frozen=True)
class Attempt:
    """One entry of a line's timeline: the step (run or action) that acted on the line and what came of it."""

    at: datetime
    step: str
    outcome: str
    detail: str = ""


def quantity_text(value: Decimal) -> str:
    """A stock quantity as the merchant reads it: "12", "0.5" (never "12.000" or "1.2E+1")."""
    return format(value.normalize(), "f")


@dataclass(frozen=True)
class SyncedValues:
    """The mapped values both sides agreed on after Bridge's last write or check of a line."""

    name: str | None = None
    price: Decimal | None = None  # the Fortnox base price (net), exact
    ean: str | None = None
    stock: Decimal | None = None


@dataclass
class ProductLine:
    """One ikas variant; `fortnox_article_number` is set while the line is related."""

    tenant_id: str
    ikas_product_id: str
    ikas_variant_id: str
    name: str
    variant_name: str = ""
    sku: str | None = None
    fortnox_article_number: str | None = None
    status: str = UNMATCHED
    explanation: str = ""
    error_message: str | None = None
    error_upstream_code: str | None = None
    error_hint: str | None = None
    error_at: datetime | None = None
    ikas_stock: Decimal | None = None
    fortnox_stock: Decimal | None = None
    last_synced_at: datetime | None = None
    synced_name: str | None = None
    synced_price: Decimal | None = None
    synced_ean: str | None = None
    synced_stock: Decimal | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    timeline: tuple[Attempt, ...] = ()

    # -- reading ------------------------------------------------------------------------------------

    @property
    def is_related(self) -> bool:
        return self.fortnox_article_number is not None and self.status in RELATED_STATUSES

    @property
    def error(self) -> LineError | None:
        if self.error_message is None or self.error_at is None:
            return None
        return LineError(self.error_message, self.error_upstream_code, self.error_hint, self.error_at)

    @property
    def synced(self) -> SyncedValues:
        return SyncedValues(self.synced_name, self.synced_price, self.synced_ean, self.synced_stock)

    # -- changes ------------------------------------------------------------------------------------

    def link(self, article_number: str) -> None:
        """Relates the line to an article (matching or relink); the first sync writes what differs."""
        self.fortnox_article_number = article_number
        self.status = PENDING
        self.explanation = ""
        self._clear_error()

    def unlink(self) -> None:
        """Marks the line ignored: it keeps no relation and is never matched again automatically."""
        self.fortnox_article_number = None
        self.status = IGNORED
        self.explanation = "unlinked by hand; link it again to sync it"
        self._clear_error()
        self._forget_synced()

    def reset(self) -> None:
        """Forgets the relation (reset all, sync mode change); the next match may link it again."""
        self.fortnox_article_number = None
        self.status = UNMATCHED
        self.explanation = ""
        self._clear_error()
        self._forget_synced()

    def mark_unmatched(self, explanation: str) -> None:
        if self.status == IGNORED:
            return
        self.fortnox_article_number = None
        self.status = UNMATCHED
        self.explanation = explanation

    def orphan(self, explanation: str) -> None:
        """The other side went away or stopped qualifying; nothing is deleted anywhere."""
        self.status = ORPHANED
        self.explanation = explanation
        self._clear_error()

    def mark_synced(self, values: SyncedValues, at: datetime) -> None:
        self.status = SYNCED
        self.explanation = ""
        self.last_synced_at = at
        self.synced_name, self.synced_price, self.synced_ean = values.name, values.price, values.ean
        if values.stock is not None:
            self.synced_stock = values.stock
        self._clear_error()

    def mark_stock_synced(self, stock: Decimal, at: datetime) -> None:
        self.synced_stock = stock
        self.last_synced_at = at
        if self.status in (ERROR, PENDING):
            self.status = SYNCED
            self._clear_error()

    def fail(self, error: LineError) -> None:
        """One line's failed write: shown on the line, never stops the others."""
        if self.is_related:
            self.status = ERROR
        self.error_message, self.error_upstream_code = error.message, error.upstream_code
        self.error_hint, self.error_at = error.hint, error.at

    def log(self, at: datetime, step: str, outcome: str, detail: str = "") -> None:
        """Adds an attempt to the timeline, keeping the newest MAX_TIMELINE. A run's failure that repeats the
        newest entry word for word is not added again: a line that fails the same way every scheduled run shows
        it once. An action asked for by hand is always added, so the merchant sees each try."""
        attempt = Attempt(at, step, outcome, detail)
        newest = self.timeline[-1] if self.timeline else None
        repeated = newest is not None and (newest.step, newest.outcome, newest.detail) == (step, outcome, detail)
        if outcome == FAILED and step in RUN_STEPS and repeated:
            return
        # Reassigned, never mutated in place, so the mapper sees the change.
        self.timeline = (*self.timeline, attempt)[-MAX_TIMELINE:]

    def _clear_error(self) -> None:
        self.error_message = self.error_upstream_code = self.error_hint = None
        self.error_at = None

    def _forget_synced(self) -> None:
        self.synced_name = self.synced_ean = None
        self.synced_price = self.synced_stock = None
