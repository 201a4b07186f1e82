"""Nothing twice (product.md §5 "Exactly once", §11): the orders process is SIGKILLed at each write of an order's
export — the Fortnox order, the invoice, the e-mail request, the PDF onto the ikas order — at the worst moment:
the upstream has done the work and its answer is still on the way (a delay fault: work first, answer late).
`make run`'s supervisor restarts the process, the run ledger hands the interrupted work to it, and the sandboxes'
own documents must show exactly one order, one invoice, at most one e-mail and one attachment per ikas order.

The stack is this module's own (it kills processes); the order claim is shortened with
BRIDGE_ORDER_CLAIM_LEASE_S so a killed worker's claim runs out in seconds instead of minutes.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import RUNNING_LINE, START_TIMEOUT_S, DevProcess, launch_dev
from tests.merchants import Urls, connect_fortnox, fortnox_table, ikas_store, installed, started, wait_for

DEMO_AB = 1001
LONG_AGO = "2020-01-01T00:00:00+00:00"
RECOVERY_TIMEOUT_S = 150.0
EFFECT_TIMEOUT_S = 60.0
ANSWER_DELAY_S = 8.0  # the window in which the work is done and its answer not yet received


@pytest.fixture(scope="module")
def crash_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevProcess]:
    dev = launch_dev(
        tmp_path_factory.mktemp("crash"),
        BRIDGE_ORDER_CLAIM_LEASE_S="10",
        BRIDGE_SYNC_INTERVAL_S="3600",  # only webhooks and the tests start work
    )
    try:
        dev.wait_for_output(RUNNING_LINE, START_TIMEOUT_S)
        yield dev
    finally:
        dev.kill_everything()


@dataclass
class Shop:
    urls: Urls
    merchant: httpx.Client
    dev: DevProcess
    related_sku: str


@pytest.fixture(scope="module")
def shop(crash_stack: DevProcess) -> Iterator[Shop]:
    urls = Urls.of(crash_stack)
    merchant = installed(urls, "demo")
    connect_fortnox(urls, merchant, DEMO_AB)
    (match,) = started(merchant.post("/api/v1/products/match"))
    assert wait_for(merchant, match["id"])["state"] == "succeeded"
    document = merchant.get("/api/v1/settings").json()
    document["orders"].update(sync_automatically=True, sync_from=LONG_AGO, create_invoice=True, send_invoice_email=True)
    assert merchant.put("/api/v1/settings", json=document).status_code == 200
    drain(merchant)  # the seeded orders go out first, so each kill below hits the one order it is about
    lines = merchant.get("/api/v1/products", params={"page_size": 200}).json()["items"]
    related = [line for line in lines if line["fortnox_article_number"] and line["status"] in ("synced", "pending")]
    sku = related[0]["sku"]
    yield Shop(urls, merchant, crash_stack, sku)
    merchant.close()


# ---- the stack's processes and the sandboxes' documents


def drain(merchant: httpx.Client) -> None:
    """Runs orders until a run of the tenant finishes that started after everything known was queued."""
    for _ in range(3):
        answer = merchant.post("/api/v1/sync", json={"scopes": ["orders"]})
        if answer.status_code == 409:
            wait_for(merchant, answer.json()["run_id"], timeout_s=RECOVERY_TIMEOUT_S)
            continue
        (run,) = started(answer)
        wait_for(merchant, run["id"], timeout_s=RECOVERY_TIMEOUT_S)
        return
    pytest.fail("an orders run kept running")


def orders_process(dev: DevProcess) -> int:
    (pid,) = [ref.pid for ref in dev.children() if "bridge_orders serve" in ref.cmdline]
    return pid


def kill_orders(dev: DevProcess) -> None:
    """SIGKILL: no clean-up, no lease given back, nothing flushed."""
    pid = orders_process(dev)
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while True:  # the supervisor notices and starts a new one
        alive = [ref.pid for ref in dev.children() if "bridge_orders serve" in ref.cmdline]
        if alive and alive != [pid]:
            return
        assert time.monotonic() < deadline, f"the orders process was not restarted:\n{dev.output()[-3000:]}"
        time.sleep(0.2)


def new_order(shop: Shop, email: str) -> dict[str, Any]:
    """An order placed in the ikas sandbox; its store/order/created webhook wakes Bridge."""
    answer = httpx.post(
        f"{shop.urls.ikas}/__admin/orders",
        json={
            "store": "demo",
            "customer": {"email": email, "firstName": "Krasch", "lastName": "Testsson"},
            "billingAddress": {
                "firstName": "Krasch",
                "lastName": "Testsson",
                "addressLine1": "Testvägen 1",
                "postalCode": "111 20",
                "city": "Stockholm",
                "country": "SE",
            },
            "lines": [{"sku": shop.related_sku, "quantity": 1}],
            "shipping": [{"title": "PostNord MyPack", "price": "49.00"}],
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    order: dict[str, Any] = answer.json()
    return order


def fortnox_documents(shop: Shop, table: str, ikas_order_id: str) -> list[dict[str, Any]]:
    key = f"ikas:{ikas_order_id}"
    return [r for r in fortnox_table(shop.urls, DEMO_AB, table).values() if r.get("ExternalInvoiceReference1") == key]


def emails_for(shop: Shop, invoice_numbers: list[str]) -> int:
    mails = fortnox_table(shop.urls, DEMO_AB, "sentemails").values()
    return sum(1 for mail in mails if str(mail["InvoiceNumber"]) in invoice_numbers)


def attachments(shop: Shop, ikas_order_id: str) -> int:
    order = next(o for o in ikas_store(shop.urls, "demo")["orders"] if o["id"] == ikas_order_id)
    return len(order.get("invoices") or [])


def record_of(shop: Shop, order: dict[str, Any]) -> dict[str, Any] | None:
    """The order's record; None also while the orders process restarts (the gateway answers 503 then)."""
    answer = shop.merchant.get("/api/v1/orders", params={"q": order["orderNumber"]})
    if answer.status_code == 503:
        return None
    assert answer.status_code == 200, answer.text
    found = answer.json()["items"]
    return next((o for o in found if o["ikas_order_id"] == order["id"]), None)


