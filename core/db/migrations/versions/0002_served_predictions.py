"""served predictions: the live track record of the match-outcome model

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 11:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "served_predictions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("match_id", sa.String(length=64), nullable=False),
        sa.Column("model_name", sa.String(length=64), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("map", sa.String(length=32), nullable=True),
        sa.Column("p_faction1", sa.Float(), nullable=False),
        sa.Column("served_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_served_predictions")),
        sa.UniqueConstraint(
            "match_id", "model_name", "model_version", name="uq_served_predictions_match_model"
        ),
    )
    with op.batch_alter_table("served_predictions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_served_predictions_match_id"), ["match_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("served_predictions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_served_predictions_match_id"))
    op.drop_table("served_predictions")
