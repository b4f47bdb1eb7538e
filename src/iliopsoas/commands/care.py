"""Care commands: ``screen``, ``assess``, ``plan``, ``progress`` and the ``session`` group.

Libraries are imported inside the command functions so ``iliopsoas --help`` stays fast. Every
command has ``--json`` and a non-interactive mode driven by an answers file (JSON or YAML).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from iliopsoas.commands._common import console, fail, output_path, print_json

session_app = typer.Typer(help="Guided sessions and the session log.", no_args_is_help=True)

DbOption = typer.Option(
    None, "--db", help="Care database file (default: $ILIOPSOAS_DB or the user data dir)."
)
JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON.")


def _answers(path: Path) -> dict[str, Any]:
    from iliopsoas.care.screening import AnswersError, read_answers_file

    try:
        return read_answers_file(path)
    except AnswersError as exc:
        fail(str(exc), 2 if exc.malformed else 1)


def _split(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Split an answers mapping into (screen, assessment, options): nested sections or a flat mapping."""
    from iliopsoas.care.assessment import input_names
    from iliopsoas.care.planner import PlanOptions
    from iliopsoas.care.screening import AnswersError

    if any(k in raw for k in ("screen", "assessment", "options")):
        extra = set(raw) - {"screen", "assessment", "options"}
        if extra:
            raise AnswersError(
                f"answers file mixes sections (screen/assessment/options) with other keys: {sorted(extra)}"
            )
        sections = []
        for key in ("screen", "assessment", "options"):
            value = raw.get(key) or {}
            if not isinstance(value, dict):
                raise AnswersError(f"answers file: '{key}' must be a mapping, got {type(value).__name__}")
            sections.append(value)
        return sections[0], sections[1], sections[2]
    inputs, options = set(input_names()), set(PlanOptions.__dataclass_fields__)
    screen = {k: v for k, v in raw.items() if k not in inputs and k not in options}
    return (
        screen,
        {k: v for k, v in raw.items() if k in inputs},
        {k: v for k, v in raw.items() if k in options},
    )


def _open_log(db: Path | None) -> Any:
    from iliopsoas.care.log import CareLog, LogError

    try:
        return CareLog(db)
    except LogError as exc:
        fail(str(exc))


def _print_reasons(result: dict[str, Any]) -> None:
    for r in result.get("reasons", []):
        style = {"emergency": "bold white on red", "urgent": "bold red", "soon": "yellow"}.get(
            r.get("tier") or "", ""
        )
        console.print(f"[{style}]• {r['message']}[/]" if style else f"• {r['message']}", highlight=False)


# ------------------------------------------------------------------------------------ screen
def screen(
    list_: bool = typer.Option(False, "--list", help="List every screening item."),
    answers: Path = typer.Option(None, "--answers", help="JSON/YAML file mapping item ids to true/false."),
    json_: bool = JsonOption,
    db: Path = DbOption,
    no_log: bool = typer.Option(False, "--no-log", help="Do not record this screen in the log."),
) -> None:
    """Safety screen: red flags (emergency / urgent / soon) and contraindications to deep pressure."""
    from iliopsoas.care.screening import (
        DISCLAIMER,
        AnswersError,
        evaluate,
        load_items,
        pain_rising_reason,
        parse_answers,
    )

    items = load_items()
    if list_:
        if json_:
            print_json([i.summary() for i in items])
        else:
            for i in items:
                console.print(f"[bold]{i.tier:16}[/] {i.id:28} {i.question}", highlight=False)
        return
    if answers is not None:
        raw = _answers(answers)
        if isinstance(raw.get("screen"), dict):  # a plan/session answers file works too
            raw = raw["screen"]
    elif sys.stdin.isatty():
        raw = _ask_screen(items)
    else:
        fail("no answers: give --answers FILE (ids from `iliopsoas screen --list`) or run in a terminal", 2)
    try:
        parsed = parse_answers(raw)
    except AnswersError as exc:
        fail(str(exc))
    result = evaluate(parsed)
    taken_at, rising = None, None
    if not no_log:
        with _open_log(db) as log:
            log.log_screen(parsed, scope="full", level=result.level, blocked=result.blocked)
            taken_at = log.latest_screen("full")["taken_at"]
            rising = pain_rising_reason(log.nprs_history())
    out = result.to_json()
    out["logged_at"] = taken_at
    if rising is not None:
        out["clinician_review"] = True
        out["reasons"].append(rising.to_json())
    if json_:
        print_json(out)
        return
    console.print(f"[bold]Screen result: {result.level}[/]", highlight=False)
    _print_reasons(out)
    if result.level == "clear":
        console.print(
            "No red flags or contraindications reported. You can build a program with `iliopsoas plan`."
        )
    console.print(f"[italic]{DISCLAIMER}[/]")


