"""Reading a question: normalisation, the lay-word lexicon, typo repair, entity spotting, intents.

Everything here is a pure function of the question text and of an :class:`AliasIndex` built once
from the atlas's entity names and synonyms. Matching is deterministic: exact n-gram look-ups first,
then rapidfuzz edit-distance repair for words the index does not know.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

# Lay words and short forms people use, mapped to atlas entity ids. The atlas's own synonyms are
# added on top of these when the index is built; these win where both exist, because a bare "psoas"
# in a question almost always means psoas major (the anatomy-facts inventory keeps a generic "psoas"
# grouping only for ambiguous article wording).
LAY_WORDS: dict[str, str] = {
    "psoas": "psoas-major",
    "psoas muscle": "psoas-major",
    "psoas major": "psoas-major",
    "big psoas": "psoas-major",
    "psoas minor": "psoas-minor",
    "small psoas": "psoas-minor",
    "iliacus": "iliacus",
    "iliopsoas": "iliopsoas",
    "ilio psoas": "iliopsoas",
    "hip flexor": "iliopsoas",
    "hip flexor muscle": "iliopsoas",
    "hip flexor complex": "iliopsoas",
    "iliopsoas complex": "iliopsoas",
    "iliopsoas tendon": "iliopsoas-tendon",
    "psoas tendon": "iliopsoas-tendon",
    "common tendon": "iliopsoas-tendon",
    "iliopsoas bursa": "iliopsoas-bursa",
    "iliopectineal bursa": "iliopsoas-bursa",
    "psoas bursa": "iliopsoas-bursa",
    "thigh bone": "femur",
    "thighbone": "femur",
    "tail bone": "coccyx",
    "tailbone": "coccyx",
    "sit bone": "ischial-tuberosity",
    "sitting bone": "ischial-tuberosity",
    "sitz bone": "ischial-tuberosity",
    "hip bone": "hip-bone",
    "pelvic bone": "hip-bone",
    "glute": "gluteal-muscle-group",
    "glute max": "gluteus-maximus",
    "glute med": "gluteus-medius",
    "glute min": "gluteus-minimus",
    "gluteus maximus": "gluteus-maximus",
    "gluteus medius": "gluteus-medius",
    "gluteus minimus": "gluteus-minimus",
    "hamstring": "hamstring-muscle-group",
    "hamstring muscle": "hamstring-muscle-group",
    "ql": "quadratus-lumborum",
    "quadratus lumborum": "quadratus-lumborum",
    "tfl": "tensor-fasciae-latae",
    "tensor fascia lata": "tensor-fasciae-latae",
    "tensor fasciae latae": "tensor-fasciae-latae",
    "it band": "iliotibial-tract",
    "itb": "iliotibial-tract",
    "iliotibial band": "iliotibial-tract",
    "si joint": "sacroiliac-joint",
    "sacroiliac joint": "sacroiliac-joint",
    "hip joint": "hip-joint",
    "hip socket": "acetabulum",
    "belly button": "umbilicus",
    "navel": "umbilicus",
    "quad": "quadriceps-femoris",
    "quadricep": "quadriceps-femoris",
    "quadriceps": "quadriceps-femoris",
    "deep hip rotator": "deep-lateral-rotators-of-hip",
    "deep rotator": "deep-lateral-rotators-of-hip",
    "diaphragm": "diaphragm",
    "lumbar spine": "lumbar-vertebra",
    "lumbar vertebra": "lumbar-vertebra",
    "low back": "lower-back",
    "lower back": "lower-back",
    "psis": "posterior-superior-iliac-spine",
    "asis": "anterior-superior-iliac-spine",
    "aiis": "anterior-inferior-iliac-spine",
    "pectineal line": "pecten-pubis",
    "pelvic floor": "pelvic-floor-muscles",
    "kidney": "kidney",
    "spine": "vertebral-column",
    "backbone": "vertebral-column",
}

# The iliopsoas family: the structures the article FAQs (and most users) ask about.
FAMILY = ("psoas-major", "psoas-minor", "iliacus", "iliopsoas", "psoas")

# Words that never name an entity and must never be "repaired" into one.
COMMON_WORDS = frozenset(
    """
    a about above after again against all also am an and any are arch as at away back be because
    been before behind being below between both but by can cannot could did do does doing down
    during each either every everyone few for from further get go goes going had has have having he
    her here how i if in into is it its itself just lay lie lying let like long make many me more
    most much must my myself need no nor not now of off on once one only or other our out over own
    people person please really same say see she should side so some such take tell than that the
    their them then there these they thing this those through to too true turn under until up us
    very was way we were what when where which while who why will with would yes you your
    sleeping sleep night morning day week hour minute second seconds time times normal whole
    where muscles muscle knees knee which while whole worse better best much
    """.split()
)

_CONTRACTIONS_RAW = (
    (r"\bcan't\b", "cannot"),
    (r"\bcant\b", "cannot"),
    (r"\bwon't\b", "will not"),
    (r"\bn't\b", " not"),
    (r"n't\b", " not"),
    (r"\bi'm\b", "i am"),
    (r"\bim\b", "i am"),
    (r"\bit's\b", "it is"),
    (r"\bwhat's\b", "what is"),
    (r"\bwhere's\b", "where is"),
    (r"'s\b", ""),
    (r"'ve\b", " have"),
    (r"'re\b", " are"),
    (r"'ll\b", " will"),
)

_CONTRACTIONS = tuple((re.compile(p), r) for p, r in _CONTRACTIONS_RAW)
_DASHES = re.compile(r"[\u2010-\u2015\u2212]")
_NON_WORD = re.compile(r"[^a-z0-9%]+")
_SPACES = re.compile(r"\s+")

_SIDE_WORDS = re.compile(r"\b(left|right|left-hand|right-hand|both sides|either side|one side)\b")


def normalise(question: str) -> str:
    """Lower-case ``question``, expand contractions, and keep letters, digits and single spaces.

    >>> normalise("Where's my LEFT psoas’s insertion?")
    'where is my left psoas insertion'
    """
    text = question.lower()
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    text = _DASHES.sub("-", text)
    if "'" in text or " cant " in f" {text} " or " im " in f" {text} ":
        for pattern, repl in _CONTRACTIONS:
            text = pattern.sub(repl, text)
    text = _NON_WORD.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def strip_sides(text: str) -> str:
    """Remove left/right words: the atlas describes one (paired) side for both."""
    return _SPACES.sub(" ", _SIDE_WORDS.sub(" ", text)).strip()


def _alias_key(name: str) -> str:
    key = normalise(name)
    key = re.sub(r"\b(muscle|muscles|the|of the)$", "", key).strip()
    return re.sub(r"^(the|a|an) ", "", key)


@dataclass(frozen=True)
class AliasIndex:
    """Every name an entity can be called by, normalised, mapped to its entity id.

    ``aliases`` maps a normalised alias (one or more words) to an entity id; ``vocabulary`` holds
    every word that occurs in an alias or in an intent keyword, which is what typo repair aims at.
    """

    aliases: Mapping[str, str]
    vocabulary: frozenset[str]
    max_words: int
    first_words: frozenset[str] = frozenset()
    _vocab_list: tuple[str, ...] = field(default=(), repr=False)
    _multi_aliases: tuple[str, ...] = field(default=(), repr=False)


def build_alias_index(names: Iterable[tuple[str, Iterable[str]]], keywords: Iterable[str]) -> AliasIndex:
    """Build the alias index from ``(entity_id, [name, synonym, ...])`` pairs and intent keywords."""
    aliases: dict[str, str] = {}
    for entity_id, entity_names in names:
        for name in [entity_id.replace("-", " "), *entity_names]:
            key = _alias_key(name)
            if key and key not in aliases:
                aliases[key] = entity_id
    known_ids = set(aliases.values())
    for lay, entity_id in LAY_WORDS.items():
        if entity_id in known_ids:
            aliases[lay] = entity_id
    vocab = {w for a in aliases for w in a.split()} | {w for k in keywords for w in k.split()}
    vocab = {w for w in vocab if len(w) >= 2}
    return AliasIndex(
        aliases=aliases,
        vocabulary=frozenset(vocab),
        max_words=max((len(a.split()) for a in aliases), default=1),
        first_words=frozenset(a.split()[0] for a in aliases),
        _vocab_list=tuple(sorted(w for w in vocab if len(w) >= 5 and not w.isdigit())),
        _multi_aliases=tuple(sorted(a for a in aliases if " " in a)),
    )


def singular(word: str, vocabulary: frozenset[str]) -> str:
    """Return the singular of ``word`` when that singular is a known word, else ``word``."""
    if word in vocabulary or len(word) < 4:
        return word
    for suffix, repl in (("ies", "y"), ("sses", "ss"), ("es", ""), ("ae", "a"), ("s", ""), ("i", "us")):
        if word.endswith(suffix):
            cand = word[: -len(suffix)] + repl
            if cand in vocabulary:
                return cand
    return word


def repair(tokens: list[str], index: AliasIndex, *, fuzzy: bool = True) -> tuple[list[str], int]:
    """Singularise tokens and repair likely typos against the index vocabulary.

    Returns the new tokens and how many were changed by fuzzy repair (plurals do not count).
    Only words of five letters or more that are neither known nor common English are repaired,
    and only to a vocabulary word at edit-similarity >= 80, so ordinary words are left alone.
    """
    out: list[str] = []
    repaired = 0
    for tok in tokens:
        word = singular(tok, index.vocabulary)
        if fuzzy and word not in index.vocabulary and word not in COMMON_WORDS and len(word) >= 5 and word.isalpha():
            hit = process.extractOne(word, index._vocab_list, scorer=fuzz.ratio, score_cutoff=80)
            if hit is not None:
                word = hit[0]
                repaired += 1
        out.append(word)
    return out, repaired


@dataclass(frozen=True)
class Mention:
    """An entity named in the question: where (token span), which alias, how sure (0..1)."""

    entity: str
    start: int
    end: int
    alias: str
    score: float


def find_mentions(tokens: list[str], index: AliasIndex, *, fuzzy: bool = True) -> list[Mention]:
    """Spot entity names in ``tokens``: the longest exact alias first, then fuzzy multi-word names.

    Returns mentions in question order, non-overlapping.
    """
    taken = [False] * len(tokens)
    found: list[Mention] = []
    _exact(tokens, index, range(min(index.max_words, len(tokens)), 1, -1), taken, found)
    # Multi-word names with a typo in one word ("psoas majr", "tensor fascia latte"), before
    # one-word names: "glutes maximus" is the gluteus maximus, not the gluteal group + a stray word.
    for n in (3, 2) if fuzzy else ():
        for i in range(len(tokens) - n + 1):
            if any(taken[i : i + n]):
                continue
            span = " ".join(tokens[i : i + n])
            if len(span) < 8 or all(t in COMMON_WORDS for t in tokens[i : i + n]):
                continue
            hit = process.extractOne(span, index._multi_aliases, scorer=fuzz.ratio, score_cutoff=88)
            if hit is not None:
                found.append(Mention(index.aliases[hit[0]], i, i + n, hit[0], hit[1] / 100.0))
                for j in range(i, i + n):
                    taken[j] = True
    _exact(tokens, index, (1,), taken, found)
    return sorted(found, key=lambda m: m.start)


def _exact(tokens: list[str], index: AliasIndex, sizes: Iterable[int], taken: list[bool], found: list[Mention]) -> None:
    """Add exact alias matches of ``sizes`` words (longest first) over tokens not yet ``taken``."""
    for n in sizes:
        for i in range(len(tokens) - n + 1):
            if tokens[i] not in index.first_words or any(taken[i : i + n]):
                continue
            span = " ".join(tokens[i : i + n])
            entity = index.aliases.get(span)
            if entity is not None:
                found.append(Mention(entity, i, i + n, span, 1.0))
                for j in range(i, i + n):
                    taken[j] = True


# ---------------------------------------------------------------------------------------------
# Intents. Patterns run on the repaired, singularised text. Order matters only for ties.
# ---------------------------------------------------------------------------------------------

INTENT_PATTERNS: dict[str, str] = {
    "claim": r"\b(is it true|true that|is it a myth|myth that|true or false|i (read|heard) that|is it correct that|really true)\b",
    "origin": r"\b(origin|originate|arise|arises|start|starts|come from|comes from|come off|comes off|begin|begins|proximal attachment)\b",
    "insertion": r"\b(insert|insertion|inserts|distal attachment|end up|join|joins|merge|merges|blend|blends|converge)\b",
    "attachment": r"\b(attach|attached|attachment|anchor|anchored)\b",
    "innervation": r"\b(nerve supply|innervation|innervate|innervates|nerve|spinal level|root|control)\b",
    "supply": r"\b(supply|supplies|supplied)\b",
    "blood_supply": r"\b(blood|artery|arterial|vascular|vascular supply|feed|feeds)\b",
    "crosses_joint": r"\b(joint muscle|cross|crosses|go over|goes over|span|spans|how many joint)\b|\bjoints?\b.*\b(act|acts|work|works|move|moves|operate)( on)?\b",
    "antagonist": r"\b(antagonist|antagonistic|oppose|opposes|opposing|opposite|against)\b",
    "synergist": r"\b(synergist|synergistic|work with|works with|work together|assist|assists)\b|\bmuscles? (that |which )?helps? (the |my )?\w+",
    "action": r"\bsit(ting)? up\b|\b(lift|lifts|lifting|raise|raises|raising|bend|bends|bending|function|action|contract|contracts|contraction|extend|extends|extension|extensor|abduct|abducts|abduction|adduct|adducts|adduction|what (do|does)( [a-z ]{1,40}?)? do\b|movement|move|moves|role|job|rotate|rotates|rotation|flex|flexes|flexion|stabilise|stabilize|stabilises|stabilizes|stabilisation|stabilization|produce|strongest)\b",
    "connection": r"\b(organ|kidney|diaphragm|breathing|breath|breathe|connected|connect|connection|linked|link|else is connected)\b",
    "variant": r"\b(born without|without a|lack|lacks|lacking|how many people|everyone have|everybody have|how common|prevalence|absent|missing|percentage|percent|present in|some people|variation|variant)\b",
    "difference": r"\b(difference|different|differ|versus|vs|compare|comparison|same muscle)\b",
    "which_muscle": r"\b(know if|tell if|tell whether|know whether|how do i know)\b.*\b(or)\b",
    "definition": r"^((what|who) (is|are)|tell me about|describe|explain|what do you know about) (a |an |the |my )?",
    "property": r"\b(length|long|size|big|large|small|weight|heavy|mass|volume|cross sectional|area|pennation|fibre|fiber|thick|strong|force)\b",
    "composition": r"\b(make up|made up|made of|consist|consists|composed|part of)\b",
    "location": r"\b(where is|where are|located|location|lie|lies|retroperitoneal|behind|in front of|beneath|underneath|sits? between)\b",
    "why_turn_out": r"\b(leg|foot|feet|knee|thigh|toe)s? (turn|turns|rotate|rotates|roll|rolls|point|points|fall|falls|flop|flops)( \w+)? out(ward|wards)?\b|\bturn(ed|s)? out(ward|wards)?\b",
    "why_arch": r"\b(back|spine|lumbar)( \w+)? (arch|arches|arched|curve|curves|sway)\b|\b(arch|arched|arches|arching) (my |the |in my )?(lower |low )?back\b|\blordosis\b",
    "why_hip_out": r"\bhip (go|goes|going|went|pop|pops) out\b|\bpelvi(s|c)( \w+)? (rotated|rotate|twisted|tilted|tilt|out)\b|\btwisted pelvi",
    "why_pillow": r"\bpillow\b",
    "why_tight": r"\b(why|cause|causes|caused|reason).*\btight\b|\btight\b.*\b(why|cause|causes|from)\b|\bsitting\b.*\b(shorten|tight|short)\b",
    "pain": r"\b(hurt|hurts|pain|painful|ache|aches|sore)\b",
    "stretch": r"\b(stretch|stretches|stretching|lengthen|lunge)\b",
    "strengthen": r"\b(strengthen|strengthening|weak|rep|set|exercise)\b",
    "release": r"\b(release|releasing|massage|pressure|foam roller|foam roll|roller|trigger point|hip hook|press|pressing|compression|knot)\b",
    "what_to_do": r"\bwhat can i do\b|\bhow (do|can) i (fix|help|treat|loosen|relax)\b",
    "reach": r"\b(reach|reaches|touch|touches|get to|access)\b",
}

_COMPILED = {name: re.compile(p) for name, p in INTENT_PATTERNS.items()}

INTENT_KEYWORDS = tuple(
    w
    for p in INTENT_PATTERNS.values()
    for w in re.findall(r"[a-z]{4,}", re.sub(r"\\[a-zA-Z]", " ", p))
    if w not in {"what", "does", "where", "which", "that", "true"}
)


def _crude_singular(word: str) -> str:
    if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is", "as", "os")):
        return word[:-1]
    return word


def detect_intents(text: str) -> list[str]:
    """Names of the intents whose pattern occurs in ``text`` (normalised), in pattern order.

    Patterns are tried on the text as given and with plural endings removed ("organs", "nerves").
    """
    single = " ".join(_crude_singular(w) for w in text.split())
    return [name for name, rx in _COMPILED.items() if rx.search(text) or rx.search(single)]
