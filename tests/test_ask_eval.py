"""The question answerer against our own evaluation set (tests/data/ask_eval.yaml).

Prints accuracy (answerable answered correctly, unanswerable refused) and requires >= 95% and
100%. An answerable item is correct when it is answered and every ``expect`` group has a term in
the answer text (and no ``must_not`` term appears); an unanswerable one when ``answered`` is
False and its ``expect`` terms (e.g. "clinician", "urgent") appear in the refusal.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from iliopsoas.knowledge.ask import ask

EVAL_FILE = Path(__file__).parent / "data" / "ask_eval.yaml"


def load_items() -> list[dict[str, Any]]:
    return yaml.safe_load(EVAL_FILE.read_text(encoding="utf-8"))


def fold(text: str) -> str:
    """Lower case, one kind of dash, single spaces: what term matching compares."""
    text = re.sub(r"[\u2010-\u2015\u2212]", "-", text.lower())
    return re.sub(r"\s+", " ", text)


def missing_terms(answer: str, expect: list[Any]) -> list[Any]:
    """The ``expect`` groups with no term in ``answer`` (a string is a group of one)."""
    text = fold(answer)
    out = []
    for group in expect:
        terms = group if isinstance(group, list) else [group]
        if not any(fold(str(t)) in text for t in terms):
            out.append(group)
    return out


def judge(item: dict[str, Any], result: Any) -> str | None:
    """None when ``result`` is right for ``item``, else a short reason."""
    expect = item.get("expect") or []
    if item["answerable"] and not result.answered:
        return "refused an answerable question"
    if not item["answerable"] and result.answered:
        return "answered an unanswerable question"
    miss = missing_terms(result.answer, expect)
    if miss:
        return f"missing {miss}"
    bad = [t for t in item.get("must_not") or [] if fold(t) in fold(result.answer)]
    if bad:
        return f"contains {bad}"
    return None


def evaluate(atlas: Any = None) -> dict[str, Any]:
    items = load_items()
    failures: list[tuple[str, str]] = []
    n_ans = n_ans_ok = n_unans = n_unans_ok = 0
    for item in items:
        result = ask(item["q"], atlas=atlas)
        reason = judge(item, result)
        if item["answerable"]:
            n_ans += 1
            n_ans_ok += reason is None
        else:
            n_unans += 1
            n_unans_ok += reason is None
        if reason is not None:
            failures.append((item["q"], reason))
    return {
        "answerable": n_ans,
        "answerable_correct": n_ans_ok,
        "unanswerable": n_unans,
        "unanswerable_refused": n_unans_ok,
        "failures": failures,
    }


def test_eval_set_is_big_and_balanced_enough() -> None:
    items = load_items()
    assert len(items) >= 150
    assert sum(not i["answerable"] for i in items) >= 30
    assert len({i["q"] for i in items}) == len(items), "duplicate questions in the eval set"
    for i in items:
        assert set(i) <= {"q", "answerable", "expect", "must_not"}, i


def test_judge_can_fail() -> None:
    item = {"q": "x", "answerable": True, "expect": [["lesser trochanter"], "L1"]}

    class R:
        answered = True
        answer = "It inserts on the greater trochanter (L1)."

    assert judge(item, R()) == "missing [['lesser trochanter']]"


@pytest.mark.filterwarnings("ignore")
def test_eval_accuracy(capsys: pytest.CaptureFixture[str]) -> None:
    r = evaluate()
    ans = r["answerable_correct"] / r["answerable"]
    ref = r["unanswerable_refused"] / r["unanswerable"]
    with capsys.disabled():
        print(
            f"\nask eval: answerable correct {r['answerable_correct']}/{r['answerable']} ({ans:.1%}), "
            f"unanswerable refused {r['unanswerable_refused']}/{r['unanswerable']} ({ref:.1%})"
        )
        for q, why in r["failures"]:
            print(f"  FAIL {q!r}: {why}")
    assert ans >= 0.95
    assert ref == 1.0
