"""Exercises as positions of our lumbopelvic model, and what they do to psoas and iliacus length.

``data/exercise_poses.yaml`` gives each exercise of ``data/exercises.yaml`` a start and an end
position in anatomical angles (pelvic tilt, trunk lean, thigh angles, knees). This module turns
them into model poses (the lumbar spine, driven through the model's lumbar rhythm, keeps the trunk
at its lean) and computes, with the mechanics engine's public functions, the change of every psoas
and iliacus fascicle's fibre length between start and end in % of its optimal fibre length.

>>> from iliopsoas.care.exercise_poses import analyse  # doctest: +SKIP
>>> a = analyse("kneeling-lunge-stretch")              # doctest: +SKIP
>>> a.length_change.psoas_pct, a.variants[0].length_change.psoas_pct  # doctest: +SKIP

Angles are degrees in the data and in the results; radians inside. Poses are built for one model
description at a time (:class:`ExerciseModel`, explicit, no module caches besides the shared
immutable model that :func:`iliopsoas.models.load` returns).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
import yaml
from numpy.typing import NDArray
from pydantic import BaseModel, Field

Array = NDArray[np.float64]

POSE_KEYS = ("pelvis_tilt", "trunk", "thigh_r", "thigh_l", "knee_r", "knee_l", "adduction_r", "adduction_l",
             "rotation_r", "rotation_l")
ORIENTATIONS = {"upright": 0.0, "supine": 90.0, "prone": -90.0}
VIEWS = ("sagittal", "frontal")
#: the muscle groups whose fibre lengths every exercise reports (group stems; the side is added)
REPORTED = ("psoas_major", "iliacus", "psoas_minor")
MOST_STRETCHED = 3


class PoseError(ValueError):
    """The exercise-pose data is malformed (the message names the exercise and the key)."""


@dataclass(frozen=True)
class Variant:
    id: str
    label: str
    end: Mapping[str, float]
    title: str = ""


@dataclass(frozen=True)
class ExercisePose:
    """One exercise's positions (anatomical degrees) and how to draw them."""

    id: str
    side: str
    orientation: str
    view: str
    targets: tuple[str, ...]
    note: str
    start: Mapping[str, float]
    end: Mapping[str, float]
    variants: tuple[Variant, ...] = ()
    tool: Mapping[str, Any] | None = None

    def end_of(self, variant: str | None) -> dict[str, float]:
        """The end position, with a variant's changes applied."""
        if variant is None:
            return dict(self.end)
        for v in self.variants:
            if v.id == variant:
                return {**self.end, **v.end}
        raise KeyError(f"exercise {self.id!r} has no variant {variant!r}")


def _angles(where: str, raw: Any) -> dict[str, float]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise PoseError(f"{where}: expected a mapping of angles (deg), got {type(raw).__name__}")
    out = {}
    for k, v in raw.items():
        if k not in POSE_KEYS:
            raise PoseError(f"{where}: unknown key {k!r}; expected one of {', '.join(POSE_KEYS)}")
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise PoseError(f"{where}.{k}: expected a finite angle in degrees, got {v!r}")
        out[k] = float(v)
    return out


