"""The care database's tables: their migrations, the tables that hold the person's records, and the
SQL that writes one validated record (always inside a transaction of :class:`~iliopsoas.care.log.CareLog`).

The log (:mod:`iliopsoas.care.log`) opens, checks and migrates the file; the damage check
(:mod:`iliopsoas.care.damage`) derives the tables and columns each version must have from
:data:`MIGRATIONS`; export, import (:mod:`iliopsoas.care.transfer`) and rescue
(:mod:`iliopsoas.care.rescue`) write through the row writers here, so every path stores a record
the same way. Records are validated before they get here (:mod:`iliopsoas.care.records`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

from iliopsoas.care.records import (
    FUTURE_TOLERANCE,
    MeasureRecord,
    OutcomeRecord,
    ScreenRecord,
    SessionRecord,
    StepRecord,
    StudyCardRecord,
    now_iso,
    parse_time,
)

SCHEMA_VERSION = 5

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
    3: (
        # when the screen was written on this machine, and whether it was taken here or imported
        "ALTER TABLE screens ADD COLUMN recorded_at TEXT",
        "ALTER TABLE screens ADD COLUMN origin TEXT NOT NULL DEFAULT 'local'",
        "UPDATE screens SET recorded_at = taken_at",
    ),
    4: (
        # scored questionnaires (care/outcome_log.py) and idempotency keys of web writes
        "CREATE TABLE outcomes (id INTEGER PRIMARY KEY, taken_at TEXT NOT NULL, measure TEXT NOT NULL, "
        "answers_json TEXT NOT NULL, score REAL, note TEXT)",
        "CREATE TABLE request_keys (key TEXT PRIMARY KEY, created_at TEXT NOT NULL, reply_json TEXT)",
    ),
    5: (
        # atlas quiz cards (care/study_log.py); before version 5 the quiz made this table itself, so a
        # file may have it already
        "CREATE TABLE IF NOT EXISTS study_cards (statement_id TEXT PRIMARY KEY, card_json TEXT NOT NULL, "
        "due TEXT NOT NULL, reviews INTEGER NOT NULL DEFAULT 0, last_rating INTEGER, updated_at TEXT NOT NULL)",
    ),
}

#: the tables that hold the person's own records: every one is exported, imported, rescued and
#: deleted with the log (``request_keys`` only remembers replies to web requests for a while)
USER_TABLES = ("sessions", "steps", "screens", "measures", "outcomes", "study_cards")

CSV_COLUMNS = (
    "record", "session_id", "started_at", "finished_at", "session_status", "nprs_before", "nprs_after",
    "step_id", "kind", "set_index", "side", "reps", "hold_s", "step_status", "completed_at",
    "taken_at", "scope", "level", "blocked", "answers_json", "measure", "value", "note",
    "statement_id", "card_json", "reviews", "last_rating", "updated_at",
)  # fmt: skip
#: the columns a CSV export must have (those of the quiz cards came later and may be absent)
CSV_REQUIRED = CSV_COLUMNS[:23]



# --------------------------------------------------------------------------- row writers (inside a transaction)
def insert_screen(con: sqlite3.Connection, rec: ScreenRecord, *, origin: str) -> int:
    cur = con.execute(
        "INSERT INTO screens (taken_at, scope, answers_json, level, blocked, recorded_at, origin) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (rec.taken_at, rec.scope, json.dumps(rec.answers, sort_keys=True), rec.level, int(rec.blocked),
         now_iso(), origin),
    )
    return int(cur.lastrowid or 0)


def insert_session(con: sqlite3.Connection, rec: SessionRecord) -> int:
    cur = con.execute(
        "INSERT INTO sessions (started_at, finished_at, status, nprs_before, nprs_after, note, plan_json) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (rec.started_at, rec.finished_at, rec.status, rec.nprs_before, rec.nprs_after, rec.note,
         json.dumps(rec.plan) if rec.plan is not None else None),
    )
    return int(cur.lastrowid or 0)


def insert_step(con: sqlite3.Connection, session_id: int, rec: StepRecord) -> int:
    cur = con.execute(
        "INSERT INTO steps (session_id, step_id, kind, set_index, side, reps, hold_s, status, completed_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (session_id, rec.step_id, rec.kind, rec.set_index, rec.side, rec.reps, rec.hold_s, rec.status,
         rec.completed_at),
    )
    return int(cur.lastrowid or 0)


def insert_measure(con: sqlite3.Connection, rec: MeasureRecord) -> int:
    cur = con.execute(
        "INSERT INTO measures (taken_at, kind, value, side, note) VALUES (?, ?, ?, ?, ?)",
        (rec.taken_at, rec.kind, rec.value, rec.side, rec.note),
    )
    return int(cur.lastrowid or 0)


def insert_outcome(con: sqlite3.Connection, rec: OutcomeRecord) -> int:
    """One questionnaire: the answers as given and the score recomputed from them."""
    cur = con.execute(
        "INSERT INTO outcomes (taken_at, measure, answers_json, score, note) VALUES (?, ?, ?, ?, ?)",
        (rec.taken_at, rec.measure, json.dumps(rec.answers, sort_keys=True), rec.score, rec.note),
    )
    return int(cur.lastrowid or 0)


def put_card(con: sqlite3.Connection, rec: StudyCardRecord) -> None:
    """One quiz card, written or replacing the stored card of the same statement."""
    con.execute(
        "INSERT INTO study_cards (statement_id, card_json, due, reviews, last_rating, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(statement_id) DO UPDATE SET card_json = excluded.card_json, "
        "due = excluded.due, reviews = excluded.reviews, last_rating = excluded.last_rating, "
        "updated_at = excluded.updated_at",
        (rec.statement_id, json.dumps(rec.card.model_dump(mode="json"), sort_keys=True), rec.due, rec.reviews,
         rec.last_rating, rec.updated_at),
    )


def _untrust_future_screens(con: sqlite3.Connection) -> None:
    """Version 3: a screen dated after now cannot have been taken here (an import from a wrong clock
    or a crafted file); it stays as history but the safety gate no longer counts it."""
    limit = datetime.now(UTC) + FUTURE_TOLERANCE
    for sid, taken in con.execute("SELECT id, taken_at FROM screens").fetchall():
        try:
            future = parse_time(taken) > limit
        except ValueError:
            future = True
        if future:
            con.execute("UPDATE screens SET origin = 'unverified', recorded_at = NULL WHERE id = ?", (sid,))


#: Python steps run after the SQL of a migration, in the same transaction.
MIGRATION_HOOKS: dict[int, Callable[[sqlite3.Connection], None]] = {3: _untrust_future_screens}
