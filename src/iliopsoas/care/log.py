"""The durable care log: a local SQLite database of screens, sessions, steps and measurements.

* Location: ``--db PATH`` > ``ILIOPSOAS_DB`` > ``<platformdirs user data dir>/iliopsoas/care.sqlite3``.
* Durability: WAL journal, ``synchronous=FULL``, autocommit: every completed step is its own
  committed transaction the moment it is logged, so a session killed with ``kill -9`` keeps
  everything already done.
* Schema: versioned with ``PRAGMA user_version`` and applied by ordered migrations; a database
  from an older version is copied to ``<name>.v<N>.bak`` and then migrated in one transaction, so
  nothing is ever lost. A database from a *newer* version is refused, untouched.
* Export / import: JSON (everything, nested) and CSV (one flat table with a ``record`` column).
"""

from __future__ import annotations

import csv
import json
import math
import os
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 2

#: Ordered migrations: ``MIGRATIONS[n]`` brings a version ``n-1`` database to version ``n``.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        "CREATE TABLE sessions (id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, nprs_before INTEGER, "
        "nprs_after INTEGER)",
        "CREATE TABLE steps (id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id), "
        "step_id TEXT NOT NULL, completed_at TEXT NOT NULL)",
    ),
    2: (
        "ALTER TABLE sessions ADD COLUMN finished_at TEXT",
        "ALTER TABLE sessions ADD COLUMN status TEXT NOT NULL DEFAULT 'completed'",
        # v1 had no status: a session without an after-score never reached its end
        "UPDATE sessions SET status = CASE WHEN nprs_after IS NULL THEN 'incomplete' ELSE 'completed' END",
        "ALTER TABLE sessions ADD COLUMN plan_json TEXT",
        "ALTER TABLE sessions ADD COLUMN note TEXT",
        "ALTER TABLE steps ADD COLUMN kind TEXT",
        "ALTER TABLE steps ADD COLUMN set_index INTEGER",
        "ALTER TABLE steps ADD COLUMN side TEXT",
        "ALTER TABLE steps ADD COLUMN reps INTEGER",
        "ALTER TABLE steps ADD COLUMN hold_s REAL",
        "ALTER TABLE steps ADD COLUMN status TEXT NOT NULL DEFAULT 'done'",
        "CREATE INDEX steps_by_session ON steps(session_id)",
        "CREATE TABLE screens (id INTEGER PRIMARY KEY, taken_at TEXT NOT NULL, scope TEXT NOT NULL, "
        "answers_json TEXT NOT NULL, level TEXT NOT NULL, blocked INTEGER NOT NULL)",
        "CREATE TABLE measures (id INTEGER PRIMARY KEY, taken_at TEXT NOT NULL, kind TEXT NOT NULL, "
        "value REAL NOT NULL, side TEXT, note TEXT)",
    ),
}

MEASURE_KINDS = ("nprs", "psfs", "thomas_hip_deg", "thomas_knee_deg", "standing_tilt_deg")
SESSION_STATUSES = ("running", "completed", "stopped", "interrupted", "incomplete")
STEP_STATUSES = ("done", "skipped")
FULL_SCREEN_MAX_AGE = timedelta(days=7)  # the full red-flag list is re-asked weekly (clinical.md §2.3)

CSV_COLUMNS = (
    "record", "session_id", "started_at", "finished_at", "session_status", "nprs_before", "nprs_after",
    "step_id", "kind", "set_index", "side", "reps", "hold_s", "step_status", "completed_at",
    "taken_at", "scope", "level", "blocked", "answers_json", "measure", "value", "note",
)  # fmt: skip


class LogError(RuntimeError):
    """The database cannot be opened, migrated or written (the message says which and why)."""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


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


