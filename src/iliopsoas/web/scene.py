"""What the Model page draws: a stick skeleton, muscle paths and moment-arm curves for one pose.

Pure functions over an immutable :class:`~iliopsoas.mechanics.Model`; they only call the engine's
public functions (``body_transforms``, ``path_points``, ``moment_arms``). Angles are in radians
here; the API converts degrees at its edge.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from iliopsoas.web.vtp import Mesh

Array = NDArray[np.float64]

#: Coordinates offered as sliders: hip, knee, lumbar and pelvic tilt (rotational, independent).
SLIDER_PATTERN = re.compile(
    r"^(hip_(flexion|adduction|rotation)_[rl]|knee_angle_[rl]|lumbar_\w+|L\d_[LS]\d_\w+|T12_L1_\w+|pelvis_tilt)$")
MAX_SWEEP_POINTS = 121


@dataclass(frozen=True)
class View:
    """The model as the page sees it: which coordinates are sliders, muscles grouped by name."""

    model: Any
    sliders: tuple[int, ...]
    groups: Mapping[str, tuple[str, ...]]
    meshes: Mapping[str, list[Mesh]] = field(default_factory=dict)


def muscle_groups(model: Any, groups: Mapping[str, Sequence[str]] | None = None) -> dict[str, tuple[str, ...]]:
    """Groups of fascicles by muscle; without a mapping every muscle is its own group."""
    if groups:
        known = set(model.muscle_names)
        return {g: tuple(f for f in fs if f in known) for g, fs in groups.items() if any(f in known for f in fs)}
    return {m: (m,) for m in model.muscle_names}


def make_view(model: Any, groups: Mapping[str, Sequence[str]] | None = None,
              meshes: Mapping[str, list[Mesh]] | None = None) -> View:
    sliders = tuple(
        i for i, c in enumerate(model.coordinates)
        if SLIDER_PATTERN.match(c.name) and not model.dependent_mask[i] and c.motion_type == "rotational"
    )
    return View(model, sliders, muscle_groups(model, groups), dict(meshes or {}))


def pose_vector(view: View, values: Mapping[str, float]) -> Array:
    """``(n_coordinates,)`` pose: the model's defaults with ``values`` (rad) on slider coordinates.

    Raises ``KeyError`` for a name that is not a slider, ``ValueError`` for a value out of range
    (both messages name the coordinate and what was expected).
    """
    model = view.model
    q = np.array(model.coordinate_defaults, dtype=float)
    names = {model.coordinates[i].name: i for i in view.sliders}
    for name, value in values.items():
        if name not in names:
            raise KeyError(f"coordinate {name!r} is not adjustable here; expected one of {', '.join(names)}")
        i = names[name]
        lo, hi = model.coordinates[i].range
        v = float(value)
        if not np.isfinite(v) or not lo - 1e-9 <= v <= hi + 1e-9:
            raise ValueError(
                f"coordinate {name!r} = {np.degrees(v):.4g} deg is outside its range "
                f"{np.degrees(lo):.4g} to {np.degrees(hi):.4g} deg"
            )
        q[i] = v
    return q


def joint_centres(model: Any, R: Array, p: Array) -> Array:
    """``(n_joints, 3)`` joint centres in ground for one pose's body transforms ``R`` (n_bodies, 3, 3), ``p``."""
    return np.array([R[j.parent] @ j.parent_translation + p[j.parent] for j in model.joints])


