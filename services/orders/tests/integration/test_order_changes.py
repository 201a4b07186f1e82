"""Refunds, partial cancellations and edits after transfer against the Fortnox and ikas sandboxes as real processes
over HTTP (product.md §5b, issue #8), asserting on the Fortnox sandbox's own documents and on the order's record:
before invoicing the Fortnox order's rows follow the ikas order (RowId rules, fortnox-api.md §5.5); after invoicing
an edit is flagged, and what ikas took back is credited: the whole invoice by Fortnox's credit action, a part by a
credit invoice of the rows (§5.6), never beyond what was invoiced, each refund once however often it is processed
and whatever answer is lost."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bridge_orders.adapters.db.tables import map_tables
from bridge_orders.app.process_order import ProcessOrderResult
from bridge_orders.bootstrap import MIGRATIONS, Services
from bridge_orders.domain.settings import FREIGHT, OrderSettings
from bridge_platform.db import upgrade_to_head

from .test_order_cancellations import cancel_in_ikas, credits_of, originals, writes
from .test_order_documents import (
    ANNA_ADDRESS,
    FAULTS,
    POST,
    STORE,
    TENANT,
    Stack,
    fortnox_url,
    get,
    ikas_url,
    make_stack,
    post,
    stack,
)

__all__ = ["fortnox_url", "ikas_url", "stack"]  # the sandboxes and the stack, module-scoped as there

MUG, JAM = "DEMO-1005", "DEMO-1012"  # 149.00 at 25 %, 59.00 at 12 % (VAT included)
TWO_LINES = [{"sku": MUG, "quantity": 2}, {"sku": JAM, "quantity": 1}]


# -- the ikas side: the merchant's refunds, cancellations and edits ------------------------------------------------


def ikas_lines(stack: Stack, order_id: str) -> list[dict[str, Any]]:
    orders = get(f"{stack.ikas_url}/__admin/state")["stores"][STORE]["orders"]
    (order,) = [o for o in orders if o["id"] == order_id]
    lines: list[dict[str, Any]] = order["orderLineItems"]
    return lines


def line_id(stack: Stack, order_id: str, sku: str) -> str:
    """The id of the order's line of `sku` that is neither refunded nor cancelled."""
    (line,) = [
        line
        for line in ikas_lines(stack, order_id)
        if line["variant"]["sku"] == sku and line["status"] not in ("REFUNDED", "CANCELLED")
    ]
    found: str = line["id"]
    return found


def take_back(
    stack: Stack,
    order_id: str,
    action: str,
    lines: dict[str, int | None],
    *,
    shipping: bool = False,
    split: bool = True,
) -> dict[str, Any]:
    """The merchant refunds or cancels lines in the ikas admin: SKU -> quantity (None: the whole line)."""
    changes = [
        {"id": line_id(stack, order_id, sku), **({} if quantity is None else {"quantity": quantity})}
        for sku, quantity in lines.items()
    ]
    body = {"store": STORE, "id": order_id, "action": action, "lines": changes, "split": split}
    if shipping:
        body["shipping"] = True
    changed: dict[str, Any] = post(f"{stack.ikas_url}/__admin/order-changes", body)
    return changed


def refund(stack: Stack, order_id: str, lines: dict[str, int | None], **options: Any) -> dict[str, Any]:
    return take_back(stack, order_id, "refund", lines, **options)


def edit_lines(stack: Stack, order_id: str, lines: list[dict[str, Any]], **fields: Any) -> None:
    """The merchant edits the order in the ikas admin (the lines rebuilt; `fields`: e.g. billingAddress)."""
    post(f"{stack.ikas_url}/__admin/orders", {"store": STORE, "id": order_id, "lines": lines, **fields})


# -- the Fortnox side ----------------------------------------------------------------------------------------------


def quantities(document: dict[str, Any]) -> dict[str, Decimal]:
    """Article number -> summed DeliveredQuantity of an order's or invoice's rows."""
    rows = document.get("OrderRows", document.get("InvoiceRows", []))
    summed: dict[str, Decimal] = {}
    for row in rows:
        summed[row["ArticleNumber"]] = summed.get(row["ArticleNumber"], Decimal(0)) + Decimal(
            str(row["DeliveredQuantity"])
        )
    return summed


def money(value: Any) -> Decimal:
    return Decimal(str(value))


