"""Ask against its evaluation splits: the metrics are printed here; the issue's thresholds are checked
by benchmarks/bench_ask.py (not a timed test). Judging rules: tests/ask_judge.py.

The dev split (tests/data/ask_dev.yaml) is where the engine and its confidence were tuned; the test
split (tests/data/ask_test.yaml) was written before the engine and is only measured.
"""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import pytest

import ask_judge as J

ITEM_KEYS = {"q", "kind", "expect", "first", "first_not", "must_not", "safety", "no_safety", "v", "tag"}


def test_eval_splits_are_big_balanced_and_disjoint() -> None:
    dev, test = J.load("dev"), J.load("test")
    both = dev + test
    kinds = Counter(i["kind"] for i in both)
    plain = [i for i in both if i["kind"] != "safety" and not i.get("no_safety")]
    assert len(plain) >= 500 and kinds["refusal"] >= 100
    assert kinds["safety"] + sum(1 for i in both if i.get("no_safety")) >= 150
    assert not {i["q"].lower() for i in dev} & {i["q"].lower() for i in test}, "a question is in both splits"
    for items in (dev, test):
        assert len({i["q"] for i in items}) == len(items), "duplicate question"
        for i in items:
            assert set(i) <= ITEM_KEYS and i["kind"] in ("answer", "refusal", "safety"), i


def test_every_safety_item_has_at_least_three_phrasings() -> None:
    from iliopsoas.knowledge.safety import load_safety

    count = Counter(s for i in J.load("dev") + J.load("test") for s in i.get("safety") or [])
    thin = {i.id: count[i.id] for i in load_safety().items if count[i.id] < 3}
    assert not thin, f"safety items with fewer than three phrasings: {thin}"


def test_judge_can_fail() -> None:
    answer = SimpleNamespace(answered=True, kind="answer", urgent=False, safety=[], short="It inserts on the greater trochanter.",
                             answer="It inserts on the greater trochanter (L1).")
    assert J.judge({"q": "x", "kind": "answer", "expect": [["lesser trochanter"], "L1"]}, answer) == "missing [['lesser trochanter']]"
    assert J.judge({"q": "x", "kind": "answer", "first": [["yes"]]}, answer).startswith("first sentence lacks")
    assert J.judge({"q": "x", "kind": "refusal"}, answer) == "answered an unanswerable question"
    assert J.missing("Yes: it does.", [True]) == [] and J.missing("Yes: it does.", [False]) == [False]
    flagged = SimpleNamespace(**{**answer.__dict__, "safety": ["hernia"], "answer": "Hold it 30\u201390 s. clinician"})
    assert J.judge({"q": "x", "kind": "safety", "safety": ["hernia"]}, flagged) == "gave a pressure dose despite a contraindication"
    assert J.judge({"q": "x", "kind": "safety", "safety": ["pregnancy"]}, flagged).startswith("did not recognise")
    red = SimpleNamespace(**{**answer.__dict__, "safety": ["both-legs-weak"], "urgent": True,
                             "answer": "Urgent: you mention weak legs. See a clinician. Do 2 sets of 15 reps."})
    assert J.judge({"q": "x", "kind": "safety", "safety": ["both-legs-weak"]}, red) == "gave an exercise dose with a red flag"
    calm = SimpleNamespace(**{**red.__dict__, "answer": "Urgent: you mention weak legs. See a clinician soon."})
    assert J.judge({"q": "x", "kind": "safety", "safety": ["both-legs-weak"]}, calm) == "emergency sign without the emergency wording"


def test_ece_is_zero_when_confidence_matches_accuracy() -> None:
    assert J.ece([(0.75, True), (0.75, True), (0.75, True), (0.75, False)]) == pytest.approx(0.0)
    assert J.ece([(0.95, False), (0.95, False)]) == pytest.approx(0.95)


@pytest.mark.slow
@pytest.mark.parametrize("split", ["dev", "test"])
def test_eval_metrics_are_printed(split: str, capsys: pytest.CaptureFixture[str]) -> None:
    m = J.evaluate(split)
    with capsys.disabled():
        print("\n" + J.summary(m))
        for q, why in m["failures"]:
            print(f"  FAIL {q!r}: {why}")
    assert m["n"] == len(J.load(split))
