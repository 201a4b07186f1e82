"""Fortnox OAuth2 (fact sheet §1): the consent page at /oauth-v1/auth, the token endpoint (authorization_code,
refresh_token with single-use rotating refresh tokens, client_credentials for service accounts), and revoke.

What the fact sheet leaves open and the sandbox decides ([?]):
- a user who denies consent gets `error=access_denied` (§1.3 says "presumably");
- an unknown, expired or used authorization code, or a redirect_uri that differs from the authorize call, gives
  400 invalid_grant "Invalid authorization code" (only the refresh-token text is recorded);
- an unsupported grant_type gives 400 unsupported_grant_type, missing form fields 400 invalid_request;
- revoking an unknown token still answers {"revoked": true} (as RFC 7009 asks);
- the JWT's claims besides `tenantId` (the only one documented) are the sandbox's own; it is signed with a
  per-process HS256 key, since Fortnox does not publish its key and clients must not verify it;
- client_credentials needs an earlier consent with account_type=service for the TenantId header's company.
"""

from __future__ import annotations

import base64
import binascii
import html
import secrets
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

import jwt
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from bridge_sandboxes.fortnox.access import fortnox_state
from bridge_sandboxes.fortnox.state import AccessToken, AuthorizationCode, FortnoxState, OAuthClient, RefreshToken

CODE_LIFETIME = timedelta(minutes=10)  # §1.3, §1.5
ACCESS_LIFETIME = timedelta(hours=1)  # §1.5: expires_in 3600
REFRESH_LIFETIME = timedelta(days=45)  # §1.5
# §1.8, plus CS's obsolete `warehouse` names [?]
KNOWN_SCOPES = frozenset(
    [
        "article",
        "customer",
        "order",
        "invoice",
        "offer",
        "price",
        "print",
        "companyinformation",
        "settings",
        "currency",
        "payment",
        "project",
        "costcenter",
        "connectfile",
        "archive",
        "inbox",
        "bookkeeping",
        "supplier",
        "supplierinvoice",
        "salary",
        "profile",
        "noxfinansinvoice",
        "timereporting",
        "warehouse",
        "warehousecustomdocument",
    ]
)
_SIGNING_KEY = secrets.token_hex(32)


def mint_tokens(
    state: FortnoxState, client_id: str, tenant_id: int, scopes: list[str], *, with_refresh: bool = True
) -> dict[str, Any]:
    """A new access token (and refresh token) as the token endpoint answers them. Caller holds state.lock."""
    now = state.now()
    expires_at = now + ACCESS_LIFETIME
    claims = {
        "iss": "fortnox-sandbox",
        "jti": uuid.uuid4().hex,
        "tenantId": tenant_id,
        "clientId": client_id,
        "scope": " ".join(scopes),
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    access = jwt.encode(claims, _SIGNING_KEY, algorithm="HS256")
    state.access_tokens[access] = AccessToken(access, client_id, tenant_id, list(scopes), expires_at)
    answer: dict[str, Any] = {
        "access_token": access,
        "scope": " ".join(scopes),
        "expires_in": int(ACCESS_LIFETIME.total_seconds()),
        "token_type": "bearer",
    }
    if with_refresh:
        refresh = str(uuid.uuid4())  # "uuid-like" (§1.4)
        state.refresh_tokens[refresh] = RefreshToken(
            refresh, client_id, tenant_id, list(scopes), now + REFRESH_LIFETIME
        )
        answer["refresh_token"] = refresh
    return answer


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def _invalid_client() -> JSONResponse:
    return _oauth_error(401, "invalid_client", "The client credentials are invalid")  # §1.4, recorded


def _invalid_refresh() -> JSONResponse:
    return _oauth_error(400, "invalid_grant", "Invalid refresh token")  # §1.4, recorded


def _authenticated_client(state: FortnoxState, authorization: str | None) -> OAuthClient | None:
    """Basic client authentication (§1.4)."""
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client = state.clients.get(client_id)
    if client is None or not secrets.compare_digest(client.client_secret, secret):
        return None
    return client


async def _form(request: Request) -> dict[str, str]:
    return dict(parse_qsl((await request.body()).decode("utf-8", errors="replace"), keep_blank_values=True))


def _error_page(message: str, status: int = 400) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Fortnox: error</title></head>"
        f"<body><h1>Something went wrong</h1><p role='alert'>{html.escape(message)}</p></body></html>",
        status_code=status,
    )


def _with_query(uri: str, params: dict[str, str]) -> str:
    return f"{uri}{'&' if '?' in uri else '?'}{urlencode(params)}"


