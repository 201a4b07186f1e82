"""Refunds, partial cancellations and edits after transfer with fakes (product.md §5b): the row arithmetic of
domain/after_transfer.py, and FollowChanges through ProcessOrder: the Fortnox order updated before invoicing,
the rows taken back credited after (never beyond the invoice, each once, lost answers looked up), edits after
invoicing flagged."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal
from typing import Any

from bridge_orders.app.process_order import ProcessOrderRequest
from bridge_orders.bootstrap import Services
from bridge_orders.domain.after_transfer import (
    CreditRow,
    FortnoxRow,
    OrderChanges,
    RowPut,
    credit_rows,
    fully_credited,
    row_update,
)
from bridge_orders.domain.ikas_order import IkasAddress, IkasOrder
from bridge_orders.domain.mapping import OrderRow
from bridge_orders.domain.order_record import (
    CREDIT_INVOICE,
    UNKNOWN_OUTCOME_SETTLE,
    UPDATE_FORTNOX_ORDER,
    OrderRecord,
)
from bridge_orders.domain.settings import OrderSettings, TenantOrderSettings
from bridge_platform.errors import OutcomeUnknown

from .test_order_documents import INVOICING, NOW, ON, TENANT, ikas_order, line

MUG = OrderRow("SKU-1", "Mug", Decimal(2), Decimal("99.50"), Decimal(25))
TEA = OrderRow("SKU-2", "Tea", Decimal(1), Decimal("50.00"), Decimal(12))


def fortnox_row(row_id: str | None, row: OrderRow | FortnoxRow, quantity: Decimal | None = None) -> FortnoxRow:
    return FortnoxRow(row_id, row.article_number, row.description, quantity or row.quantity, row.price, row.vat)


@dataclasses.dataclass
class Document:
    rows: tuple[FortnoxRow, ...]
    freight: Decimal = Decimal(0)


# -- the Fortnox order's rows after an edit --------------------------------------------------------------------


def test_unchanged_rows_need_no_update() -> None:
    assert row_update([fortnox_row("1", MUG), fortnox_row("2", TEA)], [MUG, TEA]) is None


def test_a_changed_quantity_keeps_the_row_by_its_row_id_and_a_dropped_row_is_left_out() -> None:
    puts = row_update([fortnox_row("1", MUG), fortnox_row("2", TEA)], [dataclasses.replace(MUG, quantity=Decimal(1))])
    assert puts is not None
    assert [(p.row_id, p.row.quantity if p.row else None) for p in puts] == [("1", Decimal(1))]


def test_a_new_row_is_added_without_a_row_id_and_kept_rows_are_sent_by_row_id_alone() -> None:
    puts = row_update([fortnox_row("1", MUG)], [MUG, TEA])
    assert puts == [RowPut("1"), RowPut(None, TEA)]


def test_a_second_row_of_the_same_goods_is_folded_into_the_first() -> None:
    current = [fortnox_row("1", MUG, Decimal(1)), fortnox_row("2", MUG, Decimal(1))]
    puts = row_update(current, [MUG])
    assert puts is not None
    assert [(p.row_id, p.row) for p in puts] == [("1", MUG)]


def test_a_changed_price_is_a_different_row() -> None:
    dearer = dataclasses.replace(MUG, price=Decimal("120.00"))
    assert row_update([fortnox_row("1", MUG)], [dearer]) == [RowPut(None, dearer)]


# -- credits ------------------------------------------------------------------------------------------------------


def invoice() -> Document:
    return Document((fortnox_row("1", MUG), fortnox_row("2", TEA)), Decimal(40))


def test_a_partial_refund_credits_the_refunded_rows_only() -> None:
    plan = credit_rows(invoice(), [], [dataclasses.replace(MUG, quantity=Decimal(1))], Decimal(0), everything=False)
    assert [(r.invoiced.description, r.quantity) for r in plan.rows] == [("Mug", Decimal(1))]
    assert (plan.freight, plan.whole_invoice, plan.notes) == (Decimal(0), False, ())


def test_a_second_refund_counts_what_the_first_credit_invoice_credited() -> None:
    first = Document((fortnox_row(None, MUG, Decimal(-1)),))
    removed = [MUG, TEA]  # both mugs and the tea refunded by now
    plan = credit_rows(invoice(), [first], removed, Decimal(0), everything=False)
    assert sorted((r.invoiced.description, r.quantity) for r in plan.rows) == [("Mug", Decimal(1)), ("Tea", Decimal(1))]


def test_never_more_than_was_invoiced_and_the_rest_is_a_note() -> None:
    plan = credit_rows(invoice(), [], [dataclasses.replace(MUG, quantity=Decimal(5))], Decimal(99), everything=False)
    assert [(r.invoiced.description, r.quantity) for r in plan.rows] == [("Mug", Decimal(2))]
    assert plan.freight == Decimal(40)
    assert len(plan.notes) == 1
    assert "no more than was invoiced" in plan.notes[0]


def test_goods_never_invoiced_are_not_credited() -> None:
    other = OrderRow("SKU-9", "Plate", Decimal(1), Decimal("10.00"), Decimal(25))
    plan = credit_rows(invoice(), [], [other], Decimal(0), everything=False)
    assert plan.empty
    assert "is not on the invoice" in plan.notes[0]


def test_everything_with_nothing_credited_is_fortnoxs_own_credit_of_the_whole_invoice() -> None:
    plan = credit_rows(invoice(), [], [], Decimal(0), everything=True)
    assert plan.whole_invoice
    assert plan.freight == Decimal(40)
    assert len(plan.rows) == 2


def test_everything_after_a_partial_credit_is_the_rest_as_a_credit_invoice() -> None:
    first = Document((fortnox_row(None, MUG, Decimal(-1)),))
    plan = credit_rows(invoice(), [first], [], Decimal(0), everything=True)
    assert not plan.whole_invoice
    assert sorted((r.invoiced.description, r.quantity) for r in plan.rows) == [("Mug", Decimal(1)), ("Tea", Decimal(1))]
    rest = Document(tuple(fortnox_row(None, r.invoiced, -r.quantity) for r in plan.rows), -plan.freight)
    assert fully_credited(invoice(), [first, rest])
    assert not fully_credited(invoice(), [first])


def test_credit_rows_are_positive_quantities_of_the_invoice_rows() -> None:
    plan = credit_rows(invoice(), [], [TEA], Decimal(0), everything=False)
    assert plan.rows == (CreditRow(fortnox_row("2", TEA), Decimal(1)),)


# -- what changed in the ikas order --------------------------------------------------------------------------------


def split_refund(order: IkasOrder, quantity: Decimal) -> IkasOrder:
    """ikas's [L] reading: a partial refund splits the line, the new half refunded."""
    first = order.lines[0]
    kept = dataclasses.replace(first, quantity=first.quantity - quantity)
    refunded = dataclasses.replace(first, id="l-1b", quantity=quantity, status="REFUNDED")
    return dataclasses.replace(order, lines=(kept, refunded, *order.lines[1:]), status="PARTIALLY_REFUNDED")


