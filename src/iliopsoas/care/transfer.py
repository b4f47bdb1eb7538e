"""Export and import of the care log: JSON (everything, nested), CSV (one flat table), FHIR R4 Bundle.

What travels: every table of :data:`~iliopsoas.care.log.USER_TABLES` -- sessions with their sets,
safety screens, measurements, scored questionnaires (``outcomes``) and atlas quiz cards
(``study_cards``). The FHIR Bundle (:mod:`iliopsoas.care.fhir`) is a hand-off to a clinician's system:
it carries the care records and questionnaires but not the quiz cards (study progress, not health
data); JSON and CSV are complete copies.

An import is validated whole with :class:`~iliopsoas.care.records.CareLogExport` (the same models the
log, the API and ``data rescue`` use) before anything is written, then merged in ONE transaction: a
bad record anywhere rejects the file with a message naming the record and the field, and a failure
midway (a full disk) rolls everything back, so the log is left exactly as it was. Records already
present (same start time, same screen time and scope, same measurement, same set, same questionnaire
time and measure) are skipped, so importing the same file twice adds nothing; a session already
present gets only the sets it lacks; a quiz card replaces the stored one only when it was reviewed
later. Imported screens are stored with ``origin = 'import'``: they are history, and the safety gate
never takes them for the person's latest answers.

:func:`export_file` and :func:`read_import` are the file-level entry points of ``iliopsoas data
export`` / ``data import`` (and their aliases ``session export`` / ``session import``).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from iliopsoas.care.log import CareLog, LogError
from iliopsoas.care.records import CareLogExport, RecordError, parse_time, validate
from iliopsoas.care.schema import (
    CSV_COLUMNS,
    CSV_REQUIRED,
    insert_measure,
    insert_outcome,
    insert_screen,
    insert_session,
    insert_step,
    put_card,
)

FORMAT = "iliopsoas-care-log"
#: the formats :func:`export_file` writes (and :func:`read_import` reads)
FORMATS = ("json", "csv", "fhir")
#: what a step record holds besides its status and completion time (the JSON and CSV exports)
STEP_FIELDS = ("step_id", "kind", "set_index", "side", "reps", "hold_s")
#: the keys of a questionnaire and of a quiz-card record in an export
OUTCOME_FIELDS = ("taken_at", "measure", "answers", "score", "note")
CARD_FIELDS = ("statement_id", "card", "reviews", "last_rating", "updated_at")
MAX_CSV_BYTES = 200 * 1024 * 1024
MAX_IMPORT_BYTES = 200 * 1024 * 1024


class ImportFormatError(LogError):
    """The file is not one ``data import`` reads at all (not JSON or CSV, nested too deeply...)."""


def export_doc(log: CareLog) -> dict[str, Any]:
    """The whole log as one JSON-ready document (the ``data export`` / ``session export`` format)."""
    from iliopsoas.care.log import SCHEMA_VERSION, now_iso
    from iliopsoas.care.outcome_log import stored_outcomes
    from iliopsoas.care.study_log import stored_cards

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
        "outcomes": [{k: o[k] for k in OUTCOME_FIELDS} for o in stored_outcomes(log)],
        "study_cards": [{k: c[k] for k in CARD_FIELDS} for c in stored_cards(log)],
    }


def record_count(doc: Mapping[str, Any]) -> int:
    """How many records an export document holds (sessions, sets, screens, measurements,
    questionnaires and quiz cards)."""
    sessions = doc.get("sessions") or ()
    return (len(sessions) + sum(len(s.get("steps") or ()) for s in sessions)
            + sum(len(doc.get(k) or ()) for k in ("screens", "measures", "outcomes", "study_cards")))


def import_doc(log: CareLog, doc: Mapping[str, Any]) -> dict[str, int]:
    """Validate ``doc`` whole, then merge it in one transaction; return the counts added."""
    from iliopsoas.care.outcome_log import outcome_present
    from iliopsoas.care.study_log import card_updated_at

    if not isinstance(doc, Mapping) or doc.get("format") != FORMAT:
        raise LogError(f'import: not an iliopsoas care-log export (missing "format": "{FORMAT}")')
    try:
        export = validate(CareLogExport, doc)
    except RecordError as exc:
        raise LogError(f"import: {exc}; nothing was imported") from None
    added = dict.fromkeys(("sessions", "steps", "screens", "measures", "outcomes", "study_cards"), 0)
    with log.transaction() as con:
        for s in export.sessions:
            row = con.execute("SELECT id FROM sessions WHERE started_at = ?", (s.started_at,)).fetchone()
            if row is None:
                sid = insert_session(con, s)
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
                insert_step(con, sid, t)
                added["steps"] += 1
        for sc in export.screens:
            if con.execute("SELECT 1 FROM screens WHERE taken_at = ? AND scope = ?",
                           (sc.taken_at, sc.scope)).fetchone():
                continue
            insert_screen(con, sc, origin="import")
            added["screens"] += 1
        for m in export.measures:
            if con.execute("SELECT 1 FROM measures WHERE taken_at = ? AND kind = ? AND value = ?",
                           (m.taken_at, m.kind, m.value)).fetchone():
                continue
            insert_measure(con, m)
            added["measures"] += 1
        for o in export.outcomes:
            if not outcome_present(con, o):
                insert_outcome(con, o)
                added["outcomes"] += 1
        for c in export.study_cards:
            stored = card_updated_at(con, c.statement_id)
            if stored is None or _later(c.updated_at, stored):
                put_card(con, c)
                added["study_cards"] += 1
    return added


def _later(a: str, b: str) -> bool:
    try:
        return parse_time(a) > parse_time(b)
    except ValueError:  # a stored time that cannot be read: the validated imported card wins
        return True


# ------------------------------------------------------------------------------------------- files
def export_file(log: CareLog, path: str | Path, fmt: str) -> int:
    """Write the whole log to ``path`` as ``fmt`` (one of :data:`FORMATS`); return how many records
    (json), rows (csv) or FHIR resources (fhir) were written. The caller makes it atomic."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    doc = export_doc(log)
    if fmt == "csv":
        return write_csv(doc, path)
    if fmt == "fhir":
        from iliopsoas.care.fhir import export_to_bundle

        bundle = export_to_bundle(doc)
        Path(path).write_text(json.dumps(bundle, indent=1), encoding="utf-8")
        return len(bundle["entry"])
    Path(path).write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return record_count(doc)