def skeleton(view: View, q: Array) -> dict[str, Any]:
    """Bones as segments between joint centres, in m, for the single pose ``q`` ``(n_coordinates,)``.

    Each body runs from the joint that carries it to each joint it carries; a body that carries
    none (a shank, the trunk) ends at the point as far beyond its mass centre as the joint is
    before it. Returns ``{"segments": [{"body", "label", "parent", "child", "from" (3,), "to" (3,)}],
    "origins": {body: (3,)}}`` (``parent`` is the segment's body, ``child`` the body at its far end
    or ``""``).
    """
    from iliopsoas.mechanics import body_transforms
    from iliopsoas.models.labels import body_label

    model = view.model
    R, p = body_transforms(model, q[None, :])
    R, origins = R[0], p[0]
    centres = joint_centres(model, R, origins)
    proximal = {j.child: k for k, j in enumerate(model.joints)}
    carries: dict[int, list[int]] = {}
    for k, j in enumerate(model.joints):
        carries.setdefault(j.parent, []).append(k)
    segs = []
    for b in range(1, len(model.bodies)):
        if b not in proximal:
            continue
        start = centres[proximal[b]]
        ends = [(model.bodies[model.joints[k].child].name, centres[k]) for k in carries.get(b, [])]
        if not ends:
            com = np.asarray(model.bodies[b].mass_center, dtype=float)
            at = np.asarray(model.joints[proximal[b]].child_translation, dtype=float)
            if np.linalg.norm(com - at) > 1e-3:
                ends = [("", R[b] @ (2 * com - at) + origins[b])]
        name = model.bodies[b].name
        for child, end in ends:
            if np.linalg.norm(end - start) < 1e-4:
                continue
            segs.append({"body": name, "label": body_label(name), "parent": name, "child": child,
                         "from": np.round(start, 5).tolist(), "to": np.round(end, 5).tolist()})
    return {"segments": segs,
            "origins": {bd.name: origins[k].tolist() for k, bd in enumerate(model.bodies) if k}}


def bounds(view: View, q: Array) -> list[list[float]]:
    """``[[x, y, z] min, [x, y, z] max]`` (m) of the bones (segments and meshes) at pose ``q``."""
    sk = skeleton(view, q)
    pts = [s["from"] for s in sk["segments"]] + [s["to"] for s in sk["segments"]]
    for m in posed_meshes(view, q):
        v = np.asarray(m["vertices"])
        pts += [v.min(axis=0).tolist(), v.max(axis=0).tolist()]
    a = np.asarray(pts, dtype=float).reshape(-1, 3)
    return [np.round(a.min(axis=0), 4).tolist(), np.round(a.max(axis=0), 4).tolist()]


def muscle_paths(view: View, q: Array, groups: Sequence[str]) -> list[dict[str, Any]]:
    """The current path (ground, m) of every fascicle of ``groups``: ``[{"group", "name", "points" (k, 3)}]``."""
    from iliopsoas.mechanics import path_points

    wanted = [(g, name) for g in groups for name in view.groups[g]]
    paths = path_points(view.model, q[None, :], [name for _, name in wanted])  # one kinematics pass
    out = []
    for g, name in wanted:
        cp = paths[name]
        pts = cp.ground[0, : int(cp.count[0])]
        out.append({"group": g, "name": name, "points": np.round(pts, 5).tolist()})
    return out


def posed_meshes(view: View, q: Array) -> list[dict[str, Any]]:
    """Every mesh moved to the pose ``q``: ``[{"body", "vertices" (n, 3), "faces" (m, 3)}]`` in ground, m."""
    if not view.meshes:
        return []
    from iliopsoas.mechanics import body_transforms

    R, p = body_transforms(view.model, q[None, :])
    out = []
    for body, meshes in view.meshes.items():
        k = view.model.body_index(body)
        for mesh in meshes:
            v = mesh.vertices @ R[0, k].T + p[0, k]
            out.append({"body": body, "vertices": np.round(v, 5).tolist(), "faces": mesh.faces.tolist()})
    return out


def moment_arm_sweep(view: View, q: Array, group: str, coordinate: str, *, sweep: str | None = None,
                     n_points: int = 41) -> dict[str, Any]:
    """Moment arms (m) of ``group``'s fascicles about ``coordinate`` while ``sweep`` runs over its range.

    ``sweep`` defaults to ``coordinate``; every other coordinate stays at ``q``. Returns
    ``{"sweep_values" (n_points,) rad, "fascicles": names, "moment_arms" (n_points, n_fascicles) m,
    "current_value" rad, "current" (n_fascicles,) m}``.
    """
    from iliopsoas.mechanics import moment_arms

    model = view.model
    if group not in view.groups:
        raise KeyError(f"unknown muscle {group!r}; expected one of {', '.join(view.groups)}")
    slider_names = [model.coordinates[i].name for i in view.sliders]
    for label, name in (("coordinate", coordinate), ("sweep", sweep or coordinate)):
        if name not in slider_names:
            raise KeyError(f"{label} {name!r} is not one of the model's sliders ({', '.join(slider_names)})")
    if not 2 <= n_points <= MAX_SWEEP_POINTS:
        raise ValueError(f"points must be 2-{MAX_SWEEP_POINTS}, got {n_points}")
    s = model.coordinate_index(sweep or coordinate)
    lo, hi = model.coordinates[s].range
    xs = np.linspace(lo, hi, n_points)
    Q = np.repeat(q[None, :], n_points + 1, axis=0)
    Q[:n_points, s] = xs
    fascicles = list(view.groups[group])
    r = moment_arms(model, Q, [coordinate], muscles=fascicles)[:, :, 0]
    return {"sweep_values": xs.tolist(), "fascicles": fascicles, "moment_arms": r[:n_points].tolist(),
            "current_value": float(q[s]), "current": r[n_points].tolist()}


