"""A call through the gateway yields one trace: each service's server span is a child of the gateway's client span.

The gateway and the three services run in this process (so one in-memory exporter sees every
span), but they talk real HTTP-to-app and real gRPC over loopback, so the trace context crosses a
real wire in gRPC metadata.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from opentelemetry.trace import SpanKind

from bridge_auth.bootstrap import MIGRATIONS as AUTH_MIGRATIONS
from bridge_auth.bootstrap import build as build_auth
from bridge_auth.entrypoints.grpc_servicer import register as register_auth
from bridge_catalog.bootstrap import MIGRATIONS as CATALOG_MIGRATIONS
from bridge_catalog.bootstrap import build as build_catalog
from bridge_catalog.entrypoints.grpc_servicer import register as register_catalog
from bridge_gateway.app import create_app
from bridge_gateway.bootstrap import build as build_gateway
from bridge_gateway.settings import GatewaySettings
from bridge_orders.bootstrap import MIGRATIONS as ORDERS_MIGRATIONS
from bridge_orders.bootstrap import build as build_orders
from bridge_orders.entrypoints.grpc_servicer import register as register_orders
from bridge_platform.db import upgrade_to_head
from bridge_platform.grpc_server import ManagedServer, create_server
from bridge_platform.settings import BridgeSettings
from bridge_platform.telemetry import TENANT_ATTRIBUTE

TOKEN = "token-for-the-trace-test"


@pytest.fixture
def gateway(tmp_path: Path, tracer_provider: Any) -> Iterator[TestClient]:
    base = BridgeSettings(data_dir=tmp_path, service_token=TOKEN)
    for migrations, database_url in [
        (AUTH_MIGRATIONS, base.auth_database_url),
        (CATALOG_MIGRATIONS, base.catalog_database_url),
        (ORDERS_MIGRATIONS, base.orders_database_url),
    ]:
        upgrade_to_head(migrations, database_url)
    registrations = [
        partial(register_auth, build_auth(base)),
        partial(register_catalog, build_catalog(base, with_runs=False)),
        partial(register_orders, build_orders(base, with_runs=False)),
    ]
    servers: list[ManagedServer] = []
    ports: list[int] = []
    for registration in registrations:
        server, port = create_server("127.0.0.1:0", registration, service_token=TOKEN)
        server.start()
        servers.append(server)
        ports.append(port)
    auth_port, catalog_port, orders_port = ports
    settings = GatewaySettings(
        data_dir=tmp_path,
        service_token=TOKEN,
        auth_addr=f"127.0.0.1:{auth_port}",
        catalog_addr=f"127.0.0.1:{catalog_port}",
        orders_addr=f"127.0.0.1:{orders_port}",
    )
    with TestClient(create_app(settings, build_gateway(settings), tracer_provider=tracer_provider)) as client:
        yield client
    for server in servers:
        server.stop(0)


def test_service_server_spans_are_children_of_the_gateways_client_spans(
    gateway: TestClient, finished_spans: Any
) -> None:
    signed_in = gateway.get("/dev/login", params={"store": "demo"}, follow_redirects=False)
    assert signed_in.status_code == 303, signed_in.text
    gateway.cookies.update(signed_in.cookies)
    finished_spans.clear()  # only the spans of the API call below

    response = gateway.get("/api/v1/settings")
    assert response.status_code == 200

    spans = finished_spans.get_finished_spans()
    [http] = [span for span in spans if span.kind is SpanKind.SERVER and span.name.startswith("GET /api/v1/settings")]
    for rpc in (
        "/bridge.auth.v1.SessionService/ResolveSession",
        "/bridge.catalog.v1.CatalogSettingsService/GetCatalogSettings",
        "/bridge.orders.v1.OrderSettingsService/GetOrderSettings",
    ):
        [client] = [span for span in spans if span.kind is SpanKind.CLIENT and span.name == rpc]
        [server] = [span for span in spans if span.kind is SpanKind.SERVER and span.name == rpc]
        assert client.context.trace_id == http.context.trace_id
        assert server.parent is not None
        assert server.parent.span_id == client.context.span_id
        assert server.context.trace_id == http.context.trace_id
        assert server.attributes is not None
        assert server.attributes[TENANT_ATTRIBUTE].startswith("t_")
