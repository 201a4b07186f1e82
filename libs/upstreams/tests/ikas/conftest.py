"""The ikas sandbox as a real process, tokens through its OAuth, and IkasClient instances wired to it.

The sandbox (`python -m bridge_sandboxes.ikas --port P --seed demo`) starts once per session; every test
that uses it starts from a reset: the demo seed again, no faults, clock at now, empty call log, and a
rate limit high enough not to interfere unless the test lowers it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bridge_sandboxes.ikas.seed import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from bridge_sandboxes.process import running_sandbox
from bridge_upstreams.ikas.client import IkasClient
from bridge_upstreams.ikas.oauth import IkasOAuth, TokenSet, verify_callback_signature
from bridge_upstreams.rate_budget import make_rate_budget
from bridge_upstreams.transport import RetryPolicy, UpstreamTransport

REDIRECT_URI = "https://bridge.example/ikas/callback"
SCOPES = ("read_products", "write_products", "read_inventories", "write_inventories", "read_orders", "write_orders")
FAST_RETRIES = RetryPolicy(max_attempts=6, base_delay_s=0.05, max_delay_s=0.4)


@dataclass
class Sandbox:
    base_url: str
    admin: httpx.Client

    @property
    def graphql_url(self) -> str:
        return f"{self.base_url}/api/v1/admin/graphql"

    @property
    def store_url_template(self) -> str:
        return f"{self.base_url}/stores/{{store}}"

    def post(self, path: str, body: Any) -> Any:
        response = self.admin.post(f"/__admin/{path}", json=body)
        response.raise_for_status()
        return response.json()

    def get(self, path: str, **params: Any) -> Any:
        response = self.admin.get(f"/__admin/{path}", params=params)
        response.raise_for_status()
        return response.json()

    def fault(self, kind: str, **fields: Any) -> None:
        self.post("faults", {"kind": kind, "path": "/api/v1/admin/graphql", **fields})

    def advance_clock(self, seconds: float) -> None:
        self.post("clock", {"advance_s": seconds})

    def store_state(self, store: str = "demo") -> dict[str, Any]:
        stores: dict[str, dict[str, Any]] = self.get("state")["stores"]
        return stores[store]

    def graphql_calls(self) -> list[dict[str, Any]]:
        return [c for c in self.get("calls") if c["path"] == "/api/v1/admin/graphql"]


@pytest.fixture(scope="session")
def sandbox_process() -> Iterator[str]:
    with running_sandbox("ikas") as url:
        yield url


@pytest.fixture
def sandbox(sandbox_process: str) -> Iterator[Sandbox]:
    with httpx.Client(base_url=sandbox_process, timeout=30) as admin:
        box = Sandbox(sandbox_process, admin)
        # twice: /__admin/reset reseeds before it rewinds the clock, so after a test that moved the clock
        # one reset alone leaves seed timestamps in the future
        box.post("reset", {})
        box.post("reset", {})
        box.post("rate-limit", {"limit": 100_000, "window_s": 1.0})
        yield box


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=httpx.Timeout(10.0)) as client:
        yield client


def make_oauth(sandbox: Sandbox, http: httpx.Client, *, client_secret: str = DEMO_CLIENT_SECRET) -> IkasOAuth:
    return IkasOAuth(
        http,
        client_id=DEMO_CLIENT_ID,
        client_secret=client_secret,
        store_url_template=sandbox.store_url_template,
        api_url=sandbox.base_url,
        sleep=lambda _s: None,
    )


@pytest.fixture
def oauth(sandbox: Sandbox, http: httpx.Client) -> IkasOAuth:
    return make_oauth(sandbox, http)


def approve_install(
    http: httpx.Client, oauth: IkasOAuth, store: str, *, scopes: tuple[str, ...] = SCOPES, state: str | None = "s1"
) -> dict[str, str]:
    """Drives the sandbox's consent page like a merchant clicking Approve; returns the callback's parameters."""
    authorize_url = oauth.authorize_url(store, REDIRECT_URI, scopes, state)
    page = http.get(authorize_url)
    assert page.status_code == 200, page.text
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    form = {**{k: query.get(k, "") for k in ("client_id", "redirect_uri", "scope", "state")}, "decision": "approve"}
    decision = http.post(authorize_url.split("?", 1)[0], data=form)
    assert decision.status_code == 302, decision.text
    location = decision.headers["location"]
    assert location.startswith(REDIRECT_URI)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


class SandboxTokens:
    """TokenSource over the sandbox's OAuth; the tenant id is the store name.

    `grant="code"` installs through the consent page and the signed callback (with a refresh token);
    `grant="client_credentials"` is the private-app token (none). A rejected token is refreshed once."""

    def __init__(self, http: httpx.Client, oauth: IkasOAuth, grant: Literal["code", "client_credentials"]) -> None:
        self._http, self._oauth, self._grant = http, oauth, grant
        self.tokens: dict[str, TokenSet] = {}
        self.refreshes: list[str] = []

    def access_token(self, tenant_id: str) -> str:
        if tenant_id not in self.tokens:
            self.tokens[tenant_id] = self._obtain(tenant_id)
        return self.tokens[tenant_id].access_token

    def report_rejected(self, tenant_id: str, token: str) -> None:
        current = self.tokens.get(tenant_id)
        if current is None or current.access_token != token:
            return  # already replaced
        self.refreshes.append(tenant_id)
        if current.refresh_token:
            self.tokens[tenant_id] = self._oauth.refresh(current.refresh_token)
        else:
            self.tokens[tenant_id] = self._oauth.client_credentials(tenant_id)

    def _obtain(self, store: str) -> TokenSet:
        if self._grant == "client_credentials":
            return self._oauth.client_credentials(store)
        callback = approve_install(self._http, self._oauth, store)
        assert verify_callback_signature(callback["code"], callback["signature"], DEMO_CLIENT_SECRET)
        return self._oauth.exchange_code(store, callback["code"], REDIRECT_URI)


@pytest.fixture
def tokens(http: httpx.Client, oauth: IkasOAuth) -> SandboxTokens:
    return SandboxTokens(http, oauth, "code")


ClientFactory = Callable[..., IkasClient]


@pytest.fixture
def make_client(sandbox: Sandbox, tokens: SandboxTokens, tmp_path: Path) -> Iterator[ClientFactory]:
    """IkasClient factory: `make_client(retry=..., timeout_s=..., rates=..., token_source=...)`."""
    opened: list[Any] = []

    def make(
        *,
        retry: RetryPolicy = FAST_RETRIES,
        timeout_s: float = 10.0,
        rates: list[tuple[int, float]] | None = None,
        token_source: Any = None,
    ) -> IkasClient:
        budget = make_rate_budget("ikas", rates or [(100_000, 1.0)], url=None, data_dir=tmp_path / f"b{len(opened)}")
        http = httpx.Client(timeout=httpx.Timeout(timeout_s))
        opened.extend([budget, http])
        transport = UpstreamTransport(
            upstream="ikas", http=http, tokens=token_source or tokens, budget=budget, retry=retry
        )
        return IkasClient(transport, sandbox.graphql_url)

    yield make
    for resource in opened:
        resource.close()


@pytest.fixture
def ikas(make_client: ClientFactory) -> IkasClient:
    return make_client()
