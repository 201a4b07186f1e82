"""`python -m bridge_gateway serve` as a real process: it answers, and stops cleanly on SIGTERM and SIGINT."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_answering(url: str, process: subprocess.Popen[str], timeout_s: float = 20.0) -> httpx.Response:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the gateway exited early: {process.communicate()[1]}")
        try:
            return httpx.get(url, timeout=1.0)
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail("the gateway did not answer in time")


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_serve_answers_and_stops_cleanly(tmp_path: Path, stop: signal.Signals) -> None:
    port = free_port()
    environment = {
        **os.environ,
        "BRIDGE_MODE": "local",
        "BRIDGE_DATA_DIR": str(tmp_path),
        "BRIDGE_GATEWAY_PORT": str(port),
        "BRIDGE_SERVICE_TOKEN": "service-token-for-tests",
        # Nothing listens there: liveness must not care, readiness must say so.
        "BRIDGE_AUTH_ADDR": f"127.0.0.1:{free_port()}",
        "BRIDGE_CATALOG_ADDR": f"127.0.0.1:{free_port()}",
        "BRIDGE_ORDERS_ADDR": f"127.0.0.1:{free_port()}",
    }
    environment.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "bridge_gateway", "serve"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        healthz = wait_until_answering(f"http://127.0.0.1:{port}/healthz", process)
        readyz = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10.0)

        process.send_signal(stop)
        _, stderr = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert healthz.json() == {"status": "ok"}
    assert readyz.status_code == 503
    assert process.returncode == 0
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]  # structured logs only
    assert any(line["message"] == "stopped" for line in lines)
