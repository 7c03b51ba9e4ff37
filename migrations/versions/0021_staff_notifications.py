"""staff notifications and landing links

`staff_users.question_emails` says when a staff member hears about candidates'
questions by email: `immediately` (the default: an email per new question, and
the daily digest of overdue ones), `daily` (the digest only) or `never`.

Access links get two purposes beside `invitation` and `sign_in`: `reply` (the
link in a reply email, landing on the conversation) and `pool` (the link in a
talent-pool email, landing on the pool panel).

Revision ID: 0021_staff_notifications
Revises: 0020_job_pages
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_staff_notifications"
down_revision: str | None = "0020_job_pages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PURPOSES = "purpose IN ('invitation', 'sign_in', 'reply', 'pool')"
OLD_PURPOSES = "purpose IN ('invitation', 'sign_in')"


def _sqlite_foreign_keys(on: bool) -> None:
    """SQLite rebuilds `staff_users` and `access_links` (copy, drop, rename) to change
    their CHECK constraints. With foreign keys on, dropping the old `staff_users`
    would first delete or clear, by cascade, every row that refers to a staff member.
    The pragma only takes effect outside a transaction, so the one Alembic opened is
    committed first."""
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
    _sqlite_foreign_keys(False)
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "question_emails",
                sa.String(length=20),
                server_default="immediately",
                nullable=False,
            )
        )
        batch_op.create_check_constraint(
            op.f("ck_staff_users_question_emails"),
            "question_emails IN ('immediately', 'daily', 'never')",
        )
    with op.batch_alter_table("access_links", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_access_links_purpose"), type_="check")
        batch_op.create_check_constraint(op.f("ck_access_links_purpose"), PURPOSES)
    _check_sqlite_foreign_keys()
    _sqlite_foreign_keys(True)


def downgrade() -> None:
    _sqlite_foreign_keys(False)
    op.execute("DELETE FROM access_links WHERE purpose IN ('reply', 'pool')")
    with op.batch_alter_table("access_links", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_access_links_purpose"), type_="check")
        batch_op.create_check_constraint(op.f("ck_access_links_purpose"), OLD_PURPOSES)
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_staff_users_question_emails"), type_="check")
        batch_op.drop_column("question_emails")
    _check_sqlite_foreign_keys()
    _sqlite_foreign_keys(True)
