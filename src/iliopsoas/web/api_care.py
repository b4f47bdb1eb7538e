"""``/api/care``: screening, assessment, plan (+ PDF), guided sessions and progress.

Everything is written to the same SQLite care log as the CLI. A guided session in the browser is a
series of requests: ``POST /sessions`` starts it, each finished set is its own ``POST
/sessions/{id}/steps`` (one committed transaction), and ``POST /sessions/{id}/finish`` ends it. A
browser closed mid-session therefore leaves every finished set saved and the session ``running``;
the next session start marks it ``interrupted``, as the CLI does.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path as FilePath
from typing import Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import Response

from iliopsoas.care.records import MEASURE_RANGES
from iliopsoas.web.schemas import (
    AssessIn,
    FinishIn,
    MeasureIn,
    PlanIn,
    ScreenIn,
    SessionSet,
    SessionStartIn,
    SessionStartOut,
    StepIn,
    StepOut,
    screen_dict,
)

router = APIRouter(prefix="/api/care", tags=["care"])

SessionId = Path(..., ge=1, le=2**53, description="a session id from POST /api/care/sessions")


@contextmanager
def _log(request: Request) -> Iterator[Any]:
    from iliopsoas.care.log import CareLog, LogError

    try:
        log = CareLog(request.app.state.settings.db)
    except LogError as exc:
        raise HTTPException(503, str(exc)) from None
    try:
        yield log
    finally:
        log.close()


def _answers(raw: Any) -> dict[str, bool]:
    from iliopsoas.care.screening import AnswersError, parse_answers

    try:
        return parse_answers(screen_dict(raw))
    except AnswersError as exc:
        raise HTTPException(422, f"screen: {exc}") from None


def _assessment(raw: Mapping[str, Any]) -> Any:
    from iliopsoas.care.assessment import assess, parse_inputs
    from iliopsoas.care.screening import AnswersError

    if not raw:
        return None, {}
    try:
        inputs = parse_inputs(raw)
        return assess(inputs), inputs
    except (AnswersError, TypeError, ValueError) as exc:
        raise HTTPException(422, f"assessment: {exc}") from None


def _plan(body: PlanIn, answers: Mapping[str, bool], scope: str, history: Any) -> Any:
    from iliopsoas.care.planner import PlanOptions, build_plan
    from iliopsoas.care.screening import AnswersError, evaluate

    assessment, _ = _assessment(body.assessment)
    try:
        options = PlanOptions.from_mapping(body.options.model_dump(exclude_none=True))
        return build_plan(evaluate(answers, scope=scope), assessment, options=options, nprs_history=history)
    except (AnswersError, TypeError, ValueError) as exc:
        raise HTTPException(422, f"options: {exc}") from None


# ----------------------------------------------------------------------------------- screen
@router.get("/screen/items")
def screen_items() -> list[dict[str, Any]]:
    """Every screening question, most serious tier first; ``every_session`` items are re-asked each session."""
    from iliopsoas.care.screening import load_items

    return [{**i.summary(), "every_session": i.every_session} for i in load_items()]


@router.post("/screen")
def screen(request: Request, body: ScreenIn) -> dict[str, Any]:
    """Apply the safety screen (red flags, contraindications); logged unless ``log`` is false."""
    from iliopsoas.care.screening import evaluate, pain_rising_reason

    answers = _answers(body.answers)
    result = evaluate(answers)
    out = result.to_json()
    out["logged_at"] = None
    with _log(request) as log:
        if body.log:
            log.log_screen(answers, scope="full", level=result.level, blocked=result.blocked)
            latest = log.latest_screen("full")
            out["logged_at"] = latest["taken_at"] if latest else None
        rising = pain_rising_reason(log.nprs_history())  # as the CLI screen and the planner do
    if rising is not None:
        out["clinician_review"] = True
        out["reasons"].append(rising.to_json())
    return out


# ----------------------------------------------------------------------------------- assess
@router.get("/assess/inputs")
def assess_inputs() -> dict[str, Any]:
    """The self-assessment inputs: ``{name: {type: bool|angle|psfs, question}}``."""
    from iliopsoas.care.assessment import load_rules

    return {k: dict(v) for k, v in load_rules().inputs.items()}


@router.post("/assess")
def assess(request: Request, body: AssessIn) -> dict[str, Any]:
    """Rank likely contributors with reasons and how far each can be trusted (never a diagnosis)."""
    if not body.inputs:
        raise HTTPException(422, "inputs: expected at least one answer (see GET /api/care/assess/inputs)")
    result, inputs = _assessment(body.inputs)
    if body.log:
        with _log(request) as log:
            log.add_assessment_measures(inputs)
    out: dict[str, Any] = result.to_json()
    return out


# ----------------------------------------------------------------------------------- plan
@router.post("/plan")
def plan(request: Request, body: PlanIn) -> dict[str, Any]:
    """Build the program (safety gates first). A blocked plan has no steps, only reasons."""
    answers = _answers(body.screen)
    with _log(request) as log:
        history = log.nprs_history()
    out: dict[str, Any] = _plan(body, answers, "full", history).to_json()
    return out


@router.post("/plan.pdf", response_class=Response,
             responses={200: {"content": {"application/pdf": {}}, "description": "the printable handout"}})
def plan_pdf(request: Request, body: PlanIn) -> Response:
    """The program as a printable PDF handout."""
    from iliopsoas.care.pdf import write_handout

    answers = _answers(body.screen)
    with _log(request) as log:
        history = log.nprs_history()
    result = _plan(body, answers, "full", history)
    with tempfile.TemporaryDirectory(prefix="iliopsoas-pdf-") as tmp:
        path = write_handout(result, FilePath(tmp) / "plan.pdf")
        data = path.read_bytes()
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": 'attachment; filename="hip-flexor-program.pdf"'})


# ----------------------------------------------------------------------------------- sessions
def _expand(steps: Any) -> list[SessionSet]:
    """One entry per set (and side) in the order the CLI player plays them."""
    from iliopsoas.care.player import sides_of

    out = []
    for s in steps:
        d = s.dosage
        n_sets = 1 if s.kind == "habit" else int(d.get("sets", 1))
        sides = [None] if s.kind == "habit" else sides_of(s)
        for k in range(1, n_sets + 1):
            for side in sides:
                out.append(SessionSet(step_id=s.id, name=s.name, kind=s.kind, set_index=k, sets=n_sets, side=side,
                                      hold_s=d.get("hold_s"), reps=d.get("reps"), rest_s=d.get("rest_s"), cue=s.cue))
    return out


@router.post("/sessions", response_model=SessionStartOut, status_code=201,
             responses={409: {"description": "the program is locked by the safety screen"}})
def start_session(request: Request, body: SessionStartIn) -> SessionStartOut:
    """Start a guided session: re-checks the safety screen, builds the plan and opens a log entry.

    ``screen`` must answer every item, or at least the every-session items when a full screen was
    logged in the last 7 days.
    """
    from iliopsoas.care.screening import evaluate, item_ids

    answers = _answers(body.screen)
    full = set(item_ids("full")) <= set(answers)
    with _log(request) as log:
        if not full:
            latest = log.fresh_full_screen()
            if latest is None:
                raise HTTPException(422, "screen: no full safety screen in the last 7 days; answer every item "
                                         "(GET /api/care/screen/items)")
            missing = [i for i in item_ids("session") if i not in answers]
            if missing:
                raise HTTPException(422, f"screen: the every-session checklist is unanswered: {', '.join(missing)}")
            answers = {**latest["answers"], **answers}
        scope = "full" if full else "session"
        result = evaluate(answers, scope=scope)
        log.log_screen(answers, scope=scope, level=result.level, blocked=result.blocked)
        program = _plan(body, answers, scope, log.nprs_history())
        if program.blocked:
            raise HTTPException(409, {"message": "Session not started: the program is locked.", "plan": program.to_json()})
        doc = program.to_json()
        sid = log.start_session(plan=doc, nprs_before=body.nprs_before)
    return SessionStartOut(session_id=sid, plan=doc, sets=_expand(program.steps))


def _session(log: Any, sid: int) -> dict[str, Any]:
    for s in log.sessions():
        if s["id"] == sid:
            return dict(s)
    raise HTTPException(404, f"session {sid} does not exist")


def _running(log: Any, sid: int) -> dict[str, Any]:
    s = _session(log, sid)
    if s["status"] != "running":
        raise HTTPException(409, f"session {sid} is {s['status']}, not running; start a new session")
    return s


@router.post("/sessions/{sid}/steps", response_model=StepOut, status_code=201,
             responses={404: {"description": "no such session"}, 409: {"description": "session not running"}})
def log_step(request: Request, body: StepIn, sid: int = SessionId) -> StepOut:
    """Record one finished (or skipped) set; committed at once, so closing the browser keeps it."""
    with _log(request) as log:
        s = _running(log, sid)
        plan_doc = json.loads(s["plan_json"]) if s.get("plan_json") else {}
        steps = {st["id"]: st for st in plan_doc.get("steps", [])}
        if body.step_id not in steps:
            raise HTTPException(422, f"step_id: {body.step_id!r} is not in this session's plan "
                                     f"(expected one of {', '.join(steps) or 'none'})")
        row = log.log_step(sid, body.step_id, kind=steps[body.step_id].get("kind"), set_index=body.set_index,
                           side=body.side, reps=body.reps, hold_s=body.hold_s, status=body.status)
        s = _session(log, sid)
    return StepOut(id=row, session_id=sid, steps_done=s["steps_done"], steps_skipped=s["steps_skipped"])


@router.post("/sessions/{sid}/finish", responses={404: {"description": "no such session"},
                                                  409: {"description": "session not running"}})
def finish_session(request: Request, body: FinishIn, sid: int = SessionId) -> dict[str, Any]:
    """End a session with the pain score after it (0-10)."""
    with _log(request) as log:
        _running(log, sid)
        log.finish_session(sid, nprs_after=body.nprs_after, status=body.status)
        return _public(_session(log, sid))


_KEYS = ("id", "started_at", "finished_at", "status", "nprs_before", "nprs_after", "steps_done", "steps_skipped")


def _public(s: Mapping[str, Any]) -> dict[str, Any]:
    return {k: s[k] for k in _KEYS}


@router.get("/sessions")
def sessions(request: Request) -> list[dict[str, Any]]:
    """Every logged session, oldest first (web and CLI alike)."""
    with _log(request) as log:
        return [_public(s) for s in log.sessions()]


@router.get("/sessions/{sid}", responses={404: {"description": "no such session"}})
def session(request: Request, sid: int = SessionId) -> dict[str, Any]:
    """One session with its logged sets."""
    with _log(request) as log:
        s = _session(log, sid)
        steps = [{k: t[k] for k in ("step_id", "kind", "set_index", "side", "reps", "hold_s", "status", "completed_at")}
                 for t in log.steps(sid)]
    return {**_public(s), "steps": steps}


# ----------------------------------------------------------------------------------- measures, progress
@router.post("/measures", status_code=201)
def add_measure(request: Request, body: MeasureIn) -> dict[str, Any]:
    """Record a measurement (pain, PSFS, Thomas angles, standing tilt) for the progress charts."""
    lo, hi = MEASURE_RANGES[body.kind]
    if not lo <= body.value <= hi:
        raise HTTPException(422, f"value: {body.kind} must be between {lo:g} and {hi:g}, got {body.value:g}")
    with _log(request) as log:
        mid = log.add_measure(body.kind, body.value, side=body.side, note=body.note)
    return {"id": mid, "kind": body.kind, "value": body.value}


@router.get("/progress")
def progress(request: Request, days_per_week: int = Query(5, ge=1, le=7),
             as_of: date | None = Query(None, description="compute adherence as of this date (default today; "
                                        "from 1900 on)")) -> dict[str, Any]:
    """Adherence, pain with its MCID band, PSFS, Thomas angle and tilt, plus the series to chart."""
    from iliopsoas.care.progress import BANDS, summarize

    if as_of is not None and as_of.year < 1900:  # date arithmetic near year 1 overflows
        raise HTTPException(422, f"as_of: expected a date from 1900-01-01 on, got {as_of.isoformat()}")
    with _log(request) as log:
        rows, measures = log.sessions(), log.measures()
    out = summarize(rows, measures, days_per_week=days_per_week, today=as_of)
    out["series"] = {
        "sessions": [{"t": s["started_at"], "status": s["status"], "nprs_before": s["nprs_before"],
                      "nprs_after": s["nprs_after"], "steps_done": s["steps_done"]} for s in rows],
        "measures": {k: [{"t": m["taken_at"], "value": m["value"]} for m in measures if m["kind"] == k]
                     for k in ("psfs", "thomas_hip_deg", "thomas_knee_deg", "standing_tilt_deg", "nprs")},
        "bands": dict(BANDS),
    }
    return out
