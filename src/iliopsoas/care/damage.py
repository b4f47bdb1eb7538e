"""Is the care database file usable? Checked on every open, read-only, before anything is written.

:func:`diagnose` looks at the file through a read-only SQLite connection: the SQLite header, the
schema version, ``PRAGMA quick_check`` (corrupt pages), the tables and columns the version must
have, and the JSON columns. It returns a :class:`Problem` (one line saying what happened and what
to do) or ``None``. A damaged file is never written to: the care log refuses to open it and
``iliopsoas data rescue`` (:mod:`iliopsoas.care.rescue`) copies its readable rows into a fresh file.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SQLITE_HEADER = b"SQLite format 3\x00"
RESCUE_HINT = "run `iliopsoas data rescue` to copy every readable record into a fresh file (the damaged one is kept)"


@dataclass(frozen=True)
class Problem:
    """``kind``: damaged (rescue it), foreign (not a SQLite file at all), newer (a later program's file)
    or unavailable (sound, but cannot be read here now: a full or read-only disk)."""

    kind: str
    message: str


def is_read_only(path: Path) -> bool:
    """Whether this process cannot write the database (or, for a new one, create it)."""
    target = path if path.exists() else path.parent
    try:
        if os.statvfs(target).f_flag & os.ST_RDONLY:
            return True
    except OSError:
        return False
    return path.exists() and not os.access(path, os.W_OK)


@cache
def expected_columns(version: int) -> dict[str, tuple[str, ...]]:
    """Table -> columns of a database at schema ``version``, as the migrations make them."""
    from iliopsoas.care.schema import MIGRATIONS

    con = sqlite3.connect(":memory:")
    try:
        for n in range(1, version + 1):
            for stmt in MIGRATIONS[n]:
                con.execute(stmt)
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: tuple(r[1] for r in con.execute(f"PRAGMA table_info({t})")) for t in tables}
    finally:
        con.close()


def diagnose(path: Path, current_version: int) -> Problem | None:
    """What is wrong with the database at ``path`` (``None``: usable, or absent / empty = new)."""
    try:
        if not path.exists() or path.stat().st_size == 0:
            return None
        with open(path, "rb") as fh:
            header = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        return Problem("damaged", f"cannot read the care database {path}: {exc.strerror or exc}")
    if header != SQLITE_HEADER:
        if len(header) < len(SQLITE_HEADER) or header.startswith(b"SQLite"):
            return Problem("damaged", f"the care database {path} is damaged (its SQLite header is cut short or "
                                      f"overwritten); {RESCUE_HINT}")
        return Problem("foreign", "file is not a database (no SQLite header); expected a care database "
                                  "written by iliopsoas")
    try:
        con = open_read_only(path)
    except sqlite3.Error as exc:
        if _damage_words(exc) or not isinstance(exc, sqlite3.OperationalError):
            return Problem("damaged", f"the care database {path} is damaged ({_one_line(exc)}); {RESCUE_HINT}")
        return Problem("unavailable", f"cannot read the care database {path} ({exc}): {_environment(path)}")
    try:
        return _check(con, path, current_version)
    except sqlite3.OperationalError as exc:
        if _damage_words(exc):
            return Problem("damaged", f"the care database {path} is damaged ({_one_line(exc)}); {RESCUE_HINT}")
        return Problem("unavailable", f"cannot read the care database {path} ({exc}): {_environment(path)}")
    except sqlite3.DatabaseError as exc:
        return Problem("damaged", f"the care database {path} is damaged ({_one_line(exc)}); {RESCUE_HINT}")
    finally:
        con.close()


def wal_has_data(path: Path) -> bool:
    """Whether the write-ahead log beside ``path`` holds changes not yet copied into the file."""
    wal = Path(f"{path}-wal")
    try:
        return wal.exists() and wal.stat().st_size > 0
    except OSError:
        return True


def open_read_only(path: Path) -> sqlite3.Connection:
    """A connection that can only read ``path``. On a read-only or full file system SQLite cannot make
    the small shared-memory file a WAL database needs; when no change waits in the journal the file
    alone is the whole truth, so it is then read as immutable."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10.0, check_same_thread=False)
        con.execute("PRAGMA user_version").fetchone()
        return con
    except sqlite3.OperationalError:
        if wal_has_data(path):
            raise
    con = sqlite3.connect(f"file:{path}?immutable=1", uri=True, timeout=10.0, check_same_thread=False)
    con.execute("PRAGMA user_version").fetchone()
    return con


def _environment(path: Path) -> str:
    """Why a sound file may still not open: the disk, the permissions."""
    target = path.parent
    try:
        st = os.statvfs(target)
        if st.f_flag & os.ST_RDONLY:
            return "its file system is read-only and recent changes wait in its journal (the file is not damaged)"
        if st.f_bavail == 0:
            return "the disk is full (free some space and try again; the file is not damaged)"
    except OSError:
        pass
    return "check the file's permissions and the disk"


def _damage_words(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(w in text for w in ("malformed", "corrupt", "not a database", "no such table", "no such column"))


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:200] + "…"


def _check(con: sqlite3.Connection, path: Path, current_version: int) -> Problem | None:
    version = int(con.execute("PRAGMA user_version").fetchone()[0])
    if version > current_version:
        return Problem("newer", f"{path} has schema version {version}, newer than this program's "
                                f"{current_version}; upgrade iliopsoas (the file was not changed)")
    problems = [r[0] for r in con.execute("PRAGMA quick_check(5)")]
    if problems != ["ok"]:
        first = " ".join(str(problems[0]).split())[:200]
        return Problem("damaged", f"the care database {path} is damaged (corrupt pages: {first}); {RESCUE_HINT}")
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if version == 0:
        # before schema version 5 the atlas quiz made its own table in a new file; any other table
        # means a SQLite file of something else: never migrate someone else's data
        if tables - {"study_cards"}:
            others = ", ".join(sorted(tables - {"study_cards"})[:5])
            return Problem("foreign", f"it holds tables ({others}) but no care-log schema version; expected a "
                                      "care database written by iliopsoas")
        return None
    for table, columns in expected_columns(version).items():
        if table not in tables:
            return Problem("damaged", f"the care database {path} is damaged (table {table!r} is missing); "
                                      f"{RESCUE_HINT}")
        have = {r[1] for r in con.execute(f"PRAGMA table_info({table})")}
        lost = [c for c in columns if c not in have]
        if lost:
            return Problem("damaged", f"the care database {path} is damaged (table {table!r} lacks column(s) "
                                      f"{', '.join(lost)}); {RESCUE_HINT}")
    expected = expected_columns(version)
    for table, column in (("screens", "answers_json"), ("sessions", "plan_json"), ("outcomes", "answers_json"),
                          ("study_cards", "card_json")):
        if column not in expected.get(table, ()):
            continue
        bad = con.execute(
            f"SELECT rowid FROM {table} WHERE {column} IS NOT NULL AND json_valid({column}) = 0 LIMIT 1"
        ).fetchone()
        if bad is not None:
            return Problem("damaged", f"the care database {path} is damaged ({table} row {bad[0]} has unreadable "
                                      f"JSON in {column}); {RESCUE_HINT}")
    return None
