"""The five postures, their reduced coordinates and supports, and the angles clinicians read.

Every scenario is a :class:`~iliopsoas.posture.equilibrium.Setup` (data, no code): which
coordinates are free, how they move together, what rests on what. Contact points and radii are
our estimates of where bone plus soft tissue meets the table, read off the model's frames (no
paper gives them); they are listed here so that they can be reviewed.

* ``supine`` -- lying on the back, legs straight, on a table. Free: pelvis tilt and height,
  lumbar flexion/extension (Christophy rhythm), both hips' flexion and rotation. Supports:
  sacrum, upper back, back of each thigh, calf and heel. The foot's weight sits in front of
  the leg's axis, so the leg can roll outwards; what stops it is the muscles and the hip's
  limit moment. Also reports ``knee_support_height_m``: the smallest height of a support under
  both knees at which the lumbar angle is back within 1 deg of the untightened straight-leg
  value (a batch of solves with the support at 0 to 0.30 m, knees free).
* ``standing`` and ``sitting`` -- the trunk is held upright and the thighs still (vertical when
  standing, horizontal on the seat) by postural control, which passive tissue cannot do; what
  is left free is how the pelvis turns between them about the hip axis, with the lumbar spine
  taking up the difference. Gravity acts on the head-arms-trunk (HAT) and pelvis.
* ``thomas`` -- modified Thomas test: lying back at the end of the table, the other knee held to
  the chest, the pelvis fixed at :data:`THOMAS_PELVIS_POSTERIOR_TILT_DEG` behind its anatomical
  neutral (a documented free parameter); the test leg hangs: hip flexion and knee free under
  gravity. Then the thigh's abduction is solved at that hip and knee angle (one coordinate,
  :func:`thomas_abduction`): adductors, TFL, the other hip muscles, gravity and the hip's
  ligament limit moment balance along hip adduction.
* ``prone`` -- lying face down, hips free in flexion, supported at the anterior superior iliac
  spines, chest, front of each thigh, knee and shin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from iliopsoas.posture.equilibrium import Contact, Problem, Setup, Solution, _repeat
from iliopsoas.posture.people import Person
from iliopsoas.posture.tightness import MuscleLoads, Tightness, TightnessError, muscle_loads

Array = NDArray[np.float64]
R = math.radians

#: How far behind its anatomical neutral the pelvis is held in the modified Thomas test (the
#: other knee pulled to the chest flattens the low back). Our assumption; the test's hip angle
#: moves one for one with it (Vigotsky et al. 2016 PeerJ 4:e2325: the test is only valid when
#: pelvic tilt is controlled).
THOMAS_PELVIS_POSTERIOR_TILT_DEG = 10.0

#: ASIS and PSIS: the Rajagopal 2016 RASI/RPSI marker positions in the pelvis frame (skin markers,
#: so slightly off the bony landmarks).
ASIS = (0.00953047, 0.0180816, 0.128464)
PSIS = (-0.155, 0.035, 0.045)

#: Range searched for the hanging thigh's ab/adduction in the Thomas test (deg), and the grid step.
ABDUCTION_MAX_DEG = 40.0
ADDUCTION_MAX_DEG = 15.0
ABDUCTION_STEP_DEG = 2.5
ABDUCTION_TOL_DEG = 0.01

KNEE_SUPPORT_HEIGHTS = tuple(np.round(np.arange(0.0, 0.3001, 0.02), 3))
RELAX_TOLERANCE_DEG = 1.0

SCENARIOS = ("supine", "standing", "sitting", "thomas", "prone")

_HAT = ("sacrum", "innominate_r", "innominate_l", "lumbar5", "lumbar4", "lumbar3", "lumbar2", "lumbar1", "torso")


def _legs_supine(s: str) -> tuple[Contact, ...]:
    zs = 1.0 if s == "r" else -1.0
    return (
        Contact(f"thigh_{s}", f"femur_{s}", (0.0, -0.12, 0.0), radius=0.115),
        Contact(f"calf_{s}", f"tibia_{s}", (-0.02, -0.12, 0.0), radius=0.095),
        # the heel rolls: a sphere centred on the shank's long axis (ankle centre line, Rajagopal 2016
        # ankle at x = -0.01 m), reaching as low as the old estimate (0.045 m behind, 0.07 m radius)
        Contact(f"heel_{s}", f"tibia_{s}", (-0.01, -0.44, 0.0 * zs), radius=0.105),
    )


def _setups(lumbar_ratio: float) -> dict[str, Setup]:
    k_l5 = -1.0 / lumbar_ratio  # keeps the torso's orientation when the pelvis turns
    supine_contacts = (
        Contact("sacrum", "sacrum", (-0.17, -0.02, 0.0), radius=0.015),
        Contact("upper_back", "torso", (-0.03, 0.34, 0.0), radius=0.06),
        *_legs_supine("r"), *_legs_supine("l"),
    )
    out = {
        "supine": Setup(
            name="supine",
            q0={"pelvis_tilt": R(90.0)},
            free=("pelvis_tilt", "pelvis_ty", "L5_S1_flex_ext", "hip_flexion_r", "hip_rotation_r",
                  "hip_flexion_l", "hip_rotation_l"),
            basis=({"pelvis_tilt": 1.0}, {"pelvis_ty": 1.0}, {"L5_S1_flex_ext": 1.0}, {"hip_flexion_r": 1.0},
                   {"hip_rotation_r": 1.0}, {"hip_flexion_l": 1.0}, {"hip_rotation_l": 1.0}),
            z_lo=(R(-40), 0.05, R(-11), R(-45), R(-40), R(-45), R(-40)),
            z_hi=(R(40), 0.35, R(3.5), R(60), R(40), R(60), R(40)),
            z_init=(0.0, 0.17, 0.0, 0.0, 0.0, 0.0, 0.0),
            contacts=supine_contacts,
        ),
        "standing": Setup(
            name="standing",
            q0={},
            free=("pelvis_rotation_about_hips",),
            basis=({"pelvis_tilt": 1.0, "hip_flexion_r": -1.0, "hip_flexion_l": -1.0, "L5_S1_flex_ext": k_l5},),
            z_lo=(R(-35),), z_hi=(R(35),), z_init=(0.0,),
            gravity_bodies=(), feet=(), pivot=(-0.0563, -0.0785),
        ),
        "sitting": Setup(
            name="sitting",
            q0={"hip_flexion_r": R(90), "hip_flexion_l": R(90), "knee_angle_r": R(90), "knee_angle_l": R(90)},
            free=("pelvis_rotation_about_hips",),
            basis=({"pelvis_tilt": 1.0, "hip_flexion_r": -1.0, "hip_flexion_l": -1.0, "L5_S1_flex_ext": k_l5},),
            z_lo=(R(-25),), z_hi=(R(60),), z_init=(0.0,),
            gravity_bodies=(), feet=(), pivot=(-0.0563, -0.0785),
        ),
        "prone": Setup(
            name="prone",
            q0={"pelvis_tilt": R(-90.0)},
            free=("pelvis_tilt", "pelvis_ty", "L5_S1_flex_ext", "hip_flexion_r", "hip_flexion_l"),
            basis=({"pelvis_tilt": 1.0}, {"pelvis_ty": 1.0}, {"L5_S1_flex_ext": 1.0}, {"hip_flexion_r": 1.0},
                   {"hip_flexion_l": 1.0}),
            z_lo=(R(-30), 0.0, R(-11), R(-25), R(-25)),
            z_hi=(R(30), 0.30, R(3.5), R(50), R(50)),
            z_init=(0.0, 0.05, 0.0, 0.0, 0.0),
            contacts=(
                Contact("asis_r", "innominate_r", (0.0, 0.018, 0.11), radius=0.02),
                Contact("asis_l", "innominate_l", (0.0, 0.018, -0.11), radius=0.02),
                Contact("chest", "torso", (0.09, 0.30, 0.0), radius=0.05),
                Contact("thigh_r", "femur_r", (0.0, -0.25, 0.0), radius=0.07),
                Contact("thigh_l", "femur_l", (0.0, -0.25, 0.0), radius=0.07),
                Contact("knee_r", "femur_r", (0.0, -0.40, 0.0), radius=0.05),
                Contact("knee_l", "femur_l", (0.0, -0.40, 0.0), radius=0.05),
                Contact("shin_r", "tibia_r", (0.02, -0.38, 0.0), radius=0.04),
                Contact("shin_l", "tibia_l", (0.02, -0.38, 0.0), radius=0.04),
            ),
        ),
    }
    for s in ("r", "l"):
        o = "l" if s == "r" else "r"
        out[f"thomas_{s}"] = Setup(
            name=f"thomas_{s}",
            q0={"pelvis_tilt": R(90.0 + THOMAS_PELVIS_POSTERIOR_TILT_DEG), f"hip_flexion_{o}": R(110),
                f"knee_angle_{o}": R(110)},
            free=(f"hip_flexion_{s}", f"knee_angle_{s}"),
            basis=({f"hip_flexion_{s}": 1.0}, {f"knee_angle_{s}": 1.0}),
            z_lo=(R(-50), R(0)), z_hi=(R(40), R(120)),
            z_init=(R(-10), R(60)),
            gravity_bodies=(f"femur_{s}", f"tibia_{s}", f"patella_{s}"), feet=(s,),
        )
        # the same position with the hanging thigh also free to ab/adduct: used for the fits of the
        # abduction solve (see thomas_abduction), which moves along hip_adduction only
        out[f"thomas_abduction_{s}"] = Setup(
            name=f"thomas_abduction_{s}",
            q0=out[f"thomas_{s}"].q0,
            free=(f"hip_flexion_{s}", f"knee_angle_{s}", f"hip_adduction_{s}"),
            basis=({f"hip_flexion_{s}": 1.0}, {f"knee_angle_{s}": 1.0}, {f"hip_adduction_{s}": 1.0}),
            z_lo=(R(-50), R(5), R(-ABDUCTION_MAX_DEG)), z_hi=(R(20), R(110), R(ADDUCTION_MAX_DEG)),
            z_init=(R(-10), R(60), 0.0),
            gravity_bodies=(f"femur_{s}", f"tibia_{s}", f"patella_{s}"), feet=(s,),
        )
    sup = out["supine"]
    out["supine_knee_support"] = Setup(
        name="supine_knee_support",
        q0=sup.q0,
        free=("pelvis_tilt", "pelvis_ty", "L5_S1_flex_ext", "hip_flexion_r", "hip_flexion_l", "knee_angle_r",
              "knee_angle_l"),
        basis=({"pelvis_tilt": 1.0}, {"pelvis_ty": 1.0}, {"L5_S1_flex_ext": 1.0}, {"hip_flexion_r": 1.0},
               {"hip_flexion_l": 1.0}, {"knee_angle_r": 1.0}, {"knee_angle_l": 1.0}),
        z_lo=(R(-40), 0.05, R(-11), R(-45), R(-45), R(0), R(0)),
        z_hi=(R(30), 0.35, R(3.5), R(75), R(75), R(110), R(110)),
        z_init=(0.0, 0.19, 0.0, R(5), R(5), R(5), R(5)),
        contacts=(
            sup.contacts[0], sup.contacts[1],
            Contact("knee_support_r", "femur_r", (0.0, -0.36, 0.0), radius=0.06),
            Contact("knee_support_l", "femur_l", (0.0, -0.36, 0.0), radius=0.06),
            Contact("heel_r", "tibia_r", (-0.045, -0.44, 0.01), radius=0.07),
            Contact("heel_l", "tibia_l", (-0.045, -0.44, -0.01), radius=0.07),
        ),
    )
    return out


def _model(psoas_minor: bool) -> Any:
    from iliopsoas.models import load

    return load("lumbopelvic", psoas_minor=psoas_minor)


@lru_cache(maxsize=4)
def _group_of(psoas_minor: bool) -> dict[str, str]:
    from iliopsoas.models import expand

    return {m["name"]: m["group"] for m in expand("lumbopelvic", psoas_minor=psoas_minor)["muscles"]}


@lru_cache(maxsize=4)
def _model_setups(psoas_minor: bool) -> dict[str, Setup]:
    """Every scenario's setup for the model (the torso ratio needs one probe problem per model)."""
    model = _model(psoas_minor)
    probe = Problem(model, Setup("probe", {}, ("L5_S1_flex_ext",), ({"L5_S1_flex_ext": 1.0},), (0.0,), (0.0,), (0.0,)))
    return _setups(_torso_ratio(model, probe.lumbar_ratio))