def invoiced(stack: Stack, order_id: str) -> dict[str, Any]:
    (invoice,) = originals(stack, order_id)
    return invoice


def credited_in_total(stack: Stack, invoice: dict[str, Any]) -> dict[str, Decimal]:
    """What the invoice's credit invoices credit together, per article (positive), with "freight" and "total"."""
    credits = credits_of(stack, invoice["DocumentNumber"])
    summed: dict[str, Decimal] = {}
    for credit in credits:
        for article, quantity in quantities(credit).items():
            summed[article] = summed.get(article, Decimal(0)) - quantity
    summed["freight"] = -sum((money(c["Freight"]) for c in credits), Decimal(0))
    summed["total"] = -sum((money(c["Total"]) for c in credits), Decimal(0))
    return summed


def numbers(*credits: dict[str, Any]) -> set[str]:
    return {c["DocumentNumber"] for c in credits}


def assert_never_beyond_the_invoice(stack: Stack, invoice: dict[str, Any]) -> None:
    credited = credited_in_total(stack, invoice)
    for article, quantity in quantities(invoice).items():
        assert credited.get(article, Decimal(0)) <= quantity, (article, credited)
    assert set(credited) - {"freight", "total"} <= set(quantities(invoice)), credited
    assert credited["freight"] <= money(invoice["Freight"])
    assert credited["total"] <= money(invoice["Total"])


def outcomes(stack: Stack, order_id: str, step: str) -> list[str]:
    return [a.outcome for a in stack.record(order_id).timeline if a.step == step]


def invoiced_order(stack: Stack, **spec: Any) -> tuple[str, dict[str, Any]]:
    """An ikas order sent to Fortnox and invoiced (create_invoice on), and its invoice."""
    stack.configure(create_invoice=True)
    order_id = stack.ikas_order(**spec)
    assert stack.process(order_id).outcome == "created"
    assert stack.record(order_id).fortnox_state == "invoiced"
    return order_id, invoiced(stack, order_id)


def processed_without_writes(stack: Stack, order_id: str, times: int = 2) -> None:
    """Processing again (a repeated webhook or run) reads and writes nothing in Fortnox."""
    before = writes(stack)
    for _ in range(times):
        assert not stack.process(order_id).wrote
    assert writes(stack) == before


# -- before invoicing: the Fortnox order follows the ikas order ------------------------------------------------


def test_a_line_cancelled_before_invoicing_leaves_the_fortnox_order(stack: Stack) -> None:
    order_id = stack.ikas_order(lines=TWO_LINES)
    stack.process(order_id)
    number = stack.fortnox_order(order_id)["DocumentNumber"]
    take_back(stack, order_id, "cancel", {JAM: None})
    result = stack.process(order_id)
    assert result.wrote
    order = stack.fortnox_order(order_id)
    assert (order["DocumentNumber"], quantities(order)) == (number, {MUG: 2})
    record = stack.record(order_id)
    assert (record.fortnox_state, record.error, record.edited_after_invoice) == ("order", None, False)
    assert outcomes(stack, order_id, "update_fortnox_order") == ["started", "updated"]
    assert len(stack.fortnox_calls("PUT", f"/3/orders/{number}")) == 1
    processed_without_writes(stack, order_id)
    assert outcomes(stack, order_id, "update_fortnox_order") == ["started", "updated"]
    assert stack.invoices(order_id) == []


def test_a_part_of_a_line_cancelled_before_invoicing_lowers_the_row(stack: Stack) -> None:
    order_id = stack.ikas_order(lines=TWO_LINES)
    stack.process(order_id)
    take_back(stack, order_id, "cancel", {MUG: 1})
    mugs = [(Decimal(line["quantity"]), line["status"]) for line in ikas_lines(stack, order_id)][:2]
    assert mugs == [(1, "UNFULFILLED"), (1, "CANCELLED")]  # ikas split the line
    stack.process(order_id)
    order = stack.fortnox_order(order_id)
    assert quantities(order) == {MUG: 1, JAM: 1}
    (mug,) = [r for r in order["OrderRows"] if r["ArticleNumber"] == MUG]
    assert (money(mug["OrderedQuantity"]), money(mug["DeliveredQuantity"]), money(mug["Price"])) == (1, 1, 149)
    assert outcomes(stack, order_id, "update_fortnox_order") == ["started", "updated"]
    processed_without_writes(stack, order_id)


