"""The care data as one whole: every table the person fills travels through export, import and rescue,
every writer goes through the damage check, and an import is all or nothing.

The tables: sessions and their sets, screens, measurements (the log's own), scored questionnaires
(``outcomes``) and atlas quiz cards (``study_cards``). ``data export``/``data import`` are the one
implementation (JSON, CSV, FHIR); ``session export``/``session import`` are aliases of them.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

import robustness_probes as probes
from iliopsoas.care.log import CSV_REQUIRED, SCHEMA_VERSION, CareLog, DamagedLogError, LogError
from iliopsoas.care.outcome_log import add_outcome, outcomes
from iliopsoas.care.records import OutcomeRecord, RecordError, StudyCardRecord, validate
from iliopsoas.care.screening import item_ids
from iliopsoas.care.study_log import StudyLog
from iliopsoas.cli import app
from iliopsoas.commands import data

runner = CliRunner()
EVERY_NO = dict.fromkeys(item_ids("full"), False)
ODI = {"S1": 2, "S2": 1, "S3": None, "S4": 0, "S5": 3, "S6": 1, "S7": 0, "S8": 0, "S9": 1, "S10": 2}
REVIEWED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def cli(*args: object) -> object:
    return runner.invoke(app, [str(a) for a in args])


def populate(db: Path) -> None:
    """One of everything: a session with sets, a screen, a measurement, two questionnaires, two quiz cards."""
    with CareLog(db) as log:
        log.log_screen(EVERY_NO, scope="full", level="clear", blocked=False, taken_at="2026-03-01T07:00:00+00:00")
        sid = log.start_session(plan={"steps": []}, nprs_before=4, started_at="2026-03-01T07:01:00+00:00")
        log.log_step(sid, "straight-leg-raise", kind="strengthen", set_index=1, side="left", reps=15,
                     completed_at="2026-03-01T07:05:00+00:00")
        log.finish_session(sid, nprs_after=3, finished_at="2026-03-01T07:20:00+00:00")
        log.add_measure("thomas_hip_deg", 6.5, taken_at="2026-03-01T07:00:30+00:00", side="left")
    add_outcome(db, "odi", ODI, taken_at="2026-03-01T07:30:00+00:00")
    add_outcome(db, "psfs", {"stairs": 4, "running": 2, "sitting": 6}, taken_at="2026-03-02T07:30:00+00:00",
                note="week 1")
    with StudyLog(db) as quiz:
        quiz.review("iliacus-innervation", 4, now=REVIEWED)  # easy: due again in days
        quiz.review("psoas-major-origin", 1, now=REVIEWED)  # again: due within minutes


def everything(db: Path) -> dict:
    """What the person has in ``db``, in a form that does not depend on row ids or export time."""
    with CareLog(db) as log:
        doc = log.export_json()
    doc.pop("exported_at")
    doc["sessions"] = [{k: v for k, v in s.items() if k != "id"} for s in doc["sessions"]]
    return doc


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "care.sqlite3"
    populate(path)
    return path


# ----------------------------------------------------------------------------------- export / import
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_data_export_then_import_carries_every_table(db: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"copy.{fmt}"
    res = cli("data", "export", out, "--db", db, "--json")
    assert res.exit_code == 0, res.output
    if fmt == "json":
        doc = json.loads(out.read_text())
        assert [o["measure"] for o in doc["outcomes"]] == ["odi", "psfs"]
        assert {c["statement_id"] for c in doc["study_cards"]} == {"iliacus-innervation", "psoas-major-origin"}
        assert json.loads(res.stdout)["records"] == 1 + 1 + 1 + 1 + 2 + 2  # session, set, screen, measure, 2+2
    other = tmp_path / "other.sqlite3"
    res = cli("data", "import", out, "--db", other, "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["added"] == {"sessions": 1, "steps": 1, "screens": 1, "measures": 1,
                                              "outcomes": 2, "study_cards": 2}
    assert json.loads(res.stdout)["format"] == fmt
    got, want = everything(other), everything(db)
    if fmt == "csv":  # CSV is flat: the stored copy of the program is not in it
        for s in want["sessions"]:
            s["plan"] = None
    assert got == want
    assert [o["result"]["score"] for o in outcomes(other)] == [o["result"]["score"] for o in outcomes(db)]
    with StudyLog(other) as quiz:  # the quiz carries on where it was
        assert quiz.due(["psoas-major-origin", "iliacus-innervation", "new"], now=REVIEWED + timedelta(hours=1)) \
            == ["psoas-major-origin", "new"]
    res = cli("data", "import", out, "--db", other, "--json")  # twice: nothing more
    assert set(json.loads(res.stdout)["added"].values()) == {0}


def test_data_export_writes_fhir_and_data_import_reads_it_back(db: Path, tmp_path: Path) -> None:
    from fhir.resources.R4B.bundle import Bundle

    out = tmp_path / "bundle.json"
    res = cli("data", "export", "--format", "fhir", out, "--db", db, "--json")
    assert res.exit_code == 0, res.output
    bundle = json.loads(out.read_text())
    Bundle.model_validate(bundle)
    assert json.loads(res.stdout) == {"file": str(out), "format": "fhir", "records": len(bundle["entry"])}
    other = tmp_path / "other.sqlite3"
    res = cli("data", "import", out, "--db", other, "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["format"] == "fhir"
    assert json.loads(res.stdout)["added"] == {"sessions": 1, "steps": 1, "screens": 1, "measures": 1,
                                              "outcomes": 2, "study_cards": 0}  # quiz cards stay out of FHIR
    got, want = everything(other), everything(db)
    want["study_cards"] = []
    assert got == want


def test_session_export_and_import_are_aliases_of_the_data_commands(db: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    for fmt in ("json", "csv", "fhir"):
        a, b = tmp_path / f"a-{fmt}.{fmt}", tmp_path / f"b-{fmt}.{fmt}"
        ra = cli("session", "export", a, "--format", fmt, "--db", db, "--json")
        rb = cli("data", "export", b, "--format", fmt, "--db", db, "--json")
        assert ra.exit_code == rb.exit_code == 0, (ra.output, rb.output)
        assert json.loads(ra.stdout)["records"] == json.loads(rb.stdout)["records"]
        ri = cli("session", "import", a, "--db", tmp_path / f"s-{fmt}.db", "--json")
        rj = cli("data", "import", b, "--db", tmp_path / f"d-{fmt}.db", "--json")
        assert json.loads(ri.stdout)["added"] == json.loads(rj.stdout)["added"]
        assert everything(tmp_path / f"s-{fmt}.db") == everything(tmp_path / f"d-{fmt}.db")
    # the alias writes through the same atomic writer: a failure midway leaves the old file whole
    old = tmp_path / "keep.json"
    old.write_text("the previous export")

    def half_then_full_disk(log: object, path: Path) -> int:
        path.write_text('{"format": "iliopsoas-care-log", "sessi')
        raise OSError(28, "No space left on device")

    monkeypatch.setitem(data.EXPORTERS, "json", half_then_full_disk)
    res = cli("session", "export", old, "--db", db)
    assert res.exit_code == 1 and "nothing was written" in res.stderr
    assert old.read_text() == "the previous export"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_an_export_written_before_questionnaires_travelled_still_imports(db: Path, tmp_path: Path) -> None:
    with CareLog(db) as log:
        doc = log.export_json()
    old_json = tmp_path / "old.json"
    old_json.write_text(json.dumps({k: v for k, v in doc.items() if k not in ("outcomes", "study_cards")}))
    assert cli("data", "import", old_json, "--db", tmp_path / "a.db").exit_code == 0
    new_csv = tmp_path / "new.csv"
    assert cli("data", "export", new_csv, "--db", db).exit_code == 0
    with open(new_csv, newline="") as fh:  # a CSV with the columns of the first version only
        rows = [r for r in csv.DictReader(fh) if r["record"] in ("step", "session", "screen", "measure")]
    old_csv = tmp_path / "old.csv"
    with open(old_csv, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_REQUIRED, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    res = cli("data", "import", old_csv, "--db", tmp_path / "b.db", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["added"]["steps"] == 1


# ----------------------------------------------------------------------------------- all or nothing
def test_a_questionnaire_the_log_would_refuse_rejects_the_whole_file(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "bundle.json"
    assert cli("data", "export", out, "--format", "fhir", "--db", db).exit_code == 0
    bundle = json.loads(out.read_text())
    for e in bundle["entry"]:
        r = e["resource"]
        if r["resourceType"] == "QuestionnaireResponse" and r["questionnaire"].endswith(":odi"):
            r["authored"] = "2099-01-01T00:00:00+00:00"  # a questionnaire "from the future"
    out.write_text(json.dumps(bundle))
    fresh = tmp_path / "fresh.db"
    res = cli("data", "import", out, "--db", fresh)
    assert res.exit_code == 1 and "outcomes[" in res.stderr and "taken_at" in res.stderr
    assert "nothing was imported" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    with CareLog(fresh) as log:
        assert log.sessions() == [] and log.measures() == [] and log.screens() == []
    assert outcomes(fresh) == []
    doc = everything(db)  # the project's JSON: answers out of range are refused the same way
    doc["outcomes"][0]["answers"]["S1"] = 9
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    res = cli("data", "import", bad, "--db", fresh)
    assert res.exit_code == 1 and "outcomes[0]" in res.stderr and "S1" in res.stderr
    assert outcomes(fresh) == []


def test_a_failure_while_writing_an_import_rolls_back_every_table(db: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from iliopsoas.care import transfer

    out = tmp_path / "bundle.json"
    assert cli("data", "export", out, "--format", "fhir", "--db", db).exit_code == 0
    original, calls = transfer.insert_outcome, []

    def disk_full_at_the_second(con: sqlite3.Connection, rec: object) -> int:
        calls.append(rec)
        if len(calls) == 2:
            raise sqlite3.OperationalError("database or disk is full")
        return original(con, rec)  # type: ignore[arg-type]

    monkeypatch.setattr(transfer, "insert_outcome", disk_full_at_the_second)
    fresh = tmp_path / "fresh.db"
    res = cli("data", "import", out, "--db", fresh)
    assert res.exit_code == 1 and "nothing was saved" in res.stderr, res.output
    monkeypatch.undo()
    with CareLog(fresh) as log:
        assert log.sessions() == [] and log.steps() == [] and log.screens() == [] and log.measures() == []
    assert outcomes(fresh) == []


def test_the_outcome_record_is_scored_by_the_published_rules_and_the_given_score_is_ignored() -> None:
    rec = validate(OutcomeRecord, {"taken_at": "2026-03-01T07:30:00+00:00", "measure": "odi", "answers": ODI,
                                   "score": 99.0})
    assert rec.score == 22.22  # 10 of 45 (one section unanswered), as the ODI form scores it
    assert rec.answers["S1"] == 2 and isinstance(rec.answers["S1"], int)  # kept as given
    with pytest.raises(RecordError, match=r"outcome: answers: odi item S1: expected a whole number"):
        validate(OutcomeRecord, {"taken_at": "2026-03-01T07:30:00+00:00", "measure": "odi",
                                 "answers": {**ODI, "S1": 2.5}}, where="outcome")
    with pytest.raises(RecordError, match=r"outcome.measure"):
        validate(OutcomeRecord, {"taken_at": "2026-03-01T07:30:00+00:00", "measure": "sf36", "answers": {}},
                 where="outcome")
    with pytest.raises(RecordError, match=r"card.*state"):
        validate(StudyCardRecord, {"statement_id": "x", "card": {"card_id": 1, "state": 9, "due": "2026-03-01"},
                                   "reviews": 1, "updated_at": "2026-03-01T07:30:00+00:00"})


# ----------------------------------------------------------------------------------- rescue
def test_rescue_copies_questionnaires_and_quiz_cards(db: Path) -> None:
    probes._sql("UPDATE screens SET answers_json = '{not json'")(db)  # damage elsewhere: the rest is readable
    with pytest.raises(DamagedLogError):
        CareLog(db)
    res = cli("data", "rescue", "--db", db, "--json")
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["copied"]["outcomes"] == 2 and report["copied"]["study_cards"] == 2
    assert [o["measure"] for o in outcomes(db)] == ["odi", "psfs"]
    with StudyLog(db) as quiz:
        assert quiz.stats(["iliacus-innervation", "psoas-major-origin"])["studied"] == 2


def test_rescue_says_which_questionnaire_it_could_not_read(db: Path) -> None:
    con = sqlite3.connect(db)
    con.execute("UPDATE outcomes SET answers_json = '{broken' WHERE measure = 'psfs'")
    con.commit()
    con.close()
    with pytest.raises(DamagedLogError, match="outcomes row"):
        CareLog(db)  # found on open, like a bad screen
    res = cli("data", "rescue", "--db", db, "--json")
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["copied"]["outcomes"] == 1 and any("outcomes row" in why for why in report["lost"])


# ----------------------------------------------------------------------------------- never write a damaged file
def test_the_quiz_never_writes_into_a_damaged_database(db: Path) -> None:
    probes.DAMAGE["missing table"](db)
    before = probes._digest(db)
    with pytest.raises(DamagedLogError, match="iliopsoas data rescue"):
        with StudyLog(db) as quiz:
            quiz.review("iliacus-innervation", 3)
    with pytest.raises(DamagedLogError):
        add_outcome(db, "odi", ODI)
    assert probes._digest(db) == before


def test_web_refuses_questionnaires_and_reviews_on_a_damaged_database(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from iliopsoas.web import create_app

    db = tmp_path / "care.sqlite3"
    populate(db)
    with TestClient(create_app(db=db), raise_server_exceptions=False) as client:
        card = client.get("/api/atlas/quiz?entity=iliacus").json()["card"]["statement_id"]
        r = client.post("/api/care/outcomes/odi", json={"answers": ODI, "log": True})
        assert r.status_code == 200 and r.json()["logged_id"]
        r = client.post("/api/atlas/quiz/review", json={"statement_id": card, "rating": 3, "entity": "iliacus"})
        assert r.status_code == 200
        with sqlite3.connect(db) as con:  # both committed before the replies came back
            assert con.execute("SELECT COUNT(*) FROM outcomes").fetchone() == (3,)
            assert con.execute("SELECT reviews FROM study_cards WHERE statement_id = ?", (card,)).fetchone() == (1,)
        probes.DAMAGE["missing table"](db)
        before = probes._digest(db)
        for method, path, body in (
            ("POST", "/api/care/outcomes/odi", {"answers": ODI, "log": True}),
            ("POST", "/api/atlas/quiz/review", {"statement_id": card, "rating": 4, "entity": "iliacus"}),
            ("GET", "/api/atlas/quiz?entity=iliacus", None),
            ("GET", "/api/care/outcomes", None),
            ("GET", "/api/care/progress", None),
        ):
            r = client.request(method, path, json=body)
            detail = r.json()["detail"]
            assert r.status_code == 503, (path, r.status_code, r.text)
            assert "\n" not in detail and "iliopsoas data rescue" in detail, (path, detail)
        assert probes._digest(db) == before


# ----------------------------------------------------------------------------------- schema
def test_a_file_where_the_quiz_came_first_is_a_care_database_with_its_cards(tmp_path: Path) -> None:
    db = tmp_path / "care.sqlite3"
    con = sqlite3.connect(db)  # what the quiz of schema 4 made in a new file: its table, no version
    con.execute("CREATE TABLE study_cards (statement_id TEXT PRIMARY KEY, card_json TEXT NOT NULL, due TEXT NOT NULL, "
                "reviews INTEGER NOT NULL DEFAULT 0, last_rating INTEGER, updated_at TEXT NOT NULL)")
    card = {"card_id": 1, "state": 1, "step": 1, "stability": 2.3, "difficulty": 2.1,
            "due": "2026-03-01T09:10:00+00:00", "last_review": "2026-03-01T09:00:00+00:00"}
    con.execute("INSERT INTO study_cards VALUES ('iliacus-innervation', ?, ?, 1, 3, '2026-03-01T09:00:00+00:00')",
                (json.dumps(card), card["due"]))
    con.commit()
    con.close()
    with CareLog(db) as log:
        assert log.version == SCHEMA_VERSION
        assert [c["statement_id"] for c in log.export_json()["study_cards"]] == ["iliacus-innervation"]


def test_a_version_4_file_keeps_its_quiz_cards_when_upgraded(tmp_path: Path) -> None:
    from iliopsoas.care.log import MIGRATIONS

    db = tmp_path / "care.sqlite3"
    con = sqlite3.connect(db)
    for n in range(1, 5):
        for stmt in MIGRATIONS[n]:
            con.execute(stmt)
    con.execute("PRAGMA user_version = 4")
    con.execute(MIGRATIONS[5][0])  # the quiz of schema 4 made its table itself
    con.execute("INSERT INTO study_cards VALUES ('a', '{}', '2026-01-01', 2, 4, '2026-01-01T00:00:00+00:00')")
    con.commit()
    con.close()
    with CareLog(db) as log:
        assert log.migrated_from == 4 and log.version == SCHEMA_VERSION
        assert log.query("SELECT reviews FROM study_cards")[0][0] == 2
    assert (tmp_path / "care.sqlite3.v4.bak").exists()


def test_a_read_only_log_refuses_a_questionnaire_in_one_line(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from iliopsoas.care import damage

    monkeypatch.setattr(damage, "is_read_only", lambda path: True)
    with pytest.raises(LogError, match="nothing was saved") as err:
        add_outcome(db, "odi", ODI)
    assert "\n" not in str(err.value)
    with pytest.raises(LogError, match="nothing was saved"):
        with StudyLog(db) as quiz:
            quiz.review("iliacus-innervation", 3)
    assert len(outcomes(db)) == 2  # reading still works


# ----------------------------------------------------------------------------------- delete and docs
def test_data_delete_removes_questionnaires_and_quiz_cards_with_the_log(db: Path) -> None:
    res = cli("data", "delete", "--db", db, "--yes", "--json")
    assert res.exit_code == 0, res.output
    assert not db.exists() and not Path(f"{db}-wal").exists()
    assert outcomes(db) == []  # a new, empty log
    with StudyLog(db) as quiz:
        assert quiz.stats(["iliacus-innervation"])["studied"] == 0


def test_readme_names_everything_the_care_database_holds() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Your health data", 1)[1].split("\n## ", 1)[0]
    for words in ("questionnaire", "quiz", "data import", "--format fhir"):
        assert words in section, words