def _ask_screen(items: Any, only_session: bool = False) -> dict[str, bool]:
    from rich.prompt import Confirm

    out: dict[str, bool] = {}
    for i in items:
        if only_session and not i.every_session:
            continue
        out[i.id] = Confirm.ask(f"[dim]{i.tier}[/] {i.question}", console=console)
    return out


# ------------------------------------------------------------------------------------ assess
def assess(
    answers: Path = typer.Option(..., "--answers", help="JSON/YAML file of signs and test results."),
    json_: bool = JsonOption,
    db: Path = DbOption,
    no_log: bool = typer.Option(False, "--no-log", help="Do not record the measurements in the log."),
) -> None:
    """Rank likely contributors (psoas, iliacus, rectus femoris, TFL, posterior hip) with reasons."""
    from iliopsoas.care import evidence
    from iliopsoas.care.assessment import assess as run_assess
    from iliopsoas.care.assessment import parse_inputs
    from iliopsoas.care.screening import AnswersError

    raw = _answers(answers)
    try:
        inputs = parse_inputs(raw.get("assessment", raw) if isinstance(raw.get("assessment"), dict) else raw)
    except AnswersError as exc:
        fail(str(exc))
    result = run_assess(inputs)
    if not no_log:
        _log_measures(db, inputs)
    out = result.to_json()
    out["atlas"] = {"available": evidence.atlas_available(), "missing": result.missing_refs()}
    if json_:
        print_json(out)
        return
    if not result.contributors:
        console.print("No particular contributor stands out.")
    for n, c in enumerate(result.contributors, start=1):
        console.print(
            f"[bold]{n}. {c.label}[/]  score {c.score:g}, confidence {c.confidence}", highlight=False
        )
        for f in c.reasons:
            console.print(
                f"   - {f.text} [dim]({f.evidence}; {', '.join(f.sources) or 'clinical convention'})[/]",
                highlight=False,
            )
            for cid in f.claims:
                ref = evidence.claim_ref(cid)
                verdict = ref.get("verdict", "not in the atlas yet")
                mv = ref.get("model_verdict")
                model = f"; our model {mv['verdict']}: {mv.get('note') or ''}" if mv else ""
                console.print(f"     [dim]{cid} ledger: {verdict}{model}[/]", highlight=False)
    for note in (*result.notes, *result.safety):
        console.print(f"[yellow]• {note}[/]", highlight=False)
    console.print(f"[italic]{out['disclaimer']}[/]")


def _log_measures(db: Path | None, inputs: dict[str, Any]) -> None:
    with _open_log(db) as log:
        log.add_assessment_measures(inputs)


# ------------------------------------------------------------------------------------ plan
def _build(raw: dict[str, Any], db: Path | None, *, scope: str = "full", log_screen: bool = True) -> Any:
    from iliopsoas.care.assessment import assess as run_assess
    from iliopsoas.care.assessment import parse_inputs
    from iliopsoas.care.planner import PlanOptions, build_plan
    from iliopsoas.care.screening import AnswersError, evaluate, parse_answers

    try:
        screen_raw, assess_raw, opts_raw = _split(raw)
        answers = parse_answers(screen_raw)
        assessment = run_assess(parse_inputs(assess_raw)) if assess_raw else None
        options = PlanOptions.from_mapping(opts_raw)
    except AnswersError as exc:
        fail(str(exc))
    result = evaluate(answers, scope=scope)
    with _open_log(db) as log:
        if log_screen:
            log.log_screen(answers, scope=scope, level=result.level, blocked=result.blocked)
        history = log.nprs_history()
    try:
        return build_plan(result, assessment, options=options, nprs_history=history)
    except AnswersError as exc:
        fail(str(exc))


