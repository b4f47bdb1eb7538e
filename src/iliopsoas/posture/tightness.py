"""Tightness of a muscle or fascicle group, as parameters of its passive force.

A tight muscle is modelled in three independent ways, each within a stated physiological range:

* ``shortening`` -- the resting length of the muscle-tendon unit is shorter by this fraction of
  the optimal fibre length (0 to 0.4). With the rigid tendon used for posture this is exactly a
  reduction of the tendon slack length by ``shortening * optimal_fiber_length``: the passive fibre
  force starts rising earlier.
* ``tendon_shortening`` -- the same, as a fraction of the tendon slack length (0 to 0.1).
* ``stiffness`` -- the passive fibre force is multiplied by this factor (0.5 to 3).
* ``tone`` -- a resting activation (0, or 0.01 to 0.1: resting EMG of a few per cent of a
  maximal contraction); below 0.01 the engine's Millard minimum activation would clamp it.

The model itself is never changed: :func:`muscle_loads` turns a mapping of targets to
:class:`Tightness` into per-muscle arrays that the equilibrium solver applies row by row, which
is what lets a dose-response sweep be solved as one batch.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

SHORTENING_RANGE = (0.0, 0.4)
TENDON_SHORTENING_RANGE = (0.0, 0.1)
STIFFNESS_RANGE = (0.5, 3.0)
TONE_RANGE = (0.0, 0.1)
MIN_TONE = 0.01  # Millard2012 minimum activation in our model: lower tone values would be clamped

#: Target names accepted by ``--tight`` and :func:`muscle_loads`, mapped to model muscle groups
#: (side suffix added later). Fascicle names of the model (e.g. ``iliacus_sacral``) work too.
TARGETS: dict[str, tuple[str, ...]] = {
    "psoas": ("psoas_major",),
    "psoas_major": ("psoas_major",),
    "psoas_minor": ("psoas_minor",),
    "iliacus": ("iliacus",),
    "iliopsoas": ("psoas_major", "psoas_minor", "iliacus"),
    "rectus_femoris": ("rectus_femoris",),
    "tfl": ("tensor_fasciae_latae",),
    "tensor_fasciae_latae": ("tensor_fasciae_latae",),
    "sartorius": ("sartorius",),
    "pectineus": ("pectineus",),
    "hamstrings": ("biceps_femoris_long_head", "semitendinosus", "semimembranosus"),
    "gluteus_maximus": ("gluteus_maximus",),
    "erector_spinae": ("erector_spinae",),
    "quadratus_lumborum": ("quadratus_lumborum",),
    "adductors": ("adductor_longus", "adductor_brevis", "adductor_magnus", "gracilis"),
    "adductor_longus": ("adductor_longus",),
    "adductor_brevis": ("adductor_brevis",),
    "adductor_magnus": ("adductor_magnus",),
    "gracilis": ("gracilis",),
    "quadratus_femoris": ("quadratus_femoris",),
    "piriformis": ("piriformis",),
    "obturator_internus": ("obturator_internus",),
}


class TightnessError(ValueError):
    """A tightness parameter or target is outside what the model accepts."""


def _check_range(name: str, value: float, lo: float, hi: float, what: str) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value)) or not lo <= value <= hi:
        raise TightnessError(f"{name} must be between {lo:g} and {hi:g} ({what}); got {value!r}")


@dataclass(frozen=True)
class Tightness:
    """Passive-force parameters of one target (see the module docstring for the ranges)."""

    shortening: float = 0.0
    tendon_shortening: float = 0.0
    stiffness: float = 1.0
    tone: float = 0.0

    def __post_init__(self) -> None:
        _check_range("shortening", self.shortening, *SHORTENING_RANGE,
                     "fraction of optimal fibre length; 0.2 = resting length 20 % of a fibre shorter")
        _check_range("tendon_shortening", self.tendon_shortening, *TENDON_SHORTENING_RANGE,
                     "fraction of tendon slack length")
        _check_range("stiffness", self.stiffness, *STIFFNESS_RANGE, "scale of the passive fibre force")
        _check_range("tone", self.tone, *TONE_RANGE, "resting activation")
        if 0.0 < self.tone < MIN_TONE:
            raise TightnessError(
                f"tone must be 0 or between {MIN_TONE:g} and {TONE_RANGE[1]:g} (the model's minimum "
                f"activation is {MIN_TONE:g}); got {self.tone!r}"
            )


_PCT = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*(%?)\s*$")


def _number(text: str, where: str) -> float:
    m = _PCT.match(text)
    if not m:
        raise TightnessError(f"{where}: expected a number such as 20% or 0.2, got {text!r}")
    v = float(m.group(1))
    return v / 100.0 if m.group(2) else v


def parse_tight(spec: str) -> tuple[str, Tightness]:
    """Parse ``"psoas=20%"`` or ``"iliacus=10%:stiffness=1.5:tone=0.02"``.

    The first value is the shortening (fraction of optimal fibre length; ``20%`` = ``0.2``);
    optional ``:key=value`` parts set ``stiffness``, ``tone`` and ``tendon_shortening``.
    """
    if "=" not in spec:
        raise TightnessError(f"--tight expects TARGET=AMOUNT such as psoas=20%, got {spec!r}")
    head, *extras = spec.split(":")
    target, _, amount = head.partition("=")
    target = target.strip().lower().replace("-", "_")
    if not target:
        raise TightnessError(f"--tight {spec!r}: the target name is empty")
    kw: dict[str, float] = {"shortening": _number(amount, f"--tight {spec!r}")}
    for part in extras:
        key, _, val = part.partition("=")
        key = key.strip().lower()
        if key not in ("stiffness", "tone", "tendon_shortening", "shortening"):
            raise TightnessError(
                f"--tight {spec!r}: unknown option {key!r} (expected stiffness, tone or tendon_shortening)"
            )
        kw[key] = _number(val, f"--tight {spec!r}")
    return target, Tightness(**kw)


def resolve_target(target: str, muscle_names: Sequence[str], group_of: Mapping[str, str], side: str) -> list[int]:
    """Indices of the muscles a target names on ``side`` (``"r"`` or ``"l"``)."""
    t = target.strip().lower().replace("-", "_")
    groups = TARGETS.get(t)
    if groups is not None:
        wanted = {f"{g}_{side}" for g in groups}
        ids = [i for i, n in enumerate(muscle_names) if group_of.get(n) in wanted]
    else:
        name = t if t.endswith(f"_{side}") else f"{t}_{side}"
        ids = [i for i, n in enumerate(muscle_names) if n == name]
    if not ids:
        known = ", ".join(sorted(TARGETS))
        raise TightnessError(
            f"unknown tightness target {target!r} on side {side!r}: use one of {known}, "
            "or a fascicle name of the model such as iliacus_sacral"
        )
    return ids


@dataclass(frozen=True)
class MuscleLoads:
    """Per-row, per-muscle modifiers, each ``(n, m)``: what the solver applies to the muscles.

    ``length_offset`` (m) is added to the path length (a shorter resting length = a longer
    effective length); ``stiffness`` scales the passive fibre force; ``activation`` is the
    resting tone (0 = passive only); ``force_scale`` scales every force (muscle size).
    Two optional person properties (None = 1, the model as built):
    ``fiber_length_scale`` ``(n, m)`` -- optimal fibre length times this factor, the tendon slack
    length shorter by as much of it (``(f - 1) l_o cos(alpha_o)``), so the muscle-tendon length at
    which the fibre is at its optimal length is unchanged: longer fibres stretch less per metre of
    path length; ``gravity_scale`` ``(n,)`` -- every body's mass times this factor.
    """

    length_offset: Array
    stiffness: Array
    activation: Array
    force_scale: Array
    fiber_length_scale: Array | None = None
    gravity_scale: Array | None = None

    @property
    def n(self) -> int:
        return int(self.length_offset.shape[0])

    def rows(self, idx: NDArray[np.intp]) -> MuscleLoads:
        return MuscleLoads(self.length_offset[idx], self.stiffness[idx], self.activation[idx],
                           self.force_scale[idx],
                           None if self.fiber_length_scale is None else self.fiber_length_scale[idx],
                           None if self.gravity_scale is None else self.gravity_scale[idx])


def muscle_loads(
    tight: Sequence[Mapping[str, Tightness]] | Mapping[str, Tightness],
    muscle_names: Sequence[str],
    group_of: Mapping[str, str],
    optimal_fiber_length: Array,
    tendon_slack_length: Array,
    *,
    side: str = "r",
    force_scale: float = 1.0,
    fiber_length_scale: float = 1.0,
    gravity_scale: float = 1.0,
) -> MuscleLoads:
    """Turn one mapping (or a batch of mappings) of target -> Tightness into :class:`MuscleLoads`.

    ``force_scale``, ``fiber_length_scale`` and ``gravity_scale`` are the person's (every row,
    both sides; see :class:`MuscleLoads`)."""
    if side not in ("r", "l"):
        raise TightnessError(f"side must be 'r' or 'l', got {side!r}")
    batch = [tight] if isinstance(tight, Mapping) else list(tight)
    m = len(muscle_names)
    n = len(batch)
    off = np.zeros((n, m))
    stiff = np.ones((n, m))
    act = np.zeros((n, m))
    resolved: dict[str, list[int]] = {}  # a sweep names the same target on every row
    for row, mapping in enumerate(batch):
        for target, t in mapping.items():
            if not isinstance(t, Tightness):
                raise TightnessError(f"tightness of {target!r} must be a Tightness, got {type(t).__name__}")
            ids = resolved.get(target)
            if ids is None:
                ids = resolved[target] = resolve_target(target, muscle_names, group_of, side)
            off[row, ids] = t.shortening * optimal_fiber_length[ids] + t.tendon_shortening * tendon_slack_length[ids]
            stiff[row, ids] = t.stiffness
            act[row, ids] = t.tone
    return MuscleLoads(off, stiff, act, np.full((n, m), float(force_scale)),
                       None if fiber_length_scale == 1.0 else np.full((n, m), float(fiber_length_scale)),
                       None if gravity_scale == 1.0 else np.full(n, float(gravity_scale)))
