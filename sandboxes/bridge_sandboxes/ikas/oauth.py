"""ikas OAuth (fact sheet §2.2-§2.3) and the dashboard credentials ikas hands an app (§3.1-§3.2).

- GET  /stores/{store}/api/admin/oauth/authorize: the consent page (store, app, scopes; Approve / Deny);
- POST /stores/{store}/api/admin/oauth/authorize: the decision; Approve redirects to
  redirect_uri?code&storeName&state&signature (signature = hex HMAC-SHA256(client_secret, code)), Deny redirects
  with error=access_denied [?: the deny redirect of ikas is undocumented];
- POST /api/admin/oauth/token (the "api" host) and /stores/{store}/api/admin/oauth/token, form-encoded:
  authorization_code, refresh_token (rotates: the old refresh token stops working [?]), client_credentials
  (no refresh token). Errors use the OAuth 2 shape `{"error", "error_description"}` [?]: 401 invalid_client,
  400 invalid_grant / unsupported_grant_type / invalid_request.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import secrets
import uuid
from typing import Any
from urllib.parse import parse_qs, urlencode

import jwt
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from bridge_sandboxes.ikas.state import AUTH_CODE_TTL_S, AuthCode, Installation, SandboxState

JWT_TTL_S = 4 * 3600  # [?] lifetime of the ikas-issued dashboard JWT is undocumented


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
        f"<body style='font-family:sans-serif;max-width:36em;margin:3em auto'>{body}</body></html>",
        status_code=status,
    )


async def _form(request: Request) -> dict[str, str]:
    """An application/x-www-form-urlencoded body (without python-multipart); the first value of each name."""
    parsed = parse_qs((await request.body()).decode(errors="replace"), keep_blank_values=True)
    return {name: values[0] for name, values in parsed.items()}


def signed_dashboard_params(installation: Installation, merchant_id: str, timestamp_ms: int) -> dict[str, str]:
    """The query parameters ikas appends when it opens the app (fact sheet §3.2)."""
    message = f"{installation.store}{merchant_id}{timestamp_ms}"
    signature = hmac.new(installation.client_secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return {
        "storeName": installation.store,
        "merchantId": merchant_id,
        "authorizedAppId": installation.authorized_app_id,
        "timestamp": str(timestamp_ms),
        "signature": signature,
    }


def dashboard_jwt(installation: Installation, merchant_id: str, now_s: int) -> str:
    """The App Bridge token: HS256 with the client secret, sub=merchantId, aud=authorizedAppId (fact sheet §3.1)."""
    claims = {
        "sub": merchant_id,
        "aud": installation.authorized_app_id,
        "iss": "ikas",  # [?]
        "jti": str(uuid.uuid4()),
        "iat": now_s,
        "exp": now_s + JWT_TTL_S,
    }
    return jwt.encode(claims, installation.client_secret, algorithm="HS256")


def router(state: SandboxState) -> APIRouter:
    api = APIRouter()

    @api.get("/stores/{store}/api/admin/oauth/authorize")
    def authorize(
        store: str,
        client_id: str = "",
        redirect_uri: str = "",
        scope: str = "",
        state_: str | None = None,
        request: Request = None,  # type: ignore[assignment]
    ) -> Response:
        oauth_state = request.query_params.get("state")
        installation = state.installation(client_id, store)
        if state.store(store) is None:
            return _page("Store not found", f"<h1>Store {html.escape(store)} not found</h1>", 404)
        if installation is None:
            return _page("Unknown app", f"<h1>Unknown client_id {html.escape(client_id)}</h1>", 400)
        if not redirect_uri:
            return _page("Missing redirect_uri", "<h1>redirect_uri is required</h1>", 400)
        scopes = [s for s in scope.split(",") if s]
        hidden = "".join(
            f"<input type='hidden' name='{name}' value='{html.escape(value, quote=True)}'>"
            for name, value in (
                ("client_id", client_id),
                ("redirect_uri", redirect_uri),
                ("scope", scope),
                ("state", oauth_state or ""),
            )
        )
        items = "".join(f"<li>{html.escape(s)}</li>" for s in scopes) or "<li>(none)</li>"
        return _page(
            "Install app",
            f"<h1>Install {html.escape(installation.name)}</h1>"
            f"<p>Store: <b id='store'>{html.escape(store)}</b></p>"
            f"<p>App: <b id='app'>{html.escape(installation.name)}</b> ({html.escape(client_id)})</p>"
            f"<p>Requested permissions:</p><ul id='scopes'>{items}</ul>"
            f"<form method='post'>{hidden}"
            "<button name='decision' value='approve' id='approve'>Approve</button> "
            "<button name='decision' value='deny' id='deny'>Deny</button></form>",
        )

    @api.post("/stores/{store}/api/admin/oauth/authorize")
    async def decide(store: str, request: Request) -> Response:
        form = await _form(request)
        client_id, redirect_uri = str(form.get("client_id", "")), str(form.get("redirect_uri", ""))
        scope, oauth_state = str(form.get("scope", "")), str(form.get("state", ""))
        installation = state.installation(client_id, store)
        if installation is None or not redirect_uri:
            return _page("Unknown app", "<h1>Unknown app or redirect_uri</h1>", 400)
        separator = "&" if "?" in redirect_uri else "?"
        if form.get("decision") != "approve":
            params = {
                "error": "access_denied",
                "error_description": "The merchant denied the installation",
                "storeName": store,
            }
            if oauth_state:
                params["state"] = oauth_state
            return RedirectResponse(f"{redirect_uri}{separator}{urlencode(params)}", status_code=302)
        code = secrets.token_urlsafe(24)
        with state.lock:
            state.codes[code] = AuthCode(store, client_id, redirect_uri, scope, state.now_ms() + AUTH_CODE_TTL_S * 1000)
        signature = hmac.new(installation.client_secret.encode(), code.encode(), hashlib.sha256).hexdigest()
        params = {"code": code, "storeName": store}
        if oauth_state:
            params["state"] = oauth_state
        params["signature"] = signature
        return RedirectResponse(f"{redirect_uri}{separator}{urlencode(params)}", status_code=302)

    async def token(request: Request, store: str | None) -> Response:
        fields: dict[str, Any] = await _form(request)
        grant_type, client_id = fields.get("grant_type", ""), fields.get("client_id", "")
        client_secret = fields.get("client_secret", "")
        with state.lock:
            candidates = [i for i in state.installation_by_client(client_id) if store is None or i.store == store]
            if not candidates or not hmac.compare_digest(candidates[0].client_secret, client_secret):
                return _oauth_error("invalid_client", "Unknown client or wrong client secret", 401)
            if grant_type == "authorization_code":
                code = state.codes.pop(fields.get("code", ""), None)
                if code is None or code.client_id != client_id or code.expires_at_ms <= state.now_ms():
                    return _oauth_error("invalid_grant", "The authorization code is invalid or expired")
                if store is not None and code.store != store:
                    return _oauth_error("invalid_grant", "The authorization code belongs to another store")
                if fields.get("redirect_uri", code.redirect_uri) != code.redirect_uri:
                    return _oauth_error("invalid_grant", "redirect_uri does not match the authorization request")
                installation = state.installation(client_id, code.store)
                assert installation is not None
                installation.scope = code.scope or installation.scope
                return JSONResponse(state.issue_tokens(installation, installation.scope, with_refresh=True))
            if grant_type == "refresh_token":
                grant = state.refresh_tokens.pop(fields.get("refresh_token", ""), None)
                if grant is None or grant.client_id != client_id or (store is not None and grant.store != store):
                    return _oauth_error("invalid_grant", "The refresh token is invalid")
                installation = state.installation(client_id, grant.store)
                assert installation is not None
                return JSONResponse(state.issue_tokens(installation, grant.scope, with_refresh=True))
            if grant_type == "client_credentials":
                if len(candidates) != 1:  # [?] on the api host the client must identify one store
                    return _oauth_error(
                        "invalid_request", "The client is installed in several stores: use the store host"
                    )
                installation = candidates[0]
                return JSONResponse(state.issue_tokens(installation, installation.scope, with_refresh=False))
            return _oauth_error("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")

    @api.post("/api/admin/oauth/token")
    async def api_token(request: Request) -> Response:
        return await token(request, None)

    @api.post("/stores/{store}/api/admin/oauth/token")
    async def store_token(store: str, request: Request) -> Response:
        return await token(request, store)

    return api
