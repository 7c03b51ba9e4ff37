"""talent pool: memberships (one per consent), consent text versions, consent history,
the contact log, and whether an organization's feedback offers the pool

Revision ID: 0012_talent_pool
Revises: 0011_next_steps_and_signatures
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_talent_pool"
down_revision: str | None = "0011_next_steps_and_signatures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pool_consent_texts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_staff_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_staff_id"],
            ["staff_users.id"],
            name=op.f("fk_pool_consent_texts_created_by_staff_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_pool_consent_texts_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pool_consent_texts")),
        sa.UniqueConstraint(
            "organization_id", "version", name=op.f("uq_pool_consent_texts_organization_id_version")
        ),
    )
    op.create_table(
        "pool_memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("source_application_id", sa.Integer(), nullable=True),
        sa.Column("consent_text_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("role_families", sa.String(length=400), nullable=False),
        sa.Column("locations", sa.Text(), nullable=False),
        sa.Column("remote", sa.String(length=20), nullable=False),
        sa.Column("contact_frequency", sa.String(length=20), nullable=False),
        sa.Column("duration_months", sa.Integer(), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("renewal_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_contacted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "contact_frequency IN ('matching', 'monthly', 'quarterly')",
            name=op.f("ck_pool_memberships_contact_frequency"),
        ),
        sa.CheckConstraint(
            "remote IN ('either', 'remote', 'on_site')", name=op.f("ck_pool_memberships_remote")
        ),
        sa.CheckConstraint(
            "state IN ('active', 'left', 'expired')", name=op.f("ck_pool_memberships_state")
        ),
        sa.CheckConstraint(
            "duration_months BETWEEN 1 AND 60", name=op.f("ck_pool_memberships_duration_months")
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id", "organization_id"],
            ["candidates.id", "candidates.organization_id"],
            name=op.f("fk_pool_memberships_candidate_id_candidates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["consent_text_id"],
            ["pool_consent_texts.id"],
            name=op.f("fk_pool_memberships_consent_text_id_pool_consent_texts"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_pool_memberships_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_application_id"],
            ["applications.id"],
            name=op.f("fk_pool_memberships_source_application_id_applications"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pool_memberships")),
    )
    with op.batch_alter_table("pool_memberships", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pool_memberships_candidate_id"), ["candidate_id"], unique=False
        )
        batch_op.create_index(
            "ix_pool_memberships_organization_state",
            ["organization_id", "state", "joined_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_pool_memberships_state_expires_at", ["state", "expires_at"], unique=False
        )
        batch_op.create_index(
            "uq_pool_memberships_active_candidate",
            ["candidate_id"],
            unique=True,
            sqlite_where=sa.text("state = 'active'"),
            postgresql_where=sa.text("state = 'active'"),
        )

    op.create_table(
        "pool_consent_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("membership_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("consent_text_id", sa.Integer(), nullable=False),
        sa.Column("actor_kind", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "actor_kind IN ('candidate', 'email_link', 'system')",
            name=op.f("ck_pool_consent_events_actor_kind"),
        ),
        sa.CheckConstraint(
            "kind IN ('joined', 'changed', 'renewed', 'left', 'expired')",
            name=op.f("ck_pool_consent_events_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["consent_text_id"],
            ["pool_consent_texts.id"],
            name=op.f("fk_pool_consent_events_consent_text_id_pool_consent_texts"),
        ),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["pool_memberships.id"],
            name=op.f("fk_pool_consent_events_membership_id_pool_memberships"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pool_consent_events")),
    )
    with op.batch_alter_table("pool_consent_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pool_consent_events_membership_id"), ["membership_id"], unique=False
        )

    op.create_table(
        "pool_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("membership_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("contacted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_pool_contacts_job_id_jobs"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["pool_memberships.id"],
            name=op.f("fk_pool_contacts_membership_id_pool_memberships"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_pool_contacts_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_users.id"],
            name=op.f("fk_pool_contacts_staff_user_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pool_contacts")),
    )
    with op.batch_alter_table("pool_contacts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_pool_contacts_membership_contacted", ["membership_id", "contacted_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pool_contacts_organization_id"), ["organization_id"], unique=False
        )

    # A plain ADD COLUMN: rebuilding `organizations` on SQLite (batch mode) would,
    # with foreign keys on, delete everything that cascades from it.
    op.add_column(
        "organizations",
        sa.Column("offers_pool", sa.Boolean(), server_default=sa.true(), nullable=False),
    )

    # Each organization's current statement becomes its first recorded version.
    op.execute(
        "INSERT INTO pool_consent_texts (organization_id, version, text, created_at) "
        "SELECT id, consent_text_version, consent_text, created_at FROM organizations"
    )


def downgrade() -> None:
    op.drop_column("organizations", "offers_pool")  # SQLite 3.35+: no rebuild

    with op.batch_alter_table("pool_contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pool_contacts_organization_id"))
        batch_op.drop_index("ix_pool_contacts_membership_contacted")

    op.drop_table("pool_contacts")
    with op.batch_alter_table("pool_consent_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pool_consent_events_membership_id"))

    op.drop_table("pool_consent_events")
    with op.batch_alter_table("pool_memberships", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_pool_memberships_active_candidate",
            sqlite_where=sa.text("state = 'active'"),
            postgresql_where=sa.text("state = 'active'"),
        )
        batch_op.drop_index("ix_pool_memberships_state_expires_at")
        batch_op.drop_index("ix_pool_memberships_organization_state")
        batch_op.drop_index(batch_op.f("ix_pool_memberships_candidate_id"))

    op.drop_table("pool_memberships")
    op.drop_table("pool_consent_texts")