def test_a_refund_changes_what_is_sold_and_taken_back_never_what_was_bought() -> None:
    before = OrderChanges.of(ikas_order(), ON)
    after = OrderChanges.of(split_refund(ikas_order(), Decimal(1)), ON)
    assert after.gross == before.gross
    assert after.active != before.active
    assert after.removed != before.removed
    assert [(item.id, item.quantity) for item in after.removed_lines] == [("l-1b", Decimal(1))]


def test_the_split_and_the_whole_line_readings_compare_alike() -> None:
    whole = ikas_order(lines=(line(status="REFUNDED"), *ikas_order().lines[1:]))
    split = split_refund(ikas_order(), Decimal(2))
    split = dataclasses.replace(split, lines=tuple(item for item in split.lines if item.quantity))
    assert OrderChanges.of(whole, ON).removed == OrderChanges.of(split, ON).removed
    assert OrderChanges.of(whole, ON).gross == OrderChanges.of(ikas_order(), ON).gross


def test_an_edit_changes_what_was_bought() -> None:
    edited = ikas_order(lines=(line(quantity=Decimal(3)), *ikas_order().lines[1:]))
    moved = ikas_order(
        billing_address=IkasAddress("Anna", "Berg", None, "Nygatan 2", None, "11122", "Stockholm", "SE", None, None)
    )
    base = OrderChanges.of(ikas_order(), ON).gross
    assert OrderChanges.of(edited, ON).gross != base
    assert OrderChanges.of(moved, ON).gross != base


def test_a_refund_not_followed_is_still_sold() -> None:
    off = dataclasses.replace(ON, follow_refunds=False)
    changes = OrderChanges.of(split_refund(ikas_order(), Decimal(1)), off)
    assert not changes.takes_back
    assert changes.active == OrderChanges.of(ikas_order(), off).active


# -- FollowChanges through ProcessOrder ------------------------------------------------------------------------


