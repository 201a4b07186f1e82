"""Order settings and the run ledger.

Revision ID: 0001
Revises:
Create Date: 2026-11-24 12:19:37.103348
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
        "order_settings",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("sync_automatically", sa.Boolean(), nullable=False),
        sa.Column("sync_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("create_orders", sa.Boolean(), nullable=False),
        sa.Column("create_invoice", sa.Boolean(), nullable=False),
        sa.Column("sync_items_without_relation", sa.Boolean(), nullable=False),
        sa.Column("send_invoice_email", sa.Boolean(), nullable=False),
        sa.Column("unit_source", sa.String(length=32), nullable=False),
        sa.Column("unit_attribute", sa.String(length=200), nullable=True),
        sa.Column("language", sa.String(length=32), nullable=False),
        sa.Column("shipping", sa.String(length=32), nullable=False),
        sa.Column("shipping_article_number", sa.String(length=50), nullable=True),
        sa.Column("sales_accounts", sa.JSON(), nullable=False),
        sa.Column("send_when", sa.String(length=32), nullable=False),
        sa.Column("register_payments", sa.Boolean(), nullable=False),
        sa.Column("modes_of_payment", sa.JSON(), nullable=False),
        sa.Column("follow_cancellations", sa.Boolean(), nullable=False),
        sa.Column("follow_refunds", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_order_settings")),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("exclusive_key", sa.String(length=200), nullable=True),
        sa.Column("running_key", sa.String(length=200), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=120), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("progress_done", sa.Integer(), nullable=False),
        sa.Column("progress_total", sa.Integer(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_runs_exclusive_key"), ["exclusive_key"], unique=True)
        batch_op.create_index(batch_op.f("ix_runs_running_key"), ["running_key"], unique=True)
        batch_op.create_index(batch_op.f("ix_runs_state_enqueued_at"), ["state", "enqueued_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_runs_tenant_id_created_at"), ["tenant_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runs_tenant_id_created_at"))
        batch_op.drop_index(batch_op.f("ix_runs_state_enqueued_at"))
        batch_op.drop_index(batch_op.f("ix_runs_running_key"))
        batch_op.drop_index(batch_op.f("ix_runs_exclusive_key"))

    op.drop_table("runs")
    op.drop_table("order_settings")
