"""``/api/posture``: tightness -> the model's resting posture and clinical angles, beside the evidence.

The posture library (:mod:`iliopsoas.posture`) solves the static equilibrium; this router only
converts units (% and degrees at the edge), draws the solved pose with the Model page's scene
functions, and puts the seed claims (ledger verdict + model verdict) and published population
figures (:mod:`iliopsoas.web.posture_evidence`) next to it.
"""

from __future__ import annotations

import math
import re
import threading
from typing import Any

import numpy as np
from fastapi import APIRouter, HTTPException, Request

from iliopsoas.web.schemas import PostureIn

router = APIRouter(prefix="/api/posture", tags=["posture"])

SLIDER_TARGETS = ("psoas", "iliacus", "psoas_minor", "rectus_femoris", "tfl", "hamstrings")
DRAWN = ("psoas_major", "psoas_minor", "iliacus", "rectus_femoris")
_SOLVE = threading.Lock()  # one equilibrium solve at a time: they are CPU-bound and share cached surrogates


def _posture() -> Any:
    try:
        import iliopsoas.posture as posture
    except ImportError as exc:  # the posture library is optional for the rest of the app
        raise HTTPException(503, f"the posture library is not available: {exc}") from None
    return posture


def _claims(request: Request) -> list[dict[str, Any]]:
    from iliopsoas.web.posture_evidence import CLAIM_PATTERN

    atlas = request.app.state.settings.atlas()
    out = []
    for c in atlas.claims_for():
        if re.search(CLAIM_PATTERN, c.text, re.IGNORECASE):
            mv = c.model_verdict
            out.append({"id": c.id, "text": c.text, "verdict": c.verdict.value, "basis": c.basis,
                        "model_verdict": mv.model_dump(mode="json") if mv is not None else None})
    return out


@router.get("")
def info(request: Request) -> dict[str, Any]:
    """Scenarios, tightness targets and ranges, the seed claims about posture and population figures."""
    from iliopsoas.web.posture_evidence import population_rows

    posture = _posture()
    from iliopsoas.posture.scenarios import PELVIS_SHAPE_DEG
    from iliopsoas.posture.tightness import SHORTENING_RANGE, STIFFNESS_RANGE, TARGETS

    return {
        "scenarios": list(posture.SCENARIOS),
        "targets": [t for t in SLIDER_TARGETS if t in TARGETS],
        "all_targets": sorted(TARGETS),
        "shortening_pct": [SHORTENING_RANGE[0] * 100, SHORTENING_RANGE[1] * 100],
        "stiffness": list(STIFFNESS_RANGE),
        "population": population_rows(PELVIS_SHAPE_DEG),
        "claims": _claims(request),
    }


def _drawing(request: Request, pose_deg: dict[str, float], side: str) -> dict[str, Any]:
    """The solved pose drawn like the Model page: bone segments and the hip flexors' paths (m)."""
    import numpy as np

    from iliopsoas.web.scene import muscle_paths, skeleton

    view = request.app.state.settings.posture_view()
    q = np.array(view.model.coordinate_defaults, dtype=float)
    for key, value in pose_deg.items():
        name, unit = key.rsplit("_", 1)
        if name in view.model.coordinate_names:
            q[view.model.coordinate_index(name)] = math.radians(value) if unit == "deg" else value
    s = "r" if side == "right" else "l"
    groups = [f"{g}_{s}" for g in DRAWN if f"{g}_{s}" in view.groups]
    return {**skeleton(view, q), "muscles": muscle_paths(view, q, groups)}


@router.post("/simulate")
def simulate(request: Request, body: PostureIn) -> dict[str, Any]:
    """Solve the scenario with and without the given tightness; angles in degrees."""
    posture = _posture()
    settings = request.app.state.settings
    with _SOLVE:
        result, baseline = _solve(posture, settings, body)
    out = result.as_dict()
    out["baseline"] = {"angles": baseline.angles, "converged": baseline.converged}
    out["drawing"] = _drawing(request, result.pose_deg, body.side)
    out["baseline_drawing"] = _drawing(request, baseline.pose_deg, body.side)
    return out


#: the order in which :func:`warm_up` prepares the scenarios: the page opens on standing
WARM_ORDER = ("standing", "supine", "sitting", "thomas", "prone")


def _baseline(posture: Any, settings: Any, scenario: str, side: str) -> Any:
    """The untightened solve of ``scenario``, computed once per app (kept in ``settings.cache``)."""
    key = f"posture-baseline:{scenario}:{side}"
    baseline = settings.cache.get(key)
    if baseline is None:
        baseline = settings.cache[key] = posture.simulate(scenario, {}, side=side)
    return baseline


def warm_up(settings: Any, scenarios: tuple[str, ...] = WARM_ORDER, sides: tuple[str, ...] = ("right", "left")
            ) -> list[str]:
    """Prepare every scenario before the first person asks: the drawing's model, the fits, the
    engine tables and each scenario's baseline.

    Run by ``iliopsoas serve`` in a background thread. Each scenario takes the solver lock for its
    own solve only, so a request waits at most for the one scenario being prepared (and finds its
    own scenario ready if it was prepared already). The left side is prepared after all right
    sides (the Thomas test solves the other leg's problem). Returns the scenarios prepared; a
    scenario whose solve fails is skipped (the request will report the error itself).
    """
    try:
        posture = _posture()
    except HTTPException:
        return []
    try:
        settings.posture_view()  # the bones and paths every answer draws
    except Exception:  # noqa: BLE001 - the request reports a broken model itself
        return []
    done = []
    for side in sides:
        for scenario in scenarios:
            if scenario not in posture.SCENARIOS:
                continue
            try:
                with _SOLVE:
                    _baseline(posture, settings, scenario, side)
            except Exception:  # noqa: BLE001 - a warm-up never takes the app down
                continue
            done.append(f"{scenario}:{side}")
    return done


def _solve(posture: Any, settings: Any, body: PostureIn) -> tuple[Any, Any]:
    try:
        tight = {t: posture.Tightness(shortening=v.shortening_pct / 100.0, stiffness=v.stiffness)
                 for t, v in body.tightness.items() if v.shortening_pct > 0 or v.stiffness != 1.0}
        result = posture.simulate(body.scenario, tight, side=body.side)
        baseline = _baseline(posture, settings, body.scenario, body.side)
    except posture.TightnessError as exc:
        raise HTTPException(422, f"tightness: {exc}") from None
    except (ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:  # the solver gave up on this input
        raise HTTPException(422, f"{body.scenario}: no equilibrium could be computed for this tightness "
                                 f"({exc}); try less shortening or stiffness") from None
    return result, baseline
