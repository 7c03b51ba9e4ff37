"""The recruiter's workspace: applications, the feedback editor, preview and publishing."""
