"""The Model page's API: bones by default, anatomical labels, quantities with published curves, .osim upload."""

from __future__ import annotations

import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

from iliopsoas.web import create_app


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with TestClient(create_app(db=tmp_path_factory.mktemp("model") / "care.sqlite3")) as c:
        yield c


def test_default_scene_has_the_shipped_bone_meshes(client):
    info = client.get("/api/model").json()
    assert info["meshes"] == 10 and "Pose2Sim" in info["mesh_source"]
    assert {m["body"] for m in info["bone_meshes"]} >= {"femur_r", "innominate_l", "sacrum", "lumbar3"}
    lo, hi = info["bounds_m"]
    assert hi[1] - lo[1] > 1.0  # from the trunk above L1 down to the shanks
    pose = client.post("/api/model/pose", json={"coordinates": {"hip_flexion_r": 30}, "muscles": []}).json()
    assert len(pose["meshes"]) == 10
    torso = next(s for s in pose["segments"] if s["body"] == "torso")
    assert torso["to"][1] > torso["from"][1]  # the trunk segment points up from T12 (joint centres, not body origins)


def test_every_slider_and_muscle_has_an_anatomical_label(client):
    info = client.get("/api/model").json()
    labels = {c["name"]: c["label"] for c in info["coordinates"]}
    assert labels["hip_flexion_r"] == "Hip flexion (right)" and labels["knee_angle_l"] == "Knee flexion (left)"
    assert all(c["label"] and "_" not in c["label"] for c in info["coordinates"])
    psoas = next(g for g in info["muscles"] if g["name"] == "psoas_major_r")
    assert psoas["label"] == "Psoas major (right)"
    assert "Psoas major, L3 transverse-process fascicle (right)" in psoas["fascicle_labels"]
    assert all("_" not in lab for g in info["muscles"] for lab in g["fascicle_labels"])


def test_slider_defaults_lie_inside_their_ranges(client):
    for c in client.get("/api/model").json()["coordinates"]:
        assert c["min_deg"] <= c["default_deg"] <= c["max_deg"]


@pytest.mark.parametrize("quantity, unit", [("moment_arm", "cm"), ("length", "cm"), ("fiber_length", "% of optimal"),
                                            ("passive_force", "N"), ("active_force", "N")])
def test_curves_for_every_quantity(client, quantity, unit):
    r = client.post("/api/model/curves", json={"muscle": "psoas_major_r", "quantity": quantity,
                                               "coordinate": "hip_flexion_r", "points": 7})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["unit"] == unit and len(d["sweep_deg"]) == 7 and len(d["values"][0]) == 11
    assert all(v is not None for v in d["aggregate_values"])
    if quantity == "length":  # flexing the hip shortens the psoas
        assert d["aggregate_values"][-1] < d["aggregate_values"][0]
    if quantity == "passive_force":
        assert d["aggregate_values"][0] > d["aggregate_values"][-1] >= 0


def test_moment_arm_comes_with_the_published_bands(client):
    d = client.post("/api/model/curves", json={"muscle": "psoas_major_r", "coordinate": "hip_flexion_r", "points": 5}).json()
    sources = {b["source"] for b in d["bands"]}
    assert sources == {"BLEMKER2005", "ARNOLD2000"}
    assert all("doi:" in b["citation"] for b in d["bands"])
    up = next(b for b in d["bands"] if b["source"] == "BLEMKER2005" and b["series"] == "upper")
    assert up["angle_deg"] == sorted(up["angle_deg"]) and 2.0 < max(up["value"]) < 4.0  # cm
    # the model's psoas moment arm at neutral lies within a centimetre of the Blemker & Delp band
    assert 1.0 < d["current_aggregate"] < 4.0
    iliacus = client.post("/api/model/curves", json={"muscle": "iliacus_r", "coordinate": "hip_adduction_r"}).json()
    assert {b["source"] for b in iliacus["bands"]} == {"BLEMKER2005"}
    exact = client.post("/api/model/curves", json={"muscle": "psoas_major_r", "coordinate": "hip_flexion_r",
                                                   "points": 5, "exact": True}).json()
    assert exact["method"].startswith("exact") and exact["aggregate_values"] == pytest.approx(d["aggregate_values"], abs=0.05)


def test_curves_reject_bad_input(client):
    r = client.post("/api/model/curves", json={"muscle": "psoas_major_r", "quantity": "speed", "coordinate": "hip_flexion_r"})
    assert r.status_code == 422
    r = client.post("/api/model/curves", json={"muscle": "nope", "coordinate": "hip_flexion_r"})
    assert r.status_code == 422 and "unknown muscle" in r.json()["detail"]


def test_an_osim_file_loaded_through_the_page_and_back(models_dir, tmp_path):
    with TestClient(create_app(db=tmp_path / "care.sqlite3")) as c:
        text = (models_dir / "opensim-models" / "arm26.osim").read_text()
        r = c.post("/api/model/osim", json={"filename": "arm26.osim", "text": text})
        assert r.status_code == 200 and r.json()["name"] == "arm26" and r.json()["loaded_file"] == "arm26.osim"
        assert c.get("/api/model").json()["name"] == "arm26"
        bad = c.post("/api/model/osim", json={"filename": "broken.osim", "text": "<OpenSimDocument><Model"})
        assert bad.status_code == 422 and bad.json()["detail"].startswith("broken.osim:") and "/tmp" not in bad.json()["detail"]
        assert c.post("/api/model/osim", json={"filename": "notes.txt", "text": "x"}).status_code == 422
        big = c.post("/api/model/osim", json={"filename": "big.osim", "text": "x" * 10_000_001})
        assert big.status_code == 413
        assert c.delete("/api/model/osim").json()["name"] == "lumbopelvic"
        assert c.post("/api/posture/simulate", json={"scenario": "standing"}).status_code == 200
