"""The one error table: a domain error raised in a servicer arrives at the caller as the same error."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bridge_platform.errors import (
    Conflict,
    DomainError,
    FieldViolation,
    InvalidInput,
    NotFound,
    UpstreamRejected,
    UpstreamUnavailable,
)
from bridge_platform.grpc_client import grpc_channel
from bridge_platform.grpc_errors import error_from_rpc, maps_errors
from bridge_platform.grpc_server import create_server

TOKEN = "token-for-tests"


class RaisingHealth(health_pb2_grpc.HealthServicer):  # any generated service will do; Health is at hand
    error: Exception = DomainError("unset")

    @maps_errors
    def Check(self, request: Any, context: grpc.ServicerContext) -> Any:
        raise self.error


@pytest.fixture
def address() -> Iterator[str]:
    def register(server: grpc.Server) -> list[str]:
        generic = grpc.method_handlers_generic_handler(
            "test.Raising",
            {
                "Check": grpc.unary_unary_rpc_method_handler(
                    RaisingHealth().Check,
                    request_deserializer=health_pb2.HealthCheckRequest.FromString,
                    response_serializer=health_pb2.HealthCheckResponse.SerializeToString,
                )
            },
        )
        server.add_generic_rpc_handlers((generic,))
        return []

    server, port = create_server("127.0.0.1:0", register, service_token=TOKEN)
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop(0)


def call_raising(address: str, error: Exception) -> DomainError:
    RaisingHealth.error = error
    channel = grpc_channel(address, service_token=TOKEN)
    check = channel.unary_unary(
        "/test.Raising/Check",
        request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
        response_deserializer=health_pb2.HealthCheckResponse.FromString,
    )
    with pytest.raises(grpc.RpcError) as failed:
        check(health_pb2.HealthCheckRequest())
    return error_from_rpc(failed.value)


def test_invalid_input_keeps_every_field_violation(address: str) -> None:
    violations = [
        FieldViolation("orders.language", "invalid_choice", "must be one of ..."),
        FieldViolation("a", "b", "c"),
    ]

    error = call_raising(address, InvalidInput("settings are invalid", violations))

    assert isinstance(error, InvalidInput)
    assert error.violations == violations


def test_conflict_keeps_its_details(address: str) -> None:
    error = call_raising(address, Conflict("a products run is going", {"run_id": "run-7"}))

    assert isinstance(error, Conflict)
    assert (error.message, error.details) == ("a products run is going", {"run_id": "run-7"})


def test_upstream_rejection_keeps_upstream_and_code(address: str) -> None:
    error = call_raising(address, UpstreamRejected("fortnox", "Artikeln hittades inte", upstream_code="2000428"))

    assert isinstance(error, UpstreamRejected)
    assert (error.upstream, error.upstream_code) == ("fortnox", "2000428")


@pytest.mark.parametrize(
    ("raised", "expected"), [(NotFound("no such order"), NotFound), (UpstreamUnavailable("ikas"), UpstreamUnavailable)]
)
def test_other_errors_keep_their_kind(address: str, raised: Exception, expected: type[DomainError]) -> None:
    assert isinstance(call_raising(address, raised), expected)


def test_an_unexpected_error_is_internal_and_never_echoed(address: str) -> None:
    error = call_raising(address, KeyError("password=hunter2"))

    assert type(error) is DomainError
    assert error.message == "INTERNAL: internal error"
