"""The real portal for the benchmark: `create_app` with settings from `PORTAL_*` variables.

bench/run.py sets PORTAL_DATABASE_URL to the benchmark database and runs it as
in production (PORTAL_ENV=production, a random secret key, an https base URL);
the mail worker does not run.
"""

from __future__ import annotations

from portal.app import create_app
from portal.settings import Settings

app = create_app(Settings.from_env(), run_worker=False)
