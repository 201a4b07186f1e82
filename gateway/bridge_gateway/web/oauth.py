"""The browser side of the two OAuth flows (product.md §1.1, §1.3): ikas install and Fortnox consent.

The auth service checks everything (signatures, states, codes); these routes pass the query on, set
the session cookies, and answer the browser with a redirect or a page that says plainly what happened.
Redirect URIs are built from BRIDGE_PUBLIC_URL, the address registered with ikas and Fortnox.
"""

from __future__ import annotations

import logging
from typing import Annotated, Final

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bridge_gateway.problems import responses
from bridge_gateway.sessions import Clients, Settings, set_session_cookies
from bridge_gateway.web.pages import message_page, page, paragraphs
from bridge_platform.errors import (
    Conflict,
    FieldViolation,
    InvalidInput,
    Unauthenticated,
    UpstreamRejected,
    UpstreamUnavailable,
)

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

# The dashboard that opened the consent window listens for these (same origin only).
FORTNOX_CONNECTED_MESSAGE: Final = "bridge:fortnox-connected"
FORTNOX_FAILED_MESSAGE: Final = "bridge:fortnox-connect-failed"

_TELL_OPENER: Final = """
const result = document.getElementById("page").dataset;
if (window.opener && !window.opener.closed) {
  window.opener.postMessage({ type: result.message, company_name: result.company || null }, window.location.origin);
}
if (result.close === "yes") { window.setTimeout(() => window.close(), 1500); }
"""


def _unavailable_page() -> HTMLResponse:
    response = message_page(
        "Try again shortly",
        "A service Bridge depends on is not answering right now. Nothing was changed; please try again in a moment.",
        status_code=503,
    )
    response.headers["Retry-After"] = "5"
    return response


@router.get("/ikas/install", responses=responses(422, 503))
def ikas_install(
    settings: Settings,
    clients: Clients,
    store_name: Annotated[str | None, Query(alias="storeName", description="the ikas store")] = None,
) -> RedirectResponse:
    """Starts the ikas install: to the store's authorize page, which comes back to /ikas/callback."""
    if not store_name:
        raise InvalidInput("name the ikas store", [FieldViolation("storeName", "required", "Field required")])
    try:
        authorize_url = clients.auth.begin_ikas_install(store_name, settings.ikas_callback_url)
    except InvalidInput as error:
        violations = [FieldViolation("storeName", v.code, v.message) for v in error.violations]
        raise InvalidInput(error.message, violations) from None
    return RedirectResponse(authorize_url, status_code=302)


@router.get("/ikas/callback", response_class=HTMLResponse)
def ikas_callback(
    settings: Settings,
    clients: Clients,
    code: str = "",
    store_name: Annotated[str, Query(alias="storeName")] = "",
    signature: str = "",
    state: str | None = None,
    error: str = "",
) -> Response:
    """ikas's redirect after the merchant decided: signs the merchant in and opens the dashboard."""
    if error:
        return message_page(
            "Installation cancelled",
            "Bridge was not installed, because the installation was declined in ikas.",
            "You can start it again from the ikas App Store at any time.",
        )
    if not (code and store_name and signature):
        return message_page(
            "Installation failed",
            "This link is incomplete. Start the installation again from ikas.",
            status_code=400,
        )
    try:
        result = clients.auth.complete_ikas_install(
            code=code,
            store_name=store_name,
            signature=signature,
            state=state,
            redirect_uri=settings.ikas_callback_url,
        )
    except Unauthenticated:
        return message_page(
            "Installation failed",
            "This installation link could not be verified as coming from ikas. Nothing was installed.",
            "Start the installation again from ikas.",
            status_code=401,
        )
    except (InvalidInput, Conflict, UpstreamRejected) as failure:
        log.warning(
            "an ikas install could not be completed",
            extra={"reason": type(failure).__name__, "detail": failure.message},
        )
        return message_page(
            "Installation failed",
            "ikas did not accept this installation link; it may have been used already or have expired.",
            "Start the installation again from ikas.",
            status_code=400,
        )
    except UpstreamUnavailable:
        return _unavailable_page()
    response = RedirectResponse("/", status_code=303)
    set_session_cookies(response, result.session, settings)
    return response


@router.get("/oauth/fortnox/callback", response_class=HTMLResponse)
def fortnox_callback(
    settings: Settings,
    clients: Clients,
    state: str = "",
    code: str = "",
    error: str = "",
) -> Response:
    """Fortnox's redirect after the merchant decided: a page that tells the dashboard and closes itself."""
    if not state or not (code or error):
        return _fortnox_failed("This link is incomplete.", status_code=400)
    try:
        connected = clients.auth.complete_fortnox_connect(
            state=state, code=code, error=error, redirect_uri=settings.fortnox_callback_url
        )
    except InvalidInput:
        return _fortnox_failed(
            "This authorization link is unknown, has already been used or has expired.", status_code=400
        )
    except (Conflict, UpstreamRejected) as refused:
        if error:
            return _fortnox_failed("You declined the connection in Fortnox.", status_code=200)
        if isinstance(refused, Conflict):  # e.g. another company than the one the relations belong to
            return _fortnox_failed(refused.message, status_code=409)
        return _fortnox_failed("Fortnox did not accept the authorization.", status_code=400)
    except UpstreamUnavailable:
        return _unavailable_page()
    company = connected.fortnox.company_name or "your Fortnox company"
    return page(
        "Connected to Fortnox",
        paragraphs(f"Bridge is now connected to {company}.", "This window closes by itself."),
        data={"message": FORTNOX_CONNECTED_MESSAGE, "company": connected.fortnox.company_name or "", "close": "yes"},
        script=_TELL_OPENER,
    )


def _fortnox_failed(reason: str, *, status_code: int) -> HTMLResponse:
    return page(
        "Not connected to Fortnox",
        paragraphs(reason, "Nothing was changed. You can close this window and try again from Bridge."),
        status_code=status_code,
        data={"message": FORTNOX_FAILED_MESSAGE, "close": "no"},
        script=_TELL_OPENER,
    )
