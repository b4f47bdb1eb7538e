"""Model verdicts on the atlas claims that the posture scenarios test.

Every verdict is computed here from the scenarios at a standard dose: the muscle's resting length
shortened by :data:`DOSE` of its optimal fibre length (20 %), compared with the untightened model.
The verdict says what the *model* does; where population studies do not show the link the note
says so (shared/reference/pelvic_tilt_lordosis_norms.csv: Heino, Godges & Carter 1990 JOSPT
12:243-247, hip extension range vs standing pelvic tilt r = -0.04 and vs lordosis r = -0.09, n = 25;
Youdas et al. 1996 Phys Ther 76:1066-1081, no correlation of pelvic inclination with lordosis;
Jorgensson 1993, only a weak tendency of more lordosis with a shorter iliopsoas).

``write_verdicts`` writes ``knowledge/data/model_verdicts/posture.json``; a test checks the file
equals a fresh computation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from iliopsoas.posture.scenarios import knee_support_height, solve_batch, supine_rotation_balance
from iliopsoas.posture.tightness import Tightness

DOSE = 0.2
POPULATION = ("populations do not show this link: Heino 1990 found r = -0.04 between hip extension range and "
              "standing pelvic tilt and r = -0.09 with lordosis (n = 25); Youdas 1996 found no correlation of "
              "pelvic inclination with lordosis")
VERDICT_FILE = Path(__file__).resolve().parent.parent / "knowledge" / "data" / "model_verdicts" / "posture.json"


def _angles(scenario: str) -> dict[str, dict[str, float]]:
    tights = [{}, {"psoas": Tightness(DOSE)}, {"iliacus": Tightness(DOSE)}]
    _, _, sol, ang = solve_batch(scenario, tights)
    if not sol.converged.all():
        raise RuntimeError(f"{scenario}: {sol.messages}")
    names = ("baseline", "psoas", "iliacus")
    return {n: {k: float(v[i]) for k, v in ang.items()} for i, n in enumerate(names)}


def _r(x: float, nd: int = 2) -> float:
    return round(float(x), nd)


def _change(angles: dict[str, dict[str, float]], muscle: str, angle: str) -> float:
    """How far ``angle`` moves from the untightened baseline when ``muscle`` is tightened."""
    return angles[muscle][angle] - angles["baseline"][angle]


def compute_verdicts() -> dict[str, dict[str, Any]]:
    """The verdicts, as written to posture.json."""
    st = _angles("standing")
    su = _angles("supine")
    d_rot_il = _change(su, "iliacus", "hip_rotation_deg")
    d_rot_ps = _change(su, "psoas", "hip_rotation_deg")
    d_tilt_il = _change(st, "iliacus", "pelvic_tilt_deg")
    d_tilt_ps = _change(st, "psoas", "pelvic_tilt_deg")
    d_lord_ps = _change(st, "psoas", "lumbar_lordosis_deg")
    d_lord_il = _change(st, "iliacus", "lumbar_lordosis_deg")
    d_lord_ps_su = _change(su, "psoas", "lumbar_lordosis_deg")
    d_lord_il_su = _change(su, "iliacus", "lumbar_lordosis_deg")
    d_lift_il = _change(su, "iliacus", "thigh_lift_deg")
    d_hip_il = _change(su, "iliacus", "hip_flexion_deg")
    ks = knee_support_height({"iliacus": Tightness(DOSE)})["knee_support_height_m"]
    ks_ps = knee_support_height({"psoas": Tightness(DOSE)})["knee_support_height_m"]
    dose = f"{DOSE * 100:g} % shorter resting length"
    out: dict[str, dict[str, Any]] = {}
    bal = {n: supine_rotation_balance(t) for n, t in (("baseline", {}), ("psoas", {"psoas": Tightness(DOSE)}),
                                                       ("iliacus", {"iliacus": Tightness(DOSE)}))}
    tip = {n: ("never" if b["tipping_deg"] is None else f"{_r(b['tipping_deg'], 1)} deg") for n, b in bal.items()}
    ext = bal["baseline"]["external_rotation_deg"]
    at30 = ext.index(30.0)
    m30 = {n: _r(b["moment_out_nm"]["total"][at30]) for n, b in bal.items()}
    g30 = _r(bal["baseline"]["moment_out_nm"]["gravity"][at30])
    out["C000-30"] = {
        "verdict": "contradicts" if d_rot_il < -0.5 else ("supports" if d_rot_il > 0.5 else "depends"),
        "value": _r(d_rot_il), "unit": "deg of hip rotation (+ = external), change",
        "analysis": "posture supine",
        "note": (f"lying supine, an iliacus with a {dose} turns the leg by {_r(d_rot_il, 1)} deg "
                 f"(baseline {_r(su['baseline']['hip_rotation_deg'], 1)} deg; negative = inward); untightened, a leg "
                 f"turned out beyond {tip['baseline']} keeps rolling out (gravity on the foot and leg, {g30} N m "
                 f"outward at 30 deg), with the tight iliacus beyond {tip['iliacus']}. The iliacus has an "
                 "internal-rotation moment arm with the hip near extension; the model has no femoral-version or "
                 "tibial-torsion differences between people"),
    }
    out["C000-47"] = {
        "verdict": "contradicts" if max(d_rot_il, d_rot_ps) < -0.5 else "depends",
        "value": _r(d_rot_ps), "unit": "deg of hip rotation (+ = external), change with a tight psoas",
        "analysis": "posture supine",
        "note": (f"supine, {dose}, leg starting neutral: psoas {_r(d_rot_ps, 1)} deg, iliacus {_r(d_rot_il, 1)} deg "
                 f"of rotation (+ = outward); neither turns the leg out from neutral. Turned out to 30 deg the leg is "
                 f"pushed {'out' if m30['psoas'] > 0 else 'in'} by {abs(m30['psoas'])} N m with a tight psoas "
                 f"(untightened {m30['baseline']} N m, + = outward; tipping angle {tip['psoas']}) and "
                 f"{'out' if m30['iliacus'] > 0 else 'in'} by {abs(m30['iliacus'])} N m with a tight iliacus. Bone "
                 "shape (femoral version, tibial torsion) is not modelled"),
    }
    out["C000-31"] = {
        "verdict": "supports" if ks and ks > 0 else "contradicts",
        "value": ks, "unit": "m of support under the knees",
        "analysis": "posture supine knee support",
        "note": (f"with an iliacus {dose}, lying straight-legged, the thigh stays on the table (lift "
                 f"{_r(d_lift_il, 1)} deg) but the pelvis tilts forward, the hip flexes by {_r(d_hip_il, 1)} deg "
                 f"against the pelvis and the lumbar angle rises by {_r(d_lord_il_su, 1)} deg; "
                 + (f"a support of {ks} m under the knees (psoas: {ks_ps} m) brings it back within 1 deg of the "
                    "untightened value. The mechanism exists in the model"
                    if ks else
                    "less than the 1 deg a knee support is asked to undo (psoas: support "
                    f"{ks_ps} m): with the lower thorax resting on the table the lying hip is near neutral and "
                    "its flexors are slack, so the model needs no pillow at this dose")
                 + "; the pillow sign itself is not a validated clinical test"),
    }
    out["C000-45"] = {
        "verdict": "supports" if d_lord_ps > 0.5 and d_lord_ps_su > 0.5 else "depends",
        "value": _r(d_lord_ps), "unit": "deg of lumbar lordosis, standing, change",
        "analysis": "posture standing, supine",
        "note": (f"a psoas {dose} increases the lumbar angle by {_r(d_lord_ps, 1)} deg standing and "
                 f"{_r(d_lord_ps_su, 1)} deg lying supine in the model; {POPULATION}"),
    }
    out["C001-34"] = {
        "verdict": "supports" if d_lord_ps > 0.5 and d_tilt_il > 0.5 else "depends",
        "value": _r(d_tilt_il), "unit": "deg of anterior pelvic tilt (ASIS-PSIS), standing, change with a tight iliacus",
        "analysis": "posture standing",
        "note": (f"standing, {dose}: iliacus tilts the pelvis forward by {_r(d_tilt_il, 1)} deg, psoas by "
                 f"{_r(d_tilt_ps, 1)} deg and arches the low back by {_r(d_lord_ps, 1)} deg; small next to the "
                 f"population spread of tilt (Preece 2008: 13 +- 5 deg from bone shape alone); {POPULATION}"),
    }
    split = (d_lord_ps - d_lord_il) > 0.5 and (d_tilt_il - d_tilt_ps) > 0.5
    out["C001-54"] = {
        "verdict": "supports" if split else "contradicts",
        "value": _r(d_lord_ps - d_lord_il),
        "unit": "deg more lumbar arch with a tight psoas than with a tight iliacus (standing)",
        "analysis": "posture standing, supine",
        "note": (f"standing, {dose}: psoas changes tilt {_r(d_tilt_ps, 1)} / lordosis {_r(d_lord_ps, 1)} deg, iliacus "
                 f"{_r(d_tilt_il, 1)} / {_r(d_lord_il, 1)} deg; lying supine: lordosis +{_r(d_lord_ps_su, 1)} (psoas) vs "
                 f"+{_r(d_lord_il_su, 1)} (iliacus). "
                 + ("In the model the psoas arches the low back more and the iliacus tilts the pelvis more, the "
                    "pattern the claim describes; both muscles do some of both, and populations do not show either "
                    "link (Heino 1990, Youdas 1996)" if split else
                    "Both muscles tilt the pelvis and arch the back together, so the pattern does not point to one "
                    "muscle")),
    }
    return out


def write_verdicts(path: str | Path = VERDICT_FILE) -> Path:
    p = Path(path)
    p.write_text(json.dumps(compute_verdicts(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return p
