"""Reading a question: normalisation, the lay-word lexicon, typo repair and entity spotting.

Everything here is a pure function of the question text and of an :class:`AliasIndex` built once
from the atlas's entity names and synonyms. Matching is deterministic: exact n-gram look-ups first,
then rapidfuzz edit-distance repair for words the index does not know.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

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
    "pelvic": "pelvis",
    "backbone": "vertebral-column",
}

# Everyday words and the further words the passages explain them with (searched too, never required):
# "tight after sitting" is told as "shortened ... when seated".
EXPAND: dict[str, tuple[str, ...]] = {
    "tight": ("short", "shortened"), "tightness": ("short", "shortened"), "tighten": ("short", "shortened"),
    # a test "screens", "assesses" or "measures": what the passages say a test does ("points to", "test")
    "screen": ("test",), "screens": ("test",), "screening": ("test",), "assess": ("test",), "assesses": ("test",),
    "measures": ("test",),
    "sitting": ("seated",), "sit": ("seated", "sitting"), "desk": ("sitting", "seated"), "office": ("sitting",),
    "chair": ("sitting",), "couch": ("sitting",), "sofa": ("sitting",), "seat": ("sitting",), "commute": ("sitting",),
    # a muscle "switching on" or "firing" is told as its activity and onset
    "switched": ("active", "onset"), "switches": ("active", "onset"), "switch": ("active", "onset"),
    "fires": ("active", "onset"), "fire": ("active", "onset"), "firing": ("active", "activity"),
    "first": ("before", "onset"), "kicks": ("active", "onset"),
    "runs": ("extends", "spans"), "run": ("extends", "spans"), "goes": ("extends", "passes"),
    "stiff": ("short", "tight"), "check": ("test",), "tuck": ("tilt", "posterior"), "tucked": ("tilt", "posterior"),
    # which of two matters more, and when: told as a share of the torque, below or beyond an angle
    "matter": ("share", "dominates"), "matters": ("share", "dominates"), "dominant": ("share", "dominates"),
    "early": ("below", "initial"), "late": ("beyond", "after"),
    # a foot planted or a thigh that cannot move is what the passages call fixed ("on the fixed thigh")
    "planted": ("fixed",), "anchored": ("fixed",),
    # bending the hip backward is extension ("backward range at the hip")
    "backward": ("extension",), "backwards": ("extension",),
}
# a passage reporting a relation between two measures (a correlation, a tendency, or none): "correlated with
# lordosis at r = 0.69", "so no relationship (r -0.04 with pelvic tilt)"
FINDING = re.compile(r"\b(correlat\w*|relationship|no relation|tendency|associat\w*|no link|linked)\b|\br = ?-?\d|\(r -?\d")
# Doing too much is told as overuse, and its care as rest: these are searched for too (the passages on
# overuse share no word with "I overdid squats").
SEARCHED_AS: dict[str, tuple[str, ...]] = {
    w: ("overuse", "rest") for w in "overdid overdo overdone overdoing overused overtrained overworked".split()
}
# a game, a race or a sprint is told as performance ("will stretching before a game make me slower")
SEARCHED_AS.update({w: ("performance",) for w in "game games match matches race races sprint sprints sprinting "
                    "competition competing slower".split()})
EXPAND.update(SEARCHED_AS)
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
    text = _DECIMAL.sub(r"\1p\2", text)  # "0.67" stays one token ("0p67"), apart from "67"
    text = _NON_WORD.sub(" ", text)
    return compounds(_SPACES.sub(" ", text).strip())


# Words written apart, hyphenated or together ("sit-ups", "sit ups", "situps"): one token, so that
# "sit ups" never meets "sitting". Applied to questions and to passages alike.
_COMPOUNDS = tuple((re.compile(p), r) for p, r in (
    (r"\bsit[\s-]?ups?\b", "situp"), (r"\bcurl[\s-]?ups?\b", "curlup"), (r"\bpush[\s-]?ups?\b", "pushup"),
    (r"\bx[\s-]?rays?\b", "xray"), (r"\bsit[\s-]bones?\b", "sit bone"),
))


_DECIMAL = re.compile(r"(\d)\.(\d)")


def compounds(text: str) -> str:
    """``text`` with split compounds joined (``"sit-up variants"`` -> ``"situp variants"``) and
    decimals kept whole (``"ICC 0.67"`` -> ``"icc 0p67"``)."""
    if "." in text:
        text = _DECIMAL.sub(r"\1p\2", text)
    if "up" in text or "ray" in text:
        for rx, repl in _COMPOUNDS:
            text = rx.sub(repl, text)
    return text


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
    every word that occurs in an alias or in the passages of the index, which is what typo repair aims at.
    """

    aliases: Mapping[str, str]
    vocabulary: frozenset[str]
    max_words: int
    first_words: frozenset[str] = frozenset()
    _vocab_list: tuple[str, ...] = field(default=(), repr=False)
    _multi_aliases: tuple[str, ...] = field(default=(), repr=False)
    _name_words: tuple[str, ...] = field(default=(), repr=False)  # words of entity names, 4+ letters


