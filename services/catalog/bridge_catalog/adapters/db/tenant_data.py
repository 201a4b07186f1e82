"""Deletes everything this service's database holds for one tenant (product.md §1.6)."""

from __future__ import annotations

from sqlalchemy import Engine, delete

from bridge_catalog.adapters.db.tables import catalog_marks, catalog_settings, product_lines, runs


class SqlTenantData:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def delete_all(self, tenant_id: str) -> int:
        """One transaction over every tenant-owned table; returns the rows deleted."""
        deleted = 0
        with self._engine.begin() as connection:
            for table in (catalog_settings, product_lines, catalog_marks, runs):
                deleted += connection.execute(delete(table).where(table.c.tenant_id == tenant_id)).rowcount
        return deleted
