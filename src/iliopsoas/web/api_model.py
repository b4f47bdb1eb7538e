"""``/api/model``: the musculoskeletal model posed by sliders, and live moment-arm curves.

Degrees and centimetres at this edge; the engine works in radians and metres.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, HTTPException, Request

from iliopsoas.web.schemas import (
    BandOut,
    CoordinateOut,
    CurvesIn,
    CurvesOut,
    MeshOut,
    ModelInfo,
    MomentArmIn,
    MomentArmOut,
    MuscleGroupOut,
    OsimUploadIn,
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
    """The model's name, its slider coordinates (degrees), muscle groups and bone meshes, with anatomical labels."""
    from iliopsoas.models.labels import body_label, coordinate_label, muscle_label
    from iliopsoas.web.scene import QUANTITIES, bounds, pose_vector

    view = _view(request)
    m = view.model
    coords = [
        CoordinateOut(name=m.coordinates[i].name, min_deg=round(math.degrees(m.coordinates[i].range[0]), 4),
                      max_deg=round(math.degrees(m.coordinates[i].range[1]), 4),
                      default_deg=round(math.degrees(float(m.coordinate_defaults[i])), 4),
                      label=coordinate_label(m.coordinates[i].name))
        for i in view.sliders
    ]
    groups = [MuscleGroupOut(name=g, fascicles=list(f), label=muscle_label(g), fascicle_labels=[muscle_label(x) for x in f])
              for g, f in view.groups.items()]
    default_muscle = next((g for g in PREFERRED_MUSCLES if g in view.groups), groups[0].name if groups else "")
    names = [c.name for c in coords]
    default_coord = PREFERRED_COORDINATE if PREFERRED_COORDINATE in names else (names[0] if names else "")
    settings = request.app.state.settings
    meshes = [MeshOut(body=b, label=body_label(b), vertices=len(mesh.vertices), faces=len(mesh.faces))
              for b, ms in view.meshes.items() for mesh in ms]
    if settings.geometry is not None:
        source = f"the --geometry folder {settings.geometry.name}"
    elif meshes:
        source = "bone meshes shipped with iliopsoas: Pose2Sim (BSD-3-Clause), simplified"
    else:
        source = "none: bones drawn as segments between joint centres"
    return ModelInfo(name=m.name, source=m.source or "bundled", coordinates=coords, muscles=groups,
                     default_muscle=default_muscle, default_coordinate=default_coord,
                     meshes=len(meshes), mesh_source=source, bone_meshes=meshes,
                     bounds_m=bounds(view, pose_vector(view, {})), quantities=list(QUANTITIES),
                     loaded_file=settings.cache.get("uploaded-name") if settings.uploaded() else None)


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


@router.post("/curves", response_model=CurvesOut)
def curves(request: Request, body: CurvesIn) -> CurvesOut:
    """Moment arm, length, fibre length, passive or active force of one muscle's fascicles over a coordinate's
    range, with published curves for the same muscle and joint where we have them."""
    from iliopsoas.models.labels import coordinate_label, muscle_label
    from iliopsoas.web.literature import bands_for
    from iliopsoas.web.scene import quantity_sweep

    view = _view(request)
    q = _pose(view, body.coordinates)
    try:
        r = quantity_sweep(view, q, body.muscle, body.quantity, body.coordinate, sweep=body.sweep, exact=body.exact,
                           activation=body.activation, n_points=body.points)
    except KeyError as exc:
        raise HTTPException(422, str(exc.args[0])) from None
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    except TypeError as exc:  # a model without muscle parameters
        raise HTTPException(422, f"quantity {body.quantity}: {exc}") from None

    def clean(v: float) -> float | None:
        return round(float(v), 4) if math.isfinite(v) else None

    import numpy as np

    values = np.asarray(r["values"], dtype=float)
    current = np.asarray(r["current"], dtype=float)
    agg = (np.nanmean if r["aggregate"] == "mean" else np.nansum)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            aggregate = agg(values, axis=1)
            current_agg = float(agg(current)) if current.size else float("nan")
    sweep = body.sweep or body.coordinate
    if body.quantity == "moment_arm":
        method = "exact -dL/dq (central difference)" if body.exact else "OpenSim computeMomentArm"
        bands = [BandOut(**b) for b in bands_for(body.muscle, body.coordinate)] if sweep == body.coordinate else []
    else:
        method = {"length": "muscle-tendon path length", "fiber_length": "fibre length of the relaxed muscle",
                  "passive_force": "relaxed muscle (minimum activation), force along the tendon",
                  "active_force": f"active fibre force along the tendon at activation {body.activation:g}"}[body.quantity]
        bands = []
    return CurvesOut(
        muscle=body.muscle, muscle_label=muscle_label(body.muscle), quantity=body.quantity, unit=r["unit"],
        method=method, coordinate=body.coordinate, coordinate_label=coordinate_label(body.coordinate), sweep=sweep,
        sweep_label=coordinate_label(sweep), sweep_deg=[round(math.degrees(x), 4) for x in r["sweep_values"]],
        fascicles=r["fascicles"], fascicle_labels=[muscle_label(f) for f in r["fascicles"]],
        values=[[clean(v) for v in row] for row in values], aggregate=r["aggregate"],
        aggregate_values=[clean(v) for v in aggregate], current_deg=round(math.degrees(r["current_value"]), 4),
        current=[clean(v) for v in current], current_aggregate=clean(current_agg), bands=bands)


MAX_OSIM_BYTES = 10_000_000


@router.post("/osim", response_model=ModelInfo)
def load_osim_text(request: Request, body: OsimUploadIn) -> ModelInfo:
    """Show another OpenSim model (the text of an ``.osim`` file, at most 10 MB) on the Model page."""
    import os
    import tempfile

    from iliopsoas.mechanics import OsimError, load_osim

    size = len(body.text.encode("utf-8"))
    if size > MAX_OSIM_BYTES:
        raise HTTPException(413, f"{body.filename}: {size:,} bytes is more than the {MAX_OSIM_BYTES:,} bytes allowed")
    if not body.filename.lower().endswith(".osim"):
        raise HTTPException(422, f"filename: expected an .osim file, got {body.filename!r}")
    fd, tmp = tempfile.mkstemp(prefix="iliopsoas-upload-", suffix=".osim")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(body.text)
        try:
            model = load_osim(tmp, strict=False)
        except OsimError as exc:
            raise HTTPException(422, f"{body.filename}: {str(exc).replace(tmp, body.filename)}") from None
        except Exception as exc:  # the loader may meet anything in a user's file: say so, never a traceback
            raise HTTPException(422, f"{body.filename}: cannot be read as an OpenSim model ({type(exc).__name__}: {exc})") from None
    finally:
        os.unlink(tmp)
    request.app.state.settings.use_model(model, body.filename)
    return info(request)


@router.delete("/osim", response_model=ModelInfo)
def reset_model(request: Request) -> ModelInfo:
    """Go back to the model the app started with (the bundled lumbopelvic model unless ``--osim``)."""
    request.app.state.settings.use_model(None, None)
    return info(request)
