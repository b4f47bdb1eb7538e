"""Deciding a yes/no question from what the atlas asserts, not from which passage ranked first.

A yes/no question asks whether a predicate holds: a relation (attaches to, is supplied by, crosses,
acts in, is part of ...) between the structure it is about and an object (another structure, a
movement such as "hip extension", a spinal level, a position such as "face down", or words such as
"spinous processes"). :func:`read_predicate` finds these in the question; :func:`decide` compares
them with the statements and passages of the index, in this order:

1. a statement about the two that denies the relation ("not the laminae or spinous processes",
   "has no attachment to the vertebral column", "does not cross the hip joint") -> **No**;
2. a reference statement of the asked relation whose object is the asked one, or a part or whole of
   it (the ala of the sacrum for "the sacrum"; L5 among levels L1-L5) -> **Yes** (a disputed or
   contradicted statement gives "Not clearly" or "No");
3. the relation is one the atlas records completely (origin, insertion, nerve supply, joints
   crossed, actions) and the structure has such statements, none with the asked object -> **No**,
   with what is recorded instead ("... inserts on the lesser trochanter, not the greater trochanter");
4. a position asked about a test and the position its procedure names; the asked words found in a
   reference passage about the structure, denied or not; two structures said to be the same;
   "is A better than B" against a result that found them equal;
5. otherwise no verdict (the caller answers without "Yes"/"No", at lower confidence).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from iliopsoas.knowledge.ask_docs import Doc
from iliopsoas.knowledge.ask_effect import effect_decision
from iliopsoas.knowledge.ask_evidence import (
    NOT_CLEAR,
    asks_research,
    claim_decision,
    claim_lead,
    research_decision,
)
from iliopsoas.knowledge.ask_feel import feel_decision
from iliopsoas.knowledge.ask_pairs import distinct_decision, pair_decision, parts_decision
from iliopsoas.knowledge.ask_predicate import (
    _EQUAL,
    _GENERIC_IDS,
    _PART_WORDS,
    _PLACE_WORDS,
    _POSITION,
    _POSITIONS,
    _VERDICT,
    CLOSED,
    Asked,
    _ancestors,
    _authoritative,
    _clause_at,
    _denied_at,
    _kind,
    _mentions,
    _moves_match,
    _names,
    _object_matches,
    fact_movement,
    read_predicate,
)
from iliopsoas.knowledge.ask_variant import variant_decision


@dataclass(frozen=True)
class Decision:
    """A verdict, the passage it rests on, further passages to show and a contrast to append."""

    verdict: str  # "Yes" | "No" | "Not clearly" | ...
    lead: Doc
    support: tuple[Doc, ...] = ()
    contrast: str = ""
    text: str | None = None  # a sentence that replaces the lead's own (an aggregate of the relation)
    statements: tuple[str, ...] = ()



def decide(index: Any, q: Any, ranked: Sequence[tuple[Doc, float]]) -> Decision | None:
    """The verdict on yes/no question ``q`` from the index, or None when it cannot be decided."""
    asked = read_predicate(index, q)
    fact_doc = index.fact_docs
    if _CAUSAL.search(asked.raw):  # "do they work independently because they get different nerves": the inference
        got = claim_decision(index, q, ranked, share=0.5)  # is what an article claims; its verdict answers
        if got is not None:
            return got
    pair = variant_decision(index, q)  # "is it normal not to have a psoas minor?": how often the sources find it
    pair = pair or distinct_decision(index, q, asked) or parts_decision(index, q, asked)  # "separate muscles?", "made of two?"
    pair = pair or pair_decision(index, q, asked) or feel_decision(index, q, ranked)  # "different nerves?", "normal to feel ...?"
    pair = pair or _test_target(index, q) or _groups_compared(asked.raw, ranked, q.studies) or _at_home(index, asked, ranked) \
        or _two_names(index, q) or _opposing_movers(index, asked, fact_doc)
    if pair is not None:
        return pair
    if asks_research(asked.raw) or q.studies:  # "is there evidence that ...", "did Heino find that ...": the result decides
        got = research_decision(index, q, ranked)
        if got is not None:
            return got
    if q.claim:  # "is it true that ...": the article claim that says what is asked is answered by its verdict
        from iliopsoas.knowledge.ask_index import _stem
        from iliopsoas.knowledge.ask_text import EXPAND

        # each asked word with the words passages say it by ("tight": shortened)
        wanted = [{_stem(w), _stem(_PLACE_WORDS.get(w, w)), *(_stem(x) for x in EXPAND.get(w, ()))}
                  for w in q.key if len(w) > 2]
        best: tuple[float, Doc] | None = None
        for d, _ in ranked[:10]:
            about = {d.subject, *d.objects}
            body = d.body.lower()
            # a structure the claim names in words ("the spine") counts as named
            said = {o for o in asked.objects if (name := asked.aliases.get(o)) and re.search(rf"\b{re.escape(name)}\b", body)}
            objects = set(asked.objects) - _GENERIC_IDS - said
            subject_ok = asked.subject in about | {None} or bool(asked.objects) and set(asked.objects) <= about
            if not (d.kind in ("claim", "verdict") and d.status in _VERDICT and subject_ok and objects <= about):
                continue
            have = {_stem(w) for w in re.findall(r"[a-z]+", body)}
            share = sum(1 for alts in wanted if alts & have) / len(wanted) if wanted else 1.0
            if share >= 0.5 and (best is None or share > best[0] or (share == best[0] and best[1].kind == "verdict")):
                best = (share, d)
        if best is not None:
            d = best[1]
            claim = index.atlas.claims.get(d.claims[0]) if d.claims else None
            lead = claim_lead(d.status, claim.text if claim else d.body, (claim.basis or "") if claim else "", asked.raw)
            if lead is not None:
                return Decision(lead, d)
    first = _decide(index, asked, ranked, fact_doc)
    if first is not None and first.lead.id not in {d.id for d, _ in ranked[:10]}:
        # the reference statement decided on is not among the passages the question found, while the best one
        # is an article's claim about the structures asked ("is the main job of the iliacus to stabilise ..."):
        # the claim's verdict answers
        got = _top_claim(index, q, ranked)
        if got is not None and got.verdict != first.verdict:  # when they agree, the reference statement explains
            return got
    if first is None and asked.relations & {"origin", "insertion"} and asked.objects and asked.subject \
            and _kind(index, asked.subject) in ("bone", "bony_landmark") and _kind(index, asked.objects[0]) == "muscle":
        # "is the greater trochanter where the iliopsoas inserts?": the muscle is what the relation is recorded for
        swapped = replace(asked, subject=asked.objects[0], objects=(asked.subject, *asked.objects[1:]),
                          aliases={asked.subject: index.atlas.entities[asked.subject].name})
        first = _decide(index, swapped, ranked, fact_doc)
    if first is None:  # "is prolonged sitting a sustained contraction?": an article claim that says just that;
        # "can the iliopsoas cause groin pain": else a reference passage about it that speaks of the effect
        return claim_decision(index, q, ranked) or effect_decision(index, q, asked.subject, ranked)
    if not asked.cosubjects:
        return first
    more = [_decide(index, replace(asked, subject=c, cosubjects=()), ranked, fact_doc) for c in asked.cosubjects]
    if all(m is not None and m.verdict == first.verdict for m in more):  # the same verdict for each: show each
        extra = tuple(m.lead for m in more if m is not None and m.lead is not first.lead)
        return replace(first, support=(*extra, *first.support))
    return first


_CAUSAL = re.compile(r"\b(because|since they|since it|due to|therefore|which is why|that is why|so that)\b")

_TEST_USE = re.compile(r"\b(for|of|assess\w*|check\w*|test\w*|measur\w*|screen\w*|detect\w*|diagnos\w*|evaluat\w*|"
                       r"examin\w*|used|show\w*|find\w*|identif\w*|pick\w* up|look\w* at)\b")


def _test_target(index: Any, q: Any) -> Decision | None:
    """"Is the Ober test for hip flexor tightness?": the structures a clinical test's reading points to,
    against the structure asked about."""
    ents = index.atlas.entities
    tests = [e for e in q.entities if e in ents and ents[e].kind.value == "clinical_test"]
    targets = [e for e in q.entities if e in ents and e not in tests and ents[e].kind.value in ("muscle", "muscle_group")]
    if len(tests) != 1 or not targets or not _TEST_USE.search(q.asked or q.text):
        return None
    reads = [(f, d) for f in index.atlas.facts_about(tests[0])
             if f.qualifiers.get("aspect") == "how it is read" and (d := index.fact_docs.get(f.id)) is not None]
    if not reads:
        return None
    for f, d in reads:
        text = d.sentence.lower()
        for t in targets:
            names = [n for c in (t, *index.children.get(t, ())) for n in _names(index, c) if len(n) > 3]
            if any(re.search(rf"\b{re.escape(n)}", text) for n in names):
                return Decision("Yes", d, statements=(f.id,))
    return Decision("No", reads[0][1], tuple(d for _, d in reads[1:2]), statements=tuple(f.id for f, _ in reads[:2]))


_GROUP = r"(women|men|girls|boys|children|adults|athletes|runners|dancers|elderly|older adults|young adults|controls)"
_MORE = re.compile(rf"\b{_GROUP}\b(?: \w+){{0,4}}? (more|greater|higher|bigger|larger|stronger|longer|less|lower|smaller|"
                   rf"weaker|shorter|fewer)\b(?: \w+){{0,3}}? than (?:the |in )?{_GROUP}\b")
_UPWARD = frozenset("more greater higher bigger larger stronger longer".split())


def _groups_compared(raw: str, ranked: Sequence[tuple[Doc, float]], studies: frozenset[str] = frozenset()) -> Decision | None:
    """"Do women stand with more lordosis than men?": the figure found for each group, compared (a study the
    question names first; correlations are no amounts)."""
    m = _MORE.search(raw)
    if m is None or m.group(1) == m.group(3):
        return None
    for d, _ in sorted(ranked[:5], key=lambda x: not (set(x[0].sources) & studies)):
        text = d.sentence.lower()
        if d.kind != "fact" or re.search(r"\br\s*=", text):
            continue
        got = [re.search(rf"(\d+(?:\.\d+)?)\s*(?:[a-z%/]+\s*){{0,2}}(?:\([^)]*\)\s*)?(?:in|for) (?:the )?{g}\b", text)
               for g in (m.group(1), m.group(3))]
        if got[0] is None or got[1] is None:
            continue
        a, b = float(got[0].group(1)), float(got[1].group(1))
        if a == b:
            return None
        return Decision("Yes" if (a > b) == (m.group(2) in _UPWARD) else "No", d, statements=d.facts)
    return None


_HOME = re.compile(r"\b(at home|myself|by myself|on my own|alone|(my|a|the) (own )?(bed|floor|sofa|couch)|without (a|an|my) "
                   r"(physio\w*|therapist|clinician|doctor|partner|helper))\b")


def _at_home(index: Any, a: Asked, ranked: Sequence[tuple[Doc, float]]) -> Decision | None:
    """"Can I do a Thomas test on my own bed?": a test with a home version recorded can be done at home."""
    if a.subject is None or not re.match(r"(can|could|may|is it possible)\b", a.raw) or not _HOME.search(a.raw):
        return None
    tests = {a.subject, *index.variants.get(a.subject, ())}
    for d, _ in ranked[:10]:
        if d.kind == "fact" and d.subject in tests and "home" in d.cues.split() and d.status == "consistent":
            return Decision("Yes", d, statements=d.facts)
    return None


def _two_names(index: Any, q: Any) -> Decision | None:
    """"Is the coccyx the tailbone?": two names the atlas gives the same structure."""
    if not re.match(r"(is|are) (the |a |an |your |my )?\w", q.asked or "") or len(q.mentions) != 2:
        return None
    a, b = q.mentions
    if a.entity != b.entity or a.alias == b.alias or a.entity in _GENERIC_IDS or a.entity not in index.definitions:
        return None
    link = r"(the |a |an |just (the |a )?|another name for (the )?|(also )?called (the )?|the same as (the )?|what people call (the )?)?"
    if not re.fullmatch(rf"(is|are) (the |a |an |your |my )?{re.escape(a.alias)} {link}{re.escape(b.alias)}( really| actually)?",
                        q.asked or ""):
        return None  # only "is A (the / another name for) B": "is the coccyx part of the tailbone" asks something else
    name = index.atlas.entities[a.entity].name
    lead = index.definitions[a.entity]
    return Decision("Yes", lead, text=f"\u201c{a.alias}\u201d and \u201c{b.alias}\u201d both name the {name}. {lead.sentence}")


def _opposing_movers(index: Any, a: Asked, fact_doc: Any) -> Decision | None:
    """"Do the hip extensors oppose the hip flexors?": the subject's antagonists, recorded as making that movement."""
    if "antagonist_of" not in a.relations or a.movement is None or a.objects or a.subject is None:
        return None
    move = a.movement[1]
    for f in index.atlas.facts_mentioning(a.subject):  # recorded as "<antagonist> antagonist_of <subject>"
        if f.predicate.value != "antagonist_of" or f.object != a.subject:
            continue
        their = str(f.qualifiers.get("movement") or "").split(" against ")[0]
        if _authoritative(f) and f.status.value == "consistent" and move in their and (d := fact_doc.get(f.id)) is not None:
            return Decision("Yes", d, statements=(f.id,))
    return None


