"""Figures of the feedback check on a labelled corpus: recall per label, fine sentences flagged.

Shared by the tests (tests/test_feedback_check_corpus.py), the bench and the documentation's
figures. A corpus file is tab-separated with a header row; lines starting with "#" are
comments. Columns: `expected` (comma-separated severities, or "fine"), `category`, optionally
`source` and `requirements` (the job's requirement texts, ";"-separated, "-" for none), `text`.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from portal.feedback.check import SEVERITIES, check_text

HERE = Path(__file__).parent
DEVELOPMENT = (
    HERE / "feedback_check_corpus.tsv",
    HERE / "check_corpus" / "development.tsv",
    HERE / "check_corpus" / "development_families.tsv",
    HERE / "check_corpus" / "development_probes.tsv",
)
PROBES = HERE / "check_corpus" / "development_probes.tsv"
HELD_OUT = HERE / "check_corpus" / "held_out.tsv"
# Ordinary feedback text, none of it risky (see read_everyday): the set the learned risky signal
# is trained and calibrated on; a set written as a probe and read since (development); and a
# probe nobody has read per sentence, to measure false alarms on text the check never saw.
EVERYDAY_TRAIN = HERE / "check_corpus" / "everyday_train.tsv"
EVERYDAY_DEVELOPMENT = HERE / "check_corpus" / "everyday_development.tsv"
EVERYDAY_PROBE = HERE / "check_corpus" / "everyday_probe.tsv"


@dataclass(frozen=True)
class Labelled:
    expected: frozenset[str]
    category: str
    text: str
    requirements: tuple[str, ...] = ()
    source: str = ""


def _rows(path: Path) -> list[dict[str, str]]:
    """A corpus file's rows: tab-separated with a header row, "#" lines are comments."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(
            (line for line in handle if not line.startswith("#")),
            delimiter="\t",
            quoting=csv.QUOTE_NONE,
        )
        return list(reader)


def read_corpus(*paths: Path) -> list[Labelled]:
    rows: list[Labelled] = []
    for path in paths:
        for row in _rows(path):
            expected = row["expected"]
            requirements = row.get("requirements") or "-"
            rows.append(
                Labelled(
                    frozenset() if expected == "fine" else frozenset(expected.split(",")),
                    row["category"],
                    row["text"],
                    () if requirements == "-" else tuple(requirements.split(";")),
                    row.get("source") or "",
                )
            )
    return rows


def read_everyday(path: Path) -> list[str]:
    """The sentences of an everyday file: ordinary feedback and replies to candidates, written
    so that none refers to a protected characteristic or a proxy for one. Columns: `kind`
    (strength, growth, decision, next_step, thanks, reply, process), `job`, `text`. They are
    not labelled for vague or tone, so they count only as "not risky"."""
    return [row["text"] for row in _rows(path)]


def training_digest(rows: Sequence[Labelled], everyday: Sequence[str]) -> str:
    """A digest of what the learned risky signal is trained on: each labelled sentence with
    whether it is risky, then the everyday sentences. The artifact records it."""
    lines = [f"{'risky' in row.expected:d}\t{row.text}" for row in rows] + list(everyday)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Figures:
    sentences: int
    recall: dict[str, float]
    labelled: dict[str, int]
    fine: int
    fine_flagged: float
    # (expected, got, text) of every sentence the check got wrong, for the development report.
    misses: tuple[tuple[str, str, str], ...]

    def report(self, name: str, *, misses: bool) -> str:
        lines = [f"{name}: {self.sentences} sentences"]
        for severity in SEVERITIES:
            lines.append(
                f"  {severity:<6} recall {self.recall[severity]:.3f}"
                f"  ({self.labelled[severity]} labelled)"
            )
        lines.append(f"  fine   {self.fine} sentences, {self.fine_flagged:.3f} flagged")
        if misses and self.misses:
            lines.append("  misses:")
            lines += [f"    expected {e}, got {g}: {t}" for e, g, t in self.misses]
        return "\n".join(lines)


def figures(corpus: Sequence[Labelled]) -> Figures:
    flagged = [
        frozenset(f.severity for f in check_text(row.text, requirements=row.requirements))
        for row in corpus
    ]
    recall: dict[str, float] = {}
    labelled: dict[str, int] = {}
    for severity in SEVERITIES:
        wanted = [got for row, got in zip(corpus, flagged, strict=True) if severity in row.expected]
        labelled[severity] = len(wanted)
        recall[severity] = sum(severity in got for got in wanted) / len(wanted) if wanted else 1.0
    fine = [got for row, got in zip(corpus, flagged, strict=True) if not row.expected]
    misses = tuple(
        (",".join(sorted(row.expected)) or "fine", ",".join(sorted(got)) or "nothing", row.text)
        for row, got in zip(corpus, flagged, strict=True)
        if not row.expected <= got or (not row.expected and got)
    )
    return Figures(
        len(corpus),
        recall,
        labelled,
        len(fine),
        sum(bool(got) for got in fine) / len(fine) if fine else 0.0,
        misses,
    )
