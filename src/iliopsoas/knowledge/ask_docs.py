"""The passages Ask retrieves from: everything the project knows, one short answerable unit each.

Built from the atlas (entity definitions and laterality, every statement, every seed claim with its
verdict, our model verdicts, the conflicts), the care protocols (``care/data/exercises.yaml``: how,
dose, stop signs, evidence; read as data, so knowledge does not import care) and the safety file.

Each :class:`Doc` carries the words it is found by, split into fields the index weighs apart
(``names``: what it is about; ``cues``: the words people use to ask for this kind of fact, e.g.
"nerve supply" for an innervation statement; ``body``: the rest), and the sentence an answer shows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from iliopsoas.knowledge.ask_render import STATUS_WORDS, capitalise, entity_name, fact_sentence, literal_text
from iliopsoas.knowledge.safety import SafetyData

# The words people use to ask for each kind of fact. They are index features of the statements
# (matched like any other word), not rules: a question is answered by whatever passage they rank first.
CUES: dict[str, str] = {
    "origin": "origin originate originates arise arises arising start starts come from comes from begin begins "
    "anchor anchors anchored "
    "attach attaches attachment attachments attached proximal upper top spine",
    "insertion": "insertion insert inserts end ends attach attaches attachment attachments attached distal "
    "anchor anchors anchored "
    "onto bottom lower grab",
    "innervation": "nerve nerves nerve supply supply supplied supplies innervation innervate innervates innervated "
    "root roots spinal level levels control controls",
    "blood_supply": "blood blood supply supply supplies supplied artery arteries arterial vessel vessels feed "
    "feeds vascular",
    "crosses_joint": "cross crosses crossing joint joints span spans over two joint multi joint",
    "action": "action actions do does movement movements move moves function job role flex flexes flexion "
    "bend bends lift lifts raise extend extends extension rotate rotates rotation abduct abduction adduct "
    "adduction tilt tilts",
    "antagonist_of": "antagonist antagonists oppose opposes opposite against",
    "synergist_of": "synergist synergists help helps assist assists work with together",
    "part_of": "part of made up make up consist consists component belong member",
    "fascial_connection": "fascia fascial connect connected connection link linked",
    "adjacent_to": "next to near beside lie lies relation front behind neighbour adjacent close run runs "
    "between emerges connected connect",
    "variant": "variant variation absent missing lack lacks lacking present presence everyone people common "
    "prevalence percentage percent share born without",
    "associated_condition": "problem problems condition conditions pain hurt hurts injury disorder cause "
    "causes associated",
    "intervention": "treatment treat exercise exercises stretch release massage how fix help",
    "lay_term": "called name everyday lay word term",
    "property": "",
    "function": "function role job stabilise stabilises stabilize stability",
    "located_in": "where located location lie lies in inside region",
    "definition": "what is what are define definition describe explain",
    "claim": "true myth claim claims read heard say says",
    "verdict": "model simulation analysis",
    "conflict": "disagree disagreement debate debated disputed controversy",
    "how": "how do perform done steps technique position",
    "dose": "how long how many how often hold seconds reps repetitions sets times days week tempo",
    "stop": "stop if avoid warning sign pain what if what now what do i do elsewhere somewhere else other than",
    "evidence": "evidence grade strong research trial trials effective proven",
    "safety": "red flag danger safe unsafe",
}
KIND_WORDS = {
    "stretch": "stretch stretching stretches lengthen loosen loosening",
    "strengthen": "strengthen strengthening strength exercise exercises strong stronger strengthens",
    "release": "release releasing released pressure massage massaging massaged tool",
    "habit": "habit sitting break breaks sit tight tightness",
    "clinical_test": "test tests examination check",
}
_NUM = re.compile(r"\d")
# The words people use to ask for each aspect of a clinical test, and for a published figure.
ASPECT_CUES = {
    "how it is done": "how done do perform performed performing procedure position positioned set up setup steps "
    "lie lying test testing",
    "how it is read": "positive negative result results mean means meaning interpret interpretation reading read "
    "finding findings sign tight tightness short shortness suggest suggests indicate indicates assess assesses "
    "check checks measure measures structure structures criterion criteria",
    "home version": "home myself own self check alone",
    "reliability": "reliable reliability repeatable repeatability agreement agree icc kappa consistent",
    "validity": "valid validity accurate accuracy sensitivity specificity",
    "normal values": "normal average norm norms typical mean values",
    "cut-off": "cut off cutoff threshold tight tightness short shortness counts count mean means positive normal "
    "abnormal angle degrees suggest suggests indicate indicates",
    "figure": "how much many average mean value number figure percent percentage share normal typical study",
}
_NEGATIVE = re.compile(r"^(no|not|never|cannot|can not|does not|do not|has no|have no|is not|without)\b|\b(cannot|can not|not attached|no direct|does not)\b")


@dataclass(frozen=True, slots=True)
class Doc:
    """One retrievable passage and how an answer shows it."""

    id: str
    kind: str  # fact | entity | claim | verdict | conflict | care | safety
    sentence: str  # the answer-ready sentence
    names: str  # what it is about (entity names and synonyms)
    cues: str  # words people use to ask for it
    body: str  # everything else it says
    subject: str | None = None
    objects: tuple[str, ...] = ()
    predicate: str = ""
    sources: tuple[str, ...] = ()
    status: str = "consistent"  # atlas status or verdict, or "evidence: <grade>" for care advice
    facts: tuple[str, ...] = ()  # statement ids it rests on
    claims: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    number: str | None = None  # the number-first form of the sentence, when it carries a figure
    negative: bool = False  # it denies something ("has no attachment", "cannot reach")
    seed: bool = False  # only the seed articles say it
    technique: str | None = None  # the technique whose dose or method it gives ("pressure")
    extra: Mapping[str, Any] = field(default_factory=dict)


def _names(atlas: Any, *ids: str | None) -> str:
    out: list[str] = []
    for eid in ids:
        e = atlas.entities.get(eid) if eid else None
        if e is not None:
            out += [e.name, *e.synonyms]
    return " ".join(out)


def _source_words(atlas: Any, sid: str) -> str:
    """Words a reader may name a source by: its authors' surnames and its year ("what did Harvey find")."""
    src = atlas.sources.get(sid)
    if src is None:
        return ""
    names = re.findall(r"\b([A-Z][a-z]+(?:-[A-Z][a-z]+)?)\b", src.authors or "")
    # a study is also named by what it was ("the fine-wire EMG study", "the stretching meta-analysis")
    title = src.title if src.kind.value == "research" and src.year else ""
    return " ".join([*dict.fromkeys(n for n in names if n not in ("Jr", "Al")), str(src.year or ""), title])


