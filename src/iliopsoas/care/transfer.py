"""Export and import of the care log: JSON (everything, nested) and CSV (one flat table).

An import is validated whole with :class:`~iliopsoas.care.records.CareLogExport` before anything
is written, then merged in one transaction: a bad record anywhere rejects the file with a message
naming the record and the field, and the log is left exactly as it was. Records already present
(same start time, same screen time and scope, same measurement, same set) are skipped, so
importing the same file twice adds nothing; a session already present gets only the sets it lacks. Imported screens are stored with ``origin = 'import'``: they are
history, and the safety gate never takes them for the person's latest answers.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from iliopsoas.care.records import CareLogExport, RecordError, validate

if TYPE_CHECKING:
    from iliopsoas.care.log import CareLog

FORMAT = "iliopsoas-care-log"
#: what a step record holds besides its status and completion time (the JSON and CSV exports)
STEP_FIELDS = ("step_id", "kind", "set_index", "side", "reps", "hold_s")
MAX_CSV_BYTES = 200 * 1024 * 1024


def export_doc(log: CareLog) -> dict[str, Any]:
    """The whole log as one JSON-ready document (the ``session export`` / ``data export`` format)."""
    from iliopsoas.care.log import SCHEMA_VERSION, now_iso

    sessions = []
    for s in log.sessions():
        d = {k: s[k] for k in ("id", "started_at", "finished_at", "status", "nprs_before", "nprs_after", "note")}
        try:
            d["plan"] = json.loads(s["plan_json"]) if s["plan_json"] else None
        except ValueError:
            d["plan"] = None  # damage check on open makes this rare; the plan is a copy, the sets are the record
        d["steps"] = [{k: t[k] for k in (*STEP_FIELDS, "status", "completed_at")} for t in log.steps(s["id"])]
        sessions.append(d)
    return {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "exported_at": now_iso(),
        "sessions": sessions,
        "screens": [{k: s[k] for k in ("taken_at", "scope", "level", "blocked", "answers")} for s in log.screens()],
        "measures": [{k: m[k] for k in ("taken_at", "kind", "value", "side", "note")} for m in log.measures()],
    }


def import_doc(log: CareLog, doc: Mapping[str, Any]) -> dict[str, int]:
    """Validate ``doc`` whole, then merge it in one transaction; return the counts added."""
    from iliopsoas.care.log import LogError, _insert_measure, _insert_screen, _insert_session, _insert_step

    if not isinstance(doc, Mapping) or doc.get("format") != FORMAT:
        raise LogError(f'import: not an iliopsoas care-log export (missing "format": "{FORMAT}")')
    try:
        export = validate(CareLogExport, doc)
    except RecordError as exc:
        raise LogError(f"import: {exc}; nothing was imported") from None
    added = {"sessions": 0, "steps": 0, "screens": 0, "measures": 0}
    with log._transaction() as con:
        for s in export.sessions:
            row = con.execute("SELECT id FROM sessions WHERE started_at = ?", (s.started_at,)).fetchone()
            if row is None:
                sid = _insert_session(con, s)
                added["sessions"] += 1
            else:  # a session already here gets only the sets it lacks (e.g. sets a full disk kept out)
                sid = int(row[0])
            for t in s.steps:
                if row is not None and con.execute(
                    "SELECT 1 FROM steps WHERE session_id = ? AND step_id = ? AND set_index IS ? AND side IS ? "
                    "AND status = ? AND completed_at = ?",
                    (sid, t.step_id, t.set_index, t.side, t.status, t.completed_at),
                ).fetchone():
                    continue
                _insert_step(con, sid, t)
                added["steps"] += 1
        for sc in export.screens:
            if con.execute("SELECT 1 FROM screens WHERE taken_at = ? AND scope = ?",
                           (sc.taken_at, sc.scope)).fetchone():
                continue
            _insert_screen(con, sc, origin="import")
            added["screens"] += 1
        for m in export.measures:
            if con.execute("SELECT 1 FROM measures WHERE taken_at = ? AND kind = ? AND value = ?",
                           (m.taken_at, m.kind, m.value)).fetchone():
                continue
            _insert_measure(con, m)
            added["measures"] += 1
    return added


def write_csv(doc: Mapping[str, Any], path: str | Path) -> int:
    """Write ``doc`` (see :func:`export_doc`) as one flat CSV; return the row count."""
    from iliopsoas.care.log import CSV_COLUMNS

    rows: list[dict[str, Any]] = []
    for s in doc["sessions"]:
        base = {"session_id": s["id"], "started_at": s["started_at"], "finished_at": s["finished_at"],
                "session_status": s["status"], "nprs_before": s["nprs_before"], "nprs_after": s["nprs_after"],
                "note": s["note"]}
        if not s["steps"]:
            rows.append({"record": "session", **base})
        for t in s["steps"]:
            rows.append({"record": "step", **base, **{k: t[k] for k in (*STEP_FIELDS, "completed_at")},
                         "step_status": t["status"]})
    for sc in doc["screens"]:
        rows.append({"record": "screen", "taken_at": sc["taken_at"], "scope": sc["scope"], "level": sc["level"],
                     "blocked": int(sc["blocked"]), "answers_json": json.dumps(sc["answers"], sort_keys=True)})
    for m in doc["measures"]:
        rows.append({"record": "measure", "taken_at": m["taken_at"], "measure": m["kind"], "value": m["value"],
                     "side": m["side"], "note": m["note"]})
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in CSV_COLUMNS})
        fh.flush()
    return len(rows)


def read_csv(path: str | Path) -> dict[str, Any]:
    """A CSV written by :func:`write_csv` as an export document (values typed, not yet validated)."""
    from iliopsoas.care.log import CSV_COLUMNS, LogError

    p = Path(path)
    try:
        if not p.is_file():
            raise LogError(f"import: {p} is not a file")
        if p.stat().st_size > MAX_CSV_BYTES:
            raise LogError(f"import: {p} is larger than {MAX_CSV_BYTES // 2**20} MB; expected a care-log export")
        with open(p, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = set(CSV_COLUMNS) - set(reader.fieldnames or ())
            if missing:
                raise LogError(f"import: {p} lacks the CSV column(s) {sorted(missing)}")
            table = list(reader)
    except OSError as exc:
        raise LogError(f"import: cannot read {p}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise LogError(f"import: {p} is not a readable CSV file ({exc})") from exc
    sessions: dict[str, dict[str, Any]] = {}
    screens, measures = [], []
    for n, r in enumerate(table, start=2):
        at = f"import: {p} line {n}"
        kind = r["record"]
        try:
            if kind in ("step", "session"):
                s = sessions.setdefault(r["session_id"], {
                    "started_at": r["started_at"], "finished_at": r["finished_at"] or None,
                    "status": r["session_status"] or "completed", "nprs_before": _int(r["nprs_before"], "nprs_before"),
                    "nprs_after": _int(r["nprs_after"], "nprs_after"), "note": r["note"] or None, "steps": [],
                })
                if kind == "step":
                    s["steps"].append({
                        "step_id": r["step_id"], "kind": r["kind"] or None,
                        "set_index": _int(r["set_index"], "set_index"), "side": r["side"] or None,
                        "reps": _int(r["reps"], "reps"), "hold_s": _float(r["hold_s"], "hold_s"),
                        "status": r["step_status"] or "done", "completed_at": r["completed_at"],
                    })
            elif kind == "screen":
                try:
                    answers = json.loads(r["answers_json"])
                except ValueError:
                    raise ValueError(f"answers_json: expected a JSON object, got {r['answers_json'][:40]!r}") from None
                screens.append({"taken_at": r["taken_at"], "scope": r["scope"], "level": r["level"],
                                "blocked": _bool(r["blocked"]), "answers": answers})
            elif kind == "measure":
                measures.append({"taken_at": r["taken_at"], "kind": r["measure"], "value": _float(r["value"], "value"),
                                 "side": r["side"] or None, "note": r["note"] or None})
            else:
                raise ValueError(f"record: expected step, session, screen or measure, got {kind!r}")
        except ValueError as exc:
            raise LogError(f"{at}: {exc}; nothing was imported") from None
    return {"format": FORMAT, "sessions": list(sessions.values()), "screens": screens, "measures": measures}


def _int(text: str, name: str) -> int | None:
    if text in ("", None):
        return None
    t = text.strip()
    if len(t) > 20 or not t.lstrip("+-").isdigit():
        raise ValueError(f"{name}: expected a whole number, got {text[:40]!r}")
    return int(t)


def _float(text: str, name: str) -> float | None:
    if text in ("", None):
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name}: expected a number, got {text[:40]!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {text[:40]!r}")
    return value


def _bool(text: str) -> bool:
    if text in ("1", "True", "true"):
        return True
    if text in ("0", "False", "false"):
        return False
    raise ValueError(f"blocked: expected 0 or 1, got {text[:40]!r}")
