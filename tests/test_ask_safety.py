"""The one safety file and how Ask recognises its items: lay words, typos, negations, techniques."""

from __future__ import annotations

import csv
from pathlib import Path

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


# -- round 3: concepts, numbers, colours, negation scope, tiers together --------------------------------


@pytest.mark.parametrize(
    ("question", "wanted"),
    [
        ("i cant pee properly since yesterday and my back is killing me", "bladder-retention"),
        ("only a few drops come out when I try to wee", "bladder-retention"),
        ("lost 8 kg without trying and my hip hurts at night", "weight-loss"),
        ("I'm six kilos lighter since spring though I eat the same", "weight-loss"),
        ("my pee has gone pink and my groin aches", "visceral-signs"),
        ("cola coloured urine since yesterday", "visceral-signs"),
        ("after psoas release with a ball the front of my thigh is numb and my knee buckles", "nerve-after-pressure"),
        ("something pulses like a heartbeat under the release tool in my belly", "pulsating-lump"),
        ("i have a temp of 38.5 and my groin aches", "fever-with-pain"),
        ("two months of stretching and my hip still aches just as much", "no-improvement-month"),
    ],
)
def test_concept_signs_numbers_and_colours(question: str, wanted: str) -> None:
    assert wanted in recognise(question).ids, (question, recognise(question).ids)


@pytest.mark.parametrize(
    "question",
    [
        "I didn't fall and I can walk fine, where does the psoas attach?",
        "I haven't lost any weight, what does the iliacus do?",
        "no trouble peeing and no numbness, where does the psoas start?",
        "my pee is a normal colour, which nerve supplies the psoas?",
        "lost 5 kg on a diet, how long should I hold a stretch?",
        "will stretching help me lose weight?",
        "what is the hip flexion force of people over 70?",
        "does foam rolling help tight quads before running?",
    ],
)
def test_denied_intended_or_research_mentions_raise_no_flag(question: str) -> None:
    r = recognise(question)
    assert not r.red_flags and not r.review, (question, r.ids)


def test_negation_scope_ends_at_the_clause() -> None:
    assert recognise("I didn't fall but now I can't put weight on my leg").ids[:1] == ["cannot-bear-weight"]
    assert "fever-with-pain" in recognise("no cough, but I have a fever").ids
    assert recognise("no numbness, tingling or weakness").ids == []
    assert "hernia" in recognise("I'm not sure whether I have a hernia, can I massage my psoas?").ids


def test_weight_lost_on_purpose_is_no_red_flag_but_without_dieting_is() -> None:
    assert "weight-loss" not in recognise("I lost 6 kg on a diet").ids
    assert "weight-loss" in recognise("I lost 6 kg without dieting").ids
    assert "weight-loss" in recognise("I lost 6 kg and I'm not on a diet").ids


@pytest.mark.parametrize("item", [i for i in ITEMS if i.tier == "emergency"], ids=lambda i: i.id)
def test_an_emergency_sign_with_a_contraindication_is_urgent_and_leads(item) -> None:
    words = item.lay[0].replace("*", "").replace("...", "")
    a = ask(f"I have an aneurysm and {words}, can I keep pressing with the psoas tool?")
    assert a.urgent and a.answer.startswith("Urgent:") and "emergency" in a.answer, (item.id, a.answer[:80])
    assert {"aneurysm-or-pulse", item.id} <= set(a.safety) and a.kind == "safety"
    assert not re_dose(a.answer)


def test_a_pulsating_lump_under_a_tool_is_an_emergency_not_only_a_contraindication() -> None:
    a = ask("when I press with my psoas tool I feel a throbbing lump under it, can I keep going?")
    assert "pulsating-lump" in a.safety and a.urgent and a.answer.startswith("Urgent:")
    assert "emergency" in a.answer


def test_numb_thigh_after_pressure_stops_the_technique_and_gives_no_stop_if_text() -> None:
    a = ask("numb thigh and knee collapsing after psoas release, how long should I hold it next time?")
    assert a.urgent and "nerve-after-pressure" in a.safety and a.answer.startswith("Urgent:")
    assert "Stop every pressure and release technique" in a.answer
    assert not re_dose(a.answer) and "groin crease" not in a.answer and "a nerve is pressed" not in a.answer


