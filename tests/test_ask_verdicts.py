"""Ask round 7 (kinds a blind evaluation found): a verdict first for yes/no questions answered from a disputed
claim, a normal variant or a study's result; a count or share asked needs a figure of it (else a refusal);
questions about heat/ice safety, test comparisons and sport performance are answered; a figure keeps the
level it was measured at. Wordings here are new (not the evaluation's)."""

from __future__ import annotations

import re

import pytest

from iliopsoas.knowledge.ask import ask, asker
from iliopsoas.knowledge.ask_evidence import asks_research
from iliopsoas.knowledge.ask_variant import variant_decision
from iliopsoas.knowledge.store import load_atlas


@pytest.fixture(scope="module")
def the_asker():
    return asker(load_atlas())


# -- (a) yes/no: the verdict first ----------------------------------------------------------------

@pytest.mark.parametrize(("question", "verdict"), [
    ("could a shortened psoas trigger shallow breathing?", ("No", "Not clearly")),  # a disputed claim, other words
    ("does a tight iliopsoas make your diaphragm weaker?", ("No", "Not clearly")),
    ("is it common to have no psoas minor?", ("Yes",)),  # a normal variant
    ("is lacking a psoas minor anything to be concerned about?", ("No",)),
    ("is the absence of the psoas minor abnormal?", ("No",)),
    ("is psoas minor present in everyone?", ("No",)),
    ("does pre-game hip flexor stretching reduce sprint performance?", ("No",)),  # a study's result decides
    ("does lying a few minutes in the Thomas position increase hip extension?", ("Yes",)),
])
def test_yes_no_questions_lead_with_a_verdict(question, verdict):
    a = ask(question)
    assert a.kind == "answer", a.answer
    assert a.short.startswith(tuple(f"{v}:" for v in verdict)), a.short


def test_a_variant_verdict_gives_how_often_it_is_found(the_asker):
    a = ask("is it common to have no psoas minor?")
    assert "normal variant" in a.short and re.search(r"\d+(\.\d+)?\u2013\d+(\.\d+)?%", a.short)
    assert "no known clinical consequence" in a.short
    q, _ = the_asker.read("where does the psoas minor insert?")
    assert variant_decision(the_asker.index, q) is None  # no presence or absence asked
    q, _ = the_asker.read("is it normal to have no iliacus?")
    assert variant_decision(the_asker.index, q) is None  # the iliacus is no recorded variant


def test_a_harmful_effect_is_not_confirmed_by_a_helpful_result():
    # the study found no effect or a positive one: "does it hurt" is No, never Yes
    assert ask("does a hip flexor stretch before a match ruin performance?").short.startswith("No:")


def test_an_effect_question_needs_a_result_about_the_thing_done():
    a = ask("does foam rolling the hip flexors improve range of motion")
    assert not a.short.startswith(("Yes:", "No:")) or "foam" in a.short.lower() or "roll" in a.short.lower()
    assert asks_research("does stretching hurt performance") and not asks_research("does the psoas flex the hip")


# -- (b) a count or a share asked needs a figure of it ------------------------------------------

@pytest.mark.parametrize("question", [
    "how many sarcomeres are in the iliacus?",
    "how many motor units does the psoas major have?",
    "what percentage of office workers have a short iliopsoas?",
    "what proportion of sprinters get a tight iliacus?",
])
def test_a_count_or_share_with_no_figure_of_it_is_refused(question):
    a = ask(question)
    assert not a.answered and a.kind == "refusal", a.answer


@pytest.mark.parametrize(("question", "figure"), [
    ("what percentage of people lack a psoas minor?", "%"),
    ("how many people have no psoas minor?", "%"),  # a share answers "how many people"
    ("how many muscles form the iliopsoas?", "psoas major"),  # the structures listed answer a count of them
    ("what percentage of people have an iliopsoas bursa?", "98%"),
])
def test_a_count_or_share_that_the_sources_hold_is_still_answered(question, figure):
    a = ask(question)
    assert a.kind == "answer" and figure in a.answer, a.answer