def _top_claim(index: Any, q: Any, ranked: Sequence[tuple[Doc, float]]) -> Decision | None:
    """The verdict of the best-ranked passage when it is an article claim, or an article's statement about the
    structure asked standing for its claim; None otherwise."""
    from iliopsoas.knowledge.ask_evidence import _claim_doc, _stems, _wanted, claim_lead
    from iliopsoas.knowledge.ask_write import ASKS_FOR

    d = ranked[0][0] if ranked else None
    if d is None:
        return None
    # the passage must speak to what is asked: the relation the question's words name ("job", "stabilise":
    # a function; "oppose": an antagonist), or most of its words
    stems = {w[:5] for w in q.key}
    preds = {p for p, keys in ASKS_FOR.items() if keys & stems}
    wanted = _wanted(q)
    about = {index.atlas.statements[f].predicate.value for f in (d.facts if d.kind == "fact" else
             index.atlas.claims[d.claims[0]].statements if d.claims and d.claims[0] in index.atlas.claims else ())
             if f in index.atlas.statements}
    said = sum(1 for w in wanted if w in _stems(d.body)) / len(wanted) if wanted else 0.0
    if not (about & preds or said >= 0.5):
        return None
    if d.kind == "fact" and d.seed and d.facts and d.subject in q.entities[:1]:
        d = _claim_doc(index, d.facts[0])
    if d is None or d.kind != "claim" or d.status not in _VERDICT:
        return None
    claim = index.atlas.claims.get(d.claims[0]) if d.claims else None
    lead = claim_lead(d.status, claim.text if claim else d.body, (claim.basis or "") if claim else "", q.asked or q.text)
    return Decision(lead, d) if lead else None


