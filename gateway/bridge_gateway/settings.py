"""The gateway's configuration: Bridge's shared settings (product.md §10), plus where to listen."""

from __future__ import annotations

from bridge_platform.settings import BridgeSettings


class GatewaySettings(BridgeSettings):
    """BRIDGE_* variables as the gateway reads them."""

    @property
    def bind_host(self) -> str:
        """Loopback in local mode (a developer's machine), every interface in production (behind a Service)."""
        return "127.0.0.1" if self.is_local else "0.0.0.0"
