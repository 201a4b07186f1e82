"""The one factory for Bridge's gRPC servers (style.md rule 10), and the serve-until-SIGTERM loop."""

from __future__ import annotations

import hmac
import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from bridge_platform.telemetry import grpc_server_tracing

log = logging.getLogger(__name__)

# Probes and tooling must work without the service credential.
_OPEN_SERVICES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


class ManagedServer:
    """A started-or-not gRPC server with its health servicer, stopped gracefully."""

    def __init__(self, server: grpc.Server, health_servicer: health.HealthServicer) -> None:
        self.server, self.health = server, health_servicer

    def start(self) -> None:
        self.server.start()

    def stop(self, grace_s: float = 10.0) -> None:
        """NOT_SERVING first, so load balancers and probes stop sending, then drain for `grace_s`."""
        self.health.enter_graceful_shutdown()
        self.server.stop(grace_s).wait()


def create_server(
    address: str,
    register: Callable[[grpc.Server], list[str]],
    *,
    service_token: str,
    reflect: bool = False,
    interceptors: Sequence[grpc.ServerInterceptor] = (),
    max_workers: int = 16,
) -> tuple[ManagedServer, int]:
    """Builds a server with health, optional reflection, tracing, service auth and logging; returns it and its port."""
    server = grpc.server(
        ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="grpc"),
        interceptors=[
            grpc_server_tracing(),
            ServiceAuthInterceptor(service_token),
            LoggingInterceptor(),
            *interceptors,
        ],
    )
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = register(server)
    for name in ["", *names]:  # "" is what Kubernetes' grpc probe asks for
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    if reflect:
        reflection.enable_server_reflection([*names, health.SERVICE_NAME, reflection.SERVICE_NAME], server)
    port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"cannot listen on {address}")
    return ManagedServer(server, health_servicer), port


def _abort_handler(code: grpc.StatusCode, message: str) -> grpc.RpcMethodHandler:
    def abort(_request: Any, context: grpc.ServicerContext) -> Any:
        context.abort(code, message)

    return grpc.unary_unary_rpc_method_handler(abort)


class ServiceAuthInterceptor(grpc.ServerInterceptor):
    """Admits only callers presenting the shared service credential (`authorization: Bearer ...`)."""

    def __init__(self, token: str) -> None:
        self._expected = f"Bearer {token}".encode()

    def intercept_service(self, continuation: Any, handler_call_details: grpc.HandlerCallDetails) -> Any:
        method = handler_call_details.method
        if method.startswith(_OPEN_SERVICES):
            return continuation(handler_call_details)
        presented = dict(handler_call_details.invocation_metadata or ()).get("authorization", "")
        presented_bytes = presented.encode() if isinstance(presented, str) else bytes(presented)
        if not hmac.compare_digest(presented_bytes, self._expected):
            log.warning("rejected call without a valid service credential", extra={"rpc": method})
            return _abort_handler(grpc.StatusCode.UNAUTHENTICATED, "missing or invalid service credential")
        return continuation(handler_call_details)


class LoggingInterceptor(grpc.ServerInterceptor):
    """One structured log line per RPC: method, outcome, duration. Never the request body."""

    def intercept_service(self, continuation: Any, handler_call_details: grpc.HandlerCallDetails) -> Any:
        handler = continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or handler.unary_unary is None or method.startswith(_OPEN_SERVICES):
            return handler
        inner = handler.unary_unary

        def logged(request: Any, context: grpc.ServicerContext) -> Any:
            started = time.monotonic()
            try:
                return inner(request, context)
            finally:
                code = context.code() if hasattr(context, "code") else None
                log.info(
                    "rpc %s",
                    method,
                    extra={
                        "rpc": method,
                        "code": getattr(code, "name", "OK") if code else "OK",
                        "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    },
                )

        return grpc.unary_unary_rpc_method_handler(
            logged, request_deserializer=handler.request_deserializer, response_serializer=handler.response_serializer
        )


def serve_until_stopped(
    server: ManagedServer, *, on_stop: Callable[[], None] = lambda: None, grace_s: float = 10.0
) -> None:
    """Starts the server and blocks until SIGTERM or SIGINT, then stops gracefully."""
    stopping = threading.Event()

    def request_stop(signum: int, _frame: Any) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    server.start()
    while not stopping.wait(0.5):
        pass
    server.stop(grace_s)
    on_stop()