def _decide(index: Any, asked: Asked, ranked: Sequence[tuple[Doc, float]], fact_doc: Any) -> Decision | None:
    steps = ((_everyone, _only, _denied, _identity, _holds, _denied_whole, _opposite, _position, _closed, _compare,
              _evidence, _stated)
             if asked.subject else (_compare, _evidence))
    for step in steps:
        got = step(index, asked, ranked, fact_doc)
        if got is not None:
            return got
    return None


_STRUCTURAL = frozenset("origin insertion innervation blood_supply crosses_joint antagonist_of synergist_of part_of "
                        "fascial_connection adjacent_to located_in action".split())
_EVERYONE = re.compile(r"\b(everyone|everybody|all people|every person|always|all humans|each person)\b")


def _everyone(index: Any, a: Asked, ranked: Sequence[tuple[Doc, float]], fact_doc: Any) -> Decision | None:
    """"Does everyone have a psoas minor?": a structure recorded as a variant is not in everyone."""
    if not _EVERYONE.search(" ".join(a.words) + " " + a.raw):
        return None
    for d, _ in ranked[:10]:
        if d.kind == "fact" and d.predicate == "variant" and d.subject == a.subject and not d.seed:
            return Decision("No", d, statements=d.facts)
    return None


def _related_facts(index: Any, a: Asked) -> list[Any]:
    """Statements linking the subject and an asked object, in either direction."""
    atlas = index.atlas
    facts = list(atlas.facts_about(a.subject))
    for o in a.objects:
        facts += [f for f in atlas.facts_about(o) if f.object == a.subject or a.subject in f.qualifiers.values()]
    return facts


