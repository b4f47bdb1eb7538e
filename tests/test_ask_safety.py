"""The one safety file and how Ask recognises its items: lay words, typos, negations, techniques."""

from __future__ import annotations

import pytest

from iliopsoas.knowledge.ask import ask
from iliopsoas.knowledge.ask_safety import recognise
from iliopsoas.knowledge.ask_text import normalise
from iliopsoas.knowledge.safety import TIERS, load_safety, parse_safety

ITEMS = load_safety().items


def test_the_file_holds_every_tier_group_and_lay_words() -> None:
    assert {i.tier for i in ITEMS} == set(TIERS)
    assert all(i.group and i.question and i.action and i.lay for i in ITEMS)
    for i in ITEMS:
        if i.tier == "contraindication":
            assert i.contraindicates == ("pressure",) and i.why


@pytest.mark.parametrize("item", ITEMS, ids=lambda i: i.id)
def test_each_item_is_recognised_in_its_own_lay_words(item) -> None:
    """Every lay phrase (with a personal "I have ..." for contraindications) names its item."""
    for phrase in item.lay:
        words = phrase.replace("...", "").replace("*", "").replace("{50-120}", "60").replace("{10-19}", "15")
        words = words.replace("{3-52}", "6")
        found = recognise(normalise(f"I have {words} and my hip hurts")).ids
        assert item.id in found, (phrase, found)


@pytest.mark.parametrize(
    ("question", "wanted"),
    [
        ("im 20 weeks pregnent, can I massage my psoas", "pregnancy"),
        ("I've got a hernea, is a hip hook ok", "hernia"),
        ("incontinance since last week", "bladder-bowel-control"),
        ("my warferin dose is stable, can I press on my iliacus", "blood-thinners-or-bleeding"),
    ],
)
def test_typos_are_repaired_to_safety_words(question: str, wanted: str) -> None:
    assert wanted in recognise(normalise(question)).ids


@pytest.mark.parametrize(
    "question",
    [
        "I don't have a fever, how long do I stretch?",
        "No numbness or bladder problems, just tight hips",
        "I've never had a blood clot. Where does the psoas insert?",
        "I'm not pregnant and have no hernia",
        "my bladder and bowels are fine, what does the psoas do",
        "there's no pulse under the tool",
    ],
)
def test_a_denied_sign_is_not_recognised(question: str) -> None:
    assert recognise(normalise(question)).ids == []


def test_a_hedge_is_not_a_denial_and_a_later_clause_still_counts() -> None:
    assert recognise(normalise("I'm not sure if I'm pregnant")).ids == ["pregnancy"]
    assert recognise(normalise("No fever, but my leg went cold and pale")).ids == ["cold-pale-leg"]


def test_a_contraindication_needs_the_person_or_the_technique() -> None:
    assert recognise(normalise("Where is the aorta relative to an aneurysm?")).ids == []
    r = recognise(normalise("Is psoas release safe with an aortic aneurysm?"))
    assert r.ids == ["aneurysm-or-pulse"] and r.blocked_techniques() == {"pressure"}


@pytest.mark.parametrize("item", [i for i in ITEMS if i.tier == "contraindication"], ids=lambda i: i.id)
def test_every_contraindication_with_release_gets_why_and_no_dose(item) -> None:
    a = ask(f"{item.lay[0].replace('*', '').replace('...', '')}: can I do a psoas release with a ball?")
    assert a.kind == "safety" and item.id in a.safety and a.short.startswith("No:")
    assert item.why in a.answer and "clinician" in a.answer
    assert "30\u201390" not in a.answer and " s hold" not in a.answer


@pytest.mark.parametrize("item", [i for i in ITEMS if i.red_flag], ids=lambda i: i.id)
def test_every_red_flag_leads_with_the_urgent_line(item) -> None:
    words = item.lay[0].replace("*", "").replace("...", "").replace("{50-120}", "60").replace("{10-19}", "15")
    a = ask(f"I have {words}, which stretch should I do?")
    assert a.urgent and a.answer.startswith("Urgent:") and item.id in a.safety
    assert ("emergency" in a.answer) == (item.tier == "emergency")


def test_a_broken_safety_file_names_the_item_and_the_field() -> None:
    with pytest.raises(ValueError, match=r"item 0 \(x\): tier: .*tier must be one of"):
        parse_safety({"items": [{"id": "x", "tier": "sometimes", "group": "g", "topic": "t", "question": "q", "action": "a"}]})
    with pytest.raises(ValueError, match="contraindication needs 'contraindicates'"):
        parse_safety({"items": [{"id": "x", "tier": "contraindication", "group": "g", "topic": "t", "question": "q",
                                 "action": "a"}]})
    with pytest.raises(ValueError, match="unknown technique"):
        parse_safety({"techniques": {}, "items": [{"id": "x", "tier": "contraindication", "group": "g", "topic": "t",
                                                   "question": "q", "action": "a", "why": "w",
                                                   "contraindicates": ["pressure"]}]})


@pytest.mark.parametrize(
    ("question", "wanted"),
    [
        ("my right leg has been getting more and more numb over the last week", "worsening-nerve-signs"),
        ("my leg has gone numb and it's spreading to my foot", "worsening-nerve-signs"),
        ("the tingling in my thigh gets worse every day", "worsening-nerve-signs"),
        ("suddenly I can't feel anything when I wipe after the toilet", "saddle-numbness"),
        ("peeing has become really hard since my back pain started", "bladder-retention"),
    ],
)
def test_worsening_and_emergency_signs_in_new_words(question: str, wanted: str) -> None:
    a = ask(question)
    assert wanted in a.safety and a.urgent and a.answer.startswith("Urgent:"), (question, a.safety)


def test_an_emergency_sign_says_emergency_and_a_red_flag_never_gives_a_dose() -> None:
    a = ask("both my legs feel weak and wobbly since yesterday, how many straight leg raises should I do?")
    assert a.urgent and "emergency department" in a.answer
    assert not re_dose(a.answer)
    a = ask("history of breast cancer and new back pain, how long should I hold the hip flexor stretch?")
    assert a.urgent and not re_dose(a.answer)


def re_dose(text: str) -> bool:
    import re

    return re.search(r"\b\d+\s?(s|sec|seconds|reps?|sets?)\b|\bs hold\b", text) is not None


@pytest.mark.parametrize(
    "question",
    [
        "how is the Ely test performed",  # "performed" is not "deformed"
        "I haven't fallen and I can walk fine, where does the iliacus insert?",
        "there is no lump or pulse in my belly, just curious where the psoas is",
        "no bladder or bowel changes at all - what nerve supplies the psoas minor?",
    ],
)
def test_ordinary_words_and_denied_signs_raise_nothing(question: str) -> None:
    a = ask(question)
    assert not a.urgent and not a.safety, (question, a.safety)


def test_with_an_emergency_sign_only_the_emergency_action_is_given() -> None:
    a = ask("I fell on the ice and now I can't put weight on my hip, which stretch should I do?")
    assert a.urgent and "emergency department" in a.answer
    assert "24-48" not in a.answer and "within a day or two" not in a.answer
    assert {"cannot-bear-weight", "trauma-bone-risk"} <= set(a.safety)  # both recognised, the emergency one speaks
