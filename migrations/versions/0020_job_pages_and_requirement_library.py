"""job pages and the requirement library

Jobs get a posting address, an archive date and a version (two recruiters editing
one job cannot overwrite each other); a requirement removed from its job while
feedback uses it is retired rather than deleted; feedback items keep the
requirement as the candidate read it (name and description, copied when the
version is published: filled here for every published item); and organizations
get a library of requirements to reuse.

Only columns are added (no table is rebuilt on SQLite), so nothing cascades.
Applied after 0019.

Revision ID: 0020_job_pages
Revises: 0019_time_zones
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Short: PostgreSQL's alembic_version column holds 32 characters.
revision: str = "0020_job_pages"
down_revision: str | None = "0019_time_zones"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("posting_url", sa.String(length=500), nullable=True))
    op.add_column("jobs", sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("jobs", sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    op.add_column(
        "requirements", sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "feedback_items", sa.Column("requirement_name", sa.String(length=100), nullable=True)
    )
    op.add_column("feedback_items", sa.Column("requirement_description", sa.Text(), nullable=True))
    # What candidates read today is the requirement as it is now: keep it so.
    op.execute(
        """
        UPDATE feedback_items SET
            requirement_name = (
                SELECT requirements.name FROM requirements
                WHERE requirements.id = feedback_items.requirement_id),
            requirement_description = (
                SELECT requirements.description FROM requirements
                WHERE requirements.id = feedback_items.requirement_id)
        WHERE requirement_id IS NOT NULL
          AND feedback_id IN (SELECT id FROM feedback WHERE state = 'published')
        """
    )
    op.create_table(
        "library_requirements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_library_requirements_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_requirements")),
        sa.UniqueConstraint(
            "organization_id", "name", name=op.f("uq_library_requirements_organization_id_name")
        ),
    )


def downgrade() -> None:
    op.drop_table("library_requirements")
    # Plain DROP COLUMN (SQLite 3.35+), so that no table is rebuilt.
    op.drop_column("feedback_items", "requirement_description")
    op.drop_column("feedback_items", "requirement_name")
    op.drop_column("requirements", "retired_at")
    op.drop_column("jobs", "version")
    op.drop_column("jobs", "archived_at")
    op.drop_column("jobs", "posting_url")
