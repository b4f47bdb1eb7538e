"""The care API's new parts: one source for sets, idempotent writes, questionnaires, plain screen messages."""

from __future__ import annotations

import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

from iliopsoas.care.log import CareLog
from iliopsoas.care.measures import MEASURES
from iliopsoas.care.planner import build_plan
from iliopsoas.care.screening import evaluate, item_ids, load_items
from iliopsoas.care.sets import expand_sets
from iliopsoas.web import create_app

ALL_NO = {i: False for i in item_ids("full")}


@pytest.fixture()
def fresh(tmp_path):
    db = tmp_path / "care.sqlite3"
    with TestClient(create_app(db=db)) as c:
        yield c, db


def test_sessions_serve_the_shared_set_order_with_work_and_rest_seconds(fresh):
    c, _ = fresh
    r = c.post("/api/care/sessions", json={"screen": ALL_NO})
    assert r.status_code == 201
    sets = r.json()["sets"]
    expected = [x.to_json() for x in expand_sets(build_plan(evaluate(ALL_NO)).steps)]
    assert [{k: s[k] for k in expected[0]} for s in sets] == expected
    slr = next(s for s in sets if s["step_id"] == "straight-leg-raise")
    assert slr["work_s"] == 15 * 3 and slr["dosage_text"].startswith("2 sets x 15 reps")
    # rest only after the last side of a set that has another set after it
    rests = [(s["step_id"], s["set_index"], s["side"]) for s in sets if s["rest_after_s"]]
    assert rests == [("straight-leg-raise", 1, "right"), ("banded-hip-flexion", 1, "right")]
    plan = c.post("/api/care/plan", json={"screen": ALL_NO}).json()
    assert all(s["dosage_text"] for s in plan["steps"]) and plan["release_notice"] is None


def test_a_double_click_records_a_set_once_and_a_new_key_records_the_next(fresh):
    c, db = fresh
    sid = c.post("/api/care/sessions", json={"screen": ALL_NO}).json()["session_id"]
    body = {"step_id": "kneeling-lunge-stretch", "set_index": 1, "side": "left", "hold_s": 30}
    first = c.post(f"/api/care/sessions/{sid}/steps", json=body, headers={"Idempotency-Key": "p1:0"})
    again = c.post(f"/api/care/sessions/{sid}/steps", json=body, headers={"Idempotency-Key": "p1:0"})
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    nxt = c.post(f"/api/care/sessions/{sid}/steps", json={**body, "side": "right"}, headers={"Idempotency-Key": "p1:1"})
    assert nxt.json()["steps_done"] == 2
    fin = [c.post(f"/api/care/sessions/{sid}/finish", json={"status": "stopped", "nprs_after": None},
                  headers={"Idempotency-Key": "f"}) for _ in range(2)]
    assert fin[0].json() == fin[1].json() and fin[0].json()["status"] == "stopped"
    with CareLog(db) as log:
        assert [(t["step_id"], t["side"]) for t in log.steps(sid)] == [
            ("kneeling-lunge-stretch", "left"), ("kneeling-lunge-stretch", "right")]
        s = log.sessions()[0]
        assert s["nprs_before"] is None and s["nprs_after"] is None  # nothing recorded that was not given
    prog = c.get("/api/care/progress").json()
    assert prog["sessions"]["by_status"] == {"stopped": 1} and prog["sessions"]["sets_done"] == 2


def test_ranking_the_same_assessment_again_saves_its_measurements_once(fresh):
    c, db = fresh
    inputs = {"thomas_hip_deg": 8, "thomas_knee_deg": 60}
    for _ in range(3):
        r = c.post("/api/care/assess", json={"inputs": inputs}, headers={"Idempotency-Key": "page:assess:abc"})
        assert r.status_code == 200
    c.post("/api/care/assess", json={"inputs": {"thomas_hip_deg": 5}}, headers={"Idempotency-Key": "page:assess:def"})
    with CareLog(db) as log:
        assert [(m["kind"], m["value"]) for m in log.measures()] == [
            ("thomas_hip_deg", 8.0), ("thomas_knee_deg", 60.0), ("thomas_hip_deg", 5.0)]


def test_measure_kinds_come_from_one_table_including_the_thomas_knee_angle(fresh):
    c, _ = fresh
    kinds = c.get("/api/care/measures/kinds").json()
    assert [k["kind"] for k in kinds] == list(MEASURES) and "thomas_knee_deg" in MEASURES
    r = c.post("/api/care/measures", json={"kind": "thomas_knee_deg", "value": -5})
    assert r.status_code == 422 and "Thomas test knee angle must be between 0 and 180" in r.json()["detail"]
    assert c.post("/api/care/measures", json={"kind": "thomas_knee_deg", "value": 64}).status_code == 201


def test_questionnaires_score_over_http_and_feed_progress_with_their_mcid(fresh):
    c, _ = fresh
    form = c.get("/api/care/outcomes/odi").json()
    assert len(form["items"]) == 10 and form["mcid"]["value"] == 10
    answers = {f"S{k}": v for k, v in enumerate([2, 2, 2, 2, 2, 2, 2, 2, 0, 0], 1)}
    r = c.post("/api/care/outcomes/odi", json={"answers": answers, "log": True}, headers={"Idempotency-Key": "o1"})
    assert r.status_code == 200 and r.json()["score"] == 32.0
    c.post("/api/care/outcomes/odi", json={"answers": answers, "log": True}, headers={"Idempotency-Key": "o1"})
    better = {**answers, "S1": 0, "S2": 0, "S3": 0, "S4": 0, "S5": 0, "S6": 0}
    c.post("/api/care/outcomes/odi", json={"answers": better, "log": True}, headers={"Idempotency-Key": "o2"})
    prog = c.get("/api/care/progress").json()
    assert [p["value"] for p in prog["series"]["outcomes"]["odi"]] == [32.0, 8.0]  # the repeat was not stored
    assert prog["outcomes"]["odi"]["change"] == -24 and prog["outcomes"]["odi"]["beyond_band"] is True
    assert c.get("/api/care/outcomes/koos").status_code == 404
    bad = c.post("/api/care/outcomes/odi", json={"answers": {"S1": 7}})
    assert bad.status_code == 422 and "S1" in bad.json()["detail"]


def test_screen_messages_name_the_questions_in_plain_words(fresh):
    c, _ = fresh
    r = c.post("/api/care/sessions", json={"screen": {i: False for i in item_ids("session")}})
    assert r.status_code == 422 and "/api/" not in r.json()["detail"]
    half = dict(list(ALL_NO.items())[:-2])
    r = c.post("/api/care/screen", json={"answers": half}).json()
    missing = [i for i in load_items() if i.id not in half]
    reason = next(x for x in r["reasons"] if x["code"] == "not-screened")
    assert all(i.question in reason["message"] for i in missing)
    assert "/api/" not in reason["message"] and reason["questions"] == [i.question for i in missing]
    notice = c.get("/api/care/release-notice").json()
    assert notice["grade"] == "very-low" and notice["risks"]
