"""The web app's JSON API through FastAPI's TestClient: every endpoint, its validation, the token rule."""

from __future__ import annotations

import json
import re
import socket
import warnings
from pathlib import Path

import numpy as np
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient
from typer.testing import CliRunner

from iliopsoas.care.log import CareLog
from iliopsoas.care.screening import item_ids
from iliopsoas.web import create_app
from iliopsoas.web.app import WEB_DIR, plotly_js_path

ALL_NO = {i: False for i in item_ids("full")}


@pytest.fixture(scope="module")
def app_db(tmp_path_factory):
    return tmp_path_factory.mktemp("web") / "care.sqlite3"


@pytest.fixture(scope="module")
def client(app_db):
    with TestClient(create_app(db=app_db)) as c:
        yield c


@pytest.fixture()
def fresh(tmp_path):
    """A client on an empty database of its own, and that database's path."""
    db = tmp_path / "care.sqlite3"
    with TestClient(create_app(db=db)) as c:
        yield c, db


def message(resp) -> str:
    body = resp.json()
    return body.get("message") or json.dumps(body.get("detail"))


# ----------------------------------------------------------------------------------- app, pages, offline
def test_health_lists_the_pages(client):
    r = client.get("/api/health")
    assert r.status_code == 200
    assert r.json()["pages"] == ["atlas", "ask", "model", "posture", "care", "population"]
    assert r.json()["token_required"] is False


@pytest.mark.parametrize("page, script", [
    ("/", None), ("/atlas", "atlas"), ("/ask", "ask"), ("/model", "model"), ("/posture", "posture"), ("/care", "care"),
    ("/api/docs", "api"),
])
def test_every_page_is_served_with_its_script(client, page, script):
    r = client.get(page)
    assert r.status_code == 200
    assert "text/html" in r.headers["content-type"]
    assert "/static/common.js" in r.text
    if script:
        assert f"/static/{script}.js" in r.text
        assert client.get(f"/static/{script}.js").status_code == 200


def test_plotly_comes_from_the_installed_wheel_not_a_cdn(client):
    r = client.get("/static/vendor/plotly.min.js")
    assert r.status_code == 200
    assert len(r.content) == plotly_js_path().stat().st_size > 1_000_000


def test_pages_and_scripts_reference_no_network_address():
    for f in [*WEB_DIR.joinpath("templates").glob("*.html"), *WEB_DIR.joinpath("static").glob("*.*")]:
        text = f.read_text(encoding="utf-8")
        assert not re.search(r"(src|href)=\"(https?:)?//", text), f"{f.name} loads something from the network"
        assert "fetch(\"http" not in text and "cdn" not in text.lower(), f.name


def test_openapi_schema_lists_every_endpoint(client):
    paths = client.get("/openapi.json").json()["paths"]
    expected = {
        "/api/health", "/api/ask", "/api/atlas/search", "/api/atlas/entities", "/api/atlas/entities/{name}",
        "/api/atlas/conflicts", "/api/atlas/counts", "/api/model", "/api/model/pose", "/api/model/moment-arms",
        "/api/care/screen/items", "/api/care/screen", "/api/care/assess/inputs", "/api/care/assess",
        "/api/care/plan", "/api/care/plan.pdf", "/api/care/sessions", "/api/care/sessions/{sid}",
        "/api/care/sessions/{sid}/steps", "/api/care/sessions/{sid}/finish", "/api/care/measures",
        "/api/care/progress", "/api/posture", "/api/posture/simulate",
    }
    assert expected <= set(paths)


# ----------------------------------------------------------------------------------- atlas
def test_search_ranks_psoas_major_first(client):
    hits = client.get("/api/atlas/search", params={"q": "psoas"}).json()
    assert hits[0]["id"] == "psoas-major" and hits[0]["score"] == 100.0


def test_browse_by_kind_and_unknown_kind_is_422(client):
    muscles = client.get("/api/atlas/entities", params={"kind": "muscle"}).json()
    assert {"psoas-major", "psoas-minor", "iliacus"} <= {e["id"] for e in muscles}
    assert all(e["kind"] == "muscle" for e in muscles)
    r = client.get("/api/atlas/entities", params={"kind": "musle"})
    assert r.status_code == 422 and "expected one of" in message(r)


