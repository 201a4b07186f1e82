"""Benchmark of one scheduled pass over tenants that have nothing to do (issue 11).

Not a test: it measures and prints, it asserts nothing. It starts the whole stack (scripts/dev.py, as the
cross-service tests do: tests/conftest.py `launch_dev`, with a day-long sync interval so local mode's own
scheduler stays out of the way), adds `--tenants` (default 1 000) empty ikas stores and empty Fortnox companies to
the sandboxes, and makes each a tenant through the same road a merchant takes (the fastest honest one: the auth
service alone holds the tokens, sealed in its vault): the ikas install through the consent page, Fortnox
connected through its consent window, then PUT /api/v1/settings with automatic product, stock and order sync
on (products ikas_to_fortnox, stock into the store's first location); `--workers` merchants at a time.

Then `--passes` (default 2) scheduled passes, each the three CronJobs' commands as their pods run them
(deploy/k8s/base/cronjobs: `python -m bridge_catalog trigger --scope products`, `... --scope stock`,
`python -m bridge_orders trigger --scope orders`, production mode, the service token only), one scope at a time
so every upstream call belongs to one scope: the call logs cleared, the trigger run, then the runs it enqueued
waited for in the services' run ledgers until every one finished. Printed per pass and scope: the trigger's
summary, runs by state, upstream reads per tenant (GET to Fortnox, GraphQL POSTs to ikas, by the call logs'
key: the store name, the Fortnox tenant id; target 1 in all per tenant and scope), writes, and the wall time from
the trigger's start to the last run's end. The first pass is a new tenant's first sync (no watermark yet); the
second is the steady state.

Run from the repository root: `.venv/bin/python -u bench/idle_tenants.py` (the full size; `--tenants 20` gives a
quick look). Figures: bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.conftest and tests.merchants: how the cross-service tests start a stack

from bridge_sandboxes.ikas.seed import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET  # noqa: E402
from tests.conftest import RUNNING_LINE, START_TIMEOUT_S, DevProcess, launch_dev  # noqa: E402
from tests.merchants import Urls, connect_fortnox, installed  # noqa: E402

FIRST_COMPANY = 30_000
SETTINGS = "/api/v1/settings"
FINISHED = ("succeeded", "failed", "partially_failed")
PASS_TIMEOUT_S = 3_600.0
# The CronJobs' commands (deploy/k8s/base/cronjobs/*.yaml, after the image's `python -m`) and their ledgers.
SCOPES = (
    ("products", ["bridge_catalog", "trigger", "--scope", "products"], "catalog.db"),
    ("stock", ["bridge_catalog", "trigger", "--scope", "stock"], "catalog.db"),
    ("orders", ["bridge_orders", "trigger", "--scope", "orders"], "orders.db"),
)


def store_of(n: int) -> str:
    return f"idle-{n:04d}"


def add_upstreams(urls: Urls, tenants: int) -> None:
    stores = [store_of(n) for n in range(tenants)]
    httpx.post(f"{urls.ikas}/__admin/seed", json={"stores": stores}, timeout=300).raise_for_status()
    with httpx.Client(base_url=urls.ikas, timeout=30) as ikas:
        for store in stores:  # Bridge's app known to each store, as the seed does for "demo"
            app = {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET, "store": store}
            ikas.post("/__admin/apps", json=app).raise_for_status()
    companies = [{"tenant_id": FIRST_COMPANY + n, "name": f"Idle {n} AB"} for n in range(tenants)]
    httpx.post(f"{urls.fortnox}/__admin/seed", json={"companies": companies}, timeout=300).raise_for_status()
    for url in (urls.ikas, urls.fortnox):
        body = {"limit": 1_000_000, "window_s": 1.0}  # per key anyway; no tenant comes near its limit here
        httpx.post(f"{url}/__admin/rate-limit", json=body, timeout=30).raise_for_status()


def make_tenant(urls: Urls, n: int) -> int:
    """Sets tenant `n` up; the number of attempts it took (a failed step is retried from the install on)."""
    for attempt in range(1, 4):
        try:
            _make_tenant(urls, n)
            return attempt
        except (AssertionError, RuntimeError, httpx.HTTPError) as error:
            if attempt == 3:
                raise RuntimeError(f"{store_of(n)}: not set up after 3 attempts") from error
    raise AssertionError("unreachable")


def _make_tenant(urls: Urls, n: int) -> None:
    merchant = installed(urls, store_of(n))
    try:
        connect_fortnox(urls, merchant, FIRST_COMPANY + n)
        document = merchant.get(SETTINGS).json()
        document["products"].update(sync_mode="ikas_to_fortnox", sync_automatically=True)
        locations = merchant.get("/api/v1/stock-locations").json()
        document["stock"].update(sync_automatically=True, ikas_stock_location_id=locations[0]["id"])
        document["orders"]["sync_automatically"] = True
        saved = merchant.put(SETTINGS, json=document, params={"confirm_reset": "true"})
        if saved.status_code != 200:
            raise RuntimeError(f"{store_of(n)}: {saved.status_code} {saved.text}")
    finally:
        merchant.close()


def trigger_environment(dev: DevProcess, data_dir: Path) -> dict[str, str]:
    """What a CronJob pod's environment holds (bridge-config's settings and bridge-service-token)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(data_dir)),
        "BRIDGE_MODE": "production",
        "BRIDGE_PUBLIC_URL": f"http://localhost:{dev.env['BRIDGE_GATEWAY_PORT']}",
        "BRIDGE_DATA_DIR": str(data_dir),
        "BRIDGE_AUTH_ADDR": dev.env["BRIDGE_AUTH_ADDR"],
        "BRIDGE_CATALOG_ADDR": dev.env["BRIDGE_CATALOG_ADDR"],
        "BRIDGE_ORDERS_ADDR": dev.env["BRIDGE_ORDERS_ADDR"],
        "BRIDGE_LOG_LEVEL": "INFO",
        "BRIDGE_SERVICE_TOKEN": (dev.data_dir / "service-token").read_text().strip(),
    }


