"""Who a request acts for: exactly one tenant, resolved by the auth service, never from input (style.md rule 7).

product.md §1.2: a request is signed in either by the session cookie `bridge_session`, which the
gateway sets when someone signs in (signed ikas parameters, an install, or `/dev/login` in local mode),
or by `Authorization: Bearer <ikas dashboard JWT>` (`JWT <token>` too). A cookie is sent by the
browser on its own, so a cookie-authenticated request that changes state must also echo the
readable `bridge_csrf` cookie in the `X-Bridge-CSRF` header (403 otherwise); a bearer token is
only ever sent on purpose, so it needs no such proof. Anything else is 401.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from typing import Annotated, Final, Literal, cast

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse

from bridge_gateway.clients import GatewayClients
from bridge_gateway.models import Session, Tenant
from bridge_gateway.problems import responses
from bridge_gateway.settings import GatewaySettings
from bridge_platform.errors import FieldViolation, InvalidInput, NotFound, PermissionDenied, Unauthenticated
from bridge_platform.telemetry import tag_tenant

__all__ = [
    "CSRF_COOKIE",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "Clients",
    "CurrentTenant",
    "Settings",
    "Tenant",
    "api_router",
    "clear_session_cookies",
    "current_tenant",
    "router",
    "set_session_cookies",
    "signed_in_tenant",
]

SESSION_COOKIE: Final = "bridge_session"
CSRF_COOKIE: Final = "bridge_csrf"
CSRF_HEADER: Final = "X-Bridge-CSRF"
STATE_CHANGING_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BEARER_SCHEMES: Final = frozenset({"bearer", "jwt"})  # ikas's own examples send `JWT <token>` (ikas-api.md §3.1)

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1", tags=["session"])


def gateway_settings(request: Request) -> GatewaySettings:
    return cast(GatewaySettings, request.app.state.settings)


def gateway_clients(request: Request) -> GatewayClients:
    return cast(GatewayClients, request.app.state.clients)


Settings = Annotated[GatewaySettings, Depends(gateway_settings)]
Clients = Annotated[GatewayClients, Depends(gateway_clients)]


def _bearer_token(authorization: str) -> str:
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() not in BEARER_SCHEMES or not token.strip():
        raise Unauthenticated("the Authorization header must be `Bearer <ikas dashboard token>`")
    return token.strip()


def _same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison; bytes, because compare_digest refuses non-ASCII str."""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def current_tenant(request: Request, clients: Clients) -> Tenant:
    """The tenant of the request; Unauthenticated (401) or, for a cookie write without CSRF proof, 403."""
    authorization = request.headers.get("authorization")
    if authorization is not None:
        tenant = clients.auth.resolve_dashboard_token(_bearer_token(authorization))
    else:
        session_token = request.cookies.get(SESSION_COOKIE)
        if not session_token:
            raise Unauthenticated("sign in to use the API")
        session = clients.auth.resolve_session(session_token)
        if request.method in STATE_CHANGING_METHODS and not _same_secret(
            request.headers.get(CSRF_HEADER, ""), session.csrf_token
        ):
            raise PermissionDenied(f"a change made with the session cookie needs the {CSRF_HEADER} header")
        tenant = session.tenant
    tag_tenant(tenant.id)
    return tenant


CurrentTenant = Annotated[Tenant, Depends(current_tenant)]


def signed_in_tenant(request: Request, clients: GatewayClients) -> Tenant | None:
    """For pages: the tenant of the session cookie, or None when there is none or it is no longer valid."""
    session_token = request.cookies.get(SESSION_COOKIE)
    if not session_token:
        return None
    try:
        return clients.auth.resolve_session(session_token).tenant
    except Unauthenticated:
        return None


def _cookie_rules(settings: GatewaySettings) -> tuple[Literal["none", "lax"], bool]:
    """(SameSite, Secure): inside the ikas admin iframe the cookies are third-party, so over https they are
    `SameSite=None; Secure`; on plain-http localhost a Secure cookie would be dropped, and Lax is the safe
    choice (product.md §1.2)."""
    secure = settings.public_url.startswith("https://")
    return ("none" if secure else "lax"), secure


def _set_cookie(
    response: Response, name: str, value: str, *, max_age: int | None, httponly: bool, settings: GatewaySettings
) -> None:
    samesite, secure = _cookie_rules(settings)
    cookie: SimpleCookie = SimpleCookie()
    cookie[name] = value
    morsel = cookie[name]
    morsel["path"] = "/"
    morsel["samesite"] = samesite.capitalize()
    if max_age is not None:
        morsel["max-age"] = max_age
        morsel["expires"] = max_age  # seconds from now, rendered as a date (older browsers read only Expires)
    if secure:
        morsel["secure"] = True
    if httponly:
        morsel["httponly"] = True
    header = morsel.OutputString()
    if secure:
        # CHIPS: lets browsers that block third-party cookies keep ours, per ikas admin site, inside the
        # iframe. Starlette (and http.cookies before Python 3.14) cannot write the attribute, hence by hand.
        header += "; Partitioned"
    response.headers.append("set-cookie", header)


def set_session_cookies(response: Response, session: Session, settings: GatewaySettings) -> None:
    """Signs the browser in: the HttpOnly session cookie and the readable CSRF cookie, with the same rules."""
    max_age = None
    if session.expires_at is not None:
        max_age = max(0, int((session.expires_at - datetime.now(UTC)).total_seconds()))
    _set_cookie(response, SESSION_COOKIE, session.token, max_age=max_age, httponly=True, settings=settings)
    _set_cookie(response, CSRF_COOKIE, session.csrf_token, max_age=max_age, httponly=False, settings=settings)


def clear_session_cookies(response: Response, settings: GatewaySettings) -> None:
    """Signs the browser out, with the attributes the cookies were set with (a partitioned cookie is only
    replaced by a partitioned one)."""
    _set_cookie(response, SESSION_COOKIE, "", max_age=0, httponly=True, settings=settings)
    _set_cookie(response, CSRF_COOKIE, "", max_age=0, httponly=False, settings=settings)


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
        session = clients.auth.open_development_session(store)
    except InvalidInput as error:
        violations = [FieldViolation("store", v.code, v.message) for v in error.violations]
        raise InvalidInput(error.message, violations) from None
    response = RedirectResponse("/", status_code=303)
    set_session_cookies(response, session, settings)
    return response


@api_router.post("/session/logout", status_code=204, response_class=Response, responses=responses(401, 403))
def logout(request: Request, settings: Settings, clients: Clients) -> Response:
    """Ends the cookie session (with the CSRF header, like every cookie write) and clears both cookies."""
    current_tenant(request, clients)
    response = Response(status_code=204)
    session_token = request.cookies.get(SESSION_COOKIE)
    if session_token and request.headers.get("authorization") is None:
        clients.auth.close_session(session_token)
    clear_session_cookies(response, settings)
    return response