@lru_cache(maxsize=32)
def problem(name: str, psoas_minor: bool = True, nutation_deg: float = 0.0) -> Problem:
    """The solver problem of a scenario (cached: the fits are made once per process)."""
    model = _model(psoas_minor)
    setups = _model_setups(psoas_minor)
    if name not in setups:
        raise TightnessError(f"unknown scenario {name!r}: use one of {', '.join(SCENARIOS)}")
    return Problem(model, setups[name], nutation=math.radians(nutation_deg))


def _torso_ratio(model: Any, lumbar_ratio: float) -> float:
    """d(torso angle)/d(L5_S1_flex_ext) in the sagittal plane, sign included (from kinematics)."""
    from iliopsoas.mechanics import body_transforms

    q = np.zeros((2, len(model.coordinates)))
    q[1, model.coordinate_index("L5_S1_flex_ext")] = 1e-4
    Rm, _ = body_transforms(model, q)
    t = model.body_index("torso")
    ang = np.arctan2(Rm[:, t, 1, 0], Rm[:, t, 0, 0])
    return float((ang[1] - ang[0]) / 1e-4)


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


def angles(model: Any, q: Array, scenario: str, side: str = "r") -> dict[str, Array]:
    """Clinical angles (deg) at poses ``q`` ``(n, n_coordinates)`` computed with the engine's kinematics.

    Lying postures are read in a body-aligned frame (the table's normal taken as the standing
    'anterior'), so 0 deg of pelvic tilt means the same pelvis orientation in every posture.
    """
    from iliopsoas.mechanics import body_transforms

    Rm, p = body_transforms(model, q)
    rot = -_reference_rotation(scenario)
    c, s = math.cos(rot), math.sin(rot)
    T = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])

    def upright(x: Array) -> Array:
        return x @ T.T

    inn = model.body_index(f"innominate_{side}")
    asis = upright(np.einsum("nij,j->ni", Rm[:, inn], np.array(ASIS) * [1, 1, 1 if side == "r" else -1]) + p[:, inn])
    psis = upright(np.einsum("nij,j->ni", Rm[:, inn], np.array(PSIS) * [1, 1, 1 if side == "r" else -1]) + p[:, inn])
    tilt = np.degrees(np.arctan2(psis[:, 1] - asis[:, 1], asis[:, 0] - psis[:, 0]))
    jc = {j: upright(_joint_centre(model, Rm, p, j)) for j in ("L5_S1", "L4_L5", "L1_L2", "T12_L1")}
    a1 = jc["T12_L1"] - jc["L1_L2"]
    a5 = jc["L4_L5"] - jc["L5_S1"]
    ang1 = np.arctan2(a1[:, 1], a1[:, 0])
    ang5 = np.arctan2(a5[:, 1], a5[:, 0])
    lordosis = np.degrees(ang1 - ang5)
    ci = model.coordinate_index
    out = {
        "pelvic_tilt_deg": tilt,
        "lumbar_lordosis_deg": lordosis,
        "hip_flexion_deg": np.degrees(q[:, ci(f"hip_flexion_{side}")]),
    }
    if scenario == "supine":
        out["hip_rotation_deg"] = -np.degrees(q[:, ci(f"hip_rotation_{side}")])
        hip = _joint_centre(model, Rm, p, f"hip_{side}")
        knee = _joint_centre(model, Rm, p, f"walker_knee_{side}")
        d = knee - hip  # ground frame: y is up from the table
        out["thigh_lift_deg"] = np.degrees(np.arcsin(d[:, 1] / np.linalg.norm(d, axis=1)))
    if scenario == "thomas":
        hip = _joint_centre(model, Rm, p, f"hip_{side}")
        knee = _joint_centre(model, Rm, p, f"walker_knee_{side}")
        d = knee - hip
        out["thomas_hip_deg"] = np.degrees(np.arcsin(d[:, 1] / np.linalg.norm(d, axis=1)))
        out["thomas_knee_deg"] = np.degrees(q[:, ci(f"knee_angle_{side}")])
        out["thomas_abduction_deg"] = -np.degrees(q[:, ci(f"hip_adduction_{side}")])
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
            "contact_forces_n": self.contact_forces_n,
            "surrogate_max_error_mm": self.fit_error_mm,
            "surrogate_error_at_pose_mm": self.pose_error_mm,
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
                        p.tendon_slack_length, side=side, force_scale=person.muscle_size)


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
    ang = angles(prob.model, sol.q, scenario, s)
    if scenario == "thomas":
        abd = thomas_abduction(tights, sol.q, side=s, person=person)
        ang["thomas_abduction_deg"] = abd["abduction_deg"]
        for i in np.flatnonzero(sol.converged & ~abd["found"]):
            sol.messages[i] = ("abduction not solved: hip or knee angle outside the range fitted for it "
                               "(hip flexion -50..20 deg, knee 5..110 deg)" if not abd["in_range"][i] else
                               "no resting abduction of the hanging thigh between "
                               f"{ABDUCTION_MAX_DEG:g} deg of abduction and {ADDUCTION_MAX_DEG:g} deg of adduction")
        sol.converged &= abd["found"]
    return prob, loads, sol, ang


