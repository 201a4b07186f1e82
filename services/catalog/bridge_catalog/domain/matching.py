"""Matching ikas variants to Fortnox articles by SKU (product.md §3).

A variant matches the article whose ArticleNumber equals its SKU exactly, after trimming surrounding
whitespace (Fortnox's searches match substrings, so equality is decided here). A SKU that cannot be an
article number is reported, never altered. One article is never linked to two variants, and a SKU
that several ikas variants share links none of them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

MAX_ARTICLE_NUMBER_LENGTH: Final = 50
# What Fortnox accepts in an ArticleNumber: letters, digits and `_ - + .` (no `/`, which could not be
# addressed in a URL) - the same rule the Fortnox sandbox enforces.
_ARTICLE_NUMBER: Final = re.compile(r"[A-Za-z0-9_+.\-]+")


def clean_sku(sku: str | None) -> str | None:
    """The SKU as compared: surrounding whitespace trimmed; None for a missing or blank SKU."""
    if sku is None:
        return None
    trimmed = sku.strip()
    return trimmed or None


def article_number_problem(sku: str) -> str | None:
    """Why a (trimmed) SKU cannot be a Fortnox ArticleNumber, or None."""
    if len(sku) > MAX_ARTICLE_NUMBER_LENGTH:
        return f"the SKU is {len(sku)} characters long; Fortnox article numbers hold at most 50"
    if not _ARTICLE_NUMBER.fullmatch(sku):
        bad = sorted({ch for ch in sku if not _ARTICLE_NUMBER.fullmatch(ch)})
        shown = " ".join(repr(ch) for ch in bad)
        return f"the SKU contains characters Fortnox refuses in article numbers: {shown}"
    return None


@dataclass(frozen=True)
class VariantKey:
    product_id: str
    variant_id: str
    sku: str | None


@dataclass
class MatchPlan:
    """What matching decides: links to make, and the report of product.md §3."""

    links: dict[tuple[str, str], str] = field(default_factory=dict)  # (product, variant) -> article number
    without_sku: list[tuple[str, str]] = field(default_factory=list)
    duplicate_skus: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    illegal: dict[tuple[str, str], str] = field(default_factory=dict)  # (product, variant) -> why
    no_article: list[tuple[str, str]] = field(default_factory=list)
    unmatched_articles: list[str] = field(default_factory=list)
    already_linked: list[tuple[str, str]] = field(default_factory=list)

    def report(self) -> dict[str, object]:
        return {
            "matched": len(self.links),
            "already_linked": len(self.already_linked),
            "without_sku": len(self.without_sku),
            "duplicate_skus": sorted(self.duplicate_skus),
            "illegal_article_numbers": sorted({why for why in self.illegal.values()}),
            "illegal_skus": len(self.illegal),
            "no_article": len(self.no_article),
            "unmatched_articles": sorted(self.unmatched_articles),
        }


def plan_matches(
    variants: Iterable[VariantKey],
    article_numbers: Iterable[str],
    *,
    related: Mapping[tuple[str, str], str],
    ignored: Iterable[tuple[str, str]] = (),
) -> MatchPlan:
    """Decides the links for every variant that is not related and not ignored.

    `related` maps already related variants to their article (kept, and their articles taken);
    `ignored` variants were unlinked by hand and are never matched automatically.
    """
    plan = MatchPlan()
    variants = list(variants)
    articles = set(article_numbers)
    ignored_keys = set(ignored)
    taken = set(related.values())
    counts = Counter(sku for v in variants if (sku := clean_sku(v.sku)) is not None)
    for variant in variants:
        key = (variant.product_id, variant.variant_id)
        if key in related:
            plan.already_linked.append(key)
            continue
        sku = clean_sku(variant.sku)
        if sku is None:
            plan.without_sku.append(key)
            continue
        if counts[sku] > 1:
            plan.duplicate_skus.setdefault(sku, []).append(key)
            continue
        problem = article_number_problem(sku)
        if problem is not None:
            plan.illegal[key] = problem
            continue
        if key in ignored_keys:
            continue
        if sku not in articles:
            plan.no_article.append(key)
            continue
        if sku in taken:
            continue
        plan.links[key] = sku
        taken.add(sku)
    plan.unmatched_articles = sorted(articles - taken)
    return plan
