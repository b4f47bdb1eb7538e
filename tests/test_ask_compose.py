"""How ``iliopsoas.ask`` writes its answers: direct answer first, agreement stated once, real
disagreements side by side with their sources and status, loose claim matches owned up to."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from iliopsoas.knowledge.ask import ask
from iliopsoas.knowledge.ask_render import group_facts, group_sentence, lead_sentence

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


def blocks(answer: str) -> list[str]:
    return answer.split("\n\n")


def test_same_object_with_different_levels_is_one_group_stating_agreement_once() -> None:
    facts = [
        fact("a", "femoral-nerve", ["S1", "S2"], "disputed", levels=["L2", "L3"]),
        fact("b", "obturator-nerve", ["S3"]),
        fact("c", "femoral-nerve", ["S3"], "disputed", levels=["L2", "L3", "L4"]),
    ]
    groups = group_facts(facts)
    assert [[f.id for f in g] for g in groups] == [["a", "c"], ["b"]]
    text = group_sentence(groups[0], ENTITIES)
    assert text.count("femoral nerve") == 1
    assert "all three sources agree on that (S1, S2, S3)" in text
    assert "They differ on the spinal levels: L2\u2013L3 (S1, S2) or L2\u2013L4 (S3)" in text
    assert "both sides as disputed" in text


def test_only_the_flagged_side_carries_its_status() -> None:
    facts = [fact("a", "femoral-nerve", ["S1"], levels=["L2", "L3"]), fact("b", "femoral-nerve", ["S2"], "disputed", levels=["L2"])]
    text = group_sentence(facts, ENTITIES)
    assert "L2\u2013L3 (S1) or L2 (S2; disputed or weakly supported)" in text


def test_details_that_vary_without_a_flag_are_not_called_a_disagreement() -> None:
    facts = [fact("a", "femoral-nerve", ["S1"], part="long head"), fact("b", "femoral-nerve", ["S2"], part="short head")]
    text = group_sentence(facts, ENTITIES)
    assert "differ" not in text and "disagree" not in text
    assert "The part vary: part: long head (S1) and part: short head (S2)" in text


def test_lead_sentence_names_each_object_once() -> None:
    facts = [fact("a", "femoral-nerve", ["S1"], levels=["L2"]), fact("c", "femoral-nerve", ["S3"], levels=["L3"])]
    assert lead_sentence(facts, ENTITIES, "iliacus") == "The iliacus is supplied by the femoral nerve."
    assert lead_sentence(facts, ENTITIES, "femoral-nerve") == "The femoral nerve supplies the iliacus."


def test_iliacus_nerve_answer_reads_like_a_clinician_wrote_it() -> None:
    a = ask("What nerve supplies the iliacus?")
    first, *rest = blocks(a.answer)
    assert first == "The iliacus is supplied by the femoral nerve."
    body = "\n".join(rest)
    assert "All four sources agree on that" in body
    assert "They differ on the spinal levels: L2\u2013L3 (RP-IL, AA-IL, WP-IL) or L2\u2013L4 (TMA-IL)" in body
    assert "Note:" not in a.answer and "flagged" not in a.answer
    assert {s.status for s in a.statements} == {"disputed"}  # the status is still visible in the data


def test_structural_answers_lead_with_one_direct_sentence() -> None:
    for q, start in [
        ("Where does the psoas major insert?", "The psoas major inserts on the lesser trochanter"),
        ("What does the glutes maximus do?", "The gluteus maximus acts mainly in hip extension"),
        ("What muscles oppose the iliopsoas?", "The iliopsoas is opposed by the gluteus maximus"),
        ("What vertebrae does the psoas minor come off?", "The psoas minor arises from"),
    ]:
        first = blocks(ask(q).answer)[0]
        assert first.startswith(start), (q, first)
        assert "\n" not in first and first.count(". ") == 0, (q, first)


def test_a_typo_inside_a_lay_word_reaches_the_specific_muscle() -> None:
    a = ask("What does the glutes maximus do?")
    assert {s.subject for s in a.statements} == {"gluteus-maximus"}
    assert "gluteal" not in a.answer


def test_a_loosely_related_claim_is_named_and_not_ruled_on_with_confidence() -> None:
    a = ask("Is the psoas a core muscle?")
    first = blocks(a.answer)[0]
    assert first.startswith("Nothing in my sources answers this directly")
    assert "C001-42" in first and "loosely related" in first
    assert a.confidence <= 0.5


def test_a_claim_about_a_role_does_not_answer_what_the_muscle_is() -> None:
    a = ask("Is it true that the psoas is a hip extensor?")
    first = blocks(a.answer)[0]
    assert "C000-48" in first and "loosely related" in first
    assert "What the atlas does record is that the psoas major acts mainly in hip flexion" in first
    assert a.confidence <= 0.5


def test_a_claim_that_does_match_keeps_its_verdict_and_confidence() -> None:
    a = ask("Is it true that the sacrum is the tailbone?")
    first = blocks(a.answer)[0]
    assert first.startswith("The closest article claim") and "is contradicted by the reference sources" in first
    assert a.answer.count("C000-05") >= 1 and "loosely" not in a.answer
    assert a.confidence >= 0.8
    tfl = ask("is the tensor fasciae latae a hip flexor?")
    assert "loosely" not in tfl.answer and tfl.confidence >= 0.8


def test_two_names_of_one_structure_are_recognised_as_the_same() -> None:
    a = ask("Is it true that the coccyx is the tailbone?")
    assert a.answered and a.answer.startswith("Yes:")
    assert any(s.id == "coccyx.lay-term.tailbone" for s in a.statements)


def test_flag_count_leaves_out_what_a_group_already_explains() -> None:
    assert "Flagged above" not in ask("What nerve supplies the iliacus?").answer
    a = ask("What muscles oppose the iliopsoas?")
    assert "Flagged above: 1 contradicted by the reference sources and 1 disputed or weakly supported." in a.answer


def test_the_web_page_renders_the_answer_from_text_nodes_only() -> None:
    js = ASK_JS.read_text(encoding="utf-8")
    assert "innerHTML" not in js and "insertAdjacentHTML" not in js
    assert "answerBody(a.answer)" in js and 'el("ul"' in js and 'el("li"' in js
