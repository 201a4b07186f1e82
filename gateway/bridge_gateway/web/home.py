"""GET /: the page a browser lands on, and where ikas opens the app with signed parameters (product.md §1.2).

With the signed query parameters (`storeName`, `merchantId`, `authorizedAppId`, `timestamp`,
`signature`) it signs the browser in and redirects to `/` without them, so they never stay in the
address bar or in a bookmark. Until the dashboard issue, the page shows the store and its connections.
"""

from __future__ import annotations

import html
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bridge_gateway.clients import GatewayClients
from bridge_gateway.models import Connection, Tenant
from bridge_gateway.sessions import Clients, Settings, set_session_cookies, signed_in_tenant
from bridge_gateway.web.pages import message_page, page, paragraphs
from bridge_platform.errors import DomainError, InvalidInput, Unauthenticated

router = APIRouter(include_in_schema=False)

SIGNED_PARAMETERS: Final = ("storeName", "merchantId", "authorizedAppId", "timestamp", "signature")
_FORTNOX_STATUS: Final = {
    "connected": "connected",
    "disconnected": "not connected",
    "needs_reauth": "needs to be authorized again",
}


@router.get("/", response_class=HTMLResponse)
def home(request: Request, settings: Settings, clients: Clients) -> Response:
    query = request.query_params
    if any(name in query for name in SIGNED_PARAMETERS):
        try:
            session = clients.auth.open_session_from_signed_parameters(
                store_name=query.get("storeName", ""),
                merchant_id=query.get("merchantId", ""),
                authorized_app_id=query.get("authorizedAppId", ""),
                timestamp=query.get("timestamp", ""),
                signature=query.get("signature", ""),
            )
        except (Unauthenticated, InvalidInput):
            return message_page(
                "Sign-in failed",
                "The sign-in link from ikas is not valid or has expired.",
                "Open Bridge again from your ikas admin (My Apps).",
                status_code=401,
            )
        response = RedirectResponse("/", status_code=303)
        set_session_cookies(response, session, settings)
        return response
    tenant = signed_in_tenant(request, clients)
    if tenant is None:
        return page("Bridge", paragraphs("Nobody is signed in.", "Open Bridge from your ikas admin to sign in."))
    return page("Bridge", _signed_in(tenant, _connection(clients, tenant)))


def _connection(clients: GatewayClients, tenant: Tenant) -> Connection | None:
    try:
        return clients.auth.get_connection(tenant.id)
    except DomainError:
        return None  # the page still shows who is signed in


def _signed_in(tenant: Tenant, connection: Connection | None) -> str:
    parts = [f"<p>Signed in to the store <strong>{html.escape(tenant.store_name)}</strong>.</p>"]
    if connection is not None:
        fortnox = connection.fortnox
        status = _FORTNOX_STATUS[fortnox.status]
        company = f" ({html.escape(fortnox.company_name)})" if fortnox.company_name else ""
        parts.append(f"<p>Fortnox: <span id='fortnox-status'>{html.escape(status)}</span>{company}.</p>")
    parts.append(
        "<p>The dashboard arrives with a later issue; the REST API is described by "
        "<a href='/openapi.json'>/openapi.json</a>.</p>"
    )
    return "".join(parts)
