"""Incoming webhooks from applicant tracking systems (Greenhouse, Lever, Ashby)."""
