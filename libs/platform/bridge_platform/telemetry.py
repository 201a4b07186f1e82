"""OpenTelemetry for every Bridge process: explicit, and exporting only when configured.

Spans are always created (so traces propagate gateway -> service), but nothing leaves the process
unless OTEL_EXPORTER_OTLP_ENDPOINT is set. `bridge.*` attributes carry ids only: never tokens,
secrets, payloads or personal data.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

import grpc
from opentelemetry import trace
from opentelemetry.instrumentation.grpc import client_interceptor, filters, server_interceptor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

TENANT_ATTRIBUTE: Final = "bridge.tenant_id"
RUN_ATTRIBUTE: Final = "bridge.run_id"


def tracer_provider_for(service_name: str, otlp_endpoint: str | None) -> TracerProvider:
    """A provider that records spans, and exports them only when an OTLP endpoint is configured."""
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint)))
    return provider


def setup_telemetry(service_name: str, otlp_endpoint: str | None) -> TracerProvider:
    """Installs the global tracer provider of this process (once per process, as OpenTelemetry allows)."""
    provider = tracer_provider_for(service_name, otlp_endpoint)
    trace.set_tracer_provider(provider)
    return provider


def grpc_server_tracing(provider: trace.TracerProvider | None = None) -> grpc.ServerInterceptor:
    """Server spans for every RPC but health checks (probes would drown the traces)."""
    return server_interceptor(tracer_provider=provider, filter_=filters.negate(filters.health_check()))


def grpc_client_tracing(provider: trace.TracerProvider | None = None) -> Any:
    return client_interceptor(tracer_provider=provider, filter_=filters.negate(filters.health_check()))


def tag_tenant(tenant_id: str) -> None:
    """Marks the current span with the tenant it serves."""
    trace.get_current_span().set_attribute(TENANT_ATTRIBUTE, tenant_id)


@contextmanager
def span(name: str, **attributes: str) -> Iterator[trace.Span]:
    with trace.get_tracer("bridge").start_as_current_span(name, attributes=attributes) as current:
        yield current
