"""``iliopsoas data``: where the health data lives, an export that is whole or absent, deletion that asks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iliopsoas.care.log import CareLog
from iliopsoas.cli import app
from iliopsoas.commands import data

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "care.sqlite3"
    with CareLog(path) as log:
        sid = log.start_session(nprs_before=4, started_at="2026-11-01T07:00:00+00:00")
        log.log_step(sid, "straight-leg-raise", kind="strengthen", set_index=1, reps=15)
        log.finish_session(sid, nprs_after=3)
        log.add_measure("thomas_hip_deg", 5.0)
    (tmp_path / "care.sqlite3.v2.bak").write_bytes(b"older copy")
    (tmp_path / "care.sqlite3.damaged-20261101T000000Z").write_bytes(b"damaged copy")
    (tmp_path / "unrelated.sqlite3").write_bytes(b"not ours")
    return path


def test_path_names_the_database_and_every_copy_beside_it(db: Path) -> None:
    res = runner.invoke(app, ["data", "path", "--db", str(db), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    names = {Path(f["path"]).name for f in out["files"]}
    assert out["database"] == str(db) and out["chosen_by"] == "--db" and out["exists"] is True
    assert {"care.sqlite3", "care.sqlite3.v2.bak", "care.sqlite3.damaged-20261101T000000Z"} <= names
    assert "unrelated.sqlite3" not in names


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_export_writes_the_whole_log(db: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"copy.{fmt}"
    res = runner.invoke(app, ["data", "export", str(out), "--db", str(db), "--json"])
    assert res.exit_code == 0, res.output
    if fmt == "json":
        doc = json.loads(out.read_text())
        assert doc["format"] == "iliopsoas-care-log" and len(doc["sessions"]) == 1 and len(doc["measures"]) == 1
    else:
        assert out.read_text().count("\n") == 3  # header, the set, the measurement


def test_a_failed_export_leaves_the_old_file_and_no_part_file(db: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "copy.json"
    out.write_text("the previous export")

    def half_then_full_disk(log, path: Path) -> int:
        path.write_text('{"format": "iliopsoas-care-log", "sessi')
        raise OSError(28, "No space left on device")

    monkeypatch.setitem(data.EXPORTERS, "json", half_then_full_disk)
    res = runner.invoke(app, ["data", "export", str(out), "--db", str(db)])
    assert res.exit_code == 1 and "No space left on device (nothing was written)" in res.stderr
    assert out.read_text() == "the previous export"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_delete_asks_and_refuses_without_a_terminal(db: Path) -> None:
    res = runner.invoke(app, ["data", "delete", "--db", str(db)])
    assert res.exit_code == 2 and "add --yes" in res.stderr and db.exists()


def test_delete_yes_removes_the_database_and_its_copies_only(db: Path) -> None:
    res = runner.invoke(app, ["data", "delete", "--db", str(db), "--yes", "--json"])
    assert res.exit_code == 0, res.output
    assert len(json.loads(res.stdout)["deleted"]) >= 3
    assert sorted(p.name for p in db.parent.iterdir()) == ["unrelated.sqlite3"]
    res = runner.invoke(app, ["data", "delete", "--db", str(db), "--yes"])
    assert res.exit_code == 1 and "nothing to delete" in res.stderr


def test_export_of_a_database_that_does_not_exist_creates_nothing(tmp_path: Path) -> None:
    res = runner.invoke(app, ["data", "export", str(tmp_path / "x.json"), "--db", str(tmp_path / "none.db")])
    assert res.exit_code == 1 and "nothing to export" in res.stderr
    assert list(tmp_path.iterdir()) == []