def test_entity_facts_carry_sources_status_and_conflicts(client):
    e = client.get("/api/atlas/entities/psoas majr").json()  # typo tolerant
    assert e["id"] == "psoas-major"
    assert e["facts"] and all(f["sources"] and f["status"] in {"consistent", "contradicted", "disputed", "opinion"}
                              for f in e["facts"])
    assert all(s["source"] in e["sources"] for f in e["facts"] for s in f["sources"])
    origin = [f for f in e["facts"] if f["predicate"] == "origin"]
    assert origin
    conflicted = [f for f in e["facts"] if f["conflicts"]]
    assert conflicted and e["conflicts"]
    shown = {c["id"] for c in e["conflicts"]}
    assert {k for f in conflicted for k in f["conflicts"]} <= shown
    assert all(len(c["statements"]) >= 2 and c["resolution"] for c in e["conflicts"])


def test_unknown_entity_is_404_with_suggestions(client):
    r = client.get("/api/atlas/entities/zzzqqq")
    assert r.status_code == 404 and "unknown name" in r.json()["detail"]


def test_conflicts_and_counts(client):
    conflicts = client.get("/api/atlas/conflicts").json()
    counts = client.get("/api/atlas/counts").json()
    assert len(conflicts) == counts["conflicts"] >= 2
    assert counts["claims"] == 221


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "psoas", "limit": 0}, {"q": "x" * 201}])
def test_search_validation_is_422(client, params):
    assert client.get("/api/atlas/search", params=params).status_code == 422


# ----------------------------------------------------------------------------------- ask
def test_ask_answers_with_statements_and_sources(client):
    a = client.post("/api/ask", json={"question": "What nerve supplies the iliacus?"}).json()
    assert a["answered"] is True
    assert "femoral" in a["answer"].lower()
    assert a["statements"] and a["sources"]
    assert any(s["subject"] == "iliacus" and s["predicate"] == "innervation" for s in a["statements"])


def test_ask_refuses_honestly_outside_its_sources(client):
    a = client.post("/api/ask", json={"question": "What is the capital of Peru?"}).json()
    assert a["answered"] is False


@pytest.mark.parametrize("body, where", [
    ({}, "question"), ({"question": ""}, "question"), ({"question": "   "}, "blank"),
    ({"question": "x" * 1001}, "1000"), ({"question": 3}, "question"), ({"question": "ok?", "extra": 1}, "extra"),
])
def test_ask_validation_is_422_with_a_clear_message(client, body, where):
    r = client.post("/api/ask", json=body)
    assert r.status_code == 422
    assert where in message(r)


# ----------------------------------------------------------------------------------- model
def test_model_info_offers_hip_and_lumbar_sliders(client):
    info = client.get("/api/model").json()
    names = [c["name"] for c in info["coordinates"]]
    assert {"hip_flexion_r", "hip_adduction_r", "hip_rotation_r", "L5_S1_flex_ext"} <= set(names)
    hip = next(c for c in info["coordinates"] if c["name"] == "hip_flexion_r")
    assert hip["min_deg"] == pytest.approx(-30, abs=0.01) and hip["max_deg"] == pytest.approx(120, abs=0.01)
    assert info["default_muscle"] == "psoas_major_r"
    assert len(next(g for g in info["muscles"] if g["name"] == "psoas_major_r")["fascicles"]) == 11


def test_pose_moves_the_thigh_and_the_psoas_path(client):
    a = client.post("/api/model/pose", json={"coordinates": {"hip_flexion_r": 0}, "muscles": ["psoas_major_r"]}).json()
    b = client.post("/api/model/pose", json={"coordinates": {"hip_flexion_r": 90}, "muscles": ["psoas_major_r"]}).json()
    knee_a, knee_b = np.array(a["origins"]["tibia_r"]), np.array(b["origins"]["tibia_r"])
    hip = np.array(a["origins"]["femur_r"])
    assert np.allclose(hip, b["origins"]["femur_r"])  # the hip centre stays put
    assert knee_b[0] - hip[0] > 0.3 and abs(knee_b[1] - hip[1]) < 0.1  # thigh points forward at 90 deg
    assert knee_a[1] < hip[1] - 0.3  # and down at 0 deg
    assert len(a["muscles"]) == 11 and all(len(m["points"]) >= 2 for m in a["muscles"])
    assert a["muscles"][0]["points"][-1] != b["muscles"][0]["points"][-1]
    assert {s["child"] for s in a["segments"]} >= {"femur_r", "lumbar5"}


