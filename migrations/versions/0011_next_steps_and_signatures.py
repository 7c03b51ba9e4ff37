"""next steps that link, signatures, privacy notice and contact

Roles suggested in feedback and suggestions on growth areas may carry a web
address; staff have a job title for the signature under their note; an
organization names its privacy notice and a contact for candidates.

Revision ID: 0011_next_steps_and_signatures
Revises: 0010_feedback_overrides
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_next_steps_and_signatures"
down_revision: str | None = "0010_feedback_overrides"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("privacy_url", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("contact_email", sa.String(length=320), nullable=True))
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("title", sa.String(length=200), nullable=True))
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("suggested_role_urls", sa.JSON(), nullable=True))
    with op.batch_alter_table("feedback_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("suggestion_url", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feedback_items", schema=None) as batch_op:
        batch_op.drop_column("suggestion_url")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_column("suggested_role_urls")
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_column("title")
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("contact_email")
        batch_op.drop_column("privacy_url")
