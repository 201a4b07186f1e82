"""Product lines, their actions and the catalog's operations (product.md §3, §4, §8), and the ikas stock
locations. One line comes with its timeline; single-line actions answer 200 with the line; unlinking is a
delete (204); operations that take a while (match, preview, reset all) start a run and answer 202 with it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from bridge_gateway.api.lists import Page
from bridge_gateway.models import (
    LineStatus,
    ProductLine,
    ProductLineDetail,
    ProductLinePage,
    StartedRun,
    StartedRuns,
    StockLocation,
)
from bridge_gateway.problems import responses
from bridge_gateway.sessions import Clients, CurrentTenant

router = APIRouter(prefix="/api/v1", tags=["products"])

LineId = Annotated[str, Path(description="Bridge's id of the product line")]
OPERATION_TRIGGER = "operation"


@router.get("/products", responses=responses(401, 422, 503))
def list_products(
    tenant: CurrentTenant,
    clients: Clients,
    page: Page,
    q: Annotated[str | None, Query(max_length=200, description="searches product name and SKU")] = None,
    status: Annotated[LineStatus | None, Query(description="only lines with this status")] = None,
) -> ProductLinePage:
    """The tenant's product lines (one per ikas variant), sorted by name then variant, with the last sync times."""
    return clients.catalog.list_product_lines(tenant.id, page, query=(q or "").strip(), status=status)


def _operation(clients: Clients, tenant_id: str, scope: str) -> StartedRuns:
    run = clients.catalog.start_run(tenant_id, scope, trigger=OPERATION_TRIGGER)
    return StartedRuns(runs=[StartedRun(id=run.id, scope=run.scope or scope)])


@router.post("/products/match", status_code=202, responses=responses(401, 403, 409, 503))
def match_products(tenant: CurrentTenant, clients: Clients) -> StartedRuns:
    """Starts a matching run: links every exact SKU = article number match and reports the rest."""
    return _operation(clients, tenant.id, "match")


@router.post("/products/preview", status_code=202, responses=responses(401, 403, 409, 503))
def preview_products(tenant: CurrentTenant, clients: Clients) -> StartedRuns:
    """Starts a dry run: its `planned` actions list what a product sync would create, update and skip, and why."""
    return _operation(clients, tenant.id, "preview")


@router.delete("/products/relations", status_code=202, responses=responses(401, 403, 409, 503))
def reset_relations(tenant: CurrentTenant, clients: Clients) -> StartedRuns:
    """Starts a run that resets every product relation of the tenant (the dashboard asks first)."""
    return _operation(clients, tenant.id, "reset")


@router.get("/products/{line_id}", responses=responses(401, 404, 503))
def get_product(line_id: LineId, tenant: CurrentTenant, clients: Clients) -> ProductLineDetail:
    """One line with its timeline of attempts: what was linked, written, refused or orphaned, and why."""
    return clients.catalog.get_product_line(tenant.id, line_id)


@router.post("/products/{line_id}/relation", responses=responses(401, 403, 404, 409, 503))
def relink_product(line_id: LineId, tenant: CurrentTenant, clients: Clients) -> ProductLine:
    """Links an unlinked (ignored) line again."""
    return clients.catalog.relink_product_line(tenant.id, line_id)


@router.delete(
    "/products/{line_id}/relation",
    status_code=204,
    response_class=Response,
    responses=responses(401, 403, 404, 409, 503),
)
def unlink_product(line_id: LineId, tenant: CurrentTenant, clients: Clients) -> Response:
    """Unlinks the line: it is marked ignored and never re-matched automatically."""
    clients.catalog.unlink_product_line(tenant.id, line_id)
    return Response(status_code=204)


@router.post("/products/{line_id}/sync-stock", responses=responses(401, 403, 404, 409, 503))
def sync_product_stock(line_id: LineId, tenant: CurrentTenant, clients: Clients) -> ProductLine:
    """Writes the stock of this related line now, in the direction of the sync mode."""
    return clients.catalog.sync_line_stock(tenant.id, line_id)


@router.post("/products/{line_id}/export", responses=responses(401, 403, 404, 409, 503))
def export_product(line_id: LineId, tenant: CurrentTenant, clients: Clients) -> ProductLine:
    """Creates or updates the line's target side now, whatever the automatic settings."""
    return clients.catalog.export_product_line(tenant.id, line_id)


@router.get("/stock-locations", responses=responses(401, 409, 503))
def list_stock_locations(tenant: CurrentTenant, clients: Clients) -> list[StockLocation]:
    """The ikas store's stock locations, for `stock.ikas_stock_location_id`."""
    return clients.catalog.list_stock_locations(tenant.id)