def test_moment_arms_match_the_engine(client):
    from iliopsoas import models
    from iliopsoas.mechanics import moment_arms

    body = {"muscle": "iliacus_r", "coordinate": "hip_flexion_r", "coordinates": {"hip_adduction_r": 10}, "points": 5}
    r = client.post("/api/model/moment-arms", json=body).json()
    model = models.load("lumbopelvic")
    q = np.repeat(np.array(model.coordinate_defaults)[None, :], 5, axis=0)
    q[:, model.coordinate_index("hip_adduction_r")] = np.radians(10)
    q[:, model.coordinate_index("hip_flexion_r")] = np.radians(r["sweep_deg"])
    ref = moment_arms(model, q, ["hip_flexion_r"], muscles=r["fascicles"])[:, :, 0] * 100
    assert np.allclose(r["moment_arm_cm"], ref, atol=1e-3)
    assert r["sweep_deg"][0] == pytest.approx(-30, abs=1e-3) and r["current_deg"] == 0
    assert 0.5 < r["mean_current_cm"] < 8  # iliacus flexes the hip: a positive arm of a few cm


def test_moment_arm_changes_when_another_slider_moves(client):
    base = {"muscle": "psoas_major_r", "coordinate": "hip_flexion_r", "points": 5}
    a = client.post("/api/model/moment-arms", json={**base, "coordinates": {"hip_flexion_r": 0}}).json()
    b = client.post("/api/model/moment-arms", json={**base, "coordinates": {"hip_flexion_r": 60}}).json()
    assert a["current_deg"] == 0 and b["current_deg"] == 60
    assert a["mean_current_cm"] != pytest.approx(b["mean_current_cm"], abs=1e-3)
    lumbar = client.post("/api/model/moment-arms", json={**base, "coordinate": "L5_S1_flex_ext"}).json()
    assert lumbar["sweep"] == "L5_S1_flex_ext" and len(lumbar["fascicles"]) == 11


@pytest.mark.parametrize("path, body, where", [
    ("/api/model/pose", {"coordinates": {"knee_angle_r_beta": 10}}, "not adjustable"),
    ("/api/model/pose", {"coordinates": {"hip_flexion_r": 500}}, "outside its range"),
    ("/api/model/pose", {"coordinates": {"hip_flexion_r": "a"}}, "coordinates"),
    ("/api/model/pose", {"muscles": ["no_such_muscle"]}, "unknown muscle"),
    ("/api/model/moment-arms", {"muscle": "nope", "coordinate": "hip_flexion_r"}, "unknown muscle"),
    ("/api/model/moment-arms", {"muscle": "psoas_major_r", "coordinate": "pelvis_tx"}, "not one of"),
    ("/api/model/moment-arms", {"muscle": "psoas_major_r", "coordinate": "hip_flexion_r", "points": 1}, "points"),
    ("/api/model/moment-arms", {"muscle": "psoas_major_r"}, "coordinate"),
])
def test_model_validation_is_422(client, path, body, where):
    r = client.post(path, json=body)
    assert r.status_code == 422
    assert where in message(r)


def test_bone_meshes_from_a_geometry_folder(models_dir):
    geometry = models_dir / "pose2sim" / "Geometry"
    with TestClient(create_app(geometry=geometry)) as c:
        assert c.get("/api/model").json()["meshes"] >= 9
        pose = c.post("/api/model/pose", json={"coordinates": {"hip_flexion_r": 45}, "muscles": []}).json()
    femur = next(m for m in pose["meshes"] if m["body"] == "femur_r")
    v = np.array(femur["vertices"])
    knee = np.array(pose["origins"]["tibia_r"])
    assert np.min(np.linalg.norm(v - knee, axis=1)) < 0.06  # the femur mesh reaches the knee of the posed model
    assert max(max(f) for f in femur["faces"]) < len(v)


