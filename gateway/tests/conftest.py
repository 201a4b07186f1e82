"""Fakes for the gateway's tests: in-memory services with behaviour, not mocks, and clients over the app."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from bridge_gateway.app import create_app
from bridge_gateway.bootstrap import build
from bridge_gateway.models import (
    CatalogSettings,
    Connection,
    FortnoxConnected,
    FortnoxConnection,
    IkasConnection,
    InstallResult,
    InvoiceEmail,
    InvoicePdf,
    LineStatus,
    LineTimelineEntry,
    Order,
    OrderDetail,
    OrderPage,
    OrderSettings,
    OrderStatus,
    PageRequest,
    ProductLine,
    ProductLineDetail,
    ProductLinePage,
    ResolvedSession,
    Run,
    RunCounts,
    RunPage,
    RunProgress,
    Session,
    StockLocation,
    Tenant,
    WebhookResult,
)
from bridge_gateway.settings import GatewaySettings
from bridge_platform.errors import (
    Conflict,
    FieldViolation,
    InvalidInput,
    NotFound,
    Unauthenticated,
    UpstreamRejected,
)
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
    """The auth service in memory: tenants by store name, sessions, dashboard tokens, installs, Fortnox
    consents and webhooks, with the same answers as the real one (Unauthenticated, InvalidInput, Conflict)."""

    SECRET = b"fake-client-secret"

    def __init__(self) -> None:
        self.tenants: dict[str, Tenant] = {}
        self.sessions: dict[str, tuple[str, str]] = {}  # session token -> (store name, CSRF token)
        self.dashboard_tokens: dict[str, str] = {}  # token -> store name
        self.install_states: dict[str, str] = {}  # state -> store name
        self.install_codes: dict[str, str] = {}  # code -> store name
        self.fortnox_states: dict[str, str] = {}  # state -> tenant id
        self.fortnox: dict[str, FortnoxConnection] = {}  # tenant id -> connection
        self.webhook_ids: set[str] = set()
        self.closed: list[str] = []
        self.redirect_uris: list[str] = []
        self.serving = True
        self.error: Exception | None = None

    # ---- helpers for tests

    @staticmethod
    def sign(*parts: str) -> str:
        return hmac.new(FakeAuth.SECRET, "".join(parts).encode(), hashlib.sha256).hexdigest()

    def signed_parameters(self, store_name: str, *, timestamp: str = "1700000000000") -> dict[str, str]:
        merchant_id = f"m_{store_name}"
        return {
            "storeName": store_name,
            "merchantId": merchant_id,
            "authorizedAppId": f"app_{store_name}",
            "timestamp": timestamp,
            "signature": self.sign(store_name, merchant_id, timestamp),
        }

    def dashboard_token(self, store_name: str) -> str:
        token = f"jwt.{store_name}.{len(self.dashboard_tokens)}"
        self.dashboard_tokens[token] = store_name
        return token

    def _fail_if_asked(self) -> None:
        if self.error is not None:
            raise self.error

    def _tenant(self, store_name: str) -> Tenant:
        if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", store_name):
            raise InvalidInput(
                "the store name is invalid", [FieldViolation("store_name", "invalid_store_name", "bad name")]
            )
        return self.tenants.setdefault(
            store_name,
            Tenant(
                id=f"t_{store_name}",
                store_name=store_name,
                merchant_id=f"m_{store_name}",
                authorized_app_id=f"app_{store_name}",
            ),
        )

    def _open(self, store_name: str) -> Session:
        tenant = self._tenant(store_name)
        token, csrf = f"session-{len(self.sessions)}-{store_name}", f"csrf-{len(self.sessions)}-{store_name}"
        self.sessions[token] = (store_name, csrf)
        return Session(token=token, csrf_token=csrf, expires_at=datetime.now(UTC) + timedelta(hours=8), tenant=tenant)

    # ---- tenants

    def get_tenant(self, tenant_id: str) -> Tenant:
        self._fail_if_asked()
        for tenant in self.tenants.values():
            if tenant.id == tenant_id:
                return tenant
        raise NotFound("no such tenant")

    def ensure_development_tenant(self, store_name: str) -> Tenant:
        self._fail_if_asked()
        return self._tenant(store_name)

    def list_tenants(self) -> list[Tenant]:
        self._fail_if_asked()
        return list(self.tenants.values())

    # ---- installs and webhooks

    def begin_ikas_install(self, store_name: str, redirect_uri: str) -> str:
        self._fail_if_asked()
        self._tenant(store_name)
        self.redirect_uris.append(redirect_uri)
        state = f"install-state-{len(self.install_states)}"
        self.install_states[state] = store_name
        code = f"code-{state}"
        self.install_codes[code] = store_name
        return f"https://{store_name}.ikas.test/authorize?state={state}&code_hint={code}"

    def complete_ikas_install(
        self, *, code: str, store_name: str, signature: str, state: str | None, redirect_uri: str
    ) -> InstallResult:
        self._fail_if_asked()
        self.redirect_uris.append(redirect_uri)
        if not hmac.compare_digest(signature, self.sign(code)):
            raise Unauthenticated("the signature does not match")
        if state is not None and self.install_states.pop(state, None) != store_name:
            raise Unauthenticated("the state is unknown")
        if self.install_codes.pop(code, None) != store_name:
            raise UpstreamRejected("ikas", "invalid_grant")
        return InstallResult(session=self._open(store_name), webhook_warning="")

    def handle_ikas_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookResult:
        self._fail_if_asked()
        try:
            delivery = json.loads(body)
            webhook_id, data, signature = delivery["id"], delivery["data"], delivery["signature"]
        except (ValueError, KeyError, TypeError):
            raise Unauthenticated("the delivery carries no valid signature") from None
        if not isinstance(data, str) or not hmac.compare_digest(str(signature), self.sign(data)):
            raise Unauthenticated("the signature does not match")
        if webhook_id in self.webhook_ids:
            return WebhookResult(outcome="duplicate", tenant_id="", scope=str(delivery.get("scope", "")))
        self.webhook_ids.add(webhook_id)
        scope = str(delivery.get("scope", ""))
        # Like the real service: the tenant by the delivery's merchant, the entity by the id in its data.
        tenant = next((t for t in self.tenants.values() if t.merchant_id == delivery.get("merchantId")), None)
        try:
            entity_id = str(json.loads(data).get("id", ""))
        except (ValueError, AttributeError):
            entity_id = ""
        return WebhookResult(
            outcome="accepted" if scope.startswith("store/") else "ignored",
            tenant_id=tenant.id if tenant else "",
            scope=scope,
            entity_id=entity_id,
        )

    # ---- sessions

    def open_session_from_signed_parameters(
        self, *, store_name: str, merchant_id: str, authorized_app_id: str, timestamp: str, signature: str
    ) -> Session:
        self._fail_if_asked()
        if not hmac.compare_digest(signature, self.sign(store_name, merchant_id, timestamp)):
            raise Unauthenticated("the signature does not match")
        if timestamp == "0":
            raise Unauthenticated("the parameters have expired")
        return self._open(store_name)

    def open_development_session(self, store_name: str) -> Session:
        self._fail_if_asked()
        return self._open(store_name)

    def resolve_session(self, session_token: str) -> ResolvedSession:
        self._fail_if_asked()
        if session_token not in self.sessions:
            raise Unauthenticated("the session is unknown or has expired")
        store_name, csrf = self.sessions[session_token]
        return ResolvedSession(tenant=self.tenants[store_name], csrf_token=csrf)

    def resolve_dashboard_token(self, token: str) -> Tenant:
        self._fail_if_asked()
        if token not in self.dashboard_tokens:
            raise Unauthenticated("the dashboard token does not verify")
        return self._tenant(self.dashboard_tokens[token])

    def close_session(self, session_token: str) -> None:
        self._fail_if_asked()
        self.sessions.pop(session_token, None)
        self.closed.append(session_token)

    # ---- connections

    def get_connection(self, tenant_id: str) -> Connection:
        tenant = self.get_tenant(tenant_id)
        fortnox = self.fortnox.get(tenant_id) or FortnoxConnection(
            status="disconnected",
            company_name=None,
            organisation_number=None,
            scopes=[],
            connected_at=None,
            warehouse_module=None,
        )
        ikas = IkasConnection(
            store_name=tenant.store_name, merchant_id=tenant.merchant_id, status="connected", webhook_warning=None
        )
        return Connection(ikas=ikas, fortnox=fortnox)

    def begin_fortnox_connect(self, tenant_id: str, redirect_uri: str) -> str:
        self._fail_if_asked()
        self.redirect_uris.append(redirect_uri)
        state = f"fortnox-state-{len(self.fortnox_states)}"
        self.fortnox_states[state] = tenant_id
        return f"https://apps.fortnox.test/oauth-v1/auth?state={state}"

    def complete_fortnox_connect(self, *, state: str, code: str, error: str, redirect_uri: str) -> FortnoxConnected:
        self._fail_if_asked()
        self.redirect_uris.append(redirect_uri)
        tenant_id = self.fortnox_states.pop(state, None)
        if tenant_id is None:
            raise InvalidInput("the state is unknown, used or expired")
        if error:
            raise Conflict("the merchant declined the consent")
        if code == "other-company":
            raise Conflict("Andra AB is not the company the relations belong to")
        connection = FortnoxConnection(
            status="connected",
            company_name="Demo AB",
            organisation_number="556677-8899",
            scopes=["article", "companyinformation"],
            connected_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
            warehouse_module=True,
        )
        self.fortnox[tenant_id] = connection
        return FortnoxConnected(tenant_id=tenant_id, fortnox=connection)

    def disconnect_fortnox(self, tenant_id: str) -> None:
        self._fail_if_asked()
        if tenant_id in self.fortnox:
            self.fortnox[tenant_id] = self.fortnox[tenant_id].model_copy(
                update={"status": "disconnected", "connected_at": None}
            )

    def forget_fortnox_company(self, tenant_id: str) -> None:
        self._fail_if_asked()
        self.fortnox.pop(tenant_id, None)

    def is_serving(self) -> bool:
        return self.serving


class FakeCatalog:
    """The catalog service in memory: the settings part, product lines, stock locations and runs per tenant.

    Settings can be refused, conflict or fail a write; runs conflict like the real service (one going run
    per tenant and scope, Conflict with `run_id`); every id belongs to one tenant (NotFound for others)."""

    def __init__(self) -> None:
        self.stored: dict[str, CatalogSettings] = {}
        self.updates: list[tuple[str, CatalogSettings, bool]] = []
        self.violations: list[FieldViolation] = []
        self.update_errors: list[Exception | None] = []  # the outcomes of the next updates: None succeeds
        self.get_error: Exception | None = None
        self.serving = True
        self.lines: dict[str, list[ProductLine]] = {}  # tenant id -> lines, sorted by name then variant
        self.timelines: dict[str, list[LineTimelineEntry]] = {}  # line id -> its attempts, oldest first
        self.locations: dict[str, list[StockLocation]] = {}
        self.runs: dict[str, list[Run]] = {}  # tenant id -> runs, oldest first
        self.last_product_sync_at: datetime | None = None
        self.last_stock_sync_at: datetime | None = None
        self.line_requests: list[tuple[str, PageRequest, str, LineStatus | None]] = []
        self.actions: list[tuple[str, str, str]] = []  # (action, tenant id, line id)
        self.started: list[tuple[str, str, str]] = []  # (tenant id, scope, trigger)
        self.wake_ups: list[tuple[str, str]] = []  # (tenant id, scope) of every webhook wake-up
        self.follow_ups: set[str] = set()  # ids of running runs that one more run is to follow
        self.error: Exception | None = None  # raised by every line, location and run call when set

    # ---- settings

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

    # ---- helpers for tests

    def add_line(self, tenant_id: str, name: str, **fields: Any) -> ProductLine:
        """Adds a related, synced line (fields override) and keeps the tenant's lines sorted."""
        number = sum(len(lines) for lines in self.lines.values()) + 1
        values: dict[str, Any] = {
            "id": f"line-{number}",
            "ikas_product_id": f"p{number}",
            "ikas_variant_id": f"v{number}",
            "ikas_url": f"https://demo.myikas.com/admin/product/edit/p{number}",
            "name": name,
            "variant_name": None,
            "sku": f"SKU-{number}",
            "fortnox_article_number": f"SKU-{number}",
            "status": "synced",
            "error": None,
            "ikas_stock": "5",
            "fortnox_stock": "5",
            "last_synced_at": datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
            **fields,
        }
        line = ProductLine.model_validate(values)
        lines = self.lines.setdefault(tenant_id, [])
        lines.append(line)
        lines.sort(key=lambda item: (item.name, item.variant_name or ""))
        return line

    def add_run(self, tenant_id: str, scope: str, state: str = "succeeded", **fields: Any) -> Run:
        number = sum(len(runs) for runs in self.runs.values()) + 1
        created_at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC) + timedelta(minutes=number)
        finished = state not in ("queued", "running")
        values: dict[str, Any] = {
            "id": f"run-{number}",
            "scope": scope,
            "state": state,
            "trigger": "on_demand",
            "progress": RunProgress(done=3 if finished else 0, total=3 if finished else None),
            "counts": RunCounts(created=1, updated=1, unchanged=1, failed=0),
            "created_at": created_at,
            "started_at": created_at if state != "queued" else None,
            "finished_at": created_at + timedelta(seconds=30) if finished else None,
            "errors": [],
            "planned": [],
            **fields,
        }
        run = Run.model_validate(values)
        self.runs.setdefault(tenant_id, []).append(run)
        return run

    def _fail_if_asked(self) -> None:
        if self.error is not None:
            raise self.error

    def _line(self, tenant_id: str, line_id: str) -> int:
        for index, line in enumerate(self.lines.get(tenant_id, [])):
            if line.id == line_id:
                return index
        raise NotFound("no such product line")

    def _change(self, action: str, tenant_id: str, line_id: str, **update: Any) -> ProductLine:
        self._fail_if_asked()
        self.actions.append((action, tenant_id, line_id))
        index = self._line(tenant_id, line_id)
        line = self.lines[tenant_id][index].model_copy(update=update)
        self.lines[tenant_id][index] = line
        return line

    # ---- product lines and stock locations

    def list_product_lines(
        self, tenant_id: str, page: PageRequest, *, query: str, status: LineStatus | None
    ) -> ProductLinePage:
        self._fail_if_asked()
        self.line_requests.append((tenant_id, page, query, status))
        found = [
            line
            for line in self.lines.get(tenant_id, [])
            if (status is None or line.status == status)
            and (not query or query.lower() in f"{line.name} {line.sku or ''}".lower())
        ]
        start = (page.page - 1) * page.page_size
        return ProductLinePage(
            items=found[start : start + page.page_size],
            total=len(found),
            page=page.page,
            page_size=page.page_size,
            last_product_sync_at=self.last_product_sync_at,
            last_stock_sync_at=self.last_stock_sync_at,
        )

    def get_product_line(self, tenant_id: str, line_id: str) -> ProductLineDetail:
        self._fail_if_asked()
        index = self._line(tenant_id, line_id)  # NotFound for a line of another tenant
        line = self.lines[tenant_id][index]
        return ProductLineDetail.model_validate({**line.model_dump(), "timeline": self.timelines.get(line_id, [])})

    def unlink_product_line(self, tenant_id: str, line_id: str) -> ProductLine:
        return self._change("unlink", tenant_id, line_id, status="ignored")

    def relink_product_line(self, tenant_id: str, line_id: str) -> ProductLine:
        return self._change("relink", tenant_id, line_id, status="pending")

    def sync_line_stock(self, tenant_id: str, line_id: str) -> ProductLine:
        self._fail_if_asked()
        index = self._line(tenant_id, line_id)
        ikas_stock = self.lines[tenant_id][index].ikas_stock
        return self._change("sync-stock", tenant_id, line_id, fortnox_stock=ikas_stock)

    def export_product_line(self, tenant_id: str, line_id: str) -> ProductLine:
        return self._change("export", tenant_id, line_id, status="synced")

    def list_stock_locations(self, tenant_id: str) -> list[StockLocation]:
        self._fail_if_asked()
        return list(self.locations.get(tenant_id, []))

    # ---- runs

    def start_run(self, tenant_id: str, scope: str, *, trigger: str) -> Run:
        self._fail_if_asked()
        for run in self.runs.get(tenant_id, []):
            if run.scope == scope and run.state in ("queued", "running"):
                raise Conflict(f"a {scope} run is already going", {"run_id": run.id})
        self.started.append((tenant_id, scope, trigger))
        return self.add_run(tenant_id, scope, "queued", trigger=trigger)

    def wake_sync(self, tenant_id: str, scope: str) -> str | None:
        """Like the service: nothing while the scope's automatic sync is off, the run going (marked for one more
        run in `follow_ups`) when there is one, else a queued run with the trigger `webhook`."""
        self._fail_if_asked()
        self.wake_ups.append((tenant_id, scope))
        settings = self.get_settings(tenant_id)
        if not (settings.products if scope == "products" else settings.stock).sync_automatically:
            return None
        for run in self.runs.get(tenant_id, []):
            if run.scope == scope and run.state in ("queued", "running"):
                if run.state == "running":
                    self.follow_ups.add(run.id)
                return run.id
        self.started.append((tenant_id, scope, "webhook"))
        return self.add_run(tenant_id, scope, "queued", trigger="webhook").id

    def list_runs(self, tenant_id: str, page: PageRequest, *, scope: str | None = None) -> RunPage:
        self._fail_if_asked()
        found = [run for run in reversed(self.runs.get(tenant_id, [])) if scope is None or run.scope == scope]
        start = (page.page - 1) * page.page_size
        return RunPage(
            items=found[start : start + page.page_size], total=len(found), page=page.page, page_size=page.page_size
        )

    def get_run(self, tenant_id: str, run_id: str) -> Run:
        self._fail_if_asked()
        for run in self.runs.get(tenant_id, []):
            if run.id == run_id:
                return run
        raise NotFound("no such run")

    def is_serving(self) -> bool:
        return self.serving


