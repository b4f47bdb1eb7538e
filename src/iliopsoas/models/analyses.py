"""Analyses of the lumbopelvic model: joints crossed, hip moment arms, lumbar psoas mechanics.

Every number is computed with the mechanics engine on the bundled model; nothing is declared.
Inputs and outputs are SI (m, rad, N, N·m) except where a key says ``_deg`` or ``_mm`` (these
dictionaries feed the CLI and the docs directly).

* :func:`crossings` — a muscle crosses a joint when its moment arm about one of the joint's
  coordinates reaches ``threshold`` somewhere in the swept range (levels of the lumbar spine
  are freed for this, so each level is asked on its own).
* :func:`hip_moment_arms` — flexion, adduction and rotation moment arms of the psoas major,
  iliacus and psoas minor versus hip flexion, each group as the force-weighted mean of its
  fascicles (Σ Fmax·r / Σ Fmax), beside Blemker & Delp (2005) and the Dostal & Andrews (1981)
  derived table.
* :func:`lumbar` — per lumbar level and psoas fascicle at full activation: flexion/extension,
  lateral-bending and axial moments, compression and shear — the psoas paradox as numbers,
  beside Bogduk, Pearcy & Hadfield (1992).
* :func:`hip_flexion_moments` — hip-flexion moment of each hip flexor at full activation.

What these numbers say about the atlas claims is in :mod:`iliopsoas.models.verdicts`.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from iliopsoas.models.description import expand

Array = NDArray[np.float64]

MODEL = "lumbopelvic"
LUMBAR_LEVELS = ("T12_L1", "L1_L2", "L2_L3", "L3_L4", "L4_L5", "L5_S1")
CROSSING_THRESHOLD = 1e-3  # m: an exact zero when a path does not span the joint; 1 mm is far above noise
HIP_FLEXION_DEG = tuple(range(-20, 121, 5))

#: Blemker & Delp 2005 (Ann Biomed Eng 33:661-673): peak hip-flexion moment arms of psoas fibres.
BLEMKER_DELP_2005_PSOAS_PEAK_MM = (20.0, 30.0)

#: Bogduk, Pearcy & Hadfield 1992 (Clin Biomech 7:109-119), qualitative results only (the per-level
#: tables were not retrieved; see shared/reference/psoas_lumbar_and_emg.csv).
BOGDUK_1992 = (
    "very small moments: extension at upper lumbar levels, flexion at lower levels; "
    "severe compression and large shear at maximal contraction"
)


def _model(psoas_minor: bool = True, lumbar_rhythm: bool = True) -> Any:
    from iliopsoas.models import load

    return load(MODEL, psoas_minor=psoas_minor, lumbar_rhythm=lumbar_rhythm)


@lru_cache(maxsize=1)
def _description() -> dict[str, Any]:
    return expand(MODEL)


def _hip_flexion_poses(model: Any, side: str, flex_deg: Array) -> Array:
    """Complete poses ``(n, n_coordinates)``: hip flexion ``flex_deg`` ``(n,)`` on ``side``, all else zero."""
    from iliopsoas.mechanics import complete_coordinates

    q = np.zeros((flex_deg.size, len(model.coordinates)))
    q[:, model.coordinate_index(f"hip_flexion_{side}")] = np.radians(flex_deg)
    return complete_coordinates(model, q)


def _groups() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for m in _description()["muscles"]:
        out.setdefault(m["group"], []).append(m["name"])
    return out


def _fmax() -> dict[str, float]:
    return {m["name"]: float(m["max_isometric_force"]) for m in _description()["muscles"]}


def _check_side(side: str) -> str:
    if side not in ("r", "l"):
        raise ValueError(f"side must be 'r' or 'l', got {side!r}")
    return side


# ------------------------------------------------------------------------------------ crossings


def _joint_order(model: Any) -> list[str]:
    """Anatomical joints from the top of the lumbar spine down the right leg, then the left."""
    names = list(model.joint_names)
    order = [j for j in LUMBAR_LEVELS if j in names]
    for side in ("r", "l"):
        order += [j for j in (f"sacroiliac_{side}", f"hip_{side}", f"walker_knee_{side}") if j in names]
    return order


def crossings(*, threshold: float = CROSSING_THRESHOLD, n_steps: int = 7) -> dict[str, Any]:
    """Which joints each muscle crosses, from non-zero moment arms over each coordinate's range.

    Every lumbar level is freed (no rhythm) so it can be asked on its own. Each independent
    coordinate of each anatomical joint is swept over its range in ``n_steps`` steps (all others
    at zero) and the moment arms of every muscle about every coordinate are computed at every
    pose. A muscle crosses a joint when ``max |r| >= threshold`` (m) over those poses and the
    joint's coordinates.

    Returns
    -------
    dict
        ``groups``: ``{"psoas_major_r": ["L1_L2", …, "sacroiliac_r", "hip_r"], …}`` (fascicles
        united under their muscle); ``muscles``: the same per fascicle; ``max_moment_arm_mm``:
        ``{fascicle: {joint: max |r| in mm}}`` for the joints crossed; ``threshold_mm``.
    """
    if not threshold > 0:
        raise ValueError(f"threshold must be a positive length in m, got {threshold!r}")
    if n_steps < 2:
        raise ValueError(f"n_steps must be at least 2, got {n_steps!r}")
    from iliopsoas.mechanics import complete_coordinates, moment_arms

    model = _model(True, False)
    joints = _joint_order(model)
    coords: list[int] = []
    owner: list[str] = []
    for j in joints:
        joint = model.joints[model.joint_names.index(j)]
        for ci in joint.coordinates:
            if not model.dependent_mask[ci]:
                coords.append(ci)
                owner.append(j)
    poses = []
    for ci in coords:
        lo, hi = model.coordinates[ci].range
        for v in np.linspace(lo, hi, n_steps):
            q = np.zeros(len(model.coordinates))
            q[ci] = v
            poses.append(q)
    q = complete_coordinates(model, np.array(poses))
    r = np.abs(moment_arms(model, q, coords))  # (n, m, k)
    peak = r.max(axis=0)  # (m, k)
    per_muscle: dict[str, list[str]] = {}
    arms: dict[str, dict[str, float]] = {}
    for mi, name in enumerate(model.muscle_names):
        by_joint: dict[str, float] = {}
        for k, j in enumerate(owner):
            by_joint[j] = max(by_joint.get(j, 0.0), float(peak[mi, k]))
        crossed = [j for j in joints if by_joint.get(j, 0.0) >= threshold]
        per_muscle[name] = crossed
        arms[name] = {j: round(by_joint[j] * 1000, 2) for j in crossed}
    groups: dict[str, list[str]] = {}
    for g, members in _groups().items():
        union = {j for n in members for j in per_muscle[n]}
        groups[g] = [j for j in joints if j in union]
    return {
        "groups": groups,
        "muscles": per_muscle,
        "max_moment_arm_mm": arms,
        "threshold_mm": threshold * 1000,
        "n_poses": int(len(q)),
    }


# ------------------------------------------------------------------------------ hip moment arms

_HIP_GROUPS = ("psoas_major", "iliacus")  # the psoas minor ends on the pelvis: no hip moment arm


def hip_moment_arms(side: str = "r", flexion_deg: Any = HIP_FLEXION_DEG) -> dict[str, Any]:
    """Hip moment arms of the psoas major and the iliacus versus hip flexion.

    Parameters
    ----------
    side : ``"r"`` or ``"l"``.
    flexion_deg : hip flexion angles in degrees, shape ``(n,)`` (other coordinates at zero).

    Returns
    -------
    dict
        ``flexion_deg`` (n,); ``groups[g][axis]`` force-weighted group moment arms in mm (n,)
        for axis in ``flexion``, ``adduction``, ``rotation`` (+ = internal rotation, the model's
        convention); ``fascicles[name][axis]`` the same per fascicle; ``length_mm[g]`` the
        force-weighted mean musculotendon length; ``rotation_sign_changes_deg[g]`` the flexion
        angles where the rotation arm changes sign (linear interpolation); ``peak_flexion_mm``.
    """
    side = _check_side(side)
    flex = np.asarray(flexion_deg, dtype=float).ravel()
    if flex.size == 0 or not np.all(np.isfinite(flex)):
        raise ValueError("flexion_deg must be a non-empty list of finite angles in degrees")
    from iliopsoas.mechanics import lengths_and_moment_arms

    model = _model(True, True)
    lo, hi = np.degrees(model.coordinates[model.coordinate_index(f"hip_flexion_{side}")].range)
    if flex.min() < lo - 0.01 or flex.max() > hi + 0.01:
        raise ValueError(
            f"flexion_deg must lie within the model's hip flexion range {lo:.0f}..{hi:.0f} deg, "
            f"got {flex.min():g}..{flex.max():g}"
        )
    q = _hip_flexion_poses(model, side, flex)
    axes = {"flexion": f"hip_flexion_{side}", "adduction": f"hip_adduction_{side}", "rotation": f"hip_rotation_{side}"}
    groups = _groups()
    names = [n for g in _HIP_GROUPS for n in groups.get(f"{g}_{side}", [])]
    L, R = lengths_and_moment_arms(model, q, list(axes.values()), muscles=names)
    fmax = _fmax()
    w = np.array([fmax[n] for n in names])
    out_groups: dict[str, dict[str, list[float]]] = {}
    out_len: dict[str, list[float]] = {}
    fasc: dict[str, dict[str, list[float]]] = {}
    for i, n in enumerate(names):
        fasc[n] = {a: np.round(R[:, i, k] * 1000, 3).tolist() for k, a in enumerate(axes)}
    sign_changes: dict[str, list[float]] = {}
    peak: dict[str, dict[str, float]] = {}
    for g in _HIP_GROUPS:
        key = f"{g}_{side}"
        idx = [i for i, n in enumerate(names) if n in groups.get(key, [])]
        if not idx:
            continue
        ww = w[idx] / w[idx].sum()
        mean = np.einsum("nmk,m->nk", R[:, idx, :], ww) * 1000
        out_groups[key] = {a: np.round(mean[:, k], 3).tolist() for k, a in enumerate(axes)}
        out_len[key] = np.round((L[:, idx] @ ww) * 1000, 2).tolist()
        sign_changes[key] = _zero_crossings(flex, mean[:, 2])
        k_peak = int(np.argmax(mean[:, 0]))
        peak[key] = {"moment_arm_mm": round(float(mean[k_peak, 0]), 2), "at_flexion_deg": float(flex[k_peak])}
    return {
        "side": side,
        "flexion_deg": flex.tolist(),
        "groups": out_groups,
        "fascicles": fasc,
        "length_mm": out_len,
        "rotation_sign_changes_deg": sign_changes,
        "peak_flexion": peak,
        "convention": "flexion +, adduction +, internal rotation + (Rajagopal 2016 hip); moment arm = -dL/dq as OpenSim",
        "published": {
            "blemker_delp_2005_psoas_peak_flexion_mm": list(BLEMKER_DELP_2005_PSOAS_PEAK_MM),
        },
    }


def _zero_crossings(x: Array, y: Array) -> list[float]:
    out = []
    for i in range(len(x) - 1):
        if y[i] == 0.0:
            out.append(float(x[i]))
        elif y[i] * y[i + 1] < 0:
            out.append(round(float(x[i] - y[i] * (x[i + 1] - x[i]) / (y[i + 1] - y[i])), 1))
    return out


def dostal_1981_table(reference_dir: Any) -> dict[str, list[float]]:
    """The derived Dostal & Andrews (1981) iliopsoas moment arms (mm) from ``../shared/reference``."""
    import csv
    from pathlib import Path

    rows = list(csv.DictReader((Path(reference_dir) / "hip_moment_arms_derived_dostal1981.csv").open()))
    return {
        "flexion_deg": [float(r["hip_flexion_deg"]) for r in rows],
        "flexion": [float(r["flexion_moment_arm_mm"]) for r in rows],
        "adduction": [float(r["adduction_moment_arm_mm"]) for r in rows],
        "rotation": [float(r["internal_rotation_moment_arm_mm"]) for r in rows],
    }


# ------------------------------------------------------------------------------- lumbar psoas


def posture_poses(model: Any) -> dict[str, Array]:
    """Erect (zero), flexed and extended lumbar postures, each ``(n_coordinates,)``.

    Flexed and extended are half of the model's L5/S1 flexion and extension range, spread over
    the levels with the Christophy 2012 rhythm (≈40° and ≈13° of total lumbar motion).
    """
    d = _description()
    ratios = {c["dependent"]: c["linear"][0] for c in d["constraints"] if c.get("lumbar_rhythm")}
    lo, hi = model.coordinates[model.coordinate_index("L5_S1_flex_ext")].range
    out = {}
    for name, base in (("erect", 0.0), ("flexed", 0.5 * lo), ("extended", 0.5 * hi)):
        q = np.zeros(len(model.coordinates))
        for level in LUMBAR_LEVELS:
            c = f"{level}_flex_ext"
            q[model.coordinate_index(c)] = base * ratios.get(c, 1.0)
        out[name] = q
    return out


def lumbar(side: str = "r") -> dict[str, Any]:
    """Per-level mechanics of each psoas major fascicle at full activation in three postures.

    The force of a fascicle at full activation is its maximum isometric force (Christophy 2012
    values), as Bogduk et al. (1992) used PCSA times a specific tension. It acts on the vertebra of origin along the first path segment, so
    every level below the origin carries it. At each level the disc axis ``t`` is taken along the
    line through the neighbouring joint centres (the local curve of the spine), ``a`` points
    anteriorly in the sagittal plane and ``z`` laterally. Compression is ``-F u·t`` (positive
    pushing the upper vertebra onto the lower), anterior shear ``F u·a``. Moments are ``F r``
    with ``r`` the moment arm about the level's coordinates: ``flex_ext`` (+ = extension),
    ``lat_bending`` (+ = towards the right), ``axial_rotation``.

    Returns
    -------
    dict
        ``postures[p]["levels"][level]``: totals over the psoas (N, N·m);
        ``postures[p]["fascicles"][fascicle][level]``: the same per fascicle;
        ``postures[p]["force_N"]``: each fascicle's force; ``total_lumbar_flexion_deg``;
        ``postures[p]["erector_spinae_extension_moment_Nm"]``: the same-side lumbar erector
        spinae (iliocostalis and longissimus pars lumborum) at full activation, for scale.
    """
    side = _check_side(side)
    from iliopsoas.mechanics import body_transforms, complete_coordinates, moment_arms

    model = _model(False, False)
    fascicles = _groups()[f"psoas_major_{side}"]
    levels = list(LUMBAR_LEVELS)
    joint_idx = [model.joint_names.index(lv) for lv in levels]
    coord_names = [f"{lv}_{k}" for lv in levels for k in ("flex_ext", "lat_bending", "axial_rotation")]
    postures = posture_poses(model)
    q = complete_coordinates(model, np.array(list(postures.values())))
    r = moment_arms(model, q, coord_names, muscles=fascicles).reshape(len(q), len(fascicles), len(levels), 3)
    fmax = _fmax()
    force = np.tile([fmax[n] for n in fascicles], (len(q), 1))  # (p, f), N
    Rb, pb = body_transforms(model, q)
    centres = np.empty((len(q), len(levels), 3))
    lateral = np.empty((len(q), len(levels), 3))
    for k, ji in enumerate(joint_idx):
        j = model.joints[ji]
        centres[:, k] = pb[:, j.child] + np.einsum("nij,j->ni", Rb[:, j.child], j.child_translation)
        lateral[:, k] = Rb[:, j.child, :, 2]
    tangent = np.empty_like(centres)
    tangent[:, 0] = centres[:, 0] - centres[:, 1]
    tangent[:, -1] = centres[:, -2] - centres[:, -1]
    tangent[:, 1:-1] = centres[:, :-2] - centres[:, 2:]
    tangent /= np.linalg.norm(tangent, axis=-1, keepdims=True)
    anterior = np.cross(tangent, lateral)
    anterior /= np.linalg.norm(anterior, axis=-1, keepdims=True)
    from iliopsoas.mechanics import path_points

    # direction of each fascicle's first path segment (its line of pull on the vertebra of origin)
    pull = np.empty((len(q), len(fascicles), 3))
    paths = path_points(model, q, fascicles)  # one kinematics pass for every fascicle
    for fi, fname in enumerate(fascicles):
        pts = paths[fname].ground  # (p, S, 3)
        pull[:, fi] = pts[:, 1] - pts[:, 0]
    pull /= np.linalg.norm(pull, axis=-1, keepdims=True)
    es = _groups()[f"erector_spinae_{side}"]
    r_es = moment_arms(model, q, [f"{lv}_flex_ext" for lv in levels], muscles=es)  # (p, e, k)
    es_moment = np.einsum("pek,e->pk", r_es, np.array([fmax[n] for n in es]))
    out: dict[str, Any] = {}
    for pi, pname in enumerate(postures):
        per_f: dict[str, dict[str, dict[str, float]]] = {}
        totals = {lv: dict.fromkeys(
            ("extension_moment_Nm", "lateral_bending_moment_Nm", "axial_moment_Nm", "compression_N", "anterior_shear_N"),
            0.0) for lv in levels}
        for fi, fname in enumerate(fascicles):
            u = pull[pi, fi]
            f = float(force[pi, fi])
            per_f[fname] = {}
            for k, lv in enumerate(levels):
                if abs(r[pi, fi, k, 0]) < CROSSING_THRESHOLD and abs(r[pi, fi, k, 1]) < CROSSING_THRESHOLD:
                    continue  # the fascicle starts below this level
                vals = {
                    "extension_moment_Nm": f * r[pi, fi, k, 0],
                    "lateral_bending_moment_Nm": f * r[pi, fi, k, 1],
                    "axial_moment_Nm": f * r[pi, fi, k, 2],
                    "compression_N": -f * float(u @ tangent[pi, k]),
                    "anterior_shear_N": f * float(u @ anterior[pi, k]),
                }
                per_f[fname][lv] = {key: round(float(v), 3) for key, v in vals.items()}
                for key, v in vals.items():
                    totals[lv][key] += float(v)
        out[pname] = {
            "levels": {lv: {k: round(v, 2) for k, v in t.items()} for lv, t in totals.items()},
            "fascicles": per_f,
            "force_N": {n: round(float(force[pi, i]), 1) for i, n in enumerate(fascicles)},
            "erector_spinae_extension_moment_Nm": {lv: round(float(es_moment[pi, k]), 2) for k, lv in enumerate(levels)},
            "total_lumbar_flexion_deg": round(
                -math.degrees(sum(q[pi, model.coordinate_index(f"{lv}_flex_ext")] for lv in levels)), 1
            ),
        }
    return {
        "side": side,
        "postures": out,
        "conventions": "extension moment + ; lateral bending + towards the right; compression + pushes the upper "
        "vertebra onto the lower; anterior shear + pulls the upper vertebra forward",
        "published": {"bogduk_pearcy_hadfield_1992": BOGDUK_1992},
    }


# --------------------------------------------------------------------------------- verdicts


HIP_FLEXORS = ("psoas_major", "iliacus", "rectus_femoris", "sartorius", "tensor_fasciae_latae", "pectineus",
               "gluteus_medius_anterior")


def hip_flexion_moments(side: str = "r", flexion_deg: Any = (0.0, 45.0, 90.0)) -> dict[str, Any]:
    """Hip-flexion moment (N·m) of each hip-flexor group at full activation, knee straight.

    Forces are the engine's static muscle forces at activation 1 (``muscle_forces``: force-length
    and pennation included, each muscle's own tendon model); moment = force × hip-flexion moment
    arm, summed over the group's fascicles. Returns ``{"flexion_deg": [...], "moments_Nm": {group: [...]}}``.
    """
    side = _check_side(side)
    from iliopsoas.mechanics import moment_arms
    from iliopsoas.mechanics.forces import muscle_forces

    model = _model(True, True)
    flex = np.asarray(flexion_deg, dtype=float).ravel()
    q = _hip_flexion_poses(model, side, flex)
    force = muscle_forces(model, q, 1.0).tendon_force
    r = moment_arms(model, q, [f"hip_flexion_{side}"])[:, :, 0]
    groups = _groups()
    out = {}
    for g in HIP_FLEXORS:
        idx = [model.muscle_index(n) for n in groups[f"{g}_{side}"]]
        out[f"{g}_{side}"] = np.round((force[:, idx] * r[:, idx]).sum(axis=1), 1).tolist()
    return {"flexion_deg": flex.tolist(), "moments_Nm": out}


def group_moment_arm(group: str, coordinate: str, flexion_deg: Any = HIP_FLEXION_DEG, side: str = "r") -> Array:
    """Force-weighted moment arm (mm) of a muscle group about ``coordinate`` versus hip flexion.

    ``flexion_deg`` (n,) sets ``hip_flexion_<side>``; everything else is at zero. Shape ``(n,)``.
    """
    side = _check_side(side)
    from iliopsoas.mechanics import moment_arms

    model = _model(True, True)
    flex = np.asarray(flexion_deg, dtype=float).ravel()
    q = _hip_flexion_poses(model, side, flex)
    names = _groups()[group]
    fmax = _fmax()
    w = np.array([fmax[n] for n in names])
    return np.asarray((moment_arms(model, q, [coordinate], muscles=names)[:, :, 0] @ w) / w.sum() * 1000)
