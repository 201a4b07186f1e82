"""Sync runs (product.md §6, §8): "start synchronisation now", the run history and one run.

Products and stock belong to the catalog service; orders to the orders service, which has no runs in
its contract yet, so a request naming "orders" is refused whole (422). An on-demand request naming a
scope that is already running is refused whole too (409 with the running run's `run_id`): every named
scope is checked before any run starts.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from fastapi import APIRouter, Path, Query

from bridge_gateway.api.lists import Page
from bridge_gateway.clients import GatewayClients
from bridge_gateway.models import PageRequest, Run, RunPage, RunState, StartedRun, StartedRuns, SyncRequest, SyncScope
from bridge_gateway.problems import responses
from bridge_gateway.sessions import Clients, CurrentTenant
from bridge_platform.errors import Conflict, FieldViolation, InvalidInput

router = APIRouter(prefix="/api/v1/sync", tags=["sync"])

CATALOG_SCOPES: Final[frozenset[str]] = frozenset({"products", "stock", "match", "preview", "reset"})
ON_DEMAND_TRIGGER: Final = "on_demand"
GOING: Final[frozenset[RunState]] = frozenset({"queued", "running"})
RunScope = Literal["products", "stock", "orders", "match", "preview", "reset", "backfill"]


@router.post("", status_code=202, responses=responses(401, 403, 409, 422, 503))
def start_sync(request: SyncRequest, tenant: CurrentTenant, clients: Clients) -> StartedRuns:
    """Starts a run of each named scope now; 409 (with `run_id`) and nothing started if one is already going."""
    refuse_unavailable(request.scopes)
    scopes = list(dict.fromkeys(request.scopes))  # a scope named twice runs once
    for scope in scopes:
        refuse_if_going(clients, tenant.id, scope)
    started = []
    for scope in scopes:
        run = clients.catalog.start_run(tenant.id, scope, trigger=ON_DEMAND_TRIGGER)
        started.append(StartedRun(id=run.id, scope=run.scope or scope))
    return StartedRuns(runs=started)


def refuse_unavailable(scopes: list[SyncScope]) -> None:
    """InvalidInput naming each scope that cannot be started on demand (orders, until its service has runs)."""
    violations = [
        FieldViolation(f"scopes.{index}", "unavailable_scope", "order runs cannot be started yet")
        for index, scope in enumerate(scopes)
        if scope == "orders"
    ]
    if violations:
        raise InvalidInput("order synchronisation cannot be started on demand yet", violations)


def refuse_if_going(clients: GatewayClients, tenant_id: str, scope: str) -> None:
    """Conflict naming the run of `scope` that is queued or running. Runs of one scope never overlap, so only
    the newest can be going. (The service checks again when it starts one, for requests that race this.)"""
    newest = clients.catalog.list_runs(tenant_id, PageRequest(page=1, page_size=1), scope=scope).items
    if newest and newest[0].state in GOING:
        raise Conflict(f"a {scope} run is already going; wait for it to finish", {"run_id": newest[0].id})


@router.get("/runs", responses=responses(401, 422, 503))
def list_runs(
    tenant: CurrentTenant,
    clients: Clients,
    page: Page,
    scope: Annotated[RunScope | None, Query(description="only runs of this scope")] = None,
) -> RunPage:
    """The tenant's runs, newest first, with progress, counts and errors."""
    if scope is not None and scope not in CATALOG_SCOPES:  # order runs come with the orders service's runs
        return RunPage(items=[], total=0, page=page.page, page_size=page.page_size)
    return clients.catalog.list_runs(tenant.id, page, scope=scope)


@router.get("/runs/{run_id}", responses=responses(401, 404, 503))
def get_run(
    run_id: Annotated[str, Path(description="Bridge's id of the run")], tenant: CurrentTenant, clients: Clients
) -> Run:
    """One run of the tenant: state, progress, counts, times, errors and, for a preview, the planned actions."""
    return clients.catalog.get_run(tenant.id, run_id)
