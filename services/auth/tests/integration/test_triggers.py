"""`python -m bridge_auth trigger --scope JOB`: what a CronJob runs; it asks the running service and reports failure."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from bridge_auth.bootstrap import MIGRATIONS, build
from bridge_auth.entrypoints.grpc_servicer import register
from bridge_platform.db import upgrade_to_head
from bridge_platform.grpc_server import create_server
from bridge_platform.settings import BridgeSettings


def trigger(job: str, data_dir: Path, address: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env.update(BRIDGE_DATA_DIR=str(data_dir), BRIDGE_AUTH_ADDR=address)
    return subprocess.run(
        [sys.executable, "-m", "bridge_auth", "trigger", "--scope", job],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def auth_address(tmp_path: Path) -> Iterator[str]:
    settings = BridgeSettings(data_dir=tmp_path)
    upgrade_to_head(MIGRATIONS, settings.auth_database_url)
    server, port = create_server(
        "127.0.0.1:0", partial(register, build(settings)), service_token=settings.service_token_value()
    )
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop(0)


@pytest.mark.parametrize(("job", "summary"), [("refresh-tokens", "refreshed 0"), ("purges", "tenants deleted 0")])
def test_a_trigger_runs_the_job_in_the_service(job: str, summary: str, auth_address: str, tmp_path: Path) -> None:
    result = trigger(job, tmp_path, auth_address)

    assert result.returncode == 0, result.stderr
    assert summary in result.stderr


def test_a_trigger_fails_when_the_service_is_unreachable(tmp_path: Path) -> None:
    result = trigger("purges", tmp_path, "127.0.0.1:1")

    assert result.returncode == 1
    assert "scheduled job failed" in result.stderr
