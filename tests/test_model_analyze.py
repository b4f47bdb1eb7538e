"""``iliopsoas model analyze``: muscle quantities over a motion, checked against OpenSim."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from iliopsoas.commands import model_analyze
from iliopsoas.mechanics.storage import Storage, read_storage, write_storage

runner = CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer()
    group = typer.Typer()
    model_analyze.register(group)
    app.add_typer(group, name="model")
    return app


def _motion(path: Path) -> Storage:
    t = np.linspace(0.0, 1.0, 21)
    s = Storage("hip flexion and knee bend", ("time", "hip_flexion_r", "/jointset/walker_knee_r/knee_angle_r/value",
                                              "hip_adduction_r"),
                np.column_stack([t, -10 + 90 * t, 80 * t, 5 * np.sin(6 * t)]), in_degrees=True)
    write_storage(path, s)
    return s


@pytest.fixture(scope="module")
def rajagopal(models_dir: Path) -> Path:
    return models_dir / "opensim-models" / "Rajagopal2016.osim"


def test_analyze_writes_documented_columns(rajagopal: Path, tmp_path: Path) -> None:
    _motion(tmp_path / "m.mot")
    out = tmp_path / "r.sto"
    res = runner.invoke(_app(), ["model", "analyze", str(rajagopal), str(tmp_path / "m.mot"), "--muscles",
                                 "psoas_r,iliacus_r", "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert summary["muscles"] == ["psoas_r", "iliacus_r"]
    assert summary["coordinates"] == ["hip_flexion_r", "hip_adduction_r", "knee_angle_r"]
    table = read_storage(out)
    assert table.data.shape[0] == 21 and table.labels[0] == "time"
    for q in ("length", "fiber_length", "tendon_length", "pennation_angle", "active_fiber_force",
              "passive_fiber_force", "tendon_force", "moment_arm_hip_flexion_r", "moment_hip_flexion_r"):
        assert f"psoas_r|{q}" in table.labels
    # the iliopsoas does not cross the knee: no knee columns
    assert "psoas_r|moment_arm_knee_angle_r" not in table.labels
    np.testing.assert_allclose(table.column("psoas_r|moment_hip_flexion_r"),
                               table.column("psoas_r|moment_arm_hip_flexion_r") * table.column("psoas_r|tendon_force"))


@pytest.mark.opensim
def test_analyze_matches_opensim_over_the_motion(rajagopal: Path, tmp_path: Path) -> None:
    osim = pytest.importorskip("opensim")
    motion = _motion(tmp_path / "m.mot")
    out = tmp_path / "r.sto"
    muscles = ["psoas_r", "iliacus_r", "recfem_r"]
    res = runner.invoke(_app(), ["model", "analyze", str(rajagopal), str(tmp_path / "m.mot"), "--muscles",
                                 ",".join(muscles), "--activation", "0.6", "--out", str(out)])
    assert res.exit_code == 0, res.output
    table = read_storage(out)

    model = osim.Model(str(rajagopal))
    state = model.initSystem()
    cs = model.getCoordinateSet()
    hip, knee, add = cs.get("hip_flexion_r"), cs.get("knee_angle_r"), cs.get("hip_adduction_r")
    beta = cs.get("knee_angle_r_beta")
    for k in range(0, 21, 4):
        hip.setValue(state, np.deg2rad(motion.data[k, 1]), False)
        knee.setValue(state, np.deg2rad(motion.data[k, 2]), False)
        beta.setValue(state, np.deg2rad(motion.data[k, 2]), False)
        add.setValue(state, np.deg2rad(motion.data[k, 3]), False)
        for name in muscles:
            model.getMuscles().get(name).setActivation(state, 0.6)
        model.realizeVelocity(state)
        model.equilibrateMuscles(state)
        model.realizeDynamics(state)
        for name in muscles:
            mu = model.getMuscles().get(name)
            assert table.column(f"{name}|length")[k] == pytest.approx(mu.getLength(state), abs=1e-7)
            assert table.column(f"{name}|fiber_length")[k] == pytest.approx(mu.getFiberLength(state), abs=1e-7)
            ft = mu.getTendonForce(state)
            assert table.column(f"{name}|tendon_force")[k] == pytest.approx(ft, rel=1e-6, abs=1e-8 * 3000)
            r = mu.computeMomentArm(state, hip)
            assert table.column(f"{name}|moment_arm_hip_flexion_r")[k] == pytest.approx(r, abs=1e-6)


def test_bad_inputs_fail_cleanly(rajagopal: Path, tmp_path: Path) -> None:
    _motion(tmp_path / "m.mot")
    bad = tmp_path / "bad.mot"
    bad.write_text("x\nendheader\ntime\thip_flexion_r\n0\t1\n0.1\n")
    app = _app()
    cases = [
        ([str(rajagopal), str(tmp_path / "none.mot")], "motion file not found"),
        ([str(rajagopal), str(bad)], "bad.mot:5: row has 1 values"),
        ([str(rajagopal), str(tmp_path / "m.mot"), "--muscles", "psoas"], "unknown muscle 'psoas'"),
        ([str(rajagopal), str(tmp_path / "m.mot"), "--activation", "2"], "--activation"),
        ([str(rajagopal), str(tmp_path / "m.mot"), "--tendon", "stiff"], "--tendon"),
    ]
    for args, message in cases:
        res = runner.invoke(app, ["model", "analyze", *args, "--out", str(tmp_path / "o.sto")])
        assert res.exit_code == 1, (args, res.output)
        assert message in res.output.replace("\n", "")
        assert "Traceback" not in res.output


@pytest.mark.opensim
def test_hip_flexion_moment_of_all_muscles_matches_opensim(rajagopal: Path) -> None:
    """joint_moments = sum over muscles of moment arm x tendon force, as OpenSim computes them."""
    osim = pytest.importorskip("opensim")
    from iliopsoas.mechanics import load_osim
    from iliopsoas.mechanics.forces import joint_moments

    model = load_osim(rajagopal)
    rng = np.random.default_rng(11)
    q = np.tile(model.coordinate_defaults, (4, 1))
    names = ["hip_flexion_r", "hip_adduction_r", "knee_angle_r"]
    ids = [model.coordinate_index(c) for c in names]
    q[:, ids] = rng.uniform([-0.3, -0.3, 0.1], [1.5, 0.3, 1.5], (4, 3))
    ours = joint_moments(model, q, 0.3, coordinates=["hip_flexion_r", "knee_angle_r"])

    om = osim.Model(str(rajagopal))
    state = om.initSystem()
    cs = om.getCoordinateSet()
    ms = om.getMuscles()
    for k in range(4):
        for c, i in zip(names, ids, strict=True):
            cs.get(c).setValue(state, float(q[k, i]), False)
        cs.get("knee_angle_r_beta").setValue(state, float(q[k, ids[2]]), False)
        for i in range(ms.getSize()):
            ms.get(i).setActivation(state, 0.3)
        om.realizeVelocity(state)
        om.equilibrateMuscles(state)
        om.realizeDynamics(state)
        for j, c in enumerate(["hip_flexion_r", "knee_angle_r"]):
            ref = sum(ms.get(i).computeMomentArm(state, cs.get(c)) * ms.get(i).getTendonForce(state)
                      for i in range(ms.getSize()))
            assert ours[k, j] == pytest.approx(ref, rel=1e-5, abs=1e-3)