def build_alias_index(names: Iterable[tuple[str, Iterable[str]]], keywords: Iterable[str]) -> AliasIndex:
    """Build the alias index from ``(entity_id, [name, synonym, ...])`` pairs and the index's own words."""
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
        _name_words=tuple(sorted({w for a in aliases for w in a.split() if len(w) >= 4 and w.isalpha()
                                  and w not in COMMON_WORDS})),
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


# Misspelt small words of questions ("wich", "wat"): edit distance alone cannot tell these apart.
FUNCTION_TYPOS = {"wich": "which", "whic": "which", "wat": "what", "wht": "what", "waht": "what", "whta": "what",
                  "wher": "where", "whare": "where", "hwo": "how", "hw": "how", "teh": "the", "thr": "the",
                  "doe": "does", "dos": "does", "duz": "does", "wats": "what", "whts": "what", "whos": "who", "hows": "how", "dus": "does", "iz": "is", "wot": "what", "wen": "when", "y": "why", "u": "you", "ur": "your", "r": "are"}


def singular_form(word: str) -> str:
    """A plain singular guess ("grams" -> "gram", "bodies" -> "body"), known word or not."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


_COMMON_LONG = tuple(sorted(w for w in COMMON_WORDS if len(w) >= 5))


def sound_key(word: str) -> str:
    """A crude sound-alike key: silent first letters dropped, s/z/c and k/q/c merged, vowels and
    doubles removed (``"psoas"`` and ``"soaz"`` share ``"s"`` + ``"s"``)."""
    w = re.sub(r"^(ps|pn|kn|gn|wr)", lambda m: m.group(0)[1], word)
    w = w.replace("ph", "f").replace("ck", "k").replace("qu", "k")
    w = re.sub(r"c(?=[eiy])", "s", w).replace("c", "k").replace("z", "s").replace("x", "ks")
    head, tail = w[:1], re.sub(r"[aeiouy]", "", w[1:])
    return re.sub(r"(.)\1+", r"\1", head + tail)


def repair(tokens: list[str], index: AliasIndex, *, fuzzy: bool = True,
           keep: frozenset[int] = frozenset(), is_word: Any = None) -> tuple[list[str], int]:
    """Singularise tokens and repair likely typos against the index vocabulary.

    Returns the new tokens and how many were changed by fuzzy repair (plurals do not count).
    Words of five letters or more that are neither known nor common English are repaired to a
    vocabulary word at edit-similarity >= 80, a word of an entity's name first ("illiacus" ->
    "iliacus", "flexer" -> "flexor", not "flexed"); shorter ones only when they sound like a name
    word ("soaz" -> "psoas") or are a misspelt question word ("wich"). Positions in ``keep`` (names
    already found) are left alone, and so are words ``is_word`` knows as ordinary English ("curious"
    is not a typo of "cautious").
    """
    out: list[str] = []
    repaired = 0
    for j, tok in enumerate(tokens):
        word = singular(tok, index.vocabulary)
        if j in keep or not fuzzy:
            out.append(word)
            continue
        if word in FUNCTION_TYPOS and word not in index.vocabulary:
            out.append(FUNCTION_TYPOS[word])
            continue
        unknown = word not in index.vocabulary and word not in COMMON_WORDS and word.isalpha()
        if unknown and is_word is not None and (is_word(word) or is_word(singular_form(word))):
            out.append(word)
            continue
        if unknown and len(word) >= 5:
            hit = process.extractOne(word, _COMMON_LONG, scorer=fuzz.ratio, score_cutoff=80) or process.extractOne(
                word, index._name_words, scorer=fuzz.ratio, score_cutoff=80)
            if hit is None:
                hit = process.extractOne(word, index._vocab_list, scorer=fuzz.ratio, score_cutoff=80)
            if hit is not None and hit[0][0] == word[0]:  # a typo keeps its first letter ("grams" is no "ramus")
                word = hit[0]
                repaired += 1
        elif unknown and len(word) == 4:
            key = sound_key(word)
            hit = process.extractOne(word, [w for w in index._name_words if len(w) == 5 and sound_key(w) == key],
                                     scorer=fuzz.ratio, score_cutoff=60)
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
