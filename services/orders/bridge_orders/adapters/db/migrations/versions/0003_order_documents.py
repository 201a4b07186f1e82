"""Order documents: the totals check's plain-English explanation beside totals_match.

The invoice, e-mail and attachment steps reuse the record's intent, claim and timeline columns (0002); the
timeline's attempts gain `request` and `response` inside the JSON, which older rows simply lack.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("order_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totals_explanation", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order_records", schema=None) as batch_op:
        batch_op.drop_column("totals_explanation")
