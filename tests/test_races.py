"""Races across the stack (product.md §11, issue #11): work for one tenant started from every door at once, and
many callers on a Fortnox access token that Fortnox no longer takes.

- Orders runs: in parallel threads, on-demand POST /api/v1/sync {"scopes": ["orders"]}, the orders-sync CronJob's
  command (as tests/test_scheduled_triggers.py runs it) and signed store/order/updated webhooks (the same delivery
  again, as ikas redelivers, and new deliveries of the same order). Never two orders runs of the tenant going at
  once (their started..finished intervals do not overlap), each on-demand request starts a run or gets 409 with
  the going run's id, every ikas order is in Fortnox exactly once and none is left behind.
- Tokens: the Fortnox sandbox's clock moves past the access token's hour, so Fortnox answers 401 to the token the
  services hold; 20 concurrent invoice-PDF downloads (each a Fortnox call from the orders service) then make
  exactly one refresh reach Fortnox, all 20 get their PDF and the connection stays connected (a second refresh
  with the single-use refresh token would be invalid_grant: the merchant logged out). The single-process and
  two-process cases of GetAccessToken itself are in services/auth/tests/integration/test_single_flight.py.

The stack is this module's own, with an hour-long BRIDGE_SYNC_INTERVAL_S so only the tests start work.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import DevProcess, running_stack
from tests.merchants import RUNS, Urls, connect_fortnox, fortnox_table, ikas_store, installed, started, wait_for
from tests.test_scheduled_triggers import Finished, cronjob_environment, finish, start_trigger

DEMO_AB = 1001
LONG_AGO = "2020-01-01T00:00:00+00:00"
CLIENT_SECRET = "bridge-local-secret"  # Bridge's local ikas client secret: the key of the webhook signature
NEW_ORDERS = 6
ON_DEMAND, TRIGGERS, REPEATS, UPDATES = 6, 2, 3, 3  # callers of each door in the race
TOKEN_CALLERS = 20
SETTLE_TIMEOUT_S = 120.0
GOING = {"queued", "running"}


@pytest.fixture(scope="module")
def race_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevProcess]:
    with running_stack(tmp_path_factory, "races", BRIDGE_SYNC_INTERVAL_S="3600") as dev:
        yield dev


@pytest.fixture(scope="module")
def urls(race_stack: DevProcess) -> Urls:
    return Urls.of(race_stack)


@pytest.fixture(scope="module")
def merchant(urls: Urls) -> Iterator[httpx.Client]:
    demo = installed(urls, "demo")
    connect_fortnox(urls, demo, DEMO_AB)
    (match,) = started(demo.post("/api/v1/products/match"))
    assert wait_for(demo, match["id"])["state"] == "succeeded"
    save_orders(demo, sync_automatically=True, sync_from=LONG_AGO, create_invoice=True, send_invoice_email=False)
    settle(urls, demo)
    (seeded,) = started(demo.post("/api/v1/sync", json={"scopes": ["orders"]}))  # the seeded orders go out first
    assert wait_for(demo, seeded["id"])["state"] == "succeeded"
    settle(urls, demo)  # and the follow-ups their own invoice attachments woke (store/order/updated)
    yield demo
    demo.close()


# ---- helpers


def save_orders(merchant: httpx.Client, **orders: Any) -> None:
    document = merchant.get("/api/v1/settings").json()
    document["orders"].update(orders)
    saved = merchant.put("/api/v1/settings", json=document)
    assert saved.status_code == 200, saved.text


def orders_runs(merchant: httpx.Client) -> list[dict[str, Any]]:
    answer = merchant.get(RUNS, params={"page_size": 200, "scope": "orders"})
    assert answer.status_code == 200, answer.text
    return [run for run in answer.json()["items"] if run["scope"] == "orders"]


def webhooks_delivered(urls: Urls) -> None:
    answer = httpx.get(f"{urls.ikas}/__admin/webhook-deliveries", params={"wait": "true"}, timeout=30)
    assert answer.status_code == 200, answer.text


def settle(urls: Urls, merchant: httpx.Client, timeout_s: float = SETTLE_TIMEOUT_S) -> None:
    """Until every webhook is delivered and no orders run is queued or running, twice in a row."""
    deadline = time.monotonic() + timeout_s
    while True:
        webhooks_delivered(urls)
        while going := [run for run in orders_runs(merchant) if run["state"] in GOING]:
            assert time.monotonic() < deadline, f"orders runs still going: {going}"
            time.sleep(0.2)
        known = {run["id"] for run in orders_runs(merchant)}
        webhooks_delivered(urls)
        if {run["id"] for run in orders_runs(merchant)} == known:
            return


def related_sku(merchant: httpx.Client) -> str:
    lines = merchant.get("/api/v1/products", params={"page_size": 200}).json()["items"]
    related = [line for line in lines if line["fortnox_article_number"] and line["status"] in ("synced", "pending")]
    assert related, lines
    return str(related[0]["sku"])


def new_order(urls: Urls, sku: str, n: int) -> dict[str, Any]:
    """An order placed in the ikas sandbox; its own store/order/created webhook wakes Bridge as well."""
    answer = httpx.post(
        f"{urls.ikas}/__admin/orders",
        json={
            "store": "demo",
            "customer": {"email": f"race.{n}@example.se", "firstName": "Kapp", "lastName": f"Löpare {n}"},
            "billingAddress": {
                "firstName": "Kapp",
                "lastName": f"Löpare {n}",
                "addressLine1": "Tävlingsvägen 1",
                "postalCode": "111 20",
                "city": "Stockholm",
                "country": "SE",
            },
            "lines": [{"sku": sku, "quantity": 1 + n % 3}],
            "shipping": [{"title": "PostNord MyPack", "price": "49.00"}],
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    order: dict[str, Any] = answer.json()
    return order


def order_updated_delivery(urls: Urls, ikas_order_id: str) -> dict[str, Any]:
    """A store/order/updated delivery of the order as ikas sends it: `data` the record as a JSON string, signed
    with the app's client secret (sandboxes/bridge_sandboxes/ikas/webhooks.py)."""
    launch = httpx.get(f"{urls.ikas}/__admin/dashboard-launch", params={"store": "demo"}, timeout=10).json()
    record = next(o for o in ikas_store(urls, "demo")["orders"] if o["id"] == ikas_order_id)
    data = json.dumps(record, separators=(",", ":"))
    return {
        "id": str(uuid.uuid4()),
        "createdAt": "2026-01-01T00:00:00.000Z",
        "scope": "store/order/updated",
        "merchantId": launch["merchantId"],
        "authorizedAppId": launch["authorizedAppId"],
        "data": data,
        "signature": hmac.new(CLIENT_SECRET.encode(), data.encode(), hashlib.sha256).hexdigest(),
    }