class FakeOrders:
    """The orders service in memory: the settings part (sync_from filled in as the service does), order records
    with their actions, order webhooks and order runs, per tenant.

    The actions behave like the real ones where the gateway can tell: never a second Fortnox order, invoice or
    attachment, an invoice only for an order in Fortnox (Conflict otherwise), the e-mail only on request; runs
    conflict like the real service (Conflict with `run_id`); every id belongs to one tenant (NotFound for
    others). `error` makes every order, run and webhook call fail."""

    def __init__(self) -> None:
        self.stored: dict[str, OrderSettings] = {}
        self.updates: list[tuple[str, OrderSettings]] = []
        self.violations: list[FieldViolation] = []
        self.update_error: Exception | None = None
        self.serving = True
        self.orders: dict[str, list[OrderDetail]] = {}  # tenant id -> records
        self.runs: dict[str, list[Run]] = {}  # tenant id -> runs, oldest first
        self.last_order_sync_at: datetime | None = None
        self.order_requests: list[dict[str, Any]] = []
        self.actions: list[tuple[str, str, str]] = []  # (action, tenant id, order id)
        self.emails: list[tuple[str, str]] = []  # (tenant id, invoice number) per e-mail requested
        self.started: list[tuple[str, str, str]] = []  # (tenant id, scope, trigger)
        self.backfills: list[dict[str, Any]] = []
        self.webhooks: list[tuple[str, str, str]] = []  # (tenant id, ikas order id, scope)
        self.run_lists: list[tuple[str, PageRequest, str | None]] = []
        self.pdf = b"%PDF-1.7\n% a fake invoice\n%%EOF\n"
        self.pdf_filename: str | None = None  # the name the service gives; None: invoice-<number>.pdf
        self.error: Exception | None = None

    # ---- settings

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

    # ---- helpers for tests

    def add_order(self, tenant_id: str, number: str, **fields: Any) -> OrderDetail:
        """Adds an outgoing order placed on 2026-03-0<n> (fields override; `timeline` too)."""
        count = sum(len(orders) for orders in self.orders.values()) + 1
        values: dict[str, Any] = {
            "id": f"order-{count}",
            "ikas_order_id": f"ikas-{count}",
            "ikas_order_number": number,
            "ikas_url": f"https://demo.myikas.com/admin/order/detail/ikas-{count}",
            "ordered_at": datetime(2026, 3, 1, 9, 0, tzinfo=UTC) + timedelta(days=count),
            "customer": {"name": f"Customer {number}", "email": f"buyer{number}@example.se"},
            "status": "outgoing",
            "waiting_reason": "waiting for the schedule",
            "error": None,
            "fortnox_state": None,
            "fortnox_order_number": None,
            "fortnox_invoice_number": None,
            "invoice_email": {"state": "not_requested", "at": None},
            "invoice_attached_at": None,
            "ikas_total": {"amount": "149.50", "currency": "SEK"},
            "fortnox_total": None,
            "totals_match": None,
            "totals_explanation": None,
            "edited_after_invoice": False,
            "edit_advice": None,
            "timeline": [],
            **fields,
        }
        order = OrderDetail.model_validate(values)
        self.orders.setdefault(tenant_id, []).append(order)
        return order

    def add_run(self, tenant_id: str, scope: str, state: str = "succeeded", **fields: Any) -> Run:
        number = sum(len(runs) for runs in self.runs.values()) + 1
        created_at = fields.pop("created_at", datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC) + timedelta(minutes=number))
        finished = state not in ("queued", "running")
        values: dict[str, Any] = {
            "id": f"order-run-{number}",
            "scope": scope,
            "state": state,
            "trigger": "on_demand",
            "progress": RunProgress(done=2 if finished else 0, total=2 if finished else None),
            "counts": RunCounts(created=2, updated=0, unchanged=0, failed=0),
            "created_at": created_at,
            "started_at": created_at if state != "queued" else None,
            "finished_at": created_at + timedelta(seconds=10) if finished else None,
            "errors": [],
            "planned": [],
            **fields,
        }
        run = Run.model_validate(values)
        self.runs.setdefault(tenant_id, []).append(run)
        return run

    def order(self, tenant_id: str, order_id: str) -> OrderDetail:
        for order in self.orders.get(tenant_id, []):
            if order.id == order_id:
                return order
        raise NotFound("no such order")

    def _fail_if_asked(self) -> None:
        if self.error is not None:
            raise self.error

    def _change(self, action: str, tenant_id: str, order_id: str, **update: Any) -> Order:
        self.actions.append((action, tenant_id, order_id))
        orders = self.orders[tenant_id]
        index = next(index for index, order in enumerate(orders) if order.id == order_id)
        orders[index] = orders[index].model_copy(update=update)
        return Order.model_validate(orders[index].model_dump(exclude={"timeline"}))

    # ---- orders and their actions

    def list_orders(
        self,
        tenant_id: str,
        page: PageRequest,
        *,
        query: str,
        status: OrderStatus | None,
        ordered_from: datetime | None,
        ordered_to: datetime | None,
    ) -> OrderPage:
        self._fail_if_asked()
        self.order_requests.append(
            {
                "tenant_id": tenant_id,
                "page": page,
                "query": query,
                "status": status,
                "ordered_from": ordered_from,
                "ordered_to": ordered_to,
            }
        )

        def searched(order: OrderDetail) -> str:
            return f"{order.ikas_order_number} {order.customer.name or ''} {order.customer.email or ''}".lower()

        found = sorted(
            (
                order
                for order in self.orders.get(tenant_id, [])
                if (status is None or order.status == status)
                and (not query or query.lower() in searched(order))
                and (ordered_from is None or (order.ordered_at is not None and order.ordered_at >= ordered_from))
                and (ordered_to is None or (order.ordered_at is not None and order.ordered_at < ordered_to))
            ),
            key=lambda order: order.ordered_at or datetime.min.replace(tzinfo=UTC),
            reverse=True,
        )
        start = (page.page - 1) * page.page_size
        return OrderPage(
            items=[
                Order.model_validate(o.model_dump(exclude={"timeline"})) for o in found[start : start + page.page_size]
            ],
            total=len(found),
            page=page.page,
            page_size=page.page_size,
            last_order_sync_at=self.last_order_sync_at,
        )

    def get_order(self, tenant_id: str, order_id: str) -> OrderDetail:
        self._fail_if_asked()
        return self.order(tenant_id, order_id)

    def send_order(self, tenant_id: str, order_id: str) -> Order:
        self._fail_if_asked()
        order = self.order(tenant_id, order_id)
        if order.fortnox_order_number is not None:  # already in Fortnox: never a second order
            return self._change("send", tenant_id, order_id)
        number = str(100 + sum(1 for _, tenant, _ in self.actions if tenant == tenant_id))
        return self._change(
            "send",
            tenant_id,
            order_id,
            status="created",
            waiting_reason=None,
            fortnox_state="order",
            fortnox_order_number=number,
            fortnox_total=order.ikas_total,
            totals_match=True,
        )

    def _invoiced(self, tenant_id: str, order_id: str) -> OrderDetail:
        order = self.order(tenant_id, order_id)
        if order.fortnox_invoice_number is None:
            raise Conflict("the order has no Fortnox invoice yet; create the invoice first")
        return order

    def create_invoice(self, tenant_id: str, order_id: str) -> Order:
        self._fail_if_asked()
        order = self.order(tenant_id, order_id)
        if order.fortnox_order_number is None:
            raise Conflict("the order is not in Fortnox yet; send it first")
        if order.fortnox_invoice_number is not None:
            return self._change("invoice", tenant_id, order_id)
        number = f"9{order.fortnox_order_number}"
        return self._change("invoice", tenant_id, order_id, fortnox_invoice_number=number, fortnox_state="invoiced")

    def attach_invoice_pdf(self, tenant_id: str, order_id: str) -> Order:
        self._fail_if_asked()
        order = self._invoiced(tenant_id, order_id)
        attached_at = order.invoice_attached_at or datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
        return self._change("attach", tenant_id, order_id, invoice_attached_at=attached_at)

    def resend_invoice_email(self, tenant_id: str, order_id: str) -> Order:
        self._fail_if_asked()
        order = self._invoiced(tenant_id, order_id)
        self.emails.append((tenant_id, order.fortnox_invoice_number or ""))
        sent = InvoiceEmail(state="sent", at=datetime(2026, 3, 9, 11, 0, tzinfo=UTC))
        return self._change("email", tenant_id, order_id, invoice_email=sent)

    def get_invoice_pdf(self, tenant_id: str, order_id: str) -> InvoicePdf:
        self._fail_if_asked()
        order = self._invoiced(tenant_id, order_id)
        filename = self.pdf_filename if self.pdf_filename is not None else f"invoice-{order.fortnox_invoice_number}.pdf"
        return InvoicePdf(content=self.pdf, filename=filename)

    def handle_order_webhook(self, tenant_id: str, ikas_order_id: str, scope: str) -> bool:
        self._fail_if_asked()
        self.webhooks.append((tenant_id, ikas_order_id, scope))
        return self.get_settings(tenant_id).sync_automatically

    # ---- runs

    def start_run(self, tenant_id: str, scope: str, *, trigger: str) -> Run:
        self._fail_if_asked()
        for run in self.runs.get(tenant_id, []):
            if run.scope == scope and run.state in ("queued", "running"):
                raise Conflict(f"a {scope} run is already going", {"run_id": run.id})
        self.started.append((tenant_id, scope, trigger))
        return self.add_run(tenant_id, scope, "queued", trigger=trigger)

    def start_backfill(
        self, tenant_id: str, *, ordered_from: datetime, ordered_to: datetime, dry_run: bool, trigger: str
    ) -> Run:
        run = self.start_run(tenant_id, "backfill", trigger=trigger)
        self.backfills.append(
            {"tenant_id": tenant_id, "ordered_from": ordered_from, "ordered_to": ordered_to, "dry_run": dry_run}
        )
        return run

    def list_runs(self, tenant_id: str, page: PageRequest, *, scope: str | None = None) -> RunPage:
        self._fail_if_asked()
        self.run_lists.append((tenant_id, page, scope))
        found = sorted(
            (run for run in self.runs.get(tenant_id, []) if scope is None or run.scope == scope),
            key=lambda run: run.created_at or datetime.min.replace(tzinfo=UTC),
            reverse=True,
        )
        start = (page.page - 1) * page.page_size
        return RunPage(
            items=found[start : start + page.page_size], total=len(found), page=page.page, page_size=page.page_size
        )

    def get_run(self, tenant_id: str, run_id: str) -> Run:
        self._fail_if_asked()
        for run in self.runs.get(tenant_id, []):
            if run.id == run_id:
                return run
        raise NotFound("no such run")

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


