"""Domain rules of the catalog: matching, prices and VAT, stock, line transitions. No I/O."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bridge_catalog.domain.lines import ERROR, IGNORED, ORPHANED, PENDING, SYNCED, LineError, ProductLine, SyncedValues
from bridge_catalog.domain.matching import VariantKey, article_number_problem, clean_sku, plan_matches
from bridge_catalog.domain.pricing import StoreTax, TagOverride, gross_of, net_of, same_price
from bridge_catalog.domain.stock import (
    StockLocationRequired,
    fortnox_balance,
    ikas_location_or_fail,
    ikas_total,
    needs_write,
)

D = Decimal
AT = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SWEDEN = StoreTax(D("25"), (TagOverride(("tag-food",), D("12")), TagOverride(("tag-books",), D("6"))))


# -- matching ---------------------------------------------------------------------------------------


def test_skus_are_trimmed_and_blank_ones_are_missing() -> None:
    assert clean_sku("  A-1 ") == "A-1"
    assert clean_sku("   ") is None
    assert clean_sku(None) is None


@pytest.mark.parametrize(
    ("sku", "problem"),
    [("A" * 50, None), ("A" * 51, "51 characters"), ("A/B", "'/'"), ("ÅÄ", "'Ä' 'Å'"), ("a b", "' '")],
)
def test_illegal_article_numbers_are_explained(sku: str, problem: str | None) -> None:
    found = article_number_problem(sku)
    assert (found is None) if problem is None else (problem in (found or ""))


def test_exact_matches_link_and_everything_else_is_reported() -> None:
    variants = [
        VariantKey("p1", "v1", " A-1 "),  # trimmed: matches A-1
        VariantKey("p2", "v2", "A-10"),  # exact: not A-1 (Fortnox would find both by substring)
        VariantKey("p3", "v3", None),
        VariantKey("p4", "v4", "DUP"),
        VariantKey("p5", "v5", "DUP"),
        VariantKey("p6", "v6", "bad/sku"),
        VariantKey("p7", "v7", "NOPE"),
        VariantKey("p8", "v8", "A-2"),  # ignored: never matched again automatically
    ]

    plan = plan_matches(variants, ["A-1", "A-10", "A-2", "DUP", "ORPHAN"], related={}, ignored=[("p8", "v8")])

    assert plan.links == {("p1", "v1"): "A-1", ("p2", "v2"): "A-10"}
    assert plan.without_sku == [("p3", "v3")]
    assert plan.duplicate_skus == {"DUP": [("p4", "v4"), ("p5", "v5")]}
    assert list(plan.illegal) == [("p6", "v6")]
    assert plan.no_article == [("p7", "v7")]
    assert plan.unmatched_articles == ["A-2", "DUP", "ORPHAN"]
    assert plan.report()["matched"] == 2


def test_an_article_is_never_linked_to_two_variants() -> None:
    plan = plan_matches(
        [VariantKey("p1", "v1", "A-1"), VariantKey("p2", "v2", "A-1 ")],
        ["A-1"],
        related={},
    )
    assert plan.links == {}  # the same SKU twice after trimming: a duplicate, neither is linked

    plan = plan_matches([VariantKey("p2", "v2", "A-1")], ["A-1"], related={("p1", "v1"): "A-1"})
    assert plan.links == {}  # already taken by a related line


# -- prices and VAT ---------------------------------------------------------------------------------


def test_vat_rate_from_country_and_tag_override() -> None:
    assert SWEDEN.rate_for(["tag-apparel"]) == D("25")
    assert SWEDEN.rate_for(["tag-apparel", "tag-food"]) == D("12")
    assert SWEDEN.rate_for(["tag-books"]) == D("6")


def test_gross_ikas_prices_convert_to_net_fortnox_prices_and_back() -> None:
    assert SWEDEN.to_fortnox(D("249.00"), D("25")) == D("199.20")
    assert SWEDEN.to_ikas(D("199.20"), D("25")) == D("249.00")
    food = SWEDEN.rate_for(["tag-food"])
    assert SWEDEN.to_fortnox(D("89.90"), food) == D("80.27")  # 80.267857... rounds half up to the öre
    assert SWEDEN.to_ikas(D("80.27"), food) == D("89.90")  # 89.9024
    assert SWEDEN.to_fortnox(D("329.00"), D("6")) == D("310.38")
    assert net_of(D("0.05"), D("25")) == D("0.04")
    assert gross_of(D("0.02"), D("25")) == D("0.03")  # 0.025 rounds half up


def test_net_ikas_prices_are_taken_as_they_are() -> None:
    net_store = StoreTax(D("25"), prices_exclude_vat=True)
    assert net_store.to_fortnox(D("199.20"), D("25")) == D("199.20")
    assert net_store.to_ikas(D("199.2"), D("25")) == D("199.20")


def test_same_price_tolerates_the_round_trip_through_ore() -> None:
    assert same_price(D("249.00"), D("199.20"), D("25"), prices_exclude_vat=False)
    assert not same_price(D("149.00"), D("111.20"), D("25"), prices_exclude_vat=False)


# -- stock ------------------------------------------------------------------------------------------


def test_stock_rules() -> None:
    assert ikas_total([D("12"), D("4"), D("0.5")]) == D("16.5")
    balances: dict[str | None, Decimal] = {"A": D("3"), "B": D("4")}
    assert fortnox_balance(balances, None) == D("7")
    assert fortnox_balance(balances, "B") == D("4")
    assert fortnox_balance(balances, "C") == D("0")
    assert needs_write(D("5"), D("6"))
    assert not needs_write(D("6"), D("6.0"))
    assert needs_write(None, D("0"))
    assert ikas_location_or_fail("loc") == "loc"
    with pytest.raises(StockLocationRequired):
        ikas_location_or_fail(None)


# -- lines ------------------------------------------------------------------------------------------


def test_line_transitions() -> None:
    line = ProductLine("t1", "p1", "v1", "Mug", sku="A-1")
    line.link("A-1")
    assert line.status == PENDING
    assert line.is_related
    line.fail(LineError("Fortnox refused the price", "2000", "check the price list", AT))
    assert line.status == ERROR
    assert line.error is not None
    assert line.error.upstream_code == "2000"
    line.mark_synced(SyncedValues("Mug", D("111.20"), None, D("3")), AT)
    assert line.status == SYNCED
    assert line.error is None
    assert line.synced.price == D("111.20")
    line.orphan("the Fortnox article A-1 was deleted")
    assert line.status == ORPHANED
    assert not line.is_related
    line.unlink()
    assert line.status == IGNORED
    assert line.fortnox_article_number is None
    assert line.synced.price is None
    line.mark_unmatched("no article")
    assert line.status == IGNORED  # ignored stays ignored until relinked
