"""Twenty concurrent GetAccessToken calls on an expired Fortnox token, spread over two auth server processes
sharing one database: exactly one refresh reaches Fortnox, nobody gets invalid_grant, everyone gets the new
token (product.md §1.4: a Fortnox refresh token is single use)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bridge.auth.v1 import auth_pb2, auth_pb2_grpc
from bridge_platform.grpc_client import grpc_channel
from bridge_sandboxes.process import free_port

from .conftest import REPO, SERVICE_TOKEN, Auth, sandbox_env
from .test_fortnox_connection import connect_fortnox, dev_tenant, expire_access_token, token_calls

CALLERS = 20


def start_server(settings_env: dict[str, str], data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        **{f"BRIDGE_{name.upper()}": value for name, value in settings_env.items()},
        "BRIDGE_DATA_DIR": str(data_dir),
        "BRIDGE_AUTH_ADDR": f"127.0.0.1:{port}",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bridge_auth", "serve"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    address = f"127.0.0.1:{port}"
    health = health_pb2_grpc.HealthStub(grpc.insecure_channel(address))
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            pytest.fail(f"the auth server exited with {process.returncode}")
        try:
            if (
                health.Check(health_pb2.HealthCheckRequest(), timeout=1).status
                == health_pb2.HealthCheckResponse.SERVING
            ):
                return process, address
        except grpc.RpcError:
            pass
        if time.monotonic() > deadline:
            pytest.fail("the auth server did not start within 30 s")
        time.sleep(0.1)


@pytest.fixture
def two_servers(auth: Auth, fortnox_url: str, ikas_url: str, tmp_path: Path) -> Iterator[list[str]]:
    settings_env = {
        **sandbox_env(fortnox_url, ikas_url),
        "mode": "local",
        "auth_database_url": auth.settings.auth_database_url,
        "service_token": SERVICE_TOKEN,
    }
    started = [start_server(settings_env, tmp_path) for _ in range(2)]  # same data dir: same vault key
    try:
        yield [address for _, address in started]
    finally:
        for process, _ in started:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.kill(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)


def test_one_refresh_for_twenty_callers_in_two_processes(auth: Auth, fortnox_url: str, two_servers: list[str]) -> None:
    tenant_id = dev_tenant(auth)
    connect_fortnox(auth, tenant_id)
    request = auth_pb2.GetAccessTokenRequest(tenant_id=tenant_id, upstream=auth_pb2.UPSTREAM_FORTNOX)
    old = auth.stub("TokenService").GetAccessToken(request).access_token
    expire_access_token(auth, tenant_id)
    stubs = [
        auth_pb2_grpc.TokenServiceStub(grpc_channel(address, service_token=SERVICE_TOKEN, default_timeout_s=60))
        for address in two_servers
    ]
    calls_before = token_calls(fortnox_url)
    start = threading.Barrier(CALLERS)

    def get_token(caller: int) -> str:
        start.wait()
        return str(stubs[caller % 2].GetAccessToken(request).access_token)

    with ThreadPoolExecutor(CALLERS) as pool:
        tokens = list(pool.map(get_token, range(CALLERS)))  # an invalid_grant would raise here

    assert token_calls(fortnox_url) - calls_before == 1
    assert len(set(tokens)) == 1
    assert tokens[0] != old
    assert auth.stub("TokenService").GetAccessToken(request).access_token == tokens[0]
