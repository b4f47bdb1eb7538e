"""``iliopsoas validate``: the comparisons of the model with published numbers, and no regressions."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from iliopsoas.cli import app
from iliopsoas.posture import validation

EXPECTED = Path(__file__).parent / "data" / "validation_expected_pass.json"


def test_comparisons_that_passed_still_pass() -> None:
    rep = validation.report()
    ids = [r.id for r in rep.comparisons]
    assert len(ids) == len(set(ids))  # every comparison has its own id
    inside = {r.id for r in rep.comparisons if r.inside}
    expected = set(json.loads(EXPECTED.read_text(encoding="utf-8"))["inside"])
    assert expected <= set(ids), sorted(expected - set(ids))
    assert expected <= inside, sorted(expected - inside)
    for r in rep.comparisons:
        assert r.citation and r.published and r.unit, r.id


def test_every_psoas_fascicle_and_every_lumbar_level_is_inside() -> None:
    rows = validation.moment_arm_comparisons() + validation.lumbar_comparisons()
    for r in rows:
        if r.id.startswith(("arm.psoas.flexion.fascicles", "lumbar.psoas")):
            assert r.inside, (r.id, r.model, r.published)


def test_validate_cli_json_and_plots(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["validate", "--group", "lumbar", "--json", "--plot", str(tmp_path)])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["n_inside"] + data["n_outside"] + data["n_not_comparable"] == len(data["comparisons"]) == 6
    assert {p.name for p in tmp_path.glob("*.png")} >= {"validation_moment_arms.png", "validation_lumbar.png"}
    res = runner.invoke(app, ["validate", "--group", "knees"])
    assert res.exit_code == 1 and "unknown group" in res.output


def test_pelvic_tilt_is_the_pelvic_planes_lean_plus_the_bone_shape() -> None:
    import math

    import numpy as np

    from iliopsoas.mechanics import body_transforms, complete_coordinates
    from iliopsoas.models import load
    from iliopsoas.posture import Person, TightnessError, scenarios

    model = load("lumbopelvic")
    for tilt_deg in (0.0, -12.0):  # pelvis_tilt + = posterior
        q = np.zeros((1, len(model.coordinates)))
        q[0, model.coordinate_index("pelvis_tilt")] = math.radians(tilt_deg)
        q = complete_coordinates(model, q)
        Rm, p = body_transforms(model, q)
        inn = model.body_index("innominate_r")
        a = Rm[0, inn] @ np.array(scenarios.APP_ASIS) + p[0, inn]
        ps = Rm[0, inn] @ np.array(scenarios.APP_PUBIC_SYMPHYSIS) + p[0, inn]
        app_lean = math.degrees(math.atan2(a[0] - ps[0], a[1] - ps[1]))  # forward lean of the pelvic plane
        assert abs(app_lean + tilt_deg) < 1e-6  # the frame's vertical is the plane
        for shape in (scenarios.PELVIS_SHAPE_DEG, 5.9):
            measured = float(scenarios.angles(model, q, "standing", pelvis_shape_deg=shape)["pelvic_tilt_deg"][0])
            assert abs(measured - (shape + app_lean)) < 1e-9, (tilt_deg, measured, shape, app_lean)
    assert scenarios.PELVIS_SHAPE_DEG == 13.0  # Preece et al. 2008: 13 +- 5 deg (range 0-23) in 30 pelves
    # a person's bone shape moves every reported tilt by the same amount and changes no force
    base, other = scenarios.simulate("standing"), scenarios.simulate("standing", person=Person(pelvis_shape_deg=8.0))
    assert abs(other.angles["pelvic_tilt_deg"] - (base.angles["pelvic_tilt_deg"] - 5.0)) < 2e-3  # rounded to 1e-3
    assert other.muscle_forces_n == base.muscle_forces_n
    try:
        Person(pelvis_shape_deg=60.0)
    except TightnessError as e:
        assert "pelvis_shape_deg must be between" in str(e)
    else:
        raise AssertionError("a pelvis shape of 60 deg was accepted")
