"""Fixtures for the Fortnox sandbox's tests: the app in process over Starlette's TestClient (the demo seed
loaded, the rate limit raised so only the rate-limit tests meet it), tokens minted through /__admin/, and
the sandbox as a real process on a free port."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any, cast

import httpx
import pytest

from bridge_sandboxes.common import Controls
from bridge_sandboxes.fortnox.app import create_app
from bridge_sandboxes.fortnox.seed import seed_demo
from bridge_sandboxes.fortnox.state import FortnoxState

with warnings.catch_warnings():  # starlette nudges towards httpx2, which is not installed here
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

DEMO, OTHER = 1001, 1002
ALL_SCOPES = "article customer order invoice price companyinformation settings currency payment warehouse"

Headers = dict[str, str]


@pytest.fixture
def state() -> FortnoxState:
    state = FortnoxState(controls=Controls())
    seed_demo(state)
    return state


@pytest.fixture
def client(state: FortnoxState) -> Iterator[TestClient]:
    with TestClient(cast(Any, create_app(state)), follow_redirects=False) as test_client:
        test_client.post("/__admin/rate-limit", json={"limit": 100_000, "window_s": 5})
        yield test_client


@pytest.fixture
def token_for(client: TestClient) -> Callable[..., Headers]:
    """Bearer headers for a tenant, minted through /__admin/tokens."""

    def mint(tenant_id: int = DEMO, scopes: str = ALL_SCOPES) -> Headers:
        answer = client.post("/__admin/tokens", json={"tenant_id": tenant_id, "scopes": scopes})
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    return mint


@pytest.fixture
def auth(token_for: Callable[..., Headers]) -> Headers:
    return token_for(DEMO)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def sandbox_url() -> Iterator[str]:
    """`python -m bridge_sandboxes.fortnox --port P` as a real process (demo seed), stopped afterwards."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bridge_sandboxes.fortnox", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{url}/__admin/clock", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the sandbox did not start: {process.stderr.read() if process.stderr else ''!r}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# --- sales documents: customers, orders, invoices, payments -----------------------------------------------------


class Api:
    """The /3/ API of one company over the TestClient, with its bearer token."""

    def __init__(self, client: TestClient, headers: Headers) -> None:
        self.client, self.headers = client, headers

    def get(self, path: str, **params: object) -> httpx.Response:
        return self.client.get(path, params={k: str(v) for k, v in params.items()}, headers=self.headers)

    def post(self, path: str, body: object) -> httpx.Response:
        return self.client.post(path, json=body, headers=self.headers)

    def put(self, path: str, body: object = None) -> httpx.Response:
        if body is None:
            return self.client.put(path, headers=self.headers)
        return self.client.put(path, json=body, headers=self.headers)

    def delete(self, path: str) -> httpx.Response:
        return self.client.delete(path, headers=self.headers)

    @staticmethod
    def error(answer: httpx.Response) -> tuple[int, int]:
        """(HTTP status, Fortnox error code) of an ErrorInformation answer."""
        return answer.status_code, int(answer.json()["ErrorInformation"]["code"])

    def created(self, path: str, root: str, fields: dict[str, object]) -> dict[str, Any]:
        answer = self.post(path, {root: fields})
        assert answer.status_code == 201, answer.text
        record: dict[str, Any] = answer.json()[root]
        return record


@pytest.fixture
def api(client: TestClient, auth: Headers) -> Api:
    return Api(client, auth)


@pytest.fixture
def customer_number(api: Api) -> str:
    """A Swedish private customer with an e-mail address, in Demo AB."""
    customer = api.created(
        "/3/customers",
        "Customer",
        {"Name": "Anna Andersson", "Email": "anna@example.se", "Type": "PRIVATE", "CountryCode": "SE"},
    )
    return str(customer["CustomerNumber"])
