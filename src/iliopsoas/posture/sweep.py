"""Dose-response: one scenario solved for a range of tightness of one target, as one batch.

All tightness values are solved together (one vectorized Newton iteration moves every row), so
a 1,000-point sweep costs little more than a few single solves.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from iliopsoas.posture.people import Person
from iliopsoas.posture.scenarios import solve_batch
from iliopsoas.posture.tightness import SHORTENING_RANGE, Tightness, TightnessError

MAX_STEPS = 5000


def sweep(scenario: str, muscle: str, start: float = 0.0, stop: float = 0.3, steps: int = 31, *,
          side: str = "right", person: Person | None = None, stiffness: float = 1.0, tone: float = 0.0) -> dict[str, Any]:
    """Angles (deg) of ``scenario`` versus the shortening of ``muscle`` (fraction of optimal fibre length).

    Returns ``{"shortening": [...], "angles": {name: [...]}, "converged": [...], ...}``.
    """
    if not isinstance(steps, int) or not 2 <= steps <= MAX_STEPS:
        raise TightnessError(f"steps must be an integer from 2 to {MAX_STEPS}; got {steps!r}")
    lo, hi = SHORTENING_RANGE
    for name, v in (("from", start), ("to", stop)):
        if not lo <= v <= hi:
            raise TightnessError(f"--{name} must be between {lo * 100:g}% and {hi * 100:g}% (shortening as a "
                                 f"fraction of optimal fibre length); got {v * 100:g}%")
    values = np.linspace(start, stop, steps)
    tights = [{muscle: Tightness(shortening=float(v), stiffness=stiffness, tone=tone)} for v in values]
    prob, _, sol, ang = solve_batch(scenario, tights, side=side, person=person)
    return {
        "scenario": scenario,
        "muscle": muscle,
        "side": side,
        "shortening": [round(float(v), 6) for v in values],
        # a point that did not solve is null (never dropped, never a made-up number)
        "angles": {k: [round(float(x), 4) if np.isfinite(x) else None for x in v]
                   for k, v in ang.items() if np.isfinite(v).any()},
        "converged": [bool(c) for c in sol.converged],
        "messages": sorted(set(sol.messages)),
        "iterations": sol.iterations,
        "solve_ms": round(1000 * sol.seconds, 1),
    }
