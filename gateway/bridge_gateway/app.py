"""The gateway's FastAPI application: routes, problem answers and tracing, around the given clients."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Final

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.trace import TracerProvider

from bridge_gateway import problems, sessions
from bridge_gateway.api import connection, health, orders, products, sync, webhooks
from bridge_gateway.api import settings as settings_api
from bridge_gateway.clients import GatewayClients
from bridge_gateway.settings import GatewaySettings
from bridge_gateway.web import home, oauth

# Probes would drown the traces (the services filter their health checks the same way).
UNTRACED_URLS: Final = "/healthz$,/readyz$"


def _version() -> str:
    try:
        return version("bridge-gateway")
    except PackageNotFoundError:
        return "0.0.0"


def create_app(
    settings: GatewaySettings, clients: GatewayClients, *, tracer_provider: TracerProvider | None = None
) -> FastAPI:
    """The application; `clients` come from `bootstrap.build` (real gRPC clients, or fakes in tests)."""
    app = FastAPI(
        title="Bridge",
        version=_version(),
        description="The REST API of Bridge, the ikas <-> Fortnox connector.",
        # Swagger UI and ReDoc load their assets from a CDN, and nothing is served from one (product.md §7).
        docs_url=None,
        redoc_url=None,
        # One source of spans: the OpenTelemetry instrumentation below, with the probes left out.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.settings = settings
    app.state.clients = clients
    problems.install(app)
    app.include_router(health.router)
    app.include_router(settings_api.router)
    app.include_router(connection.router)
    app.include_router(products.router)
    app.include_router(orders.router)
    app.include_router(sync.router)
    app.include_router(sessions.api_router)
    app.include_router(webhooks.router)
    app.include_router(sessions.router)
    app.include_router(oauth.router)
    app.include_router(home.router)
    # The dashboard's scripts and stylesheet, served from the package: nothing comes from a CDN (product.md §7).
    app.mount("/static", StaticFiles(packages=[("bridge_gateway.web", "static")]), name="static")
    FastAPIInstrumentor.instrument_app(app, tracer_provider=tracer_provider, excluded_urls=UNTRACED_URLS)
    return app
