"""The sandboxes as real processes, an auth server on port 0 wired to them, and helpers that drive the
consent pages over HTTP like a browser would."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from sqlalchemy import Engine

from bridge.auth.v1 import auth_pb2_grpc
from bridge_auth.bootstrap import MIGRATIONS, Services, build
from bridge_auth.entrypoints.grpc_servicer import register
from bridge_platform.db import make_engine, upgrade_to_head
from bridge_platform.grpc_client import grpc_channel
from bridge_platform.grpc_server import ManagedServer, create_server
from bridge_platform.settings import BridgeSettings, Mode, load_settings
from bridge_sandboxes.process import running_sandbox

REPO = Path(__file__).resolve().parents[4]
SERVICE_TOKEN = "service-token-for-tests"
FORTNOX_REDIRECT = "http://localhost:8080/oauth/fortnox/callback"
IKAS_REDIRECT = "http://localhost:8080/ikas/callback"


@pytest.fixture(scope="session")
def fortnox_sandbox() -> Iterator[str]:
    with running_sandbox("fortnox") as url:
        yield url


@pytest.fixture(scope="session")
def ikas_sandbox() -> Iterator[str]:
    with running_sandbox("ikas") as url:
        yield url


@pytest.fixture
def fortnox_url(fortnox_sandbox: str) -> str:
    admin = httpx.Client(base_url=fortnox_sandbox, timeout=30)
    for path, body in (
        ("/reset", {}),
        ("/seed", {"dataset": "demo"}),
        ("/rate-limit", {"limit": 10_000, "window_s": 5}),
    ):
        assert admin.post(f"/__admin{path}", json=body).status_code < 300
    return fortnox_sandbox


@pytest.fixture
def ikas_url(ikas_sandbox: str) -> str:
    assert httpx.post(f"{ikas_sandbox}/__admin/reset", json={}, timeout=30).status_code < 300
    return ikas_sandbox


def sandbox_env(fortnox_url: str, ikas_url: str) -> dict[str, str]:
    return {
        "fortnox_api_url": fortnox_url,
        "fortnox_auth_url": fortnox_url,
        "ikas_api_url": ikas_url,  # BRIDGE_IKAS_API_URL is the API host; the client adds the v1 path
        "ikas_store_url": f"{ikas_url}/stores/{{store}}",
    }


@pytest.fixture
def settings(tmp_path: Path, database_url: str, fortnox_url: str, ikas_url: str) -> BridgeSettings:
    overrides: dict[str, Any] = {
        "mode": Mode.LOCAL,
        "data_dir": tmp_path,
        "auth_database_url": database_url,
        "service_token": SERVICE_TOKEN,
        **sandbox_env(fortnox_url, ikas_url),
    }
    return load_settings(BridgeSettings, **overrides)


@dataclass
class Auth:
    """A running auth server and its stubs; `engine` reads the database as a test would."""

    address: str
    services: Services
    engine: Engine
    settings: BridgeSettings

    def stub(self, name: str) -> Any:
        return getattr(auth_pb2_grpc, f"{name}Stub")(grpc_channel(self.address, service_token=SERVICE_TOKEN))


@pytest.fixture
def auth(settings: BridgeSettings) -> Iterator[Auth]:
    upgrade_to_head(MIGRATIONS, settings.auth_database_url)
    services = build(settings, purgers=[])
    server: ManagedServer
    server, port = create_server("127.0.0.1:0", partial(register, services), service_token=SERVICE_TOKEN)
    server.start()
    engine = make_engine(settings.auth_database_url)
    try:
        yield Auth(f"127.0.0.1:{port}", services, engine, settings)
    finally:
        server.stop(0)
        engine.dispose()
        assert services.engine is not None
        services.engine.dispose()


class _Forms(HTMLParser):
    """The first form of a consent page: its action and fields (hidden inputs, the selected option)."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = values.get("action", "")
        elif tag == "input" and "name" in values:
            self.fields[values["name"]] = values.get("value", "")
        elif tag == "select":
            self._select = values.get("name")
        elif tag == "option" and self._select and ("selected" in values or self._select not in self.fields):
            self.fields[self._select] = values.get("value", "")


def consent(authorize_url: str, *, decision: str = "approve", **choices: str) -> dict[str, str]:
    """Opens the consent page, submits it, and returns the query of the redirect back to Bridge."""
    with httpx.Client(timeout=30) as browser:
        page = browser.get(authorize_url)
        assert page.status_code == 200, page.text
        form = _Forms()
        form.feed(page.text)
        target = urljoin(authorize_url, form.action or urlsplit(authorize_url).path)
        # Empty fields are left out: the Fortnox sandbox refuses an empty account_type, which a browser
        # would send (reported; the sandbox is not ours to change here).
        fields = {name: value for name, value in form.fields.items() if value}
        answer = browser.post(target, data={**fields, **choices, "decision": decision})
    assert answer.status_code in (302, 303), answer.text
    location = answer.headers["location"]
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


TOKEN_LIKE = re.compile(r"^[A-Za-z0-9._~+/=-]{20,}$")
