"""Background work: the one job table, the registry of job kinds, scheduling, the worker.

A domain declares its kinds in its own `jobs.py` (`registry.add(JobKind(...))`)
and queues them with `enqueue` in the same transaction as their cause.
"""
