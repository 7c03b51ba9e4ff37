"""Load benchmark of the candidate feedback page (see bench/README.md)."""
