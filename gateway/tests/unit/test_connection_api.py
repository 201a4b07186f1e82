"""Install, Fortnox connect and disconnect, the connection document and ikas webhooks (product.md §1, §8),
over the fake auth service."""

from __future__ import annotations

import html
import json
import re
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import parse_qs, urlsplit

import pytest

from bridge_platform.errors import InvalidInput, UpstreamUnavailable

if TYPE_CHECKING:
    from starlette.testclient import TestClient

FakeAuth: TypeAlias = Any

CONNECTION = "/api/v1/connection"
AUTHORIZE = "/api/v1/connection/fortnox/authorize"
DISCONNECTED: dict[str, Any] = {
    "status": "disconnected",
    "company_name": None,
    "organisation_number": None,
    "scopes": [],
    "connected_at": None,
    "warehouse_module": None,
}


def state_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


def connect(client: TestClient, **query: str) -> Any:
    """Asks for the consent URL, then plays Fortnox's redirect back with `query` (code by default)."""
    authorize_url = client.post(AUTHORIZE).json()["authorize_url"]
    params = {"state": state_of(authorize_url), **(query or {"code": "a-code"})}
    return client.get("/oauth/fortnox/callback", params=params)


# ---- ikas install


def test_install_redirects_to_the_ikas_consent_with_the_public_callback(anonymous: TestClient, auth: FakeAuth) -> None:
    response = anonymous.get("/ikas/install", params={"storeName": "demo"}, follow_redirects=False)

    assert response.status_code == 302
    assert response.headers["location"].startswith("https://demo.ikas.test/authorize?")
    assert auth.redirect_uris == ["http://localhost:8080/ikas/callback"]


def test_install_names_a_missing_or_bad_store(anonymous: TestClient) -> None:
    for params, code in (({}, "required"), ({"storeName": "Bad Name"}, "invalid_store_name")):
        response = anonymous.get("/ikas/install", params=params, follow_redirects=False)

        assert response.status_code == 422
        assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("storeName", code)]


def callback_params(anonymous: TestClient, auth: FakeAuth, store: str = "demo") -> dict[str, str]:
    location = anonymous.get("/ikas/install", params={"storeName": store}, follow_redirects=False).headers["location"]
    query = parse_qs(urlsplit(location).query)
    code = query["code_hint"][0]
    return {"code": code, "storeName": store, "state": query["state"][0], "signature": auth.sign(code)}


