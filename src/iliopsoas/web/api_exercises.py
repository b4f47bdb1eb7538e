"""``/api/care/exercises``: every care exercise with its figure drawn from our model and the change in
psoas and iliacus fibre length between its start and end positions.

Figures are drawn on first request and then served from the store on disk
(:class:`iliopsoas.care.exercise_figures.FigureStore`).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from iliopsoas.care.exercise_poses import LengthChange, VariantOut

router = APIRouter(prefix="/api/care/exercises", tags=["care"])

MEDIA = {"svg": "image/svg+xml", "png": "image/png"}


class ExerciseOut(BaseModel):
    id: str
    name: str
    kind: str
    muscle: str | None = None
    figure: str | None = Field(description="URL of the model-drawn figure (SVG); null when the exercise has no positions")
    figure_png: str | None = Field(description="the same figure as PNG")
    length_change: LengthChange | None = Field(
        description="psoas and iliacus fibre-length change from start to end, % of optimal fibre length")
    variants: list[VariantOut] = Field(default_factory=list,
                                       description="the same exercise done differently (e.g. the lunge without the tuck)")
    orientation: str | None = None
    note: str | None = None
    warnings: list[str] = Field(default_factory=list)


def _store(request: Request) -> Any:
    try:
        return request.app.state.settings.exercise_figures()
    except Exception as exc:  # broken pose data or model: say what, never a traceback
        raise HTTPException(503, f"the exercise figures cannot be prepared: {exc}") from None


@router.get("", response_model=list[ExerciseOut])
def exercises(request: Request) -> list[ExerciseOut]:
    """Every exercise of the care library with its figure URL and the computed fibre-length change."""
    store = _store(request)
    try:
        analyses = store.analyses()
    except Exception as exc:
        raise HTTPException(503, f"the exercise positions cannot be computed: {exc}") from None
    out = []
    for e in store.library:
        a = analyses.get(str(e["id"]))
        url = f"/api/care/exercises/{e['id']}/figure" if a is not None else None
        out.append(ExerciseOut(
            id=str(e["id"]), name=str(e.get("name", e["id"])), kind=str(e.get("kind", "")), muscle=e.get("muscle"),
            figure=url + ".svg" if url else None, figure_png=url + ".png" if url else None,
            length_change=a.length_change if a else None, variants=a.variants if a else [],
            orientation=a.orientation if a else None, note=a.note if a else "no positions for this exercise yet",
            warnings=a.warnings if a else []))
    return out


@router.get("/{exercise_id}/figure.{fmt}", response_class=FileResponse,
            responses={200: {"content": {"image/svg+xml": {}, "image/png": {}}}, 404: {"description": "unknown exercise"}})
def figure(request: Request, exercise_id: str = Path(..., max_length=100, description="an exercise id"),
           fmt: Literal["svg", "png"] = Path(..., description="svg or png")) -> FileResponse:
    """The exercise's figure: our model posed in its start and end positions, target muscles highlighted."""
    from iliopsoas.care.exercise_figures import FigureError

    store = _store(request)
    if exercise_id not in store.names():
        raise HTTPException(404, f"unknown exercise {exercise_id!r}; see GET /api/care/exercises")
    try:
        path = store.path(exercise_id, fmt)
    except FigureError as exc:
        raise HTTPException(404, str(exc)) from None
    except OSError as exc:
        raise HTTPException(503, f"the figure cannot be written to {store.directory}: {exc.strerror or exc}") from None
    return FileResponse(path, media_type=MEDIA[fmt], headers={"Cache-Control": "max-age=3600"})
