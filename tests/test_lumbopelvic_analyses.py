"""Analyses of the lumbopelvic model: crossings, hip moment arms, lumbar psoas mechanics, verdicts."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from iliopsoas import models
from iliopsoas.models import analyses, verdicts
from iliopsoas.paths import PACKAGE_DIR

VERDICT_FILE = PACKAGE_DIR / "knowledge" / "data" / "model_verdicts" / "lumbopelvic.json"


@pytest.fixture(scope="module")
def cx() -> dict:
    return analyses.crossings()


@pytest.fixture(scope="module")
def hip() -> dict:
    return analyses.hip_moment_arms("r")


@pytest.fixture(scope="module")
def lum() -> dict:
    return analyses.lumbar("r")


# ------------------------------------------------------------------------------------ crossings


def test_iliacus_crosses_hip_and_sacroiliac_joints(cx):
    assert cx["groups"]["iliacus_r"] == ["sacroiliac_r", "hip_r"]
    assert cx["muscles"]["iliacus_upper_r"] == ["hip_r"]
    assert cx["muscles"]["iliacus_lower_r"] == ["hip_r"]
    assert cx["muscles"]["iliacus_sacral_r"] == ["sacroiliac_r", "hip_r"]


def test_psoas_major_crosses_each_lumbar_level_below_its_origin_then_si_and_hip(cx):
    assert cx["groups"]["psoas_major_r"] == ["T12_L1", "L1_L2", "L2_L3", "L3_L4", "L4_L5", "L5_S1", "sacroiliac_r",
                                             "hip_r"]
    assert cx["muscles"]["psoas_major_L1_VB_r"][0] == "T12_L1"  # Bogduk 1992: the uppermost fascicle at T12/L1
    assert cx["muscles"]["psoas_major_L3_TP_r"] == ["L3_L4", "L4_L5", "L5_S1", "sacroiliac_r", "hip_r"]
    assert cx["muscles"]["psoas_major_L5_VB_r"] == ["L5_S1", "sacroiliac_r", "hip_r"]
    assert cx["groups"]["psoas_major_l"] == [j.replace("_r", "_l") for j in cx["groups"]["psoas_major_r"]]


def test_psoas_minor_stops_at_the_pelvis(cx):
    assert cx["groups"]["psoas_minor_r"][-1] == "sacroiliac_r"
    assert "hip_r" not in cx["groups"]["psoas_minor_r"]


def test_two_joint_thigh_muscles_cross_hip_and_knee(cx):
    for g in ("rectus_femoris_r", "sartorius_r", "semitendinosus_r", "biceps_femoris_long_head_r"):
        assert cx["groups"][g] == ["hip_r", "walker_knee_r"], g
    assert cx["groups"]["pectineus_r"] == ["hip_r"]
    assert cx["groups"]["piriformis_r"] == ["sacroiliac_r", "hip_r"]


def test_crossings_reject_a_non_positive_threshold():
    with pytest.raises(ValueError, match="threshold must be a positive length"):
        analyses.crossings(threshold=0.0)


# ------------------------------------------------------------------------------ hip moment arms


def test_psoas_and_iliacus_flex_the_hip_over_the_whole_range(hip):
    for g in ("psoas_major_r", "iliacus_r"):
        assert min(hip["groups"][g]["flexion"]) > 0, g


def test_psoas_peak_flexion_arm_is_near_blemker_and_delp(hip):
    """Blemker & Delp 2005: psoas peak 20-30 mm. Ours (Rajagopal distal path): within 6 mm of that."""
    peak = hip["peak_flexion"]["psoas_major_r"]["moment_arm_mm"]
    assert 20 - 6 <= peak <= 30 + 6


def test_iliopsoas_flexion_arm_follows_dostal_and_andrews(reference_dir):
    """Force-weighted psoas + iliacus vs the Dostal & Andrews 1981 straight line: RMS under 10 mm."""
    d = analyses.dostal_1981_table(reference_dir)
    h = analyses.hip_moment_arms("r", d["flexion_deg"])
    fmax, groups = analyses._fmax(), analyses._groups()
    wp = sum(fmax[n] for n in groups["psoas_major_r"])
    wi = sum(fmax[n] for n in groups["iliacus_r"])
    comb = (np.array(h["groups"]["psoas_major_r"]["flexion"]) * wp + np.array(h["groups"]["iliacus_r"]["flexion"]) * wi)
    comb /= wp + wi
    assert np.sqrt(np.mean((comb - np.array(d["flexion"])) ** 2)) < 10.0


def test_psoas_rotation_arm_does_not_drift_external_with_flexion_up_to_90_deg(hip):
    """Delp et al. 1999: most hip muscles move toward internal rotation as the hip flexes."""
    flex = np.array(hip["flexion_deg"])
    rot = np.array(hip["groups"]["psoas_major_r"]["rotation"])
    at0 = rot[flex == 0.0][0]
    within = (flex >= 0.0) & (flex <= 90.0)
    assert 0.0 < at0 < 3.0  # small internal arm in the anatomical position (Blemker & Delp 2005 band)
    assert np.all(rot[within] > at0 - 1.5)


def test_every_psoas_fascicle_flexion_arm_lies_in_the_blemker_delp_band(hip):
    """Blemker & Delp 2005 fibre band (digitised, modenaxe/3d-muscles), +-1 mm, 0-90 deg."""
    from iliopsoas.models.literature import blemker_band

    flex = np.array(hip["flexion_deg"])
    sel = (flex >= 0.0) & (flex <= 90.0)
    lo, hi = blemker_band("psoas", "flexion", flex[sel])
    for name, arms in hip["fascicles"].items():
        if name.startswith("psoas_major"):
            a = np.array(arms["flexion"])[sel]
            assert np.all(a >= lo - 1.0) and np.all(a <= hi + 1.0), name


def test_group_arm_is_the_force_weighted_mean_of_fascicles(hip):
    fmax = analyses._fmax()
    names = analyses._groups()["iliacus_r"]
    w = np.array([fmax[n] for n in names])
    per = np.array([hip["fascicles"][n]["flexion"] for n in names])
    assert np.allclose(w @ per / w.sum(), hip["groups"]["iliacus_r"]["flexion"], atol=2e-3)


def test_hip_analysis_rejects_bad_side_and_angles_outside_the_range():
    with pytest.raises(ValueError, match="side must be 'r' or 'l'"):
        analyses.hip_moment_arms("x")
    with pytest.raises(ValueError, match=r"flexion_deg must lie within .* -30\.\.120 deg, got -40\.\.10"):
        analyses.hip_moment_arms("r", [-40, 10])


# ------------------------------------------------------------------------------- lumbar psoas


def test_psoas_lumbar_moments_are_small_as_bogduk_1992_found(lum):
    """Very small flexion-extension moments at every level (at most 10 N m at full activation,
    erect), large compression, and the lowest level flexed."""
    lv = lum["postures"]["erect"]["levels"]
    for level, v in lv.items():
        assert abs(v["extension_moment_Nm"]) <= 10.0, level
    assert lv["L5_S1"]["extension_moment_Nm"] < 0
    assert lv["L5_S1"]["compression_N"] > 1000
    assert lv["T12_L1"]["compression_N"] > 0  # the uppermost fascicle starts at the T12/L1 disc


def test_compression_and_shear_never_exceed_the_force_carried(lum):
    fmax = analyses._fmax()
    for p in lum["postures"].values():
        for fname, levels in p["fascicles"].items():
            for v in levels.values():
                assert np.hypot(v["compression_N"], v["anterior_shear_N"]) <= fmax[fname] * (1 + 1e-6)


def test_lumbar_moment_is_force_times_minus_dl_dq(lum):
    """Independent check of one entry with finite differences of the engine's path length."""
    from iliopsoas.mechanics import complete_coordinates, muscle_lengths

    model = models.load("lumbopelvic", lumbar_rhythm=False)
    q0 = analyses.posture_poses(model)["flexed"]
    k = model.coordinate_index("L3_L4_flex_ext")
    h = 1e-6
    q = np.array([q0, q0])
    q[0, k] += h
    q[1, k] -= h
    L = muscle_lengths(model, complete_coordinates(model, q), muscles=["psoas_major_L2_TP_r"])
    r = -(L[0, 0] - L[1, 0]) / (2 * h)
    f = analyses._fmax()["psoas_major_L2_TP_r"]
    got = lum["postures"]["flexed"]["fascicles"]["psoas_major_L2_TP_r"]["L3_L4"]["extension_moment_Nm"]
    assert got == pytest.approx(f * r, abs=2e-3)