def fortnox_keys(urls: Urls, table: str) -> Counter[str]:
    records = fortnox_table(urls, DEMO_AB, table).values()
    return Counter(str(r.get("ExternalInvoiceReference1") or "") for r in records if r.get("Credit") != "true")


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def assert_never_overlapping(runs: list[dict[str, Any]]) -> None:
    intervals = sorted(
        (instant(run["started_at"]), instant(run["finished_at"]), run["id"]) for run in runs if run["started_at"]
    )
    for (_, first_end, first), (second_start, _, second) in itertools.pairwise(intervals):
        assert second_start >= first_end, f"orders runs {first} and {second} of one tenant overlap: {intervals}"


def token_calls(urls: Urls) -> list[dict[str, Any]]:
    calls = httpx.get(f"{urls.fortnox}/__admin/calls", timeout=10).json()
    return [call for call in calls if call["method"] == "POST" and call["path"] == "/oauth-v1/token"]


def all_at_once(callers: list[Callable[[], Any]]) -> list[Any]:
    """Runs every caller in its own thread, released together."""
    barrier = threading.Barrier(len(callers))

    def run(caller: Callable[[], Any]) -> Any:
        barrier.wait()
        return caller()

    with ThreadPoolExecutor(len(callers)) as pool:
        return list(pool.map(run, callers))


