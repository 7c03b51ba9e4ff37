"""Settings, read once from ``PORTAL_*`` environment variables.

Every setting is declared once below with its default and a sentence for the
documentation, whose settings reference is generated from them
(``settings_reference``). Secrets are ``SecretStr``: printing the settings never shows one, and
code that needs the value asks for it with ``get_secret_value()``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

DEV_SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105
ENV_PREFIX = "PORTAL_"


class SettingsError(ValueError):
    """A setting is missing or unsafe; the message says what to set."""


# The variables `Settings.from_env` reads. Keyword construction (`Settings(...)`, as
# the tests do) reads no environment at all, so a developer's shell cannot leak in.
_ENVIRON: ContextVar[Mapping[str, str] | None] = ContextVar("portal_settings_environ", default=None)


class _MappingEnvSource(EnvSettingsSource):
    """pydantic-settings' own environment source, over a given mapping."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {
            (key if self.case_sensitive else key.lower()): value
            for key, value in self._environ.items()
        }


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        case_sensitive=False,
        frozen=True,
        extra="forbid",
        str_strip_whitespace=True,
        validate_default=False,
    )

    env: str = Field(
        "development",
        description="`development` or `production`. Production refuses unsafe settings and "
        "logs JSON.",
    )
    database_url: str = Field(
        "sqlite:///var/portal.db",
        description="SQLAlchemy URL of the database (`sqlite:///path` or "
        "`postgresql://user@host/db`).",
    )
    secret_key: SecretStr = Field(
        SecretStr(DEV_SECRET_KEY),
        description="Secret for keyed hashes (IP addresses in the audit log) and for sealing "
        "the links of queued email (changing it fails email still queued). At least 32 "
        "characters in production.",
    )
    base_url: str = Field(
        "",
        description="Public address used in emailed links, e.g. `https://feedback.example.com`. "
        "Empty: `http://HOST:PORT` of the running server. Must be `https://` in production.",
    )
    smtp_url: str = Field(
        "",
        description="SMTP server for outgoing mail (`smtp://`, `smtp+starttls://`, `smtps://`). "
        "Empty: mail is written as `.eml` files to `PORTAL_MAIL_DIR`.",
    )
    smtp_username: str = Field(
        "", description="SMTP user name, when not given in `PORTAL_SMTP_URL`."
    )
    smtp_password: SecretStr = Field(
        SecretStr(""), description="SMTP password, when not given in `PORTAL_SMTP_URL`."
    )
    smtp_timeout_seconds: int = Field(
        30, description="How long to wait for the SMTP server before retrying."
    )
    mail_max_attempts: int = Field(
        8,
        description="Delivery attempts (with exponential backoff, about a day in all) before an "
        "email is marked failed.",
    )
    mail_dir: str = Field(
        "var/mail", description="Where the development mail backend writes messages."
    )
    webhook_timeout_seconds: float = Field(
        5.0,
        description="How long an outgoing webhook delivery waits for the receiver (to connect, "
        "and for its answer) before the attempt counts as failed and is retried later.",
    )
    language_model_timeout_seconds: float = Field(
        30.0,
        description="How long a language model (when an organization turned one on) may take "
        "to rephrase a draft or give its second opinion before Afterword gives up on it.",
    )
    webhook_allow_private_addresses: bool = Field(
        False,
        description="Let outgoing webhooks go to loopback, private and link-local addresses "
        "(a receiver on the same network). Off by default, so that a webhook endpoint cannot "
        "be aimed at the installation's own services.",
    )
    ats_recorded_answers_dir: str = Field(
        "",
        description="Read applicant tracking systems' API answers (scorecards, candidates) "
        "from recorded JSON files in this directory instead of asking the systems: for tests "
        "and demonstrations. Used for an organization that has set no API credentials for "
        "the system on the ATS page (credentials set: the live API is asked). Empty, and no "
        "credentials: nothing is fetched, and drafts are made from the webhook alone.",
    )
    ats_greenhouse_api_url: str = Field(
        "https://harvest.greenhouse.io",
        description="Greenhouse Harvest's address (the scorecards are read from "
        "`<this>/v3/scorecards`). Change it only to test against another server.",
    )
    ats_greenhouse_token_url: str = Field(
        "https://auth.greenhouse.io/token",
        description="Where Greenhouse Harvest v3 access tokens come from (OAuth client "
        "credentials). Change it only to test against another server.",
    )
    ats_lever_api_url: str = Field(
        "https://api.lever.co/v1",
        description="Lever's API address. Change it only to test against another server.",
    )
    ats_ashby_api_url: str = Field(
        "https://api.ashbyhq.com",
        description="Ashby's API address. Change it only to test against another server.",
    )
    mail_from: str = Field(
        "feedback@afterword.localhost",
        description="Sender address of outgoing mail for organizations that do not set their own.",
    )
    mail_from_name: str = Field(
        "",
        description="Sender name for organizations that do not set their own. Empty: the "
        "organization's display name.",
    )
    oidc_issuer: str = Field(
        "",
        description="Staff single sign-on: the OpenID Connect issuer URL, exactly as the "
        "provider's discovery document states it (its `/.well-known/openid-configuration` is "
        "read from there). Empty: no single sign-on, passwords only.",
    )
    oidc_client_id: str = Field(
        "", description="Staff single sign-on: the client id the provider gave the portal."
    )
    oidc_client_secret: SecretStr = Field(
        SecretStr(""), description="Staff single sign-on: the client secret."
    )
    oidc_provider_name: str = Field(
        "single sign-on",
        description="Staff single sign-on: the provider's name on the sign-in button "
        '("Sign in with …"), e.g. `Microsoft` or `Google`.',
    )
    oidc_scopes: str = Field(
        "openid email profile",
        description="Staff single sign-on: the scopes asked for, separated by spaces "
        "(`openid` is required).",
    )
    max_body_bytes: int = Field(
        1_048_576,
        description="Largest request body accepted, in bytes; larger requests get 413.",
    )
    rate_limit_storage: str = Field(
        "",
        description="Where rate-limit counters live. Empty: in the database on PostgreSQL "
        "(shared by every app process), in process memory on SQLite. `database`: the "
        "database (PostgreSQL only); `memory://`: each process counts alone (one process "
        "only); `redis://host:6379`: Redis (needs `pip install 'limits[async-redis]'`).",
    )
    session_idle_minutes: int = Field(
        30, description="A session ends after this long without a request."
    )
    session_absolute_hours: int = Field(
        12, description="A session ends this long after sign-in, whatever."
    )
    db_pool_size: int = Field(
        10,
        description="PostgreSQL connections in each process's pool; requests beyond it wait "
        "their turn. A few per database CPU core is best: more makes PostgreSQL slower under "
        "load.",
    )
    pdf_workers: int = Field(
        2,
        ge=1,
        description="Processes that render PDF summaries, in each app process (started with "
        "the app).",
    )
    pdf_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="A PDF render taking longer, counted from when it starts in a render "
        "process, is stopped and the candidate is asked to try again.",
    )
    pdf_queue_per_worker: int = Field(
        8,
        ge=0,
        description="PDF renders that may wait for a busy render process, per process; a "
        'download beyond that answers 503, "try again in a minute", with `Retry-After`.',
    )
    pdf_cache_mb: int = Field(
        32,
        ge=0,
        description="Memory each app process keeps rendered PDFs in (least recently used go "
        "first).",
    )
    db_acquire_timeout_seconds: float = Field(
        5.0,
        gt=0,
        allow_inf_nan=False,
        description="Longest wait for a PostgreSQL connection (from the pool, or a new one); "
        'past it the page answers 503, "try again shortly", instead of hanging.',
    )
    db_statement_timeout_seconds: float = Field(
        10.0,
        gt=0,
        allow_inf_nan=False,
        description="Longest wait for PostgreSQL to answer one statement of a request or job "
        "(migrations excepted); past it the page answers 503.",
    )
    pool_renewal_notice_days: int = Field(
        30,
        ge=1,
        le=365,
        description="How many days before a talent-pool member's consent expires they are "
        "emailed, once, to ask whether to renew (1 to 365).",
    )
    job_lease_seconds: int = Field(
        120,
        ge=5,
        le=3600,
        description="How long a worker holds the jobs it claimed while it runs them (renewed "
        "while it lives). A worker that dies (killed, its machine lost) leaves its jobs to the "
        "other workers when this runs out.",
    )
    run_worker: bool = Field(
        True, description="Whether `portal serve` and `portal demo` deliver mail in-process."
    )
    metrics_enabled: bool = Field(
        False,
        description="Serve Prometheus metrics at `/metrics`: request latency by route, "
        "background jobs waiting by kind. Off: `/metrics` is a 404.",
    )
    metrics_token: SecretStr = Field(
        SecretStr(""),
        description="When set, `/metrics` answers only requests with `Authorization: Bearer "
        "<token>` (others get 401). Empty: anyone who can reach it (keep it off the public "
        "proxy).",
    )
    log_format: str = Field(
        "", description="`text` or `json`. Empty: `json` in production, `text` otherwise."
    )

    def __init__(self, **values: Any) -> None:
        # One kind of error for every bad setting, naming the variable to fix.
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise SettingsError(_explain(exc)) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        environ = _ENVIRON.get()
        if environ is None:
            return (init_settings,)
        return (init_settings, _MappingEnvSource(settings_cls, environ))

    @field_validator("run_worker", mode="before")
    @classmethod
    def _empty_is_false(cls, value: Any) -> Any:
        # `PORTAL_RUN_WORKER=` has always meant "off".
        return False if isinstance(value, str) and not value.strip() else value

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def json_logs(self) -> bool:
        return (self.log_format or ("json" if self.production else "text")) == "json"

    @property
    def mail_path(self) -> Path:
        return Path(self.mail_dir)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings from `PORTAL_*` variables (of `os.environ` unless given), checked."""
        with _reading(os.environ if environ is None else environ):
            settings = cls()
        settings.check()
        return settings

    def with_base_url(self, base_url: str) -> Settings:
        return self.model_copy(update={"base_url": base_url.rstrip("/")})

    def check(self) -> None:
        """Refuse settings that are unsafe or nonsensical, saying what to set."""
        if self.env not in ("development", "production"):
            raise SettingsError("PORTAL_ENV must be 'development' or 'production'.")
        if self.smtp_url and not self.smtp_url.startswith(
            ("smtp://", "smtp+starttls://", "smtps://")
        ):
            raise SettingsError(
                "PORTAL_SMTP_URL must start with smtp://, smtp+starttls:// or smtps://."
            )
        if self.rate_limit_storage == "database" and not self.database_url.startswith("postgresql"):
            raise SettingsError(
                "PORTAL_RATE_LIMIT_STORAGE=database needs PostgreSQL; leave it empty to count "
                "in memory on SQLite."
            )
        if self.log_format not in ("", "text", "json"):
            raise SettingsError("PORTAL_LOG_FORMAT must be 'text' or 'json'.")
        self._check_single_sign_on()
        if not self.production:
            return
        secret_key = self.secret_key.get_secret_value()
        if secret_key == DEV_SECRET_KEY or len(secret_key) < 32:
            raise SettingsError(
                "PORTAL_ENV=production needs PORTAL_SECRET_KEY set to a random value of at "
                "least 32 characters, e.g. the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
            )
        if not self.https:
            raise SettingsError(
                "PORTAL_ENV=production needs PORTAL_BASE_URL set to the public https:// "
                "address of the portal, e.g. https://feedback.example.com."
            )

    @property
    def single_sign_on(self) -> bool:
        """Whether staff may sign in through the OpenID Connect provider."""
        return bool(self.oidc_issuer)

    def _check_single_sign_on(self) -> None:
        if not (
            self.oidc_issuer or self.oidc_client_id or self.oidc_client_secret.get_secret_value()
        ):
            return
        if not (self.oidc_issuer and self.oidc_client_id):
            raise SettingsError(
                "Single sign-on needs both PORTAL_OIDC_ISSUER and PORTAL_OIDC_CLIENT_ID "
                "(and usually PORTAL_OIDC_CLIENT_SECRET); set all of them, or none."
            )
        if not self.oidc_issuer.startswith(("https://", "http://")):
            raise SettingsError(
                "PORTAL_OIDC_ISSUER must be the provider's issuer URL, e.g. "
                "https://login.microsoftonline.com/<tenant id>/v2.0."
            )
        if "openid" not in self.oidc_scopes.split():
            raise SettingsError("PORTAL_OIDC_SCOPES must include 'openid'.")
        if self.production and not self.oidc_issuer.startswith("https://"):
            raise SettingsError("PORTAL_ENV=production needs an https:// PORTAL_OIDC_ISSUER.")


@contextmanager
def _reading(environ: Mapping[str, str]) -> Iterator[None]:
    token = _ENVIRON.set(environ)
    try:
        yield
    finally:
        _ENVIRON.reset(token)


_EXPECTED = {
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_parsing": "a number",
    "bool_parsing": "true or false",
    "greater_than": "a number above 0",
    "finite_number": "a finite number",
    "string_type": "text",
}


def _explain(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        name = ENV_PREFIX + str(error["loc"][0]).upper() if error["loc"] else "A setting"
        expected = _EXPECTED.get(error["type"])
        if error["type"] == "extra_forbidden":
            lines.append(f"{name} is not a setting.")
        elif expected:
            lines.append(f"{name} must be {expected}, not {error['input']!r}.")
        else:
            lines.append(f"{name}: {error['msg']}.")
    return " ".join(lines)


def documented_settings() -> list[tuple[str, Any, str]]:
    """(variable, default, description) for every setting, in declaration order."""
    rows = []
    for name, info in Settings.model_fields.items():
        default = info.default
        if isinstance(default, SecretStr):
            default = default.get_secret_value()
        rows.append((ENV_PREFIX + name.upper(), default, info.description or ""))
    return rows


def settings_reference() -> str:
    """The documentation's table of every setting: a Markdown table, in declaration order."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, default, description in documented_settings():
        if isinstance(default, bool):
            shown = f"`{str(default).lower()}`"
        elif default in ("", None):
            shown = "*(empty)*"
        else:
            shown = f"`{default}`"
        rows.append(f"| `{name}` | {shown} | {description} |")
    return "\n".join(rows) + "\n"
