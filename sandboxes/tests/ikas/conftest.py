"""Fixtures for the ikas sandbox tests: an in-process app, tokens per store, a webhook receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bridge_sandboxes.ikas.app import build

CLIENT_ID, CLIENT_SECRET = "bridge-local", "bridge-local-secret"


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(build(), follow_redirects=False) as test_client:
        yield test_client


def store_token(client: TestClient, store: str = "demo") -> str:
    response = client.post(
        f"/stores/{store}/api/admin/oauth/token",
        data={"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


GQL = Callable[..., Any]


@pytest.fixture
def gql(client: TestClient) -> GQL:
    """gql(query, variables=None, store="demo", status=200) -> the JSON body."""
    tokens: dict[str, str] = {}

    def call(query: str, variables: dict[str, Any] | None = None, store: str = "demo", status: int = 200) -> Any:
        if store not in tokens:
            tokens[store] = store_token(client, store)
        response = client.post(
            "/api/v1/admin/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {tokens[store]}"},
        )
        assert response.status_code == status, response.text
        return response.json()

    return call


class Receiver:
    """A local HTTP server that records webhook POSTs and answers with the next status in `statuses`."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.received.append({"headers": dict(self.headers), "body": json.loads(body)})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/ikas"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def token_for(client: TestClient) -> Callable[[str], str]:
    def token(store: str = "demo") -> str:
        return store_token(client, store)

    return token
