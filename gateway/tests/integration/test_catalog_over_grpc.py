"""The settings round trip through the real catalog service over real gRPC (orders and auth are fakes)."""

from __future__ import annotations

import socket
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from bridge_catalog.adapters.db.repositories import SqlCatalogUnitOfWork
from bridge_catalog.adapters.db.tables import map_tables
from bridge_catalog.bootstrap import MIGRATIONS
from bridge_catalog.bootstrap import build as build_catalog
from bridge_catalog.domain.lines import ProductLine
from bridge_catalog.entrypoints.grpc_servicer import register
from bridge_gateway.app import create_app
from bridge_gateway.bootstrap import build
from bridge_gateway.settings import GatewaySettings
from bridge_platform.db import make_engine, session_factory, upgrade_to_head
from bridge_platform.errors import FieldViolation, UpstreamUnavailable
from bridge_platform.grpc_server import create_server
from bridge_platform.settings import BridgeSettings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

TOKEN = "service-token-for-tests"


@pytest.fixture
def catalog_address(tmp_path: Path) -> Iterator[str]:
    """The catalog service on a fresh SQLite file, listening on a free port."""
    settings = BridgeSettings(data_dir=tmp_path / "catalog")
    upgrade_to_head(MIGRATIONS, settings.catalog_database_url)
    services = build_catalog(settings, with_runs=False)
    server, port = create_server("127.0.0.1:0", partial(register, services), service_token=TOKEN)
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop(0)


def gateway(tmp_path: Path, catalog_address: str, auth: Any, orders: Any, token: str = TOKEN) -> FastAPI:
    settings = GatewaySettings(data_dir=tmp_path, catalog_addr=catalog_address, service_token=SecretStr(token))
    return create_app(settings, build(settings, auth=auth, orders=orders))


@pytest.fixture
def client(tmp_path: Path, catalog_address: str, auth: Any, orders: Any, signer: Any) -> Iterator[TestClient]:
    app = gateway(tmp_path, catalog_address, auth, orders)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield signer(client, "demo")
    app.state.clients.close()


def test_settings_round_trip_through_the_catalog_service(client: TestClient, default_document: Any) -> None:
    document = default_document()
    assert client.get("/api/v1/settings").json() == document
    document["products"].update(sync_mode="ikas_to_fortnox", create_new=True)
    # (A stock location is checked against the ikas store, which this rig has no tokens for: left null.)
    document["stock"].update(sync_automatically=True)

    saved = client.put("/api/v1/settings", json=document)

    assert saved.status_code == 200
    assert saved.json() == document
    read_back = client.get("/api/v1/settings").json()
    assert read_back == document
    assert read_back["stock"]["fortnox_stock_point"] is None  # null stays null through the proto


def test_violations_of_the_catalog_service_and_of_orders_are_merged(
    client: TestClient, orders: Any, default_document: Any
) -> None:
    orders.violations = [FieldViolation("orders.unit_attribute", "required", "is required")]
    document = default_document()
    document["stock"].update(ikas_stock_location_id="  padded", fortnox_stock_point="")

    response = client.put("/api/v1/settings", json=document)

    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("stock.ikas_stock_location_id", "invalid_value"),
        ("stock.fortnox_stock_point", "invalid_value"),
        ("orders.unit_attribute", "required"),
    ]
    assert client.get("/api/v1/settings").json() == default_document()  # nothing written


def test_an_orders_failure_restores_what_the_catalog_service_stored(
    client: TestClient, orders: Any, default_document: Any
) -> None:
    first = default_document()
    first["products"]["create_new"] = True
    assert client.put("/api/v1/settings", json=first).status_code == 200
    second = default_document()
    second["products"]["update_existing"] = True
    orders.update_error = UpstreamUnavailable("service", "orders is restarting")

    response = client.put("/api/v1/settings", json=second)

    assert response.status_code == 503
    assert client.get("/api/v1/settings").json()["products"] == first["products"]


def test_readiness_asks_the_real_health_service(client: TestClient) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["services"]["catalog"] == "serving"