def entity_token(eid: str) -> str:
    """The single index token that stands for an entity (found by the names that the query names)."""
    return "ent" + eid.replace("-", "")


def _ent_tokens(*ids: str | None) -> str:
    return " ".join(entity_token(i) for i in ids if i)


def _plain(sentence: str) -> str:
    """A fact sentence without its status flag and source list (both are shown apart, in its tag)."""
    sentence = re.sub(r" \[[^\]]*\]\.$", ".", sentence)
    return re.sub(r" \u2014 flagged: [^.\[]*", "", sentence)


def _number_first(fact: Any, sentence: str, entities: Mapping[str, Any]) -> str | None:
    lit = fact.literal
    if lit is None:
        return None
    text = literal_text(lit).replace(" %", "%")
    if not _NUM.search(text) or len(text) > 40:
        return None
    subject = entity_name(entities, fact.subject)
    measure = fact.qualifiers.get("measure")
    what = f"{measure} of the {subject}" if measure else f"the {subject}"
    # where, when and in what state the figure holds belong with it ("16.3 cm2 ... at level L4/L5"): a question
    # asking "and at what level" needs the level from the same row
    where = [f"{k}: {v}" for k in _FIGURE_CONDITIONS if isinstance(v := fact.qualifiers.get(k), str | int | float)
             and len(str(v)) <= 40]
    if fact.qualifiers.get("population"):
        where.append(str(fact.qualifiers["population"]))
    return f"{text}: {what}" + (f" ({'; '.join(where)})" if where else "") + "."


