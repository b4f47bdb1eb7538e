"""The atlas as RDF: an embedded pyoxigraph store, SPARQL, and Turtle / JSON-LD export.

Vocabulary (prefixes are pre-declared in :func:`sparql`, so queries may use them directly)
--------------------------------------------------------------------------------------------
``ent:``  ``https://w3id.org/iliopsoas/entity/<id>``     an entity (``ent:psoas-major``)
``stmt:`` ``https://w3id.org/iliopsoas/statement/<id>``  a statement, reified
``src:``  ``https://w3id.org/iliopsoas/source/<id>``     a source record
``claim:`` ``https://w3id.org/iliopsoas/claim/<id>``     a seed claim
``conflict:`` ``https://w3id.org/iliopsoas/conflict/<id>``  a conflict group
``position:`` ``https://w3id.org/iliopsoas/position/<conflict>-<id>``  one side of a conflict
``ilo:``  ``https://w3id.org/iliopsoas/vocab#``          classes and properties below
``q:``    ``https://w3id.org/iliopsoas/qualifier/``      one property per qualifier key

Entities: ``a ilo:Entity``; ``ilo:kind``, ``ilo:laterality`` (plain strings); ``skos:prefLabel``
(the canonical name, ``@en``); ``skos:altLabel`` (each synonym, ``@en``); ``ilo:latin``;
``dcterms:description`` (summary); ``ilo:mentionedIn`` (``src:seed-00x``); cross-references as
``skos:exactMatch <http://purl.obolibrary.org/obo/UBERON_0001298>`` and
``skos:exactMatch <http://purl.org/sig/ont/fma/fma18060>`` when the id is *confirmed*, and as the
weaker ``ilo:candidateMatch`` when it is only *unconfirmed* (ids not found are not emitted).

Statements: ``a rdf:Statement, ilo:Statement``; ``ilo:id`` (the statement id); ``rdf:subject`` (entity), ``rdf:predicate``
(``ilo:<predicate>``, e.g. ``ilo:insertion``), and either ``rdf:object`` (entity) or
``ilo:value`` / ``ilo:min`` / ``ilo:max`` / ``ilo:unit`` (a literal); ``ilo:status`` (string:
consistent | contradicted | disputed | opinion); ``dcterms:source`` (``src:…``, one per source);
``ilo:citation [ ilo:source src:…; ilo:locator "…" ]`` when a locator is given; ``ilo:note``;
``q:<key>`` for each qualifier (list items as separate triples, mappings as JSON text; the
values of entity-valued keys such as ``q:joint`` are entity IRIs);
``ilo:conflictsWith`` (symmetric, both directions written); ``ilo:inConflict conflict:K…``.
A *consistent* statement with an entity object is also asserted directly
(``ent:psoas-major ilo:insertion ent:lesser-trochanter``), so simple questions need no
reification; contradicted, disputed and opinion statements are only reified, never asserted.

Sources: ``a ilo:Source``; ``dcterms:title``, ``ilo:sourceKind``, ``dcterms:publisher``,
``dcterms:creator``, ``dcterms:date`` (year, xsd:gYear), ``ilo:doi``, ``ilo:url`` (xsd:anyURI).
Claims: ``a ilo:Claim``; ``ilo:article`` ("000"…), ``ilo:text``, ``ilo:verdict``, ``ilo:basis``,
``ilo:asserts stmt:…``, ``dcterms:source``, and ``ilo:modelVerdict [ ilo:verdict; ilo:value;
ilo:unit; ilo:analysis; ilo:note ]``. Conflicts: ``a ilo:Conflict``; ``dcterms:title``,
``ilo:member stmt:…`` (every statement of the conflict), ``ilo:agreed stmt:…`` (the ground every
side accepts), ``ilo:position position:K…-<id>``, ``ilo:aboutClaim claim:…``, ``ilo:resolution``.
Positions (the sides): ``a ilo:Position``; ``ilo:positionId`` (its id within the conflict),
``ilo:order`` (0, 1, … as in the data file), ``rdfs:label`` (``@en``), ``ilo:member stmt:…`` and
``ilo:opposes position:…`` (both directions written). ``ilo:conflictsWith`` joins exactly the
statements of opposed positions, plus the links written on the statements themselves.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal, cast

import pyoxigraph as ox

from iliopsoas.knowledge.schema import IdStatus, SourceRef
from iliopsoas.knowledge.store import ENTITY_QUALIFIERS, Atlas, Fact

BASE = "https://w3id.org/iliopsoas/"
VOCAB = BASE + "vocab#"

#: Prefixes used in exports and pre-declared for SPARQL queries.
PREFIXES: dict[str, str] = {
    "ilo": VOCAB,
    "ent": BASE + "entity/",
    "stmt": BASE + "statement/",
    "src": BASE + "source/",
    "claim": BASE + "claim/",
    "conflict": BASE + "conflict/",
    "position": BASE + "position/",
    "q": BASE + "qualifier/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "obo": "http://purl.obolibrary.org/obo/",
    "fma": "http://purl.org/sig/ont/fma/",
}

Format = Literal["turtle", "jsonld"]
FORMATS: tuple[str, ...] = ("turtle", "jsonld")

__all__ = [
    "BASE",
    "FORMATS",
    "PREFIXES",
    "SparqlError",
    "SparqlRefused",
    "SparqlResult",
    "atlas_store",
    "check_offline",
    "compact_iri",
    "count_triples",
    "export",
    "sparql",
    "term_text",
    "triples",
]


class SparqlError(ValueError):
    """A SPARQL query could not be parsed or is refused; the message is the parser's or says why."""


