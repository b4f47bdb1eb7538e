"""Atlas quiz progress: one spaced-repetition card per atlas statement, in the care database.

The cards live in their own table (``study_cards``) of the same SQLite file as the care log
(:func:`iliopsoas.care.log.default_db_path`), created when first needed; the care log's own
tables and schema version are not touched. Scheduling is FSRS (the ``fsrs`` package): each
review with a rating (1 again, 2 hard, 3 good, 4 easy) gives the card its next due time. A
review is committed before it is acknowledged.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from iliopsoas.care.log import LogError, default_db_path

RATINGS = {1: "again", 2: "hard", 3: "good", 4: "easy"}
_SCHEMA = """CREATE TABLE IF NOT EXISTS study_cards (
    statement_id TEXT PRIMARY KEY,
    card_json TEXT NOT NULL,
    due TEXT NOT NULL,
    reviews INTEGER NOT NULL DEFAULT 0,
    last_rating INTEGER,
    updated_at TEXT NOT NULL
)"""


class StudyLog:
    """Quiz cards in the care database. Use as a context manager."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = default_db_path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._con = sqlite3.connect(str(self.path), timeout=10.0, isolation_level=None)
            self._con.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise LogError(f"cannot open the study cards in {self.path}: {exc}") from exc
        self._con.row_factory = sqlite3.Row

    def __enter__(self) -> StudyLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._con.close()

    def due(self, statement_ids: Iterable[str], *, now: datetime | None = None) -> list[str]:
        """Of ``statement_ids`` (in their order), those never studied or due by ``now``: new cards
        after the due ones, which come earliest-due first."""
        ids = list(dict.fromkeys(statement_ids))
        when = (now or datetime.now(UTC)).isoformat()
        rows = {r["statement_id"]: r["due"] for r in self._con.execute("SELECT statement_id, due FROM study_cards")}
        due = sorted((rows[i], i) for i in ids if i in rows and rows[i] <= when)
        return [i for _, i in due] + [i for i in ids if i not in rows]

    def review(self, statement_id: str, rating: int, *, now: datetime | None = None) -> dict[str, Any]:
        """Record one review; returns ``{"statement_id", "due", "reviews", "rating"}`` once committed."""
        from fsrs import Card, Rating, Scheduler

        if rating not in RATINGS:
            raise ValueError(f"rating must be 1 (again), 2 (hard), 3 (good) or 4 (easy), got {rating!r}")
        when = now or datetime.now(UTC)
        row = self._con.execute("SELECT card_json, reviews FROM study_cards WHERE statement_id = ?",
                                (statement_id,)).fetchone()
        card = Card.from_dict(json.loads(row["card_json"])) if row else Card()
        card, _ = Scheduler().review_card(card, Rating(rating), review_datetime=when)
        reviews = (row["reviews"] if row else 0) + 1
        due = card.due.isoformat()
        try:
            self._con.execute(
                "INSERT INTO study_cards (statement_id, card_json, due, reviews, last_rating, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(statement_id) DO UPDATE SET card_json = excluded.card_json, "
                "due = excluded.due, reviews = excluded.reviews, last_rating = excluded.last_rating, "
                "updated_at = excluded.updated_at",
                (statement_id, json.dumps(card.to_dict()), due, reviews, rating, when.isoformat()))
        except sqlite3.Error as exc:
            raise LogError(f"cannot save the review of {statement_id} in {self.path}: {exc}") from exc
        return {"statement_id": statement_id, "due": due, "reviews": reviews, "rating": RATINGS[rating]}

    def stats(self, statement_ids: Iterable[str], *, now: datetime | None = None) -> dict[str, int]:
        """``{"cards", "studied", "due", "new"}`` over ``statement_ids``."""
        ids = set(statement_ids)
        when = (now or datetime.now(UTC)).isoformat()
        rows = [r for r in self._con.execute("SELECT statement_id, due FROM study_cards") if r["statement_id"] in ids]
        due = sum(1 for r in rows if r["due"] <= when)
        return {"cards": len(ids), "studied": len(rows), "due": due, "new": len(ids) - len(rows)}
