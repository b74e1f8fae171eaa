"""match_players: premade flag; multi-kills nullable (a stat the API leaves out is NULL, never 0)

Legacy matches (before FACEIT's extended stats, about August 2024) carry no "Double Kills", and
any multi-kill key may be left out of a payload: those rows store NULL.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MULTI_KILLS = ("double_kills", "triple_kills", "quadro_kills", "penta_kills")


def upgrade() -> None:
    with op.batch_alter_table("match_players") as batch:
        batch.add_column(sa.Column("premade", sa.Boolean(), nullable=True))
        for column in MULTI_KILLS:
            batch.alter_column(column, existing_type=sa.SmallInteger(), nullable=True)


def downgrade() -> None:
    table = sa.table("match_players", *(sa.column(c) for c in MULTI_KILLS))
    for column in MULTI_KILLS:
        op.execute(table.update().where(table.c[column].is_(None)).values({column: 0}))
    with op.batch_alter_table("match_players") as batch:
        for column in MULTI_KILLS:
            batch.alter_column(column, existing_type=sa.SmallInteger(), nullable=False)
        batch.drop_column("premade")
