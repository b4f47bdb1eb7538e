"""Ask's yes/no decider: the asked relation and object against what the atlas asserts."""

from __future__ import annotations

import pytest

from iliopsoas.knowledge.ask import ask, asker
from iliopsoas.knowledge.ask_predicate import fact_movement, read_predicate, relations_asked
from iliopsoas.knowledge.ask_yesno import decide
from iliopsoas.knowledge.store import load_atlas


@pytest.fixture(scope="module")
def index():
    return asker(load_atlas()).index


def _decision(index, question):
    q = index.analyse(question)
    return decide(index, q, index.search(q))


@pytest.mark.parametrize(
    ("question", "verdict", "needed"),
    [
        # a movement the structure does not make: the recorded actions instead
        ("Is the psoas major a hip extensor?", "No", "hip flexion"),
        ("are the hamstrings hip flexors", "No", "hip extension"),
        ("Is the rectus femoris a hip flexor?", "Yes", "hip flexion"),
        # a statement that names the object only to deny it
        ("Does psoas major attach to the spinous processes?", "No", "not the laminae or spinous processes"),
        ("does the psoas attach to the back of the vertebrae", "No", "spinous processes"),
        ("is the iliacus attached to my spine", "No", "no attachment to the vertebral column"),
        ("Does the psoas minor cross the hip joint?", "No", "does not cross the hip joint"),
        # the recorded object, or a part or whole of it
        ("Does the iliacus attach to the sacrum?", "Yes", "ala of sacrum"),
        ("does the iliacus attach to the L5 vertebra", "No", "vertebral column"),
        ("is the psoas connected to the femur?", "Yes", "lesser trochanter"),
        ("is the psoas minor supplied by L1?", "Yes", "L1"),
        # a relation recorded completely, with another object
        ("my anatomy book says the psoas inserts on the greater trochanter, is that right?", "No", "lesser trochanter"),
        ("Is the iliacus supplied by the obturator nerve?", "No", "femoral nerve"),
        ("is psoas major supplied by the femoral nerve", "No", "anterior rami"),
        # identity, position of a test, exclusive relations, variants
        ("Is it true that the sacrum is the tailbone?", "No", "coccyx"),
        ("is the thomas test done lying face down", "No", "back"),
        ("is the Ober test done lying on your side?", "Yes", "side"),
        ("Is the gluteus minimus an antagonist of the iliopsoas?", "No", "synergist"),
        ("is the psoas minor present in everybody", "No", "psoas minor"),
    ],
)
def test_yes_no_questions_get_the_verdict_the_atlas_supports(index, question, verdict, needed) -> None:
    d = _decision(index, question)
    assert d is not None, question
    assert d.verdict == verdict, (question, d.verdict, d.lead.sentence)
    text = " ".join([d.text or "", d.lead.sentence, d.contrast, *(x.sentence for x in d.support)]).lower()
    assert needed.lower() in text, (question, text)


def test_an_answer_leads_with_the_verdict_and_names_what_is_recorded_instead() -> None:
    a = ask("Is the psoas major a hip extensor?")
    assert a.short.startswith("No: ") and "hip flexion" in a.short and "not hip extension" in a.short
    a = ask("my notes say psoas major arises from the iliac crest, is that correct?")
    assert a.short.startswith("No: ") and "T12" in a.short and "not the iliac crest" in a.short


def test_structures_joined_by_and_are_each_decided() -> None:
    a = ask("Do the iliacus and psoas attach to the organs?")
    assert a.short.startswith("No: ")
    assert "iliacus" in a.answer and "psoas major" in a.answer


def test_a_question_it_cannot_decide_gets_no_verdict(index) -> None:
    assert _decision(index, "Is the psoas a nice muscle to study?") is None


def test_the_predicate_is_read_from_the_words() -> None:
    atlas = load_atlas()
    idx = asker(atlas).index
    a = read_predicate(idx, idx.analyse("Is the psoas minor a hip flexor?"))
    assert a.subject == "psoas-minor" and a.movement == ("hip", "flexion") and "iliopsoas" not in a.objects
    a = read_predicate(idx, idx.analyse("can tight hip flexors cause lower back pain?"))
    assert a.subject == "iliopsoas" and a.relations == frozenset({"associated_condition"}) and a.movement is None
    assert relations_asked("where does the psoas attach") >= {"origin", "insertion"}
    assert "action" not in relations_asked("what is the hip flexion moment arm of the psoas")
    assert fact_movement(atlas.statements["quadratus-lumborum.action.lumbar-lateral-flexion"]) == ("lumbar", "lateral flexion")
