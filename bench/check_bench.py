"""Feedback check benchmark: `check_text` on 10,000 sentences against tokenising them.

Run from the repository root::

    .venv/bin/python bench/check_bench.py                  # 10,000 sentences, 5 rounds
    .venv/bin/python bench/check_bench.py --sentences 50000 --rounds 3 --strict

What it does:

1. Loads the rule file, the lexicon, the VADER lexicon and simplemma's English
   data (timed on its own: a process pays it once, at the first check).
2. Builds N sentences by cycling through the development set
   (``tests/feedback_check_corpus.tsv`` and ``tests/check_corpus/development.tsv``:
   risky, vague, tone and fine sentences),
   each given a distinct final word, so lemmas of new words are looked up
   as they would be in real text.
3. Times one cold pass of ``portal.feedback.check.check_text`` over all of
   them (lemma cache empty), then ``--rounds`` warm passes, alternating with the
   baseline: a bare loop that only splits each sentence into lower-cased words
   with the check's own tokeniser (the least any word-level check must do).
4. Prints the cold pass, the median warm pass, the median baseline and the
   ratio check / baseline, and PASS/FAIL against the target: the cold pass over
   10,000 sentences in under 2 s. Results go to ``bench/results/check.json``.

Exit status: 0; 2 with ``--strict`` when the target is missed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal.feedback import check, check_rules, check_signals  # noqa: E402

# The development set (never the held-out one: the bench runs often and prints findings).
CORPORA = (
    ROOT / "tests" / "feedback_check_corpus.tsv",
    ROOT / "tests" / "check_corpus" / "development.tsv",
    ROOT / "tests" / "check_corpus" / "development_families.tsv",
)
TARGET_SECONDS = 2.0
TARGET_SENTENCES = 10_000


def corpus_sentences() -> list[str]:
    sentences: list[str] = []
    for corpus in CORPORA:
        lines = corpus.read_text(encoding="utf-8").splitlines()
        rows = [line.split("\t") for line in lines if line and not line.startswith("#")]
        sentences += [row[-1] for row in rows[1:]]  # the text is the last column
    return sentences


def build(count: int) -> list[str]:
    base = corpus_sentences()
    return [f"{base[i % len(base)]} Ref{i}." for i in range(count)]


Timing = tuple[float, float]  # wall seconds, CPU seconds of this process


def run_check(sentences: list[str]) -> tuple[Timing, int]:
    wall, cpu = time.perf_counter(), time.process_time()
    findings = sum(len(check.check_text(sentence)) for sentence in sentences)
    return (time.perf_counter() - wall, time.process_time() - cpu), findings


def run_baseline(sentences: list[str]) -> Timing:
    wall, cpu = time.perf_counter(), time.process_time()
    words = 0
    for sentence in sentences:
        words += len([match.group().lower() for match in check_rules.WORD.finditer(sentence)])
    return time.perf_counter() - wall, time.process_time() - cpu


def median(timings: list[Timing]) -> Timing:
    return statistics.median(t[0] for t in timings), statistics.median(t[1] for t in timings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentences", type=int, default=TARGET_SENTENCES)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--strict", action="store_true", help="exit 2 if the target is missed")
    args = parser.parse_args()

    started = time.perf_counter()
    check.load_rules()
    check_signals.load_signals()
    check.check_text("Warm the English lemma data.")
    load = time.perf_counter() - started
    check_rules.lemma.cache_clear()

    sentences = build(args.sentences)
    cold, findings = run_check(sentences)
    warm: list[Timing] = []
    baseline: list[Timing] = []
    for _ in range(args.rounds):
        baseline.append(run_baseline(sentences))
        warm.append(run_check(sentences)[0])
    warm_median = median(warm)
    base_median = median(baseline)
    ratio = warm_median[1] / base_median[1]
    target = TARGET_SECONDS * args.sentences / TARGET_SENTENCES
    passed = cold[0] < target

    def row(name: str, timing: Timing) -> str:
        return f"  {name:<36} {timing[0]:7.3f} s wall {timing[1]:7.3f} s CPU"

    print(f"feedback check on {args.sentences:,} sentences ({findings:,} findings)")
    print(f"  {'one-off load (rules + lemma data)':<36} {load:7.3f} s wall")
    print(row("check, cold lemma cache", cold))
    print(row(f"check, warm (median of {args.rounds})", warm_median))
    print(row("baseline: tokenise only (median)", base_median))
    print(f"  {'ratio check/baseline (warm, CPU)':<36} {ratio:7.1f}x")
    print(f"  target: cold pass < {target:.1f} s wall: {'PASS' if passed else 'FAIL'}")
    if cold[0] > 1.5 * cold[1]:
        print("  (wall time well above CPU time: the machine is busy; rerun when it is quiet)")

    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "check.json").write_text(
        json.dumps(
            {
                "sentences": args.sentences,
                "findings": findings,
                "load_s": load,
                "cold_s": cold,
                "warm_s": warm,
                "baseline_s": baseline,
                "ratio_cpu": ratio,
                "passed": passed,
            },
            indent=2,
        )
        + "\n"
    )
    return 2 if args.strict and not passed else 0


if __name__ == "__main__":
    raise SystemExit(main())
