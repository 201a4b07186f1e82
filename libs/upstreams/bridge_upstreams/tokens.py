"""Where an upstream client gets its access tokens from.

The auth service owns the tokens (it stores, refreshes and rotates them); every other process asks
it through an implementation of `TokenSource` (gRPC in production, a fake in unit tests, the
sandbox's OAuth in contract tests). The transport calls it once per attempt.
"""

from __future__ import annotations

from typing import Protocol


class TokenSource(Protocol):
    """Access tokens for one upstream (Fortnox or ikas), per tenant.

    `access_token` returns a token that is valid now for this tenant's connection; it raises
    `bridge_platform.errors.UpstreamRejected` when the tenant has no usable connection (never
    connected, revoked, refresh token dead: the merchant must reconnect).

    `report_rejected` tells the source that the upstream answered 401 to `token`. The source refreshes
    once (a single refresh in flight per tenant; a token that was already replaced is not refreshed
    again) so the next `access_token` call returns a fresh token.
    """

    def access_token(self, tenant_id: str) -> str: ...

    def report_rejected(self, tenant_id: str, token: str) -> None: ...
