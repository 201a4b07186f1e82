"""Calling a service: one place where a failed gRPC call becomes a neutral error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import grpc

from bridge_platform.errors import DomainError, Unauthenticated
from bridge_platform.grpc_errors import error_from_rpc

Response = TypeVar("Response")


def call(service: str, method: Callable[..., Response], request: Any) -> Response:
    """Calls one unary method; a failure raises the neutral error behind it (bridge_platform.errors)."""
    try:
        return method(request)
    except grpc.RpcError as error:
        neutral = error_from_rpc(error)
        if isinstance(neutral, Unauthenticated):
            # No RPC the gateway makes yet authenticates a user, so UNAUTHENTICATED means the service
            # refused the gateway's own service credential: a deployment fault (500), not a 401 for the browser.
            raise DomainError(f"{service} refused the gateway's service credential") from error
        raise neutral from error
