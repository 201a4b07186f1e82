"""The ikas sandbox's ASGI app.

URL layout (product code only changes base URLs):
- API base (BRIDGE_IKAS_API_URL = http://host:port): POST /api/v1/admin/graphql, POST /api/admin/oauth/token;
- store base (BRIDGE_IKAS_STORE_URL = http://host:port/stores/{store}): GET|POST /api/admin/oauth/authorize,
  POST /api/admin/oauth/token, and admin pages under /admin/... (authorized-app/{id} after install, product and
  order pages so ikas_url links resolve, invoices/{id}.pdf for getOrderInvoicePdfUrl).
/__admin/ adds to the shared controls: apps, dashboard-launch, orders, order-changes (refunds and cancellations of
an order's lines), stock, tax-settings, local-mode, webhook-deliveries.
Local mode (http://127.0.0.1 / localhost webhook endpoints allowed) is on unless the environment sets
BRIDGE_IKAS_SANDBOX_LOCAL_MODE=0; POST /__admin/local-mode switches it.
"""

from __future__ import annotations

import argparse
import base64
import html
import os
from decimal import Decimal
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from bridge_sandboxes.common import Controls, SandboxMiddleware, Scope, SlidingWindowLimit, admin_router
from bridge_sandboxes.ikas import graphql_api, model, oauth, seed
from bridge_sandboxes.ikas.state import Record, SandboxState, Store
from bridge_sandboxes.ikas.webhooks import WebhookDispatcher

RATE_LIMIT, RATE_WINDOW_S = 50, 10.0  # fact sheet §7: 50 requests per 10 s [?: per store]


class AppRegistration(BaseModel):
    client_id: str
    client_secret: str
    store: str
    authorized_app_id: str | None = None
    scope: str | None = None


class LocalMode(BaseModel):
    enabled: bool


class GlobalTaxSwitch(BaseModel):
    """The store's GlobalTaxSettings flags (fact sheet §4.6): net prices when isTaxExcludedOnPrices is true."""

    store: str
    isTaxExcludedOnPrices: bool  # noqa: N815 (ikas's field names)
    isTaxExcludedOnShippingPrices: bool | None = None  # noqa: N815 (None leaves it as it is)


class StockChange(BaseModel):
    store: str
    stockCount: float  # noqa: N815 (ikas's field names)
    sku: str | None = None
    variantId: str | None = None  # noqa: N815
    stockLocationId: str | None = None  # noqa: N815 (default: the store's first location)


