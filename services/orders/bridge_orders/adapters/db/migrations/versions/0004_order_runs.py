"""Order runs: the tenant's marks (updatedAt watermark, last order sync) and pending webhook wake-ups.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_marks",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "name", name=op.f("pk_order_marks")),
    )
    op.create_table(
        "order_wake_ups",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("ikas_order_id", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("wakes", sa.Integer(), nullable=False),
        sa.Column("woken_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "ikas_order_id", name=op.f("pk_order_wake_ups")),
    )


def downgrade() -> None:
    op.drop_table("order_wake_ups")
    op.drop_table("order_marks")
