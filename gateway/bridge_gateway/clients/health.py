"""The standard gRPC health check, as the readiness probe asks it of each service."""

from __future__ import annotations

from typing import Final

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

HEALTH_TIMEOUT_S: Final = 2.0


def is_serving(channel: grpc.Channel, service_name: str, *, timeout_s: float = HEALTH_TIMEOUT_S) -> bool:
    """True when the service behind `channel` answers SERVING for `service_name` within the deadline."""
    try:
        response = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service_name), timeout=timeout_s
        )
    except grpc.RpcError:
        return False
    return bool(response.status == health_pb2.HealthCheckResponse.SERVING)