def is_csv(path: str | Path) -> bool:
    """Whether ``path`` is a CSV export: by its ``.csv`` name or its ``record,...`` header line."""
    p = Path(path)
    if p.suffix.lower() == ".csv":
        return True
    try:
        with open(p, "rb") as fh:
            start = fh.read(64)
    except OSError as exc:
        raise LogError(f"import: cannot read {p}: {exc.strerror or exc}") from exc
    return start.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"record,")


def read_import(path: str | Path) -> tuple[str, dict[str, Any]]:
    """``(format, care-log export document)`` read from a file written by :func:`export_file` (or a
    FHIR Bundle from elsewhere that follows :mod:`iliopsoas.care.fhir`). Not validated yet: that is
    :func:`import_doc`'s job. A file that is not JSON or CSV raises :class:`ImportFormatError`,
    a FHIR Bundle this program cannot read a :class:`LogError`."""
    from iliopsoas.care.fhir import FhirError, bundle_to_export

    p = Path(path)
    if is_csv(p):
        return "csv", read_csv(p)
    try:
        if p.stat().st_size > MAX_IMPORT_BYTES:
            raise ImportFormatError(f"import: {p} is larger than {MAX_IMPORT_BYTES // 2**20} MB; expected a "
                                    "care-log export")
        doc = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LogError(f"import: cannot read {p}: {exc.strerror or exc}") from exc
    except RecursionError:
        raise ImportFormatError(f"import: {p} is nested too deeply; expected a care-log export") from None
    except ValueError as exc:  # not JSON, not UTF-8, or a number of more than 4300 digits
        raise ImportFormatError(f"import: {p} is not valid JSON: {str(exc)[:200]}") from None
    if isinstance(doc, dict) and doc.get("resourceType") == "Bundle":
        try:
            bundle_doc, _ = bundle_to_export(doc)
        except FhirError as exc:
            raise LogError(f"import: {p}: {exc}; nothing was imported") from None
        return "fhir", bundle_doc
    return "json", doc


