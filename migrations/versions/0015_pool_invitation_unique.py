"""one talent-pool invitation per member and job, enforced by the database

Revision ID: 0015_pool_invitation_unique
Revises: 0014_staff_signin_failures
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015_pool_invitation_unique"
down_revision: str | None = "0014_staff_signin_failures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Two recruiters sending at once could each record an invitation of the same
    # member to the same job: keep the first of each, as the member got it first.
    op.execute(
        "DELETE FROM pool_contacts WHERE job_id IS NOT NULL AND id NOT IN"
        " (SELECT MIN(id) FROM pool_contacts WHERE job_id IS NOT NULL"
        " GROUP BY membership_id, job_id)"
    )
    with op.batch_alter_table("pool_contacts", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_pool_contacts_membership_id_job_id"), ["membership_id", "job_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("pool_contacts", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_pool_contacts_membership_id_job_id"), type_="unique"
        )
