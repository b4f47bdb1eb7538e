"""The care commands end to end (typer's CliRunner, a temporary database per test)."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from iliopsoas.care.log import CareLog
from iliopsoas.care.screening import DISCLAIMER, load_items
from iliopsoas.cli import app

runner = CliRunner()


@pytest.fixture()
def db(tmp_path, monkeypatch):
    path = tmp_path / "care.db"
    monkeypatch.setenv("ILIOPSOAS_DB", str(path))
    return path


def write(tmp_path, name, doc):
    p = tmp_path / name
    p.write_text(json.dumps(doc) if name.endswith(".json") else yaml.safe_dump(doc))
    return p


def all_no():
    return {i.id: False for i in load_items()}


def flat(text: str) -> str:
    """Undo Rich's line wrapping of messages."""
    return " ".join(text.split())


def run(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def test_screen_list_json_is_the_public_shape(db):
    r = run("screen", "--list", "--json")
    assert r.exit_code == 0
    items = json.loads(r.stdout)
    assert all(set(i) == {"id", "question", "tier", "group"} and i["group"] for i in items)
    assert {i["tier"] for i in items} == {"emergency", "urgent", "soon", "contraindication"}


def test_screen_with_answers_is_logged_with_its_time(db, tmp_path):
    r = run("screen", "--answers", write(tmp_path, "a.yaml", all_no() | {"hernia": True}), "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["level"] == "contraindication" and out["release_allowed"] is False
    assert out["logged_at"].startswith("20")
    r = run("screen", "--answers", write(tmp_path, "b.json", all_no()))
    assert "clear" in r.stdout and DISCLAIMER in flat(r.stdout)


def test_plan_json_shape_and_a_sample_plan(db, tmp_path):
    answers = {
        "screen": all_no(),
        "assessment": {"thomas_hip_deg": 6, "thomas_knee_deg": 58},
        "options": {"strengthen_reps": 20},
    }
    r = run("plan", "--answers", write(tmp_path, "p.yaml", answers), "--json")
    assert r.exit_code == 0, r.output
    plan = json.loads(r.stdout)
    assert plan["blocked"] is False and plan["reasons"] == []
    kinds = [s["kind"] for s in plan["steps"]]
    assert kinds == sorted(kinds, key=["release", "stretch", "strengthen", "habit"].index)
    for s in plan["steps"]:
        assert {"id", "kind", "muscle", "dosage", "evidence"} <= set(s)
    reps = {s["id"]: s["dosage"].get("reps") for s in plan["steps"] if s["kind"] == "strengthen"}
    assert reps == {"straight-leg-raise": 20, "banded-hip-flexion": 20}
    assert "kneeling-quad-stretch" in [s["id"] for s in plan["steps"]]
    assert plan["disclaimer"] == DISCLAIMER
    with CareLog(db) as log:  # the screen behind the plan is logged with its time
        (logged,) = log.screens()
    assert logged["level"] == "clear" and logged["taken_at"].startswith("20")


def test_plan_blocked_by_an_emergency_flag(db, tmp_path):
    r = run("plan", "--answers", write(tmp_path, "e.json", all_no() | {"saddle-numbness": True}), "--json")
    assert r.exit_code == 0
    plan = json.loads(r.stdout)
    assert plan["blocked"] is True and plan["steps"] == []
    assert plan["reasons"][0]["code"] == "red-flag-emergency"
    assert "emergency" in plan["reasons"][0]["message"]


def test_plan_with_unanswered_items_is_blocked(db, tmp_path):
    r = run("plan", "--answers", write(tmp_path, "part.json", {"pregnancy": False}), "--json")
    plan = json.loads(r.stdout)
    assert plan["blocked"] and plan["reasons"][-1]["code"] == "not-screened"


def test_plan_pdf_handout(db, tmp_path):
    pdf = tmp_path / "handout.pdf"
    r = run("plan", "--answers", write(tmp_path, "p.json", all_no()), "--pdf", pdf)
    assert r.exit_code == 0, r.output
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 2000


@pytest.mark.parametrize(
    "args, doc, code, message",
    [
        (["plan"], {"pregnancy": False, "pregnancyy": True}, 1, "unknown screening item 'pregnancyy'"),
        (["plan"], {"options": {"release_hold_s": 200}, "screen": {}}, 1, "release_hold_s"),
        (["assess"], {"thomas_hip_deg": "high"}, 1, "finite number"),
        (["screen"], {"hernia": "maybe"}, 1, "true or false"),
    ],
)
def test_bad_answers_exit_1_with_a_clean_message(db, tmp_path, args, doc, code, message):
    r = run(*args, "--answers", write(tmp_path, "bad.json", doc))
    assert r.exit_code == code
    assert message in flat(r.stderr)


def test_malformed_answers_file_exits_2(db, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    r = run("plan", "--answers", bad)
    assert r.exit_code == 2 and "not valid JSON" in flat(r.stderr)


def test_assess_json_reports_contributors_and_atlas_refs(db, tmp_path):
    r = run(
        "assess", "--answers", write(tmp_path, "a.yaml", {"thomas_hip_deg": 5, "psfs": [4, 6, 5]}), "--json"
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert [c["id"] for c in out["contributors"]] == ["psoas-major", "iliacus"]
    assert set(out["atlas"]) == {"available", "missing"}
    r = run("progress", "--json")
    prog = json.loads(r.stdout)
    assert prog["thomas_hip_deg"]["latest"] == 5 and prog["psfs"]["latest"] == 5


def test_session_end_to_end_list_export_import_progress(db, tmp_path):
    session = {"screen": all_no(), "nprs_before": 4, "nprs_after": 3, "skip": ["psoas-release"]}
    r = run("session", "start", "--answers", write(tmp_path, "s.yaml", session), "--json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["started"] and summary["status"] == "completed" and summary["skipped"] == ["psoas-release"]
    # a second session may rely on the logged full screen and answer only the short checklist
    short = {i.id: False for i in load_items() if i.every_session}
    r = run(
        "session",
        "start",
        "--answers",
        write(tmp_path, "s2.json", {"screen": short, "nprs_before": 3}),
        "--json",
    )
    assert r.exit_code == 0, r.output
    r = run("session", "list", "--json")
    rows = json.loads(r.stdout)
    assert [s["status"] for s in rows] == ["completed", "completed"]
    assert rows[0]["steps_skipped"] == 1 and rows[0]["steps_done"] > 10
    for fmt in ("json", "csv"):
        out = tmp_path / f"export.{fmt}"
        assert run("session", "export", out).exit_code == 0
        other = tmp_path / f"other-{fmt}.db"
        r = run("session", "import", out, "--db", other, "--json")
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["added"]["sessions"] == 2
    png = tmp_path / "progress.png"
    r = run("progress", "--plot", png, "--json")
    assert r.exit_code == 0, r.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(r.stdout)["sessions"]["completed"] == 2


def test_session_refuses_without_a_screen_and_when_blocked(db, tmp_path):
    short = {i.id: False for i in load_items() if i.every_session}
    r = run("session", "start", "--answers", write(tmp_path, "s.json", {"screen": short}))
    assert r.exit_code == 1 and "run `iliopsoas screen` first" in flat(r.stderr)
    urgent = {"screen": all_no() | {"night-pain": True}}
    r = run("session", "start", "--answers", write(tmp_path, "u.json", urgent), "--json")
    assert r.exit_code == 1
    out = json.loads(r.stdout)
    assert out["started"] is False and out["blocked"] is True
    assert run("session", "list", "--json").stdout.strip() == "[]"


def test_rising_pain_in_the_log_asks_for_a_clinician_review(db, tmp_path):
    with CareLog(db) as log:
        for day, (before, after) in enumerate([(2, 2), (4, 5), (5, 4)], start=1):
            sid = log.start_session(nprs_before=before, started_at=f"2026-04-0{day}T07:00:00.000+00:00")
            log.finish_session(sid, nprs_after=after)
    for args in (["screen"], ["plan"]):
        r = run(*args, "--answers", write(tmp_path, "a.json", all_no()), "--json")
        out = json.loads(r.stdout)
        assert out["clinician_review"] is True and not out.get("blocked")
        assert [x["code"] for x in out["reasons"]] == ["pain-rising"]
        assert "book a clinician review" in out["reasons"][0]["message"]
