"""`portal feedback check` and `portal import`: feedback text and CSV files."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from tqdm import tqdm

from portal.cli.common import for_links, with_engine
from portal.db import unit_of_work, utcnow
from portal.feedback import check
from portal.imports import service as csv_import
from portal.settings import Settings


def cmd_feedback_check(args: argparse.Namespace, settings: Settings) -> int:
    """Check one text per line; exit 1 when any line has a risky finding."""
    name = "stdin" if args.file in (None, "-") else args.file
    try:
        stream = sys.stdin.buffer if name == "stdin" else open(args.file, "rb")  # noqa: SIM115
    except OSError as exc:
        print(f"portal: cannot read {name}: {exc.strerror}", file=sys.stderr)
        return 2
    results: list[list[check.Finding]] = []
    lines: list[str] = []
    with stream:
        for number, raw in enumerate(stream, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                print(f"portal: {name} line {number} is not UTF-8 text", file=sys.stderr)
                return 2
            line = line.removesuffix("\n").removesuffix("\r")
            results.append(check.check_text(line, requirements=args.requirement))
            if not args.json:
                lines.append(line)
    if args.json:
        payload = [[finding.as_dict() for finding in findings] for findings in results]
        sys.stdout.write(json.dumps(payload) + "\n")
    else:
        sys.stdout.write(_check_report(lines, results))
    risky = any(check.blocks_publishing(findings) for findings in results)
    return 1 if risky else 0


def _check_report(lines: list[str], results: list[list[check.Finding]]) -> str:
    out: list[str] = []
    counts = dict.fromkeys(check.SEVERITIES, 0)
    for number, (line, findings) in enumerate(zip(lines, results, strict=True), start=1):
        for finding in findings:
            counts[finding.severity] += 1
            words = finding.words(line)
            out.append(
                f"line {number}, {finding.start}-{finding.end}: {finding.severity} "
                f'"{words}" ({finding.rule})\n    {finding.message}'
            )
    found = ", ".join(f"{count} {severity}" for severity, count in counts.items())
    out.append(f"{len(lines)} line(s) checked: {found if any(counts.values()) else 'no findings'}")
    return "\n".join(out) + "\n"


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    """Import feedback from a CSV file; exit 1 when any row is refused."""
    try:
        with open(args.file, "rb") as stream:
            data = stream.read(csv_import.MAX_COMMAND_LINE_BYTES + 1)
    except OSError as exc:
        print(f"portal: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    if args.publish:
        settings = for_links(settings)
    bar = _ProgressBar(enabled=sys.stderr.isatty() and not args.quiet)

    async def run(sessions: Any) -> csv_import.ImportResult | str:
        async with unit_of_work(sessions) as db:
            organization = await csv_import.find_organization(db, slug=args.organization)
            if isinstance(organization, str):
                return organization
            return await csv_import.import_csv(
                db,
                data=data,
                organization_id=organization,
                publish=args.publish,
                dry_run=args.dry_run,
                staff_id=None,
                settings=settings,
                now=utcnow(),
                source={"source": "command line", "file": os.path.basename(args.file)},
                progress=bar.update,
                max_bytes=csv_import.MAX_COMMAND_LINE_BYTES,
            )

    try:
        result = with_engine(settings, run)
    except csv_import.FileProblem as exc:
        print(f"portal: {args.file}: {exc}", file=sys.stderr)
        return 1
    finally:
        bar.close()
    if isinstance(result, str):
        print(f"portal: {result}", file=sys.stderr)
        return 2
    sys.stdout.write(csv_import.text_report(result, dry_run=args.dry_run, publish=args.publish))
    return 0 if result.checked.ok else 1


class _ProgressBar:
    """A progress bar on stderr for long imports, when it is a terminal (tqdm)."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self.phase = ""
        self.bar: Any = None

    def update(self, phase: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if phase != self.phase:
            self.close()
            self.phase = phase
            self.bar = tqdm(total=total, desc=phase, unit=" rows" if phase != "Writing" else "")
        self.bar.total = max(total, done)
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
