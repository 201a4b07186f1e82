"""Configuration from the environment (product.md §10): defaults, one line per bad variable, exit 2."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest

from bridge_platform.settings import BridgeSettings, Mode


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("BRIDGE_") or name == "OTEL_EXPORTER_OTLP_ENDPOINT":
            monkeypatch.delenv(name)


def test_local_defaults_need_no_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    settings = BridgeSettings()

    assert settings.mode is Mode.LOCAL
    assert settings.gateway_port == 8080
    assert settings.public_url == "http://localhost:8080"
    assert settings.catalog_database_url == f"sqlite:///{tmp_path / '.data' / 'catalog.db'}"
    assert settings.fortnox_api_url == "https://api.fortnox.se"
    assert settings.ikas_store_url == "https://{store}.myikas.com"
    assert settings.sync_interval_s == 300
    assert settings.retention_days == 30
    assert settings.queue_url is None
    assert settings.otel_exporter_otlp_endpoint is None


def test_local_secrets_are_generated_once_into_the_data_directory(tmp_path: Path) -> None:
    settings = BridgeSettings(data_dir=tmp_path)

    token, keys = settings.service_token_value(), settings.vault_keys()

    assert token == BridgeSettings(data_dir=tmp_path).service_token_value()
    assert [len(key) for key in keys] == [32]
    assert (tmp_path / "vault.key").stat().st_mode & 0o077 == 0  # readable by the owner only


def test_vault_keys_rotate_newest_first() -> None:
    old, new = (base64.b64encode(bytes([n]) * 32).decode() for n in (1, 2))

    settings = BridgeSettings(vault_key=f"{new},{old}")

    assert settings.vault_keys() == [bytes([2]) * 32, bytes([1]) * 32]


def run_with(environment: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    program = "from bridge_platform.settings import load_settings; load_settings(); print('loaded')"
    return subprocess.run(
        [sys.executable, "-c", program],
        env={"PATH": "/usr/bin:/bin", **environment},
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )


def test_a_bad_value_stops_with_one_line_per_variable_and_exit_code_2(tmp_path: Path) -> None:
    result = run_with(
        {
            "BRIDGE_GATEWAY_PORT": "abc",
            "BRIDGE_MODE": "staging",
            "BRIDGE_CATALOG_ADDR": "catalog",
            "BRIDGE_VAULT_KEY": "short",
        },
        tmp_path,
    )

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert sorted(line.split(":")[0] for line in lines) == [
        "BRIDGE_CATALOG_ADDR",
        "BRIDGE_GATEWAY_PORT",
        "BRIDGE_MODE",
        "BRIDGE_VAULT_KEY",
    ]
    assert "short" not in result.stderr  # a secret's value is never echoed
    assert "'abc'" in result.stderr


def test_production_requires_what_every_process_needs(tmp_path: Path) -> None:
    result = run_with({"BRIDGE_MODE": "production"}, tmp_path)

    assert result.returncode == 2
    assert sorted(line.split(":")[0] for line in result.stderr.strip().splitlines()) == [
        "BRIDGE_PUBLIC_URL",
        "BRIDGE_SERVICE_TOKEN",
    ]


PRODUCTION = {
    "BRIDGE_MODE": "production",
    "BRIDGE_PUBLIC_URL": "https://bridge.example.com",
    "BRIDGE_SERVICE_TOKEN": "t" * 32,
}


def test_a_service_requires_its_own_database_and_nothing_of_the_others(tmp_path: Path) -> None:
    settings = BridgeSettings(mode="production", public_url="https://b.example", service_token="t")

    assert settings.missing_for_production(["catalog_database_url"]) == [
        "BRIDGE_CATALOG_DATABASE_URL: required when BRIDGE_MODE=production"
    ]
    assert settings.auth_database_url == ""  # no SQLite default in production
    with pytest.raises(ValueError, match="BRIDGE_VAULT_KEY"):
        settings.vault_keys()  # never a generated key in production


@pytest.mark.parametrize(
    ("service", "command", "needs"),
    [
        ("catalog", "migrate", ["BRIDGE_CATALOG_DATABASE_URL"]),
        ("auth", "migrate", ["BRIDGE_AUTH_DATABASE_URL"]),  # no migration reads the vault key
        ("auth", "serve", ["BRIDGE_AUTH_DATABASE_URL", "BRIDGE_VAULT_KEY"]),
    ],
)
def test_serve_and_migrate_name_what_the_service_lacks_in_production(
    service: str, command: str, needs: list[str], tmp_path: Path
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", f"bridge_{service}", command],
        env={"PATH": "/usr/bin:/bin", **PRODUCTION},
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert [line.split(":")[0] for line in result.stderr.strip().splitlines()] == needs


def test_a_good_configuration_loads(tmp_path: Path) -> None:
    result = run_with({"BRIDGE_GATEWAY_PORT": "9090", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}, tmp_path)

    assert (result.returncode, result.stdout.strip()) == (0, "loaded")
