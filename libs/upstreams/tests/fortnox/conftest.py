"""Contract-test fixtures: the Fortnox sandbox as a real process, driven over real HTTP.

The sandbox (`python -m bridge_sandboxes.fortnox --port P --seed demo`) starts once per session and is
reset and re-seeded before each test. Each test gets a `FortnoxClient` over a real `UpstreamTransport`,
whose tokens come from the sandbox (`/__admin/tokens`) and are refreshed through its real OAuth token
endpoint when the transport reports a 401.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge_sandboxes.process import running_sandbox
from bridge_upstreams.fortnox.client import FortnoxClient
from bridge_upstreams.fortnox.oauth import FortnoxOAuth
from bridge_upstreams.rate_budget import RateBudget, make_rate_budget
from bridge_upstreams.transport import RetryEvent, RetryPolicy, UpstreamTransport

DEMO_TENANT = "1001"
OTHER_TENANT = "1002"
CLIENT_ID, CLIENT_SECRET = "bridge-local", "bridge-local-secret"
SCOPES = "article customer order invoice price companyinformation settings currency payment warehouse"


@pytest.fixture(scope="session")
def sandbox_url() -> Iterator[str]:
    with running_sandbox("fortnox") as url:
        yield url


class Admin:
    """The sandbox's /__admin/ API."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=30)

    def post(self, path: str, body: Any = None) -> Any:
        response = self.http.post(f"/__admin{path}", json=body if body is not None else {})
        assert response.status_code < 300, f"{path}: {response.status_code} {response.text}"
        return response.json()

    def get(self, path: str) -> Any:
        response = self.http.get(f"/__admin{path}")
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
        return response.json()

    def has(self, path: str, method: str = "GET") -> bool:
        """Whether the sandbox serves an (admin or API) route yet."""
        spec = self.http.get("/__admin/openapi.json").json()
        return any(
            _path_matches(template, path) and method.lower() in operations
            for template, operations in spec.get("paths", {}).items()
        )

    def fault(self, kind: str, **fields: Any) -> None:
        self.post("/faults", {"kind": kind, **fields})

    def calls(self, method: str | None = None, path_contains: str = "") -> list[dict[str, Any]]:
        return [
            call
            for call in self.get("/calls")
            if (method is None or call["method"] == method) and path_contains in call["path"]
        ]

    def now(self) -> str:
        return str(self.get("/clock")["now"])


def _path_matches(template: str, path: str) -> bool:
    template_parts, path_parts = template.strip("/").split("/"), path.strip("/").split("/")
    return len(template_parts) == len(path_parts) and all(
        t == p or (t.startswith("{") and t.endswith("}")) for t, p in zip(template_parts, path_parts, strict=True)
    )


@dataclass
class SandboxTokens:
    """A TokenSource over the sandbox: first tokens from /__admin/tokens, refreshes through OAuth."""

    admin: Admin
    oauth: FortnoxOAuth
    scopes: str = SCOPES
    access: dict[str, str] = field(default_factory=dict)
    refresh: dict[str, str] = field(default_factory=dict)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def access_token(self, tenant_id: str) -> str:
        with self.lock:
            if tenant_id not in self.access:
                minted = self.admin.post("/tokens", {"tenant_id": int(tenant_id), "scopes": self.scopes})
                self.access[tenant_id] = minted["access_token"]
                self.refresh[tenant_id] = minted["refresh_token"]
            return self.access[tenant_id]

    def report_rejected(self, tenant_id: str, token: str) -> None:
        with self.lock:
            self.rejected.append((tenant_id, token))
            if self.access.get(tenant_id) != token:
                return  # already replaced
            fresh = self.oauth.refresh(self.refresh[tenant_id])
            self.access[tenant_id] = fresh.access_token
            assert fresh.refresh_token is not None
            self.refresh[tenant_id] = fresh.refresh_token


@dataclass
class Fortnox:
    """Everything a contract test needs."""

    url: str
    admin: Admin
    client: FortnoxClient
    transport: UpstreamTransport
    tokens: SandboxTokens
    oauth: FortnoxOAuth
    retries: list[RetryEvent]
    budget: RateBudget
    http: httpx.Client


@pytest.fixture
def admin(sandbox_url: str) -> Iterator[Admin]:
    made = Admin(sandbox_url)
    made.post("/reset")
    made.post("/seed", {"dataset": "demo"})
    made.post("/rate-limit", {"limit": 10_000, "window_s": 5})  # functional tests run unthrottled
    yield made
    made.http.close()


def make_fortnox(
    sandbox_url: str,
    admin: Admin,
    data_dir: Path,
    *,
    rates: list[tuple[int, float]] | None = None,
    read_timeout_s: float = 5.0,
    retry: RetryPolicy | None = None,
) -> Fortnox:
    http = httpx.Client(timeout=httpx.Timeout(read_timeout_s, connect=5.0))
    oauth = FortnoxOAuth(http, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, auth_url=sandbox_url)
    tokens = SandboxTokens(admin, oauth)
    budget = make_rate_budget("fortnox", rates or [(10_000, 5.0)], url=None, data_dir=data_dir)
    retries: list[RetryEvent] = []
    transport = UpstreamTransport(
        upstream="fortnox",
        http=http,
        tokens=tokens,
        budget=budget,
        retry=retry or RetryPolicy(max_attempts=4, base_delay_s=0.05, max_delay_s=0.5),
        on_retry=retries.append,
    )
    return Fortnox(
        sandbox_url, admin, FortnoxClient(transport, sandbox_url), transport, tokens, oauth, retries, budget, http
    )


@pytest.fixture(name="make_fortnox")
def make_fortnox_fixture() -> Any:
    """`make_fortnox` itself, for tests that need other timeouts, rates or retry policies."""
    return make_fortnox


@pytest.fixture
def fortnox(sandbox_url: str, admin: Admin, tmp_path: Path) -> Iterator[Fortnox]:
    made = make_fortnox(sandbox_url, admin, tmp_path)
    yield made
    made.budget.close()
    made.http.close()


def require(admin: Admin, path: str, method: str = "GET") -> None:
    """Skips the test (naming the route) while the sandbox does not serve it yet."""
    if not admin.has(path, method):
        pytest.skip(f"the Fortnox sandbox does not serve {method} {path} yet")
