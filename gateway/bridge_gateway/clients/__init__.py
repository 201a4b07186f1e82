"""One typed gRPC client per service, and what the rest of the gateway knows of them: these Protocols.

The API routes depend on the Protocols, so tests hand in fakes through `bootstrap.build(...)`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import grpc

from bridge_gateway.models import (
    CatalogSettings,
    Connection,
    FortnoxConnected,
    InstallResult,
    InvoicePdf,
    LineStatus,
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
    RunPage,
    Session,
    StockLocation,
    Tenant,
    WebhookResult,
)


class AuthService(Protocol):
    """Tenants, installs, sessions and connections (product.md §1). Raises the neutral errors of
    bridge_platform.errors; Unauthenticated always means the user's credential, never the gateway's."""

    def get_tenant(self, tenant_id: str) -> Tenant: ...

    def ensure_development_tenant(self, store_name: str) -> Tenant:
        """Local mode only: the tenant of a sandbox store, created on first use."""
        ...

    def list_tenants(self) -> list[Tenant]:
        """Every installed tenant (all pages)."""
        ...

    def begin_ikas_install(self, store_name: str, redirect_uri: str) -> str:
        """The store's ikas authorize URL, with a signed state."""
        ...

    def complete_ikas_install(
        self, *, code: str, store_name: str, signature: str, state: str | None, redirect_uri: str
    ) -> InstallResult:
        """Unauthenticated for a bad signature or state; the merchant is signed in afterwards."""
        ...

    def handle_ikas_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookResult:
        """Unauthenticated for a bad signature; deduplicated by webhook id."""
        ...

    def open_session_from_signed_parameters(
        self, *, store_name: str, merchant_id: str, authorized_app_id: str, timestamp: str, signature: str
    ) -> Session:
        """Unauthenticated unless the parameters are signed with the client secret and fresh (120 s)."""
        ...

    def open_development_session(self, store_name: str) -> Session:
        """Local mode only: a session for a sandbox store."""
        ...

    def resolve_session(self, session_token: str) -> ResolvedSession:
        """Unauthenticated for an unknown or expired session."""
        ...

    def resolve_dashboard_token(self, token: str) -> Tenant:
        """The tenant of an ikas dashboard JWT; Unauthenticated for any token that does not verify."""
        ...

    def close_session(self, session_token: str) -> None: ...

    def get_connection(self, tenant_id: str) -> Connection: ...

    def begin_fortnox_connect(self, tenant_id: str, redirect_uri: str) -> str:
        """The Fortnox consent URL with a single-use state bound to the tenant."""
        ...

    def complete_fortnox_connect(self, *, state: str, code: str, error: str, redirect_uri: str) -> FortnoxConnected:
        """InvalidInput for an unknown, used or expired state; Conflict for a declined consent or another
        company than the one the relations belong to. Nothing changes then."""
        ...

    def disconnect_fortnox(self, tenant_id: str) -> None: ...

    def forget_fortnox_company(self, tenant_id: str) -> None: ...

    def is_serving(self) -> bool: ...


