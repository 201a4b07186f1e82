"""Install, sign-in, Fortnox connect and disconnect over real HTTP with real redirects (product.md §1, §8).

The whole stack runs as processes (scripts/dev.py with both sandboxes). A browser is played by httpx
clients: the merchant's session at the gateway, and the consent pages of the ikas and Fortnox sandboxes,
whose forms are submitted as a browser would. Redirect URIs are built from BRIDGE_PUBLIC_URL, which is
http://localhost:<port> in local mode, so the gateway is addressed by that name (its cookies belong to it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

if TYPE_CHECKING:
    from tests.conftest import DevProcess

CLIENT_SECRET = "bridge-local-secret"  # Bridge's local ikas and Fortnox client secret, registered in both sandboxes
DEMO_AB, ANDRA_AB = 1001, 1002  # the Fortnox sandbox's demo companies
CONNECTION = "/api/v1/connection"
AUTHORIZE = "/api/v1/connection/fortnox/authorize"
DISCONNECT = "/api/v1/connection/fortnox"
SETTINGS = "/api/v1/settings"
# The sandbox's local client secret is shorter than PyJWT recommends; that is the sandbox's choice.
pytestmark = pytest.mark.filterwarnings("ignore:The HMAC key is .* bytes long")
_HIDDEN = re.compile(r"<input type='hidden' name='([^']+)' value='([^']*)'>")


class Urls:
    def __init__(self, stack: DevProcess) -> None:
        self.gateway = f"http://localhost:{stack.env['BRIDGE_GATEWAY_PORT']}"
        self.ikas = f"http://127.0.0.1:{stack.env['BRIDGE_SANDBOX_IKAS_PORT']}"
        self.fortnox = f"http://127.0.0.1:{stack.env['BRIDGE_SANDBOX_FORTNOX_PORT']}"


@pytest.fixture(scope="module")
def urls(stack: DevProcess) -> Urls:
    return Urls(stack)


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    """A browser of its own (cookie jar), following nothing by itself so each redirect is checked."""
    with httpx.Client(timeout=30) as client:
        yield client


def hidden_fields(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in _HIDDEN.findall(page)}


def install(urls: Urls, browser: httpx.Client, store: str) -> httpx.Response:
    """The ikas install as the merchant's browser goes through it; returns the gateway's last answer."""
    start = browser.get(f"{urls.gateway}/ikas/install", params={"storeName": store})
    assert start.status_code == 302, start.text
    authorize_url = start.headers["location"]
    assert authorize_url.startswith(f"{urls.ikas}/stores/{store}/api/admin/oauth/authorize?")
    consent = browser.get(authorize_url)
    assert consent.status_code == 200, consent.text
    assert "Approve" in consent.text
    decided = browser.post(authorize_url, data={**hidden_fields(consent.text), "decision": "approve"})
    assert decided.status_code == 302, decided.text
    callback = decided.headers["location"]
    assert callback.startswith(f"{urls.gateway}/ikas/callback?")
    assert {"code", "storeName", "signature"} <= set(parse_qs(urlsplit(callback).query))
    return browser.get(callback)


def signed_in(urls: Urls, browser: httpx.Client, store: str) -> httpx.Client:
    """Installs `store` and leaves `browser` signed in, echoing the CSRF cookie."""
    answer = install(urls, browser, store)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/"
    browser.headers["X-Bridge-CSRF"] = answer.cookies["bridge_csrf"]
    return browser


def dashboard_launch(urls: Urls, store: str) -> dict[str, Any]:
    launch = httpx.get(f"{urls.ikas}/__admin/dashboard-launch", params={"store": store}, timeout=10)
    assert launch.status_code == 200, launch.text
    body: dict[str, Any] = launch.json()
    return body


def consent_at_fortnox(urls: Urls, authorize_url: str, *, decision: str, company: int = DEMO_AB) -> str:
    """The merchant's decision in the Fortnox window; returns where Fortnox sends the browser back."""
    assert authorize_url.startswith(f"{urls.fortnox}/oauth-v1/auth?")
    query = parse_qs(urlsplit(authorize_url).query)
    assert query["access_type"] == ["offline"]
    assert set(query["scope"][0].split()) == {
        "article",
        "customer",
        "order",
        "invoice",
        "price",
        "companyinformation",
        "settings",
        "currency",
        "payment",
    }
    with httpx.Client(timeout=30) as window:
        consent = window.get(authorize_url)
        assert consent.status_code == 200, consent.text
        # Empty hidden fields are left out: the sandbox's form echoes an absent account_type as "", and its
        # decision handler then refuses "" (it accepts only a missing value or "service").
        fields = {name: value for name, value in hidden_fields(consent.text).items() if value}
        fields.update(tenant_id=str(company), decision=decision)
        decided = window.post(f"{urls.fortnox}/oauth-v1/auth/decision", data=fields)
    assert decided.status_code == 302, decided.text
    back = decided.headers["location"]
    assert back.startswith(f"{urls.gateway}/oauth/fortnox/callback?")
    return back


