"""the peer table: per level and region, the sorted values of every peer stat (models/peers.py)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = core.db.types.UTCDateTime(timezone=True)
BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "peer_groups",
        sa.Column("feature_version", sa.String(length=16), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("region", sa.String(length=16), nullable=False),
        sa.Column("watermark", UTC, nullable=True),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("built_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("feature_version", "level", "region", name=op.f("pk_peer_groups")),
    )
    op.create_table(
        "peer_members",
        sa.Column("feature_version", sa.String(length=16), nullable=False),
        sa.Column("player_id", sa.String(length=64), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("region", sa.String(length=16), nullable=True),
        sa.Column("matches", sa.Integer(), nullable=False),
        sa.Column("stats", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("feature_version", "player_id", name=op.f("pk_peer_members")),
    )
    op.create_index("ix_peer_members_group", "peer_members", ["feature_version", "level", "region"])


def downgrade() -> None:
    op.drop_index("ix_peer_members_group", table_name="peer_members")
    op.drop_table("peer_members")
    op.drop_table("peer_groups")
