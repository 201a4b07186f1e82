"""Deletes what this service's database holds for one uninstalled tenant (product.md §1.6)."""

from __future__ import annotations

from sqlalchemy import Engine, delete, update

from bridge_orders.adapters.db.tables import (
    cached_customers,
    order_marks,
    order_records,
    order_settings,
    order_wake_ups,
    runs,
)


class SqlTenantData:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def delete_all(self, tenant_id: str) -> int:
        """One transaction over every tenant-owned table; returns the rows deleted."""
        deleted = 0
        with self._engine.begin() as connection:
            for table in (order_records, order_settings, runs, order_marks, order_wake_ups, cached_customers):
                deleted += connection.execute(delete(table).where(table.c.tenant_id == tenant_id)).rowcount
        return deleted

    def forget_personal_data(self, tenant_id: str) -> int:
        """Blanks customer names and e-mails in the tenant's orders, and their timelines (whose details may
        quote them), and deletes the customer cache (buyers' e-mails and organisation numbers, which for a sole
        trader is a personal identity number); returns the orders touched plus the cache rows deleted. What
        remains (numbers, totals, states) is not personal."""
        with self._engine.begin() as connection:
            blanked = connection.execute(
                update(order_records)
                .where(order_records.c.tenant_id == tenant_id)
                .values(customer_name="", customer_email=None, timeline=())
            ).rowcount
            forgotten = connection.execute(
                delete(cached_customers).where(cached_customers.c.tenant_id == tenant_id)
            ).rowcount
        return blanked + forgotten