def thomas_abduction(tights: list[dict[str, Tightness]], q: Array, *, side: str = "r",
                     person: Person | None = None) -> dict[str, Any]:
    """Resting abduction (deg, + = abduction) of the hanging thigh at the solved Thomas poses ``q`` ``(n, nc)``.

    Hip flexion and knee angle are held at their solved values (the test reads them with the
    thigh in line, and abduction changes them little); along hip adduction the generalized
    forces of the muscles, gravity on the thigh, shank and foot and the hip's ligament limit
    moment are evaluated on a 2.5 deg grid from 40 deg of abduction to 15 deg of adduction; the
    rest position is the stable zero crossing nearest to neutral, refined by regula falsi
    (:data:`ABDUCTION_TOL_DEG`).

    The muscles that cross the knee carry, in the model, far more passive force in this position
    than the in-vivo passive knee moment allows (the sagittal solve already replaces their moment
    with Riener & Edrich 1999 through the calibration in ``equilibrium``). The same calibration is
    carried over to their action on abduction: their untightened passive force is scaled by
    ``k = M_knee,Riener / M_knee,model`` (clipped to 0..1) at the row's pose, and a tightness adds its
    full change of force on top, as everywhere else.

    Returns ``{"abduction_deg": (n,), "found": (n,) bool, "in_range": (n,) bool, "knee_force_scale": (n,)}``
    (the scale at the resting abduction; NaN where none was found; ``in_range`` False where the hip or
    knee angle lies outside the box the fits were made for: hip flexion -50..20 deg, knee 5..110 deg).
    """
    person = person or Person()
    s = _side(side)
    prob = problem(f"thomas_abduction_{s}", person.psoas_minor, person.pelvic_incidence_offset_deg)
    n = q.shape[0]
    ci = prob.model.coordinate_index
    hf, kn = ci(f"hip_flexion_{s}"), ci(f"knee_angle_{s}")
    sag = np.stack([q[:, hf] - prob.q0[hf], q[:, kn] - prob.q0[kn]], axis=1)
    loads = loads_for(prob, tights, s, person)
    grid = np.radians(np.arange(-ABDUCTION_MAX_DEG, ADDUCTION_MAX_DEG + 1e-9, ABDUCTION_STEP_DEG))
    g = grid.size
    gen, _ = _abduction_force(prob, s, np.repeat(sag, g, axis=0), np.tile(grid, n), _repeat(loads, g))
    gen = gen.reshape(n, g)
    # the fits hold inside the setup's box only
    in_range = np.all((sag >= prob.z_lo[:2] - 1e-9) & (sag <= prob.z_hi[:2] + 1e-9), axis=1)
    # a stable rest: the generalized force along adduction turns from + (pushing into adduction)
    # to - as adduction grows
    cross = (gen[:, :-1] > 0) & (gen[:, 1:] <= 0)
    found = cross.any(axis=1) & in_range
    rows = np.flatnonzero(found)
    lo = np.zeros(rows.size)
    hi = np.zeros(rows.size)
    glo = np.zeros(rows.size)
    ghi = np.zeros(rows.size)
    for r, i in enumerate(rows):
        j = np.flatnonzero(cross[i])
        j = j[np.argmin(np.abs(grid[j]))]
        lo[r], hi[r], glo[r], ghi[r] = grid[j], grid[j + 1], gen[i, j], gen[i, j + 1]
    sub = loads.rows(rows)
    a = lo + (hi - lo) * glo / (glo - ghi)
    k = np.full(rows.size, np.nan)
    for _ in range(8 if rows.size else 0):
        ga, k = _abduction_force(prob, s, sag[rows], a, sub)
        left = ga > 0
        lo, glo = np.where(left, a, lo), np.where(left, ga, glo)
        hi, ghi = np.where(left, hi, a), np.where(left, ghi, ga)
        a_new = lo + (hi - lo) * glo / (glo - ghi)
        done = np.abs(a_new - a) < np.radians(ABDUCTION_TOL_DEG)
        a = a_new
        if done.all():
            break
    abd = np.full(n, np.nan)
    scale = np.full(n, np.nan)
    abd[rows] = -np.degrees(a)
    scale[rows] = k
    return {"abduction_deg": abd, "found": found, "in_range": in_range, "knee_force_scale": scale}


