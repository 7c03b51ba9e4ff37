"""threads and access links agree with their application: composite foreign keys

Revision ID: 0016_thread_and_link_consistency
Revises: 0015_pool_invitation_unique
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016_thread_and_link_consistency"
down_revision: str | None = "0015_pool_invitation_unique"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _sqlite_foreign_keys(on: bool) -> None:
    """SQLite rebuilds `threads` and `access_links` (copy, drop, rename). With foreign
    keys on, dropping the old `threads` would first delete, by cascade, every message
    and note. The pragma only takes effect outside a transaction, so the one Alembic
    opened is committed first."""
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
        "uq_applications_id_organization_id_candidate_id_job_id",
        "applications",
        ["id", "organization_id", "candidate_id", "job_id"],
        unique=True,
    )
    op.create_index(
        "uq_applications_id_candidate_id", "applications", ["id", "candidate_id"], unique=True
    )
    _sqlite_foreign_keys(False)
    with op.batch_alter_table("threads", schema=None) as batch_op:
        batch_op.drop_constraint("fk_threads_application_id_applications", type_="foreignkey")
        batch_op.drop_constraint("fk_threads_candidate_id_candidates", type_="foreignkey")
        batch_op.drop_constraint("fk_threads_job_id_jobs", type_="foreignkey")
        batch_op.drop_constraint("fk_threads_organization_id_organizations", type_="foreignkey")
        # A thread whose organization, candidate or job is not its application's is
        # refused by the database.
        batch_op.create_foreign_key(
            "fk_threads_application_id_applications",
            "applications",
            ["application_id", "organization_id", "candidate_id", "job_id"],
            ["id", "organization_id", "candidate_id", "job_id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("access_links", schema=None) as batch_op:
        batch_op.drop_constraint("fk_access_links_application_id_applications", type_="foreignkey")
        batch_op.create_foreign_key(
            "fk_access_links_application_id_applications",
            "applications",
            ["application_id", "candidate_id"],
            ["id", "candidate_id"],
            ondelete="CASCADE",
        )
    _check_sqlite_foreign_keys()
    _sqlite_foreign_keys(True)


def downgrade() -> None:
    _sqlite_foreign_keys(False)
    with op.batch_alter_table("access_links", schema=None) as batch_op:
        batch_op.drop_constraint("fk_access_links_application_id_applications", type_="foreignkey")
        batch_op.create_foreign_key(
            "fk_access_links_application_id_applications",
            "applications",
            ["application_id"],
            ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("threads", schema=None) as batch_op:
        batch_op.drop_constraint("fk_threads_application_id_applications", type_="foreignkey")
        batch_op.create_foreign_key(
            "fk_threads_application_id_applications",
            "applications",
            ["application_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            "fk_threads_candidate_id_candidates",
            "candidates",
            ["candidate_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            "fk_threads_job_id_jobs", "jobs", ["job_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.create_foreign_key(
            "fk_threads_organization_id_organizations",
            "organizations",
            ["organization_id"],
            ["id"],
            ondelete="CASCADE",
        )
    _sqlite_foreign_keys(True)
    op.drop_index("uq_applications_id_candidate_id", table_name="applications")
    op.drop_index(
        "uq_applications_id_organization_id_candidate_id_job_id", table_name="applications"
    )