def parse_poses(data: Any, *, source: str = "exercise_poses.yaml") -> dict[str, ExercisePose]:
    """Validate the pose data (the parsed YAML) into :class:`ExercisePose` objects by exercise id."""
    if not isinstance(data, Mapping) or not isinstance(data.get("exercises"), Mapping):
        raise PoseError(f"{source}: expected a mapping with an 'exercises' mapping")
    out = {}
    for ex_id, raw in data["exercises"].items():
        where = f"{source}: exercises.{ex_id}"
        if not isinstance(raw, Mapping):
            raise PoseError(f"{where}: expected a mapping")
        side = raw.get("side", "r")
        orientation = raw.get("orientation", "upright")
        view = raw.get("view", "sagittal")
        if side not in ("r", "l"):
            raise PoseError(f"{where}.side: expected 'r' or 'l', got {side!r}")
        if orientation not in ORIENTATIONS:
            raise PoseError(f"{where}.orientation: expected one of {', '.join(ORIENTATIONS)}, got {orientation!r}")
        if view not in VIEWS:
            raise PoseError(f"{where}.view: expected one of {', '.join(VIEWS)}, got {view!r}")
        targets = raw.get("targets") or []
        if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
            raise PoseError(f"{where}.targets: expected a list of muscle group names")
        variants = []
        for k, v in enumerate(raw.get("variants") or []):
            if not isinstance(v, Mapping) or not isinstance(v.get("id"), str) or not isinstance(v.get("label"), str):
                raise PoseError(f"{where}.variants[{k}]: expected a mapping with 'id', 'label' and 'end'")
            variants.append(Variant(v["id"], v["label"], _angles(f"{where}.variants[{k}].end", v.get("end")),
                                    str(v.get("title") or v["id"])))
        tool = raw.get("tool")
        if tool is not None and (not isinstance(tool, Mapping) or not isinstance(tool.get("muscle"), str)
                                 or not 0.0 <= float(tool.get("fraction", 0.5)) <= 1.0):
            raise PoseError(f"{where}.tool: expected {{muscle: group, fraction: 0-1}}")
        out[str(ex_id)] = ExercisePose(
            id=str(ex_id), side=side, orientation=orientation, view=view, targets=tuple(targets),
            note=str(raw.get("note") or ""), start=_angles(f"{where}.start", raw.get("start")),
            end=_angles(f"{where}.end", raw.get("end")), variants=tuple(variants), tool=tool)
    return out


def load_poses() -> dict[str, ExercisePose]:
    """The shipped exercise positions (``care/data/exercise_poses.yaml``)."""
    text = resources.files("iliopsoas.care").joinpath("data", "exercise_poses.yaml").read_text(encoding="utf-8")
    return parse_poses(yaml.safe_load(text))


def load_exercise_library() -> list[dict[str, Any]]:
    """The exercise library (``care/data/exercises.yaml``) as plain dicts, in program order."""
    text = resources.files("iliopsoas.care").joinpath("data", "exercises.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    return list(data.get("exercises") or [])


# ---------------------------------------------------------------------------------------------
# results (one pydantic model per result: the API and any CLI --json share them)
# ---------------------------------------------------------------------------------------------


class FascicleChange(BaseModel):
    name: str = Field(description="the model's fascicle name")
    label: str = Field(description="anatomical label, e.g. 'Psoas major, L3 transverse-process fascicle (right)'")
    start_pct: float = Field(description="fibre length at the start, % of optimal fibre length")
    end_pct: float = Field(description="fibre length at the end, % of optimal fibre length")
    pct: float = Field(description="end minus start, percentage points of optimal fibre length (+ = stretched)")


class LengthChange(BaseModel):
    psoas_pct: float = Field(description="mean change of the psoas major fascicles' fibre length, % of optimal")
    iliacus_pct: float = Field(description="mean change of the iliacus fascicles' fibre length, % of optimal")
    psoas_minor_pct: float | None = Field(None, description="psoas minor (when the model has it), % of optimal")
    targets: dict[str, float] = Field(default_factory=dict,
                                      description="mean change of each target muscle group of the exercise, % of optimal")
    most_stretched: list[FascicleChange] = Field(
        description=f"the {MOST_STRETCHED} psoas/iliacus fascicles whose fibres lengthen most (or shorten least)")
    most_shortened: list[FascicleChange] = Field(
        description=f"the {MOST_STRETCHED} psoas/iliacus fascicles whose fibres shorten most (or lengthen least)")
    fascicles: list[FascicleChange] = Field(description="every psoas major, psoas minor and iliacus fascicle")
    side: str = Field(description="'right' or 'left': the leg the numbers are about")


class VariantOut(BaseModel):
    id: str
    label: str
    length_change: LengthChange


class ExerciseAnalysis(BaseModel):
    id: str
    side: str
    orientation: str
    view: str
    targets: list[str]
    note: str
    start_deg: dict[str, float] = Field(description="model coordinates at the start (deg; translations in m)")
    end_deg: dict[str, float] = Field(description="model coordinates at the end (deg)")
    length_change: LengthChange
    variants: list[VariantOut] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list, description="e.g. a trunk angle the lumbar range could not reach")


