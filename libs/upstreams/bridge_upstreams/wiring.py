"""Builds the upstream clients from Bridge's settings, so a service's composition root needs one line.

One httpx client per process and upstream is the rule: a composition root calls each builder once
and shares the result (connection pooling; the rate budget is shared across processes anyway).
"""

from __future__ import annotations

from typing import Final

import httpx

from bridge_platform.settings import BridgeSettings
from bridge_upstreams.fortnox.client import FortnoxClient
from bridge_upstreams.fortnox.oauth import FortnoxOAuth
from bridge_upstreams.ikas.client import IkasClient
from bridge_upstreams.ikas.oauth import IkasOAuth
from bridge_upstreams.rate_budget import FORTNOX_RATES, IKAS_RATES, make_rate_budget
from bridge_upstreams.tokens import TokenSource
from bridge_upstreams.transport import UpstreamTransport

# Connect fast or give up; reads may be slow (large pages, PDFs) but never hang a worker forever.
HTTP_TIMEOUT: Final = httpx.Timeout(30.0, connect=5.0)
# The Admin API v1 (product.md: keep v1 behind the port, so a move to v2 touches one module).
IKAS_GRAPHQL_PATH: Final = "/api/v1/admin/graphql"


def http_client() -> httpx.Client:
    return httpx.Client(timeout=HTTP_TIMEOUT, headers={"User-Agent": "bridge (ikas-fortnox connector)"})


def fortnox_client(settings: BridgeSettings, tokens: TokenSource, *, http: httpx.Client | None = None) -> FortnoxClient:
    budget = make_rate_budget("fortnox", FORTNOX_RATES, url=settings.rate_budget_url, data_dir=settings.data_dir)
    transport = UpstreamTransport(upstream="fortnox", http=http or http_client(), tokens=tokens, budget=budget)
    return FortnoxClient(transport, settings.fortnox_api_url)


def ikas_client(settings: BridgeSettings, tokens: TokenSource, *, http: httpx.Client | None = None) -> IkasClient:
    budget = make_rate_budget("ikas", IKAS_RATES, url=settings.rate_budget_url, data_dir=settings.data_dir)
    transport = UpstreamTransport(upstream="ikas", http=http or http_client(), tokens=tokens, budget=budget)
    return IkasClient(transport, f"{settings.ikas_api_url}{IKAS_GRAPHQL_PATH}")


def fortnox_oauth(settings: BridgeSettings, *, http: httpx.Client | None = None) -> FortnoxOAuth:
    return FortnoxOAuth(
        http or http_client(),
        client_id=settings.fortnox_client_id,
        client_secret=settings.fortnox_client_secret.get_secret_value(),
        auth_url=settings.fortnox_auth_url,
    )


def ikas_oauth(settings: BridgeSettings, *, http: httpx.Client | None = None) -> IkasOAuth:
    return IkasOAuth(
        http or http_client(),
        client_id=settings.ikas_client_id,
        client_secret=settings.ikas_client_secret.get_secret_value(),
        store_url_template=settings.ikas_store_url,
        api_url=settings.ikas_api_url,
    )
