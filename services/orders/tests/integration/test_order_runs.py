"""Order runs end to end: the orders service's servicers on port 0 with its run queue (SQLite), against the ikas
and Fortnox sandboxes as real processes over HTTP, and a catalog ProductService (relations by SKU) over real
gRPC. The orders run and its watermark, per-order isolation, overlapping runs, due tenants, a paused
connection, backfill and its dry run, webhook wake-ups, the list and the single order, tenant walls, and the
`trigger` command."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from bridge.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from bridge.common.v1 import common_pb2
from bridge.orders.v1 import orders_pb2, orders_pb2_grpc
from bridge_orders.bootstrap import MIGRATIONS, Services, build
from bridge_orders.entrypoints.grpc_servicer import register
from bridge_platform.db import upgrade_to_head
from bridge_platform.errors import Conflict, InvalidInput
from bridge_platform.grpc_client import grpc_channel
from bridge_platform.grpc_errors import error_from_rpc
from bridge_platform.grpc_server import create_server
from bridge_platform.settings import BridgeSettings, Mode, load_settings
from bridge_sandboxes.ikas.seed import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from bridge_sandboxes.process import running_sandbox
from bridge_upstreams.auth_tokens import ConnectionPaused

TOKEN = "service-token-for-tests"
TENANT, OTHER = "t-demo", "t-other"
IKAS_STORE = {TENANT: "demo", OTHER: "other"}
FORTNOX_COMPANY = {TENANT: 1001, OTHER: 1002}
FORTNOX_SCOPES = "article customer order invoice price companyinformation settings currency"
FINISHED = (common_pb2.RUN_STATE_SUCCEEDED, common_pb2.RUN_STATE_FAILED, common_pb2.RUN_STATE_PARTIALLY_FAILED)
TIMEOUT_S = 30


@pytest.fixture(scope="module")
def fortnox_sandbox() -> Iterator[str]:
    with running_sandbox("fortnox") as url:
        yield url


@pytest.fixture(scope="module")
def ikas_sandbox() -> Iterator[str]:
    with running_sandbox("ikas") as url:
        yield url


class FortnoxTokens:
    """Sandbox tokens of each tenant's Fortnox company; `paused` plays a connection that needs reconnecting
    (what GrpcTokenSource raises when the auth service says so)."""

    def __init__(self, url: str) -> None:
        self._url, self._tokens = url, {}  # type: ignore[var-annotated]
        self._lock = threading.Lock()
        self.paused = False

    def access_token(self, tenant_id: str) -> str:
        if self.paused:
            raise ConnectionPaused("fortnox", "needs_reauth")
        with self._lock:
            if tenant_id not in self._tokens:
                minted = httpx.post(
                    f"{self._url}/__admin/tokens",
                    json={"tenant_id": FORTNOX_COMPANY[tenant_id], "scopes": FORTNOX_SCOPES},
                    timeout=TIMEOUT_S,
                ).json()
                self._tokens[tenant_id] = minted["access_token"]
            return str(self._tokens[tenant_id])

    def report_rejected(self, tenant_id: str, token: str) -> None:
        with self._lock:
            self._tokens.pop(tenant_id, None)


class IkasTokens:
    """Sandbox client-credentials tokens of each tenant's ikas store."""

    def __init__(self, url: str) -> None:
        self._url, self._tokens = url, {}  # type: ignore[var-annotated]
        self._lock = threading.Lock()

    def access_token(self, tenant_id: str) -> str:
        with self._lock:
            if tenant_id not in self._tokens:
                answer = httpx.post(
                    f"{self._url}/stores/{IKAS_STORE[tenant_id]}/api/admin/oauth/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": DEMO_CLIENT_ID,
                        "client_secret": DEMO_CLIENT_SECRET,
                    },
                    timeout=TIMEOUT_S,
                )
                assert answer.status_code == 200, answer.text
                self._tokens[tenant_id] = answer.json()["access_token"]
            return str(self._tokens[tenant_id])

    def report_rejected(self, tenant_id: str, token: str) -> None:
        with self._lock:
            self._tokens.pop(tenant_id, None)


class StoreNames:
    def store_name(self, tenant_id: str) -> str:
        return IKAS_STORE[tenant_id]


