"""OAuth per fact sheet §2.2-§2.3 and the dashboard credentials of §3.1-§3.2."""

from __future__ import annotations

import hashlib
import hmac
import re
from urllib.parse import parse_qs, urlsplit

import jwt
from fastapi.testclient import TestClient

CLIENT_ID, SECRET = "bridge-local", "bridge-local-secret"
REDIRECT = "http://localhost:8000/ikas/callback"
SCOPE = "read_products,write_products,read_orders"
SECRET2 = "sandbox-secret-of-the-other-app-0123456789"


def _approve(client: TestClient, state: str | None = "st-1") -> dict[str, list[str]]:
    query = {"client_id": CLIENT_ID, "redirect_uri": REDIRECT, "scope": SCOPE}
    if state:
        query["state"] = state
    page = client.get("/stores/demo/api/admin/oauth/authorize", params=query)
    assert page.status_code == 200
    assert "demo" in page.text
    assert "Bridge" in page.text
    assert "read_orders" in page.text
    assert "Approve" in page.text
    assert "Deny" in page.text
    form = dict(re.findall(r"name='(\w+)' value='([^']*)'", page.text))
    response = client.post("/stores/demo/api/admin/oauth/authorize", data={**form, "decision": "approve"})
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return parse_qs(urlsplit(location).query)


def test_approve_redirects_with_signed_code_and_exchange_works(client: TestClient) -> None:
    params = _approve(client)
    code = params["code"][0]
    assert params["storeName"] == ["demo"]
    assert params["state"] == ["st-1"]
    assert params["signature"][0] == hmac.new(SECRET.encode(), code.encode(), hashlib.sha256).hexdigest()
    form = {
        "grant_type": "authorization_code",
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "code": code,
        "redirect_uri": REDIRECT,
    }
    token = client.post("/api/admin/oauth/token", data=form)
    assert token.status_code == 200
    body = token.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 14400
    assert body["scope"] == SCOPE
    assert body["access_token"]
    assert body["refresh_token"]
    again = client.post("/api/admin/oauth/token", data=form)  # codes are single-use
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    app = client.post(
        "/api/v1/admin/graphql",
        json={"query": "{ getAuthorizedApp { id scope } }"},
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )
    assert app.json()["data"]["getAuthorizedApp"]["scope"] == SCOPE


def test_deny_redirects_with_error(client: TestClient) -> None:
    query = {"client_id": CLIENT_ID, "redirect_uri": REDIRECT, "scope": SCOPE, "state": "s"}
    client.get("/stores/demo/api/admin/oauth/authorize", params=query)
    response = client.post("/stores/demo/api/admin/oauth/authorize", data={**query, "decision": "deny"})
    assert response.status_code == 302
    params = parse_qs(urlsplit(response.headers["location"]).query)
    assert params["error"] == ["access_denied"]
    assert "code" not in params


def test_authorize_without_state_and_unknown_client(client: TestClient) -> None:
    params = _approve(client, state=None)
    assert "state" not in params
    assert params["code"]
    page = client.get("/stores/demo/api/admin/oauth/authorize", params={"client_id": "nope", "redirect_uri": REDIRECT})
    assert page.status_code == 400


def test_refresh_rotates_and_bad_client_is_refused(client: TestClient) -> None:
    code = _approve(client)["code"][0]
    first = client.post(
        "/stores/demo/api/admin/oauth/token",
        data={
            "grant_type": "authorization_code",
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
            "code": code,
            "redirect_uri": REDIRECT,
        },
    ).json()
    refresh = {
        "grant_type": "refresh_token",
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "refresh_token": first["refresh_token"],
    }
    second = client.post("/api/admin/oauth/token", data=refresh)
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    assert second.json()["expires_in"] == 14400
    reused = client.post("/api/admin/oauth/token", data=refresh)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    wrong = client.post("/api/admin/oauth/token", data={**refresh, "client_secret": "wrong"})
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"


def test_client_credentials_has_no_refresh_token_and_expires_after_4h(client: TestClient) -> None:
    form = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": SECRET}
    body = client.post("/stores/demo/api/admin/oauth/token", data=form).json()
    assert "refresh_token" not in body
    assert body["expires_in"] == 14400
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert client.post("/api/v1/admin/graphql", json={"query": "{ me { id } }"}, headers=headers).status_code == 200
    client.post("/__admin/clock", json={"advance_s": 14_401})
    expired = client.post("/api/v1/admin/graphql", json={"query": "{ me { id } }"}, headers=headers)
    assert expired.status_code == 401
    assert expired.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_registered_app_and_dashboard_launch(client: TestClient) -> None:
    registered = client.post(
        "/__admin/apps",
        json={"client_id": "other-app", "client_secret": SECRET2, "store": "demo", "authorized_app_id": "auth-app-1"},
    )
    assert registered.status_code == 200
    launch = client.get("/__admin/dashboard-launch", params={"store": "demo", "client_id": "other-app"}).json()
    params = launch["params"]
    assert params["authorizedAppId"] == "auth-app-1"
    assert params["storeName"] == "demo"
    message = params["storeName"] + params["merchantId"] + params["timestamp"]
    assert params["signature"] == hmac.new(SECRET2.encode(), message.encode(), hashlib.sha256).hexdigest()
    claims = jwt.decode(launch["jwt"], SECRET2, algorithms=["HS256"], audience="auth-app-1")
    assert claims["sub"] == params["merchantId"]
    assert claims["exp"] > claims["iat"]
