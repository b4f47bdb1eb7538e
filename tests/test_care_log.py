"""The care log: versioned schema, migration from v1, export/import, and kill -9 durability."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from iliopsoas.care.log import SCHEMA_VERSION, CareLog, LogError, default_db_path, schema_version
from iliopsoas.care.screening import load_items

# The version-1 schema exactly as it shipped; kept here (not imported) so later edits to the
# migrations cannot silently change what "a v1 database" means.
V1_SCHEMA = (
    "CREATE TABLE sessions (id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, nprs_before INTEGER, nprs_after INTEGER)",
    "CREATE TABLE steps (id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id), "
    "step_id TEXT NOT NULL, completed_at TEXT NOT NULL)",
    "PRAGMA user_version = 1",
)


def make_v1(path: Path) -> None:
    con = sqlite3.connect(path)
    for stmt in V1_SCHEMA:
        con.execute(stmt)
    con.execute("INSERT INTO sessions VALUES (1, '2026-01-05T08:00:00+00:00', 4, 3)")
    con.execute("INSERT INTO sessions VALUES (2, '2026-01-06T08:00:00+00:00', 3, NULL)")
    con.executemany(
        "INSERT INTO steps (session_id, step_id, completed_at) VALUES (?, ?, ?)",
        [
            (1, "psoas-release", "2026-01-05T08:02:00+00:00"),
            (1, "kneeling-lunge-stretch", "2026-01-05T08:05:00+00:00"),
            (2, "straight-leg-raise", "2026-01-06T08:03:00+00:00"),
        ],
    )
    con.commit()
    con.close()


def test_fresh_database_is_current_wal_and_intact(tmp_path):
    with CareLog(tmp_path / "new.db") as log:
        assert log.version == SCHEMA_VERSION
        assert log.migrated_from == 0
        assert log._con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert log.integrity_ok()


def test_a_v1_database_is_migrated_and_nothing_is_lost(tmp_path):
    db = tmp_path / "old.db"
    make_v1(db)
    with CareLog(db) as log:
        assert log.migrated_from == 1 and log.version == SCHEMA_VERSION
        sessions = log.sessions()
        assert [(s["nprs_before"], s["nprs_after"]) for s in sessions] == [(4, 3), (3, None)]
        assert [s["status"] for s in sessions] == ["completed", "incomplete"]
        assert [t["step_id"] for t in log.steps()] == [
            "psoas-release",
            "kneeling-lunge-stretch",
            "straight-leg-raise",
        ]
        assert all(t["status"] == "done" for t in log.steps())
        # the migrated file takes new records too
        sid = log.start_session(nprs_before=2)
        log.log_step(sid, "sitting-breaks", kind="habit")
        assert log.integrity_ok()
    backup = tmp_path / "old.db.v1.bak"
    assert schema_version(backup) == 1, "a copy of the original is kept before migrating"
    with CareLog(db) as log:  # re-opening does not migrate again
        assert log.migrated_from is None and len(log.sessions()) == 3


def test_a_database_from_a_newer_version_is_refused_untouched(tmp_path):
    db = tmp_path / "future.db"
    con = sqlite3.connect(db)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.close()
    with pytest.raises(LogError, match="newer than this program"):
        CareLog(db)
    assert schema_version(db) == SCHEMA_VERSION + 1


def test_not_a_database_is_a_clean_error(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("this is not sqlite " * 200)
    with pytest.raises(LogError, match="not a usable care database"):
        CareLog(bad)


def test_db_location_flag_beats_environment_beats_user_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ILIOPSOAS_DB", str(tmp_path / "env.db"))
    assert default_db_path(tmp_path / "flag.db") == tmp_path / "flag.db"
    assert default_db_path() == tmp_path / "env.db"
    monkeypatch.delenv("ILIOPSOAS_DB")
    assert default_db_path().name == "care.sqlite3"


def fill(log: CareLog) -> None:
    sid = log.start_session(plan={"steps": []}, nprs_before=5, started_at="2026-02-01T07:00:00.000+00:00")
    log.log_step(sid, "psoas-release", kind="release", set_index=1, side="left", hold_s=60.0)
    log.log_step(sid, "iliacus-release", kind="release", status="skipped")
    log.log_step(sid, "straight-leg-raise", kind="strengthen", set_index=1, side="right", reps=15, hold_s=1.0)
    log.finish_session(sid, nprs_after=3)
    log.start_session(nprs_before=4, started_at="2026-02-02T07:00:00.000+00:00")
    log.log_screen(
        {"pregnancy": True},
        scope="full",
        level="contraindication",
        blocked=False,
        taken_at="2026-02-01T06:59:00.000+00:00",
    )
    log.add_measure("thomas_hip_deg", 6.5, taken_at="2026-02-01T06:58:00.000+00:00", side="left")
    log.add_measure("psfs", 5.0, taken_at="2026-02-01T06:58:30.000+00:00", note="3 activities")


def comparable(doc: dict) -> dict:
    doc = dict(doc)
    doc.pop("exported_at")
    doc["sessions"] = [{k: v for k, v in s.items() if k != "id"} for s in doc["sessions"]]
    return doc


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_export_then_import_round_trips_and_skips_duplicates(tmp_path, fmt):
    with CareLog(tmp_path / "a.db") as a:
        fill(a)
        out = tmp_path / f"log.{fmt}"
        if fmt == "json":
            out.write_text(json.dumps(a.export_json()))
        else:
            assert a.export_csv(out) == 7  # 3 step rows, 1 step-less session, 1 screen, 2 measures
        original = comparable(a.export_json())
    with CareLog(tmp_path / "b.db") as b:
        added = b.import_json(json.loads(out.read_text())) if fmt == "json" else b.import_csv(out)
        assert added == {"sessions": 2, "steps": 3, "screens": 1, "measures": 2, "outcomes": 0, "study_cards": 0}
        again = b.import_json(json.loads(out.read_text())) if fmt == "json" else b.import_csv(out)
        assert again == {"sessions": 0, "steps": 0, "screens": 0, "measures": 0, "outcomes": 0, "study_cards": 0}
        if fmt == "json":
            assert comparable(b.export_json()) == original
        else:  # CSV carries everything but the stored plan
            got = comparable(b.export_json())
            for s in original["sessions"]:
                s["plan"] = None
            assert got == original


def test_import_rejects_foreign_or_malformed_files_without_partial_writes(tmp_path):
    with CareLog(tmp_path / "c.db") as log:
        with pytest.raises(LogError, match="not an iliopsoas care-log export"):
            log.import_json({"sessions": []})
        doc = {
            "format": "iliopsoas-care-log",
            "sessions": [{"started_at": "2026-01-01T00:00:00+00:00", "steps": [{}]}],
        }
        with pytest.raises(LogError, match="nothing was imported"):
            log.import_json(doc)
        assert log.sessions() == []


SESSION_ANSWERS = {
    "screen": {i.id: False for i in load_items()},
    "nprs_before": 3,
    "nprs_after": 2,
}


def count_steps(db: Path) -> list[tuple]:
    con = sqlite3.connect(db, timeout=5)
    try:
        return con.execute("SELECT id, step_id, set_index, side, status FROM steps ORDER BY id").fetchall()
    except sqlite3.OperationalError:  # tables not created yet
        return []
    finally:
        con.close()


def test_kill_minus_9_loses_no_completed_step(tmp_path):
    """A real subprocess plays a slowed session; after N committed sets it is killed with SIGKILL."""
    db = tmp_path / "durable.db"
    answers = tmp_path / "session.json"
    answers.write_text(json.dumps(SESSION_ANSWERS))
    n_wanted = 3
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("ILIOPSOAS_DB", None)
    # 0.004 real s per simulated s: each 60 s release hold takes ~0.24 s
    errors = tmp_path / "stderr.txt"
    with open(errors, "wb") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "iliopsoas.cli",
                "session",
                "start",
                "--answers",
                str(answers),
                "--db",
                str(db),
                "--time-scale",
                "0.004",
            ],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
        )
    try:
        seen: list[tuple] = []
        deadline = time.monotonic() + 60
        while len(seen) < n_wanted:
            assert proc.poll() is None, f"session ended early: {errors.read_text()}"
            assert time.monotonic() < deadline, "no progress within 60 s"
            time.sleep(0.01)
            seen = count_steps(db)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    after = count_steps(db)
    assert after[: len(seen)] == seen, "every step seen committed before the kill is still there"
    assert len(after) >= n_wanted
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        status = con.execute("SELECT status FROM sessions").fetchall()
    finally:
        con.close()
    assert status == [("running",)], "the killed session never reached its end"
    with CareLog(db) as log:  # the next session marks it interrupted
        log.start_session()
        assert [s["status"] for s in log.sessions()] == ["interrupted", "running"]
