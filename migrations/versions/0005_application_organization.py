"""applications carry their organization; the database refuses mixed organizations

Revision ID: 0005_application_organization
Revises: 0004_keep_requirements_in_use
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_application_organization"
down_revision: str | None = "0004_keep_requirements_in_use"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _sqlite_foreign_keys(on: bool) -> None:
    """SQLite rebuilds `applications` (copy, drop, rename). With foreign keys on,
    dropping the old table would first delete its rows, and with them, by cascade,
    every feedback and link of every application. The pragma only takes effect
    outside a transaction, so the one Alembic opened is committed first."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    bind.commit()
    bind.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    bind.commit()


def _check_sqlite_foreign_keys() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"rows that break a foreign key after the rebuild: {broken[:5]}")


def upgrade() -> None:
    op.create_index(
        "uq_candidates_id_organization_id", "candidates", ["id", "organization_id"], unique=True
    )
    op.create_index("uq_jobs_id_organization_id", "jobs", ["id", "organization_id"], unique=True)
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organization_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE applications SET organization_id ="
        " (SELECT jobs.organization_id FROM jobs WHERE jobs.id = applications.job_id)"
    )
    _sqlite_foreign_keys(False)
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.alter_column("organization_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint("fk_applications_candidate_id_candidates", type_="foreignkey")
        batch_op.drop_constraint("fk_applications_job_id_jobs", type_="foreignkey")
        # An application whose candidate is of another organization than its job
        # fails here: there is no right organization to give it.
        batch_op.create_foreign_key(
            "fk_applications_candidate_id_candidates",
            "candidates",
            ["candidate_id", "organization_id"],
            ["id", "organization_id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            "fk_applications_job_id_jobs",
            "jobs",
            ["job_id", "organization_id"],
            ["id", "organization_id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(
            batch_op.f("ix_applications_organization_id"), ["organization_id"], unique=False
        )
    _check_sqlite_foreign_keys()
    _sqlite_foreign_keys(True)


def downgrade() -> None:
    _sqlite_foreign_keys(False)
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_applications_organization_id"))
        batch_op.drop_constraint("fk_applications_job_id_jobs", type_="foreignkey")
        batch_op.drop_constraint("fk_applications_candidate_id_candidates", type_="foreignkey")
        batch_op.create_foreign_key(
            "fk_applications_candidate_id_candidates",
            "candidates",
            ["candidate_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            "fk_applications_job_id_jobs", "jobs", ["job_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.drop_column("organization_id")
    _sqlite_foreign_keys(True)
    op.drop_index("uq_jobs_id_organization_id", table_name="jobs")
    op.drop_index("uq_candidates_id_organization_id", table_name="candidates")
