"""GET and PUT /api/v1/settings: the tenant's settings document, owned in parts by catalog and orders.

A save is all or nothing (product.md §2): both services validate their part before either writes,
so a 422 lists every bad field of the document; then catalog writes (a 409 from it stops the save),
then orders; if orders fails, the catalog part is put back as it was and the orders error returned.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query

from bridge_gateway.clients import GatewayClients
from bridge_gateway.models import CatalogSettings, SettingsDocument, Tenant
from bridge_gateway.problems import responses
from bridge_gateway.sessions import Clients, CurrentTenant
from bridge_platform.errors import InvalidInput

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["settings"])


@router.get("/settings", responses=responses(401, 503))
def get_settings(tenant: CurrentTenant, clients: Clients) -> SettingsDocument:
    """The tenant's settings document; the defaults of product.md §2 before the first save."""
    return SettingsDocument.of(clients.catalog.get_settings(tenant.id), clients.orders.get_settings(tenant.id))


@router.put("/settings", responses=responses(401, 409, 422, 503))
def put_settings(
    document: SettingsDocument,
    tenant: CurrentTenant,
    clients: Clients,
    confirm_reset: Annotated[
        bool, Query(description="allow a products.sync_mode change to reset the product relations")
    ] = False,
) -> SettingsDocument:
    """Replaces the whole settings document and returns it as stored (orders may fill in sync_from)."""
    validate(clients, tenant, document)
    return save(clients, tenant, document, confirm_reset=confirm_reset)


def validate(clients: GatewayClients, tenant: Tenant, document: SettingsDocument) -> None:
    """Asks both services; raises one InvalidInput listing the bad fields of both parts."""
    failures: list[InvalidInput] = []
    try:
        clients.catalog.validate_settings(tenant.id, document.catalog_part)
    except InvalidInput as error:
        failures.append(error)
    try:
        clients.orders.validate_settings(tenant.id, document.orders)
    except InvalidInput as error:
        failures.append(error)
    if failures:
        violations = [violation for failure in failures for violation in failure.violations]
        message = failures[0].message if len(failures) == 1 else "the settings are invalid"
        raise InvalidInput(message, violations)


def save(
    clients: GatewayClients, tenant: Tenant, document: SettingsDocument, *, confirm_reset: bool
) -> SettingsDocument:
    """Writes catalog, then orders; undoes the catalog write when the orders write fails."""
    previous_catalog = clients.catalog.get_settings(tenant.id)
    stored_catalog = clients.catalog.update_settings(tenant.id, document.catalog_part, confirm_reset=confirm_reset)
    try:
        stored_orders = clients.orders.update_settings(tenant.id, document.orders)
    except Exception as error:
        restore_catalog(clients, tenant, previous_catalog, cause=error)
        raise
    return SettingsDocument.of(stored_catalog, stored_orders)


def restore_catalog(clients: GatewayClients, tenant: Tenant, previous: CatalogSettings, *, cause: Exception) -> None:
    """The compensation of a half-done save: puts the catalog part back as it was before."""
    context = {"tenant_id": tenant.id, "cause": type(cause).__name__}
    try:
        # Going back may itself change products.sync_mode; any relations are those of the abandoned
        # mode, which the forward write already reset (or which did not exist), so confirm it.
        clients.catalog.update_settings(tenant.id, previous, confirm_reset=True)
    except Exception:
        log.exception("saving the order settings failed and the catalog settings could not be restored", extra=context)
        return
    log.warning("saving the order settings failed; the catalog settings were restored", extra=context)
