"""The sandbox as a real process over real HTTP: `python -m bridge_sandboxes.fortnox --port P` with the demo
seed, the OAuth flow end to end, and a connection dropped after a create (a socket-level fault)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

REDIRECT = "http://localhost:9/callback"


def connect(url: str) -> dict[str, str]:
    """The demo seed's OAuth client goes through consent and the code exchange, as Bridge's auth service does."""
    params = {
        "client_id": "bridge-local",
        "redirect_uri": REDIRECT,
        "scope": "article companyinformation price",
        "state": "s1",
        "access_type": "offline",
        "response_type": "code",
    }
    with httpx.Client(base_url=url, timeout=10) as http:
        page = http.get("/oauth-v1/auth", params=params)
        assert page.status_code == 200
        assert "Demo AB" in page.text
        form = {k: v for k, v in params.items() if k != "response_type"} | {"decision": "approve"}
        redirect = http.post("/oauth-v1/auth/decision", data=form)
        assert redirect.status_code == 302
        code = parse_qs(urlsplit(redirect.headers["location"]).query)["code"][0]
        tokens = http.post(
            "/oauth-v1/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
            auth=("bridge-local", "bridge-local-secret"),
        )
        assert tokens.status_code == 200, tokens.text
        return {"Authorization": f"Bearer {tokens.json()['access_token']}"}


def test_the_process_serves_the_demo_company_over_http(sandbox_url: str) -> None:
    auth = connect(sandbox_url)
    with httpx.Client(base_url=sandbox_url, headers=auth, timeout=10) as http:
        info = http.get("/3/companyinformation").json()["CompanyInformation"]
        assert info["CompanyName"] == "Demo AB"
        assert info["DatabaseNumber"] == 1001
        assert http.get("/3/articles").json()["MetaInformation"]["@TotalResources"] == 33


def test_a_dropped_connection_after_a_create_still_creates(sandbox_url: str) -> None:
    auth = connect(sandbox_url)
    fault = {"kind": "drop_after", "method": "POST", "path": "^/3/articles$"}
    assert httpx.post(f"{sandbox_url}/__admin/faults", json=fault).status_code == 200
    body = {"Article": {"ArticleNumber": "DROP-1", "Description": "Created, answer lost"}}
    with httpx.Client(base_url=sandbox_url, headers=auth, timeout=10) as http:
        with pytest.raises(httpx.TransportError):
            http.post("/3/articles", json=body)
        created = http.get("/3/articles/DROP-1")
        assert created.status_code == 200
        assert created.json()["Article"]["Description"] == "Created, answer lost"
        # the fault was used up: the next create answers normally (and finds the duplicate)
        assert http.post("/3/articles", json=body).status_code == 400
