"""Where the templates and static files live (shared by web pages and email)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"
# Where the app serves STATIC_DIR (the `static` Mount); pages link to its files under it.
STATIC_PATH = "/static"
