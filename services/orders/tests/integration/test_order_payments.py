"""register_payment against the Fortnox and ikas sandboxes as real processes over HTTP (product.md §5b): one
bookkept payment of the invoice's total with the mapped mode of payment, whether the ikas order was paid before or
after its invoice; an unmapped method a note until mapped; a dropped answer on the payment POST and two concurrent
calls still end with one payment."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

from bridge_orders.adapters.db.tables import map_tables
from bridge_orders.app.process_order import ProcessOrderResult
from bridge_orders.bootstrap import MIGRATIONS, Services
from bridge_platform.db import upgrade_to_head

from .test_order_documents import (
    FAULTS,
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

PAYING: dict[str, Any] = {
    "create_invoice": True,
    "register_payments": True,
    "modes_of_payment": {"CREDIT_CARD": "KORT"},
}


def payments(stack: Stack, invoice_number: str) -> list[dict[str, Any]]:
    return [p for p in stack.company().get("invoicepayments", {}).values() if str(p["InvoiceNumber"]) == invoice_number]


def _calls(stack: Stack) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = get(f"{stack.fortnox_url}/__admin/calls")
    return calls


def writes(stack: Stack) -> list[str]:
    return [f"{c['method']} {c['path']}" for c in _calls(stack) if c["method"] != "GET"]


def assert_paid_once(stack: Stack, order_id: str, mode: str = "KORT") -> dict[str, Any]:
    record = stack.record(order_id)
    assert (record.fortnox_state, record.error, record.intent) == ("paid", None, None)
    (invoice,) = stack.invoices(order_id)
    assert invoice["DocumentNumber"] == record.fortnox_invoice_number
    (payment,) = payments(stack, invoice["DocumentNumber"])
    assert Decimal(str(payment["AmountCurrency"])) == Decimal(str(invoice["Total"]))
    assert (payment["ModeOfPayment"], payment["Booked"]) == (mode, True)
    assert (invoice["Booked"], invoice["FullyPaid"], Decimal(str(invoice["Balance"]))) == (True, True, 0)
    return payment


def test_a_paid_order_is_paid_once_after_invoicing(stack: Stack) -> None:
    stack.configure(**PAYING)
    order_id = stack.ikas_order()
    result = stack.process(order_id)
    assert (result.outcome, result.wrote) == ("created", True)
    assert_paid_once(stack, order_id)
    before = writes(stack)
    assert (again := stack.process(order_id)).outcome == "already_sent"
    assert not again.wrote
    assert writes(stack) == before
    timeline = [(a.step, a.outcome) for a in stack.record(order_id).timeline if a.step == "register_payment"]
    assert timeline == [("register_payment", "started"), ("register_payment", "created")]


def test_paid_before_invoicing_is_paid_when_the_invoice_is_made(stack: Stack) -> None:
    stack.configure(**{**PAYING, "create_invoice": False})
    order_id = stack.ikas_order()
    stack.process(order_id)
    assert (stack.record(order_id).fortnox_state, stack.invoices(order_id)) == ("order", [])
    stack.configure(**PAYING)
    stack.process(order_id)
    assert_paid_once(stack, order_id)


def test_invoiced_then_paid_in_ikas_is_paid_then(stack: Stack) -> None:
    stack.configure(**PAYING)
    order_id = stack.ikas_order(orderPaymentStatus="WAITING")
    stack.process(order_id)
    record = stack.record(order_id)
    assert record.fortnox_state == "invoiced"
    assert record.fortnox_invoice_number is not None
    assert payments(stack, record.fortnox_invoice_number) == []
    post(f"{stack.ikas_url}/__admin/orders", {"store": "demo", "id": order_id, "orderPaymentStatus": "PAID"})
    stack.process(order_id)
    assert_paid_once(stack, order_id)


def test_an_unmapped_payment_method_is_a_note_until_it_is_mapped(stack: Stack) -> None:
    stack.configure(**PAYING)
    order_id = stack.ikas_order(paymentMethod="BANK_REDIRECT")
    stack.process(order_id)
    stack.process(order_id)
    record = stack.record(order_id)
    assert (record.status, record.fortnox_state) == ("error", "invoiced")
    assert record.error is not None
    assert record.error.hint is not None
    assert "map the ikas payment method BANK_REDIRECT in orders.modes_of_payment" in record.error.hint
    assert record.fortnox_invoice_number is not None
    assert payments(stack, record.fortnox_invoice_number) == []
    assert not any(c["path"].startswith("/3/invoicepayments") for c in _calls(stack))  # no call made for it
    stack.configure(**{**PAYING, "modes_of_payment": {"BANK_REDIRECT": "BG"}})
    stack.process(order_id)
    assert_paid_once(stack, order_id, mode="BG")
    assert stack.record(order_id).status == "created"


def test_a_dropped_answer_on_the_payment_post_registers_no_second_payment(stack: Stack) -> None:
    stack.configure(**PAYING)
    order_id = stack.ikas_order()
    stack.fortnox_fault(method="POST", path="^/3/invoicepayments$", **FAULTS["drop_after"])
    first = stack.process(order_id)
    record = stack.record(order_id)
    assert (first.outcome, record.intent, record.fortnox_state) == ("unknown", "register_payment", "invoiced")
    assert record.fortnox_invoice_number is not None
    assert len(payments(stack, record.fortnox_invoice_number)) == 1  # it happened; the answer was lost
    assert stack.process(order_id).outcome == "busy"  # the unknown outcome settles first
    stack.settle()
    stack.process(order_id)
    assert_paid_once(stack, order_id)
    assert len([c for c in _calls(stack) if c["method"] == "POST" and c["path"] == "/3/invoicepayments"]) == 1
    outcomes = [a.outcome for a in stack.record(order_id).timeline if a.step == "register_payment"]
    assert outcomes == ["started", "unknown", "resumed", "found"]


def test_two_concurrent_calls_pay_once(fortnox_url: str, ikas_url: str, database_url: str, tmp_path: Path) -> None:
    post(f"{fortnox_url}/__admin/reset")
    post(f"{fortnox_url}/__admin/seed", {"dataset": "demo"})
    post(f"{fortnox_url}/__admin/rate-limit", {"limit": 100_000, "window_s": 5})
    for _ in range(2):
        post(f"{ikas_url}/__admin/reset")
    upgrade_to_head(MIGRATIONS, database_url)
    map_tables()
    stack = make_stack(fortnox_url, ikas_url, database_url, tmp_path)
    stack.configure(**{**PAYING, "create_invoice": False})
    order_id = stack.ikas_order()
    stack.process(order_id)  # the order first; both workers then race for the invoice and the payment
    stack.configure(**PAYING)
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
    assert_paid_once(stack, order_id)
    assert stack.record(order_id).tenant_id == TENANT
