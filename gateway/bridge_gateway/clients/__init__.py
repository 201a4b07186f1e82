"""One typed gRPC client per service, and what the rest of the gateway knows of them: these Protocols.

The API routes depend on the Protocols, so tests hand in fakes through `bootstrap.build(...)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import grpc

from bridge_gateway.models import CatalogSettings, OrderSettings, Tenant


class AuthService(Protocol):
    """Tenants and sessions. Raises the neutral errors of bridge_platform.errors."""

    def ensure_development_tenant(self, store_name: str) -> Tenant:
        """Local mode only: the tenant of a sandbox store, created on first use."""
        ...

    def is_serving(self) -> bool: ...


class CatalogService(Protocol):
    """The product and stock settings of a tenant. Raises the neutral errors of bridge_platform.errors."""

    def get_settings(self, tenant_id: str) -> CatalogSettings: ...

    def validate_settings(self, tenant_id: str, settings: CatalogSettings) -> None:
        """Raises InvalidInput naming every bad field; stores nothing."""
        ...

    def update_settings(self, tenant_id: str, settings: CatalogSettings, *, confirm_reset: bool) -> CatalogSettings:
        """Stores the part and returns it as stored; Conflict for a sync_mode change without confirm_reset."""
        ...

    def is_serving(self) -> bool: ...


class OrdersService(Protocol):
    """The order settings of a tenant. Raises the neutral errors of bridge_platform.errors."""

    def get_settings(self, tenant_id: str) -> OrderSettings: ...

    def validate_settings(self, tenant_id: str, settings: OrderSettings) -> None:
        """Raises InvalidInput naming every bad field; stores nothing."""
        ...

    def update_settings(self, tenant_id: str, settings: OrderSettings) -> OrderSettings:
        """Stores the part and returns it as stored (sync_from may be filled in)."""
        ...

    def is_serving(self) -> bool: ...


@dataclass
class GatewayClients:
    """Everything the gateway talks to; `channels` are closed on shutdown."""

    auth: AuthService
    catalog: CatalogService
    orders: OrdersService
    channels: Sequence[grpc.Channel] = field(default_factory=list)

    def close(self) -> None:
        for channel in self.channels:
            channel.close()