def test_an_edit_before_invoicing_updates_the_rows_by_the_rowid_rules(stack: Stack) -> None:
    order_id = stack.ikas_order(lines=[{"sku": MUG, "quantity": 2}])
    stack.process(order_id)
    before = stack.fortnox_order(order_id)
    (old_mug,) = before["OrderRows"]
    edit_lines(stack, order_id, [{"sku": MUG, "quantity": 3}, {"sku": JAM, "quantity": 1}])
    assert stack.process(order_id).wrote
    after = stack.fortnox_order(order_id)
    assert after["DocumentNumber"] == before["DocumentNumber"]
    assert [r["ArticleNumber"] for r in after["OrderRows"]] == [MUG, JAM]  # no duplicate rows
    assert quantities(after) == {MUG: 3, JAM: 1}
    mug, jam = after["OrderRows"]
    assert (money(mug["Price"]), money(jam["Price"]), jam["VAT"]) == (149, 59, 12)
    assert mug["RowId"] != old_mug["RowId"]  # Fortnox regenerated them: Bridge re-reads, never reuses old ones
    # One update: the mug row kept by its RowId (its quantity updated), the jam row added.
    assert len(stack.fortnox_calls("PUT", f"/3/orders/{before['DocumentNumber']}")) == 1
    assert outcomes(stack, order_id, "update_fortnox_order") == ["started", "updated"]
    processed_without_writes(stack, order_id)
    edit_lines(stack, order_id, [{"sku": JAM, "quantity": 2}])  # a second edit reads the new RowIds
    stack.process(order_id)
    assert quantities(stack.fortnox_order(order_id)) == {JAM: 2}
    record = stack.record(order_id)
    assert (record.error, outcomes(stack, order_id, "update_fortnox_order")) == (
        None,
        ["started", "updated", "started", "updated"],
    )


def test_an_address_edit_before_invoicing_updates_the_fortnox_order(stack: Stack) -> None:
    order_id = stack.ikas_order(lines=TWO_LINES)
    stack.process(order_id)
    moved = {**ANNA_ADDRESS, "addressLine1": "Drottninggatan 9", "postalCode": "753 10", "city": "Uppsala"}
    edit_lines(stack, order_id, TWO_LINES, billingAddress=moved)  # the same lines, a new billing address
    assert stack.process(order_id).wrote
    order = stack.fortnox_order(order_id)
    assert (order["Address1"], order["ZipCode"], order["City"]) == ("Drottninggatan 9", "753 10", "Uppsala")
    assert quantities(order) == {MUG: 2, JAM: 1}
    assert outcomes(stack, order_id, "update_fortnox_order") == ["started", "updated"]
    processed_without_writes(stack, order_id)


def test_an_edit_of_lines_and_address_before_invoicing_updates_both(stack: Stack) -> None:
    order_id = stack.ikas_order(lines=TWO_LINES)
    stack.process(order_id)
    moved = {**ANNA_ADDRESS, "addressLine1": "Kungsgatan 3", "city": "Lund"}
    edit_lines(stack, order_id, [{"sku": MUG, "quantity": 1}], billingAddress=moved)
    stack.process(order_id)
    order = stack.fortnox_order(order_id)
    assert (quantities(order), order["Address1"], order["City"]) == ({MUG: 1}, "Kungsgatan 3", "Lund")
    processed_without_writes(stack, order_id)


def test_a_dropped_answer_on_the_order_update_updates_it_once(stack: Stack) -> None:
    order_id = stack.ikas_order(lines=TWO_LINES)
    stack.process(order_id)
    number = stack.fortnox_order(order_id)["DocumentNumber"]
    take_back(stack, order_id, "cancel", {MUG: 1})
    stack.fortnox_fault(method="PUT", path=f"^/3/orders/{number}$", **FAULTS["drop_after"])
    first = stack.process(order_id)
    record = stack.record(order_id)
    assert (first.outcome, record.intent) == ("unknown", "update_fortnox_order")
    assert quantities(stack.fortnox_order(order_id)) == {MUG: 1, JAM: 1}  # it happened; the answer was lost
    assert stack.process(order_id).outcome == "busy"
    stack.settle()
    stack.process(order_id)
    record = stack.record(order_id)
    assert (record.intent, record.error, record.fortnox_state) == (None, None, "order")
    assert quantities(stack.fortnox_order(order_id)) == {MUG: 1, JAM: 1}
    assert len(stack.fortnox_calls("PUT", f"/3/orders/{number}")) == 1  # re-read and found right: not sent again
    assert outcomes(stack, order_id, "update_fortnox_order") == ["started", "unknown", "resumed", "found"]
    processed_without_writes(stack, order_id)