def _consent_page(state: FortnoxState, client: OAuthClient, params: dict[str, str]) -> HTMLResponse:
    scopes = params["scope"].split()
    tenant = state.consenting_tenant_id
    companies = sorted(state.companies.values(), key=lambda c: c.tenant_id)
    chosen = state.companies.get(tenant) if tenant is not None else None
    chosen = chosen or companies[0]
    hidden = "".join(
        f"<input type='hidden' name='{name}' value='{html.escape(params.get(name, ''), quote=True)}'>"
        for name in ("client_id", "redirect_uri", "scope", "state", "access_type", "account_type")
    )
    options = "".join(
        f"<option value='{c.tenant_id}'{' selected' if c is chosen else ''}>"
        f"{html.escape(c.name)} ({html.escape(c.organisation_number)})</option>"
        for c in companies
    )
    items = "".join(f"<li>{html.escape(scope)}</li>" for scope in scopes)
    service = " as a service account" if params.get("account_type") == "service" else ""
    return HTMLResponse(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Fortnox: connect an integration</title>"
        "</head><body><main>"
        f"<h1>Connect {html.escape(client.client_id)} to {html.escape(chosen.name)}</h1>"
        f"<p>The integration asks for access{service} to:</p><ul>{items}</ul>"
        f"<form method='post' action='/oauth-v1/auth/decision'>{hidden}"
        f"<label for='tenant_id'>Company</label> <select id='tenant_id' name='tenant_id'>{options}</select>"
        "<button type='submit' name='decision' value='approve'>Approve</button>"
        "<button type='submit' name='decision' value='deny'>Deny</button>"
        "</form></main></body></html>"
    )


def _authorize_problem(state: FortnoxState, params: dict[str, str]) -> tuple[OAuthClient | None, str | None]:
    client = state.clients.get(params.get("client_id", ""))
    if client is None:
        return None, "Auth code or ClientID supplied is invalid"  # the FAQ's text (§1.3)
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri and not client.redirect_uris:
        return client, "redirect_uri is missing and the client has no registered Redirect URI"
    if redirect_uri and client.redirect_uris and redirect_uri not in client.redirect_uris:
        return client, "redirect_uri does not match the client's registered Redirect URI"
    if params.get("response_type") != "code":
        return client, "response_type must be code"
    if not params.get("state"):
        return client, "state is required"
    if params.get("account_type") not in (None, "", "service"):  # the consent form posts it back empty
        return client, "account_type must be service"
    return client, None


def _redirect_target(client: OAuthClient, params: dict[str, str]) -> str:
    return params.get("redirect_uri") or sorted(client.redirect_uris)[0]


def oauth_router() -> APIRouter:
    router = APIRouter(prefix="/oauth-v1", tags=["oauth"])

    @router.get("/auth")
    def authorize(request: Request) -> Response:
        state = fortnox_state(request)
        params = dict(request.query_params)
        with state.lock:
            client, problem = _authorize_problem(state, params)
            if client is None or problem is not None:
                return _error_page(problem or "invalid request")
            scopes = params.get("scope", "").split()
            if not scopes or not KNOWN_SCOPES.issuperset(scopes):
                target = _redirect_target(client, params)
                error = {"error": "invalid_scope", "error_description": "Invalid scope", "state": params["state"]}
                return RedirectResponse(_with_query(target, error), status_code=302)
            if not state.companies:
                return _error_page("There is no company to connect", status=409)
            return _consent_page(state, client, params)

    @router.post("/auth/decision")
    async def decide(request: Request) -> Response:
        state = fortnox_state(request)
        form = await _form(request)
        with state.lock:
            client, problem = _authorize_problem(state, {**form, "response_type": "code"})
            if client is None or problem is not None:
                return _error_page(problem or "invalid request")
            target = _redirect_target(client, form)
            if form.get("decision") != "approve":
                denied = {
                    "error": "access_denied",  # [?] §1.3
                    "error_description": "The user denied the integration access",
                    "state": form["state"],
                }
                return RedirectResponse(_with_query(target, denied), status_code=302)
            try:
                tenant_id = int(form.get("tenant_id") or state.consenting_tenant_id or 0)
            except ValueError:
                tenant_id = 0
            if tenant_id not in state.companies:
                return _error_page("Unknown company")
            code = secrets.token_urlsafe(24)
            scopes = form["scope"].split()
            state.codes[code] = AuthorizationCode(
                code=code,
                client_id=client.client_id,
                tenant_id=tenant_id,
                scopes=scopes,
                redirect_uri=form.get("redirect_uri", ""),
                expires_at=state.now() + CODE_LIFETIME,
                offline=form.get("access_type") == "offline",
            )
            if form.get("account_type") == "service":
                state.service_consents[(client.client_id, tenant_id)] = scopes
            return RedirectResponse(_with_query(target, {"code": code, "state": form["state"]}), status_code=302)

    @router.post("/token")
    async def token(request: Request) -> JSONResponse:
        state = fortnox_state(request)
        form = await _form(request)
        with state.lock:
            client = _authenticated_client(state, request.headers.get("authorization"))
            if client is None:
                return _invalid_client()
            grant = form.get("grant_type")
            if grant == "authorization_code":
                return _exchange_code(state, client, form)
            if grant == "refresh_token":
                return _refresh(state, client, form)
            if grant == "client_credentials":
                return _client_credentials(state, client, form, request.headers.get("tenantid"))
            return _oauth_error(400, "unsupported_grant_type", "Unsupported grant type")

    @router.post("/revoke")
    async def revoke(request: Request) -> JSONResponse:
        state = fortnox_state(request)
        form = await _form(request)
        with state.lock:
            client = _authenticated_client(state, request.headers.get("authorization"))
            if client is None:
                return _invalid_client()
            refresh = state.refresh_tokens.get(form.get("token", ""))
            if refresh is not None and refresh.client_id == client.client_id:
                refresh.revoked = True
            return JSONResponse({"revoked": True})

    return router


