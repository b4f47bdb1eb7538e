"""``/api/atlas/quiz``: study the atlas with flash cards built from its statements, scheduled by FSRS.

A card asks for the object of one statement ("Which nerve supplies the iliacus?") and shows the
statement with its status and sources as the answer. Contradicted statements are left out.
Progress is kept in the care database (:class:`iliopsoas.care.study_log.StudyLog`), one row per
statement; a review is acknowledged only after it is committed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

router = APIRouter(prefix="/api/atlas/quiz", tags=["atlas"])

#: what the quiz covers when no structure is named: the hip-flexor complex
CORE = ("psoas-major", "psoas-minor", "iliacus", "iliopsoas")
PROMPTS = {
    "origin": "Where does the {s} arise (its origin)?",
    "insertion": "Where does the {s} insert?",
    "innervation": "Which nerve supplies the {s}?",
    "blood_supply": "Which vessel supplies the {s}?",
    "crosses_joint": "Which joint does the {s} cross?",
    "action": "Name an action of the {s}.",
    "function": "What does the {s} do, besides moving a joint?",
    "antagonist_of": "Which muscle does the {s} work against?",
    "synergist_of": "Which muscle works with the {s}?",
    "part_of": "What is the {s} part of?",
    "fascial_connection": "Which fascia or structure is the {s} connected to?",
    "adjacent_to": "What lies next to the {s}?",
    "variant": "How common is this variant of the {s}?",
    "associated_condition": "Name a condition linked to the {s}.",
    "intervention": "Name a treatment or exercise used for the {s}.",
    "property": "State a property of the {s}.",
    "located_in": "Where is the {s} found?",
}


class QuizCard(BaseModel):
    statement_id: str
    subject: str
    prompt: str
    answer: str
    detail: str | None = None
    status: str
    sources: list[str] = Field(description="author-year (or publisher) of each source")


class QuizStats(BaseModel):
    cards: int
    studied: int
    due: int
    new: int


class QuizOut(BaseModel):
    card: QuizCard | None = Field(description="the next card to study, or null when nothing is due")
    stats: QuizStats
    scope: list[str]


class ReviewIn(BaseModel):
    statement_id: str = Field(min_length=1, max_length=300)
    rating: int = Field(ge=1, le=4, description="1 again, 2 hard, 3 good, 4 easy")
    entity: str | None = Field(None, max_length=200, description="the structure being studied (default: the hip flexors)")


class ReviewOut(QuizOut):
    saved: dict[str, Any]


def _atlas(request: Request) -> Any:
    from iliopsoas.web.api_atlas import _atlas as atlas_of

    return atlas_of(request)


def _scope(atlas: Any, entity: str | None) -> list[str]:
    from iliopsoas.knowledge import UnknownName

    if not entity:
        return [e for e in CORE if e in atlas.entities]
    try:
        return [atlas.resolve(entity).id]
    except UnknownName:
        raise HTTPException(404, f"entity: unknown name {entity!r}") from None


def _cards(atlas: Any, scope: list[str]) -> dict[str, QuizCard]:
    from iliopsoas.web.api_atlas import fact_out

    out = {}
    for eid in scope:
        name = atlas.entities[eid].name
        for f in atlas.facts_about(eid):
            template = PROMPTS.get(f.predicate.value)
            if template is None or f.status.value == "contradicted":
                continue
            fo = fact_out(atlas, f)
            qual = "; ".join(f"{k.replace('_', ' ')}: {', '.join(map(str, v)) if isinstance(v, list | tuple) else v}"
                             for k, v in fo.qualifiers.items())
            out[f.id] = QuizCard(statement_id=f.id, subject=name, prompt=template.format(s=name), answer=fo.text,
                                 detail="; ".join(x for x in (qual, fo.note or "") if x) or None, status=fo.status,
                                 sources=[s.get("short") or s["source"] for s in fo.sources])
    return out


@contextmanager
def _log(request: Request) -> Iterator[Any]:
    from iliopsoas.care.log import LogError
    from iliopsoas.care.study_log import StudyLog

    try:
        log = StudyLog(request.app.state.settings.db)
    except LogError as exc:
        raise HTTPException(503, str(exc)) from None
    try:
        yield log
    finally:
        log.close()


def _next(log: Any, cards: dict[str, QuizCard], scope: list[str]) -> QuizOut:
    due = log.due(list(cards))
    return QuizOut(card=cards[due[0]] if due else None, stats=QuizStats(**log.stats(list(cards))), scope=scope)


@router.get("", response_model=QuizOut)
def next_card(request: Request, entity: str | None = Query(None, max_length=200,
                                                            description="a structure (default: the hip flexors)")) -> QuizOut:
    """The next card due (new cards after the due ones) and the progress so far."""
    atlas = _atlas(request)
    scope = _scope(atlas, entity)
    cards = _cards(atlas, scope)
    with _log(request) as log:
        return _next(log, cards, scope)


@router.post("/review", response_model=ReviewOut)
def review(request: Request, body: ReviewIn) -> ReviewOut:
    """Save one rating of a card (committed before this answers) and return the next card."""
    from iliopsoas.care.log import LogError

    atlas = _atlas(request)
    scope = _scope(atlas, body.entity)
    cards = _cards(atlas, scope)
    if body.statement_id not in cards:
        raise HTTPException(422, f"statement_id: {body.statement_id!r} is not a quiz card of {', '.join(scope)}")
    with _log(request) as log:
        try:
            saved = log.review(body.statement_id, body.rating)
        except LogError as exc:
            raise HTTPException(503, str(exc)) from None
        nxt = _next(log, cards, scope)
    return ReviewOut(saved=saved, **nxt.model_dump())
