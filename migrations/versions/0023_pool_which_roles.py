"""talent pool: which roles apart from how often

A member's contact preference asked two things in one: "only about roles that
match my choices" (which roles) beside "at most once a month / a quarter" (how
often). Which roles is now its own column (`only_chosen_roles`), and how often
gains "whenever a suitable role comes up" (`anytime`), which is what the old
"matching" choice allowed. Existing "matching" members keep exactly what they
chose: only roles of their kinds, whenever one comes up.

Revision ID: 0023_pool_which_roles
Revises: 0022_keep_typed
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_pool_which_roles"
down_revision: str | None = "0022_keep_typed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK = "ck_pool_memberships_contact_frequency"
OLD = "contact_frequency IN ('matching', 'monthly', 'quarterly')"
NEW = "contact_frequency IN ('anytime', 'monthly', 'quarterly')"
# Both, while the rows move from one to the other.
BOTH = "contact_frequency IN ('matching', 'anytime', 'monthly', 'quarterly')"


def _sqlite_foreign_keys(on: bool) -> None:
    """SQLite rebuilds `pool_memberships` (copy, drop, rename) to change a CHECK. With
    foreign keys on, dropping the old table would first delete, by cascade, every
    consent event and contact of every member. The pragma only takes effect outside a
    transaction, so the one Alembic opened is committed first."""
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


def _check(condition: str) -> None:
    with op.batch_alter_table("pool_memberships", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(CHECK), type_="check")
        batch_op.create_check_constraint(op.f(CHECK), sa.text(condition))


def upgrade() -> None:
    _sqlite_foreign_keys(False)
    with op.batch_alter_table("pool_memberships", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("only_chosen_roles", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    _check(BOTH)
    op.execute(
        "UPDATE pool_memberships SET only_chosen_roles = true, contact_frequency = 'anytime'"
        " WHERE contact_frequency = 'matching'"
    )
    _check(NEW)
    _check_sqlite_foreign_keys()
    _sqlite_foreign_keys(True)


def downgrade() -> None:
    _sqlite_foreign_keys(False)
    _check(BOTH)
    # "Only chosen roles" went with no limit on how often; the nearest old choice.
    op.execute(
        "UPDATE pool_memberships SET contact_frequency = 'matching'"
        " WHERE only_chosen_roles OR contact_frequency = 'anytime'"
    )
    _check(OLD)
    with op.batch_alter_table("pool_memberships", schema=None) as batch_op:
        batch_op.drop_column("only_chosen_roles")
    _check_sqlite_foreign_keys()
    _sqlite_foreign_keys(True)
