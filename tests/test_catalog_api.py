"""Products, stock and runs over the running stack (product.md §2-§4, §6, §8): settings via REST in both modes,
runs via REST, and the outcome asserted in the ikas and Fortnox sandboxes (their /__admin/state and call logs).

The stack is shared by the session, so these tests install their own two stores ("demo" with Demo AB, "other"
with Andra AB), and put the product settings back (resetting the relations they made) at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.merchants import (
    RUNS,
    SYNC,
    Urls,
    clear_calls,
    connect_fortnox,
    fortnox_table,
    fortnox_writes,
    ikas_store,
    installed,
    run_now,
    started,
    wait_for,
)

if TYPE_CHECKING:
    from tests.conftest import DevProcess

DEMO_AB, ANDRA_AB = 1001, 1002
SETTINGS = "/api/v1/settings"
PRODUCTS = "/api/v1/products"
FORTNOX_ONLY = ["FX-2001", "FX-2002", "FX-2003", "FX-2004"]  # active demo articles without an ikas variant
INACTIVE = "FX-2005"  # an inactive demo article: never created in ikas


@pytest.fixture(scope="module")
def urls(stack: DevProcess) -> Urls:
    return Urls.of(stack)


@pytest.fixture(scope="module")
def merchants(urls: Urls) -> Iterator[dict[str, httpx.Client]]:
    """The stores "demo" (Demo AB) and "other" (Andra AB), installed and connected; reset to the defaults after."""
    clients = {"demo": installed(urls, "demo"), "other": installed(urls, "other")}
    connect_fortnox(urls, clients["demo"], DEMO_AB)
    connect_fortnox(urls, clients["other"], ANDRA_AB)
    yield clients
    for client in clients.values():
        document = client.get(SETTINGS).json()
        document["products"] = {
            "sync_mode": "fortnox_to_ikas",
            "sync_automatically": False,
            "create_new": False,
            "update_existing": False,
        }
        document["stock"] = {"sync_automatically": False, "ikas_stock_location_id": None, "fortnox_stock_point": None}
        client.put(SETTINGS, json=document, params={"confirm_reset": "true"})
        client.delete("/api/v1/connection/fortnox")
        client.close()


# ---- helpers


def save_catalog_settings(
    merchant: httpx.Client, *, confirm_reset: bool = False, location: str | None = None, **products: Any
) -> httpx.Response:
    document = merchant.get(SETTINGS).json()
    document["products"].update(products)
    document["stock"]["ikas_stock_location_id"] = location
    params = {"confirm_reset": "true"} if confirm_reset else {}
    return merchant.put(SETTINGS, json=document, params=params)


def operation(merchant: httpx.Client, method: str, path: str) -> dict[str, Any]:
    (run,) = started(merchant.request(method, f"{PRODUCTS}{path}"))
    return wait_for(merchant, run["id"])


def lines(merchant: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        response = merchant.get(PRODUCTS, params={**params, "page": page, "page_size": 200})
        assert response.status_code == 200, response.text
        body = response.json()
        found.extend(body["items"])
        if len(found) >= body["total"] or not body["items"]:
            return found
        page += 1


def fortnox_articles(urls: Urls, company: int) -> dict[str, dict[str, Any]]:
    return fortnox_table(urls, company, "articles")


def ikas_skus(urls: Urls, store: str) -> list[str]:
    products = ikas_store(urls, store)["products"]
    return [v["sku"] for p in products if not p.get("deleted") for v in p["variants"] if v.get("sku")]


# ---- the tests, in the order a merchant goes


def test_stock_locations_are_the_stores_own(merchants: dict[str, httpx.Client]) -> None:
    demo = merchants["demo"].get("/api/v1/stock-locations")
    other = merchants["other"].get("/api/v1/stock-locations")

    assert demo.status_code == 200, demo.text
    assert sorted(location["name"] for location in demo.json()) == ["Gothenburg shop", "Main warehouse"]
    assert [location["name"] for location in other.json()] == ["Main warehouse"]
    assert not {location["id"] for location in demo.json()} & {location["id"] for location in other.json()}


def test_fortnox_to_ikas_creates_links_and_writes_stock_then_a_second_run_writes_nothing(
    urls: Urls, merchants: dict[str, httpx.Client]
) -> None:
    demo = merchants["demo"]
    shop = next(loc["id"] for loc in demo.get("/api/v1/stock-locations").json() if loc["name"] == "Gothenburg shop")
    saved = save_catalog_settings(
        demo, confirm_reset=True, location=shop, sync_mode="fortnox_to_ikas", create_new=True, update_existing=True
    )
    assert saved.status_code == 200, saved.text
    other_before = ikas_store(urls, "other")

    (products_run,) = run_now(demo, "products")
    (stock_run,) = run_now(demo, "stock")

    assert products_run["state"] == "succeeded", products_run
    assert products_run["counts"]["created"] == len(FORTNOX_ONLY)
    assert stock_run["state"] == "succeeded", stock_run
    skus = ikas_skus(urls, "demo")
    for number in FORTNOX_ONLY:
        assert skus.count(number) == 1, number  # created once, never duplicated
    assert INACTIVE not in skus
    assert ikas_store(urls, "other") == other_before  # another tenant's store is untouched
    (created,) = lines(demo, q="FX-2001")
    assert (created["status"], created["fortnox_article_number"]) == ("synced", "FX-2001")
    # The link into the ikas admin names the tenant's store (BRIDGE_IKAS_STORE_URL with {store} filled in).
    assert created["ikas_url"].startswith(f"{urls.ikas}/stores/demo/"), created["ikas_url"]
    assert created["ikas_url"].endswith(created["ikas_product_id"])
    assert all(line["status"] != "synced" for line in lines(demo, q="DEMO-1020"))  # a duplicate SKU links nothing
    # Stock: the chosen ikas location holds Fortnox's quantity; the other location is untouched.
    quantity = fortnox_articles(urls, DEMO_AB)["FX-2001"]["QuantityInStock"]
    stocks = [s for s in ikas_store(urls, "demo")["stocks"] if s["variantId"] == created["ikas_variant_id"]]
    assert [float(s["stockCount"]) for s in stocks if s["stockLocationId"] == shop] == [float(quantity)]
    listed = demo.get(PRODUCTS).json()
    assert listed["last_product_sync_at"]
    assert listed["last_stock_sync_at"]

    clear_calls(urls)
    products_products = ikas_store(urls, "demo")["products"]
    again = run_now(demo, "products", "stock")

    assert all(run["state"] == "succeeded" for run in again), again
    assert [(run["counts"]["created"], run["counts"]["updated"]) for run in again] == [(0, 0), (0, 0)]
    assert fortnox_writes(urls, DEMO_AB) == []
    assert ikas_store(urls, "demo")["products"] == products_products  # no ikas write either


def test_overlapping_runs_are_refused_with_the_running_runs_id(urls: Urls, merchants: dict[str, httpx.Client]) -> None:
    demo = merchants["demo"]
    # Every upstream answer comes late, so the products run is still going when the second request arrives,
    # whichever calls it makes (an incremental run may make few).
    slow_fortnox = {"kind": "delay", "path": "^/3/", "key": str(DEMO_AB), "times": 20, "delay_s": 1.5}
    slow_ikas = {"kind": "delay", "method": "POST", "path": "graphql", "key": "demo", "times": 20, "delay_s": 1.5}
    assert httpx.post(f"{urls.fortnox}/__admin/faults", json=slow_fortnox, timeout=10).status_code == 200
    assert httpx.post(f"{urls.ikas}/__admin/faults", json=slow_ikas, timeout=10).status_code == 200
    stock_runs_before = demo.get(RUNS, params={"scope": "stock"}).json()["total"]
    try:
        answer = demo.post(SYNC, json={"scopes": ["products"]})
        if answer.status_code == 409:  # a webhook's wake-up run came first: the refusal is what is tested
            running_id = answer.json()["run_id"]
        else:
            (first,) = started(answer)
            running_id = first["id"]

        refused = demo.post(SYNC, json={"scopes": ["stock", "products"]})

        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["run_id"] == running_id
        assert demo.get(RUNS, params={"scope": "stock"}).json()["total"] == stock_runs_before  # nothing started
        wait_for(demo, running_id)
    finally:
        for base in (urls.fortnox, urls.ikas):
            httpx.delete(f"{base}/__admin/faults", timeout=10)


def test_preview_plans_without_writing_and_unlink_survives_the_next_match(
    urls: Urls, merchants: dict[str, httpx.Client]
) -> None:
    demo = merchants["demo"]
    clear_calls(urls)

    preview = operation(demo, "POST", "/preview")

    assert (preview["scope"], preview["state"]) == ("preview", "succeeded"), preview
    assert all(action["action"] in {"create", "update", "skip"} for action in preview["planned"])
    assert fortnox_writes(urls, DEMO_AB) == []

    synced = next(line for line in lines(demo, status="synced"))
    assert demo.delete(f"{PRODUCTS}/{synced['id']}/relation").status_code == 204
    match = operation(demo, "POST", "/match")
    assert match["state"] in {"succeeded", "partially_failed"}, match
    (after_match,) = [line for line in lines(demo, q=synced["sku"]) if line["id"] == synced["id"]]
    assert after_match["status"] == "ignored"  # not re-matched automatically

    relinked = demo.post(f"{PRODUCTS}/{synced['id']}/relation")
    assert relinked.status_code == 200, relinked.text
    assert relinked.json()["status"] != "ignored"
    assert relinked.json()["fortnox_article_number"] == synced["sku"]


def test_a_sync_mode_change_needs_confirmation_and_ikas_to_fortnox_exports_tagged_products(
    urls: Urls, merchants: dict[str, httpx.Client]
) -> None:
    demo, other = merchants["demo"], merchants["other"]
    assert lines(demo, status="synced")  # relations exist

    refused = save_catalog_settings(demo, sync_mode="ikas_to_fortnox")

    assert refused.status_code == 409, refused.text
    assert "confirm" in refused.json()["detail"]
    assert demo.get(SETTINGS).json()["products"]["sync_mode"] == "fortnox_to_ikas"
    confirmed = save_catalog_settings(demo, confirm_reset=True, sync_mode="ikas_to_fortnox")
    assert confirmed.status_code == 200, confirmed.text
    assert not lines(demo, status="synced")  # the relations went with the change

    saved = save_catalog_settings(other, sync_mode="ikas_to_fortnox", create_new=True, update_existing=True)
    assert saved.status_code == 200, saved.text
    demo_articles_before = fortnox_articles(urls, DEMO_AB)
    (run,) = run_now(other, "products")

    assert run["state"] in {"succeeded", "partially_failed"}, run
    articles = fortnox_articles(urls, ANDRA_AB)
    assert articles["OTHER-2001"]["Description"].startswith("Other store mug")
    assert "OTHER-2002" not in articles  # not tagged "fortnox"
    assert fortnox_articles(urls, DEMO_AB) == demo_articles_before  # another tenant's company is untouched


def test_reset_all_relations_is_a_run(merchants: dict[str, httpx.Client]) -> None:
    other = merchants["other"]
    assert lines(other, status="synced")

    reset = operation(other, "DELETE", "/relations")

    assert (reset["scope"], reset["state"]) == ("reset", "succeeded"), reset
    assert not lines(other, status="synced")


def test_tenant_walls_on_every_endpoint(merchants: dict[str, httpx.Client]) -> None:
    demo, other = merchants["demo"], merchants["other"]
    demo_line = lines(demo)[0]
    demo_run = demo.get(RUNS).json()["items"][0]

    for method, path in (
        ("GET", f"{RUNS}/{demo_run['id']}"),
        ("POST", f"{PRODUCTS}/{demo_line['id']}/relation"),
        ("DELETE", f"{PRODUCTS}/{demo_line['id']}/relation"),
        ("POST", f"{PRODUCTS}/{demo_line['id']}/sync-stock"),
        ("POST", f"{PRODUCTS}/{demo_line['id']}/export"),
    ):
        response = other.request(method, path)
        assert response.status_code == 404, (method, path, response.text)
        assert demo_line["name"] not in response.text
    assert demo_line["id"] not in {line["id"] for line in lines(other)}
    assert demo_run["id"] not in {run["id"] for run in other.get(RUNS, params={"page_size": 200}).json()["items"]}
    (unchanged,) = [line for line in lines(demo) if line["id"] == demo_line["id"]]
    assert unchanged == demo_line
