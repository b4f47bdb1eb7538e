"""Ask, round 12 (issue 12): the mechanisms added after the seventh blind set's dev half.

Each test asks a reworded question (not the blind set's own wording) so that it checks the
mechanism, not one string.
"""

from __future__ import annotations

import pytest

from iliopsoas.knowledge.ask import ask
from iliopsoas.knowledge.ask_index import _CHOICE
from iliopsoas.knowledge.ask_rank import named_articles
from iliopsoas.knowledge.ask_tables import stem


def test_the_stem_joins_irregular_and_doubled_forms_and_short_plurals() -> None:
    assert stem("felt") == stem("feel") and stem("lying") == stem("lie") and stem("sat") == stem("sit")
    assert stem("sitting") == stem("sit") and stem("running") == stem("run") and stem("stopped") == stem("stop")
    assert stem("hips") == stem("hip") and stem("legs") == stem("leg")
    assert stem("press") == stem("pressing") == "press" and stem("falling") == "fall" and stem("axis") == "axis"  # no false cuts


@pytest.mark.parametrize("question", ["what's the Hip Hook tool?", "What is the Hip Hook?", "what is a hip hook"])
def test_a_single_general_term_no_passage_defines_is_led_by_a_passage_using_it(question: str) -> None:
    a = ask(question)  # before: refused, then (without the lead) led by what "hip" is called
    assert a.answered and "hip hook" in a.short.lower(), a.short


def test_a_term_no_passage_defines_is_supported_only_by_passages_that_use_it() -> None:
    a = ask("What is the Hip Hook?")  # not the hip's other names, the pectineus or the iliacus's actions
    facts = [line for line in a.answer.splitlines() if line.startswith("- ")]
    assert facts and all("hip hook" in line.lower() for line in facts), facts


def test_a_general_comparison_nothing_defines_is_still_refused() -> None:
    assert not ask("what is the difference between a tendon and a ligament in general?").answered


def test_a_choice_between_two_answers_is_not_answered_yes_or_no() -> None:
    assert _CHOICE.search("Do I have one psoas, or one on each side?")
    assert not _CHOICE.search("Is the psoas a hip flexor, or not?")
    a = ask("Do I have one psoas, or one on each side?")
    assert a.answered and "one on each side" in a.short and not a.short.lower().startswith(("yes", "no"))


@pytest.mark.parametrize("question", [
    "What is the word for psoas in Japanese?",
    "How do you say iliacus in Spanish?",
    "What is the ICD-10 code for iliopsoas bursitis?",
    "which running shoes are best for tight hip flexors",
])
def test_other_languages_coding_systems_and_products_are_refused(question: str) -> None:
    a = ask(question)
    assert not a.answered and a.kind == "refusal"


def test_a_population_in_a_language_name_keeps_its_specific_refusal() -> None:
    a = ask("How common is the psoas minor in Japanese people?")
    assert not a.answered and "Japanese" in a.answer


def test_a_why_clause_after_its_topic_asks_for_the_reason() -> None:
    a = ask("during the Thomas test why is the other knee hugged to the chest")
    assert "flat" in a.answer[:600].lower() or "low back" in a.answer[:600].lower(), a.answer[:600]


def test_one_side_only_asks_about_side_bending() -> None:
    a = ask("What happens when the iliacus and psoas contract on just one side?")
    assert "lateral flexion" in a.answer[:600].lower() or "side" in a.short.lower(), a.answer[:600]


def test_a_short_aside_before_is_that_ok_keeps_what_was_told() -> None:
    a = ask("I feel the kneeling stretch in my knee, not my hip. Is that OK?")
    assert a.answered and "knee" in a.short.lower(), a.short


def test_a_named_condition_said_by_a_passage_leads() -> None:
    a = ask("what exercises help when a pinched nerve weakens the hip flexors?")
    assert "press-up" in a.answer[:600].lower(), a.answer[:600]


def test_articles_named_by_title() -> None:
    assert named_articles("according to the ultimate guide, what is best?") == {"003"}
    assert named_articles("the verywell article says") == {"002"} and named_articles("what is the psoas") == set()


@pytest.mark.parametrize(("question", "lead"), [
    ("Does everyone have two iliopsoas muscles, or just one?", "one on each side"),
    ("are there two psoas muscles?", "yes"),
    ("do we have a left and a right psoas?", "yes"),
    ("is there only one iliacus?", "no"),
    ("is the iliacus on both sides?", "yes"),
])
def test_how_many_of_a_structure_a_person_has_is_answered_by_its_laterality(question: str, lead: str) -> None:
    a = ask(question)
    assert a.answered and "paired" in a.short and (lead in a.short.lower() if " " in lead
                                                   else a.short.lower().startswith(lead)), a.short
