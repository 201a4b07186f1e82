"""The catalog's REST endpoints over the running stack (product.md §4, §6, §8): stock locations per store, and
on-demand runs that never overlap.

The stack is shared by the session, so these tests install their own two stores ("demo" with Demo AB, "other"
with Andra AB), and put the product settings back (resetting the relations they made) at the end.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

if TYPE_CHECKING:
    from tests.conftest import DevProcess

DEMO_AB, ANDRA_AB = 1001, 1002
SETTINGS = "/api/v1/settings"
SYNC = "/api/v1/sync"
RUNS = "/api/v1/sync/runs"
FINISHED = {"succeeded", "failed", "partially_failed"}
RUN_TIMEOUT_S = 120.0
_HIDDEN = re.compile(r"<input type='hidden' name='([^']+)' value='([^']*)'>")


@dataclass(frozen=True)
class Urls:
    gateway: str
    ikas: str
    fortnox: str


@pytest.fixture(scope="module")
def urls(stack: DevProcess) -> Urls:
    # OAuth redirect URIs are built from BRIDGE_PUBLIC_URL (http://localhost:<port>): its cookies belong there.
    return Urls(
        gateway=f"http://localhost:{stack.env['BRIDGE_GATEWAY_PORT']}",
        ikas=f"http://127.0.0.1:{stack.env['BRIDGE_SANDBOX_IKAS_PORT']}",
        fortnox=f"http://127.0.0.1:{stack.env['BRIDGE_SANDBOX_FORTNOX_PORT']}",
    )


def _hidden_fields(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in _HIDDEN.findall(page)}


def _installed(urls: Urls, store: str) -> httpx.Client:
    """A merchant's browser after the ikas install of `store` (which gives Bridge its ikas tokens), signed in."""
    browser = httpx.Client(base_url=urls.gateway, timeout=30)
    start = browser.get("/ikas/install", params={"storeName": store})
    assert start.status_code == 302, start.text
    consent = browser.get(start.headers["location"])
    decided = browser.post(start.headers["location"], data={**_hidden_fields(consent.text), "decision": "approve"})
    assert decided.status_code == 302, decided.text
    answer = browser.get(decided.headers["location"])
    assert answer.status_code == 303, answer.text
    browser.headers["X-Bridge-CSRF"] = answer.cookies["bridge_csrf"]
    return browser


def _connect_fortnox(urls: Urls, merchant: httpx.Client, company: int) -> None:
    authorize_url = merchant.post("/api/v1/connection/fortnox/authorize").json()["authorize_url"]
    with httpx.Client(timeout=30) as window:
        consent = window.get(authorize_url)
        fields = {name: value for name, value in _hidden_fields(consent.text).items() if value}
        fields.update(tenant_id=str(company), decision="approve")
        decided = window.post(f"{urls.fortnox}/oauth-v1/auth/decision", data=fields)
    assert decided.status_code == 302, decided.text
    back = urlsplit(decided.headers["location"])
    assert merchant.get(back.path, params=parse_qs(back.query)).status_code == 200
    assert merchant.get("/api/v1/connection").json()["fortnox"]["status"] == "connected"


@pytest.fixture(scope="module")
def merchants(urls: Urls) -> Iterator[dict[str, httpx.Client]]:
    """The stores "demo" (Demo AB) and "other" (Andra AB), installed and connected; reset to the defaults after."""
    clients = {"demo": _installed(urls, "demo"), "other": _installed(urls, "other")}
    _connect_fortnox(urls, clients["demo"], DEMO_AB)
    _connect_fortnox(urls, clients["other"], ANDRA_AB)
    yield clients
    for client in clients.values():
        document = client.get(SETTINGS).json()
        document["products"] = {
            "sync_mode": "fortnox_to_ikas",
            "sync_automatically": False,
            "create_new": False,
            "update_existing": False,
        }
        document["stock"] = {"sync_automatically": False, "ikas_stock_location_id": None, "fortnox_stock_point": None}
        client.put(SETTINGS, json=document, params={"confirm_reset": "true"})
        client.delete("/api/v1/connection/fortnox")
        client.close()


# ---- helpers


def wait_for(merchant: httpx.Client, run_id: str) -> dict[str, Any]:
    """Polls the run until it finishes; its progress never goes backwards on the way."""
    deadline, done = time.monotonic() + RUN_TIMEOUT_S, 0
    while True:
        response = merchant.get(f"{RUNS}/{run_id}")
        assert response.status_code == 200, response.text
        run: dict[str, Any] = response.json()
        assert run["progress"]["done"] >= done
        done = run["progress"]["done"]
        if run["state"] in FINISHED:
            return run
        assert time.monotonic() < deadline, f"run {run_id} did not finish: {run}"
        time.sleep(0.2)


def started(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 202, response.text
    runs: list[dict[str, Any]] = response.json()["runs"]
    return runs


# ---- the tests, in the order a merchant goes


def test_stock_locations_are_the_stores_own(merchants: dict[str, httpx.Client]) -> None:
    demo = merchants["demo"].get("/api/v1/stock-locations")
    other = merchants["other"].get("/api/v1/stock-locations")

    assert demo.status_code == 200, demo.text
    assert sorted(location["name"] for location in demo.json()) == ["Gothenburg shop", "Main warehouse"]
    assert [location["name"] for location in other.json()] == ["Main warehouse"]
    assert not {location["id"] for location in demo.json()} & {location["id"] for location in other.json()}


def test_overlapping_runs_are_refused_with_the_running_runs_id(urls: Urls, merchants: dict[str, httpx.Client]) -> None:
    demo = merchants["demo"]
    slow = {"kind": "delay", "method": "GET", "path": "^/3/articles", "key": str(DEMO_AB), "times": 3, "delay_s": 2}
    assert httpx.post(f"{urls.fortnox}/__admin/faults", json=slow, timeout=10).status_code == 200
    stock_runs_before = demo.get(RUNS, params={"scope": "stock"}).json()["total"]
    try:
        (first,) = started(demo.post(SYNC, json={"scopes": ["products"]}))

        refused = demo.post(SYNC, json={"scopes": ["stock", "products"]})

        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["run_id"] == first["id"]
        assert demo.get(RUNS, params={"scope": "stock"}).json()["total"] == stock_runs_before  # nothing started
        wait_for(demo, first["id"])
    finally:
        httpx.delete(f"{urls.fortnox}/__admin/faults", timeout=10)
