"""The one place where a sampled person becomes model parameters (the adapter to the posture model).

Everything else in :mod:`iliopsoas.population` (sampling, Dask, the store, statistics) only sees
source values in and measurement columns out; when the posture model changes (issue 13), this
module is what changes.

How today's model expresses each parameter (:data:`PARAMETERS`):

* ``psoas_minor_present`` -- :class:`~iliopsoas.posture.Person` ``psoas_minor`` (the model is
  built with or without the muscle).
* ``pelvic_incidence_deg`` -- the model has no pelvic-incidence parameter; the sacroiliac
  nutation turns the sacrum against the innominates, which changes the incidence
  (``Person.pelvic_incidence_offset_deg``). The offset from :data:`REFERENCE_PELVIC_INCIDENCE_DEG`
  is rounded to :data:`NUTATION_STEP_DEG` (each value needs its own fitted problem) and limited
  to the model's nutation range of +-4 deg; both the expressed offset and whether it was limited
  are stored per person, and the report counts them.
* ``strength_scale`` and ``passive_stiffness_scale`` -- posture in this model is passive, so a
  stronger (larger) muscle shows only through its larger passive force: their product scales the
  passive force of every muscle of the measured side (``Tightness.stiffness``).
* ``shortening`` (with ``target``) -- habitual tightness: ``Tightness.shortening`` of the target's
  muscles on the measured side.
* ``segment_mass_scale`` -- every body's mass times this factor (segment masses as fixed
  fractions of body mass, de Leva 1996), muscles unchanged: the posture model's gravity term
  (``MuscleLoads.gravity_scale``); the centre of mass does not move.
* ``optimal_fiber_length_scale`` -- every muscle's optimal fibre length times this factor, its
  tendon slack length shorter by as much, so the path length at which a fibre is at its optimal
  length is unchanged (``MuscleLoads.fiber_length_scale``): longer fibres stretch less, as a
  fraction of their length, for the same joint motion. Tightness shortening stays a fraction of
  the person's own optimal fibre length.
* ``pelvis_shape_deg`` -- the ASIS-PSIS angle of the bone with the anterior pelvic plane vertical
  (``Person.pelvis_shape_deg``): added to every pelvic tilt measured, no force changes.
* ``segment_length_scale`` -- sampled and stored, but *not expressed*: the posture problems are
  fitted once per model geometry, and scaling the bones would need the muscle paths, contact
  points and joint-tissue moments rescaled with them; the report gives it no sensitivity index.

Solving: people are solved in fixed blocks of :data:`BLOCK` consecutive people (block ``b`` holds
people ``b*BLOCK ... (b+1)*BLOCK-1``), and inside a block in one batch per model variant and
scenario. The batch a person is solved in therefore depends only on the person's index and the
run's sample, never on how the run is chunked or on the worker: results are bit-identical.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from iliopsoas.population.spec import Bernoulli, Constant, LogNormal, Normal, Spec, SpecError, Uniform

Array = NDArray[np.float64]

BLOCK = 64
REFERENCE_PELVIC_INCIDENCE_DEG = 51.7  # the model's pelvis taken as the population mean (Vaz 2002); assumption
NUTATION_STEP_DEG = 1.0


@dataclass(frozen=True)
class Parameter:
    expressed: bool
    how: str
    low: float | None = None
    high: float | None = None
    needs_target: bool = False


PARAMETERS: dict[str, Parameter] = {
    "psoas_minor_present": Parameter(True, "model built with (1) or without (0) the psoas minor", 0.0, 1.0),
    "pelvic_incidence_deg": Parameter(
        True, "sacroiliac nutation = incidence - 51.7 deg, rounded to 1 deg, limited to +-4 deg", None, None),
    "strength_scale": Parameter(True, "x passive_stiffness_scale = passive force scale of every muscle, measured side",
                                0.5, 3.0),
    "passive_stiffness_scale": Parameter(True, "x strength_scale = passive force scale of every muscle, measured side",
                                         0.5, 3.0),
    "shortening": Parameter(True, "resting length shorter by this fraction of optimal fibre length (Tightness)",
                            0.0, 0.4, needs_target=True),
    "segment_mass_scale": Parameter(True, "every body's mass x this (gravity term; centre of mass unchanged)",
                                    0.5, 2.0),
    "pelvis_shape_deg": Parameter(True, "ASIS-PSIS angle of the bone with the pelvic plane vertical: added to every "
                                        "pelvic tilt measured (no force changes)", -10.0, 40.0),
    "segment_length_scale": Parameter(False, "not expressed: the posture problems are fitted once per bone "
                                             "geometry; scaled bones would need rescaled paths, contacts and tissue"),
    "optimal_fiber_length_scale": Parameter(True, "every muscle's optimal fibre length x this, tendon slack length "
                                                  "shorter by as much (same length at optimum)", 0.5, 2.0),
}

SCENARIOS = ("supine", "standing", "sitting", "thomas", "prone")


def _support(dist: object) -> tuple[float, float]:
    if isinstance(dist, Normal):
        return (-math.inf if dist.low is None else dist.low, math.inf if dist.high is None else dist.high)
    if isinstance(dist, LogNormal):
        return (0.0, math.inf)
    if isinstance(dist, Uniform):
        return (dist.low, dist.high)
    if isinstance(dist, Bernoulli):
        return (0.0, 1.0)
    if isinstance(dist, Constant):
        return (dist.value, dist.value)
    raise TypeError(type(dist).__name__)


def _groups_of_target(target: str) -> tuple[str, ...]:
    from iliopsoas.posture.tightness import TARGETS

    t = target.strip().lower().replace("-", "_")
    if t in TARGETS:
        return TARGETS[t]
    if f"{t}_r" in _fascicles(True):
        return (_group_of(True)[f"{t}_r"].removesuffix("_r"),)
    raise KeyError(t)


def check_spec(spec: Spec, origin: str) -> None:
    """Check a spec against what this adapter can express (names, ranges, scenarios)."""
    seen_param: dict[str, str] = {}
    shortened: dict[str, str] = {}
    for name, src in spec.sources.items():
        where = f"{origin}: sources.{name}"
        p = PARAMETERS.get(src.parameter)
        if p is None:
            raise SpecError(f"{where}.parameter: unknown parameter {src.parameter!r}; expected one of "
                            f"{', '.join(PARAMETERS)}")
        if p.needs_target:
            if not src.target:
                raise SpecError(f"{where}.target: a {src.parameter} source needs a muscle target, e.g. iliacus")
            try:
                groups = _groups_of_target(src.target)
            except KeyError:
                from iliopsoas.posture.tightness import TARGETS

                raise SpecError(f"{where}.target: unknown muscle target {src.target!r}; expected one of "
                                f"{', '.join(sorted(TARGETS))}") from None
            for g in groups:
                if g in shortened:
                    raise SpecError(f"{where}.target: {src.target!r} shortens {g}, already shortened by source "
                                    f"{shortened[g]!r}")
                shortened[g] = name
        else:
            if src.target is not None:
                raise SpecError(f"{where}.target: {src.parameter} takes no target")
            if src.parameter in seen_param:
                raise SpecError(f"{where}.parameter: {src.parameter} is already set by source {seen_param[src.parameter]!r}")
            seen_param[src.parameter] = name
        lo, hi = _support(src.distribution)
        if src.parameter == "psoas_minor_present" and not isinstance(src.distribution, Bernoulli | Constant):
            raise SpecError(f"{where}.distribution: psoas_minor_present needs a bernoulli (or constant 0/1) distribution")
        if p.low is not None and p.high is not None and src.parameter not in ("strength_scale", "passive_stiffness_scale"):
            if lo < p.low or hi > p.high:
                raise SpecError(f"{where}.distribution: {src.parameter} must stay within [{p.low:g}, {p.high:g}]; "
                                f"this distribution reaches [{lo:g}, {hi:g}] (truncate it with low/high)")
    # strength x stiffness must stay inside Tightness.stiffness' range
    lo, hi = 1.0, 1.0
    for param in ("strength_scale", "passive_stiffness_scale"):
        if param in seen_param:
            a, b = _support(spec.sources[seen_param[param]].distribution)
            lo, hi = lo * a, hi * b
    if lo < 0.5 or hi > 3.0:
        raise SpecError(f"{origin}: sources: strength_scale x passive_stiffness_scale must stay within [0.5, 3] "
                        f"(the model's passive-force scale); the distributions reach [{lo:g}, {hi:g}] (truncate them "
                        "with low/high)")
    ms = spec.measurements
    for sc, names in ms.scenarios.items():
        if sc not in SCENARIOS:
            raise SpecError(f"{origin}: measurements.scenarios.{sc}: unknown scenario; expected one of {', '.join(SCENARIOS)}")
        known = _angle_names(sc)
        for angle in names:
            if angle not in known:
                raise SpecError(f"{origin}: measurements.scenarios.{sc}: unknown angle {angle!r}; expected one of "
                                f"{', '.join(known)}")
    model_groups = {g.removesuffix("_r") for g in _group_of(True).values() if g.endswith("_r")}
    for sc, gs in ms.muscle_forces.items():
        if sc not in ms.scenarios:
            raise SpecError(f"{origin}: measurements.muscle_forces.{sc}: the scenario must also be listed under "
                            "measurements.scenarios")
        for g in gs:
            if g not in model_groups:
                raise SpecError(f"{origin}: measurements.muscle_forces.{sc}: unknown muscle group {g!r}; expected one "
                                f"of {', '.join(sorted(model_groups))}")
    coords = _coordinate_bases()
    for i, m in enumerate(ms.moment_arms):
        where = f"{origin}: measurements.moment_arms.{i}"
        if m.muscle not in model_groups:
            raise SpecError(f"{where}.muscle: unknown muscle group {m.muscle!r}; expected one of "
                            f"{', '.join(sorted(model_groups))}")
        if m.coordinate not in coords:
            raise SpecError(f"{where}.coordinate: unknown coordinate {m.coordinate!r}; expected one of "
                            f"{', '.join(sorted(coords))}")
        for c in m.pose_deg:
            if c not in coords:
                raise SpecError(f"{where}.pose_deg: unknown coordinate {c!r}; expected one of {', '.join(sorted(coords))}")


def _angle_names(scenario: str) -> tuple[str, ...]:
    base = ("pelvic_tilt_deg", "lumbar_lordosis_deg", "hip_flexion_deg")
    if scenario == "supine":
        return (*base, "hip_rotation_deg", "thigh_lift_deg")
    if scenario == "thomas":
        return (*base, "thomas_hip_deg", "thomas_knee_deg", "thomas_abduction_deg")
    return base


# ---------------------------------------------------------------------------------------------
# the model's names (cached per process: the models are immutable)
# ---------------------------------------------------------------------------------------------

@lru_cache(maxsize=2)
def _group_of(psoas_minor: bool) -> dict[str, str]:
    from iliopsoas.models import expand

    return {m["name"]: m["group"] for m in expand("lumbopelvic", psoas_minor=psoas_minor)["muscles"]}


@lru_cache(maxsize=2)
def _fascicles(psoas_minor: bool) -> tuple[str, ...]:
    return tuple(_group_of(psoas_minor))


@lru_cache(maxsize=1)
def _coordinate_bases() -> frozenset[str]:
    from iliopsoas.models import load

    names = load("lumbopelvic").coordinate_names
    return frozenset(n.removesuffix("_r") for n in names if not n.endswith("_l"))


# ---------------------------------------------------------------------------------------------
# person -> model parameters
# ---------------------------------------------------------------------------------------------

def _by_parameter(spec: Spec, values: dict[str, Array], parameter: str, default: float) -> Array:
    n = len(next(iter(values.values()))) if values else 0
    for name, src in spec.sources.items():
        if src.parameter == parameter:
            return np.asarray(values[name], dtype=float)
    return np.full(n, default)


def model_parameters(spec: Spec, values: dict[str, Array]) -> dict[str, Array]:
    """What the model is given for each person: ``psoas_minor`` (0/1), ``nutation_deg``, ``stiffness``,
    ``incidence_limited`` (0/1), ``fiber_length_scale``, ``body_mass_scale``, ``pelvis_shape_deg`` and one
    ``shortening:<group>`` per shortened muscle group."""
    from iliopsoas.posture.people import PELVIS_SHAPE_DEG

    pm = _by_parameter(spec, values, "psoas_minor_present", 1.0)
    pi = _by_parameter(spec, values, "pelvic_incidence_deg", REFERENCE_PELVIC_INCIDENCE_DEG)
    off = np.round((pi - REFERENCE_PELVIC_INCIDENCE_DEG) / NUTATION_STEP_DEG) * NUTATION_STEP_DEG
    nut = np.clip(off, -4.0, 4.0)
    stiff = (_by_parameter(spec, values, "strength_scale", 1.0)
             * _by_parameter(spec, values, "passive_stiffness_scale", 1.0))
    out: dict[str, Array] = {"psoas_minor": (pm > 0.5).astype(float), "nutation_deg": nut + 0.0,
                             "incidence_limited": (np.abs(off) > 4.0).astype(float), "stiffness": stiff,
                             "fiber_length_scale": _by_parameter(spec, values, "optimal_fiber_length_scale", 1.0),
                             "body_mass_scale": _by_parameter(spec, values, "segment_mass_scale", 1.0),
                             "pelvis_shape_deg": _by_parameter(spec, values, "pelvis_shape_deg", PELVIS_SHAPE_DEG)}
    for name, src in spec.sources.items():
        if src.parameter == "shortening" and src.target:
            for g in _groups_of_target(src.target):
                out[f"shortening:{g}"] = np.asarray(values[name], dtype=float)
    return out


@lru_cache(maxsize=2)
def _targets(psoas_minor: bool) -> tuple[tuple[str, str], ...]:
    """``(target, group)`` naming every muscle of the measured side exactly once: the group's own
    target name where the posture API has one, else the group's (single) fascicles by name."""
    from iliopsoas.posture.tightness import TARGETS, resolve_target

    go = _group_of(psoas_minor)
    names = list(_fascicles(psoas_minor))
    out: list[tuple[str, str]] = []
    covered: list[int] = []
    for g in dict.fromkeys(v.removesuffix("_r") for k, v in go.items() if k.endswith("_r")):
        members = [i for i, n in enumerate(names) if go[n] == f"{g}_r"]
        picks = [g] if TARGETS.get(g) == (g,) else [names[i].removesuffix("_r") for i in members]
        for t in picks:
            ids = resolve_target(t, names, go, "r")
            if not set(ids) <= set(members):
                raise RuntimeError(f"target {t} names muscles outside group {g}")
            covered += ids
            out.append((t, g))
    if sorted(covered) != [i for i, n in enumerate(names) if n.endswith("_r")]:
        raise RuntimeError("the tightness targets do not name every right-side muscle exactly once")
    return tuple(out)


