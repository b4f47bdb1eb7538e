"""Re-ranking the candidate passages of a question: transparent features on top of BM25 and the
embedding cosine (the subject named, its parts, the asked relation, cue words, the share of the
question's own words, study results for research questions, care aspects ...). Used by
:meth:`ask_index.AskIndex.search`; kept apart from reading the question.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any

from iliopsoas.knowledge.ask_docs import Doc
from iliopsoas.knowledge.ask_tables import stem as _stem
from iliopsoas.knowledge.ask_text import EXPAND, FINDING, SEARCHED_AS

__all__ = ["SHARE_ASKED", "aspect_bonus", "rerank"]

_SEM_W = float(os.environ.get("ASK_SEM_W", "1"))
STOP = frozenset(
    "a an the of to in on at by for and or is are was were be been i me my you your it its this "
    "that these those there their they we our us can could should would will shall may might must have has "
    "had with about into from as so if than then just also really please tell know".split()
)
_RELATION_PREDICATES = frozenset("origin insertion innervation blood_supply crosses_joint antagonist_of synergist_of "
                                 "part_of adjacent_to located_in action".split())
_RESEARCH = re.compile(r"\b(study|studies|studied|trial|trials|research|evidence|meta|analysis|according to|"
                       r"better than|worse than|as good as|more effective|effective|effect|effects|results?|found|"
                       r"find|show|shows|showed|compared?|versus|vs|which works|work better|hurt performance|"
                       r"performance|does it work|do they work|most flexibility|most gain|optimal|optimum|"
                       r"maximi[sz]e\w*|benefit levels off)\b")
_DOSE_ASKED = re.compile(r"\b(hold|holds|holding|reps?|repetitions?|sets?|how long|how often|how many times|"
                         r"seconds?|minutes?|dose|dosage|per day|a day|per week|a week|times|tempo)\b")


# what a care question asks about, and the passages that speak to it ("rest or keep stretching?" -> rest)
ASPECTS: dict[str, re.Pattern[str]] = {
    "rest": re.compile(r"\b(rest|resting|overuse|overused|overdid|overdo\w*|overdoing|time off|take a break)\b"),
    # "what should I do instead" asks what to do; "what does it pull on instead" does not
    "stop": re.compile(r"\b(stop|stopping|what now|what do i do|what if|elsewhere|somewhere else|other than|"
                       r"(do|try|use) instead)\b"),
    "feel": re.compile(r"\bwhat (should|will|do|would|can) (i|you|one) feel\b|\bwhere (should|will|do) (i|you) feel\b|"
                       r"\bwhat (does|should) (it|this) feel like\b"),
    "where_pain": re.compile(r"\bwhere\b.*\b(hurt|hurts|pain|painful|ache|aches|sore|felt)\b|"
                             r"\b(hurt|hurts|pain|ache|aches|felt)\b.*\bwhere\b"),
}
_PLACES = re.compile(r"\b(front of the hip|groin|thigh|knee|lower back|low back|buttock)\b")
_PAIN = re.compile(r"\b(pain|painful|hurts?|ache|aching|sore)\b")


def aspects_asked(text: str) -> frozenset[str]:
    """The care aspects a question asks about (rest, stop signs, what it feels like, where it hurts)."""
    return frozenset(name for name, rx in ASPECTS.items() if rx.search(text))


def aspect_bonus(aspects: frozenset[str], d: Doc) -> float:
    if not aspects:
        return 0.0
    text = d.sentence.lower()
    bonus = 0.0
    if "rest" in aspects and re.search(r"\brest\b", text) and d.kind != "care":
        bonus += 0.6
    if "stop" in aspects and d.kind == "care" and d.predicate == "stop":
        bonus += 0.4
    if "feel" in aspects and d.kind == "care" and d.predicate == "feel":
        bonus += 0.4
    if "where_pain" in aspects and d.kind != "care" and _PAIN.search(text):
        bonus += 0.25 * min(3, len(set(_PLACES.findall(text))))  # where it hurts: the more places named, the better
    return bonus


def _kind(index: Any, entity: str) -> str:
    e = index.atlas.entities.get(entity)
    return str(getattr(e.kind, "value", e.kind)) if e is not None else ""


def _named_in(index: Any, entity: str, tokens: Sequence[str]) -> bool:
    e = index.atlas.entities.get(entity)
    words = {w for w in re.findall(r"[a-z]+", e.name.lower()) if w not in ("test", "modified")} if e is not None else set()
    return bool(words & set(tokens))


# a share or count of people asked ("how many have their pelvis tipped forward", "what percentage of adults")
SHARE_ASKED = re.compile(r"\b(what|which) (percentage|percent|proportion|share|fraction|ratio)\b|\bhow many (people|persons|"
                         r"patients|adults|individuals|men|women|of (us|them|people))\b|\bhow (common|prevalent|often does)\b|"
                         r"\b(what|which) (\w+ )?(number|count) of\b")
# a link between two things asked ("has research shown a link between hip flexor length and pelvic tilt"); the
# passages that report one, or its absence, are ask_text.FINDING
_LINK_ASKED = re.compile(r"\b(link|links|linked|relationship|relation|related|relate|correlat\w*|associat\w*|connection|"
                         r"connected)\b")
_PERCENT = re.compile(r"\d\s?%|\bper ?cent\b")
_FIGURE = re.compile(r"\b\d+(\.\d+)?\s?(deg|degrees|%|cm|mm|n|kg|s|min|hours?)\b")
_RARE_IDF = 5.0  # idf of a word found in about 1 passage in 150
_RARE_W = 0.3


# the four seed articles named by their titles: "according to the Ultimate Guide" prefers that article's claims
_ARTICLES = {"000": re.compile(r"\bdeep dive\b"), "001": re.compile(r"\b(complete )?anatomy guide\b"),
             "002": re.compile(r"\bverywell\b"), "003": re.compile(r"\bultimate guide\b")}


# a reason or a purpose given in a passage, what a "why" question asks for
_PURPOSE = re.compile(r"\b(because|so that|so as to|in order to|due to|as a result|which (is )?why|to (flatten|keep|stop|"
                      r"prevent|avoid|lock|fix|hold|steady|stabili[sz]e|remove|rule out|isolate|take up))\b", re.I)


# kinds of entity whose names are not phrases to lift (see rerank: "hip flexor" names the iliopsoas)
_STRUCTURE_KINDS = ("muscle", "muscle_group", "bone", "bony_landmark", "joint", "ligament", "tendon")
# a question about why something is risky or unsafe: the safety file's reasons answer it
_RISK_ASKED = re.compile(r"\b(risky|risks?|dangerous|danger|unsafe|harmful|contraindicat\w*)\b")


def named_articles(text: str) -> set[str]:
    """The seed articles a question names by title ("the Verywell article": {"002"})."""
    return {a for a, rx in _ARTICLES.items() if rx.search(text)}


def rerank(index: Any, q: Any, hits: Sequence[tuple[int, float]], sem: Any) -> list[tuple[Doc, float]]:
    """``hits`` (row, BM25 score) re-scored for ``q``, best first."""
    top = max(s for _, s in hits) or 1.0
    qstems = {_stem(t) for t in q.content}
    kstems = {_stem(t) for t in q.key if len(t) > 2 and t not in STOP}
    # each of the question's own words, with the words the passages explain it by ("tight": shortened)
    kgroups = [frozenset({_stem(t), *(_stem(x) for x in EXPAND.get(t, ()))}) for t in dict.fromkeys(q.key)
               if len(t) > 2 and t not in STOP]

    def share(d: Doc) -> float:
        have = index.doc_stems[d.id]
        return sum(1 for g in kgroups if g & have) / len(kgroups) if kgroups else 0.0
    # the question's rare words ("heat", "ice", "performance", "PNF"): a passage using two or more of them speaks
    # to what is asked even when it is about another structure than the one named
    rare = {t for t in kstems if index.idf(t) >= _RARE_IDF}
    ents = set(q.entities)
    lead_parts: set[str] = set()
    if q.relations and q.entities:
        # "the origin of the iliopsoas": a whole without such statements is asked through its parts
        whole = q.entities[0]
        if not any(d.predicate in q.relations for d in index.by_subject.get(whole, ())):
            parts = {c for c in index.children.get(whole, ())
                     if any(d.predicate in q.relations for d in index.by_subject.get(c, ()))}
            ents |= parts
            if parts:
                lead_parts = parts
    weight = 0.3 if q.generic else 1.0
    first = q.entities[0] if q.entities else None
    # a clinical test described without its name ("I hug one knee to my chest and the other leg lifts off
    # the floor"): most of the question's words are its procedure, so the test is what is asked about
    loose = q.generic or not q.entities  # only loose words ("one knee", "the leg") name a structure
    described = set() if len(kgroups) < 3 or not loose or q.qtype in ("number", "why") else {
        d.subject for d in (index.docs[row] for row, _ in hits)
        if d.kind == "fact" and d.subject and d.subject not in ents and d.predicate == "property"
        and _kind(index, d.subject) == "clinical_test" and share(d) >= 0.5 and share(d) * len(kgroups) >= 3
        and not _named_in(index, d.subject, q.tokens)}  # a test named ("the Thomas position") is matched as named
    # "before a game", "slower in a race": performance, which studies answer
    share_asked = SHARE_ASKED.search(q.asked) is not None
    link_asked = _LINK_ASKED.search(q.asked) is not None
    research = _RESEARCH.search(q.text) is not None or any("performance" in SEARCHED_AS.get(t, ()) for t in q.content)
    articles = named_articles(q.text)
    # a phrase of two or more words the question names ("pinched nerve", "snapping hip"), said as such by a passage
    # (not a structure's own name: "hip flexor" is the iliopsoas, asked about through its passages anyway)
    phrases = {m.alias for m in q.mentions if " " in m.alias and index.kind_of(m.entity) not in _STRUCTURE_KINDS}
    out = []
    for row, bm in hits:
        d = index.docs[row]
        s = bm / top
        if phrases and any(p in d.sentence.lower() for p in phrases):
            s += 0.4
        if articles and any(c[1:4] in articles for c in d.claims):
            s += 0.4
        about = {d.subject, *d.objects} & ents
        if q.seeking == 2:
            s += 0.2 if about else 0.0
        elif q.seeking == 1 and d.subject in ents and d.kind == "fact":
            s += weight * 0.3  # "which muscles work with X": X is the object of the answer
        elif d.subject in ents:
            boost = weight * (0.8 if d.subject == first or d.subject in lead_parts else 0.5)
            if lead_parts and d.subject == first:
                boost = weight * 0.5  # the whole has no such statements: its parts answer
            if q.qtype == "why" and kstems:  # a "why" wants the passage that speaks to its words
                boost *= 0.5 + 0.5 * share(d)
            s += boost
        elif about:
            s += weight * (0.6 if d.predicate in ("antagonist_of", "synergist_of") else 0.3)
        elif d.subject in described:
            s += 1.0  # a loose word ("one knee") named in the description is not what is asked
        elif {d.subject, *d.objects} & set(q.related):
            s += weight * (0.15 if q.implied else 0.4)
        elif ents and not q.seeking and d.kind in ("fact", "entity", "care"):
            s -= 0.5
        s += 0.25 * min(2, len(index.cue_stems[d.id] & qstems))
        if kgroups:  # how many of the question's own words the passage uses
            s += 0.3 * share(d)
        said_rare = len(rare & index.doc_stems[d.id]) if len(rare) >= 2 and not about and not research \
            and not {d.subject, *d.objects} & set(q.related) else 0
        if said_rare >= 2:
            s += _RARE_W * min(3, said_rare)
        elif len(rare) == 1 and not q.entities and rare & index.doc_stems[d.id]:
            s += 2 * _RARE_W  # "what is PNF stretching": the one rare word names what is asked
        aspect = aspect_bonus(q.aspects, d)
        s += aspect
        if d.seed and not q.claim and not (d.subject in ents and set(d.objects) & ents):
            s -= 0.2 if d.status == "consistent" and not aspect else 0.5 if d.status != "consistent" else 0.0
        if d.predicate == "definition" and q.qtype != "definition":
            s -= 0.4
        if d.predicate == "laterality" and not index.cue_stems[d.id] & qstems:
            s -= 0.5
        if q.qtype == "why" and d.kind in ("claim", "conflict", "verdict"):
            s += 0.15
        if q.qtype == "why" and _PURPOSE.search(d.sentence):
            s += 0.5  # "why is the other knee hugged": the passage giving a reason or purpose ("to flatten the low back")
        if d.predicate == "associated_condition" and index.pain_words & set(q.content):
            s += 0.3
        elif q.qtype == "why" and d.kind == "care" and d.predicate != "evidence":
            s -= 0.3  # a program step does not explain a cause (its evidence may)
        elif d.kind in ("claim", "verdict") and not q.claim and q.qtype not in ("yesno", "why") \
                and not (aspect and d.status == "consistent"):
            s -= 0.3  # an article's assertion answers "is it true", not "how do I" (unless it gives the asked advice)
        if d.kind == "care" and (q.qtype == "overview" or index.care_words & set(q.content)):
            s += 0.3
        if d.kind == "care" and d.predicate == "dose" and not _DOSE_ASKED.search(q.asked):
            s -= 0.5  # a program dose answers "how long / how many / how often", not a study's figure
        if q.qtype == "which_of":
            s += 0.5 if d.kind in ("claim", "conflict") and {d.subject, *d.objects} >= set(q.entities[:2]) else 0.0
            s -= 0.5 if d.kind == "care" else 0.0
        if d.kind == "care" and (q.qtype != "why" or d.predicate == "evidence"):
            doing = q.qtype in ("how", "overview", "why") or bool(index.care_words & set(q.content))
            if doing and index.kind_words.get(d.id, frozenset()) & set(q.content):
                s += 0.5  # "release" asks for the release steps, "stretch" for the stretches
            if d.predicate == "how" and q.qtype == "how" or d.predicate == "dose" and _DOSE_ASKED.search(q.asked):
                s += 0.3
            if d.predicate == "evidence" and index.evidence_words & set(q.content):
                s += 0.4
        if d.kind == "fact" and d.status in ("contradicted", "opinion") and not q.claim:
            s -= 0.3
        if q.claim and d.kind in ("claim", "verdict"):
            s += 0.4
        elif q.qtype == "yesno" and d.kind == "claim" and len(kgroups) >= 2 and share(d) >= 0.75:
            s += 0.6 * share(d)  # "is sustained pressure a better release than stretching": the claim that says it
        if q.qtype == "definition" and d.predicate == "definition" and d.subject == first:
            s += 0.8
        if q.qtype == "number" and (d.number or _FIGURE.search(d.sentence)):
            s += 0.3  # "how much less hip extension": a passage with a figure, also inside a care step's evidence
            if share_asked and _PERCENT.search(d.sentence):
                s += 0.3  # a share asked: a passage giving one
        elif q.qtype == "number" and d.kind == "fact" and d.predicate == "action":
            s -= 0.2  # a plain "acts in hip extension" holds no amount
        if d.kind == "safety" and not _RISK_ASKED.search(q.text):
            s -= 0.6  # screening items answer "what are the red flags" or "why is it risky", not anatomy
        if link_asked and d.kind == "fact" and FINDING.search(d.sentence):
            s += 0.5  # a link asked: a passage that reports one, or none
        if research and d.kind == "fact" and d.extra.get("result"):
            s += 0.5  # "what did the trial find", "is A better than B": a study's result
        elif research and d.kind == "care" and d.predicate != "evidence":
            s -= 0.6
        if q.qtype == "why" and d.kind == "fact" and d.number and d.predicate == "property":
            s -= 0.4  # a population figure does not explain a "why"
        if "else" in q.tokens and d.subject in ents and set(d.objects) and set(d.objects) <= ents:
            s -= 0.5  # "what else is connected to A and B": things other than A and B
        if q.relations and d.kind == "fact" and d.predicate in _RELATION_PREDICATES:
            s += 0.35 if d.predicate in q.relations else -0.15  # "where does it attach": origin, insertion
        if q.studies and q.studies & set(d.sources):
            s += 0.6 / (1 + 0.25 * max(0, len(d.sources) - 1))  # the study named, best when it is the only source
        elif q.studies and any(x in index.dated for x in d.sources):
            s -= 0.3  # another study's finding answers another question
        if sem is not None:
            s += _SEM_W * float(sem[row])
        out.append((d, s))
    out.sort(key=lambda t: (-t[1], t[0].id))
    return out