def settings_are(database: Any, settings: OrderSettings) -> None:
    database.settings[TENANT] = TenantOrderSettings(TENANT, settings, NOW)


def process(services: Services) -> Any:
    return services.process_order(ProcessOrderRequest(TENANT, "o-1"))


def stored(database: Any) -> OrderRecord:
    record: OrderRecord = database.orders[(TENANT, "o-1")]
    return record


def outcomes(record: OrderRecord, step: str) -> list[str]:
    return [a.outcome for a in record.timeline if a.step == step]


def rows_of(fortnox: Any, number: str | None) -> list[tuple[str | None, Decimal]]:
    return [(r.article_number, r.quantity) for r in fortnox.orders[number].rows]


def test_a_refund_before_invoicing_updates_the_fortnox_orders_rows_once(
    services: Services, database: Any, fortnox: Any, ikas: Any
) -> None:
    settings_are(database, ON)
    ikas.orders["o-1"] = ikas_order()
    process(services)
    number = stored(database).fortnox_order_number
    assert rows_of(fortnox, number)[:2] == [("SKU-1", Decimal(2)), ("SKU-2", Decimal(1))]
    ikas.orders["o-1"] = split_refund(ikas_order(), Decimal(1))
    assert process(services).wrote
    assert rows_of(fortnox, number)[:2] == [("SKU-1", Decimal(1)), ("SKU-2", Decimal(1))]
    assert outcomes(stored(database), UPDATE_FORTNOX_ORDER) == ["started", "updated"]
    for _ in range(2):
        assert not process(services).wrote
    assert fortnox.order_updates == [number]


def test_an_edit_after_invoicing_is_flagged_once_and_writes_nothing(
    services: Services, database: Any, fortnox: Any, ikas: Any
) -> None:
    settings_are(database, INVOICING)
    ikas.orders["o-1"] = ikas_order()
    process(services)
    writes = list(fortnox.settlement_writes)
    ikas.orders["o-1"] = ikas_order(lines=(line(quantity=Decimal(3)), *ikas_order().lines[1:]))
    for _ in range(3):
        assert not process(services).wrote
    record = stored(database)
    assert record.edited_after_invoice
    assert record.edit_advice
    assert "credit" in record.edit_advice
    assert outcomes(record, UPDATE_FORTNOX_ORDER) == ["edited_after_invoice"]
    assert (fortnox.settlement_writes, fortnox.order_updates) == (writes, [])


def test_two_successive_partial_refunds_after_invoicing_make_two_credit_invoices(
    services: Services, database: Any, fortnox: Any, ikas: Any
) -> None:
    settings_are(database, INVOICING)
    ikas.orders["o-1"] = ikas_order()
    process(services)
    invoice_number = stored(database).fortnox_invoice_number
    ikas.orders["o-1"] = split_refund(ikas_order(), Decimal(1))
    assert process(services).wrote
    assert stored(database).fortnox_state == "partially_credited"
    tea_refunded = split_refund(ikas_order(), Decimal(1))
    tea_refunded = dataclasses.replace(
        tea_refunded, lines=(*tea_refunded.lines[:2], dataclasses.replace(tea_refunded.lines[2], status="REFUNDED"))
    )
    ikas.orders["o-1"] = tea_refunded
    assert process(services).wrote
    credits = fortnox.partial_credits[invoice_number]
    assert [[(r.article_number, r.quantity) for r in rows] for _, rows, _ in credits] == [
        [("SKU-1", Decimal(-1))],
        [("SKU-2", Decimal(-1))],
    ]
    assert fortnox.settlement_writes.count(f"bookkeep {invoice_number}") == 1
    for _ in range(2):
        assert not process(services).wrote
    assert len(fortnox.partial_credits[invoice_number]) == 2
    assert invoice_number not in fortnox.credits
    # Then the whole order is cancelled: the rest (one mug and the shipping) is credited, not the invoice again.
    ikas.orders["o-1"] = dataclasses.replace(tea_refunded, status="CANCELLED")
    assert process(services).wrote
    record = stored(database)
    assert record.fortnox_state == "credited"
    assert len(fortnox.partial_credits[invoice_number]) == 3
    assert invoice_number not in fortnox.credits


