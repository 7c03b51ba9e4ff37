"""Jobs and their requirements as staff manage them (/staff/jobs), and the
organization's library of requirements to reuse."""