class SparqlRefused(SparqlError):
    """A well-formed query this program will not run (``SERVICE``: it would reach the network)."""


def _n(prefix: str, local: str) -> ox.NamedNode:
    return ox.NamedNode(PREFIXES[prefix] + local)


RDF_TYPE = _n("rdf", "type")
XSD_INTEGER = _n("xsd", "integer")
XSD_DECIMAL = _n("xsd", "decimal")
XSD_BOOLEAN = _n("xsd", "boolean")


def _text(value: str, lang: str | None = None) -> ox.Literal:
    return ox.Literal(value, language=lang) if lang else ox.Literal(value)


def _value(v: Any) -> ox.Literal:
    """A typed literal for a YAML scalar (bool, int, float, str); anything else as JSON text."""
    if isinstance(v, bool):
        return ox.Literal("true" if v else "false", datatype=XSD_BOOLEAN)
    if isinstance(v, int):
        return ox.Literal(str(v), datatype=XSD_INTEGER)
    if isinstance(v, float):
        return ox.Literal(repr(v), datatype=XSD_DECIMAL)
    if isinstance(v, str):
        return ox.Literal(v)
    return ox.Literal(json.dumps(v, ensure_ascii=False, sort_keys=True, default=str))


def _xref_iri(xid: str) -> ox.NamedNode | None:
    """``UBERON:0001298`` -> OBO PURL; ``FMA:18060`` -> the FMA PURL; other forms -> ``None``."""
    prefix, _, local = xid.partition(":")
    if not local.strip().isdigit():
        return None
    local = local.strip()
    if prefix.upper() == "UBERON":
        return _n("obo", f"UBERON_{local}")
    if prefix.upper() == "FMA":
        return _n("fma", f"fma{local}")
    return None


def _citations(node: ox.NamedNode, refs: tuple[SourceRef, ...] | list[SourceRef]) -> Iterator[ox.Triple]:
    for ref in refs:
        src = _n("src", ref.source)
        yield ox.Triple(node, _n("dcterms", "source"), src)
        if ref.locator:
            b = ox.BlankNode()
            yield ox.Triple(node, _n("ilo", "citation"), b)
            yield ox.Triple(b, _n("ilo", "source"), src)
            yield ox.Triple(b, _n("ilo", "locator"), _text(ref.locator))


def _position_node(conflict_id: str, position_id: str) -> ox.NamedNode:
    return _n("position", f"{conflict_id}-{position_id}")


