"""Passive fibre force-length curves calibrated to in-vivo passive joint moments.

The model's muscles come with OpenSim's default passive curve (Millard 2012: force starts at
the optimal fibre length and reaches the maximum isometric force at 70 % strain). With the
Rajagopal/Christophy fibre and tendon lengths that puts far too much passive force in some
muscles and too little in others (the gluteus maximus carried 43 % of its maximum in relaxed
sitting). Here each muscle group's passive curve is shifted along the fibre-length axis
(``strain_at_zero_force`` = ``strain_at_one_norm_force`` - 0.7 = the group's shift, so the curve
keeps its shape) so that the summed passive hip and knee moments of the muscles match two in-vivo
data sets, hip and knee, including the coupling through the two-joint muscles:

* Riener R, Edrich T (1999) J Biomech 32:539-544 (10 healthy adults; their equations, ankle at
  0 deg), over hip -20..90 deg and knee 0..110 deg;
* Silder A et al. (2007) J Biomech 40:2628-2635 (20 healthy young adults; digitised curves at
  ankle 0 deg: hip moment at knee 15, 60, 90 and 110 deg; knee moment at hip 45 deg).

What the muscles cannot carry is a non-muscle (ligament, capsule) moment per joint of the
double-exponential form of Anderson & Pandy (1999), fitted at the same time but held near zero
in the mid-range (|M| below 0.5 N·m for hip -5..80 deg and knee 10..100 deg), so it stiffens only
near the limits of motion. Its coefficients are written next to the muscle parameters. The hip-rotation term is fitted to van Arkel et al.'s rotation
data alone (+-5 N·m at 35 deg, none within 2.5 deg of neutral).

Two conditions keep the fit physiological: in the relaxed postures of daily life (lying with
the hip 0-15 deg extended, standing, sitting at 90/90) no muscle's passive force exceeds 9.5 % of
its maximum isometric force (:data:`RELAXED_POSES`, :data:`RELAXED_LIMIT`), and a weak prior pulls
every shift towards OpenSim's default curve.

Run :func:`calibrate` once (``python -m iliopsoas.models.passive_calibration``); the result is
stored in ``lumbopelvic.yaml`` (``passive_shift`` per muscle and ``joint_tissue``), and a test
checks the stored model against the data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

#: Muscle groups that get one shift each (right side names; the left side mirrors them).
GROUPS = ("psoas_major_r", "iliacus_r", "rectus_femoris_r", "vasti_r", "sartorius_r", "tensor_fasciae_latae_r",
          "gluteus_maximus_r", "biceps_femoris_long_head_r", "semitendinosus_r", "semimembranosus_r",
          "adductor_magnus_r", "adductor_longus_r", "adductor_brevis_r", "gracilis_r", "pectineus_r",
          "gluteus_medius_anterior_r", "piriformis_r", "obturator_internus_r", "quadratus_femoris_r")
#: Groups that share one shift (too little data to tell them apart).
TIED = {"semitendinosus_r": "biceps_femoris_long_head_r", "semimembranosus_r": "biceps_femoris_long_head_r",
        "adductor_brevis_r": "adductor_longus_r", "obturator_internus_r": "piriformis_r",
        "quadratus_femoris_r": "piriformis_r"}
SHIFT_BOUNDS = (0.0, 0.9)
WIDTH = 0.7  # strain_at_one_norm_force - strain_at_zero_force (OpenSim's default curve shape)
MID_RANGE = {"hip_flexion": (-5.0, 80.0), "knee_angle": (4.0, 100.0)}
MID_RANGE_TOL = 0.5  # N m
#: (hip flexion, knee flexion) in deg of the relaxed postures: supine, prone, standing, sitting
RELAXED_POSES = ((-15.0, 0.0), (-10.0, 0.0), (-5.0, 0.0), (0.0, 0.0), (5.0, 3.0), (10.0, 5.0), (15.0, 5.0),
                 (85.0, 90.0), (90.0, 90.0), (95.0, 90.0))
RELAXED_LIMIT = 0.095  # passive force / max isometric force
EXPONENT_RANGE = (8.0, 100.0)  # 1/rad: the non-muscle moment grows e-fold within 0.6-7 deg


@dataclass(frozen=True)
class TissueMoment:
    """Non-muscle moment ``k1 exp(k2 (q - qu)) + k3 exp(k4 (q - ql))`` (N·m, q in rad, + = positive q)."""

    k1: float
    k2: float
    qu: float
    k3: float
    k4: float
    ql: float

    def __call__(self, q: Any) -> Array:
        x = np.asarray(q, dtype=float)
        return self.k1 * np.exp(np.minimum(self.k2 * (x - self.qu), 50.0)) + self.k3 * np.exp(
            np.minimum(self.k4 * (x - self.ql), 50.0))

    def as_dict(self) -> dict[str, float]:
        return {k: round(float(getattr(self, k)), 6) for k in ("k1", "k2", "qu", "k3", "k4", "ql")}


def riener_edrich_hip(hip_deg: Any, knee_deg: Any) -> Array:
    """Riener & Edrich 1999 total passive hip-flexion moment (N·m, + flexing), angles in deg."""
    h, k = np.asarray(hip_deg, dtype=float), np.asarray(knee_deg, dtype=float)
    return np.exp(1.4655 - 0.0034 * k - 0.0750 * h) - np.exp(1.3403 - 0.0226 * k + 0.0305 * h) + 8.072


def riener_edrich_knee(hip_deg: Any, knee_deg: Any, ankle_dorsiflexion_deg: Any = 0.0) -> Array:
    """Riener & Edrich 1999 total passive knee-flexion moment (N·m, + flexing), angles in deg.

    Their ankle angle is + in plantarflexion; this takes dorsiflexion (sign flipped), as in the
    transcription used by Miller et al. 2012. The last term is their knee-extension stop.
    """
    h, k = np.asarray(hip_deg, dtype=float), np.asarray(knee_deg, dtype=float)
    a = np.asarray(ankle_dorsiflexion_deg, dtype=float)
    return (np.exp(1.800 + 0.0460 * a - 0.0352 * k + 0.0217 * h) - np.exp(-3.971 + 0.0004 * a + 0.0495 * k - 0.0128 * h)
            - 4.820 + np.exp(np.minimum(2.220 - 1.50 * k, 50.0)))


def targets() -> dict[str, Array]:
    """The calibration data: ``hip``, ``knee`` (deg), ``which`` (0 = hip moment, 1 = knee), ``value``
    (N·m), ``source`` (0 = Riener & Edrich, 1 = Silder)."""
    from iliopsoas.models.literature import silder_2007_passive_moments

    hips, knees = np.meshgrid(np.arange(-20.0, 90.01, 5.0), np.arange(0.0, 110.01, 10.0), indexing="ij")
    h, k = hips.ravel(), knees.ravel()
    parts = [
        (h, k, np.zeros_like(h), riener_edrich_hip(h, k), np.zeros_like(h)),
        (h, k, np.ones_like(h), riener_edrich_knee(h, k), np.zeros_like(h)),
    ]
    s = silder_2007_passive_moments()
    ankle0 = s["ankle"] == 0.0
    for name, which in (("hip_flexion", 0.0), ("knee_flexion", 1.0)):
        sel = ankle0 & (s["moment"] == name)
        idx = np.flatnonzero(sel)[::2]
        parts.append((s["hip"][idx], s["knee"][idx], np.full(idx.size, which), s["value"][idx],
                      np.ones(idx.size)))
    cat = [np.concatenate(x) for x in zip(*parts, strict=True)]
    return {"hip": cat[0], "knee": cat[1], "which": cat[2].astype(int), "value": cat[3], "source": cat[4].astype(int)}


def hip_rotation_tissue() -> TissueMoment:
    """Non-muscle hip-rotation moment fitted to van Arkel et al. 2015 (+ q = internal rotation).

    Symmetric form ``-a exp(b (q - q1)) + a exp(-b (q + q1))``: ``a exp(b (35 deg - q1))`` = 5 N·m
    and at most 0.05 N·m at 2.5 deg from neutral, with the slope of 0.03 N·m/deg at 25 deg that
    their figure shows (``b`` from the ratio of the moment at 35 and 25 deg).
    """
    m35, slope25 = 5.0, 0.03 * 180.0 / math.pi  # N m, N m/rad
    # a b exp(b (25 - q1)) = slope25 and a exp(b (35 - q1)) = m35  ->  b exp(-b 10 deg) = slope25 / m35
    from scipy.optimize import brentq

    d = math.radians(10.0)
    b = brentq(lambda bb: bb * math.exp(-bb * d) - slope25 / m35, 1.0 / d, 200.0)
    q1 = math.radians(35.0) - math.log(m35) / b  # a = 1 N m
    return TissueMoment(-1.0, b, q1, 1.0, -b, -q1)


def _default_curve() -> Any:
    from iliopsoas.mechanics.muscles import BezierCurves, fiber_force_length_curve

    return BezierCurves.stack([fiber_force_length_curve(0.0, WIDTH, 0.2, 2.0 / WIDTH, 0.75)], 2)


def _state(model: Any, side: str, hip_deg: Array, knee_deg: Array) -> dict[str, Any]:
    """Normalised fibre lengths, cos(pennation), hip and knee moment arms of the leg's muscles."""
    from iliopsoas.mechanics import complete_coordinates, lengths_and_moment_arms
    from iliopsoas.mechanics.forces import muscle_state

    q = np.zeros((hip_deg.size, len(model.coordinates)))
    q[:, model.coordinate_index(f"hip_flexion_{side}")] = np.radians(hip_deg)
    q[:, model.coordinate_index(f"knee_angle_{side}")] = np.radians(knee_deg)
    q = complete_coordinates(model, q)
    L, r = lengths_and_moment_arms(model, q, [f"hip_flexion_{side}", f"knee_angle_{side}"])
    ms = muscle_state(model.muscle_params, L, 0.0, tendon="rigid")
    return {"ln": ms.normalized_fiber_length, "cos": np.cos(ms.pennation_angle), "r": r}


