"""ikas OAuth: the pure checks (callback signature, signed dashboard parameters, dashboard JWT) with forged
and expired inputs, and IkasOAuth against the sandbox's authorize and token endpoints."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from bridge_platform.errors import OutcomeUnknown, Unauthenticated, UpstreamRejected, UpstreamUnavailable
from bridge_upstreams.ikas.oauth import (
    IkasOAuth,
    decode_dashboard_jwt,
    verify_callback_signature,
    verify_dashboard_parameters,
)

SECRET = "s3cret-" + "x" * 58  # 64 bytes: long enough for HS512 without key-length warnings
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
Sandbox = Any  # conftest.py fixtures (not importable under --import-mode=importlib)


def _hex(message: str, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


# --- callback signature -----------------------------------------------------------------------------


def test_callback_signature_accepts_the_hmac_of_the_code() -> None:
    assert verify_callback_signature("abc123", _hex("abc123"), SECRET)
    assert verify_callback_signature("abc123", _hex("abc123").upper(), SECRET)


@pytest.mark.parametrize(
    ("code", "signature"),
    [
        ("abc123", _hex("abc124")),  # signature of another code
        ("abc123", _hex("abc123", "other-secret")),  # signed with another secret
        ("abc123", ""),
        ("", _hex("")),
        ("abc123", _hex("abc123")[:-1]),
        ("abc123", "é" * 64),  # non-ASCII: compare_digest on str would raise
    ],
)
def test_callback_signature_refuses_forgeries(code: str, signature: str) -> None:
    assert not verify_callback_signature(code, signature, SECRET)


# --- signed dashboard parameters --------------------------------------------------------------------


def test_dashboard_parameters_accept_a_fresh_signature() -> None:
    signature = _hex(f"demom-1{NOW_MS}")
    assert verify_dashboard_parameters("demo", "m-1", str(NOW_MS), signature, SECRET, NOW)
    assert verify_dashboard_parameters("demo", "m-1", NOW_MS, signature, SECRET, NOW + timedelta(seconds=119))


@pytest.mark.parametrize(
    ("store", "merchant", "timestamp", "now"),
    [
        ("other", "m-1", NOW_MS, NOW),  # another store
        ("demo", "m-2", NOW_MS, NOW),  # another merchant
        ("demo", "m-1", NOW_MS + 1, NOW),  # another timestamp
        ("demo", "m-1", NOW_MS, NOW + timedelta(seconds=120)),  # expired: 120 s window
        ("demo", "m-1", NOW_MS, NOW - timedelta(seconds=121)),  # too far in the future
        ("demo", "m-1", "not-a-number", NOW),
    ],
)
def test_dashboard_parameters_refuse_forged_or_expired_links(
    store: str, merchant: str, timestamp: Any, now: datetime
) -> None:
    signature = _hex(f"demom-1{NOW_MS}")
    assert not verify_dashboard_parameters(store, merchant, timestamp, signature, SECRET, now)


def test_dashboard_parameters_refuse_a_signature_made_with_another_secret() -> None:
    signature = _hex(f"demom-1{NOW_MS}", "other")
    assert not verify_dashboard_parameters("demo", "m-1", NOW_MS, signature, SECRET, NOW)


# --- dashboard JWT ----------------------------------------------------------------------------------


def _token(secret: str = SECRET, algorithm: str = "HS256", **claims: Any) -> str:
    now = int(datetime.now(UTC).timestamp())
    body = {"sub": "merchant-1", "aud": "app-1", "iat": now, "exp": now + 3600, **claims}
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, secret, algorithm=algorithm)


def test_dashboard_jwt_gives_merchant_and_installation() -> None:
    claims = decode_dashboard_jwt(_token(), SECRET, "app-1")
    assert claims["sub"] == "merchant-1"
    assert claims["aud"] == "app-1"
    assert decode_dashboard_jwt(_token(), SECRET, None)["aud"] == "app-1"  # audience read, not checked


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (_token(exp=int(datetime.now(UTC).timestamp()) - 10), "expired"),
        (_token(aud="app-2"), "another installation"),
        (_token(secret="other-secret-" + "y" * 52), "not valid"),
        (_token(algorithm="HS512"), "not valid"),  # only HS256, even with the right secret
        (jwt.encode({"sub": "m", "aud": "app-1", "exp": 9_999_999_999}, "", algorithm="none"), "not valid"),
        (_token(exp=None), "'exp'"),
        (_token(sub=None), "'sub'"),
        ("not.a.jwt", "not valid"),
    ],
)
def test_dashboard_jwt_refuses_forged_and_expired_tokens(token: str, reason: str) -> None:
    with pytest.raises(Unauthenticated, match=reason):
        decode_dashboard_jwt(token, SECRET, "app-1")


# --- IkasOAuth without a network --------------------------------------------------------------------


def _oauth(handler: Any) -> IkasOAuth:
    return IkasOAuth(
        httpx.Client(transport=httpx.MockTransport(handler)),
        client_id="cid",
        client_secret="csecret",
        store_url_template="https://{store}.myikas.com",
        api_url="https://api.myikas.com/api/v1/admin/graphql",
        now=lambda: NOW,
        sleep=lambda _s: None,
    )


def test_authorize_url_carries_comma_separated_scopes_and_state() -> None:
    url = _oauth(lambda r: httpx.Response(500)).authorize_url(
        "demo", "https://bridge.example/ikas/callback", ["read_products", "write_orders"], "st"
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://demo.myikas.com/api/admin/oauth/authorize"
    assert parse_qs(parts.query) == {
        "client_id": ["cid"],
        "redirect_uri": ["https://bridge.example/ikas/callback"],
        "scope": ["read_products,write_orders"],
        "state": ["st"],
    }


def test_token_calls_are_form_encoded_on_the_chosen_hosts() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, json={"access_token": "at", "token_type": "Bearer", "expires_in": 14400, "refresh_token": "rt"}
        )

    oauth = _oauth(handler)
    tokens = oauth.exchange_code("demo", "c0de", "https://bridge.example/cb")
    assert tokens.expires_at == NOW + timedelta(hours=4)
    assert tokens.refresh_token == "rt"
    oauth.refresh("rt")
    oauth.client_credentials("demo")
    assert [str(r.url) for r in seen] == [
        "https://demo.myikas.com/api/admin/oauth/token",
        "https://api.myikas.com/api/admin/oauth/token",
        "https://demo.myikas.com/api/admin/oauth/token",
    ]
    assert all(r.headers["content-type"] == "application/x-www-form-urlencoded" for r in seen)
    forms = [parse_qs(r.content.decode()) for r in seen]
    assert forms[0]["grant_type"] == ["authorization_code"]
    assert forms[0]["code"] == ["c0de"]
    assert forms[1] == {
        "grant_type": ["refresh_token"],
        "client_id": ["cid"],
        "client_secret": ["csecret"],
        "refresh_token": ["rt"],
    }
    assert forms[2] == {"grant_type": ["client_credentials"], "client_id": ["cid"], "client_secret": ["csecret"]}


def test_token_endpoint_failures_are_translated() -> None:
    def lost(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(OutcomeUnknown):
        _oauth(lost).refresh("rt")  # the refresh token may have been used up
    calls: list[int] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) < 3:
            return httpx.Response(503)
        return httpx.Response(200, json={"access_token": "at", "token_type": "Bearer", "expires_in": 14400})

    assert _oauth(flaky).client_credentials("demo").refresh_token is None
    assert len(calls) == 3  # nothing is consumed by a client_credentials grant: retried
    with pytest.raises(UpstreamUnavailable):
        _oauth(lambda r: httpx.Response(200, text="<html>")).client_credentials("demo")
    with pytest.raises(OutcomeUnknown):
        _oauth(lambda r: httpx.Response(200, json={"token_type": "Bearer"})).exchange_code("demo", "c", "https://x")


# --- IkasOAuth against the sandbox ------------------------------------------------------------------


def test_install_through_consent_signed_callback_exchange_and_rotating_refresh(
    sandbox: Sandbox, http: httpx.Client, oauth: IkasOAuth
) -> None:
    from bridge_sandboxes.ikas.seed import DEMO_CLIENT_SECRET

    authorize_url = oauth.authorize_url("demo", "https://bridge.example/cb", ["read_orders", "write_orders"], "xyz")
    page = http.get(authorize_url)
    assert page.status_code == 200
    assert "read_orders" in page.text
    form = {
        "client_id": "bridge-local",
        "redirect_uri": "https://bridge.example/cb",
        "scope": "read_orders,write_orders",
        "state": "xyz",
        "decision": "approve",
    }
    callback = http.post(authorize_url.split("?")[0], data=form)
    assert callback.status_code == 302
    params = {k: v[0] for k, v in parse_qs(urlsplit(callback.headers["location"]).query).items()}
    assert params["state"] == "xyz"
    assert params["storeName"] == "demo"
    assert verify_callback_signature(params["code"], params["signature"], DEMO_CLIENT_SECRET)
    assert not verify_callback_signature(params["code"], params["signature"], "wrong-secret")

    tokens = oauth.exchange_code("demo", params["code"], "https://bridge.example/cb")
    assert tokens.scope == "read_orders,write_orders"
    assert tokens.refresh_token
    assert timedelta(hours=3, minutes=59) < tokens.expires_at - datetime.now(UTC) <= timedelta(hours=4)
    with pytest.raises(UpstreamRejected) as reused:
        oauth.exchange_code("demo", params["code"], "https://bridge.example/cb")  # a code works once
    assert reused.value.upstream_code == "invalid_grant"

    refreshed = oauth.refresh(tokens.refresh_token)
    assert refreshed.access_token != tokens.access_token
    assert refreshed.refresh_token != tokens.refresh_token
    with pytest.raises(UpstreamRejected) as old:
        oauth.refresh(tokens.refresh_token)  # rotated: the old refresh token is dead
    assert old.value.upstream_code == "invalid_grant"
    assert "authorize" in old.value.extra["hint"]


def test_a_denied_install_comes_back_without_a_code(sandbox: Sandbox, http: httpx.Client, oauth: IkasOAuth) -> None:
    authorize_url = oauth.authorize_url("demo", "https://bridge.example/cb", ["read_orders"], None)
    form = {"client_id": "bridge-local", "redirect_uri": "https://bridge.example/cb", "decision": "deny"}
    callback = http.post(authorize_url.split("?")[0], data=form)
    params = parse_qs(urlsplit(callback.headers["location"]).query)
    assert params["error"] == ["access_denied"]
    assert "code" not in params


def test_client_credentials_and_a_wrong_secret(sandbox: Sandbox, http: httpx.Client, oauth: IkasOAuth) -> None:
    private = oauth.client_credentials("demo")
    assert private.refresh_token is None
    assert private.token_type == "Bearer"
    wrong = IkasOAuth(
        http,
        client_id="bridge-local",
        client_secret="wrong",
        store_url_template=sandbox.store_url_template,
        api_url=sandbox.base_url,
    )
    with pytest.raises(UpstreamRejected) as refused:
        wrong.client_credentials("demo")
    assert refused.value.upstream_code == "invalid_client"
    assert "client id or secret" in refused.value.extra["hint"]


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # the sandbox's demo secret is short
def test_the_sandbox_dashboard_launch_verifies(sandbox: Sandbox) -> None:
    from bridge_sandboxes.ikas.seed import DEMO_CLIENT_SECRET

    launch = sandbox.get("dashboard-launch", store="demo")
    params = launch["params"]
    now = datetime.fromisoformat(sandbox.get("clock")["now"])
    assert verify_dashboard_parameters(
        params["storeName"], params["merchantId"], params["timestamp"], params["signature"], DEMO_CLIENT_SECRET, now
    )
    assert not verify_dashboard_parameters(
        params["storeName"],
        params["merchantId"],
        params["timestamp"],
        params["signature"],
        DEMO_CLIENT_SECRET,
        now + timedelta(seconds=121),
    )
    claims = decode_dashboard_jwt(launch["jwt"], DEMO_CLIENT_SECRET, launch["authorizedAppId"])
    assert claims["sub"] == launch["merchantId"]
    with pytest.raises(Unauthenticated):
        decode_dashboard_jwt(launch["jwt"], DEMO_CLIENT_SECRET, "another-installation")
