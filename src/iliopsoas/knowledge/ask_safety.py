"""What Ask must never get wrong: red flags and contraindications (from the ONE safety file),
personal medical decisions and off-topic asks.

Red flags, urgency tiers, contraindications and the words people use for them live in
``knowledge/data/safety.yaml`` (:mod:`iliopsoas.knowledge.safety`), the file the care screen and the
program builder read too. This module only *recognises* them in a question:

* each item's ``lay`` phrases are matched word by word over the question (small words such as
  "a", "the", "my" ignored; ``word*`` matches any ending; ``...`` allows up to three other words;
  ``{50-120}`` a whole number in that range);
* a misspelt word of five letters or more is matched to the safety vocabulary when it is close
  enough ("pregnent", "incontinance", "hernea");
* a sign mentioned only to deny it is dropped: a negation ("no", "not", "never", "without" ...)
  earlier in the same clause ("I don't have a fever", "no numbness or bladder problems"), or "is
  fine/normal" just after it. Hedges ("not sure if I have a hernia") keep the sign;
* a contraindication counts when the question is about the person ("I", "my") or about the
  technique it rules out; a red flag always counts (conservative by design).

Personal medical decisions (diagnosis, medicines, surgery, prognosis, "should I") are refused with
"see a clinician": the atlas describes anatomy and evidence, not a person.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from iliopsoas.knowledge.safety import SafetyData, SafetyItem, load_safety

# Ordinary words a question may use that lie close to a sign word ("performed" / "deformed").
COMMON_ENGLISH = frozenset(
    "performed performs perform reformed informed formed preformed inform person personal persons second "
    "seconds feeling falling calling telling killing filling hinge hinges pressed wanted planted printed".split()
)
IGNORED = frozenset("a an the my your his her their our some any this that these those very really so quite just also".split())
NEGATIONS = frozenset("no not never without nor neither none deny denies".split())
HEDGES = frozenset("sure certain know idea".split())  # "not sure", "do not know", "no idea": not a denial
AFTER_FINE = frozenset("fine ok okay normal good".split())
_COPULA = frozenset("is are feel feels seem seems look looks".split())
_CLAUSE = re.compile(r"[.,;:!?\n]+|\b(?:but|however|although|though|except|yet)\b")
_AND_NEW = re.compile(r"\b(and|so|then)\s+(?=(i|my|it|there|now|then|he|she|we|the)\b)")
PERSONAL_WORDS = frozenset("i my me mine myself im we our us".split())

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


@dataclass(frozen=True)
class _Phrase:
    item: str  # safety item id, or "technique:<id>"
    parts: tuple[tuple[str, object], ...]  # ("word", w) | ("prefix", p) | ("range", (lo, hi)) | ("gap", 3)
    words: frozenset[str]  # plain words that must all be present (a fast pre-filter)


def _compile(phrase: str, owner: str) -> _Phrase:
    parts: list[tuple[str, object]] = []
    for tok in phrase.lower().split():
        if tok == "...":
            parts.append(("gap", 4))
        elif m := re.fullmatch(r"\{(\d+)-(\d+)\}", tok):
            parts.append(("range", (int(m.group(1)), int(m.group(2)))))
        elif tok.endswith("*"):
            parts.append(("prefix", tok[:-1]))
        elif tok not in IGNORED:
            parts.append(("word", tok))
    words = frozenset(str(v) for k, v in parts if k == "word")
    return _Phrase(owner, tuple(parts), words)


def _match_at(parts: Sequence[tuple[str, object]], toks: Sequence[str], i: int) -> int | None:
    """End index (exclusive) when ``parts`` match ``toks`` starting exactly at ``i``, else ``None``."""
    if not parts:
        return i
    kind, value = parts[0]
    if kind == "gap":
        for skip in range(0, int(value) + 1):  # type: ignore[call-overload]
            end = _match_at(parts[1:], toks, i + skip)
            if end is not None:
                return end
        return None
    if i >= len(toks):
        return None
    tok = toks[i]
    if kind == "word" and tok != value:
        return None
    if kind == "prefix" and not tok.startswith(str(value)):
        return None
    if kind == "range":
        bounds: tuple[int, int] = value  # type: ignore[assignment]
        if not tok.isdigit() or not bounds[0] <= int(tok) <= bounds[1]:
            return None
    return _match_at(parts[1:], toks, i + 1)


class SafetyMatcher:
    """Every lay phrase of the safety file, compiled once; the vocabulary typo repair aims at."""

    def __init__(self, data: SafetyData):
        self.data = data
        phrases = [_compile(p, i.id) for i in data.items for p in i.lay]
        phrases += [_compile(p, f"technique:{t.id}") for t in data.techniques.values() for p in t.lay]
        self.phrases = tuple(p for p in phrases if p.parts)
        vocab = {str(v) for p in self.phrases for k, v in p.parts if k in ("word", "prefix") and len(str(v)) >= 5}
        self.vocab = tuple(sorted(vocab))
        self.vocab_set = frozenset(vocab)

    def repair(self, tokens: Sequence[str], known: frozenset[str]) -> list[str]:
        """Misspelt long words mapped to the closest safety word ("pregnent" -> "pregnant").

        A typo keeps its first letter (so "performed" never becomes "deformed"), and words of
        ordinary English (``COMMON_ENGLISH``) are never changed.
        """
        out = []
        for t in tokens:
            if (len(t) >= 5 and t.isalpha() and t not in known and t not in self.vocab_set
                    and t not in COMMON_ENGLISH):
                hit = process.extractOne(t, self.vocab, scorer=fuzz.ratio, score_cutoff=80)
                if hit is not None and abs(len(hit[0]) - len(t)) <= 2 and hit[0][0] == t[0]:
                    t = hit[0]
            out.append(t)
        return out


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


def _clauses(text: str) -> list[list[str]]:
    text = _AND_NEW.sub(" . ", text)
    return [[w for w in c.split() if w not in IGNORED] for c in _CLAUSE.split(text) if c and c.strip()]


def _denied(toks: Sequence[str], start: int, end: int) -> bool:
    for j in range(start):
        if toks[j] in NEGATIONS and not (j + 1 < len(toks) and toks[j + 1] in HEDGES):
            if not (j + 2 < len(toks) and toks[j + 2] in HEDGES):
                return True
    after = toks[end : end + 2]  # "... are fine", "... is normal"
    return len(after) == 2 and after[0] in _COPULA and after[1] in AFTER_FINE


def recognise(text: str, known_words: Iterable[str] = (), matcher: SafetyMatcher | None = None) -> Recognised:
    """The safety items and techniques named in ``text`` (a normalised question; see ``normalise``).

    ``known_words`` (e.g. the atlas vocabulary) are never "repaired" into safety words.
    """
    m = matcher or default_matcher()
    data = m.data
    known = frozenset(known_words)
    found: set[str] = set()
    signs: set[str] = set()
    for clause in _clauses(text):
        toks = m.repair(clause, known)
        present = set(toks)
        for ph in m.phrases:
            if ph.item in found or not ph.words <= present:
                continue
            for i in range(len(toks)):
                end = _match_at(ph.parts, toks, i)
                if end is not None and end > i:
                    technique = ph.item.startswith("technique:")
                    if not technique:
                        signs.update(toks[i:end])
                    if not (_denied(toks[:i], i, i) if technique else _denied(toks, i, end)):
                        found.add(ph.item)
                    break
    # a sign told over two clauses ("my leg has gone numb and it is spreading"), when neither denies anything
    clauses = [m.repair(c, known) for c in _clauses(text)]
    for left, right in zip(clauses, clauses[1:], strict=False):
        if NEGATIONS & (set(left) | set(right)):
            continue
        toks = [*left, *right]
        present = set(toks)
        for ph in m.phrases:
            if ph.item in found or ph.item.startswith("technique:") or not ph.words <= present:
                continue
            for i in range(len(left)):
                end = _match_at(ph.parts, toks, i)
                if end is not None and end > len(left):
                    signs.update(toks[i:end])
                    found.add(ph.item)
                    break
    personal = bool(PERSONAL_WORDS & set(text.split()))
    techniques = tuple(sorted(f.split(":", 1)[1] for f in found if f.startswith("technique:")))
    items = []
    for item in data.items:
        if item.id not in found:
            continue
        if item.tier == "contraindication" and not (personal or set(item.contraindicates) & set(techniques)):
            continue  # "where is the aorta?" is anatomy; "I have an aneurysm" or "... and massage" is not
        items.append(item)
    return Recognised(tuple(items), techniques, personal, frozenset(signs))


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
    "diagnosis": r"\b(do i have|have i got|diagnos\w*|what is wrong with (me|my)|is (it|this|that) (my|a|an)\b"
    r"(?! (myth|fact|true))|is my \w+( \w+)? (a|an|from|caused|due)\b|caused by my\b|is that my\b|"
    r"is my \w+( \w+)? (tight|weak|short|injured|torn|damaged|strained|inflamed|normal)\b|"
    r"(tell|know|check) (me )?(if|whether) (my|i)\b|whether my\b|could (it|this|my \w+( \w+)?) be|"
    r"my (\w+ )?(mri|xray|scan|ultrasound)|(mri|xray|scan|ultrasound) (of|on) my|from my \w+ or|or from my)\b",
    "treatment decision": r"\b(should|do|will|would|need)\b[\w ]*\b(surgery|surgeon|operation|operate)\b|"
    r"\bhow (do|can|should|could) i (cure|heal|treat)\b|\b(cure|heal) my\b|"
    r"\b(should i get|should i see|do i need|should i stop|should i use|should i avoid|ice or heat|heat or ice)\b|"
    r"\b(after|since) (my |a |the )?(hip replacement|replacement|surgery|operation)\b",
    "prognosis": r"\bwill (my|it|the|this)\b.*\b(come back|return|recur|go away|heal|get better)\b|"
    r"\bhow long (will|does|until) (it|my|this)\b.*\b(heal|recover|get better|go away|resolve|settle)\b|"
    r"\bhow long until my\b|\bprognosis\b|\brecovery time\b",
    "personal advice": r"\bwhat should i do\b|\bis it safe for me\b|\bcan (a|an|my|the) (chiropractor|physio\w*|"
    r"osteopath|massage therapist|masseuse|doctor|surgeon|acupuncturist|trainer) (fix|cure|treat|help|sort)\b",
}
_PERSONAL = {name: re.compile(p) for name, p in PERSONAL.items()}

# Questions about something other than human hip-flexor anatomy even when they name a structure.
OFF_TOPIC = re.compile(
    r"\b(origin of the word|etymology|word come from|name come from|translate|latin poetry|horse|horses|dog|"
    r"dogs|cat|cats|animal|animals|cost|price|buy|brand|poem|story|joke|calories?|diet|protein|weather|"
    r"cells?|cellular|molecular|genetic|genes?|embryolog\w*|who (first )?(discovered|described|named)|"
    r"what does (the word )?(?!it\b|this\b|that\b|a\b)\w+ mean|meaning of (the )?(word|name))\b"
)


# Body parts outside the hip, pelvis, lumbar spine and thigh that the atlas does not describe.
OUTSIDE_REGION = re.compile(
    r"\b(shoulders?|elbows?|wrists?|fingers?|thumbs?|jaws?|skull|eyes?|ears?|nose|teeth|"
    r"tooth|tongue|heart|lungs?|liver|forearms?|ankles?|toes?|calf|calves|shins?|deltoids?|"
    r"triceps|trapezius|traps|rotator cuff|pectoral\w*|pecs|latissimus|lats|gastrocnemius|soleus|achilles|"
    r"cervical|thoracic spine|upper back|collarbone|clavicle|scapula|shoulder blade|humerus|radius|ulna|"
    r"biceps|hamate|carpal|plantar fascia|brain|acl|mcl|pcl|lcl|cruciate|menisc\w*|patellar tendon)\b"
)


def outside_region(text: str) -> bool:
    """True when ``text`` (normalised) names a body part outside the region the atlas covers."""
    return OUTSIDE_REGION.search(text) is not None


def personal_decisions(text: str) -> list[str]:
    """Kinds of personal medical decision the question asks for (empty when none).

    A "how ..." question about an exercise ("how long should I hold ...") is information, and a
    "why ..." question asks for an explanation; neither is a personal decision by itself.
    """
    found = [name for name, rx in _PERSONAL.items() if rx.search(text)]
    if text.startswith("why "):
        found = [f for f in found if f not in ("treatment decision", "personal advice", "diagnosis")]
    if not found and re.search(r"\bshould i\b", text) and not re.search(r"\b(how|what|when|where|which)\b[\w ]*\bshould i\b", text):
        found.append("personal advice")  # "should I ..." asks for a decision; "how long should I ..." for a fact
    return found


def off_topic(text: str) -> bool:
    """True when the question is plainly about something the atlas does not cover."""
    return OFF_TOPIC.search(text) is not None
