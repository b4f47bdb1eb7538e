"""The durable care log: a local SQLite database of screens, sessions, steps and measurements.

* Location: ``--db PATH`` > ``ILIOPSOAS_DB`` > ``<platformdirs user data dir>/iliopsoas/care.sqlite3``.
* Durability: WAL journal, ``synchronous=FULL``, autocommit: every completed step is its own
  committed transaction the moment it is logged, so a session killed with ``kill -9`` keeps
  everything already done. A write that fails (full disk, read-only file) raises
  :class:`LogError` with one line saying so; nothing is half-written.
* Validation: every record is checked with the models of :mod:`iliopsoas.care.records` (the same
  field types the web API uses) before it is written; a bad one raises
  :class:`~iliopsoas.care.records.RecordError` (a ``ValueError``) naming the field.
* Damage: the file is checked on open (:mod:`iliopsoas.care.damage`: SQLite header, corrupt pages,
  missing tables or columns, unreadable JSON); a damaged file raises :class:`DamagedLogError`
  and is never written to (``iliopsoas data rescue`` copies its readable rows into a fresh
  file). A read-only file opens read-only: reads work, writes raise :class:`LogError`.
* The safety gate: screens carry the time they were *recorded on this machine* and their origin
  (``local`` or ``import``). :meth:`CareLog.latest_screen` and :meth:`CareLog.fresh_full_screen`
  only consider screens taken here, newest by recording time, so a screen imported from a file
  (whatever date it claims) can never stand in for the person's latest answers.
* Schema (:mod:`iliopsoas.care.schema`: tables, migrations, row writers): versioned with
  ``PRAGMA user_version`` and applied by ordered migrations; a database
  from an older version is copied to ``<name>.v<N>.bak`` and then migrated in one transaction, so
  nothing is ever lost. A database from a *newer* version is refused, untouched.
* Tables beside the log's own: scored questionnaires (``outcomes``, :mod:`iliopsoas.care.outcome_log`)
  and atlas quiz cards (``study_cards``, :mod:`iliopsoas.care.study_log`). Those modules read and write
  only through an open :class:`CareLog` (:meth:`CareLog.query`, :meth:`CareLog.transaction`), so the
  damage check, the read-only check and the one-line errors hold for them too.
* Export / import: JSON (everything, nested), CSV (one flat table with a ``record`` column) and a FHIR
  R4 Bundle; see :mod:`iliopsoas.care.transfer`. Every table in :data:`USER_TABLES` travels. An
  import is validated whole before anything is written and then written in one transaction.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from iliopsoas.care.records import (
    FUTURE_TOLERANCE,
    MEASURE_KINDS,
    SESSION_STATUSES,
    STEP_STATUSES,
    MeasureRecord,
    RecordError,
    ScreenRecord,
    SessionRecord,
    StepRecord,
    now_iso,
    parse_time,
    validate,
)
from iliopsoas.care.schema import (
    CSV_COLUMNS,
    CSV_REQUIRED,
    MIGRATION_HOOKS,
    MIGRATIONS,
    SCHEMA_VERSION,
    USER_TABLES,
    insert_measure,
    insert_screen,
    insert_session,
    insert_step,
)

__all__ = [
    "CSV_COLUMNS",
    "CSV_REQUIRED",
    "FULL_SCREEN_MAX_AGE",
    "MEASURE_KINDS",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "SESSION_STATUSES",
    "STEP_STATUSES",
    "USER_TABLES",
    "CareLog",
    "DamagedLogError",
    "LogError",
    "RecordError",
    "default_db_path",
    "now_iso",
    "schema_version",
]

FULL_SCREEN_MAX_AGE = timedelta(days=7)  # the full red-flag list is re-asked weekly (clinical.md §2.3)

class LogError(RuntimeError):
    """The database cannot be opened, migrated or written (the message says which and why)."""


class DamagedLogError(LogError):
    """The database file is damaged; it is left untouched and ``iliopsoas data rescue`` can copy it out."""


def default_db_path(explicit: str | Path | None = None) -> Path:
    """``explicit`` if given, else ``$ILIOPSOAS_DB``, else the platform user data directory."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("ILIOPSOAS_DB")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_path

    return user_data_path("iliopsoas", appauthor=False) / "care.sqlite3"


