"""The clients built from Bridge's settings reach the configured servers: only base URLs differ."""

from __future__ import annotations

from pathlib import Path

import httpx

from bridge_platform.settings import BridgeSettings
from bridge_upstreams.wiring import fortnox_client, fortnox_oauth


class AdminTokens:
    """Tokens minted by the sandbox's admin API, as the auth service's vault would hand them out."""

    def __init__(self, sandbox_url: str) -> None:
        self._sandbox_url = sandbox_url

    def access_token(self, tenant_id: str) -> str:
        answer = httpx.post(f"{self._sandbox_url}/__admin/tokens", json={"tenant_id": int(tenant_id)}, timeout=10)
        return str(answer.json()["access_token"])

    def report_rejected(self, tenant_id: str, token: str) -> None:
        pass


def test_the_fortnox_client_from_settings_talks_to_the_configured_server(sandbox_url: str, tmp_path: Path) -> None:
    settings = BridgeSettings(data_dir=tmp_path, fortnox_api_url=sandbox_url, fortnox_auth_url=sandbox_url)

    company = fortnox_client(settings, AdminTokens(sandbox_url)).company_information("1001")

    assert company.name == "Demo AB"


def test_the_fortnox_oauth_from_settings_uses_the_configured_client(sandbox_url: str, tmp_path: Path) -> None:
    settings = BridgeSettings(data_dir=tmp_path, fortnox_auth_url=sandbox_url)

    url = fortnox_oauth(settings).authorize_url("state-1", "http://localhost:8080/oauth/fortnox/callback", ["article"])

    assert url.startswith(f"{sandbox_url}/oauth-v1/auth?")
    assert "client_id=bridge-local" in url
    assert httpx.get(url, timeout=10).status_code == 200  # the sandbox knows Bridge's local client
