"""ikas over HTTP for the auth service: OAuth and signature checks (bridge_upstreams.ikas.oauth) and the store
behind a fresh token (IkasClient). Translates, decides nothing."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bridge_auth.adapters.fortnox_http import PresentedTokens
from bridge_auth.app.ports import IkasInstallation
from bridge_auth.domain.connections import GrantRejected, IssuedTokens
from bridge_platform.errors import UpstreamRejected
from bridge_upstreams.ikas.client import IkasClient
from bridge_upstreams.ikas.oauth import (
    IkasOAuth,
    TokenSet,
    decode_dashboard_jwt,
    verify_callback_signature,
    verify_dashboard_parameters,
)


def issued(tokens: TokenSet) -> IssuedTokens:
    scopes = tuple(part.strip() for part in (tokens.scope or "").split(",") if part.strip())
    return IssuedTokens(tokens.access_token, tokens.refresh_token, tokens.expires_at, scopes)


class HttpIkasAuthorization:
    """IkasAuthorization over IkasOAuth and the client secret."""

    def __init__(self, oauth: IkasOAuth, client_secret: str) -> None:
        self._oauth, self._secret = oauth, client_secret

    def authorize_url(self, store_name: str, redirect_uri: str, scopes: Sequence[str], state: str | None) -> str:
        return self._oauth.authorize_url(store_name, redirect_uri, scopes, state)

    def exchange_code(self, store_name: str, code: str, redirect_uri: str) -> IssuedTokens:
        return issued(self._oauth.exchange_code(store_name, code, redirect_uri))

    def refresh(self, refresh_token: str) -> IssuedTokens:
        try:
            return issued(self._oauth.refresh(refresh_token))
        except UpstreamRejected as error:
            if error.upstream_code == "invalid_grant":
                raise GrantRejected(
                    "ikas", error.detail, status=error.status, upstream_code=error.upstream_code
                ) from error
            raise

    def is_callback_signed(self, code: str, signature: str) -> bool:
        return verify_callback_signature(code, signature, self._secret)

    def are_dashboard_parameters_signed(
        self, store_name: str, merchant_id: str, timestamp_ms: str, signature: str, now: datetime
    ) -> bool:
        return verify_dashboard_parameters(store_name, merchant_id, timestamp_ms, signature, self._secret, now)

    def dashboard_claims(self, token: str, audience: str | None) -> dict[str, Any]:
        return decode_dashboard_jwt(token, self._secret, audience)

    def is_webhook_signed(self, data: str, signature: str) -> bool:
        """ikas-api.md §8: hex HMAC-SHA256 of the raw `data` string (UTF-8) keyed with the client secret."""
        if not signature:
            return False
        expected = hmac.new(self._secret.encode("utf-8"), data.encode("utf-8"), hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected.encode("ascii"), signature.strip().lower().encode("utf-8"))


class HttpIkasStore:
    """IkasStore over IkasClient, whose TokenSource is `tokens` (a PresentedTokens)."""

    def __init__(self, client: IkasClient, tokens: PresentedTokens) -> None:
        self._client, self._tokens = client, tokens

    def installation(self, budget_key: str, access_token: str) -> IkasInstallation:
        with self._tokens.presenting(access_token):
            merchant = self._client.get_merchant(budget_key)
            app = self._client.get_authorized_app(budget_key)
        return IkasInstallation(merchant.id, merchant.store_name, merchant.email or None, app.id, app.scope)

    def register_webhooks(self, budget_key: str, access_token: str, endpoint: str, scopes: Sequence[str]) -> None:
        with self._tokens.presenting(access_token):
            self._client.save_webhooks(budget_key, endpoint, scopes)
