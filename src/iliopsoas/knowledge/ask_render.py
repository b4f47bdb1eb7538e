"""Turning atlas records into plain-English sentences written by us (never the articles' wording).

Every sentence is built from one :class:`~iliopsoas.knowledge.store.Fact` (its subject, predicate,
object or literal, qualifiers, status and sources) or from one claim of the seed ledger (our
paraphrase, its verdict and the basis the claims engineer recorded).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from iliopsoas.knowledge.schema import Entity
from iliopsoas.knowledge.store import literal_text

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


def _template(pred: str) -> str:
    """The sentence template of predicate ``pred`` (a generic "subject — predicate: object" if none)."""
    return TEMPLATES.get(pred, "{s} \u2014 " + pred.replace("_", " ") + ": {o}")


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


# Relations whose notes explain the relation itself ("by position and fascia, not attached"):
# shown even for consistent statements. Other notes on consistent statements are provenance.
EXPLAINED_PREDICATES = frozenset({"adjacent_to", "fascial_connection", "located_in", "crosses_joint"})

# Qualifiers that help a machine more than a reader of a sentence.
HIDDEN_QUALIFIERS = frozenset({"plane", "fixed_end", "aspect", "verification"})


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
    """The entity's name; a vertebra also gets its level ("twelfth thoracic vertebra (T12)")."""
    if entity_id is None:
        return ""
    e = entities.get(entity_id)
    if e is None:
        return entity_id.replace("-", " ")
    level = next((s for s in getattr(e, "synonyms", ()) if _LEVEL.match(s)), None)
    return f"{e.name} ({level})" if level else e.name


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
    pred = _predicate(fact)
    template = _template(pred)
    if fact.object is None and pred in VERB_TEMPLATES and verb_like(fact_object_text(fact, entities)):
        template = VERB_TEMPLATES[pred]
    subject = entity_name(entities, fact.subject)
    if pred == "variant" and fact.literal is not None and (fact.literal.unit or "").strip() == "%":
        body = _share_text(fact, subject, entities)
    elif pred == "property" and fact.literal is not None and fact.qualifiers.get("measure"):
        # "the pelvis — share of healthy men standing with an anterior tilt: 85 % (population: ...)"
        rest = {k: v for k, v in fact.qualifiers.items() if k != "measure"}
        body = f"the {subject} — {fact.qualifiers['measure']}: {fact_object_text(fact, entities)}"
        body += qualifier_text(rest, entities)
    else:
        body = template.format(s=f"the {subject}" if template.startswith("{s}") else subject, o=fact_object_text(fact, entities))
        body += qualifier_text(fact.qualifiers, entities)
    sources = _sources(fact)
    seed = seed_only(fact)
    if seed:
        body = f"the article {', '.join(sources)} says that {body}"
    text = capitalise(body)
    status = _status(fact)
    if status != "consistent":
        text += f" \u2014 flagged: {STATUS_WORDS.get(status, status)}"
        if with_note and fact.note:
            text += f": {fact.note.rstrip('.')}"
    elif with_note and fact.note and pred in EXPLAINED_PREDICATES:
        text += f" \u2014 {fact.note.rstrip('.')}"
    if not seed:
        text += f" [{', '.join(sources)}]"
    return text + "."


def _share_text(fact: Any, subject: str, entities: Mapping[str, Entity]) -> str:
    """A percentage variant as words: "the psoas minor, presence: 60% — Bulgarian cadavers, 6 of 10"."""
    q = dict(fact.qualifiers)
    measure, population = q.pop("measure", "share"), q.pop("population", None)
    n, present = q.pop("n", None), q.pop("n_present", None)
    text = f"the {subject}, {measure}: {literal_text(fact.literal).replace(' %', '%')}"
    if population:
        text += f" — {population}"
    if n is not None:
        text += f", {present} of {n}" if present is not None else f", {n} studied"
    return text + qualifier_text(q, entities)






# -- composing several facts ----------------------------------------------------------------





def _sources(fact: Any) -> list[str]:
    return [s.source for s in fact.sources]


def _status(fact: Any) -> str:
    return fact.status.value if hasattr(fact.status, "value") else str(fact.status)


def _predicate(fact: Any) -> str:
    return fact.predicate.value if hasattr(fact.predicate, "value") else str(fact.predicate)


def seed_only(fact: Any) -> bool:
    """True when every source of ``fact`` is one of the seed articles."""
    sources = _sources(fact)
    return bool(sources) and all(s.startswith("seed-") for s in sources)




def _join(items: Sequence[str], word: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]




