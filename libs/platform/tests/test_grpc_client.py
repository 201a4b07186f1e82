"""Client channels between services: retries on UNAVAILABLE only, and a deadline on every call."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2

from bridge_platform.grpc_client import grpc_channel
from bridge_platform.grpc_server import create_server

TOKEN = "token-for-tests"


class Flaky:
    """Answers `failures` times with `code`, then SERVING; counts every call it sees."""

    def __init__(self) -> None:
        self.failures, self.code, self.delay_s, self.calls = 0, grpc.StatusCode.UNAVAILABLE, 0.0, 0
        self.metadata: dict[str, str] = {}
        self._lock = threading.Lock()

    def check(self, request: Any, context: grpc.ServicerContext) -> health_pb2.HealthCheckResponse:
        with self._lock:
            self.calls += 1
            failing = self.calls <= self.failures
        self.metadata = dict(context.invocation_metadata())
        time.sleep(self.delay_s)
        if failing:
            context.abort(self.code, "not now")
        return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)


@pytest.fixture
def flaky() -> Flaky:
    return Flaky()


@pytest.fixture
def address(flaky: Flaky) -> Iterator[str]:
    def register(server: grpc.Server) -> list[str]:
        handler = grpc.unary_unary_rpc_method_handler(
            flaky.check,
            request_deserializer=health_pb2.HealthCheckRequest.FromString,
            response_serializer=health_pb2.HealthCheckResponse.SerializeToString,
        )
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Flaky", {"Check": handler}),))
        return []

    server, port = create_server("127.0.0.1:0", register, service_token=TOKEN)
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop(0)


def call(address: str, timeout_s: float = 10.0) -> health_pb2.HealthCheckResponse:
    check = grpc_channel(address, service_token=TOKEN, default_timeout_s=timeout_s).unary_unary(
        "/test.Flaky/Check",
        request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
        response_deserializer=health_pb2.HealthCheckResponse.FromString,
    )
    response: health_pb2.HealthCheckResponse = check(health_pb2.HealthCheckRequest())
    return response


def test_unavailable_is_retried_until_the_callee_answers(address: str, flaky: Flaky) -> None:
    flaky.failures = 2

    assert call(address).status == health_pb2.HealthCheckResponse.SERVING
    assert flaky.calls == 3


def test_other_failures_are_not_retried(address: str, flaky: Flaky) -> None:
    flaky.failures, flaky.code = 5, grpc.StatusCode.INVALID_ARGUMENT

    with pytest.raises(grpc.RpcError) as failed:
        call(address)

    assert failed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert flaky.calls == 1


def test_retries_are_bounded(address: str, flaky: Flaky) -> None:
    flaky.failures = 100

    with pytest.raises(grpc.RpcError) as failed:
        call(address)

    assert failed.value.code() == grpc.StatusCode.UNAVAILABLE
    assert flaky.calls == 4


def test_every_call_has_a_deadline(address: str, flaky: Flaky) -> None:
    flaky.delay_s = 2.0

    with pytest.raises(grpc.RpcError) as failed:
        call(address, timeout_s=0.3)

    assert failed.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


def test_calls_carry_the_service_credential_and_trace_context(address: str, flaky: Flaky, finished_spans: Any) -> None:
    call(address)

    assert flaky.metadata["authorization"] == f"Bearer {TOKEN}"
    assert "traceparent" in flaky.metadata
