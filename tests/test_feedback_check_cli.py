"""`portal feedback check`: the feedback check for ATS pipelines."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from portal.cli import main

ROOT = Path(__file__).resolve().parent.parent

LINES = [
    "Thank you for the care you put into the take-home.",
    "You would fit in better with a younger team.",
    "",
    "Other candidates were more qualified.",
]


async def check(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    def run() -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "portal.cli", "feedback", "check", *args],
            input=stdin,
            env=os.environ.copy(),
            capture_output=True,
            timeout=120,
            check=False,
            cwd=ROOT,
        )

    return await asyncio.to_thread(run)


class InProcess:
    """The same command run in this process (a fresh interpreter takes seconds to start)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]):
        self.monkeypatch = monkeypatch
        self.capture = capsysbinary

    def __call__(self, *args: str, stdin: bytes = b"") -> tuple[int, str, str]:
        self.monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        try:
            code = main(["feedback", "check", *args])
        except SystemExit as exit:
            code = int(exit.code or 0)
        out, err = self.capture.readouterr()
        return code, out.decode(), err.decode()


@pytest.fixture
def portal_check(
    monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> InProcess:
    return InProcess(monkeypatch, capsysbinary)


async def test_json_has_one_element_per_line_with_exact_spans() -> None:
    result = await check("--json", stdin="\n".join(LINES).encode() + b"\n")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert len(report) == len(LINES)
    assert report[0] == [] and report[2] == []
    for findings in report:
        for finding in findings:
            assert set(finding) == {"rule", "severity", "start", "end", "message"}
            assert finding["message"]
    assert [(f["rule"], LINES[1][f["start"] : f["end"]]) for f in report[1]] == [
        ("risky.culture_fit", "fit in better"),
        ("risky.age", "younger team"),
    ]
    assert [f["severity"] for f in report[3]] == ["vague"]


def test_a_file_without_risky_findings_exits_zero(tmp_path: Path, portal_check: InProcess) -> None:
    path = tmp_path / "feedback.txt"
    path.write_text("Other candidates were more qualified.\r\nThank you for applying.", "utf-8")
    code, out, _ = portal_check(str(path))
    assert code == 0
    assert 'line 1, 0-36: vague "Other candidates were more qualified" (vague.generic)' in out
    assert "2 line(s) checked: 0 risky, 1 vague, 0 tone" in out


def test_the_readable_report_names_line_words_and_what_to_write(portal_check: InProcess) -> None:
    code, out, _ = portal_check(stdin="\n".join(LINES).encode())
    assert code == 1
    assert 'line 2, 31-43: risky "younger team" (risky.age)' in out
    assert "name the requirement and the evidence" in out
    assert "4 line(s) checked: 2 risky, 1 vague, 0 tone" in out


def test_clean_input_says_so(portal_check: InProcess) -> None:
    code, out, _ = portal_check("-", stdin=b"Thank you for applying.\n")
    assert (code, out.strip()) == (0, "1 line(s) checked: no findings")
    code, out, _ = portal_check("--json", stdin=b"")
    assert (code, json.loads(out)) == (0, [])


def test_spans_are_characters_in_non_ascii_text(portal_check: InProcess) -> None:
    line = "Zoë, your accent — très charmant — was hard to follow."
    _, out, _ = portal_check("--json", stdin=b"\xef\xbb\xbf" + line.encode())
    [[finding]] = json.loads(out)
    assert line[finding["start"] : finding["end"]] == "accent"


async def test_bad_input_is_a_usage_error(tmp_path: Path) -> None:
    missing = await check(str(tmp_path / "missing.txt"))
    assert missing.returncode == 2
    assert b"cannot read" in missing.stderr and b"missing.txt" in missing.stderr
    latin1 = await check(stdin="fine\ncaf\xe9\n".encode("latin-1"))
    assert latin1.returncode == 2
    assert b"line 2 is not UTF-8 text" in latin1.stderr
    unknown = await check("--nope")
    assert unknown.returncode == 2


def test_help_explains_the_output_and_the_exit_status(portal_check: InProcess) -> None:
    code, out, _ = portal_check("--help")
    assert code == 0
    assert "usage: portal feedback check [-h] [--json] [--requirement TEXT] [FILE]" in out
    flowing = " ".join(out.split())  # argparse wraps to the terminal's width
    assert '{"rule", "severity", "start", "end", "message"}' in flowing
    assert "0 when no line has a risky finding" in flowing
    assert "--requirement TEXT a requirement of the job" in flowing


def test_the_jobs_requirements_can_be_given(portal_check: InProcess) -> None:
    line = b"Your fluent German will help with our DACH customers.\n"
    code, out, _ = portal_check("--json", stdin=line)
    assert code == 1
    assert [f["rule"] for f in json.loads(out)[0]] == ["risky.nationality"]
    code, out, _ = portal_check(
        "--json", "--requirement", "Sales experience", "--requirement", "Fluent German", stdin=line
    )
    assert (code, json.loads(out)) == (0, [[]])
