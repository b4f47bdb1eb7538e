"""Atlas quiz progress: one spaced-repetition card per atlas statement, in the care database.

The cards live in the ``study_cards`` table of the care database (:func:`iliopsoas.care.log.default_db_path`),
created by the log's migrations (schema version 5). They are read and written only through an open
:class:`~iliopsoas.care.log.CareLog`, so a damaged file is refused before anything is written, a
read-only file is only read, and a failed write is a one-line :class:`~iliopsoas.care.log.LogError`.
Each card is checked with :class:`~iliopsoas.care.records.StudyCardRecord` before it is written; the
cards travel with ``data export``/``import`` and ``data rescue`` like the rest of the log.

Scheduling is FSRS (the ``fsrs`` package): each review with a rating (1 again, 2 hard, 3 good,
4 easy) gives the card its next due time. A review is committed before it is acknowledged.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from iliopsoas.care.log import CareLog
from iliopsoas.care.records import StudyCardRecord, validate
from iliopsoas.care.schema import put_card

RATINGS = {1: "again", 2: "hard", 3: "good", 4: "easy"}


def card_updated_at(con: sqlite3.Connection, statement_id: str) -> str | None:
    """When the stored card of ``statement_id`` was last reviewed (None: no such card)."""
    row = con.execute("SELECT updated_at FROM study_cards WHERE statement_id = ?", (statement_id,)).fetchone()
    return None if row is None else str(row[0])


def stored_cards(log: CareLog) -> list[dict[str, Any]]:
    """Every card as a record (``statement_id, card, reviews, last_rating, updated_at``), by statement."""
    return [{"statement_id": r["statement_id"], "reviews": r["reviews"], "last_rating": r["last_rating"],
             "updated_at": r["updated_at"], "card": log.decode(r["card_json"], f"quiz card {r['statement_id']!r} is unreadable")}
            for r in log.query("SELECT * FROM study_cards ORDER BY statement_id")]


class StudyLog:
    """Quiz cards in the care database. Use as a context manager."""

    def __init__(self, path: str | Path | None = None) -> None:
        self._log = CareLog(path)  # damage check, migration; LogError with one line if unusable
        self.path = self._log.path

    def __enter__(self) -> StudyLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._log.close()

    def _dues(self) -> dict[str, str]:
        return {r["statement_id"]: r["due"] for r in self._log.query("SELECT statement_id, due FROM study_cards")}

    def due(self, statement_ids: Iterable[str], *, now: datetime | None = None) -> list[str]:
        """Of ``statement_ids`` (in their order), those never studied or due by ``now``: new cards
        after the due ones, which come earliest-due first."""
        ids = list(dict.fromkeys(statement_ids))
        when = (now or datetime.now(UTC)).isoformat()
        rows = self._dues()
        due = sorted((rows[i], i) for i in ids if i in rows and rows[i] <= when)
        return [i for _, i in due] + [i for i in ids if i not in rows]

    def review(self, statement_id: str, rating: int, *, now: datetime | None = None) -> dict[str, Any]:
        """Record one review; returns ``{"statement_id", "due", "reviews", "rating"}`` once committed."""
        from fsrs import Card, Rating, Scheduler

        if rating not in RATINGS:
            raise ValueError(f"rating must be 1 (again), 2 (hard), 3 (good) or 4 (easy), got {rating!r}")
        when = now or datetime.now(UTC)
        with self._log.transaction() as con:  # read, schedule and write in one transaction
            row = con.execute("SELECT card_json, reviews FROM study_cards WHERE statement_id = ?",
                              (statement_id,)).fetchone()
            card = Card.from_dict(json.loads(row["card_json"])) if row else Card()
            card, _ = Scheduler().review_card(card, Rating(rating), review_datetime=when)
            rec = validate(StudyCardRecord, {
                "statement_id": statement_id, "card": card.to_dict(), "reviews": (row["reviews"] if row else 0) + 1,
                "last_rating": rating, "updated_at": when.isoformat()}, where="study card")
            put_card(con, rec)
        return {"statement_id": statement_id, "due": rec.due, "reviews": rec.reviews, "rating": RATINGS[rating]}

    def stats(self, statement_ids: Iterable[str], *, now: datetime | None = None) -> dict[str, int]:
        """``{"cards", "studied", "due", "new"}`` over ``statement_ids``."""
        ids = set(statement_ids)
        when = (now or datetime.now(UTC)).isoformat()
        rows = {k: v for k, v in self._dues().items() if k in ids}
        due = sum(1 for v in rows.values() if v <= when)
        return {"cards": len(ids), "studied": len(rows), "due": due, "new": len(ids) - len(rows)}
