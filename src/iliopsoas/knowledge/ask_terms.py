"""General terms asked without a structure: answered only from a passage that defines them.

"What's the difference between a muscle's origin and insertion?", "in anatomy what does insertion mean",
"what is a ligament?", "what is fascia?": the question names no specific structure and asks what one or
two general words mean. They are answered from a passage that defines every asked word: a generic
entity of the atlas (ligament, fascia, artery, joint capsule) or a consistent article claim about muscles
in general that uses every asked word ("a muscle's origin is its attachment nearer the body's centre and
its insertion the one farther away"). Otherwise the question is refused: "what is a sprain", "isometric
versus isotonic", "agonist and antagonist in general" are not in the sources, and a list of the psoas's
attachments would answer another question.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["asked_terms", "concept_asked", "defining_passages", "named_concept"]

_ARTICLE = r"(?:(?:a|an|the|its|their|your|one)\s+)?"
_OWNER = r"(?:(?:a |the )?muscles?\s+|muscle s\s+)?"
_TERM = r"((?!of\b|and\b)[a-z]+(?: (?!of\b|and\b|in\b|mean\b)[a-z]+)?)"
_FORMS = (
    re.compile(rf"\bdifference(?:s)? between {_ARTICLE}{_OWNER}{_ARTICLE}{_TERM} and {_ARTICLE}{_OWNER}{_TERM}\b"),
    re.compile(rf"\bhow (?:do|does) {_ARTICLE}{_TERM} and {_ARTICLE}{_TERM} differ\b"),
    re.compile(rf"\bdefine {_ARTICLE}{_TERM}(?: and {_ARTICLE}{_TERM})?\b"),
    re.compile(rf"\bwhat (?:is|are) meant by {_ARTICLE}{_TERM}(?: of {_ARTICLE}muscles?)?\b"),
    re.compile(rf"\bwhat (?:do|does) {_ARTICLE}{_TERM}(?: and {_ARTICLE}{_TERM})? mean\b"),
    re.compile(rf"^(?:in anatomy |in general |generally )?what (?:is|are) {_ARTICLE}{_TERM}(?: of {_ARTICLE}muscles?)?"
               rf"(?: in (?:anatomy|general))?$"),
)
_DROP = frozenset("muscle muscles in general anatomy generally the a an that this it those these".split())  # "what does that mean": no term


def asked_terms(text: str) -> tuple[str, ...] | None:
    """The general words a definition question asks about (normalised ``text``), or None."""
    t = re.sub(r"\b(in general|in anatomy|generally|exactly|actually|please)\b", " ", text)
    t = re.sub(r"\b(muscle|muscles) s\b", r"\1", t)  # "a muscle's origin"
    t = re.sub(r"\s+", " ", t).strip()
    for rx in _FORMS:
        m = rx.search(t)
        if m:
            terms = []
            for g in m.groups():
                if not g:
                    continue
                words = [w for w in g.split() if w not in _DROP]
                if words:
                    terms.append(" ".join(words))
            return tuple(dict.fromkeys(terms)) or None
    return None


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and not word.endswith("ss") and len(word) > 3 else word


def defining_passages(index: Any, terms: tuple[str, ...]) -> list[Any] | None:
    """Passages that together define every term (a generic entity per term, or one claim using all
    of them), or None when some term is defined nowhere."""
    atlas = index.atlas
    by_name = {e.name.lower(): eid for eid, e in atlas.entities.items()}
    words = [_singular(t) for t in terms]
    claims = []
    for d in index.docs:
        if d.kind != "claim" or d.status != "consistent" or d.subject is not None:
            continue
        claim = atlas.claims.get(d.claims[0]) if d.claims else None
        text = (claim.text if claim is not None else d.body).lower()
        if all(re.search(rf"\b{re.escape(w)}", text) for w in words):
            claims.append(d)
    if claims:
        return claims[:1]
    out = []
    for w in words:
        eid = by_name.get(w)
        entity = atlas.entities.get(eid) if eid else None
        d = index.definitions.get(eid) if eid else None
        if entity is None or d is None or any(s.isupper() for s in entity.name[:1]):
            return None
        out.append(d)
    return out or None


# -- named concepts: "what is the psoas paradox" ---------------------------------------------------

_CONCEPT_FORMS = (
    re.compile(rf"^(?:so |ok |okay |and )?(?:what (?:exactly |actually )?(?:is|are)(?: meant by)?|define|explain|describe|(?:can|could) you explain"
               rf"|tell me about|what do you know about) {_ARTICLE}(?P<term>[a-z][a-z' -]{{2,40}}?)(?: exactly| please)?$"),
    re.compile(rf"^what (?:do|does) {_ARTICLE}(?P<term>[a-z][a-z' -]{{2,40}}?) mean$"),
    re.compile(rf"^what is the (?:deal|story|idea|thing) (?:with|behind) {_ARTICLE}(?P<term>[a-z][a-z' -]{{2,40}}?)$"),
    re.compile(rf"^{_ARTICLE}(?P<term>[a-z][a-z'-]+ [a-z][a-z'-]+)$"),  # "psoas paradox?" said bare
)


def concept_asked(text: str) -> str | None:
    """The name asked about in a definition question ("what is the psoas paradox"), or None."""
    for rx in _CONCEPT_FORMS:
        m = rx.search(text.strip())
        if m:
            return m.group("term").strip()
    return None


def _label_clause(text: str, term: str) -> str | None:
    """The clause of ``text`` that a parenthesised label ``(the 'term')`` names, without the label."""
    label = re.compile(rf"\s*\((?:the |a |an )?['\u2018\"]?{re.escape(term)}['\u2019\"]?(?:;[^)]*)?\)", re.IGNORECASE)
    for sentence in re.split(r"(?<=;)\s+|(?<=\.)\s+(?=[A-Z])(?<!\bal\.\s)", text):
        if label.search(sentence):
            clause = label.sub("", sentence).strip().rstrip(".;")
            return clause[0].upper() + clause[1:] if clause else None
    return None


def named_concept(index: Any, text: str) -> tuple[Any, str] | None:
    """A named concept the sources label but the atlas has no entry for ("the 'psoas paradox'"): the
    passage whose statement note or claim gives the label, and a first sentence defining the name by
    what that passage says. Atlas statements come before article claims; None when no passage labels it."""
    asked = concept_asked(text)
    if asked is None or len(asked.split()) < 2:
        return None
    atlas = index.atlas
    if any(e.name.lower() == asked or asked in (x.lower() for x in e.synonyms) for e in atlas.entities.values()):
        return None  # a structure of the atlas: its own definition answers
    words = asked.split()
    for n in range(len(words), 1, -1):  # "the deal with the psoas paradox": the name is at its end
        got = _labelled(index, " ".join(words[-n:]))
        if got is not None:
            return got
    return None


def _labelled(index: Any, term: str) -> tuple[Any, str] | None:
    atlas = index.atlas
    found: list[tuple[int, Any, str]] = []
    for sid, f in atlas.statements.items():
        if term not in (f.note or "").lower():
            continue
        clause = _label_clause(f.note or "", term)
        d = index.fact_docs.get(sid)
        if clause and d is not None:
            found.append((1 if d.seed else 0, d, clause))
    for cid, c in atlas.claims.items():
        if term not in c.text.lower():
            continue
        clause = _label_clause(c.text, term)
        d = index.claim_docs.get(cid)
        if clause and d is not None:
            found.append((2, d, clause))
    if not found:
        return None
    _, d, clause = min(found, key=lambda x: x[0])
    about = atlas.entities[d.subject].name if d.subject in atlas.entities else None
    where = f" about the {about}" if about else ""
    return d, f"The {term} is the name for this finding{where}: {clause}."
