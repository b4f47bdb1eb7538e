"""Offline question answering over everything the project knows: short, cited, honest answers.

>>> from iliopsoas.knowledge.ask import ask
>>> a = ask("What nerve supplies the iliacus?")          # doctest: +SKIP
>>> a.short                                              # doctest: +SKIP
'The iliacus is supplied by the femoral nerve (L2–L3).'

How a question is answered (deterministic, no network, no model download):

1. **Safety first** (:mod:`ask_safety`, reading the one safety file). A red flag leads with the
   urgent line and what to do; a contraindication asked together with the technique it rules out
   (pressure, massage, release) gets why it is unsafe and "see a clinician", never the technique or
   its dose; personal medical decisions and off-topic asks are refused.
2. **Retrieval** (:mod:`ask_index`): the passages of the atlas, the care protocols, the clinical
   tests, the claims with their verdicts, our model verdicts and the safety items, ranked by BM25
   (SQLite FTS5) and a few re-ranking features.
3. **Writing** (:mod:`ask_write`): the first sentence answers (yes/no first, the number first, the
   definition first), then at most four more facts, each with its sources and evidence status, and
   a conflict note only when the facts shown disagree. ``more`` holds the full evidence.
4. **Confidence** is a logistic model of retrieval features, calibrated on the development split
   of the evaluation (``knowledge/data/ask_calibration.json``); below its threshold Ask refuses.
"""

from __future__ import annotations

import json
import math
import re
import threading
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from iliopsoas.knowledge import ask_safety as safety
from iliopsoas.knowledge.ask_confidence import features
from iliopsoas.knowledge.ask_count import counted
from iliopsoas.knowledge.ask_docs import for_readers
from iliopsoas.knowledge.ask_effect import SAID_AS
from iliopsoas.knowledge.ask_index import GENERIC_WORDS, OPENS_ASK, AskIndex, Query
from iliopsoas.knowledge.ask_pairs import shared_answer
from iliopsoas.knowledge.ask_rank import SHARE_ASKED
from iliopsoas.knowledge.ask_specifics import unmatched
from iliopsoas.knowledge.ask_tables import stem
from iliopsoas.knowledge.ask_terms import asked_terms, defining_passages, named_concept
from iliopsoas.knowledge.ask_write import Draft, compose

MAX_QUESTION_CHARS = 1000

__all__ = ["Answer", "AnswerSource", "AnswerStatement", "Asker", "MAX_QUESTION_CHARS", "ask"]


class AnswerStatement(BaseModel):
    """One atlas statement an answer relies on. ``object`` is an entity id, or the literal as text."""

    model_config = ConfigDict(frozen=True)

    id: str
    subject: str
    predicate: str
    object: str | None
    sources: list[str]
    status: str


