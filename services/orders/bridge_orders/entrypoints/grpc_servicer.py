"""The orders service's gRPC servicers: proto in, one use case, proto out (style.md rule 9)."""

from __future__ import annotations

from datetime import datetime

import grpc

from bridge.common.v1 import common_pb2
from bridge.orders.v1 import orders_pb2, orders_pb2_grpc
from bridge_orders.app.manage_settings import UpdateOrderSettingsRequest
from bridge_orders.bootstrap import Services
from bridge_orders.domain.settings import OrderSettings, parse_sync_from
from bridge_platform.errors import InvalidInput
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


def register(services: Services, server: grpc.Server) -> list[str]:
    """Adds the orders servicers to a server; returns their full names for health and reflection."""
    orders_pb2_grpc.add_OrderSettingsServiceServicer_to_server(OrderSettingsServicer(services), server)
    orders_pb2_grpc.add_OrderTenantDataServiceServicer_to_server(OrderTenantDataServicer(services), server)
    return [
        orders_pb2.DESCRIPTOR.services_by_name[name].full_name
        for name in ("OrderSettingsService", "OrderTenantDataService")
    ]
