"""Who a request acts for (product.md §1.2): the session cookie with CSRF proof on writes, or the ikas
dashboard token; the tenant always comes from the auth service, never from the request's input."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, TypeAlias

import pytest

from bridge_gateway.models import Tenant
from bridge_platform.errors import UpstreamUnavailable

if TYPE_CHECKING:
    from starlette.testclient import TestClient

# The fakes live in conftest.py, which tests cannot import; the fixtures hand them in.
FakeAuth: TypeAlias = Any

SETTINGS = "/api/v1/settings"


def assert_problem(response: Any, status: int, type_: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == f"urn:bridge:problem:{type_}"


def assert_unauthenticated(response: Any) -> None:
    assert_problem(response, 401, "unauthenticated")


def cookie_headers(response: Any) -> dict[str, str]:
    """Set-Cookie headers by cookie name."""
    return {header.split("=", 1)[0]: header for header in response.headers.get_list("set-cookie")}


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_the_api_is_401_without_a_session(anonymous: TestClient, auth: FakeAuth, method: str) -> None:
    assert_unauthenticated(anonymous.request(method, SETTINGS, json={}))
    assert auth.tenants == {}


def test_the_development_header_of_the_foundation_signs_nobody_in(anonymous: TestClient, auth: FakeAuth) -> None:
    anonymous.cookies.set("bridge_dev_store", "demo")

    assert_unauthenticated(anonymous.get(SETTINGS, headers={"X-Bridge-Dev-Store": "demo"}))
    assert auth.tenants == {}


def test_the_session_cookie_signs_in(client: TestClient, catalog: Any) -> None:
    response = client.get(SETTINGS)

    assert response.status_code == 200
    assert client.put(SETTINGS, json=response.json()).status_code == 200
    assert list(catalog.stored) == ["t_demo"]


def test_an_unknown_session_is_401(anonymous: TestClient) -> None:
    anonymous.cookies.set("bridge_session", "forged-session")

    assert_unauthenticated(anonymous.get(SETTINGS))


@pytest.mark.parametrize("csrf", [None, b"", b"csrf-wrong", b"csrf-0-dem", "ünïcode".encode("latin-1")])
def test_a_cookie_write_without_the_csrf_token_is_403(
    client: TestClient, catalog: Any, default_document: Any, csrf: bytes | None
) -> None:
    del client.headers["X-Bridge-CSRF"]
    headers = {} if csrf is None else {"X-Bridge-CSRF": csrf}

    response = client.put(SETTINGS, json=default_document(), headers=headers)

    assert_problem(response, 403, "permission-denied")
    assert "X-Bridge-CSRF" in response.json()["detail"]
    assert catalog.stored == {}
    assert client.get(SETTINGS).status_code == 200  # reads need no CSRF proof


@pytest.mark.parametrize("scheme", ["Bearer", "JWT", "bearer"])
def test_the_dashboard_token_signs_in_and_needs_no_csrf(
    anonymous: TestClient, auth: FakeAuth, catalog: Any, default_document: Any, scheme: str
) -> None:
    headers = {"Authorization": f"{scheme} {auth.dashboard_token('shop-2')}"}

    assert anonymous.get(SETTINGS, headers=headers).status_code == 200
    assert anonymous.put(SETTINGS, json=default_document(), headers=headers).status_code == 200
    assert list(catalog.stored) == ["t_shop-2"]


@pytest.mark.parametrize("authorization", ["Bearer not-a-token", "Bearer ", "Basic ZGVtbzpkZW1v", "jwt.demo.0"])
def test_a_bad_authorization_header_is_401_even_with_a_session_cookie(
    client: TestClient, auth: FakeAuth, authorization: str
) -> None:
    auth.dashboard_token("demo")  # "jwt.demo.0" exists, but without a scheme it is no credential

    assert_unauthenticated(client.get(SETTINGS, headers={"Authorization": authorization}))


def test_auth_being_down_is_503_not_401(client: TestClient, auth: FakeAuth) -> None:
    auth.error = UpstreamUnavailable("service", "auth is restarting")

    response = client.get(SETTINGS)

    assert_problem(response, 503, "service-unavailable")
    assert response.headers["retry-after"] == "5"


def test_dev_login_sets_the_session_cookies_and_opens_the_dashboard(anonymous: TestClient, auth: FakeAuth) -> None:
    response = anonymous.get("/dev/login", params={"store": "demo"}, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookies = cookie_headers(response)
    session, csrf = cookies["bridge_session"].lower(), cookies["bridge_csrf"].lower()
    for cookie in (session, csrf):
        assert "path=/" in cookie
        assert "samesite=lax" in cookie  # plain http on localhost: a Secure cookie would be dropped
        assert "secure" not in cookie
        assert "max-age=" in cookie
    assert "httponly" in session
    assert "httponly" not in csrf  # the dashboard's script reads it to send X-Bridge-CSRF
    [(token, (store, csrf_token))] = auth.sessions.items()
    assert (response.cookies["bridge_session"], response.cookies["bridge_csrf"]) == (token, csrf_token)
    assert store == "demo"


def test_dev_login_names_a_bad_store(anonymous: TestClient) -> None:
    for params, code in (({"store": "Bad Name"}, "invalid_store_name"), ({}, "required")):
        response = anonymous.get("/dev/login", params=params, follow_redirects=False)

        assert response.status_code == 422
        assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("store", code)]


def test_dev_login_does_not_exist_in_production(production_client: TestClient, auth: FakeAuth) -> None:
    response = production_client.get("/dev/login", params={"store": "demo"}, follow_redirects=False)

    assert_problem(response, 404, "not-found")
    assert "set-cookie" not in response.headers
    assert auth.sessions == {}


def test_signed_parameters_sign_in_and_leave_the_address_bar(anonymous: TestClient, auth: FakeAuth) -> None:
    response = anonymous.get("/", params=auth.signed_parameters("shop-3"), follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert set(cookie_headers(response)) == {"bridge_session", "bridge_csrf"}
    anonymous.cookies.update(response.cookies)
    assert anonymous.get(SETTINGS).status_code == 200
    assert '<strong id="store-name">shop-3</strong>' in anonymous.get("/").text


def test_signed_parameters_in_the_ikas_admin_frame_answer_the_dashboard_at_once(
    anonymous: TestClient, auth: FakeAuth
) -> None:
    framed = {"Sec-Fetch-Dest": "iframe"}
    response = anonymous.get("/", params=auth.signed_parameters("shop-3"), headers=framed, follow_redirects=False)

    assert response.status_code == 200
    assert '<strong id="store-name">shop-3</strong>' in response.text
    assert "CLOSE_LOADER" in response.text
    assert set(cookie_headers(response)) == {"bridge_session", "bridge_csrf"}  # for browsers that keep them


def test_forged_signed_parameters_in_a_frame_sign_nobody_in(anonymous: TestClient, auth: FakeAuth) -> None:
    forged = {**auth.signed_parameters("shop-3"), "signature": "0" * 64}
    response = anonymous.get("/", params=forged, headers={"Sec-Fetch-Dest": "iframe"}, follow_redirects=False)

    assert response.status_code == 401
    assert "store-name" not in response.text
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    "forge",
    [
        {"signature": "0" * 64},
        {"storeName": "other-store"},  # signed for shop-3, presented for another store
        {"timestamp": "0"},  # expired
        {"signature": None},
    ],
)
def test_forged_or_expired_signed_parameters_are_401(
    anonymous: TestClient, auth: FakeAuth, forge: dict[str, str | None]
) -> None:
    params = {**auth.signed_parameters("shop-3"), **forge}
    if forge.get("timestamp") == "0":
        params["signature"] = auth.sign("shop-3", "m_shop-3", "0")

    response = anonymous.get("/", params={k: v for k, v in params.items() if v is not None}, follow_redirects=False)

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/html")
    assert "Sign-in failed" in response.text
    assert "CLOSE_LOADER" in response.text  # the ikas admin's spinner closes on the error page too
    assert "set-cookie" not in response.headers
    assert auth.sessions == {}


def test_over_https_the_cookies_work_inside_the_ikas_iframe(production_client: TestClient, auth: FakeAuth) -> None:
    response = production_client.get("/", params=auth.signed_parameters("demo"), follow_redirects=False)

    assert response.status_code == 303
    for cookie in cookie_headers(response).values():
        attributes = {part.strip().lower() for part in cookie.split(";")}
        assert {"samesite=none", "secure", "partitioned", "path=/"} <= attributes


def test_logout_closes_the_session_and_clears_the_cookies(client: TestClient, auth: FakeAuth) -> None:
    [token] = auth.sessions

    response = client.post("/api/v1/session/logout")

    assert response.status_code == 204
    assert auth.closed == [token]
    for cookie in cookie_headers(response).values():
        assert "max-age=0" in cookie.lower()
    assert_unauthenticated(client.get(SETTINGS))


def test_logout_needs_the_csrf_header(client: TestClient, auth: FakeAuth) -> None:
    del client.headers["X-Bridge-CSRF"]

    assert_problem(client.post("/api/v1/session/logout"), 403, "permission-denied")
    assert auth.closed == []


def test_the_home_page_says_nobody_is_signed_in(anonymous: TestClient) -> None:
    response = anonymous.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>Bridge</title>" in response.text
    assert "Nobody is signed in" in response.text
    assert "http://" not in response.text
    assert "https://" not in response.text  # everything is served locally


def test_the_home_page_closes_the_ikas_loader_when_framed(anonymous: TestClient) -> None:
    text = anonymous.get("/").text

    assert "window.top !== window.self" in text
    assert 'window.top.postMessage({ type: "CLOSE_LOADER" }, "*")' in text


def test_the_home_page_is_the_dashboard_with_everything_served_locally(client: TestClient) -> None:
    response = client.get("/")

    assert '<strong id="store-name">demo</strong>' in response.text
    for tab in ("settings", "products", "orders"):
        assert f'id="tab-{tab}"' in response.text
        assert f'id="panel-{tab}"' in response.text
    addresses = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert addresses
    assert all(a.startswith("/static/") for a in addresses)
    for address in addresses:
        served = client.get(address)
        assert served.status_code == 200, address
        assert served.headers["content-type"].split(";")[0] in ("text/javascript", "text/css")
    assert "CLOSE_LOADER" in response.text  # the ikas admin's spinner closes (ikas-api.md §3.1)


def test_the_home_page_escapes_the_store_name(anonymous: TestClient, auth: FakeAuth) -> None:
    store = "<script>alert(1)</script>"
    auth.tenants[store] = Tenant(id="t_odd", store_name=store)
    auth.sessions["odd-session"] = (store, "odd-csrf")
    anonymous.cookies.set("bridge_session", "odd-session")

    response = anonymous.get("/")

    assert "<script>alert" not in response.text
    assert "&lt;script&gt;" in response.text


def test_the_home_page_with_an_expired_session_shows_nobody(anonymous: TestClient) -> None:
    anonymous.cookies.set("bridge_session", "expired")

    assert "Nobody is signed in" in anonymous.get("/").text