# ---------------------------------------------------------------------------------------------
# poses
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExerciseModel:
    """The model the exercises are posed on, with the index tables the poses need (built once)."""

    model: Any
    groups: Mapping[str, tuple[str, ...]]
    lumbar_grid: Array = field(repr=False)  # (k,) L5_S1_flex_ext values, rad
    trunk_gain: Array = field(repr=False)  # (k,) torso rotation relative to the pelvis at those values, rad

    @classmethod
    def bundled(cls) -> ExerciseModel:
        from iliopsoas import models

        return cls.of(models.load("lumbopelvic"), models.groups("lumbopelvic"))

    @classmethod
    def of(cls, model: Any, groups: Mapping[str, Sequence[str]]) -> ExerciseModel:
        from iliopsoas.mechanics import body_transforms

        i = model.coordinate_index("L5_S1_flex_ext")
        lo, hi = model.coordinates[i].range
        grid = np.linspace(lo, hi, 121)
        q = np.repeat(np.asarray(model.coordinate_defaults, dtype=float)[None, :], len(grid), axis=0)
        q[:, model.coordinate_index("pelvis_tilt")] = 0.0
        q[:, i] = grid
        R, _ = body_transforms(model, q)
        t = model.body_index("torso")
        gain = np.arctan2(R[:, t, 1, 0], R[:, t, 0, 0])
        return cls(model, {g: tuple(f) for g, f in groups.items()}, grid, gain)

    def q(self, angles: Mapping[str, float], orientation: str = "upright") -> tuple[Array, list[str]]:
        """``(n_coordinates,)`` model pose for anatomical ``angles`` (deg), and warnings (clipped values)."""
        m = self.model
        q = np.array(m.coordinate_defaults, dtype=float)
        warnings: list[str] = []
        tilt = angles.get("pelvis_tilt", 0.0)  # + anterior; the model's pelvis_tilt is + posterior

        def put(name: str, deg: float) -> None:
            i = m.coordinate_index(name)
            lo, hi = m.coordinates[i].range
            v = math.radians(deg)
            if not lo - 1e-9 <= v <= hi + 1e-9:
                raise PoseError(f"{name} = {deg:.1f} deg is outside the model's range "
                                f"{math.degrees(lo):.1f} to {math.degrees(hi):.1f} deg")
            q[i] = v

        put("pelvis_tilt", ORIENTATIONS[orientation] - tilt)
        for s in ("r", "l"):
            put(f"hip_flexion_{s}", angles.get(f"thigh_{s}", 0.0) + tilt)
            put(f"knee_angle_{s}", angles.get(f"knee_{s}", 0.0))
            put(f"hip_adduction_{s}", angles.get(f"adduction_{s}", 0.0))
            put(f"hip_rotation_{s}", angles.get(f"rotation_{s}", 0.0))
        # the trunk keeps its lean: torso rotation relative to the pelvis = -(lean) - (pelvis rotation)
        want = math.radians(-angles.get("trunk", 0.0) + tilt)
        order = np.argsort(self.trunk_gain)
        g, x = self.trunk_gain[order], self.lumbar_grid[order]
        if not g[0] - 1e-9 <= want <= g[-1] + 1e-9:
            warnings.append(f"the lumbar spine cannot reach a trunk lean of {angles.get('trunk', 0.0):.0f} deg with "
                            f"the pelvis at {tilt:.0f} deg; it stops at the end of its range")
        q[self.model.coordinate_index("L5_S1_flex_ext")] = float(np.interp(want, g, x))
        return q, warnings

    def fascicles(self, side: str) -> list[str]:
        return [f for g in REPORTED for f in self.groups.get(f"{g}_{side}", ())]


def _side_word(side: str) -> str:
    return "right" if side == "r" else "left"


def fibre_lengths(em: ExerciseModel, Q: Array, muscles: Sequence[str]) -> Array:
    """Normalised fibre lengths ``(n_poses, n_muscles)`` of ``muscles`` at poses ``Q``, relaxed (passive)."""
    from iliopsoas.mechanics.forces import muscle_forces

    state = muscle_forces(em.model, Q, 0.0, muscles=list(muscles))
    return np.asarray(state.normalized_fiber_length, dtype=float)