class AnswerSource(BaseModel):
    """A source an answer cites: its key, title, a readable citation and a link (DOI or URL) if any."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    citation: str = ""
    link: str | None = None


class Answer(BaseModel):
    """The result of :func:`ask`, shared by the CLI's ``--json`` and ``POST /api/ask``.

    ``answer`` is the full text shown to a person; ``short`` its first sentence; ``kind`` is
    ``answer``, ``refusal`` or ``safety``; ``urgent`` is true when a red flag was recognised;
    ``safety`` lists the recognised item ids of ``knowledge/data/safety.yaml``; ``more`` is the full
    evidence (every passage found, with sources), shown behind a "more" toggle on the web page.
    """

    model_config = ConfigDict(frozen=True)

    question: str
    answered: bool
    answer: str
    statements: list[AnswerStatement] = Field(default_factory=list)
    sources: list[AnswerSource] = Field(default_factory=list)
    confidence: float = Field(ge=0.0, le=1.0)
    short: str = ""
    urgent: bool = False
    safety: list[str] = Field(default_factory=list)
    kind: str = "answer"
    more: str = ""


@dataclass(frozen=True)
class Calibration:
    """Logistic weights over :func:`ask_write.features` and the refusal threshold (fitted on dev)."""

    names: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float

    def probability(self, feats: dict[str, float]) -> float:
        z = self.bias + sum(w * feats.get(n, 0.0) for n, w in zip(self.names, self.weights, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))



def load_calibration() -> Calibration:
    text = resources.files("iliopsoas.knowledge").joinpath("data/ask_calibration.json").read_text(encoding="utf-8")
    d = json.loads(text)
    return Calibration(tuple(d["features"]), tuple(float(w) for w in d["weights"]), float(d["bias"]), float(d["threshold"]))


class Asker:
    """The question answerer for one atlas: its index and calibration, built once (thread-safe to use)."""

    def __init__(self, atlas: Any, calibration: Calibration | None = None):
        self.index = AskIndex(atlas)
        self.atlas = atlas
        self.calibration = calibration or load_calibration()

    def answer(self, question: str, *, threshold: float | None = None) -> Answer:
        q, rec = self.read(question)
        got = self._respond(question, q, rec, threshold)
        tail = question_tail(question)
        if got.kind != "refusal" or tail is None or safety.personal_decisions(q.asked or q.text):
            return got
        # "not losing weight, no fever either. what's contract relax stretching?": the statements before the
        # question told the safety check about the asker; when, read together, they lose the question, the
        # question is answered on its own (with the structures the statements named) - still under every
        # safety item the whole text named
        q2, rec2 = self.read(tail)
        if not q2.entities and q.mentions:
            named = " ".join(dict.fromkeys(m.alias for m in q.mentions if m.alias not in GENERIC_WORDS))
            if named:
                q2, rec2 = self.read(f"{tail} ({named})")
        both = safety.Recognised(tuple(dict.fromkeys((*rec.items, *rec2.items))),
                                 tuple(sorted({*rec.techniques, *rec2.techniques})), rec.personal or rec2.personal,
                                 rec.sign_words | rec2.sign_words)
        retry = self._respond(question, q2, both, threshold)
        return retry if retry.kind == "answer" and retry.answered else got

    def _respond(self, question: str, q: Query, rec: safety.Recognised, threshold: float | None) -> Answer:
        if rec.red_flags:
            return self._safety(question, q, rec, urgent=True, threshold=threshold)
        if rec.blocked_techniques():
            return self._safety(question, q, rec, urgent=False)
        # a decision is asked in the asking part: "cleared by my obstetrician, ... how do I stretch my
        # psoas?" tells of a clearance and asks how to stretch
        personal = safety.personal_decisions(q.asked or q.text)
        if safety.overuse_question(q.text):  # "overdid squats, hip flexors sore: what should I do first?"
            personal = [p for p in personal if p not in ("personal advice", "treatment decision")]
        if rec.contraindications and rec.personal and _asks_permission(q.text):
            personal = personal or ["personal advice"]
        if personal:
            return self._refuse(question, rec, clinician=True)
        concept = named_concept(self.index, q.asked)
        if concept is not None:  # "what is the psoas paradox": the name defined by the passage giving it first
            return self._concept(question, q, rec, concept, threshold)
        shared = shared_answer(self.index, q)
        if shared is not None:  # "which artery supplies both the psoas and the iliacus": what the two have in common
            return self._with_lead(question, q, rec, shared, threshold)
        count = counted(self.index, q) if q.qtype == "number" else None
        if count is not None:  # "how many lumbar vertebrae": the count the passages give, first
            return self._with_lead(question, q, rec, count, threshold)
        terms = None if any(m.alias not in GENERIC_WORDS for m in q.mentions) else asked_terms(q.asked)
        if terms:  # "what is the difference between a muscle's origin and insertion": a general word, defined or not
            return self._general(question, q, rec, terms, threshold)
        if safety.off_topic(q.text) or len(q.tokens) < 2:
            return self._refuse(question, rec, clinician=_about_self(q.text))
        scored = self.assess(q, rec)
        if scored is None:
            return self._refuse(question, rec, clinician=_about_self(q.text))
        draft, feats = scored
        if self._outside(q) and not _claim_asked(q, draft):
            # a body part outside the region, unless the question restates an article's claim that names it
            # ("does pressure relax muscle because receptors tell the brain to let go": the ledger has a verdict)
            return self._refuse(question, rec, clinician=_about_self(q.text))
        unnamed = _unknown_structure(q, question)
        if unnamed is not None:  # "which muscle does the radial nerve run beside": a nerve the atlas does not hold
            return self._refuse(question, rec, detail=f"My sources do not describe the {unnamed}.",
                                clinician=_about_self(q.text))
        if q.other_studies and not q.studies:  # "what did Smith et al. 2010 find": a study the atlas does not cite
            named = q.other_studies[0]
            what = f"figures from {named}" if named.startswith("the ") else f"the study by {named}"
            return self._refuse(question, rec, detail=f"My sources do not include {what}.",
                                clinician=_about_self(q.text))
        missing = unmatched(question, draft.docs, self.atlas.sources)
        if missing is not None:  # a neighbouring study, level, angle or group would answer another question
            return self._refuse(question, rec, detail=f"My sources give no figure for {missing}.",
                                clinician=_about_self(q.text))
        if _effect_unsaid(q, draft):  # "can a tight psoas cause knee arthritis": no passage shown speaks of arthritis
            return self._refuse(question, rec, clinician=_about_self(q.text))
        far = _far_effect(q.asked, draft)
        if far is not None:  # "can a tight psoas cause shoulder pain": no passage speaks of the shoulder
            return self._refuse(question, rec, detail=f"My sources say nothing about the {far} in this connection.",
                                clinician=_about_self(q.text))
        if _figure_unanswered(q, feats) or _share_for_another_group(q, draft):
            # "how many fibres", "what percentage of people with back pain ...": a count or share asked, and
            # the answer holds no figure of it (a length or a plain sentence answers another question)
            return self._refuse(question, rec, detail="My sources give no figure for what you asked.",
                                clinician=_about_self(q.text))
        unit = _unit_unanswered(q, draft)
        if unit is not None:  # "what mean tilt angle in degrees did Herrington report": they gave shares
            return self._refuse(question, rec, detail=f"My sources give no figure in {unit} for what you asked.",
                                clinician=_about_self(q.text))
        confidence = self.calibration.probability(feats)
        limit = self.calibration.threshold if threshold is None else threshold
        if confidence < limit:
            return self._refuse(question, rec, confidence=confidence, clinician=_about_self(q.text))
        return self._finish(question, draft, confidence, rec)

    def read(self, question: str) -> tuple[Query, safety.Recognised]:
        """The question as the index reads it, and the safety items it names (signs about the asker
        set aside from what is asked)."""
        q = self.index.analyse(question)
        # the safety matcher repairs towards its own words more boldly than retrieval does: only the tokenizer's
        # whole words are kept from it (a misspelling that is also a rare English word may still be a red flag)
        embedder = self.index.embedder
        rec = safety.recognise(question, self.index.alias.vocabulary, matcher=self.index.matcher,
                               is_word=embedder.is_word if embedder is not None else None)
        if rec.sign_words:  # "I have no fever, ...": the sign says who asks, not what is asked
            q = replace(q, content=tuple(t for t in q.content if t not in rec.sign_words),
                        key=tuple(t for t in q.key if t not in rec.sign_words))
        return q, rec

    def assess(self, q: Query, rec: safety.Recognised) -> tuple[Draft, dict[str, float]] | None:
        """The drafted answer and the features its confidence is computed from (None: nothing found)."""
        ranked = self.index.search(q)
        if not ranked:
            return None
        then = self.index.then_asked(q)
        if then is not None:  # "what is X, and how common is it": X defined, then the best answers to the rest
            found = [d for d, _ in self.index.search(then)[:4] if d.predicate != "definition"][:2]
            top = ranked[0][1]
            ranked = [*((d, top - 0.05) for d in found), *((d, s) for d, s in ranked if d not in found)]
        draft = compose(self.index, q, ranked, rec)
        return draft, features(self.index, q, ranked, draft)

    def _general(self, question: str, q: Query, rec: safety.Recognised, terms: tuple[str, ...],
                 threshold: float | None) -> Answer:
        """A general term: answered from the passages that define it (never a structure's details); a single
        term no passage defines, from the passage that uses every word of it ("what is the Hip Hook": the
        claim naming the tool), best ranked first; otherwise refused."""
        docs = defining_passages(self.index, terms)
        if not docs and len(terms) == 1:
            words = {stem(w) for w in terms[0].split()}
            ranked = self.index.search(q)
            using = [d for d, _ in ranked if words <= self.index.doc_stems[d.id]]
            if using:  # only what speaks of the term: "hip" alone would bring the hip's other passages
                top = max((s for _, s in ranked), default=1.0)
                return self._composed(question, q, rec, [(d, top - 0.01 * i) for i, d in enumerate(using)], threshold)
        if not docs:
            return self._refuse(question, rec, clinician=_about_self(q.text))
        ranked = self.index.search(q)
        top = max((s for _, s in ranked), default=1.0) + 0.5
        ranked = [(d, top) for d in docs] + [(d, s) for d, s in ranked if d not in docs]
        return self._composed(question, q, rec, ranked, threshold, written_as=replace(q, qtype="definition"))

    def _composed(self, question: str, q: Query, rec: safety.Recognised, ranked: list[tuple[Any, float]],
                  threshold: float | None, *, written_as: Query | None = None) -> Answer:
        """The answer composed from ``ranked`` (written as the question ``written_as``, ``q`` by default), or
        a refusal when its confidence is under the threshold."""
        draft = compose(self.index, written_as or q, ranked, rec)
        confidence = self.calibration.probability(features(self.index, q, ranked, draft))
        limit = self.calibration.threshold if threshold is None else threshold
        if confidence < limit:
            return self._refuse(question, rec, confidence=confidence, clinician=_about_self(q.text))
        return self._finish(question, draft, confidence, rec)

    def _concept(self, question: str, q: Query, rec: safety.Recognised, concept: tuple[Any, str],
                 threshold: float | None) -> Answer:
        """A named concept: its definition first (from the passage that names it), then what else the
        passages found say, and the disagreement when the sources disagree about it."""
        doc, sentence = concept
        lead = replace(doc, sentence=sentence, number=None, predicate="concept")  # no aggregate of its relation
        return self._with_lead(question, q, rec, lead, threshold)

    def _with_lead(self, question: str, q: Query, rec: safety.Recognised, lead: Any, threshold: float | None) -> Answer:
        """An answer led by ``lead`` (a passage rewritten to answer the question first), then what else
        the search found (anatomy: no care step); a recorded disagreement is left to the conflict note."""
        ranked = self.index.search(q)
        top = max((s for _, s in ranked), default=1.0)
        ranked = [(lead, top), *((d, s) for d, s in ranked if d.id != lead.id and d.kind not in ("conflict", "care"))]
        return self._composed(question, q, rec, ranked, threshold)

    def _outside(self, q: Query) -> bool:
        """A body part outside the hip region named without any structure the atlas holds."""
        named = [m for m in q.mentions if m.alias not in GENERIC_WORDS and not safety.outside_region(m.alias)]
        return not named and safety.outside_region(q.text)

    # -- building the output --------------------------------------------------------------

    def _finish(self, question: str, d: Draft, confidence: float, rec: safety.Recognised, *, kind: str = "answer",
                urgent: bool = False, answered: bool = True) -> Answer:
        from iliopsoas.knowledge.citation import cite, link
        from iliopsoas.knowledge.store import literal_text

        statements = []
        for sid in d.statements:
            f = self.atlas.statements.get(sid)
            if f is None:
                continue
            obj = f.object if f.object is not None else (literal_text(f.literal) if f.literal is not None else None)
            statements.append(AnswerStatement(id=f.id, subject=f.subject, predicate=f.predicate.value, object=obj,
                                              sources=[s.source for s in f.sources], status=f.status.value))
        sources = []
        for sid in d.sources:
            src = self.atlas.sources.get(sid)
            sources.append(AnswerSource(id=sid, title=src.title if src else sid, citation=cite(src) if src else sid,
                                        link=link(src) if src else None))
        return Answer(question=question, answered=answered, answer=for_readers(d.text), statements=statements,
                      sources=sources, confidence=round(max(0.0, min(1.0, confidence)), 2),
                      short=for_readers(d.short) if d.short else d.short, urgent=urgent,
                      safety=rec.ids, kind="safety" if rec.items and kind == "answer" and _flagging(rec) else kind,
                      more=d.more)

    def _refuse(self, question: str, rec: safety.Recognised, *, clinician: bool = False,
                confidence: float = 0.0, detail: str = "") -> Answer:
        lines = [safety.REFUSAL] + ([detail] if detail else [])
        for item in rec.contraindications:
            lines.append(f"Because you mention {item.topic}: {item.action}")
        if rec.review:
            lines.append(" ".join(f"{i.action}" for i in rec.review[:1]))
        if clinician or rec.items:
            lines.append(safety.CLINICIAN)
        text = " ".join(lines)
        kind = "safety" if _flagging(rec) else "refusal"
        return Answer(question=question, answered=False, answer=text, confidence=round(confidence, 2),
                      short=lines[0], safety=rec.ids, kind=kind)

    def _safety(self, question: str, q: Query, rec: safety.Recognised, *, urgent: bool,
                threshold: float | None = None) -> Answer:
        """Red flags lead with the urgent line; a contraindicated technique is explained, never dosed.

        After a red flag, a plain anatomy question in the same message is still answered below the
        urgent line; a question about exercises or techniques is not.
        """
        blocks: list[str] = []
        anatomy: Draft | None = None
        if urgent:
            flags = rec.red_flags
            # the most urgent tier speaks: with an emergency sign, "see a doctor within 24-48 h" would mislead
            if any(i.tier == "emergency" for i in flags):
                flags = tuple(i for i in flags if i.tier == "emergency")
            blocks.append(safety.urgent_line(flags))
            blocks.append("What to do: " + " ".join(dict.fromkeys(i.action for i in flags)))
            short = blocks[0].split(". ")[0] + "."
            anatomy = self._anatomy_part(q, rec, threshold)
        else:
            items = [i for i in rec.contraindications if set(i.contraindicates) & rec.blocked_techniques()]
            names = [self.index.safety.techniques[t].name for t in sorted(rec.blocked_techniques())]
            topics = ", ".join(dict.fromkeys(i.topic for i in items))
            short = f"No: {names[0] if names else 'this technique'} is not safe with {topics}."
            blocks.append(short)
            blocks.append("\n".join(f"- Why: {i.why} What to do: {i.action}" for i in items))
        blocks.append(safety.CLINICIAN)
        if anatomy is not None:
            blocks.append("About the anatomy you asked: " + anatomy.text.split("\n\n", 1)[0])
        text = "\n\n".join(blocks)
        d = Draft(text=text, short=short, more=anatomy.more if anatomy else "",
                  statements=anatomy.statements if anatomy else [], sources=anatomy.sources if anatomy else [])
        return self._finish(question, d, 1.0, rec, kind="safety", urgent=urgent, answered=anatomy is not None or not urgent)

    def _anatomy_part(self, q: Query, rec: safety.Recognised, threshold: float | None) -> Draft | None:
        if safety.personal_decisions(q.text) or rec.techniques or not _ASKS.search(q.text):
            return None  # "my pee is pink and my groin hurts" tells a sign; it asks no anatomy
        ranked = self.index.search(q)
        if not ranked or not q.entities or ranked[0][0].kind == "care":
            return None
        # a red flag stops every exercise: the anatomy part never shows a care step or its dose
        ranked = [(d, s) for d, s in ranked if d.kind != "care"]
        draft = compose(self.index, q, ranked, rec)
        limit = self.calibration.threshold if threshold is None else threshold
        if self.calibration.probability(features(self.index, q, ranked, draft)) < limit:
            return None
        return draft


# what a count of people or of structures can be answered by: a share of people, or the structures listed
_LISTED_COUNTS = re.compile(r"\bhow many (people|persons|patients|adults|individuals|men|women|children|"
                            r"muscles?|bones?|nerves?|arteries|vessels?|joints?|ligaments?|tendons?|heads?|parts?|"
                            r"vertebrae|segments?|levels?|slips?|bellies)\b(?! (fib|cell|sarcom|spindle|unit|nucle))")


def _figure_unanswered(q: Query, feats: dict[str, float]) -> bool:
    """A count or share asked ("how many fibres", "what percentage of people ...") that the drafted answer
    gives no figure of: a count answered with another measure (a length), or no figure at all."""
    if q.qtype != "number":
        return False
    if feats.get("count_miss") and _LISTED_COUNTS.search(q.asked) is None:
        return True
    return bool(feats.get("number_miss")) and SHARE_ASKED.search(q.asked) is not None


# a figure asked in a unit ("what mean tilt angle in degrees", "how many seconds") that the lead passage
# does not give in that unit answers another question (a share, a count)
_UNIT_ASKED = {
    "degrees": (re.compile(r"\b(?:in|how many|number of) (?:degrees?|deg)\b"), re.compile(r"\b(?:deg|degrees?)\b|\u00b0")),
    "millimetres": (re.compile(r"\b(?:in|how many) (?:mm|millimet\w+)\b"), re.compile(r"\d ?mm\b|\bmillimet")),
    "centimetres": (re.compile(r"\b(?:in|how many) (?:cm|centimet\w+)\b"), re.compile(r"\d ?cm\b|\bcentimet")),
    "newtons": (re.compile(r"\b(?:in|how many) newtons?\b"), re.compile(r"\d ?n\b|\bnewton")),
    "seconds": (re.compile(r"\b(?:in|how many) (?:seconds?|secs?)\b"), re.compile(r"\d ?(?:s|secs?|seconds?)\b")),
}


def _unit_unanswered(q: Query, draft: Draft) -> str | None:
    """The unit a figure is asked in, when the lead passage gives no figure in it (None otherwise)."""
    if not draft.docs:
        return None
    lead = draft.docs[0]
    said = (lead.number or lead.sentence).lower()
    for unit, (asked, given) in _UNIT_ASKED.items():
        if asked.search(q.text) and not given.search(said):
            return unit
    return None


_SHARE_OF = re.compile(r"\b(?:percentage|percent|proportion|share|fraction) of ((?:\w+ ){0,3}?)(?:have|has|get|gets|who|with|"
                       r"develop|develops|show|suffer|suffers|lack|lacks|end up)\b")
_ANYONE = frozenset("people persons adults humans individuals the all us them population everyone men women".split())


def _share_for_another_group(q: Query, draft: Draft) -> bool:
    """"What percentage of office workers have ...": a share for a group that the figure's passage does not name
    (a share of athletes with groin pain answers another question)."""
    from iliopsoas.knowledge.ask_tables import stem
    from iliopsoas.knowledge.ask_text import EXPAND

    m = _SHARE_OF.search(q.asked) if q.qtype == "number" and draft.docs else None
    if m is None:
        return False
    group = [w for w in m.group(1).split() if w not in _ANYONE and len(w) > 2]
    lead = draft.docs[0]
    said = {stem(w) for w in re.findall(r"[a-z]+", f"{lead.sentence} {lead.body}".lower())}
    return any(stem(w) not in said and not any(stem(x) in said for x in EXPAND.get(w, ())) for w in group)


def _flagging(rec: safety.Recognised) -> bool:
    """Red flags and contraindications make an answer a safety answer; a "book a review" item does not."""
    return bool(rec.red_flags or rec.contraindications)


_ASKS = re.compile(r"\b(what|where|which|how|why|who|whats|wheres|does|do|is|are|can|could|tell me|explain)\b")
_SELF = re.compile(r"\b(i|me|my|im)\b")
_BODY = re.compile(r"\b(pain\w*|hurt\w*|injur\w*|strain\w*|sore|ach\w*|tight\w*|stiff\w*|numb\w*|weak\w*|swell\w*|"
                   r"swollen|pull\w*|tear|torn|twinge\w*|click\w*|pop\w*|symptom\w*|problem\w*|condition)\b")


_EFFECT = re.compile(r"\b(cause\w*|affect\w*|link\w*|lead\w*|related|relat\w*|connected|give\w*|make\w*|behind|"
                     r"pain\w*|hurt\w*|ache\w*|sore|problem\w*|trouble)\b")


_CLASS_NOUNS = frozenset("nerve nerves artery arteries vein veins vessel ligament muscle tendon bone disc".split())


def _unknown_structure(q: Query, question: str) -> str | None:
    """A kind of structure named with a word the atlas does not know ("the radial nerve", "the brachial
    artery", which typo repair would read as "brachii"): a specific structure the sources do not
    describe, or None."""
    said = re.findall(r"[a-z]+", question.lower())
    for m in q.mentions:
        if m.alias not in _CLASS_NOUNS or m.start == 0:
            continue
        word = q.tokens[m.start - 1]
        if word in q.unknown:
            return f"{word} {m.alias}"
        if q.repaired and word not in said and m.start <= len(said):
            original = next((w for w in said if w[:3] == word[:3] and w != word), None)
            if original is not None:
                return f"{original} {m.alias}"
    return None


def _claim_asked(q: Query, draft: Draft) -> bool:
    """True when the answer's lead is an article claim using most of the question's own words, the outside
    body part among them."""
    from iliopsoas.knowledge.ask_index import _stem

    lead = draft.docs[0] if draft.docs else None
    if lead is None or lead.kind != "claim":
        return False
    have = {_stem(w) for w in re.findall(r"[a-z]+", lead.body.lower())}
    words = [w for w in q.key if len(w) > 2]
    far = [m.group(0) for m in safety.OUTSIDE_REGION.finditer(q.text)]
    return bool(words) and sum(_stem(w) in have for w in words) / len(words) >= 0.75 \
        and all(_stem(f) in have for f in far)


_CAUSE_Q = re.compile(r"\b(?:cause|causes|caused|lead to|leads to|give you|gives you|result in|results in|trigger|triggers)"
                      r" (?:a |an |the |your |my )?((?:\w+ ?){1,3})")
_EFFECT_SKIP = frozenset("a an the your my it this that problems problem issues issue pain pains ache aches trouble sound noise "
                         "in of to and or more less much greater higher lower bigger smaller extra increased reduced".split())


def _effect_unsaid(q: Query, draft: Draft) -> bool:
    """True when a "can X cause Y" question names an effect ("knee arthritis") with a word that none of the
    first passages of the answer uses (as itself or the way the passages say it)."""
    from iliopsoas.knowledge.ask_index import SYNONYMS, _stem
    from iliopsoas.knowledge.ask_text import EXPAND

    m = _CAUSE_Q.search(q.asked or "") if q.qtype == "yesno" else None  # "what causes X" asks for causes
    if m is None or not draft.docs:
        return False
    said = set()
    for d in draft.docs[:3]:
        said |= {_stem(w) for w in re.findall(r"[a-z]+", f"{d.sentence} {d.body}".lower())}
    for said_w in m.group(1).split():
        w = SAID_AS.get(said_w, said_w)  # "a clicking hip" is said as a snapping hip
        if w in _EFFECT_SKIP or len(w) < 4:
            continue
        forms = {_stem(w), _stem(SYNONYMS.get(w, w)), *(_stem(x) for x in EXPAND.get(w, ()))}
        if not forms & said:
            return True
    return False


def _far_effect(asked: str, draft: Draft) -> str | None:
    """A body part outside the region asked as an effect or a pain ("can a tight psoas cause shoulder pain")
    that none of the answer's passages mention, or None."""
    if not _EFFECT.search(asked):
        return None
    said = " ".join(f"{d.sentence} {d.body}" for d in draft.docs).lower()
    for m in safety.OUTSIDE_REGION.finditer(asked):
        if not re.search(rf"\b{re.escape(m.group(0).rstrip('s'))}", said):
            return m.group(0)
    return None


def _about_self(text: str) -> bool:
    """The asker speaks of their own body or symptoms: a refusal then points to a clinician."""
    return _SELF.search(text) is not None and _BODY.search(text) is not None


def question_tail(question: str) -> str | None:
    """The last sentence of ``question`` when it asks something of its own after sentences that tell
    ("No fever, no numbness. How long do I hold the stretch?"), else None."""
    parts = [p.strip() for p in re.split(r"(?<=[.?!;])\s+|\s[-\u2013\u2014]\s", question.strip()) if p.strip()]
    if len(parts) < 2:
        return None
    tail = parts[-1]
    if any(OPENS_ASK.match(p) for p in parts[:-1]) or not (OPENS_ASK.match(tail) or tail.endswith("?")):
        return None
    return tail if len(re.findall(r"[A-Za-z]+", tail)) >= 3 else None


def _asks_permission(text: str) -> bool:
    return any(w in f" {text} " for w in (" can i ", " should i ", " safe ", " ok ", " okay ", " allowed ", " is it fine "))


_ASKERS: dict[int, tuple[Any, Asker]] = {}
_LOCK = threading.Lock()


def asker(atlas: Any) -> Asker:
    """The :class:`Asker` of ``atlas``, built on first use and kept (one per atlas object)."""
    with _LOCK:
        hit = _ASKERS.get(id(atlas))
        if hit is None or hit[0] is not atlas:
            hit = (atlas, Asker(atlas))
            _ASKERS[id(atlas)] = hit
            while len(_ASKERS) > 4:
                _ASKERS.pop(next(iter(_ASKERS)))
        return hit[1]


def ask(question: str, *, atlas: Any = None) -> Answer:
    """Answer ``question`` from what the project knows, citing statements and sources, or refuse honestly.

    Parameters
    ----------
    question:
        A question in English, 1 to :data:`MAX_QUESTION_CHARS` characters.
    atlas:
        An :class:`~iliopsoas.knowledge.store.Atlas`; defaults to ``load_atlas()``.

    Returns
    -------
    Answer
        ``kind`` is ``answer``, ``refusal`` ("I don't know this from my sources", or a personal
        medical decision: see a clinician) or ``safety`` (a red flag or contraindication).

    Raises
    ------
    TypeError
        if ``question`` is not a string.
    ValueError
        if ``question`` is empty or longer than :data:`MAX_QUESTION_CHARS`.
    """
    if not isinstance(question, str):
        raise TypeError(f"ask(question): expected a string, got {type(question).__name__}")
    if not question.strip():
        raise ValueError("ask(question): the question is empty; expected a question in words")
    if len(question) > MAX_QUESTION_CHARS:
        raise ValueError(
            f"ask(question): the question is {len(question)} characters long; expected at most {MAX_QUESTION_CHARS}"
        )
    if atlas is None:
        from iliopsoas.knowledge.store import load_atlas

        atlas = load_atlas()
    return asker(atlas).answer(question.strip())
