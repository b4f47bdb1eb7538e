"""Reading what a yes/no question asks: its subject, the relation and the object, as an :class:`Asked`.

Also the small readers :mod:`ask_yesno` decides with: the relation words of a question, the
movement a question or an action statement names ((joint, movement) pairs), whether a statement
names an object or a part or whole of it, and whether a word in a passage is denied.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# Words that ask for a relation, per predicate (matched on the normalised question).
_RELATIONS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(p))
    for name, p in (
        ("origin", r"\b(arise|arises|arising|originat\w*|origin|come from|comes from|start|starts|begin|begins)\b"),
        ("insertion", r"\b(insert|inserts|inserted|inserting|insertion|end on|ends on|end at|ends at|finish\w* on)\b"),
        ("attach", r"\b(attach\w*|anchor\w*|fixed to|join|joins|joined|stuck to|grab\w*)\b"),
        ("connect", r"\b(connect\w*|link|links|linked)\b"),
        ("supply", r"\b(suppl\w*|innervat\w*|nerve supply|feed|feeds|fed)\b"),
        ("crosses_joint", r"\b(cross|crosses|crossing|span|spans|go over|goes over|pass over|passes over)\b"),
        ("part_of", r"(?<!which )(?<!what )\b(part of|branch of|belong\w* to|member of|one of|made up of|component of|"
                    r"make up|makes up|consists? of|composed of|formed by|formed of|made of)\b"),
        ("antagonist_of", r"\b(antagonist\w*|oppos\w*)\b"),
        ("synergist_of", r"\b(synergist\w*|work with|works with|assist\w*)\b"),
        ("adjacent_to", r"\b(next to|near|beside|touch\w*|in front of|behind|lie on|lies on|sit on|sits on|rest on|rests on|form inside|forms inside|inside|through|under|beneath|emerge\w*|between)\b"),
        ("located_in", r"\b(located|lie in|lies in|found in)\b"),
    )
)
def relations_asked(text: str) -> frozenset[str]:
    """The statement predicates a question's words ask for ("attach" -> origin and insertion,
    "nerve" -> innervation, "where" alone -> located_in)."""
    found = {name for name, rx in _RELATIONS if rx.search(text)}
    if "attach" in found:
        found |= {"origin", "insertion"}
    if "connect" in found:  # "connected" may be an attachment, a fascial link or a neighbour
        found |= {"origin", "insertion", "fascial_connection", "adjacent_to"}
    nerve = re.search(r"\b(nerve|nerves|innervat\w*)\b", text) is not None
    if "supply" in found or re.search(r"\binnervat\w*\b", text) or nerve and not found:
        found |= {"blood_supply"} if re.search(r"\b(blood|arter\w*|vessel\w*)\b", text) else {"innervation"}
    if re.search(r"\b(blood|arter\w*)\b", text):
        found.add("blood_supply")
    measure = re.search(r"\b(moment arm|angle|force|strength|strong|torque|length|long|size|area|volume|emg|"
                        r"activity|active|range|rom|mvc|percent|percentage)\b", text)
    if (_movement(text) is not None and not measure) or re.search(r"\b(job|function|role|what (does|do) \w+( \w+)? do)\b", text):
        found.add("action")  # "hip flexion moment arm" asks for a figure, not for the action
    if not found and re.match(r"where\b", text):
        found.add("located_in")
    return frozenset(found - {"attach", "supply", "connect"})


# Relations the atlas records completely for a muscle: another object than the ones recorded is a No.
CLOSED = frozenset({"origin", "insertion", "innervation", "crosses_joint", "action", "blood_supply"})

# Movements, as (joint, movement) pairs. Joint words name the joint a movement happens at.
_JOINT_WORDS = {"hip": "hip", "thigh": "hip", "leg": "hip", "pelvis": "hip", "pelvic": "hip", "knee": "knee",
                "spine": "lumbar", "lumbar": "lumbar", "back": "lumbar", "trunk": "lumbar", "vertebral": "lumbar"}
_MOVE_NOUNS = (
    (r"lateral(ly)? flex\w*|side ?bend\w*|bend\w* (\w+ ){0,3}sideways|sideways bend\w*", "lateral flexion"),
    (r"(lateral|external|outward)(ly)? rotat\w*|rotat\w* (\w+ ){0,3}(out|outward|outwards|externally|laterally)", "lateral rotation"),
    (r"(medial|internal|inward)(ly)? rotat\w*|rotat\w* (\w+ ){0,3}(in(?= *$| and| or| when| while| with)|inward|inwards|"
     r"internally|medially)", "medial rotation"),
    (r"rotat\w*|twist\w*", "rotation"),
    (r"abduct\w*", "abduction"),
    (r"adduct\w*", "adduction"),
    (r"extens\w*|extend\w*|extensor", "extension"),
    (r"flex\w*|bend\w*|lift\w*|raise\w*|tilt\w* (\w+ ){0,3}(forward|forwards|anterior\w*)|(forward|anterior) tilt\w*", "flexion"),
    (r"tilt\w* (\w+ ){0,3}(backward|backwards|posterior\w*)|(backward|posterior) tilt\w*", "extension"),
)
_MOVES = tuple((re.compile(rf"\b({p})\b"), m) for p, m in _MOVE_NOUNS)

_NEGATION = re.compile(
    r"\b(no|not|never|without|nor|neither|cannot|none|rather than|instead of|lacks?|absent|isn't|doesn't|don't)\b"
)
_CLAUSE_END = re.compile(r"[;.!?]|\bbut\b|\bwhile\b|\bwhereas\b")
_POSITIONS = {
    "face down": "prone", "facedown": "prone", "prone": "prone", "on your front": "prone", "on the front": "prone",
    "on your stomach": "prone", "on the stomach": "prone", "on your belly": "prone",
    "on your back": "supine", "on the back": "supine", "supine": "supine", "face up": "supine",
    "on your side": "side", "on the side": "side", "side lying": "side", "sidelying": "side", "on one side": "side",
    "on the unaffected side": "side", "sitting": "sitting", "seated": "sitting", "standing": "standing",
}
_POSITION = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _POSITIONS), key=len, reverse=True)) + r")\b")
_LEVEL = re.compile(r"\b([tls])([1-9]|1[0-2])\b")
# Lay phrases for parts the atlas names only in words (no entity of their own).
_PART_WORDS = {
    "spinous process": ("spinous process", "spinous processes"),
    "lamina": ("lamina", "laminae"),
}
_LAY_PARTS = ((re.compile(r"\bback of (the |my |your )?(vertebra|vertebrae|spine|backbone|spinal column)\b"), "spinous process"),
              (re.compile(r"\bspinous( process\w*)?\b"), "spinous process"),
              (re.compile(r"\blamina\w*\b"), "lamina"))
_BETTER = re.compile(r"\b(better|more effective|superior|stronger|more than|greater|beat|beats|outperform\w*)\b")
_SAME = re.compile(r"\b(as good as|as effective as|same as|equal to|just as)\b")
_EQUAL = re.compile(r"\b(as much (range )?as|no difference|equal\w*|the same|no extra|did not differ|nor more|matched)\b")


@dataclass(frozen=True)
class Asked:
    """The predicate a yes/no question asks about."""

    subject: str | None
    relations: frozenset[str] = frozenset()
    objects: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()  # object words without an entity ("spinous process")
    levels: tuple[str, ...] = ()  # spinal levels ("L1")
    movement: tuple[str | None, str] | None = None  # (joint, movement) for "is it a hip extensor"
    position: str | None = None  # "prone" / "supine" / "side" ... for how a test is done
    compare: str | None = None  # "better" | "same"
    identity: bool = False  # "is the sacrum the tail bone?"
    words: tuple[str, ...] = ()  # other content words the answer must state ("retroperitoneal", "largest")
    raw: str = ""  # the asked part of the question, normalised
    cosubjects: tuple[str, ...] = ()  # further structures the question asks the same of
    aliases: dict[str, str] = field(default_factory=dict)  # object id -> the words the question used


def read_predicate(index: Any, q: Any) -> Asked:
    """The subject, relation and object of yes/no question ``q`` (a :class:`~ask_index.Query`)."""
    text = " ".join(q.tokens)
    raw = q.asked or q.text
    mentions = sorted(q.mentions, key=lambda m: m.start)
    causal = _CAUSAL.search(raw) is not None
    # "is the psoas minor a hip flexor": a movement class said of the subject, not the iliopsoas;
    # "can tight hip flexors cause ...": the hip flexors are the subject
    first = next((m for m in mentions if m.entity not in _GENERIC_IDS), mentions[0] if mentions else None)
    classes = [m for m in mentions if m is not first and _MOVE_CLASS.search(m.alias)]
    outside = " ".join(t for j, t in enumerate(q.tokens)  # joint words ("hip", "spine") stay, names go
                       if t in _JOINT_WORDS or not any(m.start <= j < m.end for m in mentions
                                                       if m not in classes and m.entity not in _GENERIC_IDS))
    movement = None if causal else _movement(outside)
    move_words = {"hip", "knee", "thigh", "leg", "pelvis", "spine", "back", "trunk", "lumbar spine"} if movement else set()
    named = [m for m in mentions if not ((m.alias in move_words or m in classes) and movement)]
    specific = [m for m in named if m.entity not in _GENERIC_IDS] or named
    subject = specific[0].entity if specific else (q.entities[0] if q.entities else None)
    objects: list[str] = []
    aliases: dict[str, str] = {}
    # "do the iliacus and psoas attach to the organs": structures joined by "and" share the question
    cosubjects = [b.entity for a_, b in zip(specific, specific[1:], strict=False)
                  if a_.entity == subject and list(q.tokens[a_.end:b.start]) in (["and"], ["or"])]
    for m in named:
        if m.entity in cosubjects:
            continue
        if m.entity != subject and m.entity not in objects:
            objects.append(m.entity)
            aliases[m.entity] = m.alias
    relations = {name for name, rx in _RELATIONS if rx.search(raw) or rx.search(text)}
    if "attach" in relations or "connect" in relations:
        relations |= {"origin", "insertion"}
    if "supply" in relations:
        kinds = {_kind(index, o) for o in objects}
        relations |= {"blood_supply"} if kinds & {"vessel"} or re.search(r"\b(blood|arter\w*)\b", raw) else {"innervation"}
    if re.search(r"\b(nerve|innervat\w*)\b", raw):
        relations.add("innervation")
    if movement is not None:
        relations.add("action")
    if causal:  # "can a tight psoas cause back pain": what the sources say about the condition
        relations = {"associated_condition"}
    if "connect" in relations:  # "do the psoas and diaphragm connect": through fascia, or as neighbours, too
        relations |= {"fascial_connection", "adjacent_to"}
    # "the ventral rami of lumbar nerves": the word "nerves" is part of the nerve's name, not the nervous system
    kinds = {_kind(index, o) for o in objects}
    objects = [o for o in objects if not (_kind(index, o) == "organ_system" and kinds & _SYSTEM_PARTS.get(o, frozenset()))]
    if "innervation" in relations:  # "supplied by L1" names a spinal level, not the vertebra
        objects = [o for o in objects if not (_LEVEL.fullmatch(aliases.get(o, "")) and _level_of(index, o))]
    terms = tuple(dict.fromkeys(t for rx, t in _LAY_PARTS if rx.search(raw)))
    levels = tuple(dict.fromkeys(f"{a.upper()}{b}" for a, b in _LEVEL.findall(raw)))
    pos = _POSITION.search(raw)
    beats = re.search(r"\b(beat|beats|outperform\w*|superior to)\b", raw) is not None
    compare = "same" if _SAME.search(raw) else "better" if _BETTER.search(raw) and (" than " in f" {raw} " or beats) else None
    rest = [t for j, t in enumerate(q.tokens) if not any(m.start <= j < m.end for m in named)]
    if rest[:4] == ["is", "it", "true", "that"]:  # "is it true that the sacrum is the tailbone"
        rest = rest[4:]
    identity = (not relations and len(objects) == 1 and subject is not None and bool({"is", "are"} & set(rest[:2]))
                and all(t in _FILLER for t in rest))
    used = {w for m in named for w in m.alias.split()}
    words = tuple(w for w in q.key if w not in used and len(w) > 3 and not any(rx.search(w) for _, rx in _RELATIONS)
                  and not _LEVEL.fullmatch(w) and w not in _QUESTION_WORDS)
    return Asked(subject, frozenset(relations - {"attach", "supply", "connect"}), tuple(objects), terms, levels, movement,
                 position=_POSITIONS[pos.group(1)] if pos else None, compare=compare, identity=identity,
                 words=words, aliases=aliases, raw=raw, cosubjects=tuple(cosubjects))


# Everyday place words and the anatomical ones an article's claim may use instead.
_PLACE_WORDS = {"front": "anterior", "back": "posterior", "behind": "posterior", "top": "superior",
                "bottom": "inferior", "inside": "medial", "outside": "lateral", "side": "lateral"}
_VERDICT = {"consistent": "Yes", "contradicted": "No", "disputed": "Not clearly", "opinion": "Not established"}
_FILLER = frozenset("is are the a an what people call called also same as one thing really just".split())
_QUESTION_WORDS = frozenset("true correct right wrong really actually book textbook notes teacher says said claim "
                            "directly straight usually normally commonly typically generally described considered "
                            "regarded known thought classed classified counted seen".split())


_CAUSAL = re.compile(r"\b(cause|causes|caused|causing|lead to|leads to|result in|results in|responsible for|"
                     r"to blame|trigger|triggers|give me|gives you)\b")
_MOVE_CLASS = re.compile(r"\b(flexors?|extensors?|rotators?|abductors?|adductors?)\b")
_SYSTEM_PARTS = {"nervous-system": frozenset({"nerve", "nerve_plexus", "nervous_structure"}),
                 "digestive-system": frozenset({"organ"}), "urinary-system": frozenset({"organ"})}
_GENERIC_IDS = frozenset({"hip", "thigh", "knee", "foot", "trunk", "abdomen", "groin", "buttock", "lower-back", "pelvis", "skin"})


def _kind(index: Any, eid: str) -> str:
    e = index.atlas.entities.get(eid)
    return e.kind.value if e is not None else ""


def _movement(text: str) -> tuple[str | None, str] | None:
    """The movement a question names ("hip extensor" -> ("hip", "extension")), or None."""
    for rx, move in _MOVES:
        m = rx.search(text)
        if m is None:
            continue
        window = text[max(0, m.start() - 40) : m.end() + 40].split()
        joint = next((_JOINT_WORDS[w] for w in window if w in _JOINT_WORDS), None)
        if move == "lateral flexion" and joint in (None, "hip"):
            joint = "lumbar"
        return joint, move
    return None


def fact_movement(fact: Any) -> tuple[str | None, str] | None:
    """(joint, movement) of an action statement, from its literal and its joint qualifier."""
    lit = str(fact.literal.value).lower() if fact.literal is not None and fact.literal.value is not None else ""
    joint_q = str(fact.qualifiers.get("joint", ""))
    joint = {"hip-joint": "hip", "knee-joint": "knee", "lumbar-intervertebral-joints": "lumbar",
             "sacroiliac-joint": "hip"}.get(joint_q)
    if "pelvic tilt" in lit or "tilt" in lit and "pelvis" in lit:
        return "hip", "flexion" if "anterior" in lit or "forward" in lit else "extension"
    for rx, move in _MOVES:
        if rx.search(lit):
            if joint is None:
                joint = next((_JOINT_WORDS[w] for w in lit.split() if w in _JOINT_WORDS), None)
            return joint, move
    return None


def _moves_match(asked: tuple[str | None, str], have: tuple[str | None, str]) -> bool:
    (aj, am), (hj, hm) = asked, have
    if aj is not None and hj is not None and aj != hj:
        return False
    if am == hm:
        return True
    return am == "rotation" and hm in ("lateral rotation", "medial rotation")


def _authoritative(f: Any) -> bool:
    return not all(s.source.startswith("seed-") for s in f.sources)


def _names(index: Any, eid: str) -> list[str]:
    e = index.atlas.entities.get(eid)
    if e is None:
        return [eid.replace("-", " ")]
    names = [e.name, *e.synonyms]
    names += [a for a, x in index.alias.aliases.items() if x == eid]
    return sorted({n.lower() for n in names if len(n) > 2 and n.lower() not in _ADJECTIVES}, key=len, reverse=True)


_ADJECTIVES = frozenset({"pelvic"})  # "pelvic organ" is not the pelvis


def _mentions(text: str, words: Iterable[str]) -> list[int]:
    """Start offsets in ``text`` where any of ``words`` occurs as whole words (plural tolerated; a
    stem of five letters matches any ending)."""
    out = []
    for w in words:
        tail = r"\w*" if len(w) == 5 and " " not in w else r"(e?s)?"
        for m in re.finditer(rf"\b{re.escape(w)}{tail}\b", text):
            out.append(m.start())
    return sorted(out)


def _denied_at(text: str, pos: int) -> bool:
    """True when a negation governs the words starting at ``pos`` (same clause, at most 5 words before)."""
    before = text[:pos]
    cut = max((m.end() for m in _CLAUSE_END.finditer(before)), default=0)
    window = before[cut:].split()[-5:]
    return bool(_NEGATION.search(" ".join(window)))


def _clause_at(text: str, pos: int) -> str:
    """The clause of ``text`` around offset ``pos``."""
    start = max((m.end() for m in _CLAUSE_END.finditer(text[:pos])), default=0)
    end = _CLAUSE_END.search(text, pos)
    return text[start : end.start() if end else len(text)]


def _ancestors(index: Any, eid: str) -> set[str]:
    out: set[str] = set()
    todo = [eid]
    while todo:
        for p in index.parents.get(todo.pop(), ()):
            if p not in out:
                out.add(p)
                todo.append(p)
    return out


def _level_of(index: Any, eid: str) -> str | None:
    e = index.atlas.entities.get(eid)
    return next((s for s in getattr(e, "synonyms", ()) if re.fullmatch(r"[CTLS]\d{1,2}", s)), None) if e else None


def _object_matches(index: Any, f: Any, obj: str) -> bool:
    """The statement's object is ``obj``, a part of it, or a whole holding it (levels checked)."""
    if f.object is None:
        if obj in {v for v in f.qualifiers.values() if isinstance(v, str)}:
            return True
        if obj in _GENERIC_IDS:
            return False  # "hip" inside "hip flexion" is not the hip asked about
        lit = str(f.literal.value).lower() if f.literal is not None and f.literal.value is not None else ""
        return bool(lit) and bool(_mentions(lit, _names(index, obj)))
    if f.object == obj or obj in _ancestors(index, f.object):
        return True
    if f.object in _ancestors(index, obj) and f.predicate.value in ("antagonist_of", "synergist_of"):
        return True  # opposing the iliopsoas is opposing the psoas major's flexion
    if f.object in _ancestors(index, obj) and f.predicate.value in ("origin", "insertion"):
        level = _level_of(index, obj)  # "does the psoas attach to L5": L5 among the levels recorded
        levels = [str(x) for x in f.qualifiers.get("levels") or ()]
        return level is not None and level in levels
    return False
