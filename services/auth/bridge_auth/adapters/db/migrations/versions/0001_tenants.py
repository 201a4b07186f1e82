"""The tenant registry.

Revision ID: 0001
Revises:
Create Date: 2026-11-24 12:19:15.416133
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("store_name", sa.String(length=63), nullable=False),
        sa.Column("is_development", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("store_name", name=op.f("uq_tenants_store_name")),
    )


def downgrade() -> None:
    op.drop_table("tenants")
