"""Lying on the back: the knee support that undoes a tight hip flexor, and the leg's rotation balance."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from iliopsoas.posture.equilibrium import Problem
from iliopsoas.posture.people import Person
from iliopsoas.posture.tightness import Tightness

Array = NDArray[np.float64]

KNEE_SUPPORT_HEIGHTS = tuple(np.round(np.arange(0.0, 0.3001, 0.02), 3))
RELAX_TOLERANCE_DEG = 1.0


def knee_support_height(tight: dict[str, Tightness], side: str = "right", person: Person | None = None) -> dict[str, Any]:
    """Smallest height (m) of a support under both knees that brings the lumbar angle back.

    Reference: the untightened model in the same knee-support scenario with the support at
    table height. Every height of :data:`KNEE_SUPPORT_HEIGHTS` is solved, tight and untightened,
    as one batch; the crossing is interpolated linearly. ``None`` when even 0.30 m is not enough.
    """
    from iliopsoas.posture.scenarios import _side, angles, loads_for, scenario_problem

    person = person or Person()
    s = _side(side)
    prob = scenario_problem("supine_knee_support", s, person)
    hs = np.asarray(KNEE_SUPPORT_HEIGHTS)
    nh = len(hs)
    loads = loads_for(prob, [tight] * nh + [{}], s, person)
    heights = np.tile(prob.heights0, (nh + 1, 1))
    for ci, c in enumerate(prob.setup.contacts):
        if c.name.startswith("knee_support"):
            heights[:nh, ci] += hs
    sol = prob.solve(loads, heights=heights)
    lord_all = angles(prob.model, sol.q, "supine", s)["lumbar_lordosis_deg"]
    target = float(lord_all[nh])
    lord, ok = lord_all[:nh], sol.converged[:nh]
    height: float | None = None
    excess = lord - target - RELAX_TOLERANCE_DEG
    for i in range(nh):
        if not ok[i]:
            continue
        if excess[i] <= 0:
            if i == 0 or not ok[i - 1]:
                height = float(hs[i])
            else:
                height = float(hs[i - 1] + (hs[i] - hs[i - 1]) * excess[i - 1] / (excess[i - 1] - excess[i]))
            break
    return {
        "knee_support_height_m": None if height is None else round(height, 3),
        "reference_lumbar_lordosis_deg": round(target, 2),
        "reference_converged": bool(sol.converged[nh]),
        "heights_m": hs.tolist(),
        "lumbar_lordosis_deg": [round(float(v), 2) for v in lord],
        "converged": [bool(v) for v in ok],
    }


def rotation_balance(tight: dict[str, Tightness] | None = None, *, side: str = "right",
                     person: Person | None = None) -> dict[str, Any]:
    """The moments about one leg's hip-rotation axis lying supine, from its rest to full turn-out.

    The supine rest is solved (legs start neutral); then that leg's hip rotation alone is moved
    from 20 deg inward to 40 deg outward in 1 deg steps, everything else held, and the
    generalized forces along it are split into gravity, table contact, muscles (passive) and the
    hip's non-muscle tissue. All moments in N m, + = turning the leg outward.

    ``tipping_deg`` is the first outward angle beyond the rest where the total turns from pushing
    the leg back in to pushing it out; None when the leg is pushed back in everywhere up to
    40 deg. ``outer_rest_deg`` is where a leg turned beyond the tipping angle comes to rest
    (None: beyond 40 deg, the end of the range).
    """
    from iliopsoas.posture.scenarios import _side, solve_batch

    person = person or Person()
    tight = dict(tight or {})
    prob, _, sol, ang = solve_batch("supine", [tight], side=side, person=person)
    out = _rotation_balance(prob, tight, sol.z[0], _side(side), person)
    out["rest_deg"] = round(float(ang["hip_rotation_deg"][0]), 2)
    out["converged"] = bool(sol.converged[0])
    out.update(_tipping(out))
    return out


def rotation_tipping(prob: Problem, tight: dict[str, Tightness], z_rest: Array, s: str, person: Person) -> dict[str, Any]:
    """The ``interpretation`` block of a supine result: where the leg tips into turning out."""
    tip = _tipping(_rotation_balance(prob, tight, z_rest, s, person))
    return {
        "hip_rotation_tipping_deg": tip["tipping_deg"],
        "hip_rotation_turned_out_rest_deg": tip["outer_rest_deg"],
        "note": ("the leg rests at hip_rotation_deg when it starts neutral; turned outward beyond "
                 "hip_rotation_tipping_deg (null: never) gravity and the muscles roll it further out, to "
                 "hip_rotation_turned_out_rest_deg (null: beyond 40 deg, the end of the modelled range)"),
    }


def _rotation_balance(prob: Problem, tight: dict[str, Tightness], z_rest: Array, s: str,
                      person: Person) -> dict[str, Any]:
    from iliopsoas.posture.scenarios import loads_for

    col = prob.setup.free.index(f"hip_rotation_{s}")
    ext = np.arange(-20.0, 40.0 + 1e-9, 1.0)
    z = np.tile(z_rest, (ext.size, 1))
    z[:, col] = -np.radians(ext)
    rows = loads_for(prob, [tight] * ext.size, s, person)
    _, det = prob.gradient(z, rows, np.tile(prob.heights0, (ext.size, 1)), detail=True)
    dcol = int(np.flatnonzero(prob.B[prob.varied][:, col])[0])
    muscles = det["F"] * det["dL"][:, :, dcol]  # minus the generalized force along internal rotation
    parts = {"gravity": -det["gravity"][:, col], "contact": -det["contact"][:, col],
             "muscles": muscles.sum(axis=1), "joint_limits": -det["joint_limits"][:, col]}
    total = sum(parts.values())
    return {
        "side": {"r": "right", "l": "left"}[s],
        "rest_deg": round(-math.degrees(float(z_rest[col])), 2),
        "external_rotation_deg": ext.tolist(),
        "moment_out_nm": {"total": [round(float(v), 4) for v in total],
                          **{k: [round(float(x), 4) for x in v] for k, v in parts.items()}},
    }


def _tipping(bal: dict[str, Any]) -> dict[str, float | None]:
    ext = np.asarray(bal["external_rotation_deg"])
    total = np.asarray(bal["moment_out_nm"]["total"])
    tipping: float | None = None
    outer: float | None = None
    for i in range(ext.size - 1):
        if tipping is None and ext[i] > bal["rest_deg"] and total[i] <= 0.0 < total[i + 1]:
            tipping = float(ext[i] + (ext[i + 1] - ext[i]) * -total[i] / (total[i + 1] - total[i]))
        elif tipping is not None and total[i] > 0.0 >= total[i + 1]:
            outer = float(ext[i] + (ext[i + 1] - ext[i]) * total[i] / (total[i] - total[i + 1]))
            break
    return {"tipping_deg": None if tipping is None else round(tipping, 2),
            "outer_rest_deg": None if outer is None else round(outer, 2)}
