"""Calling a service: one place where a failed gRPC call becomes a neutral error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar

import grpc

from bridge_platform.errors import DomainError, Unauthenticated
from bridge_platform.grpc_errors import error_from_rpc

Response = TypeVar("Response")

# What every service's credential check (bridge_platform.grpc_server) answers a caller without the token.
SERVICE_CREDENTIAL_REFUSED: Final = "missing or invalid service credential"


def call(service: str, method: Callable[..., Response], request: Any, *, checks_user: bool = False) -> Response:
    """Calls one unary method; a failure raises the neutral error behind it (bridge_platform.errors).

    UNAUTHENTICATED is the user's 401 only for an RPC that checks a user's credential (`checks_user`:
    a session, a dashboard token, a signature); otherwise, and whenever the service refused the
    gateway's own service credential, it is a deployment fault (500), never a 401 for the browser.
    """
    try:
        return method(request)
    except grpc.RpcError as error:
        neutral = error_from_rpc(error)
        if isinstance(neutral, Unauthenticated) and (not checks_user or neutral.message == SERVICE_CREDENTIAL_REFUSED):
            raise DomainError(f"{service} refused the gateway's service credential") from error
        raise neutral from error
