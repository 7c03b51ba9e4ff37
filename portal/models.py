"""Every table, imported in one place so that Alembic sees the whole schema."""

from portal.access.models import AccessLink
from portal.audit.models import AuditEvent
from portal.auth.models import KeptForm
from portal.candidates.models import Application, Candidate, Job, Requirement
from portal.db import Base
from portal.feedback.models import Feedback, FeedbackItem, FeedbackOverride
from portal.imports.models import ImportUpload
from portal.insights.models import (
    CheckTally,
    CheckTallyRule,
    InsightFindings,
    InsightMonth,
    InsightRefresh,
)
from portal.jobs.models import BackgroundJob
from portal.orgs.models import Organization
from portal.pool.models import PoolConsentEvent, PoolConsentText, PoolContact, PoolMembership
from portal.postings.models import LibraryRequirement
from portal.security.models import Session
from portal.staff.models import StaffInvitation, StaffSignInFailure, StaffUser
from portal.survey.models import SurveyAnswer, SurveyWording
from portal.threads.models import CandidateBlock, InternalNote, Message, SavedAnswer, Thread
from portal.timing.models import FeedbackSend, SendSettings

__all__ = [
    "AccessLink",
    "Application",
    "AuditEvent",
    "BackgroundJob",
    "Base",
    "Candidate",
    "CandidateBlock",
    "CheckTally",
    "CheckTallyRule",
    "Feedback",
    "FeedbackItem",
    "FeedbackOverride",
    "FeedbackSend",
    "ImportUpload",
    "InsightFindings",
    "InsightMonth",
    "InsightRefresh",
    "InternalNote",
    "Job",
    "KeptForm",
    "LibraryRequirement",
    "Message",
    "Organization",
    "PoolConsentEvent",
    "PoolConsentText",
    "PoolContact",
    "PoolMembership",
    "Requirement",
    "SavedAnswer",
    "SendSettings",
    "Session",
    "StaffInvitation",
    "StaffSignInFailure",
    "StaffUser",
    "SurveyAnswer",
    "SurveyWording",
    "Thread",
]