def runs_since(ledger: Path, scope: str, since: datetime) -> list[tuple[str, str, str | None]]:
    """(state, trigger, finished_at) of the runs of `scope` created since `since`, read from the ledger."""
    with sqlite3.connect(ledger, timeout=30) as db:
        rows = db.execute(
            "SELECT state, trigger, finished_at, created_at FROM runs WHERE scope = ?", (scope,)
        ).fetchall()
    return [(state, trigger, finished) for state, trigger, finished, created in rows if _at(created) >= since]


def _at(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def calls(urls: Urls) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for upstream, url in (("fortnox", urls.fortnox), ("ikas", urls.ikas)):
        found += [{**call, "upstream": upstream} for call in httpx.get(f"{url}/__admin/calls", timeout=300).json()]
    return found


def one_scope(dev: DevProcess, urls: Urls, scratch: Path, tenants: int, scope: str, args: list[str], db: str) -> None:
    for url in (urls.fortnox, urls.ikas):
        httpx.delete(f"{url}/__admin/calls", timeout=60).raise_for_status()
    since = datetime.now(UTC)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=scratch,
        env=trigger_environment(dev, scratch / f"pod-{scope}-{time.monotonic_ns()}"),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    triggered = time.monotonic() - started
    summary = next((line for line in done.stderr.splitlines() if "scheduled job done" in line), done.stderr[-500:])
    deadline = started + PASS_TIMEOUT_S
    while True:
        runs = runs_since(dev.data_dir / db, scope, since)
        scheduled = [run for run in runs if run[1] == "schedule"]
        if len(scheduled) >= tenants and all(state in FINISHED for state, _, _ in runs):
            break
        if time.monotonic() > deadline:
            print(f"  {scope}: runs still going after {PASS_TIMEOUT_S:g} s: {Counter(r[0] for r in runs)}")
            break
        time.sleep(0.5)
    elapsed = time.monotonic() - started
    keys = {store_of(n): n for n in range(tenants)} | {str(FIRST_COMPANY + n): n for n in range(tenants)}
    reads: Counter[tuple[str, int]] = Counter()
    writes = 0
    for call in calls(urls):
        if call["key"] not in keys or call["status"] == 429:
            continue
        if call["upstream"] == "fortnox" and call["method"] != "GET":
            writes += 1
        elif call["upstream"] == "ikas" and "/graphql" not in call["path"]:
            continue  # token requests: counted apart below
        else:
            reads[(call["upstream"], keys[call["key"]])] += 1
    per_tenant = [reads[("fortnox", n)] + reads[("ikas", n)] for n in range(tenants)]
    spread = Counter(per_tenant)
    fortnox_reads = sum(reads[("fortnox", n)] for n in range(tenants))
    ikas_calls = sum(reads[("ikas", n)] for n in range(tenants))
    print(
        f"  {scope}: trigger exit {done.returncode} in {triggered:.1f} s ({summary.strip()[:160]})\n"
        f"    runs {dict(Counter((state, trigger) for state, trigger, _ in runs))}, all finished "
        f"{elapsed:.1f} s after the trigger's start\n"
        f"    upstream reads per tenant: {sum(per_tenant) / tenants:.2f} (target 1; ratio "
        f"{sum(per_tenant) / tenants:.2f}): fortnox {fortnox_reads / tenants:.2f}, ikas GraphQL "
        f"{ikas_calls / tenants:.2f}; tenants by reads {dict(sorted(spread.items()))}; fortnox writes {writes}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, default=1_000, help="idle tenants")
    parser.add_argument("--passes", type=int, default=2, help="scheduled passes (the first is a first sync)")
    parser.add_argument("--workers", type=int, default=8, help="tenants set up at a time")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        dev = launch_dev(scratch, BRIDGE_SYNC_INTERVAL_S="86400")
        try:
            dev.wait_for_output(RUNNING_LINE, START_TIMEOUT_S)
            urls = Urls.of(dev)
            started = time.monotonic()
            add_upstreams(urls, arguments.tenants)
            with ThreadPoolExecutor(arguments.workers) as pool:
                attempts = Counter(pool.map(lambda n: make_tenant(urls, n), range(arguments.tenants)))
            print(
                f"setup: {arguments.tenants} tenants installed, connected, automatic sync on in "
                f"{time.monotonic() - started:.1f} s (tenants by attempts: {dict(sorted(attempts.items()))})"
            )
            for number in range(1, arguments.passes + 1):
                print(f"pass {number} ({'first sync' if number == 1 else 'steady state'}):")
                pass_started = time.monotonic()
                for scope, args, db in SCOPES:
                    one_scope(dev, urls, scratch, arguments.tenants, scope, args, db)
                print(f"  pass {number}: {time.monotonic() - pass_started:.1f} s for the three scopes")
            dev.interrupt()
        finally:
            dev.kill_everything()


if __name__ == "__main__":
    main()
