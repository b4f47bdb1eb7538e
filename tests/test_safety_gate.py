"""The red-flag gate cannot be bypassed by importing a screen (issue 14's attack, CLI and web).

The attack: `session import` of a file holding a clear full screen dated 2099, then a real screen
with fever and a history of cancer (urgent: blocks the program). Before the fix the gate took the
latest screen by its claimed date, so the 2099 screen won and a 20-set session with pressure
release ran. Now the import is refused, and even a screen that is already in the file (an older
database) or an import with a plausible date never stands in for the latest screen taken here.
"""

from __future__ import annotations

import json
import sqlite3
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iliopsoas.care.log import MIGRATIONS, CareLog
from iliopsoas.care.screening import item_ids
from iliopsoas.cli import app

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

runner = CliRunner()
ALL_NO = {i: False for i in item_ids("full")}
BLOCKING = {**ALL_NO, "fever-with-pain": True, "cancer-history": True}
SESSION_ONLY = {i: False for i in item_ids("session")}


def export_with_screen(taken_at: str) -> dict:
    return {"format": "iliopsoas-care-log", "sessions": [], "measures": [],
            "screens": [{"taken_at": taken_at, "scope": "full", "level": "clear", "blocked": False,
                         "answers": ALL_NO}]}


def cli(*args: object) -> object:
    res = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in res.output and (res.exception is None or isinstance(res.exception, SystemExit))
    return res


def no_session_ran(db: Path) -> None:
    with CareLog(db) as log:
        assert log.sessions() == [] and log.steps() == []


def soon() -> str:
    """Five minutes from now: within the clock tolerance, so accepted, and later than any screen taken now."""
    return (datetime.now(UTC) + timedelta(minutes=5)).isoformat(timespec="seconds")


@pytest.mark.parametrize("claimed", ["2099-01-01T00:00:00+00:00", "soon"])
def test_the_import_bypass_fails_on_the_command_line(tmp_path: Path, claimed: str) -> None:
    claimed = soon() if claimed == "soon" else claimed
    db = tmp_path / "care.db"
    imported = tmp_path / "backup.json"
    imported.write_text(json.dumps(export_with_screen(claimed)))
    res = cli("session", "import", imported, "--db", db)
    if claimed.startswith("2099"):
        assert res.exit_code == 1 and "screens[0].taken_at" in res.stderr and "nothing was imported" in res.stderr
    else:
        assert res.exit_code == 0  # a plausible date is history, not the person's latest answers
    screen = tmp_path / "screen.json"
    screen.write_text(json.dumps(BLOCKING))
    assert cli("screen", "--answers", screen, "--db", db).exit_code == 0
    answers = tmp_path / "session.json"
    answers.write_text(json.dumps({"screen": SESSION_ONLY, "nprs_before": 2, "nprs_after": 2}))
    res = cli("session", "start", "--answers", answers, "--db", db, "--json")
    assert res.exit_code == 1
    out = json.loads(res.stdout)
    assert out["started"] is False and out["blocked"] is True and out["steps"] == []
    assert {"fever-with-pain", "cancer-history"} <= {i for r in out["reasons"] for i in r["items"]}
    no_session_ran(db)


def test_a_future_screen_left_in_an_old_database_cannot_unlock_a_session(tmp_path: Path) -> None:
    db = tmp_path / "care.db"
    con = sqlite3.connect(db)
    for n in (1, 2):
        for stmt in MIGRATIONS[n]:
            con.execute(stmt)
    con.execute("PRAGMA user_version = 2")
    con.execute("INSERT INTO screens (taken_at, scope, answers_json, level, blocked) VALUES (?, 'full', ?, 'clear', 0)",
                ("2099-01-01T00:00:00+00:00", json.dumps(ALL_NO)))
    con.commit()
    con.close()
    screen = tmp_path / "screen.json"
    screen.write_text(json.dumps(BLOCKING))
    assert cli("screen", "--answers", screen, "--db", db).exit_code == 0
    answers = tmp_path / "session.json"
    answers.write_text(json.dumps({"screen": SESSION_ONLY}))
    assert cli("session", "start", "--answers", answers, "--db", db).exit_code == 1
    no_session_ran(db)


def test_without_a_screen_taken_here_a_session_needs_the_whole_list(tmp_path: Path) -> None:
    db = tmp_path / "care.db"
    imported = tmp_path / "backup.json"
    imported.write_text(json.dumps(export_with_screen("2026-12-01T00:00:00+00:00")))
    assert cli("session", "import", imported, "--db", db).exit_code == 0
    answers = tmp_path / "session.json"
    answers.write_text(json.dumps({"screen": SESSION_ONLY}))
    res = cli("session", "start", "--answers", answers, "--db", db)
    assert res.exit_code == 1 and "no full safety screen in the last 7 days" in res.stderr
    no_session_ran(db)


def test_the_import_bypass_fails_on_the_web(tmp_path: Path) -> None:
    from iliopsoas.web import create_app

    db = tmp_path / "care.db"
    with CareLog(db) as log:  # a plausible-date import (a 2099 one is refused, see above)
        log.import_json(export_with_screen(soon()))
    with TestClient(create_app(db=db)) as c:
        assert c.post("/api/care/screen", json={"answers": BLOCKING}).json()["blocked"] is True
        r = c.post("/api/care/sessions", json={"screen": SESSION_ONLY, "nprs_before": 2})
        assert r.status_code == 409
        plan = r.json()["detail"]["plan"]
        assert plan["blocked"] is True and plan["steps"] == []
    no_session_ran(db)


def test_an_incomplete_full_screen_never_counts_as_the_weekly_one(tmp_path: Path) -> None:
    """A full screen with questions left open is logged (blocked, not screened); a later session that
    answers only the short checklist must not start on it, on the web or the command line."""
    from iliopsoas.web import create_app

    db = tmp_path / "care.db"
    partial = {i: False for i in item_ids("full") if i in SESSION_ONLY}
    with TestClient(create_app(db=db)) as c:
        assert c.post("/api/care/screen", json={"answers": partial}).json()["blocked"] is True
        r = c.post("/api/care/sessions", json={"screen": SESSION_ONLY, "nprs_before": 2})
        assert r.status_code == 422 and "every question" in r.json()["detail"]
    with CareLog(db) as log:
        assert log.fresh_full_screen() is None
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"screen": SESSION_ONLY}))
    res = cli("session", "start", "--answers", answers, "--db", db, "--json")
    assert res.exit_code != 0
    no_session_ran(db)
