"""Reading, validating and saving a tenant's product and stock settings (product.md §2).

The gateway saves the whole settings document across the catalog and orders services: it asks
both to validate before it asks either to write, so a save is all or nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bridge_catalog.app.ports import AuthConnections, Clock, UnitOfWorkFactory
from bridge_catalog.app.relations import ResetRelations
from bridge_catalog.domain.settings import CatalogSettings, TenantCatalogSettings
from bridge_platform.errors import Conflict, FieldViolation, InvalidInput

LocationIds = Callable[[str], set[str]]


def require_tenant(tenant_id: str) -> str:
    if not tenant_id.strip():
        raise InvalidInput("tenant_id is required")
    return tenant_id


def check(settings: CatalogSettings) -> None:
    """Raises InvalidInput naming every bad field."""
    violations = settings.violations()
    if violations:
        raise InvalidInput("the product and stock settings are invalid", violations)


class GetCatalogSettings:
    """The tenant's settings, or the defaults of product.md §2 before the first save."""

    def __init__(self, uow_for: UnitOfWorkFactory) -> None:
        self._uow_for = uow_for

    def __call__(self, tenant_id: str) -> CatalogSettings:
        with self._uow_for(require_tenant(tenant_id)) as uow:
            stored = uow.settings.get()
        return stored.settings if stored else CatalogSettings()


def check_location(tenant_id: str, settings: CatalogSettings, stored: CatalogSettings, locations: LocationIds) -> None:
    """A newly chosen ikas stock location must be one of the store's (asked live; UNAVAILABLE when ikas is
    down). An unchanged choice is not asked again, so a save never depends on ikas for nothing."""
    chosen = settings.stock.ikas_stock_location_id
    if chosen is None or chosen == stored.stock.ikas_stock_location_id:
        return
    if chosen not in locations(tenant_id):
        raise InvalidInput(
            "the product and stock settings are invalid",
            [FieldViolation("stock.ikas_stock_location_id", "not_found", "is not one of the store's stock locations")],
        )


class ValidateCatalogSettings:
    """Checks a document without storing it."""

    def __init__(self, uow_for: UnitOfWorkFactory, locations: LocationIds) -> None:
        self._uow_for, self._locations = uow_for, locations

    def __call__(self, tenant_id: str, settings: CatalogSettings) -> None:
        require_tenant(tenant_id)
        check(settings)
        with self._uow_for(tenant_id) as uow:
            stored = uow.settings.get()
        check_location(tenant_id, settings, stored.settings if stored else CatalogSettings(), self._locations)


@dataclass(frozen=True)
class UpdateCatalogSettingsRequest:
    tenant_id: str
    settings: CatalogSettings
    confirm_reset: bool = False


class UpdateCatalogSettings:
    """Validates and stores the whole document in one transaction; returns what is stored."""

    def __init__(self, uow_for: UnitOfWorkFactory, clock: Clock, locations: LocationIds, auth: AuthConnections) -> None:
        self._uow_for, self._clock, self._locations, self._auth = uow_for, clock, locations, auth

    def __call__(self, request: UpdateCatalogSettingsRequest) -> CatalogSettings:
        check(request.settings)
        reset = False
        with self._uow_for(require_tenant(request.tenant_id)) as uow:
            stored = uow.settings.get()
            current = stored.settings if stored else CatalogSettings()
            check_location(request.tenant_id, request.settings, current, self._locations)
            if current.changes_sync_mode(request.settings) and uow.lines.has_relations():
                if not request.confirm_reset:
                    raise Conflict(
                        "changing the sync mode resets every product relation; confirm the reset to go ahead",
                        {"reason": "relations_exist"},
                    )
                ResetRelations.reset_in(
                    uow, self._clock.now(), "every product relation was reset when the sync mode changed"
                )
                reset = True
            if stored is None:
                uow.settings.add(
                    TenantCatalogSettings(
                        request.tenant_id, request.settings.products, request.settings.stock, self._clock.now()
                    )
                )
            else:
                stored.replace(request.settings, self._clock.now())
            uow.commit()
        if reset:  # after the commit: auth may allow another company only once the relations are gone
            self._auth.forget_fortnox_company(request.tenant_id)
        return request.settings
