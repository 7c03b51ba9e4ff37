"""insights: send timing, and the survey under the feedback

Send timing: each organization's send window, and when each candidate is told.

`send_settings` holds an organization's window (working days, hours in its time
zone, holidays), whether finalists get a call first, and after how many days
recruiters hear of candidates decided but not told; no row means the defaults.
`feedback_sends` records, per application, when the invitation to its published
feedback goes or went.

The survey: `survey_wordings` keeps each version of an organization's questions
(none: the default wording); `survey_answers` keeps each answer with the
organization, the job and the month, but not the application: `answer_key`, a
keyed hash of the application's id, lets the candidate change it.

The dashboard: `insight_months` holds each job's figures per month of decision,
rewritten hourly by the `insights.refresh` job, and `insight_findings` the
coaching table per writer and month; `insight_refreshes` says when;
`check_tallies` (and `check_tally_rules`, per rule) keep what the feedback check
found in each version as it was published, with its writer.

Revision ID: 0027_insights
Revises: 0023_pool_which_roles
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027_insights"
down_revision: str | None = "0026_privacy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "send_settings",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("days", sa.JSON(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.Column("holidays", sa.JSON(), nullable=False),
        sa.Column("call_finalists_first", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("untold_days", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint("end_minute <= 1440", name=op.f("ck_send_settings_end_minute")),
        sa.CheckConstraint(
            "start_minute >= 0 AND start_minute < end_minute",
            name=op.f("ck_send_settings_start_minute"),
        ),
        sa.CheckConstraint(
            "untold_days BETWEEN 1 AND 90", name=op.f("ck_send_settings_untold_days")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_send_settings_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_send_settings")),
    )
    op.create_table(
        "feedback_sends",
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("call_done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("call_done_by_staff_id", sa.Integer(), nullable=True),
        sa.Column("sent_now_by_staff_id", sa.Integer(), nullable=True),
        sa.Column("sent_now_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('waiting_for_call', 'scheduled', 'sent')",
            name=op.f("ck_feedback_sends_state"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_feedback_sends_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["call_done_by_staff_id"],
            ["staff_users.id"],
            name=op.f("fk_feedback_sends_call_done_by_staff_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_feedback_sends_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sent_now_by_staff_id"],
            ["staff_users.id"],
            name=op.f("fk_feedback_sends_sent_now_by_staff_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("application_id", name=op.f("pk_feedback_sends")),
    )
    with op.batch_alter_table("feedback_sends", schema=None) as batch_op:
        batch_op.create_index(
            "ix_feedback_sends_organization_state", ["organization_id", "state"], unique=False
        )
    op.create_table(
        "survey_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("helpfulness", sa.Integer(), nullable=False),
        sa.Column("fairness", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("wording_version", sa.Integer(), nullable=False),
        sa.Column("answer_key", sa.String(length=100), nullable=False),
        sa.CheckConstraint("fairness BETWEEN 1 AND 5", name=op.f("ck_survey_answers_fairness")),
        sa.CheckConstraint(
            "helpfulness BETWEEN 1 AND 5", name=op.f("ck_survey_answers_helpfulness")
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_survey_answers_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_survey_answers_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_answers")),
        sa.UniqueConstraint("answer_key", name=op.f("uq_survey_answers_answer_key")),
    )
    with op.batch_alter_table("survey_answers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_survey_answers_organization_period_job",
            ["organization_id", "period", "job_id"],
            unique=False,
        )

    op.create_table(
        "survey_wordings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("helpfulness", sa.String(length=300), nullable=False),
        sa.Column("fairness", sa.String(length=300), nullable=False),
        sa.Column("comment", sa.String(length=300), nullable=False),
        sa.Column("created_by_staff_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_staff_id"],
            ["staff_users.id"],
            name=op.f("fk_survey_wordings_created_by_staff_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_survey_wordings_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_wordings")),
        sa.UniqueConstraint(
            "organization_id", "version", name=op.f("uq_survey_wordings_organization_id_version")
        ),
    )
    op.create_table(
        "insight_refreshes",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_insight_refreshes_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_insight_refreshes")),
    )
    op.create_table(
        "insight_months",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("decided", sa.Integer(), nullable=False),
        sa.Column("told", sa.Integer(), nullable=False),
        sa.Column("opened", sa.Integer(), nullable=False),
        sa.Column("asked", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("answered_in_promise", sa.Integer(), nullable=False),
        sa.Column("pool_joins", sa.Integer(), nullable=False),
        sa.Column("send_hours", sa.JSON(), nullable=False),
        sa.Column("reply_hours", sa.JSON(), nullable=False),
        sa.Column("unmet", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_insight_months_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_insight_months_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "organization_id", "job_id", "month", name=op.f("pk_insight_months")
        ),
    )
    op.create_table(
        "check_tallies",
        sa.Column("feedback_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("risky", sa.Integer(), nullable=False),
        sa.Column("vague", sa.Integer(), nullable=False),
        sa.Column("tone", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["feedback_id"],
            ["feedback.id"],
            name=op.f("fk_check_tallies_feedback_id_feedback"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_check_tallies_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_check_tallies_staff_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("feedback_id", name=op.f("pk_check_tallies")),
    )
    with op.batch_alter_table("check_tallies", schema=None) as batch_op:
        batch_op.create_index(
            "ix_check_tallies_organization_published",
            ["organization_id", "published_at"],
            unique=False,
        )
    op.create_table(
        "check_tally_rules",
        sa.Column("feedback_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=60), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["feedback_id"],
            ["check_tallies.feedback_id"],
            name=op.f("fk_check_tally_rules_feedback_id_check_tallies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("feedback_id", "rule", name=op.f("pk_check_tally_rules")),
    )
    op.create_table(
        "insight_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("published", sa.Integer(), nullable=False),
        sa.Column("risky", sa.Integer(), nullable=False),
        sa.Column("vague", sa.Integer(), nullable=False),
        sa.Column("tone", sa.Integer(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_insight_findings_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_insight_findings_staff_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insight_findings")),
    )
    with op.batch_alter_table("insight_findings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_insight_findings_organization_month", ["organization_id", "month"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("insight_findings", schema=None) as batch_op:
        batch_op.drop_index("ix_insight_findings_organization_month")

    op.drop_table("insight_findings")
    op.drop_table("check_tally_rules")
    with op.batch_alter_table("check_tallies", schema=None) as batch_op:
        batch_op.drop_index("ix_check_tallies_organization_published")

    op.drop_table("check_tallies")
    op.drop_table("insight_months")
    op.drop_table("insight_refreshes")
    op.drop_table("survey_wordings")
    with op.batch_alter_table("survey_answers", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_answers_organization_period_job")

    op.drop_table("survey_answers")
    with op.batch_alter_table("feedback_sends", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_sends_organization_state")

    op.drop_table("feedback_sends")
    op.drop_table("send_settings")