def _tights(params: dict[str, Array], rows: NDArray[np.intp], psoas_minor: bool) -> list[dict[str, Any]]:
    """One tightness mapping per row naming every muscle group of the measured side once, so a
    group's shortening and the whole-body stiffness combine into one Tightness per muscle."""
    from iliopsoas.posture.tightness import Tightness

    targets = _targets(psoas_minor)
    out = []
    for r in rows:
        stiff = float(params["stiffness"][r])
        by_group: dict[str, Any] = {}
        m: dict[str, Any] = {}
        for t, g in targets:
            tg = by_group.get(g)
            if tg is None:
                sh = params.get(f"shortening:{g}")
                tg = by_group[g] = Tightness(shortening=float(sh[r]) if sh is not None else 0.0, stiffness=stiff)
            m[t] = tg
        out.append(m)
    return out


def columns(spec: Spec) -> list[str]:
    """The measurement columns of the store, in order."""
    ms = spec.measurements
    cols: list[str] = []
    for names in ms.scenarios.values():
        cols += [a for a in names if a not in cols]
    for groups in ms.muscle_forces.values():
        cols += [f"{g}_force_n" for g in groups if f"{g}_force_n" not in cols]
    cols += [m.name for m in ms.moment_arms if m.name not in cols]
    return cols


