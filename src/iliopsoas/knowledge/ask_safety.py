"""What Ask must never get wrong: red flags and contraindications (from the ONE safety file),
personal medical decisions and off-topic asks.

Red flags, urgency tiers, contraindications and the words people use for them live in
``knowledge/data/safety.yaml`` (:mod:`iliopsoas.knowledge.safety`), the file the care screen and the
program builder read too. :mod:`ask_signs` reads them in a question - lay phrases, concept signs
(synonym sets combined within a window, numbers with units, colours), a negation scope detector and
a cautious meaning check; this module turns what it found into :class:`Recognised`:

* a contraindication counts when the question is about the person ("I", "my") or about the
  technique it rules out; an item marked ``needs_person`` only about a person; a red flag always
  counts (conservative by design).

Personal medical decisions (diagnosis, medicines, surgery, prognosis, "should I", clearance to go
back to sport or work) are refused with "see a clinician": the atlas describes anatomy and evidence,
not a person.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from iliopsoas.knowledge.ask_signs import SafetyMatcher, for_me, set_apart, without_elliptic_denials
from iliopsoas.knowledge.safety import SafetyItem, load_safety

REFUSAL = "I don't know this from my sources."
CLINICIAN = "Please see a clinician (a doctor or physiotherapist) who can examine you and advise you personally."

__all__ = [
    "CLINICIAN",
    "REFUSAL",
    "Recognised",
    "SafetyMatcher",
    "default_matcher",
    "off_topic",
    "personal_decisions",
    "recognise",
    "urgent_line",
]


@lru_cache(maxsize=1)
def default_matcher() -> SafetyMatcher:
    """The matcher of the packaged safety file (built once per process)."""
    return SafetyMatcher(load_safety())


@dataclass(frozen=True)
class Recognised:
    """Safety items named in a question (not denied), in file order, and techniques it asks about."""

    items: tuple[SafetyItem, ...] = ()
    techniques: tuple[str, ...] = ()
    personal: bool = False
    sign_words: frozenset[str] = frozenset()  # words of every sign phrase found, denied or not

    @property
    def ids(self) -> list[str]:
        return [i.id for i in self.items]

    @property
    def red_flags(self) -> tuple[SafetyItem, ...]:
        return tuple(i for i in self.items if i.red_flag)

    @property
    def contraindications(self) -> tuple[SafetyItem, ...]:
        return tuple(i for i in self.items if i.tier == "contraindication")

    @property
    def review(self) -> tuple[SafetyItem, ...]:
        return tuple(i for i in self.items if i.tier == "soon")

    def blocked_techniques(self) -> set[str]:
        """Techniques the question asks about that a recognised contraindication rules out."""
        return {t for i in self.contraindications for t in i.contraindicates} & set(self.techniques)


def recognise(text: str, known_words: Iterable[str] = (), matcher: SafetyMatcher | None = None,
              is_word: Callable[[str], bool] | None = None) -> Recognised:
    """The safety items and techniques named in ``text`` (the question, raw or normalised).

    ``known_words`` (e.g. the atlas vocabulary) and ordinary English words (``is_word``) are never
    "repaired" into safety words. See :mod:`ask_signs` for how signs, negations and numbers are read.
    """
    m = matcher or default_matcher()
    found = m.read(text, known_words, is_word)
    theirs: set[str] = set()
    if found.items:
        split = set_apart(text)
        if split is not None and split[1]:  # "my dad had a DVT; I've never had one": his, not the asker's
            # a contraindication always stays: the technique may be meant for them, or done by the asker on
            # them ("my client is pregnant; is it OK for me to do the release?")
            theirs = {i for i in found.items - m.read(split[0], known_words, is_word).items
                      if m.data.item(i).tier != "contraindication"}
    if found.techniques and not for_me(text):
        # "my client is pregnant (I'm not). How long is the release hold?": the technique may be for the client
        plain = without_elliptic_denials(text)
        if plain != text:
            found.items |= {i for i in m.read(plain, known_words, is_word).items - found.items
                            if m.data.item(i).tier == "contraindication"}
    techniques = tuple(sorted(found.techniques))
    items = []
    for item in m.data.items:
        if item.id not in found.items or item.id in theirs:
            continue
        if item.needs_person and not found.personal:
            continue  # "force of people over 70" is research; "I'm 72" is a person
        if item.tier == "contraindication" and not (found.personal or set(item.contraindicates) & set(techniques)):
            continue  # "where is the aorta?" is anatomy; "I have an aneurysm" or "... and massage" is not
        items.append(item)
    return Recognised(tuple(items), techniques, found.personal, frozenset(found.sign_words))


# -- the lines Ask writes ---------------------------------------------------------------------

EMERGENCY_LINE = (
    "Urgent: you mention {signs}. That can be a sign of a serious problem: seek urgent medical care now "
    "(call your local emergency number or go to an emergency department). Do not try stretches, "
    "exercises or pressure techniques first."
)
URGENT_LINE = (
    "Urgent: you mention {signs}. With back, hip or groin pain that needs a doctor soon: seek urgent "
    "medical care (today or within a day or two), and do not start or continue stretches, exercises "
    "or pressure techniques until then."
)


def _join(words: Sequence[str]) -> str:
    return ", ".join(words[:-1]) + (" and " if len(words) > 1 else "") + words[-1] if words else ""


def urgent_line(items: Sequence[SafetyItem]) -> str:
    """The urgent-care sentence for the red flags ``items`` (the most urgent tier wins)."""
    signs = _join(list(dict.fromkeys(f"signs of {i.topic}" for i in items)))
    emergency = any(i.tier == "emergency" for i in items)
    return (EMERGENCY_LINE if emergency else URGENT_LINE).format(signs=signs)


PERSONAL: dict[str, str] = {
    "medicines": r"\b(ibuprofen|paracetamol|acetaminophen|naproxen|aspirin|nsaids?|painkillers?|pain killers?|"
    r"pain relievers?|medications?|medicines?|drugs?|pills?|tablets?|muscle relaxants?|opioids?|antibiotics?|"
    r"supplements?|turmeric|vitamins?|herbal|cbd|remed(y|ies)|anti inflammator\w*|prescri\w*|cortisone|"
    r"dose of|dosage of)\b",
    # "do I have one iliopsoas or one on each side": a count of the body's parts, not a diagnosis
    "diagnosis": r"\b(do i have(?! (one|two|both|a pair|\d+)\b)|have i got|diagnos\w*|what is wrong with (me|my)|is (it|this|that) (my|a|an)\b"
    r"(?! (myth|fact|true))|is my \w+( \w+)? (a|an|from|caused|due)\b|caused by my\b|is that my\b|"
    r"is my \w+( \w+)? (tight|weak|short|injured|torn|damaged|strained|inflamed|normal)\b|"
    r"(is|are|could|might) my \w+( \w+)? (be )?(the )?(reason|cause|culprit|source|root)\b|"
    r"(tell|know|check) (me )?(if|whether) (my|i)\b|whether my\b|could (it|this|my \w+( \w+)?) be|"
    r"my (\w+ )?(mri|xray|scan|ultrasound)|(mri|xray|scan|ultrasound) (of|on) my|from my \w+ or|or from my)\b",
    "treatment decision": r"\b(should|do|will|would|need)\b[\w ]*\b(surgery|surgeon|operation|operate)\b|"
    r"\bhow (do|can|should|could) i (cure|heal|treat)\b|\b(cure|heal) my\b|"
    r"\b(should i get(?! up\b)|should i see|do i need|should i stop|should i use|should i avoid)\b|"
    # choosing heat or ice for oneself is a treatment decision; safety tips for using them are information
    r"\b(should i|do i|can i|which|better|for my|on my)\b[\w ]*\b(ice or heat|heat or ice)\b(?! safely)|"
    r"\b(ice or heat|heat or ice)\b[\w ]*\b(for my|on my|better|best)\b|"
    r"\b(after|since) (my |a |the )?(hip replacement|replacement|surgery|operation)\b",
    "prognosis": r"\bwill (my|it|the|this)\b.*\b(come back|return|recur|go away|heal|get better)\b|"
    r"\bhow long (will|does|until) (it|my|this)\b.*\b(heal|recover|get better|go away|resolve|settle)\b|"
    r"\bhow long until my\b|\bprognosis\b|\brecovery time\b",
    "clearance": r"\b(clear|sign) me\b|\ball clear\b|\bgreen light\b|\bam i (ok|okay|good|fine|safe|ready|fit|cleared|allowed|"
    r"well enough)\b|\b(i am|is my \w+( \w+)?|are my \w+( \w+)?) (ready|fit|cleared|allowed|strong enough|"
    r"healed enough|recovered enough)\b|"
    r"\b(ready|fit|safe|ok|okay|fine|good|cleared|allowed|alright|all right) (enough )?(for me )?to (go back|get back|"
    r"return|resume|restart|start|play|run|race|compete|train|lift|dance|squat|sprint|jump|kick)\b|"
    r"\b(can|could|may|should|when can|when could|when should|when will) i (go back|get back|return|resume|restart|"
    r"play|compete|race|start (running|training|playing|sport))\b|"
    r"\b(go|get|going|getting|went) back to (sport|football|soccer|rugby|running|training|work|the gym|gym|"
    r"playing|dancing|lifting|the pitch)\b|\breturn(ing)? to (sport|play|running|training|work|the gym|football|"
    r"dancing|competition)\b|\bready for\b.*\bagain\b|"
    r"\b(when|can|could|should|may)\b[\w ]*\bi (start|begin|restart|resume|try|do) [\w ]*\bagain\b|"
    r"\b(permission|clearance|cleared|confirm i can|okay me|ok me)\b",
    "personal advice": r"\bwhat should i do\b|\bis it safe for me\b|\bcan (a|an|my|the) (chiropractor|physio\w*|"
    r"osteopath|massage therapist|masseuse|doctor|surgeon|acupuncturist|trainer) (fix|cure|treat|help|sort)\b",
}
_PERSONAL = {name: re.compile(p) for name, p in PERSONAL.items()}

# Questions about something other than human hip-flexor anatomy even when they name a structure.
OFF_TOPIC = re.compile(
    r"\b(origin of the word|etymology|word come from|name come from|translate|latin poetry|horse|horses|dog|"
    r"dogs|cat|cats|animal|animals|cost|price|buy|brand|poem|story|joke|calories?|diet|protein|weather|"
    r"mattress\w*|best (shoes?|trainers|sneakers|chair|office chair|pillow|cream|gel|app|brand|product) for|"
    r"(which|what) (\w+ ){0,2}(shoes?|trainers|sneakers|insoles?|brands?|products?) (is|are) (the )?best|"
    r"cells?|cellular|molecular|genetic|genes?|embryolog\w*|who (first )?(discovered|described|named)|"
    r"what does (the word )?(?!it\b|this\b|that\b|a\b)\w+ mean|meaning of (the )?(word|name)|"
    # other languages and coding systems: no source gives them
    r"(word|name|term|say|said|called|spell|spelled|written)\b.{0,40}\b(in|into) (japanese|chinese|mandarin|cantonese|"
    r"korean|spanish|french|german|italian|portuguese|russian|arabic|hindi|dutch|swedish|polish|turkish|greek|hebrew|"
    r"vietnamese|thai)|icd[ -]?(9|10|11)?( code)?|cpt code|"
    r"billing code|(diagnosis|diagnostic|insurance|medical) code)\b"
)


# Body parts outside the hip, pelvis, lumbar spine and thigh that the atlas does not describe.
OUTSIDE_REGION = re.compile(
    r"\b(shoulders?|elbows?|wrists?|fingers?|thumbs?|jaws?|skull|eyes?|ears?|nose|teeth|"
    r"tooth|tongue|heart|lungs?|liver|forearms?|ankles?|toes?|calf|calves|shins?|deltoids?|"
    r"triceps|trapezius|traps|rotator cuff|pectoral\w*|pecs|latissimus|lats|gastrocnemius|soleus|achilles|"
    r"cervical|thoracic spine|upper back|collarbone|clavicle|scapula|shoulder blade|humerus|radius|ulna|"
    r"biceps|hamate|carpal|plantar fascia|brain|acl|mcl|pcl|lcl|cruciate|menisc\w*|patellar tendon|"
    r"headaches?|migraines?|(?<!femoral )(?<!femur )neck(?! of))\b"
)


def outside_region(text: str) -> bool:
    """True when ``text`` (normalised) names a body part outside the region the atlas covers."""
    return OUTSIDE_REGION.search(text) is not None


# choices the care program itself speaks to: resting, stopping or carrying on with its exercises
_CARE_CHOICE = re.compile(
    r"\b(rest|resting|stop|stopping|keep|continue|carry on|pause)\b[\w ]{0,25}\b(stretch\w*|exercis\w*|strengthen\w*|"
    r"release|raise|march|routine|program\w*|it)\b|\b(rest|stretch\w*) or (rest\w*|keep|stretch\w*|exercis\w*|carry on|"
    r"continue)\b|\bneed to rest\b|\brest (it|first|up|for a)\b|\b(when|how|why) should i stop\b|"
    # something felt during a program step, and what now: the step's own stop signs answer
    r"\b(during|in|with|doing|while doing|when i do|from) (the |my |a |this |that )?[\w -]{0,30}\b(stretch|exercise|raise|"
    r"march|release|lunge)(e?s)?\b.*\bwhat (should|do|can) i do\b|"
    r"\b(stretch|exercise|raise|march|release|lunge)\w*\b.*\bshould i (stop|keep going|continue|carry on)\b|"
    r"\bwhat (should|do|can) i do\b.*\b(during|in|with|doing|while doing|from) (the |my |a |this |that )?[\w -]{0,30}\b(stretch|"
    r"exercise|raise|march|release|lunge)(e?s)?\b|"
    # the program's own equipment: "do I need a fancy tool or can I just use a ball"
    r"\bdo i need (a |an |the |any )?(\w+ ){0,2}(tool|ball|band|roller|mat|equipment|weights?)\b")
# ... unless another decision is asked: sport, work, a medicine, a scan, surgery
_NOT_CARE = re.compile(r"\b(running|run|sport|sports|football|soccer|rugby|training|train|gym|work|job|play|playing|"
                       r"race|match|game|surgery|operation|injection|scan|mri|xray|ibuprofen|medicine\w*|medication\w*|"
                       r"pills?|tablets?|heat|ice|brace|crutches)\b")
# overdone and sore, what now: the care guidance for overuse (rest a few days, then restart gently) answers, with
# the clinician pointer - "I overdid squats and my hip flexors feel irritated, what should I do first?"
_OVERDONE = re.compile(r"\b(overdid|overdo|overdone|overdoing|overused|overuse|overworked|overtrained|too much|"
                       r"irritated|sore|soreness|achy|aching|tweaked|flared|strained)\b")
_WHAT_DO = re.compile(r"\bwhat (should|do|can|could) i (do|try)\b")


# "how can I tell if my hip flexors are tight": a way to check what the self-tests measure (length, tightness,
# strength), not a diagnosis of a condition ("how do I know if I have a hernia" stays one)
_HOW_TELL = re.compile(r"\bhow (can|do|would|could|should|to|might) (i |you |one |we )?(tell|know|check|test|find out|see|"
                       r"work out|figure out) (if|whether) (my |your |the )?[a-z ]{0,30}\b(are|is) (too |really |very |so )?"
                       r"(tight|short|shortened|stiff|weak|flexible|long)\b")


def personal_decisions(text: str) -> list[str]:
    """Kinds of personal medical decision the question asks for (empty when none).

    A "how ..." question about an exercise ("how long should I hold ...") is information, and a
    "why ..." question asks for an explanation; neither is a personal decision by itself.
    """
    found = [name for name, rx in _PERSONAL.items() if rx.search(text)]
    if text.startswith("why "):
        found = [f for f in found if f not in ("treatment decision", "personal advice", "diagnosis")]
    if _HOW_TELL.search(text):  # "how can I tell if my hip flexors are tight": a way to check, not a diagnosis
        found = [f for f in found if f != "diagnosis"]
    if not found and re.search(r"\bshould i\b(?! (feel|be feeling|notice|expect)\b)", text) and not re.search(
            r"\b(how|what|when|where|which|why)\b[\w ]*\bshould i\b", text):
        found.append("personal advice")  # "should I ..." asks for a decision; "how long should I ..." for a fact
    if _CARE_CHOICE.search(text) and not _NOT_CARE.search(text):
        # "rest or keep stretching?", "do I need to rest it?", "when should I stop the raise?": the care
        # program's own guidance (rest, stop signs), answered with it and a clinician pointer
        found = [f for f in found if f not in ("treatment decision", "personal advice")]
    return found


def overuse_question(text: str) -> bool:
    """"I overdid squats and my hip flexors are sore, what should I do?": the care guidance for overuse answers."""
    return _OVERDONE.search(text) is not None and _WHAT_DO.search(text) is not None


def off_topic(text: str) -> bool:
    """True when the question is plainly about something the atlas does not cover."""
    return OFF_TOPIC.search(text) is not None
