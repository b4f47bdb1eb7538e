"""A damaged care database is detected on open, never written to, and can be rescued (issue 14).

Damage variants (``robustness_probes.DAMAGE``): corrupt pages, a file cut short, a missing table, a
missing column, unreadable JSON in a screen or a plan, and a file that is not a database; plus a
read-only and a full file system (real tmpfs mounts). Before the fixes every command answered
these with a raw sqlite traceback, ``session export`` included, and the web kept writing into the
malformed file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import robustness_probes as probes
from iliopsoas.care.damage import diagnose
from iliopsoas.care.log import SCHEMA_VERSION, CareLog, DamagedLogError, LogError
from iliopsoas.cli import app

RESCUABLE = [name for name in probes.DAMAGE if name != "not a database"]


def test_every_command_and_route_says_what_happened_in_one_line_and_writes_nothing() -> None:
    t = probes.probe_damaged()
    assert t.failures == 0, "\n".join([t.row(), *t.examples, *t.notes])
    assert t.tries >= 70  # 7 damage variants x 5 commands x (+4 web checks), 2 disks x 5 commands


@pytest.mark.parametrize("name", list(probes.DAMAGE))
def test_damage_is_found_on_open_and_named(tmp_path: Path, name: str) -> None:
    db = tmp_path / "care.db"
    probes.filled_db(db, sessions=20)
    probes.DAMAGE[name](db)
    problem = diagnose(db, SCHEMA_VERSION)
    assert problem is not None and "\n" not in problem.message
    with pytest.raises(LogError) as err:
        CareLog(db)
    if name == "not a database":
        assert "not a usable care database" in str(err.value)
    else:
        assert isinstance(err.value, DamagedLogError) and "iliopsoas data rescue" in str(err.value)


@pytest.mark.parametrize("name", RESCUABLE)
def test_rescue_copies_the_readable_records_and_keeps_the_damaged_file(tmp_path: Path, name: str) -> None:
    db = tmp_path / "care.db"
    probes.filled_db(db, sessions=60, sets_per_session=40)
    probes.DAMAGE[name](db)
    damaged = db.read_bytes()
    res = CliRunner().invoke(app, ["data", "rescue", "--db", str(db), "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    kept = Path(report["damaged_copy"])
    assert kept.read_bytes() == damaged, "the damaged file is kept as it was"
    with CareLog(db) as log:  # the rescued file opens clean, with what could be read
        assert log.integrity_ok()
        sessions, steps = log.sessions(), log.steps()
        assert len(steps) == report["copied"]["steps"]
        assert len(sessions) == report["copied"]["sessions"] + report["placeholder_sessions"]
    floor = {"corrupt pages": 2000, "truncated file": 1000}.get(name, 2400)  # of 2,400 sets
    assert report["copied"]["steps"] >= floor, report
    if name in ("bad JSON in a screen", "bad JSON in a plan", "missing table", "missing column"):
        assert report["lost"], "what was not copied is said"


def test_rescue_to_another_file_leaves_the_damaged_one_in_place(tmp_path: Path) -> None:
    db = tmp_path / "care.db"
    probes.filled_db(db, sessions=5)
    probes.DAMAGE["bad JSON in a screen"](db)
    before = db.read_bytes()
    out = tmp_path / "rescued.db"
    res = CliRunner().invoke(app, ["data", "rescue", "--db", str(db), "--to", str(out)])
    assert res.exit_code == 0, res.output
    assert db.read_bytes() == before and out.exists()
    with CareLog(out) as log:
        assert len(log.sessions()) == 5 and len(log.screens()) == 4


def test_rescue_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    db = tmp_path / "notes.db"
    db.write_text("my notes\n" * 100)
    res = CliRunner().invoke(app, ["data", "rescue", "--db", str(db)])
    assert res.exit_code == 1 and "not a SQLite database" in res.stderr and db.read_text().startswith("my notes")


def test_a_read_only_file_system_still_lets_you_read_and_export(tmp_path: Path) -> None:
    with probes.small_disk(2048) as disk:
        if disk is None:
            pytest.skip("tmpfs cannot be mounted here")
        db = disk / "care.db"
        probes.filled_db(db, sessions=3)
        assert probes.make_read_only(disk)
        with CareLog(db) as log:
            assert log.read_only and len(log.sessions()) == 3
            with pytest.raises(LogError, match="read-only; nothing was saved"):
                log.add_measure("nprs", 3.0)
        res = CliRunner().invoke(app, ["data", "export", str(tmp_path / "copy.json"), "--db", str(db)])
        assert res.exit_code == 0, res.output
        assert len(json.loads((tmp_path / "copy.json").read_text())["sessions"]) == 3
