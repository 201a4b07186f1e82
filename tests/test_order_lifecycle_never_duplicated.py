"""Nothing twice after transfer (product.md §5b, issue #8): the orders process is SIGKILLed at each write that
follows an order after it reached Fortnox — the invoice payment, the credit invoice of a cancelled order, the
cancellation of a not yet invoiced Fortnox order, the credit invoice of a partial refund, the update of a Fortnox
order after a partial cancellation — at the worst moment: Fortnox has done the work and its answer is still on the
way (a delay fault). After the supervisor's restart and the run ledger's hand-over, the Fortnox sandbox's own
documents must show one payment, one credit invoice, one cancellation per ikas order, one credit invoice per refund
and the order's rows as ikas has them. A refund of one tenant's order changes nothing of another tenant's.

Mirrors tests/test_order_never_duplicated.py (its helpers are reused from there) on a stack of this module's own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import RUNNING_LINE, START_TIMEOUT_S, DevProcess, launch_dev
from tests.merchants import (
    Urls,
    connect_fortnox,
    fortnox_table,
    fortnox_writes,
    ikas_store,
    installed,
    started,
    wait_for,
)
from tests.test_order_never_duplicated import (
    ANSWER_DELAY_S,
    DEMO_AB,
    EFFECT_TIMEOUT_S,
    LONG_AGO,
    RECOVERY_TIMEOUT_S,
    Shop,
    clear_faults,
    drain,
    finished,
    fortnox_documents,
    inject,
    kill_orders,
    new_order,
    record_of,
    until,
)

MODE_OF_PAYMENT = "KORT"  # one of the Fortnox sandbox's seeded modes (fortnox/payments.py); the card's in Fortnox
RESUMED = ("found", "resumed", "unknown")  # the outcomes of a step whose earlier attempt's answer was lost


@pytest.fixture(scope="module")
def lifecycle_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevProcess]:
    dev = launch_dev(
        tmp_path_factory.mktemp("lifecycle-crash"),
        BRIDGE_ORDER_CLAIM_LEASE_S="10",
        BRIDGE_SYNC_INTERVAL_S="3600",  # only webhooks and the tests start work
    )
    try:
        dev.wait_for_output(RUNNING_LINE, START_TIMEOUT_S)
        yield dev
    finally:
        dev.kill_everything()


@pytest.fixture(scope="module")
def shop(lifecycle_stack: DevProcess) -> Iterator[Shop]:
    urls = Urls.of(lifecycle_stack)
    merchant = installed(urls, "demo")
    connect_fortnox(urls, merchant, DEMO_AB)
    (match,) = started(merchant.post("/api/v1/products/match"))
    assert wait_for(merchant, match["id"])["state"] == "succeeded"
    configure(merchant, sync_automatically=True, sync_from=LONG_AGO, send_invoice_email=False)
    drain(merchant)  # the seeded orders go out first, so each kill below hits the one order it is about
    lines = merchant.get("/api/v1/products", params={"page_size": 200}).json()["items"]
    related = [line for line in lines if line["fortnox_article_number"] and line["status"] in ("synced", "pending")]
    yield Shop(urls, merchant, lifecycle_stack, related[0]["sku"])
    merchant.close()


def configure(merchant: httpx.Client, **orders: Any) -> None:
    document = merchant.get("/api/v1/settings").json()
    document["orders"].update(orders)
    answer = merchant.put("/api/v1/settings", json=document)
    assert answer.status_code == 200, answer.text


def cancel_in_ikas(shop: Shop, order: dict[str, Any]) -> None:
    """The merchant cancels the order in the ikas admin; its store/order/updated webhook wakes Bridge."""
    answer = httpx.post(
        f"{shop.urls.ikas}/__admin/orders", json={"store": "demo", "id": order["id"], "status": "CANCELLED"}, timeout=10
    )
    assert answer.status_code == 200, answer.text


def originals(shop: Shop, order: dict[str, Any]) -> list[dict[str, Any]]:
    """The order's invoices, not its credit invoices (a credit invoice carries the original's key too)."""
    return [i for i in fortnox_documents(shop, "invoices", order["id"]) if i.get("Credit") != "true"]


def credits_of(shop: Shop, order: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in fortnox_documents(shop, "invoices", order["id"]) if i.get("Credit") == "true"]


def payments_of(shop: Shop, invoice_number: str) -> list[dict[str, Any]]:
    payments = fortnox_table(shop.urls, DEMO_AB, "invoicepayments").values()
    return [p for p in payments if str(p["InvoiceNumber"]) == invoice_number]


def reached(shop: Shop, order: dict[str, Any], fortnox_state: str, *, attached: bool) -> dict[str, Any]:
    """Waits until the order's record shows `fortnox_state` with no step of the export left (the PDF attached, when
    the order is invoiced), so whatever follows is the one step the test is about."""

    def done() -> dict[str, Any] | None:
        record = record_of(shop, order)
        if record is None or record["fortnox_state"] != fortnox_state:
            return None
        return record if not attached or record["invoice_attached_at"] is not None else None

    result: dict[str, Any] = until(done, RECOVERY_TIMEOUT_S, f"{order['orderNumber']} to be {fortnox_state}", shop.dev)
    return result


def settle(shop: Shop, order: dict[str, Any], fortnox_state: str) -> dict[str, Any]:
    """Waits, across the orders process's restart, until the order's record shows `fortnox_state`; a run started
    now picks up whatever the crash left."""
    deadline = time.monotonic() + RECOVERY_TIMEOUT_S
    while time.monotonic() < deadline:
        record = record_of(shop, order)
        if record is not None and record["fortnox_state"] == fortnox_state:
            return record
        answer = shop.merchant.post("/api/v1/sync", json={"scopes": ["orders"]})
        if answer.status_code == 202:
            finished(shop, answer.json()["runs"][0]["id"])
        else:
            time.sleep(1)
    record = record_of(shop, order)
    timeline = shop.merchant.get(f"/api/v1/orders/{record['id']}").json()["timeline"] if record else []
    pytest.fail(f"order {order['orderNumber']} did not become {fortnox_state}: {record}\ntimeline: {timeline}")


def outcomes_of(shop: Shop, record: dict[str, Any], step: str) -> list[str]:
    timeline = shop.merchant.get(f"/api/v1/orders/{record['id']}").json()["timeline"]
    return [entry["outcome"] for entry in timeline if entry["step"] == step]


def killed_once(shop: Shop, effect: Callable[[], bool], what: str) -> None:
    """Kills the orders process once `effect` shows the work done in Fortnox while its answer is held back."""
    try:
        until(effect, EFFECT_TIMEOUT_S, what, shop.dev)
        kill_orders(shop.dev)
    finally:
        clear_faults(shop)


def late_answer(method: str, path: str) -> dict[str, Any]:
    return {"kind": "delay", "method": method, "path": path, "key": str(DEMO_AB), "delay_s": ANSWER_DELAY_S}


def test_a_kill_while_the_payment_answer_is_on_the_way_pays_the_invoice_once(shop: Shop) -> None:
    configure(
        shop.merchant,
        create_invoice=True,
        register_payments=True,
        modes_of_payment={"CREDIT_CARD": MODE_OF_PAYMENT},  # the sandbox's default payment method
    )
    inject(shop.urls.fortnox, late_answer("POST", "^/3/invoicepayments$"))
    order = new_order(shop, f"crash.payment.{time.monotonic_ns()}@example.se")

    def paid_in_fortnox() -> bool:
        invoices = originals(shop, order)
        return bool(invoices) and bool(payments_of(shop, str(invoices[0]["DocumentNumber"])))

    killed_once(shop, paid_in_fortnox, "the invoice payment to be registered in Fortnox")

    record = settle(shop, order, "paid")

    (invoice,) = originals(shop, order)
    (payment,) = payments_of(shop, str(invoice["DocumentNumber"]))
    assert (payment["ModeOfPayment"], payment["Booked"]) == (MODE_OF_PAYMENT, True)
    assert str(record["fortnox_invoice_number"]) == str(invoice["DocumentNumber"])
    assert len(fortnox_documents(shop, "orders", order["id"])) == 1
    assert any(outcome in RESUMED for outcome in outcomes_of(shop, record, "register_payment"))


def test_a_kill_while_the_credit_answer_is_on_the_way_credits_the_invoice_once(shop: Shop) -> None:
    configure(shop.merchant, create_invoice=True, register_payments=False, follow_cancellations=True)
    order = new_order(shop, f"crash.credit.{time.monotonic_ns()}@example.se")
    reached(shop, order, "invoiced", attached=True)
    inject(shop.urls.fortnox, late_answer("PUT", "^/3/invoices/[^/]+/credit$"))
    cancel_in_ikas(shop, order)

    killed_once(shop, lambda: bool(credits_of(shop, order)), "the credit invoice to exist in Fortnox")

    record = settle(shop, order, "credited")

    (invoice,) = originals(shop, order)
    (credit,) = credits_of(shop, order)
    assert str(credit["CreditInvoiceReference"]) == str(invoice["DocumentNumber"])
    assert str(invoice["CreditInvoiceReference"]) == str(credit["DocumentNumber"])
    assert any(outcome in RESUMED for outcome in outcomes_of(shop, record, "credit_invoice"))


def test_a_kill_while_the_cancel_answer_is_on_the_way_cancels_the_fortnox_order_once(shop: Shop) -> None:
    configure(shop.merchant, create_invoice=False, register_payments=False, follow_cancellations=True)
    order = new_order(shop, f"crash.cancel.{time.monotonic_ns()}@example.se")
    record = reached(shop, order, "order", attached=False)
    number = str(record["fortnox_order_number"])
    inject(shop.urls.fortnox, late_answer("PUT", "^/3/orders/[^/]+/cancel$"))
    cancel_in_ikas(shop, order)

    def cancelled_in_fortnox() -> bool:
        return any(o["Cancelled"] for o in fortnox_documents(shop, "orders", order["id"]))

    killed_once(shop, cancelled_in_fortnox, "the Fortnox order to be cancelled")

    record = settle(shop, order, "cancelled")

    (fortnox_order,) = fortnox_documents(shop, "orders", order["id"])
    assert (str(fortnox_order["DocumentNumber"]), fortnox_order["Cancelled"]) == (number, True)
    cancels = [c for c in fortnox_writes(shop.urls, DEMO_AB) if c["path"] == f"/3/orders/{number}/cancel"]
    assert len(cancels) == 1, cancels
    assert fortnox_documents(shop, "invoices", order["id"]) == []
    assert any(outcome in RESUMED for outcome in outcomes_of(shop, record, "cancel_fortnox_order"))


# ---- refunds and partial cancellations (#8)

ANDRA_AB = 1002  # the second tenant's Fortnox company


def order_of_two(shop: Shop, email: str, store: str = "demo") -> dict[str, Any]:
    """An order of two units of one related line and shipping, so a part of it can be taken back."""
    answer = httpx.post(
        f"{shop.urls.ikas}/__admin/orders",
        json={
            "store": store,
            "customer": {"email": email, "firstName": "Krasch", "lastName": "Testsson"},
            "billingAddress": {"firstName": "Krasch", "lastName": "Testsson", "addressLine1": "Testvägen 1"},
            "lines": [{"sku": shop.related_sku, "quantity": 2}],
            "shipping": [{"title": "PostNord MyPack", "price": "49.00"}],
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    order: dict[str, Any] = answer.json()
    return order


def take_back_one(urls: Urls, store: str, order: dict[str, Any], action: str) -> None:
    """The merchant refunds or cancels one unit of the order's first line in the ikas admin (the line is split);
    its store/order/updated webhook wakes Bridge."""
    (current,) = [o for o in ikas_store(urls, store)["orders"] if o["id"] == order["id"]]
    line = current["orderLineItems"][0]
    answer = httpx.post(
        f"{urls.ikas}/__admin/order-changes",
        json={"store": store, "id": order["id"], "action": action, "lines": [{"id": line["id"], "quantity": 1}]},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def rows_of(document: dict[str, Any]) -> list[tuple[str, float]]:
    rows = document.get("OrderRows", document.get("InvoiceRows", []))
    return [(row["ArticleNumber"], float(row["DeliveredQuantity"])) for row in rows]


def test_a_kill_while_the_partial_credit_answer_is_on_the_way_credits_the_refund_once(shop: Shop) -> None:
    configure(shop.merchant, create_invoice=True, register_payments=False, follow_refunds=True)
    order = order_of_two(shop, f"crash.refund.{time.monotonic_ns()}@example.se")
    reached(shop, order, "invoiced", attached=True)
    inject(shop.urls.fortnox, late_answer("POST", "^/3/invoices$"))
    take_back_one(shop.urls, "demo", order, "refund")

    killed_once(shop, lambda: bool(credits_of(shop, order)), "the credit invoice of the refund to exist in Fortnox")

    record = settle(shop, order, "partially_credited")

    (invoice,) = originals(shop, order)
    (credit,) = credits_of(shop, order)  # one credit invoice for the one refund
    assert str(credit["CreditInvoiceReference"]) == str(invoice["DocumentNumber"])
    assert rows_of(invoice) == [(shop.related_sku, 2.0)]
    assert rows_of(credit) == [(shop.related_sku, -1.0)]  # the refunded unit, no freight
    assert float(credit["Freight"]) == 0
    credit_posts = [
        c for c in fortnox_writes(shop.urls, DEMO_AB) if c["method"] == "POST" and c["path"] == "/3/invoices"
    ]
    assert len(credit_posts) == 1, credit_posts
    assert any(outcome in RESUMED for outcome in outcomes_of(shop, record, "credit_invoice"))


def updated(shop: Shop, order: dict[str, Any]) -> dict[str, Any]:
    """Waits, across the orders process's restart, until the order's last update_fortnox_order step is done."""
    deadline = time.monotonic() + RECOVERY_TIMEOUT_S
    while time.monotonic() < deadline:
        record = record_of(shop, order)
        if record is not None and outcomes_of(shop, record, "update_fortnox_order")[-1:] in (["found"], ["updated"]):
            return record
        answer = shop.merchant.post("/api/v1/sync", json={"scopes": ["orders"]})
        if answer.status_code == 202:
            finished(shop, answer.json()["runs"][0]["id"])
        else:
            time.sleep(1)
    record = record_of(shop, order)
    timeline = shop.merchant.get(f"/api/v1/orders/{record['id']}").json()["timeline"] if record else []
    pytest.fail(f"order {order['orderNumber']}'s Fortnox order was not updated: {record}\ntimeline: {timeline}")


def test_a_kill_while_the_order_update_answer_is_on_the_way_leaves_the_rows_right(shop: Shop) -> None:
    configure(shop.merchant, create_invoice=False, register_payments=False, follow_cancellations=True)
    order = order_of_two(shop, f"crash.update.{time.monotonic_ns()}@example.se")
    record = reached(shop, order, "order", attached=False)
    number = str(record["fortnox_order_number"])
    inject(shop.urls.fortnox, late_answer("PUT", f"^/3/orders/{number}$"))
    take_back_one(shop.urls, "demo", order, "cancel")

    def one_left_in_fortnox() -> bool:
        return [rows_of(o) for o in fortnox_documents(shop, "orders", order["id"])] == [[(shop.related_sku, 1.0)]]

    killed_once(shop, one_left_in_fortnox, "the Fortnox order's row to be lowered to one unit")

    record = updated(shop, order)

    (fortnox_order,) = fortnox_documents(shop, "orders", order["id"])
    assert (str(fortnox_order["DocumentNumber"]), fortnox_order["Cancelled"]) == (number, False)
    assert rows_of(fortnox_order) == [(shop.related_sku, 1.0)]  # the one unit still ordered, no duplicate row
    updates = [
        c for c in fortnox_writes(shop.urls, DEMO_AB) if c["method"] == "PUT" and c["path"] == f"/3/orders/{number}"
    ]
    assert len(updates) == 1, updates  # re-read after the crash and found right: not sent again
    assert record["fortnox_state"] == "order"
    assert fortnox_documents(shop, "invoices", order["id"]) == []
    assert any(outcome in RESUMED for outcome in outcomes_of(shop, record, "update_fortnox_order"))


def test_a_refund_of_one_tenant_s_order_changes_nothing_of_another_tenant_s(shop: Shop) -> None:
    configure(shop.merchant, create_invoice=True, register_payments=False, follow_refunds=True)
    other = installed(shop.urls, "other")
    try:
        connect_fortnox(shop.urls, other, ANDRA_AB)
        # Its store's SKUs are no articles of Andra AB: its orders go as free-text rows.
        configure(
            other,
            sync_automatically=True,
            sync_from=LONG_AGO,
            create_invoice=True,
            send_invoice_email=False,
            sync_items_without_relation=True,
        )
        drain(other)
        other_shop = Shop(shop.urls, other, shop.dev, "OTHER-2001")
        their_order = order_of_two(other_shop, f"tenants.other.{time.monotonic_ns()}@example.se", "other")
        theirs = reached(other_shop, their_order, "invoiced", attached=True)
        theirs_before = other.get(f"/api/v1/orders/{theirs['id']}").json()
        andra_before = {table: fortnox_table(shop.urls, ANDRA_AB, table) for table in ("orders", "invoices")}
        andra_writes = fortnox_writes(shop.urls, ANDRA_AB)

        order = order_of_two(shop, f"tenants.refund.{time.monotonic_ns()}@example.se")
        mine = reached(shop, order, "invoiced", attached=True)
        take_back_one(shop.urls, "demo", order, "refund")
        settle(shop, order, "partially_credited")
        assert len(credits_of(shop, order)) == 1

        # Nothing in the other tenant's Fortnox company, nothing on its order's record.
        assert {table: fortnox_table(shop.urls, ANDRA_AB, table) for table in ("orders", "invoices")} == andra_before
        assert fortnox_writes(shop.urls, ANDRA_AB) == andra_writes
        theirs_after = other.get(f"/api/v1/orders/{theirs['id']}").json()
        for field in ("fortnox_state", "fortnox_invoice_number", "edited_after_invoice", "timeline"):
            assert theirs_after[field] == theirs_before[field], field
        # Neither session sees the other tenant's order.
        seen = other.get(f"/api/v1/orders/{mine['id']}")
        assert seen.status_code == 404, seen.text
        assert order["orderNumber"] not in seen.text
        assert shop.merchant.get(f"/api/v1/orders/{theirs['id']}").status_code == 404
        listed = other.get("/api/v1/orders", params={"page_size": 200}).json()["items"]
        assert mine["id"] not in {o["id"] for o in listed}
    finally:
        other.close()
