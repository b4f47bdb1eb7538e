"""The five postures solved for tightness, and the angles and numbers clinicians read.

The scenarios themselves (free coordinates, supports, balance) are data in
:mod:`iliopsoas.posture.setups`; the physics is :mod:`iliopsoas.posture.equilibrium`. This
module binds them to the model, reads clinical angles off the solved poses and assembles one
result per solve (:class:`ScenarioResult`, printed by ``iliopsoas simulate`` and returned by the
web API).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from iliopsoas.posture.equilibrium import Problem, Setup, Solution
from iliopsoas.posture.people import PELVIS_SHAPE_DEG, Person
from iliopsoas.posture.setups import build
from iliopsoas.posture.tightness import MuscleLoads, Tightness, TightnessError, muscle_loads

Array = NDArray[np.float64]
R = math.radians

#: Bony points of the anterior pelvic plane (APP) in the innominate's frame: the ASIS and the front
#: of the pubic symphysis, the anterior-most vertices of OpenSim's generic ``r_pelvis.vtp`` (the
#: gait2392 / Rajagopal 2016 pelvis geometry, whose frame the model's innominates share) at the iliac
#: spine and within 1 cm of the midline. Both lie at x = 0: the pelvis frame's vertical is the APP
#: (Delp et al. 1990 place the frame's origin at the midpoint of the ASISs).
APP_ASIS = (0.0, 0.0, 0.1208)
APP_PUBIC_SYMPHYSIS = (0.0, -0.0837, 0.0049)

KNEE_SUPPORT_HEIGHTS = tuple(np.round(np.arange(0.0, 0.3001, 0.02), 3))
RELAX_TOLERANCE_DEG = 1.0

SCENARIOS = ("supine", "standing", "sitting", "thomas", "prone")

__all__ = [
    "PELVIS_SHAPE_DEG",
    "SCENARIOS",
    "ScenarioResult",
    "angles",
    "knee_support_height",
    "loads_for",
    "problem",
    "scenario_problem",
    "simulate",
    "solve_batch",
    "supine_rotation_balance",
    "thomas_abduction",
    "thomas_interpretation",
]


def _model(psoas_minor: bool) -> Any:
    from iliopsoas.models import load

    return load("lumbopelvic", psoas_minor=psoas_minor)


@lru_cache(maxsize=4)
def _group_of(psoas_minor: bool) -> dict[str, str]:
    from iliopsoas.models import expand

    return {m["name"]: m["group"] for m in expand("lumbopelvic", psoas_minor=psoas_minor)["muscles"]}


@lru_cache(maxsize=4)
def _model_setups(psoas_minor: bool) -> dict[str, Setup]:
    return build(_torso_ratio(_model(psoas_minor)))


def _torso_ratio(model: Any) -> float:
    """d(torso angle)/d(L5_S1_flex_ext) in the sagittal plane, sign included (from kinematics)."""
    from iliopsoas.mechanics import body_transforms

    q = np.zeros((2, len(model.coordinates)))
    q[1, model.coordinate_index("L5_S1_flex_ext")] = 1e-4
    Rm, _ = body_transforms(model, q)
    t = model.body_index("torso")
    ang = np.arctan2(Rm[:, t, 1, 0], Rm[:, t, 0, 0])
    return float((ang[1] - ang[0]) / 1e-4)


@lru_cache(maxsize=32)
def problem(name: str, psoas_minor: bool = True, nutation_deg: float = 0.0) -> Problem:
    """The solver problem of a scenario (cached: the fits are made once per process)."""
    model = _model(psoas_minor)
    setups = _model_setups(psoas_minor)
    if name not in setups:
        raise TightnessError(f"unknown scenario {name!r}: use one of {', '.join(SCENARIOS)}")
    return Problem(model, setups[name], nutation=math.radians(nutation_deg))


# ---------------------------------------------------------------------------------------------
# angles
# ---------------------------------------------------------------------------------------------

def _joint_centre(model: Any, Rm: Array, p: Array, joint: str) -> Array:
    j = model.joints[model.joint_names.index(joint)]
    return np.einsum("nij,j->ni", Rm[:, j.parent], j.parent_translation) + p[:, j.parent]


def _reference_rotation(name: str) -> float:
    if name.startswith(("supine", "thomas")):
        return R(90.0)
    if name == "prone":
        return R(-90.0)
    return 0.0


def angles(model: Any, q: Array, scenario: str, side: str = "r",
           pelvis_shape_deg: float | Array = PELVIS_SHAPE_DEG) -> dict[str, Array]:
    """Clinical angles (deg) at poses ``q`` ``(n, n_coordinates)`` computed with the engine's kinematics.

    Lying postures are read in a body-aligned frame (the table's normal taken as the standing
    'anterior'), so 0 deg of pelvic tilt means the same pelvis orientation in every posture. The
    pelvic tilt (ASIS-PSIS line against the horizontal, + anterior) is the APP's forward tilt plus
    the bone shape ``pelvis_shape_deg`` (:data:`PELVIS_SHAPE_DEG`; one value, or one per pose).
    """
    from iliopsoas.mechanics import body_transforms

    Rm, p = body_transforms(model, q)
    rot = -_reference_rotation(scenario)
    c, s = math.cos(rot), math.sin(rot)
    T = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])

    def upright(x: Array) -> Array:
        return x @ T.T

    mirror = np.array([1.0, 1.0, 1.0 if side == "r" else -1.0])
    inn = model.body_index(f"innominate_{side}")
    asis = upright(np.einsum("nij,j->ni", Rm[:, inn], np.array(APP_ASIS) * mirror) + p[:, inn])
    pubis = upright(np.einsum("nij,j->ni", Rm[:, inn], np.array(APP_PUBIC_SYMPHYSIS) * mirror) + p[:, inn])
    # the APP's forward lean (top ahead of the pubis) plus the bone shape
    tilt = np.degrees(np.arctan2(asis[:, 0] - pubis[:, 0], asis[:, 1] - pubis[:, 1])) + pelvis_shape_deg
    jc = {j: upright(_joint_centre(model, Rm, p, j)) for j in ("L5_S1", "L4_L5", "L1_L2", "T12_L1")}
    a1 = jc["T12_L1"] - jc["L1_L2"]
    a5 = jc["L4_L5"] - jc["L5_S1"]
    lordosis = np.degrees(np.arctan2(a1[:, 1], a1[:, 0]) - np.arctan2(a5[:, 1], a5[:, 0]))
    ci = model.coordinate_index
    out = {
        "pelvic_tilt_deg": tilt,
        "lumbar_lordosis_deg": lordosis,
        "hip_flexion_deg": np.degrees(q[:, ci(f"hip_flexion_{side}")]),
    }
    if scenario in ("standing", "sitting"):
        out["knee_flexion_deg"] = np.degrees(q[:, ci(f"knee_angle_{side}")])
    if scenario == "supine":
        out["hip_rotation_deg"] = -np.degrees(q[:, ci(f"hip_rotation_{side}")])
        hip = _joint_centre(model, Rm, p, f"hip_{side}")
        knee = _joint_centre(model, Rm, p, f"walker_knee_{side}")
        d = knee - hip  # ground frame: y is up from the table
        out["thigh_lift_deg"] = np.degrees(np.arcsin(d[:, 1] / np.linalg.norm(d, axis=1)))
    if scenario == "thomas":
        o = "l" if side == "r" else "r"
        hip = _joint_centre(model, Rm, p, f"hip_{side}")
        knee = _joint_centre(model, Rm, p, f"walker_knee_{side}")
        d = knee - hip
        out["thomas_hip_deg"] = np.degrees(np.arcsin(d[:, 1] / np.linalg.norm(d, axis=1)))
        out["thomas_knee_deg"] = np.degrees(q[:, ci(f"knee_angle_{side}")])
        out["thomas_abduction_deg"] = -np.degrees(q[:, ci(f"hip_adduction_{side}")])
        out["thomas_held_hip_deg"] = np.degrees(q[:, ci(f"hip_flexion_{o}")])
        # the pelvis's posterior tilt against the table: the hip extension of a thigh lying flat on it
        out["thomas_pelvis_posterior_tilt_deg"] = np.degrees(q[:, ci("pelvis_tilt")]) - 90.0
    return out


# ---------------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------------

@dataclass
class ScenarioResult:
    """One solved scenario, in degrees and SI units (the CLI prints :meth:`as_dict`)."""

    scenario: str
    side: str
    converged: bool
    stable: bool
    message: str
    pose_deg: dict[str, float]
    angles: dict[str, float | None]
    contributions: dict[str, dict[str, float]]
    muscle_forces_n: dict[str, float]
    contact_forces_n: dict[str, float]
    fit_error_mm: float
    pose_error_mm: float
    solve_ms: float
    tightness: dict[str, dict[str, float]] = field(default_factory=dict)
    interpretation: dict[str, Any] = field(default_factory=dict)
    max_isometric_force_n: dict[str, float] = field(default_factory=dict)
    joint_tissue_moments_nm: dict[str, float] = field(default_factory=dict)
    centre_of_mass_m: dict[str, float] = field(default_factory=dict)
    balance: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "side": {"r": "right", "l": "left"}[self.side],
            "converged": self.converged,
            "stable": self.stable,
            "message": self.message,
            "tightness": self.tightness,
            "angles": self.angles,
            **({"interpretation": self.interpretation} if self.interpretation else {}),
            "pose": self.pose_deg,
            "contributions": self.contributions,
            "muscle_forces_n": self.muscle_forces_n,
            "max_isometric_force_n": self.max_isometric_force_n,
            "joint_tissue_moments_nm": self.joint_tissue_moments_nm,
            "centre_of_mass_m": self.centre_of_mass_m,
            **({"balance": self.balance} if self.balance else {}),
            "contact_forces_n": self.contact_forces_n,
            "surrogate_max_error_mm": self.fit_error_mm,
            "surrogate_error_at_pose_mm": self.pose_error_mm,
            "derivatives": "exact: the engine's path lengths and -dL/dq (central differences, step 1e-6) at the "
                           "reported pose; polynomial fits only steer the iterations",
            "solve_ms": self.solve_ms,
        }


def _side(side: str) -> str:
    s = side.strip().lower()
    if s in ("r", "right"):
        return "r"
    if s in ("l", "left"):
        return "l"
    raise TightnessError(f"side must be left or right, got {side!r}")


def loads_for(prob: Problem, tight: Any, side: str, person: Person) -> MuscleLoads:
    p = prob.params
    return muscle_loads(tight, prob.model.muscle_names, _group_of(person.psoas_minor), p.optimal_fiber_length,
                        p.tendon_slack_length, side=side, force_scale=person.muscle_size,
                        fiber_length_scale=person.fiber_length_scale, gravity_scale=person.body_mass_scale)


def scenario_problem(scenario: str, side: str, person: Person) -> Problem:
    if scenario not in SCENARIOS and scenario != "supine_knee_support":
        raise TightnessError(f"unknown scenario {scenario!r}: use one of {', '.join(SCENARIOS)}")
    key = f"thomas_{side}" if scenario == "thomas" else scenario
    return problem(key, person.psoas_minor, person.pelvic_incidence_offset_deg)


def solve_batch(scenario: str, tights: list[dict[str, Tightness]], *, side: str = "right",
                person: Person | None = None) -> tuple[Problem, MuscleLoads, Solution, dict[str, Array]]:
    """Solve one scenario for a batch of tightness mappings; returns the angles too (deg, ``(n,)``)."""
    person = person or Person()
    s = _side(side)
    prob = scenario_problem(scenario, s, person)
    loads = loads_for(prob, tights, s, person)
    sol = prob.solve(loads)
    ang = angles(prob.model, sol.q, scenario, s, person.pelvis_shape_deg)
    return prob, loads, sol, ang


def thomas_abduction(tights: list[dict[str, Tightness]], q: Array | None = None, *, side: str = "r",
                     person: Person | None = None) -> dict[str, Any]:
    """Resting abduction (deg, + = abduction) of the hanging thigh in the Thomas test.

    Abduction is solved together with the hip and knee angle (``solve_batch("thomas", ...)``);
    this returns it for a batch of tightness mappings. ``q`` is ignored (kept for old callers).
    """
    del q
    _, _, sol, ang = solve_batch("thomas", tights, side=side, person=person)
    return {"abduction_deg": ang["thomas_abduction_deg"], "found": sol.converged.copy(),
            "in_range": np.ones(len(tights), dtype=bool)}


#: Modified Thomas test criteria (BMC Sports Sci Med Rehabil 2021, s13102-021-00242-y, Table 4, in
#: shared/reference/thomas_test_norms.csv): thigh above horizontal = short one-joint hip flexors;
#: knee flexion below 67 deg = short two-joint hip flexors. For abduction no cut-off is published in
#: our references: the number is Harvey 1998's grand mean (Br J Sports Med 32:68-70, 117 elite
#: athletes, thomas_test_norms.csv), and a thigh that drifts into abduction points to the TFL/ITB by
#: clinical convention (shared/reference/clinical.md, modified Thomas test row).
THOMAS_HIP_CRITERION_DEG = 0.0
THOMAS_KNEE_CRITERION_DEG = 67.0
THOMAS_ABDUCTION_NORM_DEG = 15.6
THOMAS_CHANGE_DEG = 2.0


def thomas_interpretation(tight: dict[str, Tightness], ang: dict[str, Array], *, side: str = "right",
                          person: Person | None = None) -> dict[str, Any]:
    """What a Thomas result points to: clinical criteria, and the change from the untightened model.

    The change is what the model can attribute: a thigh that rises points to the one-joint hip
    flexors (iliopsoas), a knee that straightens to the rectus femoris, a thigh that drifts into
    abduction to the TFL.
    """
    del tight
    _, _, _, ang0 = solve_batch("thomas", [{}], side=side, person=person)
    hip, knee = float(ang["thomas_hip_deg"][0]), float(ang["thomas_knee_deg"][0])
    abd = float(ang["thomas_abduction_deg"][0])
    d_hip = hip - float(ang0["thomas_hip_deg"][0])
    d_knee = knee - float(ang0["thomas_knee_deg"][0])
    d_abd = abd - float(ang0["thomas_abduction_deg"][0])
    points: list[str] = []
    if d_hip > THOMAS_CHANGE_DEG:
        points.append("iliopsoas")
    if d_knee < -THOMAS_CHANGE_DEG:
        points.append("rectus_femoris")
    if d_abd > THOMAS_CHANGE_DEG:
        points.append("tfl")
    return {
        "criteria": {
            "hip_above_horizontal": hip > THOMAS_HIP_CRITERION_DEG,
            "knee_below_67_deg": knee < THOMAS_KNEE_CRITERION_DEG,
            "abduction_above_harvey_mean_15.6_deg": abd > THOMAS_ABDUCTION_NORM_DEG,
        },
        "change_from_untightened_deg": {"thomas_hip": round(d_hip, 2), "thomas_knee": round(d_knee, 2),
                                        "thomas_abduction": round(d_abd, 2)},
        "points_to": points or ["none (changes below 2 deg)"],
        "note": ("abduction is attributed to the TFL by clinical convention; in this model other hip flexors with "
                 "an abduction moment arm may also abduct the hanging thigh, so abduction alone does not isolate "
                 "the TFL"),
    }


def _group_totals(prob: Problem, detail: dict[str, Any], person: Person) -> tuple[
        dict[str, dict[str, float]], dict[str, float], dict[str, float]]:
    go = _group_of(person.psoas_minor)
    names = prob.model.muscle_names
    Bv = prob.B[prob.varied]
    gen = -np.einsum("nm,nmd,dk->nmk", detail["F"], detail["dL"], Bv)[0]
    fmax = prob.params.max_isometric_force * person.muscle_size
    contrib: dict[str, dict[str, float]] = {}
    forces: dict[str, float] = {}
    fmax_g: dict[str, float] = {}
    for mi, n in enumerate(names):
        g = go.get(n, n)
        forces[g] = forces.get(g, 0.0) + float(detail["F"][0, mi])
        fmax_g[g] = fmax_g.get(g, 0.0) + float(fmax[mi])
        row = contrib.setdefault(g, dict.fromkeys(prob.setup.free, 0.0))
        for j, f in enumerate(prob.setup.free):
            row[f] += float(gen[mi, j])
    for part in ("gravity", "contact", "joint_limits"):
        contrib[part] = {f: float(detail[part][0, j]) for j, f in enumerate(prob.setup.free)}
    unit = {f: ("N" if t else "N*m") for f, t in zip(prob.setup.free, prob.trans, strict=True)}
    contrib = {g: {f"{f} ({unit[f]})": round(v, 3) for f, v in row.items()} for g, row in contrib.items()
               if any(abs(v) > 5e-4 for v in row.values())}
    return contrib, {g: round(v, 2) for g, v in forces.items()}, {g: round(v, 1) for g, v in fmax_g.items()}


def _add_held_torques(prob: Problem, sol: Solution, loads: MuscleLoads, contrib: dict[str, dict[str, float]]) -> None:
    """Add the torques that hold the pose besides passive tissue, gravity and contact, so that the
    contributions sum to zero: the constraint's torque (the ankle torque when standing, the hands'
    hug in the Thomas test) and the least postural muscle torque (standing, sitting)."""
    unit = {f: ("N" if t else "N*m") for f, t in zip(prob.setup.free, prob.trans, strict=True)}
    con = prob.setup.constraint
    if con is not None and sol.multiplier is not None:
        lam = np.asarray(sol.multiplier, dtype=float)
        _, det = prob.residual(sol.z, lam, loads, np.tile(prob.heights0, (1, 1)), exact=True)
        lam_used = det.get("lam", lam)
        d = det["d"]
        contrib[con.name] = {f"{f} ({unit[f]})": round(float(lam_used[0] * d[0, j]), 3)
                             for j, f in enumerate(prob.setup.free)}
    if sol.effort:
        contrib["postural_muscles"] = {f"{f} ({unit[f]})": round(float(sol.effort[f][0]) if f in sol.effort else 0.0, 3)
                                       for f in prob.setup.free}


def _centre_of_mass(prob: Problem, q: Array) -> dict[str, float]:
    """Whole-body centre of mass in ground (m) at the pose ``q`` ``(1, nc)`` (bodies of the scenario, feet included)."""
    from iliopsoas.mechanics import body_transforms

    Rm, p = body_transforms(prob.model, q)
    tot, acc = 0.0, np.zeros(3)
    for b, pt, mass in prob.mass_points:
        acc += mass * (Rm[0, b] @ pt + p[0, b])
        tot += mass
    c = acc / tot
    return {"x": round(float(c[0]), 4), "y": round(float(c[1]), 4), "z": round(float(c[2]), 4)}


def _standing_balance(prob: Problem, q: Array, side: str, lam: float) -> dict[str, Any]:
    """Fore-aft positions (m, + = in front of the ankle) that Woodhull et al. 1985 measured."""
    from iliopsoas.mechanics import body_transforms

    m = prob.model
    Rm, p = body_transforms(m, q)
    ankle = Rm[0, m.body_index(f"tibia_{side}")] @ np.array([-0.01, -0.4, 0.0]) + p[0, m.body_index(f"tibia_{side}")]
    hip = _joint_centre(m, Rm, p, f"hip_{side}")[0]
    knee = _joint_centre(m, Rm, p, f"walker_knee_{side}")[0]
    shoulder_level = Rm[0, m.body_index("torso")] @ np.array([-0.03, 0.40, 0.0]) + p[0, m.body_index("torso")]

    def com_above(min_y_body: set[str]) -> Array:
        tot, acc = 0.0, np.zeros(3)
        for b, pt, mass in prob.mass_points:
            if m.body_names[b] in min_y_body:
                continue
            acc += mass * (Rm[0, b] @ pt + p[0, b])
            tot += mass
        return acc / tot

    legs = {f"tibia_{s}" for s in "rl"} | {f"patella_{s}" for s in "rl"}
    thighs = {f"femur_{s}" for s in "rl"}
    above_knee = com_above(legs)
    above_hip = com_above(legs | thighs)
    return {
        "ankle_torque_nm": round(lam, 2),
        "centre_of_mass_anterior_to_ankle_m": round(float(_centre_of_mass(prob, q)["x"] - ankle[0]), 4),
        "hip_anterior_to_ankle_m": round(float(hip[0] - ankle[0]), 4),
        "knee_anterior_to_ankle_m": round(float(knee[0] - ankle[0]), 4),
        "upper_trunk_anterior_to_ankle_m": round(float(shoulder_level[0] - ankle[0]), 4),
        "centre_of_mass_above_knee_anterior_to_knee_m": round(float(above_knee[0] - knee[0]), 4),
        "centre_of_mass_above_hip_anterior_to_hip_m": round(float(above_hip[0] - hip[0]), 4),
    }


def simulate(scenario: str, tight: dict[str, Tightness] | None = None, *, side: str = "right",
             person: Person | None = None, knee_support: bool = True) -> ScenarioResult:
    """Solve one scenario for one set of tight muscles (targets as in ``tightness.TARGETS``)."""
    from iliopsoas.posture.supine import knee_support_height, rotation_tipping

    person = person or Person()
    tight = dict(tight or {})
    s = _side(side)
    prob, loads, sol, ang = solve_batch(scenario, [tight], side=side, person=person)
    _, detail = prob.gradient(sol.z, loads, np.tile(prob.heights0, (1, 1)), detail=True, exact=True)
    contrib, forces, fmax = _group_totals(prob, detail, person)
    _add_held_torques(prob, sol, loads, contrib)
    names = prob.model.coordinate_names
    pose: dict[str, float] = {}
    for i, n in enumerate(names):
        if prob.model.dependent_mask[i]:
            continue
        v = float(sol.q[0, i])
        if v != 0.0 or np.any(prob.B[i]):
            unit_m = prob.model.coordinates[i].motion_type == "translational"
            pose[n + ("_m" if unit_m else "_deg")] = round(v if unit_m else math.degrees(v), 3)
    angles_out: dict[str, float | None] = {k: (None if not np.isfinite(v[0]) else round(float(v[0]), 3))
                                           for k, v in ang.items()}
    interpretation: dict[str, Any] = {}
    balance: dict[str, Any] = {}
    if scenario == "thomas":
        interpretation = thomas_interpretation(tight, ang, side=side, person=person)
        if sol.multiplier is not None:
            balance = {"hug_torque_nm": round(float(sol.multiplier[0]), 2),
                       "note": "torque of the hands pulling the other knee to the chest until the low back is flat"}
    if scenario == "standing" and sol.multiplier is not None:
        balance = _standing_balance(prob, sol.q, s, float(sol.multiplier[0]))
    if scenario == "supine":
        interpretation = rotation_tipping(prob, tight, sol.z[0], s, person)
    if scenario == "supine" and knee_support:
        ks = knee_support_height(tight, side=side, person=person)
        angles_out["knee_support_height_m"] = ks["knee_support_height_m"]
    contacts = {c.name: round(float(detail["contact_forces"][0, i]), 2) for i, c in enumerate(prob.setup.contacts)}
    fit_mm = 1000.0 * max(prob.lengths.max_error, prob.kin.max_error)
    Lfit, _ = prob.lengths.evaluate(sol.q[:, prob.varied])
    pose_err_mm = 1000.0 * float(np.abs(Lfit - detail["L"]).max())
    tissue = {k: round(float(v[0]), 3) for k, v in detail["tissue"].items()}
    return ScenarioResult(
        scenario=scenario, side=s, converged=bool(sol.converged[0]), stable=bool(sol.stable[0]),
        message=sol.messages[0], pose_deg=pose, angles=angles_out, contributions=contrib, muscle_forces_n=forces,
        contact_forces_n=contacts, fit_error_mm=round(fit_mm, 3), pose_error_mm=round(pose_err_mm, 3),
        solve_ms=round(1000 * sol.seconds, 1), interpretation=interpretation,
        tightness={k: {"shortening": t.shortening, "tendon_shortening": t.tendon_shortening,
                       "stiffness": t.stiffness, "tone": t.tone} for k, t in tight.items()},
        max_isometric_force_n=fmax, joint_tissue_moments_nm=tissue, centre_of_mass_m=_centre_of_mass(prob, sol.q),
        balance=balance,
    )


def knee_support_height(tight: dict[str, Tightness], side: str = "right", person: Person | None = None) -> dict[str, Any]:
    """Smallest height (m) of a support under both knees that brings the lumbar angle back (see ``supine``)."""
    from iliopsoas.posture.supine import knee_support_height as ksh

    return ksh(tight, side=side, person=person)


def supine_rotation_balance(tight: dict[str, Tightness] | None = None, *, side: str = "right",
                            person: Person | None = None) -> dict[str, Any]:
    """The moments about one leg's hip-rotation axis lying supine (see :mod:`iliopsoas.posture.supine`)."""
    from iliopsoas.posture.supine import rotation_balance

    return rotation_balance(tight, side=side, person=person)

