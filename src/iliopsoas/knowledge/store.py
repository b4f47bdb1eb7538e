"""Load, validate and query the atlas: the sourced knowledge base of the hip-flexor complex.

:func:`load_atlas` reads every data file under ``knowledge/data/`` (layout in
:mod:`iliopsoas.knowledge.schema`), validates each record with pydantic, checks that every
reference points at something that exists, and returns an immutable :class:`Atlas`. Problems are
collected, not raised one by one: a :class:`DataError` carries one line per problem, each naming
the file, the key path inside it and what was expected, e.g.::

    entities/muscles.yaml: psoas-major.statements[3].object: unknown entity 'lesser-trochanterr'
    (did you mean 'lesser-trochanter'?)

Conflicts are symmetric and distinguish the sides: a :class:`~iliopsoas.knowledge.schema.Conflict`
splits its statements into named positions (plus ``agreed``, the ground every side accepts), and a
statement conflicts only with the statements of the positions its own position opposes, so two
statements that agree are never linked because they sit in the same conflict. ``conflicts_with``
links given on a statement are added and mirrored on the other side.

Name resolution (:meth:`Atlas.resolve`) tries, in order: a preferred reading of a few ambiguous
lay words (``"psoas"`` alone means psoas major, the muscle the articles talk about, not the
generic UBERON grouping), an exact id, canonical name or synonym (ignoring case, spacing,
punctuation, a leading "the" and plural endings), and finally a typo-tolerant match whose score
must reach :data:`FUZZY_THRESHOLD` so that nonsense is rejected with the closest names instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import platformdirs
import yaml
from pydantic import TypeAdapter, ValidationError
from rapidfuzz import fuzz, process

from iliopsoas.knowledge.schema import (
    Claim,
    Conflict,
    Entity,
    Kind,
    Literal,
    ModelVerdict,
    Predicate,
    Source,
    SourceRef,
    Statement,
    Status,
    SubjectStatement,
    Verdict,
)

DATA_DIR = Path(__file__).resolve().parent / "data"

#: Minimum rapidfuzz ``ratio`` (0-100) for a typo-tolerant match in :meth:`Atlas.resolve`.
#: 82 accepts one or two wrong letters in a name of six or more ("illiacus", "psoas mnor",
#: "lesser trochanterr") and rejects unrelated words ("banana", "knee cap").
FUZZY_THRESHOLD = 82.0

#: Qualifier keys whose values are entity ids (checked like ``object``; IRIs in the RDF graph).
ENTITY_QUALIFIERS = frozenset({"joint", "joints", "formed_by", "parent", "with"})

#: Readings of ambiguous lay words, chosen before any other rule (only applied when the target
#: entity exists). "psoas" alone is how all four articles name psoas major.
PREFERRED_READINGS: Mapping[str, str] = MappingProxyType(
    {
        "psoas": "psoas-major",
        "hip flexor": "iliopsoas",
        "tailbone": "coccyx",
    }
)

__all__ = [
    "Atlas",
    "DATA_DIR",
    "DataError",
    "ENTITY_QUALIFIERS",
    "FUZZY_THRESHOLD",
    "Fact",
    "PREFERRED_READINGS",
    "UnknownName",
    "clear_cache",
    "load_atlas",
    "normalise_name",
]


class DataError(Exception):
    """The atlas data is broken; :attr:`problems` holds one self-contained line per problem."""

    def __init__(self, problems: Iterable[str]):
        self.problems: list[str] = list(problems)
        super().__init__("\n".join(self.problems))


class UnknownName(LookupError):
    """No entity matches a name; :attr:`suggestions` lists the closest canonical names."""

    def __init__(self, name: str, suggestions: list[str]):
        self.name = name
        self.suggestions = suggestions
        hint = f" (closest: {', '.join(repr(s) for s in suggestions)})" if suggestions else ""
        super().__init__(f"unknown name {name!r}{hint}")


@dataclass(frozen=True, slots=True)
class Fact:
    """One statement of the atlas with its subject made explicit and its conflicts resolved.

    ``object`` is an entity id or ``None`` (then ``literal`` is set). ``conflicts_with`` is
    symmetric and sorted; ``conflicts`` lists the ids of the :class:`Conflict` groups it belongs
    to. ``origin`` is the data file (relative to the data folder) that defines it.
    """

    id: str
    subject: str
    predicate: Predicate
    object: str | None
    literal: Literal | None
    qualifiers: Mapping[str, Any] = field(hash=False)  # compared, but not hashed (a mapping)
    sources: tuple[SourceRef, ...]
    status: Status
    note: str | None
    conflicts_with: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    origin: str = ""

    @property
    def source_ids(self) -> tuple[str, ...]:
        return tuple(s.source for s in self.sources)


# ----------------------------------------------------------------------------- names


_PUNCT = re.compile(r"[\"'`’‘“”()\[\],;:!?/_\-–—.]+")
_SPACE = re.compile(r"\s+")


def _singular(word: str) -> str:
    """A crude singular form for matching only ('vertebrae' -> 'vertebra', 'glutes' -> 'glute')."""
    if len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("ae"):
        return word[:-1]
    if word.endswith("s") and not word.endswith(("ss", "us", "is", "as", "os")):
        return word[:-1]
    return word


def normalise_name(text: str) -> str:
    """Fold a name for matching: lower case, no punctuation, one space, no leading 'the', singular.

    >>> normalise_name("  The Hip-Flexors ")
    'hip flexor'
    >>> normalise_name("Psoas")
    'psoas'
    """
    s = text.lower().replace("'s ", " ").replace("’s ", " ")
    s = _PUNCT.sub(" ", s)
    s = _SPACE.sub(" ", s).strip()
    if s.startswith("the "):
        s = s[4:]
    if not s:
        return s
    words = s.split(" ")
    words[-1] = _singular(words[-1])
    return " ".join(words)


def _labels(entity: Entity) -> list[str]:
    """Every string that names ``entity``: id, canonical name (with and without parentheses), synonyms.

    The text inside parentheses is not a label by itself: it is often a qualifier ("generic",
    "thoracic"); real alternative names belong in ``synonyms``.
    """
    out = [entity.id, entity.name]
    if "(" in entity.name:
        out.append(re.sub(r"\([^)]*\)", " ", entity.name))
    out.extend(entity.synonyms)
    return out


# ----------------------------------------------------------------------------- the atlas


@dataclass(frozen=True, eq=False)  # identity equality: an atlas is hashable and cacheable
class Atlas:
    """The validated atlas. Immutable; build it with :func:`load_atlas`."""

    entities: Mapping[str, Entity]
    sources: Mapping[str, Source]
    claims: Mapping[str, Claim]
    conflicts: Mapping[str, Conflict]
    statements: Mapping[str, Fact]
    data_dir: Path
    warnings: tuple[str, ...] = ()
    _by_subject: Mapping[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    _by_object: Mapping[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    _names: Mapping[str, str] = field(default_factory=dict, repr=False)  # normalised label -> id

    # -- lookup ---------------------------------------------------------------------------

    def facts_about(self, entity_id: str, predicate: Predicate | str | None = None) -> list[Fact]:
        """Statements whose subject is ``entity_id`` (optionally one predicate), in file order."""
        facts = [self.statements[s] for s in self._by_subject.get(entity_id, ())]
        if predicate is not None:
            facts = [f for f in facts if f.predicate == Predicate(predicate)]
        return facts

    def facts_mentioning(self, entity_id: str, predicate: Predicate | str | None = None) -> list[Fact]:
        """Statements whose object is ``entity_id`` (optionally one predicate), in file order."""
        facts = [self.statements[s] for s in self._by_object.get(entity_id, ())]
        if predicate is not None:
            facts = [f for f in facts if f.predicate == Predicate(predicate)]
        return facts

    def lookup(self, name: str) -> Entity | None:
        """The entity with exactly this id, name or synonym (after :func:`normalise_name`), else ``None``.

        Unlike :meth:`resolve` there is no typo tolerance and no preferred reading.
        """
        key = normalise_name(name)
        eid = self._names.get(key) or self._names.get(key.replace(" ", ""))
        return self.entities[eid] if eid else None

    def resolve(self, name: str) -> Entity:
        """The entity named ``name`` (id, canonical name or synonym; case, plural and typo tolerant).

        Raises :class:`UnknownName` (with the closest names) when nothing matches well enough.
        """
        if not isinstance(name, str):
            raise TypeError(f"name must be a string, got {type(name).__name__}")
        key = normalise_name(name)
        if not key:
            raise UnknownName(name, [])
        preferred = PREFERRED_READINGS.get(key)
        if preferred is not None and preferred in self.entities:
            return self.entities[preferred]
        if key in self._names:
            return self.entities[self._names[key]]
        compact = key.replace(" ", "")
        if compact in self._names:  # "psoasmajor", "ilio psoas"
            return self.entities[self._names[compact]]
        hit = process.extractOne(key, list(self._names), scorer=fuzz.ratio, score_cutoff=FUZZY_THRESHOLD)
        if hit is not None:
            return self.entities[self._names[hit[0]]]
        raise UnknownName(name, self.closest_names(name))

    def closest_names(self, text: str, limit: int = 5) -> list[str]:
        """Canonical names of the entities whose labels look most like ``text`` (best first)."""
        key = normalise_name(text)
        if not key or not self._names:
            return []
        hits = process.extract(key, list(self._names), scorer=fuzz.WRatio, limit=limit * 4)
        out: list[str] = []
        for label, _score, _ in hits:
            name = self.entities[self._names[label]].name
            if name not in out:
                out.append(name)
            if len(out) == limit:
                break
        return out

    def search(self, text: str, limit: int = 10) -> list[tuple[Entity, float]]:
        """Entities ranked by how well ``text`` matches their names, synonyms, Latin name or summary.

        Returns ``[(entity, score)]`` with ``score`` in 0-100, best first, at most ``limit`` items.
        100: the entity :meth:`resolve` picks exactly; 99: an exact label; 92: every word of
        ``text`` is a word of a label; 85: ``text`` is part of a label; 70: ``text`` occurs in the
        summary or Latin name; otherwise a typo-tolerant word-by-word score. Below 70: dropped.
        """
        key = normalise_name(text)
        if not key:
            return []
        raw = text.lower().strip()
        words = key.split(" ")
        scores: dict[str, float] = {}
        preferred = PREFERRED_READINGS.get(key)
        exact = preferred if preferred is not None and preferred in self.entities else self._names.get(key)
        if exact:
            scores[exact] = 100.0
        for label, eid in self._names.items():
            label_words = label.split(" ")
            if label == key:
                s = 99.0
            elif all(w in label_words for w in words):
                s = 92.0
            elif len(key) >= 4 and key in label:
                s = 85.0
            else:
                # each query word must look like some word of the label ("hip flexer" ~ "hip flexor")
                per_word = [max(fuzz.ratio(w, lw) for lw in label_words) for w in words]
                coverage = sum(per_word) / len(per_word) if min(per_word) >= 75 else 0.0
                s = max(fuzz.ratio(key, label), coverage) * 0.9
            if s > scores.get(eid, 0.0):
                scores[eid] = s
        for eid, e in self.entities.items():
            blob = " ".join(x for x in (e.summary, e.latin) if x).lower()
            if len(raw) >= 3 and raw in blob and scores.get(eid, 0.0) < 70.0:
                scores[eid] = 70.0
        ranked = sorted(
            ((self.entities[eid], round(s, 1)) for eid, s in scores.items() if s >= 70.0),
            key=lambda t: (-t[1], t[0].name),
        )
        return ranked[:limit]

    def claims_for(self, verdict: Verdict | str | None = None, article: str | None = None) -> list[Claim]:
        """Claims, in id order, optionally of one verdict and/or one article (``"000"`` … ``"003"``)."""
        v = Verdict(verdict) if verdict is not None else None
        return [
            c
            for _, c in sorted(self.claims.items())
            if (v is None or c.verdict == v) and (article is None or c.article == article)
        ]

    def entities_of_kind(self, kind: Kind | str | None = None) -> list[Entity]:
        """Entities sorted by name, optionally of one kind."""
        k = Kind(kind) if kind is not None else None
        return sorted((e for e in self.entities.values() if k is None or e.kind == k), key=lambda e: e.name)

    def with_model_verdicts(self, verdicts: Mapping[str, ModelVerdict]) -> Atlas:
        """A new atlas whose claims carry ``verdicts`` (claim id -> verdict); unknown ids raise."""
        unknown = sorted(set(verdicts) - set(self.claims))
        if unknown:
            raise DataError(f"model verdict for unknown claim {c!r}" for c in unknown)
        claims = {
            cid: (c.model_copy(update={"model_verdict": verdicts[cid]}) if cid in verdicts else c)
            for cid, c in self.claims.items()
        }
        return replace(self, claims=MappingProxyType(claims))

    def counts(self) -> dict[str, Any]:
        """Sizes of the atlas: entities, statements, sources, claims by verdict, confirmed ids."""
        by_verdict: dict[str, int] = {v.value: 0 for v in Verdict}
        for c in self.claims.values():
            by_verdict[c.verdict.value] += 1
        confirmed = {"uberon": 0, "fma": 0}
        for e in self.entities.values():
            confirmed["uberon"] += e.xrefs.uberon.status.value == "confirmed"
            confirmed["fma"] += e.xrefs.fma.status.value == "confirmed"
        return {
            "entities": len(self.entities),
            "statements": len(self.statements),
            "sources": len(self.sources),
            "claims": len(self.claims),
            "claims_by_verdict": by_verdict,
            "conflicts": len(self.conflicts),
            "confirmed_ids": confirmed,
        }


# ----------------------------------------------------------------------------- YAML reading


class _Loader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """A safe loader that rejects duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: Any, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        out[key] = loader.construct_object(value_node, deep=True)
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class _Problems(list[str]):
    """Problem lines, plus the files that could not be parsed at all."""

    unreadable: list[str]

    def __init__(self) -> None:
        super().__init__()
        self.unreadable = []