class CatalogService(Protocol):
    """Product and stock settings, product lines, stock locations and catalog runs of a tenant (product.md
    §2-§4, §6). Raises the neutral errors of bridge_platform.errors; NotFound for an id of another tenant."""

    def get_settings(self, tenant_id: str) -> CatalogSettings: ...

    def validate_settings(self, tenant_id: str, settings: CatalogSettings) -> None:
        """Raises InvalidInput naming every bad field; stores nothing."""
        ...

    def update_settings(self, tenant_id: str, settings: CatalogSettings, *, confirm_reset: bool) -> CatalogSettings:
        """Stores the part and returns it as stored; Conflict for a sync_mode change without confirm_reset."""
        ...

    def list_product_lines(
        self, tenant_id: str, page: PageRequest, *, query: str, status: LineStatus | None
    ) -> ProductLinePage:
        """Lines sorted by name then variant; `query` searches name and SKU ("" for all)."""
        ...

    def get_product_line(self, tenant_id: str, line_id: str) -> ProductLineDetail:
        """One line with its timeline; NotFound for a line of another tenant."""
        ...

    def unlink_product_line(self, tenant_id: str, line_id: str) -> ProductLine:
        """Marks the line ignored: it is never re-matched automatically."""
        ...

    def relink_product_line(self, tenant_id: str, line_id: str) -> ProductLine: ...

    def sync_line_stock(self, tenant_id: str, line_id: str) -> ProductLine: ...

    def export_product_line(self, tenant_id: str, line_id: str) -> ProductLine:
        """Creates or updates the line's target side now, whatever the automatic settings."""
        ...

    def list_stock_locations(self, tenant_id: str) -> list[StockLocation]: ...

    def start_run(self, tenant_id: str, scope: str, *, trigger: str) -> Run:
        """Queues a run of `scope` (products, stock, match, preview or reset); Conflict with `run_id` in its
        details while a run of that tenant and scope is going."""
        ...

    def wake_sync(self, tenant_id: str, scope: str) -> str | None:
        """An ikas product or stock webhook as a wake-up of the `products` or `stock` sync: the id of the run
        queued, or of the run going (one more run then follows it); None when the tenant's automatic sync of
        the scope is off. Never a Conflict; a short deadline, as the webhook's answer waits for it."""
        ...

    def list_runs(self, tenant_id: str, page: PageRequest, *, scope: str | None = None) -> RunPage:
        """Runs newest first, of one scope or all."""
        ...

    def get_run(self, tenant_id: str, run_id: str) -> Run: ...

    def is_serving(self) -> bool: ...


class OrdersService(Protocol):
    """The order settings, order records, their actions and order runs of a tenant (product.md §2, §5, §6).
    Raises the neutral errors of bridge_platform.errors; NotFound for an id of another tenant."""

    def get_settings(self, tenant_id: str) -> OrderSettings: ...

    def validate_settings(self, tenant_id: str, settings: OrderSettings) -> None:
        """Raises InvalidInput naming every bad field; stores nothing."""
        ...

    def update_settings(self, tenant_id: str, settings: OrderSettings) -> OrderSettings:
        """Stores the part and returns it as stored (sync_from may be filled in)."""
        ...

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
        """Orders newest ordered_at first; `query` searches order number, customer name and e-mail ("" for all)."""
        ...

    def get_order(self, tenant_id: str, order_id: str) -> OrderDetail: ...

    def send_order(self, tenant_id: str, order_id: str) -> Order:
        """Sends the order to Fortnox now, whatever sync_from and create_orders say (never twice)."""
        ...

    def create_invoice(self, tenant_id: str, order_id: str) -> Order: ...

    def attach_invoice_pdf(self, tenant_id: str, order_id: str) -> Order: ...

    def resend_invoice_email(self, tenant_id: str, order_id: str) -> Order:
        """The explicit resend: the only way an invoice e-mail is requested again."""
        ...

    def get_invoice_pdf(self, tenant_id: str, order_id: str) -> InvoicePdf: ...

    def handle_order_webhook(self, tenant_id: str, ikas_order_id: str, scope: str) -> bool:
        """A verified, deduplicated order webhook as a wake-up; False when automatic order sync is off."""
        ...

    def start_run(self, tenant_id: str, scope: str, *, trigger: str) -> Run:
        """Queues an orders run; Conflict with `run_id` in its details while one of that tenant is going."""
        ...

    def start_backfill(
        self, tenant_id: str, *, ordered_from: datetime, ordered_to: datetime, dry_run: bool, trigger: str
    ) -> Run:
        """Queues a backfill run of the orders placed in [ordered_from, ordered_to); a dry run writes nothing."""
        ...

    def list_runs(self, tenant_id: str, page: PageRequest, *, scope: str | None = None) -> RunPage:
        """Order runs (orders, backfill) newest first, of one scope or both."""
        ...

    def get_run(self, tenant_id: str, run_id: str) -> Run: ...

    def is_serving(self) -> bool: ...


@dataclass
class GatewayClients:
    """Everything the gateway talks to; `channels` are closed on shutdown."""

    auth: AuthService
    catalog: CatalogService
    orders: OrdersService
    channels: Sequence[grpc.Channel] = field(default_factory=list)

    def close(self) -> None:
        for channel in self.channels:
            channel.close()
