"""``/api/atlas``: search and browse the atlas; every fact with its sources, status and conflicts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request

from iliopsoas.web.schemas import (
    ConflictOut,
    EntityBrief,
    EntityOut,
    FactOut,
    PositionOut,
    SourceBrief,
    SparqlIn,
    SparqlOut,
)

router = APIRouter(prefix="/api/atlas", tags=["atlas"])

KINDS_DOC = "an entity kind, e.g. muscle, bone, joint, nerve"


def _atlas(request: Request) -> Any:
    from iliopsoas.knowledge import DataError

    try:
        return request.app.state.settings.atlas()
    except DataError as exc:
        raise HTTPException(503, f"the atlas data is broken ({len(exc.problems)} problem(s)): {exc.problems[0]}") from None


#: words that mark a parenthesis in a source title as our own note, not part of the title
_NOTE_WORDS = ("descriptive", "subtitle", "main title", "left out", "see the", "citing", "quoting", "summary of",
               "summarising")


def title_parts(title: str) -> tuple[str, str | None]:
    """``(title, form)``: a trailing parenthesis is split off; it is dropped when it is our own note
    ("descriptive", "main title; subtitle left out") and kept as the text's form otherwise
    ("encyclopaedia entry")."""
    import re

    m = re.match(r"^(?P<t>.*\S)\s*\((?P<n>[^()]*)\)\s*$", title)
    if m is None:
        return title, None
    note = m["n"].strip()
    if any(w in note.lower() for w in _NOTE_WORDS):
        kept = [part.strip() for part in re.split(r"[;,]", note)
                if part.strip() and not any(w in part.lower() for w in _NOTE_WORDS)]
        return m["t"], ", ".join(kept) or None
    return m["t"], note


def source_brief(sid: str, src: Any) -> SourceBrief:
    """One source for the page: clean title, author-year, full citation and link (knowledge.citation)."""
    from iliopsoas.knowledge.citation import cite, link, short_cite

    title, form = title_parts(src.title)
    clean = src.model_copy(update={"title": title}) if hasattr(src, "model_copy") else src
    return SourceBrief(id=sid, title=title, kind=src.kind.value, year=src.year, url=src.url, short=short_cite(clean),
                       cite=cite(clean), link=link(clean), form=form)


def fact_out(atlas: Any, f: Any) -> FactOut:
    from iliopsoas.knowledge.store import fact_to_dict, literal_text

    d = fact_to_dict(f, with_subject=True)
    subj = atlas.entities.get(f.subject)
    obj = atlas.entities.get(f.object) if f.object else None
    text = obj.name if obj is not None else (f.object or (literal_text(f.literal) if f.literal else ""))
    sources = []
    for s in d["sources"]:
        src = atlas.sources.get(s["source"])
        brief = source_brief(s["source"], src) if src else None
        sources.append({**s, "title": brief.title if brief else None, "short": brief.short if brief else s["source"]})
    return FactOut(
        id=d["id"], subject=d["subject"], subject_name=subj.name if subj else f.subject, predicate=d["predicate"],
        object=d["object"], object_name=obj.name if obj else None, text=text, qualifiers=d["qualifiers"],
        sources=sources, status=d["status"], note=d["note"], conflicts_with=d["conflicts_with"],
        conflicts=d["conflicts"],
    )


def _conflict_out(atlas: Any, cid: str) -> ConflictOut:
    c = atlas.conflicts[cid]
    facts = [fact_out(atlas, atlas.statements[s]) for s in c.statements if s in atlas.statements]
    positions = [
        PositionOut(id=p.id, label=p.label, statements=list(p.statements), opposes=[o.id for o in c.opposed(p)])
        for p in c.positions
    ]
    return ConflictOut(id=c.id, title=c.title, resolution=c.resolution, claims=list(c.claims), positions=positions,
                       agreed=list(c.agreed), statements=facts)


@router.get("/search", response_model=list[EntityBrief])
def search(request: Request, q: str = Query(..., min_length=1, max_length=200, description="words to look for"),
           limit: int = Query(10, ge=1, le=100)) -> list[EntityBrief]:
    """Entities ranked by how well ``q`` matches their names, synonyms, Latin name or summary."""
    atlas = _atlas(request)
    return [EntityBrief(id=e.id, name=e.name, kind=e.kind.value, score=s) for e, s in atlas.search(q, limit=limit)]


@router.get("/entities", response_model=list[EntityBrief])
def entities(request: Request, kind: str | None = Query(None, max_length=50, description=KINDS_DOC)) -> list[EntityBrief]:
    """Every entity (optionally of one kind), sorted by name."""
    from iliopsoas.knowledge.schema import Kind

    atlas = _atlas(request)
    if kind is not None and kind not in {k.value for k in Kind}:
        raise HTTPException(422, f"kind: unknown kind {kind!r}; expected one of {', '.join(k.value for k in Kind)}")
    return [EntityBrief(id=e.id, name=e.name, kind=e.kind.value) for e in atlas.entities_of_kind(kind)]


@router.get("/entities/{name}", response_model=EntityOut, responses={404: {"description": "unknown name"}})
def entity(request: Request, name: str) -> EntityOut:
    """One entity by id, name or synonym (typo tolerant): its facts, the facts that mention it, conflicts."""
    from iliopsoas.knowledge import UnknownName

    atlas = _atlas(request)
    if not name.strip() or len(name) > 200:
        raise HTTPException(422, "name: expected 1-200 characters")
    try:
        e = atlas.resolve(name)
    except UnknownName as exc:
        hint = f"; closest: {', '.join(exc.suggestions)}" if exc.suggestions else ""
        raise HTTPException(404, f"unknown name {name!r}{hint}") from None
    about = atlas.facts_about(e.id)
    mentioning = atlas.facts_mentioning(e.id)
    conflict_ids = sorted({c for f in (*about, *mentioning) for c in f.conflicts}, key=lambda c: int(c[1:]))
    facts = [fact_out(atlas, f) for f in about]
    mentioned = [fact_out(atlas, f) for f in mentioning]
    conflicts = [_conflict_out(atlas, c) for c in conflict_ids if c in atlas.conflicts]
    src_ids = {s["source"] for f in (*facts, *mentioned) for s in f.sources}
    src_ids |= {s["source"] for c in conflicts for f in c.statements for s in f.sources}
    sources = {sid: source_brief(sid, src) for sid in sorted(src_ids) if (src := atlas.sources.get(sid)) is not None}
    return EntityOut(id=e.id, name=e.name, kind=e.kind.value, latin=e.latin, summary=e.summary,
                     synonyms=list(e.synonyms), laterality=e.laterality.value, facts=facts, mentioned_by=mentioned,
                     conflicts=conflicts, sources=sources)


@router.get("/conflicts", response_model=list[ConflictOut])
def conflicts(request: Request) -> list[ConflictOut]:
    """Every group of statements that disagree, with the resolution we adopted."""
    atlas = _atlas(request)
    return [_conflict_out(atlas, c) for c in sorted(atlas.conflicts, key=lambda c: int(c[1:]))]


@router.get("/counts")
def counts(request: Request) -> dict[str, Any]:
    """Sizes of the atlas (entities, statements, sources, claims by verdict, conflicts)."""
    result: dict[str, Any] = _atlas(request).counts()
    return result


@router.get("/entities/{name}/where")
def where(request: Request, name: str) -> dict[str, Any]:
    """Where the structure is in our model: the bundled model at its neutral pose with the structure's
    muscles, bones or joints marked (``in_model`` false when the model does not have it)."""
    from iliopsoas.knowledge import UnknownName
    from iliopsoas.web.atlas_where import scene

    atlas = _atlas(request)
    if not name.strip() or len(name) > 200:
        raise HTTPException(422, "name: expected 1-200 characters")
    try:
        e = atlas.resolve(name)
    except UnknownName:
        raise HTTPException(404, f"unknown name {name!r}") from None
    try:
        view = request.app.state.settings.posture_view()
    except Exception as exc:  # the model is optional for the atlas: say so
        raise HTTPException(503, f"the model cannot be loaded: {exc}") from None
    return scene(e.id, view)


@router.post("/sparql", response_model=SparqlOut, responses={422: {"description": "malformed, refused (SERVICE) "
                                                                                  "or over its time bound"}})
def sparql(request: Request, body: SparqlIn) -> SparqlOut:
    """Run a read-only SPARQL 1.1 query over the atlas graph (the CLI's prefixes are predeclared).

    Offline and bounded: ``SERVICE`` is refused, the query is stopped after ``timeout_s`` seconds and
    at most ``max_rows`` results are returned (``truncated`` says when there were more).
    """
    from iliopsoas.knowledge.bounded_sparql import run_bounded
    from iliopsoas.knowledge.rdf import SparqlError, atlas_store, term_text

    settings = request.app.state.settings
    store = settings.cache.get("atlas-store")
    if store is None:
        store = settings.cache["atlas-store"] = atlas_store(_atlas(request))
    try:
        res = run_bounded(store, body.query, timeout_s=body.timeout_s, max_rows=body.max_rows)
    except SparqlError as exc:
        raise HTTPException(422, f"query: {exc}") from None
    return SparqlOut(
        kind=res.kind,
        variables=list(res.variables),
        rows=[{v: term_text(row[v]) for v in res.variables} for row in res.rows],
        boolean=res.boolean,
        triples=[[term_text(t.subject) or "", term_text(t.predicate) or "", term_text(t.object) or ""]
                 for t in res.triples],
        truncated=res.truncated,
    )
