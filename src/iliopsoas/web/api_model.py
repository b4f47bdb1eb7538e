"""``/api/model``: the musculoskeletal model posed by sliders, and live moment-arm curves.

Degrees and centimetres at this edge; the engine works in radians and metres.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, HTTPException, Request

from iliopsoas.web.schemas import (
    CoordinateOut,
    ModelInfo,
    MomentArmIn,
    MomentArmOut,
    MuscleGroupOut,
    PoseIn,
    PoseOut,
)

router = APIRouter(prefix="/api/model", tags=["model"])

PREFERRED_MUSCLES = ("psoas_major_r", "psoas_r", "iliacus_r")
PREFERRED_COORDINATE = "hip_flexion_r"


def _view(request: Request) -> Any:
    try:
        return request.app.state.settings.view()
    except Exception as exc:  # a user-given .osim can fail in many ways; say which, never a traceback
        raise HTTPException(503, f"the model cannot be loaded: {exc}") from None


def _pose(view: Any, coordinates: Mapping[str, float]) -> Any:
    from iliopsoas.web.scene import pose_vector

    for name, deg in coordinates.items():
        if not math.isfinite(deg):
            raise HTTPException(422, f"coordinates.{name}: expected a finite angle in degrees, got {deg}")
    try:
        return pose_vector(view, {k: math.radians(v) for k, v in coordinates.items()})
    except KeyError as exc:
        raise HTTPException(422, f"coordinates: {exc.args[0]}") from None
    except ValueError as exc:
        raise HTTPException(422, f"coordinates: {exc}") from None


@router.get("", response_model=ModelInfo)
def info(request: Request) -> ModelInfo:
    """The model's name, its slider coordinates (degrees) and muscle groups."""
    view = _view(request)
    m = view.model
    coords = [
        CoordinateOut(name=m.coordinates[i].name, min_deg=round(math.degrees(m.coordinates[i].range[0]), 4),
                      max_deg=round(math.degrees(m.coordinates[i].range[1]), 4),
                      default_deg=round(math.degrees(float(m.coordinate_defaults[i])), 4))
        for i in view.sliders
    ]
    groups = [MuscleGroupOut(name=g, fascicles=list(f)) for g, f in view.groups.items()]
    default_muscle = next((g for g in PREFERRED_MUSCLES if g in view.groups), groups[0].name if groups else "")
    names = [c.name for c in coords]
    default_coord = PREFERRED_COORDINATE if PREFERRED_COORDINATE in names else (names[0] if names else "")
    return ModelInfo(name=m.name, source=m.source or "bundled", coordinates=coords, muscles=groups,
                     default_muscle=default_muscle, default_coordinate=default_coord,
                     meshes=sum(len(v) for v in view.meshes.values()))


@router.post("/pose", response_model=PoseOut)
def pose(request: Request, body: PoseIn) -> PoseOut:
    """Bones (segments between joint centres), muscle paths and meshes for one pose, in metres."""
    from iliopsoas.web.scene import muscle_paths, posed_meshes, skeleton

    view = _view(request)
    q = _pose(view, body.coordinates)
    groups = list(view.groups) if body.muscles is None else body.muscles
    unknown = [g for g in groups if g not in view.groups]
    if unknown:
        raise HTTPException(422, f"muscles: unknown muscle(s) {', '.join(map(repr, unknown[:5]))}; see GET /api/model")
    sk = skeleton(view, q)
    return PoseOut(segments=sk["segments"], origins=sk["origins"], muscles=muscle_paths(view, q, groups),
                   meshes=posed_meshes(view, q) if body.meshes else [])


@router.post("/moment-arms", response_model=MomentArmOut)
def moment_arm(request: Request, body: MomentArmIn) -> MomentArmOut:
    """Moment arms of one muscle's fascicles about a coordinate while a coordinate sweeps its range."""
    from iliopsoas.web.scene import moment_arm_sweep

    view = _view(request)
    q = _pose(view, body.coordinates)
    try:
        r = moment_arm_sweep(view, q, body.muscle, body.coordinate, sweep=body.sweep, n_points=body.points)
    except KeyError as exc:
        raise HTTPException(422, str(exc.args[0])) from None
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    current = [round(v * 100.0, 4) for v in r["current"]]
    return MomentArmOut(
        muscle=body.muscle, coordinate=body.coordinate, sweep=body.sweep or body.coordinate,
        sweep_deg=[round(math.degrees(x), 4) for x in r["sweep_values"]], fascicles=r["fascicles"],
        moment_arm_cm=[[round(v * 100.0, 4) for v in row] for row in r["moment_arms"]],
        current_deg=round(math.degrees(r["current_value"]), 4), current_cm=current,
        mean_current_cm=round(sum(current) / len(current), 4) if current else 0.0,
    )
