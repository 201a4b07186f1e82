"""The server factory: health for probes, reflection only when asked, NOT_SERVING before a stop."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from bridge_platform.grpc_server import ManagedServer, create_server

SERVICE = "bridge.test.v1.Nothing"


def start(*, reflect: bool) -> tuple[ManagedServer, str]:
    server, port = create_server("127.0.0.1:0", lambda _server: [SERVICE], service_token="t", reflect=reflect)
    server.start()
    return server, f"127.0.0.1:{port}"


def status(address: str, service: str) -> int:
    health = health_pb2_grpc.HealthStub(grpc.insecure_channel(address))
    response = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
    return int(response.status)


def test_health_serves_the_empty_name_and_every_registered_service() -> None:
    server, address = start(reflect=False)
    try:
        assert status(address, "") == health_pb2.HealthCheckResponse.SERVING
        assert status(address, SERVICE) == health_pb2.HealthCheckResponse.SERVING
    finally:
        server.stop(0)


def test_a_stopping_server_says_not_serving_first() -> None:
    server, address = start(reflect=False)
    try:
        server.health.enter_graceful_shutdown()  # what stop() does before draining

        assert status(address, "") == health_pb2.HealthCheckResponse.NOT_SERVING
    finally:
        server.stop(0)


@pytest.mark.parametrize("reflect", [True, False])
def test_reflection_only_when_enabled(reflect: bool) -> None:
    server, address = start(reflect=reflect)
    try:
        database = ProtoReflectionDescriptorDatabase(grpc.insecure_channel(address))
        if reflect:
            assert SERVICE in database.get_services()
        else:
            with pytest.raises(grpc.RpcError):
                database.get_services()
    finally:
        server.stop(0)