def solve_people(spec: Spec, values: dict[str, Array], first: int) -> dict[str, Any]:
    """Solve people ``first ... first+n-1`` (their source values ``values``, each ``(n,)``).

    ``first`` and ``n`` must be multiples of :data:`BLOCK` except for the run's last chunk.
    Returns columns of the store, one row per person x scenario (scenarios in spec order, then
    one ``moment_arms`` row when moment arms are measured), people in index order.
    """
    from iliopsoas.posture import Person
    from iliopsoas.posture.scenarios import angles, loads_for

    if first % BLOCK:
        raise ValueError(f"a chunk must start at a multiple of {BLOCK} people, got {first}")
    n = len(next(iter(values.values())))
    params = model_parameters(spec, values)
    side = "r" if spec.side == "right" else "l"
    ms = spec.measurements
    scen = list(ms.scenarios)
    cols = columns(spec)
    meas = {c: np.full((n, len(scen)), np.nan) for c in cols}
    conv = np.zeros((n, len(scen)), dtype=bool)
    msg = np.full((n, len(scen)), "not solved", dtype=object)
    keys = np.stack([params["psoas_minor"], params["nutation_deg"]], axis=1)
    variants = sorted({(bool(a), float(b)) for a, b in keys})
    # chunks start at different variants, so workers warming up fit different problems at the same
    # time (a batch's result does not depend on the order the batches are solved in)
    k = (first // BLOCK) % len(variants) if variants else 0
    for pm, nut in variants[k:] + variants[:k]:
        person = Person(psoas_minor=pm, pelvic_incidence_offset_deg=nut)
        in_variant = (keys[:, 0] == float(pm)) & (keys[:, 1] == nut)
        for j, sc in enumerate(scen):
            for b0 in range(0, n, BLOCK):
                rows = np.flatnonzero(in_variant[b0:b0 + BLOCK]) + b0
                if rows.size == 0:
                    continue
                prob = _problem(sc, side, pm, nut)
                loads = _person_scales(loads_for(prob, _tights(params, rows, pm), side, person), params, rows)
                sol = prob.solve(loads)
                ang = angles(prob.model, sol.q, sc, side, pelvis_shape_deg=params["pelvis_shape_deg"][rows])
                conv[rows, j] = sol.converged
                msg[rows, j] = sol.messages
                for a in ms.scenarios[sc]:
                    meas[a][rows, j] = ang[a]
                if ms.muscle_forces.get(sc):
                    L, _ = prob.lengths.evaluate(sol.q[:, prob.varied])
                    F = prob.muscle_forces(L, loads)
                    go = _group_of(pm)
                    for g in ms.muscle_forces[sc]:
                        ids = [i for i, nm in enumerate(prob.model.muscle_names) if go.get(nm) == f"{g}_{side}"]
                        meas[f"{g}_force_n"][rows, j] = F[:, ids].sum(axis=1) if ids else 0.0
    arms = _moment_arms(spec, params, side) if ms.moment_arms else None
    n_rows_pp = len(scen) + (1 if arms is not None else 0)
    out: dict[str, Any] = {"person": np.repeat(np.arange(first, first + n, dtype=np.int64), n_rows_pp)}
    out["scenario"] = np.tile(np.array(scen + (["moment_arms"] if arms is not None else []), dtype=object), n)
    for name in spec.sources:
        out[name] = np.repeat(np.asarray(values[name], dtype=float), n_rows_pp)
    for key in ("psoas_minor", "nutation_deg", "incidence_limited", "stiffness", "fiber_length_scale",
                "body_mass_scale", "pelvis_shape_deg"):
        out[f"model_{key}"] = np.repeat(params[key], n_rows_pp)
    for c in cols:
        full = np.full((n, n_rows_pp), np.nan)
        full[:, :len(scen)] = meas[c]
        if arms is not None and c in arms:
            full[:, -1] = arms[c]
        out[c] = full.reshape(-1)
    c_full = np.ones((n, n_rows_pp), dtype=bool)
    c_full[:, :len(scen)] = conv
    m_full = np.full((n, n_rows_pp), "converged", dtype=object)
    m_full[:, :len(scen)] = msg
    out["converged"] = c_full.reshape(-1)
    out["message"] = m_full.reshape(-1)
    return out


@lru_cache(maxsize=256)
def _problem(scenario: str, side: str, psoas_minor: bool, nutation_deg: float) -> Any:
    """The fitted problem of one model variant and scenario, kept for the life of the worker process.

    The posture module keeps its 32 most recent problems; a population of the example spec needs
    (2 psoas-minor variants x 9 nutations x 3 scenarios =) 54, visited in the same order in every
    chunk, so without this each chunk would rebuild every one of them.
    """
    from iliopsoas.posture import Person
    from iliopsoas.posture.scenarios import scenario_problem

    return scenario_problem(scenario, side, Person(psoas_minor=psoas_minor, pelvic_incidence_offset_deg=nutation_deg))


def _person_scales(loads: Any, params: dict[str, Array], rows: NDArray[np.intp]) -> Any:
    """``loads`` with each row's fibre-length and body-mass scale (left as the model built when all are 1)."""
    from dataclasses import replace

    f, g = params["fiber_length_scale"][rows], params["body_mass_scale"][rows]
    m = loads.length_offset.shape[1]
    return replace(loads, fiber_length_scale=None if (f == 1.0).all() else np.repeat(f[:, None], m, axis=1),
                   gravity_scale=None if (g == 1.0).all() else np.array(g, dtype=float))


def _moment_arms(spec: Spec, params: dict[str, Array], side: str) -> dict[str, Array]:
    """Moment arms (m) at the spec's poses: they depend on the model variant only."""
    n = params["psoas_minor"].size
    out = {m.name: np.full(n, np.nan) for m in spec.measurements.moment_arms}
    keys = np.stack([params["psoas_minor"], params["nutation_deg"]], axis=1)
    wanted = tuple((m.name, m.muscle, m.coordinate, tuple(sorted(m.pose_deg.items())))
                   for m in spec.measurements.moment_arms)
    for pm, nut in sorted({(bool(a), float(b)) for a, b in keys}):
        rows = (keys[:, 0] == float(pm)) & (keys[:, 1] == nut)
        for name, value in _variant_moment_arms(pm, nut, side, wanted).items():
            out[name][rows] = value
    return out


@lru_cache(maxsize=64)
def _variant_moment_arms(pm: bool, nut: float, side: str,
                         wanted: tuple[tuple[str, str, str, tuple[tuple[str, float], ...]], ...]) -> dict[str, float]:
    from iliopsoas.mechanics import moment_arms
    from iliopsoas.models import load

    model = load("lumbopelvic", psoas_minor=pm)
    go = _group_of(pm)
    out: dict[str, float] = {}
    for name, muscle, coordinate, pose in wanted:
        q = np.zeros((1, len(model.coordinate_names)))
        for s in ("r", "l"):
            q[0, model.coordinate_index(f"sacroiliac_nutation_{s}")] = math.radians(nut)
        for c, deg in pose:
            q[0, model.coordinate_index(c if c in model.coordinate_names else f"{c}_{side}")] = math.radians(deg)
        coord = coordinate if coordinate in model.coordinate_names else f"{coordinate}_{side}"
        ids = [i for i, nm in enumerate(model.muscle_names) if go.get(nm) == f"{muscle}_{side}"]
        r = moment_arms(model, q, [coord])[0, ids, 0]
        fmax = model.muscle_params.max_isometric_force[ids]
        out[name] = float(np.dot(r, fmax) / fmax.sum())  # force-weighted over the group's fascicles
    return out
