"""The hanging thigh's abduction in the Thomas test and the relaxed supine leg's rotation."""

from __future__ import annotations

import numpy as np

from iliopsoas.posture import Tightness, simulate, sweep
from iliopsoas.posture.scenarios import solve_batch, supine_rotation_balance


def test_thomas_abduction_points_to_tight_tfl() -> None:
    res = simulate("thomas", {"tfl": Tightness(0.2)})
    assert res.converged
    change = res.interpretation["change_from_untightened_deg"]
    assert change["thomas_abduction"] > 5.0
    assert abs(change["thomas_hip"]) < 2.0  # the thigh does not rise: not the iliopsoas pattern
    assert "tfl" in res.interpretation["points_to"] and "iliopsoas" not in res.interpretation["points_to"]


def test_thomas_abduction_grows_with_tfl_tightness_solved_together_with_hip_and_knee() -> None:
    out = sweep("thomas", "tfl", 0.0, 0.2, 3, branches=False)
    abd = np.array(out["angles"]["thomas_abduction_deg"])
    assert all(out["converged"])
    assert np.all(np.diff(abd) > 1.0)


def test_untightened_thomas_points_nowhere_and_tfl_abducts_more_than_rectus_femoris() -> None:
    assert simulate("thomas").interpretation["points_to"] == ["none (changes below 2 deg)"]
    _, _, sol, ang = solve_batch("thomas", [{}, {"tfl": Tightness(0.15)}, {"rectus_femoris": Tightness(0.15)}])
    assert sol.converged.all()
    d = ang["thomas_abduction_deg"] - ang["thomas_abduction_deg"][0]
    assert d[1] > d[2] + 2.0


def test_gravity_turns_a_relaxed_supine_leg_outward() -> None:
    bal = supine_rotation_balance()
    ext = np.array(bal["external_rotation_deg"])
    grav = np.array(bal["moment_out_nm"]["gravity"])
    assert bal["converged"]
    # the foot's centre of mass lies in front of (above) the rotation axis: gravity pushes outward
    # from neutral on, and more the further the leg is turned
    assert np.all(grav[ext >= 0.0] > 0.0)
    assert np.all(np.diff(grav[ext >= 0.0]) > 0.0)


def test_relaxed_supine_leg_settles_inward_from_neutral_and_tips_out_past_a_point() -> None:
    bal = supine_rotation_balance()
    assert bal["rest_deg"] < 0.0  # from neutral the model's leg settles inward (its hip flexors rotate inward)
    # the hump between rolling in and rolling out lies within a few degrees of neutral (-0.5 deg since the
    # lower thorax rests on the table): which way a relaxed leg falls is a knife edge
    assert bal["tipping_deg"] is not None and -5.0 < bal["tipping_deg"] < 30.0
    ext = np.array(bal["external_rotation_deg"])
    total = np.array(bal["moment_out_nm"]["total"])
    beyond = (ext > bal["tipping_deg"] + 1.0) & (ext < (bal["outer_rest_deg"] or 40.0) - 1.0)
    assert np.all(total[beyond] > 0.0)  # once past it, the leg keeps rolling out


def test_tight_iliacus_turns_the_resting_supine_leg_further_in() -> None:
    base = supine_rotation_balance()
    il = supine_rotation_balance({"iliacus": Tightness(0.2)})
    assert il["rest_deg"] < base["rest_deg"] - 1.0