def _denied_whole(index: Any, a: Asked, ranked: Sequence[tuple[Doc, float]], fact_doc: Any) -> Decision | None:
    """"No attachment to the vertebral column" denies L5 too (checked after what is recorded for L5)."""
    wholes = [p for o in a.objects for p in _ancestors(index, o) if p not in _GENERIC_PARENTS]
    return _denied(index, replace(a, objects=tuple(dict.fromkeys(wholes)), terms=()), ranked, fact_doc) if wholes else None


def _denied(index: Any, a: Asked, ranked: Sequence[tuple[Doc, float]], fact_doc: Any) -> Decision | None:
    """A statement about the subject that names the asked object only to deny it."""
    targets: list[tuple[str, list[str]]] = [(o, _names(index, o)) for o in a.objects]
    targets += [(t, list(_PART_WORDS.get(t, (t,)))) for t in a.terms]
    if not targets:
        return None
    rel_words = _relation_words(a)
    for f in _related_facts(index, a):
        if not _authoritative(f) or f.status.value == "contradicted":
            continue
        d = fact_doc.get(f.id)
        if d is None:
            continue
        text = f"{d.sentence} {f.note or ''}".lower()
        for _, words in targets:
            hits = _mentions(text, words)
            if not hits:
                continue
            if rel_words:  # "has no attachment to the vertebral column": denied in a clause about the relation
                own = f.predicate.value in a.relations
                if any(_denied_at(text, h) and (own or re.search(rel_words, _clause_at(text, h))) for h in hits):
                    where = _where(index, a.subject, fact_doc) if a.relations & {"origin", "insertion"} else ()
                    return Decision("No", d, where, statements=(f.id,))
            elif all(_denied_at(text, h) for h in hits):
                return Decision("No", d, statements=(f.id,))
    own_words = _RELATION_WORDS.get(next(iter(a.relations)), "") if len(a.relations) == 1 else ""
    if own_words:  # "it is not an antagonist of hip flexion": the relation itself denied for the subject
        for f in index.atlas.facts_about(a.subject):
            d = fact_doc.get(f.id)
            if d is None or not _authoritative(f) or f.status.value != "consistent":
                continue
            text = d.sentence.lower()
            if any(_denied_at(text, m.start()) for m in re.finditer(own_words, text)):
                return Decision("No", d, _subject_actions(index, a, fact_doc), statements=(f.id,))
    if rel_words:  # "is the kidney attached to the psoas": a denying statement about the two of them
        pair = {a.subject, *a.objects}
        for d, _ in ranked[:20]:
            if (d.kind == "fact" and d.negative and not d.seed and d.subject in pair and set(d.objects) & pair
                    and re.search(rel_words, d.sentence.lower())):
                return Decision("No", d, _where(index, d.subject, fact_doc), statements=d.facts)
    return None


