"""ATS API credentials: what Afterword asks an applicant tracking system's API with

An admin sets, beside each system's webhook secret, the credentials of its API
(Greenhouse Harvest v3's OAuth client, Lever's or Ashby's API key), so that the
scorecards of a rejected application (and, for Lever and Ashby, the candidate and
the job) are fetched from the live API. Kept as the webhook secret is: using them
needs them as they are.

Revision ID: 0031_ats_api_credentials
Revises: 0030_language_model
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031_ats_api_credentials"
down_revision: str | None = "0030_language_model"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ats_connections") as batch:
        batch.add_column(sa.Column("api_credentials", sa.String(length=500), nullable=True))
        batch.add_column(
            sa.Column("api_credentials_set_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("ats_connections") as batch:
        batch.drop_column("api_credentials_set_at")
        batch.drop_column("api_credentials")
