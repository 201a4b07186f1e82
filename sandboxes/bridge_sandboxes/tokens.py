"""Access tokens straight from running sandboxes, for scripts that build a service without the auth service
(the benchmarks). Each is a TokenSource (bridge_upstreams.tokens): one token, fetched on first use, dropped when an
upstream rejects it."""

from __future__ import annotations

import httpx

from bridge_sandboxes.ikas.seed import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET


class FortnoxSandboxTokens:
    """A token of one sandbox company with the given scopes (the sandbox's /__admin/tokens)."""

    def __init__(self, url: str, company: int, scopes: str) -> None:
        self._url, self._company, self._scopes, self._token = url, company, scopes, ""

    def access_token(self, tenant_id: str) -> str:
        if not self._token:
            body = {"tenant_id": self._company, "scopes": self._scopes}
            self._token = httpx.post(f"{self._url}/__admin/tokens", json=body, timeout=30).json()["access_token"]
        return self._token

    def report_rejected(self, tenant_id: str, token: str) -> None:
        self._token = ""


class IkasSandboxTokens:
    """A client-credentials token of one sandbox store for the demo app."""

    def __init__(self, url: str, store: str) -> None:
        self._url, self._store, self._token = url, store, ""

    def access_token(self, tenant_id: str) -> str:
        if not self._token:
            form = {
                "grant_type": "client_credentials",
                "client_id": DEMO_CLIENT_ID,
                "client_secret": DEMO_CLIENT_SECRET,
            }
            answer = httpx.post(f"{self._url}/stores/{self._store}/api/admin/oauth/token", data=form, timeout=30)
            self._token = answer.json()["access_token"]
        return self._token

    def report_rejected(self, tenant_id: str, token: str) -> None:
        self._token = ""