def _fact_triples(f: Fact) -> Iterator[ox.Triple]:
    s = _n("stmt", f.id)
    subj = _n("ent", f.subject)
    pred = _n("ilo", f.predicate.value)
    yield ox.Triple(s, RDF_TYPE, _n("rdf", "Statement"))
    yield ox.Triple(s, RDF_TYPE, _n("ilo", "Statement"))
    yield ox.Triple(s, _n("ilo", "id"), _text(f.id))
    yield ox.Triple(s, _n("rdf", "subject"), subj)
    yield ox.Triple(s, _n("rdf", "predicate"), pred)
    if f.object is not None:
        obj = _n("ent", f.object)
        yield ox.Triple(s, _n("rdf", "object"), obj)
        if f.status.value == "consistent":
            yield ox.Triple(subj, pred, obj)
    if f.literal is not None:
        lit = f.literal
        if lit.value is not None:
            yield ox.Triple(s, _n("ilo", "value"), _value(lit.value))
        if lit.min is not None:
            yield ox.Triple(s, _n("ilo", "min"), _value(lit.min))
        if lit.max is not None:
            yield ox.Triple(s, _n("ilo", "max"), _value(lit.max))
        if lit.unit is not None:
            yield ox.Triple(s, _n("ilo", "unit"), _text(lit.unit))
    yield ox.Triple(s, _n("ilo", "status"), _text(f.status.value))
    yield from _citations(s, f.sources)
    if f.note:
        yield ox.Triple(s, _n("ilo", "note"), _text(f.note, "en"))
    for key, val in f.qualifiers.items():
        prop = ox.NamedNode(PREFIXES["q"] + "".join(c if c.isalnum() or c in "-_" else "_" for c in str(key)))
        for item in val if isinstance(val, list) else [val]:
            if key in ENTITY_QUALIFIERS and isinstance(item, str):
                yield ox.Triple(s, prop, _n("ent", item))
            else:
                yield ox.Triple(s, prop, _value(item))
    for other in f.conflicts_with:
        yield ox.Triple(s, _n("ilo", "conflictsWith"), _n("stmt", other))
    for kid in f.conflicts:
        yield ox.Triple(s, _n("ilo", "inConflict"), _n("conflict", kid))


def triples(atlas: Atlas) -> Iterator[ox.Triple]:
    """Every triple of the atlas graph (vocabulary in the module docstring)."""
    for e in atlas.entities.values():
        n = _n("ent", e.id)
        yield ox.Triple(n, RDF_TYPE, _n("ilo", "Entity"))
        yield ox.Triple(n, _n("ilo", "kind"), _text(e.kind.value))
        yield ox.Triple(n, _n("ilo", "laterality"), _text(e.laterality.value))
        yield ox.Triple(n, _n("skos", "prefLabel"), _text(e.name, "en"))
        for syn in e.synonyms:
            yield ox.Triple(n, _n("skos", "altLabel"), _text(syn, "en"))
        if e.latin:
            yield ox.Triple(n, _n("ilo", "latin"), _text(e.latin, "la"))
        if e.summary:
            yield ox.Triple(n, _n("dcterms", "description"), _text(e.summary, "en"))
        for key in e.mentioned_in:
            yield ox.Triple(n, _n("ilo", "mentionedIn"), _n("src", f"seed-{key}"))
        for xref in (e.xrefs.uberon, e.xrefs.fma):
            iri = _xref_iri(xref.id) if xref.id else None
            if iri is None:
                continue
            if xref.status is IdStatus.confirmed:
                yield ox.Triple(n, _n("skos", "exactMatch"), iri)
            elif xref.status is IdStatus.unconfirmed:
                yield ox.Triple(n, _n("ilo", "candidateMatch"), iri)
    for f in atlas.statements.values():
        yield from _fact_triples(f)
    for src in atlas.sources.values():
        n = _n("src", src.id)
        yield ox.Triple(n, RDF_TYPE, _n("ilo", "Source"))
        yield ox.Triple(n, _n("dcterms", "title"), _text(src.title))
        yield ox.Triple(n, _n("ilo", "sourceKind"), _text(src.kind.value))
        if src.publisher:
            yield ox.Triple(n, _n("dcterms", "publisher"), _text(src.publisher))
        if src.authors:
            yield ox.Triple(n, _n("dcterms", "creator"), _text(src.authors))
        if src.year is not None:
            yield ox.Triple(n, _n("dcterms", "date"), ox.Literal(str(src.year), datatype=_n("xsd", "gYear")))
        if src.doi:
            yield ox.Triple(n, _n("ilo", "doi"), _text(src.doi))
        if src.url:
            yield ox.Triple(n, _n("ilo", "url"), ox.Literal(src.url, datatype=_n("xsd", "anyURI")))
    for c in atlas.claims.values():
        n = _n("claim", c.id)
        yield ox.Triple(n, RDF_TYPE, _n("ilo", "Claim"))
        yield ox.Triple(n, _n("ilo", "article"), _text(c.article))
        yield ox.Triple(n, _n("ilo", "text"), _text(c.text, "en"))
        yield ox.Triple(n, _n("ilo", "verdict"), _text(c.verdict.value))
        if c.basis:
            yield ox.Triple(n, _n("ilo", "basis"), _text(c.basis, "en"))
        for sid in c.statements:
            yield ox.Triple(n, _n("ilo", "asserts"), _n("stmt", sid))
        yield from _citations(n, c.sources)
        mv = c.model_verdict
        if mv is not None:
            b = ox.BlankNode()
            yield ox.Triple(n, _n("ilo", "modelVerdict"), b)
            yield ox.Triple(b, _n("ilo", "verdict"), _text(mv.verdict.value))
            yield ox.Triple(b, _n("ilo", "analysis"), _text(mv.analysis))
            if mv.value is not None:
                yield ox.Triple(b, _n("ilo", "value"), _value(mv.value))
            if mv.unit:
                yield ox.Triple(b, _n("ilo", "unit"), _text(mv.unit))
            if mv.note:
                yield ox.Triple(b, _n("ilo", "note"), _text(mv.note, "en"))
    for k in atlas.conflicts.values():
        n = _n("conflict", k.id)
        yield ox.Triple(n, RDF_TYPE, _n("ilo", "Conflict"))
        yield ox.Triple(n, _n("dcterms", "title"), _text(k.title, "en"))
        yield ox.Triple(n, _n("ilo", "resolution"), _text(k.resolution, "en"))
        for sid in k.statements:
            yield ox.Triple(n, _n("ilo", "member"), _n("stmt", sid))
        for sid in k.agreed:
            yield ox.Triple(n, _n("ilo", "agreed"), _n("stmt", sid))
        for i, pos in enumerate(k.positions):
            p = _position_node(k.id, pos.id)
            yield ox.Triple(n, _n("ilo", "position"), p)
            yield ox.Triple(p, RDF_TYPE, _n("ilo", "Position"))
            yield ox.Triple(p, _n("ilo", "positionId"), _text(pos.id))
            yield ox.Triple(p, _n("ilo", "order"), _value(i))
            yield ox.Triple(p, _n("rdfs", "label"), _text(pos.label, "en"))
            for sid in pos.statements:
                yield ox.Triple(p, _n("ilo", "member"), _n("stmt", sid))
            for other in k.opposed(pos):
                yield ox.Triple(p, _n("ilo", "opposes"), _position_node(k.id, other.id))
        for cid in k.claims:
            yield ox.Triple(n, _n("ilo", "aboutClaim"), _n("claim", cid))


