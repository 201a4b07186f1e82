"""Looking up tenants, and the development tenants of local mode's sandbox stores (product.md §1.2)."""

from __future__ import annotations

from dataclasses import dataclass

from bridge_auth.app.ports import AuthUnitOfWork, Clock, UnitOfWorkFactory
from bridge_auth.domain.tenants import DuplicateTenant, Tenant, check_store_name
from bridge_platform.errors import FieldViolation, InvalidInput, NotFound, PermissionDenied


class GetTenant:
    """The tenant with this id; NotFound when there is none."""

    def __init__(self, uow_for: UnitOfWorkFactory) -> None:
        self._uow_for = uow_for

    def __call__(self, tenant_id: str) -> Tenant:
        if not tenant_id.strip():
            raise InvalidInput("tenant_id is required")
        with self._uow_for() as uow:
            tenant = uow.tenants.get(tenant_id)
        if tenant is None:
            raise NotFound("no such tenant")
        return tenant


class EnsureDevelopmentTenant:
    """Local mode only: the tenant of a sandbox store, created on first use.

    Concurrent first calls for one store yield one tenant: the store name is a unique key, and the
    call that loses the race reads the winner's tenant.
    """

    def __init__(self, uow_for: UnitOfWorkFactory, clock: Clock, *, local: bool) -> None:
        self._uow_for, self._clock, self._local = uow_for, clock, local

    def __call__(self, store_name: str) -> Tenant:
        if not self._local:
            raise PermissionDenied("development sign-in is only available in local mode")
        check_store_name(store_name)
        with self._uow_for() as uow:
            existing = uow.tenants.by_store_name(store_name)
            if existing is not None:
                return existing
            tenant = Tenant.development(store_name, self._clock.now())
            uow.tenants.add(tenant)
            try:
                uow.commit()
            except DuplicateTenant:
                pass  # another call stored this store's tenant first: read it below
            else:
                return tenant
        with self._uow_for() as uow:
            winner = uow.tenants.by_store_name(store_name)
        if winner is None:  # the clash was not on the store name (an id collision): let the caller retry
            raise DuplicateTenant("could not create the development tenant; try again")
        return winner


def installed_tenant(uow: AuthUnitOfWork, tenant_id: str) -> Tenant:
    """The tenant, which must exist and be installed; NotFound otherwise (an uninstalled store is gone)."""
    if not tenant_id.strip():
        raise InvalidInput("tenant_id is required")
    tenant = uow.tenants.get(tenant_id)
    if tenant is None or not tenant.is_installed:
        raise NotFound("no such tenant")
    return tenant


@dataclass(frozen=True)
class TenantPage:
    tenants: list[Tenant]
    next_page_token: str


class ListTenants:
    """Installed tenants, page by page (keyset by id: the page token is the last id of the page)."""

    DEFAULT_PAGE_SIZE = 100
    MAX_PAGE_SIZE = 500

    def __init__(self, uow_for: UnitOfWorkFactory) -> None:
        self._uow_for = uow_for

    def __call__(self, page_size: int = 0, page_token: str = "") -> TenantPage:
        if page_size < 0 or page_size > self.MAX_PAGE_SIZE:
            raise InvalidInput(
                "page_size is out of range",
                [FieldViolation("page_size", "out_of_range", f"must be 0..{self.MAX_PAGE_SIZE}")],
            )
        limit = page_size or self.DEFAULT_PAGE_SIZE
        with self._uow_for() as uow:
            tenants = uow.tenants.installed_page(page_token, limit + 1)
        more = len(tenants) > limit
        tenants = tenants[:limit]
        return TenantPage(tenants, tenants[-1].id if more else "")
