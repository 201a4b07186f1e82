"""The gateway's composition root: the only place that picks the clients (style.md rule 8)."""

from __future__ import annotations

import grpc

from bridge_gateway.clients import AuthService, CatalogService, GatewayClients, OrdersService
from bridge_gateway.clients.auth import AuthClient
from bridge_gateway.clients.catalog import CatalogClient
from bridge_gateway.clients.orders import OrdersClient
from bridge_gateway.settings import GatewaySettings
from bridge_platform.grpc_client import grpc_channel


def build(
    settings: GatewaySettings,
    *,
    auth: AuthService | None = None,
    catalog: CatalogService | None = None,
    orders: OrdersService | None = None,
) -> GatewayClients:
    """Real gRPC clients for whatever is not overridden; each keyword replaces one service."""
    channels: list[grpc.Channel] = []

    def channel_to(address: str) -> grpc.Channel:
        channel = grpc_channel(address, service_token=settings.service_token_value())
        channels.append(channel)
        return channel

    return GatewayClients(
        auth=auth or AuthClient(channel_to(settings.auth_addr)),
        catalog=catalog or CatalogClient(channel_to(settings.catalog_addr)),
        orders=orders or OrdersClient(channel_to(settings.orders_addr)),
        channels=channels,
    )