def _group_index(model: Any, groups: dict[str, list[str]]) -> tuple[list[str], NDArray[np.intp]]:
    """Free parameter names and, per model muscle, the index of its shift (-1: not calibrated)."""
    free = [g for g in GROUPS if g not in TIED]
    col = np.full(len(model.muscle_names), -1, dtype=np.intp)
    for g in GROUPS:
        owner = free.index(TIED.get(g, g))
        for n in groups.get(g, []):
            col[model.muscle_index(n)] = owner
    return free, col


def _unpack(x: Array, n_shift: int) -> tuple[Array, TissueMoment, TissueMoment]:
    s = x[:n_shift]
    a = x[n_shift:]
    hip = TissueMoment(-math.exp(a[0]), math.exp(a[1]), math.radians(120.0),
                       math.exp(a[2]), -math.exp(a[3]), math.radians(-20.0))
    knee = TissueMoment(-math.exp(a[4]), math.exp(a[5]), math.radians(130.0),
                        math.exp(a[6]), -math.exp(a[7]), 0.0)
    return s, hip, knee


def calibrate(*, prior_weight: float = 2.0) -> dict[str, Any]:
    """Fit the group shifts and the two joint-tissue moments; returns them with the fit errors."""
    from scipy.optimize import least_squares

    from iliopsoas import models

    model = models.load("lumbopelvic")
    groups = models.groups("lumbopelvic")
    t = targets()
    relaxed = np.asarray(RELAXED_POSES)
    st = _state(model, "r", np.concatenate([t["hip"], relaxed[:, 0]]), np.concatenate([t["knee"], relaxed[:, 1]]))
    nt = t["hip"].size
    mid_h = np.linspace(*MID_RANGE["hip_flexion"], 18)
    mid_k = np.linspace(*MID_RANGE["knee_angle"], 19)
    free, col = _group_index(model, groups)
    use = col >= 0
    fmax = model.muscle_params.max_isometric_force
    curve = _default_curve()
    which = t["which"]

    def passive_fraction(shifts: Array) -> Array:
        x = st["ln"][:, use] - shifts[col[use]][None, :]
        f, _ = curve.eval_at(x.ravel(), np.zeros(x.size, dtype=np.intp))
        return f.reshape(x.shape)

    def muscle_moments(shifts: Array) -> tuple[Array, Array]:
        f = passive_fraction(shifts)
        F = f * fmax[use] * st["cos"][:, use]
        return np.einsum("nm,nmk->nk", F[:nt], st["r"][:nt, use, :]), f[nt:]

    def residual(x: Array) -> Array:
        s, th, tk = _unpack(x, len(free))
        M, frac = muscle_moments(s)
        model_m = np.where(which == 0, M[:, 0] + th(np.radians(t["hip"])), M[:, 1] + tk(np.radians(t["knee"])))
        err = model_m - t["value"]
        mid = np.concatenate([th(np.radians(mid_h)), tk(np.radians(mid_k))]) / MID_RANGE_TOL
        relaxed_excess = 1000.0 * np.maximum(frac - RELAXED_LIMIT, 0.0).ravel()
        return np.concatenate([err, 3.0 * np.maximum(np.abs(mid) - 1.0, 0.0), relaxed_excess, prior_weight * s])

    x0 = np.concatenate([np.zeros(len(free)), np.log([1.0, 15.0, 2.0, 15.0, 1.0, 15.0, 5.0, 20.0])])
    # amplitudes free; exponents steep (an e-fold within 1-7 deg), so the term acts near a limit only
    steep = (math.log(EXPONENT_RANGE[0]), math.log(EXPONENT_RANGE[1]))
    lo = np.concatenate([np.full(len(free), SHIFT_BOUNDS[0]), [-8.0, steep[0]] * 4])
    hi = np.concatenate([np.full(len(free), SHIFT_BOUNDS[1]), [6.0, steep[1]] * 4])
    sol = least_squares(residual, x0, bounds=(lo, hi), x_scale="jac", max_nfev=400)
    s, th, tk = _unpack(sol.x, len(free))
    M, frac = muscle_moments(s)
    fit = np.where(which == 0, M[:, 0] + th(np.radians(t["hip"])), M[:, 1] + tk(np.radians(t["knee"])))
    err = fit - t["value"]
    rms = {f"{src}_{j}": float(np.sqrt(np.mean(err[(t["source"] == i) & (which == w)] ** 2)))
           for i, src in enumerate(("riener_edrich_1999", "silder_2007")) for w, j in enumerate(("hip", "knee"))}
    return {
        "shifts": {g: round(float(s[free.index(TIED.get(g, g))]), 4) for g in GROUPS},
        "hip_flexion_tissue": th,
        "knee_angle_tissue": tk,
        "rms_nm": rms,
        "relaxed_max_passive_fraction": float(frac.max()),
        "hip_rotation_tissue": hip_rotation_tissue(),
        "mid_range_max_tissue_nm": float(max(np.abs(th(np.radians(mid_h))).max(), np.abs(tk(np.radians(mid_k))).max())),
        "cost": float(sol.cost),
    }


if __name__ == "__main__":  # pragma: no cover - run by hand when the model's geometry changes
    out = calibrate()
    for key, val in out.items():
        print(key, val.as_dict() if isinstance(val, TissueMoment) else val)