def _abduction_force(prob: Problem, s: str, sag: Array, add: Array, loads: MuscleLoads) -> tuple[Array, Array]:
    """Generalized force along hip adduction (N m, ``(n,)``) at ``sag`` ``(n, 2)`` and ``add`` ``(n,)`` rad."""
    from iliopsoas.posture import passive

    n = add.size
    z = np.column_stack([sag, add])
    _, det = prob.gradient(z, loads, np.tile(prob.heights0, (n, 1)), detail=True)
    F, dL = det["F"], det["dL"]
    varied = list(prob.varied)
    ci = prob.model.coordinate_index
    hf, kn, ad = ci(f"hip_flexion_{s}"), ci(f"knee_angle_{s}"), ci(f"hip_adduction_{s}")
    base = MuscleLoads(np.zeros_like(F), np.ones_like(F), np.zeros_like(F), loads.force_scale)
    F0 = prob.muscle_forces(det["L"], base)
    dknee = dL[:, :, varied.index(kn)]
    crosses_knee = np.abs(dknee) > 1e-6
    model_knee = -np.einsum("nm,nm->n", F0 * crosses_knee, dknee)
    qz = prob.q_of(z)
    riener = passive.riener_edrich_knee_moment(np.degrees(qz[:, hf]), np.degrees(qz[:, kn]))
    safe = np.where(np.abs(model_knee) > 1e-9, model_knee, 1.0)
    k = np.clip(np.where(np.abs(model_knee) > 1e-9, riener / safe, 1.0), 0.0, 1.0)
    F_eff = F - (1.0 - k[:, None]) * F0 * crosses_knee
    gen = -np.einsum("nm,nm->n", F_eff, dL[:, :, varied.index(ad)]) + det["gravity"][:, 2] + det["joint_limits"][:, 2]
    return gen, k