# -- (c) questions that were refused although the sources answer them ----------------------------

def test_safety_tips_for_heat_or_ice_are_information_choosing_one_is_a_decision():
    a = ask("any advice on using a heat pack safely on a stiff hip?")
    assert a.kind == "answer" and re.search(r"\b(cover|burn)", a.short.lower()), a.answer
    b = ask("should I put ice or heat on my sore hip flexor?")
    assert not b.answered and "clinician" in b.answer


@pytest.mark.parametrize("question", ["thomas vs ely test, what does each check?",
                                      "ely and ober tests - what do they look at?",
                                      "ober test or thomas test - which structure does each one assess?"])
def test_two_tests_asked_together_are_both_described(question):
    a = ask(question)
    names = re.findall(r"\b(Thomas|Ely|Ober) test\b", a.short)
    assert a.kind == "answer" and len(set(names)) == 2, a.short


def test_two_names_sharing_one_head_noun_are_both_read(the_asker):
    q, _ = the_asker.read("ely vs ober test")
    assert set(q.entities) >= {"ely-test", "ober-test"}
    q, _ = the_asker.read("the thomas and ober tests")
    assert set(q.entities) >= {"thomas-test", "ober-test"}


def test_what_contract_relax_stretching_is():
    a = ask("what is contract relax (PNF) stretching")
    assert a.kind == "answer" and "tensed" in a.short and "relaxed" in a.short, a.short


# -- (d) a figure keeps the level it was measured at -------------------------------------------

def test_a_figure_keeps_its_level():
    a = ask("what is the biggest cross-sectional area of the psoas major and at which spinal level is it found")
    assert "16.3" in a.short and "L4/L5" in a.short, a.short


# -- round 8: a nerve's name holding the word "nerves", tests and their targets, strength of evidence ----

@pytest.mark.parametrize(("question", "verdict"), [
    ("is the psoas major supplied by ventral rami of the lumbar nerves?", "yes"),  # "nerves" is part of the name
    ("is the psoas major linked to the diaphragm?", "yes"),  # through fascia (the medial arcuate ligament)
    ("does the Thomas test check for a short iliopsoas?", "yes"),
    ("is the Ely test a test of the iliopsoas?", "no"),  # it reads the rectus femoris
    ("is the Ober test used to find tight hip flexors?", "no"),  # TFL and iliotibial band
    ("is there strong evidence for psoas pressure release?", "no"),  # very low
    ("is the half-kneeling stretch effective for hip extension range?", "yes"),  # moderate
])
def test_round8_yes_no_verdicts(question: str, verdict: str) -> None:
    a = ask(question)
    assert a.answered and a.short.lower().startswith(verdict), a.short


def test_a_weakly_supported_denial_is_not_a_no_to_the_question_it_denies() -> None:
    # the article claims static stretches do not work well; the ledger finds that weakly supported
    a = ask("do static hip flexor stretches work at all?")
    assert a.answered and not a.short.lower().startswith("no"), a.short


def test_a_claim_that_says_too_broad_to_reach_is_a_denial() -> None:
    # "too broad and superficial to reach" says it does not reach: a consistent claim of it answers No
    a = ask("can foam rolling reach my psoas?")
    assert a.answered and a.short.lower().startswith("no"), a.short


@pytest.mark.parametrize(("question", "wanted"), [
    ("which test screens iliopsoas length?", "thomas"),
    ("what test assesses rectus femoris length?", "ely"),
    ("what is contract relax stretching?", "tensed"),  # a rare word of the question names what is asked
])
def test_which_test_and_rare_words_find_their_passage(question: str, wanted: str) -> None:
    a = ask(question)
    assert a.answered and wanted in a.answer.lower(), a.answer[:200]
