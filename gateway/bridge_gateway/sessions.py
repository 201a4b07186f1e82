"""Who a request acts for: the tenant comes from the session, never from the body or query (style.md rule 7).

Until the auth issue brings real sessions (signed ikas parameters, dashboard JWT), local mode alone
signs in with a sandbox store name, from the `X-Bridge-Dev-Store` header or the `bridge_dev_store`
cookie that `GET /dev/login` sets. `current_tenant` is the one dependency every tenant-scoped route
uses, so real sessions replace it in this module only.
"""

from __future__ import annotations

from typing import Annotated, Final, cast

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse

from bridge_gateway.clients import GatewayClients
from bridge_gateway.models import Tenant
from bridge_gateway.problems import responses
from bridge_gateway.settings import GatewaySettings
from bridge_platform.errors import FieldViolation, InvalidInput, NotFound, Unauthenticated
from bridge_platform.telemetry import tag_tenant

__all__ = ["DEV_STORE_COOKIE", "DEV_STORE_HEADER", "Tenant", "current_tenant", "router", "signed_in_store"]

DEV_STORE_HEADER: Final = "X-Bridge-Dev-Store"
DEV_STORE_COOKIE: Final = "bridge_dev_store"

router = APIRouter(include_in_schema=False)


def gateway_settings(request: Request) -> GatewaySettings:
    return cast(GatewaySettings, request.app.state.settings)


def gateway_clients(request: Request) -> GatewayClients:
    return cast(GatewayClients, request.app.state.clients)


Settings = Annotated[GatewaySettings, Depends(gateway_settings)]
Clients = Annotated[GatewayClients, Depends(gateway_clients)]


def signed_in_store(request: Request, settings: GatewaySettings) -> str | None:
    """The sandbox store a local-mode request names, if any; always None in production."""
    if not settings.is_local:
        return None
    return request.headers.get(DEV_STORE_HEADER) or request.cookies.get(DEV_STORE_COOKIE) or None


def current_tenant(request: Request, settings: Settings, clients: Clients) -> Tenant:
    """The tenant of the request, or Unauthenticated (401)."""
    store = signed_in_store(request, settings)
    if store is None:
        raise Unauthenticated("sign in to use the API")
    try:
        tenant = clients.auth.ensure_development_tenant(store)
    except InvalidInput:
        raise Unauthenticated("the development store name is not valid") from None
    tag_tenant(tenant.id)
    return tenant


@router.get("/dev/login", responses=responses(404, 422))
def dev_login(
    settings: Settings, clients: Clients, store: Annotated[str | None, Query(description="sandbox store name")] = None
) -> RedirectResponse:
    """Local mode only: signs the browser in to a sandbox store and opens the dashboard."""
    if not settings.is_local:
        raise NotFound("there is no development sign-in outside local mode")
    if not store:
        raise InvalidInput("name the sandbox store", [FieldViolation("store", "required", "Field required")])
    try:
        tenant = clients.auth.ensure_development_tenant(store)
    except InvalidInput as error:
        violations = [FieldViolation("store", v.code, v.message) for v in error.violations]
        raise InvalidInput(error.message, violations) from None
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(DEV_STORE_COOKIE, tenant.store_name, httponly=True, samesite="lax")
    return response