@pytest.mark.parametrize(
    ("action", "lines", "invoiced_rows"),
    [
        ("cancel", {JAM: None}, {MUG: 2}),
        ("cancel", {MUG: 1}, {MUG: 1, JAM: 1}),
        ("refund", {MUG: 1}, {MUG: 1, JAM: 1}),
    ],
    ids=["cancelled-line", "cancelled-part", "refunded-part"],
)
def test_what_the_fortnox_order_followed_before_invoicing_is_not_credited_once_invoiced(
    stack: Stack, action: str, lines: dict[str, int | None], invoiced_rows: dict[str, int]
) -> None:
    """The rows taken back before invoicing left the Fortnox order: its invoice never had them, so nothing of the
    invoice is credited for them (the goods still sold are not credited)."""
    order_id = stack.ikas_order(lines=TWO_LINES, shipping=POST)
    stack.process(order_id)
    take_back(stack, order_id, action, lines)
    stack.process(order_id)
    assert quantities(stack.fortnox_order(order_id)) == invoiced_rows
    stack.configure(create_invoice=True)
    stack.process(order_id)  # the invoice, from the updated order
    invoice = invoiced(stack, order_id)
    assert quantities(invoice) == invoiced_rows
    for _ in range(2):
        stack.process(order_id)
    assert credits_of(stack, invoice["DocumentNumber"]) == []
    record = stack.record(order_id)
    assert (record.fortnox_state, record.error) == ("invoiced", None)
    assert outcomes(stack, order_id, "credit_invoice") == []


def test_a_line_refunded_before_the_order_reached_fortnox_is_never_credited(stack: Stack) -> None:
    """The Fortnox order is made without the refunded part (mapping.py leaves refunded lines out): its invoice is
    for what is still sold, and nothing of it is credited for the earlier refund."""
    order_id = stack.ikas_order(lines=TWO_LINES, shipping=POST)
    refund(stack, order_id, {MUG: 1})  # before Bridge processes the order
    stack.configure(create_invoice=True)
    assert stack.process(order_id).outcome == "created"
    invoice = invoiced(stack, order_id)
    assert quantities(invoice) == {MUG: 1, JAM: 1}
    for _ in range(2):
        stack.process(order_id)
    assert credits_of(stack, invoice["DocumentNumber"]) == []
    assert stack.record(order_id).fortnox_state == "invoiced"


# -- after invoicing: an edit is flagged, never written ------------------------------------------------------------


def test_an_edit_after_invoicing_is_flagged_once_with_advice_and_writes_nothing(stack: Stack) -> None:
    order_id, invoice = invoiced_order(stack, lines=[{"sku": MUG, "quantity": 2}])
    before = writes(stack)
    edit_lines(stack, order_id, [{"sku": MUG, "quantity": 3}])
    assert not stack.process(order_id).wrote
    assert writes(stack) == before
    record = stack.record(order_id)
    assert (record.edited_after_invoice, record.fortnox_state) == (True, "invoiced")
    assert record.edit_advice is not None
    assert "credit" in record.edit_advice
    for _ in range(2):
        assert not stack.process(order_id).wrote
    assert writes(stack) == before
    flagged = [a for a in stack.record(order_id).timeline if a.outcome == "edited_after_invoice"]
    assert len(flagged) == 1
    assert invoice["DocumentNumber"] in flagged[0].detail
    assert quantities(invoiced(stack, order_id)) == {MUG: 2}  # the invoice is as it was
    assert credits_of(stack, invoice["DocumentNumber"]) == []
    edit_lines(stack, order_id, [{"sku": MUG, "quantity": 4}])  # another edit is another entry, also once
    for _ in range(2):
        assert not stack.process(order_id).wrote
    assert writes(stack) == before
    assert outcomes(stack, order_id, "update_fortnox_order") == ["edited_after_invoice", "edited_after_invoice"]