_FIGURE_CONDITIONS = ("level", "posture", "condition", "when", "part")


def fact_docs(atlas: Any, named_in: Callable[[str], list[str]]) -> Iterator[Doc]:
    ents = atlas.entities
    for f in atlas.statements.values():
        pred = f.predicate.value
        sentence = _plain(fact_sentence(f, ents, with_note=False))
        lit = literal_text(f.literal) if f.literal is not None else ""
        # structures a literal names ("no attachment on the vertebral column") count as its objects
        qual_ents = [v for v in f.qualifiers.values() if isinstance(v, str) and v in ents]
        qual_ents += [e for e in named_in(str(f.literal.value)) if e != f.subject] if f.literal is not None else []
        quals = " ".join(f"{k} {v}" for k, v in f.qualifiers.items())
        seed = all(s.source.startswith("seed-") for s in f.sources)
        cited = " ".join(_source_words(atlas, s.source) for s in f.sources if not s.source.startswith("seed-"))
        cues = CUES.get(pred, "") + " " + pred.replace("_", " ") + " " + ASPECT_CUES.get(str(f.qualifiers.get("aspect", "")), "")
        if pred == "property" and f.literal is not None and _NUM.search(literal_text(f.literal)):
            cues += " " + ASPECT_CUES["figure"]
        yield Doc(
            id=f"fact:{f.id}",
            kind="fact",
            sentence=sentence,
            names=f"{_ent_tokens(f.subject, f.object, *qual_ents)} {_names(atlas, f.subject, f.object)}",
            cues=cues,
            body=f"{lit} {quals} {f.note or ''} {cited}",
            subject=f.subject,
            objects=tuple(x for x in (f.object, *qual_ents) if x),
            predicate=pred,
            sources=tuple(s.source for s in f.sources),
            status=f.status.value,
            facts=(f.id,),
            conflicts=tuple(f.conflicts),
            number=_number_first(f, sentence, ents),
            negative=bool(_NEGATIVE.search(f"{lit} {quals}".lower())),
            seed=seed,
            technique="pressure" if pred == "intervention" and re.search(r"pressure|release|hold_s", f"{lit} {quals}") else None,
            extra={**({"result": True} if "design" in f.qualifiers else {}),  # a study's result, not a method
                   **({"verification": str(f.qualifiers["verification"])} if "verification" in f.qualifiers else {})},
        )


_LATERALITY = {
    "paired": "paired: there is one on each side of the body (left and right)",
    "midline": "a single structure in the midline of the body",
}


def entity_docs(atlas: Any) -> Iterator[Doc]:
    for e in atlas.entities.values():
        refs = [
            s.source for f in atlas.facts_about(e.id) for s in f.sources
            if not s.source.startswith("seed-") and f.status.value == "consistent"
        ]
        sources = tuple(dict.fromkeys(refs))[:3]
        if e.summary:
            summary = e.summary.strip()
            lead = summary[0].lower() + summary[1:] if summary[:2] in ("A ", "An") or summary.startswith("The ") else summary
            yield Doc(
                id=f"entity:{e.id}",
                kind="entity",
                sentence=f"The {e.name} is {lead}" if lead is not summary else f"{capitalise(e.name)}: {summary}",
                names=f"{_ent_tokens(e.id)} {_names(atlas, e.id)} {e.latin or ''}",
                cues=CUES["definition"] + " " + e.kind.value.replace("_", " ") + " " + KIND_WORDS.get(e.kind.value, ""),
                body=summary,
                subject=e.id,
                predicate="definition",
                sources=sources,
            )
        plural = {e.name.lower() + "s", e.name.lower() + "es", "feet" if e.name.lower() == "foot" else ""}
        others = [n for n in e.synonyms if n.lower() != e.name.lower() and n.lower() not in plural
                  and not re.fullmatch(r"[CTLS]\d{1,2}", n)]
        if e.latin or others:
            said = f"The {e.name} is also called {', '.join(others[:5])}" if others else f"The {e.name}"
            said += f"; its Latin name is {e.latin}." if e.latin else "."
            yield Doc(
                id=f"entity:{e.id}:names",
                kind="entity",
                sentence=said,
                names=f"{_ent_tokens(e.id)} {_names(atlas, e.id)} {e.latin or ''}",
                cues="name names called call latin term terms also known synonym synonyms another other word",
                body=" ".join(others),
                subject=e.id,
                predicate="names",
                sources=sources,
            )
        if e.laterality.value in _LATERALITY:
            yield Doc(
                id=f"entity:{e.id}:laterality",
                kind="entity",
                sentence=f"The {e.name} is {_LATERALITY[e.laterality.value]}.",
                names=f"{_ent_tokens(e.id)} {_names(atlas, e.id)}",
                cues="side sides each both left right paired pair single midline two",
                body=e.laterality.value,
                subject=e.id,
                predicate="laterality",
                sources=sources,
            )


