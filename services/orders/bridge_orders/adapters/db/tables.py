"""The orders database: tables and their imperative mapping onto domain classes (style.md rule 5)."""

from __future__ import annotations

import dataclasses

from sqlalchemy import JSON, Boolean, Column, String, Table
from sqlalchemy.orm import composite, registry

from bridge_orders.domain.settings import (
    MAX_ARTICLE_NUMBER_LENGTH,
    MAX_UNIT_ATTRIBUTE_LENGTH,
    OrderSettings,
    TenantOrderSettings,
)
from bridge_platform.db import UtcDateTime, new_metadata
from bridge_platform.jobs import define_runs_table

metadata = new_metadata()
mapper_registry = registry(metadata=metadata)

# One column per OrderSettings field, named like it (the composite below relies on that).
order_settings = Table(
    "order_settings",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("sync_automatically", Boolean, nullable=False),
    Column("sync_from", UtcDateTime(), nullable=True),
    Column("create_orders", Boolean, nullable=False),
    Column("create_invoice", Boolean, nullable=False),
    Column("sync_items_without_relation", Boolean, nullable=False),
    Column("send_invoice_email", Boolean, nullable=False),
    Column("unit_source", String(32), nullable=False),
    Column("unit_attribute", String(MAX_UNIT_ATTRIBUTE_LENGTH), nullable=True),
    Column("language", String(32), nullable=False),
    Column("shipping", String(32), nullable=False),
    Column("shipping_article_number", String(MAX_ARTICLE_NUMBER_LENGTH), nullable=True),
    Column("sales_accounts", JSON, nullable=False),  # {"25": 3001, "12.5": 3002}: canonical VAT rate -> account
    Column("send_when", String(32), nullable=False),
    Column("register_payments", Boolean, nullable=False),
    Column("modes_of_payment", JSON, nullable=False),  # {"CREDIT_CARD": "KORT"}
    Column("follow_cancellations", Boolean, nullable=False),
    Column("follow_refunds", Boolean, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

runs = define_runs_table(metadata)


def map_tables() -> None:
    """Maps the domain classes once per process (idempotent, so tests may call it freely)."""
    if mapper_registry.mappers:
        return
    # The composite builds OrderSettings positionally, so the columns go in the order of its fields.
    columns = [order_settings.c[field.name] for field in dataclasses.fields(OrderSettings)]
    mapper_registry.map_imperatively(
        TenantOrderSettings,
        order_settings,
        properties={"settings": composite(OrderSettings, *columns)},
    )