def finished(shop: Shop, run_id: str) -> dict[str, Any]:
    """Waits for a run to end, across restarts of the orders process (503 while it is down)."""
    deadline = time.monotonic() + RECOVERY_TIMEOUT_S
    while time.monotonic() < deadline:
        answer = shop.merchant.get(f"/api/v1/sync/runs/{run_id}")
        if answer.status_code != 503:
            assert answer.status_code == 200, answer.text
            run: dict[str, Any] = answer.json()
            if run["state"] in ("succeeded", "failed", "partially_failed"):
                return run
        time.sleep(0.25)
    pytest.fail(f"run {run_id} did not finish:\n{shop.dev.output()[-4000:]}")


def inject(base_url: str, fault: dict[str, Any]) -> None:
    assert httpx.post(f"{base_url}/__admin/faults", json=fault, timeout=10).status_code == 200


def clear_faults(shop: Shop) -> None:
    for base in (shop.urls.fortnox, shop.urls.ikas):
        httpx.delete(f"{base}/__admin/faults", timeout=10)


def until(check: Callable[[], Any], timeout_s: float, what: str, dev: DevProcess) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}:\n{dev.output()[-4000:]}")
        time.sleep(0.1)


def settle(shop: Shop, order: dict[str, Any], *, email_unknown: bool = False) -> dict[str, Any]:
    """Waits until the order went through every step (or, after a lost e-mail answer, every step it may take
    without asking again). A run started now picks up whatever the crash left."""

    def done() -> dict[str, Any] | None:
        record = record_of(shop, order)
        if record is None or not record["fortnox_invoice_number"] or record["invoice_attached_at"] is None:
            return None
        expected = "unknown" if email_unknown else "sent"
        return record if record["invoice_email"]["state"] == expected else None

    deadline = time.monotonic() + RECOVERY_TIMEOUT_S
    while time.monotonic() < deadline:
        record = done()
        if record is not None:
            return record
        answer = shop.merchant.post("/api/v1/sync", json={"scopes": ["orders"]})
        if answer.status_code == 202:
            finished(shop, answer.json()["runs"][0]["id"])
        else:
            time.sleep(1)
    record = record_of(shop, order)
    timeline = shop.merchant.get(f"/api/v1/orders/{record['id']}").json()["timeline"] if record else []
    pytest.fail(f"order {order['orderNumber']} did not settle: {record}\ntimeline: {timeline}")


def assert_exactly_once(shop: Shop, order: dict[str, Any], *, emails: int = 1) -> None:
    orders = fortnox_documents(shop, "orders", order["id"])
    invoices = fortnox_documents(shop, "invoices", order["id"])
    assert len(orders) == 1, orders
    assert len(invoices) == 1, invoices
    assert emails_for(shop, [str(i["DocumentNumber"]) for i in invoices]) == emails
    assert attachments(shop, order["id"]) == 1


# ---- the kill points


