"""What the question answerer must never get wrong: red flags, personal decisions, off-topic asks.

Red-flag wording follows the clinical conventions the project collected (shared
``reference/clinical.md`` §2.3, "stop and see a clinician"): cauda equina signs (new bladder or
bowel change, saddle numbness, weakness in both legs), infection (fever, chills, night sweats, a hot
swollen joint), fracture or dislocation (cannot bear weight or walk after a fall), vascular causes
(pulsating lump in the belly or groin, a pale or cold leg) and malignancy or visceral causes
(unexplained weight loss, cancer history, blood in the urine). Those tiers come from NHS pathway
pages (g-care.glos.nhs.uk pathways 52 and 71) and NICE NG59 summaries cited there. A red flag is
never downgraded: the urgent line is added whatever else the answer says.

Personal medical decisions (diagnosis, medicines, pregnancy, whether someone should press on their
own abdomen, tests, surgery, prognosis) are refused: the atlas describes anatomy and evidence, not
a person. All functions take the normalised question text (see :func:`ask_text.normalise`).
"""

from __future__ import annotations

import re

# name -> (tier, pattern). Tiers follow clinical.md §2.3: "emergency" (go now) and "urgent"
# (see a doctor within a day or two; do not start or continue the exercises meanwhile).
RED_FLAGS: dict[str, tuple[str, str]] = {
    "bladder or bowel change": ("emergency", r"\b(bladders?|bowels?|incontinen\w*|urinary retention|cannot (pee|urinate)|(difficulty|trouble) (passing urine|urinating|peeing)|wet myself|soil\w*)\b"),
    "saddle numbness": ("emergency", r"\bsaddle\b|\bnumb\w* (in |around )?(my )?(genital|groin|anus|bottom|buttock|crotch|private)"),
    "weakness in both legs": ("emergency", r"\b(both|two) legs? (are |is |feel |feels |getting |going )?(weak|numb)|\bweak\w* in (both|my two) legs\b|\b(numb\w*|weak\w*|tingl\w*|pins and needles) (in|of|down) (both|my two|two) legs\b|\bfoot drop\b|\bleg weakness\b.*\b(worse|worsening|progress)"),
    "a hot, swollen joint": ("emergency", r"\bhot (red )?swollen|red hot swollen|hot and swollen\b"),
    "pulsating lump": ("emergency", r"\b(pulsat\w*|throbbing) (lump|mass|bulge|swelling)\b|\bpulsating\b|\b(pulse|heartbeat) (in|under|beneath) (my )?(belly|abdomen|stomach|groin|fingers|tool)\b|\bfeel (a |my )?pulse\b|\b(groin|belly|abdomen|stomach|tummy)\b.*\b(pulsat\w*|throbb\w*)\b"),
    "cannot bear weight": ("emergency", r"\b(cannot|unable to|not able to|can not) (bear|put|take) (any )?weight\b|\b(cannot|unable to|can not) (walk|stand)\b"),
    "pale or cold leg": ("emergency", r"\b(cold|pale|white|blue)( and| or)? (cold |pale |white |blue )?(leg|foot|feet)\b|\bleg( is| went| turned)? (cold|pale)\b"),
    "a possible fracture or dislocation after a fall": ("emergency", r"\b(after|since) (a |the |my )?(fall|crash|accident)\b.*\b(cannot|deform\w*|shorter|turned out)\b|\b(fell|fallen|fall|crash|accident)\b.*\b(shorter|turn\w* out|deform\w*|cannot (walk|stand|bear))\b"),
    "fever or infection signs": ("urgent", r"\b(fever|feverish|high temperature|chills|night sweats)\b"),
    "blood in the urine": ("urgent", r"\bblood in (my |the )?(urine|pee|wee)\b"),
    "unexplained weight loss or cancer history": ("urgent", r"\b(unexplained|unintentional|sudden) weight loss\b|\b(losing|lost|lose) weight\b.*\b(without trying|not trying|unexplained|for no reason)\b|\bhistory of cancer\b|\bcancer\b"),
    "pain at night": ("urgent", r"\b(worse at night|pain at night|night pain|wakes me (up )?at night|keeps me (up|awake) at night|hurts? at night)\b"),
}
_RED = {name: re.compile(p) for name, (_tier, p) in RED_FLAGS.items()}

