"""Continuity of the dose-response (issue 13): 0.5 % steps, a jump > 1 deg only at a flagged bifurcation.

CI checks a window of 0.5 % steps for psoas, iliacus, rectus femoris and TFL in every scenario
(the window around 20 % shortening, the dose the verdicts use); benchmarks/posture_continuity.py
runs the full 0-40 % sweep.
"""

from __future__ import annotations

import pytest

from iliopsoas.posture import sweep


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["supine", "standing", "sitting", "thomas", "prone"])
def test_half_percent_steps_move_no_angle_more_than_a_degree_unless_at_a_bifurcation(scenario: str) -> None:
    for muscle in ("psoas", "iliacus", "rectus_femoris", "tfl"):
        out = sweep(scenario, muscle, 0.18, 0.20, 5)
        assert all(out["converged"]), (scenario, muscle, out["messages"])
        for j in out["jumps"]:
            assert j["bifurcation"], (scenario, muscle, j)
            # a bifurcation is reported with both branches where two exist
            if j["kind"] in ("two branches", "fold"):
                assert "branches" in out, (scenario, muscle, j)