class Catalog(catalog_pb2_grpc.ProductServiceServicer):
    """The catalog's relations as ResolveArticleNumbers answers them: a variant is related when its SKU is a
    Fortnox article of the tenant's company and not in `unlinked`."""

    def __init__(self, fortnox_url: str) -> None:
        self._fortnox_url = fortnox_url
        self.unlinked: set[str] = set()

    def ResolveArticleNumbers(
        self, request: catalog_pb2.ResolveArticleNumbersRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.ResolveArticleNumbersResponse:
        articles = fortnox_company(self._fortnox_url, request.tenant_id)["tables"].get("articles", {})
        related = {
            variant.variant_id: variant.sku
            for variant in request.variants
            if variant.sku in articles and variant.sku not in self.unlinked
        }
        return catalog_pb2.ResolveArticleNumbersResponse(article_numbers=related)


def fortnox_company(url: str, tenant: str = TENANT) -> dict[str, Any]:
    state = httpx.get(f"{url}/__admin/state", timeout=TIMEOUT_S).json()
    company: dict[str, Any] = state["companies"][str(FORTNOX_COMPANY[tenant])]
    return company


def stamp(at: datetime) -> Timestamp:
    message = Timestamp()
    message.FromDatetime(at)
    return message


@dataclass
class Orders:
    channel: grpc.Channel
    services: Services
    settings: BridgeSettings
    address: str
    fortnox_url: str
    ikas_url: str
    fortnox_tokens: FortnoxTokens
    catalog: Catalog

    @property
    def orders(self) -> Any:
        return orders_pb2_grpc.OrderServiceStub(self.channel)

    @property
    def runs(self) -> Any:
        return orders_pb2_grpc.OrderRunServiceStub(self.channel)

    def configure(self, tenant: str = TENANT, **fields: Any) -> orders_pb2.OrderSettings:
        stub = orders_pb2_grpc.OrderSettingsServiceStub(self.channel)
        current = stub.GetOrderSettings(orders_pb2.GetOrderSettingsRequest(tenant_id=tenant)).settings
        for name, value in fields.items():
            setattr(current, name, value)
        request = orders_pb2.UpdateOrderSettingsRequest(tenant_id=tenant, settings=current)
        settings: orders_pb2.OrderSettings = stub.UpdateOrderSettings(request).settings
        return settings

    def start(self, scope: str = "orders", *, tenant: str = TENANT, **fields: Any) -> common_pb2.Run:
        run: common_pb2.Run = self.runs.StartOrderRun(
            orders_pb2.StartOrderRunRequest(tenant_id=tenant, scope=scope, **fields)
        ).run
        return run

    def wait(self, run: common_pb2.Run, tenant: str = TENANT) -> common_pb2.Run:
        deadline = time.monotonic() + 120
        while run.state not in FINISHED:
            assert time.monotonic() < deadline, "the run did not finish"
            time.sleep(0.1)
            run = self.runs.GetOrderRun(orders_pb2.GetOrderRunRequest(tenant_id=tenant, run_id=run.id)).run
        return run

    def run(self, scope: str = "orders", *, tenant: str = TENANT, **fields: Any) -> common_pb2.Run:
        return self.wait(self.start(scope, tenant=tenant, **fields), tenant)

    def listed(self, tenant: str = TENANT, **filters: Any) -> orders_pb2.ListOrdersResponse:
        page = filters.pop("page", common_pb2.PageRequest(page=1, page_size=200))
        answer: orders_pb2.ListOrdersResponse = self.orders.ListOrders(
            orders_pb2.ListOrdersRequest(tenant_id=tenant, page=page, **filters)
        )
        return answer

    def all_runs(self, tenant: str = TENANT) -> list[common_pb2.Run]:
        page = common_pb2.PageRequest(page=1, page_size=200)
        return list(self.runs.ListOrderRuns(orders_pb2.ListOrderRunsRequest(tenant_id=tenant, page=page)).runs)

    def fortnox_orders(self, tenant: str = TENANT) -> dict[str, dict[str, Any]]:
        """ikas order id -> the Fortnox order Bridge made for it (by its key)."""
        orders = fortnox_company(self.fortnox_url, tenant)["tables"].get("orders", {})
        found: dict[str, dict[str, Any]] = {}
        for order in orders.values():
            key = order.get("ExternalInvoiceReference1") or ""
            if key.startswith("ikas:"):
                assert key[5:] not in found, f"two Fortnox orders for {key}"
                found[key[5:]] = order
        return found

    def fortnox_writes(self) -> list[dict[str, Any]]:
        calls = httpx.get(f"{self.fortnox_url}/__admin/calls", timeout=TIMEOUT_S).json()
        return [c for c in calls if c["method"] != "GET"]

    def ikas_calls(self) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = httpx.get(f"{self.ikas_url}/__admin/calls", timeout=TIMEOUT_S).json()
        return calls

    def clear_calls(self) -> None:
        for url in (self.fortnox_url, self.ikas_url):
            assert httpx.delete(f"{url}/__admin/calls", timeout=TIMEOUT_S).status_code == 200

    def fault(self, url: str, **fault: Any) -> None:
        assert httpx.post(f"{url}/__admin/faults", json=fault, timeout=TIMEOUT_S).status_code == 200

    def ikas_order(self, **spec: Any) -> dict[str, Any]:
        answer = httpx.post(f"{self.ikas_url}/__admin/orders", json={"store": "demo", **spec}, timeout=TIMEOUT_S)
        assert answer.status_code == 200, answer.text
        order: dict[str, Any] = answer.json()
        return order

    def ikas_store(self) -> dict[str, Any]:
        store: dict[str, Any] = httpx.get(f"{self.ikas_url}/__admin/state", timeout=TIMEOUT_S).json()["stores"]["demo"]
        return store


def _reset(fortnox_url: str, ikas_url: str) -> None:
    for url in (fortnox_url, ikas_url):
        assert httpx.post(f"{url}/__admin/reset", json={}, timeout=TIMEOUT_S).status_code < 300
        assert httpx.post(f"{url}/__admin/seed", json={"dataset": "demo"}, timeout=TIMEOUT_S).status_code < 300
        assert httpx.delete(f"{url}/__admin/calls", timeout=TIMEOUT_S).status_code == 200
    httpx.post(f"{fortnox_url}/__admin/rate-limit", json={"limit": 10_000, "window_s": 5}, timeout=TIMEOUT_S)
    httpx.post(f"{ikas_url}/__admin/rate-limit", json={"limit": 100_000, "window_s": 1.0}, timeout=TIMEOUT_S)


@pytest.fixture
def stack(tmp_path: Path, fortnox_sandbox: str, ikas_sandbox: str) -> Iterator[Orders]:
    _reset(fortnox_sandbox, ikas_sandbox)
    catalog = Catalog(fortnox_sandbox)
    catalog_server = grpc.server(ThreadPoolExecutor(max_workers=4))
    catalog_pb2_grpc.add_ProductServiceServicer_to_server(catalog, catalog_server)
    catalog_port = catalog_server.add_insecure_port("127.0.0.1:0")
    catalog_server.start()
    settings = load_settings(
        BridgeSettings,
        mode=Mode.LOCAL,
        data_dir=tmp_path,
        service_token=TOKEN,
        orders_database_url=f"sqlite:///{tmp_path}/orders.db",
        fortnox_api_url=fortnox_sandbox,
        ikas_api_url=ikas_sandbox,
        catalog_addr=f"127.0.0.1:{catalog_port}",
    )
    upgrade_to_head(MIGRATIONS, settings.orders_database_url)
    fortnox_tokens = FortnoxTokens(fortnox_sandbox)
    services = build(
        settings, ikas_tokens=IkasTokens(ikas_sandbox), fortnox_tokens=fortnox_tokens, store_names=StoreNames()
    )
    assert services.runs is not None
    services.runs.start_consumer(workers=2, poll_max_delay_s=0.1)
    server, port = create_server("127.0.0.1:0", partial(register, services), service_token=TOKEN)
    server.start()
    address = f"127.0.0.1:{port}"
    channel = grpc_channel(address, service_token=TOKEN)
    yield Orders(channel, services, settings, address, fortnox_sandbox, ikas_sandbox, fortnox_tokens, catalog)
    server.stop(0)
    services.runs.stop_consumer(timeout_s=5)
    catalog_server.stop(0)


def automatic(stack: Orders, tenant: str = TENANT, days: int = 30, **fields: Any) -> None:
    """Automatic order sync on, from `days` ago (the demo store's orders are from the last week)."""
    since = (datetime.now(UTC) - timedelta(days=days)).isoformat()
    stack.configure(tenant, sync_automatically=True, sync_from=since, **fields)


def rpc_error(call: Any, *args: Any) -> Exception:
    with pytest.raises(grpc.RpcError) as failed:
        call(*args)
    return error_from_rpc(failed.value)


# -- the orders run ---------------------------------------------------------------------------------------------


def test_an_orders_run_sends_the_orders_and_a_second_run_writes_nothing(stack: Orders) -> None:
    automatic(stack)

    first = stack.run()

    assert first.state == common_pb2.RUN_STATE_SUCCEEDED, first.errors
    sent = stack.fortnox_orders()
    assert first.counts.created == len(sent) > 5
    assert first.progress_done == first.progress_total
    listed = stack.listed()
    assert listed.page.total == first.counts.created + first.counts.unchanged - _skipped(stack)
    assert listed.HasField("last_order_sync_at")
    created = [
        o for o in listed.orders if o.status in (orders_pb2.ORDER_STATUS_CREATED, orders_pb2.ORDER_STATUS_FULFILLED)
    ]
    assert {o.fortnox_order_number for o in created} == {o["DocumentNumber"] for o in sent.values()}
    stack.clear_calls()

    second = stack.run()

    assert second.state == common_pb2.RUN_STATE_SUCCEEDED, second.errors
    assert (second.counts.created, second.counts.updated, second.counts.failed) == (0, 0, 0)
    assert stack.fortnox_writes() == []
    # One listOrder for the watermark walk and one for the orders waiting for relations, none per order.
    assert len(stack.ikas_calls()) == 2
    assert stack.fortnox_orders().keys() == sent.keys()


def _skipped(stack: Orders) -> int:
    """Orders the run looked at and did not list (cancelled, failed payment): counted unchanged, no record."""
    return sum(
        1
        for order in stack.ikas_store()["orders"]
        if order["status"] == "CANCELLED" or order["orderPaymentStatus"] == "FAILED"
    )


def test_one_failing_order_does_not_stop_the_others(stack: Orders) -> None:
    automatic(stack, days=2)
    for buyer in ("one", "two", "three"):
        stack.ikas_order(lines=[{"sku": "DEMO-1005", "quantity": 1}], customer={"email": f"{buyer}@example.com"})
    stack.fault(
        stack.fortnox_url,
        kind="status",
        status=400,
        method="POST",
        path="^/3/orders$",
        body={"ErrorInformation": {"error": 1, "message": "Kunde inte hitta artikel.", "code": 2001302}},
    )

    run = stack.run()

    assert run.state == common_pb2.RUN_STATE_PARTIALLY_FAILED, run.errors
    assert run.counts.failed == 1
    assert run.counts.created == len(stack.fortnox_orders()) >= 2
    (failed,) = stack.listed(status=orders_pb2.ORDER_STATUS_ERROR).orders
    assert failed.error.upstream_code == "2001302"
    assert failed.error.message
    assert run.errors[0].message.startswith(f"order {failed.ikas_order_number}: ")


def test_overlapping_runs_are_refused_with_the_running_id(stack: Orders) -> None:
    automatic(stack, days=2)
    stack.fault(stack.ikas_url, kind="delay", delay_s=1.5, method="POST", path="graphql")
    first = stack.start()

    error = rpc_error(stack.runs.StartOrderRun, orders_pb2.StartOrderRunRequest(tenant_id=TENANT, scope="orders"))

    assert isinstance(error, Conflict)
    assert error.details["run_id"] == first.id
    assert [run.id for run in stack.all_runs()] == [first.id]
    stack.wait(first)
    assert stack.all_runs(OTHER) == []


def test_due_syncs_start_one_run_per_tenant_whose_automatic_sync_is_on(stack: Orders) -> None:
    automatic(stack, TENANT)
    stack.configure(OTHER, sync_automatically=False)

    first = stack.runs.RunDueSyncs(orders_pb2.RunDueOrderSyncsRequest(scope="orders"))
    second = stack.runs.RunDueSyncs(orders_pb2.RunDueOrderSyncsRequest(scope="orders"))  # a CronJob firing twice

    assert (first.enqueued, first.skipped) == (1, 0)
    assert second.enqueued + second.skipped == 1
    assert {run.trigger for run in stack.all_runs()} == {"schedule"}
    assert len(stack.all_runs()) == 1 + second.enqueued
    assert stack.all_runs(OTHER) == []
    error = rpc_error(stack.runs.RunDueSyncs, orders_pb2.RunDueOrderSyncsRequest(scope="products"))
    assert isinstance(error, InvalidInput)


def test_a_paused_connection_keeps_the_orders_outgoing_and_they_drain_after_reconnecting(stack: Orders) -> None:
    automatic(stack, days=2)
    for buyer in ("one", "two"):
        stack.ikas_order(lines=[{"sku": "DEMO-1005", "quantity": 1}], customer={"email": f"{buyer}@example.com"})
    stack.fortnox_tokens.paused = True

    paused = stack.run()

    assert paused.state == common_pb2.RUN_STATE_FAILED
    assert "paused" in paused.errors[-1].message
    assert "reconnect" in paused.errors[-1].hint
    assert stack.fortnox_orders() == {}
    waiting = stack.listed().orders
    assert waiting
    assert all(o.status == orders_pb2.ORDER_STATUS_OUTGOING for o in waiting)
    assert any("paused" in o.waiting_reason for o in waiting)

    stack.fortnox_tokens.paused = False
    drained = stack.run()

    assert drained.state == common_pb2.RUN_STATE_SUCCEEDED, drained.errors
    assert drained.counts.created == len(stack.fortnox_orders()) >= 2
    assert not any("paused" in o.waiting_reason for o in stack.listed().orders)


def test_an_order_waiting_for_relations_goes_out_once_the_catalog_links_it(stack: Orders) -> None:
    automatic(stack, days=2)
    order = stack.ikas_order(lines=[{"sku": "DEMO-1005", "quantity": 1}], customer={"email": "rel@example.com"})
    stack.catalog.unlinked = {"DEMO-1005"}

    first = stack.run()

    (listed,) = [o for o in stack.listed().orders if o.ikas_order_id == order["id"]]
    assert listed.waiting_reason == "waiting for product relations: DEMO-1005"
    assert order["id"] not in stack.fortnox_orders()
    assert first.state == common_pb2.RUN_STATE_SUCCEEDED
    stack.catalog.unlinked = set()  # linked in the catalog; the ikas order itself does not change

    stack.run()

    assert order["id"] in stack.fortnox_orders()


def test_send_now_sends_an_order_waiting_for_manual_sending(stack: Orders) -> None:
    automatic(stack, days=2, create_orders=False)
    order = stack.ikas_order(lines=[{"sku": "DEMO-1005", "quantity": 2}], customer={"email": "manual@example.com"})
    stack.run()
    (listed,) = [o for o in stack.listed().orders if o.ikas_order_id == order["id"]]
    assert listed.status == orders_pb2.ORDER_STATUS_OUTGOING
    assert "manual sending" in listed.waiting_reason

    sent = stack.orders.SendOrder(orders_pb2.OrderActionRequest(tenant_id=TENANT, order_id=listed.id)).order

    assert sent.status == orders_pb2.ORDER_STATUS_CREATED
    assert sent.fortnox_order_number == stack.fortnox_orders()[order["id"]]["DocumentNumber"]
    assert [entry.outcome for entry in sent.timeline][-2:] == ["started", "created"]


# -- backfill ---------------------------------------------------------------------------------------------------


def test_a_dry_run_backfill_plans_what_the_backfill_then_sends(stack: Orders) -> None:
    stack.configure(TENANT, sync_automatically=True)  # sync_from becomes now: the seeded orders are older
    now = datetime.now(UTC)
    window: dict[str, Any] = {"backfill_from": stamp(now - timedelta(days=30)), "backfill_to": stamp(now)}
    stack.clear_calls()

    plan = stack.run("backfill", dry_run=True, **window)

    assert plan.state == common_pb2.RUN_STATE_SUCCEEDED, plan.errors
    creates = {p.entity for p in plan.planned if p.action == "create"}
    skips = {p.entity: p.reason for p in plan.planned if p.action == "skip"}
    assert len(creates) > 5
    assert "the ikas order is cancelled" in skips.values()
    assert "the payment of the ikas order failed" in skips.values()
    assert stack.fortnox_writes() == []
    assert stack.listed().page.total == 0  # not even a record

    done = stack.run("backfill", **window)

    assert done.state == common_pb2.RUN_STATE_SUCCEEDED, done.errors
    assert done.counts.created == len(creates)
    numbers = {o["YourOrderNumber"] for o in stack.fortnox_orders().values()}
    assert numbers == creates
    again = stack.run("backfill", dry_run=True, **window)
    assert {p.action for p in again.planned} == {"skip"}


def test_a_backfill_needs_a_valid_range(stack: Orders) -> None:
    now = datetime.now(UTC)
    for request in (
        orders_pb2.StartOrderRunRequest(tenant_id=TENANT, scope="backfill"),
        orders_pb2.StartOrderRunRequest(
            tenant_id=TENANT, scope="backfill", backfill_from=stamp(now), backfill_to=stamp(now - timedelta(days=1))
        ),
    ):
        error = rpc_error(stack.runs.StartOrderRun, request)
        assert isinstance(error, InvalidInput)
        assert error.violations
    error = rpc_error(stack.runs.StartOrderRun, orders_pb2.StartOrderRunRequest(tenant_id=TENANT, scope="stock"))
    assert isinstance(error, InvalidInput)
    assert stack.all_runs() == []


# -- webhooks ---------------------------------------------------------------------------------------------------


def test_a_webhook_wakes_its_order_once_even_while_a_run_is_going(stack: Orders) -> None:
    automatic(stack, days=2)
    first = stack.run()  # the watermark is set; the run is done
    stack.fault(stack.ikas_url, kind="delay", delay_s=1.0, method="POST", path="graphql", times=3)
    going = stack.start()
    deadline = time.monotonic() + 30
    while going.state != common_pb2.RUN_STATE_RUNNING:  # it may have read the pending wake-ups already
        assert time.monotonic() < deadline
        going = stack.runs.GetOrderRun(orders_pb2.GetOrderRunRequest(tenant_id=TENANT, run_id=going.id)).run
    order = stack.ikas_order(lines=[{"sku": "DEMO-1005", "quantity": 1}], customer={"email": "hook@example.com"})
    hook = partial(orders_pb2.HandleOrderWebhookRequest, tenant_id=TENANT, ikas_order_id=order["id"])

    assert stack.orders.HandleOrderWebhook(hook(scope="store/order/created")).accepted
    assert stack.orders.HandleOrderWebhook(hook(scope="store/order/updated")).accepted  # created+updated

    deadline = time.monotonic() + 60
    while len(stack.all_runs()) < 3 or any(run.state not in FINISHED for run in stack.all_runs()):
        assert time.monotonic() < deadline, "the follow-up run did not finish"
        time.sleep(0.1)
    runs = {run.id: run for run in stack.all_runs()}
    assert set(runs) == {first.id, going.id, f"{going.id}-after"}  # one follow-up for both webhooks
    assert runs[f"{going.id}-after"].trigger == "webhook"
    assert runs[f"{going.id}-after"].state == common_pb2.RUN_STATE_SUCCEEDED
    assert order["id"] in stack.fortnox_orders()  # once: fortnox_orders() refuses a second order per key


def test_a_webhook_is_ignored_while_automatic_sync_is_off(stack: Orders) -> None:
    stack.configure(TENANT, sync_automatically=False)
    request = orders_pb2.HandleOrderWebhookRequest(tenant_id=TENANT, ikas_order_id="x", scope="store/order/created")

    assert not stack.orders.HandleOrderWebhook(request).accepted
    assert stack.all_runs() == []
    bad = orders_pb2.HandleOrderWebhookRequest(tenant_id=TENANT, ikas_order_id="x", scope="store/product/created")
    assert isinstance(rpc_error(stack.orders.HandleOrderWebhook, bad), InvalidInput)


# -- the read side and tenant walls -----------------------------------------------------------------------------


def test_the_list_filters_searches_and_pages_and_refuses_big_pages(stack: Orders) -> None:
    automatic(stack)
    stack.run()
    everything = stack.listed()
    orders = list(everything.orders)
    assert [o.ordered_at.ToDatetime() for o in orders] == sorted(
        (o.ordered_at.ToDatetime() for o in orders), reverse=True
    )
    assert not any(o.timeline for o in orders)  # timelines only on GetOrder

    default = stack.orders.ListOrders(orders_pb2.ListOrdersRequest(tenant_id=TENANT))
    assert (default.page.page, default.page.page_size, default.page.total) == (1, 50, len(orders))
    second = stack.listed(page=common_pb2.PageRequest(page=2, page_size=3))
    assert [o.id for o in second.orders] == [o.id for o in orders[3:6]]
    some = orders[0]
    assert [o.id for o in stack.listed(query=some.ikas_order_number).orders] == [some.id]
    by_mail = stack.listed(query=some.customer.email.upper()).orders
    assert some.id in {o.id for o in by_mail}
    assert all(o.customer.email.lower() == some.customer.email.lower() for o in by_mail)
    by_name = stack.listed(query=some.customer.name.split()[0].lower()).orders
    assert some.id in {o.id for o in by_name}
    fulfilled = stack.listed(status=orders_pb2.ORDER_STATUS_FULFILLED).orders
    assert fulfilled
    assert all(o.status == orders_pb2.ORDER_STATUS_FULFILLED for o in fulfilled)
    middle = orders[len(orders) // 2].ordered_at.ToDatetime(tzinfo=UTC)
    newer = stack.listed(ordered_from=stamp(middle)).orders
    older = stack.listed(ordered_to=stamp(middle)).orders
    assert len(newer) + len(older) == len(orders)
    assert all(o.ordered_at.ToDatetime(tzinfo=UTC) >= middle for o in newer)

    too_big = orders_pb2.ListOrdersRequest(tenant_id=TENANT, page=common_pb2.PageRequest(page=1, page_size=201))
    error = rpc_error(stack.orders.ListOrders, too_big)
    assert isinstance(error, InvalidInput)
    assert [v.field for v in error.violations] == ["page_size"]

    one = stack.orders.GetOrder(orders_pb2.GetOrderRequest(tenant_id=TENANT, order_id=some.id)).order
    assert one.timeline
    assert one.ikas_url.endswith(f"/admin/order/detail/{some.ikas_order_id}")
    assert "demo" in one.ikas_url
    assert one.ikas_total.currency_code
    assert one.ikas_total.amount_minor > 0


def test_tenant_b_never_sees_tenant_a(stack: Orders) -> None:
    automatic(stack, days=2)
    run = stack.run()
    order = stack.listed().orders[0]
    action = orders_pb2.OrderActionRequest(tenant_id=OTHER, order_id=order.id)

    for call, request in (
        (stack.orders.GetOrder, orders_pb2.GetOrderRequest(tenant_id=OTHER, order_id=order.id)),
        (stack.orders.SendOrder, action),
        (stack.orders.CreateInvoice, action),
        (stack.orders.AttachInvoicePdf, action),
        (stack.orders.ResendInvoiceEmail, action),
        (stack.orders.GetInvoicePdf, orders_pb2.GetInvoicePdfRequest(tenant_id=OTHER, order_id=order.id)),
        (stack.runs.GetOrderRun, orders_pb2.GetOrderRunRequest(tenant_id=OTHER, run_id=run.id)),
    ):
        with pytest.raises(grpc.RpcError) as refused:
            call(request)
        assert refused.value.code() == grpc.StatusCode.NOT_FOUND, call
    assert stack.listed(OTHER).page.total == 0
    assert stack.all_runs(OTHER) == []


# -- the trigger command ----------------------------------------------------------------------------------------


def trigger(data_dir: Path, address: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env.update(BRIDGE_DATA_DIR=str(data_dir), BRIDGE_ORDERS_ADDR=address, BRIDGE_SERVICE_TOKEN=TOKEN)
    return subprocess.run(
        [sys.executable, "-m", "bridge_orders", "trigger", "--scope", "orders"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_trigger_enqueues_due_runs_and_fails_when_the_service_is_down(stack: Orders, tmp_path: Path) -> None:
    automatic(stack, days=2)

    done = trigger(tmp_path / "trigger", stack.address)

    assert done.returncode == 0, done.stderr
    assert "enqueued 1" in done.stderr
    assert [run.trigger for run in stack.all_runs()] == ["schedule"]
    failed = trigger(tmp_path / "trigger", "127.0.0.1:1")
    assert failed.returncode == 1
    assert "scheduled job failed" in failed.stderr
