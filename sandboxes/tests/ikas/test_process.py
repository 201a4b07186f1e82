"""The sandbox as a real process: `python -m bridge_sandboxes.ikas --port P`, over HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "bridge_sandboxes.ikas", "--port", str(port)])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{url}/__admin/clock", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_token_and_query_over_http(base_url: str) -> None:
    token = httpx.post(
        f"{base_url}/stores/demo/api/admin/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "bridge-local", "client_secret": "bridge-local-secret"},
    )
    assert token.status_code == 200
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    body = httpx.post(
        f"{base_url}/api/v1/admin/graphql",
        headers=headers,
        json={"query": "{ getMerchant { storeName } listProduct(pagination: {limit: 200}) { count } }"},
    )
    assert body.status_code == 200
    assert body.json()["data"] == {"getMerchant": {"storeName": "demo"}, "listProduct": {"count": 30}}
    calls = httpx.get(f"{base_url}/__admin/calls").json()
    assert any(c["path"] == "/api/v1/admin/graphql" and c["key"] == "demo" for c in calls)