def sign_in(client: TestClient, store: str = DEV_STORE) -> TestClient:
    """Signs `client` in through /dev/login (cookies) and makes it echo the CSRF cookie on every request."""
    response = client.get("/dev/login", params={"store": store}, follow_redirects=False)
    assert response.status_code == 303, response.text
    client.cookies.update(response.cookies)
    client.headers["X-Bridge-CSRF"] = response.cookies["bridge_csrf"]
    return client


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """Signed in to the sandbox store `demo` with the session cookie, sending the CSRF header."""
    with TestClient(app, raise_server_exceptions=False) as signed_in:
        yield sign_in(signed_in)


@pytest.fixture
def signer() -> Callable[[TestClient, str], TestClient]:
    """`signer(client, store)` signs a client in to another store (tests cannot import conftest)."""
    return sign_in


@pytest.fixture
def anonymous(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as nobody:
        yield nobody


@pytest.fixture
def production_client(
    production_settings: GatewaySettings, auth: FakeAuth, catalog: FakeCatalog, orders: FakeOrders
) -> Iterator[TestClient]:
    """A production gateway (public URL https://bridge.example.com), nobody signed in."""
    services = build(production_settings, auth=auth, catalog=catalog, orders=orders)
    app = create_app(production_settings, services)
    with TestClient(app, base_url="https://bridge.example.com", raise_server_exceptions=False) as client:
        yield client
