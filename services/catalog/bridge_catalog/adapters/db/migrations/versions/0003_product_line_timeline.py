"""A timeline of attempts on every product line (product.md §7): linked, written, refused, orphaned, and why.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Lines that exist already start with an empty timeline.
    with op.batch_alter_table("product_lines") as batch:
        batch.add_column(sa.Column("timeline", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table("product_lines") as batch:
        batch.drop_column("timeline")