def test_not_improving_after_weeks_suggests_a_clinician_review() -> None:
    a = ask("I've been doing the hip flexor stretches for 6 weeks and the pain isn't getting any better")
    assert "no-improvement-month" in a.safety and "clinician review" in a.answer and not a.urgent


def test_a_broken_sign_names_the_item_and_the_concept() -> None:
    doc = {"concepts": {"pee": ["pee"]}, "items": [{"id": "x", "tier": "urgent", "group": "g", "topic": "t",
                                                   "question": "q", "action": "a", "signs": ["pee + nope"]}]}
    with pytest.raises(ValueError, match=r"item 0 \(x\): sign term 'nope' names no concept"):
        parse_safety(doc)


def test_an_idiom_sets_its_own_words_aside_but_not_a_real_sign_beside_it() -> None:
    assert recognise("I have a slipped disc, which stretch helps?").ids == []
    assert recognise("my pelvis falls forward when I stand").ids == []
    assert "trauma-bone-risk" in recognise("I have a slipped disc and I fell down the stairs yesterday").ids


# -- negation traps (round 8): words of negation that assert, denials in other forms, units --------

@pytest.mark.parametrize(("question", "wanted"), [
    ("the bump near my groin won't stop pulsing, is that my iliopsoas?", "pulsating-lump"),
    ("my grandad wet himself this morning and his lower back is agony", "bladder-bowel-control"),
    ("my foot won't lift properly when I walk, will stretching my hip flexors fix it?", "worsening-nerve-signs"),
    ("my toes keep catching on the stairs since my back went", "worsening-nerve-signs"),
    ("nothing has been done about the hernia in my groin yet, can I press on my psoas?", "hernia"),
    ("I'm 15 and my hip hurts when I run", "age-of-onset"),
])
def test_negation_words_that_assert_still_raise_the_sign(question: str, wanted: str) -> None:
    assert wanted in recognise(normalise(question)).ids


@pytest.mark.parametrize(("question", "unwanted"), [
    ("I'm 14 weeks pregnant, can I use a psoas ball?", "age-of-onset"),  # weeks of pregnancy are no age
    ("free of clots for years now, can I use a psoas ball?", "clots"),
    ("the scan ruled out an aneurysm, is psoas release ok?", "aneurysm-or-pulse"),
    ("fever-free and feeling well, how long do I hold a lunge stretch?", "fever-with-pain"),
    ("my sister has a hernia, but I don't - can I use the hip hook?", "hernia"),
    ("I had my hernia repaired, can I use the hip hook?", "hernia"),  # a recent operation still counts
])
def test_denials_in_other_forms_raise_nothing(question: str, unwanted: str) -> None:
    assert unwanted not in recognise(normalise(question)).ids


def test_a_repaired_hernia_is_still_recent_surgery_and_a_present_one_beside_it_counts() -> None:
    rec = recognise(normalise("I had my hernia repaired two weeks ago, can I use the hip hook?"))
    assert "recent-abdominal-surgery" in rec.ids and "hernia" not in rec.ids
    assert "hernia" in recognise(normalise("I've got a new hernia after my hernia repair, can I press on it?")).ids


def test_context_before_a_named_question_is_set_aside_and_a_told_clearance_is_no_decision() -> None:
    a = ask("my midwife cleared me and I'm not pregnant any more. how do I stretch my psoas?")
    assert a.answered and a.kind == "answer" and not a.urgent and not a.safety
    assert "kneel" in a.answer.lower() or "lunge" in a.answer.lower()
    b = ask("no fever, no night pain, nothing like that. which nerve supplies the iliacus?")
    assert b.answered and "femoral" in b.short.lower()


# -- round 9 (a second blind set of red-flag phrasings): recency, slang, number words, metaphors, lists ---

@pytest.mark.parametrize(("question", "wanted"), [
    ("my son shoots up and now has hip pain, is that his psoas?", "infection-risk"),
    ("finished antibiotics for a chest infection last week and my hip aches now", "infection-risk"),
    ("my appendix was taken out ten days ago and now my hip hurts", "infection-risk"),
    ("I'm eighty-two and the ache in my groin only started this month", "age-of-onset"),
    ("felt it go instantly in the centre of my back, lying flat eases it", "sudden-central-back-pain"),
    ("one of my balls is swollen and my groin aches, hip flexor?", "visceral-signs"),
    ("my legs have stopped working properly and I stagger about, is it my psoas?", "both-legs-weak"),
    ("my foot has gone white and feels cold as ice, hip flexor?", "cold-pale-leg"),
    ("the pain in my hip gets worse every day", "rapid-worsening"),
])
def test_red_flags_in_everyday_and_clinical_words(question: str, wanted: str) -> None:
    assert wanted in recognise(question).ids