def test_flexing_the_spine_turns_psoas_moments_towards_flexion(lum):
    erect = lum["postures"]["erect"]["levels"]
    flexed = lum["postures"]["flexed"]["levels"]
    for level in ("L1_L2", "L2_L3", "L3_L4", "L4_L5", "L5_S1"):
        assert flexed[level]["extension_moment_Nm"] < erect[level]["extension_moment_Nm"]
    assert lum["postures"]["flexed"]["total_lumbar_flexion_deg"] > 30


# --------------------------------------------------------------------------------- verdicts


def test_verdict_file_is_what_the_model_computes_now():
    on_disk = json.loads(VERDICT_FILE.read_text(encoding="utf-8"))
    fresh = verdicts.model_verdicts()
    assert on_disk.keys() == fresh.keys()
    for cid, v in fresh.items():
        assert on_disk[cid]["verdict"] == v["verdict"], cid
        if v["value"] is None:
            assert on_disk[cid]["value"] is None
        else:
            assert on_disk[cid]["value"] == pytest.approx(v["value"], abs=0.05), cid


def test_verdicts_fit_the_atlas_schema_and_name_real_claims(reference_dir):
    from iliopsoas.knowledge.schema import ModelVerdict

    claims_text = (reference_dir / "seed-claims.md").read_text(encoding="utf-8")
    known = set(re.findall(r"^\| (C\d{3}-\d{2}) \|", claims_text, flags=re.M))
    for cid, v in json.loads(VERDICT_FILE.read_text(encoding="utf-8")).items():
        assert cid in known, cid
        ModelVerdict(**v)


