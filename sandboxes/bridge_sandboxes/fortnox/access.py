"""Who is calling: the bearer token of a /3/ or /api/ request, its company and its scopes (fact sheet §1.7, §1.8)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from bridge_sandboxes.fortnox.errors import NO_ACCESS_TO_SCOPE, FortnoxApiError, Unauthorized, WarehouseApiError
from bridge_sandboxes.fortnox.state import AccessToken, Company, FortnoxState


def fortnox_state(request: Request) -> FortnoxState:
    state = request.app.state.fortnox
    assert isinstance(state, FortnoxState)
    return state


def bearer_of(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def live_token(state: FortnoxState, authorization: str | None) -> AccessToken:
    """The valid access token of a request, or Unauthorized (401 {"message": "unauthorized"}, §1.7)."""
    token = bearer_of(authorization)
    with state.lock:
        found = state.access_tokens.get(token) if token else None
        if found is None or found.expires_at <= state.now() or found.tenant_id not in state.companies:
            raise Unauthorized()
        return found


def company_for(scope: str, *alternatives: str) -> Callable[[Request], Company]:
    """A FastAPI dependency: the company of the request's bearer token, which must carry `scope`
    (or one of `alternatives`); else 401 for a bad token and 403 / 2000663 for a missing scope."""
    accepted = {scope, *alternatives}

    def dependency(request: Request) -> Company:
        state = fortnox_state(request)
        token = live_token(state, request.headers.get("authorization"))
        if not accepted.intersection(token.scopes):
            raise FortnoxApiError(403, NO_ACCESS_TO_SCOPE, "Har inte behörighet för scope.")
        with state.lock:
            return state.companies[token.tenant_id]

    return dependency


# [?] Which scope /api/warehouse/* needs is open (fact sheet §1.8, §10): the sandbox accepts `warehouse`
# (CS's obsolete name) or `article`, so a client that asks only for the suggested scopes still works.
WAREHOUSE_SCOPES = ("warehouse", "article")


def warehouse_company(request: Request) -> Company:
    """Like company_for, for /api/warehouse: a missing scope is the flat `missing.rights` error (§1.8, §3)."""
    state = fortnox_state(request)
    token = live_token(state, request.headers.get("authorization"))
    if not set(WAREHOUSE_SCOPES).intersection(token.scopes):
        raise WarehouseApiError(403, "missing.rights", "Missing rights for the warehouse.")
    with state.lock:
        return state.companies[token.tenant_id]


def tenant_key(state: FortnoxState) -> Callable[[dict[str, object]], str | None]:
    """The rate-limit and call-log key of an ASGI request: its token's tenant, as text (§2: per tenant)."""

    def key_of(scope: dict[str, object]) -> str | None:
        headers = scope.get("headers")
        authorization = None
        if isinstance(headers, list):
            for name, value in headers:
                if name == b"authorization":
                    authorization = value.decode("latin-1")
                    break
        token = bearer_of(authorization)
        if token is None:
            return None
        with state.lock:
            found = state.access_tokens.get(token)
            return str(found.tenant_id) if found is not None else None

    return key_of
