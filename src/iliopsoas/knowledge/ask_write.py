"""Writing an answer from ranked passages: the direct answer first, a few cited facts, the evidence.

The first sentence answers the question asked: "Yes:"/"No:" first for a yes/no question (from the
passage's own polarity: a claim's verdict, a statement that denies, or whether the structure the
question names is among those the atlas records), the figure first for "how long / how many / what
share", the definition first for "what is". Then at most four more facts, each with its sources
(short citations) and its evidence status; a note only when facts shown disagree; and a caution
line whenever a pressure technique is described.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from iliopsoas.knowledge.ask_docs import Doc
from iliopsoas.knowledge.ask_evidence import NOT_CLEAR, claim_lead
from iliopsoas.knowledge.ask_index import SYNONYMS, AskIndex, Query, _stem
from iliopsoas.knowledge.ask_near import POSITION_WORDS, SOUGHT, neighbour_asked
from iliopsoas.knowledge.ask_rank import aspect_bonus
from iliopsoas.knowledge.ask_safety import Recognised
from iliopsoas.knowledge.ask_text import EXPAND
from iliopsoas.knowledge.ask_variant import variant_span
from iliopsoas.knowledge.ask_yesno import decide

MAX_FACTS = 6  # the direct answer plus at most five supporting facts
SOFT_LIMIT = 850  # characters: stop adding supporting facts past this ("why" and "how" answers)
SHORT_LIMIT = 520  # the same for plain factual questions
STRUCTURAL = frozenset(
    "origin insertion innervation blood_supply crosses_joint antagonist_of synergist_of part_of located_in".split()
)
# Which kinds of statement a question asks for, read from its words (stems of five letters).
ASKS_FOR = {
    "origin": {"origi", "arise", "arisi", "start", "begin", "come", "comes", "proxi"},
    "insertion": {"inser", "end", "ends", "dista", "onto", "grab"},
    "innervation": {"nerve", "inner", "suppl", "root", "roots", "level", "contr"},
    "blood_supply": {"blood", "arter", "vesse", "feed", "feeds"},
    "crosses_joint": {"cross", "joint", "joints", "span", "spans"},
    "antagonist_of": {"antag", "oppos"},
    "synergist_of": {"syner", "help", "helps", "assis", "work", "works"},
    "action": {"actio", "funct", "movem", "flex", "flexi", "flexe", "job", "role"},
    "function": {"actio", "funct", "job", "role", "stabi", "do"},
}
_KIND_LABEL = {"stretch": "Stretch", "strengthen": "Strengthen", "habit": "Move more", "release": "Pressure release (optional)"}
_OWN_PAIN = re.compile(r"\b(hurt\w*|pain\w*|ach(e|es|ing|y)|sore\w*|throb\w*|twinge\w*|strain(ed)?|injur\w*)\b")
PERSONAL_NOTE = "Not a diagnosis: see a clinician if it keeps up or limits you."
_VERDICT_LEAD = {"consistent": "Yes", "contradicted": "No", "disputed": "Not clearly", "opinion": "Not established"}
_STATUS_SHORT = {"consistent": "consistent", "contradicted": "contradicted", "disputed": "disputed",
                 "opinion": "opinion, not evidence"}


@dataclass
class Draft:
    """An answer being written: the text, its first sentence, the full evidence, what it cites."""

    text: str = ""
    short: str = ""
    more: str = ""
    docs: list[Doc] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    polarity: str | None = None


def _status_text(d: Doc) -> str:
    if d.status.startswith("evidence:"):
        grade = d.status.split(":", 1)[1].strip()
        return f"evidence: {grade}" + (" (weak)" if grade in ("low", "very-low") else "")
    if d.kind in ("claim", "verdict"):
        return f"verdict: {_STATUS_SHORT.get(d.status, d.status)}"
    return _STATUS_SHORT.get(d.status, d.status)


def _cite_short(index: AskIndex, ids: Sequence[str], limit: int = 2) -> str:
    from iliopsoas.knowledge.citation import short_cite

    names = []
    ids = sorted(ids, key=lambda s: s.startswith("seed-"))  # research and reference works first
    for sid in ids[:limit]:
        src = index.atlas.sources.get(sid)
        names.append(short_cite(src) if src is not None else sid)
    more = f" +{len(ids) - limit}" if len(ids) > limit else ""
    return "; ".join(names) + more


def _tag(index: AskIndex, d: Doc) -> str:
    srcs = _cite_short(index, d.sources) if d.sources else "no source"
    checked = str(d.extra.get("verification", "verified"))
    label = "" if checked == "verified" else f" \u00b7 {checked}"  # "derived", "model-parameter", ...
    return f" [{srcs} \u00b7 {_status_text(d)}{label}]"


def _polarity(index: AskIndex, q: Query, d: Doc) -> str | None:
    """"Yes" / "No" for what the yes/no decider leaves (:mod:`ask_yesno`): a claim's verdict when
    the question asks whether that claim is true, and "one on each side" for a paired structure."""
    if d.kind in ("claim", "verdict"):  # an article's claim answers only "is it true that <the claim>"
        if q.claim:
            return _VERDICT_LEAD.get(d.status)
        claim = index.atlas.claims.get(d.claims[0]) if d.kind == "claim" and d.claims else None
        if claim is None or claim.verdict == "consistent":
            return None  # an agreeing claim that only resembles the question is no "Yes"
        # a yes/no question the claim's words answer ("does a tight iliopsoas make the diaphragm weaker" and
        # the disputed claim that it drags on the diaphragm): its verdict leads, in plain words
        return claim_lead(d.status, claim.text, claim.basis or "", q.asked or q.text)
    if d.kind == "entity" and d.predicate == "laterality":
        wants_two = bool(re.search(r"\b(both|each|two|left and (a |the )?right|pair|paired)\b", q.asked))
        return ("Yes" if wants_two else "No") if "paired" in d.sentence else None
    return None


def _plain_claim(index: AskIndex, d: Doc) -> str | None:
    """A consistent article claim said plainly: its text, then that the reference sources agree and why."""
    claim = index.atlas.claims.get(d.claims[0]) if d.claims else None
    if claim is None:
        return None
    basis = f": {claim.basis.strip().rstrip('.')}" if claim.basis else ""
    return f"{claim.text.strip().rstrip('.')} (article seed-{claim.article}; the reference sources agree{basis})."


def _reason(index: AskIndex, d: Doc) -> str | None:
    """Why a disputed statement is disputed (its note), for a "Not clearly" verdict."""
    f = index.atlas.statements.get(d.facts[0]) if d.kind == "fact" and d.facts else None
    note = (f.note or "").strip() if f is not None else ""
    return note if note and len(note) <= 240 else None


def _compare(index: AskIndex, q: Query) -> list[Doc]:
    """What to set side by side for "what is the difference": the two structures' definitions, or,
    when the question names a kind of care step ("psoas release vs iliacus release"), their methods."""
    from iliopsoas.knowledge.ask_docs import KIND_WORDS

    kinds = [k for k, words in KIND_WORDS.items() if set(words.split()) & set(q.content)]
    if kinds:
        steps = [next((d for d in index.docs if d.kind == "care" and d.predicate == "how" and d.subject == e
                       and d.extra.get("kind") == kinds[0]), None) for e in q.entities[:2]]
        if all(steps):
            return [d for d in steps if d is not None]
    return [index.definitions[e] for e in q.entities[:2] if e in index.definitions]


def _lead_doc(index: AskIndex, q: Query, ranked: Sequence[tuple[Doc, float]]) -> tuple[Doc, float]:
    d, s = _lead_choice(index, q, ranked)
    if d.kind == "fact" and d.seed and not (_WHAT_IS.search(q.asked) and not q.entities):
        # ("what is contract-relax stretching", no structure named: the statement describing it leads)
        # an article's statement is answered by its claim in the ledger: the verdict and why
        claim = next((c for c in index.claim_of.get(d.facts[0], ()) if c in index.claim_docs), None)
        if claim is not None:
            return index.claim_docs[claim], s
    return d, s


_WHAT_IS = re.compile(r"^(what is|what are|whats|explain|describe|define)\b(?! (the )?(evidence|research|proof)\b)")
_CARE_STEP_WORDS = frozenset("stretch stretching stretches strengthen strengthening exercise exercises release releasing "
                             "pressure massage tool ball".split())


def _lead_choice(index: AskIndex, q: Query, ranked: Sequence[tuple[Doc, float]]) -> tuple[Doc, float]:
    top, top_s = ranked[0]
    if q.qtype == "why":
        # a "why" is answered by what the articles claim and how the claim fared, when one is close:
        # the claim that uses most of the question's own words (everyday words read as the passages
        # write them: "arch" is lordosis, "lay" is lying); a care step's evidence only when it says more
        wanted = {_stem(SYNONYMS.get(w, w)) for w in q.key if len(w) > 2}
        wanted |= {_stem(x) for w in q.key for x in EXPAND.get(w, ())}

        def said(d: Doc) -> int:
            return len(wanted & {_stem(SYNONYMS.get(w, w)) for w in re.findall(r"[a-z]+", d.body.lower())})

        step = top.kind == "care" and top.predicate == "evidence"
        about_step = bool(_CARE_STEP_WORDS & set(q.content))
        if step and q.aspects:  # "why should I rest it first": the passage giving that advice, not the step's grade
            for d, s in ranked[1:5]:
                if s >= top_s - 0.5 and aspect_bonus(q.aspects, d) > 0:
                    return d, s
        reach = 1.5 if step and not about_step else 0.5  # a program step's evidence explains no cause
        close = [(d, s) for d, s in ranked[:30] if d.kind in ("claim", "verdict", "conflict") and s >= top_s - reach]
        if close:
            kind_bonus = {"claim": 0.5, "conflict": 0.5, "verdict": -1.0}
            best = max(close, key=lambda x: (said(x[0]) + kind_bonus.get(x[0].kind, 0.0), x[1]))
            # "why is pressure important" asks about a care step: its evidence answers; "why do my hips feel
            # tight after sitting" asks for a cause: the claim that says it
            if not step or not about_step and said(best[0]) >= said(top):
                return best
    window = [(d, s) for d, s in ranked[:8] if s >= top_s - 0.6]
    if q.aspects and aspect_bonus(q.aspects, top) <= 0:
        # "rest or stretch them?": the passage giving the asked advice (rest, stop signs, the feel) leads
        for d, s in window[1:5]:
            if s >= top_s - 0.5 and aspect_bonus(q.aspects, d) > 0:
                return d, s
    near = neighbour_asked(index, q, ranked, top_s)
    if near is not None:  # "the ureter crosses which muscle?": the neighbour statement, from either side
        return near
    if q.qtype == "definition" and q.entities and q.entities[0] in index.definitions:
        d = index.definitions[q.entities[0]]
        return d, max(top_s, next((s for x, s in ranked if x is d), top_s))
    if q.qtype == "number":  # the figure first, from a passage nearly as good as the best one
        for d, s in window:
            if d.number and s >= top_s - 0.3:
                return d, s
    if q.qtype == "yesno":
        # "Is the iliacus supplied by the femoral nerve?", "... attached to the spine?": the statement
        # linking the structure asked about with the other one named (loose words such as "spine" count)
        named = set(q.entities) | {m.entity for m in q.mentions}
        for d, s in ranked[:30]:
            if d.kind == "fact" and d.subject in q.entities and set(d.objects) & (named - {d.subject}) and s >= top_s - 0.8:
                return d, s
    return top, top_s


def _measure_key(d: Doc) -> str | None:
    """What a fact measures, the same for every structure: its statement id without the subject
    ("psoas-major.property.volume-fraction" and "iliacus.property.volume-fraction" -> "property.volume-fraction")."""
    if d.kind != "fact" or not d.subject or len(d.facts) != 1 or not d.facts[0].startswith(d.subject + "."):
        return None
    return d.facts[0][len(d.subject) + 1:]


# "what checks would a physio do", "which tests are there for tight hip flexors", "how would a physio test my hips"
_TESTS_ASKED = re.compile(r"\b(what|which)( \w+){0,2} (tests?|checks?|exams?|examinations?|assessments?)\b|"
                          r"\bhow (would|do|does|can|could|will|should) (a |the |my |your )?(physio|physiotherapist|"
                          r"doctor|clinician|therapist|you|they|i|one) (test|check|assess|examine|measure)\b")
_LENGTH_WORDS = re.compile(r"\b(length|tight|tightness|short|shortened|stiff|flexible|flexibility)\b")
# what a muscle-length test's summary says it tests
_LENGTH_TESTED = re.compile(r"\blength\b|\b(tight|short|shortened) (hip|iliopsoas|rectus|tensor|one-joint|two-joint|muscle)")


def _test_docs(index: AskIndex) -> list[Doc]:
    """The definitions of the atlas's muscle-length tests (clinical tests whose summary speaks of length or a
    tight or short muscle; the outcome measures are not among them), in atlas order."""
    ents = index.atlas.entities
    return [index.definitions[e] for e, x in ents.items() if x.kind.value == "clinical_test" and e in index.definitions
            and _LENGTH_TESTED.search((x.summary or "").lower())]


def _tests_listed(index: AskIndex, q: Query) -> tuple[str, Doc, list[Doc]] | None:
    """One sentence naming each muscle-length test with the first clause of its summary, the lead it stands for
    and the tests' definitions, when the question asks which tests or checks there are for tight or short
    muscles and names no test itself."""
    ents = index.atlas.entities
    if not _TESTS_ASKED.search(q.asked) or any(ents[e].kind.value == "clinical_test" for e in q.entities if e in ents):
        return None
    if not (_LENGTH_WORDS.search(q.text) or {"iliopsoas", "psoas-major", "iliacus", "rectus-femoris"} & set(q.entities)):
        return None
    docs = _test_docs(index)
    if len(docs) < 2:
        return None
    parts = []
    for d in docs:
        x = ents[d.subject]
        clause = re.split(r"[:;]", (x.summary or "").strip(), maxsplit=1)[0].strip().rstrip(".")
        parts.append(f"the {x.name} ({clause[0].lower() + clause[1:]})")
    sentence = "Muscle length is checked with " + ", ".join(parts[:-1]) + f" and {parts[-1]}."
    sources = tuple(dict.fromkeys(src for d in docs for src in d.sources))
    return sentence, replace(docs[0], sources=sources), docs


def _asked_predicates(q: Query) -> set[str]:
    stems = {_stem(t) for t in q.content}
    preds = {p for p, keys in ASKS_FOR.items() if keys & stems}
    if "attac" in stems:
        preds |= {"origin", "insertion"}
    return preds


_WHICH_OF_THEM = re.compile(r"\b(which|what) (\w+ )?(muscles?|hip flexors?|flexors?|structures?|bones?)\b")


def _aggregate(index: AskIndex, q: Query, lead: Doc) -> tuple[str, list[str]] | None:
    """One sentence naming every recorded origin / insertion / nerve ... of the structure asked about.

    Returns the sentence and the statement ids it rests on, or None when the lead is not such a fact.
    """
    from iliopsoas.knowledge.ask_render import lead_sentence

    if lead.kind == "fact" and lead.predicate == "variant" and lead.subject:
        return variant_span(index, lead.subject)
    if lead.kind == "fact" and lead.predicate == "action" and q.seeking:
        return _movers(index, lead)
    sought = SOUGHT.search(q.asked)
    if lead.predicate == "adjacent_to" and sought and not sought.group(1).endswith("s") and POSITION_WORDS.search(q.asked):
        return None  # "which muscle does the sciatic nerve pass below": the one neighbour, not every relation
    listed = STRUCTURAL | {"action", "function", "associated_condition", "adjacent_to", "fascial_connection"}
    if lead.kind != "fact" or lead.predicate not in listed or q.qtype in ("yesno", "why") or "where_pain" in q.aspects:
        return None
    preds = ((_asked_predicates(q) | q.relations) & listed) | {lead.predicate}
    atlas, ents = index.atlas, index.atlas.entities
    wanted = set(q.entities) | set(q.related)
    reverse = bool(q.entities and q.entities[0] in lead.objects and _WHICH_OF_THEM.search(q.asked))
    if (lead.subject in wanted or not wanted) and not reverse:  # "the femoral artery supplies which muscles": its list
        target, facts = lead.subject, atlas.facts_about(lead.subject)
    else:
        target = next((o for o in lead.objects if o in q.entities), None) or next(
            (o for o in lead.objects if o in wanted), None)
        if target is None:
            return None
        facts = atlas.facts_mentioning(target)
    facts = [f for f in facts if f.predicate.value in preds]
    if target is None or not facts:
        return None
    # the lead's relation first, then the others the question asks for beyond plain attachments
    first = [p for p in (lead.predicate, *sorted(q.relations)) if p not in ("origin", "insertion")]
    sentence = lead_sentence(facts, ents, target, predicates=preds, limit=6, first=first)
    if sentence is None:
        return None
    used = [f.id for f in facts if not all(s.source.startswith("seed-") for s in f.sources) and f.status.value != "contradicted"]
    return sentence, used


def _movers(index: AskIndex, lead: Doc) -> tuple[str, list[str]] | None:
    """"Hip flexion: the iliopsoas (main mover), the rectus femoris, ..." for "which muscles flex the hip"."""
    f0 = index.atlas.statements.get(lead.facts[0]) if lead.facts else None
    if f0 is None or f0.literal is None:
        return None
    movement = str(f0.literal.value).strip().lower()
    facts = [f for f in index.atlas.statements.values() if f.predicate.value == "action" and f.literal is not None
             and str(f.literal.value).strip().lower() == movement and f.status.value == "consistent"
             and not all(s.source.startswith("seed-") for s in f.sources)]
    if len(facts) < 2:
        return None
    facts.sort(key=lambda f: (f.qualifiers.get("role") != "primary", f.subject))
    names = []
    for f in facts:
        name = index.atlas.entities[f.subject].name
        label = f"the {name}" + (" (main mover)" if f.qualifiers.get("role") == "primary" else "")
        if label not in names:
            names.append(label)
    listed = ", ".join(names[:7]) + (", among others" if len(names) > 7 else "")
    return f"{movement[0].upper() + movement[1:]} is produced by {listed}.", [f.id for f in facts]


def _movers_asked(index: AskIndex, q: Query) -> tuple[str, list[str]] | None:
    """The muscles that make the movement a "why does my leg rotate out" question describes, and their sources."""
    from iliopsoas.knowledge.ask_predicate import _movement

    move = _movement(q.asked)
    if move is None or move[1] in ("flexion", "extension") or move[0] not in ("hip", None):
        return None  # flexion and extension are what most answers already speak of
    literal = f"hip {move[1]}"
    lead = next((d for d in index.docs if d.kind == "fact" and d.predicate == "action" and d.facts
                 and (f := index.atlas.statements.get(d.facts[0])) is not None and f.literal is not None
                 and str(f.literal.value).strip().lower() == literal), None)
    got = _movers(index, lead) if lead is not None else None
    if got is None:
        return None
    sources = [x.source for fid in got[1] for x in index.atlas.statements[fid].sources]
    return got[0], list(dict.fromkeys(sources))


_DOSE_ORDER = (("reps", r"\brep|repetition|how many times"), ("sets", r"\bsets?\b"), ("hold", r"hold|long|second"),
               ("tempo", r"\btempo|slow|fast|quick|pace|speed"),
               ("week", r"often|week|days?\b|frequen"), ("every", r"break|sitting|often"))


def _dose_first(q: Query, d: Doc) -> str | None:
    """A dose with the part the question asks for first: "30 s hold (30–60 s), 1 set, ... (name)"."""
    parts = list(d.extra.get("dose") or ())
    if not parts:
        return None
    first = [k for k, rx in _DOSE_ORDER if re.search(rx, q.asked)]
    parts.sort(key=lambda kv: first.index(kv[0]) if kv[0] in first else len(first))
    text = ", ".join(t for _, t in parts)
    return f"{text[0].upper() + text[1:]} ({d.extra.get('name', '')})."


def _conflict_note(index: AskIndex, shown: Sequence[Doc]) -> str | None:
    """A note when the facts shown take opposing sides of a recorded conflict, or differ in status."""
    for d in shown:
        for kid in d.conflicts:
            k = index.atlas.conflicts.get(kid)
            if k is None:
                continue
            sides = {p.id for x in shown for f in x.facts if (p := k.position_of(f)) is not None}
            if len(sides) >= 2:
                return f"The sources shown disagree ({k.title}): {_resolution(k.resolution)}"
    return None


def _claim_conflict(index: AskIndex, lead: Doc) -> str | None:
    """What the sources say where the claim answering the question is part of a recorded disagreement."""
    atlas = index.atlas
    for c in lead.claims:
        claim = atlas.claims.get(c)
        linked = [k for k in atlas.conflicts.values() if c in k.claims]
        if claim is not None:
            linked += [atlas.conflicts[k] for s in claim.statements if s in atlas.statements
                       for k in atlas.statements[s].conflicts if k in atlas.conflicts]
        for k in linked:
            return f"Where the sources disagree ({k.title}): {_resolution(k.resolution)}"
    return None


def _resolution(text: str) -> str:
    """The opening of a conflict's resolution: whole sentences, at least about 100 characters."""
    out = ""
    for sentence in re.split(r"(?<=\.)\s", text.strip()):
        out = f"{out} {sentence}".strip()
        if len(out) >= 100:
            break
    return _clip(out, 260)


