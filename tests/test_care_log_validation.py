"""The care log validates every record itself (same field types as the API) and imports all or nothing."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from iliopsoas.care.log import SCHEMA_VERSION, CareLog, LogError
from iliopsoas.care.records import RecordError

HUGE = 10**400


@pytest.fixture
def log(tmp_path: Path):
    with CareLog(tmp_path / "care.db") as lg:
        yield lg


@pytest.mark.parametrize("value", [11, -5, 99, 10**30, HUGE, 3.5, True, "3"])
def test_a_pain_score_must_be_a_whole_number_from_0_to_10(log: CareLog, value) -> None:
    with pytest.raises(RecordError, match=r"^session\.nprs_before: "):
        log.start_session(nprs_before=value)
    sid = log.start_session(nprs_before=4)
    with pytest.raises(RecordError, match=r"nprs_after"):
        log.finish_session(sid, nprs_after=value)
    assert [(s["nprs_before"], s["nprs_after"]) for s in log.sessions()] == [(4, None)]


@pytest.mark.parametrize(
    ("kind", "value", "field"),
    [
        ("thomas_hip_deg", float("nan"), "value"),
        ("thomas_hip_deg", float("inf"), "value"),
        ("thomas_hip_deg", 1e300, "value"),
        ("thomas_hip_deg", HUGE, "value"),
        ("standing_tilt_deg", 60.0, "value"),
        ("nprs", 11.0, "value"),
        ("psfs", -1.0, "value"),
        ("blood_pressure", 3.0, "kind"),
    ],
)
def test_a_measurement_must_be_finite_known_and_in_the_range_of_its_kind(log, kind, value, field) -> None:
    with pytest.raises(RecordError, match=rf"^measure\.?{field}|^measure: value"):
        log.add_measure(kind, value)
    assert log.measures() == []


@pytest.mark.parametrize("when", ["yesterday", "2026-13-01T00:00:00", "0001-01-01T00:00:00+00:00",
                                  "2099-01-01T00:00:00+00:00", "x" * 500])
def test_times_are_iso_date_times_and_never_in_the_future(log, when) -> None:
    with pytest.raises(RecordError, match="taken_at"):
        log.add_measure("nprs", 3.0, taken_at=when)
    with pytest.raises(RecordError, match="started_at"):
        log.start_session(started_at=when)


def test_statuses_sides_and_counts_come_from_closed_bounded_lists(log) -> None:
    sid = log.start_session()
    with pytest.raises(RecordError, match=r"step\.status"):
        log.log_step(sid, "psoas-release", status="maybe")
    with pytest.raises(RecordError, match=r"step\.side"):
        log.log_step(sid, "psoas-release", side="middle")
    with pytest.raises(RecordError, match=r"step\.reps"):
        log.log_step(sid, "psoas-release", reps=HUGE)
    with pytest.raises(RecordError, match=r"step\.hold_s"):
        log.log_step(sid, "psoas-release", hold_s=float("nan"))
    with pytest.raises(RecordError, match=r"session\.status"):
        log.finish_session(sid, nprs_after=2, status="great")
    with pytest.raises(RecordError, match=r"screen\.level"):
        log.log_screen({}, scope="full", level="fine", blocked=False)
    with pytest.raises(RecordError, match=r"step\.session_id"):
        log.log_step(sid + 99, "psoas-release")
    assert log.steps() == [] and log.screens() == []


def test_the_record_error_is_still_a_value_error_for_old_callers(log) -> None:
    with pytest.raises(ValueError):
        log.log_step(log.start_session(), "x", status="nope")


# ----------------------------------------------------------------------------------- import
def good_doc() -> dict:
    return {
        "format": "iliopsoas-care-log",
        "schema_version": SCHEMA_VERSION,
        "sessions": [{"started_at": "2026-02-01T07:00:00+00:00", "status": "completed", "nprs_before": 5,
                      "nprs_after": 3, "steps": [{"step_id": "psoas-release", "kind": "release", "set_index": 1,
                                                  "side": "left", "hold_s": 60.0, "status": "done",
                                                  "completed_at": "2026-02-01T07:02:00+00:00"}]}],
        "screens": [{"taken_at": "2026-02-01T06:59:00+00:00", "scope": "full", "level": "clear",
                     "blocked": False, "answers": {"fever-with-pain": False}}],
        "measures": [{"taken_at": "2026-02-01T06:58:00+00:00", "kind": "thomas_hip_deg", "value": 6.5}],
    }


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        (("sessions", 0, "nprs_before"), 99, "sessions[0].nprs_before"),
        (("sessions", 0, "nprs_before"), -5, "sessions[0].nprs_before"),
        (("sessions", 0, "nprs_after"), 10**30, "sessions[0].nprs_after"),
        (("sessions", 0, "status"), "finished", "sessions[0].status"),
        (("sessions", 0, "started_at"), "yesterday", "sessions[0].started_at"),
        (("sessions", 0, "steps", 0, "status"), "half", "sessions[0].steps[0].status"),
        (("sessions", 0, "steps", 0, "reps"), HUGE, "sessions[0].steps[0].reps"),
        (("screens", 0, "taken_at"), "2099-01-01T00:00:00+00:00", "screens[0].taken_at"),
        (("screens", 0, "answers"), {"fever-with-pain": "no"}, "screens[0].answers.fever-with-pain"),
        (("measures", 0, "value"), float("nan"), "measures[0].value"),
        (("measures", 0, "kind"), "mood", "measures[0].kind"),
        (("measures", 0, "taken_at"), "last week", "measures[0].taken_at"),
    ],
)
def test_import_rejects_the_whole_file_naming_record_and_field(log, path, value, named) -> None:
    doc = good_doc()
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(LogError) as err:
        log.import_json(doc)
    msg = str(err.value)
    assert msg.startswith(f"import: {named}") and msg.endswith("nothing was imported") and "\n" not in msg
    # nothing half-imported: the valid session and measure before the bad record are not there either
    assert log.sessions() == [] and log.steps() == [] and log.screens() == [] and log.measures() == []


def test_a_valid_import_is_added_once_and_its_screens_never_count_for_the_gate(log) -> None:
    assert log.import_json(good_doc()) == {"sessions": 1, "steps": 1, "screens": 1, "measures": 1, "outcomes": 0,
                                         "study_cards": 0}
    assert log.import_json(good_doc()) == {"sessions": 0, "steps": 0, "screens": 0, "measures": 0, "outcomes": 0,
                                         "study_cards": 0}
    assert [s["origin"] for s in log.screens()] == ["import"]
    assert log.latest_screen("full") is None and log.fresh_full_screen() is None


def test_a_bad_csv_cell_names_its_line_and_column(log, tmp_path: Path) -> None:
    out = tmp_path / "log.csv"
    with CareLog(tmp_path / "src.db") as other:
        other.import_json(good_doc())
        other.export_csv(out)
    lines = out.read_text().splitlines()
    lines[1] = lines[1].replace(",5,3,", ",5,1e400,")
    out.write_text("\n".join(lines) + "\n")
    with pytest.raises(LogError, match=r"line 2: nprs_after: expected a whole number, got '1e400'"):
        log.import_csv(out)
    assert log.sessions() == []


# ----------------------------------------------------------------------------------- the gate's order
def test_the_latest_screen_is_the_one_recorded_last_here_whatever_date_it_claims(log) -> None:
    from iliopsoas.care.screening import item_ids

    every_no = dict.fromkeys(item_ids("full"), False)  # a full screen that answered every item
    log.log_screen(every_no, scope="full", level="clear", blocked=False)
    log.log_screen(every_no | {"cancer-history": True}, scope="full", level="urgent", blocked=True,
                   taken_at="2026-01-01T00:00:00+00:00")  # typed in late: an older claimed date
    latest = log.latest_screen("full")
    assert latest is not None and latest["level"] == "urgent"
    assert log.fresh_full_screen() is not None  # recorded just now, so it is fresh


def test_a_future_screen_already_in_an_old_database_is_no_longer_trusted(tmp_path: Path) -> None:
    db = tmp_path / "v2.db"
    con = sqlite3.connect(db)
    from iliopsoas.care.log import MIGRATIONS

    for n in (1, 2):
        for stmt in MIGRATIONS[n]:
            con.execute(stmt)
    con.execute("PRAGMA user_version = 2")
    con.execute("INSERT INTO screens (taken_at, scope, answers_json, level, blocked) VALUES "
                "('2099-01-01T00:00:00+00:00', 'full', '{}', 'clear', 0)")
    con.commit()
    con.close()
    with CareLog(db) as log:
        assert log.migrated_from == 2
        assert [s["origin"] for s in log.screens()] == ["unverified"]
        assert log.latest_screen("full") is None
        log.log_screen({"fever-with-pain": True}, scope="full", level="urgent", blocked=True)
        assert log.latest_screen("full")["level"] == "urgent"
    assert (tmp_path / "v2.db.v2.bak").exists()


def test_the_log_file_keeps_json_it_can_read(log) -> None:
    sid = log.start_session(plan={"steps": [{"id": "a"}]})
    assert json.loads(log.sessions()[0]["plan_json"]) == {"steps": [{"id": "a"}]} and sid == 1
