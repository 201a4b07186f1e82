"""The browser side of the two OAuth flows (product.md §1.1, §1.3): ikas install and Fortnox consent.

The auth service checks everything (signatures, states, codes); these routes pass the query on, set
the session cookies, and answer the browser with a redirect or a page that says plainly what happened.
Redirect URIs are built from BRIDGE_PUBLIC_URL, the address registered with ikas and Fortnox.
"""

from __future__ import annotations

import json
import logging
from string import Template
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

# The page names its outcome in data-message (also sent as `outcome`); the dashboard that opened the consent
# window listens for FORTNOX_AUTHORIZED_MESSAGE and checks that it comes from its own origin.
FORTNOX_CONNECTED_MESSAGE: Final = "bridge:fortnox-connected"
FORTNOX_FAILED_MESSAGE: Final = "bridge:fortnox-connect-failed"
FORTNOX_AUTHORIZED_MESSAGE: Final = "bridge:fortnox-authorized"

# Constant code: every value it uses (outcome, company name) comes from data-* attributes that pages.page
# escapes, so nothing from the query or from Fortnox is ever part of the script.
_TELL_OPENER: Final = Template("""
const result = document.getElementById("page").dataset;
const hasOpener = Boolean(window.opener && !window.opener.closed);
if (hasOpener) {
  window.opener.postMessage({
    type: $message_type, ok: result.ok === "true", outcome: result.message, company_name: result.company || null,
  }, window.location.origin);
}
document.getElementById("with-opener").hidden = !hasOpener;
document.getElementById("without-opener").hidden = hasOpener;
const closeButton = document.getElementById("close-window");
if (closeButton) { closeButton.addEventListener("click", () => window.close()); }
if (hasOpener && result.close === "yes") { window.setTimeout(() => window.close(), 1000); }
""").substitute(message_type=json.dumps(FORTNOX_AUTHORIZED_MESSAGE))

# Without an opener (the consent was opened in a tab, or the browser cut the link) the page offers the way back;
# the script swaps in what fits a window the dashboard opened.
_BACK_TO_BRIDGE: Final = '<p id="without-opener"><a href="/">Back to Bridge</a></p>'
_CLOSES_ITSELF: Final = '<p id="with-opener" hidden>This window closes by itself.</p>'
_CLOSE_BUTTON: Final = '<p id="with-opener" hidden><button type="button" id="close-window">Close</button></p>'


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
        response = _fortnox_failed(
            "A service Bridge depends on is not answering right now.",
            status_code=503,
            title="Try again shortly",
        )
        response.headers["Retry-After"] = "5"
        return response
    company = connected.fortnox.company_name or "your Fortnox company"
    return page(
        "Connected to Fortnox",
        paragraphs(f"Bridge is now connected to {company}.") + _CLOSES_ITSELF + _BACK_TO_BRIDGE,
        data={
            "message": FORTNOX_CONNECTED_MESSAGE,
            "ok": "true",
            "company": connected.fortnox.company_name or "",
            "close": "yes",
        },
        script=_TELL_OPENER,
    )


def _fortnox_failed(reason: str, *, status_code: int, title: str = "Not connected to Fortnox") -> HTMLResponse:
    """A failure stays open with its reason: a window the dashboard opened gets a Close button, others the way
    back; either way the dashboard hears of it (ok: false) and shows the connection as it is."""
    return page(
        title,
        paragraphs(reason, "Nothing was changed. You can close this window and try again from Bridge.")
        + _CLOSE_BUTTON
        + _BACK_TO_BRIDGE,
        status_code=status_code,
        data={"message": FORTNOX_FAILED_MESSAGE, "ok": "false", "close": "no"},
        script=_TELL_OPENER,
    )
