"""Reading, validating and saving a tenant's product and stock settings (product.md §2).

The gateway saves the whole settings document across the catalog and orders services: it asks
both to validate before it asks either to write, so a save is all or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge_catalog.app.ports import Clock, UnitOfWorkFactory
from bridge_catalog.domain.settings import CatalogSettings, TenantCatalogSettings
from bridge_platform.errors import InvalidInput


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


class ValidateCatalogSettings:
    """Checks a document without storing it."""

    def __call__(self, tenant_id: str, settings: CatalogSettings) -> None:
        require_tenant(tenant_id)
        check(settings)


@dataclass(frozen=True)
class UpdateCatalogSettingsRequest:
    tenant_id: str
    settings: CatalogSettings
    confirm_reset: bool = False


class UpdateCatalogSettings:
    """Validates and stores the whole document in one transaction; returns what is stored."""

    def __init__(self, uow_for: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_for, self._clock = uow_for, clock

    def __call__(self, request: UpdateCatalogSettingsRequest) -> CatalogSettings:
        check(request.settings)
        # TODO(#6): refuse a sync_mode change while relations exist unless confirm_reset, and reset them then.
        with self._uow_for(require_tenant(request.tenant_id)) as uow:
            stored = uow.settings.get()
            if stored is None:
                uow.settings.add(
                    TenantCatalogSettings(
                        request.tenant_id, request.settings.products, request.settings.stock, self._clock.now()
                    )
                )
            else:
                stored.replace(request.settings, self._clock.now())
            uow.commit()
        return request.settings
