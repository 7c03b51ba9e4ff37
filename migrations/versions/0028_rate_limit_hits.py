"""rate-limit hits: counters shared by every app process

Rate limits counted in process memory held only inside one process: with several
app processes behind a proxy, each counted alone. On PostgreSQL the counters now
live in the database (`portal.security.ratelimit_storage`), one row per counted
request until its window has passed, keyed by the SHA-256 of the limit's key.

Revision ID: 0028_rate_limit_hits
Revises: 0023_pool_which_roles
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028_rate_limit_hits"
down_revision: str | None = "0027_insights"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_hits",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("key_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("hit_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_limit_hits")),
    )
    op.create_index("ix_rate_limit_hits_key_hash_hit_at", "rate_limit_hits", ["key_hash", "hit_at"])
    op.create_index(op.f("ix_rate_limit_hits_expires_at"), "rate_limit_hits", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_rate_limit_hits_expires_at"), table_name="rate_limit_hits")
    op.drop_index("ix_rate_limit_hits_key_hash_hit_at", table_name="rate_limit_hits")
    op.drop_table("rate_limit_hits")
