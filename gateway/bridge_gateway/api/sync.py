"""Sync runs (product.md §6, §8): "start synchronisation now", the run history and one run.

Each scope has one owner: products, stock and the catalog operations belong to the catalog service; orders
and backfill to the orders service. An on-demand request naming a scope that is already going is refused
whole (409 with the going run's `run_id`): every named scope is checked, with its owner, before any run
starts. The history merges both owners' runs (see merged_runs); a run id is opaque, so one run is asked of
the catalog first and then of the orders service.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Final, Literal

from fastapi import APIRouter, Path, Query

from bridge_gateway.api.lists import Page
from bridge_gateway.api.merged_runs import merged_page
from bridge_gateway.clients import CatalogService, GatewayClients, OrdersService
from bridge_gateway.models import PageRequest, Run, RunPage, RunState, StartedRun, StartedRuns, SyncRequest
from bridge_gateway.problems import responses
from bridge_gateway.sessions import Clients, CurrentTenant
from bridge_platform.errors import Conflict, NotFound, UpstreamUnavailable

router = APIRouter(prefix="/api/v1/sync", tags=["sync"])

ORDER_SCOPES: Final[frozenset[str]] = frozenset({"orders", "backfill"})
ON_DEMAND_TRIGGER: Final = "on_demand"
GOING: Final[frozenset[RunState]] = frozenset({"queued", "running"})
RunScope = Literal["products", "stock", "orders", "match", "preview", "reset", "backfill"]


def owner_of(clients: GatewayClients, scope: str) -> CatalogService | OrdersService:
    return clients.orders if scope in ORDER_SCOPES else clients.catalog


@router.post("", status_code=202, responses=responses(401, 403, 409, 422, 503))
def start_sync(request: SyncRequest, tenant: CurrentTenant, clients: Clients) -> StartedRuns:
    """Starts a run of each named scope now; 409 (with `run_id`) and nothing started if one is already going."""
    scopes = list(dict.fromkeys(request.scopes))  # a scope named twice runs once
    for scope in scopes:
        refuse_if_going(clients, tenant.id, scope)
    started = []
    for scope in scopes:
        run = owner_of(clients, scope).start_run(tenant.id, scope, trigger=ON_DEMAND_TRIGGER)
        started.append(StartedRun(id=run.id, scope=run.scope or scope))
    return StartedRuns(runs=started)


def refuse_if_going(clients: GatewayClients, tenant_id: str, scope: str) -> None:
    """Conflict naming the run of `scope` that is queued or running. Runs of one scope never overlap, so only
    the newest can be going. (The owner checks again when it starts one, for requests that race this.)"""
    newest = owner_of(clients, scope).list_runs(tenant_id, PageRequest(page=1, page_size=1), scope=scope).items
    if newest and newest[0].state in GOING:
        raise Conflict(f"a {scope} run is already going; wait for it to finish", {"run_id": newest[0].id})


@router.get("/runs", responses=responses(401, 422, 503))
def list_runs(
    tenant: CurrentTenant,
    clients: Clients,
    page: Page,
    scope: Annotated[RunScope | None, Query(description="only runs of this scope")] = None,
) -> RunPage:
    """The tenant's runs of every scope, newest first, with progress, counts and errors."""
    if scope is not None:
        return owner_of(clients, scope).list_runs(tenant.id, page, scope=scope)
    return merged_page(
        partial(clients.catalog.list_runs, tenant.id), partial(clients.orders.list_runs, tenant.id), page
    )


@router.get("/runs/{run_id}", responses=responses(401, 404, 503))
def get_run(
    run_id: Annotated[str, Path(description="Bridge's id of the run")], tenant: CurrentTenant, clients: Clients
) -> Run:
    """One run of the tenant: state, progress, counts, times, errors and, for a preview or a dry-run backfill,
    the planned actions."""
    try:
        return clients.catalog.get_run(tenant.id, run_id)
    except NotFound:
        return clients.orders.get_run(tenant.id, run_id)
    except UpstreamUnavailable as catalog_down:
        # The run may be the orders service's; if it is not, whether it exists is unknown (503, not 404).
        try:
            return clients.orders.get_run(tenant.id, run_id)
        except NotFound:
            raise catalog_down from None
