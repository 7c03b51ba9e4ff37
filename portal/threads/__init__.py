"""Candidates' questions about an application and the replies (DESIGN §4.4, §5 "Queue")."""