def connect_fortnox(urls: Urls, merchant: httpx.Client, company: int = DEMO_AB) -> httpx.Response:
    authorize = merchant.post(f"{urls.gateway}{AUTHORIZE}")
    assert authorize.status_code == 200, authorize.text
    back = consent_at_fortnox(urls, authorize.json()["authorize_url"], decision="approve", company=company)
    return merchant.get(back)


def fortnox_of(urls: Urls, merchant: httpx.Client) -> dict[str, Any]:
    response = merchant.get(f"{urls.gateway}{CONNECTION}")
    assert response.status_code == 200, response.text
    fortnox: dict[str, Any] = response.json()["fortnox"]
    return fortnox


def test_install_sign_in_connect_and_disconnect(urls: Urls, browser: httpx.Client) -> None:
    # Install: ikas consent, back to /ikas/callback, signed in with both cookies.
    answer = install(urls, browser, "demo")
    assert answer.status_code == 303, answer.text
    session_cookie = next(h for h in answer.headers.get_list("set-cookie") if h.startswith("bridge_session="))
    assert "httponly" in session_cookie.lower()
    assert "samesite=lax" in session_cookie.lower()  # plain http on localhost
    browser.headers["X-Bridge-CSRF"] = answer.cookies["bridge_csrf"]
    home = browser.get(f"{urls.gateway}/")
    assert '<strong id="store-name">demo</strong>' in home.text  # the dashboard, signed in
    launch = dashboard_launch(urls, "demo")
    connection = browser.get(f"{urls.gateway}{CONNECTION}").json()
    assert connection["ikas"] == {
        "store_name": "demo",
        "merchant_id": launch["merchantId"],
        "status": "connected",
        "webhook_warning": None,
    }

    # Sign-in as ikas opens the app: signed parameters, then the dashboard JWT.
    with httpx.Client(timeout=30) as opened:
        response = opened.get(f"{urls.gateway}/?{launch['query']}")
        assert response.status_code == 303, response.text
        assert response.headers["location"] == "/"
        assert opened.get(f"{urls.gateway}{CONNECTION}").json()["ikas"]["store_name"] == "demo"
    bearer = {"Authorization": f"Bearer {launch['jwt']}"}
    with httpx.Client(timeout=30) as framed:
        assert framed.get(f"{urls.gateway}{CONNECTION}", headers=bearer).json()["ikas"]["store_name"] == "demo"
        jwt_scheme = {"Authorization": f"JWT {launch['jwt']}"}
        assert framed.get(f"{urls.gateway}{SETTINGS}", headers=jwt_scheme).status_code == 200

    # Connect Fortnox in a new window; the connection shows Demo AB.
    page = connect_fortnox(urls, browser)
    assert page.status_code == 200, page.text
    assert "Demo AB" in page.text
    assert "window.opener.postMessage" in page.text
    fortnox = fortnox_of(urls, browser)
    assert fortnox["status"] == "connected"
    assert fortnox["company_name"] == "Demo AB"
    assert fortnox["organisation_number"]
    assert fortnox["connected_at"] is not None
    assert "companyinformation" in fortnox["scopes"]

    # Disconnect.
    response = browser.delete(f"{urls.gateway}{DISCONNECT}")
    assert response.status_code == 204, response.text
    assert fortnox_of(urls, browser)["status"] == "disconnected"


def test_a_bad_install_signature_is_401(urls: Urls, browser: httpx.Client) -> None:
    params = {"code": "made-up", "storeName": "demo", "signature": "0" * 64}

    response = browser.get(f"{urls.gateway}/ikas/callback", params=params)

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/html")
    assert "bridge_session" not in response.cookies


