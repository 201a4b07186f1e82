"""The order endpoints through the real OrdersClient over real gRPC, to an orders server with in-memory records
(its own fake servicer: what is tested here is the gateway's side of the contract, with the service credential,
deadlines, rich statuses and every conversion on the wire), and to the real orders service for what needs no
upstream. Auth and catalog are the unit fakes."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import grpc
import pytest
from fastapi import FastAPI
from google.protobuf import timestamp_pb2
from pydantic import SecretStr

from bridge.common.v1 import common_pb2
from bridge.orders.v1 import orders_pb2, orders_pb2_grpc
from bridge_gateway.app import create_app
from bridge_gateway.bootstrap import build
from bridge_gateway.clients.common import money_to_proto
from bridge_gateway.models import Money
from bridge_gateway.settings import GatewaySettings
from bridge_orders.bootstrap import MIGRATIONS as ORDERS_MIGRATIONS
from bridge_orders.bootstrap import build as build_orders
from bridge_orders.entrypoints.grpc_servicer import register as register_orders
from bridge_platform.db import upgrade_to_head
from bridge_platform.errors import Conflict, NotFound
from bridge_platform.grpc_errors import maps_errors
from bridge_platform.grpc_server import create_server
from bridge_platform.settings import BridgeSettings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

TOKEN = "service-token-for-tests"
ORDERS = "/api/v1/orders"
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"


def stamp(moment: datetime) -> timestamp_pb2.Timestamp:
    message = timestamp_pb2.Timestamp()
    message.FromDatetime(moment)
    return message


@dataclass
class OrderBook:
    """What the fake orders server holds and was asked, per tenant."""

    orders: dict[str, list[orders_pb2.Order]] = field(default_factory=dict)
    runs: dict[str, list[common_pb2.Run]] = field(default_factory=dict)
    list_requests: list[orders_pb2.ListOrdersRequest] = field(default_factory=list)
    run_requests: list[orders_pb2.StartOrderRunRequest] = field(default_factory=list)
    webhooks: list[orders_pb2.HandleOrderWebhookRequest] = field(default_factory=list)
    refuse_next_start_with: str = ""  # a run id: the next StartOrderRun conflicts as if a run raced the check

    def add(self, tenant_id: str, order: orders_pb2.Order) -> orders_pb2.Order:
        self.orders.setdefault(tenant_id, []).append(order)
        return order

    def find(self, tenant_id: str, order_id: str) -> orders_pb2.Order:
        for order in self.orders.get(tenant_id, []):
            if order.id == order_id:
                return order
        raise NotFound("no such order")

    def run(self, tenant_id: str, run_id: str) -> common_pb2.Run:
        for run in self.runs.get(tenant_id, []):
            if run.id == run_id:
                return run
        raise NotFound("no such run")


class FakeOrderService(orders_pb2_grpc.OrderServiceServicer):
    def __init__(self, book: OrderBook) -> None:
        self.book = book

    @maps_errors
    def ListOrders(self, request: orders_pb2.ListOrdersRequest, context: Any) -> orders_pb2.ListOrdersResponse:
        self.book.list_requests.append(request)
        found = [
            order
            for order in self.book.orders.get(request.tenant_id, [])
            if request.query.lower() in f"{order.ikas_order_number} {order.customer.name}".lower()
            and request.status in (orders_pb2.ORDER_STATUS_UNSPECIFIED, order.status)
        ]
        found.sort(key=lambda order: order.ordered_at.ToDatetime(), reverse=True)
        page, size = request.page.page, request.page.page_size
        items = [_without_timeline(order) for order in found[(page - 1) * size : page * size]]
        return orders_pb2.ListOrdersResponse(
            orders=items,
            page=common_pb2.PageInfo(page=page, page_size=size, total=len(found)),
            last_order_sync_at=stamp(datetime(2026, 3, 5, 6, 0, tzinfo=UTC)),
        )

    @maps_errors
    def GetOrder(self, request: orders_pb2.GetOrderRequest, context: Any) -> orders_pb2.GetOrderResponse:
        return orders_pb2.GetOrderResponse(order=self.book.find(request.tenant_id, request.order_id))

    @maps_errors
    def SendOrder(self, request: orders_pb2.OrderActionRequest, context: Any) -> orders_pb2.OrderActionResponse:
        order = self.book.find(request.tenant_id, request.order_id)
        if not order.fortnox_order_number:
            order.status = orders_pb2.ORDER_STATUS_CREATED
            order.fortnox_state, order.fortnox_order_number, order.waiting_reason = "order", "101", ""
            order.fortnox_total.CopyFrom(order.ikas_total)
            order.totals_match = True
        return orders_pb2.OrderActionResponse(order=_without_timeline(order))

    @maps_errors
    def CreateInvoice(self, request: orders_pb2.OrderActionRequest, context: Any) -> orders_pb2.OrderActionResponse:
        order = self.book.find(request.tenant_id, request.order_id)
        if not order.fortnox_order_number:
            raise Conflict("the order is not in Fortnox yet; send it first")
        order.fortnox_invoice_number, order.fortnox_state = "9101", "invoiced"
        return orders_pb2.OrderActionResponse(order=_without_timeline(order))

    @maps_errors
    def GetInvoicePdf(self, request: orders_pb2.GetInvoicePdfRequest, context: Any) -> orders_pb2.GetInvoicePdfResponse:
        order = self.book.find(request.tenant_id, request.order_id)
        if not order.fortnox_invoice_number:
            raise Conflict("the order has no invoice yet")
        return orders_pb2.GetInvoicePdfResponse(pdf=PDF, filename=f"faktura-{order.fortnox_invoice_number}.pdf")

    @maps_errors
    def HandleOrderWebhook(
        self, request: orders_pb2.HandleOrderWebhookRequest, context: Any
    ) -> orders_pb2.HandleOrderWebhookResponse:
        self.book.webhooks.append(request)
        return orders_pb2.HandleOrderWebhookResponse(accepted=True)


class FakeOrderRunService(orders_pb2_grpc.OrderRunServiceServicer):
    def __init__(self, book: OrderBook) -> None:
        self.book = book

    @maps_errors
    def StartOrderRun(self, request: orders_pb2.StartOrderRunRequest, context: Any) -> orders_pb2.StartOrderRunResponse:
        self.book.run_requests.append(request)
        refused, self.book.refuse_next_start_with = self.book.refuse_next_start_with, ""
        if refused:
            raise Conflict(f"a {request.scope} run is already going", {"run_id": refused})
        runs = self.book.runs.setdefault(request.tenant_id, [])
        run = common_pb2.Run(
            id=f"order-run-{len(runs) + 1}",
            scope=request.scope,
            state=common_pb2.RUN_STATE_QUEUED,
            trigger=request.trigger,
            created_at=stamp(datetime(2026, 3, 6, 12, len(runs), tzinfo=UTC)),
        )
        runs.insert(0, run)
        return orders_pb2.StartOrderRunResponse(run=run)

    @maps_errors
    def ListOrderRuns(self, request: orders_pb2.ListOrderRunsRequest, context: Any) -> orders_pb2.ListOrderRunsResponse:
        found = [run for run in self.book.runs.get(request.tenant_id, []) if request.scope in ("", run.scope)]
        page, size = request.page.page, request.page.page_size
        return orders_pb2.ListOrderRunsResponse(
            runs=found[(page - 1) * size : page * size],
            page=common_pb2.PageInfo(page=page, page_size=size, total=len(found)),
        )

    @maps_errors
    def GetOrderRun(self, request: orders_pb2.GetOrderRunRequest, context: Any) -> orders_pb2.GetOrderRunResponse:
        return orders_pb2.GetOrderRunResponse(run=self.book.run(request.tenant_id, request.run_id))


def _without_timeline(order: orders_pb2.Order) -> orders_pb2.Order:
    copy = orders_pb2.Order()
    copy.CopyFrom(order)
    del copy.timeline[:]
    return copy


def full_servicers(book: OrderBook, server: grpc.Server) -> list[str]:
    orders_pb2_grpc.add_OrderSettingsServiceServicer_to_server(orders_pb2_grpc.OrderSettingsServiceServicer(), server)
    orders_pb2_grpc.add_OrderServiceServicer_to_server(FakeOrderService(book), server)
    orders_pb2_grpc.add_OrderRunServiceServicer_to_server(FakeOrderRunService(book), server)
    return [
        orders_pb2.DESCRIPTOR.services_by_name[name].full_name
        for name in ("OrderSettingsService", "OrderService", "OrderRunService")
    ]


@pytest.fixture
def book() -> OrderBook:
    return OrderBook()


def serve(register: Any) -> tuple[Any, str]:
    server, port = create_server("127.0.0.1:0", register, service_token=TOKEN)
    server.start()
    return server, f"127.0.0.1:{port}"


def gateway(tmp_path: Path, orders_address: str, auth: Any, catalog: Any) -> FastAPI:
    settings = GatewaySettings(data_dir=tmp_path, orders_addr=orders_address, service_token=SecretStr(TOKEN))
    return create_app(settings, build(settings, auth=auth, catalog=catalog))


@pytest.fixture
def client(tmp_path: Path, book: OrderBook, auth: Any, catalog: Any, signer: Any) -> Iterator[TestClient]:
    server, address = serve(lambda grpc_server: full_servicers(book, grpc_server))
    app = gateway(tmp_path, address, auth, catalog)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield signer(test_client, "demo")
    app.state.clients.close()
    server.stop(0)


def placed(order_id: str, number: str, day: int, **fields: Any) -> orders_pb2.Order:
    values: dict[str, Any] = {
        "id": order_id,
        "ikas_order_id": f"ikas-{order_id}",
        "ikas_order_number": number,
        "ordered_at": stamp(datetime(2026, 3, day, 9, 30, tzinfo=UTC)),
        "customer": orders_pb2.Customer(name=f"Buyer {number}", email=f"{number}@example.se"),
        "status": orders_pb2.ORDER_STATUS_OUTGOING,
        "waiting_reason": "waiting for the schedule",
        "ikas_total": money_to_proto(Money(amount="1249.50", currency="SEK")),
        **fields,
    }
    return orders_pb2.Order(**values)


def test_orders_are_listed_with_exact_money_and_the_filters_arrive_as_the_contract_says(
    client: TestClient, book: OrderBook
) -> None:
    book.add("t_demo", placed("o1", "1001", 3))
    book.add("t_demo", placed("o2", "1002", 4, ikas_total=money_to_proto(Money(amount="12.345", currency="KWD"))))
    book.add("t_other", placed("o3", "2001", 5))

    everything = client.get(ORDERS).json()
    filtered = client.get(
        ORDERS,
        params={"q": "1001", "status": "outgoing", "ordered_from": "2026-03-01T01:00:00+01:00", "page_size": 10},
    )

    assert [order["id"] for order in everything["items"]] == ["o2", "o1"]
    assert (everything["total"], everything["page"], everything["page_size"]) == (2, 1, 50)
    assert everything["last_order_sync_at"] == "2026-03-05T06:00:00Z"
    assert everything["items"][1]["ikas_total"] == {"amount": "1249.50", "currency": "SEK"}
    assert everything["items"][0]["ikas_total"] == {"amount": "12.345", "currency": "KWD"}
    assert everything["items"][1]["ordered_at"] == "2026-03-03T09:30:00Z"
    assert everything["items"][1]["customer"] == {"name": "Buyer 1001", "email": "1001@example.se"}
    assert [order["id"] for order in filtered.json()["items"]] == ["o1"]
    request = book.list_requests[-1]
    assert (request.tenant_id, request.query, request.status) == ("t_demo", "1001", orders_pb2.ORDER_STATUS_OUTGOING)
    assert (request.page.page, request.page.page_size) == (1, 10)
    assert request.ordered_from.ToDatetime(tzinfo=UTC) == datetime(2026, 3, 1, tzinfo=UTC)
    assert not request.HasField("ordered_to")


def test_one_order_with_its_timeline_and_another_tenants_is_404(client: TestClient, book: OrderBook) -> None:
    entry = orders_pb2.TimelineEntry(
        at=stamp(datetime(2026, 3, 3, 9, 31, tzinfo=UTC)),
        step="create_fortnox_order",
        outcome="unknown",
        detail="the connection dropped; Bridge looks the order up before it tries again",
        request='{"Order": {"ExternalInvoiceReference1": "ikas:ikas-o1"}}',
    )
    book.add("t_demo", placed("o1", "1001", 3, timeline=[entry]))
    book.add("t_other", placed("o9", "2001", 3))

    mine = client.get(f"{ORDERS}/o1")
    theirs = client.get(f"{ORDERS}/o9")

    assert mine.status_code == 200, mine.text
    assert mine.json()["timeline"] == [
        {
            "at": "2026-03-03T09:31:00Z",
            "step": "create_fortnox_order",
            "outcome": "unknown",
            "detail": "the connection dropped; Bridge looks the order up before it tries again",
            "request": '{"Order": {"ExternalInvoiceReference1": "ikas:ikas-o1"}}',
            "response": None,
        }
    ]
    assert theirs.status_code == 404
    assert theirs.headers["content-type"] == "application/problem+json"
    assert "2001" not in theirs.text


def test_send_invoice_and_download_the_pdf(client: TestClient, book: OrderBook) -> None:
    book.add("t_demo", placed("o1", "1001", 3))

    too_early = client.post(f"{ORDERS}/o1/invoice")
    sent = client.post(f"{ORDERS}/o1/send")
    invoiced = client.post(f"{ORDERS}/o1/invoice")
    pdf = client.get(f"{ORDERS}/o1/invoice.pdf")

    assert too_early.status_code == 409
    assert "send it first" in too_early.json()["detail"]
    assert sent.status_code == 200, sent.text
    assert (sent.json()["status"], sent.json()["fortnox_order_number"], sent.json()["waiting_reason"]) == (
        "created",
        "101",
        None,
    )
    assert sent.json()["fortnox_total"] == {"amount": "1249.50", "currency": "SEK"}
    assert sent.json()["totals_match"] is True
    assert invoiced.json()["fortnox_invoice_number"] == "9101"
    assert pdf.status_code == 200, pdf.text
    assert pdf.content == PDF
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == 'attachment; filename="faktura-9101.pdf"'


def test_a_backfill_arrives_with_its_range_as_instants(client: TestClient, book: OrderBook) -> None:
    response = client.post(
        f"{ORDERS}/backfill", json={"from": "2026-01-01T00:00:00+01:00", "to": "2026-02-01T00:00:00Z", "dry_run": True}
    )

    assert response.status_code == 202, response.text
    assert response.json() == {"runs": [{"id": "order-run-1", "scope": "backfill"}]}
    (request,) = book.run_requests
    assert (request.tenant_id, request.scope, request.trigger, request.dry_run) == (
        "t_demo",
        "backfill",
        "operation",
        True,
    )
    assert request.backfill_from.ToDatetime(tzinfo=UTC) == datetime(2025, 12, 31, 23, 0, tzinfo=UTC)
    assert request.backfill_to.ToDatetime(tzinfo=UTC) == datetime(2026, 2, 1, tzinfo=UTC)


def test_sync_now_starts_an_orders_run_and_refuses_a_second_with_its_run_id(
    client: TestClient, book: OrderBook, catalog: Any
) -> None:
    started = client.post("/api/v1/sync", json={"scopes": ["orders"]})
    again = client.post("/api/v1/sync", json={"scopes": ["products", "orders"]})

    assert started.status_code == 202, started.text
    (run,) = started.json()["runs"]
    assert run["scope"] == "orders"
    assert again.status_code == 409
    assert again.json()["run_id"] == run["id"]
    assert catalog.started == []  # refused whole: products did not start either
    assert client.get(f"/api/v1/sync/runs/{run['id']}").json()["state"] == "queued"


def test_a_conflict_from_the_orders_service_keeps_its_run_id(client: TestClient, book: OrderBook) -> None:
    book.refuse_next_start_with = "order-run-raced"

    response = client.post("/api/v1/sync", json={"scopes": ["orders"]})

    assert response.status_code == 409
    assert response.json()["run_id"] == "order-run-raced"


def test_the_run_history_merges_the_catalogs_runs_with_the_orders_services(
    client: TestClient, book: OrderBook, catalog: Any
) -> None:
    catalog.add_run("t_demo", "products", created_at=datetime(2026, 3, 6, 11, 0, tzinfo=UTC))
    client.post("/api/v1/sync", json={"scopes": ["orders"]})  # created 2026-03-06 12:00
    catalog.add_run("t_demo", "stock", created_at=datetime(2026, 3, 6, 13, 0, tzinfo=UTC))

    body = client.get("/api/v1/sync/runs").json()
    second_page = client.get("/api/v1/sync/runs", params={"page": 2, "page_size": 2}).json()
    orders_only = client.get("/api/v1/sync/runs", params={"scope": "orders"}).json()

    assert [run["scope"] for run in body["items"]] == ["stock", "orders", "products"]
    assert body["total"] == 3
    assert [run["scope"] for run in second_page["items"]] == ["products"]
    assert [run["id"] for run in orders_only["items"]] == ["order-run-1"]
    assert client.get("/api/v1/sync/runs/no-such-run").status_code == 404  # NOT_FOUND from both owners


def test_an_order_webhook_reaches_the_orders_service(client: TestClient, book: OrderBook, auth: Any) -> None:
    tenant = auth.ensure_development_tenant("demo")
    data = json.dumps({"id": "ikas-o1"})
    body = {"id": "w-9", "scope": "store/order/created", "merchantId": tenant.merchant_id, "data": data}

    response = client.post("/webhooks/ikas", json={**body, "signature": auth.sign(data)})

    assert response.json() == {"status": "accepted"}
    assert [(w.tenant_id, w.ikas_order_id, w.scope) for w in book.webhooks] == [
        ("t_demo", "ikas-o1", "store/order/created")
    ]


def test_readiness_asks_every_orders_servicer(client: TestClient) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200, response.text
    assert response.json()["services"]["orders"] == "serving"


def test_an_orders_server_without_its_order_servicers_is_not_ready(
    tmp_path: Path, auth: Any, catalog: Any, signer: Any
) -> None:
    def settings_only(server: grpc.Server) -> list[str]:
        servicer = orders_pb2_grpc.OrderSettingsServiceServicer()
        orders_pb2_grpc.add_OrderSettingsServiceServicer_to_server(servicer, server)
        return [orders_pb2.DESCRIPTOR.services_by_name["OrderSettingsService"].full_name]

    server, address = serve(settings_only)
    app = gateway(tmp_path, address, auth, catalog)
    try:
        with TestClient(app, raise_server_exceptions=False) as test_client:
            ready = test_client.get("/readyz")
            listed = signer(test_client, "demo").get(ORDERS)
    finally:
        app.state.clients.close()
        server.stop(0)

    assert ready.status_code == 503
    assert ready.json()["services"]["orders"] == "not_serving"
    assert listed.status_code == 500  # UNIMPLEMENTED: a deployment fault, never a 404 or a 401
    assert listed.headers["content-type"] == "application/problem+json"


# ---- the real orders service (its read side and actions; runs need its task queue, left to tests/)


@pytest.fixture
def real_orders_address(tmp_path: Path) -> Iterator[str]:
    """The orders service on a fresh SQLite file, listening on a free port."""
    settings = BridgeSettings(data_dir=tmp_path, orders_database_url=f"sqlite:///{tmp_path / 'orders.db'}")
    upgrade_to_head(ORDERS_MIGRATIONS, settings.orders_database_url)
    server, address = serve(partial(register_orders, build_orders(settings, with_runs=False)))
    yield address
    server.stop(0)


def test_the_real_orders_service_is_ready_lists_and_answers_404_for_unknown_ids(
    tmp_path: Path, real_orders_address: str, auth: Any, catalog: Any, signer: Any
) -> None:
    app = gateway(tmp_path, real_orders_address, auth, catalog)
    try:
        with TestClient(app, raise_server_exceptions=False) as test_client:
            ready = test_client.get("/readyz")
            client = signer(test_client, "demo")
            listed = client.get(ORDERS, params={"q": "1001", "status": "error", "ordered_from": "2026-01-01T00:00:00Z"})
            one = client.get(f"{ORDERS}/no-such-order")
            sent = client.post(f"{ORDERS}/no-such-order/send")
    finally:
        app.state.clients.close()

    assert ready.status_code == 200, ready.text
    assert ready.json()["services"]["orders"] == "serving"
    assert listed.status_code == 200, listed.text
    assert listed.json() == {"items": [], "total": 0, "page": 1, "page_size": 50, "last_order_sync_at": None}
    for response in (one, sent):
        assert response.status_code == 404, response.text
        assert response.headers["content-type"] == "application/problem+json"
