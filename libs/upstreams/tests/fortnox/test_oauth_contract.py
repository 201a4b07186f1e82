"""FortnoxOAuth against the sandbox's real OAuth endpoints: consent, code exchange, rotation, revoke."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bridge_platform.errors import UpstreamRejected
from bridge_upstreams.fortnox.oauth import FortnoxOAuth, InvalidGrant, tenant_id_of

Fortnox = Any
REDIRECT = "https://bridge.example/oauth/fortnox/callback"


def _approve(fortnox: Fortnox, url: str) -> str:
    """Plays the merchant on the consent page: approves, returns the callback's code."""
    query = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
    page = fortnox.http.get(url)
    assert page.status_code == 200
    answer = fortnox.http.post(
        f"{fortnox.url}/oauth-v1/auth/decision", data={**query, "decision": "approve"}, follow_redirects=False
    )
    assert answer.status_code == 302, answer.text
    callback = parse_qs(urlsplit(answer.headers["location"]).query)
    assert callback["state"] == [query["state"]]
    return callback["code"][0]


def test_code_exchange_refresh_rotation_and_revoke(fortnox: Fortnox) -> None:
    fortnox.admin.post(
        "/oauth-clients",
        {"client_id": "bridge-local", "client_secret": "bridge-local-secret", "redirect_uris": [REDIRECT]},
    )
    oauth: FortnoxOAuth = fortnox.oauth
    url = oauth.authorize_url("state-123", REDIRECT, ["article", "companyinformation"])
    assert "scope=article%20companyinformation" in url
    assert "access_type=offline" in url
    assert "response_type=code" in url
    code = _approve(fortnox, url)

    tokens = oauth.exchange_code(code, REDIRECT)
    assert tokens.refresh_token is not None
    assert tokens.scopes == ("article", "companyinformation")
    assert tenant_id_of(tokens.access_token) == "1001"
    assert "eyJ" not in repr(tokens)
    with pytest.raises(InvalidGrant):
        oauth.exchange_code(code, REDIRECT)  # single use

    rotated = oauth.refresh(tokens.refresh_token)
    assert rotated.refresh_token not in (None, tokens.refresh_token)
    with pytest.raises(InvalidGrant) as caught:
        oauth.refresh(tokens.refresh_token)  # the old one died with the rotation
    assert caught.value.upstream_code == "invalid_grant"
    assert "reconnect" in caught.value.detail.lower()

    assert rotated.refresh_token is not None
    oauth.revoke(rotated.refresh_token)
    with pytest.raises(InvalidGrant):
        oauth.refresh(rotated.refresh_token)


def test_bad_client_secret_is_rejected_but_not_invalid_grant(fortnox: Fortnox) -> None:
    wrong = FortnoxOAuth(httpx.Client(), client_id="bridge-local", client_secret="nope", auth_url=fortnox.url)
    with pytest.raises(UpstreamRejected) as caught:
        wrong.refresh("whatever")
    assert not isinstance(caught.value, InvalidGrant)
    assert caught.value.upstream_code == "invalid_client"