def test_a_refused_service_credential_is_a_500_not_a_401(
    tmp_path: Path, catalog_address: str, auth: Any, orders: Any, signer: Any
) -> None:
    app = gateway(tmp_path, catalog_address, auth, orders, token="not-the-token")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = signer(client, "demo").get("/api/v1/settings")

    assert response.status_code == 500
    assert "credential" not in response.text
    app.state.clients.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_a_catalog_that_is_down_is_503_with_retry_after(tmp_path: Path, auth: Any, orders: Any, signer: Any) -> None:
    nobody = f"127.0.0.1:{free_port()}"
    app = gateway(tmp_path, nobody, auth, orders)

    with TestClient(app, raise_server_exceptions=False) as client:
        response = signer(client, "demo").get("/api/v1/settings")
        ready = client.get("/readyz")

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    assert ready.status_code == 503
    assert ready.json()["services"]["catalog"] == "not_serving"
    app.state.clients.close()


# ---- one product line with its timeline, through the real catalog service


class StoreNames:
    """The auth side the catalog asks for links into the ikas admin (the rest of auth is not needed here)."""

    def forget_fortnox_company(self, tenant_id: str) -> None:
        pass

    def store_name(self, tenant_id: str) -> str:
        return tenant_id.removeprefix("t_")


@pytest.fixture
def lines_client(tmp_path: Path, auth: Any, orders: Any, signer: Any) -> Iterator[tuple[TestClient, str, str]]:
    """The gateway over a real catalog holding one line of the store `demo` with two attempts, and one line of
    another store; yields the client signed in to `demo` and the two line ids."""
    settings = BridgeSettings(data_dir=tmp_path / "catalog")
    upgrade_to_head(MIGRATIONS, settings.catalog_database_url)
    map_tables()
    uow_for = partial(SqlCatalogUnitOfWork, session_factory(make_engine(settings.catalog_database_url)))
    at = datetime(2026, 3, 2, 8, 15, tzinfo=UTC)
    mine = ProductLine("t_demo", "p1", "v1", "Enamel mug", sku="A-1")
    mine.link("A-1")
    mine.log(at, "match", "linked", "the SKU equals the Fortnox article number A-1")
    mine.log(at + timedelta(minutes=5), "unlink", "unlinked", "")
    theirs = ProductLine("t_other", "p1", "v1", "Their mug", sku="B-1")
    theirs.log(at, "match", "linked", "the SKU equals the Fortnox article number B-1")
    for line in (mine, theirs):
        with uow_for(line.tenant_id) as uow:
            uow.lines.add(line)
            uow.commit()
    services = build_catalog(settings, with_runs=False, auth=StoreNames(), ikas=object(), fortnox=object())  # type: ignore[arg-type]
    server, port = create_server("127.0.0.1:0", partial(register, services), service_token=TOKEN)
    server.start()
    app = gateway(tmp_path, f"127.0.0.1:{port}", auth, orders)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield signer(client, "demo"), mine.id, theirs.id
    app.state.clients.close()
    server.stop(0)


def test_one_product_line_comes_with_its_timeline(lines_client: tuple[TestClient, str, str]) -> None:
    client, mine, _ = lines_client

    response = client.get(f"/api/v1/products/{mine}")

    assert response.status_code == 200, response.text
    line = response.json()
    assert (line["name"], line["sku"], line["fortnox_article_number"], line["status"]) == (
        "Enamel mug",
        "A-1",
        "A-1",
        "pending",
    )
    assert line["timeline"] == [
        {
            "at": "2026-03-02T08:15:00Z",
            "step": "match",
            "outcome": "linked",
            "detail": "the SKU equals the Fortnox article number A-1",
        },
        {"at": "2026-03-02T08:20:00Z", "step": "unlink", "outcome": "unlinked", "detail": None},
    ]
    assert "timeline" not in client.get("/api/v1/products").json()["items"][0]


def test_another_stores_product_line_is_404(lines_client: tuple[TestClient, str, str]) -> None:
    client, _, theirs = lines_client

    response = client.get(f"/api/v1/products/{theirs}")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "Their mug" not in response.text
    assert "B-1" not in response.text