def _group_totals(prob: Problem, detail: dict[str, Any], person: Person) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    go = _group_of(person.psoas_minor)
    names = prob.model.muscle_names
    Bv = prob.B[prob.varied]
    gen = -np.einsum("nm,nmd,dk->nmk", detail["F"], detail["dL"], Bv)[0]
    contrib: dict[str, dict[str, float]] = {}
    forces: dict[str, float] = {}
    for mi, n in enumerate(names):
        g = go.get(n, n)
        forces[g] = forces.get(g, 0.0) + float(detail["F"][0, mi])
        row = contrib.setdefault(g, {f: 0.0 for f in prob.setup.free})
        for j, f in enumerate(prob.setup.free):
            row[f] += float(gen[mi, j])
    for part in ("gravity", "contact", "joint_limits"):
        contrib[part] = {f: float(detail[part][0, j]) for j, f in enumerate(prob.setup.free)}
    unit = {f: ("N" if t else "N*m") for f, t in zip(prob.setup.free, prob.trans, strict=True)}
    contrib = {g: {f"{f} ({unit[f]})": round(v, 3) for f, v in row.items()} for g, row in contrib.items()
               if any(abs(v) > 5e-4 for v in row.values())}
    return contrib, {g: round(v, 2) for g, v in forces.items() if v > 0.05}


