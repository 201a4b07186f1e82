"""The running stack over real HTTP: health, the OpenAPI document and the settings round trip (product.md §2, §8).

The settings document is split between the catalog (products, stock) and orders services; these tests prove that
the gateway joins the two halves, stores a full document in both, and stores nothing when either half is invalid.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from tests.conftest import DevProcess

SETTINGS = "/api/v1/settings"

DEFAULTS: dict[str, Any] = {
    "products": {
        "sync_mode": "fortnox_to_ikas",
        "sync_automatically": False,
        "create_new": False,
        "update_existing": False,
    },
    "stock": {
        "sync_automatically": False,
        "ikas_stock_location_id": None,
        "fortnox_stock_point": None,
    },
    "orders": {
        "sync_automatically": False,
        "sync_from": None,
        "create_orders": True,
        "create_invoice": False,
        "sync_items_without_relation": False,
        "send_invoice_email": False,
        "unit_source": "base_unit",
        "unit_attribute": None,
        "language": "customer_else_en",
        "shipping": "freight",
        "shipping_article_number": None,
        "sales_accounts": {},
        "send_when": "placed",
        "register_payments": False,
        "modes_of_payment": {},
        "follow_cancellations": True,
        "follow_refunds": True,
    },
}


@pytest.fixture
def anonymous(stack: DevProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, timeout=15) as client:
        yield client


@pytest.fixture
def client(stack: DevProcess) -> Iterator[httpx.Client]:
    """Signed in to the demo store through /dev/login (local mode), echoing the CSRF cookie on every request."""
    with httpx.Client(base_url=stack.base_url, timeout=15) as client:
        response = client.get("/dev/login", params={"store": "demo"})
        assert response.status_code == 303, response.text
        client.headers["X-Bridge-CSRF"] = response.cookies["bridge_csrf"]
        yield client


@pytest.fixture
def restore_defaults(client: httpx.Client) -> Iterator[None]:
    """The stack is shared by the session: a test that changes the demo store's settings puts the defaults back."""
    yield
    response = client.put(SETTINGS, json=DEFAULTS)
    assert response.status_code == 200, response.text


def _changed(document: dict[str, Any]) -> dict[str, Any]:
    """A valid document that differs from `document` in both services' halves."""
    changed = copy.deepcopy(document)
    changed["products"]["create_new"] = not document["products"]["create_new"]
    changed["products"]["update_existing"] = not document["products"]["update_existing"]
    changed["orders"]["create_invoice"] = not document["orders"]["create_invoice"]
    changed["orders"]["language"] = "always_sv" if document["orders"]["language"] != "always_sv" else "always_en"
    changed["orders"]["shipping"] = "order_row" if document["orders"]["shipping"] == "freight" else "freight"
    changed["orders"]["follow_refunds"] = not document["orders"]["follow_refunds"]
    return changed


def test_liveness_and_readiness(client: httpx.Client) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_openapi_describes_the_settings_api(client: httpx.Client) -> None:
    response = client.get("/openapi.json")

    assert response.status_code == 200
    assert SETTINGS in response.json()["paths"]


def test_new_store_has_the_default_settings(client: httpx.Client) -> None:
    response = client.get(SETTINGS)

    assert response.status_code == 200, response.text
    assert response.json() == DEFAULTS


@pytest.mark.usefixtures("restore_defaults")
def test_a_saved_document_is_returned_and_stored(client: httpx.Client) -> None:
    changed = _changed(client.get(SETTINGS).json())

    saved = client.put(SETTINGS, json=changed)

    assert saved.status_code == 200, saved.text
    assert saved.json() == changed
    assert client.get(SETTINGS).json() == changed


@pytest.mark.usefixtures("restore_defaults")
def test_an_invalid_document_is_refused_whole(client: httpx.Client) -> None:
    before = client.get(SETTINGS).json()
    invalid = _changed(before)  # valid changes in both halves, which must not be stored either
    invalid["orders"]["language"] = "fr"
    invalid["products"]["sync_mode"] = "both"

    response = client.put(SETTINGS, json=invalid)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422
    assert {"orders.language", "products.sync_mode"} <= {error["field"] for error in problem["errors"]}
    assert client.get(SETTINGS).json() == before


def test_settings_need_a_session(anonymous: httpx.Client) -> None:
    response = anonymous.get(SETTINGS)

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert anonymous.put(SETTINGS, json=DEFAULTS).status_code == 401
    assert anonymous.get(SETTINGS, headers={"X-Bridge-Dev-Store": "demo"}).status_code == 401  # the foundation's


def test_a_cookie_write_without_the_csrf_header_is_403(client: httpx.Client) -> None:
    del client.headers["X-Bridge-CSRF"]

    response = client.put(SETTINGS, json=DEFAULTS)

    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")


def test_make_run_starts_both_sandboxes_seeded_with_the_demo_data(stack: DevProcess) -> None:
    fortnox = f"http://127.0.0.1:{stack.env['BRIDGE_SANDBOX_FORTNOX_PORT']}"
    ikas = f"http://127.0.0.1:{stack.env['BRIDGE_SANDBOX_IKAS_PORT']}"

    companies = httpx.get(f"{fortnox}/__admin/state", timeout=10).json()
    stores = httpx.get(f"{ikas}/__admin/state", timeout=10).json()

    assert "Demo AB" in str(companies)
    assert "demo" in str(stores)
    query = {
        "client_id": "bridge-local",
        "redirect_uri": f"{stack.base_url}/oauth/fortnox/callback",
        "scope": "companyinformation",
        "state": "s",
        "access_type": "offline",
        "response_type": "code",
    }
    consent = httpx.get(f"{fortnox}/oauth-v1/auth", params=query, timeout=10)
    assert consent.status_code == 200  # the local client id of Bridge is registered
