"""Deleting an uninstalled tenant's data on the auth service's request (product.md §1.6)."""

from __future__ import annotations

from collections.abc import Callable

from bridge_platform.errors import InvalidInput

PERSONAL_DATA = "personal_data"
ALL = "all"


class PurgeTenantData:
    """`all`: everything of the tenant. `personal_data`: customer names and e-mails in its orders and their
    timelines, and the customer cache (the buyers' e-mails and organisation numbers). Safe to repeat; returns
    the records deleted or blanked."""

    def __init__(self, delete_tenant_data: Callable[[str], int], forget_personal_data: Callable[[str], int]) -> None:
        self._delete_tenant_data = delete_tenant_data
        self._forget_personal_data = forget_personal_data

    def __call__(self, tenant_id: str, scope: str) -> int:
        if not tenant_id.strip():
            raise InvalidInput("tenant_id is required")
        if scope == PERSONAL_DATA:
            return self._forget_personal_data(tenant_id)
        if scope == ALL:
            return self._delete_tenant_data(tenant_id)
        raise InvalidInput("scope must be personal_data or all")
