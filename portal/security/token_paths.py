"""The pages whose address carries a token (a credential), declared once.

Such a page must send no Referer (not even to this site's own stylesheets), must
not be stored by any cache, and its path is never logged as is (DESIGN §6). The
security headers, the templates' <meta name="referrer"> and every logged path
take their rule from here; tests/test_hardening_web.py checks that every route
with a `{token}` in its path is listed.
"""

from __future__ import annotations

import re

from starlette.types import Scope

# Candidates' links (/l/<token>), staff invitations (/staff/l/<token>), and the
# links in talent-pool emails, and the one-time links of data requests.
TOKEN_PATH_PREFIXES = (
    "/l/",
    "/staff/l/",
    "/pool/leave/",
    "/pool/renew/",
    "/your-data/download/",
    "/your-data/erase/",
)

# Anywhere in the path, not only at its start: behind a proxy prefix
# (root_path=/careers/feedback) the logged path is /careers/feedback/l/<token>.
_TOKEN_IN_PATH = re.compile(
    "(" + "|".join(re.escape(prefix) for prefix in TOKEN_PATH_PREFIXES) + ")[^/?]*"
)


def route_path(scope: Scope) -> str:
    """The path the app routes on: without the root path a proxy prefix adds."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("/", ""):
        return path[len(root) :] or "/"
    return path


def is_token_path(scope: Scope) -> bool:
    """Whether the request's address holds a token, whatever the app's root path."""
    return route_path(scope).startswith(TOKEN_PATH_PREFIXES)


def redact_path(path: str) -> str:
    """`path` as it may be logged: each token cut out."""
    return _TOKEN_IN_PATH.sub(r"\1[redacted]", path)
