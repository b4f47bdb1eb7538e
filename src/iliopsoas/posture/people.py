"""Variation between people that the lumbopelvic model can express.

* ``psoas_minor`` -- present or absent (present in roughly a third to two thirds of people; see
  shared/reference/psoas_minor_prevalence.csv). Absent = the model is built without it.
* ``muscle_size`` -- every muscle's forces scaled by this factor (0.5 to 2.0), standing in for a
  larger or smaller physiological cross-section (force is proportional to PCSA).
* ``pelvic_incidence_offset_deg`` -- the model has no pelvic-incidence parameter, but the
  sacroiliac nutation coordinate turns the sacrum against the innominates, which changes the
  sacral slope for a given innominate orientation, i.e. the incidence. It is limited to the
  model's nutation range (+-4 deg, from RSA studies; see docs/model.md), far narrower than the
  spread of incidence between people (Vaz 2002: 51.7 +- 11 deg, range 33-85), so only small
  differences can be represented.
* ``fiber_length_scale`` -- every muscle's optimal fibre length scaled by this factor (0.5 to 2.0),
  its tendon shorter by as much, so the muscle-tendon length at which the fibre is at its
  optimal length is unchanged: longer fibres are stretched less by the same joint motion
  (between-person spread: Ward et al. 2009, psoas 11.69 +- 1.66 cm).
* ``pelvis_shape_deg`` -- the ASIS-PSIS angle of the bone with the anterior pelvic plane
  vertical (Preece et al. 2008: 13 +- 5 deg, range 0-23, in 30 pelves): it adds to every pelvic
  tilt the model reports (the clinical ASIS-PSIS measure) and changes no force.
* ``body_mass_scale`` -- every body's mass scaled by this factor (0.5 to 2.0), muscles unchanged
  (segment masses as fixed fractions of body mass, as de Leva 1996 tabulates them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from iliopsoas.posture.tightness import TightnessError

#: The ASIS-PSIS angle of the pelvis's bone shape (deg, + = PSIS higher than ASIS) with the APP
#: vertical: the mean of 30 pelves, 13 +- 5 deg, range 0-23 (Preece et al. 2008, J Man Manip Ther
#: 16:113-117). The tilt clinicians measure (ASIS-PSIS line against the horizontal) is this bone
#: shape plus the APP's own forward tilt, which is what the posture model solves; one specimen's
#: landmarks (Rajagopal 2016's RASI/RPSI skin markers give 5.9 deg) would stand for one pelvis, not
#: for the average person the model is. :class:`Person` varies it (``pelvis_shape_deg``).
PELVIS_SHAPE_DEG = 13.0
PELVIS_SHAPE_RANGE_DEG = (-10.0, 40.0)
MUSCLE_SIZE_RANGE = (0.5, 2.0)
PELVIC_INCIDENCE_OFFSET_RANGE_DEG = (-4.0, 4.0)
FIBER_LENGTH_SCALE_RANGE = (0.5, 2.0)
BODY_MASS_SCALE_RANGE = (0.5, 2.0)


@dataclass(frozen=True)
class Person:
    """One person's variation (defaults: the model as built)."""

    psoas_minor: bool = True
    muscle_size: float = 1.0
    pelvic_incidence_offset_deg: float = 0.0
    fiber_length_scale: float = 1.0
    body_mass_scale: float = 1.0
    pelvis_shape_deg: float = PELVIS_SHAPE_DEG

    def __post_init__(self) -> None:
        lo, hi = MUSCLE_SIZE_RANGE
        if not (math.isfinite(self.muscle_size) and lo <= self.muscle_size <= hi):
            raise TightnessError(f"muscle_size must be between {lo:g} and {hi:g} (force scale); got {self.muscle_size!r}")
        lo, hi = PELVIC_INCIDENCE_OFFSET_RANGE_DEG
        if not (math.isfinite(self.pelvic_incidence_offset_deg) and lo <= self.pelvic_incidence_offset_deg <= hi):
            raise TightnessError(
                f"pelvic_incidence_offset_deg must be between {lo:g} and {hi:g} (the model's sacroiliac "
                f"nutation range); got {self.pelvic_incidence_offset_deg!r}"
            )
        for name, (lo, hi), what in (("fiber_length_scale", FIBER_LENGTH_SCALE_RANGE, "optimal fibre length scale"),
                                     ("body_mass_scale", BODY_MASS_SCALE_RANGE, "scale of every body's mass"),
                                     ("pelvis_shape_deg", PELVIS_SHAPE_RANGE_DEG,
                                      "ASIS-PSIS angle of the bone with the pelvic plane vertical, deg")):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and lo <= v <= hi):
                raise TightnessError(f"{name} must be between {lo:g} and {hi:g} ({what}); got {v!r}")