# ---- the tests (the token test moves the Fortnox sandbox's clock, so it comes last)


def test_on_demand_runs_triggers_and_webhooks_at_once_make_one_run_at_a_time_and_send_each_order_once(
    race_stack: DevProcess, urls: Urls, merchant: httpx.Client, tmp_path: Path
) -> None:
    sku = related_sku(merchant)
    # The new orders' own webhooks must not start the work before the race: placed while automatic order sync
    # is off, they wait in ikas until one of the racing doors starts a run.
    settle(urls, merchant)
    save_orders(merchant, sync_automatically=False)
    orders = [new_order(urls, sku, n) for n in range(NEW_ORDERS)]
    webhooks_delivered(urls)
    save_orders(merchant, sync_automatically=True)
    settle(urls, merchant)
    assert not fortnox_keys(urls, "orders").keys() & {f"ikas:{o['id']}" for o in orders}, "sent before the race"
    before = {run["id"] for run in orders_runs(merchant)}
    sent_before = fortnox_keys(urls, "orders")
    repeated = order_updated_delivery(urls, orders[0]["id"])  # the same delivery, posted again and again
    deliveries = [repeated] * REPEATS + [order_updated_delivery(urls, orders[n]["id"]) for n in range(UPDATES)]
    environments = [cronjob_environment(race_stack, tmp_path / f"pod-{n}") for n in range(TRIGGERS)]

    asked: dict[int, tuple[datetime, datetime]] = {}  # an on-demand answer's id: when it was asked, answered

    def on_demand() -> tuple[str, httpx.Response]:
        sent = datetime.now(UTC)
        answer = merchant.post("/api/v1/sync", json={"scopes": ["orders"]})
        asked[id(answer)] = (sent, datetime.now(UTC))
        return "on_demand", answer

    def webhook(delivery: dict[str, Any]) -> Callable[[], tuple[str, httpx.Response]]:
        return lambda: ("webhook", httpx.post(f"{urls.gateway}/webhooks/ikas", json=delivery, timeout=30))

    def trigger(environment: dict[str, str]) -> Callable[[], tuple[str, Finished]]:
        return lambda: ("trigger", finish(start_trigger("orders-sync", environment, tmp_path), time.monotonic()))

    callers: list[Callable[[], Any]] = [on_demand] * ON_DEMAND
    callers += [webhook(delivery) for delivery in deliveries] + [trigger(env) for env in environments]
    outcomes = all_at_once(callers)

    started_ids, refused_with = [], []
    for door, outcome in outcomes:
        if door == "on_demand":
            assert outcome.status_code in (202, 409), outcome.text
            if outcome.status_code == 202:
                (run,) = outcome.json()["runs"]
                started_ids.append(run["id"])
            else:
                refused_with.append(outcome.json()["run_id"])
        elif door == "webhook":
            assert outcome.status_code == 200, outcome.text
            assert outcome.json()["status"] in ("accepted", "duplicate"), outcome.text
        else:
            assert outcome.code == 0, outcome.stderr
            assert outcome.summary() in (
                "enqueued 1, skipped 0 (still running)",
                "enqueued 0, skipped 1 (still running)",
            )
    webhooks = [outcome.json()["status"] for door, outcome in outcomes if door == "webhook"]  # in caller order
    assert sorted(webhooks[:REPEATS]) == ["accepted"] + ["duplicate"] * (REPEATS - 1), webhooks  # taken once
    assert webhooks[REPEATS:] == ["accepted"] * UPDATES, webhooks

    settle(urls, merchant)
    runs = orders_runs(merchant)
    new = [run for run in runs if run["id"] not in before]
    known = {run["id"] for run in runs}
    assert set(started_ids) <= known, (started_ids, new)
    assert set(refused_with) <= {run["id"] for run in new}, (refused_with, new)  # 409 names a run of the race
    by_id = {run["id"]: run for run in new}
    for door, outcome in outcomes:  # ... and that run was going while the refused request was being answered
        if door == "on_demand" and outcome.status_code == 409:
            sent, answered = asked[id(outcome)]
            run = by_id[outcome.json()["run_id"]]
            assert instant(run["created_at"]) <= answered, (run, answered)
            assert instant(run["finished_at"]) >= sent, (run, sent)
    assert started_ids or refused_with
    assert len(set(started_ids)) == len(started_ids), started_ids  # a 202 is always a run of its own
    assert all(run["state"] == "succeeded" for run in new), new
    assert_never_overlapping(runs)

    in_fortnox, invoiced = fortnox_keys(urls, "orders"), fortnox_keys(urls, "invoices")
    assert [key for key, n in in_fortnox.items() if key and n > 1] == [], in_fortnox
    assert [key for key, n in invoiced.items() if key and n > 1] == [], invoiced
    for order in orders:  # nothing lost: every new order went out, once
        key = f"ikas:{order['id']}"
        assert (in_fortnox[key], invoiced[key]) == (1, 1), (order["orderNumber"], in_fortnox, invoiced)
    # the runs' own account agrees: each order they created is one new Fortnox order
    assert sum(run["counts"]["created"] for run in new) == len(in_fortnox.keys() - sent_before.keys()), new