def test_a_denied_list_stays_denied_after_and_but_a_new_clause_after_and_counts() -> None:
    assert recognise("patient denies fever, sweats at night, weight loss and pain at night").ids == []
    assert "fever-with-pain" in recognise("no injury and I have a fever with this hip pain").ids


@pytest.mark.parametrize("question", [
    "I'd like to know whether ice helps my sore hip flexors",
    "I put ice on my leg after the run, is that ok?",
    "what does a ball release do for the psoas?",
])
def test_everyday_words_near_the_new_signs_raise_nothing(question: str) -> None:
    assert recognise(question).ids == []


# every urgent and emergency trigger of clinical.md, in phrasings written for this test (round 9)
ROUND9_PHRASINGS = [
    ("there's a bulge in my tummy that beats like a heart, is that my psoas?", 'pulsating-lump'),
    ('I can feel something pulsing in my belly when I lie down, could it be a tight iliacus?', 'pulsating-lump'),
    ('a lump above my groin that throbs with my pulse', 'pulsating-lump'),
    ('my dad has a swelling in his abdomen that seems to pulse and his back hurts', 'pulsating-lump'),
    ('there is a throbbing mass low in my tummy', 'pulsating-lump'),
    ('my 13 year old has started limping and says his knee hurts', 'teen-limp'),
    ('my teenage daughter is hobbling and complains of hip pain after football', 'teen-limp'),
    ("my son is fourteen, he's been walking funny for a week and his thigh aches", 'teen-limp'),
    ('12yo boy with a limp and groin pain, hip flexor strain?', 'teen-limp'),
    ("my kid has a limp and knee pain, he's 11", 'teen-limp'),
    ('my 15 year old is dragging her leg and says her hip hurts', 'teen-limp'),
    ('my hips, shoulders and back all ache at the same time for no reason', 'pain-many-places'),
    ('I hurt all over, hips, ribs and spine, for weeks', 'pain-many-places'),
    ('pain in my back, both hips and my ribs, nothing explains it', 'pain-many-places'),
    ('everything aches, my back, my hips, my neck and my arms', 'pain-many-places'),
    ('I was in a car crash yesterday and now my hip hurts, is it my psoas?', 'trauma-bone-risk'),
    ('came off my motorbike at speed and my groin is really sore', 'trauma-bone-risk'),
    ('fell from a ladder onto my side and my hip hurts when I walk', 'trauma-bone-risk'),
    ('got tackled hard in rugby and now my hip is agony', 'trauma-bone-risk'),
    ('I have osteoporosis and slipped on the ice, my hip hurts', 'trauma-bone-risk'),
    ("been on prednisolone for years and bumped my hip, now it's really painful", 'trauma-bone-risk'),
    ('my nan tripped on the stairs and now her groin hurts, is it her hip flexor?', 'trauma-bone-risk'),
    ('hit by a car on my bike last week, hip still sore', 'trauma-bone-risk'),
    ("I've been burning up and shivering, and my lower back and hip really hurt", 'fever-with-pain'),
    ('my temperature is 39 and my hip is sore', 'fever-with-pain'),
    ('feel hot and cold with aching hips', 'fever-with-pain'),
    ('my sheets are soaked every night and my back aches', 'fever-with-pain'),
    ('I had breast cancer five years ago and now my hip aches', 'cancer-history'),
    ('my mum had a tumour removed from her bowel and now has back pain', 'cancer-history'),
    ("I've dropped two dress sizes without trying and my hip hurts", 'weight-loss'),
    ("my clothes are falling off me and I'm not dieting, and my back aches", 'weight-loss'),
    ('the pain wakes me every night and nothing eases it', 'night-pain'),
    ("I can't get comfortable in any position at night because of my hip", 'night-pain'),
    ('my thigh is getting more and more numb each week', 'worsening-nerve-signs'),
    ('my leg is getting weaker and weaker', 'worsening-nerve-signs'),
    ('my hip pain has doubled since yesterday', 'rapid-worsening'),
    ('I keep throwing up and my groin hurts', 'visceral-signs'),
    ("there's blood when I pee and my side hurts", 'visceral-signs'),
    ('I drink a bottle of wine a night and my hip hurts deep inside', 'bone-blood-supply-risk'),
    ('both my legs feel like jelly and give way', 'both-legs-weak'),
    ("I haven't been able to pee since this morning and my back hurts", 'bladder-retention'),
    ("I've had accidents with my bowels and my back hurts", 'bladder-bowel-control'),
    ('it feels numb when I sit on the toilet seat', 'saddle-numbness'),
    ("I fell and now I can't put my foot down", 'cannot-bear-weight'),
    ('after the fall my leg looks shorter and turned out', 'cannot-bear-weight'),
    ('my hip is red, hot and swollen and I feel feverish', 'hot-swollen-joint'),
    ('my leg suddenly went cold and pale and it really hurts', 'cold-pale-leg'),
]


