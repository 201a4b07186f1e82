"""Product lines, per-line actions, catalog operations and stock locations (product.md §3, §4, §8) over the
fake catalog: the fields of a line, list validation, tenant walls, CSRF and the problems of the service."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeAlias

import pytest

from bridge_gateway.models import EntityError, LineTimelineEntry, StockLocation
from bridge_platform.errors import Conflict, UpstreamRejected, UpstreamUnavailable

if TYPE_CHECKING:
    from starlette.testclient import TestClient

FakeCatalog: TypeAlias = Any

PRODUCTS = "/api/v1/products"
LINE_FIELDS = {
    "id",
    "ikas_product_id",
    "ikas_variant_id",
    "ikas_url",
    "name",
    "variant_name",
    "sku",
    "fortnox_article_number",
    "status",
    "error",
    "ikas_stock",
    "fortnox_stock",
    "last_synced_at",
}


def problem_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


def test_the_list_shows_every_field_of_a_line_and_the_last_sync_times(client: TestClient, catalog: FakeCatalog) -> None:
    failed_at = datetime(2026, 3, 2, 8, 15, tzinfo=UTC)
    catalog.add_line(
        "t_demo",
        "Linen shirt",
        id="line-a",
        ikas_product_id="p1",
        ikas_variant_id="v1",
        ikas_url="https://demo.myikas.com/admin/product/edit/p1",
        variant_name="M / Blue",
        sku="SHIRT-M",
        fortnox_article_number="SHIRT-M",
        status="error",
        error=EntityError(message="Fortnox refused the price", upstream_code="2000637", hint="Check it", at=failed_at),
        ikas_stock="12",
        fortnox_stock="0.5",
    )
    catalog.last_product_sync_at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    response = client.get(PRODUCTS)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {
        "items": [
            {
                "id": "line-a",
                "ikas_product_id": "p1",
                "ikas_variant_id": "v1",
                "ikas_url": "https://demo.myikas.com/admin/product/edit/p1",
                "name": "Linen shirt",
                "variant_name": "M / Blue",
                "sku": "SHIRT-M",
                "fortnox_article_number": "SHIRT-M",
                "status": "error",
                "error": {
                    "message": "Fortnox refused the price",
                    "upstream_code": "2000637",
                    "hint": "Check it",
                    "at": "2026-03-02T08:15:00Z",
                },
                "ikas_stock": "12",
                "fortnox_stock": "0.5",
                "last_synced_at": "2026-03-01T12:00:00Z",
            }
        ],
        "total": 1,
        "page": 1,
        "page_size": 50,
        "last_product_sync_at": "2026-03-02T09:00:00Z",
        "last_stock_sync_at": None,
    }
    assert set(body["items"][0]) == LINE_FIELDS


def test_an_unrelated_line_has_nulls_where_nothing_is_known(client: TestClient, catalog: FakeCatalog) -> None:
    catalog.add_line(
        "t_demo", "Gift card", sku=None, fortnox_article_number=None, status="unmatched", fortnox_stock=None
    )

    item = client.get(PRODUCTS).json()["items"][0]

    assert (item["sku"], item["fortnox_article_number"], item["fortnox_stock"], item["error"]) == (
        None,
        None,
        None,
        None,
    )
    assert item["status"] == "unmatched"


def test_query_status_and_paging_reach_the_catalog(client: TestClient, catalog: FakeCatalog) -> None:
    for index in range(5):
        catalog.add_line("t_demo", f"Mug {index}", status="synced" if index % 2 else "error")

    response = client.get(PRODUCTS, params={"q": "  mug ", "status": "error", "page": 2, "page_size": 2})

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["total"], body["page"], body["page_size"]) == (3, 2, 2)
    assert [item["name"] for item in body["items"]] == ["Mug 4"]
    tenant, page, query, status = catalog.line_requests[-1]
    assert (tenant, page.page, page.page_size, query, status) == ("t_demo", 2, 2, "mug", "error")


def test_the_list_defaults_to_the_first_page_of_fifty(client: TestClient, catalog: FakeCatalog) -> None:
    client.get(PRODUCTS)

    _, page, query, status = catalog.line_requests[-1]
    assert (page.page, page.page_size, query, status) == (1, 50, "", None)


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"page_size": 201}, "page_size", "less_than_equal"),
        ({"page_size": 0}, "page_size", "greater_than_equal"),
        ({"page": 0}, "page", "greater_than_equal"),
        ({"page": "two"}, "page", "invalid_type"),
        ({"page": 2**31}, "page", "less_than_equal"),
        ({"status": "broken"}, "status", "invalid_choice"),
    ],
)
def test_bad_list_parameters_are_422(
    client: TestClient, catalog: FakeCatalog, params: dict[str, Any], field: str, code: str
) -> None:
    problem = problem_of(client.get(PRODUCTS, params=params), 422)

    assert [(error["field"], error["code"]) for error in problem["errors"]] == [(field, code)]
    assert catalog.line_requests == []


def test_the_largest_page_size_is_allowed(client: TestClient) -> None:
    assert client.get(PRODUCTS, params={"page_size": 200}).json()["page_size"] == 200


def test_a_tenant_sees_only_its_own_lines(client: TestClient, catalog: FakeCatalog, signer: Any) -> None:
    catalog.add_line("t_demo", "Demo mug")
    catalog.add_line("t_other", "Other mug")

    assert [item["name"] for item in client.get(PRODUCTS).json()["items"]] == ["Demo mug"]
    signer(client, "other")
    assert [item["name"] for item in client.get(PRODUCTS).json()["items"]] == ["Other mug"]


# ---- per-line actions


@pytest.mark.parametrize(
    ("path", "action", "changed"),
    [
        ("relation", "relink", {"status": "pending"}),
        ("sync-stock", "sync-stock", {"fortnox_stock": "7"}),
        ("export", "export", {"status": "synced"}),
    ],
)
def test_a_line_action_answers_200_with_the_updated_line(
    client: TestClient, catalog: FakeCatalog, path: str, action: str, changed: dict[str, str]
) -> None:
    line = catalog.add_line("t_demo", "Mug", status="ignored", ikas_stock="7", fortnox_stock="3")

    response = client.post(f"{PRODUCTS}/{line.id}/{path}")

    assert response.status_code == 200, response.text
    assert set(response.json()) == LINE_FIELDS
    assert response.json() == {**line.model_dump(mode="json"), **changed}
    assert catalog.actions == [(action, "t_demo", line.id)]


def test_unlinking_a_line_answers_204_and_marks_it_ignored(client: TestClient, catalog: FakeCatalog) -> None:
    line = catalog.add_line("t_demo", "Mug")

    response = client.delete(f"{PRODUCTS}/{line.id}/relation")

    assert response.status_code == 204
    assert response.content == b""
    assert catalog.actions == [("unlink", "t_demo", line.id)]
    assert client.get(PRODUCTS).json()["items"][0]["status"] == "ignored"


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "relation"), ("delete", "relation"), ("post", "sync-stock"), ("post", "export")],
)
def test_a_line_of_another_tenant_is_404(client: TestClient, catalog: FakeCatalog, method: str, path: str) -> None:
    theirs = catalog.add_line("t_other", "Their mug")

    problem = problem_of(client.request(method.upper(), f"{PRODUCTS}/{theirs.id}/{path}"), 404)

    assert "Their mug" not in str(problem)
    assert catalog.lines["t_other"][0] == theirs  # untouched


def test_an_upstream_refusal_of_a_line_action_is_409_with_its_code(client: TestClient, catalog: FakeCatalog) -> None:
    line = catalog.add_line("t_demo", "Mug")
    catalog.error = UpstreamRejected("fortnox", "the article number is not allowed", upstream_code="2000106")

    problem = problem_of(client.post(f"{PRODUCTS}/{line.id}/export"), 409)

    assert (problem["upstream"], problem["upstream_code"]) == ("fortnox", "2000106")


def test_a_stock_sync_without_a_location_is_a_conflict(client: TestClient, catalog: FakeCatalog) -> None:
    line = catalog.add_line("t_demo", "Mug")
    catalog.error = Conflict("choose the ikas stock location that receives Fortnox stock first")

    problem = problem_of(client.post(f"{PRODUCTS}/{line.id}/sync-stock"), 409)

    assert "stock location" in problem["detail"]


# ---- one line with its timeline


def test_one_line_comes_with_its_timeline_oldest_first(client: TestClient, catalog: FakeCatalog) -> None:
    line = catalog.add_line("t_demo", "Mug", sku="MUG-1")
    at = datetime(2026, 3, 2, 8, 15, tzinfo=UTC)
    catalog.timelines[line.id] = [
        LineTimelineEntry(at=at, step="match", outcome="linked", detail="the SKU equals the Fortnox article number"),
        LineTimelineEntry(at=at, step="stock_sync", outcome="stock_written", detail=None),
    ]

    response = client.get(f"{PRODUCTS}/{line.id}")

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == LINE_FIELDS | {"timeline"}
    assert {key: value for key, value in body.items() if key != "timeline"} == line.model_dump(mode="json")
    assert body["timeline"] == [
        {
            "at": "2026-03-02T08:15:00Z",
            "step": "match",
            "outcome": "linked",
            "detail": "the SKU equals the Fortnox article number",
        },
        {"at": "2026-03-02T08:15:00Z", "step": "stock_sync", "outcome": "stock_written", "detail": None},
    ]
    assert "timeline" not in client.get(PRODUCTS).json()["items"][0]  # the list stays without timelines


def test_a_line_never_touched_has_an_empty_timeline(client: TestClient, catalog: FakeCatalog) -> None:
    line = catalog.add_line("t_demo", "Mug", status="unmatched", fortnox_article_number=None)

    assert client.get(f"{PRODUCTS}/{line.id}").json()["timeline"] == []


def test_another_tenants_line_and_its_timeline_are_404(client: TestClient, catalog: FakeCatalog) -> None:
    theirs = catalog.add_line("t_other", "Their mug")
    catalog.timelines[theirs.id] = [LineTimelineEntry(at=None, step="match", outcome="linked", detail="secret")]

    problem = problem_of(client.get(f"{PRODUCTS}/{theirs.id}"), 404)

    assert "Their mug" not in str(problem)
    assert "secret" not in str(problem)


def test_one_line_needs_a_session_and_the_catalog(anonymous: TestClient, client: TestClient, catalog: Any) -> None:
    line = catalog.add_line("t_demo", "Mug")
    problem_of(anonymous.get(f"{PRODUCTS}/{line.id}"), 401)
    catalog.error = UpstreamUnavailable("service", "connection refused")

    response = client.get(f"{PRODUCTS}/{line.id}")

    problem_of(response, 503)
    assert response.headers["retry-after"] == "5"


# ---- operations: match, preview, reset all


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [("post", "/match", "match"), ("post", "/preview", "preview"), ("delete", "/relations", "reset")],
)
def test_an_operation_starts_a_run_and_answers_202(
    client: TestClient, catalog: FakeCatalog, method: str, path: str, scope: str
) -> None:
    response = client.request(method.upper(), f"{PRODUCTS}{path}")

    assert response.status_code == 202, response.text
    runs = response.json()["runs"]
    assert [run["scope"] for run in runs] == [scope]
    assert catalog.started == [("t_demo", scope, "operation")]
    assert client.get(f"/api/v1/sync/runs/{runs[0]['id']}").json()["state"] == "queued"


def test_an_operation_already_running_is_409_with_its_run_id(client: TestClient, catalog: FakeCatalog) -> None:
    going = catalog.add_run("t_demo", "match", "running")

    problem = problem_of(client.post(f"{PRODUCTS}/match"), 409)

    assert problem["run_id"] == going.id
    assert catalog.started == []


# ---- CSRF and sessions


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/match"),
        ("POST", "/preview"),
        ("DELETE", "/relations"),
        ("POST", "/line-1/relation"),
        ("DELETE", "/line-1/relation"),
        ("POST", "/line-1/sync-stock"),
        ("POST", "/line-1/export"),
    ],
)
def test_a_cookie_write_without_the_csrf_header_is_403_and_changes_nothing(
    client: TestClient, catalog: FakeCatalog, method: str, path: str
) -> None:
    catalog.add_line("t_demo", "Mug")
    del client.headers["X-Bridge-CSRF"]

    problem_of(client.request(method, f"{PRODUCTS}{path}"), 403)

    assert (catalog.actions, catalog.started) == ([], [])


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", PRODUCTS), ("POST", f"{PRODUCTS}/match"), ("GET", "/api/v1/stock-locations")],
)
def test_the_product_routes_need_a_session(anonymous: TestClient, method: str, path: str) -> None:
    problem_of(anonymous.request(method, path), 401)


def test_a_bearer_write_needs_no_csrf_header(anonymous: TestClient, auth: Any, catalog: FakeCatalog) -> None:
    line = catalog.add_line("t_demo", "Mug")
    headers = {"Authorization": f"Bearer {auth.dashboard_token('demo')}"}

    assert anonymous.post(f"{PRODUCTS}/{line.id}/export", headers=headers).status_code == 200


def test_the_catalog_down_is_503_with_retry_after(client: TestClient, catalog: FakeCatalog) -> None:
    catalog.error = UpstreamUnavailable("service", "connection refused")

    response = client.get(PRODUCTS)

    problem_of(response, 503)
    assert response.headers["retry-after"] == "5"


# ---- stock locations


def test_stock_locations_are_the_tenants_own(client: TestClient, catalog: FakeCatalog, signer: Any) -> None:
    catalog.locations["t_demo"] = [
        StockLocation(id="loc-1", name="Main warehouse"),
        StockLocation(id="loc-2", name="Shop"),
    ]
    catalog.locations["t_other"] = [StockLocation(id="loc-9", name="Elsewhere")]

    response = client.get("/api/v1/stock-locations")

    assert response.status_code == 200, response.text
    assert response.json() == [{"id": "loc-1", "name": "Main warehouse"}, {"id": "loc-2", "name": "Shop"}]
    signer(client, "other")
    assert client.get("/api/v1/stock-locations").json() == [{"id": "loc-9", "name": "Elsewhere"}]
