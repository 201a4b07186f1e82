"""The catalog database: tables and their imperative mapping onto domain classes (style.md rule 5)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, String, Table
from sqlalchemy.orm import composite, registry

from bridge_catalog.domain.settings import ProductSettings, StockSettings, TenantCatalogSettings
from bridge_platform.db import UtcDateTime, new_metadata
from bridge_platform.jobs import define_runs_table

metadata = new_metadata()
mapper_registry = registry(metadata=metadata)

catalog_settings = Table(
    "catalog_settings",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("products_sync_mode", String(32), nullable=False),
    Column("products_sync_automatically", Boolean, nullable=False),
    Column("products_create_new", Boolean, nullable=False),
    Column("products_update_existing", Boolean, nullable=False),
    Column("stock_sync_automatically", Boolean, nullable=False),
    Column("stock_ikas_stock_location_id", String(200), nullable=True),
    Column("stock_fortnox_stock_point", String(200), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
)

runs = define_runs_table(metadata)


def map_tables() -> None:
    """Maps the domain classes once per process (idempotent, so tests may call it freely)."""
    if mapper_registry.mappers:
        return
    c = catalog_settings.c
    mapper_registry.map_imperatively(
        TenantCatalogSettings,
        catalog_settings,
        properties={
            "products": composite(
                ProductSettings,
                c.products_sync_mode,
                c.products_sync_automatically,
                c.products_create_new,
                c.products_update_existing,
            ),
            "stock": composite(
                StockSettings, c.stock_sync_automatically, c.stock_ikas_stock_location_id, c.stock_fortnox_stock_point
            ),
        },
    )
