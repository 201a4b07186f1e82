"""Cached customers: the Fortnox customer number and VATType of each buyer e-mail and organisation number.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cached_customers",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=320), nullable=False),
        sa.Column("customer_number", sa.String(length=32), nullable=False),
        sa.Column("vat_type", sa.String(length=32), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "kind", "key", name=op.f("pk_cached_customers")),
    )
    with op.batch_alter_table("cached_customers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cached_customers_tenant_customer_number", ["tenant_id", "customer_number"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("cached_customers", schema=None) as batch_op:
        batch_op.drop_index("ix_cached_customers_tenant_customer_number")
    op.drop_table("cached_customers")