# -- after invoicing: refunds and cancellations are credited -------------------------------------------------------


def test_a_full_refund_credits_the_whole_invoice_by_fortnox_s_credit_action(stack: Stack) -> None:
    order_id, invoice = invoiced_order(stack, lines=TWO_LINES, shipping=POST)
    refunded = refund(stack, order_id, {MUG: None, JAM: None}, shipping=True)
    assert refunded["status"] == "REFUNDED"
    assert stack.process(order_id).wrote
    (credit,) = credits_of(stack, invoice["DocumentNumber"])
    invoice = invoiced(stack, order_id)
    assert (invoice["CreditInvoiceReference"], invoice["Booked"]) == (credit["DocumentNumber"], True)
    assert quantities(credit) == {MUG: -2, JAM: -1}
    assert (money(credit["Freight"]), money(credit["Total"])) == (-money(invoice["Freight"]), -money(invoice["Total"]))
    assert len(stack.fortnox_calls("PUT", "/credit")) == 1
    assert stack.fortnox_calls("POST", "/3/invoices") == []  # no credit invoice of rows: the action did it
    record = stack.record(order_id)
    assert (record.fortnox_state, record.error, record.edited_after_invoice) == ("credited", None, False)
    assert outcomes(stack, order_id, "credit_invoice") == ["started", "credited"]
    processed_without_writes(stack, order_id)
    assert len(credits_of(stack, invoice["DocumentNumber"])) == 1


def test_successive_partial_refunds_credit_the_refunded_rows_never_beyond_the_invoice(stack: Stack) -> None:
    assert OrderSettings().shipping == FREIGHT  # the default: shipping is the invoice's Freight, credited as such
    order_id, invoice = invoiced_order(stack, lines=TWO_LINES, shipping=POST)
    number = invoice["DocumentNumber"]
    freight = money(invoice["Freight"])
    assert freight == Decimal("39.2")

    assert refund(stack, order_id, {MUG: 1})["status"] == "PARTIALLY_REFUNDED"
    assert stack.process(order_id).wrote
    (first,) = credits_of(stack, number)
    assert (quantities(first), money(first["Freight"]), str(first["CreditInvoiceReference"])) == (
        {MUG: -1},
        0,
        number,
    )
    (mug,) = first["InvoiceRows"]
    assert (money(mug["Price"]), mug["VAT"]) == (149, 25)  # the invoice's price of the row
    assert stack.record(order_id).fortnox_state == "partially_credited"
    assert_never_beyond_the_invoice(stack, invoice)

    refund(stack, order_id, {JAM: None})
    assert stack.process(order_id).wrote
    second = next(c for c in credits_of(stack, number) if c["DocumentNumber"] != first["DocumentNumber"])
    assert quantities(second) == {JAM: -1}  # only what this refund took back: the mug is credited already
    assert len(credits_of(stack, number)) == 2
    assert stack.record(order_id).fortnox_state == "partially_credited"  # shipping and one mug are still sold
    assert_never_beyond_the_invoice(stack, invoice)
    credits = stack.fortnox_calls("POST", "/3/invoices")
    assert len(credits) == 2  # each a credit invoice with CreditInvoiceReference; no credit action
    assert stack.fortnox_calls("PUT", "/credit") == []

    refund(stack, order_id, {}, shipping=True)  # the shipping: its freight, nothing else
    stack.process(order_id)
    shipping_credit = next(c for c in credits_of(stack, number) if c["DocumentNumber"] not in numbers(first, second))
    assert (quantities(shipping_credit), money(shipping_credit["Freight"])) == ({}, -freight)
    assert stack.record(order_id).fortnox_state == "partially_credited"  # the other mug is still sold
    assert_never_beyond_the_invoice(stack, invoice)

    refunded = refund(stack, order_id, {MUG: None})  # the last mug: everything is refunded now
    assert refunded["status"] == "REFUNDED"
    stack.process(order_id)
    credits_now = credits_of(stack, number)
    assert len(credits_now) == 4
    total = credited_in_total(stack, invoice)
    assert (total[MUG], total[JAM], total["freight"], total["total"]) == (2, 1, freight, money(invoice["Total"]))
    record = stack.record(order_id)
    assert (record.fortnox_state, record.error, record.edited_after_invoice) == ("credited", None, False)
    assert outcomes(stack, order_id, "credit_invoice").count("credited") == 4
    processed_without_writes(stack, order_id)