class CareLog:
    """One open care database. Use as a context manager; every write commits immediately."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = default_db_path(path)
        if self.path.is_dir():
            raise LogError(f"cannot open the care database {self.path}: it is a folder; expected a database file")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._con = sqlite3.connect(str(self.path), timeout=10.0, isolation_level=None)
        except OSError as exc:
            raise LogError(f"cannot open the care database {self.path}: cannot create its folder "
                           f"{str(self.path.parent)!r} ({exc.strerror or exc})") from exc
        except sqlite3.Error as exc:
            raise LogError(f"cannot open the care database {self.path}: {exc}") from exc
        self._con.row_factory = sqlite3.Row
        try:
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=FULL")
            self._con.execute("PRAGMA foreign_keys=ON")
            self.migrated_from = self._migrate()
        except sqlite3.DatabaseError as exc:
            self._con.close()
            raise LogError(f"{self.path} is not a usable care database: {exc}") from exc
        except LogError:
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
        self._con.execute("BEGIN IMMEDIATE")
        try:
            yield self._con
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        self._con.execute("COMMIT")

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
        if version > 0:
            backup = self.path.with_name(f"{self.path.name}.v{version}.bak")
            dest = sqlite3.connect(str(backup))
            try:
                self._con.backup(dest)
            finally:
                dest.close()
        with self._tx() as con:
            for n in range(version + 1, SCHEMA_VERSION + 1):
                for stmt in MIGRATIONS[n]:
                    con.execute(stmt)
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
        cur = self._con.execute(
            "INSERT INTO screens (taken_at, scope, answers_json, level, blocked) VALUES (?, ?, ?, ?, ?)",
            (taken_at or now_iso(), scope, json.dumps(dict(answers), sort_keys=True), level, int(blocked)),
        )
        return int(cur.lastrowid or 0)

    def start_session(
        self,
        *,
        plan: Mapping[str, Any] | None = None,
        nprs_before: int | None = None,
        started_at: str | None = None,
    ) -> int:
        _check_nprs(nprs_before, "nprs_before")
        with self._tx() as con:
            con.execute("UPDATE sessions SET status = 'interrupted' WHERE status = 'running'")
            cur = con.execute(
                "INSERT INTO sessions (started_at, nprs_before, status, plan_json) VALUES (?, ?, 'running', ?)",
                (started_at or now_iso(), nprs_before, json.dumps(plan) if plan is not None else None),
            )
        return int(cur.lastrowid or 0)

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
        if status not in STEP_STATUSES:
            raise ValueError(f"step status must be one of {STEP_STATUSES}, got {status!r}")
        cur = self._con.execute(
            "INSERT INTO steps (session_id, step_id, kind, set_index, side, reps, hold_s, status, completed_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (session_id, step_id, kind, set_index, side, reps, hold_s, status, completed_at or now_iso()),
        )
        return int(cur.lastrowid or 0)

    def finish_session(
        self,
        session_id: int,
        *,
        nprs_after: int | None,
        status: str = "completed",
        finished_at: str | None = None,
        note: str | None = None,
    ) -> None:
        _check_nprs(nprs_after, "nprs_after")
        if status not in SESSION_STATUSES:
            raise ValueError(f"session status must be one of {SESSION_STATUSES}, got {status!r}")
        self._con.execute(
            "UPDATE sessions SET nprs_after = ?, status = ?, finished_at = ?, note = ? WHERE id = ?",
            (nprs_after, status, finished_at or now_iso(), note, session_id),
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
        if kind not in MEASURE_KINDS:
            raise ValueError(f"measure kind must be one of {MEASURE_KINDS}, got {kind!r}")
        if not math.isfinite(float(value)):
            raise ValueError(f"measure {kind} must be a finite number, got {value!r}")
        cur = self._con.execute(
            "INSERT INTO measures (taken_at, kind, value, side, note) VALUES (?, ?, ?, ?, ?)",
            (taken_at or now_iso(), kind, float(value), side, note),
        )
        return int(cur.lastrowid or 0)

    def add_assessment_measures(self, inputs: Mapping[str, Any]) -> None:
        """Record the measurable self-assessment inputs (parsed by ``assessment.parse_inputs``): the
        Thomas and standing-tilt angles as given, the PSFS as the mean of its activity scores."""
        for kind in ("thomas_hip_deg", "thomas_knee_deg", "standing_tilt_deg"):
            if kind in inputs:
                self.add_measure(kind, inputs[kind])
        if inputs.get("psfs"):
            scores = inputs["psfs"]
            self.add_measure("psfs", sum(scores) / len(scores), note=f"{len(scores)} activities")

    # ------------------------------------------------------------------ reads
    def sessions(self) -> list[dict[str, Any]]:
        rows = self._con.execute(
            "SELECT s.*, (SELECT COUNT(*) FROM steps t WHERE t.session_id = s.id AND t.status = 'done') AS steps_done, "
            "(SELECT COUNT(*) FROM steps t WHERE t.session_id = s.id AND t.status = 'skipped') AS steps_skipped "
            "FROM sessions s ORDER BY s.started_at, s.id"
        ).fetchall()
        return [dict(r) for r in rows]

    def _rows(self, table: str, order: str, column: str = "", value: object = None) -> list[dict[str, Any]]:
        """Rows of ``table`` as dicts in ``order``; only those with ``column = value`` unless ``value`` is None."""
        where = "" if value is None else f" WHERE {column} = ?"
        params = () if value is None else (value,)
        return [dict(r) for r in self._con.execute(f"SELECT * FROM {table}{where} ORDER BY {order}", params)]

    def steps(self, session_id: int | None = None) -> list[dict[str, Any]]:
        return self._rows("steps", "id", "session_id", session_id)

    @staticmethod
    def _screen(row: Mapping[str, Any]) -> dict[str, Any]:
        return {**row, "answers": json.loads(row["answers_json"]), "blocked": bool(row["blocked"])}

    def screens(self) -> list[dict[str, Any]]:
        return [self._screen(r) for r in self._rows("screens", "taken_at, id")]

    def latest_screen(self, scope: str = "full") -> dict[str, Any] | None:
        row = self._con.execute(
            "SELECT * FROM screens WHERE scope = ? ORDER BY taken_at DESC, id DESC LIMIT 1", (scope,)
        ).fetchone()
        return None if row is None else self._screen(dict(row))

    def fresh_full_screen(self, max_age: timedelta = FULL_SCREEN_MAX_AGE) -> dict[str, Any] | None:
        """The latest full screen if it was taken within ``max_age`` of now, else None."""
        latest = self.latest_screen("full")
        if latest is None or datetime.now(UTC) - datetime.fromisoformat(latest["taken_at"]) > max_age:
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
        sessions = []
        for s in self.sessions():
            d = {
                k: s[k]
                for k in ("id", "started_at", "finished_at", "status", "nprs_before", "nprs_after", "note")
            }
            d["plan"] = json.loads(s["plan_json"]) if s["plan_json"] else None
            d["steps"] = [
                {k: t[k] for k in (*_STEP_FIELDS, "status", "completed_at")} for t in self.steps(s["id"])
            ]
            sessions.append(d)
        return {
            "format": "iliopsoas-care-log",
            "schema_version": SCHEMA_VERSION,
            "exported_at": now_iso(),
            "sessions": sessions,
            "screens": [
                {k: s[k] for k in ("taken_at", "scope", "level", "blocked", "answers")}
                for s in self.screens()
            ],
            "measures": [
                {k: m[k] for k in ("taken_at", "kind", "value", "side", "note")} for m in self.measures()
            ],
        }

    def import_json(self, doc: Mapping[str, Any]) -> dict[str, int]:
        """Merge an export into this database in one transaction; records already present are skipped.

        Returns counts of what was added: ``{"sessions", "steps", "screens", "measures"}``.
        """
        if not isinstance(doc, Mapping) or doc.get("format") != "iliopsoas-care-log":
            raise LogError(
                'import: not an iliopsoas care-log export (missing "format": "iliopsoas-care-log")'
            )
        added = {"sessions": 0, "steps": 0, "screens": 0, "measures": 0}
        try:
            with self._tx() as con:
                for n, s in enumerate(doc.get("sessions") or ()):
                    if con.execute(
                        "SELECT 1 FROM sessions WHERE started_at = ?", (s["started_at"],)
                    ).fetchone():
                        continue
                    status = s.get("status") or "completed"
                    if status not in SESSION_STATUSES:
                        raise LogError(
                            f"import: sessions[{n}].status must be one of {SESSION_STATUSES}, got {status!r}"
                        )
                    cur = con.execute(
                        "INSERT INTO sessions (started_at, finished_at, status, nprs_before, nprs_after, note, plan_json) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (
                            s["started_at"],
                            s.get("finished_at"),
                            status,
                            s.get("nprs_before"),
                            s.get("nprs_after"),
                            s.get("note"),
                            json.dumps(s["plan"]) if s.get("plan") is not None else None,
                        ),
                    )
                    added["sessions"] += 1
                    for t in s.get("steps") or ():
                        con.execute(
                            "INSERT INTO steps (session_id, step_id, kind, set_index, side, reps, hold_s, status, "
                            "completed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            (
                                cur.lastrowid,
                                t["step_id"],
                                t.get("kind"),
                                t.get("set_index"),
                                t.get("side"),
                                t.get("reps"),
                                t.get("hold_s"),
                                t.get("status") or "done",
                                t["completed_at"],
                            ),
                        )
                        added["steps"] += 1
                for sc in doc.get("screens") or ():
                    if con.execute(
                        "SELECT 1 FROM screens WHERE taken_at = ? AND scope = ?",
                        (sc["taken_at"], sc["scope"]),
                    ).fetchone():
                        continue
                    con.execute(
                        "INSERT INTO screens (taken_at, scope, answers_json, level, blocked) VALUES (?, ?, ?, ?, ?)",
                        (
                            sc["taken_at"],
                            sc["scope"],
                            json.dumps(sc["answers"], sort_keys=True),
                            sc["level"],
                            int(bool(sc["blocked"])),
                        ),
                    )
                    added["screens"] += 1
                for m in doc.get("measures") or ():
                    if m["kind"] not in MEASURE_KINDS:
                        raise LogError(
                            f"import: measure kind must be one of {MEASURE_KINDS}, got {m['kind']!r}"
                        )
                    if con.execute(
                        "SELECT 1 FROM measures WHERE taken_at = ? AND kind = ? AND value = ?",
                        (m["taken_at"], m["kind"], m["value"]),
                    ).fetchone():
                        continue
                    con.execute(
                        "INSERT INTO measures (taken_at, kind, value, side, note) VALUES (?, ?, ?, ?, ?)",
                        (m["taken_at"], m["kind"], float(m["value"]), m.get("side"), m.get("note")),
                    )
                    added["measures"] += 1
        except (KeyError, TypeError, ValueError) as exc:
            raise LogError(
                f"import: malformed record ({type(exc).__name__}: {exc}); nothing was imported"
            ) from exc
        return added

    def export_csv(self, path: str | Path) -> int:
        """Write one flat CSV (``record`` = step | session | screen | measure); return the row count."""
        rows: list[dict[str, Any]] = []
        doc = self.export_json()
        for s in doc["sessions"]:
            base = {
                "session_id": s["id"],
                "started_at": s["started_at"],
                "finished_at": s["finished_at"],
                "session_status": s["status"],
                "nprs_before": s["nprs_before"],
                "nprs_after": s["nprs_after"],
                "note": s["note"],
            }
            if not s["steps"]:
                rows.append({"record": "session", **base})
            for t in s["steps"]:
                rows.append(
                    {
                        "record": "step",
                        **base,
                        **{k: t[k] for k in (*_STEP_FIELDS, "completed_at")},
                        "step_status": t["status"],
                    }
                )
        for sc in doc["screens"]:
            rows.append(
                {
                    "record": "screen",
                    "taken_at": sc["taken_at"],
                    "scope": sc["scope"],
                    "level": sc["level"],
                    "blocked": int(sc["blocked"]),
                    "answers_json": json.dumps(sc["answers"], sort_keys=True),
                }
            )
        for m in doc["measures"]:
            rows.append(
                {
                    "record": "measure",
                    "taken_at": m["taken_at"],
                    "measure": m["kind"],
                    "value": m["value"],
                    "side": m["side"],
                    "note": m["note"],
                }
            )
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
            w.writeheader()
            for r in rows:
                w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in CSV_COLUMNS})
        return len(rows)

    def import_csv(self, path: str | Path) -> dict[str, int]:
        """Read a CSV written by :meth:`export_csv` and merge it (see :meth:`import_json`)."""
        try:
            with open(path, newline="", encoding="utf-8") as fh:
                reader = csv.DictReader(fh)
                missing = set(CSV_COLUMNS) - set(reader.fieldnames or ())
                if missing:
                    raise LogError(f"import: {path} lacks the CSV column(s) {sorted(missing)}")
                table = list(reader)
        except OSError as exc:
            raise LogError(f"import: cannot read {path}: {exc.strerror or exc}") from exc
        sessions: dict[str, dict[str, Any]] = {}
        screens, measures = [], []
        for n, r in enumerate(table, start=2):
            kind = r["record"]
            if kind in ("step", "session"):
                s = sessions.setdefault(
                    r["session_id"],
                    {
                        "started_at": r["started_at"],
                        "finished_at": r["finished_at"] or None,
                        "status": r["session_status"] or "completed",
                        "nprs_before": _int(r["nprs_before"]),
                        "nprs_after": _int(r["nprs_after"]),
                        "note": r["note"] or None,
                        "steps": [],
                    },
                )
                if kind == "step":
                    s["steps"].append(
                        {
                            "step_id": r["step_id"],
                            "kind": r["kind"] or None,
                            "set_index": _int(r["set_index"]),
                            "side": r["side"] or None,
                            "reps": _int(r["reps"]),
                            "hold_s": _float(r["hold_s"]),
                            "status": r["step_status"] or "done",
                            "completed_at": r["completed_at"],
                        }
                    )
            elif kind == "screen":
                screens.append(
                    {
                        "taken_at": r["taken_at"],
                        "scope": r["scope"],
                        "level": r["level"],
                        "blocked": r["blocked"] in ("1", "True", "true"),
                        "answers": json.loads(r["answers_json"]),
                    }
                )
            elif kind == "measure":
                measures.append(
                    {
                        "taken_at": r["taken_at"],
                        "kind": r["measure"],
                        "value": float(r["value"]),
                        "side": r["side"] or None,
                        "note": r["note"] or None,
                    }
                )
            else:
                raise LogError(
                    f"import: {path} line {n}: record must be step, session, screen or measure, got {kind!r}"
                )
        return self.import_json(
            {
                "format": "iliopsoas-care-log",
                "sessions": list(sessions.values()),
                "screens": screens,
                "measures": measures,
            }
        )


#: what a step record holds besides its status and completion time (the JSON and CSV exports)
_STEP_FIELDS = ("step_id", "kind", "set_index", "side", "reps", "hold_s")


def _int(text: str) -> int | None:
    return int(float(text)) if text not in ("", None) else None


def _float(text: str) -> float | None:
    return float(text) if text not in ("", None) else None


def _check_nprs(value: int | None, name: str) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10):
        raise ValueError(f"{name} must be a whole number from 0 to 10, got {value!r}")
