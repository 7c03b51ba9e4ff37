"""keep requirements in use

Deleting a requirement used to set feedback items' requirement_id to NULL,
which the assessment_has_requirement CHECK refused (and which would have
stripped published feedback of what it rated). The foreign key now has no
ON DELETE action: the database refuses to delete a requirement that feedback
uses, and portal.candidates.service.delete_requirement says why. It is checked
at commit, so deleting a job (whose feedback goes by other cascades) works.

Revision ID: 0004_keep_requirements_in_use
Revises: 0003_organization_version
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004_keep_requirements_in_use"
down_revision: str | None = "0003_organization_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "fk_feedback_items_requirement_id_requirements"


def upgrade() -> None:
    with op.batch_alter_table("feedback_items", schema=None) as batch_op:
        batch_op.drop_constraint(NAME, type_="foreignkey")
        batch_op.create_foreign_key(
            NAME,
            "requirements",
            ["requirement_id"],
            ["id"],
            deferrable=True,
            initially="DEFERRED",
        )


def downgrade() -> None:
    with op.batch_alter_table("feedback_items", schema=None) as batch_op:
        batch_op.drop_constraint(NAME, type_="foreignkey")
        batch_op.create_foreign_key(
            NAME, "requirements", ["requirement_id"], ["id"], ondelete="SET NULL"
        )
