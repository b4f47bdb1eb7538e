"""Ask round 6: named concepts, counts, "can X cause Y", separate muscles, full doses, neighbours and
vessels asked from either side, structures the atlas does not hold."""

from __future__ import annotations

import pytest

from iliopsoas.knowledge.ask import ask, asker
from iliopsoas.knowledge.ask_count import counted
from iliopsoas.knowledge.ask_docs import dose_parts
from iliopsoas.knowledge.ask_effect import effect_asked
from iliopsoas.knowledge.ask_terms import concept_asked
from iliopsoas.knowledge.store import load_atlas


@pytest.fixture(scope="module")
def index():
    return asker(load_atlas()).index


def test_a_named_concept_opens_with_its_definition_then_the_disagreement():
    a = ask("whats the psoas paradox")
    assert a.kind == "answer"
    assert a.short.startswith("The psoas paradox is")
    assert "flex the lower and extend the upper lumbar" in a.short
    assert "disagree" not in a.short.lower() and "disagree" in a.answer.lower()


@pytest.mark.parametrize(("text", "term"), [("what is the psoas paradox", "psoas paradox"),
                                            ("can you explain the psoas paradox", "psoas paradox"),
                                            ("what does psoas paradox mean", "psoas paradox"),
                                            ("where does the psoas attach", None)])
def test_concept_asked(text, term):
    assert concept_asked(text) == term


@pytest.mark.parametrize(("question", "count"), [
    ("how many lumbar vertebrae does a person have?", "5 lumbar vertebrae"),
    ("how many vertebrae are in the lower back?", "5 vertebrae"),
    ("how many bones fuse to make the hip bone?", "3 bones"),
    ("how many bones fuse to form the tailbone?", "3\u20135 bones"),
    ("how many hamstrings are there?", "3 hamstrings"),
])
def test_counts_of_structures_lead_with_the_number(index, question, count):
    a = ask(question)
    assert a.kind == "answer" and a.short.startswith(count), a.short


@pytest.mark.parametrize("question", ["how many healthy women have a forward tilted pelvis when standing",
                                      "how many lumbar vertebrae does the psoas attach to?",
                                      "how many reps of the straight leg raise should I do?",
                                      "how many bones make up the pelvis?",  # "the two hip bones and the sacrum"
                                      "how many heads does the rectus femoris have?"])  # "a two-joint head"
def test_counts_leave_other_questions_alone(index, question):
    assert counted(index, index.analyse(question)) is None


def test_can_x_cause_y_is_yes_when_a_passage_speaks_of_y_with_x():
    a = ask("can problems with the iliopsoas give you pain in the groin?")
    assert a.kind == "answer" and a.short.startswith("Yes:") and "groin pain" in a.short
    assert effect_asked("can the iliopsoas cause groin pain") == ["groin", "pain"]
    assert ask("can the psoas cause back pain?").short.startswith("Not clearly")  # a disputed link
    assert ask("can a tight psoas cause elbow pain?").kind == "refusal"


@pytest.mark.parametrize(("question", "verdict"), [
    ("Are psoas and iliacus separate muscles?", "Yes:"),
    ("are the psoas major and the iliacus the same muscle?", "No:"),
    ("is the iliacus a different muscle from the psoas?", "Yes:"),
    ("is the iliopsoas made of two muscles?", "Yes:"),
    ("is the iliopsoas made of three muscles?", "No:"),
])
def test_plain_anatomy_yes_no_comes_from_the_atlas(question, verdict):
    a = ask(question)
    assert a.short.startswith(verdict), a.short
    assert "claim" not in a.short.lower()


def test_dose_text_renders_every_field_of_the_protocol():
    text = ", ".join(t for _, t in dose_parts({"sets": 2, "reps": 15, "hold_s": 1, "tempo_s": 3, "side": "each",
                                                "times_per_day": 1, "days_per_week": 7}, {}))
    for part in ("15 reps", "2 sets", "1 s hold", "3 s per rep", "each side", "1 time a day", "7 days a week"):
        assert part in text
    assert "3 s per rep" in ask("How many reps of the straight leg raise should I do?").answer


@pytest.mark.parametrize(("question", "first"), [
    ("What muscle lies in front of the psoas major?", "psoas minor"),
    ("the ureter crosses which muscle?", "psoas major"),
    ("which muscle does the sciatic nerve pass below?", "piriformis"),
    ("which organ lies on the upper part of the psoas?", "kidney"),
    ("which artery supplies both the psoas and the iliacus?", "iliolumbar artery"),
    ("the femoral artery supplies which hip flexors?", "iliacus"),
])
def test_neighbours_and_vessels_from_either_side(question, first):
    a = ask(question)
    assert a.kind == "answer" and first in a.short, a.short


@pytest.mark.parametrize("question", ["which muscle does the radial nerve run beside?",
                                      "what does the brachial artery supply?"])
def test_a_structure_the_atlas_does_not_hold_is_refused(question):
    a = ask(question)
    assert a.kind == "refusal" and "do not describe" in a.answer


@pytest.mark.parametrize(("question", "first"), [
    ("so what exactly is the psoas paradox", "The psoas paradox is"),
    ("psoas paradox?", "The psoas paradox is"),
    ("can the iliopsoas tendon cause a clicking sound in the hip?", "Yes:"),
    ("iliacus and psoas: same muscle?", "No:"),
    ("what tempo for straight leg raises?", "3 s per rep"),
])
def test_other_wordings_of_the_round_six_kinds(question, first):
    assert ask(question).short.startswith(first)


def test_an_effect_in_lay_words_nobody_records_is_still_refused():
    assert ask("can a tight psoas cause a clicking jaw?").kind == "refusal"