def test_a_partial_cancellation_after_invoicing_credits_the_cancelled_rows(stack: Stack) -> None:
    order_id, invoice = invoiced_order(stack, lines=TWO_LINES, shipping=POST)
    assert take_back(stack, order_id, "cancel", {MUG: 1, JAM: None})["status"] == "PARTIALLY_CANCELLED"
    assert stack.process(order_id).wrote
    (credit,) = credits_of(stack, invoice["DocumentNumber"])
    assert (quantities(credit), money(credit["Freight"])) == ({MUG: -1, JAM: -1}, 0)
    assert money(credit["Total"]) == -(149 + 59)
    record = stack.record(order_id)
    assert (record.fortnox_state, record.error, record.edited_after_invoice) == ("partially_credited", None, False)
    assert stack.fortnox_order(order_id)["Cancelled"] is False  # invoiced: credited, not cancelled
    processed_without_writes(stack, order_id)


def test_cancelling_the_whole_order_after_a_partial_refund_credits_only_the_rest(stack: Stack) -> None:
    order_id, invoice = invoiced_order(stack, lines=TWO_LINES, shipping=POST)
    refund(stack, order_id, {MUG: 1})
    stack.process(order_id)
    (first,) = credits_of(stack, invoice["DocumentNumber"])
    cancel_in_ikas(stack, order_id)
    assert stack.process(order_id).wrote
    credits = credits_of(stack, invoice["DocumentNumber"])
    assert len(credits) == 2
    (rest,) = [c for c in credits if c["DocumentNumber"] != first["DocumentNumber"]]
    assert (quantities(rest), money(rest["Freight"])) == ({MUG: -1, JAM: -1}, -money(invoice["Freight"]))
    assert sum(money(c["Total"]) for c in credits) == -money(invoice["Total"])
    assert stack.fortnox_calls("PUT", "/credit") == []  # the credit action would credit the whole invoice again
    record = stack.record(order_id)
    assert (record.fortnox_state, record.error) == ("credited", None)
    processed_without_writes(stack, order_id)
    assert len(credits_of(stack, invoice["DocumentNumber"])) == 2


def test_shipping_as_an_order_row_is_credited_as_its_row(stack: Stack) -> None:
    stack.configure(create_invoice=True, shipping="order_row", shipping_article_number="FX-2001")
    order_id = stack.ikas_order(lines=TWO_LINES, shipping=POST)
    stack.process(order_id)
    invoice = invoiced(stack, order_id)
    assert (quantities(invoice), money(invoice["Freight"])) == ({MUG: 2, JAM: 1, "FX-2001": 1}, 0)
    refund(stack, order_id, {}, shipping=True)
    stack.process(order_id)
    (credit,) = credits_of(stack, invoice["DocumentNumber"])
    assert [
        (r["ArticleNumber"], r["Description"], money(r["DeliveredQuantity"]), money(r["Price"]))
        for r in credit["InvoiceRows"]
    ] == [("FX-2001", "PostNord", -1, 49)]
    assert stack.record(order_id).fortnox_state == "partially_credited"
    refund(stack, order_id, {MUG: None, JAM: None})
    stack.process(order_id)
    assert credited_in_total(stack, invoice) == {
        MUG: 2,
        JAM: 1,
        "FX-2001": 1,
        "freight": 0,
        "total": money(invoice["Total"]),
    }
    assert stack.record(order_id).fortnox_state == "credited"


def test_a_part_of_a_line_sold_by_weight_is_credited_in_its_unit(stack: Stack) -> None:
    order_id, invoice = invoiced_order(stack, lines=[{"sku": "DEMO-1015", "quantity": 2}])  # 500 g bags, per kg
    (row,) = invoice["InvoiceRows"]
    assert (row["Unit"], money(row["DeliveredQuantity"]), money(row["Price"])) == ("kg", 1, 238)
    refund(stack, order_id, {"DEMO-1015": 1})
    stack.process(order_id)
    (credit,) = credits_of(stack, invoice["DocumentNumber"])
    (credited,) = credit["InvoiceRows"]
    assert (credited["Unit"], money(credited["DeliveredQuantity"]), money(credited["Price"])) == ("kg", -0.5, 238)
    assert stack.record(order_id).fortnox_state == "partially_credited"


