"""The auth database: tables and their imperative mapping onto domain classes (style.md rule 5).

Tokens, refresh tokens and CSRF tokens are stored sealed by the vault (AES-256-GCM); session tokens and
OAuth states only as SHA-256 hashes. Nothing here holds a credential in plain text.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import registry

from bridge_auth.domain.connections import Connection
from bridge_auth.domain.sessions import DashboardSession, PendingAuthorization
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
    Column("merchant_id", String(200), nullable=True),
    Column("authorized_app_id", String(200), nullable=True),
    Column("contact_email", String(320), nullable=True),
    Column("installed_at", UtcDateTime(), nullable=True),
    Column("uninstalled_at", UtcDateTime(), nullable=True),
    Column("personal_data_purge_at", UtcDateTime(), nullable=True),
    Column("personal_data_purged_at", UtcDateTime(), nullable=True),
    Column("purge_at", UtcDateTime(), nullable=True),
    UniqueConstraint("store_name"),  # one tenant per ikas store; concurrent first sign-ins meet here
    UniqueConstraint("authorized_app_id"),  # the key of an installation (§1.1); NULLs never collide
)

connections = Table(
    "connections",
    metadata,
    Column("tenant_id", String(64), ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    Column("upstream", String(16), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("access_token", Text, nullable=True),  # sealed
    Column("refresh_token", Text, nullable=True),  # sealed
    Column("access_expires_at", UtcDateTime(), nullable=True),
    Column("refresh_expires_at", UtcDateTime(), nullable=True),
    Column("scopes", Text, nullable=False),
    Column("connected_at", UtcDateTime(), nullable=True),
    Column("company_name", String(300), nullable=True),
    Column("organisation_number", String(32), nullable=True),
    Column("relations_organisation_number", String(32), nullable=True),
    Column("warehouse_module", Boolean, nullable=False),
    Column("webhook_warning", Text, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

pending_authorizations = Table(
    "pending_authorizations",
    metadata,
    Column("state_hash", String(64), primary_key=True),
    Column("purpose", String(32), nullable=False),
    Column("tenant_id", String(64), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=True),
    Column("store_name", String(63), nullable=True),
    Column("redirect_uri", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("csrf_token", Text, nullable=False),  # sealed
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("webhook_id", String(200), primary_key=True),  # ikas's delivery id: a repeat meets this key
    Column("tenant_id", String(64), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("scope", String(100), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
)


def map_tables() -> None:
    """Maps the domain classes once per process (idempotent, so tests may call it freely)."""
    if mapper_registry.mappers:
        return
    mapper_registry.map_imperatively(Tenant, tenants)
    mapper_registry.map_imperatively(Connection, connections)
    mapper_registry.map_imperatively(PendingAuthorization, pending_authorizations)
    mapper_registry.map_imperatively(DashboardSession, sessions)