def _sign(*parts: str, secret: str = CLIENT_SECRET) -> str:
    return hmac.new(secret.encode(), "".join(parts).encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("forgery", ["wrong_secret", "expired", "other_store", "tampered_signature"])
def test_forged_or_expired_signed_parameters_are_401(urls: Urls, browser: httpx.Client, forgery: str) -> None:
    signed_in(urls, httpx.Client(timeout=30), "demo")  # installed, so only the forgery can fail
    params = dict(dashboard_launch(urls, "demo")["params"])
    store, merchant = params["storeName"], params["merchantId"]
    if forgery == "wrong_secret":
        params["signature"] = _sign(store, merchant, params["timestamp"], secret="not-the-secret")
    elif forgery == "expired":
        params["timestamp"] = str(int(time.time() * 1000) - 121_000)
        params["signature"] = _sign(store, merchant, params["timestamp"])
    elif forgery == "other_store":
        params["storeName"] = "other"
    else:
        params["signature"] = params["signature"][:-1] + ("0" if params["signature"][-1] != "0" else "1")

    response = browser.get(f"{urls.gateway}/", params=params)

    assert response.status_code == 401, response.text
    assert "set-cookie" not in response.headers
    assert browser.get(f"{urls.gateway}{CONNECTION}").status_code == 401


def _unsigned_jwt(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


@pytest.mark.parametrize("forgery", ["wrong_secret", "wrong_audience", "expired", "alg_none", "HS512"])
def test_forged_or_expired_dashboard_tokens_are_401(urls: Urls, forgery: str) -> None:
    signed_in(urls, httpx.Client(timeout=30), "demo")
    launch = dashboard_launch(urls, "demo")
    now = int(time.time())
    claims = {
        "sub": launch["merchantId"],
        "aud": launch["authorizedAppId"],
        "iss": "ikas",
        "jti": str(uuid.uuid4()),
        "iat": now,
        "exp": now + 3600,
    }
    assert jwt.encode(claims, CLIENT_SECRET, algorithm="HS256")  # the genuine shape, for contrast
    if forgery == "wrong_secret":
        token = jwt.encode(claims, "not-the-secret-but-long-enough-for-hs256", algorithm="HS256")
    elif forgery == "wrong_audience":
        token = jwt.encode({**claims, "aud": "another-app"}, CLIENT_SECRET, algorithm="HS256")
    elif forgery == "expired":
        token = jwt.encode({**claims, "iat": now - 7200, "exp": now - 3600}, CLIENT_SECRET, algorithm="HS256")
    elif forgery == "alg_none":
        token = _unsigned_jwt(claims)
    else:
        token = jwt.encode(claims, CLIENT_SECRET, algorithm="HS512")

    response = httpx.get(f"{urls.gateway}{CONNECTION}", headers={"Authorization": f"Bearer {token}"}, timeout=30)

    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    genuine = jwt.encode(claims, CLIENT_SECRET, algorithm="HS256")
    ok = httpx.get(f"{urls.gateway}{CONNECTION}", headers={"Authorization": f"Bearer {genuine}"}, timeout=30)
    assert ok.status_code == 200, ok.text


def test_a_cookie_write_without_the_csrf_header_is_403(urls: Urls, browser: httpx.Client) -> None:
    merchant = signed_in(urls, browser, "demo")
    csrf = merchant.headers.pop("X-Bridge-CSRF")

    for method, path in (("POST", AUTHORIZE), ("DELETE", DISCONNECT), ("PUT", SETTINGS)):
        response = merchant.request(method, f"{urls.gateway}{path}", json={})
        assert response.status_code == 403, (method, path, response.text)
    wrong = merchant.post(f"{urls.gateway}{AUTHORIZE}", headers={"X-Bridge-CSRF": csrf[:-1] + "x"})
    assert wrong.status_code == 403
    assert merchant.post(f"{urls.gateway}{AUTHORIZE}", headers={"X-Bridge-CSRF": csrf}).status_code == 200


def test_a_declined_consent_and_a_replayed_state_change_nothing(urls: Urls, browser: httpx.Client) -> None:
    merchant = signed_in(urls, browser, "demo")
    merchant.delete(f"{urls.gateway}{DISCONNECT}")
    before = fortnox_of(urls, merchant)

    authorize_url = merchant.post(f"{urls.gateway}{AUTHORIZE}").json()["authorize_url"]
    declined = merchant.get(consent_at_fortnox(urls, authorize_url, decision="deny"))
    assert declined.status_code == 200
    assert "declined" in declined.text
    assert fortnox_of(urls, merchant) == before

    page = connect_fortnox(urls, merchant)
    assert page.status_code == 200, page.text
    connected = fortnox_of(urls, merchant)
    assert connected["status"] == "connected"
    merchant.delete(f"{urls.gateway}{DISCONNECT}")
    after_disconnect = fortnox_of(urls, merchant)
    replayed = merchant.get(str(page.request.url))  # the same callback, code and state again

    assert replayed.status_code == 400
    assert "already been used" in replayed.text
    assert fortnox_of(urls, merchant) == after_disconnect


def test_webhooks_are_verified_and_deduplicated(urls: Urls) -> None:
    signed_in(urls, httpx.Client(timeout=30), "demo")
    launch = dashboard_launch(urls, "demo")
    data = json.dumps({"id": str(uuid.uuid4()), "orderNumber": "9001"}, separators=(",", ":"))
    delivery = {
        "id": str(uuid.uuid4()),
        "createdAt": "2026-01-01T00:00:00.000Z",
        "scope": "store/order/created",
        "merchantId": launch["merchantId"],
        "authorizedAppId": launch["authorizedAppId"],
        "data": data,
        "signature": _sign(data),
    }
    url = f"{urls.gateway}/webhooks/ikas"

    first = httpx.post(url, content=json.dumps(delivery).encode(), timeout=30)
    again = httpx.post(url, content=json.dumps(delivery).encode(), timeout=30)
    forged = httpx.post(url, content=json.dumps({**delivery, "id": "x", "signature": "0" * 64}).encode(), timeout=30)

    assert (first.status_code, first.json()) == (200, {"status": "accepted"}), first.text
    assert (again.status_code, again.json()) == (200, {"status": "duplicate"})
    assert forged.status_code == 401
    for malformed in (b"", b"not json", b"\xff\xfe", b"[]", b'{"data": 1}'):
        response = httpx.post(url, content=malformed, timeout=30)
        assert response.status_code in (401, 422), (malformed, response.status_code, response.text)


def test_tenant_walls_between_two_installed_stores(urls: Urls) -> None:
    with httpx.Client(timeout=30) as first, httpx.Client(timeout=30) as second:
        demo, other = signed_in(urls, first, "demo"), signed_in(urls, second, "other")
        assert demo.get(f"{urls.gateway}{CONNECTION}").json()["ikas"]["store_name"] == "demo"
        assert other.get(f"{urls.gateway}{CONNECTION}").json()["ikas"]["store_name"] == "other"

        # Connections: each store gets its own company; a disconnect by one leaves the other connected.
        assert connect_fortnox(urls, demo, DEMO_AB).status_code == 200
        assert fortnox_of(urls, other)["company_name"] != "Demo AB"
        assert connect_fortnox(urls, other, ANDRA_AB).status_code == 200
        assert fortnox_of(urls, demo)["company_name"] == "Demo AB"
        assert fortnox_of(urls, other)["company_name"] == "Andra AB"
        assert other.delete(f"{urls.gateway}{DISCONNECT}").status_code == 204
        assert fortnox_of(urls, demo)["status"] == "connected"

        # A consent begun by demo completes for demo, whoever's browser brings the callback.
        authorize_url = demo.post(f"{urls.gateway}{AUTHORIZE}").json()["authorize_url"]
        back = consent_at_fortnox(urls, authorize_url, decision="approve", company=DEMO_AB)
        assert other.get(back).status_code == 200
        assert fortnox_of(urls, other)["status"] == "disconnected"
        assert fortnox_of(urls, demo)["company_name"] == "Demo AB"

        # Settings: demo's change is invisible to other, and the tenant never comes from the query.
        original = demo.get(f"{urls.gateway}{SETTINGS}").json()
        others = other.get(f"{urls.gateway}{SETTINGS}").json()
        changed = json.loads(json.dumps(original))
        changed["products"]["create_new"] = not original["products"]["create_new"]
        try:
            saved = demo.put(f"{urls.gateway}{SETTINGS}", json=changed, params={"tenant_id": "anything"})
            assert saved.status_code == 200, saved.text
            assert other.get(f"{urls.gateway}{SETTINGS}").json() == others
        finally:
            assert demo.put(f"{urls.gateway}{SETTINGS}", json=original).status_code == 200
        demo.delete(f"{urls.gateway}{DISCONNECT}")


def test_logout_ends_the_session(urls: Urls, browser: httpx.Client) -> None:
    merchant = signed_in(urls, browser, "demo")

    assert merchant.post(f"{urls.gateway}/api/v1/session/logout").status_code == 204

    assert merchant.get(f"{urls.gateway}{CONNECTION}").status_code == 401
