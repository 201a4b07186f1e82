"""OrdersClient: the orders service over gRPC (bridge.orders.v1), pydantic <-> proto."""

from __future__ import annotations

from typing import Final

import grpc

from bridge.orders.v1 import orders_pb2, orders_pb2_grpc
from bridge_gateway.clients.health import is_serving
from bridge_gateway.clients.rpc import call
from bridge_gateway.models import OrderSettings

SERVICE_NAME: Final = orders_pb2.DESCRIPTOR.services_by_name["OrderSettingsService"].full_name


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


class OrdersClient:
    """The orders service's settings RPCs for one tenant at a time; failures raise the neutral errors."""

    def __init__(self, channel: grpc.Channel) -> None:
        self._channel = channel
        self._settings = orders_pb2_grpc.OrderSettingsServiceStub(channel)

    def get_settings(self, tenant_id: str) -> OrderSettings:
        request = orders_pb2.GetOrderSettingsRequest(tenant_id=tenant_id)
        return settings_from_proto(call("orders", self._settings.GetOrderSettings, request).settings)

    def validate_settings(self, tenant_id: str, settings: OrderSettings) -> None:
        request = orders_pb2.ValidateOrderSettingsRequest(tenant_id=tenant_id, settings=settings_to_proto(settings))
        call("orders", self._settings.ValidateOrderSettings, request)

    def update_settings(self, tenant_id: str, settings: OrderSettings) -> OrderSettings:
        request = orders_pb2.UpdateOrderSettingsRequest(tenant_id=tenant_id, settings=settings_to_proto(settings))
        return settings_from_proto(call("orders", self._settings.UpdateOrderSettings, request).settings)

    def is_serving(self) -> bool:
        return is_serving(self._channel, SERVICE_NAME)
