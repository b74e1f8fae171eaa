"""one in-app inbox channel per user (a partial unique index: two follows at once make one)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INBOX = sa.text("kind = 'inbox'")


def upgrade() -> None:
    # a user with two inboxes (made before this index) keeps the first; its twin's messages go
    op.execute(
        "DELETE FROM notification_channels WHERE kind = 'inbox' AND id NOT IN "
        "(SELECT MIN(id) FROM notification_channels WHERE kind = 'inbox' GROUP BY user_id)"
    )
    op.create_index(
        "uq_notification_channels_inbox",
        "notification_channels",
        ["user_id"],
        unique=True,
        sqlite_where=INBOX,
        postgresql_where=INBOX,
    )


def downgrade() -> None:
    op.drop_index("uq_notification_channels_inbox", table_name="notification_channels")