def test_another_opensim_model_with_its_own_mesh_attachments(models_dir):
    osim = models_dir / "opensim-models" / "Rajagopal2016.osim"
    with TestClient(create_app(osim=osim, geometry=osim.parent / "Geometry")) as c:
        info = c.get("/api/model").json()
        assert info["name"] == "Rajagopal2016" and info["default_muscle"] == "psoas_r"
        assert {"hip_flexion_r", "lumbar_extension"} <= {x["name"] for x in info["coordinates"]}
        assert info["meshes"] >= 3  # r_pelvis, l_pelvis and sacrum hang on its pelvis body
        pose = c.post("/api/model/pose", json={"coordinates": {"hip_flexion_r": 40}, "muscles": ["psoas_r"]}).json()
        assert {"pelvis", "femur_r"} <= {m["body"] for m in pose["meshes"]}
        r = c.post("/api/model/moment-arms", json={"muscle": "psoas_r", "coordinate": "hip_flexion_r", "points": 3}).json()
        assert r["mean_current_cm"] > 0


# ----------------------------------------------------------------------------------- posture
def test_posture_info_has_targets_claims_and_population_figures(client):
    info = client.get("/api/posture").json()
    assert {"standing", "supine", "thomas"} <= set(info["scenarios"])
    assert {"psoas", "iliacus"} <= set(info["targets"]) and info["shortening_pct"] == [0, 40]
    assert any(c["id"] == "C001-19" and c["model_verdict"] for c in info["claims"])
    assert all(p["source"] and p["comparable"] for p in info["population"])


def test_tight_psoas_tips_the_standing_pelvis_forward_in_the_model(client):
    from iliopsoas.posture import Tightness, simulate

    r = client.post("/api/posture/simulate",
                    json={"scenario": "standing", "tightness": {"psoas": {"shortening_pct": 20}}}).json()
    assert r["converged"] and r["baseline"]["converged"]
    direct = simulate("standing", {"psoas": Tightness(shortening=0.2)})
    assert r["angles"] == direct.angles  # the page shows the library's numbers, unchanged
    assert r["angles"]["pelvic_tilt_deg"] > r["baseline"]["angles"]["pelvic_tilt_deg"]
    assert r["drawing"]["segments"] and {m["group"] for m in r["drawing"]["muscles"]} >= {"psoas_major_r", "iliacus_r"}
    assert r["drawing"]["origins"] != r["baseline_drawing"]["origins"]


@pytest.mark.parametrize("body, where", [
    ({"scenario": "walking"}, "scenario"),
    ({"tightness": {"psoas": {"shortening_pct": 50}}}, "shortening_pct"),
    ({"tightness": {"nosuch": {"shortening_pct": 10}}}, "unknown tightness target"),
    ({"side": "middle"}, "side"),
])
def test_posture_validation_is_422(client, body, where):
    r = client.post("/api/posture/simulate", json=body)
    assert r.status_code == 422 and where in message(r)


# ----------------------------------------------------------------------------------- care: screen, assess, plan
def test_web_screen_asks_for_a_clinician_review_when_logged_pain_rises_like_the_cli(fresh):
    c, db = fresh
    with CareLog(db) as log:
        for day, (before, after) in enumerate([(2, 2), (4, 5), (5, 4)], start=1):
            sid = log.start_session(nprs_before=before, started_at=f"2026-04-0{day}T07:00:00.000+00:00")
            log.finish_session(sid, nprs_after=after)
    r = c.post("/api/care/screen", json={"answers": ALL_NO, "log": False}).json()
    assert r["clinician_review"] is True and r["blocked"] is False
    assert [x["code"] for x in r["reasons"]] == ["pain-rising"]
    assert "book a clinician review" in r["reasons"][0]["message"]


def test_screen_items_and_a_clear_screen_is_logged(fresh):
    c, db = fresh
    items = c.get("/api/care/screen/items").json()
    assert [i["id"] for i in items] == list(item_ids("full"))
    r = c.post("/api/care/screen", json={"answers": ALL_NO}).json()
    assert r["level"] == "clear" and r["blocked"] is False and r["logged_at"]
    with CareLog(db) as log:
        assert log.latest_screen("full")["level"] == "clear"


def test_red_flag_and_unanswered_items_block(client):
    r = client.post("/api/care/screen", json={"answers": {**ALL_NO, "bladder-retention": True}, "log": False}).json()
    assert r["level"] == "emergency" and r["blocked"]
    r = client.post("/api/care/screen", json={"answers": {"pregnancy": False}, "log": False}).json()
    assert r["level"] == "not_screened" and r["blocked"]


