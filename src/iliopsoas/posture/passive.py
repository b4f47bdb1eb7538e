"""Non-muscle (joint-tissue) passive moments the posture solver adds to the muscles' own forces.

The muscles' passive forces are in the model itself: their passive force-length curves are
calibrated so that the summed muscle moments at hip and knee match in-vivo passive moments
(``iliopsoas.models.passive_calibration``: Riener & Edrich 1999, Silder et al. 2007). What
remains is the tissue that is not muscle, one moment per coordinate (N·m; angles in rad unless a
name says _deg; + = towards positive coordinate values):

* **hip flexion, knee** -- the non-muscle terms fitted together with the muscle curves (stored in
  ``lumbopelvic.yaml``, ``joint_tissue``): nearly zero in the mid-range, stiffening near the ends
  of the range (the knee's extension stop, the hip's capsule).
* **hip adduction and rotation, lumbar spine** -- ligament limit moments of Anderson & Pandy
  (1999) Comput Methods Biomech Biomed Engin 2:201-231, coefficients as tabulated by Falisse et
  al. (2019) J R Soc Interface 16:20190402 (3dpredictsim, PassiveMoments/PassiveMomentsData.m),
  ``M(q) = k1 exp(k2 (q - theta_upper)) + k3 exp(k4 (q - theta_lower))``. Their trunk coordinate
  is one pelvis-torso joint; we apply it to the total L1-S1 + T12/L1 extension of our spine.
* **lumbar in-range stiffness** of discs and ligaments, 0.25 N·m/deg about the model's neutral
  lordosis (see :data:`LUMBAR_NEUTRAL_STIFFNESS`).

The Riener & Edrich (1999) equations (total passive moments, muscles included) are re-exported
here: they are the data the muscles were calibrated to, never added to the model's forces.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

from iliopsoas.models.passive_calibration import TissueMoment
from iliopsoas.models.passive_calibration import riener_edrich_hip as riener_edrich_hip_moment
from iliopsoas.models.passive_calibration import riener_edrich_knee as riener_edrich_knee_moment

Array = NDArray[np.float64]

__all__ = [
    "COORDINATE_LIMITS",
    "HIP_ADDUCTION",
    "HIP_FLEXION",
    "HIP_ROTATION",
    "KNEE_FLEXION",
    "LUMBAR_EXTENSION",
    "LUMBAR_NEUTRAL_STIFFNESS",
    "LimitMoment",
    "calibrated_tissue",
    "lumbar_moment",
    "riener_edrich_hip_moment",
    "riener_edrich_knee_moment",
    "tissue_terms",
]


@dataclass(frozen=True)
class LimitMoment:
    """``k = (k1, k2, k3, k4)``; ``theta = (lower, upper)`` in rad; ``sign`` mirrors the coordinate."""

    k: tuple[float, float, float, float]
    theta: tuple[float, float]
    sign: float = 1.0

    def __call__(self, q: ArrayLike) -> Array:
        x = self.sign * np.asarray(q, dtype=float)
        k1, k2, k3, k4 = self.k
        lo, hi = self.theta
        m = k1 * np.exp(k2 * (x - hi)) + k3 * np.exp(k4 * (x - lo))
        return self.sign * m


# Anderson & Pandy 1999 coefficients as tabulated by Falisse et al. 2019 (see module docstring).
HIP_FLEXION = LimitMoment((-2.44, 5.05, 1.51, -21.88), (-0.6981, 1.81))
HIP_ADDUCTION = LimitMoment((-0.03, 14.94, 0.03, -14.94), (-0.5, 0.5))
HIP_ROTATION = LimitMoment((-0.03, 14.94, 0.03, -14.94), (-0.92, 0.92))
KNEE_FLEXION = LimitMoment((-6.09, 33.94, 11.03, -11.33), (-2.4, 0.13), sign=-1.0)
LUMBAR_EXTENSION = LimitMoment((-0.35, 30.72, 0.25, -20.36), (-0.5235987755982988, 0.17))

#: In-range passive stiffness of the whole lumbar spine (T12-S1) about the model's neutral
#: lordosis, N·m/rad. A documented free parameter: the limit moments above are nearly zero
#: inside the range, but discs and ligaments are not. Its size is the order of the in-vivo
#: passive lumbar stiffness in the first quarter of the range, 0.23-0.31 N·m/deg (lateral
#: bending; Gombatto et al., as tabulated in Table 3 of the 2022 systematic review PMC9293810;
#: the flexion studies there report N·m per % of range, which cannot be converted). We use
#: 0.25 N·m/deg for flexion-extension.
LUMBAR_NEUTRAL_STIFFNESS = 0.25 * 180.0 / np.pi


def lumbar_moment(total_extension: ArrayLike) -> Array:
    """Non-muscle moment (N·m, + = extending) about the total lumbar extension angle (rad)."""
    x = np.asarray(total_extension, dtype=float)
    return LUMBAR_EXTENSION(x) - LUMBAR_NEUTRAL_STIFFNESS * x


#: model coordinate (side suffix added) -> the Anderson & Pandy limit moment (reference values;
#: hip flexion and knee use the calibrated terms of :func:`calibrated_tissue` instead)
COORDINATE_LIMITS: dict[str, LimitMoment] = {
    "hip_flexion": HIP_FLEXION,
    "hip_adduction": HIP_ADDUCTION,
    "hip_rotation": HIP_ROTATION,
    "knee_angle": KNEE_FLEXION,
}


@lru_cache(maxsize=2)
def calibrated_tissue(model: str = "lumbopelvic") -> dict[str, TissueMoment]:
    """The non-muscle hip-flexion and knee moments stored with the model (coordinate base name -> term)."""
    from iliopsoas.models import raw

    entries = raw(model).get("joint_tissue", {}).get("coordinates", [])
    return {e["coordinate"]: TissueMoment(**{k: float(v) for k, v in e["coefficients"].items()}) for e in entries}


def tissue_terms() -> dict[str, object]:
    """Coordinate base name -> callable non-muscle moment for the leg coordinates (both sides)."""
    out: dict[str, object] = {"hip_adduction": HIP_ADDUCTION, "hip_rotation": HIP_ROTATION}
    out.update(calibrated_tissue())
    return out
