"""`GrpcTokenSource`: a `TokenSource` over the auth service's TokenService (product.md §1.4, §9).

The auth service owns every token: it stores, refreshes (single-flight per tenant across replicas) and
rotates them. The other services ask it for a valid access token and cache the answer until shortly before
its `expires_at`, so a sync of thousands of calls asks once. When the tenant has no usable connection the
auth service answers FAILED_PRECONDITION with reason `needs_reauth` or `disconnected`; that becomes a
`ConnectionPaused`, which runs treat as "pause this tenant's work and keep it" rather than as a failure of
one entity.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import grpc

from bridge.auth.v1 import auth_pb2, auth_pb2_grpc
from bridge_platform.errors import Conflict, UpstreamUnavailable
from bridge_platform.grpc_errors import error_from_rpc

NEEDS_REAUTH: Final = "needs_reauth"
DISCONNECTED: Final = "disconnected"
PAUSE_REASONS: Final = (NEEDS_REAUTH, DISCONNECTED)
# Tokens are used this long before their expiry at most: a call that takes a token just before it
# expires must still reach the upstream in time (the auth service refreshes 5 minutes ahead anyway).
EXPIRY_MARGIN: Final = timedelta(seconds=60)
_UPSTREAMS: Final = {"fortnox": auth_pb2.UPSTREAM_FORTNOX, "ikas": auth_pb2.UPSTREAM_IKAS}


class ConnectionPaused(Conflict):
    """The tenant's connection to `upstream` cannot be used until the merchant reconnects (`reason`:
    needs_reauth or disconnected). Work that needs it waits; nothing is dropped."""

    def __init__(self, upstream: str, reason: str, message: str | None = None) -> None:
        name = "Fortnox" if upstream == "fortnox" else "ikas"
        text = message or f"{name} needs to be reconnected; nothing was lost"
        super().__init__(text, {"reason": reason, "upstream": upstream})
        self.upstream, self.reason = upstream, reason


@dataclass(frozen=True)
class _Cached:
    token: str
    use_until: datetime


class GrpcTokenSource:
    """Access tokens of one upstream (`"fortnox"` or `"ikas"`) from the auth service, cached per tenant."""

    def __init__(
        self,
        channel: grpc.Channel,
        upstream: str,
        *,
        timeout_s: float = 10.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if upstream not in _UPSTREAMS:
            raise ValueError(f"unknown upstream {upstream!r}")
        self._stub = auth_pb2_grpc.TokenServiceStub(channel)
        self._upstream = upstream
        self._timeout_s = timeout_s
        self._now = clock
        self._cache: dict[str, _Cached] = {}
        self._lock = threading.Lock()

    def access_token(self, tenant_id: str) -> str:
        with self._lock:
            cached = self._cache.get(tenant_id)
        if cached is not None and self._now() < cached.use_until:
            return cached.token
        try:
            answer = self._stub.GetAccessToken(
                auth_pb2.GetAccessTokenRequest(tenant_id=tenant_id, upstream=_UPSTREAMS[self._upstream]),
                timeout=self._timeout_s,
            )
        except grpc.RpcError as failure:
            self.forget(tenant_id)
            raise self._translate(failure) from failure
        use_until = self._now() + timedelta(days=3650)
        if answer.HasField("expires_at"):
            use_until = answer.expires_at.ToDatetime(tzinfo=UTC) - EXPIRY_MARGIN
        with self._lock:
            self._cache[tenant_id] = _Cached(answer.access_token, use_until)
        return answer.access_token

    def report_rejected(self, tenant_id: str, token: str) -> None:
        self.forget(tenant_id)
        try:
            self._stub.ReportRejectedToken(
                auth_pb2.ReportRejectedTokenRequest(
                    tenant_id=tenant_id, upstream=_UPSTREAMS[self._upstream], access_token=token
                ),
                timeout=self._timeout_s,
            )
        except grpc.RpcError as failure:
            raise self._translate(failure) from failure

    def forget(self, tenant_id: str) -> None:
        """Drops the cached token (after a 401, or when the connection changed)."""
        with self._lock:
            self._cache.pop(tenant_id, None)

    def _translate(self, failure: grpc.RpcError) -> Exception:
        error = error_from_rpc(failure)
        if isinstance(error, Conflict) and error.details.get("reason") in PAUSE_REASONS:
            return ConnectionPaused(self._upstream, error.details["reason"])
        if isinstance(error, UpstreamUnavailable):
            return UpstreamUnavailable(self._upstream, f"the auth service could not hand out a token: {error.message}")
        return error