def test_the_install_callback_signs_in_and_opens_the_dashboard(anonymous: TestClient, auth: FakeAuth) -> None:
    response = anonymous.get("/ikas/callback", params=callback_params(anonymous, auth), follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert {"bridge_session", "bridge_csrf"} <= set(response.cookies)
    anonymous.cookies.update(response.cookies)
    assert anonymous.get(CONNECTION).json()["ikas"]["store_name"] == "demo"


def test_an_admin_started_install_without_state_is_accepted(anonymous: TestClient, auth: FakeAuth) -> None:
    params = callback_params(anonymous, auth)
    del params["state"]

    assert anonymous.get("/ikas/callback", params=params, follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    ("change", "status", "text"),
    [
        ({"signature": "0" * 64}, 401, "could not be verified"),
        ({"state": "forged-state"}, 401, "could not be verified"),
        ({"signature": None}, 400, "incomplete"),
        ({"error": "access_denied", "code": None, "signature": None}, 200, "declined"),
    ],
)
def test_a_bad_install_callback_shows_a_page_and_signs_nobody_in(
    anonymous: TestClient, auth: FakeAuth, change: dict[str, str | None], status: int, text: str
) -> None:
    params = {**callback_params(anonymous, auth), **change}

    response = anonymous.get(
        "/ikas/callback", params={k: v for k, v in params.items() if v is not None}, follow_redirects=False
    )

    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert text in response.text
    assert "set-cookie" not in response.headers
    assert auth.sessions == {}


def test_a_used_install_code_shows_a_page(anonymous: TestClient, auth: FakeAuth) -> None:
    params = callback_params(anonymous, auth)
    assert anonymous.get("/ikas/callback", params=params, follow_redirects=False).status_code == 303
    replay = {**params}
    del replay["state"]

    response = anonymous.get("/ikas/callback", params=replay, follow_redirects=False)

    assert response.status_code == 400
    assert "used already" in response.text


def test_an_unavailable_auth_service_shows_a_retry_page(anonymous: TestClient, auth: FakeAuth) -> None:
    params = callback_params(anonymous, auth)
    auth.error = UpstreamUnavailable("service", "down")

    response = anonymous.get("/ikas/callback", params=params, follow_redirects=False)

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"


# ---- the connection document and Fortnox


def test_a_new_tenant_is_connected_to_ikas_and_not_to_fortnox(client: TestClient) -> None:
    response = client.get(CONNECTION)

    assert response.status_code == 200
    assert response.json() == {
        "ikas": {"store_name": "demo", "merchant_id": "m_demo", "status": "connected", "webhook_warning": None},
        "fortnox": DISCONNECTED,
    }


def test_the_connection_needs_a_session(anonymous: TestClient) -> None:
    assert anonymous.get(CONNECTION).status_code == 401
    assert anonymous.post(AUTHORIZE).status_code == 401
    assert anonymous.delete("/api/v1/connection/fortnox").status_code == 401


def test_authorize_returns_the_consent_url_for_the_public_callback(client: TestClient, auth: FakeAuth) -> None:
    response = client.post(AUTHORIZE)

    assert response.status_code == 200
    assert set(response.json()) == {"authorize_url"}
    [state] = auth.fortnox_states
    assert auth.fortnox_states[state] == "t_demo"
    assert auth.redirect_uris == ["http://localhost:8080/oauth/fortnox/callback"]


def test_connecting_shows_the_company_tells_the_opener_and_closes(client: TestClient, auth: FakeAuth) -> None:
    response = connect(client)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "connected to Demo AB" in response.text
    assert 'data-company="Demo AB"' in response.text
    assert 'data-message="bridge:fortnox-connected"' in response.text
    assert "window.opener.postMessage" in response.text
    assert "window.location.origin" in response.text  # only the dashboard's own origin hears it
    assert "window.close()" in response.text
    assert client.get(CONNECTION).json()["fortnox"] == {
        "status": "connected",
        "company_name": "Demo AB",
        "organisation_number": "556677-8899",
        "scopes": ["article", "companyinformation"],
        "connected_at": "2026-01-02T03:04:05Z",
        "warehouse_module": True,
    }


def test_a_declined_consent_shows_a_clear_page_and_changes_nothing(client: TestClient) -> None:
    response = connect(client, error="access_denied", error_description="The user denied the integration access")

    assert response.status_code == 200
    assert "You declined the connection" in response.text
    assert 'data-close="no"' in response.text
    assert client.get(CONNECTION).json()["fortnox"] == DISCONNECTED


def test_a_replayed_or_unknown_state_shows_a_clear_page_and_changes_nothing(client: TestClient) -> None:
    authorize_url = client.post(AUTHORIZE).json()["authorize_url"]
    first = client.get("/oauth/fortnox/callback", params={"state": state_of(authorize_url), "code": "a-code"})
    assert first.status_code == 200
    client.delete("/api/v1/connection/fortnox")

    for state in (state_of(authorize_url), "never-issued"):
        response = client.get("/oauth/fortnox/callback", params={"state": state, "code": "a-code"})

        assert response.status_code == 400
        assert "unknown, has already been used or has expired" in response.text
        assert client.get(CONNECTION).json()["fortnox"]["status"] == "disconnected"


def test_another_company_is_refused_with_the_reason(client: TestClient) -> None:
    response = connect(client, code="other-company")

    assert response.status_code == 409
    assert "Andra AB is not the company" in response.text


@pytest.mark.parametrize("params", [{}, {"state": "s"}, {"code": "c"}])
def test_an_incomplete_fortnox_callback_is_400(anonymous: TestClient, params: dict[str, str]) -> None:
    response = anonymous.get("/oauth/fortnox/callback", params=params)

    assert response.status_code == 400
    assert "incomplete" in response.text


# ---- the callback page and the dashboard window that opened it


def scripts_of(page: str) -> list[str]:
    return re.findall(r"<script>(.*?)</script>", page, flags=re.DOTALL)


def test_the_connected_page_tells_the_dashboard_it_authorized_and_closes_after_a_second(client: TestClient) -> None:
    response = connect(client)

    assert 'data-ok="true"' in response.text
    [_, tell_opener] = scripts_of(response.text)  # after the ikas CLOSE_LOADER one
    assert 'type: "bridge:fortnox-authorized", ok: result.ok === "true"' in tell_opener
    assert "}, window.location.origin);" in tell_opener
    assert 'if (hasOpener && result.close === "yes") { window.setTimeout(() => window.close(), 1000); }' in tell_opener
    # Shown only in a window the dashboard opened; without an opener the page leads back to the dashboard.
    assert '<p id="with-opener" hidden>This window closes by itself.</p>' in response.text
    assert '<p id="without-opener"><a href="/">Back to Bridge</a></p>' in response.text


def test_a_page_without_a_company_name_still_tells_the_dashboard(client: TestClient, auth: FakeAuth) -> None:
    original = auth.complete_fortnox_connect

    def nameless(**kwargs: Any) -> Any:
        connected = original(**kwargs)
        return type(connected)(connected.tenant_id, connected.fortnox.model_copy(update={"company_name": None}))

    auth.complete_fortnox_connect = nameless

    response = connect(client)

    assert response.status_code == 200
    assert "connected to your Fortnox company" in response.text
    assert 'data-company=""' in response.text
    assert 'data-ok="true"' in response.text


def unavailable_callback(client: TestClient, auth: FakeAuth) -> Any:
    authorize_url = client.post(AUTHORIZE).json()["authorize_url"]
    auth.error = UpstreamUnavailable("auth", "down")
    return client.get("/oauth/fortnox/callback", params={"state": state_of(authorize_url), "code": "a-code"})


@pytest.mark.parametrize(
    ("answer", "status", "message"),
    [
        (lambda client, auth: connect(client, error="access_denied"), 200, "You declined the connection in Fortnox."),
        (lambda client, auth: connect(client, code="other-company"), 409, "Andra AB is not the company"),
        (
            lambda client, auth: client.get("/oauth/fortnox/callback", params={"state": "never", "code": "c"}),
            400,
            "unknown, has already been used or has expired",
        ),
        (lambda client, auth: client.get("/oauth/fortnox/callback", params={"code": "c"}), 400, "incomplete"),
        (unavailable_callback, 503, "not answering right now"),
    ],
)
def test_a_failure_page_keeps_its_message_tells_the_dashboard_and_stays_open(
    client: TestClient, auth: FakeAuth, answer: Any, status: int, message: str
) -> None:
    response = answer(client, auth)

    assert response.status_code == status
    assert message in response.text
    assert "Nothing was changed." in response.text
    assert 'data-ok="false"' in response.text
    assert 'data-close="no"' in response.text  # it never closes itself: the merchant reads why first
    [_, tell_opener] = scripts_of(response.text)
    assert 'type: "bridge:fortnox-authorized", ok: result.ok === "true"' in tell_opener
    assert '<p id="with-opener" hidden><button type="button" id="close-window">Close</button></p>' in response.text
    assert '<p id="without-opener"><a href="/">Back to Bridge</a></p>' in response.text
    if status == 503:
        assert response.headers["retry-after"] == "5"


def test_the_page_script_is_the_same_whatever_the_company_is_called(client: TestClient, auth: FakeAuth) -> None:
    plain = connect(client)
    original = auth.complete_fortnox_connect
    hostile = '</script><script>alert("x")</script>\' "; alert(1); //'

    def renamed(**kwargs: Any) -> Any:
        connected = original(**kwargs)
        return type(connected)(connected.tenant_id, connected.fortnox.model_copy(update={"company_name": hostile}))

    auth.complete_fortnox_connect = renamed
    client.delete("/api/v1/connection/fortnox")

    response = connect(client)

    assert response.status_code == 200
    assert scripts_of(response.text) == scripts_of(plain.text)  # the name reaches the script only as data
    assert hostile not in response.text
    assert html.escape(hostile, quote=True) in response.text


def test_disconnect_is_204_and_the_connection_shows_disconnected(client: TestClient) -> None:
    connect(client)

    response = client.delete("/api/v1/connection/fortnox")

    assert response.status_code == 204
    assert response.content == b""
    fortnox = client.get(CONNECTION).json()["fortnox"]
    assert (fortnox["status"], fortnox["company_name"]) == ("disconnected", "Demo AB")


@pytest.mark.parametrize(("method", "path"), [("POST", AUTHORIZE), ("DELETE", "/api/v1/connection/fortnox")])
def test_connection_writes_with_the_cookie_need_the_csrf_header(
    client: TestClient, auth: FakeAuth, method: str, path: str
) -> None:
    connect(client)
    del client.headers["X-Bridge-CSRF"]

    response = client.request(method, path)

    assert response.status_code == 403
    assert client.get(CONNECTION).json()["fortnox"]["status"] == "connected"
    assert len(auth.fortnox_states) == 0  # no new consent was begun


def test_a_session_sees_only_its_own_tenants_connection(client: TestClient, app: Any, signer: Any) -> None:
    from fastapi.testclient import TestClient as Client

    connect(client)
    with Client(app) as other:
        signer(other, "other")

        assert other.get(CONNECTION).json()["ikas"]["store_name"] == "other"
        assert other.get(CONNECTION).json()["fortnox"] == DISCONNECTED
        assert other.delete("/api/v1/connection/fortnox").status_code == 204
    assert client.get(CONNECTION).json()["fortnox"]["status"] == "connected"


def test_a_bearer_token_may_connect_without_csrf(anonymous: TestClient, auth: FakeAuth) -> None:
    response = anonymous.post(AUTHORIZE, headers={"Authorization": f"JWT {auth.dashboard_token('demo')}"})

    assert response.status_code == 200
    assert list(auth.fortnox_states.values()) == ["t_demo"]


# ---- webhooks


def delivery(auth: FakeAuth, webhook_id: str = "w-1", scope: str = "store/app/deleted") -> bytes:
    data = json.dumps({"id": "app-1"})
    return json.dumps({"id": webhook_id, "scope": scope, "data": data, "signature": auth.sign(data)}).encode()


def test_a_webhook_is_accepted_then_recognised_as_a_duplicate(anonymous: TestClient, auth: FakeAuth) -> None:
    body = delivery(auth)

    first = anonymous.post("/webhooks/ikas", content=body, headers={"content-type": "application/json"})
    again = anonymous.post("/webhooks/ikas", content=body, headers={"content-type": "application/json"})

    assert (first.status_code, first.json()) == (200, {"status": "accepted"})
    assert (again.status_code, again.json()) == (200, {"status": "duplicate"})


def test_a_webhook_of_no_interest_is_ignored(anonymous: TestClient, auth: FakeAuth) -> None:
    response = anonymous.post("/webhooks/ikas", content=delivery(auth, scope="other/thing"))

    assert response.json() == {"status": "ignored"}


@pytest.mark.parametrize(
    "body",
    [
        b'{"id": "w-2", "scope": "store/app/deleted", "data": "{}", "signature": "forged"}',
        b"not json at all",
        b"",
        b"\xff\xfe\x00",
        b"[1, 2, 3]",
    ],
)
def test_a_bad_or_malformed_webhook_is_401_never_500(anonymous: TestClient, body: bytes) -> None:
    response = anonymous.post("/webhooks/ikas", content=body, headers={"content-type": "application/json"})

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def test_a_webhook_the_service_finds_invalid_is_422(anonymous: TestClient, auth: FakeAuth) -> None:
    auth.error = InvalidInput("the delivery is not an ikas webhook")

    assert anonymous.post("/webhooks/ikas", content=b"{}").status_code == 422


def test_the_webhook_passes_the_exact_bytes_and_headers(anonymous: TestClient, auth: FakeAuth) -> None:
    seen: list[tuple[bytes, dict[str, str]]] = []
    original = auth.handle_ikas_webhook

    def recording(body: bytes, headers: dict[str, str]) -> Any:
        seen.append((body, dict(headers)))
        return original(body, headers)

    auth.handle_ikas_webhook = recording
    body = delivery(auth).replace(b'"scope"', b' "scope"')  # whitespace the signature does not cover

    anonymous.post("/webhooks/ikas", content=body, headers={"X-Ikas-Test": "yes"})

    [(received, headers)] = seen
    assert received == body
    assert headers["x-ikas-test"] == "yes"


def test_openapi_lists_the_connection_and_webhook_routes(anonymous: TestClient) -> None:
    paths = anonymous.get("/openapi.json").json()["paths"]

    assert set(paths[CONNECTION]) == {"get"}
    assert set(paths[AUTHORIZE]) == {"post"}
    assert set(paths["/api/v1/connection/fortnox"]) == {"delete"}
    assert set(paths["/webhooks/ikas"]) == {"post"}
    assert set(paths["/api/v1/session/logout"]) == {"post"}
    assert not {"/ikas/install", "/ikas/callback", "/oauth/fortnox/callback", "/dev/login"} & set(paths)