#: quantity -> (unit, how the fascicles are combined)
QUANTITIES = {"moment_arm": ("cm", "mean"), "length": ("cm", "mean"), "fiber_length": ("% of optimal", "mean"),
              "passive_force": ("N", "sum"), "active_force": ("N", "sum")}


def quantity_sweep(view: View, q: Array, group: str, quantity: str, coordinate: str, *, sweep: str | None = None,
                   exact: bool = False, activation: float = 1.0, n_points: int = 41) -> dict[str, Any]:
    """One quantity of ``group``'s fascicles while ``sweep`` runs over its range (others stay at ``q``).

    ``quantity``: ``moment_arm`` about ``coordinate`` (cm; OpenSim's definition or, with ``exact``,
    -dL/dq), ``length`` (muscle-tendon length, cm), ``fiber_length`` (% of optimal fibre length,
    relaxed), ``passive_force`` (tendon force of the relaxed muscle, N), ``active_force`` (the
    active fibre force along the tendon at ``activation``, N). Returns ``{"sweep_values" (n,) rad,
    "fascicles", "values" (n, m), "current_value" rad, "current" (m,), "unit", "aggregate"}``;
    a value the muscle model cannot give (no muscle parameters) is NaN.
    """
    from iliopsoas.mechanics import moment_arms, muscle_lengths

    if quantity not in QUANTITIES:
        raise ValueError(f"quantity must be one of {', '.join(QUANTITIES)}, got {quantity!r}")
    model = view.model
    if group not in view.groups:
        raise KeyError(f"unknown muscle {group!r}; expected one of {', '.join(view.groups)}")
    slider_names = [model.coordinates[i].name for i in view.sliders]
    for label, name in (("coordinate", coordinate), ("sweep", sweep or coordinate)):
        if name not in slider_names:
            raise KeyError(f"{label} {name!r} is not one of the model's sliders ({', '.join(slider_names)})")
    if not 2 <= n_points <= MAX_SWEEP_POINTS:
        raise ValueError(f"points must be 2-{MAX_SWEEP_POINTS}, got {n_points}")
    s = model.coordinate_index(sweep or coordinate)
    lo, hi = model.coordinates[s].range
    xs = np.linspace(lo, hi, n_points)
    Q = np.repeat(q[None, :], n_points + 1, axis=0)
    Q[:n_points, s] = xs
    fascicles = list(view.groups[group])
    if quantity == "moment_arm":
        v = 100.0 * moment_arms(model, Q, [coordinate], exact, muscles=fascicles)[:, :, 0]
    elif quantity == "length":
        v = 100.0 * muscle_lengths(model, Q, fascicles)
    else:
        from iliopsoas.mechanics.forces import muscle_forces

        st = muscle_forces(model, Q, activation if quantity == "active_force" else 0.0, muscles=fascicles)
        if quantity == "fiber_length":
            v = 100.0 * np.asarray(st.normalized_fiber_length)
        elif quantity == "passive_force":
            v = np.asarray(st.passive_fiber_force) * np.cos(np.asarray(st.pennation_angle))
        else:
            v = np.asarray(st.active_fiber_force) * np.cos(np.asarray(st.pennation_angle))
    unit, agg = QUANTITIES[quantity]
    return {"sweep_values": xs.tolist(), "fascicles": fascicles, "values": v[:n_points], "current_value": float(q[s]),
            "current": v[n_points], "unit": unit, "aggregate": agg}
