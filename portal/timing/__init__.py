"""When candidates hear: the send window, scheduled invitation emails, the call first."""
