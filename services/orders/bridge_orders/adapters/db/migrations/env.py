"""Alembic environment of the orders database."""

from alembic import context

from bridge_orders.adapters.db.tables import metadata
from bridge_platform.db import run_migrations_online

run_migrations_online(metadata, context.config)