@pytest.mark.parametrize(("question", "wanted"), ROUND9_PHRASINGS)
def test_each_trigger_in_several_new_phrasings_leads_with_the_urgent_line(question: str, wanted: str) -> None:
    a = ask(question)
    assert a.urgent and wanted in a.safety, (a.kind, a.safety)
    assert a.answer.startswith("Urgent")


def test_a_question_after_told_context_is_answered_on_its_own_under_the_same_safety() -> None:
    from iliopsoas.knowledge.ask import question_tail

    assert question_tail("No fever, no numbness. How long do I hold the lunge stretch?") == "How long do I hold the lunge stretch?"
    assert question_tail("What is the psoas? And what does it do?") is None  # two questions: read together
    assert question_tail("How long do I hold the stretch?") is None
    a = ask("never had cancer, weight steady, no fevers. what is contract relax stretching?")
    assert a.answered and a.kind == "answer" and "tensed" in a.answer.lower()
    # the statements still count for safety: a contraindication told before a technique question blocks it
    b = ask("I'm 20 weeks pregnant. How long should I hold the psoas release?")
    assert b.kind == "safety" and "pregnan" in b.answer.lower() and "90 s" not in b.answer


def test_belly_pain_with_a_temperature_is_urgent_and_stops_the_release() -> None:
    a = ask("a sharp pain in the lower right of my tummy plus a temperature, can I use the psoas ball?")
    assert a.urgent and {"fever-with-pain", "abdominal-inflammation"} <= set(a.safety)
    assert "30-90" not in a.answer and "90 s" not in a.answer
    assert recognise("what temperature should a heat pack be for sore hip flexors?").ids == []


# a second batch of new phrasings, written before they were run (9 of 27 were missed before round 9c)
ROUND9C_PHRASINGS = [
    ("I've been sat on the loo for ages and nothing will come, and my lower back is killing me", 'bladder-retention'),
    ("my bladder feels full to bursting but I just can't go, with sciatica down both legs", 'bladder-retention'),
    ("I didn't make it to the toilet twice today, I didn't even feel it coming, my back is bad", 'bladder-bowel-control'),
    ("when I wipe I can't feel the paper properly and my back has been bad all week", 'saddle-numbness'),
    ('my bits feel numb and my lower back is in agony', 'saddle-numbness'),
    ("both legs went to jelly on the stairs and my back's in bits", 'both-legs-weak'),
    ("slipped in the bath and can't stand on my right leg at all now", 'cannot-bear-weight'),
    ("my hip joint is swollen and angry red and I've got the shivers", 'hot-swollen-joint'),
    ("my foot has no colour and it's freezing to touch, and the leg hurts badly", 'cold-pale-leg'),
    ('I noticed a lump in my groin that kind of beats along with my heart', 'pulsating-lump'),
    ("I've had a raging temperature since Sunday and my hip is killing me", 'fever-with-pain'),
    ('night sweats soaking the bed and an aching lower back', 'fever-with-pain'),
    ("I'm on chemo and my hip has started hurting", 'infection-risk'),
    ("I had a cortisone jab in my hip last week and now it's hot and very painful", 'infection-risk'),
    ("I'm in remission from lymphoma and my lower back aches", 'cancer-history'),
    ("I've lost a stone without trying and my back aches", 'weight-loss'),
    ("I'm 62 and I've never had hip pain before this month", 'age-of-onset'),
    ('my hip pain is worst at 3am and no position helps', 'night-pain'),
    ('my neck, shoulders, hips and lower back all started hurting together', 'pain-many-places'),
    ('I was knocked off my bike by a car and my hip hurts', 'trauma-bone-risk'),
    ('sharp sudden pain in the middle of my spine after a sneeze, better lying flat', 'sudden-central-back-pain'),
    ('the numb patch on my thigh is getting bigger every day', 'worsening-nerve-signs'),
    ('my hip pain went from a niggle to unbearable in two days', 'rapid-worsening'),
    ('my 14 year old son limps after football and says his knee hurts', 'teen-limp'),
    ("I've been on steroids for my asthma for years and now my hip aches deep in the groin", 'bone-blood-supply-risk'),
    ('my groin hurts and I keep being sick', 'visceral-signs'),
    ('my pee is the colour of cola and my side hurts', 'visceral-signs'),
]


