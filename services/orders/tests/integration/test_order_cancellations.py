"""Following ikas cancellations against the Fortnox and ikas sandboxes as real processes over HTTP (product.md §5b):
the Fortnox order cancelled before invoicing; the invoice bookkept and credited once after; a repeated webhook or
run does nothing more; a dropped answer on the credit still makes one credit invoice."""

from __future__ import annotations

from typing import Any

from .test_order_documents import FAULTS, Stack, fortnox_url, get, ikas_url, post, stack

__all__ = ["fortnox_url", "ikas_url", "stack"]  # the sandboxes and the stack, module-scoped as there


def cancel_in_ikas(stack: Stack, order_id: str) -> None:
    post(f"{stack.ikas_url}/__admin/orders", {"store": "demo", "id": order_id, "status": "CANCELLED"})


def writes(stack: Stack) -> list[str]:
    calls: list[dict[str, Any]] = get(f"{stack.fortnox_url}/__admin/calls")
    return [f"{c['method']} {c['path']}" for c in calls if c["method"] != "GET"]


def originals(stack: Stack, order_id: str) -> list[dict[str, Any]]:
    """The order's invoices, not its credit invoices (a credit invoice carries the original's key too)."""
    return [i for i in stack.invoices(order_id) if i.get("Credit") != "true"]


def credits_of(stack: Stack, invoice_number: str) -> list[dict[str, Any]]:
    return [
        i
        for i in stack.company().get("invoices", {}).values()
        if i.get("Credit") == "true" and str(i.get("CreditInvoiceReference")) == invoice_number
    ]


def test_cancelled_before_invoicing_cancels_the_fortnox_order_once(stack: Stack) -> None:
    order_id = stack.ikas_order()
    stack.process(order_id)
    cancel_in_ikas(stack, order_id)
    result = stack.process(order_id)
    assert result.wrote
    order = stack.fortnox_order(order_id)
    record = stack.record(order_id)
    assert (order["Cancelled"], record.fortnox_state, record.error) == (True, "cancelled", None)
    assert [a.outcome for a in record.timeline if a.step == "cancel_fortnox_order"] == ["started", "cancelled"]
    before = writes(stack)
    stack.configure(create_invoice=True)  # a cancelled order is not invoiced afterwards
    for _ in range(2):  # a repeated webhook or run re-reads the order and finds it done
        assert not stack.process(order_id).wrote
    assert (writes(stack), stack.invoices(order_id)) == (before, [])


def test_cancelled_after_invoicing_credits_the_invoice_once(stack: Stack) -> None:
    stack.configure(create_invoice=True)
    order_id = stack.ikas_order()
    stack.process(order_id)
    cancel_in_ikas(stack, order_id)
    stack.process(order_id)
    record = stack.record(order_id)
    (invoice,) = originals(stack, order_id)
    (credit,) = credits_of(stack, invoice["DocumentNumber"])
    assert (invoice["Booked"], invoice["CreditInvoiceReference"]) == (True, credit["DocumentNumber"])
    assert (record.fortnox_state, record.error) == ("credited", None)
    assert stack.fortnox_order(order_id)["Cancelled"] is False  # invoiced: credited, not cancelled
    assert f"credit invoice {credit['DocumentNumber']}" in record.timeline[-1].detail
    before = writes(stack)
    for _ in range(2):
        assert not stack.process(order_id).wrote
    assert writes(stack) == before
    assert len(credits_of(stack, invoice["DocumentNumber"])) == 1


def test_a_dropped_answer_on_the_credit_makes_one_credit_invoice(stack: Stack) -> None:
    stack.configure(create_invoice=True)
    order_id = stack.ikas_order()
    stack.process(order_id)
    cancel_in_ikas(stack, order_id)
    stack.fortnox_fault(method="PUT", path="/credit$", **FAULTS["drop_after"])
    first = stack.process(order_id)
    record = stack.record(order_id)
    assert (first.outcome, record.intent, record.fortnox_state) == ("unknown", "credit_invoice", "invoiced")
    (invoice,) = originals(stack, order_id)
    assert len(credits_of(stack, invoice["DocumentNumber"])) == 1  # it happened; the answer was lost
    assert stack.process(order_id).outcome == "busy"
    stack.settle()
    stack.process(order_id)
    record = stack.record(order_id)
    assert (record.fortnox_state, record.intent, record.error) == ("credited", None, None)
    assert len(credits_of(stack, invoice["DocumentNumber"])) == 1
    assert len(stack.fortnox_calls("PUT", "/credit")) == 1
    outcomes = [a.outcome for a in record.timeline if a.step == "credit_invoice"]
    assert outcomes == ["started", "unknown", "resumed", "found"]