@lru_cache(maxsize=4)
def atlas_store(atlas: Atlas) -> ox.Store:
    """An in-memory pyoxigraph store holding the atlas graph (built once per atlas).

    Treat it as read-only: it is shared by every caller with the same atlas.
    """
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples(atlas))
    return store


@dataclass(frozen=True)
class SparqlResult:
    """The answer to a query: ``kind`` is ``select``, ``ask`` or ``graph`` (CONSTRUCT/DESCRIBE).

    ``variables`` and ``rows`` (each a mapping variable -> term or ``None`` when unbound) for
    SELECT; ``boolean`` for ASK; ``triples`` for graph queries.
    """

    kind: Literal["select", "ask", "graph"]
    variables: tuple[str, ...] = ()
    rows: tuple[dict[str, Any], ...] = ()
    boolean: bool | None = None
    triples: tuple[ox.Triple, ...] = field(default=())
    truncated: bool = False  # True when ``max_rows`` cut the rows (or triples) short


_STMT_NAME = re.compile(r"(?<![\w:/#])stmt:([a-z0-9-]+(?:\.[a-z0-9-]+)+)")


def _escape_statement_names(query: str) -> str:
    """``stmt:a.b.c`` -> ``stmt:a\\.b\\.c``: pyoxigraph 0.5 rejects a prefixed name with two dots."""
    return _STMT_NAME.sub(lambda m: "stmt:" + m.group(1).replace(".", "\\."), query)


# what a query cannot reach inside: comments, strings, IRIs (a SERVICE there is only text)
_INERT = re.compile("|".join((
    r"#[^\n]*",
    r"'''[\s\S]*?'''",
    r'"""[\s\S]*?"""',
    r"'(?:[^'\\\n]|\\.)*'",
    r'"(?:[^"\\\n]|\\.)*"',
    r"<[^<>\"{}|^`\\\s]*>",
)))
_SERVICE = re.compile(r"(?<![\w?$:])SERVICE\b", re.IGNORECASE)
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def check_offline(query: str) -> None:
    """Refuse a query that would reach the network: ``SERVICE`` sends part of it to another endpoint."""
    # SPARQL decodes \u + 4 hex digits and \U + 8 hex digits anywhere in the query before parsing: so do we
    decoded = _CODEPOINT.sub(lambda m: chr(min(int(m.group(1) or m.group(2), 16), 0x10FFFF)), query)
    if _SERVICE.search(_INERT.sub(" ", decoded)):
        raise SparqlRefused("SERVICE is refused: queries run offline over the local atlas only "
                          "(remove the SERVICE clause)")


