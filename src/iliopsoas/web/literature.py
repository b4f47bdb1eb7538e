"""Published moment-arm curves the Model page overlays (``data/literature_moment_arms.csv``).

Numbers digitised by Modenese & Kohout 2020 (github modenaxe/3d-muscles, Apache-2.0, licence in
``data/LICENSE.3d-muscles.txt``) from Blemker & Delp 2005, Arnold et al. 2000, Dostal et al. 1986
and Németh & Ohlsén 1985; converted to OpenSim's sign convention by
``scripts/build_literature_bands.py``. Read from the package on each call (a few kB).
"""

from __future__ import annotations

import csv
import io
from importlib import resources
from typing import Any

from iliopsoas.models.labels import split_side

FILE = "literature_moment_arms.csv"


def _text() -> str:
    return resources.files("iliopsoas.web").joinpath("data", FILE).read_text(encoding="utf-8")


def citations() -> dict[str, str]:
    """Source key -> full citation (from the CSV's header comments)."""
    out = {}
    for line in _text().splitlines():
        if line.startswith("# ") and ":" in line and line[2:].split(":", 1)[0].isupper():
            key, cite = line[2:].split(":", 1)
            out[key.strip()] = cite.strip()
    return out


def bands_for(group: str, coordinate: str) -> list[dict[str, Any]]:
    """Published curves for a model muscle group (``psoas_major_r``) about a coordinate (``hip_flexion_r``).

    The literature is for the right side; a left-side group or coordinate matches the same
    curves (the sign convention is per side in OpenSim). ``gluteus_medius`` curves are for the
    whole muscle and match any ``gluteus_medius*`` group. Each curve is sorted by angle.
    """
    g, _ = split_side(group)
    c, _ = split_side(coordinate)
    cites = citations()
    curves: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    rows = csv.DictReader(io.StringIO("\n".join(ln for ln in _text().splitlines() if not ln.startswith("#"))))
    for r in rows:
        if r["coordinate"] != c or not (g == r["muscle"] or g.startswith(r["muscle"] + "_")):
            continue
        curves.setdefault((r["source"], r["muscle"], r["series"]), []).append(
            (float(r["angle_deg"]), float(r["moment_arm_cm"])))
    out = []
    for (source, muscle, series), pts in curves.items():
        pts.sort()
        out.append({"source": source, "citation": cites.get(source, source), "series": series, "muscle": muscle,
                    "coordinate": c, "angle_deg": [a for a, _ in pts], "value": [v for _, v in pts]})
    return out