@pytest.mark.parametrize(("question", "wanted"), ROUND9C_PHRASINGS)
def test_a_second_batch_of_new_phrasings_is_escalated(question: str, wanted: str) -> None:
    a = ask(question)
    assert a.urgent and wanted in a.safety, (a.kind, a.safety)


# 301 phrasings written for round 9 by a helper who read only clinical.md (not the code): 230 with a red
# flag of the emergency or urgent tier (every trigger, 10-11 ways each), 71 ordinary questions with
# alarming-looking words. Tuned on (it is dev data); two misses remain, named here.
# A second file of 194 (154 red flags, 40 ordinary) was written the same way at the end of round 9: 131/154
# escalated before its words were added, 149/154 after.
KNOWN_MISSES = {
    "first time ever getting hip flexor pain at 58, came on by itself a few weeks ago. dose for stretches?",  # no person
    "numb patch on my thigh used to be tiny now it's the size of my hand and the leg is weak, hip flexor pain too",
    "Husband stood at the toilet for twenty minutes this morning and nothing came, he's had this groin and back ache "
    "all week \u2014 can he keep doing the hip flexor routine?",  # the words lie too far apart
    "i inject and now my hip n groin hurt heaps, just a strained psoas ya?",  # "inject" alone may be insulin
    "62M, first-ever episode LBP + hip flexor pain, no trauma",  # shorthand with no person named
    "first time hip pain at 67",
    "Dad's suddenly sore in his hip, his ribs and his collarbone \u2014 could it all be tight hip flexors?",  # two regions
}


def _phrasings() -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for name in ("ask_redflag_phrasings.tsv", "ask_redflag_phrasings_2.tsv"):
        with (Path(__file__).parent / "data" / name).open(encoding="utf-8", newline="") as fh:
            rows += list(csv.DictReader(fh, delimiter="\t"))
    return rows


def test_red_flag_phrasings_escalate_and_alarming_ordinary_words_do_not() -> None:
    rows = _phrasings()
    assert len(rows) >= 490
    missed = [r["question"] for r in rows if r["item"] != "none" and not ask(r["question"]).urgent]
    alarmed = [r["question"] for r in rows if r["item"] == "none" and ask(r["question"]).urgent]
    assert set(missed) <= KNOWN_MISSES, set(missed) - KNOWN_MISSES
    assert alarmed == []