def sparql(store: ox.Store, query: str, *, max_rows: int | None = None) -> SparqlResult:
    """Run a SPARQL 1.1 query; the prefixes of :data:`PREFIXES` need no declaration.

    Statement names may be written as ids (``stmt:psoas-major.origin.t12-l4-bodies``): their
    dots are escaped before parsing. Raises :class:`SparqlError` with the parser's message when
    the query is malformed, and refuses ``SERVICE`` (it would make a network request). At most
    ``max_rows`` rows or triples are read (``truncated`` says when more were there). For a bound
    on time too, run it with :func:`iliopsoas.knowledge.bounded_sparql.run_bounded`.
    """
    if not isinstance(query, str) or not query.strip():
        raise SparqlError("the query is empty")
    check_offline(query)
    try:
        res = store.query(_escape_statement_names(query), prefixes=PREFIXES)
    except SyntaxError as exc:
        raise SparqlError(str(exc)) from None
    if isinstance(res, ox.QueryBoolean):
        return SparqlResult(kind="ask", boolean=bool(res))
    if isinstance(res, ox.QueryTriples):
        triples, cut = _take(res, max_rows)
        return SparqlResult(kind="graph", triples=tuple(triples), truncated=cut)
    sols = cast(ox.QuerySolutions, res)
    names = tuple(v.value for v in sols.variables)
    found, cut = _take(sols, max_rows)
    rows = tuple({name: sol[name] for name in names} for sol in found)
    return SparqlResult(kind="select", variables=names, rows=rows, truncated=cut)


def _take(items: Any, limit: int | None) -> tuple[list[Any], bool]:
    """The first ``limit`` items of a lazy iterator (all when None) and whether more were left."""
    out: list[Any] = []
    for item in items:
        if limit is not None and len(out) >= limit:
            return out, True
        out.append(item)
    return out, False


def compact_iri(iri: str) -> str:
    """``https://w3id.org/iliopsoas/entity/psoas-major`` -> ``ent:psoas-major`` (else unchanged)."""
    best = ""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(ns) > len(PREFIXES.get(best, "")):
            best = prefix
    return f"{best}:{iri[len(PREFIXES[best]) :]}" if best else iri


def term_text(term: Any, *, compact: bool = False) -> str | None:
    """A term as plain text: an IRI string (optionally compacted), a literal's lexical value, ``_:b``."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return compact_iri(term.value) if compact else term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Literal):
        return str(term.value)
    return str(term)


def export(atlas: Atlas, fmt: Format | str) -> bytes:
    """The atlas graph serialised as Turtle (``"turtle"``) or JSON-LD (``"jsonld"``).

    JSON-LD is pyoxigraph's expanded serialisation wrapped with an ``@context`` that declares
    the prefixes of :data:`PREFIXES` (so tools can compact it; the triples are unchanged).
    """
    store = atlas_store(atlas)
    if fmt == "turtle":
        return cast(
            bytes, store.dump(format=ox.RdfFormat.TURTLE, from_graph=ox.DefaultGraph(), prefixes=PREFIXES)
        )
    if fmt == "jsonld":
        raw = store.dump(format=ox.RdfFormat.JSON_LD, from_graph=ox.DefaultGraph())
        doc = {"@context": dict(PREFIXES), "@graph": json.loads(cast(bytes, raw))}
        return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
    raise ValueError(f"format: expected one of {', '.join(FORMATS)}, got {fmt!r}")


def count_triples(data: bytes | str, fmt: Format | str) -> int:
    """How many triples a Turtle or JSON-LD document holds (used to check export round trips)."""
    rdf_format = {"turtle": ox.RdfFormat.TURTLE, "jsonld": ox.RdfFormat.JSON_LD}.get(fmt)
    if rdf_format is None:
        raise ValueError(f"format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    store = ox.Store()
    store.load(data, format=rdf_format)
    return len(store)