def test_an_invoice_credited_by_hand_in_fortnox_is_not_credited_again(stack: Stack) -> None:
    order_id, invoice = invoiced_order(stack, lines=TWO_LINES, shipping=POST)
    number = invoice["DocumentNumber"]
    stack.fortnox.bookkeep_invoice(TENANT, number)
    by_hand = stack.fortnox.credit_invoice(TENANT, number)  # the merchant credits it in Fortnox
    refund(stack, order_id, {MUG: None, JAM: None}, shipping=True)
    assert not stack.process(order_id).wrote
    (credit,) = credits_of(stack, number)
    assert credit["DocumentNumber"] == by_hand
    record = stack.record(order_id)
    assert (record.fortnox_state, record.error) == ("credited", None)
    assert outcomes(stack, order_id, "credit_invoice") == ["started", "found"]


def test_a_refund_after_the_payment_credits_and_never_pays_again(stack: Stack) -> None:
    stack.configure(create_invoice=True, register_payments=True, modes_of_payment={"CREDIT_CARD": "KORT"})
    order_id = stack.ikas_order(lines=TWO_LINES, shipping=POST)  # paid by card (the sandbox's default)
    stack.process(order_id)
    invoice = invoiced(stack, order_id)
    assert stack.record(order_id).fortnox_state == "paid"
    refund(stack, order_id, {JAM: None})
    assert stack.process(order_id).wrote
    (credit,) = credits_of(stack, invoice["DocumentNumber"])
    assert quantities(credit) == {JAM: -1}
    record = stack.record(order_id)
    assert (record.fortnox_state, record.error) == ("partially_credited", None)
    processed_without_writes(stack, order_id)
    payments = [
        p
        for p in stack.company().get("invoicepayments", {}).values()
        if str(p["InvoiceNumber"]) == invoice["DocumentNumber"]
    ]
    assert len(payments) == 1  # the payment stays the one registered before the refund
    assert outcomes(stack, order_id, "register_payment") == ["started", "created"]


def test_a_refund_with_follow_refunds_off_writes_nothing(stack: Stack) -> None:
    order_id, invoice = invoiced_order(stack, lines=TWO_LINES, shipping=POST)
    stack.configure(create_invoice=True, follow_refunds=False)
    before = writes(stack)
    refund(stack, order_id, {MUG: 1})
    assert not stack.process(order_id).wrote
    refund(stack, order_id, {MUG: None, JAM: None}, shipping=True)  # even the whole order
    assert not stack.process(order_id).wrote
    assert writes(stack) == before
    assert credits_of(stack, invoice["DocumentNumber"]) == []
    record = stack.record(order_id)
    assert (record.fortnox_state, record.error, record.edited_after_invoice) == ("invoiced", None, False)
    assert outcomes(stack, order_id, "credit_invoice") == []


def test_a_dropped_answer_on_the_credit_invoice_makes_one_credit_invoice(stack: Stack) -> None:
    order_id, invoice = invoiced_order(stack, lines=TWO_LINES, shipping=POST)
    number = invoice["DocumentNumber"]
    refund(stack, order_id, {MUG: 1})
    stack.fortnox_fault(method="POST", path="/3/invoices$", **FAULTS["drop_after"])
    first = stack.process(order_id)
    record = stack.record(order_id)
    assert (first.outcome, record.intent, record.fortnox_state) == ("unknown", "credit_invoice", "invoiced")
    assert len(credits_of(stack, number)) == 1  # it happened; the answer was lost
    assert stack.process(order_id).outcome == "busy"  # the unknown outcome settles first
    assert len(credits_of(stack, number)) == 1
    stack.settle()
    stack.process(order_id)
    record = stack.record(order_id)
    assert (record.fortnox_state, record.intent, record.error) == ("partially_credited", None, None)
    (credit,) = credits_of(stack, number)
    assert quantities(credit) == {MUG: -1}
    assert len(stack.fortnox_calls("POST", "/3/invoices")) == 1
    assert outcomes(stack, order_id, "credit_invoice") == ["started", "unknown", "resumed", "found"]
    processed_without_writes(stack, order_id)


