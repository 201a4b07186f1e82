"""gRPC client channels between Bridge's processes: service credential, deadline, tracing, retries.

Retries cover UNAVAILABLE only (the callee is restarting or overloaded), through gRPC's own retry
policy; every other failure reaches the caller at once. Every call gets a deadline: the caller's,
or `default_timeout_s`.
"""

from __future__ import annotations

import json
from typing import Any, Final, NamedTuple

import grpc
from opentelemetry.instrumentation.grpc.grpcext import intercept_channel

from bridge_platform.telemetry import grpc_client_tracing

DEFAULT_TIMEOUT_S: Final = 10.0

_RETRY_SERVICE_CONFIG: Final = json.dumps(
    {
        "methodConfig": [
            {
                "name": [{}],  # every service and method of the channel
                "retryPolicy": {
                    "maxAttempts": 4,
                    "initialBackoff": "0.2s",
                    "maxBackoff": "2s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    }
)


class _CallDetails(NamedTuple):
    method: str
    timeout: float | None
    metadata: Any
    credentials: Any
    wait_for_ready: bool | None
    compression: Any


class _CredentialAndDeadline(grpc.UnaryUnaryClientInterceptor):
    """Attaches the service credential and a default deadline to every call."""

    def __init__(self, token: str, default_timeout_s: float) -> None:
        self._header = ("authorization", f"Bearer {token}")
        self._default_timeout_s = default_timeout_s

    def intercept_unary_unary(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        metadata = [*(client_call_details.metadata or ()), self._header]
        details = _CallDetails(
            client_call_details.method,
            client_call_details.timeout if client_call_details.timeout is not None else self._default_timeout_s,
            metadata,
            client_call_details.credentials,
            client_call_details.wait_for_ready,
            client_call_details.compression,
        )
        return continuation(details, request)


def grpc_channel(address: str, *, service_token: str, default_timeout_s: float = DEFAULT_TIMEOUT_S) -> grpc.Channel:
    """An insecure channel to another Bridge service (TLS, where needed, is the mesh's job)."""
    channel = grpc.insecure_channel(
        address, options=[("grpc.service_config", _RETRY_SERVICE_CONFIG), ("grpc.enable_retries", 1)]
    )
    traced = intercept_channel(channel, grpc_client_tracing())  # OpenTelemetry's own channel wrapper
    return grpc.intercept_channel(traced, _CredentialAndDeadline(service_token, default_timeout_s))
