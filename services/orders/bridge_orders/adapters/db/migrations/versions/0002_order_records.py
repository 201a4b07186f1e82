"""Order records: one per ikas order and tenant, with the export intent, claim and timeline.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 13:53:08.108388
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_records",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("ikas_order_id", sa.String(length=64), nullable=False),
        sa.Column("ikas_order_number", sa.String(length=64), nullable=False),
        sa.Column("ordered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("customer_name", sa.Text(), nullable=False),
        sa.Column("customer_email", sa.String(length=320), nullable=True),
        sa.Column("package_status", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("waiting_reason", sa.Text(), nullable=True),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.Column("fortnox_state", sa.String(length=32), nullable=True),
        sa.Column("fortnox_order_number", sa.String(length=32), nullable=True),
        sa.Column("fortnox_invoice_number", sa.String(length=32), nullable=True),
        sa.Column("invoice_email_state", sa.String(length=16), nullable=False),
        sa.Column("invoice_email_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("invoice_attached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ikas_total", sa.String(length=64), nullable=True),
        sa.Column("fortnox_total", sa.String(length=64), nullable=True),
        sa.Column("totals_match", sa.Boolean(), nullable=True),
        sa.Column("intent", sa.String(length=64), nullable=True),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        sa.Column("claim_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("timeline", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_records")),
        sa.UniqueConstraint("tenant_id", "ikas_order_id", name=op.f("uq_order_records_tenant_id_ikas_order_id")),
    )
    with op.batch_alter_table("order_records", schema=None) as batch_op:
        batch_op.create_index("ix_order_records_tenant_ordered_at", ["tenant_id", "ordered_at"], unique=False)
        batch_op.create_index("ix_order_records_tenant_status", ["tenant_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("order_records", schema=None) as batch_op:
        batch_op.drop_index("ix_order_records_tenant_status")
        batch_op.drop_index("ix_order_records_tenant_ordered_at")

    op.drop_table("order_records")
