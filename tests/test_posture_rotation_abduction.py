"""The hanging thigh's abduction in the Thomas test and the relaxed supine leg's rotation."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from iliopsoas.posture import Tightness, simulate, sweep
from iliopsoas.posture.scenarios import solve_batch, supine_rotation_balance


def _harvey_abduction(reference_dir: Path) -> float:
    with (reference_dir / "thomas_test_norms.csv").open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["source"].startswith("Harvey")]
    return float(next(r for r in rows if "abduction" in r["measure"])["value"])


def test_thomas_abduction_is_solved_and_sits_below_harveys_mean(reference_dir: Path) -> None:
    harvey = _harvey_abduction(reference_dir)
    res = simulate("thomas")
    abd = res.angles["thomas_abduction_deg"]
    assert res.converged and abd is not None
    # docs/posture.md: the untightened hanging thigh rests near neutral, well below the athletes' mean
    assert -15.0 < abd < harvey


def test_thomas_abduction_points_to_tight_tfl() -> None:
    res = simulate("thomas", {"tfl": Tightness(0.2)})
    assert res.converged
    change = res.interpretation["change_from_untightened_deg"]
    assert change["thomas_abduction"] > 5.0
    assert abs(change["thomas_hip"]) < 2.0  # the thigh does not rise: not the iliopsoas pattern
    assert "tfl" in res.interpretation["points_to"] and "iliopsoas" not in res.interpretation["points_to"]


def test_thomas_abduction_grows_with_tfl_tightness() -> None:
    out = sweep("thomas", "tfl", 0.0, 0.3, 4)
    abd = np.array(out["angles"]["thomas_abduction_deg"])
    assert all(out["converged"])
    assert np.all(np.diff(abd) > 2.0)


def test_untightened_thomas_points_nowhere_and_tfl_abducts_more_than_rectus_femoris() -> None:
    assert simulate("thomas").interpretation["points_to"] == ["none (changes below 2 deg)"]
    _, _, sol, ang = solve_batch("thomas", [{}, {"tfl": Tightness(0.15)}, {"rectus_femoris": Tightness(0.15)}])
    assert sol.converged.all()
    d = ang["thomas_abduction_deg"] - ang["thomas_abduction_deg"][0]
    assert d[1] > d[2] + 2.0


def test_tight_iliacus_also_abducts_the_hanging_thigh_in_this_model() -> None:
    _, _, sol, ang = solve_batch("thomas", [{}, {"iliacus": Tightness(0.2)}, {"psoas": Tightness(0.2)}])
    assert sol.converged.all()
    d = ang["thomas_abduction_deg"] - ang["thomas_abduction_deg"][0]
    assert d[1] > 5.0  # iliacus: abduction moment arm with the hip extended
    assert abs(d[2]) < 2.0  # psoas: hardly


def test_gravity_turns_a_relaxed_supine_leg_outward() -> None:
    bal = supine_rotation_balance()
    ext = np.array(bal["external_rotation_deg"])
    grav = np.array(bal["moment_out_nm"]["gravity"])
    assert bal["converged"]
    # the foot's centre of mass lies in front of (above) the rotation axis: gravity pushes outward
    # from neutral on, and more the further the leg is turned
    assert np.all(grav[ext >= 0.0] > 0.0)
    assert np.all(np.diff(grav[ext >= 0.0]) > 0.0)


def test_relaxed_supine_leg_turns_out_past_a_tipping_point() -> None:
    bal = supine_rotation_balance()
    assert bal["rest_deg"] < 0.0  # from neutral the model's leg settles slightly inward
    assert bal["tipping_deg"] is not None and 0.0 < bal["tipping_deg"] < 25.0
    ext = np.array(bal["external_rotation_deg"])
    total = np.array(bal["moment_out_nm"]["total"])
    beyond = (ext > bal["tipping_deg"] + 1.0) & (ext <= 35.0)
    assert np.all(total[beyond] > 0.0)  # once past it, the leg keeps rolling out


def test_tight_iliacus_holds_the_supine_leg_in_and_removes_the_roll_out() -> None:
    base = supine_rotation_balance()
    il = supine_rotation_balance({"iliacus": Tightness(0.2)})
    assert il["rest_deg"] < base["rest_deg"] - 1.0
    assert il["tipping_deg"] is None


def test_tight_psoas_rolls_a_turned_out_supine_leg_out_harder() -> None:
    base = supine_rotation_balance()
    ps = supine_rotation_balance({"psoas": Tightness(0.2)})
    ext = np.array(base["external_rotation_deg"])
    at30 = int(np.flatnonzero(ext == 30.0)[0])
    assert ps["moment_out_nm"]["total"][at30] > base["moment_out_nm"]["total"][at30] + 1.0
    assert ps["rest_deg"] == pytest.approx(base["rest_deg"], abs=3.0)


def test_abduction_fit_is_accurate_at_the_resting_abduction() -> None:
    from iliopsoas.posture.scenarios import problem

    _, _, sol, ang = solve_batch("thomas", [{}, {"tfl": Tightness(0.2)}])
    prob = problem("thomas_abduction_r")
    q = sol.q.copy()
    q[:, prob.model.coordinate_index("hip_adduction_r")] = -np.radians(ang["thomas_abduction_deg"])
    u = q[:, prob.varied]
    fitted, _ = prob.lengths.evaluate(u)
    assert np.abs(fitted - prob._muscle_func(u)).max() < 1e-3  # m


def test_thomas_abduction_outside_its_fitted_range_is_reported_not_guessed() -> None:
    _, _, sol, ang = solve_batch("thomas", [{"iliopsoas": Tightness(0.4)}])
    assert not sol.converged[0] and np.isnan(ang["thomas_abduction_deg"][0])
    assert "outside the range fitted" in sol.messages[0]
