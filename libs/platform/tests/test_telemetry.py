"""Nothing leaves a process unless OTEL_EXPORTER_OTLP_ENDPOINT is set."""

from __future__ import annotations

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

from bridge_platform.telemetry import tracer_provider_for


def exporters(service: str, endpoint: str | None) -> list[object]:
    provider = tracer_provider_for(service, endpoint)
    processors = provider._active_span_processor._span_processors  # the SDK keeps no public list
    return [getattr(processor, "span_exporter", None) for processor in processors]


def test_without_an_endpoint_nothing_is_exported() -> None:
    assert exporters("bridge-catalog", None) == []


def test_with_an_endpoint_spans_go_to_the_otlp_exporter() -> None:
    [exporter] = exporters("bridge-catalog", "http://collector:4317")

    assert isinstance(exporter, OTLPSpanExporter)


def test_spans_name_their_service() -> None:
    provider = tracer_provider_for("bridge-orders", None)

    assert provider.resource.attributes["service.name"] == "bridge-orders"
