"""FACEIT webhooks: the events as delivered (the live worker's queue) and the live matches

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = core.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "faceit_events",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("match_id", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC, nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("received_at", UTC, nullable=False),
        sa.Column("processed_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faceit_events")),
    )
    with op.batch_alter_table("faceit_events") as batch:
        batch.create_index(batch.f("ix_faceit_events_match_id"), ["match_id"], unique=False)
        batch.create_index(
            "ix_faceit_events_status_next", ["status", "next_attempt_at"], unique=False
        )
    op.create_table(
        "live_matches",
        sa.Column("match_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("teams", sa.JSON(), nullable=False),
        sa.Column("competition", sa.String(length=128), nullable=True),
        sa.Column("region", sa.String(length=16), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("started_at", UTC, nullable=True),
        sa.Column("finished_at", UTC, nullable=True),
        sa.Column("prediction", sa.JSON(), nullable=True),
        sa.Column("predicted_at", UTC, nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("map", sa.String(length=32), nullable=True),
        sa.Column("winner_faction", sa.String(length=16), nullable=True),
        sa.Column("p_played", sa.Float(), nullable=True),
        sa.Column("scored_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("match_id", name=op.f("pk_live_matches")),
    )


def downgrade() -> None:
    op.drop_table("live_matches")
    with op.batch_alter_table("faceit_events") as batch:
        batch.drop_index("ix_faceit_events_status_next")
        batch.drop_index(batch.f("ix_faceit_events_match_id"))
    op.drop_table("faceit_events")
