"""Every job kind, imported in one place so that every worker knows them all.

A domain with background work declares its kinds in its own `jobs.py`; add
the module here. So too what a job of a lower layer hands to a higher one: the
eraser of candidates an ATS anonymized (`portal.privacy.anonymized`, registered
with `portal.ats.anonymize.on_anonymized`).
"""

from portal.access import jobs as access_jobs
from portal.ats import jobs as ats_jobs
from portal.auth import jobs as auth_jobs
from portal.drafting import jobs as drafting_jobs
from portal.insights import jobs as insight_jobs
from portal.jobs import housekeeping
from portal.mail import jobs as mail_jobs
from portal.pool import jobs as pool_jobs
from portal.privacy import anonymized as privacy_anonymized
from portal.privacy import jobs as privacy_jobs
from portal.staff import jobs as staff_jobs
from portal.threads import jobs as thread_jobs
from portal.timing import jobs as timing_jobs
from portal.webhooks import jobs as webhook_jobs

__all__ = [
    "access_jobs",
    "ats_jobs",
    "auth_jobs",
    "drafting_jobs",
    "housekeeping",
    "insight_jobs",
    "mail_jobs",
    "pool_jobs",
    "privacy_anonymized",
    "privacy_jobs",
    "staff_jobs",
    "thread_jobs",
    "timing_jobs",
    "webhook_jobs",
]