@pytest.mark.parametrize("answers, where", [
    ({"bladder-retension": True}, "did you mean: bladder-retention"),
    ({"pregnancy": "perhaps"}, "pregnancy"),
    ({"pregnancy": [1]}, "pregnancy"),
])
def test_screen_validation_is_422(client, answers, where):
    r = client.post("/api/care/screen", json={"answers": answers, "log": False})
    assert r.status_code == 422 and where in message(r)


def test_assessment_ranks_contributors_and_logs_measures(fresh):
    c, db = fresh
    inputs = c.get("/api/care/assess/inputs").json()
    assert inputs["thomas_hip_deg"]["type"] == "angle"
    r = c.post("/api/care/assess", json={"inputs": {"thomas_hip_deg": 10, "thomas_knee_deg": 60}}).json()
    ids = [x["id"] for x in r["contributors"]]
    assert {"psoas-major", "iliacus", "rectus-femoris"} <= set(ids)
    assert r["disclaimer"]
    with CareLog(db) as log:
        assert {m["kind"] for m in log.measures()} == {"thomas_hip_deg", "thomas_knee_deg"}


@pytest.mark.parametrize("inputs, where", [
    ({}, "at least one"), ({"thomas_hip": 10}, "unknown assessment input"), ({"thomas_hip_deg": "x"}, "thomas_hip_deg"),
])
def test_assessment_validation_is_422(client, inputs, where):
    r = client.post("/api/care/assess", json={"inputs": inputs, "log": False})
    assert r.status_code == 422 and where in message(r)


def test_plan_and_its_pdf(client):
    plan = client.post("/api/care/plan", json={"screen": ALL_NO}).json()
    kinds = [s["kind"] for s in plan["steps"]]
    assert not plan["blocked"] and kinds == sorted(kinds, key=["release", "stretch", "strengthen", "habit"].index)
    no_release = client.post("/api/care/plan", json={"screen": ALL_NO, "options": {"release": False}}).json()
    assert "release" not in [s["kind"] for s in no_release["steps"]]
    pdf = client.post("/api/care/plan.pdf", json={"screen": ALL_NO})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and "attachment" in pdf.headers["content-disposition"]


def test_blocked_plan_has_no_steps(client):
    plan = client.post("/api/care/plan", json={"screen": {**ALL_NO, "cannot-bear-weight": True}}).json()
    assert plan["blocked"] and plan["steps"] == [] and plan["reasons"]


@pytest.mark.parametrize("body, where", [
    ({"screen": ALL_NO, "options": {"stretch_hold_s": 5000}}, "stretch_hold_s"),
    ({"screen": ALL_NO, "options": {"stretch_hold_s": 1}}, "outside the range"),
    ({"screen": ALL_NO, "options": {"max_strengthen": 9}}, "max_strengthen"),
    ({"screen": ALL_NO, "options": {"colour": "red"}}, "colour"),
    ({"screen": ALL_NO, "assessment": {"thomas_hip_deg": {"left": "a"}}}, "assessment"),
    ({}, "screen"),
])
def test_plan_validation_is_422(client, body, where):
    for path in ("/api/care/plan", "/api/care/plan.pdf"):
        r = client.post(path, json=body)
        assert r.status_code == 422 and where in message(r), (path, r.text)