def write_csv(doc: Mapping[str, Any], path: str | Path) -> int:
    """Write ``doc`` (see :func:`export_doc`) as one flat CSV; return the row count."""
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
    for o in doc.get("outcomes") or ():
        rows.append({"record": "outcome", "taken_at": o["taken_at"], "measure": o["measure"], "value": o["score"],
                     "answers_json": json.dumps(o["answers"], sort_keys=True), "note": o["note"]})
    for c in doc.get("study_cards") or ():
        rows.append({"record": "study_card", "statement_id": c["statement_id"],
                     "card_json": json.dumps(c["card"], sort_keys=True), "reviews": c["reviews"],
                     "last_rating": c["last_rating"], "updated_at": c["updated_at"]})
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in CSV_COLUMNS})
        fh.flush()
    return len(rows)


def read_csv(path: str | Path) -> dict[str, Any]:
    """A CSV written by :func:`write_csv` as an export document (values typed, not yet validated).
    The quiz-card columns may be absent (CSV exports written before they existed)."""
    p = Path(path)
    try:
        if not p.is_file():
            raise LogError(f"import: {p} is not a file")
        if p.stat().st_size > MAX_CSV_BYTES:
            raise LogError(f"import: {p} is larger than {MAX_CSV_BYTES // 2**20} MB; expected a care-log export")
        with open(p, newline="", encoding="utf-8-sig") as fh:  # a spreadsheet may add a byte-order mark
            reader = csv.DictReader(fh)
            missing = set(CSV_REQUIRED) - set(reader.fieldnames or ())
            if missing:
                raise LogError(f"import: {p} lacks the CSV column(s) {sorted(missing)}")
            table = list(reader)
    except OSError as exc:
        raise LogError(f"import: cannot read {p}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise LogError(f"import: {p} is not a readable CSV file ({exc})") from exc
    sessions: dict[str, dict[str, Any]] = {}
    screens: list[dict[str, Any]] = []
    measures: list[dict[str, Any]] = []
    outcomes: list[dict[str, Any]] = []
    cards: list[dict[str, Any]] = []
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
                screens.append({"taken_at": r["taken_at"], "scope": r["scope"], "level": r["level"],
                                "blocked": _bool(r["blocked"]), "answers": _json(r["answers_json"], "answers_json")})
            elif kind == "measure":
                measures.append({"taken_at": r["taken_at"], "kind": r["measure"], "value": _float(r["value"], "value"),
                                 "side": r["side"] or None, "note": r["note"] or None})
            elif kind == "outcome":
                outcomes.append({"taken_at": r["taken_at"], "measure": r["measure"],
                                 "answers": _json(r["answers_json"], "answers_json"), "note": r["note"] or None})
            elif kind == "study_card":
                cards.append({"statement_id": r.get("statement_id") or "",
                              "card": _json(r.get("card_json") or "", "card_json"),
                              "reviews": _int(r.get("reviews") or "", "reviews"),
                              "last_rating": _int(r.get("last_rating") or "", "last_rating"),
                              "updated_at": r.get("updated_at") or ""})
            else:
                raise ValueError(f"record: expected step, session, screen, measure, outcome or study_card, "
                                 f"got {kind!r}")
        except ValueError as exc:
            raise LogError(f"{at}: {exc}; nothing was imported") from None
    return {"format": FORMAT, "sessions": list(sessions.values()), "screens": screens, "measures": measures,
            "outcomes": outcomes, "study_cards": cards}


def _json(text: str, name: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError(f"{name}: expected a JSON object, got {text[:40]!r}") from None


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