_GENERIC_PARENTS = frozenset({"hip", "abdomen", "trunk", "pelvis", "lower-back", "abdominal-organs"})


def _relation_words(a: Asked) -> str:
    words = {"origin": "attach|arise|origin", "insertion": "attach|insert", "crosses_joint": "cross|span",
             "innervation": "suppl|innervat|nerve", "blood_supply": "suppl|arter|blood"}
    parts = [words[r] for r in a.relations if r in words]
    return "|".join(parts)


def _holds(index: Any, a: Asked, ranked: Sequence[tuple[Doc, float]], fact_doc: Any) -> Decision | None:
    """A reference statement of the asked relation with the asked object (or movement, or level)."""
    atlas = index.atlas
    found: list[Any] = []
    own = list(atlas.facts_about(a.subject))
    if a.relations and not (a.relations & CLOSED) and not any(f.predicate.value in a.relations for f in own):
        # "can tight hip flexors cause back pain": what is recorded for the parts of the hip flexors
        own += [f for c in index.children.get(a.subject, ()) for f in atlas.facts_about(c)]
    for f in own:
        pred = f.predicate.value
        if not _authoritative(f) or (a.relations and pred not in a.relations):
            continue
        if not a.relations and pred in _NEAR_ONLY:
            continue  # lying next to something does not make it that thing
        if pred == "action" and a.movement is not None:
            have = fact_movement(f)
            if have is not None and _moves_match(a.movement, have) and not a.objects[1:]:
                found.append(f)
            continue
        objects = [o for o in a.objects if a.relations or o not in _GENERIC_IDS]  # "the pelvis": only with a relation
        if objects and any(_object_matches(index, f, o) for o in objects):
            found.append(f)
        elif not a.objects and a.levels and pred == "innervation":
            if set(a.levels) <= {str(x) for x in f.qualifiers.get("levels") or ()}:
                found.append(f)
    for o in a.objects:  # "does the femoral nerve supply the iliacus": the statement is about the object
        for f in atlas.facts_about(o):
            pred = f.predicate.value
            if (_authoritative(f) and f.object == a.subject and (pred in a.relations if a.relations
                                                                  else pred not in _NEAR_ONLY)):
                found.append(f)
    if not found:
        return None
    said = set(a.raw.split())
    found.sort(key=lambda f: ({"consistent": 0, "disputed": 1, "opinion": 2}.get(f.status.value, 3),
                              -len(said & set(str(f.literal.value if f.literal else "").lower().split()))))
    best = found[0]
    d = fact_doc.get(best.id)
    if d is None:
        return None
    verdict = {"consistent": "Yes", "disputed": NOT_CLEAR, "contradicted": "No"}.get(best.status.value, NOT_CLEAR)
    if verdict == NOT_CLEAR and len(found) >= 2 and all(f.status.value == "disputed" for f in found):
        verdict = "Yes"  # the sources agree on what is asked and differ on a detail (the levels, the extent)
    support = tuple(x for f in found[1:3] if (x := fact_doc.get(f.id)) is not None)
    return Decision(verdict, d, support, statements=tuple(f.id for f in found[:3]))