def _exchange_code(state: FortnoxState, client: OAuthClient, form: dict[str, str]) -> JSONResponse:
    if "code" not in form:
        return _oauth_error(400, "invalid_request", "code is missing")
    code = state.codes.pop(form["code"], None)  # single use (§1.3): gone after the first try
    if (
        code is None
        or code.client_id != client.client_id
        or code.expires_at <= state.now()
        or form.get("redirect_uri", "") != code.redirect_uri
        or code.tenant_id not in state.companies
    ):
        return _oauth_error(400, "invalid_grant", "Invalid authorization code")
    return JSONResponse(mint_tokens(state, client.client_id, code.tenant_id, code.scopes, with_refresh=code.offline))


def _refresh(state: FortnoxState, client: OAuthClient, form: dict[str, str]) -> JSONResponse:
    old = state.refresh_tokens.get(form.get("refresh_token", ""))
    if (
        old is None
        or old.used
        or old.revoked
        or old.client_id != client.client_id
        or old.expires_at <= state.now()
        or old.tenant_id not in state.companies
    ):
        return _invalid_refresh()
    old.used = True  # single use, rotating (§1.5): the old token dies with this call
    return JSONResponse(mint_tokens(state, client.client_id, old.tenant_id, old.scopes))


def _client_credentials(
    state: FortnoxState, client: OAuthClient, form: dict[str, str], tenant_header: str | None
) -> JSONResponse:
    try:
        tenant_id = int(tenant_header or "")
    except ValueError:
        return _oauth_error(400, "invalid_request", "The TenantId header is missing or invalid")
    consented = state.service_consents.get((client.client_id, tenant_id))
    if consented is None or tenant_id not in state.companies:
        return _oauth_error(400, "invalid_grant", "No consent for this tenant")
    asked = form.get("scope", "").split()
    scopes = [scope for scope in asked if scope in consented] if asked else consented
    return JSONResponse(mint_tokens(state, client.client_id, tenant_id, scopes, with_refresh=False))


class ClientRegistration(BaseModel):
    client_id: str
    client_secret: str
    redirect_uris: list[str] = Field(default_factory=list)


class TokenRequest(BaseModel):
    tenant_id: int
    scopes: list[str] | str = "article customer order invoice price companyinformation settings currency payment"
    client_id: str = "bridge-local"


class Consent(BaseModel):
    tenant_id: int | None


def oauth_admin_router(state: FortnoxState) -> APIRouter:
    """/__admin/ additions: register OAuth clients, mint tokens for tests, pick the consenting company."""
    router = APIRouter(prefix="/__admin", tags=["admin"])

    @router.post("/oauth-clients")
    def register_client(body: ClientRegistration) -> dict[str, Any]:
        with state.lock:
            state.clients[body.client_id] = OAuthClient(body.client_id, body.client_secret, set(body.redirect_uris))
        return {"client_id": body.client_id, "redirect_uris": body.redirect_uris}

    @router.post("/tokens")
    def issue_tokens(body: TokenRequest) -> JSONResponse:
        scopes = body.scopes.split() if isinstance(body.scopes, str) else body.scopes
        with state.lock:
            if body.tenant_id not in state.companies:
                return JSONResponse({"error": f"unknown tenant {body.tenant_id}"}, status_code=404)
            return JSONResponse(mint_tokens(state, body.client_id, body.tenant_id, scopes))

    @router.get("/issued-secrets")
    def issued_secrets() -> dict[str, list[str]]:
        """Every token and client secret this sandbox has handed out, for tests that look for leaks."""
        with state.lock:
            return {
                "access_tokens": sorted(state.access_tokens),
                "refresh_tokens": sorted(state.refresh_tokens),
                "client_secrets": sorted({c.client_secret for c in state.clients.values()}),
            }

    @router.post("/consent")
    def set_consenting_company(body: Consent) -> JSONResponse:
        with state.lock:
            if body.tenant_id is not None and body.tenant_id not in state.companies:
                return JSONResponse({"error": f"unknown tenant {body.tenant_id}"}, status_code=404)
            state.consenting_tenant_id = body.tenant_id
        return JSONResponse({"consenting_tenant_id": body.tenant_id})

    return router
