"""Deleting an uninstalled tenant's data on the auth service's request (product.md §1.6)."""

from __future__ import annotations

from collections.abc import Callable

from bridge_platform.errors import InvalidInput

PERSONAL_DATA = "personal_data"
ALL = "all"


class PurgeTenantData:
    """`all`: the tenant's settings and runs. `personal_data`: nothing yet, this service holds none so far
    (customer names and addresses arrive with the order records). Safe to repeat; returns records deleted."""

    def __init__(self, delete_tenant_data: Callable[[str], int]) -> None:
        self._delete_tenant_data = delete_tenant_data

    def __call__(self, tenant_id: str, scope: str) -> int:
        if not tenant_id.strip():
            raise InvalidInput("tenant_id is required")
        if scope == PERSONAL_DATA:
            return 0
        if scope == ALL:
            return self._delete_tenant_data(tenant_id)
        raise InvalidInput("scope must be personal_data or all")
