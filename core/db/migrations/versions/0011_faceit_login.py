"""Log in with FACEIT: users.faceit_player_id (unique) and the pending login flows

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = core.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("faceit_player_id", sa.String(length=64), nullable=True))
        batch.create_unique_constraint(batch.f("uq_users_faceit_player_id"), ["faceit_player_id"])
    op.create_table(
        "faceit_login_flows",
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("link_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("used_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["link_user_id"],
            ["users.id"],
            name=op.f("fk_faceit_login_flows_link_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("state", name=op.f("pk_faceit_login_flows")),
    )


def downgrade() -> None:
    op.drop_table("faceit_login_flows")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_faceit_player_id", type_="unique")
        batch.drop_column("faceit_player_id")
