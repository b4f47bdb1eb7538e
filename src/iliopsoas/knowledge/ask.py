"""Offline question answering over the atlas: answers that cite their facts, refusals that are honest.

>>> from iliopsoas.knowledge.ask import ask
>>> a = ask("What nerve supplies the iliacus?")          # doctest: +SKIP
>>> a.answered, [s.id for s in a.statements][:1]          # doctest: +SKIP
(True, ['iliacus.innervation.femoral-nerve'])

How a question is answered (all deterministic, no model, no network):

1. **Safety first.** Red-flag symptoms always add an urgent-care line; personal medical decisions
   (diagnosis, medicines, pregnancy, pressing on one's own abdomen, tests, surgery, prognosis) and
   plainly off-topic questions are refused (:mod:`iliopsoas.knowledge.ask_safety`).
2. **Reading.** The text is normalised, left/right words are dropped, plurals and typos are
   repaired against the atlas vocabulary, entity names (and lay words such as "thigh bone") are
   spotted, and intents are matched (:mod:`iliopsoas.knowledge.ask_text`).
3. **Retrieval.** Each intent selects atlas statements (``facts_about`` / ``facts_mentioning``),
   seed-ledger claims (for "is it true that ..." and the "why does my ..." topics) and the
   conflicts those statements belong to.
4. **Writing.** Sentences are generated from the records (:mod:`iliopsoas.knowledge.ask_render`):
   each names its sources and, when the evidence contradicts or disputes it, says so. When nothing
   is found the answer is ``answered: false`` with "I don't know this from my sources."

``confidence`` (0..1) is a rough calibration of match quality: how exactly the entity names were
matched (typo repairs and fuzzy names lower it), how specific the intent is, and how many
statements support the answer; refusals have confidence 0.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from iliopsoas.knowledge import ask_safety as safety
from iliopsoas.knowledge.ask_render import (
    STATUS_WORDS,
    capitalise,
    claim_explanation,
    claim_sentence,
    entity_name,
    fact_sentence,
    group_facts,
    group_sentence,
    lead_sentence,
    literal_text,
    seed_only,
)
from iliopsoas.knowledge.ask_text import (
    COMMON_WORDS,
    FAMILY,
    INTENT_KEYWORDS,
    AliasIndex,
    Mention,
    build_alias_index,
    detect_intents,
    find_mentions,
    normalise,
    repair,
    strip_sides,
)
from iliopsoas.knowledge.ask_topics import TOPICS, Topic
from iliopsoas.knowledge.schema import Claim, Conflict

MAX_QUESTION_CHARS = 1000
MAX_FACTS = 12

__all__ = ["Answer", "AnswerSource", "AnswerStatement", "MAX_QUESTION_CHARS", "ask"]


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
    model_config = ConfigDict(frozen=True)

    id: str
    title: str


class Answer(BaseModel):
    """The result of :func:`ask`; ``model_dump()`` gives the documented JSON shape."""

    model_config = ConfigDict(frozen=True)

    question: str
    answered: bool
    answer: str
    statements: list[AnswerStatement] = Field(default_factory=list)
    sources: list[AnswerSource] = Field(default_factory=list)
    confidence: float = Field(ge=0.0, le=1.0)


_STRUCTURAL = ("origin", "insertion", "attachment", "innervation", "blood_supply", "crosses_joint",
               "antagonist", "synergist", "action", "supply")
_PREDICATES = {
    "origin": ("origin",),
    "insertion": ("insertion",),
    "attachment": ("origin", "insertion"),
    "innervation": ("innervation",),
    "blood_supply": ("blood_supply",),
    "crosses_joint": ("crosses_joint",),
    "antagonist": ("antagonist_of",),
    "synergist": ("synergist_of",),
    "action": ("action", "function"),
}
_MUSCLE_KINDS = {"muscle", "muscle_group", "tendon"}
_SUPPLY_KINDS = {"nerve", "nerve_plexus", "vessel"}
_CONNECTION_PREDICATES = ("fascial_connection", "adjacent_to", "located_in", "part_of")
# Property questions: the question word -> what the statement's measure must mention.
_MEASURES = {
    r"\b(length|long|longest)\b": r"length",
    r"\b(size|big|large|small|thick|area|cross sectional)\b": r"area|volume|csa|index|length",
    r"\b(weight|heavy|mass)\b": r"\bmass\b|\bweight\b(?! ?-?bearing)",
    r"\bvolume\b": r"volume",
    r"\bpennation\b": r"pennation",
    r"\b(strong|force|strength)\b": r"force|strength|moment|pcsa",
}

# Words that name a structure only loosely; a question naming something more specific is about that.
GENERIC_WORDS = frozenset(
    "nerve nerves artery arteries vessel fascia ligament joint bone spine hip thigh knee foot leg skin trunk "
    "abdomen belly back body organ organs muscle tendon pelvis groin buttock".split()
)
_Q_WORDS = (COMMON_WORDS - {"only"}) | {
    "true", "myth", "correct", "article", "claim", "claims", "said", "says", "read", "heard", "ever",
    "mean", "means", "actually", "really", "muscle", "muscles", "body",
}


# Everyday words and the anatomical words the claim paraphrases use for the same idea.
_CANON = {"front": "anterior", "back": "posterior", "rear": "posterior", "behind": "posterior",
          "outward": "lateral", "outside": "lateral", "inside": "medial", "inner": "medial",
          "primary": "main", "principal": "main", "job": "task", "role": "task", "duty": "task",
          "felt": "feel", "touch": "feel", "touched": "feel", "palpate": "feel", "palpated": "feel",
          "bridge": "connect", "bridges": "connect", "link": "connect", "links": "connect", "linking": "connect",
          "linked": "connect", "join": "connect", "joins": "connect", "sense": "detect", "senses": "detect",
          "noise": "sound", "noises": "sound", "sideways": "lateral", "bend": "flexion", "bends": "flexion",
          "bending": "flexion"}


def _stems(words: Iterable[str]) -> set[str]:
    out = set()
    for w in words:
        w = _CANON.get(w, w)
        if len(w) >= 3 and w not in _Q_WORDS:
            out.add(w[:5])
    return out


_CLAIM_LEAD = re.compile(r"^.*?\b(true that|myth that|read that|heard that|correct that|true or false)\b")


def _keys(tokens: Sequence[str], mentions: Sequence[Mention], *, claim_words: bool = False) -> set[str]:
    """Match keys of a text: word stems outside the names, plus '@entity' for every name in it.

    With ``claim_words`` a leading "is it true that" (and the like) is dropped first.
    """
    skip = {j for m in mentions for j in range(m.start, m.end)}
    words = [t for j, t in enumerate(tokens) if j not in skip]
    if claim_words:
        words = _CLAIM_LEAD.sub("", " ".join(words)).split()
    return _stems(words) | _entity_keys(m.entity for m in mentions)


def _entity_keys(entities: Iterable[str]) -> set[str]:
    """Entity ids as match keys; any member of the iliopsoas family also gives '@family'."""
    keys = {"@" + e for e in entities}
    if any(k[1:] in FAMILY for k in keys):
        keys.add("@family")
    return keys


@dataclass
class _Draft:
    """An answer under construction."""

    lines: list[str] = field(default_factory=list)
    facts: list[Any] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    quality: float = 1.0
    max_facts: int = MAX_FACTS
    lead: str | None = None  # the direct answer, when a handler knows it
    judged: str | None = None  # the claim the lead already states in full (not listed again)
    loose: bool = False  # the judged claim is only loosely related to the question
    subject: str | None = None  # whose facts the direct answer summarises, when none is given
    lead_predicates: tuple[str, ...] | None = None  # which of those facts (None: all)

    def add_facts(self, facts: Iterable[Any]) -> int:
        seen = {f.id for f in self.facts}
        n = 0
        for f in facts:
            if f.id not in seen:
                self.facts.append(f)
                seen.add(f.id)
                n += 1
        return n

    def add_claims(self, claims: Iterable[Claim]) -> None:
        seen = {c.id for c in self.claims}
        for c in claims:
            if c.id not in seen:
                self.claims.append(c)
                seen.add(c.id)

    @property
    def empty(self) -> bool:
        return not (self.facts or self.claims or self.conflicts)


class _Engine:
    """Indexes built once per atlas: names, claim words, fact words."""

    def __init__(self, atlas: Any):
        self.atlas = atlas
        names = [(eid, [e.name, *e.synonyms, *([e.latin] if e.latin else [])]) for eid, e in atlas.entities.items()]
        self.index: AliasIndex = build_alias_index(names, INTENT_KEYWORDS)
        self.claim_keys: dict[str, set[str]] = {}
        self.claim_norm: dict[str, str] = {}
        for cid, claim in atlas.claims.items():
            text = normalise(claim.text)
            # Claim paraphrases are written carefully: plurals only, no typo repair (and it is faster).
            toks, _ = repair(text.split(), self.index, fuzzy=False)
            self.claim_keys[cid] = _keys(toks, find_mentions(toks, self.index, fuzzy=False))
            self.claim_norm[cid] = text
        df = Counter(k for keys in self.claim_keys.values() for k in keys)
        n = len(self.claim_keys)
        self.idf: dict[str, float] = {k: math.log((n + 1) / (c + 1)) + 1.0 for k, c in df.items()}
        self.idf_max = math.log(n + 1) + 1.0
        self.fact_words: dict[str, str] = {fid: self._fact_words(f) for fid, f in atlas.statements.items()}
        self.parts: dict[str, list[str]] = {}
        for f in atlas.statements.values():
            if f.predicate.value == "part_of" and f.object is not None:
                self.parts.setdefault(f.object, []).append(f.subject)

    def _fact_words(self, f: Any) -> str:
        bits = [f.predicate.value.replace("_", " "), entity_name(self.atlas.entities, f.object)]
        if f.literal is not None:
            bits += [str(f.literal.value or ""), str(f.literal.unit or "")]
        bits += [f"{k} {v}" for k, v in f.qualifiers.items()]
        if f.note:
            bits.append(f.note)
        return " ".join(bits).lower()

    # -- public -----------------------------------------------------------------------------

    def answer(self, question: str) -> Answer:
        text = normalise(question)
        flags = safety.red_flags(text)
        personal = safety.personal_decisions(text)
        if personal:
            return self._refuse(question, flags, clinician=True)
        if safety.off_topic(text):
            return self._refuse(question, flags)
        tokens, repaired = repair(strip_sides(text).split(), self.index)
        rtext = " ".join(tokens)
        mentions = find_mentions(tokens, self.index)
        # Predicate words inside a name ("femoral *nerve*", "hip *flex*or") do not make an intent.
        named_spans = {j for m in mentions if m.alias not in GENERIC_WORDS for j in range(m.start, m.end)}
        bare = " ".join(t for j, t in enumerate(tokens) if j not in named_spans)
        intents = [i for i in detect_intents(rtext) if i not in _STRUCTURAL]
        intents += [i for i in detect_intents(bare) if i in _STRUCTURAL]
        symptom = any(i.startswith("why_") or i in ("pain", "what_to_do") for i in intents)
        if flags and symptom and not set(intents) & set(_STRUCTURAL):
            # A symptom question that carries a red flag is for a doctor today, not for an atlas.
            return self._refuse(question, flags)
        draft = self._route(rtext, intents, mentions, _keys(tokens, mentions, claim_words=True))
        if draft is None or draft.empty:
            return self._refuse(question, flags)
        entity_quality = min((m.score for m in mentions), default=1.0)
        draft.quality *= entity_quality * max(0.55, 1.0 - 0.12 * repaired)
        return self._compose(question, draft, flags)

    # -- routing ----------------------------------------------------------------------------

    def _entities(self, mentions: Sequence[Mention]) -> list[str]:
        """Entity ids in question order; generic words ("nerve", "hip") only when nothing else is named."""
        specific = [m for m in mentions if m.alias not in GENERIC_WORDS]
        out: list[str] = []
        for m in specific or mentions:
            if m.entity not in out:
                out.append(m.entity)
        return out

    def _route(self, text: str, intents: list[str], mentions: list[Mention], qkeys: set[str]) -> _Draft | None:
        ents = self._entities(mentions)
        family = [e for e in ents if e in FAMILY]
        if "claim" in intents:
            d = self._claim_check(qkeys, text)
            if d is not None:
                return self._own_role(d, ents)
        for name in ("why_turn_out", "why_hip_out", "why_pillow", "which_muscle"):
            if name in intents:
                return self._topic(TOPICS[name], family)
        if re.search(r"\bparadox\b", text):
            return self._topic(TOPICS["why_arch"], family)
        if "why_arch" in intents and not ({"origin", "insertion", "innervation"} & set(intents)):
            return self._topic(TOPICS["why_arch"], family)
        if "connection" in intents and re.search(r"\bbreath", text):
            return self._topic(TOPICS["breathing"], family)
        if "why_tight" in intents and family:
            return self._topic(TOPICS["why_tight"], family)
        if "release" in intents and family and re.search(r"\bpressure\b", text) and re.search(
            r"^why\b|\bimportant\b|\bhow does\b", text
        ):
            return self._topic(TOPICS["why_pressure"], family)
        care = [n for n in ("stretch", "strengthen", "release", "what_to_do") if n in intents]
        if "reach" in intents and family and re.search(r"roller|ball|tool|hand|finger|massage", text):
            care = ["release"]
        if care and family:
            if "why_tight" in intents or re.search(r"\btight\b", text) and "what_to_do" in care:
                care = ["what_to_do"]
            d = _Draft()
            for n in care:
                self._fill_topic(d, TOPICS[n], family)
            return d
        if "pain" in intents and family and not set(intents) & set(_STRUCTURAL):
            return self._topic(TOPICS["pain"], family)
        if "variant" in intents and ents:
            return self._variant(ents)
        if "difference" in intents or "vs" in text.split():
            d = self._difference(ents)
            if d is not None:
                return d
        if "composition" in intents and ents:
            return self._definition(ents[0])
        if "connection" in intents and family:
            return self._connection(family, [e for e in ents if e not in FAMILY], text)
        sup = re.search(r"\b(longest|strongest|largest|biggest|smallest|shortest|deepest)\b", text)
        if sup and not family and re.search(r"\b(which|what) (muscle|bone|bursa|nerve)\b", text):
            d = _Draft()
            d.add_facts(f for f in self.atlas.statements.values()
                        if f.predicate.value == "property" and sup.group(1) in self.fact_words[f.id])
            return d
        if not ents:
            return None
        structural = [i for i in _STRUCTURAL if i in intents and i != "supply"]
        if "supply" in intents and not {"innervation", "blood_supply"} & set(structural) and ents:
            # "What does X supply / what supplies X": nerve or blood, by what X is.
            kind = self._kind(ents[0])
            structural += ["blood_supply"] if kind == "vessel" else ["innervation"]
            if kind in _MUSCLE_KINDS:
                structural.append("blood_supply")
        if re.search(r"\b(which|what) muscles?\b", text) and structural and not (set(ents) & set(FAMILY)):
            return self._muscles_acting(text, structural, ents)
        if structural:
            return self._structural(structural, ents, text, qkeys)
        if "property" in intents and not structural:
            return self._property(ents[0], text)
        if "location" in intents:
            return self._location(ents[0])
        if "definition" in intents and mentions and _defines(text, mentions[0]):
            return self._definition(mentions[0].entity)
        # A yes/no statement about named structures ("is the tailbone the sacrum?"): a claim check.
        if re.match(r"^(is|are|does|do|did|can|was|were) ", text):
            # Two structures that no statement links ("is the psoas a core muscle?"): whatever
            # claim names both is only loosely related to the question.
            links = self._links(ents[0], ents[1]) if len(ents) >= 2 else None
            d = self._claim_check(qkeys, text, minimum=0.7, about=True, loose=links == [], linked=bool(links))
            if d is not None and links:
                d.add_facts(self._reference_first(links, limit=4))
            if d is not None:
                d = self._own_role(d, ents)
            named = [m for m in mentions if m.alias not in GENERIC_WORDS]
            if d is None and len(named) >= 2 and len({m.entity for m in named}) == 1:
                # "Is the coccyx the tailbone?": two names the atlas gives to one structure.
                d = self._definition(named[0].entity)
                d.lead = (
                    f"Yes: \u201c{named[0].alias}\u201d and \u201c{named[1].alias}\u201d name the same structure "
                    f"in the atlas, the {entity_name(self.atlas.entities, named[0].entity)}."
                )
            return d
        return None

    def _own_role(self, d: _Draft, ents: list[str]) -> _Draft:
        """After a loose claim match: what the atlas records about the named muscle's own actions."""
        if not d.loose:
            return d
        muscle = next((e for e in ents if self._kind(e) in _MUSCLE_KINDS), None)
        if muscle is None:
            return d
        own = self._reference_first(self._facts(muscle, ("action", "function")), limit=4)
        own = [f for f in own if not seed_only(f)][:4]
        if own:
            lead = lead_sentence(own, self.atlas.entities, muscle)
            if lead:
                d.lines.append(f"What the atlas does record is that {lead[:1].lower()}{lead[1:]}")
            d.add_facts(own)
        return d

    def _links(self, a: str, b: str) -> list[Any]:
        """Statements with one of ``a``, ``b`` as subject and the other as object (family widened)."""
        side_a = set(FAMILY) if a in FAMILY else {a}
        side_b = set(FAMILY) if b in FAMILY else {b}
        if side_a & side_b:
            return []
        out = []
        for x, ys in ((side_a, side_b), (side_b, side_a)):
            for e in sorted(x):
                out += [f for f in self.atlas.facts_about(e) if f.object in ys]
        return out

    # -- handlers ---------------------------------------------------------------------------

    def _facts(self, entity: str, predicates: Sequence[str]) -> list[Any]:
        out: list[Any] = []
        for p in predicates:
            out.extend(self.atlas.facts_about(entity, p))
        return out

    def _fallbacks(self, entity: str) -> list[str]:
        """Where to look when an entity has no statement of the asked kind: its whole, or its parts."""
        chain: list[str] = []
        if entity == "psoas":
            chain.append("psoas-major")
        if entity in ("psoas-major", "iliacus"):
            chain.append("iliopsoas")
        if entity == "iliopsoas":
            chain += ["psoas-major", "iliacus"]
        chain += self.parts.get(entity, [])
        return [c for c in chain if c in self.atlas.entities]

    def _structural(self, intents: list[str], ents: list[str], text: str, qkeys: set[str]) -> _Draft:
        d = _Draft()
        subject = next((e for e in ents if self._kind(e) in _MUSCLE_KINDS), ents[0])
        d.subject = subject
        d.lead_predicates = tuple(p for i in intents for p in _PREDICATES[i])
        others = [e for e in ents if e != subject]
        # A question about a pair ("does the QL oppose the iliopsoas?"): what links the two first.
        pair: list[Any] = []
        for o in others:
            if self._kind(o) not in _MUSCLE_KINDS:
                continue
            pair += [f for f in self.atlas.facts_about(subject) if f.object == o]
            pair += [f for f in self.atlas.facts_about(o) if f.object == subject]
        if pair and self._kind(subject) in _MUSCLE_KINDS:
            d.add_facts(pair)
            # What links the two is the direct answer ("the gluteus minimus works with the iliopsoas").
            d.lead = lead_sentence(pair, self.atlas.entities, subject) or lead_sentence(pair, self.atlas.entities, pair[0].subject)
        landmark = self._kind(subject) not in _MUSCLE_KINDS
        for intent in intents:
            preds = _PREDICATES[intent]
            if intent == "action" and "attachment" in intents:
                continue
            facts = self._facts(subject, preds)
            if landmark and intent in ("origin", "insertion", "attachment"):
                # A bone or landmark: the muscles that attach to it.
                facts += [f for p in preds for f in self.atlas.facts_mentioning(subject, p)]
            if self._kind(subject) in _SUPPLY_KINDS and intent in ("innervation", "blood_supply", "origin"):
                # A nerve or vessel: what it supplies, where it comes from, its branches.
                if intent != "origin":
                    facts += [f for p in preds for f in self.atlas.facts_mentioning(subject, p)]
                facts += [
                    f
                    for f in self._facts(subject, ("part_of", "property"))
                    if f.predicate.value == "part_of" or re.search(r"suppl|branch|root|level", self.fact_words[f.id])
                ]
            if intent == "crosses_joint" and subject == "iliopsoas":
                facts += [f for part in ("psoas-major", "iliacus") for f in self._facts(part, preds)]
            if intent in ("antagonist", "synergist"):
                facts += self.atlas.facts_mentioning(subject, preds[0])
            unit_level = intent in ("antagonist", "synergist") and subject in ("psoas-major", "iliacus")
            if unit_level or all(seed_only(f) for f in facts):
                for alt in self._fallbacks(subject):
                    alt_facts = self._facts(alt, preds)
                    if intent in ("antagonist", "synergist"):
                        alt_facts += self.atlas.facts_mentioning(alt, preds[0])
                    if alt_facts:
                        facts = alt_facts + facts
                        alt_name = entity_name(self.atlas.entities, alt)
                        sub_name = entity_name(self.atlas.entities, subject)
                        if alt in self.parts.get(subject, []) or subject == "iliopsoas":
                            where = f"the {alt_name}, one of the parts of the {sub_name}"
                        elif alt == "iliopsoas":
                            where = f"the {alt_name} as a whole (the {sub_name} is part of it)"
                        else:
                            where = f"the {alt_name}"
                        d.lines.append(f"The atlas records this for {where}:")
                        break
            prefer = _stems(text.split()) - {"flexi", "flex", "hip"} if intent == "action" else None
            ranked = self._reference_first(facts, limit=10 if len(intents) == 1 else 5, prefer=prefer)
            if prefer and d.lead is None:
                # "Can the psoas bend the spine sideways?": the action asked about is the answer.
                asked = {k for k in qkeys if not k.startswith("@")} - {"flexi", "flex", "hip"}
                hits = [(len(asked & _stems(self.fact_words[f.id].split())), -i, f) for i, f in enumerate(ranked)
                        if not seed_only(f)]
                best = max(hits, key=lambda t: t[:2], default=None)
                if best is not None and best[0] > 0:
                    d.lead = lead_sentence([best[2]], self.atlas.entities, best[2].subject)
            d.add_facts(ranked)
        if "innervation" in intents and re.search(r"\b(through|pass|within|inside|run)\w*\b", text):
            near = self._facts(subject, ("adjacent_to", "located_in")) + [
                f for p in ("adjacent_to", "located_in") for f in self.atlas.facts_mentioning(subject, p)
            ]
            d.add_facts(f for f in near if "nerve" in self._kind(f.object or "") + self._kind(f.subject))
        relation = [i for i in intents if i in ("antagonist", "synergist")]
        muscles = [o for o in others if self._kind(o) in _MUSCLE_KINDS]
        if relation and muscles:
            # A pair question: say when nothing links the two, then what each one does.
            linking = {_PREDICATES[i][0] for i in relation}
            if not any(f.predicate.value in linking for f in pair):
                role = "an antagonist" if relation[0] == "antagonist" else "a synergist"
                d.lead = (
                    f"No statement in the atlas makes the {entity_name(self.atlas.entities, subject)} {role} "
                    f"of the {entity_name(self.atlas.entities, muscles[0])}."
                )
                d.lines.append("What each of them does:")
            for e in [subject, *muscles]:
                own = self._facts(e, ("action", "crosses_joint"))
                own += [f for f in self._facts(e, ("property",)) if re.search(r"antagonist|synergist|cross|oppos", self.fact_words[f.id])]
                d.add_facts(self._reference_first(own, limit=6))
        if others or re.match(r"^(is|are|does|do) ", text):
            for c in self._matching_claims(qkeys, minimum=0.7, shared=3)[:3]:
                d.add_claims([c])
        for f in d.facts:
            for kid in f.conflicts:
                self._add_conflict(d, kid)
        return d

    def _muscles_acting(self, text: str, intents: list[str], ents: list[str]) -> _Draft:
        """'Which muscles flex the hip / attach to the femur?': statements that point at the place."""
        d = _Draft()
        targets: list[str] = []
        for e in ents:
            targets += [e, *self.parts.get(e, [])]
        preds = [p for i in intents for p in _PREDICATES[i]]
        for t in targets:
            d.add_facts(f for p in preds for f in self.atlas.facts_mentioning(t, p))
        if "action" in intents:
            verb = re.search(r"\b(flex|extend|rotat|abduct|adduct|stabili[sz])\w*", text)
            words = [entity_name(self.atlas.entities, e).split()[0] for e in ents]
            if verb is not None:
                stem = verb.group(1)[:4]
                hits = [
                    f
                    for f in self.atlas.statements.values()
                    if f.predicate.value == "action"
                    and stem in self.fact_words[f.id]
                    and any(w in self.fact_words[f.id] for w in words)
                    and not f.id.startswith("seed-")
                ]
                d.add_facts(self._rank(hits))
        return d

    def _topic(self, topic: Topic, family: list[str]) -> _Draft | None:
        if topic.needs_family and not family:
            return None
        d = _Draft()
        self._fill_topic(d, topic, family)
        return d

    def _fill_topic(self, d: _Draft, topic: Topic, family: list[str]) -> None:
        d.lines.append(topic.lead)
        rx = re.compile(topic.fact_pattern) if topic.fact_pattern else None
        focus = family + [e for e in topic.entities if e not in family]
        facts: list[Any] = []
        for e in focus:
            for f in self._facts(e, topic.predicates):
                if rx is None or rx.search(self.fact_words[f.id]):
                    facts.append(f)
        d.add_facts(self._rank(facts))
        if topic.claim_pattern:
            crx = re.compile(topic.claim_pattern)
            hits = [c for cid, c in sorted(self.atlas.claims.items()) if crx.search(self.claim_norm[cid])]
            if family and topic.claims_name_family:
                named = [c for c in hits if self._claim_names(c, family)]
                hits = named or hits
            d.add_claims(self._distinct_claims(hits, limit=5))
        for kid in topic.conflicts:
            self._add_conflict(d, kid)
        if topic.closing:
            d.lines.append("\n" + topic.closing)

    def _claim_names(self, claim: Claim, family: list[str]) -> bool:
        keys = self.claim_keys.get(claim.id, set())
        related = set(family) | {"iliopsoas", "psoas-major", "iliacus"} if family else set()
        return any("@" + e in keys for e in related)

    def _distinct_claims(self, claims: list[Claim], limit: int) -> list[Claim]:
        """Drop claims copied between articles 000 and 003, prefer contradicted/disputed first."""
        order = {"contradicted": 0, "disputed": 1, "opinion": 2, "consistent": 3}
        seen: list[set[str]] = []
        out: list[Claim] = []
        for c in sorted(claims, key=lambda c: (order.get(c.verdict.value, 4), c.id)):
            keys = self.claim_keys.get(c.id, set())
            if any(len(keys & s) >= 0.8 * max(len(keys), 1) for s in seen):
                continue
            seen.append(keys)
            out.append(c)
            if len(out) == limit:
                break
        return sorted(out, key=lambda c: c.id)

    def _variant(self, ents: list[str]) -> _Draft:
        d = _Draft()
        for e in ents:
            facts = self.atlas.facts_about(e, "variant")
            d.add_facts(self._reference_first(facts, limit=MAX_FACTS))
            span = _percent_span([f for f in facts if not seed_only(f) and f.status.value == "consistent"])
            if span is not None:
                lo, hi, n = span
                d.lines.append(
                    f"Not everyone has the same anatomy here: across {n} sourced figures, the reported "
                    f"presence of the {entity_name(self.atlas.entities, e)} ranges from {lo:g}% to {hi:g}%, "
                    "depending on the population studied."
                )
        for f in d.facts:
            for kid in f.conflicts:
                self._add_conflict(d, kid)
        return d

    def _difference(self, ents: list[str]) -> _Draft | None:
        pair = [e for e in ents if self._kind(e) in _MUSCLE_KINDS][:2]
        if len(pair) < 2:
            return None
        d = _Draft()
        names = " and the ".join(entity_name(self.atlas.entities, e) for e in pair)
        d.lines.append(f"How the {names} compare, attachment by attachment:")
        d.max_facts = 24
        for e in pair:
            for p in ("origin", "insertion", "innervation", "action"):
                d.add_facts(self._reference_first(self.atlas.facts_about(e, p), limit=3)[:3])
        # The direct answer: where each comes from and which nerve supplies it.
        leads = [
            lead_sentence([f for f in d.facts if f.predicate.value in ("origin", "innervation")], self.atlas.entities, e, limit=3)
            for e in pair
        ]
        if all(leads):
            d.lead = "; ".join(x.rstrip(".") if i == 0 else x[:1].lower() + x[1:] for i, x in enumerate(leads) if x)
            ends = [
                {f.object for f in d.facts if f.subject == e and f.predicate.value == "insertion" and not seed_only(f)}
                for e in pair
            ]
            shared = sorted(o for o in ends[0] & ends[1] if o is not None)
            if shared:
                d.lead = d.lead.rstrip(".") + f". Both insert on the {entity_name(self.atlas.entities, shared[0])}."
        return d

    def _definition(self, entity: str) -> _Draft:
        d = _Draft()
        e = self.atlas.entities[entity]
        if e.summary:
            d.lines.append(f"{capitalise(e.name)}: {e.summary.strip()}")
            d.quality *= 0.95
        facts = self._facts(entity, ("part_of", "lay_term", "located_in"))
        facts += self.atlas.facts_mentioning(entity, "part_of")
        if not facts and not e.summary:
            facts = self._facts(entity, ("origin", "insertion", "action"))
        d.add_facts(self._reference_first(facts, limit=8))
        if e.summary and not d.facts:
            # A summary alone is atlas prose, not a statement; cite the entity's own statements.
            d.add_facts(self._rank(self.atlas.facts_about(entity))[:3])
        return d

    def _property(self, entity: str, text: str) -> _Draft:
        """Size, length, area and the like: property statements whose measure matches the words asked."""
        wanted = [rx for word, rx in _MEASURES.items() if re.search(word, text)]
        d = _Draft()
        for f in self._facts(entity, ("property",)):
            words = self.fact_words[f.id]
            if any(re.search(rx, words) for rx in wanted):
                d.add_facts([f])
        return d

    def _location(self, entity: str) -> _Draft:
        d = _Draft()
        facts = self._facts(entity, ("located_in", "adjacent_to", "part_of", "origin", "insertion"))
        facts += [
            f
            for p in ("origin", "insertion", "adjacent_to", "located_in")
            for f in self.atlas.facts_mentioning(entity, p)
        ]
        d.add_facts(self._reference_first(facts, limit=8))
        e = self.atlas.entities[entity]
        if e.summary:
            d.lines.append(f"{capitalise(e.name)}: {e.summary.strip()}")
        return d

    def _connection(self, family: list[str], targets: list[str], text: str) -> _Draft:
        d = _Draft()
        subject = family[0]
        facts = self._facts(subject, _CONNECTION_PREDICATES) + [
            f for p in _CONNECTION_PREDICATES for f in self.atlas.facts_mentioning(subject, p)
        ]
        for other in family[1:]:
            facts += self._facts(other, _CONNECTION_PREDICATES)
        if targets:
            linked = [f for f in facts if f.object in targets or f.subject in targets]
            facts = linked + [f for f in facts if f not in linked]
        if re.search(r"\borgans?\b|\bviscer", text):
            organ = [f for f in facts if {self._kind(f.object or ""), self._kind(f.subject)} & {"organ", "organ_system"}]
            facts = organ + [f for f in facts if f not in organ]
        d.add_facts(self._reference_first(facts, limit=12))
        linked_facts = [f for f in d.facts if targets and (f.object in targets or f.subject in targets)]
        d.lead = lead_sentence(linked_facts, self.atlas.entities, subject) if linked_facts else None
        if d.lead is None:
            d.subject, d.lead_predicates = subject, _CONNECTION_PREDICATES
        crx = re.compile(r"organ|digestive|urinary|diaphragm|fascia|connected|kidney|colon|pelvic floor")
        hits = [c for cid, c in sorted(self.atlas.claims.items()) if crx.search(self.claim_norm[cid])]
        d.add_claims(self._distinct_claims([c for c in hits if self._claim_names(c, family)], limit=3))
        if "diaphragm" in targets:
            self._add_conflict(d, "K11")
        return d

    def _claim_check(
        self, q: set[str], text: str, *, minimum: float = 0.5, about: bool = False, loose: bool = False,
        linked: bool = False,
    ) -> _Draft | None:
        """The closest article claim with its verdict (``minimum``: weighted share of the question covered).

        With ``loose`` the claim is known to be only loosely related to the question: the answer
        names the claim it judged, says so, and its confidence is lowered. A claim about a role
        (antagonist, synergist) the question does not ask about is loose too, unless ``linked``
        (a statement links the structures the question names).
        """
        hits = self._matching_claims(q, minimum=minimum, shared=2, about=about)
        if not hits:
            return None
        best = hits[0]
        d = _Draft()
        # A claim about what opposes or assists a muscle does not answer what the muscle itself is
        # ("is the psoas a hip extensor?" vs "the antagonists of the hip flexors are the extensors").
        roles = {"antagonist", "synergist"}
        if not linked:
            loose = loose or bool(roles & set(detect_intents(self.claim_norm[best.id])) - set(detect_intents(text)))
        verdict = STATUS_WORDS.get(best.verdict.value, best.verdict.value)
        claim_text = f"\u201c{best.text.rstrip('.')}\u201d ({best.id}, article seed-{best.article})"
        if loose:
            d.lead = (
                f"Nothing in my sources answers this directly. The nearest article claim I could judge, "
                f"{claim_text}, is only loosely related to the question; that claim is {verdict}."
            )
            d.quality *= 0.4
            d.loose = True
        else:
            d.lead = f"The closest article claim, {claim_text}, is {verdict}."
        why = claim_explanation(best)
        if why:
            d.lead += " " + why
        d.judged = best.id
        d.add_claims([best])
        d.add_claims([c for c in hits[1:3] if self._overlap(c, best) >= 0.8])
        for sid in best.statements:
            if sid in self.atlas.statements:
                d.add_facts([self.atlas.statements[sid]])
        for kid, conflict in self.atlas.conflicts.items():
            if best.id in conflict.claims:
                self._add_conflict(d, kid)
        d.quality *= self._score(q, best)[0]
        return d

    def _overlap(self, a: Claim, b: Claim) -> float:
        ka, kb = self.claim_keys.get(a.id, set()), self.claim_keys.get(b.id, set())
        return len(ka & kb) / max(len(ka | kb), 1)

    def _score(self, q: set[str], claim: Claim) -> tuple[float, int]:
        """How much of the question ``claim`` covers (rare words weigh more), and how many keys it shares."""
        keys = self.claim_keys.get(claim.id, set())
        return self._weight(q & keys) / max(self._weight(q), 1e-9), len(q & keys)

    def _weight(self, keys: Iterable[str]) -> float:
        return sum(self.idf.get(k, self.idf_max) for k in keys)

    def _matching_claims(self, q: set[str], *, minimum: float, shared: int, about: bool = True) -> list[Claim]:
        """Claims covering at least ``minimum`` of the question keys ``q`` (IDF-weighted), best first.

        With ``about`` a claim must also share a key that is not a name: "is psoas minor important"
        must not be answered by a claim that merely names psoas minor.
        """
        q_weight = max(self._weight(q), 1e-9)
        content = {k for k in q if not k.startswith("@")}
        scored = []
        for cid, keys in self.claim_keys.items():
            common = q & keys
            if len(common) < shared:
                continue
            if about and content and not common & content:
                continue
            coverage = self._weight(common) / q_weight
            if coverage >= minimum:
                jaccard = self._weight(common) / max(self._weight(q | keys), 1e-9)
                scored.append((coverage + 0.3 * jaccard, cid))
        scored.sort(key=lambda t: (-t[0], t[1]))
        return [self.atlas.claims[cid] for _, cid in scored]

    # -- helpers ----------------------------------------------------------------------------

    def _kind(self, entity: str) -> str:
        e = self.atlas.entities.get(entity)
        return e.kind.value if e is not None else ""

    def _reference_first(self, facts: list[Any], limit: int, prefer: set[str] | None = None) -> list[Any]:
        """Reference statements (up to ``limit``), then article statements only when flagged.

        With ``prefer`` (question word stems), statements sharing more of those words come first.
        """
        ranked = self._rank(facts)
        if prefer:
            ranked.sort(key=lambda f: -len(prefer & _stems(self.fact_words[f.id].split())))
        ref = [f for f in ranked if not seed_only(f)][:limit]
        said = {_gist(f) for f in ref}
        extra = [
            f for f in ranked if seed_only(f) and (f.status.value != "consistent" or _gist(f) not in said)
        ]
        out = ref + extra[: max(2, limit - len(ref))]
        return out

    def _rank(self, facts: list[Any]) -> list[Any]:
        """Reference statements before article statements; consistent before flagged; stable."""
        order = {"consistent": 0, "disputed": 1, "contradicted": 2, "opinion": 3}

        def key(f: Any) -> tuple[int, int]:
            return (int(seed_only(f)), order.get(f.status.value, 4))

        return sorted(facts, key=key)

    def _sides(self, conflict: Conflict, shown: Sequence[Any]) -> str:
        """The sides of ``conflict`` with their sources: those the shown facts take and their opponents.

        When no shown fact takes a side (the conflict came from a topic or a claim), every side.
        """
        taken = {p.id for f in shown if (p := conflict.position_of(f.id)) is not None}
        wanted = set(taken)
        for p in conflict.positions:
            if p.id in taken:
                wanted.update(o.id for o in conflict.opposed(p))
        lines = []
        for p in conflict.positions:
            if wanted and p.id not in wanted:
                continue
            srcs = [s.source for sid in p.statements if sid in self.atlas.statements for s in self.atlas.statements[sid].sources]
            lines.append(f"- {p.label} ({', '.join(dict.fromkeys(srcs))})")
        return "The sides:\n" + "\n".join(lines)

    def _add_conflict(self, d: _Draft, kid: str) -> None:
        conflict = self.atlas.conflicts.get(kid)
        if conflict is not None and all(c.id != kid for c in d.conflicts):
            d.conflicts.append(conflict)

    # -- output -----------------------------------------------------------------------------

    def _compose(self, question: str, d: _Draft, flags: list[str]) -> Answer:
        """Write the answer: the direct answer first, then the details, disagreements and flags.

        Paragraphs are separated by blank lines; detail lines start with "- " (the web page
        renders them as a list).
        """
        ents = self.atlas.entities
        blocks: list[str] = []
        if flags:
            blocks.append(safety.urgent_line(flags))
        intro, rest = [x for x in d.lines if not x.startswith("\n")], [x[1:] for x in d.lines if x.startswith("\n")]
        shown = d.facts[: d.max_facts]
        lead = d.lead
        opening = intro
        if lead is None and d.subject is not None:
            # The subject asked about first; else the whole or part the atlas records it for.
            candidates = [d.subject, *self._fallbacks(d.subject), *(f.subject for f in shown if not seed_only(f))]
            for subject in dict.fromkeys(candidates):
                lead = lead_sentence(shown, ents, subject, predicates=d.lead_predicates)
                if lead is not None:
                    break
            if lead is not None and subject != d.subject:
                # "The atlas records this for the whole: ..." comes before what it records.
                opening = [x[:-1] + "." if x.endswith(":") else x for x in intro]
                opening, lead = opening + [lead], None
        opening = ([lead] if lead else []) + opening
        if opening:
            blocks.append(" ".join(opening))
        groups = group_facts(shown)
        if lead and len(groups) == 1 and len(groups[0]) > 1:
            # One fact told by several sources: the direct answer, then who agrees and on what not.
            blocks.append(group_sentence(groups[0], ents, restate=False))
        elif groups:
            blocks.append("\n".join(f"- {group_sentence(g, ents)}" for g in groups))
        listed = [c for c in d.claims if c.id != d.judged]
        if listed:
            head = "Related claims in the articles" if d.judged else "What the articles claim"
            blocks.append(f"{head}, checked against the sources:\n" + "\n".join(f"- {claim_sentence(c)}" for c in listed))
        cited = list(shown)
        ids = {f.id for f in cited}
        for conflict in d.conflicts:
            blocks.append(f"Where the sources disagree ({conflict.id}, {conflict.title}): {conflict.resolution.strip()}")
            blocks.append(self._sides(conflict, shown))
            for sid in conflict.statements:
                if sid not in ids and sid in self.atlas.statements:
                    cited.append(self.atlas.statements[sid])
                    ids.add(sid)
        against = []
        for f in shown:
            for other in f.conflicts_with:
                if other not in ids and other in self.atlas.statements and not f.conflicts:
                    o = self.atlas.statements[other]
                    against.append(f"- {fact_sentence(o, ents, with_note=False)}")
                    cited.append(o)
                    ids.add(other)
        if against:
            blocks.append("Against the flagged statements, the sources say:\n" + "\n".join(against))
        for c in d.claims:
            for sid in c.statements:
                if sid not in ids and sid in self.atlas.statements:
                    cited.append(self.atlas.statements[sid])
                    ids.add(sid)
        note = _flag_note(groups, d.claims)
        if note:
            blocks.append(note)
        blocks += rest
        source_ids: list[str] = []
        for f in cited:
            source_ids += [s.source for s in f.sources]
        for c in d.claims:
            source_ids += [f"seed-{c.article}", *(s.source for s in c.sources)]
        sources = [
            AnswerSource(id=s, title=self.atlas.sources[s].title if s in self.atlas.sources else s)
            for s in dict.fromkeys(source_ids)
        ]
        statements = [
            AnswerStatement(
                id=f.id,
                subject=f.subject,
                predicate=f.predicate.value,
                object=f.object if f.object is not None else _literal_str(f),
                sources=[s.source for s in f.sources],
                status=f.status.value,
            )
            for f in cited
        ]
        support = len(cited) + len(d.claims)
        confidence = d.quality * min(1.0, 0.75 + 0.125 * support)
        return Answer(
            question=question,
            answered=True,
            answer="\n\n".join(blocks),
            statements=statements,
            sources=sources,
            confidence=round(max(0.05, min(0.99, confidence)), 2),
        )

    def _refuse(self, question: str, flags: list[str], *, clinician: bool = False) -> Answer:
        lines = [safety.urgent_line(flags)] if flags else []
        lines.append(safety.REFUSAL)
        if clinician or flags:
            lines.append(safety.CLINICIAN)
        return Answer(question=question, answered=False, answer=" ".join(lines), confidence=0.0)


