"""Passive joint moments from published curves (N·m; angles in rad unless a name says _deg).

Two kinds, used for different purposes:

* **Non-muscle tissue (ligaments, capsule, discs) near the end of range**, used by the
  equilibrium solver because the muscles' own passive forces are already in the model:
  the double-exponential limit moment of Anderson & Pandy,
  ``M(q) = k1 exp(k2 (q - theta_upper)) + k3 exp(k4 (q - theta_lower))``,
  with the coefficients of Anderson FC & Pandy MG (1999) Comput Methods Biomech Biomed Engin
  2(3):201-231 (from Anderson's 1999 thesis, Table G.2, eq. 4.4) as tabulated for the
  hip, knee and trunk (lumbar extension) coordinates of an OpenSim gait model by Falisse et al.
  (2019) J R Soc Interface 16:20190402 (3dpredictsim, PassiveMoments/PassiveMomentsData.m).
  Their knee angle is negative in flexion; ours is positive, so the knee curve is mirrored.
  Their trunk coordinate is one pelvis-torso joint; we apply it to the total L1-S1 + T12/L1
  extension of our spine (the sum of the six levels under the Christophy rhythm).
* **Total passive moment including the muscles**, measured in vivo by Riener R & Edrich T
  (1999) J Biomech 32(5):539-544 (``riener_edrich_hip_moment``, ``riener_edrich_knee_moment``).
  Used to calibrate the hip-flexion and knee coordinates (see ``equilibrium``): the non-muscle
  remainder there is Riener & Edrich's total minus the untightened model muscles' own passive
  moment, so the untightened model has their in-vivo passive hip and knee moments, and
  tightness adds to them only the change of the muscle forces it causes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]


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
LUMBAR_NEUTRAL_STIFFNESS = 0.25 * 180.0 / 3.141592653589793


def lumbar_moment(total_extension: ArrayLike) -> Array:
    """Passive moment (N·m, + = extending) about the total lumbar extension angle (rad)."""
    x = np.asarray(total_extension, dtype=float)
    return LUMBAR_EXTENSION(x) - LUMBAR_NEUTRAL_STIFFNESS * x


#: model coordinate (side suffix added) -> limit moment
COORDINATE_LIMITS: dict[str, LimitMoment] = {
    "hip_flexion": HIP_FLEXION,
    "hip_adduction": HIP_ADDUCTION,
    "hip_rotation": HIP_ROTATION,
    "knee_angle": KNEE_FLEXION,
}


def riener_edrich_knee_moment(hip_flexion_deg: ArrayLike, knee_flexion_deg: ArrayLike,
                              ankle_dorsiflexion_deg: ArrayLike = 0.0) -> Array:
    """Total passive knee moment (N·m, + = flexing) of Riener & Edrich 1999 (angles in deg).

    Their ankle angle is positive in plantarflexion; this function takes dorsiflexion (sign
    flipped), as in the MATLAB transcription used by Miller et al. 2012. The last term is
    ``exp(2.220 - 1.50 knee)`` as transcribed there (a stop that acts only near full extension).
    """
    h = np.asarray(hip_flexion_deg, dtype=float)
    k = np.asarray(knee_flexion_deg, dtype=float)
    a = np.asarray(ankle_dorsiflexion_deg, dtype=float)
    return (np.exp(1.800 + 0.0460 * a - 0.0352 * k + 0.0217 * h)
            - np.exp(-3.971 + 0.0004 * a + 0.0495 * k - 0.0128 * h)
            - 4.820 + np.exp(np.minimum(2.220 - 1.50 * k, 50.0)))


def riener_edrich_hip_moment(hip_flexion_deg: ArrayLike, knee_flexion_deg: ArrayLike) -> Array:
    """Total passive hip-flexion moment (N·m, + = flexing) of Riener & Edrich 1999, eq. for the hip.

    Angles in degrees, flexion positive. Includes the passive forces of all muscles crossing
    the hip, so it is compared with, never added to, the model's muscle forces.
    """
    h = np.asarray(hip_flexion_deg, dtype=float)
    k = np.asarray(knee_flexion_deg, dtype=float)
    return np.exp(1.4655 - 0.0034 * k - 0.0750 * h) - np.exp(1.3403 - 0.0226 * k + 0.0305 * h) + 8.072
