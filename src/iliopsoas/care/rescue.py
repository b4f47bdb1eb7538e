"""Copy every readable record of a damaged care database into a fresh one; the damaged file is kept.

:func:`rescue` never opens the damaged file for writing: it copies the file (and its ``-wal``
journal) into a temporary folder and reads the copy. Each table is read row by row in ``rowid``
order; where a page is corrupt the reader skips ahead (doubling the jump, then narrowing back down
to the first readable row), so rows beyond a bad page are still found. Every row is checked with
the care log's record models (:mod:`iliopsoas.care.records`), the same as an import; every table
of the person's records is copied (:data:`TABLES`: sessions, sets, screens, measurements, scored
questionnaires and quiz cards). A row that cannot be read or fails
them is listed in the report, never silently dropped. A set whose session record was lost gets a
placeholder session (status ``incomplete``, noted as rescued) so that it is kept.

The new database is written next to the old one and then swapped in: the damaged file is renamed
``<name>.damaged-<time>`` (with its journal files), so nothing is deleted.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from iliopsoas.care.records import (
    MeasureRecord,
    OutcomeRecord,
    RecordError,
    ScreenRecord,
    SessionRecord,
    StepRecord,
    StudyCardRecord,
    validate,
)
from iliopsoas.care.schema import (
    USER_TABLES,
    insert_measure,
    insert_outcome,
    insert_session,
    insert_step,
    put_card,
)

#: every table of the person's own records (sessions, sets, screens, measurements, questionnaires,
#: quiz cards); the request keys of web writes are not worth rescuing
TABLES = USER_TABLES
MAX_SKIP = 1 << 40


@dataclass
class RescueReport:
    """What was copied, what was lost and where everything is now."""

    source: Path
    destination: Path
    damaged_copy: Path | None
    copied: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    lost: list[str] = field(default_factory=list)  # "<table> row <id>: why", or a table that was unreadable
    placeholders: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "source": str(self.source),
            "destination": str(self.destination),
            "damaged_copy": str(self.damaged_copy) if self.damaged_copy else None,
            "copied": dict(self.copied),
            "lost": list(self.lost),
            "placeholder_sessions": self.placeholders,
        }


def journal_files(path: Path) -> list[Path]:
    """The SQLite side files of ``path`` that exist (write-ahead log, shared memory, rollback journal)."""
    return [p for p in (Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")) if p.exists()]


def rescue(path: Path, destination: Path | None = None) -> RescueReport:
    """Copy the readable records of the care database at ``path`` into a fresh database.

    ``destination`` None: the fresh database takes ``path``'s place and the damaged file is renamed
    ``<name>.damaged-<UTC time>``. Otherwise the fresh database is written to ``destination`` (which
    must not exist) and ``path`` is left where it is.
    """
    from iliopsoas.care.damage import SQLITE_HEADER
    from iliopsoas.care.log import CareLog, LogError

    if not path.is_file():
        raise LogError(f"rescue: {path} is not a file; expected the damaged care database")
    with open(path, "rb") as fh:
        if not fh.read(len(SQLITE_HEADER)).startswith(b"SQLite"):
            raise LogError(f"rescue: {path} is not a SQLite database at all (no SQLite header); there is nothing "
                           "to rescue and the file is untouched")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = destination if destination is not None else path.with_name(f"{path.name}.rescued-{stamp}")
    if target.exists():
        raise LogError(f"rescue: {target} exists already; expected a new file name")
    rows, lost = _read_copy(path)
    if not any(rows.values()):
        raise LogError(f"rescue: no record of {path} could be read ({'; '.join(lost[:2]) or 'it is empty'}); "
                       "the file is untouched")
    report = RescueReport(source=path, destination=destination or path, damaged_copy=None, lost=lost)
    try:
        with CareLog(target) as fresh, fresh._transaction() as con:
            _write(con, rows, report)
    except BaseException:
        for p in (target, *journal_files(target)):
            p.unlink(missing_ok=True)
        raise
    if destination is None:
        kept = path.with_name(f"{path.name}.damaged-{stamp}")
        for side in journal_files(path):
            side.rename(Path(str(kept) + side.name[len(path.name):]))
        path.rename(kept)
        target.rename(path)
        for side in journal_files(target):
            side.rename(Path(str(path) + side.name[len(target.name):]))
        report.damaged_copy = kept
    return report


# ------------------------------------------------------------------------------------------- reading
def _read_copy(path: Path) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """Every readable row of every table, read from a private copy of the file and its journal."""
    from iliopsoas.care.damage import expected_columns

    rows: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLES}
    lost: list[str] = []
    with tempfile.TemporaryDirectory(prefix="iliopsoas-rescue-") as tmp:
        copy = Path(tmp) / "damaged.sqlite3"
        shutil.copyfile(path, copy)
        _pad(copy)
        wal = Path(f"{path}-wal")
        if wal.exists():
            shutil.copyfile(wal, Path(f"{copy}-wal"))
        try:
            con = sqlite3.connect(copy)
        except sqlite3.Error as exc:
            return rows, [f"the file cannot be opened as a database ({exc})"]
        con.row_factory = sqlite3.Row
        reader = _Reader(con)
        expected = expected_columns(_version(reader))
        try:
            for table in TABLES:
                try:
                    columns = [r[1] for r in reader.rows(f"PRAGMA table_info({table})")]
                except sqlite3.DatabaseError as exc:
                    lost.append(f"{table}: the table cannot be read ({exc})")
                    continue
                if not columns:
                    if table in expected:  # a table of a later schema version is simply not there yet
                        lost.append(f"{table}: the table is missing")
                    continue
                gone = [c for c in expected.get(table, ()) if c not in columns]
                if gone:
                    lost.append(f"{table}: column(s) {', '.join(gone)} missing; their defaults were used")
                found, bad = _scan(reader, table)
                rows[table] = found
                lost.extend(f"{table}: {why}" for why in bad)
        finally:
            con.close()
    return rows, lost


def _version(reader: _Reader) -> int:
    """The schema version the damaged file states (this program's own when that cannot be read)."""
    from iliopsoas.care.log import SCHEMA_VERSION

    try:
        version = int(reader.rows("PRAGMA user_version")[0][0])
    except (sqlite3.DatabaseError, IndexError, ValueError):
        return SCHEMA_VERSION
    return version if 1 <= version <= SCHEMA_VERSION else SCHEMA_VERSION


class _Reader:
    """Reads the copy one statement at a time, each interrupted after about ``steps`` virtual-machine
    steps: corrupt pages can send SQLite round a cycle, and a rescue must end (an interrupted read
    counts as unreadable)."""

    def __init__(self, con: sqlite3.Connection, steps: int = 50_000_000) -> None:
        self.con, self.steps, self.used = con, steps, 0
        con.set_progress_handler(self._tick, 1000)

    def _tick(self) -> int:
        self.used += 1000
        return 1 if self.used > self.steps else 0

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        self.used = 0
        return self.con.execute(sql, params).fetchall()


def _pad(copy: Path) -> None:
    """A file cut short: zero pages up to the length its header states, so the pages left are readable."""
    with open(copy, "rb") as fh:
        header = fh.read(100)
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
        return
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    want = page_size * pages
    if 0 < want <= 2**34 and copy.stat().st_size < want:
        with open(copy, "ab") as fh:
            fh.truncate(want)


def _scan(con: _Reader, table: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows of ``table`` in rowid order, stepping over unreadable pages; and what could not be read."""
    found: list[dict[str, Any]] = []
    bad: list[str] = []
    last = -(1 << 62)
    sql = f"SELECT rowid AS _rowid, * FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?"
    while True:
        try:  # a batch at a time while the pages read; one row at a time near a bad page
            batch = con.rows(sql, (last, 200))
        except sqlite3.DatabaseError:
            try:
                batch = con.rows(sql, (last, 1))
            except sqlite3.DatabaseError:
                skipped_to = _next_readable(con, table, last)
                start = max(last + 1, 1)
                if skipped_to is None:
                    bad.append(f"rows from id {start} on are unreadable (corrupt pages)")
                    return found, bad
                bad.append(f"rows with ids {start} to {skipped_to} are unreadable (corrupt pages)")
                last = skipped_to
                continue
        ahead = [r for r in batch if int(r["_rowid"]) > last]  # a corrupt tree can hand back rows out of order
        if not batch:
            return found, bad
        if not ahead:
            skipped_to = _next_readable(con, table, last + 1)
            bad.append(f"rows after id {last} are out of order (corrupt pages); skipped to {skipped_to}")
            if skipped_to is None:
                return found, bad
            last = skipped_to
            continue
        found.extend(dict(r) for r in ahead)
        last = max(int(r["_rowid"]) for r in ahead)


def _readable(con: _Reader, table: str, after: int) -> bool | None:
    """True if the rows after ``after`` can be read, False if not, None if there are none."""
    try:  # the whole row: a corrupt leaf can still yield its keys
        found = con.rows(f"SELECT rowid, * FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT 1", (after,))
    except sqlite3.DatabaseError:
        return False
    return True if found else None


def _next_readable(con: _Reader, table: str, last: int) -> int | None:
    """The smallest id ``k > last`` after which reading works again (None: nothing readable after ``last``):
    jumps double until a read succeeds, then a bisection narrows the gap back down."""
    jump = 1
    while jump < MAX_SKIP:
        state = _readable(con, table, last + jump)
        if state is None:
            return None
        if state:
            lo, hi = last + jump // 2, last + jump  # reading after lo fails (lo = last when jump is 1)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _readable(con, table, mid):
                    hi = mid
                else:
                    lo = mid
            return hi
        jump *= 2
    return None


# ------------------------------------------------------------------------------------------- writing
def _write(con: sqlite3.Connection, rows: dict[str, list[dict[str, Any]]], report: RescueReport) -> None:

    session_ids: dict[int, int] = {}
    for r in rows["sessions"]:
        plan, note = _plan(r, report)
        rec = _valid(SessionRecord, {
            "started_at": r.get("started_at"), "finished_at": r.get("finished_at"),
            "status": r.get("status") or "completed", "nprs_before": r.get("nprs_before"),
            "nprs_after": r.get("nprs_after"), "note": note, "plan": plan,
        }, "sessions", r, report)
        if rec is not None:
            session_ids[int(r["id"])] = insert_session(con, rec)
            report.copied["sessions"] += 1
    for r in rows["steps"]:
        rec = _valid(StepRecord, {k: r.get(k) for k in ("step_id", "kind", "set_index", "side", "reps", "hold_s",
                                                          "completed_at")} | {"status": r.get("status") or "done"},
                     "steps", r, report)
        if rec is None:
            continue
        sid = session_ids.get(int(r.get("session_id") or 0))
        if sid is None:  # its session record was lost: keep the set under a placeholder session
            sid = insert_session(con, validate(SessionRecord, {
                "started_at": rec.completed_at, "status": "incomplete",
                "note": f"rescued: session {r.get('session_id')} was unreadable; its sets are kept here"}))
            session_ids[int(r.get("session_id") or 0)] = sid
            report.placeholders += 1
        insert_step(con, sid, rec)
        report.copied["steps"] += 1
    for r in rows["screens"]:
        try:
            answers = json.loads(r.get("answers_json") or "")
        except (TypeError, ValueError):
            report.lost.append(f"screens row {r.get('id')}: its answers are unreadable")
            continue
        rec = _valid(ScreenRecord, {"taken_at": r.get("taken_at"), "scope": r.get("scope"), "level": r.get("level"),
                                    "blocked": bool(r.get("blocked")), "answers": answers}, "screens", r, report)
        if rec is not None:
            con.execute(
                "INSERT INTO screens (taken_at, scope, answers_json, level, blocked, recorded_at, origin) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (rec.taken_at, rec.scope, json.dumps(rec.answers, sort_keys=True), rec.level, int(rec.blocked),
                 r.get("recorded_at") or (rec.taken_at if r.get("origin", "local") == "local" else None),
                 r.get("origin") or "local"),
            )
            report.copied["screens"] += 1
    for r in rows["measures"]:
        mrec = _valid(MeasureRecord, {k: r.get(k) for k in ("taken_at", "kind", "value", "side", "note")},
                      "measures", r, report)
        if mrec is not None:
            insert_measure(con, mrec)
            report.copied["measures"] += 1
    for r in rows["outcomes"]:
        answers = _json_column(r, "answers_json", "outcomes", "its answers", report)
        orec = None if answers is None else _valid(OutcomeRecord, {
            "taken_at": r.get("taken_at"), "measure": r.get("measure"), "answers": answers, "note": r.get("note")},
            "outcomes", r, report)
        if orec is not None:
            insert_outcome(con, orec)
            report.copied["outcomes"] += 1
    for r in rows["study_cards"]:
        card = _json_column(r, "card_json", "study_cards", "its card", report, key="statement_id")
        crec = None if card is None else _valid(StudyCardRecord, {
            "statement_id": r.get("statement_id"), "card": card, "reviews": r.get("reviews"),
            "last_rating": r.get("last_rating"), "updated_at": r.get("updated_at")}, "study_cards", r, report,
            key="statement_id")
        if crec is not None:
            put_card(con, crec)
            report.copied["study_cards"] += 1


def _json_column(r: dict[str, Any], column: str, table: str, what: str, report: RescueReport,
                 key: str = "id") -> Any:
    try:
        return json.loads(r.get(column) or "")
    except (TypeError, ValueError, RecursionError):
        report.lost.append(f"{table} row {r.get(key)}: {what} is unreadable")
        return None


def _plan(r: dict[str, Any], report: RescueReport) -> tuple[Any, Any]:
    """The stored plan (a copy of the program; the sets are the record) and the session note."""
    if not r.get("plan_json"):
        return None, r.get("note")
    try:
        plan = json.loads(r["plan_json"])
        if isinstance(plan, dict):
            return plan, r.get("note")
    except (TypeError, ValueError):
        pass
    report.lost.append(f"sessions row {r.get('id')}: its stored plan is unreadable (the session and sets are kept)")
    return None, ((r.get("note") or "") + " [rescued: the stored plan was unreadable]").strip()


def _valid(model: Any, data: dict[str, Any], table: str, r: dict[str, Any], report: RescueReport,
           key: str = "id") -> Any:
    try:
        return validate(model, data, where=f"{table} row {r.get(key)}")
    except RecordError as exc:
        report.lost.append(str(exc))
        return None


def walk(report: RescueReport) -> Iterator[str]:
    """The report as lines for people."""
    c = report.copied
    yield (f"Copied {c['sessions']} sessions, {c['steps']} sets, {c['screens']} screens, {c['measures']} "
           f"measurements, {c['outcomes']} questionnaires and {c['study_cards']} quiz cards into "
           f"{report.destination}.")
    if report.placeholders:
        yield f"{report.placeholders} placeholder session(s) hold sets whose session record was lost."
    if report.damaged_copy:
        yield f"The damaged file is kept as {report.damaged_copy}."
    for why in report.lost:
        yield f"not copied: {why}"
