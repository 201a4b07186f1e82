"""The scheduled syncs as production runs them (product.md §6, §10; issue #10): the commands of the CronJobs in
deploy/k8s/base/cronjobs, run as subprocesses against the running stack with what a CronJob pod gets (the
production mode, the service addresses, the service token, an empty data dir: no database URL), and the outcome
asserted through REST (GET /api/v1/sync/runs) and in the sandboxes.

Two stores: "demo" (Demo AB, Fortnox tenant 1001) has automatic product, stock and order sync on; "other" (Andra
AB, 1002) has the same settings with automatic sync off, so a sync of it would write to both sandboxes. The stack
is this module's own, with a day-long BRIDGE_SYNC_INTERVAL_S, so local mode's built-in scheduler stays out of the
way; runs are still told apart by id (those that did not exist before a trigger started).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import DevProcess, free_port, running_stack
from tests.merchants import RUNS, Urls, connect_fortnox, ikas_store, installed, wait_for

ROOT = Path(__file__).resolve().parent.parent
CRONJOBS = ROOT / "deploy" / "k8s" / "base" / "cronjobs"
DEMO_AB, ANDRA_AB = 1001, 1002
SETTINGS = "/api/v1/settings"
FORTNOX_ONLY = ("FX-2001", "FX-2002", "FX-2003", "FX-2004")  # active demo articles without an ikas variant
GOING = {"queued", "running"}
CLI_TIMEOUT_S = 150.0  # above every trigger's RPC deadline (JOB_DEADLINE_S, 120 s), so a hang fails the test
ANSWER_DELAY_S = 4.0  # how long the overlap test holds the first run's upstream answers


@dataclass(frozen=True)
class Shops:
    urls: Urls
    demo: httpx.Client
    other: httpx.Client


@pytest.fixture(scope="module")
def trigger_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevProcess]:
    with running_stack(tmp_path_factory, "triggers", BRIDGE_SYNC_INTERVAL_S="86400") as dev:
        yield dev


@pytest.fixture(scope="module")
def shops(trigger_stack: DevProcess) -> Iterator[Shops]:
    urls = Urls.of(trigger_stack)
    demo, other = installed(urls, "demo"), installed(urls, "other")
    connect_fortnox(urls, demo, DEMO_AB)
    connect_fortnox(urls, other, ANDRA_AB)
    save_sync_settings(demo, automatic=True)
    save_sync_settings(other, automatic=False)
    for merchant in (demo, other):
        settle(urls, merchant)
    yield Shops(urls, demo, other)
    demo.close()
    other.close()


# ---- helpers


def save_sync_settings(merchant: httpx.Client, *, automatic: bool) -> None:
    """Products from Fortnox to ikas (create and update), stock into the first stock location, orders: a sync of
    this tenant writes to the sandboxes; `automatic` decides whether the schedule includes it."""
    document = merchant.get(SETTINGS).json()
    document["products"].update(
        sync_mode="fortnox_to_ikas", create_new=True, update_existing=True, sync_automatically=automatic
    )
    locations = merchant.get("/api/v1/stock-locations").json()
    document["stock"].update(sync_automatically=automatic, ikas_stock_location_id=locations[0]["id"])
    document["orders"]["sync_automatically"] = automatic
    saved = merchant.put(SETTINGS, json=document, params={"confirm_reset": "true"})
    assert saved.status_code == 200, saved.text
    assert saved.json()["products"]["sync_automatically"] is automatic


def runs_of(merchant: httpx.Client) -> list[dict[str, Any]]:
    response = merchant.get(RUNS, params={"page_size": 200})
    assert response.status_code == 200, response.text
    runs: list[dict[str, Any]] = response.json()["items"]
    return runs


def run_ids(merchant: httpx.Client) -> set[str]:
    return {run["id"] for run in runs_of(merchant)}


def settle(urls: Urls, merchant: httpx.Client, timeout_s: float = 90.0) -> None:
    """Waits until none of the tenant's runs is queued or running and none is on its way: a run's writes to ikas
    come back as product and stock webhooks, which wake a follow-up run (trigger `webhook`)."""
    deadline = time.monotonic() + timeout_s
    while True:
        webhooks_delivered(urls)
        while going := [run for run in runs_of(merchant) if run["state"] in GOING]:
            assert time.monotonic() < deadline, f"runs still going: {going}"
            time.sleep(0.2)
        known = run_ids(merchant)
        webhooks_delivered(urls)
        if run_ids(merchant) == known:
            return


def webhooks_delivered(urls: Urls) -> None:
    """Returns once the ikas sandbox has delivered every webhook it queued (the gateway answers after it has
    handed the wake-up to its service)."""
    answer = httpx.get(f"{urls.ikas}/__admin/webhook-deliveries", params={"wait": "true"}, timeout=30)
    assert answer.status_code == 200, answer.text


def cronjob_args(name: str) -> list[str]:
    """The CronJob's command after the image's ENTRYPOINT (`python -m`); its pod holds the service token only."""
    cronjob = yaml.safe_load((CRONJOBS / f"{name}.yaml").read_text())
    (container,) = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    secrets = [source["secretRef"]["name"] for source in container["envFrom"] if "secretRef" in source]
    assert secrets == ["bridge-service-token"], f"{name}: {container}"
    assert "env" not in container, f"{name}: {container}"
    return [str(arg) for arg in container["args"]]


def cronjob_environment(stack: DevProcess, data_dir: Path, **overrides: str) -> dict[str, str]:
    """What a CronJob pod's environment holds, pointed at this stack: bridge-config's kind of settings and
    bridge-service-token (the stack's local-mode token), nothing else of the test runner's."""
    data_dir.mkdir(parents=True, exist_ok=True)
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "BRIDGE_MODE": "production",
        "BRIDGE_PUBLIC_URL": f"http://localhost:{stack.env['BRIDGE_GATEWAY_PORT']}",
        "BRIDGE_DATA_DIR": str(data_dir),
        "BRIDGE_AUTH_ADDR": stack.env["BRIDGE_AUTH_ADDR"],
        "BRIDGE_CATALOG_ADDR": stack.env["BRIDGE_CATALOG_ADDR"],
        "BRIDGE_ORDERS_ADDR": stack.env["BRIDGE_ORDERS_ADDR"],
        "BRIDGE_LOG_LEVEL": "INFO",
        "BRIDGE_SERVICE_TOKEN": (stack.data_dir / "service-token").read_text().strip(),
    } | overrides
    assert not [name for name in environment if name.endswith("_DATABASE_URL")]
    return environment


def start_trigger(cronjob: str, environment: dict[str, str], workdir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", *cronjob_args(cronjob)],
        cwd=workdir,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@dataclass(frozen=True)
class Finished:
    code: int
    stderr: str
    elapsed_s: float

    def summary(self) -> str:
        """The summary the CLI logs when the job is done ("enqueued N, skipped M (still running)")."""
        for line in self.stderr.splitlines():
            if line.startswith("{") and (record := json.loads(line)).get("message") == "scheduled job done":
                return str(record["summary"])
        raise AssertionError(f"no 'scheduled job done' in the trigger's output:\n{self.stderr}")


def finish(process: subprocess.Popen[str], started_at: float) -> Finished:
    try:
        _, stderr = process.communicate(timeout=CLI_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
        pytest.fail(f"the trigger did not exit within {CLI_TIMEOUT_S:g} s:\n{stderr}")
    return Finished(process.returncode, stderr, time.monotonic() - started_at)


def run_trigger(stack: DevProcess, cronjob: str, tmp_path: Path) -> Finished:
    """One CronJob's command, as its pod runs it; its data dir must stay empty (it opens no database)."""
    data_dir = tmp_path / f"{cronjob}-data"
    started_at = time.monotonic()
    done = finish(start_trigger(cronjob, cronjob_environment(stack, data_dir), tmp_path), started_at)
    assert done.code == 0, done.stderr
    assert not list(data_dir.iterdir()), "a trigger writes nothing locally (no SQLite, no generated secret)"
    return done


@dataclass(frozen=True)
class Snapshot:
    """What the sandboxes hold for "other" (its ikas store, Andra AB's Fortnox company), to compare later."""

    ikas: dict[str, Any]
    fortnox: dict[str, Any]

    @classmethod
    def of_other(cls, urls: Urls) -> Snapshot:
        state = httpx.get(f"{urls.fortnox}/__admin/state", timeout=10).json()
        return cls(ikas_store(urls, "other"), state["companies"][str(ANDRA_AB)])


def calls_for(urls: Urls, key: str) -> list[dict[str, Any]]:
    """The sandbox calls made with the tokens of one store or company (the call log's key)."""
    calls = []
    for base in (urls.fortnox, urls.ikas):
        calls += [call for call in httpx.get(f"{base}/__admin/calls", timeout=10).json() if call["key"] == key]
    return calls


def clear_calls(urls: Urls) -> None:
    for base in (urls.fortnox, urls.ikas):
        assert httpx.delete(f"{base}/__admin/calls", timeout=10).status_code == 200


def scheduled_run(shops: Shops, before: set[str], scope: str) -> dict[str, Any]:
    """The one run the schedule started for demo since `before` (of `scope`), waited for. Any other new run is a
    webhook's follow-up of the same scope (ikas echoing the run's own writes), never a second scheduled one."""
    new = [run for run in runs_of(shops.demo) if run["id"] not in before]
    scheduled = [run for run in new if run["trigger"] == "schedule"]
    assert [run["scope"] for run in scheduled] == [scope], new
    assert {(run["scope"], run["trigger"]) for run in new} <= {(scope, "schedule"), (scope, "webhook")}, new
    return wait_for(shops.demo, scheduled[0]["id"])


def assert_other_untouched(shops: Shops, before: set[str], snapshot: Snapshot) -> None:
    assert run_ids(shops.other) == before, "no run for a tenant whose automatic sync is off"
    assert calls_for(shops.urls, "other") == [], "no ikas call with the other store's token"
    assert calls_for(shops.urls, str(ANDRA_AB)) == [], "no Fortnox call with Andra AB's token"
    assert Snapshot.of_other(shops.urls) == snapshot


# ---- the tests, in the order the schedule would run them


@pytest.mark.parametrize(
    ("cronjob", "scope"),
    [("catalog-product-sync", "products"), ("catalog-stock-sync", "stock"), ("orders-sync", "orders")],
)
def test_a_trigger_syncs_each_tenant_whose_automatic_sync_is_on_once_and_no_other(
    trigger_stack: DevProcess, shops: Shops, tmp_path: Path, cronjob: str, scope: str
) -> None:
    settle(shops.urls, shops.demo)
    demo_before, other_before = run_ids(shops.demo), run_ids(shops.other)
    snapshot = Snapshot.of_other(shops.urls)
    clear_calls(shops.urls)

    done = run_trigger(trigger_stack, cronjob, tmp_path)

    assert done.summary() == "enqueued 1, skipped 0 (still running)"
    run = scheduled_run(shops, demo_before, scope)
    assert run["state"] == "succeeded", run
    assert calls_for(shops.urls, "demo") or calls_for(shops.urls, str(DEMO_AB)), "the demo tenant was synced"
    if scope == "products":
        skus = [v["sku"] for p in ikas_store(shops.urls, "demo")["products"] for v in p["variants"] if v.get("sku")]
        assert all(skus.count(number) == 1 for number in FORTNOX_ONLY), skus  # the run's work, done once
    assert_other_untouched(shops, other_before, snapshot)


def test_two_triggers_of_one_scope_started_together_make_one_run(
    trigger_stack: DevProcess, shops: Shops, tmp_path: Path
) -> None:
    """Like two CronJob pods of one schedule (concurrencyPolicy Forbid prevents that; the service does not rely
    on it): one enqueues the tenant's run, the other finds it going and skips the tenant; both succeed. The
    run's first upstream answers come late, so it is surely still going when the second trigger asks."""
    settle(shops.urls, shops.demo)
    demo_before, other_before = run_ids(shops.demo), run_ids(shops.other)
    snapshot = Snapshot.of_other(shops.urls)
    clear_calls(shops.urls)
    for base, key in ((shops.urls.fortnox, str(DEMO_AB)), (shops.urls.ikas, "demo")):
        fault = {"kind": "delay", "key": key, "times": 1, "delay_s": ANSWER_DELAY_S}
        assert httpx.post(f"{base}/__admin/faults", json=fault, timeout=10).status_code == 200
    try:
        environments = [cronjob_environment(trigger_stack, tmp_path / f"pod-{n}") for n in (1, 2)]
        started_at = time.monotonic()
        pods = [start_trigger("catalog-product-sync", environment, tmp_path) for environment in environments]
        results = [finish(pod, started_at) for pod in pods]

        assert [result.code for result in results] == [0, 0], [result.stderr for result in results]
        assert sorted(result.summary() for result in results) == [
            "enqueued 0, skipped 1 (still running)",
            "enqueued 1, skipped 0 (still running)",
        ]
        run = scheduled_run(shops, demo_before, "products")
        assert run["state"] == "succeeded", run
        assert_other_untouched(shops, other_before, snapshot)
    finally:
        for base in (shops.urls.fortnox, shops.urls.ikas):
            httpx.delete(f"{base}/__admin/faults", timeout=10)


@pytest.mark.parametrize("cronjob", ["catalog-product-sync", "catalog-stock-sync", "orders-sync"])
def test_a_trigger_fails_within_its_deadline_when_its_service_is_not_running(
    trigger_stack: DevProcess, tmp_path: Path, cronjob: str
) -> None:
    """Nothing listens at the service's address: the CronJob's pod fails (non-zero, so the Job retries and
    reports it) well within the RPC deadline, instead of hanging until activeDeadlineSeconds."""
    from bridge_catalog.entrypoints.cli import JOB_DEADLINE_S as CATALOG_DEADLINE_S
    from bridge_orders.entrypoints.cli import JOB_DEADLINE_S as ORDERS_DEADLINE_S

    address = "BRIDGE_ORDERS_ADDR" if cronjob.startswith("orders") else "BRIDGE_CATALOG_ADDR"
    deadline_s = ORDERS_DEADLINE_S if cronjob.startswith("orders") else CATALOG_DEADLINE_S
    environment = cronjob_environment(trigger_stack, tmp_path / "data", **{address: f"127.0.0.1:{free_port()}"})
    started_at = time.monotonic()

    done = finish(start_trigger(cronjob, environment, tmp_path), started_at)

    assert done.code != 0, done.stderr
    assert done.elapsed_s < deadline_s, f"{done.elapsed_s:.1f} s"
    assert "scheduled job failed" in done.stderr, done.stderr
    assert "UNAVAILABLE" in done.stderr, done.stderr
