"""The schedule as an .ics calendar and the log as a FHIR R4 Bundle (validated, lossless round trip)."""

from __future__ import annotations

import json
from datetime import date, time, timedelta

import pytest
from typer.testing import CliRunner

from iliopsoas.care.calendar import CalendarError, build_calendar
from iliopsoas.care.fhir import FhirError, bundle_to_export, export_to_bundle
from iliopsoas.care.log import CareLog
from iliopsoas.care.outcome_log import add_outcome, outcomes
from iliopsoas.care.planner import PlanOptions, build_plan
from iliopsoas.care.screening import evaluate, load_items
from iliopsoas.care.sets import session_seconds
from iliopsoas.cli import app

runner = CliRunner()
ALL_NO = {i.id: False for i in load_items()}


def test_ics_opens_in_icalendar_with_recurring_events_reminders_and_session_length():
    from icalendar import Calendar

    plan = build_plan(evaluate(ALL_NO))
    cal = Calendar.from_ical(build_calendar(plan, start=date(2026, 3, 2), at=time(7, 30), weeks=6).to_ical())
    events = list(cal.walk("VEVENT"))
    assert len(events) == 2  # every day (strengthening), 5 days a week (stretching)
    daily, weekdays = events
    assert daily["RRULE"]["FREQ"] == ["DAILY"] and daily["RRULE"]["COUNT"] == [42]
    assert weekdays["RRULE"]["BYDAY"] == ["MO", "TU", "WE", "TH", "FR"] and weekdays["RRULE"]["COUNT"] == [30]
    assert daily.decoded("DTSTART").time() == time(7, 30)
    assert weekdays.decoded("DTSTART") == daily.decoded("DTSTART") + daily.decoded("DURATION")  # back to back
    strengthen = [s for s in plan.steps if s.kind == "strengthen"]
    assert daily.decoded("DURATION") == timedelta(minutes=-(-session_seconds(strengthen) // 60))
    assert all(e.walk("VALARM")[0].decoded("TRIGGER") == timedelta(minutes=-10) for e in events)
    assert "Lying straight-leg raise" in str(daily["DESCRIPTION"]) and "Not a diagnosis" in str(daily["DESCRIPTION"])
    again = Calendar.from_ical(build_calendar(plan, start=date(2026, 3, 2), at=time(7, 30)).to_ical())
    assert [e["UID"] for e in again.walk("VEVENT")] == [e["UID"] for e in events]  # re-import updates, not doubles
    with pytest.raises(CalendarError, match="locked"):
        build_calendar(build_plan(evaluate(ALL_NO | {"cold-pale-leg": True})), start=date(2026, 3, 2))


def test_plan_ics_cli_writes_a_calendar_from_the_latest_screen(tmp_path, monkeypatch):
    from icalendar import Calendar

    monkeypatch.setenv("ILIOPSOAS_DB", str(tmp_path / "c.db"))
    r = runner.invoke(app, ["plan", "--json"])
    assert r.exit_code == 2 and "iliopsoas screen" in r.output  # no screen yet: a clear message, no plan
    answers = tmp_path / "a.json"
    answers.write_text(json.dumps(ALL_NO))
    assert runner.invoke(app, ["screen", "--answers", str(answers), "--json"]).exit_code == 0
    out = tmp_path / "program.ics"
    r = runner.invoke(app, ["plan", "--ics", str(out), "--start", "2026-03-02", "--json"])
    assert r.exit_code == 0, r.output
    plan = json.loads(r.stdout)
    assert plan["release_notice"] is None and all(s["kind"] != "release" for s in plan["steps"])
    assert len(list(Calendar.from_ical(out.read_bytes()).walk("VEVENT"))) == 2
    r = runner.invoke(app, ["plan", "--with-release", "--json"])
    opted = json.loads(r.stdout)
    assert opted["release_notice"]["grade"] == "very-low" and opted["steps"][0]["kind"] == "stretch"
    assert runner.invoke(app, ["plan", "--ics", str(out), "--start", "March"]).exit_code == 2


def _populated(db):
    plan = build_plan(evaluate(ALL_NO), options=PlanOptions(release=True)).to_json()
    with CareLog(db) as log:
        log.log_screen(ALL_NO, scope="full", level="clear", blocked=False)
        sid = log.start_session(plan=plan, nprs_before=4)
        log.log_step(sid, "kneeling-lunge-stretch", kind="stretch", set_index=1, side="left", hold_s=30.0)
        log.log_step(sid, "psoas-release", kind="release", status="skipped")
        log.finish_session(sid, nprs_after=None, status="stopped", note="knee sore")
        sid2 = log.start_session(plan=plan, nprs_before=None)
        log.log_step(sid2, "straight-leg-raise", kind="strengthen", set_index=1, side="right", reps=15)
        log.add_measure("thomas_hip_deg", 7.5, side="left", note="with helper")
        log.add_measure("thomas_knee_deg", 64)
        log.add_measure("nprs", 3)
    add_outcome(db, "odi", {"S1": 2, "S2": 1, "S3": None, "S4": 0, "S5": 3, "S6": 1, "S7": 0, "S8": 0, "S9": 1, "S10": 2})
    add_outcome(db, "psfs", {"stairs": 4, "running": 2, "sitting": 6}, note="week 1")


def _comparable(db):
    with CareLog(db) as log:
        doc = log.export_json()
    sessions = [{k: v for k, v in s.items() if k != "id"} for s in doc["sessions"]]
    outs = [{k: o[k] for k in ("taken_at", "measure", "answers", "score", "note")} for o in outcomes(db)]
    return sessions, doc["screens"], doc["measures"], outs


def test_fhir_bundle_validates_and_round_trips_losslessly(tmp_path):
    from fhir.resources.R4B.bundle import Bundle

    db = tmp_path / "a.db"
    _populated(db)
    sessions, screens, measures, outs = _comparable(db)
    with CareLog(db) as log:
        bundle = export_to_bundle(log.export_json(), outs)
    Bundle.model_validate(bundle)  # the maintained FHIR model library accepts it
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert {"Patient", "CarePlan", "Encounter", "Procedure", "Observation", "QuestionnaireResponse"} <= set(kinds)
    assert kinds.count("CarePlan") == 1 and kinds.count("Encounter") == 2 and kinds.count("Procedure") == 3
    nprs = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
            and e["resource"]["code"]["coding"][0]["code"] == "72514-3"]
    assert len(nprs) == 2  # the session's before score and the logged NPRS measurement: no invented "after"
    doc, outs_back = bundle_to_export(json.loads(json.dumps(bundle)))
    assert (doc["sessions"], doc["screens"], doc["measures"], outs_back) == (sessions, screens, measures, outs)


def test_fhir_import_cli_fills_an_empty_log_identically_and_skips_what_is_there(tmp_path, monkeypatch):
    src, dst = tmp_path / "a.db", tmp_path / "b.db"
    _populated(src)
    out = tmp_path / "bundle.json"
    assert runner.invoke(app, ["session", "export", str(out), "--format", "fhir", "--db", str(src)]).exit_code == 0
    r = runner.invoke(app, ["session", "import", str(out), "--db", str(dst), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["added"] == {"sessions": 2, "steps": 3, "screens": 1, "measures": 3, "outcomes": 2,
                                                "study_cards": 0}
    assert _comparable(dst) == _comparable(src)
    r = runner.invoke(app, ["session", "import", str(out), "--db", str(dst), "--json"])
    assert json.loads(r.stdout)["added"] == {"sessions": 0, "steps": 0, "screens": 0, "measures": 0, "outcomes": 0,
                                                "study_cards": 0}
    bad = json.loads(out.read_text())
    bad["entry"][1]["resource"]["subject"] = "me"  # a Reference must be an object
    out.write_text(json.dumps(bad))
    r = runner.invoke(app, ["session", "import", str(out), "--db", str(tmp_path / "c.db")])
    assert r.exit_code == 1 and "not a valid FHIR Bundle" in r.output and "Traceback" not in r.output
    with pytest.raises(FhirError, match="resourceType"):
        bundle_to_export({"format": "iliopsoas-care-log"})
