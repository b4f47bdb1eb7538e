"""Dose-response: one scenario solved for a range of tightness of one target, with continuation.

Every dose is reached by continuation from the relaxed body (the tightness switched on step by
step, each step corrected), all doses as one batch. To find where the answer is not unique, the
sweep is then continued backwards from the tightest dose (every dose reached from the tightest
one); where the two branches differ by more than :data:`BRANCH_TOLERANCE_DEG` in any angle the
dose is bistable and both branches are reported. ``jumps`` lists the neighbouring doses of the
relaxed branch between which an angle moves by more than :data:`JUMP_DEG`; each says whether a
bifurcation lies between them (``"bifurcation"``, with ``"kind"``): two resting poses on either
side (``two branches``), the relaxed branch ending so the body moves to the other one (``fold``),
the passive equilibrium ending where postural muscle torque takes over (``passive hold ends``:
near that point the passive branch turns steeply, as at any fold), or its stability changing. A
jump without a bifurcation is a failure of continuity (tests/test_posture_continuity.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from iliopsoas.posture.people import Person
from iliopsoas.posture.scenarios import _side, angles, loads_for, scenario_problem
from iliopsoas.posture.setups import BALANCE_TOLERANCE_NM
from iliopsoas.posture.tightness import SHORTENING_RANGE, Tightness, TightnessError

MAX_STEPS = 5000
BRANCH_TOLERANCE_DEG = 0.5
JUMP_DEG = 1.0


def _round(v: Any) -> list[float | None]:
    return [round(float(x), 4) if np.isfinite(x) else None for x in v]


def sweep(scenario: str, muscle: str, start: float = 0.0, stop: float = 0.3, steps: int = 31, *,
          side: str = "right", person: Person | None = None, stiffness: float = 1.0, tone: float = 0.0,
          branches: bool = True) -> dict[str, Any]:
    """Angles (deg) of ``scenario`` versus the shortening of ``muscle`` (fraction of optimal fibre length).

    Returns ``{"shortening": [...], "angles": {name: [...]}, "converged": [...], "bistable": [...],
    "jumps": [...], ...}``; with ``branches`` (default) also ``"branches"`` when some dose has two
    resting poses (``{"from_relaxed": angles, "from_tightest": angles}``), ``"from_tightest_branch"``
    when some dose was solved only by the continuation from the tightest dose, and
    ``"postural_torque_nm"`` (the largest postural muscle torque) where the scenario has one.
    """
    if not isinstance(steps, int) or not 2 <= steps <= MAX_STEPS:
        raise TightnessError(f"steps must be an integer from 2 to {MAX_STEPS}; got {steps!r}")
    lo, hi = SHORTENING_RANGE
    for name, v in (("from", start), ("to", stop)):
        if not lo <= v <= hi:
            raise TightnessError(f"--{name} must be between {lo * 100:g}% and {hi * 100:g}% (shortening as a "
                                 f"fraction of optimal fibre length); got {v * 100:g}%")
    person = person or Person()
    s = _side(side)
    values = np.linspace(start, stop, steps)
    tights = [{muscle: Tightness(shortening=float(v), stiffness=stiffness, tone=tone)} for v in values]
    prob = scenario_problem(scenario, s, person)
    loads = loads_for(prob, tights, s, person)
    sol = prob.solve(loads)
    ang = angles(prob.model, sol.q, scenario, s)
    out: dict[str, Any] = {
        "scenario": scenario,
        "muscle": muscle,
        "side": side,
        "shortening": [round(float(v), 6) for v in values],
        # a point that did not solve is null (never dropped, never a made-up number)
        "angles": {k: [round(float(x), 4) if (np.isfinite(x) and ok) else None for x, ok in zip(v, sol.converged,
                                                                                                   strict=True)]
                   for k, v in ang.items() if np.isfinite(v).any()},
        "converged": [bool(c) for c in sol.converged],
        "messages": sorted(set(sol.messages)),
        "iterations": sol.iterations,
        "solve_ms": round(1000 * sol.seconds, 1),
    }
    effort = np.zeros(steps)
    for torque in (sol.effort or {}).values():
        effort = np.maximum(effort, np.abs(np.asarray(torque, dtype=float)))
    if sol.effort:
        out["postural_torque_nm"] = [round(float(x), 4) for x in effort]
    bistable = np.zeros(steps, dtype=bool)
    if branches and steps > 1:
        last = loads.rows(np.full(steps, steps - 1))
        back = prob.solve(loads, z0=np.tile(sol.z[-1], (steps, 1)), start_loads=last,
                          lam0=None if sol.multiplier is None else np.full(steps, sol.multiplier[-1]))
        ang_b = angles(prob.model, back.q, scenario, s)
        diff = np.zeros(steps)
        for k in ang:
            a, b = np.asarray(ang[k]), np.asarray(ang_b[k])
            d = np.abs(a - b)
            diff = np.maximum(diff, np.where(np.isfinite(d), d, 0.0))
        bistable = (diff > BRANCH_TOLERANCE_DEG) & sol.converged & back.converged
        if bistable.any():
            out["branches"] = {
                "from_relaxed": {k: _round(v) for k, v in ang.items()},
                "from_tightest": {k: _round(v) for k, v in ang_b.items()},
                "note": (f"two resting poses at the doses marked bistable (they differ by more than "
                         f"{BRANCH_TOLERANCE_DEG:g} deg): 'angles' follows the body from relaxed; a body that "
                         "was tighter before rests on the other branch"),
            }
        # a dose the continuation from the relaxed body did not solve (past a fold the relaxed branch
        # has ended and the body snaps over) but the continuation from the tightest dose did
        snap = ~sol.converged & back.converged
        if snap.any():
            q = np.where(snap[:, None], back.q, sol.q)
            ang = angles(prob.model, q, scenario, s)
            conv = sol.converged | snap
            out["angles"] = {k: [round(float(x), 4) if (np.isfinite(x) and ok) else None
                                 for x, ok in zip(v, conv, strict=True)] for k, v in ang.items() if np.isfinite(v).any()}
            out["converged"] = [bool(c) for c in conv]
            out["from_tightest_branch"] = [bool(b) for b in snap]
    conv = np.asarray(out["converged"], dtype=bool)
    out["bistable"] = [bool(b) for b in bistable]
    held = effort <= 10 * BALANCE_TOLERANCE_NM
    out["jumps"] = _jumps(values, ang, conv, bistable=bistable, stable=np.asarray(sol.stable, dtype=bool),
                          held=held if sol.effort else None)
    return out


def _jumps(values: np.ndarray, ang: dict[str, np.ndarray], ok: np.ndarray, *, bistable: np.ndarray,
           stable: np.ndarray, held: np.ndarray | None) -> list[dict[str, Any]]:
    """Neighbouring doses between which an angle moves by more than :data:`JUMP_DEG`, with the
    bifurcation (if any) that lies between them."""
    found = []
    for k, v in ang.items():
        v = np.asarray(v)
        for i in range(len(v) - 1):
            if ok[i] and ok[i + 1] and np.isfinite(v[i]) and np.isfinite(v[i + 1]) and abs(v[i + 1] - v[i]) > JUMP_DEG:
                kind = None
                if bistable[i] and bistable[i + 1]:
                    kind = "two branches"
                elif bistable[i] != bistable[i + 1]:
                    kind = "fold"
                elif held is not None and held[i] != held[i + 1]:
                    kind = "passive hold ends" if held[i] else "passive hold begins"
                elif stable[i] != stable[i + 1]:
                    kind = "stability changes"
                found.append({"angle": k, "from": round(float(values[i]), 6), "to": round(float(values[i + 1]), 6),
                              "change_deg": round(float(v[i + 1] - v[i]), 3), "bifurcation": kind is not None,
                              "kind": kind})
    return found