@pytest.fixture
def any_stack(fortnox_url: str, ikas_url: str, database_url: str, tmp_path: Path) -> Stack:
    """The stack on each engine in turn (SQLite, PostgreSQL): what Bridge follows is stored between passes."""
    post(f"{fortnox_url}/__admin/reset")
    post(f"{fortnox_url}/__admin/seed", {"dataset": "demo"})
    post(f"{fortnox_url}/__admin/rate-limit", {"limit": 100_000, "window_s": 5})
    for _ in range(2):
        post(f"{ikas_url}/__admin/reset")
    post(f"{ikas_url}/__admin/rate-limit", {"limit": 100_000, "window_s": 10})
    upgrade_to_head(MIGRATIONS, database_url)
    map_tables()
    return make_stack(fortnox_url, ikas_url, database_url, tmp_path)


def test_processing_a_refunded_order_again_and_again_credits_it_once(any_stack: Stack) -> None:
    stack = any_stack
    order_id, invoice = invoiced_order(stack, lines=TWO_LINES, shipping=POST)
    refund(stack, order_id, {JAM: None})
    results = [stack.process(order_id) for _ in range(3)]
    assert [r.wrote for r in results] == [True, False, False]
    (credit,) = credits_of(stack, invoice["DocumentNumber"])
    assert quantities(credit) == {JAM: -1}
    assert len(stack.fortnox_calls("POST", "/3/invoices")) == 1
    assert outcomes(stack, order_id, "credit_invoice") == ["started", "credited"]
    refund(stack, order_id, {MUG: 1})  # a second refund is its own credit, once too
    results = [stack.process(order_id) for _ in range(3)]
    assert [r.wrote for r in results] == [True, False, False]
    assert len(credits_of(stack, invoice["DocumentNumber"])) == 2
    assert stack.record(order_id).fortnox_state == "partially_credited"


def test_two_workers_processing_a_refunded_order_at_once_credit_it_once(any_stack: Stack) -> None:
    stack = any_stack
    order_id, invoice = invoiced_order(stack, lines=TWO_LINES, shipping=POST)
    refund(stack, order_id, {MUG: 1})
    workers = [stack.services(), stack.services()]
    barrier = threading.Barrier(2)
    results: list[ProcessOrderResult] = []
    errors: list[BaseException] = []

    def work(services: Services) -> None:
        barrier.wait()
        try:
            results.append(stack.process(order_id, services))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(services,)) for services in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert {r.outcome for r in results} <= {"already_sent", "busy"}
    stack.process(order_id)  # whatever a busy worker left is done now, once
    (credit,) = credits_of(stack, invoice["DocumentNumber"])
    assert quantities(credit) == {MUG: -1}
    assert len(stack.fortnox_calls("POST", "/3/invoices")) == 1
    record = stack.record(order_id)
    assert (record.fortnox_state, record.intent, record.error) == ("partially_credited", None, None)


def test_a_whole_line_refund_credits_the_same_whether_ikas_splits_it_or_not(stack: Stack) -> None:
    """The whole-line reading (split=false: the line's own status) and the split reading (the line refunded in
    parts, each its own REFUNDED line with originalOrderLineItemId) of the same refund give the same credit."""
    credited: list[list[tuple[str, Decimal, Decimal, int]]] = []
    for reading in ("whole", "split"):
        order_id, invoice = invoiced_order(stack, lines=TWO_LINES, shipping=POST)
        if reading == "whole":
            refund(stack, order_id, {MUG: None}, split=False)
        else:
            refund(stack, order_id, {MUG: 1})
            refund(stack, order_id, {MUG: 1})  # the rest of the line: both halves now REFUNDED lines
            mugs = [line for line in ikas_lines(stack, order_id) if line["variant"]["sku"] == MUG]
            assert [(Decimal(m["quantity"]), m["status"]) for m in mugs] == [(1, "REFUNDED"), (1, "REFUNDED")]
            assert mugs[1]["originalOrderLineItemId"] == mugs[0]["id"]
        stack.process(order_id)
        (credit,) = credits_of(stack, invoice["DocumentNumber"])
        credited.append(
            [
                (r["ArticleNumber"], money(r["DeliveredQuantity"]), money(r["Price"]), r["VAT"])
                for r in credit["InvoiceRows"]
            ]
        )
        assert stack.record(order_id).fortnox_state == "partially_credited"
    assert credited[0] == credited[1] == [(MUG, Decimal(-2), Decimal(149), 25)]
