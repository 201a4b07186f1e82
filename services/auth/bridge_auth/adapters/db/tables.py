"""The auth database: tables and their imperative mapping onto domain classes (style.md rule 5)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, String, Table, UniqueConstraint
from sqlalchemy.orm import registry

from bridge_auth.domain.tenants import Tenant
from bridge_platform.db import UtcDateTime, new_metadata

metadata = new_metadata()
mapper_registry = registry(metadata=metadata)

tenants = Table(
    "tenants",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("store_name", String(63), nullable=False),
    Column("is_development", Boolean, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("store_name"),  # one tenant per ikas store; concurrent first sign-ins meet here
)


def map_tables() -> None:
    """Maps the domain classes once per process (idempotent, so tests may call it freely)."""
    if mapper_registry.mappers:
        return
    mapper_registry.map_imperatively(Tenant, tenants)
