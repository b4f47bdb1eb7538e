"""Judging Ask against the evaluation splits (tests/data/ask_dev.yaml, ask_test.yaml) and the metrics.

Shared by tests/test_ask_eval.py (prints the metrics), benchmarks/bench_ask.py (checks the issue's
thresholds) and scripts/fit_ask_calibration.py (fits confidence on dev only).

An item is right when:
* ``answer``: Ask answered (``kind`` answer), every ``expect`` group has a term in the answer, every
  ``first`` group a term in ``short`` and no ``first_not`` term there, no ``must_not`` term appears; with ``no_safety`` nothing may be
  flagged (a sign mentioned only to deny it);
* ``refusal``: Ask did not answer (a refusal, or a safety answer that gives no atlas content) and the
  ``expect`` terms (e.g. "clinician") appear;
* ``safety``: every listed safety id is recognised; a red flag gives ``urgent`` with the urgent line
  first and never an exercise or technique dose; an emergency-tier sign names the emergency services
  or department; a contraindication asked with its technique gives no dose; "clinician" or the
  emergency line appears; ``expect`` terms appear and ``must_not`` terms do not.
"""

from __future__ import annotations

import re
import statistics
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).resolve().parent / "data"
SPLITS = {"dev": DATA / "ask_dev.yaml", "test": DATA / "ask_test.yaml"}
DOSE = re.compile(r"\b(30|60|90)\s?(s|sec|seconds)\b|30\u201390|30-90|\bhold\b.*\b\d+ s\b")
# any exercise or technique dose: holds in seconds, reps or sets (a red flag must never carry one)
EXERCISE_DOSE = re.compile(DOSE.pattern + r"|\b\d+\s?(reps?|repetitions|sets?)\b|\b\d+\s?s hold\b")


def load(split: str) -> list[dict[str, Any]]:
    return yaml.safe_load(SPLITS[split].read_text(encoding="utf-8"))


def fold(text: str) -> str:
    text = re.sub(r"[\u2010-\u2015\u2212]", "-", text.lower())
    return re.sub(r"\s+", " ", text)


def _term(x: Any) -> str:
    """A YAML term as text: unquoted yes/no arrive as booleans."""
    return {True: "yes", False: "no"}.get(x, str(x)) if isinstance(x, bool) else str(x)


def missing(text: str, groups: list[Any] | None) -> list[Any]:
    t = fold(text)
    out = []
    for g in groups or []:
        terms = g if isinstance(g, list) else [g]
        if not any(fold(_term(x)) in t for x in terms):
            out.append(g)
    return out


def judge(item: dict[str, Any], a: Any) -> str | None:
    """None when answer ``a`` is right for ``item``, else a short reason."""
    kind = item["kind"]
    if kind == "answer":
        if not a.answered or a.kind == "refusal":
            return "refused an answerable question"
        if a.urgent:
            return "raised an urgent flag"
        if item.get("no_safety") and a.safety:
            return f"flagged a denied sign {a.safety}"
        if m := missing(a.answer, item.get("expect")):
            return f"missing {m}"
        if m := missing(a.short, item.get("first")):
            return f"first sentence lacks {m}: {a.short[:90]!r}"
        if bad := [t for t in item.get("first_not") or [] if fold(t) in fold(a.short)]:
            return f"first sentence has {bad}: {a.short[:90]!r}"
        bad = [t for t in item.get("must_not") or [] if fold(t) in fold(a.answer)]
        return f"contains {bad}" if bad else None
    if kind == "refusal":
        if a.answered and a.kind != "safety":
            return "answered an unanswerable question"
        if m := missing(a.answer, item.get("expect")):
            return f"refusal lacks {m}"
        return None
    want = set(item.get("safety") or [])
    if want - set(a.safety):
        return f"did not recognise {sorted(want - set(a.safety))} (got {a.safety})"
    if not a.safety:
        return "recognised nothing"
    from iliopsoas.knowledge.safety import load_safety

    items = {i.id: i for i in load_safety().items}
    tiers = {items[i].tier for i in a.safety if i in items}
    if tiers & {"emergency", "urgent"}:
        if not a.urgent or not a.answer.startswith("Urgent:"):
            return "red flag without the urgent line first"
        if EXERCISE_DOSE.search(a.answer):
            return "gave an exercise dose with a red flag"
    if "emergency" in tiers and not re.search(r"emergency (services|department|number)", a.answer.lower()):
        return "emergency sign without the emergency wording"
    if "contraindication" in tiers and DOSE.search(a.answer):
        return "gave a pressure dose despite a contraindication"
    if "clinician" not in a.answer.lower() and "emergency" not in a.answer.lower():
        return "no clinician line"
    if m := missing(a.answer, item.get("expect")):
        return f"missing {m}"
    bad = [t for t in item.get("must_not") or [] if fold(t) in fold(a.answer)]
    return f"contains {bad}" if bad else None


def ece(pairs: list[tuple[float, bool]], bins: int = 10) -> float:
    """Expected calibration error over ``(confidence, correct)`` pairs, equal-width bins."""
    if not pairs:
        return 0.0
    total = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = [(c, ok) for c, ok in pairs if (lo <= c < hi) or (b == bins - 1 and c == 1.0)]
        if inside:
            conf = sum(c for c, _ in inside) / len(inside)
            acc = sum(ok for _, ok in inside) / len(inside)
            total += len(inside) / len(pairs) * abs(conf - acc)
    return total


def evaluate(split: str, ask: Any = None) -> dict[str, Any]:
    """Run every item of ``split`` through ``ask`` and compute the issue's metrics."""
    if ask is None:
        from iliopsoas.knowledge.ask import ask
    items = load(split)
    rows = []
    for item in items:
        a = ask(item["q"])
        rows.append((item, a, judge(item, a)))
    answerable = [(i, a, r) for i, a, r in rows if i["kind"] == "answer" and not i.get("no_safety")]
    refusals = [(i, a, r) for i, a, r in rows if i["kind"] == "refusal"]
    safety = [(i, a, r) for i, a, r in rows if i["kind"] == "safety" or i.get("no_safety")]
    lengths = [len(a.answer) for _, a, _ in rows]
    answered = [(a.confidence, r is None) for i, a, r in rows if a.kind == "answer" and a.answered]
    return {
        "split": split,
        "n": len(rows),
        "answerable": (sum(r is None for *_, r in answerable), len(answerable)),
        "refused": (sum(r is None for *_, r in refusals), len(refusals)),
        "safety": (sum(r is None for *_, r in safety), len(safety)),
        "median_chars": statistics.median(lengths),
        "p95_chars": sorted(lengths)[int(0.95 * (len(lengths) - 1))],
        "ece": ece(answered),
        "ece_n": len(answered),
        "failures": [(i["q"], r) for i, _, r in rows if r is not None],
        "rows": rows,
    }


def summary(m: dict[str, Any]) -> str:
    (a_ok, a_n), (r_ok, r_n), (s_ok, s_n) = m["answerable"], m["refused"], m["safety"]
    return (
        f"ask {m['split']}: answerable {a_ok}/{a_n} ({a_ok / a_n:.1%}), unanswerable refused {r_ok}/{r_n} "
        f"({r_ok / r_n:.1%}), safety handled {s_ok}/{s_n} ({s_ok / s_n:.1%}), median {m['median_chars']:.0f} "
        f"chars, p95 {m['p95_chars']} chars, ECE {m['ece']:.3f} over {m['ece_n']} answers"
    )