def _member_conflict(index: AskIndex, fact_ids: Sequence[str]) -> str | None:
    """The recorded disagreement the facts of the direct answer belong to, if any."""
    for fid in fact_ids:
        f = index.atlas.statements.get(fid)
        for kid in f.conflicts if f is not None else ():
            k = index.atlas.conflicts.get(kid)
            if k is not None:
                return f"Where the sources disagree ({k.title}): {_resolution(k.resolution)}"
    return None


def _care_support(index: AskIndex, q: Query, lead: Doc, ranked: Sequence[tuple[Doc, float]]) -> list[tuple[Doc, float]]:
    """For a care step: its dose and stop signs, what the sources say about that kind of step (two at
    most), its evidence, then the other steps of the same kind, then the rest. For "what can I do"
    questions, one step of every kind instead."""
    from iliopsoas.knowledge.ask_docs import KIND_WORDS

    ex, kind = lead.extra.get("exercise"), str(lead.extra.get("kind"))
    words = KIND_WORDS.get(kind, "").split()
    family = {*q.entities, *q.related, lead.subject}
    if q.qtype == "overview":
        firsts: dict[str, Doc] = {}
        for d in index.docs:
            k = str(d.extra.get("kind"))
            if d.kind == "care" and d.predicate == "how" and k != kind and k not in firsts and d.technique is None:
                firsts[k] = d
        return [(d, ranked[0][1]) for d in firsts.values()] + list(ranked)

    own_claims = set(lead.claims)
    claim_rank = 0.5 if lead.predicate == "evidence" else 3  # "does it work": the claims first

    def rank(d: Doc) -> float:
        if d.extra.get("exercise") == ex:
            return {"dose": 0, "stop": 2, "evidence": 3, "feel": 5}.get(d.predicate, 9)
        if d.kind == "claim" and set(d.claims) & own_claims:
            return claim_rank  # what the articles claim about this step and how it fared
        if q.qtype == "why" and d.kind == "claim" and d.status != "consistent" and any(w in d.body.lower() for w in words):
            return 0.5  # "why is pressure important": the articles' explanations and how they fared
        if d.kind == "fact" and d.predicate == "intervention" and d.status == "consistent" and d.subject in family and any(
            w in d.sentence.lower() for w in words
        ):
            return 1
        if d.kind == "care" and d.extra.get("kind") == kind and d.predicate == lead.predicate:
            return 4
        return 9

    order = {d.id: n for n, (d, _) in enumerate(ranked)}
    near = sorted((d for d in index.docs if rank(d) < 9), key=lambda d: (rank(d), d.id))
    others = [w for k in ("stretch", "strengthen", "release") if k != kind for w in KIND_WORDS[k].split() if w not in words]
    evidence_q = bool(index.evidence_words & set(q.content)) or lead.predicate == "evidence"
    facts = sorted((d for d in near if rank(d) == 1),
                   key=lambda d: (bool(d.extra.get("result")) != evidence_q,  # "how": methods; "does it work": results
                                  any(w in d.sentence.lower() for w in others),
                                  -sum(d.sentence.lower().count(w) for w in words), order.get(d.id, 999), d.id))[:3]
    causal = re.compile(r"\b(because|cause|causes|so that|reason|why)\b")  # a "why" wants a claimed cause
    claims = sorted((d for d in near if rank(d) in (0.5, claim_rank) and d.kind == "claim"),
                    key=lambda d: (rank(d), q.qtype == "why" and not causal.search(d.body.lower()), order.get(d.id, 999),
                                   d.id))[:2 if q.qtype == "why" or evidence_q else 1]
    near = [d for d in near if (rank(d) != 1 or d in facts) and (d.kind != "claim" or d in claims)]
    near.sort(key=lambda d: 2.5 if d in facts[2:] else rank(d))  # a third method after the stop signs
    lead_s = next((s for d, s in ranked if d is lead), ranked[0][1])
    return [(d, lead_s - 0.1) for d in near] + [x for x in ranked if rank(x[0]) == 9]


