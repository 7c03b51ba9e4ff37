"""applications get an assignee: a colleague of their organization, or nobody

`applications.assignee_staff_id` names the recruiter who looks after an
application. Two foreign keys keep it right: a plain one whose ON DELETE SET
NULL clears the assignments of a deleted staff account, and a composite one to
`staff_users (id, organization_id)` (a new unique index, as jobs and candidates
have) that refuses a colleague of another organization. The composite key has no
ON DELETE action (SET NULL would clear `organization_id` too) and is checked at
commit, after the plain key has cleared the column.

Revision ID: 0018_application_assignee
Revises: 0016_thread_and_link_consistency
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_application_assignee"
down_revision: str | None = "0016_thread_and_link_consistency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _sqlite_foreign_keys(on: bool) -> None:
    """SQLite rebuilds `applications` (copy, drop, rename) to add the table's foreign
    keys. With foreign keys on, dropping the old table would first delete, by cascade,
    every row that refers to an application (feedback, threads, links). The pragma
    only takes effect outside a transaction, so the one Alembic opened is committed."""
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
        "uq_staff_users_id_organization_id",
        "staff_users",
        ["id", "organization_id"],
        unique=True,
    )
    _sqlite_foreign_keys(False)
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assignee_staff_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_applications_assignee_staff_id_staff_users",
            "staff_users",
            ["assignee_staff_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            "fk_applications_assignee_organization_staff_users",
            "staff_users",
            ["assignee_staff_id", "organization_id"],
            ["id", "organization_id"],
            deferrable=True,
            initially="DEFERRED",
        )
        batch_op.create_index(
            "ix_applications_assignee", ["assignee_staff_id", "organization_id"], unique=False
        )
    _check_sqlite_foreign_keys()
    _sqlite_foreign_keys(True)


def downgrade() -> None:
    _sqlite_foreign_keys(False)
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index("ix_applications_assignee")
        batch_op.drop_constraint(
            "fk_applications_assignee_organization_staff_users", type_="foreignkey"
        )
        batch_op.drop_constraint(
            "fk_applications_assignee_staff_id_staff_users", type_="foreignkey"
        )
        batch_op.drop_column("assignee_staff_id")
    _sqlite_foreign_keys(True)
    op.drop_index("uq_staff_users_id_organization_id", table_name="staff_users")
