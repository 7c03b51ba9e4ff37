"""Every table, imported in one place so that Alembic sees the whole schema."""

from portal.access.models import AccessLink
from portal.api.models import ApiKey, IdempotentRequest
from portal.audit.models import AuditEvent
from portal.auth.models import KeptForm
from portal.candidates.models import Application, Candidate, Job, Requirement
from portal.db import Base
from portal.feedback.models import Feedback, FeedbackItem, FeedbackOverride
from portal.imports.models import ImportUpload
from portal.jobs.models import BackgroundJob
from portal.orgs.models import Organization
from portal.pool.models import PoolConsentEvent, PoolConsentText, PoolContact, PoolMembership
from portal.postings.models import LibraryRequirement
from portal.security.models import Session
from portal.staff.models import StaffInvitation, StaffSignInFailure, StaffUser
from portal.threads.models import CandidateBlock, InternalNote, Message, SavedAnswer, Thread

__all__ = [
    "AccessLink",
    "ApiKey",
    "Application",
    "AuditEvent",
    "BackgroundJob",
    "Base",
    "Candidate",
    "CandidateBlock",
    "Feedback",
    "FeedbackItem",
    "FeedbackOverride",
    "IdempotentRequest",
    "ImportUpload",
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
    "Session",
    "StaffInvitation",
    "StaffSignInFailure",
    "StaffUser",
    "Thread",
]
