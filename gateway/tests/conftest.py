"""Fakes for the gateway's tests: in-memory services with behaviour, not mocks, and clients over the app."""

from __future__ import annotations

import copy
import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from bridge_gateway.app import create_app
from bridge_gateway.bootstrap import build
from bridge_gateway.models import CatalogSettings, OrderSettings, Tenant
from bridge_gateway.settings import GatewaySettings
from bridge_platform.errors import FieldViolation, InvalidInput
from bridge_platform.settings import Mode

with warnings.catch_warnings():
    # Starlette asks for the httpx2 package, which the project does not install; httpx works the same.
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

DEV_STORE = "demo"
DEFAULT_CATALOG: dict[str, Any] = {
    "products": {
        "sync_mode": "fortnox_to_ikas",
        "sync_automatically": False,
        "create_new": False,
        "update_existing": False,
    },
    "stock": {"sync_automatically": False, "ikas_stock_location_id": None, "fortnox_stock_point": None},
}
DEFAULT_ORDERS: dict[str, Any] = {
    "sync_automatically": False,
    "sync_from": None,
    "create_orders": True,
    "create_invoice": False,
    "sync_items_without_relation": False,
    "send_invoice_email": False,
    "unit_source": "base_unit",
    "unit_attribute": None,
    "language": "customer_else_en",
    "shipping": "freight",
    "shipping_article_number": None,
    "sales_accounts": {},
    "send_when": "placed",
    "register_payments": False,
    "modes_of_payment": {},
    "follow_cancellations": True,
    "follow_refunds": True,
}
FILLED_SYNC_FROM = "2026-11-24T12:00:00Z"


@pytest.fixture
def default_document() -> Callable[[], dict[str, Any]]:
    """Makes the settings document of product.md §2 with every default, as JSON (a fresh copy each time)."""
    return lambda: copy.deepcopy({**DEFAULT_CATALOG, "orders": DEFAULT_ORDERS})


class FakeRpcError(grpc.RpcError, grpc.Call):
    """A failed gRPC call as a stub raises it, without rich status details."""

    def __init__(self, code: grpc.StatusCode, details: str = "") -> None:
        super().__init__(details)
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def trailing_metadata(self) -> None:
        return None


class FakeAuth:
    """Development tenants by store name, with the auth service's store-name rule."""

    def __init__(self) -> None:
        self.tenants: dict[str, Tenant] = {}
        self.serving = True
        self.error: Exception | None = None

    def ensure_development_tenant(self, store_name: str) -> Tenant:
        if self.error is not None:
            raise self.error
        if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", store_name):
            raise InvalidInput(
                "the store name is invalid", [FieldViolation("store_name", "invalid_store_name", "bad name")]
            )
        return self.tenants.setdefault(store_name, Tenant(id=f"t_{store_name}", store_name=store_name))

    def is_serving(self) -> bool:
        return self.serving


class FakeCatalog:
    """Stores the catalog part per tenant; can refuse a document, conflict, or fail a write."""

    def __init__(self) -> None:
        self.stored: dict[str, CatalogSettings] = {}
        self.updates: list[tuple[str, CatalogSettings, bool]] = []
        self.violations: list[FieldViolation] = []
        self.update_errors: list[Exception | None] = []  # the outcomes of the next updates: None succeeds
        self.get_error: Exception | None = None
        self.serving = True

    def get_settings(self, tenant_id: str) -> CatalogSettings:
        if self.get_error is not None:
            raise self.get_error
        return self.stored.get(tenant_id) or CatalogSettings.model_validate(DEFAULT_CATALOG)

    def validate_settings(self, tenant_id: str, settings: CatalogSettings) -> None:
        if self.violations:
            raise InvalidInput("the product and stock settings are invalid", self.violations)

    def update_settings(self, tenant_id: str, settings: CatalogSettings, *, confirm_reset: bool) -> CatalogSettings:
        error = self.update_errors.pop(0) if self.update_errors else None
        if error is not None:
            raise error
        self.updates.append((tenant_id, settings, confirm_reset))
        self.stored[tenant_id] = settings
        return settings

    def is_serving(self) -> bool:
        return self.serving


class FakeOrders:
    """Stores the orders part per tenant and fills in sync_from as the orders service does."""

    def __init__(self) -> None:
        self.stored: dict[str, OrderSettings] = {}
        self.updates: list[tuple[str, OrderSettings]] = []
        self.violations: list[FieldViolation] = []
        self.update_error: Exception | None = None
        self.serving = True

    def get_settings(self, tenant_id: str) -> OrderSettings:
        return self.stored.get(tenant_id) or OrderSettings.model_validate(DEFAULT_ORDERS)

    def validate_settings(self, tenant_id: str, settings: OrderSettings) -> None:
        if self.violations:
            raise InvalidInput("the order settings are invalid", self.violations)

    def update_settings(self, tenant_id: str, settings: OrderSettings) -> OrderSettings:
        if self.update_error is not None:
            raise self.update_error
        self.updates.append((tenant_id, settings))
        if settings.sync_automatically and settings.sync_from is None:
            settings = settings.model_copy(update={"sync_from": FILLED_SYNC_FROM})
        self.stored[tenant_id] = settings
        return settings

    def is_serving(self) -> bool:
        return self.serving


@pytest.fixture
def production_settings(tmp_path: Path) -> GatewaySettings:
    """A complete production configuration (nothing in it is reached: the services are fakes)."""
    return GatewaySettings(
        mode=Mode.PRODUCTION,
        data_dir=tmp_path,
        public_url="https://bridge.example.com",
        service_token=SecretStr("service-token-for-tests"),
        vault_key=SecretStr("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="),
        auth_database_url="postgresql://db/auth",
        catalog_database_url="postgresql://db/catalog",
        orders_database_url="postgresql://db/orders",
    )


@pytest.fixture
def rpc_error() -> type[FakeRpcError]:
    return FakeRpcError


@pytest.fixture
def settings(tmp_path: Path) -> GatewaySettings:
    return GatewaySettings(mode=Mode.LOCAL, data_dir=tmp_path)


@pytest.fixture
def auth() -> FakeAuth:
    return FakeAuth()


@pytest.fixture
def catalog() -> FakeCatalog:
    return FakeCatalog()


@pytest.fixture
def orders() -> FakeOrders:
    return FakeOrders()


@pytest.fixture
def app(settings: GatewaySettings, auth: FakeAuth, catalog: FakeCatalog, orders: FakeOrders) -> FastAPI:
    return create_app(settings, build(settings, auth=auth, catalog=catalog, orders=orders))


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """Signed in to the sandbox store `demo` through the development header."""
    with TestClient(app, headers={"X-Bridge-Dev-Store": DEV_STORE}, raise_server_exceptions=False) as signed_in:
        yield signed_in


@pytest.fixture
def anonymous(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as nobody:
        yield nobody


@pytest.fixture
def production_client(
    production_settings: GatewaySettings, auth: FakeAuth, catalog: FakeCatalog, orders: FakeOrders
) -> Iterator[TestClient]:
    """A production gateway, asked with the development header that local mode would accept."""
    services = build(production_settings, auth=auth, catalog=catalog, orders=orders)
    app = create_app(production_settings, services)
    with TestClient(app, headers={"X-Bridge-Dev-Store": DEV_STORE}, raise_server_exceptions=False) as client:
        yield client