def test_contraindications_soon_items_and_someone_elses_condition_in_peoples_words() -> None:
    """260 phrasings written from clinical.md alone (batch 3: contraindications with a pressure
    technique, "soon" items, a few red flags, and 90 ordinary questions that name a condition in
    passing, deny it or give it to someone else). Rows marked ``miss`` are the known failures."""
    with (Path(__file__).parent / "data" / "ask_redflag_phrasings_3.tsv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert len(rows) == 260

    def handled(row: dict[str, str]) -> bool:
        a = ask(row["question"])
        if row["tier"] == "none":
            return not a.urgent and not a.safety
        if row["tier"] in ("emergency", "urgent"):
            return a.urgent
        if row["tier"] == "contraindication":  # flagged, and neither the technique nor its dose given
            return (bool(a.safety) or a.urgent) and a.kind in ("safety", "refusal") and "90 s" not in a.answer
        return bool(a.safety) or a.urgent

    failing = [r["question"] for r in rows if r["known"] != "miss" and not handled(r)]
    assert failing == []
    assert sum(r["known"] == "miss" for r in rows) <= 23


@pytest.mark.parametrize(("question", "flagged"), [
    # a red flag of someone else is set aside when the asker says it is not theirs
    ("My dad had bowel cancer years ago; I've never had cancer. How long should I hold a hip flexor stretch?", False),
    ("My dad has cancer. How long should he hold a hip flexor stretch?", True),
    # a contraindication always stays: the technique may be for the other person, or done on them
    ("My dad had a DVT last year; I've never had one. How often should I foam roll my hip flexors?", True),
    ("My friend had a C-section last month so I'm covering shifts. Psoas release for me?", True),
    ("My wife is pregnant and I want to do psoas release on her myself. How long?", True),
    ("I'm on warfarin like my dad. Can I do psoas release on myself?", True),
    ("AAA patient here, under surveillance. Best psoas massage technique for me?", True),
])
def test_a_condition_is_set_aside_only_when_it_is_someone_elses_and_the_asker_says_so(question: str,
                                                                                       flagged: bool) -> None:
    a = ask(question)
    assert bool(a.safety) is flagged, (a.safety, a.answer[:200])


def test_advice_about_ones_own_pain_ends_with_the_warning_signs_of_the_safety_file() -> None:
    net = load_safety().safety_net
    assert "fever" in net and "urine" in net
    a = ask("my hip has been hurting for a week, how long should I hold a hip flexor stretch?")
    assert a.answered and not a.urgent and net in a.answer
    assert net not in ask("How long should I hold a hip flexor stretch?").answer  # nobody's pain
    with pytest.raises(ValueError, match="safety_net: expected a sentence"):
        parse_safety({"items": [], "safety_net": ["fever"]})


@pytest.mark.parametrize("question", [
    "the ball was pulsating when I lay on it for my psoas release, keep going?",
    "My wife is pregnant and I want to do psoas release on her myself. How long?",
    "im 8 weeks preggo, psoas release how long",
    "I could feel my pulse in the tool during iliacus release, how long should I hold it?",
])
def test_a_contraindication_in_other_words_never_gets_the_technique_or_its_dose(question: str) -> None:
    a = ask(question)
    assert a.safety and a.kind == "safety", a.answer[:200]
    assert "90 s" not in a.answer and "Lie face down" not in a.answer


@pytest.mark.parametrize(("question", "flagged"), [
    ("My dad fell and could not get up, I am fine myself. Can he stretch?", True),
    ("My grandmother broke her hip in a fall years ago and could not walk afterwards. I'm 30 and fine myself. "
     "Which muscles oppose the hip flexors?", False),
    ("My son fell off his bike and cannot walk. What stretches help?", True),
])
def test_who_the_question_is_for_decides_whether_their_red_flag_counts(question: str, flagged: bool) -> None:
    assert ask(question).urgent is flagged


@pytest.mark.parametrize(("question", "blocked"), [
    ("My client is pregnant (I'm not). How long is the psoas release hold?", True),  # may be for the client
    ("My wife is pregnant. I'm not, obviously. How long do I hold psoas release?", True),
    ("my friend is pregnant but I'm not, how long should I hold the psoas release on my belly?", False),
    ("I'm not pregnant, how long do I hold psoas release?", False),
])
def test_a_technique_that_may_be_for_the_person_with_the_condition_is_not_given(question: str, blocked: bool) -> None:
    a = ask(question)
    assert (a.kind == "safety" and "pregnancy" in a.safety) is blocked, a.answer[:200]


@pytest.mark.parametrize(("question", "recent"), [
    ("I had my appendix out as a kid, more than 20 years ago. Is psoas release with a ball fine for me now?", False),
    ("My C-section was 7 years ago and I've been back running for years. How do I do a psoas release?", False),
    ("I had a C-section 5 weeks ago; my first C-section was 3 years ago. How long do I hold psoas release?", True),
    ("I had a C-section 3 weeks ago, years ago I did yoga. Psoas release?", True),
])
def test_surgery_long_ago_is_set_aside_only_in_its_own_sentence(question: str, recent: bool) -> None:
    assert ("recent-abdominal-surgery" in ask(question).safety) is recent


def test_someone_elses_old_fracture_is_set_apart_when_the_asker_says_what_they_have() -> None:
    # "but I'm 30 and I only have tight hip flexors ... a stretch for them": "them" are the hip flexors
    a = ask("My grandad broke his hip in a fall years ago, but I'm 30 and I only have tight hip flexors from "
            "cycling. What's a good stretch for them?")
    assert a.answered and not a.urgent
    # the same story asked about him is still escalated
    b = ask("My grandad broke his hip in a fall and now can't put weight on it. What stretch should he do?")
    assert b.urgent
