"""The OrdersClient's conversions (proto <-> pydantic) and requests, without a network: exact money in each
currency's minor unit, the contract's empty values as nulls, timestamps, and which RPC each method makes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import grpc
import pytest
from google.protobuf import timestamp_pb2

from bridge.common.v1 import common_pb2
from bridge.orders.v1 import orders_pb2
from bridge_gateway.clients import common
from bridge_gateway.clients import orders as orders_client
from bridge_gateway.models import Money, PageRequest


def stamp(moment: datetime) -> timestamp_pb2.Timestamp:
    message = timestamp_pb2.Timestamp()
    message.FromDatetime(moment)
    return message


@pytest.mark.parametrize(
    ("minor", "currency", "amount"),
    [
        (14950, "SEK", "149.50"),
        (0, "SEK", "0.00"),
        (1, "EUR", "0.01"),
        (-2500, "SEK", "-25.00"),
        (123456789012345678, "SEK", "1234567890123456.78"),  # beyond a double's exact integers
        (1500, "JPY", "1500"),
        (1500, "ISK", "1500"),
        (12345, "KWD", "12.345"),
        (14950, "sek", "149.50"),
    ],
)
def test_money_is_an_exact_decimal_string_in_the_currencys_minor_unit(minor: int, currency: str, amount: str) -> None:
    message = common_pb2.Money(currency_code=currency, amount_minor=minor)

    money = common.money_from_proto(message)

    assert money == Money(amount=amount, currency=currency)
    assert common.money_to_proto(money) == message


@pytest.mark.parametrize(("amount", "currency"), [("149.505", "SEK"), ("10.5", "JPY"), ("NaN", "SEK")])
def test_an_amount_finer_than_the_minor_unit_is_refused_not_rounded(amount: str, currency: str) -> None:
    with pytest.raises(ValueError, match="minor units"):
        common.money_to_proto(Money(amount=amount, currency=currency))


def test_an_order_with_only_its_identity_has_nulls_and_defaults() -> None:
    message = orders_pb2.Order(id="o1", ikas_order_id="ikas-1", ikas_order_number="1001")

    order = orders_client.order_from_proto(message).model_dump(mode="json")

    assert order == {
        "id": "o1",
        "ikas_order_id": "ikas-1",
        "ikas_order_number": "1001",
        "ikas_url": None,
        "ordered_at": None,
        "customer": {"name": None, "email": None},
        "status": "outgoing",
        "waiting_reason": None,
        "error": None,
        "fortnox_state": None,
        "fortnox_order_number": None,
        "fortnox_invoice_number": None,
        "invoice_email": {"state": "not_requested", "at": None},
        "invoice_attached_at": None,
        "ikas_total": None,
        "fortnox_total": None,
        "totals_match": None,
        "totals_explanation": None,
        "edited_after_invoice": False,
        "edit_advice": None,
    }


def full_order() -> orders_pb2.Order:
    return orders_pb2.Order(
        id="o1",
        ikas_order_id="ikas-1",
        ikas_order_number="1001",
        ikas_url="https://demo.myikas.com/admin/order/detail/ikas-1",
        ordered_at=stamp(datetime(2026, 3, 4, 9, 30, tzinfo=UTC)),
        customer=orders_pb2.Customer(name="Vera Webb", email="vera@example.se"),
        status=orders_pb2.ORDER_STATUS_FULFILLED,
        error=common_pb2.EntityError(),  # an empty error is no error
        fortnox_state="partially_credited",
        fortnox_order_number="101",
        fortnox_invoice_number="9101",
        invoice_email_state="sent",
        invoice_email_at=stamp(datetime(2026, 3, 4, 9, 45, tzinfo=UTC)),
        invoice_attached_at=stamp(datetime(2026, 3, 4, 9, 50, tzinfo=UTC)),
        ikas_total=common_pb2.Money(currency_code="EUR", amount_minor=0),
        fortnox_total=common_pb2.Money(currency_code="EUR", amount_minor=12),
        totals_match=False,
        totals_explanation="0.12 EUR is Fortnox's freight VAT",
        edited_after_invoice=True,
        edit_advice="credit and invoice again",
        timeline=[
            orders_pb2.TimelineEntry(
                at=stamp(datetime(2026, 3, 4, 9, 31, tzinfo=UTC)),
                step="create_fortnox_order",
                outcome="created",
                request='{"Order": {}}',
            )
        ],
    )


def test_a_full_order_comes_through_with_its_timeline_only_on_the_detail() -> None:
    order = orders_client.order_from_proto(full_order()).model_dump(mode="json")
    detail = orders_client.order_detail_from_proto(full_order()).model_dump(mode="json")

    assert order["status"] == "fulfilled"
    assert order["error"] is None
    assert order["fortnox_state"] == "partially_credited"
    assert order["invoice_email"] == {"state": "sent", "at": "2026-03-04T09:45:00Z"}
    assert order["ikas_total"] == {"amount": "0.00", "currency": "EUR"}  # zero is an amount, not unknown
    assert order["fortnox_total"] == {"amount": "0.12", "currency": "EUR"}
    assert order["totals_match"] is False  # false is a verdict, not unknown
    assert (order["edited_after_invoice"], order["edit_advice"]) == (True, "credit and invoice again")
    assert "timeline" not in order
    assert detail == {
        **order,
        "timeline": [
            {
                "at": "2026-03-04T09:31:00Z",
                "step": "create_fortnox_order",
                "outcome": "created",
                "detail": None,
                "request": '{"Order": {}}',
                "response": None,
            }
        ],
    }


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (orders_pb2.ORDER_STATUS_ERROR, "error"),
        (orders_pb2.ORDER_STATUS_FULFILLED, "fulfilled"),
        (orders_pb2.ORDER_STATUS_CREATED, "created"),
        (orders_pb2.ORDER_STATUS_OUTGOING, "outgoing"),
    ],
)
def test_every_order_status_comes_through(status: orders_pb2.OrderStatus, expected: str) -> None:
    assert orders_client.order_from_proto(orders_pb2.Order(id="o", status=status)).status == expected


class RecordingStub:
    """Answers every method with a fixed response and records (method, request, keyword arguments)."""

    def __init__(self, response: Any) -> None:
        self.response = response
        self.requests: list[tuple[str, Any, dict[str, Any]]] = []

    def __getattr__(self, method: str) -> Any:
        def invoke(request: Any, **options: Any) -> Any:
            self.requests.append((method, request, options))
            return self.response

        return invoke


def client_with(response: Any) -> tuple[orders_client.OrdersClient, RecordingStub]:
    client = orders_client.OrdersClient(grpc.insecure_channel("127.0.0.1:1"))
    stub = RecordingStub(response)
    client._orders = stub  # type: ignore[assignment]
    client._runs = stub  # type: ignore[assignment]
    return client, stub


def test_listing_orders_sends_the_tenant_page_query_status_and_instants() -> None:
    response = orders_pb2.ListOrdersResponse(
        orders=[full_order()],
        page=common_pb2.PageInfo(page=2, page_size=10, total=11),
        last_order_sync_at=stamp(datetime(2026, 3, 5, tzinfo=UTC)),
    )
    client, stub = client_with(response)
    stockholm = timezone(timedelta(hours=1))

    page = client.list_orders(
        "t1",
        PageRequest(page=2, page_size=10),
        query="vera",
        status="error",
        ordered_from=datetime(2026, 3, 1, tzinfo=stockholm),
        ordered_to=datetime(2026, 4, 1, tzinfo=UTC),
    )

    method, request, _ = stub.requests[0]
    assert method == "ListOrders"
    assert (request.tenant_id, request.page.page, request.page.page_size, request.query) == ("t1", 2, 10, "vera")
    assert request.status == orders_pb2.ORDER_STATUS_ERROR
    assert request.ordered_from.ToDatetime(tzinfo=UTC) == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
    assert request.ordered_to.ToDatetime(tzinfo=UTC) == datetime(2026, 4, 1, tzinfo=UTC)
    assert (page.total, page.page, page.page_size, [order.id for order in page.items]) == (11, 2, 10, ["o1"])
    assert page.last_order_sync_at == datetime(2026, 3, 5, tzinfo=UTC)

    client.list_orders("t1", PageRequest(), query="", status=None, ordered_from=None, ordered_to=None)
    unfiltered = stub.requests[1][1]
    assert unfiltered.status == orders_pb2.ORDER_STATUS_UNSPECIFIED
    assert not unfiltered.HasField("ordered_from")
    assert not unfiltered.HasField("ordered_to")


@pytest.mark.parametrize(
    ("method", "rpc"),
    [
        ("send_order", "SendOrder"),
        ("create_invoice", "CreateInvoice"),
        ("attach_invoice_pdf", "AttachInvoicePdf"),
        ("resend_invoice_email", "ResendInvoiceEmail"),
    ],
)
def test_an_action_names_the_tenant_and_order(method: str, rpc: str) -> None:
    client, stub = client_with(orders_pb2.OrderActionResponse(order=full_order()))

    order = getattr(client, method)("t1", "o1")

    assert order.fortnox_order_number == "101"
    assert [(name, request.tenant_id, request.order_id) for name, request, _ in stub.requests] == [(rpc, "t1", "o1")]


def test_one_order_and_its_pdf() -> None:
    client, stub = client_with(orders_pb2.GetOrderResponse(order=full_order()))
    assert len(client.get_order("t1", "o1").timeline) == 1
    stub.response = orders_pb2.GetInvoicePdfResponse(pdf=b"%PDF-1.7", filename="invoice-9101.pdf")
    pdf = client.get_invoice_pdf("t1", "o1")

    assert (pdf.content, pdf.filename) == (b"%PDF-1.7", "invoice-9101.pdf")
    assert [(name, request.tenant_id, request.order_id) for name, request, _ in stub.requests] == [
        ("GetOrder", "t1", "o1"),
        ("GetInvoicePdf", "t1", "o1"),
    ]


def test_a_webhook_wake_up_has_a_short_deadline() -> None:
    client, stub = client_with(orders_pb2.HandleOrderWebhookResponse(accepted=True))

    assert client.handle_order_webhook("t1", "ikas-1", "store/order/updated") is True

    ((method, request, options),) = stub.requests
    assert method == "HandleOrderWebhook"
    assert (request.tenant_id, request.ikas_order_id, request.scope) == ("t1", "ikas-1", "store/order/updated")
    assert options == {"timeout": orders_client.WAKE_UP_TIMEOUT_S}
    assert orders_client.WAKE_UP_TIMEOUT_S < 10  # shorter than the channel's default deadline


def test_order_runs_are_started_listed_and_read_for_one_tenant() -> None:
    run = common_pb2.Run(id="r1", scope="orders", state=common_pb2.RUN_STATE_QUEUED)
    client, stub = client_with(orders_pb2.StartOrderRunResponse(run=run))
    assert client.start_run("t1", "orders", trigger="on_demand").id == "r1"
    backfill = client.start_backfill(
        "t1",
        ordered_from=datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=1))),
        ordered_to=datetime(2026, 2, 1, tzinfo=UTC),
        dry_run=True,
        trigger="operation",
    )
    stub.response = orders_pb2.ListOrderRunsResponse(runs=[run], page=common_pb2.PageInfo(total=1))
    listed = client.list_runs("t1", PageRequest(page=3, page_size=5), scope="backfill")
    stub.response = orders_pb2.GetOrderRunResponse(run=run)
    assert client.get_run("t1", "r1").scope == "orders"

    start, fill, listing, get = (request for _, request, _ in stub.requests)
    assert (start.tenant_id, start.scope, start.trigger, start.dry_run) == ("t1", "orders", "on_demand", False)
    assert not start.HasField("backfill_from")
    assert (fill.scope, fill.trigger, fill.dry_run) == ("backfill", "operation", True)
    assert fill.backfill_from.ToDatetime(tzinfo=UTC) == datetime(2025, 12, 31, 23, 0, tzinfo=UTC)
    assert fill.backfill_to.ToDatetime(tzinfo=UTC) == datetime(2026, 2, 1, tzinfo=UTC)
    assert backfill.id == "r1"
    assert (listing.tenant_id, listing.scope, listing.page.page, listing.page.page_size) == ("t1", "backfill", 3, 5)
    assert (listed.total, listed.page, listed.page_size) == (1, 3, 5)
    assert (get.tenant_id, get.run_id) == ("t1", "r1")


def test_readiness_asks_for_every_orders_servicer_the_gateway_calls() -> None:
    assert orders_client.SERVICE_NAMES == (
        "bridge.orders.v1.OrderSettingsService",
        "bridge.orders.v1.OrderService",
        "bridge.orders.v1.OrderRunService",
    )