def test_twenty_callers_on_a_token_fortnox_refuses_make_one_refresh_and_stay_connected(
    urls: Urls, merchant: httpx.Client
) -> None:
    settle(urls, merchant)
    invoiced = [
        o["id"]
        for o in merchant.get("/api/v1/orders", params={"page_size": 200}).json()["items"]
        if o["fortnox_invoice_number"]
    ]
    assert invoiced
    first = merchant.get(f"/api/v1/orders/{invoiced[0]}/invoice.pdf")  # the orders service now holds a token
    assert first.status_code == 200, first.text
    refreshes_before = len(token_calls(urls))
    # An hour and a bit later for Fortnox: the token every service holds is answered 401 from now on.
    assert httpx.post(f"{urls.fortnox}/__admin/clock", json={"advance_s": 3900}, timeout=10).status_code == 200

    def download(n: int) -> Callable[[], httpx.Response]:
        return lambda: merchant.get(f"/api/v1/orders/{invoiced[n % len(invoiced)]}/invoice.pdf")

    answers = all_at_once([download(n) for n in range(TOKEN_CALLERS)])

    assert [a.status_code for a in answers] == [200] * TOKEN_CALLERS, [a.text for a in answers if a.status_code != 200]
    assert all(a.content.startswith(b"%PDF") for a in answers)
    refused = [
        call
        for call in httpx.get(f"{urls.fortnox}/__admin/calls", timeout=10).json()
        if call["status"] == 401 and call["path"] != "/oauth-v1/token"
    ]
    assert refused, "Fortnox took the old token: the clock did not make it expire"
    refreshes = token_calls(urls)[refreshes_before:]
    assert [call["status"] for call in refreshes] == [200], refreshes
    assert merchant.get("/api/v1/connection").json()["fortnox"]["status"] == "connected"
    again = merchant.get(f"/api/v1/orders/{invoiced[0]}/invoice.pdf")  # the new token works on
    assert again.status_code == 200, again.text
    # The catalog service still holds the old token: Fortnox refuses it, and its report of the refused token
    # finds the connection already refreshed, so it gets the new token without a second refresh.
    (match,) = started(merchant.post("/api/v1/products/match"))
    assert wait_for(merchant, match["id"])["state"] == "succeeded"
    assert len(token_calls(urls)) == refreshes_before + 1
    assert merchant.get("/api/v1/connection").json()["fortnox"]["status"] == "connected"
