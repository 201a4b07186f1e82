"""Fortnox OAuth2 (fortnox-api.md §1): the authorize URL, code exchange, refresh, client credentials, revoke.

The token endpoint authenticates the client with HTTP Basic (client_id:client_secret) and takes a form
body. Refresh tokens are single use and rotate: every refresh returns a new one and kills the old, so
nothing here is ever retried; a lost answer to a refresh or a code exchange is `OutcomeUnknown` (the old
refresh token may already be dead). A dead grant (used, expired or revoked refresh token; bad code) is
`InvalidGrant`, which the auth service turns into "reconnect Fortnox".
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import quote, urlencode

import httpx

from bridge_platform.errors import OutcomeUnknown, UpstreamRejected, UpstreamUnavailable

UPSTREAM: Final = "fortnox"
DEFAULT_AUTH_URL: Final = "https://apps.fortnox.se"  # BRIDGE_FORTNOX_AUTH_URL: the host; endpoints are under /oauth-v1
DEFAULT_SCOPES: Final[tuple[str, ...]] = (
    "article",
    "customer",
    "order",
    "invoice",
    "price",
    "companyinformation",
    "settings",
    "currency",
)
"""The scopes fortnox-api.md §1.8 suggests; `payment` is added when payments are registered."""


class InvalidGrant(UpstreamRejected):
    """The code or refresh token is no longer valid (used, expired, revoked): the merchant must reconnect."""


@dataclass(frozen=True)
class TokenSet:
    """What the token endpoint answered. `refresh_token` is None for client credentials (and without
    access_type=offline); `expires_at` is aware (UTC)."""

    access_token: str
    refresh_token: str | None
    expires_at: datetime
    scopes: tuple[str, ...]

    def __repr__(self) -> str:  # never print tokens
        return f"TokenSet(expires_at={self.expires_at.isoformat()}, scopes={self.scopes!r})"


def tenant_id_of(access_token: str) -> str:
    """The `tenantId` claim of a Fortnox access token (a JWT), read without verification (§1.4: the key is
    not published). Raises UpstreamRejected when the token is not a JWT with that claim."""
    parts = access_token.split(".")
    if len(parts) != 3:
        raise UpstreamRejected(UPSTREAM, "the access token is not a JWT")
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise UpstreamRejected(UPSTREAM, "the access token's payload cannot be read") from error
    tenant = claims.get("tenantId") if isinstance(claims, dict) else None
    if tenant is None or isinstance(tenant, bool) or str(tenant).strip() == "":
        raise UpstreamRejected(UPSTREAM, "the access token carries no tenantId")
    return str(tenant)


class FortnoxOAuth:
    """The OAuth client of one Fortnox app (client id and secret), over a shared httpx client."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        client_id: str,
        client_secret: str,
        auth_url: str = DEFAULT_AUTH_URL,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._http = http
        self._client_id = client_id
        self._client_secret = client_secret
        self._auth_url = f"{auth_url.rstrip('/')}/oauth-v1"
        self._now = now

    def authorize_url(
        self,
        state: str,
        redirect_uri: str,
        scopes: Iterable[str],
        access_type: str = "offline",
        *,
        account_type: str | None = None,
    ) -> str:
        """Where to send the merchant's browser (§1.2). `account_type="service"` asks for a service account."""
        params = {
            "client_id": self._client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(scopes),
            "state": state,
            "access_type": access_type,
            "response_type": "code",
        }
        if account_type is not None:
            params["account_type"] = account_type
        return f"{self._auth_url}/auth?{urlencode(params, quote_via=quote)}"

    def exchange_code(self, code: str, redirect_uri: str) -> TokenSet:
        """Swaps the callback's code (single use, 10 min) for tokens; redirect_uri as in authorize_url."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        return self._token_set(self._post("/token", form, "exchange the authorization code"))

    def refresh(self, refresh_token: str) -> TokenSet:
        """A new access token and a new refresh token; the old refresh token dies (§1.5)."""
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return self._token_set(self._post("/token", form, "refresh the access token"))

    def client_credentials(self, tenant_id: str, scopes: Iterable[str] = ()) -> TokenSet:
        """A service-account token for `tenant_id` (no refresh token; §1.4), after a service consent."""
        form = {"grant_type": "client_credentials"}
        scope = " ".join(scopes)
        if scope:
            form["scope"] = scope
        answer = self._post("/token", form, "get a service-account token", headers={"TenantId": tenant_id})
        return self._token_set(answer, safe_to_repeat=True)

    def revoke(self, refresh_token: str) -> None:
        """Revokes the refresh token (access tokens cannot be revoked; §1.6)."""
        form = {"token_type_hint": "refresh_token", "token": refresh_token}
        answer = self._post("/revoke", form, "revoke the Fortnox connection", safe_to_repeat=True)
        if answer.get("revoked") is not True:
            raise UpstreamUnavailable(UPSTREAM, "Fortnox did not confirm the revocation")

    def _post(
        self,
        path: str,
        form: Mapping[str, str],
        action: str,
        *,
        headers: Mapping[str, str] | None = None,
        safe_to_repeat: bool = False,
    ) -> dict[str, Any]:
        credentials = base64.b64encode(f"{self._client_id}:{self._client_secret}".encode()).decode()
        request_headers = {"Authorization": f"Basic {credentials}", "Accept": "application/json", **(headers or {})}
        try:
            response = self._http.post(f"{self._auth_url}{path}", data=dict(form), headers=request_headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            raise UpstreamUnavailable(UPSTREAM, f"could not {action}: {type(error).__name__}") from error
        except httpx.TransportError as error:
            kind = UpstreamUnavailable if safe_to_repeat else OutcomeUnknown
            raise kind(UPSTREAM, f"could not {action}: the answer was lost ({type(error).__name__})") from error
        body = _json_object(response)
        if response.is_success and body is not None:
            return body
        error_code = str(body.get("error", "")) if body else ""
        description = str(body.get("error_description", "")) if body else ""
        extra = {"fortnox_message": description} if description else {}
        if response.status_code >= 500 or response.status_code == 429 or (response.is_success and body is None):
            kind = UpstreamUnavailable if safe_to_repeat or not response.is_success else OutcomeUnknown
            raise kind(
                UPSTREAM,
                f"could not {action}: Fortnox answered HTTP {response.status_code}",
                status=response.status_code,
                extra=extra,
            )
        if error_code == "invalid_grant":
            raise InvalidGrant(
                UPSTREAM,
                f"could not {action}: the Fortnox authorization is no longer valid; reconnect Fortnox",
                status=response.status_code,
                upstream_code=error_code,
                extra={**extra, "hint": "Reconnect Fortnox in Bridge's settings"},
            )
        if error_code == "invalid_client":
            detail = f"could not {action}: Fortnox does not accept Bridge's client id and secret"
            hint = "Check BRIDGE's Fortnox client id and secret (operator setting)"
        else:
            detail = f"could not {action}: Fortnox answered {error_code or f'HTTP {response.status_code}'}"
            hint = "Try connecting Fortnox again"
        raise UpstreamRejected(
            UPSTREAM,
            detail,
            status=response.status_code,
            upstream_code=error_code or None,
            extra={**extra, "hint": hint},
        )

    def _token_set(self, answer: dict[str, Any], *, safe_to_repeat: bool = False) -> TokenSet:
        access = answer.get("access_token")
        if not isinstance(access, str) or not access:
            kind = UpstreamUnavailable if safe_to_repeat else OutcomeUnknown
            raise kind(UPSTREAM, "Fortnox's token answer has no access_token")
        refresh = answer.get("refresh_token")
        try:
            expires_in = int(answer.get("expires_in", 3600))
        except (TypeError, ValueError):
            expires_in = 3600
        scope = answer.get("scope")
        return TokenSet(
            access_token=access,
            refresh_token=refresh if isinstance(refresh, str) and refresh else None,
            expires_at=self._now() + timedelta(seconds=expires_in),
            scopes=tuple(scope.split()) if isinstance(scope, str) else (),
        )


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None
