"""Yes/no questions that compare one relation of two structures.

"Do psoas and iliacus get different nerves?", "do the psoas major and the iliacus share the same nerve
supply?", "do psoas major and iliacus end on the same bone?", "do the psoas and the iliacus share a
tendon?": the recorded objects of that relation (nerve supply, blood supply, origin, insertion, the
tendon an insertion runs through) are compared for the two structures. Overlapping sets answer
"same / share / both" with **Yes** and "different / separate" with **No**; disjoint sets the other
way round; sets that overlap only in part give **Partly**. Asked about "the same bone", each
attachment counts as the bone it belongs to (the lesser trochanter is part of the femur).

Asked with no relation ("are psoas and iliacus separate muscles?", "... the same muscle?"), two
structures that are separate entries of the atlas are separate: **Yes** to "separate / different /
distinct", **No** to "the same / one muscle", said with the whole they make up together (the iliopsoas,
whose two muscles share a tendon) before any article's claim about how they work. "Is the iliopsoas
made of two muscles?" is decided by the muscles the atlas records as its parts. "Which artery supplies
both the psoas and the iliacus?" is answered by what the two have in common for that relation.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["distinct_decision", "pair_decision", "parts_decision", "shared_answer"]

_SAME = re.compile(r"\b(same|share|shares|shared|sharing|common|both|alike|identical|together)\b")
_DIFFERENT = re.compile(r"\b(different|differ|differs|separate|separately|own|distinct|independent\w*)\b")
_RELATIONS = (
    ("blood_supply", re.compile(r"\b(blood|arter\w*|vessels?)\b")),
    ("innervation", re.compile(r"\b(nerves?|innervat\w*|nerve supply|supplied|supply|supplies)\b")),
    ("tendon", re.compile(r"\btendons?\b")),
    ("insertion", re.compile(r"\b(insert\w*|end|ends|ending|finish\w*|lower attachment|at the bottom)\b")),
    ("origin", re.compile(r"\b(origin\w*|originat\w*|start|starts|arise|arises|come from|comes from|upper attachment)\b")),
    ("action", re.compile(r"\b(actions?|job|jobs|function|functions|movements?)\b")),
)
_MUSCLE_KINDS = frozenset({"muscle", "muscle_group"})


def _objects(index: Any, subject: str, relation: str, bones: bool) -> tuple[set[str], list[Any]]:
    """What ``subject`` is recorded with for ``relation`` (reference statements only), and the facts."""
    from iliopsoas.knowledge.ask_predicate import _ancestors, _authoritative

    pred = "insertion" if relation == "tendon" else relation
    facts = [f for f in index.atlas.facts_about(subject, pred) if _authoritative(f)
             and f.status.value in ("consistent", "disputed")]
    out: set[str] = set()
    for f in facts:
        if relation == "tendon":
            via = f.qualifiers.get("via")
            if isinstance(via, str):
                out.add(via)
            continue
        obj = f.object or (str(f.literal.value).strip().lower() if f.literal is not None else None)
        if obj is None:
            continue
        if bones and f.object:
            up = [a for a in (f.object, *_ancestors(index, f.object)) if index.kind_of(a) == "bone"]
            obj = up[0] if up else obj
        out.add(obj)
    return out, facts


def pair_decision(index: Any, q: Any, asked: Any) -> Any:
    """The verdict on "do A and B have the same / different R?", or None when not such a question."""
    from iliopsoas.knowledge.ask_render import entity_name, lead_sentence
    from iliopsoas.knowledge.ask_yesno import Decision

    raw = asked.raw
    same, different = _SAME.search(raw), _DIFFERENT.search(raw)
    if not (same or different):
        return None
    names = [e for e in dict.fromkeys((asked.subject, *asked.cosubjects, *asked.objects)) if e]
    pair = [e for e in names if index.kind_of(e) in _MUSCLE_KINDS][:2]
    relation = next((r for r, rx in _RELATIONS if rx.search(raw)), None)
    if len(pair) < 2 or relation is None:
        return None
    bones = re.search(r"\bbones?\b", raw) is not None
    (a_set, a_facts), (b_set, b_facts) = (_objects(index, e, relation, bones) for e in pair)
    if not a_set or not b_set:
        return None
    if a_set == b_set or (relation == "tendon" and a_set & b_set):
        shared = "all"
    elif a_set & b_set:
        shared = "part"
    else:
        shared = "none"
    asks_same = same is not None and not (different is not None and different.start() < same.start())
    if shared == "part":
        verdict = "Partly"
    elif asks_same:
        verdict = "Yes" if shared == "all" else "No"
    else:
        verdict = "No" if shared == "all" else "Yes"
    ents = index.atlas.entities
    pred = "insertion" if relation == "tendon" else relation
    parts = [lead_sentence(facts, ents, e, predicates={pred}, limit=4) for e, facts in ((pair[0], a_facts), (pair[1], b_facts))]
    if relation == "tendon":
        tendon = sorted(a_set & b_set)[0] if a_set & b_set else None
        text = (f"The {entity_name(ents, pair[0])} and the {entity_name(ents, pair[1])} both end through the "
                f"{entity_name(ents, tendon)}." if tendon else None)
    elif all(parts):
        second = str(parts[1])
        text = f"{str(parts[0]).rstrip('.')}; {second[0].lower() + second[1:]}"
    else:
        text = None
    docs = [index.fact_docs.get(f.id) for f in (*a_facts[:2], *b_facts[:2])]
    docs = [d for d in docs if d is not None]
    if not docs:
        return None
    return Decision(verdict, docs[0], tuple(docs[1:4]), text=text, statements=tuple(f.id for f in (*a_facts, *b_facts)))


_ONE = re.compile(r"\b(same|one|single|identical)\s+(muscles?|structures?|things?)\b|\bthe same as\b|\bsame thing\b")
_APART = re.compile(r"\b(separate|different|distinct|two)\s+(muscles?|structures?|things?)\b|\bdifferent from\b"
                    r"|\b(separate|distinct)\b")
_NUMBER_WORDS = {w: i + 1 for i, w in enumerate("one two three four five six".split())}
_MADE_OF = re.compile(r"\b(?:made (?:up )?of|consists? of|composed of|formed (?:by|from|of)|comprised of|has|have) "
                      r"(one|two|three|four|five|six|\d) (muscles|parts|muscle bellies)\b")


def distinct_decision(index: Any, q: Any, asked: Any) -> Any:
    """"Are A and B separate muscles / the same muscle?" with no relation asked, or None."""
    from iliopsoas.knowledge.ask_render import entity_name
    from iliopsoas.knowledge.ask_yesno import Decision

    raw = asked.raw
    if any(rx.search(raw) for _, rx in _RELATIONS):
        return None  # "different nerves", "the same tendon": the relation compares them (pair_decision)
    one, apart = _ONE.search(raw), _APART.search(raw)
    verbless = re.search(r"\b(same|separate|different|distinct) (muscles?|things?)$", raw) and " and " in raw
    if not (one or apart) or not (re.match(r"(are|is)\b", raw) or verbless):
        return None  # "does the thomas test separate a tight psoas from a tight iliacus" asks about the test
    names = [e for e in dict.fromkeys((asked.subject, *asked.cosubjects, *asked.objects)) if e]
    pair = [e for e in names if index.kind_of(e) in _MUSCLE_KINDS][:2]
    if len(pair) < 2 or pair[0] == pair[1] or pair[1] in index.parents.get(pair[0], ()) \
            or pair[0] in index.parents.get(pair[1], ()):
        return None  # a part and its whole ("is the psoas a separate muscle from the iliopsoas") are not two muscles
    ents = index.atlas.entities
    whole = next((p for p in index.parents.get(pair[0], ()) if p in index.parents.get(pair[1], ())
                  and p in index.definitions), None)
    lead = index.definitions.get(whole) if whole else index.definitions.get(pair[0])
    if lead is None:
        return None
    a, b = entity_name(ents, pair[0]), entity_name(ents, pair[1])
    text = f"the {a} and the {b} are two separate muscles"
    if whole:
        text += f" that together make up the {entity_name(ents, whole)}"
    verdict = "No" if one and not (apart and apart.start() < one.start()) else "Yes"
    support = tuple(d for e in pair if (d := index.definitions.get(e)) is not None)
    return Decision(verdict, lead, support[:1], text=text[0].upper() + text[1:] + ".")


def parts_decision(index: Any, q: Any, asked: Any) -> Any:
    """"Is the iliopsoas made of two muscles?": the muscles the atlas records as its parts, or None."""
    from iliopsoas.knowledge.ask_render import entity_name
    from iliopsoas.knowledge.ask_yesno import Decision

    m = _MADE_OF.search(asked.raw)
    whole = asked.subject
    if m is None or whole is None or whole not in index.definitions or asked.cosubjects or asked.objects:
        return None
    said = int(m.group(1)) if m.group(1).isdigit() else _NUMBER_WORDS[m.group(1)]
    parts = [c for c in index.children.get(whole, ()) if index.kind_of(c) in _MUSCLE_KINDS]
    if len(parts) < 2:
        return None
    ents = index.atlas.entities
    listed = ", the ".join(entity_name(ents, c) for c in parts[:-1]) + f" and the {entity_name(ents, parts[-1])}"
    count = "one two three four five six".split()[len(parts) - 1] if len(parts) <= 6 else str(len(parts))
    text = f"The {entity_name(ents, whole)} is made of {count} muscles, the {listed}."
    return Decision("Yes" if said == len(parts) else "No", index.definitions[whole], text=text)


_BOTH = re.compile(r"\bboth\b|\bin common\b|\bshared?\b|\bshares\b")
_NOUN = {"blood_supply": "artery", "innervation": "nerve", "insertion": "attachment", "origin": "attachment"}
_SHARED_VERB = {"blood_supply": "both receive blood from", "innervation": "are both supplied by",
                "insertion": "both insert on", "origin": "both arise from"}


def shared_answer(index: Any, q: Any) -> Any:
    """"Which artery supplies both the psoas and the iliacus?": a passage whose sentence names what the two
    structures have in common for the asked relation (a rewritten statement of the first), or None."""
    from dataclasses import replace

    from iliopsoas.knowledge.ask_render import entity_name

    if q.qtype in ("yesno", "compare") or not _BOTH.search(q.asked) or not re.search(r"\b(which|what)\b", q.asked):
        return None
    pair = [e for e in q.entities if index.kind_of(e) in _MUSCLE_KINDS][:2]
    relation = next((r for r, rx in _RELATIONS if rx.search(q.asked) and r in _SHARED_VERB), None)
    if len(pair) < 2 or relation is None:
        return None
    (a_set, a_facts), (b_set, b_facts) = (_objects(index, e, relation, False) for e in pair)
    common = [o for o in sorted(a_set & b_set) if o in index.atlas.entities]
    ents = index.atlas.entities
    if not common and a_facts and b_facts:  # "what nerve do they have in common": none, and what each has
        from iliopsoas.knowledge.ask_render import lead_sentence

        parts = [lead_sentence(facts, ents, e, predicates={relation}, limit=4) for e, facts in zip(pair, (a_facts, b_facts), strict=True)]
        first_doc = index.fact_docs.get(a_facts[0].id)
        if not all(parts) or first_doc is None:
            return None
        second = str(parts[1])
        sentence = (f"None: the {entity_name(ents, pair[0])} and the {entity_name(ents, pair[1])} have no "
                    f"{_NOUN[relation]} in common. {str(parts[0]).rstrip('.')}; {second[0].lower() + second[1:]}")
        return replace(first_doc, sentence=sentence, number=None, predicate="shared",
                       facts=tuple(f.id for f in (*a_facts, *b_facts)))
    if not common:
        return None
    listed = [f"the {entity_name(ents, o)}" for o in common]
    said = listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + f" and {listed[-1]}"
    first = next((index.fact_docs[f.id] for f in a_facts if f.object in common and f.id in index.fact_docs), None)
    if first is None:
        return None
    sentence = f"The {entity_name(ents, pair[0])} and the {entity_name(ents, pair[1])} {_SHARED_VERB[relation]} {said}."
    facts = tuple(f.id for e in pair for f in index.atlas.facts_about(e, relation) if f.object in common)
    return replace(first, sentence=sentence, number=None, predicate="shared", facts=facts)
