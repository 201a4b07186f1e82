"""A merchant's view of the running stack, shared by the cross-service API tests: install a store through the
ikas sandbox's consent page, connect a Fortnox company through the Fortnox sandbox's, start runs and wait for
them, and read the sandboxes' state and call logs."""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import httpx

if TYPE_CHECKING:
    from tests.conftest import DevProcess

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

    @classmethod
    def of(cls, stack: DevProcess) -> Urls:
        # OAuth redirect URIs are built from BRIDGE_PUBLIC_URL (http://localhost:<port>): its cookies belong there.
        return cls(
            gateway=f"http://localhost:{stack.env['BRIDGE_GATEWAY_PORT']}",
            ikas=f"http://127.0.0.1:{stack.env['BRIDGE_SANDBOX_IKAS_PORT']}",
            fortnox=f"http://127.0.0.1:{stack.env['BRIDGE_SANDBOX_FORTNOX_PORT']}",
        )


def _hidden_fields(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in _HIDDEN.findall(page)}


def installed(urls: Urls, store: str) -> httpx.Client:
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


def connect_fortnox(urls: Urls, merchant: httpx.Client, company: int) -> None:
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


def wait_for(merchant: httpx.Client, run_id: str, timeout_s: float = RUN_TIMEOUT_S) -> dict[str, Any]:
    """Polls the run until it finishes; its progress never goes backwards on the way."""
    deadline, done = time.monotonic() + timeout_s, 0
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


def run_now(merchant: httpx.Client, *scopes: str) -> list[dict[str, Any]]:
    runs = started(merchant.post(SYNC, json={"scopes": list(scopes)}))
    assert [run["scope"] for run in runs] == list(scopes)
    return [wait_for(merchant, run["id"]) for run in runs]


def fortnox_table(urls: Urls, company: int, table: str) -> dict[str, dict[str, Any]]:
    state = httpx.get(f"{urls.fortnox}/__admin/state", timeout=10).json()
    records: dict[str, dict[str, Any]] = state["companies"][str(company)]["tables"].get(table, {})
    return records


def ikas_store(urls: Urls, store: str) -> dict[str, Any]:
    stores: dict[str, Any] = httpx.get(f"{urls.ikas}/__admin/state", timeout=10).json()["stores"]
    return dict(stores[store])


def fortnox_writes(urls: Urls, company: int) -> list[dict[str, Any]]:
    calls = httpx.get(f"{urls.fortnox}/__admin/calls", timeout=10).json()
    return [c for c in calls if c["key"] == str(company) and c["method"] != "GET"]


def clear_calls(urls: Urls) -> None:
    for base in (urls.fortnox, urls.ikas):
        assert httpx.delete(f"{base}/__admin/calls", timeout=10).status_code == 200
