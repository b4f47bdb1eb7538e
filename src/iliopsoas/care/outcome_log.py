"""Scored questionnaires and request keys, stored in the care database beside the log's own tables.

Two tables of the care database (created by the migrations of :class:`~iliopsoas.care.log.CareLog`):

* ``outcomes`` -- one row per questionnaire the person filled in: the answers as given, the score
  computed from them (recomputed by :class:`~iliopsoas.care.records.OutcomeRecord`, never trusted
  from the caller), the time;
* ``request_keys`` -- idempotency keys of web writes: the first request with a key does the write and
  stores its reply; a repeat (a double click, a retried request) gets the same reply and writes
  nothing. The key is claimed by a PRIMARY KEY insert, so two simultaneous requests cannot both write.

Everything here goes through an open :class:`~iliopsoas.care.log.CareLog` (its damage check on
open, its refusal to write a read-only file, its one-line :class:`~iliopsoas.care.log.LogError`);
every function takes either such a log or the path of the database (opened and closed around the
call). A write is committed, so durable, before the function returns.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from iliopsoas.care.outcomes import OutcomeScore, score
from iliopsoas.care.records import OutcomeRecord, validate
from iliopsoas.care.schema import insert_outcome

if TYPE_CHECKING:
    from iliopsoas.care.log import CareLog


@contextmanager
def opened(target: CareLog | str | Path) -> Iterator[CareLog]:
    """``target`` itself if it is an open log, else the log at that path, closed afterwards."""
    from iliopsoas.care.log import CareLog

    if isinstance(target, CareLog):
        yield target
        return
    with CareLog(target) as log:  # creates or migrates the database; refuses a damaged or foreign file
        yield log


def outcome_present(con: sqlite3.Connection, rec: OutcomeRecord) -> bool:
    """Whether the same questionnaire (time and measure) is stored already (imports skip it)."""
    return con.execute("SELECT 1 FROM outcomes WHERE taken_at = ? AND measure = ?",
                       (rec.taken_at, rec.measure)).fetchone() is not None


def add_outcome(target: CareLog | str | Path, measure: str, answers: Mapping[str, Any], *,
                taken_at: str | None = None, note: str | None = None) -> tuple[int, OutcomeScore]:
    """Score ``answers`` (an unscorable form raises :class:`~iliopsoas.care.outcomes.OutcomeError`
    first), validate the record, store it; returns ``(row id, score)`` once committed."""
    from iliopsoas.care.log import now_iso

    result = score(measure, answers)
    rec = validate(OutcomeRecord, {"taken_at": taken_at or now_iso(), "measure": measure,
                                   "answers": dict(answers), "note": note}, where="outcome")
    with opened(target) as log, log.transaction() as con:
        return insert_outcome(con, rec), result


def stored_outcomes(log: CareLog) -> list[dict[str, Any]]:
    """The stored questionnaires as records (``taken_at, measure, answers, score, note``), oldest first."""
    return [{"id": r["id"], "taken_at": r["taken_at"], "measure": r["measure"], "score": r["score"], "note": r["note"],
             "answers": log.decode(r["answers_json"], f"questionnaire {r['id']} has unreadable answers")}
            for r in log.query("SELECT * FROM outcomes ORDER BY taken_at, id")]


def outcomes(target: CareLog | str | Path, measure: str | None = None) -> list[dict[str, Any]]:
    """Stored questionnaires, oldest first, each re-scored from its answers (``result``)."""
    with opened(target) as log:
        rows = [r for r in stored_outcomes(log) if measure is None or r["measure"] == measure]
    for r in rows:
        r["result"] = score(r["measure"], r["answers"]).model_dump(mode="json")
    return rows


def has_outcome(target: CareLog | str | Path, taken_at: str, measure: str) -> bool:
    with opened(target) as log:
        return bool(log.query("SELECT 1 FROM outcomes WHERE taken_at = ? AND measure = ?", (taken_at, measure)))


def once(target: CareLog | str | Path, key: str | None, write: Callable[[], dict[str, Any]], *,
         wait_s: float = 10.0) -> tuple[dict[str, Any], bool]:
    """Run ``write`` once per ``key``; return ``(reply, replayed)``. ``key=None`` always writes.

    A repeat of a key whose first request is still running waits for its reply (up to ``wait_s``); a
    first request that failed releases the key, so a retry can write.
    """
    from iliopsoas.care.log import LogError, now_iso

    if key is None:
        return write(), False
    with opened(target) as log:
        try:
            with log.transaction() as con:
                con.execute("INSERT INTO request_keys (key, created_at) VALUES (?, ?)", (key, now_iso()))
        except LogError as exc:
            if not isinstance(exc.__cause__, sqlite3.IntegrityError):
                raise
            deadline = time.monotonic() + wait_s
            while True:
                rows = log.query("SELECT reply_json FROM request_keys WHERE key = ?", (key,))
                if not rows:  # the first attempt failed and let go of the key: try again
                    return once(log, key, write, wait_s=max(0.0, deadline - time.monotonic()))
                if rows[0]["reply_json"] is not None:
                    return json.loads(rows[0]["reply_json"]), True
                if time.monotonic() > deadline:
                    raise TimeoutError(f"request key {key!r} is still being processed") from None
                time.sleep(0.05)
        try:
            reply = write()
        except BaseException:
            try:  # let go of the key so that a retry can write (if even this fails, the first error counts)
                with log.transaction() as con:
                    con.execute("DELETE FROM request_keys WHERE key = ?", (key,))
            except LogError:
                pass
            raise
        with log.transaction() as con:
            con.execute("UPDATE request_keys SET reply_json = ? WHERE key = ?", (json.dumps(reply), key))
    return reply, False
