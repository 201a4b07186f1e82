"""The Fortnox sandbox as an ASGI app: OAuth, /3/ and /api/warehouse routes, the admin API, and the
SandboxMiddleware that applies faults, the rate limit (25 requests per 5 s per tenant, §2) and the call log."""

from __future__ import annotations

from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from bridge_sandboxes.common import ASGIApp, Controls, SandboxMiddleware, SlidingWindowLimit, admin_router
from bridge_sandboxes.fortnox import seed as seeding
from bridge_sandboxes.fortnox.access import tenant_key
from bridge_sandboxes.fortnox.articles import articles_router
from bridge_sandboxes.fortnox.company import company_router
from bridge_sandboxes.fortnox.currencies import currencies_router
from bridge_sandboxes.fortnox.customers import customers_router
from bridge_sandboxes.fortnox.errors import (
    INVALID_PARAMETER,
    FortnoxApiError,
    Unauthorized,
    WarehouseApiError,
    render_fortnox_error,
    render_unauthorized,
    render_warehouse_error,
)
from bridge_sandboxes.fortnox.invoices import invoices_router
from bridge_sandboxes.fortnox.oauth import oauth_admin_router, oauth_router
from bridge_sandboxes.fortnox.orders import orders_router, sales_admin_router
from bridge_sandboxes.fortnox.payments import modes_of_payment_router, payments_router
from bridge_sandboxes.fortnox.prices import prices_router
from bridge_sandboxes.fortnox.state import FortnoxState
from bridge_sandboxes.fortnox.units import units_router
from bridge_sandboxes.fortnox.warehouse import warehouse_admin_router, warehouse_router

RATE_LIMIT, RATE_WINDOW_S = 25, 5.0  # §2: 300/min enforced as a sliding window of 25 per 5 s, per tenant


def too_many_requests() -> bytes:
    # [?] Fortnox documents no 429 body and no Retry-After (§2, §10): an empty JSON object, no extra headers.
    return b"{}"


async def _render_validation_error(request: Request, error: Exception) -> JSONResponse:
    """A malformed path or query value: Fortnox's "invalid parameter" in the shape of the API called."""
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": "invalid", "message": str(error), "id": "sandbox"}, status_code=400)
    body = {"ErrorInformation": {"error": 1, "message": "Ogiltig parameter i anropet.", "code": INVALID_PARAMETER}}
    return JSONResponse(body, status_code=400)


def create_app(state: FortnoxState | None = None) -> ASGIApp:
    state = state or FortnoxState(controls=Controls())
    controls = state.controls
    controls.limit = SlidingWindowLimit(RATE_LIMIT, RATE_WINDOW_S)

    def reset() -> None:
        state.clear()
        if controls.limit is not None:
            controls.limit.configure(RATE_LIMIT, RATE_WINDOW_S)

    def seed(body: dict[str, Any]) -> Any:
        return seeding.seed(state, body)

    app = FastAPI(title="Fortnox sandbox", docs_url="/__admin/docs", openapi_url="/__admin/openapi.json")
    app.state.fortnox = state
    app.add_exception_handler(FortnoxApiError, render_fortnox_error)
    app.add_exception_handler(WarehouseApiError, render_warehouse_error)
    app.add_exception_handler(Unauthorized, render_unauthorized)
    app.add_exception_handler(RequestValidationError, _render_validation_error)

    app.include_router(admin_router(controls, reset=reset, seed=seed, state=lambda: seeding.dump(state)))
    app.include_router(oauth_admin_router(state))
    app.include_router(warehouse_admin_router(state))
    app.include_router(oauth_router())
    app.include_router(company_router())
    app.include_router(articles_router())
    app.include_router(prices_router())
    app.include_router(units_router())
    app.include_router(currencies_router())
    app.include_router(warehouse_router())

    # sales documents:
    app.include_router(sales_admin_router(state))
    app.include_router(customers_router())
    app.include_router(orders_router())
    app.include_router(invoices_router())
    app.include_router(payments_router())
    app.include_router(modes_of_payment_router())

    return SandboxMiddleware(
        cast(ASGIApp, app), controls, key_of=tenant_key(state), too_many_requests=too_many_requests
    )
