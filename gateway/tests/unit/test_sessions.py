"""Who a request acts for: local-mode development sign-in only, never the body or query."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

import pytest

from bridge_platform.errors import UpstreamUnavailable

if TYPE_CHECKING:
    from starlette.testclient import TestClient

# The fakes live in conftest.py, which tests cannot import; the fixtures hand them in.
FakeAuth: TypeAlias = Any


def assert_unauthenticated(response: Any) -> None:
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:bridge:problem:unauthenticated"


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_the_api_is_401_without_a_session(anonymous: TestClient, auth: FakeAuth, method: str) -> None:
    assert_unauthenticated(anonymous.request(method, "/api/v1/settings", json={}))
    assert auth.tenants == {}


def test_production_mode_ignores_the_development_header(production_client: TestClient, auth: FakeAuth) -> None:
    assert_unauthenticated(production_client.get("/api/v1/settings"))
    production_client.cookies.set("bridge_dev_store", "demo")
    assert_unauthenticated(production_client.get("/api/v1/settings"))
    assert auth.tenants == {}


def test_the_development_cookie_signs_in(anonymous: TestClient, auth: FakeAuth) -> None:
    anonymous.cookies.set("bridge_dev_store", "shop-2")

    response = anonymous.get("/api/v1/settings")

    assert response.status_code == 200
    assert list(auth.tenants) == ["shop-2"]


def test_an_invalid_store_name_is_401(anonymous: TestClient) -> None:
    assert_unauthenticated(anonymous.get("/api/v1/settings", headers={"X-Bridge-Dev-Store": "Not A Store"}))


def test_auth_being_down_is_503_not_401(client: TestClient, auth: FakeAuth) -> None:
    auth.error = UpstreamUnavailable("service", "auth is restarting")

    response = client.get("/api/v1/settings")

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"


def test_dev_login_sets_the_cookie_and_opens_the_dashboard(anonymous: TestClient, auth: FakeAuth) -> None:
    response = anonymous.get("/dev/login", params={"store": "demo"}, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("bridge_dev_store=demo;")
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert list(auth.tenants) == ["demo"]
    assert anonymous.get("/api/v1/settings").status_code == 200  # the cookie is a session now


def test_dev_login_names_a_bad_store(anonymous: TestClient) -> None:
    for params, code in (({"store": "Bad Name"}, "invalid_store_name"), ({}, "required")):
        response = anonymous.get("/dev/login", params=params, follow_redirects=False)

        assert response.status_code == 422
        assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("store", code)]


def test_dev_login_does_not_exist_in_production(production_client: TestClient, auth: FakeAuth) -> None:
    response = production_client.get("/dev/login", params={"store": "demo"}, follow_redirects=False)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "set-cookie" not in response.headers
    assert auth.tenants == {}


def test_the_home_page_says_nobody_is_signed_in(anonymous: TestClient) -> None:
    response = anonymous.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>Bridge</title>" in response.text
    assert "Nobody is signed in" in response.text
    assert "later issue" in response.text
    assert "http://" not in response.text
    assert "https://" not in response.text  # everything is served locally


def test_the_home_page_names_the_signed_in_store(anonymous: TestClient) -> None:
    anonymous.get("/dev/login", params={"store": "demo"})  # follows the redirect to /

    response = anonymous.get("/")

    assert "<strong>demo</strong>" in response.text


def test_the_home_page_escapes_the_store_name(anonymous: TestClient) -> None:
    response = anonymous.get("/", headers={"X-Bridge-Dev-Store": "<script>alert(1)</script>"})

    assert "<script>" not in response.text
    assert "&lt;script&gt;" in response.text


def test_the_home_page_in_production_shows_nobody(production_client: TestClient) -> None:
    assert "Nobody is signed in" in production_client.get("/").text
