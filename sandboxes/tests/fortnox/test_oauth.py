"""OAuth (fact sheet §1): consent page, code exchange, rotating refresh tokens, revoke, token expiry."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from starlette.testclient import TestClient

from bridge_sandboxes.fortnox.state import FortnoxState

CLIENT_ID, SECRET = "bridge-local", "bridge-local-secret"
REDIRECT = "http://localhost:8000/oauth/fortnox/callback"
SCOPES = "article companyinformation price"


def basic(client_id: str = CLIENT_ID, secret: str = SECRET) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def authorize_params(**overrides: str) -> dict[str, str]:
    params = {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT,
        "scope": SCOPES,
        "state": "csrf-123",
        "access_type": "offline",
        "response_type": "code",
    }
    return {**params, **overrides}


def decide(client: TestClient, decision: str, **fields: str) -> dict[str, list[str]]:
    form = {**authorize_params(), "decision": decision, **fields}
    form.pop("response_type")
    answer = client.post("/oauth-v1/auth/decision", data=form)
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return parse_qs(location.query)


def exchange(client: TestClient, code: str, redirect_uri: str = REDIRECT) -> tuple[int, dict[str, object]]:
    answer = client.post(
        "/oauth-v1/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
        headers=basic(),
    )
    return answer.status_code, answer.json()


def refresh(client: TestClient, token: str) -> tuple[int, dict[str, object]]:
    answer = client.post(
        "/oauth-v1/token", data={"grant_type": "refresh_token", "refresh_token": token}, headers=basic()
    )
    return answer.status_code, answer.json()


def claims(jwt_token: str) -> dict[str, object]:
    payload = jwt_token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def test_consent_page_names_the_company_and_scopes(client: TestClient) -> None:
    page = client.get("/oauth-v1/auth", params=authorize_params())
    assert page.status_code == 200
    assert "Demo AB" in page.text
    for scope in SCOPES.split():
        assert f"<li>{scope}</li>" in page.text
    assert "value='approve'" in page.text
    assert "value='deny'" in page.text
    assert "Andra AB" in page.text  # the company picker lists the seeded companies


def test_unknown_client_gets_an_error_page(client: TestClient) -> None:
    page = client.get("/oauth-v1/auth", params=authorize_params(client_id="nobody"))
    assert page.status_code == 400
    assert "Auth code or ClientID supplied is invalid" in page.text


def test_approve_then_exchange_the_code_for_a_token_pair(client: TestClient) -> None:
    query = decide(client, "approve")
    assert query["state"] == ["csrf-123"]
    status, tokens = exchange(client, query["code"][0])
    assert status == 200
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 3600
    assert tokens["scope"] == SCOPES
    assert isinstance(tokens["refresh_token"], str)
    access = str(tokens["access_token"])
    assert len(access.split(".")) == 3
    assert claims(access)["tenantId"] == 1001
    info = client.get("/3/companyinformation", headers={"Authorization": f"Bearer {access}"})
    assert info.json()["CompanyInformation"]["DatabaseNumber"] == 1001


def test_the_consent_form_can_pick_another_company(client: TestClient) -> None:
    query = decide(client, "approve", tenant_id="1002")
    _, tokens = exchange(client, query["code"][0])
    assert claims(str(tokens["access_token"]))["tenantId"] == 1002


def test_admin_sets_the_consenting_company(client: TestClient) -> None:
    assert client.post("/__admin/consent", json={"tenant_id": 1002}).status_code == 200
    assert "Connect bridge-local to Andra AB" in client.get("/oauth-v1/auth", params=authorize_params()).text
    form = {**authorize_params(), "decision": "approve"}
    answer = client.post("/oauth-v1/auth/decision", data=form)
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    _, tokens = exchange(client, code)
    assert claims(str(tokens["access_token"]))["tenantId"] == 1002


def test_deny_redirects_with_access_denied(client: TestClient) -> None:
    query = decide(client, "deny")
    assert query["error"] == ["access_denied"]
    assert query["error_description"]
    assert query["state"] == ["csrf-123"]
    assert "code" not in query


def test_a_code_is_single_use(client: TestClient) -> None:
    code = decide(client, "approve")["code"][0]
    assert exchange(client, code)[0] == 200
    status, body = exchange(client, code)
    assert status == 400
    assert body["error"] == "invalid_grant"


def test_a_code_expires_after_ten_minutes(client: TestClient) -> None:
    code = decide(client, "approve")["code"][0]
    client.post("/__admin/clock", json={"advance_s": 601})
    assert exchange(client, code)[1]["error"] == "invalid_grant"


def test_the_redirect_uri_must_match_the_authorize_call(client: TestClient) -> None:
    code = decide(client, "approve")["code"][0]
    assert exchange(client, code, redirect_uri="http://evil.example/cb")[1]["error"] == "invalid_grant"


def test_bad_client_credentials_are_invalid_client(client: TestClient) -> None:
    code = decide(client, "approve")["code"][0]
    answer = client.post(
        "/oauth-v1/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        headers=basic(secret="wrong"),
    )
    assert answer.status_code == 401
    assert answer.json() == {"error": "invalid_client", "error_description": "The client credentials are invalid"}


def test_without_offline_access_there_is_no_refresh_token(client: TestClient) -> None:
    code = decide(client, "approve", access_type="online")["code"][0]
    _, tokens = exchange(client, code)
    assert "refresh_token" not in tokens


def test_refresh_tokens_rotate_and_die_after_use(client: TestClient) -> None:
    _, first = exchange(client, decide(client, "approve")["code"][0])
    status, second = refresh(client, str(first["refresh_token"]))
    assert status == 200
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["scope"] == SCOPES
    status, reused = refresh(client, str(first["refresh_token"]))
    assert status == 400
    assert reused == {"error": "invalid_grant", "error_description": "Invalid refresh token"}
    assert refresh(client, str(second["refresh_token"]))[0] == 200


def test_refresh_tokens_expire_after_45_days(client: TestClient) -> None:
    _, tokens = exchange(client, decide(client, "approve")["code"][0])
    client.post("/__admin/clock", json={"advance_s": 44 * 86400})
    status, renewed = refresh(client, str(tokens["refresh_token"]))
    assert status == 200
    client.post("/__admin/clock", json={"advance_s": 45 * 86400 + 1})
    assert refresh(client, str(renewed["refresh_token"]))[1]["error"] == "invalid_grant"


def test_revoke_kills_the_refresh_token(client: TestClient) -> None:
    _, tokens = exchange(client, decide(client, "approve")["code"][0])
    answer = client.post(
        "/oauth-v1/revoke",
        data={"token_type_hint": "refresh_token", "token": str(tokens["refresh_token"])},
        headers=basic(),
    )
    assert answer.status_code == 200
    assert answer.json() == {"revoked": True}
    assert refresh(client, str(tokens["refresh_token"]))[1]["error"] == "invalid_grant"


def test_an_expired_or_unknown_access_token_gets_the_bare_401(client: TestClient, auth: dict[str, str]) -> None:
    assert client.get("/3/articles", headers=auth).status_code == 200
    client.post("/__admin/clock", json={"advance_s": 3601})
    answer = client.get("/3/articles", headers=auth)
    assert answer.status_code == 401
    assert answer.json() == {"message": "unauthorized"}
    unknown = client.get("/3/articles", headers={"Authorization": "Bearer not-a-token"})
    assert unknown.status_code == 401
    assert unknown.json() == {"message": "unauthorized"}
    assert client.get("/3/articles").status_code == 401


def test_a_token_without_the_scope_gets_2000663(client: TestClient, token_for: Callable[..., dict[str, str]]) -> None:
    headers = token_for(1001, "companyinformation")
    answer = client.get("/3/articles", headers=headers)
    assert answer.status_code == 403
    assert answer.json()["ErrorInformation"]["code"] == 2000663


def test_client_credentials_after_a_service_account_consent(client: TestClient, state: FortnoxState) -> None:
    decide(client, "approve", account_type="service")
    answer = client.post(
        "/oauth-v1/token", data={"grant_type": "client_credentials"}, headers={**basic(), "TenantId": "1001"}
    )
    assert answer.status_code == 200, answer.text
    assert "refresh_token" not in answer.json()
    assert claims(answer.json()["access_token"])["tenantId"] == 1001
    other = client.post(
        "/oauth-v1/token", data={"grant_type": "client_credentials"}, headers={**basic(), "TenantId": "1002"}
    )
    assert other.status_code == 400  # no service-account consent for that company


def test_the_consent_form_as_a_browser_posts_it_is_accepted(client: TestClient) -> None:
    """A browser submits every field of the consent form, the empty account_type included."""
    query = {
        "client_id": "bridge-local",
        "redirect_uri": "http://localhost:8080/oauth/fortnox/callback",
        "scope": "companyinformation",
        "state": "s1",
        "access_type": "offline",
        "response_type": "code",
        "account_type": "",
    }
    answer = client.post("/oauth-v1/auth/decision", data={**query, "decision": "approve"}, follow_redirects=False)

    assert answer.status_code in (302, 303)
    assert "code=" in answer.headers["location"]