def _read_yaml(path: Path, rel: str, problems: _Problems) -> Any:
    n = len(problems)
    data = _parse_yaml(path, rel, problems)
    if len(problems) > n:
        problems.unreadable.append(rel)
    return data


def _parse_yaml(path: Path, rel: str, problems: list[str]) -> Any:
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{rel}: cannot read: {exc}")
        return None
    digest = hashlib.sha256(_PARSE_CACHE_VERSION + raw).hexdigest()
    cached = _parse_cache_get(digest)
    if cached is not None:
        return cached
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problems.append(f"{rel}: {where}invalid YAML: {exc.problem or exc}")
        return None
    except yaml.YAMLError as exc:
        problems.append(f"{rel}: invalid YAML: {exc}")
        return None
    _parse_cache_put(digest, data)
    return data


# PyYAML builds Python objects in Python even with libyaml, which costs most of the load time;
# parsed files are therefore kept as JSON in the user's cache folder, keyed by the hash of their
# bytes (so an edited file is parsed again). Any failure just means parsing again.
_PARSE_CACHE_VERSION = b"atlas-yaml-1\0"
_PARSE_CACHE_KEEP = 200


def _parse_cache_dir() -> Path | None:
    env = os.environ.get("ILIOPSOAS_CACHE_DIR")
    if env == "":
        return None  # explicitly disabled
    try:
        base = Path(env) if env else platformdirs.user_cache_path("iliopsoas")
    except Exception:  # noqa: BLE001 - no usable home folder: run without the cache
        return None
    return base / "atlas-yaml"


