"""peer members carry the improvement plan's inputs from their own history (drivers, recent
record, latest Elo), so the plan is a lookup like the percentiles

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 01:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("peer_members") as batch:
        batch.add_column(sa.Column("plan", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("peer_members") as batch:
        batch.drop_column("plan")