def _clause(pred: str, facts: Sequence[Any], entities: Mapping[str, Entity], limit: int) -> str:
    """'arises from the A, the B and the C' for facts sharing a predicate (at most ``limit`` objects)."""
    template = _template(pred)
    by_name: dict[str, list[Any]] = {}
    for f in facts:
        if name := fact_object_text(f, entities):
            by_name.setdefault(name, []).append(f)
    names = list(by_name)
    more = len(names) > limit
    names = names[:limit]
    if not names:
        return ""

    def mark(name: str) -> str:
        # A thing named by one flagged statement keeps its flag; several sources naming the same
        # thing agree on it (what they differ on is told in the details).
        told = by_name[name]
        status = _status(told[0])
        return f"{name} ({status})" if len(told) == 1 and status != "consistent" else name

    if pred in VERB_TEMPLATES and facts[0].object is None and verb_like(names[0]):
        # A verb phrase is cut at its first aside: the details below give it in full.
        short = re.split(r",|;| \(| e\.g\.| especially", names[0], maxsplit=1)[0].strip()
        clause = mark(names[0]).replace(names[0], short, 1)
        more = False
    elif "the {o}" in template:
        clause = template.replace("{s} ", "").replace("the {o}", _join([f"the {mark(n)}" for n in names]))
    else:
        clause = template.replace("{s} ", "").replace("{o}", _join([mark(n) for n in names]))
    return clause + (", among others" if more else "")


# The order in which a direct answer names what it knows.
_LEAD_ORDER = ("origin", "insertion", "innervation", "blood_supply", "action", "function", "crosses_joint")


def lead_sentence(
    facts: Sequence[Any],
    entities: Mapping[str, Entity],
    subject: str,
    *,
    limit: int = 4,
    predicates: Iterable[str] | None = None,
    first: Sequence[str] = (),
) -> str | None:
    """A one-sentence direct answer from ``subject``'s reference facts: each predicate once.

    Actions with a recorded role are reduced to the primary ones; with ``predicates`` only those
    are used. When ``subject`` is only ever the object ("what opposes the iliopsoas?"), the
    sentence names the subjects instead. Returns None when nothing fits.
    """
    predicates = set(predicates) if predicates is not None else None
    if predicates is not None:
        facts = [f for f in facts if _predicate(f) in predicates]
    mine = [f for f in facts if f.subject == subject and not seed_only(f) and _status(f) != "contradicted"]
    if not mine:
        return _reverse_lead(facts, entities, subject, limit)
    by_pred: dict[str, list[Any]] = {}
    for f in mine:
        by_pred.setdefault(_predicate(f), []).append(f)
    order = sorted(by_pred, key=lambda p: (first.index(p) if p in first else len(first),
                                           _LEAD_ORDER.index(p) if p in _LEAD_ORDER else len(_LEAD_ORDER)))
    clauses = []
    for pred in order[:3]:
        group = by_pred[pred]
        primary = [f for f in group if f.qualifiers.get("role") == "primary"]
        if pred == "action" and primary:
            clause = _clause(pred, primary, entities, limit).replace("acts in ", "acts mainly in ", 1)
        else:
            clause = _clause(pred, group, entities, limit)
        if clause:
            clauses.append(clause)
    if not clauses:
        return None
    # "..., among others, and inserts on ...": the comma keeps the lists apart.
    clauses = [c + "," if c.endswith("among others") and i < len(clauses) - 1 else c for i, c in enumerate(clauses)]
    return f"The {entity_name(entities, subject)} {_join(clauses)}."


# "{o} ... by {s}" for relations read from the object's side ("what opposes the iliopsoas?").
REVERSE_TEMPLATES = {
    "antagonist_of": "the {o} is opposed by {s}",
    "synergist_of": "the {o} works with {s}",
    "origin": "the {o} gives origin to {s}",
    "insertion": "the {o} receives {s}",
    "innervation": "the {o} supplies {s}",
    "blood_supply": "the {o} supplies blood to {s}",
}


def _reverse_lead(facts: Sequence[Any], entities: Mapping[str, Entity], obj: str, limit: int) -> str | None:
    """The direct answer when ``obj`` is the object of the facts: the subjects, named once."""
    theirs = [f for f in facts if f.object == obj and not seed_only(f) and _status(f) != "contradicted"]
    if not theirs:
        return None
    pred = _predicate(theirs[0])
    template = REVERSE_TEMPLATES.get(pred)
    if template is None:
        return None
    names = list(dict.fromkeys(entity_name(entities, f.subject) for f in theirs if _predicate(f) == pred))
    shown = _join([f"the {n}" for n in names[:limit]]) + (", among others" if len(names) > limit else "")
    return capitalise(template.format(o=entity_name(entities, obj), s=shown)) + "."
