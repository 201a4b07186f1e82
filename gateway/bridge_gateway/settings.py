"""The gateway's configuration: Bridge's shared settings (product.md §10), plus where to listen."""

from __future__ import annotations

from bridge_platform.settings import BridgeSettings


class GatewaySettings(BridgeSettings):
    """BRIDGE_* variables as the gateway reads them."""

    @property
    def bind_host(self) -> str:
        """Loopback in local mode (a developer's machine), every interface in production (behind a Service)."""
        return "127.0.0.1" if self.is_local else "0.0.0.0"

    @property
    def ikas_callback_url(self) -> str:
        """Where ikas sends the merchant back after the install consent (registered with the ikas app)."""
        return f"{self.public_url}/ikas/callback"

    @property
    def fortnox_callback_url(self) -> str:
        """Where Fortnox sends the merchant back after the consent (registered with the Fortnox app)."""
        return f"{self.public_url}/oauth/fortnox/callback"
