"""Stock-sync planning (product.md §4) through bootstrap.build over in-memory fakes: absolute values in the
direction of the sync mode, related lines only, only values that differ, incremental reads, the warehouse
module's one stock-taking document, and one refused line never stopping the others. No I/O."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bridge_catalog.domain.lines import ERROR, SYNCED

from .sync_fakes import MAIN, SHOP, World, world

D = Decimal


@pytest.fixture
def w(tmp_path: Path) -> World:
    return world(tmp_path)


def _related(w: World, mode: str, **settings: object) -> None:
    """Mug (A-1) and lid (A-2) related by matching; a pen only in ikas, a lamp only in Fortnox."""
    w.fortnox.add("A-1", "Enamel mug", "111.20", quantity=D(7))
    w.fortnox.add("A-2", "Spare lid", "39.20", quantity=D(4))
    w.fortnox.add("A-9", "Lamp", "80.00", quantity=D(2))
    w.ikas.add("A-1", "139.00", stock={MAIN: "5", SHOP: "3"})
    w.ikas.add("A-2", "49.00", stock={MAIN: "4"})
    w.ikas.add("PEN-1", "100.00", stock={MAIN: "9"})
    w.configure(mode, **settings)  # type: ignore[arg-type]
    w.match()
    w.forget_calls()


# -- fortnox_to_ikas --------------------------------------------------------------------------------------


def test_fortnox_stock_goes_to_the_chosen_ikas_location_only_where_it_differs(w: World) -> None:
    _related(w, "fortnox_to_ikas", location=MAIN)
    mug = w.ikas.variant("A-1").variant_id

    run = w.stock_run()

    assert w.ikas.writes == [("set_stock", ((mug, MAIN, D(7)),))]  # the lid already holds 4; the pen is unrelated
    assert w.ikas.stock[(mug, SHOP)][0] == D(3)  # another location is never touched
    assert (run.counts["updated"], run.counts["unchanged"]) == (1, 1)
    assert (w.database.line("A-1").ikas_stock, w.database.line("A-1").fortnox_stock) == (D(10), D(7))


def test_without_a_chosen_location_every_related_line_says_so_and_nothing_is_written(w: World) -> None:
    _related(w, "fortnox_to_ikas")

    run = w.stock_run()

    assert w.ikas.writes == []
    assert run.counts["failed"] == 2
    assert {line.error_message for line in w.database.committed_lines() if line.status == ERROR} == {
        "choose the ikas stock location that receives Fortnox stock (Settings, Stock) before syncing stock"
    }


def test_an_incremental_stock_run_reads_only_articles_changed_since_the_last(w: World) -> None:
    _related(w, "fortnox_to_ikas", location=MAIN)
    w.stock_run()
    w.clock.advance(10)
    w.stock_run()  # the articles' last change is inside the first run's overlap: read again, found equal
    w.clock.advance(10)
    w.forget_calls()

    quiet = w.stock_run()

    assert w.ikas.writes == []
    assert w.fortnox.reads["articles_changed_since"] == 1
    assert w.ikas.reads["stock_of"] == 0  # nothing changed in Fortnox: ikas is not even read
    assert quiet.counts["unchanged"] == 2
    w.clock.advance(10)
    w.fortnox.edit("A-2", quantity="6")
    w.forget_calls()

    w.stock_run()

    assert w.ikas.writes == [("set_stock", ((w.ikas.variant("A-2").variant_id, MAIN, D(6)),))]


# -- ikas_to_fortnox --------------------------------------------------------------------------------------


def test_the_sum_over_every_ikas_location_goes_to_fortnox_only_where_it_differs(w: World) -> None:
    _related(w, "ikas_to_fortnox")

    run = w.stock_run()

    assert w.fortnox.writes == [("set_quantity_in_stock", "A-1", D(8))]  # 5 + 3; the lid's 4 already equals
    assert (run.counts["updated"], run.counts["unchanged"]) == (1, 1)
    assert "PEN-1" not in w.fortnox.company  # only related lines


def test_an_incremental_run_writes_only_variants_whose_ikas_stock_moved(w: World) -> None:
    _related(w, "ikas_to_fortnox")
    w.stock_run()
    w.clock.advance(10)
    w.ikas.count("A-2", SHOP, "2")
    w.forget_calls()

    run = w.stock_run()

    assert w.fortnox.writes == [("set_quantity_in_stock", "A-2", D(6))]
    assert w.ikas.reads["stock_changed_since"] == 1
    assert (run.counts["updated"], run.counts["unchanged"]) == (1, 1)


def test_with_the_warehouse_module_one_stock_taking_carries_every_change(w: World) -> None:
    _related(w, "ikas_to_fortnox", stock_point="SP1")
    w.fortnox.warehouse = True
    w.fortnox.balances = {"A-1": D(1), "A-2": D(1)}

    run = w.stock_run()

    assert w.fortnox.writes == [("stock_taking", {"A-1": D(8), "A-2": D(4)}, "SP1")]
    assert run.counts["updated"] == 2
    w.clock.advance(1)
    w.forget_calls()

    again = w.stock_run()

    assert w.fortnox.writes == []  # the balances equal ikas now
    assert again.counts["updated"] == 0


def test_one_refused_stock_write_fails_its_line_only(w: World) -> None:
    _related(w, "ikas_to_fortnox")
    w.ikas.count("A-2", MAIN, "5")
    w.fortnox.reject_quantities.add("A-1")

    run = w.stock_run()

    assert run.state == "partially_failed"
    assert w.fortnox.writes == [("set_quantity_in_stock", "A-2", D(5))]
    assert (w.database.line("A-1").status, w.database.line("A-1").error_upstream_code) == (ERROR, "2001302")
    assert w.database.line("A-2").status == SYNCED
    assert "ikas_stock" not in w.database.marks["tenant-a"]  # the next run looks again
