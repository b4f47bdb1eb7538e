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

from fastapi import APIRouter, Header, HTTPException, Path, Query, Request
from fastapi.responses import Response

from iliopsoas.web.schemas import (
    AssessIn,
    FinishIn,
    MeasureIn,
    OutcomeIn,
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
IdempotencyKey = Header(None, alias="Idempotency-Key", max_length=200,
                        description="repeat a write with the same key and it is done once (double clicks, retries)")


def _once(request: Request, key: str | None, scope: str, write: Any) -> Any:
    """Do ``write`` once per ``Idempotency-Key`` (see ``care.outcome_log.once``)."""
    from iliopsoas.care.outcome_log import once

    reply, _ = once(_db_path(request), None if key is None else f"{scope}:{key}", write)
    return reply


def _db_path(request: Request) -> FilePath:
    from iliopsoas.care.log import default_db_path

    return default_db_path(request.app.state.settings.db)


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

    return [{**i.summary(), "every_session": i.every_session, "topic": i.topic,
             "group": getattr(i, "group", None)} for i in load_items()]


@router.post("/screen")
def screen(request: Request, body: ScreenIn, key: str | None = IdempotencyKey) -> dict[str, Any]:
    """Apply the safety screen (red flags, contraindications); logged unless ``log`` is false.

    With an ``Idempotency-Key`` header, checking the same answers again logs them once.
    """
    from iliopsoas.care.screening import evaluate, pain_rising_reason

    answers = _answers(body.answers)
    result = evaluate(answers)
    out = result.to_json()
    out["logged_at"] = None
    if body.log:
        def write() -> dict[str, Any]:
            with _log(request) as log:
                log.log_screen(answers, scope="full", level=result.level, blocked=result.blocked)
                latest = log.latest_screen("full")
            return {"taken_at": latest["taken_at"] if latest else None}

        out["logged_at"] = _once(request, key, "screen", write)["taken_at"]
    with _log(request) as log:
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
def assess(request: Request, body: AssessIn, key: str | None = IdempotencyKey) -> dict[str, Any]:
    """Rank likely contributors with reasons and how far each can be trusted (never a diagnosis).

    The measured inputs (Thomas angles, tilt, PSFS) are saved for the progress charts when ``log`` is
    true; with an ``Idempotency-Key`` header, ranking the same answers again saves nothing twice.
    """
    if not body.inputs:
        raise HTTPException(422, "inputs: expected at least one answer (see GET /api/care/assess/inputs)")
    result, inputs = _assessment(body.inputs)
    if body.log:
        def write() -> dict[str, Any]:
            with _log(request) as log:
                log.add_assessment_measures(inputs)
            return {"saved": True}

        _once(request, key, "assess", write)
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


@router.get("/release-notice")
def release_notice() -> dict[str, Any]:
    """What opting in to pressure release means: its evidence grade, what it lacks and its risks."""
    from iliopsoas.care.planner import release_notice as notice

    return notice()


@router.post("/plan.pdf", response_class=Response,
             responses={200: {"content": {"application/pdf": {}}, "description": "the printable handout"}})
def plan_pdf(request: Request, body: PlanIn,
             name: str | None = Query(None, max_length=100, description="the person's name for the handout")) -> Response:
    """The program as a printable PDF handout: name and date, clinician contact space, the steps, a log table."""
    from iliopsoas.care.pdf import write_handout

    answers = _answers(body.screen)
    with _log(request) as log:
        history = log.nprs_history()
        exported = log.export_json()
    result = _plan(body, answers, "full", history)
    with tempfile.TemporaryDirectory(prefix="iliopsoas-pdf-") as tmp:
        path = write_handout(result, FilePath(tmp) / "plan.pdf", name=name, log=exported,
                             figures=_figure_files(request, result.steps))
        data = path.read_bytes()
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": 'attachment; filename="hip-flexor-program.pdf"'})


# ----------------------------------------------------------------------------------- sessions
def _expand(steps: Any, request: Request) -> list[SessionSet]:
    """One entry per set (and side) in play order: ``care.sets.expand_sets``, shared with the CLI player."""
    from iliopsoas.care.sets import expand_sets

    drawn = _drawn(request)
    return [SessionSet(**x.to_json(), figure=f"/api/care/exercises/{x.step_id}/figure.svg" if x.step_id in drawn else None)
            for x in expand_sets(steps)]


def _drawn(request: Request) -> set[str]:
    """Ids of the exercises the app draws a figure for (``GET /api/care/exercises``); empty if unavailable."""
    try:
        return set(request.app.state.settings.exercise_figures().poses)
    except Exception:  # the figures are an extra: a session runs without pictures
        return set()


def _figure_files(request: Request, steps: Any) -> dict[str, FilePath]:
    """PNG figures of the steps for the PDF handout (rendered on first use; a failure leaves one out)."""
    drawn, out = _drawn(request), {}
    if not drawn:
        return {}
    store = request.app.state.settings.exercise_figures()
    for s in steps:
        if s.id in drawn:
            try:
                out[s.id] = store.path(s.id, "png")
            except Exception:  # a figure that cannot be drawn is left out of the handout, not fatal
                continue
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
                raise HTTPException(422, "Safety screen: please answer every question in step 1 first (the full "
                                         "screen is needed once every 7 days).")
            missing = [i for i in item_ids("session") if i not in answers]
            if missing:
                raise HTTPException(422, "Safety screen: these questions are still unanswered: "
                                         + " ".join(f'"{q}"' for q in _questions(missing)))
            answers = {**latest["answers"], **answers}
        scope = "full" if full else "session"
        result = evaluate(answers, scope=scope)
        log.log_screen(answers, scope=scope, level=result.level, blocked=result.blocked)
        program = _plan(body, answers, scope, log.nprs_history())
        if program.blocked:
            raise HTTPException(409, {"message": "Session not started: the program is locked.", "plan": program.to_json()})
        doc = program.to_json()
        sid = log.start_session(plan=doc, nprs_before=body.nprs_before)
    return SessionStartOut(session_id=sid, plan=doc, sets=_expand(program.steps, request))


def _questions(ids: Any) -> list[str]:
    from iliopsoas.care.screening import load_items

    by_id = {i.id: i.question for i in load_items()}
    return [by_id.get(i, i) for i in ids]


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
def log_step(request: Request, body: StepIn, sid: int = SessionId, key: str | None = IdempotencyKey) -> StepOut:
    """Record one finished (or skipped) set; committed at once, so closing the browser keeps it.

    With an ``Idempotency-Key`` header a repeated request (a double click, a retry after a lost reply)
    returns the first reply and records nothing more.
    """
    def write() -> dict[str, Any]:
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
        return StepOut(id=row, session_id=sid, steps_done=s["steps_done"],
                       steps_skipped=s["steps_skipped"]).model_dump()

    return StepOut(**_once(request, key, f"step:{sid}", write))


@router.post("/sessions/{sid}/finish", responses={404: {"description": "no such session"},
                                                  409: {"description": "session not running"}})
def finish_session(request: Request, body: FinishIn, sid: int = SessionId,
                   key: str | None = IdempotencyKey) -> dict[str, Any]:
    """End a session with the pain score after it (0-10, or null when not given)."""
    def write() -> dict[str, Any]:
        with _log(request) as log:
            _running(log, sid)
            log.finish_session(sid, nprs_after=body.nprs_after, status=body.status)
            return _public(_session(log, sid))

    out: dict[str, Any] = _once(request, key, f"finish:{sid}", write)
    return out


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
def add_measure(request: Request, body: MeasureIn, key: str | None = IdempotencyKey) -> dict[str, Any]:
    """Record a measurement (pain, PSFS, Thomas angles, standing tilt) for the progress charts."""
    from iliopsoas.care.measures import check_value

    problem = check_value(body.kind, body.value)
    if problem:
        raise HTTPException(422, f"value: {problem}")

    def write() -> dict[str, Any]:
        with _log(request) as log:
            mid = log.add_measure(body.kind, body.value, side=body.side, note=body.note)
        return {"id": mid, "kind": body.kind, "value": body.value}

    out: dict[str, Any] = _once(request, key, "measure", write)
    return out


@router.get("/measures/kinds")
def measure_kinds() -> list[dict[str, Any]]:
    """What can be measured: kind, label, unit, allowed range and the published change band."""
    from iliopsoas.care.measures import MEASURES

    return [m.to_json() for m in MEASURES.values()]


@router.get("/progress")
def progress(request: Request, days_per_week: int = Query(5, ge=1, le=7),
             as_of: date | None = Query(None, description="compute adherence as of this date (default today; "
                                        "from 1900 on)")) -> dict[str, Any]:
    """Adherence, pain with its MCID band, PSFS, Thomas angles, tilt and the scored questionnaires
    (each with its MCID), plus the series to chart."""
    from iliopsoas.care.measures import MEASURES
    from iliopsoas.care.outcome_log import outcomes
    from iliopsoas.care.progress import summarize

    if as_of is not None and as_of.year < 1900:  # date arithmetic near year 1 overflows
        raise HTTPException(422, f"as_of: expected a date from 1900-01-01 on, got {as_of.isoformat()}")
    with _log(request) as log:
        rows, measures, taken = log.sessions(), log.measures(), outcomes(log)
    out = summarize(rows, measures, days_per_week=days_per_week, today=as_of, outcomes=taken)
    out["series"] = {
        "sessions": [{"t": s["started_at"], "status": s["status"], "nprs_before": s["nprs_before"],
                      "nprs_after": s["nprs_after"], "steps_done": s["steps_done"]} for s in rows],
        "measures": {k: [{"t": m["taken_at"], "value": m["value"]} for m in measures if m["kind"] == k]
                     for k in MEASURES},
        "bands": {k: m.band for k, m in MEASURES.items()},
        "measure_kinds": [m.to_json() for m in MEASURES.values()],
        "outcomes": {q: [{"t": o["taken_at"], "value": o["result"]["score"]} for o in taken if o["measure"] == q]
                     for q in dict.fromkeys(o["measure"] for o in taken)},
    }
    return out


# ----------------------------------------------------------------------------------- outcomes
Measure = Path(..., description="psfs, hoos12, ihot12 or odi")


def _questionnaire(measure: str) -> Any:
    from iliopsoas.care.outcomes import OutcomeError, questionnaire

    try:
        return questionnaire(measure)
    except OutcomeError as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/outcomes")
def outcome_list(request: Request) -> dict[str, Any]:
    """The questionnaires on offer and every stored one, oldest first, each with its score and MCID."""
    from iliopsoas.care.outcome_log import outcomes
    from iliopsoas.care.outcomes import QUESTIONNAIRES

    return {"measures": [q.to_json() for q in QUESTIONNAIRES.values()], "taken": outcomes(_db_path(request))}


@router.get("/outcomes/{measure}", responses={404: {"description": "no such questionnaire"}})
def outcome_form(measure: str = Measure) -> dict[str, Any]:
    """One questionnaire: items (our own short labels), answer ranges, scoring source and MCID."""
    out: dict[str, Any] = _questionnaire(measure).to_json()
    return out


@router.post("/outcomes/{measure}", responses={404: {"description": "no such questionnaire"}})
def outcome_score(request: Request, body: OutcomeIn, measure: str = Measure,
                  key: str | None = IdempotencyKey) -> dict[str, Any]:
    """Score answers exactly as published: ``{measure, score, subscales, mcid, missing_items, ...}``."""
    from iliopsoas.care.outcome_log import add_outcome
    from iliopsoas.care.outcomes import OutcomeError, score

    _questionnaire(measure)
    try:
        result = score(measure, body.answers)
    except OutcomeError as exc:
        raise HTTPException(422, f"answers: {exc}") from None
    out: dict[str, Any] = result.model_dump(mode="json")
    if body.log:
        def write() -> dict[str, Any]:
            oid, _ = add_outcome(_db_path(request), measure, body.answers)
            return {"id": oid}

        out["logged_id"] = _once(request, key, f"outcome:{measure}", write)["id"]
    return out
