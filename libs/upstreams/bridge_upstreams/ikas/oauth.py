"""ikas OAuth for the auth service (fact sheet §2.2-§2.3) and the checks of what ikas hands the dashboard (§3).

`IkasOAuth` builds the authorize URL and talks to the token endpoint (form-encoded, as the official SDK
does). The pure functions verify the callback signature, the signed dashboard query parameters and the
App Bridge JWT; all comparisons of secrets are constant-time.

Where the token endpoint lives: the SDK posts to `https://{store}.myikas.com/api/admin/oauth/token`, and
`https://api.myikas.com/api/admin/oauth/token` (the "api" store) is the canonical host the official
starter uses for refresh and as its fallback for the code exchange (fact sheet §2.2). Bridge exchanges
codes and asks for client_credentials tokens on the store's host (the code was issued there; DOCS1's
private-app example uses it, and a client installed in several stores is only unambiguous there) and
refreshes on the api host (a refresh token names no store, which is why the starter does the same).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import urlencode, urlsplit

import httpx
import jwt
from jwt.types import Options

from bridge_platform.errors import OutcomeUnknown, Unauthenticated, UpstreamRejected, UpstreamUnavailable

UPSTREAM: Final = "ikas"
DASHBOARD_SIGNATURE_WINDOW_MS: Final = 120_000  # fact sheet §3.2: the signed parameters are valid 120 s
_NEVER_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_CLIENT_CREDENTIALS_ATTEMPTS: Final = 3


@dataclass(frozen=True)
class TokenSet:
    """An ikas token response (fact sheet §2.2). Private-app tokens have no refresh token; a refresh returns
    a new refresh token that replaces the old one."""

    access_token: str
    token_type: str
    expires_at: datetime
    scope: str | None
    refresh_token: str | None


class IkasOAuth:
    """The ikas OAuth endpoints for one app (client id and secret).

    `store_url_template` makes a store's base URL from its name: BRIDGE_IKAS_STORE_URL, with `{store}`
    standing for the name (`https://{store}.myikas.com`; the sandbox serves stores under a path).
    `api_url` is any URL on the ikas API host (`https://api.myikas.com`), whose origin serves the
    store-independent token endpoint.
    """

    def __init__(
        self,
        http: httpx.Client,
        *,
        client_id: str,
        client_secret: str,
        store_url_template: str,
        api_url: str,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if "{store}" not in store_url_template:
            raise ValueError("store_url_template must contain {store}")
        parts = urlsplit(api_url)
        self._http = http
        self._client_id = client_id
        self._client_secret = client_secret
        self._store_url_template = store_url_template.rstrip("/")
        self._api_origin = f"{parts.scheme}://{parts.netloc}"
        self._now = now
        self._sleep = sleep

    def store_url(self, store_name: str) -> str:
        return self._store_url_template.replace("{store}", store_name)

    def authorize_url(self, store_name: str, redirect_uri: str, scopes: Sequence[str], state: str | None) -> str:
        """Where to send the merchant to install or re-authorize Bridge (fact sheet §2.3): the scopes are one
        comma-separated parameter, and `redirect_uri` must equal the address registered for the app."""
        params = {"client_id": self._client_id, "redirect_uri": redirect_uri, "scope": ",".join(scopes)}
        if state is not None:
            params["state"] = state
        return f"{self.store_url(store_name)}/api/admin/oauth/authorize?{urlencode(params)}"

    def exchange_code(self, store_name: str, code: str, redirect_uri: str) -> TokenSet:
        """Trades the callback's code for tokens. A code works once, so a lost answer is OutcomeUnknown (the
        merchant installs again); verify the callback signature before calling this."""
        form = {
            "grant_type": "authorization_code",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "code": code,
            "redirect_uri": redirect_uri,
        }
        return self._token(self._token_url(store_name), form, "the authorization code exchange", consumes=True)

    def refresh(self, refresh_token: str) -> TokenSet:
        """A new access token (and a new refresh token, to be stored at once) for a public app's installation.
        The old refresh token may stop working once used, so a lost answer is OutcomeUnknown."""
        form = {
            "grant_type": "refresh_token",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "refresh_token": refresh_token,
        }
        return self._token(f"{self._api_origin}/api/admin/oauth/token", form, "the token refresh", consumes=True)

    def client_credentials(self, store_name: str) -> TokenSet:
        """A private app's token (no refresh token: ask again when it expires). It consumes nothing, so a
        timeout, 429 or 5xx is retried here a few times."""
        form = {"grant_type": "client_credentials", "client_id": self._client_id, "client_secret": self._client_secret}
        url = self._token_url(store_name)
        for attempt in range(1, _CLIENT_CREDENTIALS_ATTEMPTS + 1):
            try:
                return self._token(url, form, "the client credentials grant", consumes=False)
            except UpstreamUnavailable:
                if attempt == _CLIENT_CREDENTIALS_ATTEMPTS:
                    raise
                self._sleep(0.2 * 2**attempt)
        raise AssertionError("unreachable")

    def _token_url(self, store_name: str) -> str:
        return f"{self.store_url(store_name)}/api/admin/oauth/token"

    def _token(self, url: str, form: Mapping[str, str], what: str, *, consumes: bool) -> TokenSet:
        lost: type[UpstreamUnavailable] = OutcomeUnknown if consumes else UpstreamUnavailable
        try:
            response = self._http.post(url, data=dict(form), headers={"Accept": "application/json"})
        except _NEVER_SENT as error:
            raise UpstreamUnavailable(UPSTREAM, f"{what} never reached ikas: {type(error).__name__}") from error
        except httpx.TransportError as error:
            raise lost(UPSTREAM, f"{what} was sent but ikas's answer was lost: {type(error).__name__}") from error
        status = response.status_code
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        if status == 429 or status >= 500:
            raise (UpstreamUnavailable if status == 429 else lost)(
                UPSTREAM, f"ikas answered {status} to {what}", status=status
            )
        if status != 200:
            code = str(body.get("error")) if isinstance(body, dict) and body.get("error") else None
            description = body.get("error_description") if isinstance(body, dict) else None
            detail = f"ikas refused {what} ({code or status}{': ' + str(description) if description else ''})"
            if code == "invalid_client":
                hint = "Bridge's ikas client id or secret is wrong: check BRIDGE_IKAS_CLIENT_ID and its secret."
            else:
                hint = "Install or authorize Bridge again from the ikas admin."
            raise UpstreamRejected(UPSTREAM, detail, status=status, upstream_code=code, extra={"hint": hint})
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise lost(UPSTREAM, f"ikas's answer to {what} is not a token response", status=status)
        try:
            expires_in_s = int(body.get("expires_in", 0))
        except (TypeError, ValueError):
            raise lost(UPSTREAM, f"ikas's answer to {what} has no usable expires_in", status=status) from None
        refresh_token = body.get("refresh_token")
        scope = body.get("scope")
        return TokenSet(
            access_token=body["access_token"],
            token_type=str(body.get("token_type") or "Bearer"),
            expires_at=self._now() + timedelta(seconds=expires_in_s),
            scope=scope if isinstance(scope, str) else None,
            refresh_token=refresh_token if isinstance(refresh_token, str) and refresh_token else None,
        )


def _hmac_hex(secret: str, message: str) -> str:
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def _same(expected_hex: str, given: str) -> bool:
    """Constant-time comparison; bytes, because compare_digest refuses non-ASCII str (a forged value)."""
    return hmac.compare_digest(expected_hex.encode("ascii"), given.strip().lower().encode("utf-8"))


def verify_callback_signature(code: str, signature: str, client_secret: str) -> bool:
    """The OAuth callback's `signature` is hex HMAC-SHA256 of `code` keyed with the client secret (§2.3)."""
    if not code or not signature:
        return False
    return _same(_hmac_hex(client_secret, code), signature)


