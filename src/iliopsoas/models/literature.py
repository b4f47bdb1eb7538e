"""Published numbers the lumbopelvic model is checked against, read from ``models/data/*.csv``.

Each loader returns plain arrays in mm, N·m and degrees; the sources, how the numbers were
digitised and their licences are listed in ``models/data/README.md``.

>>> from iliopsoas.models.literature import blemker_band
>>> lo, hi = blemker_band("psoas", "flexion", [0.0, 60.0])
>>> bool((hi > lo).all())
True
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]

BLEMKER_DELP_2005 = ("Blemker & Delp 2005, Ann Biomed Eng 33:661-673 (fibre band, digitised in "
                     "modenaxe/3d-muscles, Apache-2.0)")
ARNOLD_2000 = ("Arnold, Salinas, Asakawa & Delp 2000, Comput Aided Surg 5:108-119 (3 subjects, digitised in "
               "modenaxe/3d-muscles, Apache-2.0)")
DOSTAL_1986 = "Dostal, Soderberg & Andrews 1986, Phys Ther 66:351-359 (as plotted in modenaxe/3d-muscles)"
NEMETH_1985 = "Nemeth & Ohlsen 1985, J Biomech 18:129-140 (digitised in modenaxe/3d-muscles, Apache-2.0)"
SILDER_2007 = ("Silder, Whittington, Heiderscheit & Thelen 2007, J Biomech 40:2628-2635 (digitised in "
               "stanfordnmbl/PassiveMuscleForceCalibration, Apache-2.0)")


@lru_cache(maxsize=8)
def _rows(name: str) -> tuple[dict[str, str], ...]:
    text = resources.files("iliopsoas.models").joinpath("data", name).read_text(encoding="utf-8")
    return tuple(csv.DictReader(text.splitlines()))


def blemker_band(muscle: str, axis: str, angles_deg: ArrayLike) -> tuple[Array, Array]:
    """Lower and upper bound (mm) of Blemker & Delp's fibre band at ``angles_deg`` ``(n,)``.

    ``axis`` is ``flexion`` (against hip flexion), ``adduction`` (against hip adduction) or
    ``rotation`` (against hip rotation, + = internal). Each bound is interpolated linearly
    between its digitised points; outside the digitised range the bound is NaN.
    """
    x = np.asarray(angles_deg, dtype=float)
    rows = [r for r in _rows("blemker_delp_2005_fibre_bands.csv") if r["muscle"] == muscle and r["axis"] == axis]
    if not rows:
        raise ValueError(f"no Blemker & Delp 2005 band for muscle {muscle!r} and axis {axis!r}")
    out = []
    for bound in ("lower", "upper"):
        pts = np.array([(float(r["angle_deg"]), float(r["moment_arm_mm"])) for r in rows if r["bound"] == bound])
        pts = pts[np.argsort(pts[:, 0], kind="stable")]
        v = np.interp(x, pts[:, 0], pts[:, 1])
        out.append(np.where((x < pts[0, 0] - 1.0) | (x > pts[-1, 0] + 1.0), np.nan, v))
    return out[0], out[1]


def arnold_2000_psoas_flexion(angles_deg: ArrayLike) -> Array:
    """Psoas flexion moment arm (mm) of Arnold et al.'s three subjects, ``(n, 3)``."""
    x = np.asarray(angles_deg, dtype=float)
    rows = _rows("arnold_2000_psoas_flexion.csv")
    out = []
    for s in ("1", "2", "3"):
        pts = np.array([(float(r["hip_flexion_deg"]), float(r["moment_arm_mm"])) for r in rows if r["subject"] == s])
        out.append(np.where((x < pts[:, 0].min()) | (x > pts[:, 0].max()), np.nan, np.interp(x, pts[:, 0], pts[:, 1])))
    return np.stack(out, axis=1)


def dostal_1986_iliopsoas() -> dict[str, float]:
    """Iliopsoas moment arms (mm) in the anatomical position: flexion, adduction, rotation (+ internal)."""
    return {r["axis"]: float(r["moment_arm_mm"]) for r in _rows("dostal_1986_iliopsoas.csv")}


def nemeth_1985_gluteus_maximus(angles_deg: ArrayLike) -> Array:
    """Gluteus maximus hip-extension moment arm (mm, positive) at ``angles_deg`` of hip flexion."""
    rows = _rows("nemeth_ohlsen_1985_gluteus_maximus.csv")
    pts = np.array([(float(r["hip_flexion_deg"]), float(r["extension_moment_arm_mm"])) for r in rows])
    x = np.asarray(angles_deg, dtype=float)
    return np.where((x < pts[0, 0]) | (x > pts[-1, 0]), np.nan, np.interp(x, pts[:, 0], pts[:, 1]))


def silder_2007_passive_moments(moment: str | None = None) -> dict[str, Any]:
    """Silder et al.'s passive moments: ``{"moment", "hip", "knee", "ankle", "value"}`` arrays (deg, N·m).

    ``moment`` selects ``hip_flexion``, ``knee_flexion`` or ``ankle_dorsiflexion`` (default: all);
    + = the moment flexes the joint (dorsiflexes the ankle).
    """
    rows = [r for r in _rows("silder_2007_passive_moments.csv") if moment is None or r["moment"] == moment]
    if not rows:
        raise ValueError(f"unknown passive moment {moment!r}: use hip_flexion, knee_flexion or ankle_dorsiflexion")
    return {
        "moment": np.array([r["moment"] for r in rows]),
        "hip": np.array([float(r["hip_flexion_deg"]) for r in rows]),
        "knee": np.array([float(r["knee_flexion_deg"]) for r in rows]),
        "ankle": np.array([float(r["ankle_dorsiflexion_deg"]) for r in rows]),
        "value": np.array([float(r["moment_nm"]) for r in rows]),
    }


def van_arkel_2015_capsule_flexion() -> dict[str, float]:
    """van Arkel et al. 2015: the hip extension (deg, negative) at which the capsular ligaments alone
    carry ``moment_nm`` of flexion moment, with its SD (``sd_deg``)."""
    rows = [r for r in _rows("van_arkel_2015_hip_ligaments.csv") if r["moment"] == "hip_flexion"]
    r = rows[0]
    return {"hip_flexion_deg": float(r["hip_flexion_deg"]), "sd_deg": float(r["sd_deg"]),
            "moment_nm": float(r["moment_nm"])}