def test_a_full_refund_uses_fortnoxs_credit_of_the_whole_invoice(
    services: Services, database: Any, fortnox: Any, ikas: Any
) -> None:
    settings_are(database, INVOICING)
    ikas.orders["o-1"] = ikas_order()
    process(services)
    invoice_number = stored(database).fortnox_invoice_number
    ikas.orders["o-1"] = ikas_order(
        status="REFUNDED",
        payment_status="REFUNDED",
        lines=tuple(dataclasses.replace(item, status="REFUNDED") for item in ikas_order().lines),
    )
    assert process(services).wrote
    assert (stored(database).fortnox_state, invoice_number in fortnox.credits) == ("credited", True)
    assert not fortnox.partial_credits.get(invoice_number)
    assert not process(services).wrote


def test_a_lost_answer_on_a_credit_is_looked_up_and_never_credited_twice(
    services: Services, database: Any, fortnox: Any, ikas: Any, clock: Any
) -> None:
    settings_are(database, INVOICING)
    ikas.orders["o-1"] = ikas_order()
    process(services)
    invoice_number = stored(database).fortnox_invoice_number
    ikas.orders["o-1"] = split_refund(ikas_order(), Decimal(1))
    fortnox.fail_after["credit_rows"] = OutcomeUnknown("fortnox", "the answer was lost")
    assert process(services).outcome == "unknown"
    assert stored(database).intent == CREDIT_INVOICE
    clock.at = clock.at + UNKNOWN_OUTCOME_SETTLE + timedelta(seconds=1)
    process(services)
    record = stored(database)
    assert (record.intent, record.fortnox_state, record.error) == (None, "partially_credited", None)
    assert len(fortnox.partial_credits[invoice_number]) == 1
    assert outcomes(record, CREDIT_INVOICE)[-1] == "found"


def test_an_unknown_line_status_is_still_sold(services: Services, database: Any, fortnox: Any, ikas: Any) -> None:
    settings_are(database, ON)
    ikas.orders["o-1"] = ikas_order()
    process(services)
    ikas.orders["o-1"] = ikas_order(lines=(line(status="RETURN_IN_TRANSIT"), *ikas_order().lines[1:]))
    assert not process(services).wrote
    assert fortnox.order_updates == []


def test_what_was_taken_back_before_invoicing_is_never_credited_afterwards(
    services: Services, database: Any, fortnox: Any, ikas: Any
) -> None:
    settings_are(database, ON)
    ikas.orders["o-1"] = ikas_order()
    process(services)
    ikas.orders["o-1"] = split_refund(ikas_order(), Decimal(1))
    process(services)  # the Fortnox order drops the refunded mug
    settings_are(database, INVOICING)
    process(services)  # and is invoiced with one mug
    record = stored(database)
    assert record.fortnox_invoice_number is not None
    for _ in range(2):
        assert not process(services).wrote
    assert (fortnox.partial_credits, fortnox.credits, stored(database).fortnox_state) == ({}, {}, "invoiced")
    # A later refund of the tea after invoicing is credited, the mug refunded before invoicing still is not.
    later = split_refund(ikas_order(), Decimal(1))
    ikas.orders["o-1"] = dataclasses.replace(
        later, lines=(*later.lines[:2], dataclasses.replace(later.lines[2], status="REFUNDED"))
    )
    assert process(services).wrote
    ((_, rows, _),) = fortnox.partial_credits[record.fortnox_invoice_number]
    assert [(r.article_number, r.quantity) for r in rows] == [("SKU-2", Decimal(-1))]


def test_a_whole_refund_before_invoicing_cancels_the_fortnox_order(
    services: Services, database: Any, fortnox: Any, ikas: Any
) -> None:
    settings_are(database, ON)
    ikas.orders["o-1"] = ikas_order()
    process(services)
    ikas.orders["o-1"] = ikas_order(
        status="REFUNDED",
        payment_status="REFUNDED",
        lines=tuple(dataclasses.replace(item, status="REFUNDED") for item in ikas_order().lines),
    )
    assert process(services).wrote
    record = stored(database)
    assert (record.fortnox_state, fortnox.cancelled) == ("cancelled", {record.fortnox_order_number})
    settings_are(database, INVOICING)  # nothing is invoiced afterwards
    assert not process(services).wrote
    assert fortnox.invoices == {}


def test_an_order_without_lines_is_an_error_on_that_order_not_an_empty_fortnox_order(
    services: Services, database: Any, fortnox: Any, ikas: Any
) -> None:
    settings_are(database, ON)
    ikas.orders["o-1"] = ikas_order(lines=(), shipping_lines=())
    result = process(services)
    record = stored(database)
    assert (result.outcome, record.status, fortnox.orders) == ("failed", "error", {})
    assert record.error is not None
    assert "has no lines" in record.error.message
    assert record.error.hint is not None
