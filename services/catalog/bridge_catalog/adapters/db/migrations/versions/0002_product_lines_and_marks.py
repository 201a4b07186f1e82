"""Product lines (one per ikas variant, with its Fortnox relation) and per-tenant marks (watermarks, last sync times).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 13:25:28.662775
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
        "catalog_marks",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "name", name=op.f("pk_catalog_marks")),
    )
    op.create_table(
        "product_lines",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("ikas_product_id", sa.String(length=200), nullable=False),
        sa.Column("ikas_variant_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("variant_name", sa.Text(), nullable=False),
        sa.Column("sku", sa.String(length=500), nullable=True),
        sa.Column("fortnox_article_number", sa.String(length=50), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("error_upstream_code", sa.String(length=100), nullable=True),
        sa.Column("error_hint", sa.Text(), nullable=True),
        sa.Column("error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ikas_stock", sa.String(length=40), nullable=True),
        sa.Column("fortnox_stock", sa.String(length=40), nullable=True),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_name", sa.Text(), nullable=True),
        sa.Column("synced_price", sa.String(length=40), nullable=True),
        sa.Column("synced_ean", sa.String(length=100), nullable=True),
        sa.Column("synced_stock", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_lines")),
    )
    with op.batch_alter_table("product_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_product_lines_tenant_id_fortnox_article_number"),
            ["tenant_id", "fortnox_article_number"],
            unique=True,
        )
        batch_op.create_index(
            batch_op.f("ix_product_lines_tenant_id_ikas_product_id_ikas_variant_id"),
            ["tenant_id", "ikas_product_id", "ikas_variant_id"],
            unique=True,
        )
        batch_op.create_index(batch_op.f("ix_product_lines_tenant_id_name"), ["tenant_id", "name"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("product_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_lines_tenant_id_name"))
        batch_op.drop_index(batch_op.f("ix_product_lines_tenant_id_ikas_product_id_ikas_variant_id"))
        batch_op.drop_index(batch_op.f("ix_product_lines_tenant_id_fortnox_article_number"))

    op.drop_table("product_lines")
    op.drop_table("catalog_marks")