def plan(
    answers: Path = typer.Option(
        None,
        "--answers",
        help="JSON/YAML: screening answers (+ optional assessment, options). Default: your latest full "
        "safety screen from the last 7 days.",
    ),
    with_release: bool = typer.Option(
        False, "--with-release", help="Opt in to the pressure-release steps (very-low evidence; risks are shown first)."
    ),
    json_: bool = JsonOption,
    pdf: Path = typer.Option(None, "--pdf", help="Also write a printable PDF handout here."),
    name: str = typer.Option(None, "--name", help="The person's name for the PDF handout."),
    ics: Path = typer.Option(None, "--ics", help="Also write the schedule as an iCalendar (.ics) file here."),
    start: str = typer.Option(None, "--start", help="First day of the calendar (YYYY-MM-DD; default tomorrow)."),
    at: str = typer.Option("18:00", "--at", help="Time of day for the calendar events (HH:MM, local)."),
    weeks: int = typer.Option(6, "--weeks", min=1, max=52, help="How many weeks the calendar covers."),
    db: Path = DbOption,
) -> None:
    """Build the program: safety gates, then stretch -> strengthen -> (opt-in release) -> habits."""
    from iliopsoas.care.sets import dosage_text

    if pdf is not None:
        output_path(pdf, "--pdf")
    if ics is not None:
        output_path(ics, "--ics")
    raw = _answers(answers) if answers is not None else _latest_screen_answers(db)
    if with_release:
        raw = _with_option(raw, "release", True)
    result = _build(raw, db, log_screen=answers is not None)
    out = result.to_json()
    if pdf is not None:
        from iliopsoas.care.pdf import write_handout

        try:
            with _open_log(db) as log:
                history = log.export_json()
            write_handout(result, pdf, name=name, log=history, figures=_figure_files(result.steps))
        except OSError as exc:
            fail(f"cannot write the PDF {pdf}: {exc.strerror or exc}")
        out["pdf"] = str(pdf)
    if ics is not None:
        out["ics"] = str(_write_ics(result, ics, start, at, weeks))
    if json_:
        print_json(out)
        return
    if result.blocked:
        console.print("[bold red]The program is locked.[/]")
    notice = out.get("release_notice")
    if notice:
        console.print(f"[bold yellow]Pressure release (evidence: {notice['grade']}) — read this first:[/] "
                      f"{notice['summary']}", highlight=False)
        for risk in notice["risks"]:
            console.print(f"[yellow]  ! {risk}[/]", highlight=False)
    _print_reasons(out)
    for n, s in enumerate(result.steps, start=1):
        console.print(
            f"{n}. [bold]{s.kind:10}[/] {s.name} — {dosage_text(s.dosage)} [dim](evidence: "
            f"{s.evidence['grade']})[/]",
            highlight=False,
        )
    if not notice and not result.blocked:
        console.print("[dim]Pressure-release steps are left out (very-low evidence); add them with --with-release.[/]")
    for key in ("pdf", "ics"):
        if key in out:
            console.print(f"Wrote {out[key]}")
    console.print(f"[italic]{out['disclaimer']}[/]")


def _figure_files(steps: Any) -> dict[str, Path]:
    """PNG figures drawn from our model for the handout; an exercise that cannot be drawn is left out."""
    from iliopsoas.care.exercise_figures import FigureStore

    try:
        store = FigureStore()
    except Exception:  # the figures are an extra: the handout is written without them
        return {}
    out = {}
    for s in steps:
        if s.id in store.poses:
            try:
                out[s.id] = store.path(s.id, "png")
            except Exception:
                continue
    return out


def _latest_screen_answers(db: Path | None) -> dict[str, Any]:
    with _open_log(db) as log:
        latest = log.fresh_full_screen()
    if latest is None:
        fail("no safety screen in the last 7 days: run `iliopsoas screen` first, or give --answers FILE", 2)
    return {"screen": dict(latest["answers"])}


