"""GET /: the page a browser lands on, and where ikas opens the app with signed parameters (product.md §1.2).

With the signed query parameters (`storeName`, `merchantId`, `authorizedAppId`, `timestamp`,
`signature`) it signs the browser in and redirects to `/` without them, so they never stay in the
address bar or in a bookmark; inside a frame (the ikas admin) it answers the dashboard at once. Signed in, it is
the dashboard (web/static/main.js builds its tabs).
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bridge_gateway.sessions import Clients, Settings, set_session_cookies, signed_in_tenant
from bridge_gateway.web.pages import dashboard_page, message_page, page, paragraphs
from bridge_platform.errors import InvalidInput, Unauthenticated

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
        if request.headers.get("sec-fetch-dest") == "iframe":
            # Inside the ikas admin the browser may refuse the cookie of a site framed in another (third-party
            # cookies), so the redirect would land signed out: the dashboard is answered at once, and its API calls
            # carry the App Bridge token (api.js). No address bar shows the parameters in a frame.
            response: Response = dashboard_page(session.tenant.store_name)
        else:
            response = RedirectResponse("/", status_code=303)
        set_session_cookies(response, session, settings)
        return response
    tenant = signed_in_tenant(request, clients)
    if tenant is None:
        return page("Bridge", paragraphs("Nobody is signed in.", "Open Bridge from your ikas admin to sign in."))
    return dashboard_page(tenant.store_name)
