"""profile fetches: the ingest's own state for teammates' profiles

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 10:45:00

Players already holding a FACEIT Elo count as fetched, so an upgraded database asks for nothing
it has; every other player seen in a roster is queued by the next ingest or sync.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "profile_fetches",
        sa.Column("player_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("updated_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["player_id"],
            ["players.id"],
            name=op.f("fk_profile_fetches_player_id_players"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("player_id", name=op.f("pk_profile_fetches")),
    )
    with op.batch_alter_table("profile_fetches", schema=None) as batch_op:
        batch_op.create_index("ix_profile_fetches_status", ["status"], unique=False)
    op.execute(
        "INSERT INTO profile_fetches (player_id, status, attempts, updated_at) "
        "SELECT id, 'fetched', 0, updated_at FROM players WHERE faceit_elo IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("profile_fetches", schema=None) as batch_op:
        batch_op.drop_index("ix_profile_fetches_status")
    op.drop_table("profile_fetches")
