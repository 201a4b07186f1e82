"""Fortnox over HTTP for the auth service: OAuth (bridge_upstreams' FortnoxOAuth) and the company behind a
fresh token (FortnoxClient). Translates, decides nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from bridge_auth.domain.connections import CompanyInformation, GrantRejected, IssuedTokens
from bridge_platform.errors import NotFound, UpstreamRejected
from bridge_upstreams.fortnox.client import FortnoxClient
from bridge_upstreams.fortnox.oauth import FortnoxOAuth, InvalidGrant, TokenSet


def issued(tokens: TokenSet) -> IssuedTokens:
    return IssuedTokens(tokens.access_token, tokens.refresh_token, tokens.expires_at, tokens.scopes)


class HttpFortnoxAuthorization:
    """FortnoxAuthorization over FortnoxOAuth; InvalidGrant becomes the domain's GrantRejected."""

    def __init__(self, oauth: FortnoxOAuth) -> None:
        self._oauth = oauth

    def authorize_url(self, state: str, redirect_uri: str, scopes: Sequence[str]) -> str:
        return self._oauth.authorize_url(state, redirect_uri, scopes, access_type="offline")

    def exchange_code(self, code: str, redirect_uri: str) -> IssuedTokens:
        try:
            return issued(self._oauth.exchange_code(code, redirect_uri))
        except InvalidGrant as error:
            raise UpstreamRejected(
                "fortnox",
                "Fortnox did not accept the authorization code (used or expired); connect again",
                status=error.status,
                upstream_code=error.upstream_code,
            ) from error

    def refresh(self, refresh_token: str) -> IssuedTokens:
        try:
            return issued(self._oauth.refresh(refresh_token))
        except InvalidGrant as error:
            raise GrantRejected(
                "fortnox", error.detail, status=error.status, upstream_code=error.upstream_code
            ) from error

    def revoke(self, refresh_token: str) -> None:
        self._oauth.revoke(refresh_token)


class PresentedTokens:
    """A TokenSource for a token that is not stored yet (just issued): the caller presents it for the
    duration of one call, per thread. A 401 is not refreshed here: the token is brand new."""

    def __init__(self) -> None:
        self._local = threading.local()

    @contextmanager
    def presenting(self, access_token: str) -> Iterator[None]:
        self._local.token = access_token
        try:
            yield
        finally:
            self._local.token = None

    def access_token(self, tenant_id: str) -> str:
        token = getattr(self._local, "token", None)
        if token is None:
            raise UpstreamRejected("upstream", "no access token presented for this call")
        return str(token)

    def report_rejected(self, tenant_id: str, token: str) -> None:
        pass


class HttpFortnoxCompany:
    """FortnoxCompany over FortnoxClient, whose TokenSource is `tokens` (a PresentedTokens)."""

    def __init__(self, client: FortnoxClient, tokens: PresentedTokens) -> None:
        self._client, self._tokens = client, tokens

    def read(self, budget_key: str, access_token: str) -> CompanyInformation:
        with self._tokens.presenting(access_token):
            company = self._client.company_information(budget_key)
            try:
                warehouse = self._client.warehouse_activated(budget_key)
            except (UpstreamRejected, NotFound):  # 403 without the module or rights, 404 where it is absent
                warehouse = False
        return CompanyInformation(company.name, company.organisation_number, warehouse)
