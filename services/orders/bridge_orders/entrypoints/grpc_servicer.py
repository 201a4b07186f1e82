"""The orders service's gRPC servicers: proto in, one use case, proto out (style.md rule 9)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

import grpc

from bridge.common.v1 import common_pb2
from bridge.orders.v1 import orders_pb2, orders_pb2_grpc
from bridge_orders.app.manage_settings import UpdateOrderSettingsRequest
from bridge_orders.app.order_runs import StartOrderRunRequest
from bridge_orders.app.ports import OrderFilter
from bridge_orders.app.process_order import ProcessOrderRequest
from bridge_orders.bootstrap import Services
from bridge_orders.domain.order_record import CREATED, ERROR, FULFILLED, OUTGOING, Money, OrderRecord
from bridge_orders.domain.settings import OrderSettings, parse_sync_from
from bridge_platform.common_messages import entity_error, money_to_proto, run_to_proto, timestamp
from bridge_platform.errors import DomainError, FieldViolation, InvalidInput
from bridge_platform.grpc_errors import maps_errors
from bridge_platform.telemetry import tag_tenant


def settings_from_proto(message: orders_pb2.OrderSettings) -> OrderSettings:
    sync_from: datetime | None = None
    bad_sync_from: InvalidInput | None = None
    if message.HasField("sync_from"):
        try:
            sync_from = parse_sync_from(message.sync_from)
        except InvalidInput as error:
            bad_sync_from = error
    settings = OrderSettings(
        sync_automatically=message.sync_automatically,
        sync_from=sync_from,
        create_orders=message.create_orders,
        create_invoice=message.create_invoice,
        sync_items_without_relation=message.sync_items_without_relation,
        send_invoice_email=message.send_invoice_email,
        unit_source=message.unit_source,
        unit_attribute=message.unit_attribute if message.HasField("unit_attribute") else None,
        language=message.language,
        shipping=message.shipping,
        shipping_article_number=(
            message.shipping_article_number if message.HasField("shipping_article_number") else None
        ),
        sales_accounts=dict(message.sales_accounts),
        send_when=message.send_when,
        register_payments=message.register_payments,
        modes_of_payment=dict(message.modes_of_payment),
        follow_cancellations=message.follow_cancellations,
        follow_refunds=message.follow_refunds,
    )
    if bad_sync_from is not None:  # report it together with the rest of the document's problems
        raise InvalidInput(bad_sync_from.message, [*bad_sync_from.violations, *settings.violations()])
    return settings


def settings_to_proto(settings: OrderSettings) -> orders_pb2.OrderSettings:
    return orders_pb2.OrderSettings(
        sync_automatically=settings.sync_automatically,
        sync_from=settings.sync_from.isoformat() if settings.sync_from is not None else None,
        create_orders=settings.create_orders,
        create_invoice=settings.create_invoice,
        sync_items_without_relation=settings.sync_items_without_relation,
        send_invoice_email=settings.send_invoice_email,
        unit_source=settings.unit_source,
        unit_attribute=settings.unit_attribute,
        language=settings.language,
        shipping=settings.shipping,
        shipping_article_number=settings.shipping_article_number,
        sales_accounts=dict(settings.sales_accounts),
        send_when=settings.send_when,
        register_payments=settings.register_payments,
        modes_of_payment=dict(settings.modes_of_payment),
        follow_cancellations=settings.follow_cancellations,
        follow_refunds=settings.follow_refunds,
    )


class OrderSettingsServicer(orders_pb2_grpc.OrderSettingsServiceServicer):
    def __init__(self, services: Services) -> None:
        self._services = services

    @maps_errors
    def GetOrderSettings(
        self, request: orders_pb2.GetOrderSettingsRequest, context: grpc.ServicerContext
    ) -> orders_pb2.GetOrderSettingsResponse:
        tag_tenant(request.tenant_id)
        settings = self._services.get_settings(request.tenant_id)
        return orders_pb2.GetOrderSettingsResponse(settings=settings_to_proto(settings))

    @maps_errors
    def ValidateOrderSettings(
        self, request: orders_pb2.ValidateOrderSettingsRequest, context: grpc.ServicerContext
    ) -> orders_pb2.ValidateOrderSettingsResponse:
        tag_tenant(request.tenant_id)
        self._services.validate_settings(request.tenant_id, settings_from_proto(request.settings))
        return orders_pb2.ValidateOrderSettingsResponse()

    @maps_errors
    def UpdateOrderSettings(
        self, request: orders_pb2.UpdateOrderSettingsRequest, context: grpc.ServicerContext
    ) -> orders_pb2.UpdateOrderSettingsResponse:
        tag_tenant(request.tenant_id)
        stored = self._services.update_settings(
            UpdateOrderSettingsRequest(request.tenant_id, settings_from_proto(request.settings))
        )
        return orders_pb2.UpdateOrderSettingsResponse(settings=settings_to_proto(stored))


_PURGE_SCOPES = {common_pb2.PURGE_SCOPE_PERSONAL_DATA: "personal_data", common_pb2.PURGE_SCOPE_ALL: "all"}


class OrderTenantDataServicer(orders_pb2_grpc.OrderTenantDataServiceServicer):
    def __init__(self, services: Services) -> None:
        self._services = services

    @maps_errors
    def PurgeTenantData(
        self, request: orders_pb2.PurgeTenantDataRequest, context: grpc.ServicerContext
    ) -> orders_pb2.PurgeTenantDataResponse:
        tag_tenant(request.tenant_id)
        deleted = self._services.purge_tenant_data(request.tenant_id, _PURGE_SCOPES.get(request.scope, ""))
        return orders_pb2.PurgeTenantDataResponse(records_deleted=deleted)


T = TypeVar("T")

_STATUS_TO_PROTO: Final = {
    ERROR: orders_pb2.ORDER_STATUS_ERROR,
    FULFILLED: orders_pb2.ORDER_STATUS_FULFILLED,
    CREATED: orders_pb2.ORDER_STATUS_CREATED,
    OUTGOING: orders_pb2.ORDER_STATUS_OUTGOING,
}
_STATUS_FROM_PROTO: Final = {number: name for name, number in _STATUS_TO_PROTO.items()}


def _need(use_case: T | None) -> T:
    if use_case is None:
        raise DomainError("this orders process was built without its database")
    return use_case


def _time(message: Any, name: str) -> datetime | None:
    """A Timestamp field as an aware datetime; unset is None."""
    return getattr(message, name).ToDatetime(tzinfo=UTC) if message.HasField(name) else None


def order_to_proto(record: OrderRecord, store_url: str, *, with_timeline: bool) -> orders_pb2.Order:
    error = record.error
    return orders_pb2.Order(
        id=record.id,
        ikas_order_id=record.ikas_order_id,
        ikas_order_number=record.ikas_order_number,
        # The order in the tenant's ikas admin; ikas-api.md names no admin URLs, so this mirrors the product
        # links' /admin/product/edit/{id} (the ikas sandbox serves any admin path naming the order).
        ikas_url=f"{store_url}/admin/order/detail/{record.ikas_order_id}",
        ordered_at=timestamp(record.ordered_at),
        customer=orders_pb2.Customer(name=record.customer_name, email=record.customer_email or ""),
        status=_STATUS_TO_PROTO.get(record.status, orders_pb2.ORDER_STATUS_UNSPECIFIED),
        waiting_reason=record.waiting_reason or "",
        error=entity_error(error.message, error.upstream_code, error.hint, error.at) if error else None,
        fortnox_state=record.fortnox_state or "",
        fortnox_order_number=record.fortnox_order_number or "",
        fortnox_invoice_number=record.fortnox_invoice_number or "",
        invoice_email_state=record.invoice_email_state,
        invoice_email_at=timestamp(record.invoice_email_at),
        invoice_attached_at=timestamp(record.invoice_attached_at),
        ikas_total=_money(record.ikas_total),
        fortnox_total=_money(record.fortnox_total),
        totals_match=record.totals_match,
        edited_after_invoice=record.edited_after_invoice,
        edit_advice=record.edit_advice or "",
        totals_explanation=record.totals_explanation or "",
        timeline=[
            orders_pb2.TimelineEntry(
                at=timestamp(attempt.at),
                step=attempt.step,
                outcome=attempt.outcome,
                detail=attempt.detail,
                request=attempt.request,
                response=attempt.response,
            )
            for attempt in (record.timeline if with_timeline else ())
        ],
        updated_at=timestamp(record.updated_at),
    )


def _money(money: Money | None) -> common_pb2.Money | None:
    return money_to_proto(money.amount, money.currency) if money is not None else None


class OrderServicer(orders_pb2_grpc.OrderServiceServicer):
    def __init__(self, services: Services) -> None:
        self._services = services

    def _store_url(self, tenant_id: str) -> str:
        store = self._services.store_names.store_name(tenant_id)
        return self._services.ikas_store_url.replace("{store}", store).rstrip("/")

    def _order(self, tenant_id: str, record_id: str) -> orders_pb2.Order:
        record = _need(self._services.get_order)(tenant_id, record_id)
        return order_to_proto(record, self._store_url(tenant_id), with_timeline=True)

    def _ikas_order_id(self, tenant_id: str, record_id: str) -> str:
        """The ikas order behind Bridge's id, of this tenant only (another tenant's id is NotFound)."""
        return _need(self._services.get_order).ikas_order_id(tenant_id, record_id)

    def _action(
        self, action: Callable[[str, str], OrderRecord], request: orders_pb2.OrderActionRequest
    ) -> orders_pb2.OrderActionResponse:
        record = action(request.tenant_id, self._ikas_order_id(request.tenant_id, request.order_id))
        url = self._store_url(request.tenant_id)
        return orders_pb2.OrderActionResponse(order=order_to_proto(record, url, with_timeline=True))

    @maps_errors
    def ListOrders(
        self, request: orders_pb2.ListOrdersRequest, context: grpc.ServicerContext
    ) -> orders_pb2.ListOrdersResponse:
        tag_tenant(request.tenant_id)
        filters = OrderFilter(
            query=request.query,
            status=_STATUS_FROM_PROTO.get(request.status) if request.status else None,
            ordered_from=_time(request, "ordered_from"),
            ordered_to=_time(request, "ordered_to"),
        )
        if request.status and filters.status is None:
            raise InvalidInput("unknown status", [FieldViolation("status", "invalid_choice", "unknown order status")])
        page = _need(self._services.list_orders)(request.tenant_id, filters, request.page.page, request.page.page_size)
        url = self._store_url(request.tenant_id) if page.orders else ""
        return orders_pb2.ListOrdersResponse(
            orders=[order_to_proto(record, url, with_timeline=False) for record in page.orders],
            page=common_pb2.PageInfo(page=page.page, page_size=page.page_size, total=page.total),
            last_order_sync_at=timestamp(page.last_order_sync_at),
        )

    @maps_errors
    def GetOrder(
        self, request: orders_pb2.GetOrderRequest, context: grpc.ServicerContext
    ) -> orders_pb2.GetOrderResponse:
        tag_tenant(request.tenant_id)
        return orders_pb2.GetOrderResponse(order=self._order(request.tenant_id, request.order_id))

    @maps_errors
    def SendOrder(
        self, request: orders_pb2.OrderActionRequest, context: grpc.ServicerContext
    ) -> orders_pb2.OrderActionResponse:
        tag_tenant(request.tenant_id)
        ikas_order_id = self._ikas_order_id(request.tenant_id, request.order_id)
        self._services.process_order(ProcessOrderRequest(request.tenant_id, ikas_order_id, manual=True))
        return orders_pb2.OrderActionResponse(order=self._order(request.tenant_id, request.order_id))

    @maps_errors
    def CreateInvoice(
        self, request: orders_pb2.OrderActionRequest, context: grpc.ServicerContext
    ) -> orders_pb2.OrderActionResponse:
        tag_tenant(request.tenant_id)
        return self._action(self._services.create_invoice, request)

    @maps_errors
    def AttachInvoicePdf(
        self, request: orders_pb2.OrderActionRequest, context: grpc.ServicerContext
    ) -> orders_pb2.OrderActionResponse:
        tag_tenant(request.tenant_id)
        return self._action(self._services.attach_invoice_pdf, request)

    @maps_errors
    def ResendInvoiceEmail(
        self, request: orders_pb2.OrderActionRequest, context: grpc.ServicerContext
    ) -> orders_pb2.OrderActionResponse:
        tag_tenant(request.tenant_id)
        return self._action(self._services.resend_invoice_email, request)

    @maps_errors
    def GetInvoicePdf(
        self, request: orders_pb2.GetInvoicePdfRequest, context: grpc.ServicerContext
    ) -> orders_pb2.GetInvoicePdfResponse:
        tag_tenant(request.tenant_id)
        pdf = self._services.get_invoice_pdf(
            request.tenant_id, self._ikas_order_id(request.tenant_id, request.order_id)
        )
        return orders_pb2.GetInvoicePdfResponse(pdf=pdf.pdf, filename=pdf.filename)

    @maps_errors
    def HandleOrderWebhook(
        self, request: orders_pb2.HandleOrderWebhookRequest, context: grpc.ServicerContext
    ) -> orders_pb2.HandleOrderWebhookResponse:
        tag_tenant(request.tenant_id)
        accepted = _need(self._services.handle_webhook)(request.tenant_id, request.ikas_order_id, request.scope)
        return orders_pb2.HandleOrderWebhookResponse(accepted=accepted)


class OrderRunServicer(orders_pb2_grpc.OrderRunServiceServicer):
    def __init__(self, services: Services) -> None:
        self._services = services

    @maps_errors
    def StartOrderRun(
        self, request: orders_pb2.StartOrderRunRequest, context: grpc.ServicerContext
    ) -> orders_pb2.StartOrderRunResponse:
        tag_tenant(request.tenant_id)
        run = _need(self._services.start_run)(
            StartOrderRunRequest(
                tenant_id=request.tenant_id,
                scope=request.scope,
                trigger=request.trigger,
                backfill_from=_time(request, "backfill_from"),
                backfill_to=_time(request, "backfill_to"),
                dry_run=request.dry_run,
            )
        )
        return orders_pb2.StartOrderRunResponse(run=run_to_proto(run))

    @maps_errors
    def RunDueSyncs(
        self, request: orders_pb2.RunDueOrderSyncsRequest, context: grpc.ServicerContext
    ) -> orders_pb2.RunDueOrderSyncsResponse:
        due = _need(self._services.run_due_syncs)(request.scope)
        return orders_pb2.RunDueOrderSyncsResponse(enqueued=due.enqueued, skipped=due.skipped)

    @maps_errors
    def ListOrderRuns(
        self, request: orders_pb2.ListOrderRunsRequest, context: grpc.ServicerContext
    ) -> orders_pb2.ListOrderRunsResponse:
        tag_tenant(request.tenant_id)
        page = _need(self._services.list_runs)(
            request.tenant_id, request.scope or None, request.page.page, request.page.page_size
        )
        return orders_pb2.ListOrderRunsResponse(
            runs=[run_to_proto(run) for run in page.runs],
            page=common_pb2.PageInfo(page=page.page, page_size=page.page_size, total=page.total),
        )

    @maps_errors
    def GetOrderRun(
        self, request: orders_pb2.GetOrderRunRequest, context: grpc.ServicerContext
    ) -> orders_pb2.GetOrderRunResponse:
        tag_tenant(request.tenant_id)
        run = _need(self._services.get_run)(request.tenant_id, request.run_id)
        return orders_pb2.GetOrderRunResponse(run=run_to_proto(run))


def register(services: Services, server: grpc.Server) -> list[str]:
    """Adds the orders servicers to a server; returns their full names for health and reflection."""
    orders_pb2_grpc.add_OrderSettingsServiceServicer_to_server(OrderSettingsServicer(services), server)
    orders_pb2_grpc.add_OrderTenantDataServiceServicer_to_server(OrderTenantDataServicer(services), server)
    orders_pb2_grpc.add_OrderServiceServicer_to_server(OrderServicer(services), server)
    orders_pb2_grpc.add_OrderRunServiceServicer_to_server(OrderRunServicer(services), server)
    return [
        orders_pb2.DESCRIPTOR.services_by_name[name].full_name
        for name in ("OrderSettingsService", "OrderTenantDataService", "OrderService", "OrderRunService")
    ]
