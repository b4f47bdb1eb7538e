"""Structures named by description: "the muscle lining the pelvic bowl" is the iliacus.

People often describe a structure instead of naming it ("the long muscle that runs from your low
back to your thigh bone", "that fluid pouch under the hip flexor tendon", "the band down the
outside of the thigh"). A description is a head noun that says what kind of structure it is
(muscle, bone, pouch, band, nerve, test ...) with the words around it. Each atlas structure of that
kind is scored by how well its name, synonyms and summary match those words: the rarer a shared
word stem among the summaries, the more it counts (``lexical``, 0..1), plus how close the two are
in meaning (cosine of mean word vectors, ``semantic``). The best structure names the description
when it scores at least :data:`MIN_SCORE` and clearly beats the runner-up (:data:`MIN_MARGIN`);
the question is then read with the name in place of the description.

Structures named inside the description are not candidates ("the small muscle in front of the
psoas major" is not the psoas major).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# head nouns and the kinds of atlas structure they describe
HEADS: dict[str, tuple[str, ...]] = {
    "muscle": ("muscle",), "muscles": ("muscle",), "bone": ("bone", "bony_landmark"),
    "pouch": ("bursa",), "sac": ("bursa",), "cushion": ("bursa",), "bursa": ("bursa",),
    "band": ("fascia", "ligament", "connective_tissue", "tendon"), "strap": ("fascia", "ligament", "tendon"),
    "sheet": ("fascia", "connective_tissue"), "wrapping": ("fascia", "connective_tissue"),
    "nerve": ("nerve", "nerve_plexus"), "nerves": ("nerve", "nerve_plexus"), "network": ("nerve_plexus",),
    "tendon": ("tendon",), "cord": ("tendon", "nerve"), "joint": ("joint",), "test": ("clinical_test",),
    "artery": ("vessel",), "vessel": ("vessel",), "bump": ("bony_landmark",), "knob": ("bony_landmark",),
    "ridge": ("bony_landmark",), "notch": ("bony_landmark",),
}
# lay words and the words the atlas's summaries use for them
LAY: dict[str, tuple[str, ...]] = {
    "leg": ("thigh", "femur"), "legs": ("thigh", "femur"), "spine": ("vertebrae", "lumbar", "spinal"),
    "backbone": ("vertebrae", "spine", "lumbar"), "back": ("lumbar", "spine"), "belly": ("abdominal", "abdomen"),
    "tummy": ("abdominal", "abdomen"), "stomach": ("abdominal", "abdomen"), "groin": ("inguinal",),
    "tailbone": ("coccyx",), "thighbone": ("femur",), "kneecap": ("patella",),
}
_DET = r"(?:the|a|an|that|this|those|these|your|my|our|their)"
_LINK = (r"(?:that|which|who|in|inside|within|under|beneath|below|lining|lines|running|runs|run|from|at|on|of|connecting|"
         r"connects|joining|joins|between|along|near|behind|across|attached|attaching|filling|fills|going|goes|linking|"
         r"links|with|over|down|up|deep|people|many|some|you|where|around|by|to|used|doctors|physios|clinicians)")
_STOP_AT = re.compile(r"\b(?:and|or|but)\s+(?:the|a|an|my|your|its|their|is|are|does|do|how|what|which|why|where)\b|"
                      r"\b(?:how|what|why|is it|does it|do they|are they|can i|should i|do i)\b|[,.;:?!()\u2013\u2014]| - ")
SPAN = re.compile(rf"\b{_DET}\s+((?:(?!{_DET}\b|is\b|are\b)[a-z][a-z-]*\s+){{0,3}}?)({'|'.join(HEADS)})\b((?:\s+{_LINK}\b[^,.;:?!()]*)?)", re.I)
_WORD = re.compile(r"[a-z]+")
# who talks about a structure says nothing about it ("that deep muscle people keep talking about that runs ...")
_HEARSAY_IN = re.compile(r"\b(people|everyone|everybody|they|you) (keep |keeps |always |often )?(talk|talking|talks|"
                         r"mention|mentions|mentioning|hear|hearing|go on) (about|of)\b", re.I)
_STOPWORDS = frozenset(
    "the a an that this those these your my our their which who in inside within of at on to from by with and or is "
    "are was were be it its you i we they people many some there here what how where called named known one two "
    "thing part bit".split())
_PREDICATE = re.compile(r"\b(?:is|are|was|were|be|being)\b(?:\s+\S+){0,4}\s+an?\s$", re.I)
MIN_SCORE = 0.85
MIN_MARGIN = 0.06
MIN_LEXICAL = 0.25


@dataclass(frozen=True)
class Resolved:
    """A description in the question and the structure it names."""

    start: int  # character span of the description in the question
    end: int
    entity: str
    name: str
    score: float


class DescriptionIndex:
    """Every structure's words and meaning vector, built once per atlas."""

    def __init__(self, entities: Mapping[str, Any], stem: Callable[[str], str], embedder: Any = None):
        self.stem = stem
        self.embedder = embedder
        self.kinds: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.stems: dict[str, frozenset[str]] = {}
        texts: dict[str, list[str]] = {}
        for eid, e in entities.items():
            words = _WORD.findall(" ".join([e.name, *e.synonyms, e.summary or ""]).lower())
            content = [w for w in words if w not in _STOPWORDS]
            self.kinds[eid] = e.kind.value
            self.names[eid] = e.name
            self.stems[eid] = frozenset(stem(w) for w in content)
            texts[eid] = [w for w in _WORD.findall((e.summary or e.name).lower()) if w not in _STOPWORDS]
        n = len(self.stems)
        df: dict[str, int] = {}
        for st in self.stems.values():
            for s in st:
                df[s] = df.get(s, 0) + 1
        self.idf = {s: math.log((n + 1) / (c + 0.5)) for s, c in df.items()}
        self._texts = texts
        self._vecs: dict[str, np.ndarray] | None = None

    @property
    def vecs(self) -> dict[str, np.ndarray]:
        """Each structure's summary as a meaning vector, computed on the first description met."""
        if self._vecs is None:
            self._vecs = {} if self.embedder is None else {
                eid: self.embedder.embed_words(ws) for eid, ws in self._texts.items() if ws}
        return self._vecs

    def score(self, words: Sequence[str], kinds: Sequence[str], exclude: set[str]) -> list[tuple[float, float, str]]:
        """``(score, lexical, entity)`` of every structure of ``kinds``, best first. A lay word also
        matches the words the summaries use for it (:data:`LAY`: "leg" is the thigh or femur)."""
        content = [w for w in words if w not in _STOPWORDS]
        weights = {s: self.idf.get(s, math.log(len(self.stems) + 1)) for s in map(self.stem, content)}
        said_as = {self.stem(w): {self.stem(w), *(self.stem(x) for x in LAY.get(w, ()))} for w in content}
        total = sum(weights.values()) or 1.0
        qv = self.embedder.embed_words(content) if self.embedder is not None else None
        out = []
        for eid, kind in self.kinds.items():
            if kind not in kinds or eid in exclude:
                continue
            lexical = sum(w for s, w in weights.items() if said_as.get(s, {s}) & self.stems[eid]) / total
            semantic = float(self.vecs[eid] @ qv) if qv is not None and eid in self.vecs else 0.0
            out.append((lexical + semantic, lexical, eid))
        return sorted(out, reverse=True)

    def resolve(self, question: str, named: Callable[[str], set[str]]) -> list[Resolved]:
        """The descriptions of ``question`` that name one structure clearly; ``named(text)`` gives the
        structures a piece of text names outright."""
        out = []
        for m in SPAN.finditer(question):
            if _PREDICATE.search(question[: m.start(1)]):
                continue  # "is the quadriceps a muscle that ...": a description asked about, not named
            head = m.group(2).lower()
            clause = m.group(3)
            cut = _STOP_AT.search(clause)
            if cut is not None:
                clause = clause[: cut.start()]
            clause = _HEARSAY_IN.sub(" ", clause)  # "that people keep talking about": not a description
            words = _WORD.findall(f"{m.group(1)} {clause}".lower())
            if len([w for w in words if w not in _STOPWORDS]) < 2:
                continue  # "the muscle" alone, "this test" - nothing described
            if any(self.kinds.get(e) in HEADS[head] for e in named(f"{m.group(1)} {m.group(2)}")):
                continue  # "the hip joint" names the joint
            exclude = named(f"{m.group(1)} {clause}")
            # a structure named in the description is told with its own words ("thigh bone": femur)
            words += [w for e in exclude for w in _WORD.findall(self.names.get(e, "").lower())]
            ranked = self.score(words, HEADS[head], exclude)
            if not ranked:
                continue
            best = ranked[0]
            runner = ranked[1][0] if len(ranked) > 1 else 0.0
            if best[0] >= MIN_SCORE and best[1] >= MIN_LEXICAL and best[0] - runner >= MIN_MARGIN:
                end = m.start(3) + len(clause)
                out.append(Resolved(m.start(), end, best[2], self.names[best[2]], round(best[0], 3)))
        return out


def name_descriptions(question: str, resolved: Sequence[Resolved]) -> str:
    """``question`` with each resolved description replaced by the name it resolves to:
    "what is the fluid pouch under the hip flexor tendon called" -> "what is the iliopsoas bursa called"."""
    text = question
    for r in sorted(resolved, key=lambda r: -r.start):
        text = f"{text[: r.start]}the {r.name}{' ' if r.end < len(text) and text[r.end] not in ' ,.;:?!' else ''}{text[r.end:]}"
    return text
