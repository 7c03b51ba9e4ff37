"""Every table, imported in one place so that Alembic sees the whole schema."""

from portal.access.models import AccessLink
from portal.api.models import ApiKey, IdempotentRequest
from portal.ats.models import (
    AtsCandidate,
    AtsConnection,
    AtsEvent,
    AtsJobMapping,
)
from portal.audit.models import AuditEvent
from portal.auth.models import KeptForm
from portal.candidates.models import Application, Candidate, Job, Requirement
from portal.db import Base
from portal.drafting.models import (
    AttributeMapping,
    DraftedFeedback,
    DraftingRun,
    GrowthSuggestion,
    Scorecard,
    ScorecardEntry,
)
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
from portal.llm.models import Rephrasing
from portal.orgs.models import Organization
from portal.pool.models import PoolConsentEvent, PoolConsentText, PoolContact, PoolMembership
from portal.postings.models import LibraryRequirement
from portal.privacy.models import DataRequest, LegalHold
from portal.security.models import Session
from portal.security.ratelimit_storage import RateLimitHit
from portal.staff.models import StaffInvitation, StaffSignInFailure, StaffUser
from portal.survey.models import SurveyAnswer, SurveyWording
from portal.threads.models import CandidateBlock, InternalNote, Message, SavedAnswer, Thread
from portal.timing.models import FeedbackSend, SendSettings
from portal.webhooks.models import WebhookDelivery, WebhookEndpoint

__all__ = [
    "AccessLink",
    "ApiKey",
    "Application",
    "AtsCandidate",
    "AtsConnection",
    "AtsEvent",
    "AtsJobMapping",
    "AttributeMapping",
    "AuditEvent",
    "BackgroundJob",
    "Base",
    "Candidate",
    "CandidateBlock",
    "CheckTally",
    "CheckTallyRule",
    "DataRequest",
    "DraftedFeedback",
    "DraftingRun",
    "Feedback",
    "FeedbackItem",
    "FeedbackOverride",
    "FeedbackSend",
    "GrowthSuggestion",
    "IdempotentRequest",
    "ImportUpload",
    "InsightFindings",
    "InsightMonth",
    "InsightRefresh",
    "InternalNote",
    "Job",
    "KeptForm",
    "LegalHold",
    "LibraryRequirement",
    "Message",
    "Organization",
    "PoolConsentEvent",
    "PoolConsentText",
    "PoolContact",
    "PoolMembership",
    "RateLimitHit",
    "Rephrasing",
    "Requirement",
    "SavedAnswer",
    "Scorecard",
    "ScorecardEntry",
    "SendSettings",
    "Session",
    "StaffInvitation",
    "StaffSignInFailure",
    "StaffUser",
    "SurveyAnswer",
    "SurveyWording",
    "Thread",
    "WebhookDelivery",
    "WebhookEndpoint",
]
