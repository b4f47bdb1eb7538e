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


def test_pelvis_shape_angle_is_the_tilt_with_the_pelvic_plane_vertical() -> None:
    import math

    import numpy as np

    from iliopsoas.mechanics import body_transforms, complete_coordinates
    from iliopsoas.models import load
    from iliopsoas.posture import scenarios

    model = load("lumbopelvic")
    shape = scenarios.pelvis_shape_tilt_deg()
    for tilt_deg in (0.0, -12.0):  # pelvis_tilt + = posterior
        q = np.zeros((1, len(model.coordinates)))
        q[0, model.coordinate_index("pelvis_tilt")] = math.radians(tilt_deg)
        q = complete_coordinates(model, q)
        Rm, p = body_transforms(model, q)
        inn = model.body_index("innominate_r")
        a = Rm[0, inn] @ np.array(scenarios.APP_ASIS) + p[0, inn]
        ps = Rm[0, inn] @ np.array(scenarios.APP_PUBIC_SYMPHYSIS) + p[0, inn]
        app_lean = math.degrees(math.atan2(a[0] - ps[0], a[1] - ps[1]))  # forward lean of the pelvic plane
        measured = float(scenarios.angles(model, q, "standing")["pelvic_tilt_deg"][0])
        # the tilt measure = bone shape + the plane's forward lean
        assert abs(measured - (shape + app_lean)) < 1e-6, (tilt_deg, measured, shape, app_lean)
    assert 0.0 <= shape <= 23.0  # inside Preece's range of 30 pelves (their mean +- SD is 13 +- 5)