_RELATION_WORDS = {"antagonist_of": r"\b(antagonist|oppos)", "synergist_of": r"\b(synergist|works? with)",
                   "crosses_joint": r"\bcross"}


def _where(index: Any, subject: str | None, fact_doc: Any) -> tuple[Doc, ...]:
    """Where the structure lies (shown after a No about what it attaches to)."""
    facts = [f for f in index.atlas.facts_about(subject or "", "located_in") if _authoritative(f)]
    return tuple(d for f in facts[:1] if (d := fact_doc.get(f.id)) is not None)


def _subject_actions(index: Any, a: Asked, fact_doc: Any) -> tuple[Doc, ...]:
    """What the subject does instead (its recorded actions), shown after a No about opposing or helping."""
    if not a.relations & {"antagonist_of", "synergist_of"}:
        return ()
    facts = [f for f in index.atlas.facts_about(a.subject, "action") if _authoritative(f) and f.status.value == "consistent"]
    return tuple(d for f in facts[:3] if (d := fact_doc.get(f.id)) is not None)


_NEAR_ONLY = frozenset({"adjacent_to", "fascial_connection", "located_in"})
_EXCLUSIVE = {"antagonist_of": "synergist_of", "synergist_of": "antagonist_of"}


def _opposite(index: Any, a: Asked, ranked: Sequence[tuple[Doc, float]], fact_doc: Any) -> Decision | None:
    """"Is the gluteus minimus an antagonist of the iliopsoas?" against a statement that it works with it."""
    other = {_EXCLUSIVE[r] for r in a.relations if r in _EXCLUSIVE}
    if not other or not a.objects:
        return None
    for f in index.atlas.facts_about(a.subject):
        if (f.predicate.value in other and f.object in a.objects and _authoritative(f)
                and f.status.value == "consistent" and (d := fact_doc.get(f.id)) is not None):
            return Decision("No", d, _subject_actions(index, a, fact_doc), statements=(f.id,))
    return None


def _links(index: Any, a: Asked, fact_doc: Any) -> tuple[Doc, ...]:
    """Reference statements linking the subject and the asked objects by any relation (how they do meet)."""
    out = []
    for f in _related_facts(index, a):
        d = fact_doc.get(f.id)
        if d is not None and _authoritative(f) and {f.subject, f.object} >= {a.subject} and (
                set(a.objects) & {f.subject, f.object, *d.objects}):
            out.append(d)
    return tuple(out[:2])


def _closed(index: Any, a: Asked, ranked: Sequence[tuple[Doc, float]], fact_doc: Any) -> Decision | None:
    """The subject's recorded statements of a completely recorded relation, none with the asked object."""
    from iliopsoas.knowledge.ask_render import lead_sentence

    rels = a.relations & CLOSED
    if a.subject is None or not rels or not (a.objects or a.movement or a.levels):
        return None
    supplier = _kind(index, a.subject) in ("nerve", "nerve_plexus", "vessel")
    if supplier and rels & {"innervation", "blood_supply"} and len(a.objects) == 1:
        # "does the femoral nerve supply the psoas?": what is recorded as supplying the psoas
        flipped = replace(a, subject=a.objects[0], objects=(a.subject,),
                          aliases={a.subject: index.atlas.entities[a.subject].name})
        return _closed(index, flipped, ranked, fact_doc)
    if "action" in rels and a.movement is None:
        rels = rels - {"action"}
    atlas = index.atlas
    facts = [f for f in atlas.facts_about(a.subject) if f.predicate.value in rels and _authoritative(f)
             and f.status.value in ("consistent", "disputed")]
    facts.sort(key=lambda f: f.status.value != "consistent")
    if not facts:
        return None
    lead = fact_doc.get(facts[0].id)
    if lead is None:
        return None
    text = lead_sentence(facts, atlas.entities, a.subject, predicates=rels, limit=5)
    contrast = ""
    if a.objects:
        said = a.aliases.get(a.objects[0]) or index.atlas.entities[a.objects[0]].name
        contrast = f", not the {said}" if not said.startswith("the ") else f", not {said}"
    elif a.movement is not None:
        joint, move = a.movement
        contrast = f", not {joint + ' ' if joint and joint != 'lumbar' else ''}{move}" + (" of the lumbar spine" if joint == "lumbar" else "")
    support = _links(index, a, fact_doc) + tuple(x for f in facts[1:4] if (x := fact_doc.get(f.id)) is not None)
    return Decision("No", lead, support, contrast, text, tuple(f.id for f in facts))