@dataclass(frozen=True)
class KillPoint:
    name: str
    upstream: str  # fortnox | ikas
    fault: dict[str, Any]
    effect: Callable[[Shop, dict[str, Any]], bool]  # the work is done upstream


KILL_POINTS = [
    KillPoint(
        "creating the Fortnox order",
        "fortnox",
        {"kind": "delay", "method": "POST", "path": "^/3/orders$", "key": str(DEMO_AB), "delay_s": ANSWER_DELAY_S},
        lambda shop, order: bool(fortnox_documents(shop, "orders", order["id"])),
    ),
    KillPoint(
        "creating the invoice",
        "fortnox",
        {
            "kind": "delay",
            "method": "PUT",
            "path": "^/3/orders/[^/]+/createinvoice$",
            "key": str(DEMO_AB),
            "delay_s": ANSWER_DELAY_S,
        },
        lambda shop, order: bool(fortnox_documents(shop, "invoices", order["id"])),
    ),
    KillPoint(
        "attaching the invoice PDF to the ikas order",
        "ikas",
        # Every ikas call answers late, so whichever call attaches the PDF is still unanswered when it shows.
        {
            "kind": "delay",
            "method": "POST",
            "path": "graphql",
            "key": "demo",
            "times": 200,
            "delay_s": ANSWER_DELAY_S / 2,
        },
        lambda shop, order: attachments(shop, order["id"]) > 0,
    ),
]


@pytest.mark.parametrize("point", KILL_POINTS, ids=lambda p: p.name.replace(" ", "-"))
def test_a_kill_while_the_answer_is_on_the_way_never_duplicates(shop: Shop, point: KillPoint) -> None:
    order = new_order(shop, f"crash.{len(point.name)}.{time.monotonic_ns()}@example.se")
    inject(shop.urls.fortnox if point.upstream == "fortnox" else shop.urls.ikas, point.fault)
    try:
        until(lambda: point.effect(shop, order), EFFECT_TIMEOUT_S, f"{point.name} to happen upstream", shop.dev)
        kill_orders(shop.dev)
    finally:
        clear_faults(shop)

    record = settle(shop, order)

    assert_exactly_once(shop, order)
    assert record["status"] in ("created", "fulfilled")
    outcomes = [
        (e["step"], e["outcome"]) for e in shop.merchant.get(f"/api/v1/orders/{record['id']}").json()["timeline"]
    ]
    assert any(outcome in ("found", "resumed", "unknown") for _, outcome in outcomes), outcomes


def test_a_kill_during_the_email_request_leaves_it_unknown_and_never_asks_twice(shop: Shop) -> None:
    order = new_order(shop, f"crash.email.{time.monotonic_ns()}@example.se")
    fault = {
        "kind": "delay",
        "method": "GET",
        "path": "^/3/invoices/[^/]+/email$",
        "key": str(DEMO_AB),
        "delay_s": ANSWER_DELAY_S,
    }
    inject(shop.urls.fortnox, fault)
    try:

        def emailed() -> bool:
            invoices = fortnox_documents(shop, "invoices", order["id"])
            return bool(invoices) and emails_for(shop, [str(i["DocumentNumber"]) for i in invoices]) > 0

        until(emailed, EFFECT_TIMEOUT_S, "the invoice e-mail to be sent", shop.dev)
        kill_orders(shop.dev)
    finally:
        clear_faults(shop)

    record = settle(shop, order, email_unknown=True)

    assert_exactly_once(shop, order, emails=1)  # the e-mail went out once and was never asked for again
    resent = shop.merchant.post(f"/api/v1/orders/{record['id']}/invoice/email")
    assert resent.status_code == 200, resent.text
    assert resent.json()["invoice_email"]["state"] == "sent"
    assert_exactly_once(shop, order, emails=2)  # the merchant's explicit resend, and only that


def test_every_order_of_the_crashes_is_in_fortnox_once(shop: Shop) -> None:
    """After all the kills: no ikas order of the store has two Fortnox orders or invoices."""
    orders = Counter(o.get("ExternalInvoiceReference1") for o in fortnox_table(shop.urls, DEMO_AB, "orders").values())
    invoices = Counter(
        i.get("ExternalInvoiceReference1") for i in fortnox_table(shop.urls, DEMO_AB, "invoices").values()
    )
    assert [key for key, count in orders.items() if key and count > 1] == []
    assert [key for key, count in invoices.items() if key and count > 1] == []
    attached = Counter(len(o.get("invoices") or []) for o in ikas_store(shop.urls, "demo")["orders"])
    assert set(attached) <= {0, 1}
