"""Turning atlas records into plain-English sentences written by us (never the articles' wording).

Every sentence is built from one :class:`~iliopsoas.knowledge.store.Fact` (its subject, predicate,
object or literal, qualifiers, status and sources) or from one claim of the seed ledger (our
paraphrase, its verdict and the basis the claims engineer recorded).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from iliopsoas.knowledge.schema import Claim, Entity, Literal

# One template per predicate: {s} is the subject's name, {o} the object's name or the literal.
TEMPLATES: dict[str, str] = {
    "origin": "{s} arises from the {o}",
    "insertion": "{s} inserts on the {o}",
    "innervation": "{s} is supplied by the {o}",
    "blood_supply": "{s} receives blood from the {o}",
    "crosses_joint": "{s} crosses the {o}",
    "action": "{s} acts in {o}",
    "antagonist_of": "{s} opposes (is an antagonist of) the {o}",
    "synergist_of": "{s} works with (is a synergist of) the {o}",
    "part_of": "{s} is part of the {o}",
    "fascial_connection": "{s} is linked through fascia to the {o}",
    "adjacent_to": "{s} lies next to the {o}",
    "variant": "variation in {s}: {o}",
    "associated_condition": "{s} can be involved in {o}",
    "intervention": "for {s}: {o}",
    "lay_term": "{s} is called \u201c{o}\u201d in everyday speech",
    "property": "{s}: {o}",
    "function": "{s} also has this role: {o}",
    "located_in": "{s} lies in the {o}",
}

STATUS_WORDS = {
    "consistent": "consistent with the reference sources",
    "contradicted": "contradicted by the reference sources",
    "disputed": "disputed or weakly supported",
    "opinion": "opinion or marketing, not testable anatomy",
}

_LEVEL = re.compile(r"^([CTLS])(\d{1,2})$")


def compress_levels(levels: Iterable[Any]) -> str:
    """Write spinal levels compactly: ``["L1", "L2", "L3"]`` -> ``"L1\u2013L3"``.

    >>> compress_levels(["T12", "L1", "L2", "L4"])
    'T12\u2013L2, L4'
    """
    items = [str(x) for x in levels]
    order = {"C": 0, "T": 100, "L": 200, "S": 300}
    parsed = []
    for it in items:
        m = _LEVEL.match(it.strip().upper())
        if m is None:
            return ", ".join(items)
        parsed.append((order[m.group(1)] + int(m.group(2)), it.strip().upper()))
    # T12 is followed directly by L1 on the column, as L5 is by S1.
    def rank(v: int) -> int:
        return {112: 200, 205: 300}.get(v, v)

    runs: list[list[tuple[int, str]]] = []
    for value, label in parsed:
        if runs and rank(runs[-1][-1][0]) + 1 == value:
            runs[-1].append((value, label))
        else:
            runs.append([(value, label)])
    return ", ".join(r[0][1] if len(r) == 1 else f"{r[0][1]}\u2013{r[-1][1]}" for r in runs)


def literal_text(lit: Literal) -> str:
    """A literal as words: its value, or its range, with the unit."""
    unit = f" {lit.unit}" if lit.unit else ""
    if lit.value is not None:
        value = lit.value
        text = f"{value:g}" if isinstance(value, float) else str(value)
        if lit.min is not None or lit.max is not None:
            text += f" (range {_range(lit)}{unit})"
            return text
        return text + unit
    return _range(lit) + unit


def _range(lit: Literal) -> str:
    if lit.min is not None and lit.max is not None:
        return f"{lit.min:g}\u2013{lit.max:g}"
    if lit.min is not None:
        return f"at least {lit.min:g}"
    return f"at most {lit.max:g}"


# Relations whose notes explain the relation itself ("by position and fascia, not attached"):
# shown even for consistent statements. Other notes on consistent statements are provenance.
EXPLAINED_PREDICATES = frozenset({"adjacent_to", "fascial_connection", "located_in", "crosses_joint"})

# Qualifiers that help a machine more than a reader of a sentence.
HIDDEN_QUALIFIERS = frozenset({"plane", "fixed_end"})


def qualifier_text(qualifiers: Mapping[str, Any], entities: Mapping[str, Entity] | None = None) -> str:
    """Qualifiers as a short parenthesis: spinal levels compressed, lists joined, long values cut.

    Values that are entity ids (``via: lumbar-plexus``) are written as the entity's name.
    """
    parts: list[str] = []
    names = entities or {}
    for key, value in qualifiers.items():
        if value is None or value == [] or value == "" or key in HIDDEN_QUALIFIERS:
            continue
        if isinstance(value, str) and value in names:
            value = names[value].name
        if key in ("levels", "roots", "segments", "spinal_levels") and isinstance(value, list | tuple):
            parts.append(f"{compress_levels(value)}")
            continue
        if isinstance(value, list | tuple):
            shown = ", ".join(compress_levels(value) if key.endswith("levels") else str(v) for v in value)
        elif isinstance(value, dict):
            shown = ", ".join(f"{k}: {v}" for k, v in value.items())
        else:
            shown = str(value)
        if len(shown) > 160:
            shown = shown[:157].rstrip() + "\u2026"
        parts.append(f"{key.replace('_', ' ')}: {shown}")
    return f" ({'; '.join(parts)})" if parts else ""


def entity_name(entities: Mapping[str, Entity], entity_id: str | None) -> str:
    if entity_id is None:
        return ""
    e = entities.get(entity_id)
    return e.name if e is not None else entity_id.replace("-", " ")


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def fact_object_text(fact: Any, entities: Mapping[str, Entity]) -> str:
    """The object of ``fact`` as words: the entity's name or the literal."""
    if fact.object is not None:
        return entity_name(entities, fact.object)
    return literal_text(fact.literal) if fact.literal is not None else ""


