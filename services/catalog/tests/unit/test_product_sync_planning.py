"""Product-sync planning (product.md §3) through bootstrap.build over in-memory fakes: what a run creates, updates
and skips in both modes, that only changed values are written, that a run over unchanged data writes nothing,
that duplicates are never linked, that a relation that stops holding is orphaned, and how many upstream calls
the planning spends. No I/O."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bridge_catalog.app.product_sync import LIST_INSTEAD_OF_LOOKUPS
from bridge_catalog.domain.lines import ERROR, IGNORED, ORPHANED, PENDING, SYNCED, UNMATCHED

from .sync_fakes import FOOD_TAG, TENANT, Article, World, world

D = Decimal


@pytest.fixture
def w(tmp_path: Path) -> World:
    return world(tmp_path)


def _writes(w: World) -> list[tuple[object, ...]]:
    return [*w.ikas.writes, *w.fortnox.writes]


# -- fortnox_to_ikas --------------------------------------------------------------------------------------


def test_new_articles_become_ikas_products_only_with_create_new(w: World) -> None:
    w.fortnox.add("A-1", "Enamel mug", "111.20")
    w.fortnox.add("A-2", "Old lamp", "80.00", active=False)
    w.configure("fortnox_to_ikas")

    skipped = w.products_run()

    assert w.ikas.writes == []
    assert skipped.counts["created"] == 0
    w.configure("fortnox_to_ikas", create_new=True)
    created = w.products_run()

    assert w.ikas.writes == [("create_product", "A-1", D("139.00"))]  # 111.20 net + 25 %; the inactive one: never
    assert created.counts["created"] == 1
    line = w.database.line("A-1")
    assert (line.status, line.fortnox_article_number, line.synced_price) == (SYNCED, "A-1", D("111.20"))


def test_an_ikas_variant_with_the_articles_sku_is_related_never_duplicated(w: World) -> None:
    w.fortnox.add("A-1", "Enamel mug", "111.20")
    w.ikas.add(" A-1 ", "120.00", name="Enamel mug")  # the SKU is compared trimmed
    w.configure("fortnox_to_ikas", create_new=True, update_existing=True)

    run = w.products_run()

    assert [write[0] for write in w.ikas.writes] == ["update_variant"]  # the price, on the existing variant
    assert w.ikas.variant(" A-1 ").sell_price == D("139.00")
    assert w.ikas.live_skus() == [" A-1 "]
    assert run.counts["created"] == 0


def test_duplicate_skus_in_ikas_relate_none_and_create_nothing(w: World) -> None:
    w.fortnox.add("A-1", "Enamel mug", "111.20")
    w.ikas.add("A-1", "139.00")
    w.ikas.add("A-1", "139.00")
    w.configure("fortnox_to_ikas", create_new=True, update_existing=True)

    w.products_run()

    assert w.ikas.writes == []
    lines = [line for line in w.database.committed_lines() if line.sku == "A-1"]
    assert len(lines) == 2
    assert all(line.status == UNMATCHED and line.fortnox_article_number is None for line in lines)
    assert all("2 ikas variants" in line.explanation for line in lines)


def test_an_unlinked_line_is_neither_recreated_nor_related_again(w: World) -> None:
    w.fortnox.add("A-1", "Enamel mug", "111.20")
    w.ikas.add("A-1", "139.00")
    w.configure("fortnox_to_ikas", create_new=True, update_existing=True)
    w.match()
    w.services.unlink_line(TENANT, w.database.line("A-1").id)
    w.fortnox.edit("A-1", base_price="120.00")

    run = w.products_run()

    assert w.ikas.writes == []
    assert w.database.line("A-1").status == IGNORED
    assert run.counts["unchanged"] == 1


def test_update_existing_decides_whether_a_changed_article_is_written(w: World) -> None:
    w.fortnox.add("A-1", "Enamel mug", "111.20")
    w.ikas.add("A-1", "139.00", name="Enamel mug")
    w.configure("fortnox_to_ikas", update_existing=True)
    w.match()
    w.products_run()
    w.configure("fortnox_to_ikas", update_existing=False)
    w.clock.advance(10)
    w.fortnox.edit("A-1", base_price="120.00")
    w.forget_calls()

    left = w.products_run()

    assert w.ikas.writes == []
    assert left.counts == {"created": 0, "updated": 0, "unchanged": 1, "failed": 0}
    w.configure("fortnox_to_ikas", update_existing=True)
    written = w.products_run()

    assert w.ikas.variant("A-1").sell_price == D("150.00")
    assert written.counts["updated"] == 1


def test_a_run_over_data_it_has_just_written_writes_nothing(w: World) -> None:
    w.fortnox.add("A-1", "Enamel mug", "111.20", ean="7350000000011")
    w.fortnox.add("A-2", "Spare lid", "39.20")
    w.ikas.add("A-1", "100.00", name="Enamel mug")
    w.configure("fortnox_to_ikas", create_new=True, update_existing=True)
    w.match()
    w.products_run()
    assert _writes(w)
    w.forget_calls()
    w.clock.advance(1)  # within the watermark's overlap: every article is read again, and found equal

    again = w.products_run()

    assert _writes(w) == []
    assert w.ikas.reads["product_for_update"] == 0  # the echo guard: not even a read-merge-write is tried
    assert again.counts["unchanged"] == 2


def test_an_inactive_article_orphans_its_line_and_nothing_is_deleted_in_ikas(w: World) -> None:
    w.fortnox.add("A-1", "Enamel mug", "111.20")
    w.ikas.add("A-1", "139.00")
    w.configure("fortnox_to_ikas", update_existing=True)
    w.match()
    w.products_run()
    w.clock.advance(10)
    w.fortnox.edit("A-1", active=False)

    w.products_run()

    line = w.database.line("A-1")
    assert line.status == ORPHANED
    assert "made inactive" in line.explanation
    assert w.ikas.live_skus() == ["A-1"]


def test_a_deleted_article_is_found_by_the_daily_id_reconciliation(w: World) -> None:
    w.fortnox.add("A-1", "Enamel mug", "111.20")
    w.fortnox.add("A-2", "Spare lid", "39.20")
    w.ikas.add("A-1", "139.00")
    w.ikas.add("A-2", "49.00")
    w.configure("fortnox_to_ikas", update_existing=True)
    w.match()
    w.products_run()
    del w.fortnox.company["A-2"]  # a deletion leaves no lastmodified trace
    w.clock.advance(60)

    w.products_run()

    assert w.database.line("A-2").status == SYNCED  # not yet seen
    w.clock.advance(24 * 60)
    w.products_run()

    line = w.database.line("A-2")
    assert line.status == ORPHANED
    assert "A-2 was deleted or made inactive" in line.explanation
    assert w.database.line("A-1").status == SYNCED
    assert w.ikas.live_skus() == ["A-1", "A-2"]


def test_a_preview_plans_what_the_run_would_do_and_writes_nothing(w: World) -> None:
    w.fortnox.add("A-1", "Enamel mug", "111.20")
    w.fortnox.add("A-2", "Spare lid", "39.20")
    w.fortnox.add("A-3", "Old lamp", "80.00", active=False)
    w.ikas.add("A-2", "40.00")
    w.configure("fortnox_to_ikas", create_new=True, update_existing=True)

    preview = w.preview()

    assert _writes(w) == []
    assert w.database.committed_lines() == []
    planned = {(p["action"], p["entity"]) for p in preview.result["planned"]}
    assert planned == {("create", "A-1"), ("update", "A-2"), ("skip", "A-3")}


# -- ikas_to_fortnox --------------------------------------------------------------------------------------


def test_tagged_variants_become_articles_with_net_prices_and_the_rest_is_reported(w: World) -> None:
    w.ikas.add("B-1", "249.00", name="Organic T-shirt", barcodes=("7350000000028",))
    w.ikas.add("B-2", "89.90", name="Raspberry jam", tags=("tag-fortnox", FOOD_TAG))
    w.ikas.add("B-3", "100.00", name="Untagged", tags=())
    w.ikas.add(None, "50.00", name="Without SKU")
    w.ikas.add("B/4", "50.00", name="Illegal SKU")
    w.configure("ikas_to_fortnox", create_new=True)

    run = w.products_run()

    assert w.fortnox.writes == [
        ("create_article", w.fortnox.writes[0][1]),
        ("set_base_price", "B-1", D("199.20")),  # 249.00 gross, 25 %
        ("create_article", w.fortnox.writes[2][1]),
        ("set_base_price", "B-2", D("80.27")),  # 89.90 gross, the food tag's 12 %
    ]
    created = w.fortnox.writes[0][1]
    assert (created.number, created.description, created.ean) == ("B-1", "Organic T-shirt", "7350000000028")
    assert run.counts["created"] == 2
    assert run.result["without_sku"] == 1
    assert "has no SKU" in next(line.explanation for line in w.database.committed_lines() if line.sku is None)
    assert w.database.line("B/4").status == UNMATCHED
    assert "'/'" in w.database.line("B/4").explanation


def test_a_full_run_reads_the_article_list_once_and_looks_nothing_up_one_by_one(w: World) -> None:
    w.fortnox.add("B-1", "Organic T-shirt", "199.20")  # related by matching; never synced yet
    w.ikas.add("B-1", "249.00", name="Organic T-shirt")
    for n in range(2, 6):
        w.ikas.add(f"B-{n}", "100.00", unit_type="KILOGRAM")
    w.configure("ikas_to_fortnox", create_new=True, update_existing=True)
    w.match()
    w.forget_calls()

    run = w.products_run()

    assert run.counts["created"] == 4
    assert w.fortnox.reads["article"] == 0  # neither before the creates nor for the first sync after matching
    assert w.fortnox.reads["articles"] == 1  # and the id reconciliation reuses it
    assert w.fortnox.reads["unit"] == 1  # asked once a run
    assert all(w.fortnox.writes[n][1].unit == "kg" for n in range(0, 8, 2))
    assert [write[0] for write in w.fortnox.writes].count("set_base_price") == 4  # B-1 already holds its price


def test_an_incremental_run_looks_few_articles_up_and_lists_them_when_that_is_cheaper(w: World) -> None:
    w.ikas.add("B-1", "100.00")
    w.configure("ikas_to_fortnox", create_new=True)
    w.products_run()
    w.clock.advance(10)
    w.ikas.add("B-2", "100.00")
    w.ikas.add("B-3", "100.00")
    w.forget_calls()

    w.products_run()

    assert (w.fortnox.reads["article"], w.fortnox.reads["articles"]) == (2, 0)
    w.clock.advance(10)
    for n in range(LIST_INSTEAD_OF_LOOKUPS + 1):
        w.ikas.add(f"C-{n}", "100.00")
    w.forget_calls()

    run = w.products_run()

    assert (w.fortnox.reads["article"], w.fortnox.reads["articles"]) == (0, 1)
    assert run.counts["created"] == LIST_INSTEAD_OF_LOOKUPS + 1


def test_only_the_values_that_changed_are_written(w: World) -> None:
    w.ikas.add("B-1", "249.00", name="Organic T-shirt", barcodes=("7350000000028",))
    w.configure("ikas_to_fortnox", create_new=True, update_existing=True)
    w.products_run()
    w.clock.advance(10)
    w.ikas.edit("B-1", sell_price="299.00")
    w.forget_calls()

    w.products_run()

    assert w.fortnox.writes == [("set_base_price", "B-1", D("239.20"))]
    w.clock.advance(10)
    w.ikas.edit("B-1", name="Organic cotton T-shirt")
    w.forget_calls()

    w.products_run()

    assert w.fortnox.writes == [("update_article", "B-1", {"Description": "Organic cotton T-shirt"})]


def test_bridges_own_writes_and_unchanged_data_write_nothing(w: World) -> None:
    w.ikas.add("B-1", "249.00")
    w.ikas.add("B-2", "89.90", tags=("tag-fortnox", FOOD_TAG))
    w.configure("ikas_to_fortnox", create_new=True, update_existing=True)
    w.products_run()
    w.forget_calls()
    w.clock.advance(1)  # both products are read again (the overlap)

    again = w.products_run()

    assert w.fortnox.writes == []
    assert again.counts == {"created": 0, "updated": 0, "unchanged": 2, "failed": 0}
    w.clock.advance(10)
    w.products_run()  # its watermark passes the last change
    w.clock.advance(1)
    w.forget_calls()

    quiet = w.products_run()  # nothing changed since: nothing to compare, nothing read of Fortnox either

    assert (w.fortnox.writes, sum(w.fortnox.reads.values())) == ([], 0)
    # one page of nothing new, and no tag read: no variant to look at (an idle tenant's run costs one read)
    assert dict(w.ikas.reads) == {"variants_changed_since": 1}
    assert quiet.counts["unchanged"] == 0


def test_update_existing_off_leaves_changed_articles_alone(w: World) -> None:
    w.ikas.add("B-1", "249.00")
    w.configure("ikas_to_fortnox", create_new=True)
    w.products_run()
    w.clock.advance(10)
    w.ikas.edit("B-1", sell_price="299.00")
    w.forget_calls()

    run = w.products_run()

    assert w.fortnox.writes == []
    assert run.counts["unchanged"] == 1


def test_duplicate_skus_are_never_related_and_a_related_line_whose_sku_turns_duplicate_is_orphaned(w: World) -> None:
    w.ikas.add("B-1", "249.00")
    w.ikas.add("DUP", "10.00")
    w.ikas.add("DUP", "10.00")
    w.configure("ikas_to_fortnox", create_new=True, update_existing=True)

    w.products_run()

    assert [write[1].number for write in w.fortnox.writes if write[0] == "create_article"] == ["B-1"]
    assert all(line.status == UNMATCHED for line in w.database.committed_lines() if line.sku == "DUP")
    w.clock.advance(10)
    w.ikas.add("B-1", "249.00")  # a second variant with the related line's SKU

    w.products_run()

    related = next(line for line in w.database.committed_lines() if line.fortnox_article_number == "B-1")
    assert related.status == ORPHANED
    assert "2 ikas variants" in related.explanation
    assert list(w.fortnox.company) == ["B-1"]  # nothing deleted, nothing created twice


@pytest.mark.parametrize(
    ("change", "explanation"),
    [
        (lambda w: w.ikas.edit("B-1", tag_ids=()), "fortnox tag was removed"),
        (lambda w: w.ikas.edit("B-1", sku="B-1X"), "SKU changed from B-1 to B-1X"),
        (lambda w: w.ikas.remove_variant("B-1"), "was deleted"),
        (lambda w: w.ikas.delete_product("B-1"), "was deleted"),
    ],
)
def test_a_relation_that_stops_holding_is_orphaned_and_nothing_is_deleted_in_fortnox(
    w: World, change: object, explanation: str
) -> None:
    first = w.ikas.add("B-1", "249.00")
    w.ikas.add("B-2", "100.00", product_id=first.product_id, variant_name="XL")
    w.configure("ikas_to_fortnox", create_new=True, update_existing=True)
    w.products_run()
    articles = dict(w.fortnox.company)
    w.clock.advance(10)
    change(w)  # type: ignore[operator]
    w.forget_calls()

    w.products_run()

    (line,) = [line for line in w.database.committed_lines() if line.fortnox_article_number == "B-1"]
    assert line.status == ORPHANED
    assert explanation in line.explanation
    assert w.fortnox.company == articles  # nothing deleted in Fortnox
    assert [write for write in w.fortnox.writes if write[0] == "create_article"] == []


def test_an_article_made_by_hand_is_related_and_an_inactive_one_is_left_unmatched(w: World) -> None:
    w.fortnox.add("B-1", "Organic T-shirt", "199.20")
    w.fortnox.add("B-2", "Old lamp", "80.00", active=False)
    w.ikas.add("B-1", "249.00", name="Organic T-shirt")
    w.ikas.add("B-2", "100.00")
    w.configure("ikas_to_fortnox", create_new=True, update_existing=True)

    w.products_run()

    assert w.fortnox.writes == []  # B-1 already equals; B-2 is never created again
    assert (w.database.line("B-1").status, w.database.line("B-1").fortnox_article_number) == (SYNCED, "B-1")
    assert w.database.line("B-2").status == UNMATCHED
    assert "inactive" in w.database.line("B-2").explanation


def test_an_article_made_since_the_list_was_read_is_related_instead_of_failing(w: World) -> None:
    w.ikas.add("B-1", "249.00", name="Organic T-shirt")
    w.fortnox.made_meanwhile["B-1"] = Article("Made by hand", D("150.00"))
    w.configure("ikas_to_fortnox", create_new=True, update_existing=True)

    run = w.products_run()

    assert run.counts["failed"] == 0
    assert w.fortnox.writes == [
        ("update_article", "B-1", {"Description": "Organic T-shirt"}),
        ("set_base_price", "B-1", D("199.20")),
    ]
    assert (w.database.line("B-1").status, w.database.line("B-1").fortnox_article_number) == (SYNCED, "B-1")


def test_a_lost_answer_on_a_create_is_looked_up_never_repeated(w: World) -> None:
    w.ikas.add("B-1", "249.00")
    w.fortnox.lose_create_answers.add("B-1")
    w.configure("ikas_to_fortnox", create_new=True)

    run = w.products_run()

    assert [write[0] for write in w.fortnox.writes] == ["create_article", "set_base_price"]
    assert run.counts["created"] == 1
    assert w.database.line("B-1").status == SYNCED


def test_one_refused_write_fails_its_line_only_and_holds_the_watermark(w: World) -> None:
    for n in (1, 2, 3):
        w.ikas.add(f"B-{n}", "100.00")
    w.fortnox.reject_prices.add("B-2")
    w.configure("ikas_to_fortnox", create_new=True)

    run = w.products_run()

    assert run.state == "partially_failed"
    assert [error["upstream_code"] for error in run.errors] == ["2000360"]
    assert [w.database.line(f"B-{n}").status for n in (1, 2, 3)] == [SYNCED, ERROR, SYNCED]
    assert "ikas_products" not in w.database.marks[TENANT]
    w.fortnox.reject_prices.clear()
    w.forget_calls()

    again = w.products_run()

    assert again.state == "succeeded"
    assert w.fortnox.writes == [("set_base_price", "B-2", D("80.00"))]  # the price it owed, no second article
    assert w.database.line("B-2").status == SYNCED


def test_the_first_sync_after_matching_writes_only_what_fortnox_does_not_hold(w: World) -> None:
    w.fortnox.add("B-1", "Organic T-shirt", "199.20")
    w.fortnox.add("B-2", "Raspberry jam", "70.00")
    w.ikas.add("B-1", "249.00", name="Organic T-shirt")
    w.ikas.add("B-2", "89.90", name="Raspberry jam", tags=("tag-fortnox", FOOD_TAG))
    w.configure("ikas_to_fortnox", update_existing=True)
    w.match()
    assert {line.status for line in w.database.committed_lines()} == {PENDING}

    run = w.products_run()

    assert w.fortnox.writes == [("set_base_price", "B-2", D("80.27"))]
    assert (run.counts["updated"], run.counts["unchanged"]) == (1, 1)
