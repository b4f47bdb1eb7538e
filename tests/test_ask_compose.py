"""How ``iliopsoas.ask`` writes: the direct answer first, at most five facts with sources and evidence
status, a disagreement noted only when the facts shown disagree, the full evidence behind "more"."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from iliopsoas.knowledge.ask import ask
from iliopsoas.knowledge.ask_render import lead_sentence

ASK_JS = Path(__file__).resolve().parent.parent / "src" / "iliopsoas" / "web" / "static" / "ask.js"


def fact(fid: str, obj: str | None, sources: list[str], status: str = "consistent", **qualifiers: Any) -> Any:
    """A stand-in for an atlas statement about the iliacus's nerve supply."""
    return SimpleNamespace(
        id=fid, subject="iliacus", predicate="innervation", object=obj, literal=None, qualifiers=qualifiers,
        sources=[SimpleNamespace(source=s) for s in sources], status=status, note=None,
    )


ENTITIES: dict[str, Any] = {
    "iliacus": SimpleNamespace(name="iliacus"), "femoral-nerve": SimpleNamespace(name="femoral nerve"),
    "obturator-nerve": SimpleNamespace(name="obturator nerve"),
}


def facts_shown(answer: str) -> int:
    """The direct answer plus its "- " lines."""
    return 1 + sum(1 for line in answer.splitlines() if line.startswith("- "))


def test_lead_sentence_names_each_object_once() -> None:
    facts = [fact("a", "femoral-nerve", ["S1"], levels=["L2"]), fact("c", "femoral-nerve", ["S3"], levels=["L3"])]
    assert lead_sentence(facts, ENTITIES, "iliacus") == "The iliacus is supplied by the femoral nerve."
    assert lead_sentence(facts, ENTITIES, "femoral-nerve") == "The femoral nerve supplies the iliacus."


def test_structural_answers_lead_with_one_direct_sentence() -> None:
    for q, start in [
        ("Where does the psoas major insert?", "The psoas major inserts on the lesser trochanter"),
        ("What does the glutes maximus do?", "The gluteus maximus acts mainly in hip extension"),
        ("What muscles oppose the iliopsoas?", "The iliopsoas is opposed by the gluteus maximus"),
        ("What is the origin and insertion of the iliacus?", "The iliacus arises from the iliac fossa"),
    ]:
        a = ask(q)
        assert a.short.startswith(start), (q, a.short)
        assert a.answer.startswith(a.short)


def test_at_most_five_supporting_facts_each_with_sources_and_status() -> None:
    for q in ("What nerve supplies the iliacus?", "How do I stretch the iliopsoas?", "Does everyone have a psoas minor?"):
        a = ask(q)
        assert facts_shown(a.answer) <= 6, q  # the direct answer and at most five supporting facts
        for line in a.answer.splitlines():
            if line.startswith("- "):
                assert line.endswith("]") and " \u00b7 " in line, line  # [sources \u00b7 status]


def test_care_advice_carries_its_evidence_grade() -> None:
    a = ask("How long should I hold a hip flexor stretch?")
    assert "evidence: moderate" in a.answer
    assert "evidence: very-low (weak)" in ask("How do I release the iliopsoas muscle?").answer


def test_a_disagreement_is_noted_only_when_the_facts_shown_disagree() -> None:
    assert "disagree" in ask("How common is the psoas minor?").answer
    assert "disagree" not in ask("Where does the psoas major insert?").answer


def test_more_holds_the_full_evidence() -> None:
    a = ask("What nerve supplies the iliacus?")
    assert a.more.startswith("All the evidence found") and len(a.more) > len(a.answer) / 2


def test_a_loosely_related_question_is_not_answered_with_confidence() -> None:
    a = ask("What is the pennation angle of the iliacus in children?")
    assert not a.answered or a.confidence < 0.5


def test_the_web_page_renders_the_answer_from_text_nodes_only() -> None:
    js = ASK_JS.read_text(encoding="utf-8")
    assert "innerHTML" not in js and "insertAdjacentHTML" not in js
    assert "answerBody(a.answer)" in js and 'el("ul"' in js and 'el("li"' in js
    assert 'el("details"' in js and "a.more" in js  # the full evidence behind a toggle