def _position(index: Any, a: Asked, ranked: Sequence[tuple[Doc, float]], fact_doc: Any) -> Decision | None:
    """How a test is done: the position asked against the position its procedure names."""
    if a.position is None:
        return None
    for f in index.atlas.facts_about(a.subject):
        if f.qualifiers.get("aspect") != "how it is done" or f.literal is None:
            continue
        m = _POSITION.search(str(f.literal.value).lower().replace("lying face down", "face down"))
        d = fact_doc.get(f.id)
        if m is None or d is None:
            continue
        same = _POSITIONS[m.group(1)] == a.position
        return Decision("Yes" if same else "No", d, statements=(f.id,))
    return None


def _identity(index: Any, a: Asked, ranked: Sequence[tuple[Doc, float]], fact_doc: Any) -> Decision | None:
    """"Is the sacrum the tail bone?": one structure named as another."""
    if not a.identity or not a.objects:
        return None
    o = a.objects[0]
    if a.subject is None:
        return None
    defs = [index.definitions.get(x) for x in (a.subject, o)]
    lead = defs[0] or defs[1]
    if lead is None:
        return None
    support = tuple(d for d in defs[1:] if d is not None)
    if o == a.subject or o in _ancestors(index, a.subject):
        return Decision("Yes", lead, support)
    ents = index.atlas.entities
    loose = [x for x in (a.subject, o) if x in _GENERIC_IDS]
    if len(loose) == 1:  # "is the hip a ball and socket joint": the loose word "hip" also means the hip joint
        other = o if loose[0] == a.subject else a.subject
        if set(ents[loose[0]].name.lower().split()) - {"region"} <= set(ents[other].name.lower().split()):
            return Decision("Yes", index.definitions.get(other) or lead, support)
    said = a.aliases.get(o, ents[o].name)
    name = ents[o].name
    label = f"the {name}" + (f" (\u201c{said}\u201d)" if said.replace(" ", "") != name.replace(" ", "") else "")
    text = f"The {ents[a.subject].name} and {label} are different structures."
    return Decision("No", lead, support, text=text)


def _compare(index: Any, a: Asked, ranked: Sequence[tuple[Doc, float]], fact_doc: Any) -> Decision | None:
    """"Is a 60 s stretch better than 30 s?" against a result that found the two equal."""
    if a.compare is None:
        return None
    from iliopsoas.knowledge.ask_tables import stem

    wanted = {stem(w) for w in a.words}
    best: tuple[int, Doc] | None = None
    for d, _ in ranked[:40]:
        result = d.kind == "fact" and d.predicate == "intervention" or d.kind == "care" and d.predicate == "evidence"
        if not result or d.seed:
            continue
        shared = len(wanted & {stem(w) for w in re.findall(r"[a-z]+", d.sentence.lower())})
        if best is None or shared > best[0]:
            best = (shared, d)
    if best is None or best[0] < 2:
        return None  # no result speaks of the two things compared
    d = best[1]
    if _EQUAL.search(d.sentence.lower()):
        return Decision("No" if a.compare == "better" else "Yes", d, statements=d.facts)
    if a.compare == "better" and re.search(r"\b(?<!without )(?<!no )(?<!not )(more|greater|better|larger)\b", d.sentence.lower()):
        return Decision("Yes", d, statements=d.facts)  # the result found one ahead (named first in it)
    return None


_WORKS = re.compile(r"\b(work|works|working|help|helps|effective|effectiveness|worth it|any good|do anything|"
                    r"does anything|evidence for)\b")
_GRADE_VERDICT = {"high": "Yes", "moderate": "Yes", "low": "Weakly supported", "very-low": "Not established"}
# "is there strong evidence for ...": only a high grade is a yes
_STRONG = re.compile(r"\b(strong|good|solid|high quality|robust|much|enough|real|convincing) evidence\b|"
                     r"\bevidence based\b|\b(proven|well supported|backed by (research|evidence|science))\b")
