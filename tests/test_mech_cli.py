"""``iliopsoas model info`` and ``iliopsoas model moment-arm``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iliopsoas.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def rajagopal(models_dir: Path) -> Path:
    return models_dir / "opensim-models" / "Rajagopal2016.osim"


def test_model_info_json_lists_coupled_knee_and_wrapped_iliacus(rajagopal: Path) -> None:
    res = runner.invoke(app, ["model", "info", str(rajagopal), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    coords = {c["name"]: c for c in data["coordinates"]}
    assert coords["knee_angle_r_beta"]["coupled_to"] == "knee_angle_r"
    assert coords["hip_flexion_r"]["unit"] == "deg"
    assert coords["hip_flexion_r"]["range"][1] == pytest.approx(120.0, abs=1e-5)
    iliacus = next(m for m in data["muscles"] if m["name"] == "iliacus_r")
    assert iliacus["type"] == "Millard2012EquilibriumMuscle"
    assert iliacus["wraps"] == ["IL_at_brim_r"]
    assert data["unsupported"] == []


def test_moment_arm_json_psoas_flexes_the_hip(rajagopal: Path) -> None:
    res = runner.invoke(
        app,
        ["model", "moment-arm", str(rajagopal), "--muscle", "psoas_r", "--coordinate", "hip_flexion_r",
         "--from", "0", "--to", "60", "--steps", "4", "--json"],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    rows = data["rows"]
    assert [r["hip_flexion_r_deg"] for r in rows] == [0.0, 20.0, 40.0, 60.0]
    assert all(r["moment_arm_mm"] > 10 for r in rows)
    assert rows[0]["length_mm"] > rows[-1]["length_mm"]  # the psoas shortens as the hip flexes


def test_moment_arm_csv_exact_and_plot(rajagopal: Path, tmp_path: Path) -> None:
    res = runner.invoke(
        app,
        ["model", "moment-arm", str(rajagopal), "--muscle", "iliacus_r", "--coordinate", "hip_adduction_r",
         "--steps", "3", "--exact", "--set", "hip_flexion_r=30", "--csv"],
    )
    assert res.exit_code == 0, res.output
    lines = res.stdout.strip().splitlines()
    assert lines[0] == "hip_adduction_r_deg,moment_arm_mm,length_mm"
    assert len(lines) == 4
    png = tmp_path / "ma.png"
    res = runner.invoke(
        app,
        ["model", "moment-arm", str(rajagopal), "--muscle", "iliacus_r", "--coordinate", "hip_flexion_r",
         "--steps", "5", "--plot", str(png)],
    )
    assert res.exit_code == 0, res.output
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_unknown_names_and_missing_files_exit_1_without_traceback(rajagopal: Path, tmp_path: Path) -> None:
    for args in (
        ["model", "moment-arm", str(rajagopal), "--muscle", "psoas", "--coordinate", "hip_flexion_r"],
        ["model", "moment-arm", str(rajagopal), "--muscle", "psoas_r", "--coordinate", "hip"],
        ["model", "moment-arm", str(rajagopal), "--muscle", "psoas_r", "--coordinate", "knee_angle_r_beta"],
        ["model", "moment-arm", str(rajagopal), "--muscle", "psoas_r", "--coordinate", "hip_flexion_r",
         "--set", "hip_adduction_r=abc"],
        ["model", "moment-arm", str(rajagopal), "--muscle", "psoas_r", "--coordinate", "hip_flexion_r",
         "--set", "hip_adduction_r=nan"],
        ["model", "info", str(tmp_path / "none.osim")],
    ):
        res = runner.invoke(app, args)
        assert res.exit_code == 1, (args, res.output)
        assert "Traceback" not in res.output
        assert "error:" in res.output
