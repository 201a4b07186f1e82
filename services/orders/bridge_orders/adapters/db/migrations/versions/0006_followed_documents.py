"""What the Fortnox documents of an order agree with after transfer, and the edited-after-invoice flag (§5b).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 19:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("order_records") as batch:
        batch.add_column(sa.Column("followed", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("edited_after_invoice", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("edit_advice", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order_records") as batch:
        batch.drop_column("edit_advice")
        batch.drop_column("edited_after_invoice")
        batch.drop_column("followed")
