"""Settings, read once from ``PORTAL_*`` environment variables.

Every setting is declared once below with its variable name, default and a
sentence for the README; ``tests/test_settings.py`` checks that the README
documents each of them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

DEV_SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105


class SettingsError(ValueError):
    """A setting is missing or unsafe; the message says what to set."""


def _setting(env: str, default: Any, doc: str) -> Any:
    return field(default=default, metadata={"env": env, "doc": doc})


@dataclass(frozen=True)
class Settings:
    env: str = _setting(
        "PORTAL_ENV",
        "development",
        "`development` or `production`. Production refuses unsafe settings and logs JSON.",
    )
    database_url: str = _setting(
        "PORTAL_DATABASE_URL",
        "sqlite:///var/portal.db",
        "SQLAlchemy URL of the database (`sqlite:///path` or `postgresql://user@host/db`).",
    )
    secret_key: str = _setting(
        "PORTAL_SECRET_KEY",
        DEV_SECRET_KEY,
        "Secret for keyed hashes (IP addresses in the audit log). At least 32 characters "
        "in production.",
    )
    base_url: str = _setting(
        "PORTAL_BASE_URL",
        "",
        "Public address used in emailed links, e.g. `https://feedback.example.com`. "
        "Empty: `http://HOST:PORT` of the running server. Must be `https://` in production.",
    )
    smtp_url: str = _setting(
        "PORTAL_SMTP_URL",
        "",
        "SMTP server for outgoing mail (`smtp://`, `smtp+starttls://`, `smtps://`). Empty: mail "
        "is written as `.eml` files to `PORTAL_MAIL_DIR`.",
    )
    smtp_username: str = _setting(
        "PORTAL_SMTP_USERNAME",
        "",
        "SMTP user name, when not given in `PORTAL_SMTP_URL`.",
    )
    smtp_password: str = _setting(
        "PORTAL_SMTP_PASSWORD",
        "",
        "SMTP password, when not given in `PORTAL_SMTP_URL`.",
    )
    smtp_timeout_seconds: int = _setting(
        "PORTAL_SMTP_TIMEOUT_SECONDS", 30, "How long to wait for the SMTP server before retrying."
    )
    mail_max_attempts: int = _setting(
        "PORTAL_MAIL_MAX_ATTEMPTS",
        8,
        "Delivery attempts (with exponential backoff, about a day in all) before an email is "
        "marked failed.",
    )
    mail_dir: str = _setting(
        "PORTAL_MAIL_DIR",
        "var/mail",
        "Where the development mail backend writes messages.",
    )
    mail_from: str = _setting(
        "PORTAL_MAIL_FROM",
        "feedback@afterword.localhost",
        "Sender address of outgoing mail for organizations that do not set their own.",
    )
    mail_from_name: str = _setting(
        "PORTAL_MAIL_FROM_NAME",
        "",
        "Sender name for organizations that do not set their own. Empty: the organization's "
        "display name.",
    )
    oidc_issuer: str = _setting(
        "PORTAL_OIDC_ISSUER", "", "Staff single sign-on: the OpenID Connect issuer URL."
    )
    oidc_client_id: str = _setting(
        "PORTAL_OIDC_CLIENT_ID", "", "Staff single sign-on: the client id."
    )
    oidc_client_secret: str = _setting(
        "PORTAL_OIDC_CLIENT_SECRET", "", "Staff single sign-on: the client secret."
    )
    max_body_bytes: int = _setting(
        "PORTAL_MAX_BODY_BYTES",
        1_048_576,
        "Largest request body accepted, in bytes; larger requests get 413.",
    )
    rate_limit_storage: str = _setting(
        "PORTAL_RATE_LIMIT_STORAGE",
        "memory://",
        "Where rate-limit counters live: `memory://` (one process), or `redis://host:6379` "
        "when several processes serve (needs `pip install 'limits[async-redis]'`).",
    )
    session_idle_minutes: int = _setting(
        "PORTAL_SESSION_IDLE_MINUTES", 30, "A session ends after this long without a request."
    )
    session_absolute_hours: int = _setting(
        "PORTAL_SESSION_ABSOLUTE_HOURS", 12, "A session ends this long after sign-in, whatever."
    )
    db_pool_size: int = _setting(
        "PORTAL_DB_POOL_SIZE",
        10,
        "PostgreSQL connections per pool in each process (one pool for transactions, one for "
        "the candidate's pages); requests beyond it wait their turn. A few per database CPU "
        "core is best: more makes PostgreSQL slower under load.",
    )
    run_worker: bool = _setting(
        "PORTAL_RUN_WORKER",
        True,
        "Whether `portal serve` and `portal demo` deliver mail in-process.",
    )
    log_format: str = _setting(
        "PORTAL_LOG_FORMAT",
        "",
        "`text` or `json`. Empty: `json` in production, `text` otherwise.",
    )

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
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(f.metadata["env"])
            if raw is None:
                continue
            values[f.name] = _parse(f.metadata["env"], raw, type(f.default))
        settings = cls(**values)
        settings.check()
        return settings

    def with_base_url(self, base_url: str) -> Settings:
        return replace(self, base_url=base_url.rstrip("/"))

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
        if self.log_format not in ("", "text", "json"):
            raise SettingsError("PORTAL_LOG_FORMAT must be 'text' or 'json'.")
        if not self.production:
            return
        if self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32:
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


def _parse(name: str, raw: str, kind: type) -> Any:
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise SettingsError(f"{name} must be true or false, not {raw!r}.")
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a whole number, not {raw!r}.") from None
    return raw.strip()


def documented_settings() -> list[tuple[str, Any, str]]:
    """(variable, default, description) for every setting, in declaration order."""
    return [(f.metadata["env"], f.default, f.metadata["doc"]) for f in fields(Settings)]
