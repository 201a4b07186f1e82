"""The catalog database: tables and their imperative mapping onto domain classes (style.md rule 5)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Column, Index, String, Table, Text, TypeDecorator, text
from sqlalchemy.orm import composite, registry

from bridge_catalog.domain.lines import Attempt, ProductLine
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


class DecimalText(TypeDecorator[Decimal]):
    """An exact decimal stored as its text on every engine (SQLite has no exact numeric type).

    Migrations spell it `sa.String(length=40)`."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Any) -> str | None:
        return None if value is None else format(value, "f")

    def process_result_value(self, value: str | None, dialect: Any) -> Decimal | None:
        return None if value is None else Decimal(value)


class TimelineJson(TypeDecorator[tuple[Attempt, ...]]):
    """The attempts of one line, oldest first, as a JSON list. Migrations spell it `sa.JSON()`."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: tuple[Attempt, ...] | None, dialect: Any) -> list[dict[str, str]]:
        return [{"at": a.at.isoformat(), "step": a.step, "outcome": a.outcome, "detail": a.detail} for a in value or ()]

    def process_result_value(self, value: list[dict[str, str]] | None, dialect: Any) -> tuple[Attempt, ...]:
        return tuple(
            Attempt(datetime.fromisoformat(a["at"]), a["step"], a["outcome"], a.get("detail", "")) for a in value or ()
        )


# One row per ikas variant (product.md §3); `fortnox_article_number` is unique per tenant while set, so
# one article is never related to two variants (NULLs never collide on either engine).
product_lines = Table(
    "product_lines",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("ikas_product_id", String(200), nullable=False),
    Column("ikas_variant_id", String(200), nullable=False),
    Column("name", Text, nullable=False),
    Column("variant_name", Text, nullable=False),
    Column("sku", String(500), nullable=True),
    Column("fortnox_article_number", String(50), nullable=True),
    Column("status", String(20), nullable=False),
    Column("explanation", Text, nullable=False),
    Column("error_message", Text, nullable=True),
    Column("error_upstream_code", String(100), nullable=True),
    Column("error_hint", Text, nullable=True),
    Column("error_at", UtcDateTime(), nullable=True),
    Column("ikas_stock", DecimalText(), nullable=True),
    Column("fortnox_stock", DecimalText(), nullable=True),
    Column("last_synced_at", UtcDateTime(), nullable=True),
    Column("synced_name", Text, nullable=True),
    Column("synced_price", DecimalText(), nullable=True),
    Column("synced_ean", String(100), nullable=True),
    Column("synced_stock", DecimalText(), nullable=True),
    Column("timeline", TimelineJson(), nullable=False, server_default=text("'[]'")),
    Index(None, "tenant_id", "ikas_product_id", "ikas_variant_id", unique=True),
    Index(None, "tenant_id", "fortnox_article_number", unique=True),
    Index(None, "tenant_id", "name"),
)

# Watermarks of incremental runs and the last sync times, per tenant and name (product.md §3, §6).
catalog_marks = Table(
    "catalog_marks",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("at", UtcDateTime(), nullable=False),
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
    mapper_registry.map_imperatively(ProductLine, product_lines)