def _short_verdict(verdict: str) -> str:
    return STATUS_WORDS.get(verdict, verdict)


#: An article claim is indexed as "Claim C001-24 of article seed-001, "...", is disputed" (its ids are
#: searched for, and retrieval was tuned on that wording); readers get "The article's claim "..." is
#: disputed", the ids staying in the answer's statements, ``more`` and the citation.
_CLAIM_AS_INDEXED = re.compile(r"\b([Cc])laim C\d{3}-\d+ of article seed-\d{3}, (\u201c[^\u201d]*\u201d), is ")


def for_readers(text: str) -> str:
    """``text`` with every claim sentence of :func:`claim_docs` in its reader's wording."""
    return _CLAIM_AS_INDEXED.sub(lambda m: f"{'T' if m.group(1) == 'C' else 't'}he article's claim {m.group(2)} is ",
                                 text)


def claim_docs(atlas: Any) -> Iterator[Doc]:
    ents = atlas.entities
    for c in atlas.claims.values():
        subjects = [atlas.statements[s].subject for s in c.statements if s in atlas.statements]
        objects = [atlas.statements[s].object for s in c.statements if s in atlas.statements]
        verdict = c.verdict.value
        why = f" {c.basis.strip().rstrip('.')}." if c.basis else ""
        conflicts = tuple(k for k, x in atlas.conflicts.items() if c.id in x.claims)
        yield Doc(
            id=f"claim:{c.id}",
            kind="claim",
            sentence=f"Claim {c.id} of article seed-{c.article}, \u201c{c.text.rstrip('.')}\u201d, is {_short_verdict(verdict)}.{why}",
            names=f"{_ent_tokens(*subjects, *objects)} {_names(atlas, *subjects)}",
            cues=CUES["claim"],
            body=f"{c.text} {c.basis or ''}",
            subject=subjects[0] if subjects else None,
            objects=tuple(dict.fromkeys(o for o in (*subjects[1:], *objects) if o)),
            predicate="claim",
            sources=(f"seed-{c.article}", *(s.source for s in c.sources)),
            status=verdict,
            facts=tuple(s for s in c.statements if s in atlas.statements),
            claims=(c.id,),
            conflicts=conflicts,
            negative=verdict == "contradicted",
        )
        mv = c.model_verdict
        if mv is not None:
            unit = f" {mv.unit}" if mv.unit else ""
            value = f" ({mv.value:g}{unit})" if mv.value is not None else ""
            limits = [re.sub(r"(?<=[a-z])-(?=[a-z])", " ", c.strip()) for c in re.split(r"[;.]\s", mv.note or "")
                      if re.search(r"\bnot modell?ed\b|\bmodel has no\b|\bdoes not model\b", c)]
            verb = {"supports": "supports", "contradicts": "contradicts", "depends": "finds it depends on posture for",
                    "not_testable": "cannot test"}[mv.verdict.value]
            yield Doc(
                id=f"verdict:{c.id}",
                kind="verdict",
                sentence=f"Our model analysis ({mv.analysis}) {verb} the claim \u201c{c.text.rstrip('.')}\u201d{value}."
                + (f" Its limit: {limits[-1][0].lower() + limits[-1][1:].rstrip('.')}." if limits else ""),
                names=f"{_ent_tokens(*subjects, *objects)} {_names(atlas, *subjects)}",
                cues=CUES["verdict"] + " " + CUES["claim"],
                body=f"{c.text} {mv.note or ''} {mv.analysis}",
                subject=subjects[0] if subjects else None,
                predicate="verdict",
                sources=(f"seed-{c.article}",),
                status={"supports": "consistent", "contradicts": "contradicted"}.get(mv.verdict.value, "disputed"),
                claims=(c.id,),
                negative=mv.verdict.value == "contradicts",
            )
    for kid, k in atlas.conflicts.items():
        members = [atlas.statements[s] for s in k.statements if s in atlas.statements]
        subjects = list(dict.fromkeys(f.subject for f in members))
        first = re.split(r"(?<=\.)\s", k.resolution.strip(), maxsplit=1)[0]
        yield Doc(
            id=f"conflict:{kid}",
            kind="conflict",
            sentence=f"Sources disagree on {k.title[0].lower() + k.title[1:]}: {first}",
            names=f"{_ent_tokens(*subjects)} {_names(atlas, *subjects[:3])}",
            cues=CUES["conflict"],
            body=f"{k.title} {k.resolution} " + " ".join(p.label for p in k.positions),
            subject=subjects[0] if subjects else None,
            predicate="conflict",
            sources=tuple(dict.fromkeys(s.source for f in members for s in f.sources))[:4],
            status="disputed",
            facts=tuple(f.id for f in members),
            conflicts=(kid,),
        )
    _ = ents