def _pressure_caution(index: AskIndex) -> str:
    names = [i.short or i.topic for i in index.safety.of_tier("contraindication")]
    return ("Deep pressure is unsafe with " + ", ".join(names[:-1]) + " or " + names[-1] + ". Stop at a pulse "
            "under the tool or shooting pain into the thigh; if unsure, see a clinician first.")


def _clip(text: str, limit: int = 230) -> str:
    """A supporting sentence cut at a word boundary (the full text is in ``more``)."""
    if len(text) <= limit:
        return text
    return text[: text.rfind(" ", 0, limit)].rstrip(",;:") + "\u2026"


def compose(index: AskIndex, q: Query, ranked: Sequence[tuple[Doc, float]], rec: Recognised) -> Draft:
    """Write the answer for ``q`` from ``ranked`` passages (best first)."""
    blocked = rec.blocked_techniques()
    ranked = [(d, s) for d, s in ranked if not (d.technique and d.technique in blocked)] or list(ranked)
    decision = decide(index, q, ranked) if q.qtype == "yesno" else None
    if decision is not None:
        lead = decision.lead
        lead_s = next((s for d, s in ranked if d is lead), ranked[0][1])
        ranked = [(lead, lead_s), *((d, lead_s - 0.05) for d in decision.support), *ranked]
    else:
        lead, lead_s = _lead_doc(index, q, ranked)
    body = lead.number if q.qtype == "number" and lead.number else lead.sentence
    if lead.kind == "claim" and lead.status == "consistent" and not q.claim and q.qtype not in ("yesno", "why"):
        body = _plain_claim(index, lead) or body  # "where does it hurt": what the claim says, then that it checks out
    if lead.predicate == "dose" and q.qtype in ("number", "how", "other"):
        body = _dose_first(q, lead) or body
    covered: set[str] = set(lead.facts)
    aggregate = _aggregate(index, q, lead)
    extra_sources: list[str] = []
    if aggregate is not None and len(aggregate[1]) < 2:
        aggregate = None  # one fact: its own sentence, with its details, says it best
    if aggregate is not None:
        body, used = aggregate  # the details of each fact follow as supporting lines
        for sid in used:
            extra_sources += [x.source for x in index.atlas.statements[sid].sources]
        order = {"consistent": 0, "disputed": 1}
        own = sorted((index.fact_docs[f] for f in used if f in index.fact_docs and f not in lead.facts),
                     key=lambda x: order.get(x.status, 2))
        ranked = [*((x, lead_s - 0.01) for x in own), *ranked]
    if decision is not None:
        polarity: str | None = decision.verdict
        said = decision.text or body
        if decision.contrast:
            said = said.rstrip(".") + decision.contrast + "."
        short = f"{polarity}: {said[0].lower() + said[1:]}"
        why = _reason(index, lead) if polarity == NOT_CLEAR else None
        if why:  # "not clearly" says why: the statement's note on what is disputed
            short = f"{short.rstrip('.')}; {why[0].lower() + why[1:]}"
    else:
        polarity = _polarity(index, q, lead) if q.qtype == "yesno" else None
        short = f"{polarity}: {body[0].lower() + body[1:]}" if polarity else body
    listed = _tests_listed(index, q) if decision is None else None
    if listed is not None:  # "what checks would a physio do": the muscle-length tests, each in a few words
        short, lead, tests = listed
        ranked = [(d, lead_s) for d in tests] + list(ranked)
    pair = _compare(index, q) if q.qtype == "compare" else []
    places: list[tuple[Doc, float]] = []
    if len(pair) == 2 and pair[0].kind == "care":
        # where each is done: the structures' places come first among the details
        places = [(d, lead_s) for e in q.entities[:2] for d in index.by_subject.get(e, ()) if d.predicate == "located_in"
                  and d.status == "consistent"]
        places = places[:2]
        ranked = [*places, *ranked]
    if len(pair) == 2:
        lead = pair[0]
        short = f"{pair[0].sentence} By contrast, {pair[1].sentence[0].lower() + pair[1].sentence[1:]}"
        lead = replace(lead, sources=tuple(dict.fromkeys((*pair[0].sources, *pair[1].sources))))
    shown = [lead, *pair[1:2]]
    lines: list[str] = []
    size = len(short)
    seen = {lead.sentence}
    group = (lead.subject, lead.predicate)
    # "the psoas or the iliacus, by how much": the same recorded measure of the other structure named
    lead_measure = _measure_key(lead)
    others = set(q.entities[:3]) - {lead.subject} if len(q.entities) >= 2 and lead_measure else set()
    if aggregate is not None or (decision is not None and decision.text):
        lines.append(f"- {lead.sentence}{_tag(index, lead)}")  # the summary first, then its details
        size += len(lines[0])
    movers = _movers_asked(index, q) if q.qtype == "why" else None
    if movers is not None:  # "why does my leg rotate out": which muscles make that movement
        lines.append(f"- {movers[0]} [{_cite_short(index, movers[1])} \u00b7 consistent]")
        size += len(lines[-1])
    if lead.kind == "fact" and lead.predicate in STRUCTURAL and lead.subject in q.entities:
        # the same relation for the parts and wholes of what is asked (psoas major and iliacus of the iliopsoas)
        kin_docs = [(d, lead_s - 0.3) for e in q.related for d in index.by_subject.get(e, ())
                    if d.predicate == lead.predicate and not d.seed]
        ranked = [*ranked, *kin_docs]
    chosen: set[str] = set()
    if lead.kind == "care":
        ranked = _care_support(index, q, lead, ranked)
        chosen = {d.id for d, _ in ranked[:8]}
        if len(pair) == 2:
            ranked = [*places, *ranked]
    broad_q = q.qtype in ("why", "how", "overview", "which_of") or re.search(r"\b(else|all|list|everything)\b", q.asked)
    limit = SOFT_LIMIT if broad_q or lead.kind == "care" else SHORT_LIMIT
    # advice about one's own pain is safety-netted with the red flags' warning signs (the one safety file);
    # the facts shown make room for it
    own_pain = q.personal and (q.qtype in ("why", "overview", "which_of") or _OWN_PAIN.search(q.text))
    net = " ".join(x for x in (PERSONAL_NOTE, index.safety.safety_net) if x) if own_pain else ""
    if q.qtype != "overview":  # "what can I do" lists the options and their stop signs in full
        limit -= len(net) // 2
    for d, s in ranked:
        if len(lines) >= MAX_FACTS - 1 or size > limit:
            break
        backing = decision is not None and d in decision.support  # what the verdict rests on is shown
        kin = backing or d.predicate == lead.predicate and d.predicate in STRUCTURAL and d.subject in q.related
        same_measure = q.qtype == "number" and d.number and (d.subject, d.predicate) == group and s >= lead_s - 0.8
        kin = kin or bool(d.subject in others and _measure_key(d) == lead_measure)
        if d in shown or d.sentence in seen or d.kind == "safety" or (s < lead_s - 0.45 and not kin and not same_measure) or not d.sources:
            continue
        if d.facts and set(d.facts) <= covered:
            continue
        asked = {m.entity for m in q.mentions} - set(q.entities)
        asked_obj = bool(set(d.objects) & asked)
        if backing:
            pass
        elif q.qtype == "yesno" and asked and lead.kind == "fact" and not (asked_obj or kin) and (d.subject, d.predicate) != group:
            continue  # "does X attach to the organs": facts about X and the organs, or the same relation
        broad = kin or (not _asked_predicates(q) and d.subject == lead.subject and s >= lead_s - 0.3)
        if lead.kind == "fact" and (d.subject, d.predicate) != group and s < lead_s - 0.2 and not asked_obj and not broad:
            continue
        if lead.kind == "care" and s < lead_s - 0.2 and d.extra.get("kind") != lead.extra.get("kind"):
            continue
        if d.seed and d.status != "consistent" and not q.claim and q.qtype != "why" and lead.kind != "claim":
            continue
        if q.entities and not ({d.subject, *d.objects} & {*q.entities, *q.related}) and not q.seeking and d.id not in chosen:
            continue
        label = _KIND_LABEL.get(str(d.extra.get("kind"))) if q.qtype == "overview" and d.predicate == "how" else None
        same = lead.kind == "care" and d.extra.get("exercise") == lead.extra.get("exercise") and d.extra.get("compact")
        text = str(d.extra["compact"]) if same else d.sentence
        line = f"- {label + ': ' if label else ''}{_clip(text)}{_tag(index, d)}"
        if lines and size + len(line) > limit + 120:
            continue
        shown.append(d)
        seen.add(d.sentence)
        lines.append(line)
        size += len(line)
    if extra_sources:
        lead = replace(lead, sources=tuple(dict.fromkeys((*lead.sources, *extra_sources))))
        shown[0] = lead
    blocks = [short + _tag(index, lead)]
    for item in rec.review:
        blocks.append(f"Because you mention {item.topic}: {item.action}")
    if lines:
        blocks.append("\n".join(lines))
    note = _conflict_note(index, shown)
    if note is None and lead.kind in ("claim", "verdict"):
        note = _claim_conflict(index, lead)
    if note is None:
        note = _member_conflict(index, [*(f for d in shown for f in d.facts), *(aggregate[1] if aggregate else [])])
    if lead.kind == "care" and q.qtype != "why":
        note = None  # a care step states its evidence grade and summary itself
    if note:
        blocks.append(note)
    if any(d.technique == "pressure" for d in shown):
        blocks.append(_pressure_caution(index))
    if net:
        blocks.append(net)
    more_lines = [f"- {d.sentence}{_tag(index, d)}" for d, _ in ranked[:12] if d.kind != "safety"]
    statements: list[str] = []
    for d in shown:
        statements += [f for f in d.facts if f not in statements]
    statements += [f for f in sorted(covered) if f not in statements]
    sources: list[str] = []
    for d in shown:
        sources += [x for x in d.sources if x not in sources]
    return Draft(
        text="\n\n".join(blocks),
        short=short,
        more="All the evidence found, best match first:\n" + "\n".join(more_lines),
        docs=shown,
        statements=statements,
        sources=sources,
        polarity=polarity,
    )


