"""POST /api/v1/sync and the run history (product.md §6, §8) over the fake catalog and orders services: 202
with the runs, each scope started by its owner, 409 with the going run's id (of either owner) and nothing
started, run objects, one history merged from both owners and paged correctly, tenant walls and CSRF."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeAlias

import pytest

from bridge_gateway.models import EntityError, PlannedAction, RunCounts, RunProgress
from bridge_platform.errors import UpstreamUnavailable

if TYPE_CHECKING:
    from starlette.testclient import TestClient

FakeCatalog: TypeAlias = Any
FakeOrders: TypeAlias = Any

SYNC = "/api/v1/sync"
RUNS = "/api/v1/sync/runs"


def problem_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


def test_sync_now_starts_a_run_per_scope_and_answers_202(client: TestClient, catalog: FakeCatalog) -> None:
    response = client.post(SYNC, json={"scopes": ["products", "stock"]})

    assert response.status_code == 202, response.text
    runs = response.json()["runs"]
    assert [run["scope"] for run in runs] == ["products", "stock"]
    assert all(set(run) == {"id", "scope"} for run in runs)
    assert catalog.started == [("t_demo", "products", "on_demand"), ("t_demo", "stock", "on_demand")]


def test_a_scope_named_twice_runs_once(client: TestClient, catalog: FakeCatalog) -> None:
    response = client.post(SYNC, json={"scopes": ["stock", "stock"]})

    assert response.status_code == 202, response.text
    assert [scope for _, scope, _ in catalog.started] == ["stock"]


@pytest.mark.parametrize("state", ["queued", "running"])
def test_a_scope_already_going_is_409_with_its_run_id_and_starts_nothing(
    client: TestClient, catalog: FakeCatalog, state: str
) -> None:
    going = catalog.add_run("t_demo", "stock", state)

    problem = problem_of(client.post(SYNC, json={"scopes": ["products", "stock"]}), 409)

    assert problem["run_id"] == going.id
    assert "stock" in problem["detail"]
    assert catalog.started == []  # products was free, and still did not start


def test_a_finished_run_does_not_block_the_next(client: TestClient, catalog: FakeCatalog) -> None:
    catalog.add_run("t_demo", "products", "failed")

    assert client.post(SYNC, json={"scopes": ["products"]}).status_code == 202


def test_another_tenants_running_run_does_not_block(client: TestClient, catalog: FakeCatalog) -> None:
    catalog.add_run("t_other", "products", "running")

    assert client.post(SYNC, json={"scopes": ["products"]}).status_code == 202


def test_a_run_started_by_a_racing_request_is_still_409(client: TestClient, catalog: FakeCatalog) -> None:
    """The service's own check answers when a run starts between the gateway's check and its start."""
    listed = catalog.list_runs

    def list_then_race(tenant_id: str, page: Any, *, scope: str | None = None) -> Any:
        answer = listed(tenant_id, page, scope=scope)
        catalog.add_run(tenant_id, "products", "queued")
        return answer

    catalog.list_runs = list_then_race

    problem = problem_of(client.post(SYNC, json={"scopes": ["products"]}), 409)

    assert problem["run_id"]


def test_orders_are_started_by_the_orders_service(client: TestClient, catalog: FakeCatalog, orders: FakeOrders) -> None:
    response = client.post(SYNC, json={"scopes": ["products", "orders"]})

    assert response.status_code == 202, response.text
    runs = response.json()["runs"]
    assert [run["scope"] for run in runs] == ["products", "orders"]
    assert catalog.started == [("t_demo", "products", "on_demand")]
    assert orders.started == [("t_demo", "orders", "on_demand")]
    assert runs[1]["id"] == orders.runs["t_demo"][0].id


@pytest.mark.parametrize("state", ["queued", "running"])
def test_an_orders_run_going_is_409_with_its_run_id_and_nothing_starts(
    client: TestClient, catalog: FakeCatalog, orders: FakeOrders, state: str
) -> None:
    going = orders.add_run("t_demo", "orders", state)

    problem = problem_of(client.post(SYNC, json={"scopes": ["products", "stock", "orders"]}), 409)

    assert problem["run_id"] == going.id
    assert "orders" in problem["detail"]
    assert (catalog.started, orders.started) == ([], [])


def test_a_catalog_run_going_starts_no_orders_run_either(
    client: TestClient, catalog: FakeCatalog, orders: FakeOrders
) -> None:
    going = catalog.add_run("t_demo", "stock", "running")

    problem = problem_of(client.post(SYNC, json={"scopes": ["orders", "stock"]}), 409)

    assert problem["run_id"] == going.id
    assert (catalog.started, orders.started) == ([], [])


def test_a_going_backfill_does_not_block_an_orders_run(client: TestClient, orders: FakeOrders) -> None:
    orders.add_run("t_demo", "backfill", "running")

    assert client.post(SYNC, json={"scopes": ["orders"]}).status_code == 202


def test_an_orders_run_started_by_a_racing_request_is_still_409(client: TestClient, orders: FakeOrders) -> None:
    listed = orders.list_runs

    def list_then_race(tenant_id: str, page: Any, *, scope: str | None = None) -> Any:
        answer = listed(tenant_id, page, scope=scope)
        orders.add_run(tenant_id, "orders", "queued")
        return answer

    orders.list_runs = list_then_race

    problem = problem_of(client.post(SYNC, json={"scopes": ["orders"]}), 409)

    assert problem["run_id"] == orders.runs["t_demo"][0].id


def test_an_orders_service_that_is_down_is_503_and_starts_nothing(
    client: TestClient, catalog: FakeCatalog, orders: FakeOrders
) -> None:
    orders.error = UpstreamUnavailable("service", "orders is restarting")

    problem = problem_of(client.post(SYNC, json={"scopes": ["products", "orders"]}), 503)

    assert problem["status"] == 503
    assert catalog.started == []


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"scopes": ["prices"]}, "scopes.0", "invalid_choice"),
        ({"scopes": []}, "scopes", "too_short"),
        ({}, "scopes", "required"),
        ({"scopes": "products"}, "scopes", "invalid_type"),
        ({"scopes": ["products"], "force": True}, "force", "unknown_field"),
    ],
)
def test_a_bad_sync_request_is_422(
    client: TestClient, catalog: FakeCatalog, body: dict[str, Any], field: str, code: str
) -> None:
    problem = problem_of(client.post(SYNC, json=body), 422)

    assert [(error["field"], error["code"]) for error in problem["errors"]] == [(field, code)]
    assert catalog.started == []


def test_sync_now_needs_the_csrf_header_with_a_cookie(client: TestClient, catalog: FakeCatalog) -> None:
    del client.headers["X-Bridge-CSRF"]

    problem_of(client.post(SYNC, json={"scopes": ["products"]}), 403)

    assert catalog.started == []


# ---- the run history


def test_a_run_shows_state_progress_counts_times_errors_and_planned_actions(
    client: TestClient, catalog: FakeCatalog
) -> None:
    run = catalog.add_run(
        "t_demo",
        "preview",
        "partially_failed",
        trigger="operation",
        progress=RunProgress(done=4, total=5),
        counts=RunCounts(created=2, updated=1, unchanged=0, failed=1),
        errors=[
            EntityError(
                message="SKU too long", upstream_code=None, hint="Shorten it", at=datetime(2026, 3, 1, tzinfo=UTC)
            )
        ],
        planned=[PlannedAction(action="create", entity="MUG-1", reason="new article")],
    )

    response = client.get(f"{RUNS}/{run.id}")

    assert response.status_code == 200, response.text
    assert response.json() == {
        "id": run.id,
        "scope": "preview",
        "state": "partially_failed",
        "trigger": "operation",
        "progress": {"done": 4, "total": 5},
        "counts": {"created": 2, "updated": 1, "unchanged": 0, "failed": 1},
        "created_at": "2026-03-01T12:01:00Z",
        "started_at": "2026-03-01T12:01:00Z",
        "finished_at": "2026-03-01T12:01:30Z",
        "errors": [
            {"message": "SKU too long", "upstream_code": None, "hint": "Shorten it", "at": "2026-03-01T00:00:00Z"}
        ],
        "planned": [{"action": "create", "entity": "MUG-1", "reason": "new article"}],
        "result": {},
    }


def test_a_queued_run_has_no_total_and_no_times_yet(client: TestClient, catalog: FakeCatalog) -> None:
    run_id = client.post(SYNC, json={"scopes": ["stock"]}).json()["runs"][0]["id"]

    run = client.get(f"{RUNS}/{run_id}").json()

    assert (run["state"], run["progress"], run["started_at"], run["finished_at"]) == (
        "queued",
        {"done": 0, "total": None},
        None,
        None,
    )


def test_a_run_of_another_tenant_is_404(client: TestClient, catalog: FakeCatalog) -> None:
    theirs = catalog.add_run("t_other", "products")

    problem = problem_of(client.get(f"{RUNS}/{theirs.id}"), 404)

    assert theirs.id not in problem["detail"]
    problem_of(client.get(f"{RUNS}/no-such-run"), 404)


def test_runs_are_listed_newest_first_page_by_page(client: TestClient, catalog: FakeCatalog) -> None:
    ids = [catalog.add_run("t_demo", scope).id for scope in ("products", "stock", "match")]
    catalog.add_run("t_other", "products")

    first = client.get(RUNS, params={"page_size": 2}).json()
    second = client.get(RUNS, params={"page_size": 2, "page": 2}).json()

    assert [run["id"] for run in first["items"]] == [ids[2], ids[1]]
    assert [run["id"] for run in second["items"]] == [ids[0]]
    assert (first["total"], first["page"], first["page_size"], second["page"]) == (3, 1, 2, 2)


def test_runs_can_be_filtered_by_scope(client: TestClient, catalog: FakeCatalog) -> None:
    catalog.add_run("t_demo", "products")
    stock = catalog.add_run("t_demo", "stock")

    assert [run["id"] for run in client.get(RUNS, params={"scope": "stock"}).json()["items"]] == [stock.id]
    assert client.get(RUNS, params={"scope": "orders"}).json()["items"] == []
    problem = problem_of(client.get(RUNS, params={"scope": "prices"}), 422)
    assert [(error["field"], error["code"]) for error in problem["errors"]] == [("scope", "invalid_choice")]


def test_the_run_list_takes_the_list_defaults_and_limits(client: TestClient) -> None:
    body = client.get(RUNS).json()

    assert (body["items"], body["total"], body["page"], body["page_size"]) == ([], 0, 1, 50)
    problem = problem_of(client.get(RUNS, params={"page_size": 500}), 422)
    assert [error["field"] for error in problem["errors"]] == ["page_size"]


@pytest.mark.parametrize(("method", "path"), [("GET", RUNS), ("GET", f"{RUNS}/run-1"), ("POST", SYNC)])
def test_the_sync_routes_need_a_session(anonymous: TestClient, method: str, path: str) -> None:
    problem_of(anonymous.request(method, path, json={"scopes": ["products"]}), 401)


# ---- order runs and the merged history


def at(minute: int) -> datetime:
    return datetime(2026, 4, 1, 8, 0, tzinfo=UTC) + timedelta(minutes=minute)


def test_order_runs_are_listed_and_read_through_the_orders_service(
    client: TestClient, catalog: FakeCatalog, orders: FakeOrders
) -> None:
    catalog.add_run("t_demo", "products")
    sync = orders.add_run("t_demo", "orders")
    backfill = orders.add_run(
        "t_demo",
        "backfill",
        trigger="operation",
        planned=[PlannedAction(action="create", entity="1001", reason="placed, paid, all lines related")],
    )

    only_orders = client.get(RUNS, params={"scope": "orders"}).json()
    only_backfills = client.get(RUNS, params={"scope": "backfill"}).json()
    one = client.get(f"{RUNS}/{backfill.id}")

    assert [run["id"] for run in only_orders["items"]] == [sync.id]
    assert [run["id"] for run in only_backfills["items"]] == [backfill.id]
    assert one.status_code == 200, one.text
    assert one.json()["planned"] == [
        {"action": "create", "entity": "1001", "reason": "placed, paid, all lines related"}
    ]
    assert all(scope in ("orders", "backfill") for _, _, scope in orders.run_lists)


def test_an_order_run_of_another_tenant_is_404(client: TestClient, orders: FakeOrders) -> None:
    theirs = orders.add_run("t_other", "orders")

    problem = problem_of(client.get(f"{RUNS}/{theirs.id}"), 404)

    assert theirs.id not in problem["detail"]


def test_an_order_run_is_found_while_the_catalog_is_down_but_an_unknown_one_is_503(
    client: TestClient, catalog: FakeCatalog, orders: FakeOrders
) -> None:
    mine = orders.add_run("t_demo", "orders")
    catalog.error = UpstreamUnavailable("service", "catalog is restarting")

    assert client.get(f"{RUNS}/{mine.id}").json()["id"] == mine.id
    problem_of(client.get(f"{RUNS}/no-such-run"), 503)  # it may be the catalog's: not known to be missing


def test_the_history_merges_both_owners_newest_first(
    client: TestClient, catalog: FakeCatalog, orders: FakeOrders
) -> None:
    catalog.add_run("t_demo", "products", created_at=at(1))
    orders.add_run("t_demo", "orders", created_at=at(2))
    catalog.add_run("t_demo", "stock", created_at=at(3))
    orders.add_run("t_demo", "backfill", created_at=at(4))
    orders.add_run("t_other", "orders", created_at=at(5))

    body = client.get(RUNS).json()

    assert [run["scope"] for run in body["items"]] == ["backfill", "stock", "orders", "products"]
    assert (body["total"], body["page"], body["page_size"]) == (4, 1, 50)


def merged_history(catalog: FakeCatalog, orders: FakeOrders, pattern: str) -> list[str]:
    """Adds one run per letter ("c" catalog, "o" orders) at minutes 0, 1, ... (equal minutes for "="-joined
    letters); returns the ids as the merged history lists them, newest first (the catalog's first on a tie)."""
    added: list[tuple[datetime, int, str]] = []
    for minute, group in enumerate(pattern.split()):
        for letter in group.split("="):
            owner = catalog if letter == "c" else orders
            run = owner.add_run("t_demo", "products" if letter == "c" else "orders", created_at=at(minute))
            added.append((at(minute), 0 if letter == "c" else 1, run.id))
    return [run_id for *_, run_id in sorted(added, key=lambda item: (-item[0].timestamp(), item[1]))]


def test_every_page_of_the_merged_history_is_right_and_together_they_list_each_run_once(
    client: TestClient, catalog: FakeCatalog, orders: FakeOrders
) -> None:
    expected = merged_history(catalog, orders, "c c o c=o o o c o=c c o o c c")

    for page_size in (1, 2, 3, 4, 7, 50):
        pages = [
            client.get(RUNS, params={"page": page, "page_size": page_size}).json()
            for page in range(1, len(expected) // page_size + 3)
        ]
        listed = [run["id"] for body in pages for run in body["items"]]
        assert listed == expected, page_size
        assert {body["total"] for body in pages} == {len(expected)}


def test_a_deep_page_of_the_merged_history_reads_single_runs_not_every_run_before_it(
    client: TestClient, catalog: FakeCatalog, orders: FakeOrders
) -> None:
    """Past the first MAX_PAGE_SIZE runs the split between the owners is found by bisection."""
    expected = merged_history(catalog, orders, " ".join(["c o o c c o"] * 70))
    orders.run_lists.clear()

    body = client.get(RUNS, params={"page": 9, "page_size": 50}).json()

    assert [run["id"] for run in body["items"]] == expected[400:420]
    assert body["total"] == 420
    read = sum(page.page_size for _, page, _ in orders.run_lists)
    assert read <= 150, orders.run_lists  # never the 400 before the page
    assert len(orders.run_lists) <= 14


@pytest.mark.parametrize("pattern", ["c", "o"])
def test_a_deep_page_with_one_owner_empty_is_that_owners_page(
    client: TestClient, catalog: FakeCatalog, orders: FakeOrders, pattern: str
) -> None:
    expected = merged_history(catalog, orders, " ".join([pattern] * 230))

    body = client.get(RUNS, params={"page": 5, "page_size": 50}).json()

    assert [run["id"] for run in body["items"]] == expected[200:230]
    assert body["total"] == 230


def test_a_page_past_the_end_of_the_merged_history_is_empty(
    client: TestClient, catalog: FakeCatalog, orders: FakeOrders
) -> None:
    merged_history(catalog, orders, "c o")

    body = client.get(RUNS, params={"page": 30, "page_size": 10}).json()

    assert (body["items"], body["total"], body["page"]) == ([], 2, 30)


def test_the_merged_history_is_503_when_the_orders_service_is_down(client: TestClient, orders: FakeOrders) -> None:
    orders.error = UpstreamUnavailable("service", "orders is restarting")

    problem_of(client.get(RUNS), 503)