def schema_version(path: str | Path) -> int:
    """The ``user_version`` of the database at ``path`` (0 for a new, empty file)."""
    con = sqlite3.connect(str(path))
    try:
        return int(con.execute("PRAGMA user_version").fetchone()[0])
    finally:
        con.close()


def write_failure(path: Path, exc: BaseException) -> str:
    """One line saying why a write to the care database at ``path`` failed (nothing was saved)."""
    return f"cannot save to the care database {path}: {write_reason(exc, path)}; nothing was saved"


def _disk_full(path: Path | None) -> bool:
    try:
        return path is not None and os.statvfs(path.parent).f_bavail == 0
    except OSError:
        return False


def write_reason(exc: BaseException, path: Path | None = None) -> str:
    """Why a write failed, in words: a full disk, a read-only file, another program, damage.
    (SQLite reports a full disk as "disk I/O error" when even its small shared-memory file cannot grow.)"""
    text = str(exc).lower()
    if isinstance(exc, OSError) and exc.errno == 28 or "full" in text or ("i/o" in text and _disk_full(path)):
        why = "the disk is full (free some space and try again)"
    elif "readonly" in text or "read-only" in text or (isinstance(exc, OSError) and exc.errno in (1, 13, 30)):
        why = "the file or its folder is read-only"
    elif "locked" in text or "busy" in text:
        why = "another program is holding it (try again in a moment)"
    elif "malformed" in text or "corrupt" in text or "not a database" in text:
        why = f"the file is damaged ({exc}); run `iliopsoas data rescue`"
    else:
        why = str(exc)
    return why