def verify_dashboard_parameters(
    store_name: str,
    merchant_id: str,
    timestamp_ms: str | int,
    signature: str,
    client_secret: str,
    now: datetime,
) -> bool:
    """The query parameters ikas appends when it opens the app (§3.2): signature = hex HMAC-SHA256 of
    storeName + merchantId + timestamp, and the timestamp at most 120 s from now.

    The SDK accepts any timestamp in the future; Bridge allows the same 120 s either way (clock skew),
    so a captured link cannot be replayed later. authorizedAppId is not signed: bind it to the stored
    installation of this merchant, never trust it alone."""
    if not (store_name and merchant_id and signature):
        return False
    try:
        stamp = int(str(timestamp_ms))
    except ValueError:
        return False
    now_ms = int(now.timestamp() * 1000)
    if abs(now_ms - stamp) >= DASHBOARD_SIGNATURE_WINDOW_MS:
        return False
    # the HMAC covers the timestamp exactly as ikas sent it (the SDK concatenates the query strings)
    expected = _hmac_hex(client_secret, f"{store_name}{merchant_id}{timestamp_ms}")
    return _same(expected, signature)


def decode_dashboard_jwt(token: str, client_secret: str, audience: str | None) -> dict[str, Any]:
    """The claims of an App Bridge token (§3.1): HS256 with the client secret, `sub` = merchantId,
    `aud` = authorizedAppId, `exp` required. Only HS256 is accepted (no `none`, no key confusion).
    With `audience` None the audience is read, not checked; the caller then binds it to a stored
    installation. Raises Unauthenticated with a plain reason."""
    options: Options = {"require": ["exp", "sub", "aud"], "verify_aud": audience is not None}
    try:
        claims: dict[str, Any] = jwt.decode(
            token, client_secret, algorithms=["HS256"], audience=audience, options=options
        )
    except jwt.ExpiredSignatureError as error:
        raise Unauthenticated("the ikas dashboard token has expired; reload the app in the ikas admin") from error
    except jwt.InvalidAudienceError as error:
        raise Unauthenticated("the ikas dashboard token was issued for another installation") from error
    except jwt.MissingRequiredClaimError as error:
        raise Unauthenticated(f"the ikas dashboard token lacks the '{error.claim}' claim") from error
    except jwt.InvalidTokenError as error:
        raise Unauthenticated("the ikas dashboard token is not valid (bad signature or format)") from error
    return claims