def _json_safe(obj: Any) -> bool:
    """Whether ``obj`` survives a JSON round trip unchanged (str keys, plain scalars, lists)."""
    if obj is None or isinstance(obj, str | bool | int | float):
        return True
    if isinstance(obj, list):
        return all(_json_safe(x) for x in obj)
    if isinstance(obj, dict):
        return all(isinstance(k, str) and _json_safe(v) for k, v in obj.items())
    return False


def _parse_cache_get(digest: str) -> Any:
    folder = _parse_cache_dir()
    if folder is None:
        return None
    try:
        return json.loads((folder / f"{digest}.json").read_bytes())
    except (OSError, ValueError):
        return None


def _parse_cache_put(digest: str, data: Any) -> None:
    folder = _parse_cache_dir()
    if folder is None or data is None or not _json_safe(data):
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f"{digest}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        tmp.replace(folder / f"{digest}.json")
        entries = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime)
        for stale in entries[:-_PARSE_CACHE_KEEP]:  # old versions of edited files
            stale.unlink(missing_ok=True)
    except OSError:
        return


def _mapping_of_records(
    data: Any, rel: str, problems: list[str], *, what: str, pad_article: bool = False
) -> dict[str, Any]:
    """Check ``data`` is a mapping id -> record and put each key into its record's ``id``."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        problems.append(f"{rel}: expected a mapping of {what} id -> record, got {type(data).__name__}")
        return {}
    out: dict[str, Any] = {}
    for key, rec in data.items():
        if not isinstance(rec, dict):
            problems.append(f"{rel}: {key}: expected a mapping (a {what} record), got {type(rec).__name__}")
            continue
        key = str(key)
        rec = dict(rec)
        if "id" in rec and str(rec["id"]) != key:
            problems.append(f"{rel}: {key}.id: {rec['id']!r} differs from its key {key!r}")
        rec["id"] = key
        if pad_article and isinstance(rec.get("article"), int):
            rec["article"] = f"{rec['article']:03d}"  # YAML reads 000 / 001 as integers
        out[key] = rec
    return out


# ----------------------------------------------------------------------------- validation


def _loc(parts: Iterable[Any]) -> str:
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += f".{p}" if out else str(p)
    return out


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    hit = process.extractOne(word, list(choices), scorer=fuzz.ratio, score_cutoff=70)
    return f" (did you mean {hit[0]!r}?)" if hit else ""


def _pydantic_lines(exc: ValidationError, rel: str, prefix: tuple[Any, ...] = ()) -> list[str]:
    lines = []
    for err in exc.errors(include_url=False):
        loc = _loc(prefix + tuple(err["loc"]))
        msg = err["msg"]
        inp = err.get("input")
        if err["type"] == "enum" and isinstance(inp, str):
            expected = re.findall(r"'([^']+)'", str(err.get("ctx", {}).get("expected", "")))
            hint = _did_you_mean(inp, expected)
            msg = f"{msg}, got {inp!r}{hint}"
        elif err["type"] == "missing":
            msg = "required field is missing"
        elif isinstance(inp, str | int | float) and not isinstance(inp, bool) and len(repr(inp)) <= 60:
            msg = f"{msg}, got {inp!r}"
        lines.append(f"{rel}: {loc}: {msg}")
    return lines


_ENTITIES = TypeAdapter(dict[str, Entity])
_SOURCES = TypeAdapter(dict[str, Source])
_CLAIMS = TypeAdapter(dict[str, Claim])
_CONFLICTS = TypeAdapter(dict[str, Conflict])
_SUBJECT_STATEMENTS = TypeAdapter(list[SubjectStatement])
_MODEL_VERDICTS = TypeAdapter(dict[str, ModelVerdict])


def _validate_each(
    adapter: TypeAdapter[Any], raw: dict[str, Any], rel: str, problems: list[str]
) -> dict[str, Any]:
    """Validate a whole mapping at once (fast); on errors, keep the records that are valid."""
    try:
        return dict(adapter.validate_python(raw))
    except ValidationError as exc:
        problems.extend(_pydantic_lines(exc, rel))
    good: dict[str, Any] = {}
    for key, rec in raw.items():
        try:
            good.update(adapter.validate_python({key: rec}))
        except ValidationError:
            continue
    return good


def _conflict_problems(conflict: Conflict) -> list[str]:
    """Check that the positions of ``conflict`` split its statements into sides that oppose each other.

    Every statement takes exactly one side or is ``agreed``; position ids are unique; ``opposes``
    names other positions of the same conflict, and opposition is mutual.
    """
    at = f"conflicts.yaml: {conflict.id}"
    out: list[str] = []
    where: dict[str, str] = {}  # statement id -> its first place ("position 'x'" or "agreed")
    for i, pos in enumerate(conflict.positions):
        for j, sid in enumerate(pos.statements):
            if sid in where:
                out.append(
                    f"{at}.positions[{i}].statements[{j}]: statement {sid!r} is already in {where[sid]}; "
                    "a statement takes exactly one side"
                )
            else:
                where[sid] = f"position {pos.id!r}"
    for j, sid in enumerate(conflict.agreed):
        if sid in where:
            out.append(
                f"{at}.agreed[{j}]: statement {sid!r} is already in {where[sid]}; "
                "a statement either takes one side or is agreed by all"
            )
        else:
            where[sid] = "agreed"
    seen: set[str] = set()
    for j, sid in enumerate(conflict.statements):
        if sid in seen:
            out.append(f"{at}.statements[{j}]: statement {sid!r} is listed twice")
        seen.add(sid)
        if sid not in where:
            names = ", ".join(repr(p.id) for p in conflict.positions)
            out.append(
                f"{at}.statements[{j}]: statement {sid!r} takes no side; "
                f"put it in one of the positions ({names}) or in agreed"
            )
    for sid in (s for s in where if s not in seen):
        out.append(f"{at}.statements: {sid!r} is in {where[sid]} but not in the conflict's statements")
    ids = [p.id for p in conflict.positions]
    for i, pos in enumerate(conflict.positions):
        if pos.id in ids[:i]:
            out.append(f"{at}.positions[{i}].id: duplicate position id {pos.id!r}")
        for j, other in enumerate(pos.opposes or []):
            place = f"{at}.positions[{i}].opposes[{j}]"
            if other == pos.id:
                out.append(f"{place}: a position cannot oppose itself")
            elif other not in ids:
                out.append(f"{place}: unknown position {other!r}{_did_you_mean(other, ids)}")
        if pos.opposes is not None and not pos.opposes:
            out.append(
                f"{at}.positions[{i}].opposes: a position must oppose another one "
                "(statements every side accepts go in agreed)"
            )
        for side in conflict.opposed(pos):
            if all(back.id != pos.id for back in conflict.opposed(side)):
                place = f"{at}.positions[{i}]" + (".opposes" if pos.opposes is not None else "")
                out.append(
                    f"{place}: {pos.id!r} opposes {side.id!r} but {side.id!r} does not oppose {pos.id!r}; "
                    "opposition must be mutual"
                )
    return out


@dataclass
class _Draft:
    """Statements as read, before conflicts are made symmetric."""

    statement: Statement
    subject: str
    origin: str
    path: str  # key path inside the file, e.g. "psoas-major.statements[3]" or "[12]"


def _merge_unique(
    kept: dict[str, Any], origin: dict[str, str], records: dict[str, Any], rel: str, problems: list[str], what: str
) -> dict[str, Any]:
    """Add the ``records`` of file ``rel`` to ``kept``; a repeated id is reported, never replaced.

    Returns the records that were added; ``origin`` maps each kept id to its file.
    """
    added: dict[str, Any] = {}
    for rid, rec in records.items():
        if rid in kept:
            problems.append(f"{rel}: {rid}: duplicate {what} id (also in {origin[rid]})")
            continue
        kept[rid] = added[rid] = rec
        origin[rid] = rel
    return added


def _raw_statement_ids(lists: Iterable[Any]) -> Iterator[str]:
    for items in lists:
        if isinstance(items, list):
            for rec in items:
                if isinstance(rec, dict) and isinstance(rec.get("id"), str):
                    yield rec["id"]


def _files(folder: Path, pattern: str) -> list[Path]:
    return sorted(folder.glob(pattern)) if folder.is_dir() else []


def _load(data_dir: Path) -> Atlas:
    problems = _Problems()
    warnings: list[str] = []
    if not data_dir.is_dir():
        raise DataError([f"{data_dir}: the atlas data folder does not exist"])

    def rel(p: Path) -> str:
        return p.relative_to(data_dir).as_posix()

    # sources
    # ids of records that exist even if invalid: a broken record is reported once, not again
    # by every reference to it
    seen_sources: set[str] = set()
    seen_entities: set[str] = set()
    seen_statements: set[str] = set()
    seen_claims: set[str] = set()
    sources: dict[str, Source] = {}
    source_file: dict[str, str] = {}
    for path in _files(data_dir / "sources", "*.yaml"):
        r = rel(path)
        raw = _mapping_of_records(_read_yaml(path, r, problems), r, problems, what="source")
        seen_sources.update(raw)
        _merge_unique(sources, source_file, _validate_each(_SOURCES, raw, r, problems), r, problems, "source")

    # entities with their embedded statements
    entities: dict[str, Entity] = {}
    entity_file: dict[str, str] = {}
    drafts: list[_Draft] = []
    for path in _files(data_dir / "entities", "*.yaml"):
        r = rel(path)
        raw = _mapping_of_records(_read_yaml(path, r, problems), r, problems, what="entity")
        seen_entities.update(raw)
        seen_statements.update(_raw_statement_ids(rec.get("statements") for rec in raw.values()))
        checked = _validate_each(_ENTITIES, raw, r, problems)
        for eid, ent in _merge_unique(entities, entity_file, checked, r, problems, "entity").items():
            for i, st in enumerate(ent.statements):
                drafts.append(_Draft(st, eid, r, f"{eid}.statements[{i}]"))

    # statements kept apart (what each seed article asserts)
    for path in _files(data_dir / "statements", "*.yaml"):
        r = rel(path)
        data = _read_yaml(path, r, problems)
        if data is None:
            continue
        if not isinstance(data, list):
            problems.append(f"{r}: expected a list of statements, got {type(data).__name__}")
            continue
        seen_statements.update(_raw_statement_ids([data]))
        try:
            items = _SUBJECT_STATEMENTS.validate_python(data)
            valid = list(enumerate(items))
        except ValidationError as exc:
            problems.extend(_pydantic_lines(exc, r))
            valid = []
            for i, rec in enumerate(data):
                try:
                    valid.append((i, SubjectStatement.model_validate(rec)))
                except ValidationError:
                    continue
        for i, st in valid:
            fields = {k: getattr(st, k) for k in Statement.model_fields}
            drafts.append(_Draft(Statement(**fields), st.subject, r, f"[{i}]"))

    claims: dict[str, Claim] = {}
    path = data_dir / "claims.yaml"
    if path.is_file():
        raw = _mapping_of_records(
            _read_yaml(path, "claims.yaml", problems), "claims.yaml", problems, what="claim", pad_article=True
        )
        seen_claims.update(raw)
        claims = _validate_each(_CLAIMS, raw, "claims.yaml", problems)

    conflicts: dict[str, Conflict] = {}
    path = data_dir / "conflicts.yaml"
    if path.is_file():
        raw = _mapping_of_records(
            _read_yaml(path, "conflicts.yaml", problems), "conflicts.yaml", problems, what="conflict"
        )
        conflicts = _validate_each(_CONFLICTS, raw, "conflicts.yaml", problems)

    # -- referential integrity ------------------------------------------------------------
    if problems.unreadable:  # references into a file that does not parse would all look dangling
        raise DataError(problems)
    first: dict[str, _Draft] = {}
    for d in drafts:
        sid = d.statement.id
        if sid in first:
            o = first[sid]
            problems.append(
                f"{d.origin}: {d.path}.id: duplicate statement id {sid!r} (first in {o.origin}: {o.path})"
            )
        else:
            first[sid] = d

    def dangling(place: str, what: str, value: str, known: set[str], choices: Iterable[str]) -> bool:
        """Report ``value`` at ``place`` unless a ``what`` record has that id; True when reported."""
        if value in known:
            return False
        problems.append(f"{place}: unknown {what} {value!r}{_did_you_mean(value, choices)}")
        return True

    for d in drafts:
        st = d.statement
        at = f"{d.origin}: {d.path}"
        dangling(f"{at}.subject", "entity", d.subject, seen_entities, entities)
        if st.object is not None:
            dangling(f"{at}.object", "entity", st.object, seen_entities, entities)
        for j, ref in enumerate(st.sources):
            dangling(f"{at}.sources[{j}].source", "source", ref.source, seen_sources, sources)
        for key in ENTITY_QUALIFIERS.intersection(st.qualifiers):
            value = st.qualifiers[key]
            values = value if isinstance(value, list) else [value]
            for j, v in enumerate(values):
                where = f"{key}[{j}]" if isinstance(value, list) else key
                if not isinstance(v, str) or v not in seen_entities:
                    problems.append(
                        f"{at}.qualifiers.{where}: unknown entity {v!r}"
                        f"{_did_you_mean(str(v), entities)} (this qualifier names an entity id)"
                    )
        for j, other in enumerate(st.conflicts_with):
            place = f"{at}.conflicts_with[{j}]"
            if not dangling(place, "statement", other, seen_statements, first) and other == st.id:
                problems.append(f"{place}: a statement cannot conflict with itself")
    for cid, claim in claims.items():
        for j, sid in enumerate(claim.statements):
            dangling(f"claims.yaml: {cid}.statements[{j}]", "statement", sid, seen_statements, first)
        for j, ref in enumerate(claim.sources):
            dangling(f"claims.yaml: {cid}.sources[{j}].source", "source", ref.source, seen_sources, sources)
    for kid, conflict in conflicts.items():
        problems.extend(_conflict_problems(conflict))
        for i, pos in enumerate(conflict.positions):
            for j, sid in enumerate(pos.statements):
                place = f"conflicts.yaml: {kid}.positions[{i}].statements[{j}]"
                dangling(place, "statement", sid, seen_statements, first)
        for j, sid in enumerate(conflict.agreed):
            dangling(f"conflicts.yaml: {kid}.agreed[{j}]", "statement", sid, seen_statements, first)
        for j, c in enumerate(conflict.claims):
            dangling(f"conflicts.yaml: {kid}.claims[{j}]", "claim", c, seen_claims, claims)

    # model verdicts (filled by the mechanics / posture analyses)
    verdict_file: dict[str, str] = {}
    for path in _files(data_dir / "model_verdicts", "*.json"):
        r = rel(path)
        try:
            raw_v = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            problems.append(f"{r}: invalid JSON: {exc}")
            continue
        if not isinstance(raw_v, dict):
            problems.append(f"{r}: expected an object claim-id -> verdict, got {type(raw_v).__name__}")
            continue
        for cid, mv in _validate_each(_MODEL_VERDICTS, raw_v, r, problems).items():
            if cid not in seen_claims:
                problems.append(f"{r}: {cid}: unknown claim{_did_you_mean(cid, claims)}")
            elif cid not in claims:
                continue  # the claim itself is invalid and already reported
            elif cid in verdict_file:
                problems.append(f"{r}: {cid}: a model verdict is already given by {verdict_file[cid]}")
            else:
                verdict_file[cid] = r
                claims[cid] = claims[cid].model_copy(update={"model_verdict": mv})

    if problems:
        raise DataError(problems)

    # -- symmetric conflicts --------------------------------------------------------------
    links: dict[str, set[str]] = {sid: set() for sid in first}
    groups: dict[str, set[str]] = {sid: set() for sid in first}
    for d in drafts:
        for other in d.statement.conflicts_with:
            links[d.statement.id].add(other)
            links[other].add(d.statement.id)
    for kid, conflict in conflicts.items():
        for a in conflict.statements:
            groups[a].add(kid)
        for pos in conflict.positions:  # a side conflicts only with the sides it opposes
            for side in conflict.opposed(pos):
                for a in pos.statements:
                    links[a].update(side.statements)

    facts: dict[str, Fact] = {}
    by_subject: dict[str, list[str]] = {}
    by_object: dict[str, list[str]] = {}
    for d in drafts:
        st = d.statement
        facts[st.id] = Fact(
            id=st.id,
            subject=d.subject,
            predicate=st.predicate,
            object=st.object,
            literal=st.literal,
            qualifiers=MappingProxyType(dict(st.qualifiers)),
            sources=tuple(st.sources),
            status=st.status,
            note=st.note,
            conflicts_with=tuple(sorted(links[st.id])),
            conflicts=tuple(sorted(groups[st.id], key=lambda k: int(k[1:]))),
            origin=d.origin,
        )
        by_subject.setdefault(d.subject, []).append(st.id)
        if st.object is not None:
            by_object.setdefault(st.object, []).append(st.id)

    names = _name_index(entities, entity_file, warnings)
    return Atlas(
        entities=MappingProxyType(entities),
        sources=MappingProxyType(sources),
        claims=MappingProxyType(claims),
        conflicts=MappingProxyType(conflicts),
        statements=MappingProxyType(facts),
        data_dir=data_dir,
        warnings=tuple(warnings),
        _by_subject=MappingProxyType({k: tuple(v) for k, v in by_subject.items()}),
        _by_object=MappingProxyType({k: tuple(v) for k, v in by_object.items()}),
        _names=MappingProxyType(names),
    )


def _name_index(
    entities: Mapping[str, Entity], entity_file: Mapping[str, str], warnings: list[str]
) -> dict[str, str]:
    """Map every normalised label to one entity: ids and names (rank 0) beat synonyms (rank 1).

    A label shared by two entities is reported as a warning; the best rank wins, then the entity
    whose id sorts first (a stable, if arbitrary, choice the data engineers should remove).
    """
    claims: dict[str, list[tuple[int, str, str]]] = {}
    for eid in sorted(entities):
        e = entities[eid]
        labels = _labels(e)
        official = labels[: len(labels) - len(e.synonyms)]
        for label in labels:
            key = normalise_name(label)
            if not key:
                continue
            r = 0 if label in official else 1
            claims.setdefault(key, []).append((r, eid, label))
            compact = key.replace(" ", "")
            if compact != key:
                claims.setdefault(compact, []).append((r + 2, eid, label))
    names: dict[str, str] = {}
    for key, options in claims.items():
        options.sort()
        r, eid, _ = options[0]
        preferred = PREFERRED_READINGS.get(key)
        if preferred is not None and any(o_eid == preferred for _, o_eid, _ in options):
            names[key] = preferred  # a documented reading, not a collision
            continue
        names[key] = eid
        others = sorted({(o_eid, o_label) for o_r, o_eid, o_label in options if o_eid != eid and o_r < 2})
        if r < 2 and others:
            for o_eid, o_label in others:
                warnings.append(
                    f"{entity_file[o_eid]}: {o_eid}: {o_label!r} also names {eid!r} "
                    f"({entity_file[eid]}); resolve() picks {eid!r}"
                )
    return names


# ----------------------------------------------------------------------------- cache

_CACHE: dict[Path, Atlas] = {}
_LOCK = threading.Lock()


def load_atlas(data_dir: str | Path | None = None) -> Atlas:
    """Load and validate the atlas (cached per process and folder).

    Parameters
    ----------
    data_dir:
        Folder holding ``sources/``, ``entities/``, ``statements/``, ``claims.yaml``,
        ``conflicts.yaml`` and ``model_verdicts/``. Defaults to the package's own data.

    Raises
    ------
    DataError
        with one line per problem (file, key path, what was expected).
    """
    folder = Path(data_dir).resolve() if data_dir is not None else DATA_DIR
    with _LOCK:
        atlas = _CACHE.get(folder)
        if atlas is None:
            atlas = _load(folder)
            _CACHE[folder] = atlas
    return atlas


def clear_cache() -> None:
    """Forget loaded atlases (tests that edit data files in place)."""
    with _LOCK:
        _CACHE.clear()


def literal_text(lit: Literal) -> str:
    """A literal as short text for tables and pages: ``"33–65 %"``, ``"40 (30–50 mm)"``, ``"2.5 cm"``."""
    unit = f" {lit.unit}" if lit.unit else ""
    if lit.min is not None or lit.max is not None:
        lo = "…" if lit.min is None else f"{lit.min:g}"
        hi = "…" if lit.max is None else f"{lit.max:g}"
        rng = f"{lo}–{hi}{unit}"
        return f"{lit.value} ({rng})" if lit.value is not None else rng
    v = lit.value
    return f"{v:g}{unit}" if isinstance(v, float) else f"{v}{unit}"


def fact_to_dict(f: Fact, *, with_subject: bool = False) -> dict[str, Any]:
    """One fact as a JSON-ready dict (keys documented in docs/cli.md)."""
    d: dict[str, Any] = {"id": f.id}
    if with_subject:
        d["subject"] = f.subject
    d.update(
        predicate=f.predicate.value,
        object=f.object,
        literal=f.literal.model_dump(mode="json", exclude_none=True) if f.literal else None,
        qualifiers=dict(f.qualifiers),
        sources=[s.model_dump(mode="json") for s in f.sources],
        status=f.status.value,
        note=f.note,
        conflicts_with=list(f.conflicts_with),
        conflicts=list(f.conflicts),
    )
    return d