_STRONG_VERDICT = {"high": "Yes", "moderate": "Not strong", "low": "No", "very-low": "No"}
# words that ask about a technique's effect even when a movement is named ("effective for hip extension")
_EFFECT_ASKED = re.compile(r"\b(effective|effectiveness|worth it|evidence)\b")


def _evidence(index: Any, a: Asked, ranked: Sequence[tuple[Doc, float]], fact_doc: Any) -> Decision | None:
    """"Does psoas massage work?": the evidence grade of the care step the question is about."""
    strong = _STRONG.search(a.raw) is not None
    if a.relations - {"action"} or not (_WORKS.search(a.raw) or strong):
        return None
    if (a.movement is not None or a.relations) and not (strong or _EFFECT_ASKED.search(a.raw)):
        return None  # "does the psoas help flex the hip" asks about an action
    top = ranked[0][1] if ranked else 0.0
    for d, sc in ranked[:6]:  # "my psoas feels tight, does massaging it work": the feel is context, not the ask
        if d.kind == "care" and d.predicate == "evidence" and sc >= top - 0.6:
            grade = d.status.split(":", 1)[-1].strip()
            verdicts = _STRONG_VERDICT if strong else _GRADE_VERDICT
            if grade in verdicts:
                return Decision(verdicts[grade], d)
    return None


def _only(index: Any, a: Asked, ranked: Sequence[tuple[Doc, float]], fact_doc: Any) -> Decision | None:
    """"Is the psoas the only hip flexor?": other structures recorded with the same movement."""
    if a.subject is None or a.movement is None or not re.search(r"\b(the only|only one|alone|by itself)\b", a.raw):
        return None
    others = []
    for f in index.atlas.statements.values():
        if (f.predicate.value == "action" and f.subject != a.subject and _authoritative(f)
                and f.status.value == "consistent" and f.subject not in _ancestors(index, a.subject)
                and a.subject not in _ancestors(index, f.subject)):
            have = fact_movement(f)
            if have is not None and _moves_match(a.movement, have) and (d := fact_doc.get(f.id)) is not None:
                others.append(d)
    if not others:
        return None
    names = list(dict.fromkeys(index.atlas.entities[d.subject].name for d in others))
    text = f"Other muscles make this movement too: the {', the '.join(names[:5])}."
    return Decision("No", others[0], tuple(others[1:3]), text=text, statements=tuple(x for d in others[:3] for x in d.facts))


def _stated(index: Any, a: Asked, ranked: Sequence[tuple[Doc, float]], fact_doc: Any) -> Decision | None:
    """The asked words found in a reference passage about the subject: said, or said to be not so."""
    wanted = [w for w in q_words(a, index) if w]
    if not wanted:
        return None
    for d, _ in ranked[:12]:
        if d.kind not in ("fact", "entity") or d.seed or d.status not in ("consistent",):
            continue
        if not {a.subject, *index.variants.get(a.subject, ())} & {d.subject, *d.objects}:
            continue
        if a.relations and d.predicate in _STRUCTURAL and d.predicate not in a.relations:
            continue  # a statement of another relation neither confirms nor denies this one
        if a.relations and d.predicate not in a.relations and not re.search(_relation_words(a) or "^$", d.sentence.lower()):
            continue
        text = f"{d.sentence} {d.body}".lower()
        hits = [_mentions(text, group) for group in wanted]
        if not all(hits):
            continue
        named = len(a.objects) + len(a.terms)  # the first groups: structures and parts asked about
        denied = any(all(_denied_at(text, h) for h in group) for group in hits[:named])
        if not denied and any(_denied_at(text, h) for group in hits[named:] for h in group):
            continue  # a plain word said only in a denial: neither yes nor no
        return Decision("No" if denied else "Yes", d, statements=d.facts)
    return None


def q_words(a: Asked, index: Any) -> list[list[str]]:
    """Word groups that must all occur for the "stated" step: each asked object's names, its terms and
    the question's other content words (as stems: "attached" finds "attachment")."""
    from iliopsoas.knowledge.ask_index import SYNONYMS, _stem

    groups = [_names(index, o) for o in a.objects]
    groups += [list(_PART_WORDS.get(t, (t,))) for t in a.terms]
    if a.movement is None:
        groups += [[_stem(SYNONYMS.get(w, w))] for w in a.words]
    return groups