def test_joint_counting_verdicts(cx):
    v = json.loads(VERDICT_FILE.read_text(encoding="utf-8"))
    assert v["C000-11"]["verdict"] == "supports" and v["C000-11"]["value"] == 2
    assert v["C000-12"]["verdict"] == "supports" and v["C000-12"]["value"] == 3
    assert "8 joints" in v["C000-12"]["note"]  # T12/L1 to L5/S1, SI, hip (origin from the T12/L1 disc)


# ------------------------------------------------------------------------------------------- CLI


@pytest.fixture(scope="module")
def cli() -> typer.Typer:
    from iliopsoas.commands import model_ours

    app = typer.Typer()
    model_ours.register(app)
    return app


def test_cli_crossings_json(cli):
    res = CliRunner().invoke(cli, ["crossings", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["iliacus_r"] == ["sacroiliac_r", "hip_r"]


def test_cli_hip_moment_arms_json_and_plot(cli, tmp_path):
    png = tmp_path / "hip.png"
    res = CliRunner().invoke(cli, ["hip-moment-arms", "--json", "--from", "0", "--to", "90", "--step", "30",
                                   "--plot", str(png)])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout[: res.stdout.rindex("}") + 1])
    assert data["flexion_deg"] == [0.0, 30.0, 60.0, 90.0]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_lumbar_one_posture(cli):
    res = CliRunner().invoke(cli, ["lumbar", "--posture", "flexed", "--json"])
    assert res.exit_code == 0, res.output
    assert list(json.loads(res.stdout)["postures"]) == ["flexed"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["lumbar", "--side", "x"], "--side"),
        (["lumbar", "--posture", "slouched"], "--posture"),
        (["hip-moment-arms", "--step", "0"], "--step"),
        (["crossings", "--threshold-mm", "-1"], "--threshold-mm"),
        (["crossings", "--plot", "out.jpg"], "--plot"),
        (["hip-moment-arms", "--to", "170"], "hip flexion range -30..120 deg"),
    ],
)
def test_cli_bad_values_exit_1_without_traceback(cli, args, message):
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 1
    assert message in res.output
    assert "Traceback" not in res.output


def test_commands_are_registered_on_the_model_group():
    from iliopsoas.cli import app

    res = CliRunner().invoke(app, ["model", "crossings", "--fascicles", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["muscles"]["iliacus_sacral_l"] == ["sacroiliac_l", "hip_l"]


def test_rectus_femoris_loses_hip_flexion_moment_as_the_hip_flexes_with_the_knee_straight():
    res = analyses.hip_flexion_moments("r", [0.0, 45.0, 90.0])
    rf = res["moments_Nm"]["rectus_femoris_r"]
    ps = res["moments_Nm"]["psoas_major_r"]
    assert rf[0] > 20 and rf[2] < 0.25 * rf[0]  # active insufficiency of a two-joint muscle
    assert all(m > 0 for m in ps)


def test_left_side_analyses_mirror_the_right(hip, lum):
    left = analyses.hip_moment_arms("l")
    for g in ("psoas_major", "iliacus"):
        for axis in ("flexion", "adduction", "rotation"):
            assert np.allclose(left["groups"][f"{g}_l"][axis], hip["groups"][f"{g}_r"][axis], atol=1e-3)
    lum_l = analyses.lumbar("l")["postures"]["erect"]["levels"]
    for level, v in lum["postures"]["erect"]["levels"].items():
        assert lum_l[level]["compression_N"] == pytest.approx(v["compression_N"], abs=0.01)
        assert lum_l[level]["extension_moment_Nm"] == pytest.approx(v["extension_moment_Nm"], abs=0.01)
        # + lateral bending is towards the right: the left psoas bends to the left
        assert lum_l[level]["lateral_bending_moment_Nm"] == pytest.approx(-v["lateral_bending_moment_Nm"], abs=0.01)
