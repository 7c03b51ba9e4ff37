"""Settings: read from the environment, documented, and safe in production."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from portal.settings import DEV_SECRET_KEY, Settings, SettingsError, documented_settings

ROOT = Path(__file__).resolve().parent.parent
STRONG_KEY = "k" * 48


def test_defaults_need_no_configuration() -> None:
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite:///var/portal.db"
    assert not settings.production


def test_values_come_from_portal_variables() -> None:
    settings = Settings.from_env(
        {
            "PORTAL_DATABASE_URL": "postgresql://u@db/portal",
            "PORTAL_MAX_BODY_BYTES": "2048",
            "PORTAL_RUN_WORKER": "false",
        }
    )
    assert settings.database_url == "postgresql://u@db/portal"
    assert settings.max_body_bytes == 2048
    assert settings.run_worker is False


def test_a_malformed_number_is_explained() -> None:
    with pytest.raises(SettingsError, match="PORTAL_MAX_BODY_BYTES must be a whole number"):
        Settings.from_env({"PORTAL_MAX_BODY_BYTES": "lots"})


def test_database_timeouts_are_seconds_above_zero() -> None:
    settings = Settings.from_env({"PORTAL_DB_STATEMENT_TIMEOUT_SECONDS": "2.5"})
    assert settings.db_statement_timeout_seconds == 2.5
    assert settings.db_acquire_timeout_seconds == 5.0
    for raw in ("soon", "0", "-1", "inf", "nan"):
        with pytest.raises(SettingsError, match="PORTAL_DB_ACQUIRE_TIMEOUT_SECONDS must be a"):
            Settings.from_env({"PORTAL_DB_ACQUIRE_TIMEOUT_SECONDS": raw})


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"PORTAL_BASE_URL": "https://f.example.com"}, "PORTAL_SECRET_KEY"),
        (
            {"PORTAL_BASE_URL": "https://f.example.com", "PORTAL_SECRET_KEY": DEV_SECRET_KEY},
            "PORTAL_SECRET_KEY",
        ),
        ({"PORTAL_BASE_URL": "https://f.example.com", "PORTAL_SECRET_KEY": "short"}, "32"),
        ({"PORTAL_SECRET_KEY": STRONG_KEY}, "https://"),
        ({"PORTAL_SECRET_KEY": STRONG_KEY, "PORTAL_BASE_URL": "http://f.example.com"}, "https://"),
    ],
)
def test_production_refuses_unsafe_settings(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({"PORTAL_ENV": "production", **environ})


def test_production_starts_with_safe_settings() -> None:
    settings = Settings.from_env(
        {
            "PORTAL_ENV": "production",
            "PORTAL_SECRET_KEY": STRONG_KEY,
            "PORTAL_BASE_URL": "https://feedback.example.com",
        }
    )
    assert settings.production and settings.https and settings.json_logs


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"PORTAL_OIDC_ISSUER": "https://login.example.com"}, "PORTAL_OIDC_CLIENT_ID"),
        ({"PORTAL_OIDC_CLIENT_ID": "afterword"}, "PORTAL_OIDC_ISSUER"),
        ({"PORTAL_OIDC_CLIENT_SECRET": "s"}, "set all of them, or none"),
        (
            {"PORTAL_OIDC_ISSUER": "login.example.com", "PORTAL_OIDC_CLIENT_ID": "afterword"},
            "issuer URL",
        ),
        (
            {
                "PORTAL_OIDC_ISSUER": "https://login.example.com",
                "PORTAL_OIDC_CLIENT_ID": "afterword",
                "PORTAL_OIDC_SCOPES": "email profile",
            },
            "'openid'",
        ),
    ],
)
def test_half_configured_single_sign_on_is_refused(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(environ)


def test_single_sign_on_is_on_with_an_issuer_and_a_client_id() -> None:
    assert not Settings.from_env({}).single_sign_on
    settings = Settings.from_env(
        {
            "PORTAL_OIDC_ISSUER": "https://login.microsoftonline.com/tenant-id/v2.0",
            "PORTAL_OIDC_CLIENT_ID": "afterword",
            "PORTAL_OIDC_CLIENT_SECRET": "the secret",
            "PORTAL_OIDC_PROVIDER_NAME": "Microsoft",
        }
    )
    assert settings.single_sign_on and settings.oidc_provider_name == "Microsoft"
    with pytest.raises(SettingsError, match="https:// PORTAL_OIDC_ISSUER"):
        Settings.from_env(
            {
                "PORTAL_ENV": "production",
                "PORTAL_SECRET_KEY": STRONG_KEY,
                "PORTAL_BASE_URL": "https://feedback.example.com",
                "PORTAL_OIDC_ISSUER": "http://login.example.com",
                "PORTAL_OIDC_CLIENT_ID": "afterword",
            }
        )


def test_the_command_refuses_to_start_unsafe_production() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "portal.cli", "serve", "--port", "0"],
        env={"PORTAL_ENV": "production", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert "PORTAL_SECRET_KEY" in result.stderr


def test_every_setting_is_documented_in_the_settings_reference() -> None:
    page = (ROOT / "docs" / "admin" / "settings.md").read_text()
    built = _docs_hook().on_page_markdown(page)
    for name, default, description in documented_settings():
        assert description, f"{name} has no description"
        row = next((line for line in built.splitlines() if line.startswith(f"| `{name}` |")), None)
        assert row is not None, f"{name} is not in the settings reference"
        assert description in row
        if default not in ("", None) and not isinstance(default, bool):
            assert f"`{default}`" in row, f"the settings reference does not give {name}'s default"


def _docs_hook() -> Any:
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_printing_the_settings_never_shows_a_secret() -> None:
    settings = Settings.from_env(
        {
            "PORTAL_SECRET_KEY": "the-secret-key-" + STRONG_KEY,
            "PORTAL_SMTP_PASSWORD": "the-smtp-password",
            "PORTAL_OIDC_ISSUER": "https://login.example.com",
            "PORTAL_OIDC_CLIENT_ID": "afterword",
            "PORTAL_OIDC_CLIENT_SECRET": "the-oidc-client-secret",
        }
    )
    for shown in (repr(settings), str(settings), f"{settings}", str(settings.model_dump())):
        assert "the-secret-key" not in shown
        assert "the-smtp-password" not in shown
        assert "the-oidc-client-secret" not in shown
    assert settings.smtp_password.get_secret_value() == "the-smtp-password"
    assert settings.oidc_client_secret.get_secret_value() == "the-oidc-client-secret"


def test_keyword_construction_reads_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_MAIL_DIR", "/from/the/environment")
    assert Settings(database_url="sqlite:///x.db").mail_dir == "var/mail"
    assert Settings.from_env().mail_dir == "/from/the/environment"


def test_an_unknown_or_malformed_keyword_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="PORTAL_MAIL_DIRECTORY is not a setting"):
        Settings(mail_directory="x")
    with pytest.raises(SettingsError, match="PORTAL_RUN_WORKER must be true or false"):
        Settings.from_env({"PORTAL_RUN_WORKER": "maybe"})
