"""A product line's timeline (product.md §7) through bootstrap.build over in-memory fakes: every real outcome on a
line adds one attempt (linked, unlinked, relinked, created, updated, refused, orphaned, stock written, exported),
a run over unchanged data and a preview add none, and the newest 100 are kept. No I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bridge_catalog.domain.lines import FAILED, MAX_TIMELINE, LineError, ProductLine, error_detail
from bridge_platform.errors import Conflict

from .sync_fakes import MAIN, TENANT, World, world

D = Decimal
AT = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
def w(tmp_path: Path) -> World:
    return world(tmp_path)


def steps(w: World, sku: str) -> list[tuple[str, str]]:
    return [(a.step, a.outcome) for a in w.database.line(sku).timeline]


def newest_detail(w: World, sku: str) -> str:
    return w.database.line(sku).timeline[-1].detail


# -- the domain ---------------------------------------------------------------------------------------------


def test_the_timeline_keeps_the_newest_attempts() -> None:
    line = ProductLine("t1", "p1", "v1", "Mug", sku="A-1")

    for n in range(MAX_TIMELINE + 5):
        line.log(AT + timedelta(minutes=n), "stock_sync", "stock_written", f"the Fortnox stock was set to {n}")

    assert len(line.timeline) == MAX_TIMELINE
    assert line.timeline[0].detail == "the Fortnox stock was set to 5"
    assert line.timeline[-1].detail == f"the Fortnox stock was set to {MAX_TIMELINE + 4}"


def test_a_failure_that_repeats_the_newest_entry_is_shown_once() -> None:
    line = ProductLine("t1", "p1", "v1", "Mug", sku="A-1")
    refused = error_detail(LineError("Fortnox refused the price", "2000360", "check the price list", AT))

    line.log(AT, "product_sync", FAILED, refused)
    line.log(AT + timedelta(hours=1), "product_sync", FAILED, refused)
    line.log(AT + timedelta(hours=2), "product_sync", FAILED, "another reason")
    line.log(AT + timedelta(hours=3), "product_sync", FAILED, refused)

    assert refused == "Fortnox refused the price (code 2000360). check the price list"
    assert [a.detail for a in line.timeline] == [refused, "another reason", refused]


def test_a_failure_of_an_action_asked_for_by_hand_is_added_each_time() -> None:
    line = ProductLine("t1", "p1", "v1", "Mug", sku="A-1")

    line.log(AT, "sync_stock_now", FAILED, "choose the ikas stock location")
    line.log(AT + timedelta(minutes=1), "sync_stock_now", FAILED, "choose the ikas stock location")

    assert [a.at for a in line.timeline] == [AT, AT + timedelta(minutes=1)]


# -- relations ----------------------------------------------------------------------------------------------


def test_matching_unlinking_and_relinking_are_on_the_timeline_and_a_second_match_adds_nothing(w: World) -> None:
    w.fortnox.add("A-1", "Enamel mug", "111.20")
    w.ikas.add("A-1", "139.00")
    w.configure("fortnox_to_ikas")

    w.match()
    w.match()

    assert steps(w, "A-1") == [("match", "linked")]
    assert newest_detail(w, "A-1") == "the SKU equals the Fortnox article number A-1"
    line_id = w.database.line("A-1").id
    w.clock.advance(5)
    w.services.unlink_line(TENANT, line_id)
    w.clock.advance(5)
    w.services.relink_line(TENANT, line_id)

    line = w.database.line("A-1")
    assert [(a.step, a.outcome) for a in line.timeline] == [
        ("match", "linked"),
        ("unlink", "unlinked"),
        ("relink", "linked"),
    ]
    assert "unlinked by hand from the Fortnox article A-1" in line.timeline[1].detail
    assert [a.at for a in line.timeline] == [AT, AT + timedelta(minutes=5), AT + timedelta(minutes=10)]


def test_a_reset_is_on_the_timeline_of_every_line_it_unrelates(w: World) -> None:
    w.fortnox.add("A-1", "Enamel mug", "111.20")
    w.ikas.add("A-1", "139.00")
    w.ikas.add("PEN-1", "100.00")  # no article: unmatched before and after
    w.configure("fortnox_to_ikas")
    w.match()

    w.services.reset_relations(TENANT)

    assert steps(w, "A-1") == [("match", "linked"), ("reset", "reset")]
    assert newest_detail(w, "A-1") == "every product relation was reset; it was related to the Fortnox article A-1"
    assert steps(w, "PEN-1") == []


def test_an_ikas_sku_change_seen_by_matching_orphans_with_the_reason(w: World) -> None:
    w.fortnox.add("A-1", "Enamel mug", "111.20")
    w.ikas.add("A-1", "139.00")
    w.configure("fortnox_to_ikas")
    w.match()
    w.ikas.edit("A-1", sku="A-1X")

    w.match()

    assert steps(w, "A-1X")[-1] == ("match", "orphaned")
    assert newest_detail(w, "A-1X") == "the ikas SKU changed from A-1 to A-1X; link the line again to relate it"


# -- product sync -------------------------------------------------------------------------------------------


def test_a_created_product_is_on_the_timeline_and_an_unchanged_run_adds_nothing(w: World) -> None:
    w.fortnox.add("A-1", "Enamel mug", "111.20")
    w.configure("fortnox_to_ikas", create_new=True)

    w.products_run()
    w.clock.advance(1)
    w.products_run()
    w.clock.advance(60)
    w.products_run()

    assert steps(w, "A-1") == [("product_sync", "created")]
    assert newest_detail(w, "A-1") == "a new ikas product was created from the Fortnox article A-1"


def test_an_update_is_on_the_timeline_once_and_its_echo_adds_nothing(w: World) -> None:
    w.fortnox.add("A-1", "Enamel mug", "111.20")
    w.ikas.add("A-1", "139.00", name="Enamel mug")
    w.configure("fortnox_to_ikas", update_existing=True)
    w.match()
    w.products_run()  # the first sync: ikas already holds Fortnox's values, nothing is written
    assert steps(w, "A-1") == [("match", "linked")]
    w.clock.advance(10)
    w.fortnox.edit("A-1", base_price="120.00")

    w.products_run()
    w.clock.advance(1)
    w.products_run()  # reads Bridge's own write back (the echo) and finds it equal

    assert steps(w, "A-1") == [("match", "linked"), ("product_sync", "updated")]
    assert newest_detail(w, "A-1") == "the ikas product was updated from the Fortnox article A-1"


def test_created_and_updated_articles_name_what_was_written(w: World) -> None:
    w.ikas.add("B-1", "249.00", name="Organic T-shirt")
    w.configure("ikas_to_fortnox", create_new=True, update_existing=True)
    w.products_run()
    w.clock.advance(10)
    w.ikas.edit("B-1", name="Organic tee", sell_price="299.00")

    w.products_run()

    line = w.database.line("B-1")
    assert [(a.step, a.outcome) for a in line.timeline] == [("product_sync", "created"), ("product_sync", "updated")]
    assert line.timeline[0].detail == "the Fortnox article B-1 was created from the ikas variant"
    assert line.timeline[1].detail == "the Fortnox article B-1 was updated: description, base price"


def test_a_refused_write_is_on_the_timeline_with_the_message_and_only_once_while_it_repeats(w: World) -> None:
    w.ikas.add("B-1", "249.00", name="Organic T-shirt")
    w.fortnox.reject_prices.add("B-1")
    w.configure("ikas_to_fortnox", create_new=True)

    w.products_run()
    w.clock.advance(1)
    w.products_run()

    assert steps(w, "B-1") == [("product_sync", "created"), ("product_sync", "failed")]
    assert newest_detail(w, "B-1") == "fortnox: Ogiltigt pris (code 2000360)"  # the line error's own message


def test_an_orphaned_line_says_why_on_its_timeline(w: World) -> None:
    w.fortnox.add("A-1", "Enamel mug", "111.20")
    w.ikas.add("A-1", "139.00")
    w.configure("fortnox_to_ikas", update_existing=True)
    w.match()
    w.clock.advance(10)
    w.fortnox.edit("A-1", active=False)

    w.products_run()

    assert steps(w, "A-1")[-1] == ("product_sync", "orphaned")
    assert newest_detail(w, "A-1") == "the Fortnox article A-1 was made inactive; nothing was deleted in ikas"


def test_a_preview_adds_nothing_to_any_timeline(w: World) -> None:
    w.fortnox.add("A-1", "Enamel mug", "120.00")
    w.ikas.add("A-1", "139.00")
    w.configure("fortnox_to_ikas", update_existing=True)
    w.match()

    w.preview()

    assert steps(w, "A-1") == [("match", "linked")]


def test_export_now_is_on_the_timeline_even_when_both_sides_agree(w: World) -> None:
    w.fortnox.add("A-1", "Enamel mug", "111.20")
    w.ikas.add("A-1", "139.00", name="Enamel mug")
    w.configure("fortnox_to_ikas")
    w.match()
    line_id = w.database.line("A-1").id

    w.services.sync_products.export(TENANT, line_id)
    w.fortnox.edit("A-1", base_price="120.00")
    w.services.sync_products.export(TENANT, line_id)

    assert steps(w, "A-1") == [("match", "linked"), ("export_now", "unchanged"), ("export_now", "updated")]


def test_a_failed_export_is_on_the_timeline(w: World) -> None:
    w.ikas.add("B-1", "249.00", name="Organic T-shirt")
    w.fortnox.reject_prices.add("B-1")
    w.configure("ikas_to_fortnox")
    w.products_run()  # lists the variant; create_new is off, so nothing is created
    assert steps(w, "B-1") == []

    with pytest.raises(Conflict):
        w.services.sync_products.export(TENANT, w.database.line("B-1").id)

    assert steps(w, "B-1") == [("export_now", "created"), ("export_now", "failed")]


# -- stock --------------------------------------------------------------------------------------------------


def test_written_stock_is_on_the_timeline_with_its_value_and_an_unchanged_run_adds_nothing(w: World) -> None:
    w.fortnox.add("A-1", "Enamel mug", "111.20", quantity=D(7))
    w.ikas.add("A-1", "139.00", stock={MAIN: "5"})
    w.configure("fortnox_to_ikas", location=MAIN)
    w.match()

    w.stock_run()
    w.clock.advance(1)
    w.stock_run()
    w.clock.advance(60)
    w.stock_run()

    assert steps(w, "A-1") == [("match", "linked"), ("stock_sync", "stock_written")]
    assert newest_detail(w, "A-1") == "the ikas stock at the chosen location was set to 7"


def test_stock_written_to_fortnox_shows_the_value(w: World) -> None:
    w.fortnox.add("A-1", "Enamel mug", "111.20", quantity=D(1))
    w.ikas.add("A-1", "139.00", stock={MAIN: "5", "loc-shop": "2.50"})
    w.configure("ikas_to_fortnox")
    w.match()

    w.stock_run()

    assert newest_detail(w, "A-1") == "the Fortnox stock was set to 7.5"


def test_sync_stock_now_is_on_the_timeline_even_when_nothing_differs(w: World) -> None:
    w.fortnox.add("A-1", "Enamel mug", "111.20", quantity=D(5))
    w.ikas.add("A-1", "139.00", stock={MAIN: "5"})
    w.configure("fortnox_to_ikas", location=MAIN)
    w.match()

    w.services.sync_stock.line(TENANT, w.database.line("A-1").id)

    assert steps(w, "A-1") == [("match", "linked"), ("sync_stock_now", "unchanged")]
    assert newest_detail(w, "A-1") == "both sides already hold 5"


def test_a_stock_run_that_cannot_write_says_why_once(w: World) -> None:
    w.fortnox.add("A-1", "Enamel mug", "111.20", quantity=D(7))
    w.ikas.add("A-1", "139.00", stock={MAIN: "5"})
    w.configure("fortnox_to_ikas")  # no ikas stock location chosen
    w.match()

    w.stock_run()
    w.clock.advance(60)
    w.stock_run()

    assert steps(w, "A-1") == [("match", "linked"), ("stock_sync", "failed")]
    assert "choose the ikas stock location" in newest_detail(w, "A-1")