# -- care protocols ---------------------------------------------------------------------------

_DOSE_WORDS = {"hold_s": "s hold", "sets": "set", "reps": "reps", "times_per_day": "a day", "days_per_week": "days a week"}


def _dose_text(dosage: Mapping[str, Any], limits: Mapping[str, Any]) -> str:
    """"1 set, 30 s hold (30–60 s), each side, 5 days a week" from a dosage mapping."""
    return ", ".join(text for _, text in dose_parts(dosage, limits))


def dose_parts(dosage: Mapping[str, Any], limits: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The parts of a dose as ``(key, text)``: every, reps, sets, hold, tempo, side, per day, per week."""
    parts: list[tuple[str, str]] = []
    if "every_min" in dosage:
        parts.append(("every", f"every {dosage['every_min']} min of sitting, {dosage.get('duration_s', 0) // 60} min up and moving"))
    if "reps" in dosage:
        lim = limits.get("reps")
        parts.append(("reps", f"{dosage['reps']} reps" + (f" ({lim[0]}\u2013{lim[1]})" if lim else "")))
    if "sets" in dosage:
        lim = limits.get("sets")
        parts.append(("sets", f"{dosage['sets']} set{'s' if dosage['sets'] != 1 else ''}" + (f" ({lim[0]}\u2013{lim[1]})" if lim else "")))
    if "hold_s" in dosage:
        lim = limits.get("hold_s")
        parts.append(("hold", f"{dosage['hold_s']} s hold" + (f" ({lim[0]}\u2013{lim[1]} s)" if lim else "")))
    if "tempo_s" in dosage:
        parts.append(("tempo", f"{dosage['tempo_s']} s per rep (tempo)"))
    if dosage.get("side") == "each":
        parts.append(("side", "each side"))
    if "times_per_day" in dosage and "every_min" not in dosage:
        parts.append(("day", f"{dosage['times_per_day']} time{'s' if dosage['times_per_day'] != 1 else ''} a day"))
    if "days_per_week" in dosage:
        parts.append(("week", f"{dosage['days_per_week']} days a week"))
    return parts


PROTOCOLS_FILE = Path(__file__).resolve().parent.parent / "care" / "data" / "exercises.yaml"


def load_protocols(path: Path = PROTOCOLS_FILE) -> list[dict[str, Any]]:
    """The care exercise library as plain data, read from its file (knowledge never imports care)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return list(yaml.load(path.read_text(encoding="utf-8"), Loader=loader)["exercises"])  # noqa: S506


def _care_step(atlas: Any, ex: Mapping[str, Any], part: str, sentence: str, cues: str, body: str,
               number: str | None = None, **extra: Any) -> Doc:
    """One passage of care step ``ex`` (``part``: how, feel, dose, stop or evidence)."""
    ev = ex["evidence"]
    target = ex.get("muscle", "")
    subject = target if target in atlas.entities else None
    kind_words = KIND_WORDS.get(ex["kind"], "") + (" hip flexor hip flexors" if target == "iliopsoas" else "")
    return Doc(
        id=f"care:{ex['id']}:{part}", kind="care", predicate=part, sentence=sentence,
        names=f"{_ent_tokens(subject)} {_names(atlas, target)} {ex['name']}", cues=f"{cues} {kind_words}",
        body=body, subject=subject, sources=tuple(ev.get("sources") or ()), status=f"evidence: {ev['grade']}",
        claims=tuple(ev.get("claims") or ()), number=number, technique="pressure" if ex.get("pressure") else None,
        extra={"exercise": ex["id"], "kind": ex["kind"], "name": ex["name"][0].lower() + ex["name"][1:], **extra},
    )


def care_docs(atlas: Any, protocols: Iterable[Mapping[str, Any]]) -> Iterator[Doc]:
    """Five passages per care step: how, what it feels like, dose, stop signs, evidence."""
    for ex in protocols:
        ev = ex["evidence"]
        name = ex["name"][0].lower() + ex["name"][1:]
        dose = _dose_text(ex["dosage"], ex.get("limits") or {})
        stop = "; or if ".join(ex["stop_if"])
        yield _care_step(atlas, ex, "how", f"{ex['name']}: {ex['cue']}", CUES["how"], ex["cue"])
        yield _care_step(atlas, ex, "feel", f"{ex['name']}: you should feel {ex['feel'][0].lower() + ex['feel'][1:]}",
                         "feel feeling should where sense", ex["feel"])
        yield _care_step(atlas, ex, "dose", f"{capitalise(dose)}: the default dose of the {name} in our care program.",
                         CUES["dose"], dose, number=f"{capitalise(dose)} ({name}).",
                         dose=dose_parts(ex["dosage"], ex.get("limits") or {}), compact=f"Dose: {dose}.")
        yield _care_step(atlas, ex, "stop", f"{ex['name']}: stop if {stop}.", CUES["stop"], " ".join(ex["stop_if"]),
                         compact=f"Stop if {stop}.")
        yield _care_step(atlas, ex, "evidence", f"Evidence for the {name}: {ev['grade']}. {ev['summary']}",
                         CUES["evidence"], ev["summary"])


def safety_docs(data: SafetyData) -> Iterator[Doc]:
    for item in data.items:
        why = f" {item.why}" if item.why else ""
        yield Doc(
            id=f"safety:{item.id}",
            kind="safety",
            sentence=f"{capitalise(item.topic)} ({item.tier.replace('contraindication', 'a reason not to use deep pressure')}): {item.action}{why}",
            names=item.group,
            cues=CUES["safety"],
            body=f"{item.question} {item.topic} {item.why or ''} {' '.join(item.lay)}",
            predicate="safety",
            status="consistent",
            extra={"item": item.id},
        )


def build_docs(atlas: Any, protocols: Iterable[Mapping[str, Any]], safety: SafetyData,
               named_in: Callable[[str], list[str]] = lambda _t: []) -> tuple[Doc, ...]:
    """Every passage, in a stable order (the index's row ids). ``named_in`` finds entity ids in a text."""
    return (*fact_docs(atlas, named_in), *entity_docs(atlas), *claim_docs(atlas), *care_docs(atlas, protocols),
            *safety_docs(safety))
