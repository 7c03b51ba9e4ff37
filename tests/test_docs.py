"""The README's quick start is what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_quick_start_has_two_commands_demo_and_tests() -> None:
    commands = _quick_start_commands()
    assert len(commands) == 2
    assert commands[0].endswith("portal demo")
    assert commands[1].endswith("pytest")


def test_ci_runs_the_readmes_test_command() -> None:
    test_command = _quick_start_commands()[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_command in ci.splitlines()


def test_ci_builds_the_documentation_strictly() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "mkdocs build --strict" in ci


def test_every_documentation_page_is_in_the_navigation() -> None:
    mkdocs = (ROOT / "mkdocs.yml").read_text()
    pages = {str(path.relative_to(ROOT / "docs")) for path in (ROOT / "docs").rglob("*.md")}
    assert pages
    for page in pages:
        assert f": {page}\n" in mkdocs, f"docs/{page} is not in mkdocs.yml's nav"
