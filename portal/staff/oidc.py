"""Staff single sign-on with OpenID Connect, through Authlib's Starlette client.

The authorization code flow with PKCE (S256). What the browser must bring back
to finish (state, nonce, PKCE verifier, and the invitation being accepted, if
any) is sealed in a short-lived cookie: encrypted and authenticated with a key
derived from `PORTAL_SECRET_KEY`, so the browser can neither read nor alter it,
and refused after ten minutes. On the way back the state is compared, the code
is exchanged with the verifier, the ID token's signature is checked against the
provider's published keys (Authlib), and its issuer, audience, nonce and expiry
are checked, by Authlib and again explicitly here. A staff member is known by
the issuer and the subject (`sub`) of their ID token, never by an email address
(which the provider's users may be able to change).
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import httpx2
from authlib.integrations.base_client import OAuthError
from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App
from joserfc.errors import ClaimError, JoseError

from portal.security.tokens import seal_for_a_while, unseal_recent
from portal.settings import Settings

log = logging.getLogger(__name__)

FLOW_MAX_AGE_SECONDS = 600
_PURPOSE = "oidc flow"
# The provider's answers are small; a slow provider must not hold a request for long.
_HTTP_TIMEOUT_SECONDS = 10.0
# Longest subject kept (staff_users.oidc_subject); OpenID Connect allows 255 ASCII characters.
SUBJECT_MAX = 255
# Why a sign-in failed, for the audit log: ClaimError.claim -> reason.
_CLAIM_REASONS = {"iss": "issuer", "aud": "audience", "azp": "audience", "nonce": "nonce"}


class SignOnFailed(Exception):
    """The sign-in did not complete. `reason` is for the audit log and the
    server's log; the person is told only that it did not work."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Flow:
    """One sign-in on its way through the provider, kept sealed in the browser."""

    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    invitation: str | None = None  # the invitation link's token, when linking

    def seal(self, secret_key: str) -> str:
        return seal_for_a_while(secret_key, json.dumps(asdict(self)), purpose=_PURPOSE)

    @classmethod
    def unseal(cls, secret_key: str, sealed: str | None) -> Flow | None:
        """The flow a cookie holds; None when there is none, or it is too old, altered
        or sealed with another key."""
        if not sealed:
            return None
        try:
            data = json.loads(
                unseal_recent(
                    secret_key, sealed, purpose=_PURPOSE, max_age_seconds=FLOW_MAX_AGE_SECONDS
                )
            )
            return cls(**data)
        except (ValueError, TypeError):
            return None


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in."""

    issuer: str
    subject: str
    email: str | None


class SingleSignOn:
    """The OpenID provider of `PORTAL_OIDC_*`, as Authlib's Starlette client.

    One per app: the provider's discovery document and keys are fetched at the
    first sign-in and kept (keys are fetched again when a token names a new one).
    """

    def __init__(self, settings: Settings) -> None:
        self.configured_issuer = settings.oidc_issuer.rstrip("/")
        self.client_id = settings.oidc_client_id
        self.provider_name = settings.oidc_provider_name
        oauth = OAuth()
        client = oauth.register(
            name="staff",
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret.get_secret_value() or None,
            server_metadata_url=f"{self.configured_issuer}/.well-known/openid-configuration",
            client_kwargs={
                "scope": settings.oidc_scopes,
                "code_challenge_method": "S256",
                "timeout": _HTTP_TIMEOUT_SECONDS,
            },
        )
        assert isinstance(client, StarletteOAuth2App)
        self.client = client

    async def _issuer(self) -> str:
        """The provider's issuer, as its discovery document states it, which must be
        the configured one (OpenID Connect Discovery §4.3)."""
        try:
            metadata: dict[str, Any] = await self.client.load_server_metadata()
        except (httpx2.HTTPError, ValueError) as exc:
            log.warning("single sign-on: the provider's discovery document failed: %r", exc)
            raise SignOnFailed("provider_unreachable") from exc
        issuer = metadata.get("issuer")
        if not isinstance(issuer, str) or issuer.rstrip("/") != self.configured_issuer:
            log.error(
                "single sign-on: the provider says its issuer is %r, not PORTAL_OIDC_ISSUER %r",
                issuer,
                self.configured_issuer,
            )
            raise SignOnFailed("issuer")
        return issuer

    async def start(self, *, redirect_uri: str, invitation: str | None = None) -> tuple[str, Flow]:
        """Where to send the browser (the provider's authorization endpoint, with a
        fresh state, nonce and PKCE challenge), and the flow to keep sealed."""
        await self._issuer()
        created = await self.client.create_authorization_url(redirect_uri)
        flow = Flow(
            state=created["state"],
            nonce=created["nonce"],
            code_verifier=created["code_verifier"],
            redirect_uri=redirect_uri,
            invitation=invitation,
        )
        return created["url"], flow

    async def finish(self, *, query: Mapping[str, str], flow: Flow) -> Identity:
        """Check the provider's answer (the callback's query) against the flow,
        exchange the code and check the ID token: who signed in, or SignOnFailed."""
        if query.get("error"):
            raise SignOnFailed("provider:" + query["error"][:40])
        state = query.get("state") or ""
        if not hmac.compare_digest(state.encode(), flow.state.encode()):
            raise SignOnFailed("state")
        issuer = await self._issuer()
        # RFC 9207: a provider that names itself in the answer must name itself.
        if "iss" in query and query["iss"] != issuer:
            raise SignOnFailed("issuer")
        code = query.get("code")
        if not code:
            raise SignOnFailed("code")
        try:
            token = await self.client.fetch_access_token(
                redirect_uri=flow.redirect_uri, code=code, code_verifier=flow.code_verifier
            )
        except (OAuthError, httpx2.HTTPError, ValueError) as exc:
            log.warning("single sign-on: the provider refused the code: %r", exc)
            raise SignOnFailed("token") from exc
        if "id_token" not in token:
            raise SignOnFailed("id_token")
        try:
            claims = await self.client.parse_id_token(
                token,
                nonce=flow.nonce,
                claims_options={
                    "iss": {"essential": True, "value": issuer},
                    "aud": {"essential": True, "value": self.client_id},
                    "sub": {"essential": True},
                    "nonce": {"essential": True},
                },
            )
        except ClaimError as exc:
            raise SignOnFailed(_CLAIM_REASONS.get(exc.claim, "id_token")) from exc
        except (JoseError, ValueError, httpx2.HTTPError) as exc:
            log.warning("single sign-on: the ID token could not be checked: %r", exc)
            raise SignOnFailed("id_token") from exc
        return self._identity(claims, issuer=issuer, nonce=flow.nonce)

    def _identity(self, claims: Mapping[str, Any], *, issuer: str, nonce: str) -> Identity:
        """The checks that matter most, once more in plain sight: whatever a
        library's defaults, a token for another issuer, another client or another
        sign-in is refused."""
        if claims.get("iss") != issuer:
            raise SignOnFailed("issuer")
        audience = claims.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        if self.client_id not in audiences:
            raise SignOnFailed("audience")
        if len(audiences) > 1 and claims.get("azp") != self.client_id:
            raise SignOnFailed("audience")
        if not hmac.compare_digest(str(claims.get("nonce", "")).encode(), nonce.encode()):
            raise SignOnFailed("nonce")
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject or len(subject) > SUBJECT_MAX:
            raise SignOnFailed("subject")
        email = claims.get("email")
        return Identity(issuer, subject, email if isinstance(email, str) else None)
