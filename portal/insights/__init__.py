"""Insights for staff: how the feedback lands, month by month and job by job."""
