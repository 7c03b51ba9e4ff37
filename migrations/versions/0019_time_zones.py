"""time zones: organizations and staff members

Times on staff pages are shown in the reader's time zone: their own choice
(`staff_users.time_zone`, empty for their organization's), or their
organization's (`organizations.time_zone`, UTC until an admin chooses one).

Revision ID: 0019_time_zones
Revises: 0018_application_assignee
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_time_zones"
down_revision: str | None = "0018_application_assignee"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("time_zone", sa.String(length=64), server_default="UTC", nullable=False)
        )
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_column("time_zone")
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("time_zone")
