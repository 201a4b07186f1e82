"""The ikas client and OAuth built from Bridge's settings reach the configured server (only base URLs differ)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bridge_platform.settings import BridgeSettings
from bridge_upstreams.wiring import ikas_client, ikas_oauth


def test_the_ikas_client_from_settings_talks_to_the_configured_server(
    sandbox: Any, tokens: Any, tmp_path: Path
) -> None:
    settings = BridgeSettings(
        data_dir=tmp_path, ikas_api_url=sandbox.base_url, ikas_store_url=sandbox.store_url_template
    )

    merchant = ikas_client(settings, tokens).get_merchant("demo")

    assert merchant.store_name == "demo"


def test_the_ikas_oauth_from_settings_points_at_the_store(sandbox: Any, tmp_path: Path) -> None:
    settings = BridgeSettings(
        data_dir=tmp_path, ikas_api_url=sandbox.base_url, ikas_store_url=sandbox.store_url_template
    )

    url = ikas_oauth(settings).authorize_url("demo", "http://localhost:8080/ikas/callback", ["read_products"], "s")

    assert url.startswith(f"{sandbox.base_url}/stores/demo/api/admin/oauth/authorize?")
