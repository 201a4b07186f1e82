"""OrdersClient: the orders service over gRPC (bridge.orders.v1), pydantic <-> proto: settings, order
records and their actions, order webhooks and order runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any, Final

import grpc

from bridge.orders.v1 import orders_pb2, orders_pb2_grpc
from bridge_gateway.clients.common import (
    entity_error_from_proto,
    field_time,
    money_from_proto,
    page_to_proto,
    run_from_proto,
    time_to_proto,
)
from bridge_gateway.clients.health import is_serving
from bridge_gateway.clients.rpc import call
from bridge_gateway.models import (
    Customer,
    InvoicePdf,
    Money,
    Order,
    OrderDetail,
    OrderPage,
    OrderSettings,
    OrderStatus,
    PageRequest,
    Run,
    RunPage,
    TimelineEntry,
)

# Ready means every part of the service the gateway calls answers (each servicer has its own health name).
SERVICE_NAMES: Final = tuple(
    orders_pb2.DESCRIPTOR.services_by_name[name].full_name
    for name in ("OrderSettingsService", "OrderService", "OrderRunService")
)

_STATUS: Final[dict[orders_pb2.OrderStatus, OrderStatus]] = {
    orders_pb2.ORDER_STATUS_ERROR: "error",
    orders_pb2.ORDER_STATUS_FULFILLED: "fulfilled",
    orders_pb2.ORDER_STATUS_CREATED: "created",
    orders_pb2.ORDER_STATUS_OUTGOING: "outgoing",
}
_STATUS_VALUE: Final[dict[OrderStatus, orders_pb2.OrderStatus]] = {name: value for value, name in _STATUS.items()}

# A webhook's wake-up is waited for this long at most: ikas wants its 200 fast, and polling covers a lost one.
WAKE_UP_TIMEOUT_S: Final = 3.0

OrderAction = Callable[[orders_pb2.OrderActionRequest], orders_pb2.OrderActionResponse]


def settings_to_proto(settings: OrderSettings) -> orders_pb2.OrderSettings:
    # None leaves an optional field unset, which is how the contract spells null.
    return orders_pb2.OrderSettings(**settings.model_dump())


def settings_from_proto(message: orders_pb2.OrderSettings) -> OrderSettings:
    def optional(name: str) -> str | None:
        return getattr(message, name) if message.HasField(name) else None

    return OrderSettings.model_validate(
        {
            "sync_automatically": message.sync_automatically,
            "sync_from": optional("sync_from"),
            "create_orders": message.create_orders,
            "create_invoice": message.create_invoice,
            "sync_items_without_relation": message.sync_items_without_relation,
            "send_invoice_email": message.send_invoice_email,
            "unit_source": message.unit_source,
            "unit_attribute": optional("unit_attribute"),
            "language": message.language,
            "shipping": message.shipping,
            "shipping_article_number": optional("shipping_article_number"),
            "sales_accounts": dict(message.sales_accounts),
            "send_when": message.send_when,
            "register_payments": message.register_payments,
            "modes_of_payment": dict(message.modes_of_payment),
            "follow_cancellations": message.follow_cancellations,
            "follow_refunds": message.follow_refunds,
        }
    )


def _money(message: orders_pb2.Order, name: str) -> Money | None:
    return money_from_proto(getattr(message, name)) if message.HasField(name) else None


def _order_fields(message: orders_pb2.Order) -> dict[str, Any]:
    """The API's fields of an order: the contract's empty strings and unset fields are the API's nulls. The
    choices (fortnox_state, invoice_email.state) are checked by the model: an unknown one is a contract bug."""
    return {
        "id": message.id,
        "ikas_order_id": message.ikas_order_id,
        "ikas_order_number": message.ikas_order_number,
        "ikas_url": message.ikas_url or None,
        "ordered_at": field_time(message, "ordered_at"),
        "customer": Customer(name=message.customer.name or None, email=message.customer.email or None),
        # A record the service has not classified yet is listed and not in Fortnox.
        "status": _STATUS.get(message.status, "outgoing"),
        "waiting_reason": message.waiting_reason or None,
        "error": (
            entity_error_from_proto(message.error) if message.HasField("error") and message.error.message else None
        ),
        "fortnox_state": message.fortnox_state or None,
        "fortnox_order_number": message.fortnox_order_number or None,
        "fortnox_invoice_number": message.fortnox_invoice_number or None,
        "invoice_email": {
            "state": message.invoice_email_state or "not_requested",
            "at": field_time(message, "invoice_email_at"),
        },
        "invoice_attached_at": field_time(message, "invoice_attached_at"),
        "ikas_total": _money(message, "ikas_total"),
        "fortnox_total": _money(message, "fortnox_total"),
        "totals_match": message.totals_match if message.HasField("totals_match") else None,
        "edited_after_invoice": message.edited_after_invoice,
        "edit_advice": message.edit_advice or None,
        "totals_explanation": message.totals_explanation or None,
    }


def order_from_proto(message: orders_pb2.Order) -> Order:
    """An order as lists and actions answer it (without its timeline)."""
    return Order.model_validate(_order_fields(message))


def timeline_entry_from_proto(message: orders_pb2.TimelineEntry) -> TimelineEntry:
    return TimelineEntry(
        at=field_time(message, "at"),
        step=message.step,
        outcome=message.outcome,
        detail=message.detail or None,
        request=message.request or None,
        response=message.response or None,
    )


def order_detail_from_proto(message: orders_pb2.Order) -> OrderDetail:
    """An order with its timeline, as GetOrder answers it."""
    timeline = [timeline_entry_from_proto(entry) for entry in message.timeline]
    return OrderDetail.model_validate({**_order_fields(message), "timeline": timeline})


class OrdersClient:
    """The orders service's RPCs for one tenant at a time; failures raise the neutral errors."""

    def __init__(self, channel: grpc.Channel) -> None:
        self._channel = channel
        self._settings = orders_pb2_grpc.OrderSettingsServiceStub(channel)
        self._orders = orders_pb2_grpc.OrderServiceStub(channel)
        self._runs = orders_pb2_grpc.OrderRunServiceStub(channel)

    def get_settings(self, tenant_id: str) -> OrderSettings:
        request = orders_pb2.GetOrderSettingsRequest(tenant_id=tenant_id)
        return settings_from_proto(call("orders", self._settings.GetOrderSettings, request).settings)

    def validate_settings(self, tenant_id: str, settings: OrderSettings) -> None:
        request = orders_pb2.ValidateOrderSettingsRequest(tenant_id=tenant_id, settings=settings_to_proto(settings))
        call("orders", self._settings.ValidateOrderSettings, request)

    def update_settings(self, tenant_id: str, settings: OrderSettings) -> OrderSettings:
        request = orders_pb2.UpdateOrderSettingsRequest(tenant_id=tenant_id, settings=settings_to_proto(settings))
        return settings_from_proto(call("orders", self._settings.UpdateOrderSettings, request).settings)

    # ---- order records and their actions

    def list_orders(
        self,
        tenant_id: str,
        page: PageRequest,
        *,
        query: str,
        status: OrderStatus | None,
        ordered_from: datetime | None,
        ordered_to: datetime | None,
    ) -> OrderPage:
        request = orders_pb2.ListOrdersRequest(
            tenant_id=tenant_id,
            page=page_to_proto(page),
            query=query,
            status=_STATUS_VALUE[status] if status is not None else orders_pb2.ORDER_STATUS_UNSPECIFIED,
            ordered_from=time_to_proto(ordered_from) if ordered_from is not None else None,
            ordered_to=time_to_proto(ordered_to) if ordered_to is not None else None,
        )
        response = call("orders", self._orders.ListOrders, request)
        return OrderPage(
            items=[order_from_proto(order) for order in response.orders],
            total=response.page.total,
            page=response.page.page or page.page,
            page_size=response.page.page_size or page.page_size,
            last_order_sync_at=field_time(response, "last_order_sync_at"),
        )

    def get_order(self, tenant_id: str, order_id: str) -> OrderDetail:
        request = orders_pb2.GetOrderRequest(tenant_id=tenant_id, order_id=order_id)
        return order_detail_from_proto(call("orders", self._orders.GetOrder, request).order)

    def send_order(self, tenant_id: str, order_id: str) -> Order:
        return self._act(self._orders.SendOrder, tenant_id, order_id)

    def create_invoice(self, tenant_id: str, order_id: str) -> Order:
        return self._act(self._orders.CreateInvoice, tenant_id, order_id)

    def attach_invoice_pdf(self, tenant_id: str, order_id: str) -> Order:
        return self._act(self._orders.AttachInvoicePdf, tenant_id, order_id)

    def resend_invoice_email(self, tenant_id: str, order_id: str) -> Order:
        return self._act(self._orders.ResendInvoiceEmail, tenant_id, order_id)

    def _act(self, method: OrderAction, tenant_id: str, order_id: str) -> Order:
        request = orders_pb2.OrderActionRequest(tenant_id=tenant_id, order_id=order_id)
        return order_from_proto(call("orders", method, request).order)

    def get_invoice_pdf(self, tenant_id: str, order_id: str) -> InvoicePdf:
        request = orders_pb2.GetInvoicePdfRequest(tenant_id=tenant_id, order_id=order_id)
        response = call("orders", self._orders.GetInvoicePdf, request)
        return InvoicePdf(content=response.pdf, filename=response.filename)

    def handle_order_webhook(self, tenant_id: str, ikas_order_id: str, scope: str) -> bool:
        request = orders_pb2.HandleOrderWebhookRequest(tenant_id=tenant_id, ikas_order_id=ikas_order_id, scope=scope)
        wake_up = partial(self._orders.HandleOrderWebhook, timeout=WAKE_UP_TIMEOUT_S)
        return call("orders", wake_up, request).accepted

    # ---- runs

    def start_run(self, tenant_id: str, scope: str, *, trigger: str) -> Run:
        request = orders_pb2.StartOrderRunRequest(tenant_id=tenant_id, scope=scope, trigger=trigger)
        return run_from_proto(call("orders", self._runs.StartOrderRun, request).run)

    def start_backfill(
        self, tenant_id: str, *, ordered_from: datetime, ordered_to: datetime, dry_run: bool, trigger: str
    ) -> Run:
        request = orders_pb2.StartOrderRunRequest(
            tenant_id=tenant_id,
            scope="backfill",
            trigger=trigger,
            backfill_from=time_to_proto(ordered_from),
            backfill_to=time_to_proto(ordered_to),
            dry_run=dry_run,
        )
        return run_from_proto(call("orders", self._runs.StartOrderRun, request).run)

    def list_runs(self, tenant_id: str, page: PageRequest, *, scope: str | None = None) -> RunPage:
        request = orders_pb2.ListOrderRunsRequest(tenant_id=tenant_id, page=page_to_proto(page), scope=scope or "")
        response = call("orders", self._runs.ListOrderRuns, request)
        return RunPage(
            items=[run_from_proto(run) for run in response.runs],
            total=response.page.total,
            page=response.page.page or page.page,
            page_size=response.page.page_size or page.page_size,
        )

    def get_run(self, tenant_id: str, run_id: str) -> Run:
        request = orders_pb2.GetOrderRunRequest(tenant_id=tenant_id, run_id=run_id)
        return run_from_proto(call("orders", self._runs.GetOrderRun, request).run)

    def is_serving(self) -> bool:
        return all(is_serving(self._channel, name) for name in SERVICE_NAMES)