# Literals that read as a verb phrase ("tilts the pelvis forward") follow the subject directly.
VERB_TEMPLATES = {"action": "{s} {o}", "function": "{s} {o}", "property": "{s} {o}"}


def verb_like(text: str) -> bool:
    """True when ``text`` starts like a third-person verb ("helps", "tilts", "does not")."""
    first = text.split(" ", 1)[0].lower() if text else ""
    if first in ("does", "is", "has", "can", "may", "acts", "runs", "lies"):
        return True
    return len(first) > 3 and first.endswith("s") and not first.endswith(("ss", "is", "us", "as", "ics", "ous"))


def fact_sentence(fact: Any, entities: Mapping[str, Entity], *, with_note: bool = True) -> str:
    """One sentence for one fact, with qualifiers, sources and (when not consistent) its status."""
    pred = fact.predicate.value if hasattr(fact.predicate, "value") else str(fact.predicate)
    template = TEMPLATES.get(pred, "{s} \u2014 " + pred.replace("_", " ") + ": {o}")
    if fact.object is None and pred in VERB_TEMPLATES and verb_like(fact_object_text(fact, entities)):
        template = VERB_TEMPLATES[pred]
    body = template.format(s=entity_name(entities, fact.subject), o=fact_object_text(fact, entities))
    body += qualifier_text(fact.qualifiers, entities)
    sources = [s.source for s in fact.sources]
    seed_only = bool(sources) and all(s.startswith("seed-") for s in sources)
    if seed_only:
        body = f"the article {', '.join(sources)} says that {body}"
    text = capitalise(body)
    status = fact.status.value if hasattr(fact.status, "value") else str(fact.status)
    if status != "consistent":
        text += f" \u2014 flagged: {STATUS_WORDS.get(status, status)}"
        if with_note and fact.note:
            text += f": {fact.note.rstrip('.')}"
    elif with_note and fact.note and pred in EXPLAINED_PREDICATES:
        text += f" \u2014 {fact.note.rstrip('.')}"
    if not seed_only:
        text += f" [{', '.join(sources)}]"
    return text + "."


def claim_sentence(claim: Claim) -> str:
    """One sentence for a seed-ledger claim: what the article says, the verdict and why."""
    verdict = claim.verdict.value
    text = (
        f"The article seed-{claim.article} claims: \u201c{claim.text.rstrip('.')}\u201d ({claim.id}). "
        f"Verdict: {verdict} ({STATUS_WORDS.get(verdict, verdict)})"
    )
    if claim.basis:
        text += f". Why: {claim.basis.rstrip('.')}"
    if claim.model_verdict is not None:
        mv = claim.model_verdict
        unit = f" {mv.unit}" if mv.unit else ""
        value = f" ({mv.value:g}{unit})" if mv.value is not None else ""
        text += f". Our model analysis '{mv.analysis}' {mv.verdict.value.replace('_', ' ')} it{value}"
    return text + "."