EMERGENCY_LINE = (
    "Urgent: you mention {signs}. That can be a sign of a serious problem. Seek urgent medical "
    "care now: call your local emergency number or go to an emergency department. Do not try "
    "stretches, exercises or pressure techniques first."
)
URGENT_LINE = (
    "Urgent: you mention {signs}. Together with back, hip or groin pain that can be a sign of a "
    "problem a doctor should check soon. Seek urgent medical care (a doctor today or within a day "
    "or two), and do not start or continue stretches, exercises or pressure techniques until then."
)

PERSONAL: dict[str, str] = {
    "medicines": r"\b(ibuprofen|paracetamol|acetaminophen|naproxen|aspirin|nsaid\w*|painkiller\w*|pain killer\w*|pain reliever\w*|medication\w*|medicine\w*|drugs?|pills?|tablets?|muscle relaxant\w*|opioid\w*|antibiotic\w*|supplement\w*|turmeric|vitamin\w*|herbal|cbd|remed(y|ies)|anti inflammator\w*|antiinflammator\w*|prescri\w*|steroid\w*|injection\w*|cortisone|dose of|dosage of)\b",
    "diagnosis": r"\b(do i have|have i got|diagnos\w*|what is wrong with (me|my)|is (it|this|that) (my|a|an)\b(?! (myth|fact|true))|is my \w+( \w+)? (a|an|from|caused|due)\b|\bcaused by my\b|is my \w+( \w+)? (tight|weak|short|injured|torn|damaged|strained|inflamed|normal)\b|\b(tell|know|check) (me )?(if|whether) (my|i)\b|\bcheck my\b|could (it|this) be|mri|x ray|xray|scan|ultrasound)\b",
    "pregnancy": r"\b(pregnan\w*|trimester|postpartum|post partum|breastfeeding)\b",
    "treatment decision": r"\b(surgery|operation|operate|should i get|should i see|do i need)\b",
    "prognosis": r"\bwill (my|it|the|this)\b.*\b(come back|return|recur|go away|heal|get better)\b|\bhow long (will|does|until) (it|my|this)\b.*\b(heal|recover|get better|go away|resolve|settle)\b|\bprognosis\b|\brecovery time\b",
    "pressing on one's own abdomen": r"\b(should i|safe for me to|is it safe (for me )?to|can i) (press|push|dig|use)\b|\bblood thinner\w*|\banticoagul\w*|\bwarfarin\b",
    "personal advice": r"\bwhat should i do\b|\bis it safe for me\b|\bfor me\b",
}
_PERSONAL = {name: re.compile(p) for name, p in PERSONAL.items()}

# Questions about something other than human hip-flexor anatomy even when they name a structure.
OFF_TOPIC = re.compile(
    r"\b(origin of the word|etymology|word come from|name come from|horse|horses|dog|dogs|cat|cats|"
    r"animal|animals|cost|price|buy|brand|poem|story|joke|calorie|calories|diet|weather|cell|cells|cellular|molecular|genetic|genes?)\b"
)

REFUSAL = "I don't know this from my sources."
CLINICIAN = "Please see a clinician (a doctor or physiotherapist) who can examine you and advise you personally."


def red_flags(text: str) -> list[str]:
    """Names of the red-flag signs mentioned in ``text`` (normalised question), in table order."""
    return [name for name, rx in _RED.items() if rx.search(text)]


def urgent_line(signs: list[str]) -> str:
    """The urgent-care sentence for the red-flag ``signs`` found (the most urgent tier wins)."""
    listed = ", ".join(signs[:-1]) + (" and " if len(signs) > 1 else "") + signs[-1]
    emergency = any(RED_FLAGS[s][0] == "emergency" for s in signs if s in RED_FLAGS)
    return (EMERGENCY_LINE if emergency else URGENT_LINE).format(signs=listed)


def personal_decisions(text: str) -> list[str]:
    """Kinds of personal medical decision the question asks for (empty when none).

    A "how long / how many ... should I" dosage question about an exercise is information, not a
    personal decision, so a leading "how" switches off the generic "should I" trigger only.
    """
    found = [name for name, rx in _PERSONAL.items() if rx.search(text)]
    if text.startswith("why "):  # "why do I need a pillow ..." asks for an explanation
        found = [f for f in found if f not in ("treatment decision", "personal advice", "diagnosis")]
    if not found and re.search(r"\bshould i\b", text) and not text.startswith("how "):
        found.append("personal advice")
    return found


def off_topic(text: str) -> bool:
    """True when the question is plainly about something the atlas does not cover."""
    return OFF_TOPIC.search(text) is not None