def _length_change(em: ExerciseModel, ex: ExercisePose, start: Array, end: Array, names: list[str]) -> LengthChange:
    from iliopsoas.models.labels import muscle_label

    s = ex.side
    idx = {n: k for k, n in enumerate(names)}
    d = 100.0 * (end - start)

    def mean(group: str) -> float | None:
        cols = [idx[f] for f in em.groups.get(f"{group}_{s}", ()) if f in idx]
        return round(float(np.mean(d[cols])), 2) if cols else None

    rows = [FascicleChange(name=f, label=muscle_label(f), start_pct=round(100 * float(start[idx[f]]), 2),
                           end_pct=round(100 * float(end[idx[f]]), 2), pct=round(float(d[idx[f]]), 2))
            for f in em.fascicles(s)]
    ranked = sorted(rows, key=lambda r: -r.pct)
    targets = {g: v for g in ex.targets if (v := mean(g)) is not None}
    return LengthChange(psoas_pct=mean("psoas_major") or 0.0, iliacus_pct=mean("iliacus") or 0.0,
                        psoas_minor_pct=mean("psoas_minor"), targets=targets,
                        most_stretched=ranked[:MOST_STRETCHED],
                        most_shortened=ranked[::-1][:MOST_STRETCHED], fascicles=rows, side=_side_word(s))


def _deg(em: ExerciseModel, q: Array) -> dict[str, float]:
    m = em.model
    return {c.name: round(math.degrees(float(q[i])) if c.motion_type == "rotational" else float(q[i]), 3)
            for i, c in enumerate(m.coordinates) if not m.dependent_mask[i] and abs(q[i]) > 1e-12}


def analyse(exercise_id: str, *, em: ExerciseModel | None = None,
            poses: Mapping[str, ExercisePose] | None = None) -> ExerciseAnalysis:
    """Pose the model in the exercise's start and end (and variant ends) and compare fibre lengths."""
    return analyse_all([exercise_id], em=em, poses=poses)[0]


def analyse_all(exercise_ids: Sequence[str] | None = None, *, em: ExerciseModel | None = None,
                poses: Mapping[str, ExercisePose] | None = None) -> list[ExerciseAnalysis]:
    """:func:`analyse` for several exercises (default: every exercise with positions) in one batch."""
    poses = load_poses() if poses is None else poses
    em = ExerciseModel.bundled() if em is None else em
    ids = list(poses) if exercise_ids is None else list(exercise_ids)
    for i in ids:
        if i not in poses:
            raise KeyError(f"no positions for exercise {i!r}; known: {', '.join(poses)}")
    rows: list[Array] = []
    plan = []
    for i in ids:
        ex = poses[i]
        k = len(rows)
        q0, w0 = em.q(ex.start, ex.orientation)
        q1, w1 = em.q(ex.end, ex.orientation)
        rows += [q0, q1]
        warnings = w0 + w1
        for v in ex.variants:
            qv, wv = em.q(ex.end_of(v.id), ex.orientation)
            rows.append(qv)
            warnings += wv
        plan.append((ex, k, warnings))
    names = sorted({f for ex in (poses[i] for i in ids) for f in em.fascicles(ex.side)}
                   | {f for ex in (poses[i] for i in ids) for g in ex.targets for f in em.groups.get(f"{g}_{ex.side}", ())})
    L = fibre_lengths(em, np.array(rows), names)
    out = []
    for ex, k, warnings in plan:
        variants = [VariantOut(id=v.id, label=v.label, length_change=_length_change(em, ex, L[k], L[k + 2 + j], names))
                    for j, v in enumerate(ex.variants)]
        out.append(ExerciseAnalysis(
            id=ex.id, side=_side_word(ex.side), orientation=ex.orientation, view=ex.view, targets=list(ex.targets),
            note=ex.note, start_deg=_deg(em, rows[k]), end_deg=_deg(em, rows[k + 1]),
            length_change=_length_change(em, ex, L[k], L[k + 1], names), variants=variants,
            warnings=list(dict.fromkeys(warnings))))
    return out
