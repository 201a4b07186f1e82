"""Reading, validating and saving a tenant's order settings (product.md §2, keys `orders.*`).

The gateway saves the whole settings document across the catalog and orders services: it asks
both to validate before it asks either to write, so a save is all or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge_orders.app.ports import Clock, UnitOfWorkFactory
from bridge_orders.domain.settings import OrderSettings, TenantOrderSettings
from bridge_platform.errors import InvalidInput


def require_tenant(tenant_id: str) -> str:
    if not tenant_id.strip():
        raise InvalidInput("tenant_id is required")
    return tenant_id


def check(settings: OrderSettings) -> None:
    """Raises InvalidInput naming every bad field."""
    violations = settings.violations()
    if violations:
        raise InvalidInput("the order settings are invalid", violations)


class GetOrderSettings:
    """The tenant's settings, or the defaults of product.md §2 before the first save."""

    def __init__(self, uow_for: UnitOfWorkFactory) -> None:
        self._uow_for = uow_for

    def __call__(self, tenant_id: str) -> OrderSettings:
        with self._uow_for(require_tenant(tenant_id)) as uow:
            stored = uow.settings.get()
        return stored.settings if stored else OrderSettings()


class ValidateOrderSettings:
    """Checks a document without storing it."""

    def __call__(self, tenant_id: str, settings: OrderSettings) -> None:
        require_tenant(tenant_id)
        check(settings)


@dataclass(frozen=True)
class UpdateOrderSettingsRequest:
    tenant_id: str
    settings: OrderSettings


class UpdateOrderSettings:
    """Validates and stores the whole document in one transaction; returns what is stored.

    What is stored may differ from what was sent: VAT rates in canonical form, and sync_from set
    when automatic sync is switched on for the first time (OrderSettings.saved_over).
    """

    def __init__(self, uow_for: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_for, self._clock = uow_for, clock

    def __call__(self, request: UpdateOrderSettingsRequest) -> OrderSettings:
        check(request.settings)
        with self._uow_for(require_tenant(request.tenant_id)) as uow:
            stored = uow.settings.get()
            now = self._clock.now()
            settings = request.settings.saved_over(stored.settings if stored else None, now)
            if stored is None:
                uow.settings.add(TenantOrderSettings(request.tenant_id, settings, now))
            else:
                stored.replace(settings, now)
            uow.commit()
        return settings
