"""Scored questionnaires and request keys, stored in the care database beside the log's own tables.

Two tables of the care database (schema version 4 of :class:`~iliopsoas.care.log.CareLog`, whose
migrations create them; the log is opened, and so created or migrated, before either is used):

* ``outcomes`` -- one row per questionnaire the person filled in: the answers as given, the score
  computed from them (recomputed, never trusted from the caller), the time;
* ``request_keys`` -- idempotency keys of web writes: the first request with a key does the write and
  stores its reply; a repeat (a double click, a retried request) gets the same reply and writes
  nothing. The key is claimed by a PRIMARY KEY insert, so two simultaneous requests cannot both write.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from iliopsoas.care.outcomes import OutcomeScore, score


@contextmanager
def _connect(path: str | Path) -> Iterator[sqlite3.Connection]:
    from iliopsoas.care.log import CareLog

    CareLog(path).close()  # creates or migrates the database (and refuses a damaged or foreign file)
    con = sqlite3.connect(str(path), timeout=10.0, isolation_level=None)
    con.row_factory = sqlite3.Row
    try:
        con.execute("PRAGMA synchronous=FULL")
        yield con
    finally:
        con.close()


def add_outcome(path: str | Path, measure: str, answers: Mapping[str, Any], *, taken_at: str | None = None,
                note: str | None = None) -> tuple[int, OutcomeScore]:
    """Score ``answers`` (raises :class:`~iliopsoas.care.outcomes.OutcomeError` first) and store them."""
    from iliopsoas.care.log import now_iso

    result = score(measure, answers)
    with _connect(path) as con:
        cur = con.execute(
            "INSERT INTO outcomes (taken_at, measure, answers_json, score, note) VALUES (?, ?, ?, ?, ?)",
            (taken_at or now_iso(), measure, json.dumps(dict(answers), sort_keys=True), result.score, note),
        )
    return int(cur.lastrowid or 0), result


def outcomes(path: str | Path, measure: str | None = None) -> list[dict[str, Any]]:
    """Stored questionnaires, oldest first, each re-scored from its answers (``result``)."""
    where, params = ("", ()) if measure is None else (" WHERE measure = ?", (measure,))
    with _connect(path) as con:
        rows = [dict(r) for r in con.execute(f"SELECT * FROM outcomes{where} ORDER BY taken_at, id", params)]
    for r in rows:
        r["answers"] = json.loads(r.pop("answers_json"))
        r["result"] = score(r["measure"], r["answers"]).model_dump(mode="json")
    return rows


def has_outcome(path: str | Path, taken_at: str, measure: str) -> bool:
    with _connect(path) as con:
        return con.execute("SELECT 1 FROM outcomes WHERE taken_at = ? AND measure = ?", (taken_at, measure)).fetchone() is not None


def once(path: str | Path, key: str | None, write: Callable[[], dict[str, Any]], *, wait_s: float = 10.0) -> tuple[dict[str, Any], bool]:
    """Run ``write`` once per ``key``; return ``(reply, replayed)``. ``key=None`` always writes.

    A repeat of a key whose first request is still running waits for its reply (up to ``wait_s``); a
    first request that failed releases the key, so a retry can write.
    """
    from iliopsoas.care.log import now_iso

    if key is None:
        return write(), False
    with _connect(path) as con:
        try:
            con.execute("INSERT INTO request_keys (key, created_at) VALUES (?, ?)", (key, now_iso()))
        except sqlite3.IntegrityError:
            deadline = time.monotonic() + wait_s
            while True:
                row = con.execute("SELECT reply_json FROM request_keys WHERE key = ?", (key,)).fetchone()
                if row is None:  # the first attempt failed and let go of the key: try again
                    return once(path, key, write, wait_s=max(0.0, deadline - time.monotonic()))
                if row["reply_json"] is not None:
                    return json.loads(row["reply_json"]), True
                if time.monotonic() > deadline:
                    raise TimeoutError(f"request key {key!r} is still being processed") from None
                time.sleep(0.05)
        try:
            reply = write()
        except BaseException:
            con.execute("DELETE FROM request_keys WHERE key = ?", (key,))
            raise
        con.execute("UPDATE request_keys SET reply_json = ? WHERE key = ?", (json.dumps(reply), key))
    return reply, False