def _plain(value: Any) -> Any:
    """State as JSON for /__admin/state: Decimals as strings, tuple keys joined."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {("|".join(k) if isinstance(k, tuple) else k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def build(arguments: argparse.Namespace | None = None) -> FastAPI:
    """The app; `arguments.seed` == "demo" (the default) loads the demo stores."""
    controls = Controls(limit=SlidingWindowLimit(RATE_LIMIT, RATE_WINDOW_S))
    state = SandboxState(controls.clock)
    state.local_mode = os.environ.get("BRIDGE_IKAS_SANDBOX_LOCAL_MODE", "1") != "0"
    dispatcher = WebhookDispatcher(state)
    seed_name = getattr(arguments, "seed", "demo") if arguments is not None else "demo"

    def load_seed(name: str) -> dict[str, Any]:
        return seed.seed_demo(state) if name == "demo" else {"stores": []}

    def reset() -> None:
        state.reset()
        load_seed(seed_name)

    def seed_body(body: dict[str, Any]) -> Any:
        """{"preset": "demo"} loads the demo stores again; {"stores": ["s1", ...]} adds empty stores."""
        result: dict[str, Any] = {}
        if body.get("preset") == "demo":
            result = load_seed("demo")
        with state.lock:
            for name in body.get("stores", []):
                if name not in state.stores:
                    seed.create_store(state, name)
            result["stores"] = sorted(state.stores)
        return result

    def dump_state() -> Any:
        with state.lock:
            return {
                "local_mode": state.local_mode,
                "apps": [vars(i) for i in state.installations.values()],
                "stores": {
                    name: _plain(
                        {
                            "merchant_id": s.merchant_id,
                            "products": list(s.products.values()),
                            "stocks": list(s.stocks.values()),
                            "orders": list(s.orders.values()),
                            "webhooks": list(s.webhooks.values()),
                            "timeline": s.timeline,
                            "tags": list(s.tags.values()),
                            "stock_locations": list(s.stock_locations.values()),
                        }
                    )
                    for name, s in state.stores.items()
                },
            }

    load_seed(seed_name)
    app = FastAPI(title="ikas sandbox", docs_url=None, redoc_url=None)
    app.state.sandbox = state
    app.state.dispatcher = dispatcher
    app.state.controls = controls
    app.include_router(admin_router(controls, reset=reset, seed=seed_body, state=dump_state))
    app.include_router(oauth.router(state))

    def store_or_404(name: str) -> Store:
        store = state.store(name)
        if store is None:
            raise HTTPException(404, f"no store {name!r}")
        return store

    @app.post("/api/v1/admin/graphql")
    async def graphql(request: Request) -> Response:
        return await graphql_api.handle(request, state, dispatcher.emit)

    # ------------------------------------------------------------ /__admin/ additions

    @app.post("/__admin/apps")
    def register_app(body: AppRegistration) -> dict[str, Any]:
        store_or_404(body.store)
        installation = state.register_app(
            body.client_id, body.client_secret, body.store, body.authorized_app_id, body.scope
        )
        return vars(installation)

    @app.get("/__admin/apps")
    def list_apps() -> list[dict[str, Any]]:
        with state.lock:
            return [vars(i) for i in state.installations.values()]

    @app.get("/__admin/issued-secrets")
    def issued_secrets() -> dict[str, list[str]]:
        """Every token and client secret this sandbox has handed out, for tests that look for leaks."""
        with state.lock:
            return {
                "access_tokens": sorted(state.access_tokens),
                "refresh_tokens": sorted(state.refresh_tokens),
                "client_secrets": sorted({i.client_secret for i in state.installations.values()}),
            }

    @app.get("/__admin/dashboard-launch")
    def dashboard_launch(store: str, client_id: str = seed.DEMO_CLIENT_ID) -> dict[str, Any]:
        """What ikas gives the app when the merchant opens it: signed query parameters and the App Bridge JWT."""
        shop = store_or_404(store)
        installation = state.installation(client_id, store)
        if installation is None:
            raise HTTPException(404, f"app {client_id!r} is not installed in {store!r}")
        now_ms = state.now_ms()
        params = oauth.signed_dashboard_params(installation, shop.merchant_id, now_ms)
        from urllib.parse import urlencode

        return {
            "params": params,
            "query": urlencode(params),
            "jwt": oauth.dashboard_jwt(installation, shop.merchant_id, now_ms // 1000),
            "merchantId": shop.merchant_id,
            "authorizedAppId": installation.authorized_app_id,
        }

    @app.post("/__admin/orders")
    def upsert_order(body: dict[str, Any]) -> Any:
        """Add an order from a compact spec (see model.build_order) or change one ({"id", fields...});
        fires store/order/created|updated."""
        shop = store_or_404(body.get("store", "demo"))
        with state.lock:
            try:
                order = model.upsert_order(shop, body, state.now_ms(), dispatcher.emit)
            except model.IkasError as error:
                raise HTTPException(422, str(error)) from error
            return _plain(order)

    @app.post("/__admin/order-changes")
    def change_order(body: dict[str, Any]) -> Any:
        """Refund or cancel some of an order's lines as the merchant would in the ikas admin:
        {"store", "id", "action": "refund"|"cancel", "lines": [{"id", "quantity"?}], "shipping"?, "split"?}
        (see model.change_order_lines). 404 for an unknown order, 422 for a change ikas would refuse; answers the
        whole order and fires store/order/updated."""
        shop = store_or_404(body.get("store", "demo"))
        with state.lock:
            order = shop.orders.get(body.get("id") or "")
            if order is None:
                raise HTTPException(404, f"no order {body.get('id')!r} in {shop.name!r}")
            try:
                changed = model.change_order_lines(shop, order, body, state.now_ms(), dispatcher.emit)
            except model.IkasError as error:
                raise HTTPException(422, str(error)) from error
            return _plain(changed)

    @app.post("/__admin/stock")
    def change_stock(body: StockChange) -> Any:
        """Set one variant's stock at a location as if the merchant did it in the ikas admin."""
        shop = store_or_404(body.store)
        with state.lock:
            for product in shop.products.values():
                for variant in product["variants"]:
                    if variant["id"] == body.variantId or (body.sku and variant["sku"] == body.sku):
                        location = body.stockLocationId or next(iter(shop.stock_locations))
                        row = model.set_stock(
                            shop,
                            product["id"],
                            variant["id"],
                            location,
                            body.stockCount,
                            state.now_ms(),
                            dispatcher.emit,
                        )
                        return _plain(row)
        raise HTTPException(404, "no such variant")

    @app.post("/__admin/tax-settings")
    def switch_tax_settings(body: GlobalTaxSwitch) -> Any:
        """Switch a store between gross (the default) and net prices, as the merchant would in the ikas admin.

        Only what getGlobalTaxSettings answers changes: how ikas prices orders in a net store is not known
        (fact sheet §11.7), so the sandbox's orders stay priced gross."""
        shop = store_or_404(body.store)
        with state.lock:
            settings = shop.global_tax_settings
            settings["isTaxExcludedOnPrices"] = body.isTaxExcludedOnPrices
            if body.isTaxExcludedOnShippingPrices is not None:
                settings["isTaxExcludedOnShippingPrices"] = body.isTaxExcludedOnShippingPrices
            settings["updatedAt"] = state.now_ms()
            return _plain(dict(settings))

    @app.post("/__admin/local-mode")
    def set_local_mode(body: LocalMode) -> dict[str, bool]:
        state.local_mode = body.enabled
        return {"enabled": state.local_mode}

    @app.get("/__admin/webhook-deliveries")
    def webhook_deliveries(wait: bool = False) -> list[dict[str, Any]]:
        if wait:
            dispatcher.wait_idle()
        with state.lock:
            return [vars(d) for d in state.deliveries]

    # ------------------------------------------------------------ the store's admin pages

    @app.get("/stores/{store}/admin/invoices/{invoice_id}.pdf")
    def invoice_pdf(store: str, invoice_id: str) -> Response:
        content = store_or_404(store).invoice_pdfs.get(invoice_id)
        if content is None:
            raise HTTPException(404, "no such invoice file")
        return Response(base64.b64decode(content), media_type="application/pdf")

    @app.get("/stores/{store}/admin/{page:path}")
    def admin_page(store: str, page: str) -> HTMLResponse:
        """Any admin page; ids of products, orders or installed apps in the path are looked up [?: real paths]."""
        shop = store_or_404(store)
        parts = [p for p in page.split("/") if p]
        found = ""
        for part in parts:
            if part in shop.products:
                found = f"<h2>Product</h2><p id='product'>{html.escape(shop.products[part]['name'])}</p>"
            elif part in shop.orders:
                found = f"<h2>Order</h2><p id='order'>#{html.escape(shop.orders[part]['orderNumber'])}</p>"
            elif any(i.authorized_app_id == part and i.store == store for i in state.installations.values()):
                found = f"<h2>Installed app</h2><p id='authorized-app'>{html.escape(part)}</p>"
        return HTMLResponse(
            f"<!doctype html><html><head><meta charset='utf-8'><title>ikas admin: {html.escape(store)}</title></head>"
            f"<body><h1>{html.escape(shop.merchant.get('merchantName') or store)} (ikas sandbox admin)</h1>"
            f"<p>Page: /admin/{html.escape(page)}</p>{found}</body></html>",
            status_code=200 if found or not parts else 404,
        )

    def key_of(scope: Scope) -> str | None:
        """The store a GraphQL request acts for (from its bearer token): the rate-limit and fault key."""
        if scope["path"] != "/api/v1/admin/graphql":
            return None
        headers = dict(scope.get("headers") or [])
        token = graphql_api.bearer_token(headers.get(b"authorization", b"").decode(errors="replace"))
        if token is None:
            return None
        with state.lock:
            grant = state.grant_for(token)
        return grant.store if grant else None

    app.add_middleware(
        SandboxMiddleware,
        controls=controls,
        key_of=key_of,
        too_many_requests=graphql_api.too_many_requests_body,
    )
    return app


def json_record(record: Record) -> Any:
    return _plain(record)