def _defines(text: str, first: Mention) -> bool:
    """True for "what is (the) X" where X is the first named structure and ends the question."""
    head = re.match(r"^((what|who) (is|are)|tell me about|describe|explain|what do you know about) (a |an |the |my )?", text)
    if head is None:
        return False
    rest = text.split()[first.end :]
    return first.start == len(head.group(0).split()) and all(w in ("muscle", "muscles", "bone", "joint") for w in rest)


def _percent_span(facts: Sequence[Any]) -> tuple[float, float, int] | None:
    """Lowest and highest percentage over variant literals in % (values or ranges), and how many."""
    values: list[float] = []
    n = 0
    for f in facts:
        lit = f.literal
        if lit is None or (lit.unit or "").strip() != "%" or f.qualifiers.get("measure", "presence") != "presence":
            continue
        got = [v for v in (lit.min, lit.max) if v is not None]
        if isinstance(lit.value, int | float):
            got.append(float(lit.value))
        if got:
            values += got
            n += 1
    return (min(values), max(values), n) if n >= 2 else None


def _flag_note(groups: Sequence[Sequence[Any]], claims: Sequence[Claim]) -> str | None:
    """A closing count of the flagged statements and claims shown on their own.

    Grouped statements already say what their sources disagree on, so they are not counted again.
    """
    counts: Counter[str] = Counter()
    for g in groups:
        if len(g) == 1:
            counts[g[0].status.value] += 1
    for c in claims:
        counts[c.verdict.value] += 1
    parts = [f"{counts[k]} {STATUS_WORDS[k]}" for k in ("contradicted", "disputed") if counts[k]]
    if not parts:
        return None
    return "Flagged above: " + " and ".join(parts) + "."


def _gist(f: Any) -> tuple[str, str, str]:
    """What a statement says, ignoring who says it: for dropping repeats of a reference fact."""
    obj = f.object if f.object is not None else str(f.literal.value if f.literal is not None else "")
    return (f.subject, f.predicate.value, obj.lower())


def _literal_str(f: Any) -> str | None:
    return literal_text(f.literal) if f.literal is not None else None


@lru_cache(maxsize=4)
def _engine(atlas: Any) -> _Engine:
    return _Engine(atlas)


def ask(question: str, *, atlas: Any = None) -> Answer:
    """Answer ``question`` from the atlas, citing statements and sources, or refuse honestly.

    Parameters
    ----------
    question:
        A question in English, 1 to :data:`MAX_QUESTION_CHARS` characters.
    atlas:
        An :class:`~iliopsoas.knowledge.store.Atlas`; defaults to ``load_atlas()``.

    Returns
    -------
    Answer
        ``answered`` is False (with "I don't know this from my sources") when nothing in the atlas
        answers it, or when it asks for a personal medical decision. Red-flag symptoms always add
        an urgent-care line to ``answer``.

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
    return _engine(atlas).answer(question.strip())
