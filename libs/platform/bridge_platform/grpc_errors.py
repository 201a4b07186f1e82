"""The one table from domain errors to gRPC status codes, and its inverse for callers.

Servicers wrap each method in `maps_errors`; clients turn a failed call back into the same neutral
error with `error_from_rpc`, so an `InvalidInput` raised in the orders domain arrives in the gateway
as an `InvalidInput` with the same field violations (carried as google.rpc.BadRequest).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, Final, TypeVar

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from bridge_platform.errors import (
    Conflict,
    DomainError,
    FieldViolation,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    UpstreamRejected,
    UpstreamUnavailable,
)

log = logging.getLogger(__name__)

STATUS_FOR: Final[dict[type[DomainError], grpc.StatusCode]] = {  # the first matching base class wins
    InvalidInput: grpc.StatusCode.INVALID_ARGUMENT,
    NotFound: grpc.StatusCode.NOT_FOUND,
    Conflict: grpc.StatusCode.FAILED_PRECONDITION,
    Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    UpstreamRejected: grpc.StatusCode.FAILED_PRECONDITION,
    UpstreamUnavailable: grpc.StatusCode.UNAVAILABLE,
}

_ERROR_DOMAIN: Final = "bridge"
_REASON_FOR: Final[dict[type[DomainError], str]] = {
    Conflict: "CONFLICT",
    UpstreamRejected: "UPSTREAM_REJECTED",
}

Method = TypeVar("Method", bound=Callable[..., Any])


def status_for(error: DomainError) -> grpc.StatusCode:
    for error_type, code in STATUS_FOR.items():
        if isinstance(error, error_type):
            return code
    return grpc.StatusCode.INTERNAL


def rich_status(error: DomainError) -> grpc.Status:
    """The gRPC status of a domain error, with field violations or conflict details attached."""
    code = status_for(error)
    status = status_pb2.Status(code=code.value[0], message=error.message)
    if isinstance(error, InvalidInput) and error.violations:
        bad_request = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.message, reason=v.code)
                for v in error.violations
            ]
        )
        _pack(status, bad_request)
    reason = next((r for t, r in _REASON_FOR.items() if isinstance(error, t)), None)
    if reason is not None:
        metadata = dict(getattr(error, "details", {}) or {})
        if isinstance(error, UpstreamRejected):
            metadata.update({"upstream": error.upstream, "upstream_code": error.upstream_code or ""})
        _pack(status, error_details_pb2.ErrorInfo(reason=reason, domain=_ERROR_DOMAIN, metadata=metadata))
    return rpc_status.to_status(status)


def _pack(status: status_pb2.Status, detail: Any) -> None:
    packed = any_pb2.Any()
    packed.Pack(detail)
    status.details.append(packed)


def maps_errors(method: Method) -> Method:
    """Servicer-method decorator: domain errors become their status; anything else is INTERNAL, logged, never echoed."""

    @functools.wraps(method)
    def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return method(self, request, context)
        except DomainError as error:
            context.abort_with_status(rich_status(error))
        except Exception:
            log.exception("unhandled error in %s", method.__qualname__)
            context.abort(grpc.StatusCode.INTERNAL, "internal error")

    return wrapper  # type: ignore[return-value]


def error_from_rpc(error: grpc.RpcError) -> DomainError:
    """The neutral error behind a failed call, so callers handle one family of exceptions."""
    call: Any = error
    code = call.code()
    message = call.details() or code.name
    status = rpc_status.from_call(call)
    violations: list[FieldViolation] = []
    info: dict[str, str] = {}
    reason = ""
    for detail in status.details if status is not None else []:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            violations.extend(FieldViolation(v.field, v.reason, v.description) for v in bad_request.field_violations)
        elif detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            error_info = error_details_pb2.ErrorInfo()
            detail.Unpack(error_info)
            reason, info = error_info.reason, dict(error_info.metadata)
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return InvalidInput(message, violations)
    if code == grpc.StatusCode.NOT_FOUND:
        return NotFound(message)
    if code == grpc.StatusCode.FAILED_PRECONDITION:
        if reason == "UPSTREAM_REJECTED":
            upstream = info.pop("upstream", "upstream")
            return UpstreamRejected(upstream, message, upstream_code=info.pop("upstream_code", "") or None, extra=info)
        return Conflict(message, info)
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return Unauthenticated(message)
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return PermissionDenied(message)
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED):
        return UpstreamUnavailable("service", message)
    return DomainError(f"{code.name}: {message}")
