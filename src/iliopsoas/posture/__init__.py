"""Posture: what hip-flexor tightness does, as numbers.

Static equilibrium of the bundled lumbopelvic model under gravity, passive muscle forces,
passive joint moments and one-sided contact, in five scenarios (supine, standing, sitting, the
modified Thomas test, prone), with tightness and between-person variation as parameters.

>>> from iliopsoas.posture import Tightness, simulate        # doctest: +SKIP
>>> r = simulate("supine", {"iliacus": Tightness(shortening=0.1)})  # doctest: +SKIP
>>> r.angles["hip_rotation_deg"]                              # doctest: +SKIP
"""

from iliopsoas.posture.people import Person
from iliopsoas.posture.scenarios import SCENARIOS, ScenarioResult, simulate
from iliopsoas.posture.sweep import sweep
from iliopsoas.posture.tightness import Tightness, TightnessError, parse_tight

__all__ = [
    "SCENARIOS",
    "Person",
    "ScenarioResult",
    "Tightness",
    "TightnessError",
    "parse_tight",
    "simulate",
    "sweep",
]
