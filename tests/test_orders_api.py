"""Orders over the running stack (product.md §2, §5, §6, §8): settings and runs via REST, webhooks from the ikas
sandbox, and the outcome asserted in the Fortnox and ikas sandboxes' own documents and call logs.

The stack is shared by the session: this module installs its own two stores ("demo" with Demo AB, "other" with
Andra AB), links products by SKU, and puts the settings back at the end.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.merchants import (
    RUNS,
    SYNC,
    Urls,
    clear_calls,
    connect_fortnox,
    fortnox_table,
    fortnox_writes,
    ikas_store,
    installed,
    started,
    wait_for,
)

if TYPE_CHECKING:
    from tests.conftest import DevProcess

DEMO_AB, ANDRA_AB = 1001, 1002
SETTINGS = "/api/v1/settings"
ORDERS = "/api/v1/orders"
LONG_AGO = "2020-01-01T00:00:00+00:00"
WAIT_S = 60.0


@pytest.fixture(scope="module")
def urls(stack: DevProcess) -> Urls:
    return Urls.of(stack)


@pytest.fixture(scope="module")
def merchants(urls: Urls) -> Iterator[dict[str, httpx.Client]]:
    """ "demo" (Demo AB) and "other" (Andra AB), installed, connected and matched by SKU; settings reset after."""
    clients = {"demo": installed(urls, "demo"), "other": installed(urls, "other")}
    # The stack is shared: every order setting goes back to what it was (test_stack expects a new store's defaults).
    before = {store: client.get(SETTINGS).json()["orders"] for store, client in clients.items()}
    connect_fortnox(urls, clients["demo"], DEMO_AB)
    connect_fortnox(urls, clients["other"], ANDRA_AB)
    for client in clients.values():
        (match,) = started(client.post("/api/v1/products/match"))
        assert wait_for(client, match["id"])["state"] == "succeeded"
    yield clients
    for store, client in clients.items():
        save_order_settings(client, **before[store])
        client.delete("/api/v1/connection/fortnox")
        client.close()


# ---- helpers


def save_order_settings(merchant: httpx.Client, **orders: Any) -> dict[str, Any]:
    document = merchant.get(SETTINGS).json()
    document["orders"].update(orders)
    saved = merchant.put(SETTINGS, json=document)
    assert saved.status_code == 200, saved.text
    stored: dict[str, Any] = saved.json()["orders"]
    return stored


def run_orders(merchant: httpx.Client) -> dict[str, Any]:
    """An orders run now; when the local scheduler's run is going, that one is waited for instead (409 names it)
    and a fresh one started after it, so the caller always sees a run that began after its call."""
    for _ in range(3):
        answer = merchant.post(SYNC, json={"scopes": ["orders"]})
        if answer.status_code == 409:
            wait_for(merchant, answer.json()["run_id"])
            continue
        (run,) = started(answer)
        return wait_for(merchant, run["id"])
    pytest.fail("an orders run kept running")


def all_orders(merchant: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        response = merchant.get(ORDERS, params={**params, "page": page, "page_size": 200})
        assert response.status_code == 200, response.text
        body = response.json()
        found.extend(body["items"])
        if len(found) >= body["total"] or not body["items"]:
            return found
        page += 1


def related_skus(merchant: httpx.Client) -> set[str]:
    lines: list[dict[str, Any]] = []
    page = 1
    while True:
        body = merchant.get("/api/v1/products", params={"page": page, "page_size": 200}).json()
        lines.extend(body["items"])
        if len(lines) >= body["total"] or not body["items"]:
            break
        page += 1
    return {line["sku"] for line in lines if line["fortnox_article_number"] and line["status"] in ("synced", "pending")}


def ikas_orders(urls: Urls, store: str) -> dict[str, dict[str, Any]]:
    return {order["id"]: order for order in ikas_store(urls, store)["orders"]}


def sendable(urls: Urls, store: str, related: set[str]) -> set[str]:
    """The ikas orders product.md §5 sends (placed, not cancelled, payment not failed) whose lines are all related."""
    return {
        order["id"]
        for order in ikas_orders(urls, store).values()
        if order["status"] not in ("DRAFT", "CANCELLED", "WAITING_UPSELL_ACTION")
        and order.get("orderPaymentStatus") != "FAILED"
        and all((line["variant"].get("sku") or "") in related for line in order["orderLineItems"])
    }


def fortnox_orders_by_key(urls: Urls, company: int) -> Counter[str]:
    return Counter(
        str(o.get("ExternalInvoiceReference1") or "") for o in fortnox_table(urls, company, "orders").values()
    )


def fortnox_invoices_by_key(urls: Urls, company: int) -> Counter[str]:
    invoices = fortnox_table(urls, company, "invoices").values()
    return Counter(str(i.get("ExternalInvoiceReference1") or "") for i in invoices)


def eventually(check: Any, timeout_s: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.25)


# ---- the tests, in the order a merchant goes


def test_a_dry_run_backfill_lists_what_would_be_sent_and_writes_nothing(
    urls: Urls, merchants: dict[str, httpx.Client]
) -> None:
    demo = merchants["demo"]
    clear_calls(urls)
    until = (datetime.now(UTC) + timedelta(days=1)).isoformat()

    (run,) = started(demo.post(f"{ORDERS}/backfill", json={"from": LONG_AGO, "to": until, "dry_run": True}))
    finished = wait_for(demo, run["id"])

    assert finished["scope"] == "backfill"
    assert finished["state"] == "succeeded", finished
    planned = {action["entity"]: action for action in finished["planned"]}
    expected = sendable(urls, "demo", related_skus(demo))
    assert expected, "the demo store has orders whose lines are all related"
    creates = {entity for entity, action in planned.items() if action["action"] == "create"}
    assert {ikas_orders(urls, "demo")[order_id]["orderNumber"] for order_id in expected} <= creates | set(expected)
    assert all(action["reason"] for action in planned.values())
    cancelled = [o for o in ikas_orders(urls, "demo").values() if o["status"] == "CANCELLED"]
    assert cancelled
    assert all(
        planned.get(o["id"], planned.get(o["orderNumber"], {"action": "skip"}))["action"] == "skip" for o in cancelled
    )
    assert fortnox_writes(urls, DEMO_AB) == []
    assert all(not order.get("invoices") for order in ikas_orders(urls, "demo").values())


def test_bad_backfill_ranges_and_pages_are_422(merchants: dict[str, httpx.Client]) -> None:
    demo = merchants["demo"]
    backwards = demo.post(f"{ORDERS}/backfill", json={"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"})
    too_big = demo.get(ORDERS, params={"page_size": 201})

    for response in (backwards, too_big):
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")


def test_an_orders_run_sends_each_order_once_with_invoice_email_and_pdf(
    urls: Urls, merchants: dict[str, httpx.Client]
) -> None:
    demo = merchants["demo"]
    stored = save_order_settings(
        demo, sync_automatically=True, sync_from=LONG_AGO, create_invoice=True, send_invoice_email=True
    )
    assert stored["sync_from"] is not None
    expected = sendable(urls, "demo", related_skus(demo))

    finished = run_orders(demo)

    assert finished["state"] in ("succeeded", "partially_failed"), finished
    orders_by_key, invoices_by_key = fortnox_orders_by_key(urls, DEMO_AB), fortnox_invoices_by_key(urls, DEMO_AB)
    emails = Counter(str(e.get("InvoiceNumber") or e.get("invoice_number")) for e in sent_emails(urls))
    listed = {order["ikas_order_id"]: order for order in all_orders(demo)}
    ikas = ikas_orders(urls, "demo")
    for order_id in expected:
        key = f"ikas:{order_id}"
        order = listed[order_id]
        if order["status"] == "error":  # a clear per-order error is allowed; a duplicate never is
            assert order["error"]["message"], order
            assert orders_by_key[key] <= 1
            continue
        assert orders_by_key[key] == 1, (order_id, order)
        assert invoices_by_key[key] == 1, (order_id, order)
        assert order["status"] in ("created", "fulfilled")
        assert order["fortnox_order_number"]
        assert order["fortnox_invoice_number"]
        assert emails[order["fortnox_invoice_number"]] == 1
        assert order["invoice_email"]["state"] == "sent"
        assert order["invoice_email"]["at"]
        assert order["invoice_attached_at"] is not None
        assert len(ikas[order_id].get("invoices") or []) == 1
        assert order["ikas_total"]["currency"] == ikas[order_id]["currencyCode"]
        assert order["ikas_total"]["amount"] == f"{float(ikas[order_id]['totalFinalPrice']):.2f}"
    fulfilled = [o for o in listed.values() if o["ikas_order_id"] in expected and o["status"] == "fulfilled"]
    assert fulfilled, "the demo store has orders whose package was fulfilled or delivered"
    assert all(not key or key.startswith("ikas:") for key in orders_by_key)


def test_orders_waiting_for_relations_say_which_skus(urls: Urls, merchants: dict[str, httpx.Client]) -> None:
    demo = merchants["demo"]
    related = related_skus(demo)
    listed = {order["ikas_order_id"]: order for order in all_orders(demo)}
    waiting = [
        (order, listed[order["id"]])
        for order in ikas_orders(urls, "demo").values()
        if order["id"] in listed
        and order["status"] not in ("CANCELLED",)
        and order.get("orderPaymentStatus") != "FAILED"
        and any((line["variant"].get("sku") or "") not in related for line in order["orderLineItems"])
    ]

    assert waiting
    for ikas_order, record in waiting:
        assert record["status"] == "outgoing", record
        assert record["fortnox_order_number"] is None
        missing = [
            line["variant"]["sku"]
            for line in ikas_order["orderLineItems"]
            if line["variant"].get("sku") and line["variant"]["sku"] not in related
        ]
        for sku in missing:
            assert sku in record["waiting_reason"]
    assert fortnox_orders_by_key(urls, DEMO_AB)[f"ikas:{waiting[0][0]['id']}"] == 0


def test_a_second_run_over_unchanged_orders_writes_nothing(urls: Urls, merchants: dict[str, httpx.Client]) -> None:
    demo = merchants["demo"]
    attached_before = {i: len(o.get("invoices") or []) for i, o in ikas_orders(urls, "demo").items()}
    clear_calls(urls)

    finished = run_orders(demo)

    assert finished["state"] in ("succeeded", "partially_failed"), finished
    assert finished["counts"]["created"] == 0
    assert fortnox_writes(urls, DEMO_AB) == []
    assert [c for c in fortnox_calls(urls, DEMO_AB) if c["path"].endswith("/email")] == []
    assert {i: len(o.get("invoices") or []) for i, o in ikas_orders(urls, "demo").items()} == attached_before


def test_the_invoice_pdf_downloads_and_the_timeline_shows_each_step(merchants: dict[str, httpx.Client]) -> None:
    demo = merchants["demo"]
    invoiced = next(o for o in all_orders(demo) if o["fortnox_invoice_number"])

    pdf = demo.get(f"{ORDERS}/{invoiced['id']}/invoice.pdf")
    one = demo.get(f"{ORDERS}/{invoiced['id']}")

    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert "attachment" in pdf.headers.get("content-disposition", "")
    assert one.status_code == 200
    steps = [entry["step"] for entry in one.json()["timeline"]]
    assert len(set(steps)) >= 3, steps  # the order, the invoice, the e-mail, the PDF
    timeline_text = str(one.json()["timeline"])
    assert "Bearer" not in timeline_text
    assert "access_token" not in timeline_text


def test_a_webhook_sends_a_new_order_once_and_repeats_change_nothing(
    urls: Urls, merchants: dict[str, httpx.Client]
) -> None:
    demo = merchants["demo"]
    sku = sorted(related_skus(demo))[0]
    order = httpx.post(
        f"{urls.ikas}/__admin/orders",
        json={
            "store": "demo",
            "customer": {"email": "webhook.buyer@example.se", "firstName": "Vera", "lastName": "Webb"},
            "billingAddress": {
                "firstName": "Vera",
                "lastName": "Webb",
                "addressLine1": "Vasagatan 1",
                "postalCode": "111 20",
                "city": "Stockholm",
                "country": "SE",
            },
            "lines": [{"sku": sku, "quantity": 1}],
            "shipping": [{"title": "PostNord MyPack", "price": "49.00"}],
        },
        timeout=10,
    ).json()
    key = f"ikas:{order['id']}"

    eventually(lambda: fortnox_orders_by_key(urls, DEMO_AB)[key] == 1)
    deliveries = [
        d for d in httpx.get(f"{urls.ikas}/__admin/webhook-deliveries", timeout=10).json() if order["id"] in str(d)
    ]
    assert deliveries
    for delivery in deliveries:  # ikas redelivers until it sees a 200: the same delivery again
        body = delivery.get("body") or delivery
        again = httpx.post(f"{urls.gateway}/webhooks/ikas", json=body, timeout=10)
        assert again.status_code == 200, again.text
        assert again.json()["status"] == "duplicate"
    httpx.post(f"{urls.ikas}/__admin/orders", json={"store": "demo", "id": order["id"], "note": "gift"}, timeout=10)
    time.sleep(2)  # an updated event: re-read, nothing new to create

    assert fortnox_orders_by_key(urls, DEMO_AB)[key] == 1
    assert fortnox_invoices_by_key(urls, DEMO_AB)[key] == 1
    listed = eventually(lambda: [o for o in all_orders(demo, q=order["orderNumber"]) if o["invoice_attached_at"]])
    assert listed[0]["ikas_order_id"] == order["id"]


def test_send_now_sends_a_waiting_order_with_free_text_rows_when_allowed(
    urls: Urls, merchants: dict[str, httpx.Client]
) -> None:
    demo = merchants["demo"]
    waiting = next(o for o in all_orders(demo, status="outgoing") if "relations" in (o["waiting_reason"] or ""))
    still = demo.post(f"{ORDERS}/{waiting['id']}/send")
    assert still.status_code == 200, still.text
    assert still.json()["status"] == "outgoing"
    save_order_settings(demo, sync_items_without_relation=True)
    try:
        sent = demo.post(f"{ORDERS}/{waiting['id']}/send")
    finally:
        save_order_settings(demo, sync_items_without_relation=False)

    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] in ("created", "fulfilled", "error"), sent.json()
    if sent.json()["status"] != "error":
        number = sent.json()["fortnox_order_number"]
        rows = fortnox_table(urls, DEMO_AB, "orders")[number]["OrderRows"]
        assert any(not row.get("ArticleNumber") for row in rows)  # the unrelated line as a free-text row
    assert fortnox_orders_by_key(urls, DEMO_AB)[f"ikas:{waiting['ikas_order_id']}"] <= 1


def test_overlapping_order_runs_are_refused_with_the_running_id(urls: Urls, merchants: dict[str, httpx.Client]) -> None:
    demo = merchants["demo"]
    slow = {
        "kind": "delay",
        "method": "POST",
        "path": "^/api/v1/admin/graphql",
        "key": "demo",
        "times": 2,
        "delay_s": 2,
    }
    assert httpx.post(f"{urls.ikas}/__admin/faults", json=slow, timeout=10).status_code == 200
    try:
        answer = demo.post(SYNC, json={"scopes": ["orders"]})
        if answer.status_code == 409:  # the scheduler's run came first: the refusal is what is tested
            refused = answer
        else:
            (first,) = started(answer)
            refused = demo.post(SYNC, json={"scopes": ["orders"]})
            assert refused.json()["run_id"] == first["id"]
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        wait_for(demo, refused.json()["run_id"])
    finally:
        httpx.delete(f"{urls.ikas}/__admin/faults", timeout=10)


def test_runs_of_orders_are_in_the_run_history(merchants: dict[str, httpx.Client]) -> None:
    demo = merchants["demo"]
    history = demo.get(RUNS, params={"scope": "orders"})
    merged = demo.get(RUNS, params={"page_size": 200})

    assert history.status_code == 200, history.text
    assert history.json()["items"]
    assert all(run["scope"] == "orders" for run in history.json()["items"])
    scopes = {run["scope"] for run in merged.json()["items"]}
    assert {"orders", "match"} <= scopes
    assert demo.get(ORDERS).json()["last_order_sync_at"] is not None


def test_tenants_never_see_each_others_orders(urls: Urls, merchants: dict[str, httpx.Client]) -> None:
    demo, other = merchants["demo"], merchants["other"]
    demo_order = next(o for o in all_orders(demo) if o["fortnox_invoice_number"])
    demo_run = demo.get(RUNS, params={"scope": "orders"}).json()["items"][0]

    for method, path in (
        ("GET", f"{ORDERS}/{demo_order['id']}"),
        ("POST", f"{ORDERS}/{demo_order['id']}/send"),
        ("POST", f"{ORDERS}/{demo_order['id']}/invoice"),
        ("POST", f"{ORDERS}/{demo_order['id']}/invoice/attach"),
        ("POST", f"{ORDERS}/{demo_order['id']}/invoice/email"),
        ("GET", f"{ORDERS}/{demo_order['id']}/invoice.pdf"),
        ("GET", f"{RUNS}/{demo_run['id']}"),
    ):
        response = other.request(method, path)
        assert response.status_code == 404, (method, path, response.text)
        assert demo_order["ikas_order_number"] not in response.text
    assert demo_order["id"] not in {o["id"] for o in all_orders(other)}
    assert demo_run["id"] not in {r["id"] for r in other.get(RUNS, params={"page_size": 200}).json()["items"]}
    andra_keys = fortnox_orders_by_key(urls, ANDRA_AB)
    assert not [key for key in andra_keys if key and key.removeprefix("ikas:") in ikas_orders(urls, "demo")]


# ---- sandbox views


def sent_emails(urls: Urls) -> list[dict[str, Any]]:
    emails: dict[str, dict[str, Any]] = fortnox_table(urls, DEMO_AB, "sentemails")
    return list(emails.values())


def fortnox_calls(urls: Urls, company: int) -> list[dict[str, Any]]:
    calls = httpx.get(f"{urls.fortnox}/__admin/calls", timeout=10).json()
    return [c for c in calls if c["key"] == str(company)]