def _with_option(raw: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """``raw`` with one plan option set, whether the file uses sections or a flat mapping."""
    if any(k in raw for k in ("screen", "assessment", "options")):
        return {**raw, "options": {**(raw.get("options") or {}), key: value}}
    return {**raw, key: value}


def _write_ics(result: Any, path: Path, start: str | None, at: str, weeks: int) -> Path:
    from datetime import date, datetime, timedelta

    from iliopsoas.care.calendar import CalendarError, write_ics

    try:
        first = date.fromisoformat(start) if start else date.today() + timedelta(days=1)
    except ValueError:
        fail(f"--start must be a date like 2026-03-31, got {start!r}", 2)
    try:
        when = datetime.strptime(at, "%H:%M").time()
    except ValueError:
        fail(f"--at must be a time like 18:00, got {at!r}", 2)
    try:
        return write_ics(result, path, start=first, at=when, weeks=weeks)
    except CalendarError as exc:
        fail(f"cannot make the calendar: {exc}")
    except OSError as exc:
        fail(f"cannot write the calendar {path}: {exc.strerror or exc}")


# ------------------------------------------------------------------------------------ outcomes
outcomes_app = typer.Typer(help="Outcome questionnaires (PSFS, HOOS-12, iHOT-12, ODI): score and keep them.",
                           no_args_is_help=True)


@outcomes_app.command("score")
def outcomes_score(
    measure: str = typer.Argument(..., help="psfs, hoos12, ihot12 or odi"),
    answers: Path = typer.Option(..., "--answers", help="JSON/YAML: item id -> number (null = not answered)."),
    json_: bool = JsonOption,
    log: bool = typer.Option(False, "--log", help="Also store the answers and score in the care log."),
    db: Path = DbOption,
) -> None:
    """Score a questionnaire exactly as published: {measure, score, subscales, mcid, missing_items}."""
    from iliopsoas.care.outcomes import MEASURE_IDS, OutcomeError, score

    if measure not in MEASURE_IDS:
        fail(f"measure must be one of {', '.join(MEASURE_IDS)}, got {measure!r}", 2)
    raw = _answers(answers)
    try:
        result = score(measure, raw)
    except OutcomeError as exc:
        fail(f"{answers}: {exc}")
    out = result.model_dump(mode="json")
    if log:
        from iliopsoas.care.log import default_db_path
        from iliopsoas.care.outcome_log import add_outcome

        out["logged_id"], _ = add_outcome(default_db_path(db), measure, raw)
    if json_:
        print_json(out)
        return
    shown = "not scored" if result.score is None else f"{result.score:g}"
    console.print(f"[bold]{result.name}[/]: {shown} (range {result.range[0]:g}-{result.range[1]:g}, "
                  f"{'higher is better' if result.higher_is_better else 'higher is worse'})", highlight=False)
    for k, v in result.subscales.items():
        console.print(f"  {k}: {'-' if v is None else f'{v:g}'}", highlight=False)
    if result.mcid:
        console.print(f"  a change of {result.mcid.value:g} points matters ({result.mcid.kind}, {result.mcid.source})",
                      highlight=False)
    for note in result.notes:
        console.print(f"[yellow]  • {note}[/]", highlight=False)
    if result.missing_items:
        console.print(f"  unanswered: {', '.join(result.missing_items)}", highlight=False)


@outcomes_app.command("list")
def outcomes_list(json_: bool = JsonOption, db: Path = DbOption) -> None:
    """Stored questionnaires with their scores, oldest first."""
    from iliopsoas.care.log import default_db_path
    from iliopsoas.care.outcome_log import outcomes

    rows = outcomes(default_db_path(db))
    if json_:
        print_json(rows)
        return
    if not rows:
        console.print("No questionnaires stored yet.")
    for r in rows:
        console.print(f"{r['taken_at']}  {r['measure']:7} {r['result']['score']}", highlight=False)


# ------------------------------------------------------------------------------------ session
@session_app.command("start")
def session_start(
    answers: Path = typer.Option(
        None, "--answers", help="Run non-interactively from this JSON/YAML answers file."
    ),
    json_: bool = JsonOption,
    db: Path = DbOption,
    time_scale: float = typer.Option(
        None, "--time-scale", min=0.0, help="Real seconds per simulated second (non-interactive; default 0)."
    ),
) -> None:
    """Play a guided session (re-checks the safety screen first); every finished set is saved at once."""
    from rich.console import Console

    from iliopsoas.care.log import LogError
    from iliopsoas.care.player import (
        MAX_TIME_SCALE,
        FakeClock,
        Player,
        PromptControls,
        ScriptedControls,
        SystemClock,
    )
    from iliopsoas.care.screening import AnswersError, item_ids, parse_answers

    if time_scale is not None and not 0.0 <= time_scale <= MAX_TIME_SCALE:  # NaN fails too
        fail(f"--time-scale must be a number of real seconds per simulated second from 0 to {MAX_TIME_SCALE:g}, "
             f"got {time_scale!r}", 2)
    raw: dict[str, Any] = _answers(answers) if answers is not None else {}
    if answers is None and not sys.stdin.isatty():
        fail("no terminal: give --answers FILE to run a session non-interactively", 2)
    with _open_log(db) as log:
        latest = log.fresh_full_screen()
    fresh = latest is not None
    screen_now = raw.get("screen") or {}
    if not isinstance(screen_now, dict):
        fail("session answers: 'screen' must map screening ids to true/false")
    try:
        given = parse_answers(screen_now)
    except AnswersError as exc:
        fail(str(exc))
    if answers is None:
        from iliopsoas.care.screening import load_items

        given = _ask_screen(load_items(), only_session=True) if fresh else _ask_screen(load_items())
    if not set(item_ids("full")) <= set(given):
        if not fresh:
            fail(
                "no full safety screen in the last 7 days: run `iliopsoas screen` first (or put every item "
                "under 'screen' in the answers file)"
            )
        assert latest is not None
        given = {**latest["answers"], **given}
    missing_now = (
        [i for i in item_ids("session") if i not in (raw.get("screen") or {})] if answers is not None else []
    )
    if missing_now:
        fail(
            f"the every-session safety checklist is unanswered: {', '.join(missing_now)} (put them under 'screen')"
        )
    plan_raw = {
        "screen": given,
        "assessment": raw.get("assessment") or {},
        "options": raw.get("options") or {},
    }
    # answers covering every item are a full screen (and count as the weekly one)
    full_now = set(item_ids("full")) <= set(parse_answers(screen_now)) if answers is not None else not fresh
    result = _build(plan_raw, db, scope="full" if full_now else "session")
    out_console = Console(stderr=True) if json_ else console
    if result.blocked:
        if json_:
            print_json({"started": False, **result.to_json()})
            raise typer.Exit(1)
        console.print("[bold red]Session not started: the program is locked.[/]")
        _print_reasons(result.to_json())
        raise typer.Exit(1)
    for r in result.reasons:
        out_console.print(f"[yellow]• {r.message}[/]", highlight=False)
    session_answers = {k: v for k, v in raw.items() if k not in ("assessment", "options")}
    try:
        controls: Any = ScriptedControls(session_answers) if answers is not None else PromptControls(console)
    except AnswersError as exc:
        fail(str(exc))
    scale = time_scale if time_scale is not None else getattr(controls, "time_scale", 0.0)
    clock: Any = FakeClock(real_delay=scale) if answers is not None else SystemClock()
    with _open_log(db) as log:
        player = Player(
            result.steps,
            log=log,
            console=out_console,
            clock=clock,
            controls=controls,
            live=False if answers is not None else None,
        )
        try:
            summary = player.run(plan=result.to_json())
        except KeyboardInterrupt:
            fail("session interrupted; every set marked ✓ is saved", 1)
        except LogError as exc:  # the session could not even be opened in the log: nothing was played
            fail(f"session not started: {exc}")
    if json_:
        print_json({"started": True, **summary.to_json(), "reasons": [r.to_json() for r in result.reasons]})
    if summary.unsaved:
        _keep_unsaved(summary, json_)


def _keep_unsaved(summary: Any, json_: bool) -> None:
    """Finished sets the log could not take: print them as an importable export, then fail."""
    import json

    from iliopsoas.care.transfer import FORMAT

    with_session = {"format": FORMAT, "sessions": [{"started_at": summary.started_at, "status": "running",
                                                    "steps": summary.unsaved}]}
    if not json_:
        sys.stdout.write(json.dumps(with_session) + "\n")
    fail(f"{len(summary.unsaved)} finished set(s) could not be saved ({summary.save_error}); they are printed "
         "above as a care-log export: keep them in a file and run `iliopsoas session import FILE` once the "
         "database can be written")


@session_app.command("list")
def session_list(json_: bool = JsonOption, db: Path = DbOption) -> None:
    """List logged sessions."""
    with _open_log(db) as log:
        rows = log.sessions()
    keys = (
        "id",
        "started_at",
        "finished_at",
        "status",
        "nprs_before",
        "nprs_after",
        "steps_done",
        "steps_skipped",
    )
    rows = [{k: r[k] for k in keys} for r in rows]
    if json_:
        print_json(rows)
        return
    if not rows:
        console.print("No sessions logged yet.")
    for r in rows:
        console.print(
            f"#{r['id']:<4} {r['started_at']}  {r['status']:11} sets {r['steps_done']:>3}  skipped "
            f"{r['steps_skipped']}  pain {r['nprs_before']} → {r['nprs_after']}",
            highlight=False,
        )


@session_app.command("export")
def session_export(
    file: Path = typer.Argument(..., help="Destination file (.json, .csv; fhir needs --format fhir)."),
    format_: str = typer.Option(None, "--format", help="json, csv or fhir (default: from the file suffix)."),
    db: Path = DbOption,
    json_: bool = JsonOption,
) -> None:
    """Alias of `iliopsoas data export`: the whole log (sessions, sets, screens, measurements,
    questionnaires, quiz cards) as JSON or CSV, or a FHIR R4 Bundle."""
    from iliopsoas.commands.data import data_export

    data_export(file=file, format_=format_, db=db, json_=json_)


@session_app.command("import")
def session_import(
    file: Path = typer.Argument(..., help="A file written by `data export` (JSON, CSV or FHIR Bundle)."),
    db: Path = DbOption,
    json_: bool = JsonOption,
) -> None:
    """Alias of `iliopsoas data import`: merge an export (JSON, CSV or FHIR Bundle) into the log, all
    or nothing; records already present are skipped."""
    from iliopsoas.commands.data import data_import

    data_import(file=file, db=db, json_=json_)


# ------------------------------------------------------------------------------------ progress
def progress(
    plot: Path = typer.Option(None, "--plot", help="Write a PNG chart here."),
    json_: bool = JsonOption,
    db: Path = DbOption,
    days_per_week: int = typer.Option(
        5, "--days-per-week", min=1, max=7, help="Planned session days per week."
    ),
    as_of: str = typer.Option(
        None, "--as-of", help="Compute adherence as of this date (YYYY-MM-DD; default today)."
    ),
) -> None:
    """Adherence, pain (NPRS) with its MCID band, PSFS, Thomas angle and standing tilt over time."""
    from datetime import date

    from iliopsoas.care.progress import plot as draw
    from iliopsoas.care.progress import summarize

    try:
        today = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        fail(f"--as-of must be a date like 2026-03-31, got {as_of!r}", 2)
    if today is not None and today.year < 1900:
        fail(f"--as-of must be a date from 1900 on, got {as_of!r}", 2)
    with _open_log(db) as log:
        sessions, measures = log.sessions(), log.measures()
    out = summarize(sessions, measures, days_per_week=days_per_week, today=today)
    if plot is not None:
        output_path(plot, "--plot", suffixes=(".png",))
        try:
            out["plot"] = str(draw(sessions, measures, plot, days_per_week=days_per_week))
        except OSError as exc:
            fail(f"cannot write {plot}: {exc.strerror or exc}")
    if json_:
        print_json(out)
        return
    a = out["adherence"]
    console.print(
        f"Sessions: {out['sessions']['completed']} completed of {out['sessions']['total']}; adherence "
        f"{a['percent'] if a['percent'] is not None else '-'} % of planned days; streak {a['streak_days']} d",
        highlight=False,
    )
    for key, label in (
        ("nprs", "Pain (NPRS)"),
        ("psfs", "PSFS"),
        ("thomas_hip_deg", "Thomas hip angle"),
        ("standing_tilt_deg", "Standing tilt"),
    ):
        t = out[key]
        if t["n"]:
            verdict = "beyond" if t["beyond_band"] else "within"
            console.print(
                f"{label}: {t['baseline']:g} → {t['latest']:g} ({t['change']:+g}; {verdict} the ±{t['band']:g} "
                "band)",
                highlight=False,
            )
    if out["clinician_review"]:
        console.print(
            "[bold red]Pain has risen 2+ points above your first session twice: book a clinician review.[/]"
        )
    if "plot" in out:
        console.print(f"Chart: {out['plot']}")
    console.print(f"[italic]{out['disclaimer']}[/]")