class CareLog:
    """One open care database. Use as a context manager; every write commits immediately."""

    def __init__(self, path: str | Path | None = None) -> None:
        from iliopsoas.care import damage

        self.path = default_db_path(path)
        self.read_only = False
        if self.path.is_dir():
            raise LogError(f"cannot open the care database {self.path}: it is a folder; expected a database file")
        problem = damage.diagnose(self.path, SCHEMA_VERSION)
        if problem is not None:
            if problem.kind in ("newer", "unavailable"):
                raise LogError(problem.message)
            if problem.kind == "foreign":
                raise LogError(f"{self.path} is not a usable care database: {problem.message}")
            raise DamagedLogError(problem.message)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LogError(f"cannot open the care database {self.path}: cannot create its folder "
                           f"{str(self.path.parent)!r} ({exc.strerror or exc})") from exc
        self.read_only = damage.is_read_only(self.path)
        self._read_only_why = "the file or its file system is read-only"
        if not self.read_only:
            try:
                self._open_writable()
                return
            except sqlite3.OperationalError as exc:
                # a full disk (or a file the OS will not let us write): reading may still work
                if not (self.path.exists() and _is_write_error(exc)):
                    raise LogError(write_failure(self.path, exc) if _is_write_error(exc)
                                   else f"{self.path} is not a usable care database: {exc}") from exc
                self.read_only, self._read_only_why = True, write_reason(exc, self.path)
            except sqlite3.DatabaseError as exc:
                raise LogError(f"{self.path} is not a usable care database: {exc}") from exc
        try:
            self._con = damage.open_read_only(self.path)
            self._con.row_factory = sqlite3.Row
            self.migrated_from = self._migrate()
        except sqlite3.Error as exc:
            raise LogError(f"cannot read the care database {self.path}: {exc} ({self._read_only_why})") from exc
        except LogError:
            self._con.close()
            raise

    def _open_writable(self) -> None:
        try:
            self._con = sqlite3.connect(str(self.path), timeout=10.0, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise LogError(f"cannot open the care database {self.path}: {exc}") from exc
        self._con.row_factory = sqlite3.Row
        try:
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=FULL")
            self._con.execute("PRAGMA foreign_keys=ON")
            self.migrated_from = self._migrate()
        except BaseException:
            self._con.close()
            raise

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> CareLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One transaction; any SQLite failure becomes a one-line :class:`LogError` (nothing written)."""
        if self.read_only:
            raise LogError(f"cannot save to the care database {self.path}: {self._read_only_why}; nothing "
                           "was saved (`iliopsoas data export` still copies it out)")
        try:
            self._con.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise LogError(write_failure(self.path, exc)) from exc
        try:
            yield self._con
        except BaseException as exc:
            try:
                self._con.execute("ROLLBACK")
            except sqlite3.Error:  # a failed COMMIT or a full disk may already have rolled back
                pass
            if isinstance(exc, sqlite3.Error):
                raise LogError(write_failure(self.path, exc)) from exc
            raise
        try:
            self._con.execute("COMMIT")
        except sqlite3.Error as exc:
            try:
                self._con.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            raise LogError(write_failure(self.path, exc)) from exc

    def transaction(self) -> Any:
        """A write transaction for the tables kept beside the log's own (questionnaires, quiz cards,
        request keys; :mod:`~iliopsoas.care.outcome_log`, :mod:`~iliopsoas.care.study_log`) and for a
        whole import: refused on a read-only file, every SQLite failure a one-line :class:`LogError`,
        committed (durable) when the block ends, rolled back whole if it raises."""
        return self._tx()

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        """Rows of a read-only query; an unreadable file raises :class:`DamagedLogError`."""
        return self._read(sql, params)

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        try:
            return self._con.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise DamagedLogError(
                f"cannot read the care database {self.path}: {exc}; run `iliopsoas data rescue` to copy "
                "every readable record into a fresh file (the damaged one is kept)"
            ) from exc

    def _migrate(self) -> int | None:
        """Bring the file to :data:`SCHEMA_VERSION`; return the version it had if it changed."""
        version = int(self._con.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise LogError(
                f"{self.path} has schema version {version}, newer than this program's {SCHEMA_VERSION}; "
                "upgrade iliopsoas (the file was not changed)"
            )
        if version == SCHEMA_VERSION:
            return None
        if self.read_only and version == 0:
            raise LogError(f"cannot create the care database {self.path}: {self._read_only_why}")
        if self.read_only:
            raise LogError(f"the care database {self.path} needs an upgrade to schema version {SCHEMA_VERSION} but "
                           f"cannot be written ({self._read_only_why}); the file was not changed")
        if version > 0:
            backup = self.path.with_name(f"{self.path.name}.v{version}.bak")
            dest = sqlite3.connect(str(backup))
            try:
                self._con.backup(dest)
            except sqlite3.Error as exc:
                raise LogError(f"cannot upgrade the care database {self.path}: its backup copy {backup} "
                               f"could not be written ({exc}); the file was not changed") from exc
            finally:
                dest.close()
        with self._tx() as con:
            for n in range(version + 1, SCHEMA_VERSION + 1):
                for stmt in MIGRATIONS[n]:
                    con.execute(stmt)
                hook = MIGRATION_HOOKS.get(n)
                if hook is not None:
                    hook(con)
            con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        return version

    @property
    def version(self) -> int:
        return int(self._con.execute("PRAGMA user_version").fetchone()[0])

    def integrity_ok(self) -> bool:
        return self._con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    # ------------------------------------------------------------------ writes (each one commits)
    def log_screen(
        self,
        answers: Mapping[str, bool],
        *,
        scope: str,
        level: str,
        blocked: bool,
        taken_at: str | None = None,
    ) -> int:
        """Record a screen taken on this machine now (``taken_at`` may say when the answers were given)."""
        rec = validate(ScreenRecord, {"taken_at": taken_at or now_iso(), "scope": scope, "level": level,
                                      "blocked": blocked, "answers": dict(answers)}, where="screen")
        with self._tx() as con:
            return insert_screen(con, rec, origin="local")

    def start_session(
        self,
        *,
        plan: Mapping[str, Any] | None = None,
        nprs_before: int | None = None,
        started_at: str | None = None,
    ) -> int:
        rec = validate(SessionRecord, {"started_at": started_at or now_iso(), "status": "running",
                                       "nprs_before": nprs_before,
                                       "plan": dict(plan) if plan is not None else None}, where="session")
        with self._tx() as con:
            con.execute("UPDATE sessions SET status = 'interrupted' WHERE status = 'running'")
            return insert_session(con, rec)

    def log_step(
        self,
        session_id: int,
        step_id: str,
        *,
        kind: str | None = None,
        set_index: int | None = None,
        side: str | None = None,
        reps: int | None = None,
        hold_s: float | None = None,
        status: str = "done",
        completed_at: str | None = None,
    ) -> int:
        rec = validate(StepRecord, {"step_id": step_id, "kind": kind, "set_index": set_index, "side": side,
                                    "reps": reps, "hold_s": hold_s, "status": status,
                                    "completed_at": completed_at or now_iso()}, where="step")
        with self._tx() as con:
            if con.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone() is None:
                raise RecordError(f"step.session_id: no session {session_id!r} in the log")
            return insert_step(con, session_id, rec)

    def finish_session(
        self,
        session_id: int,
        *,
        nprs_after: int | None,
        status: str = "completed",
        finished_at: str | None = None,
        note: str | None = None,
    ) -> None:
        finished = finished_at or now_iso()
        validate(SessionRecord, {"started_at": finished, "finished_at": finished, "status": status,
                                 "nprs_after": nprs_after, "note": note}, where="session")
        with self._tx() as con:
            con.execute(
                "UPDATE sessions SET nprs_after = ?, status = ?, finished_at = ?, note = ? WHERE id = ?",
                (nprs_after, status, finished, note, session_id),
            )

    def add_measure(
        self,
        kind: str,
        value: float,
        *,
        taken_at: str | None = None,
        side: str | None = None,
        note: str | None = None,
    ) -> int:
        rec = validate(MeasureRecord, {"kind": kind, "value": value, "taken_at": taken_at or now_iso(),
                                       "side": side, "note": note}, where="measure")
        with self._tx() as con:
            return insert_measure(con, rec)

    def add_assessment_measures(self, inputs: Mapping[str, Any]) -> None:
        """Record the measurable self-assessment inputs (parsed by ``assessment.parse_inputs``): the
        Thomas and standing-tilt angles as given, the PSFS as the mean of its activity scores.
        All of them or none (one transaction)."""
        taken = now_iso()
        recs = [validate(MeasureRecord, {"kind": kind, "value": inputs[kind], "taken_at": taken}, where=kind)
                for kind in ("thomas_hip_deg", "thomas_knee_deg", "standing_tilt_deg") if kind in inputs]
        if inputs.get("psfs"):
            scores = inputs["psfs"]
            recs.append(validate(MeasureRecord, {"kind": "psfs", "value": sum(scores) / len(scores),
                                                 "taken_at": taken, "note": f"{len(scores)} activities"},
                                 where="psfs"))
        if recs:
            with self._tx() as con:
                for rec in recs:
                    insert_measure(con, rec)

    # ------------------------------------------------------------------ reads
    def sessions(self) -> list[dict[str, Any]]:
        rows = self._read(
            "SELECT s.*, (SELECT COUNT(*) FROM steps t WHERE t.session_id = s.id AND t.status = 'done') AS steps_done, "
            "(SELECT COUNT(*) FROM steps t WHERE t.session_id = s.id AND t.status = 'skipped') AS steps_skipped "
            "FROM sessions s ORDER BY s.started_at, s.id"
        )
        return [dict(r) for r in rows]

    def _rows(self, table: str, order: str, column: str = "", value: object = None) -> list[dict[str, Any]]:
        """Rows of ``table`` as dicts in ``order``; only those with ``column = value`` unless ``value`` is None."""
        where = "" if value is None else f" WHERE {column} = ?"
        params = () if value is None else (value,)
        return [dict(r) for r in self._read(f"SELECT * FROM {table}{where} ORDER BY {order}", params)]

    def steps(self, session_id: int | None = None) -> list[dict[str, Any]]:
        return self._rows("steps", "id", "session_id", session_id)

    def decode(self, text: Any, what: str) -> Any:
        """The JSON stored in a column; unreadable JSON raises :class:`DamagedLogError` naming ``what``
        (``"screen 3 has unreadable answers"``)."""
        try:
            return json.loads(text)
        except (TypeError, ValueError, RecursionError) as exc:
            raise DamagedLogError(f"the care database {self.path} is damaged: {what} ({exc}); run "
                                  "`iliopsoas data rescue`") from exc

    def _screen(self, row: Mapping[str, Any]) -> dict[str, Any]:
        answers = self.decode(row["answers_json"], f"screen {row['id']} has unreadable answers")
        return {**row, "answers": answers, "blocked": bool(row["blocked"])}

    def screens(self) -> list[dict[str, Any]]:
        return [self._screen(r) for r in self._rows("screens", "taken_at, id")]

    def latest_screen(self, scope: str = "full") -> dict[str, Any] | None:
        """The screen of ``scope`` most recently recorded on this machine (imported screens never count)."""
        rows = self._read(
            "SELECT * FROM screens WHERE scope = ? AND origin = 'local' ORDER BY recorded_at DESC, id DESC LIMIT 1",
            (scope,),
        )
        return None if not rows else self._screen(dict(rows[0]))

    def fresh_full_screen(self, max_age: timedelta = FULL_SCREEN_MAX_AGE) -> dict[str, Any] | None:
        """The latest full screen recorded on this machine if it answered every item and was taken within
        ``max_age`` of now, else None.

        A screen recorded "in the future" (this machine's clock was later set back) is not fresh: the
        gate then asks the whole list again rather than trust it.
        """
        from iliopsoas.care.screening import item_ids

        latest = self.latest_screen("full")
        if latest is None or not latest.get("recorded_at"):
            return None
        answers = latest["answers"] if isinstance(latest["answers"], dict) else {}
        if not all(isinstance(answers.get(i), bool) for i in item_ids("full")):
            return None  # the last full screen left questions open: it never stands in for the weekly one
        try:
            recorded = parse_time(latest["recorded_at"])
        except ValueError:
            return None
        age = datetime.now(UTC) - recorded
        if age > max_age or age < -FUTURE_TOLERANCE:
            return None
        return latest

    def measures(self, kind: str | None = None) -> list[dict[str, Any]]:
        return self._rows("measures", "taken_at, id", "kind", kind)

    def nprs_history(self) -> list[tuple[float, float]]:
        """``(n_sessions, 2)`` NPRS before/after (NaN when missing) of sessions that ran, oldest first."""
        nan = float("nan")
        return [
            (
                nan if s["nprs_before"] is None else float(s["nprs_before"]),
                nan if s["nprs_after"] is None else float(s["nprs_after"]),
            )
            for s in self.sessions()
            if s["nprs_before"] is not None or s["nprs_after"] is not None
        ]

    # ------------------------------------------------------------------ export / import
    def export_json(self) -> dict[str, Any]:
        from iliopsoas.care.transfer import export_doc

        return export_doc(self)

    def import_json(self, doc: Mapping[str, Any]) -> dict[str, int]:
        """Merge an export into this database in one transaction; records already present are skipped.

        The whole document is validated first (:class:`~iliopsoas.care.records.CareLogExport`); any
        bad record rejects it with a :class:`LogError` naming the record and field, and nothing is
        written. Imported screens are kept as history but never count for the safety gate.
        Returns counts of what was added: ``{"sessions", "steps", "screens", "measures", "outcomes",
        "study_cards"}``.
        """
        from iliopsoas.care.transfer import import_doc

        return import_doc(self, doc)

    def export_csv(self, path: str | Path) -> int:
        """Write one flat CSV (``record`` = step | session | screen | measure | outcome | study_card);
        return the row count."""
        from iliopsoas.care.transfer import write_csv

        return write_csv(self.export_json(), path)

    def import_csv(self, path: str | Path) -> dict[str, int]:
        """Read a CSV written by :meth:`export_csv` and merge it (see :meth:`import_json`)."""
        from iliopsoas.care.transfer import read_csv

        return self.import_json(read_csv(path))

    def _transaction(self) -> Any:
        """Former name of :meth:`transaction`."""
        return self._tx()


def _is_write_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(w in text for w in ("full", "readonly", "read-only", "locked", "disk i/o"))