# ----------------------------------------------------------------------------------- care: sessions
def start(c, **extra):
    r = c.post("/api/care/sessions", json={"screen": ALL_NO, "nprs_before": 3, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def test_session_steps_are_logged_where_the_cli_reads_them(fresh):
    c, db = fresh
    s = start(c)
    sid, sets = s["session_id"], s["sets"]
    assert sets[0]["set_index"] == 1 and all(x["step_id"] in {st["id"] for st in s["plan"]["steps"]} for x in sets)
    first = sets[0]
    r = c.post(f"/api/care/sessions/{sid}/steps", json={k: first[k] for k in ("step_id", "set_index", "side", "hold_s")})
    assert r.status_code == 201 and r.json()["steps_done"] == 1
    r = c.post(f"/api/care/sessions/{sid}/steps", json={"step_id": sets[-1]["step_id"], "status": "skipped"})
    assert r.json()["steps_skipped"] == 1
    done = c.post(f"/api/care/sessions/{sid}/finish", json={"nprs_after": 2}).json()
    assert done["status"] == "completed" and done["nprs_after"] == 2
    from iliopsoas.cli import app

    out = CliRunner().invoke(app, ["session", "list", "--json", "--db", str(db)])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert rows == [{**done}] or (rows[0]["id"] == sid and rows[0]["steps_done"] == 1 and rows[0]["steps_skipped"] == 1)
    detail = c.get(f"/api/care/sessions/{sid}").json()
    assert [t["status"] for t in detail["steps"]] == ["done", "skipped"]


def test_browser_closed_mid_session_keeps_every_finished_set(fresh):
    """Each set is its own request and commit: abandoning the page loses nothing and corrupts nothing."""
    c, db = fresh
    s = start(c)
    sid = s["session_id"]
    for x in s["sets"][:2]:
        c.post(f"/api/care/sessions/{sid}/steps", json={"step_id": x["step_id"], "set_index": x["set_index"],
                                                         "side": x["side"]})
    # the browser goes away here: no finish request ever arrives
    with CareLog(db) as log:
        assert log.integrity_ok()
        row = log.sessions()[0]
        assert row["status"] == "running" and row["steps_done"] == 2
    s2 = start(c)  # the next session marks the abandoned one as interrupted, as the CLI does
    with CareLog(db) as log:
        rows = {r["id"]: r for r in log.sessions()}
        assert rows[sid]["status"] == "interrupted" and rows[sid]["steps_done"] == 2
        assert rows[s2["session_id"]]["status"] == "running"
    r = c.post(f"/api/care/sessions/{sid}/steps", json={"step_id": s["sets"][0]["step_id"]})
    assert r.status_code == 409 and "interrupted" in r.json()["detail"]


def test_session_with_only_the_short_checklist_needs_a_recent_full_screen(fresh):
    c, _ = fresh
    short = {i: False for i in item_ids("session")}
    r = c.post("/api/care/sessions", json={"screen": short})
    assert r.status_code == 422 and "7 days" in message(r)
    c.post("/api/care/screen", json={"answers": ALL_NO})
    r = c.post("/api/care/sessions", json={"screen": short})
    assert r.status_code == 201


def test_blocked_session_is_409_with_reasons(fresh):
    c, db = fresh
    r = c.post("/api/care/sessions", json={"screen": {**ALL_NO, "saddle-numbness": True}})
    assert r.status_code == 409
    assert r.json()["detail"]["plan"]["blocked"] is True
    with CareLog(db) as log:
        assert log.sessions() == []


@pytest.mark.parametrize("path, body, code", [
    ("/api/care/sessions/999/steps", {"step_id": "psoas-release"}, 404),
    ("/api/care/sessions/999/finish", {}, 404),
    ("/api/care/sessions/0/steps", {"step_id": "psoas-release"}, 422),
    ("/api/care/sessions/abc/finish", {}, 422),
    (f"/api/care/sessions/{2**60}/finish", {}, 422),
])
def test_session_endpoint_errors(client, path, body, code):
    assert client.post(path, json=body).status_code == code


def test_step_validation(fresh):
    c, _ = fresh
    sid = start(c)["session_id"]
    for body, where in (({"step_id": "not-a-step"}, "not in this session's plan"),
                        ({"step_id": "psoas-release", "side": "middle"}, "side"),
                        ({"step_id": "psoas-release", "set_index": 0}, "set_index"),
                        ({"step_id": "psoas-release", "status": "half"}, "status")):
        r = c.post(f"/api/care/sessions/{sid}/steps", json=body)
        assert r.status_code == 422 and where in message(r), body
    c.post(f"/api/care/sessions/{sid}/finish", json={"status": "stopped"})
    assert c.post(f"/api/care/sessions/{sid}/finish", json={}).status_code == 409
    assert c.post(f"/api/care/sessions/{sid}/finish", json={"nprs_after": 11}).status_code == 422


# ----------------------------------------------------------------------------------- measures, progress
def test_measures_feed_the_progress_series(fresh):
    c, _ = fresh
    assert c.post("/api/care/measures", json={"kind": "thomas_hip_deg", "value": 12}).status_code == 201
    assert c.post("/api/care/measures", json={"kind": "thomas_hip_deg", "value": -2}).status_code == 201
    p = c.get("/api/care/progress").json()
    assert [m["value"] for m in p["series"]["measures"]["thomas_hip_deg"]] == [12, -2]
    assert p["thomas_hip_deg"]["change"] == -14 and p["thomas_hip_deg"]["beyond_band"] is True
    assert p["series"]["bands"]["thomas_hip_deg"] == 11.0


@pytest.mark.parametrize("body", [
    {"kind": "nprs", "value": 11}, {"kind": "weight", "value": 70}, {"kind": "psfs"}, {"kind": "psfs", "value": "x"},
])
def test_measure_validation_is_422(client, body):
    assert client.post("/api/care/measures", json=body).status_code == 422


def test_progress_validation(client):
    assert client.get("/api/care/progress", params={"days_per_week": 8}).status_code == 422
    assert client.get("/api/care/progress", params={"as_of": "yesterday"}).status_code == 422
    assert client.get("/api/care/progress", params={"as_of": "2026-01-31"}).status_code == 200


# ----------------------------------------------------------------------------------- token, serve
def test_token_is_required_on_every_api_request_when_set(tmp_path):
    with TestClient(create_app(db=tmp_path / "c.db", token="s3cret")) as c:
        assert c.get("/api/health").status_code == 401
        assert c.post("/api/ask", json={"question": "psoas?"}).status_code == 401
        assert c.get("/api/health", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/api/health", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert c.get("/api/health", params={"token": "s3cret"}).json()["token_required"] is True
        assert c.get("/atlas").status_code == 200  # pages hold no data; their API calls carry the token


def test_serve_refuses_a_public_host_without_a_token(monkeypatch):
    from iliopsoas.cli import app
    from iliopsoas.commands.serve import is_loopback

    monkeypatch.delenv("ILIOPSOAS_TOKEN", raising=False)
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.0.0.2")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    r = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--no-browser"])
    assert r.exit_code == 2
    assert "reachable from other machines" in r.output and "--token" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(app, ["serve", "--port", "0", "--no-browser"])
    assert r.exit_code == 2 and "--port" in r.output
    r = CliRunner().invoke(app, ["serve", "--osim", "/nonexistent/x.osim", "--no-browser"])
    assert r.exit_code == 1 and "not an existing file" in r.output
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = CliRunner().invoke(app, ["serve", "--port", str(port), "--no-browser"])
    assert r.exit_code == 1 and "cannot listen" in r.output


def test_vtp_reader_decimates_and_rejects_bad_files(tmp_path, models_dir):
    from iliopsoas.web.vtp import VtpError, candidate_files, read_vtp

    path = models_dir / "pose2sim" / "Geometry" / "femur_r.vtp"
    full = read_vtp(path, max_faces=10**6)
    n_polys = int(re.search(r'NumberOfPolys="(\d+)"', path.read_text()).group(1))
    assert len(full.faces) >= n_polys and full.vertices.shape[1] == 3
    small = read_vtp(path, max_faces=100)
    assert len(small.faces) == 100 and small.faces.max() < len(small.vertices) <= len(full.vertices)
    assert candidate_files("innominate_r")[:4] == ["innominate_r", "r_innominate", "pelvis_r", "r_pelvis"] or \
        "r_pelvis" in candidate_files("innominate_r")
    bad = tmp_path / "bad.vtp"
    bad.write_text("<VTKFile type='ImageData'/>")
    with pytest.raises(VtpError, match="PolyData"):
        read_vtp(bad)
    binary = tmp_path / "bin.vtp"
    binary.write_text(path.read_text().replace('format="ascii"', 'format="binary"'))
    with pytest.raises(VtpError, match="only ASCII"):
        read_vtp(binary)
    with pytest.raises(VtpError, match="cannot read"):
        read_vtp(tmp_path / "missing.vtp")


def test_dev_sh_run_starts_the_app():
    text = (Path(__file__).resolve().parent.parent / "dev.sh").read_text()
    run = text[text.index("  run)"):text.index(";;", text.index("  run)"))]
    assert "serve" in run and "127.0.0.1" in run and "8000" in run
