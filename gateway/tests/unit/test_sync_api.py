"""POST /api/v1/sync and the run history (product.md §6, §8) over the fake catalog: 202 with the runs,
409 with the running run's id and nothing started, orders refused until its service has runs, run objects,
paging, tenant walls and CSRF."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeAlias

import pytest

from bridge_gateway.models import EntityError, PlannedAction, RunCounts, RunProgress

if TYPE_CHECKING:
    from starlette.testclient import TestClient

FakeCatalog: TypeAlias = Any

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


def test_orders_cannot_be_started_yet_and_nothing_starts(client: TestClient, catalog: FakeCatalog) -> None:
    problem = problem_of(client.post(SYNC, json={"scopes": ["products", "orders"]}), 422)

    assert [(error["field"], error["code"]) for error in problem["errors"]] == [("scopes.1", "unavailable_scope")]
    assert "order" in problem["detail"]
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
    assert client.get(RUNS, params={"scope": "orders"}).json()["items"] == []  # no order runs yet
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
