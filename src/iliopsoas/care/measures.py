"""One source for the measurement kinds a person can log, their units, ranges and change bands.

The API (``GET /api/care/measures/kinds``), the web form and the progress charts read this table.
Every band is a published threshold, so that noise is not read as change:

* NPRS: a change of 2 points is the smallest that matters (MCID 2.2 at 1 week and 1.5 at 4 weeks in
  low back pain, Childs et al. 2005 Spine 30(11):1331; a 2-point drop matched "satisfied" in chronic
  low back pain, Suzuki et al. 2020);
* PSFS: minimal detectable change 2 points for the average score (Stratford et al. 1995);
* modified Thomas hip angle: standard error of measurement 11 degrees with a goniometer
  (Peeler & Anderson 2007, Phys Ther Sport 8:14-21);
* modified Thomas knee angle: SEM 7 degrees with a goniometer (Peeler & Anderson 2008, J Athl Train
  43(5):470-476);
* standing pelvic tilt: SEM 3.6 degrees with a PALM inclinometer (Hagins et al. 1998, J Man Manip Ther 6(3):130).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class MeasureKind:
    kind: str
    label: str
    unit: str
    low: float
    high: float
    band: float | None
    band_kind: str | None  # MCID, MDC or SEM
    band_source: str | None
    step: float = 1.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


MEASURES: dict[str, MeasureKind] = {
    m.kind: m
    for m in (
        MeasureKind("nprs", "pain (NPRS 0-10)", "points", 0, 10, 2.0, "MCID", "Childs 2005; Suzuki 2020"),
        MeasureKind("psfs", "PSFS average (0-10)", "points", 0, 10, 2.0, "MDC", "Stratford 1995", 0.1),
        MeasureKind("thomas_hip_deg", "Thomas test hip angle", "deg", -90, 90, 11.0, "SEM",
                    "Peeler & Anderson 2007"),
        MeasureKind("thomas_knee_deg", "Thomas test knee angle", "deg", 0, 180, 7.0, "SEM",
                    "Peeler & Anderson 2008"),
        MeasureKind("standing_tilt_deg", "standing pelvic tilt", "deg", -45, 45, 3.6, "SEM", "Hagins 1998", 0.5),
    )
}


def check_value(kind: str, value: float) -> str | None:
    """A plain one-line problem with ``value`` for ``kind``, or None when it is fine."""
    m = MEASURES.get(kind)
    if m is None:
        return f"measurement kind must be one of {', '.join(MEASURES)}, got {kind!r}"
    if not m.low <= value <= m.high:
        return f"{m.label} must be between {m.low:g} and {m.high:g} {m.unit}, got {value:g}"
    return None