def knee_support_height(tight: dict[str, Tightness], side: str = "right", person: Person | None = None) -> dict[str, Any]:
    """Smallest height (m) of a support under both knees that brings the lumbar angle back.

    Reference: the untightened model in the same knee-support scenario with the support at
    table height. Every height of :data:`KNEE_SUPPORT_HEIGHTS` is solved, tight and untightened,
    as one batch; the crossing is interpolated linearly. ``None`` when even 0.30 m is not enough.
    """
    person = person or Person()
    s = _side(side)
    prob = scenario_problem("supine_knee_support", s, person)
    hs = np.asarray(KNEE_SUPPORT_HEIGHTS)
    nh = len(hs)
    loads = loads_for(prob, [tight] * nh + [{}], s, person)
    heights = np.tile(prob.heights0, (nh + 1, 1))
    for ci, c in enumerate(prob.setup.contacts):
        if c.name.startswith("knee_support"):
            heights[:nh, ci] += hs
    sol = prob.solve(loads, heights=heights)
    lord_all = angles(prob.model, sol.q, "supine", s)["lumbar_lordosis_deg"]
    target = float(lord_all[nh])
    lord, ok = lord_all[:nh], sol.converged[:nh]
    height: float | None = None
    excess = lord - target - RELAX_TOLERANCE_DEG
    for i in range(nh):
        if not ok[i]:
            continue
        if excess[i] <= 0:
            if i == 0 or not ok[i - 1]:
                height = float(hs[i])
            else:
                height = float(hs[i - 1] + (hs[i] - hs[i - 1]) * excess[i - 1] / (excess[i - 1] - excess[i]))
            break
    return {
        "knee_support_height_m": None if height is None else round(height, 3),
        "reference_lumbar_lordosis_deg": round(target, 2),
        "reference_converged": bool(sol.converged[nh]),
        "heights_m": hs.tolist(),
        "lumbar_lordosis_deg": [round(float(v), 2) for v in lord],
        "converged": [bool(v) for v in ok],
    }


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
    abduction to the TFL. The untightened model's abduction differs from Harvey's mean, so the
    absolute criterion is reported but the attribution uses the change.
    """
    _, _, sol0, ang0 = solve_batch("thomas", [{}], side=side, person=person)
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
        "note": ("abduction is attributed to the TFL by clinical convention; in this model a tight iliacus "
                 "(by about 10 deg at 20 %) and a tight rectus femoris (about 3 deg at 15 %) also abduct the "
                 "hanging thigh, so abduction alone does not isolate the TFL"),
    }


def supine_rotation_balance(tight: dict[str, Tightness] | None = None, *, side: str = "right",
                            person: Person | None = None) -> dict[str, Any]:
    """The moments about one leg's hip-rotation axis lying supine, from its rest to full turn-out.

    The supine rest is solved (legs start neutral); then that leg's hip rotation alone is moved
    from 20 deg inward to 40 deg outward in 1 deg steps, everything else held, and the
    generalized forces along it are split into gravity (thigh, shank, patella and the foot point
    mass, from the model's segment masses and centres of mass), table contact, muscles (passive)
    and the hip's ligament limit moment. All moments in N m, + = turning the leg outward.

    ``tipping_deg`` is the first outward angle beyond the rest where the total turns from pushing
    the leg back in to pushing it out (an unstable balance: the foot's centre of mass lies in
    front of the rotation axis, i.e. above it when supine, so gravity amplifies any turn); None
    when the leg is pushed back in everywhere up to 40 deg. ``outer_rest_deg`` is where a leg
    turned beyond the tipping angle comes to rest (None: beyond 40 deg, the end of the range).
    """
    person = person or Person()
    tight = dict(tight or {})
    prob, _, sol, ang = solve_batch("supine", [tight], side=side, person=person)
    out = _rotation_balance(prob, tight, sol.z[0], _side(side), person)
    out["rest_deg"] = round(float(ang["hip_rotation_deg"][0]), 2)
    out["converged"] = bool(sol.converged[0])
    out.update(_tipping(out))
    return out


def _rotation_balance(prob: Problem, tight: dict[str, Tightness], z_rest: Array, s: str,
                      person: Person) -> dict[str, Any]:
    col = prob.setup.free.index(f"hip_rotation_{s}")
    ext = np.arange(-20.0, 40.0 + 1e-9, 1.0)
    z = np.tile(z_rest, (ext.size, 1))
    z[:, col] = -np.radians(ext)
    rows = loads_for(prob, [tight] * ext.size, s, person)
    _, det = prob.gradient(z, rows, np.tile(prob.heights0, (ext.size, 1)), detail=True)
    dcol = int(np.flatnonzero(prob.B[prob.varied][:, col])[0])
    muscles = det["F"] * det["dL"][:, :, dcol]  # minus the generalized force along internal rotation
    parts = {"gravity": -det["gravity"][:, col], "contact": -det["contact"][:, col],
             "muscles": muscles.sum(axis=1), "joint_limits": -det["joint_limits"][:, col]}
    total = sum(parts.values())
    return {
        "side": {"r": "right", "l": "left"}[s],
        "rest_deg": round(-math.degrees(float(z_rest[col])), 2),
        "external_rotation_deg": ext.tolist(),
        "moment_out_nm": {"total": [round(float(v), 4) for v in total],
                          **{k: [round(float(x), 4) for x in v] for k, v in parts.items()}},
    }


def _tipping(bal: dict[str, Any]) -> dict[str, float | None]:
    ext = np.asarray(bal["external_rotation_deg"])
    total = np.asarray(bal["moment_out_nm"]["total"])
    tipping: float | None = None
    outer: float | None = None
    for i in range(ext.size - 1):
        if tipping is None and ext[i] > bal["rest_deg"] and total[i] <= 0.0 < total[i + 1]:
            tipping = float(ext[i] + (ext[i + 1] - ext[i]) * -total[i] / (total[i + 1] - total[i]))
        elif tipping is not None and total[i] > 0.0 >= total[i + 1]:
            outer = float(ext[i] + (ext[i + 1] - ext[i]) * total[i] / (total[i] - total[i + 1]))
            break
    return {"tipping_deg": None if tipping is None else round(tipping, 2),
            "outer_rest_deg": None if outer is None else round(outer, 2)}


def simulate(scenario: str, tight: dict[str, Tightness] | None = None, *, side: str = "right",
             person: Person | None = None, knee_support: bool = True) -> ScenarioResult:
    """Solve one scenario for one set of tight muscles (targets as in ``tightness.TARGETS``)."""
    person = person or Person()
    tight = dict(tight or {})
    s = _side(side)
    prob, loads, sol, ang = solve_batch(scenario, [tight], side=side, person=person)
    _, detail = prob.gradient(sol.z, loads, np.tile(prob.heights0, (1, 1)), detail=True)
    contrib, forces = _group_totals(prob, detail, person)
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
    message = sol.messages[0]
    converged = bool(sol.converged[0])
    interpretation: dict[str, Any] = {}
    if scenario == "thomas":
        interpretation = thomas_interpretation(tight, ang, side=side, person=person)
    if scenario == "supine":
        tip = _tipping(_rotation_balance(prob, tight, sol.z[0], s, person))
        interpretation = {
            "hip_rotation_tipping_deg": tip["tipping_deg"],
            "hip_rotation_turned_out_rest_deg": tip["outer_rest_deg"],
            "note": ("the leg rests at hip_rotation_deg when it starts neutral; turned outward beyond "
                     "hip_rotation_tipping_deg (null: never) gravity and the muscles roll it further out, to "
                     "hip_rotation_turned_out_rest_deg (null: beyond 40 deg, the end of the modelled range)"),
        }
    if scenario == "supine" and knee_support:
        ks = knee_support_height(tight, side=side, person=person)
        angles_out["knee_support_height_m"] = ks["knee_support_height_m"]
    contacts = {c.name: round(float(detail["contact_forces"][0, i]), 2) for i, c in enumerate(prob.setup.contacts)}
    fit_mm = 1000.0 * max(prob.lengths.max_error, prob.kin.max_error)
    pose_err_mm = 1000.0 * float(np.abs(prob._muscle_func(sol.q[:, prob.varied]) - detail["L"]).max())
    return ScenarioResult(
        scenario=scenario, side=s, converged=converged, stable=bool(sol.stable[0]), message=message,
        pose_deg=pose, angles=angles_out, contributions=contrib, muscle_forces_n=forces,
        contact_forces_n=contacts, fit_error_mm=round(fit_mm, 3), pose_error_mm=round(pose_err_mm, 3),
        solve_ms=round(1000 * sol.seconds, 1), interpretation=interpretation,
        tightness={k: {"shortening": t.shortening, "tendon_shortening": t.tendon_shortening,
                       "stiffness": t.stiffness, "tone": t.tone} for k, t in tight.items()},
    )
