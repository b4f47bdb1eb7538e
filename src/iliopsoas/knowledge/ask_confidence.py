"""What Ask's confidence is computed from: features of the question, the passages found and the
answer written (names match ``data/ask_calibration.json``; the logistic model over them is fitted on
the dev split by ``scripts/fit_ask_calibration.py``, see :class:`~iliopsoas.knowledge.ask.Calibration`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from iliopsoas.knowledge.ask_docs import Doc
from iliopsoas.knowledge.ask_index import AskIndex, Query, _stem
from iliopsoas.knowledge.ask_text import EXPAND
from iliopsoas.knowledge.ask_write import Draft

_KIND_NOUNS = {"bone": ("bone", "bony_landmark"), "muscle": ("muscle", "muscle_group"), "nerve": ("nerve", "nerve_plexus"),
               "artery": ("vessel",), "vessel": ("vessel",), "joint": ("joint",), "ligament": ("ligament",),
               "organ": ("organ", "organ_system"), "tendon": ("tendon",), "test": ("clinical_test",)}


# Kinds of quantity a question can ask for, and the words or units a passage measuring it uses.
_QUANTITY_KINDS = tuple((re.compile(a), re.compile(b)) for a, b in (
    (r"\b(how fast|how quick\w*|speed|velocity|how rapid\w*)\b", r"\b(speed|velocity|fast|m/s|per second|lengths/s)\b"),
    (r"\b(how heavy|weigh|weighs|weight of|mass|grams?|kilograms?|kg)\b", r"\b(mass|weighs|weighed|grams?|kg|\d+ g)\b"),
    (r"\b(temperature|how hot|how cold)\b", r"\b(temperature|degrees celsius)\b"),
    (r"\b(tensile|stiffness|elasticity|modulus|breaking (strength|point|load))\b", r"\b(tensile|stiffness|modulus|mpa)\b"),
    (r"\b(how many calories|calories|energy use)\b", r"\b(calories|kcal|joules)\b"),
    (r"\b(type i|type 1|type ii|type 2|fibre type|fiber type|slow twitch|fast twitch)\b", r"\b(type i|type 1|twitch)\b"),
))
_DOSE_COUNTS = frozenset("times reps repetitions sets minutes seconds hours days weeks degrees sessions session rounds "
                         "holds".split())
# Groups of people a figure can be about (a question's group must be the one the figure describes).
_POPULATION = {w: g for g, words in {
    "child": "child children kid kids infant infants baby babies toddler toddlers boy boys girl girls",
    "teen": "teen teens teenager teenagers adolescent adolescents youth",
    "old": "elderly older seniors senior aged",
    "woman": "woman women female females",
    "man": "man men male males",
    "athlete": "athlete athletes runner runners sportsmen dancer dancers",
    "fetus": "fetus fetuses foetus foetuses fetal",
    "pregnant": "pregnant pregnancy",
}.items() for w in words.split()}


def _cue_groups() -> tuple[frozenset[str], ...]:
    from iliopsoas.knowledge.ask_docs import CUES

    skip = {"what", "is", "are", "do", "does", "of", "the", "from", "to", "up", "with", "made", "make", "part"}
    return tuple(frozenset(_stem(w) for w in v.split() if w not in skip and len(w) > 2) for v in CUES.values() if v)


_CUE_GROUPS = _cue_groups()


def singular_noun(word: str) -> str:
    """"bones" -> "bone", "arteries" -> "artery" (for the kind nouns above)."""
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


_STUDY_VERBS = frozenset("show shows showed shown find finds found conclude concluded report reported study "
                         "studies paper trial research et al colleagues".split())


def _cited_words(index: AskIndex, q: Query, docs: Sequence[Doc]) -> set[str]:
    """The words naming the studies the question names (authors, year) that the passages shown cite."""
    out: set[str] = set()
    for x in docs:
        for sid in set(x.sources) & q.studies:
            src = index.atlas.sources.get(sid)
            if src is not None:
                out |= set(re.findall(r"[a-z0-9]+", f"{src.authors or ''} {src.year or ''} {sid}".lower()))
    return out


def features(index: AskIndex, q: Query, ranked: Sequence[tuple[Doc, float]], d: Draft) -> dict[str, float]:
    """What the confidence model sees (names match ``ask_calibration.json``).

    Beyond the retrieval scores: how much of what the question asks is in the passages shown
    (``miss``: the share of the question's rarer words, weighted by how rare they are in the index,
    that no shown passage uses), how close the question and the answer are in meaning (``sem``),
    and whether a yes/no question got a verdict.
    """
    top = ranked[0][1]
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    lead = d.docs[0]
    words: set[str] = set()
    for x in d.docs[:2]:
        words |= {_stem(w) for w in re.findall(r"[a-z0-9]+", f"{x.sentence} {x.cues} {x.names}".lower())}
    content = [w for w in q.key if len(w) > 2]
    shown: set[str] = set()
    if q.studies:  # "what did Bandy 1997 show": the study's names and year are said by citing it, not in the text
        cited = {_stem(w) for w in _cited_words(index, q, d.docs[:3])}
        words |= cited
        shown |= cited
        content = [w for w in content if w not in _STUDY_VERBS] or content
    hit = sum(1 for w in content if _stem(w) in words or any(_stem(x) in words for x in EXPAND.get(w, ())))
    covered = hit / len(content) if content else 1.0
    for x in d.docs:
        shown |= index.doc_stems.get(x.id, frozenset()) | index.cue_stems.get(x.id, frozenset())
    kinds = {index.kind_of(e) for x in d.docs for e in (x.subject, *x.objects) if e}
    weights = {w: index.idf(_stem(w)) for w in content}
    total = sum(weights.values())

    near = index.near_words(d.docs[:3])

    def missing(w: str) -> bool:
        if _stem(w) in shown or any(_stem(x) in shown for x in EXPAND.get(w, ())):
            return False  # a lay word counts as said the way the passages say it ("desk": sitting)
        # "which bones make the SI joint": a kind of structure is there when the answer names one
        if kinds & set(_KIND_NOUNS.get(singular_noun(w), ())):
            return False
        if any(_stem(w) in group and (group - {_stem(w)}) & shown for group in _CUE_GROUPS):
            return False  # "oppose" is there when the answer says "antagonist"
        return not near(w)  # "under" is there when the answer says "beneath"

    miss = sum(v for w, v in weights.items() if missing(w)) / total if total else 0.0
    about = bool({lead.subject, *lead.objects} & set(q.entities))
    sem = index.similarity(q, lead)
    # "the pennation angle of the iliacus in children": a figure for another group is not the answer
    groups = {_POPULATION[w] for w in q.tokens if w in _POPULATION}
    told = {_POPULATION[w] for x in d.docs[:2] for w in re.findall(r"[a-z]+", f"{x.sentence} {x.body}".lower())
            if w in _POPULATION}
    population_miss = 1.0 if groups - told else 0.0
    # "how fast", "how heavy": a kind of quantity that no passage shown measures
    shown_text = " ".join(f"{x.sentence} {x.body}".lower() for x in d.docs)
    kind_miss = 1.0 if any(rx.search(q.asked) and not marks.search(shown_text) for rx, marks in _QUANTITY_KINDS) else 0.0
    # "how many muscle fibres": a count of the things named, not some other figure about them
    count = re.search(r"\bhow many (\w+)", q.asked)
    count_miss = 0.0
    if count and count.group(1) not in _DOSE_COUNTS:
        noun = _stem(count.group(1))
        text = f"{lead.number if lead.predicate == 'count' else ''} {lead.sentence} {lead.body}".lower()
        counted = re.search(rf"\b\d[\d,.]*(?:\u2013\d+)?\s+(\w+\s+){{0,2}}{re.escape(noun)}", text)
        count_miss = 0.0 if counted or (q.qtype != "number") else 1.0
    return {
        "top": top,
        "margin": top - second,
        "coverage": covered,
        "miss": miss,
        "sem": sem,
        "entity": 1.0 if about else 0.0,
        "named": 1.0 if q.entities else 0.0,
        "unknown": float(len(q.unknown)),
        "repaired": float(q.repaired),
        "seed": 1.0 if lead.seed else 0.0,
        "polar": 1.0 if d.polarity else 0.0,
        "open_yesno": 1.0 if q.qtype == "yesno" and not d.polarity else 0.0,
        "why": 1.0 if q.qtype == "why" else 0.0,
        "claim_top": 1.0 if lead.kind in ("claim", "verdict", "conflict") else 0.0,
        "number_hit": 1.0 if q.qtype == "number" and (lead.number or lead.predicate == "dose") else 0.0,
        "number_miss": 1.0 if q.qtype == "number" and not (lead.number or lead.predicate == "dose") else 0.0,
        "content": float(len(q.key)),
        "population_miss": population_miss,
        "count_miss": count_miss,
        "kind_miss": kind_miss,
    }
