"""The guided-session player: one step per screen, hold countdowns, rep/set counters, rest timer.

Everything that waits or asks goes through two injected objects, so the player runs the same way
in a terminal, in tests and from an answers file:

* a :class:`Clock` (``now``/``sleep``): :class:`SystemClock` for real use, :class:`FakeClock` for
  tests and scripted sessions (optionally slowed down by a real delay per simulated second);
* a :class:`Controls` source: :class:`PromptControls` asks the user (Ctrl-C pauses a hold or rep
  set and opens a menu: resume / restart set / skip / quit), :class:`ScriptedControls` replays an
  answers file.

Each completed set (per side) is written to the :class:`~iliopsoas.care.log.CareLog` the moment it
ends, as its own committed transaction, and only then acknowledged with a ✓ line: a set the player
says is done is on disk. When the write fails (a full disk, a read-only file) the player says so in
one line, keeps the set in memory and tries again after the next set and at the end; sets still
unsaved then are listed in the summary (``unsaved``) so nothing finished is silently lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.prompt import Prompt
from rich.table import Table
from rich.text import Text

from iliopsoas.care.log import CareLog, LogError, now_iso
from iliopsoas.care.planner import Exercise
from iliopsoas.care.screening import DISCLAIMER, AnswersError
from iliopsoas.care.sets import DEFAULT_TEMPO_S, dosage_text, n_sets, sides_of, tempo_seconds

PHASE_STYLE = {"release": "magenta", "stretch": "cyan", "strengthen": "green", "habit": "yellow"}
__all__ = ["DEFAULT_TEMPO_S", "Player", "dosage_text", "sides_of"]
MAX_TIME_SCALE = 10.0  # a scripted session slowed down at most tenfold


def _whole(value: Any, lo: int, hi: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:40]}… ({len(text)} characters)"


# ---------------------------------------------------------------------------- clocks
class Clock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass
class FakeClock:
    """Simulated time; ``real_delay`` real seconds elapse per simulated second (0 = instant)."""

    t: float = 0.0
    real_delay: float = 0.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds
        if self.real_delay > 0:
            time.sleep(seconds * self.real_delay)


# ---------------------------------------------------------------------------- controls
class Controls(Protocol):
    def nprs(self, when: str) -> int | None:
        """Pain 0-10 ``when`` = "before" | "after" (``None`` = not given)."""
        ...

    def before_set(self, step: Exercise, set_index: int, side: str | None) -> str:
        """ "go", "skip" (skip this exercise: "skip if it hurts"), "pause" or "quit"."""
        ...

    def after_set(self, step: Exercise, set_index: int, side: str | None) -> str:
        """ "next" or "restart" (repeat this set)."""
        ...

    def paused(self) -> str:
        """Menu while paused: "resume", "restart", "skip" or "quit"."""
        ...


@dataclass
class ScriptedControls:
    """Replays an answers mapping::

    nprs_before: 3            # 0-10 or null
    nprs_after: 2
    skip: [psoas-release]     # exercises skipped at their first set
    restart: {straight-leg-raise: 1}   # restart the first set once
    pause: [kneeling-lunge-stretch]    # pause once before the first set, then resume
    quit_after_sets: 5        # stop the session after this many sets (per side) were started
    """

    answers: Mapping[str, Any] = field(default_factory=dict)
    _restarted: set[tuple[str, int]] = field(default_factory=set)
    _paused: set[str] = field(default_factory=set)
    _sets: int = 0

    KEYS = (
        "nprs_before",
        "nprs_after",
        "skip",
        "restart",
        "pause",
        "quit_after_sets",
        "time_scale",
        "screen",
    )

    def __post_init__(self) -> None:
        unknown = set(self.answers) - set(self.KEYS)
        if unknown:
            raise AnswersError(f"unknown session answer(s) {sorted(unknown)} (known: {', '.join(self.KEYS)})")
        for key in ("nprs_before", "nprs_after"):
            v = self.answers.get(key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 10):
                raise AnswersError(f"session answer '{key}' must be a whole number 0-10 or null, got {v!r}")
        for key in ("skip", "pause"):
            value = self.answers.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise AnswersError(f"session answer '{key}' must be a list of exercise ids, got {_shown(value)}")
        restart = self.answers.get("restart", {})
        if not isinstance(restart, Mapping) or not all(_whole(v, 1, 100) for v in restart.values()):
            raise AnswersError(f"session answer 'restart' must map exercise ids to a set number 1-100, "
                               f"got {_shown(restart)}")
        quit_after = self.answers.get("quit_after_sets")
        if quit_after is not None and not _whole(quit_after, 0, 100_000):
            raise AnswersError(f"session answer 'quit_after_sets' must be a whole number 0-100000, got "
                               f"{_shown(quit_after)}")
        scale = self.answers.get("time_scale")
        if scale is not None and (isinstance(scale, bool) or not isinstance(scale, int | float)
                                  or not 0 <= scale <= MAX_TIME_SCALE):  # NaN fails the comparison
            raise AnswersError(f"session answer 'time_scale' must be real seconds per simulated second from 0 "
                               f"to {MAX_TIME_SCALE:g}, got {_shown(scale)}")

    @property
    def time_scale(self) -> float:
        """Real seconds per simulated second (0 = as fast as possible)."""
        return float(self.answers.get("time_scale") or 0.0)

    def nprs(self, when: str) -> int | None:
        value = self.answers.get(f"nprs_{when}")
        return None if value is None else int(value)

    def before_set(self, step: Exercise, set_index: int, side: str | None) -> str:
        limit = self.answers.get("quit_after_sets")
        if limit is not None and self._sets >= int(limit):
            return "quit"
        if step.id in self.answers.get("skip", []):
            return "skip"
        if step.id in self.answers.get("pause", []) and step.id not in self._paused:
            self._paused.add(step.id)
            return "pause"
        self._sets += 1
        return "go"

    def after_set(self, step: Exercise, set_index: int, side: str | None) -> str:
        key = (step.id, set_index)
        if self.answers.get("restart", {}).get(step.id) == set_index and key not in self._restarted:
            self._restarted.add(key)
            return "restart"
        return "next"

    def paused(self) -> str:
        return "resume"


class PromptControls:
    """Asks on the terminal (or reads the answers from ``stream``); Enter = go on."""

    def __init__(self, console: Console, stream: TextIO | None = None) -> None:
        self.console = console
        self.stream = stream

    def _ask(self, prompt: str, **kw: Any) -> str:
        return str(Prompt.ask(prompt, console=self.console, stream=self.stream, show_default=False, **kw))

    def nprs(self, when: str) -> int | None:
        while True:
            text = self._ask(
                f"Pain {when} the session, 0 (none) to 10 (worst imaginable); Enter to skip", default=""
            )
            if text.strip() == "":
                return None
            if text.strip().isdigit() and 0 <= int(text) <= 10:
                return int(text)
            self.console.print("[red]Please type a whole number from 0 to 10.[/]")

    def before_set(self, step: Exercise, set_index: int, side: str | None) -> str:
        choice = self._ask(
            "[bold]Enter[/] start · [bold]s[/] skip (skip if it hurts) · [bold]p[/] pause · [bold]q[/] quit",
            choices=["", "s", "p", "q"],
            default="",
            show_choices=False,
        )
        return {"": "go", "s": "skip", "p": "pause", "q": "quit"}[choice]

    def after_set(self, step: Exercise, set_index: int, side: str | None) -> str:
        choice = self._ask(
            "[bold]Enter[/] next · [bold]r[/] restart this set",
            choices=["", "r"],
            default="",
            show_choices=False,
        )
        return "restart" if choice == "r" else "next"

    def retry_save(self, n_unsaved: int, error: str) -> bool:
        """After the session: sets not saved yet. Enter = try again (after freeing space), q = give up."""
        self.console.print(f"[bold red]{n_unsaved} finished set(s) are not saved yet:[/] {error}", highlight=False,
                           soft_wrap=True)
        choice = self._ask("[bold]Enter[/] try again · [bold]q[/] give up (they are printed so you can keep them)",
                           choices=["", "q"], default="", show_choices=False)
        return choice == ""

    def paused(self) -> str:
        choice = self._ask(
            "Paused. [bold]Enter[/] resume · [bold]r[/] restart set · [bold]s[/] skip exercise · "
            "[bold]q[/] quit",
            choices=["", "r", "s", "q"],
            default="",
            show_choices=False,
        )
        return {"": "resume", "r": "restart", "s": "skip", "q": "quit"}[choice]


# ---------------------------------------------------------------------------- screens
def render_step(
    step: Exercise,
    *,
    index: int,
    total: int,
    set_index: int = 1,
    side: str | None = None,
    phase: str = "ready",
    remaining_s: float | None = None,
    rep: int | None = None,
) -> Panel:
    """One player screen. ``phase``: ready | hold | reps | rest | paused | done."""
    d = step.dosage
    sets_total = n_sets(step)
    head = Text.assemble(
        (f"{step.kind.upper()}", f"bold {PHASE_STYLE[step.kind]}"),
        f"  step {index}/{total}  ",
        (step.name, "bold"),
    )
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", justify="right")
    grid.add_column()
    grid.add_row("dose", dosage_text(d))
    if step.kind != "habit":
        where = f"set {set_index}/{sets_total}" + (f" · {side} side" if side else "")
        if step.positions:
            where += f" · {step.positions[(set_index - 1) % len(step.positions)]}"
        grid.add_row("now", where)
    grid.add_row("cue", step.cue)
    grid.add_row("feel", step.feel)
    grid.add_row("stop if", "; ".join(step.stop_if))
    grid.add_row("evidence", f"{step.evidence['grade']}: {step.evidence['summary']}")
    status: Text
    if phase == "hold" and remaining_s is not None:
        total_s = float(d.get("hold_s", 0)) or 1.0
        filled = int(round(20 * (1 - remaining_s / total_s)))
        status = Text.assemble(
            ("HOLD ", "bold"),
            (f"{remaining_s:4.0f} s ", "bold cyan"),
            ("█" * filled + "░" * (20 - filled), "cyan"),
        )
    elif phase == "reps" and rep is not None:
        status = Text.assemble(
            ("REPS ", "bold"), (f"{rep}/{d.get('reps')}", "bold green"), f"   set {set_index}/{sets_total}"
        )
    elif phase == "rest" and remaining_s is not None:
        status = Text.assemble(
            ("REST ", "bold"), (f"{remaining_s:4.0f} s", "bold yellow"), "  breathe, shake out"
        )
    elif phase == "paused":
        status = Text("PAUSED", style="bold red")
    elif phase == "done":
        status = Text("done ✓", style="bold green")
    else:
        status = Text("ready: press Enter to start, s to skip if it hurts", style="italic")
    return Panel(
        Group(grid, Text(""), status), title=head, subtitle=DISCLAIMER, border_style=PHASE_STYLE[step.kind]
    )


# ---------------------------------------------------------------------------- the player
@dataclass
class SessionSummary:
    session_id: int
    status: str
    nprs_before: int | None
    nprs_after: int | None
    sets_done: int
    skipped: list[str]
    restarts: int
    pauses: int
    bells: int
    elapsed_s: float
    steps: list[dict[str, Any]]
    unsaved: list[dict[str, Any]] = field(default_factory=list)
    save_error: str | None = None
    started_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        change = None
        if self.nprs_before is not None and self.nprs_after is not None:
            change = self.nprs_after - self.nprs_before
        return {
            "session_id": self.session_id,
            "status": self.status,
            "nprs_before": self.nprs_before,
            "nprs_after": self.nprs_after,
            "nprs_change": change,
            "sets_done": self.sets_done,
            "skipped": self.skipped,
            "restarts": self.restarts,
            "pauses": self.pauses,
            "bells": self.bells,
            "elapsed_s": round(self.elapsed_s, 1),
            "steps": self.steps,
            "started_at": self.started_at,
            "unsaved": self.unsaved,
            "save_error": self.save_error,
            "disclaimer": DISCLAIMER,
        }


class _Skip(Exception):
    pass


class _Quit(Exception):
    pass


class _Restart(Exception):
    pass


class Player:
    """Plays ``steps`` and logs each completed set to ``log`` (when given) under a new session."""

    def __init__(
        self,
        steps: Sequence[Exercise],
        *,
        log: CareLog | None,
        console: Console,
        clock: Clock,
        controls: Controls,
        bell: Callable[[], None] | None = None,
        live: bool | None = None,
        tick_s: float = 1.0,
    ) -> None:
        self.steps = list(steps)
        self.log = log
        self.console = console
        self.clock = clock
        self.controls = controls
        self._bell = bell or console.bell
        self.live = console.is_terminal if live is None else live
        self.tick_s = tick_s
        self.bells = 0
        self.pending: list[dict[str, Any]] = []  # finished sets whose write failed, oldest first
        self.save_error: str | None = None

    def bell(self) -> None:
        self.bells += 1
        self._bell()

    # -- waiting with a live screen; Ctrl-C pauses ------------------------------------------------
    def _countdown(self, seconds: float, frame: Callable[[float], Panel]) -> None:
        remaining = float(seconds)
        if not self.live:
            self.clock.sleep(remaining)
            return
        with Live(frame(remaining), console=self.console, refresh_per_second=4, transient=True) as live:
            while remaining > 1e-9:
                try:
                    step = min(self.tick_s, remaining)
                    self.clock.sleep(step)
                    remaining -= step
                    live.update(frame(remaining))
                except KeyboardInterrupt:
                    live.stop()
                    self._pause_menu()
                    live.start()

    def _pause_menu(self) -> None:
        self.pauses += 1
        choice = self.controls.paused()
        if choice == "restart":
            raise _Restart
        if choice == "skip":
            raise _Skip
        if choice == "quit":
            raise _Quit

    # -- one set of one exercise ------------------------------------------------------------------
    def _play_set(self, step: Exercise, index: int, set_index: int, side: str | None) -> dict[str, Any]:
        d = step.dosage
        total = len(self.steps)

        def frame(phase: str, **kw: Any) -> Callable[[float], Panel]:
            return lambda rem: render_step(
                step,
                index=index,
                total=total,
                set_index=set_index,
                side=side,
                phase=phase,
                remaining_s=rem,
                **kw,
            )

        if d.get("reps"):
            n = int(d["reps"])
            tempo = tempo_seconds(step)
            for rep in range(1, n + 1):
                self._countdown(tempo, frame("reps", rep=rep))
            return {"reps": n, "hold_s": float(d.get("hold_s", 0)) or None, "done": f"{n} reps"}
        hold = float(d.get("hold_s", 0))
        self._countdown(hold, frame("hold"))
        self.bell()
        return {"reps": None, "hold_s": hold, "done": f"held {hold:g} s"}

    def run(self, *, plan: Mapping[str, Any] | None = None) -> SessionSummary:
        self.pauses = 0
        t0 = self.clock.now()
        self.console.print(
            Panel(
                Text(DISCLAIMER + " Skip anything that hurts; stop if pain rises.", style="bold"),
                title="Guided session",
            )
        )
        before = self.controls.nprs("before")
        started_at = now_iso()
        session_id = self.log.start_session(plan=plan, nprs_before=before, started_at=started_at) if self.log else 0
        sets_done, restarts, skipped, status = 0, 0, [], "completed"
        done: list[dict[str, Any]] = []
        try:
            for index, step in enumerate(self.steps, start=1):
                if self.live:
                    self.console.clear()
                self.console.print(render_step(step, index=index, total=len(self.steps)))
                if step.kind == "habit":
                    if self.controls.before_set(step, 1, None) == "quit":
                        raise _Quit
                    self._record(session_id, step, 1, None, {}, "done")
                    done.append({"id": step.id, "set": 1, "side": None, "status": "done"})
                    continue
                try:
                    total_sets = n_sets(step)
                    set_index = 1
                    while set_index <= total_sets:
                        try:
                            for side in sides_of(step):
                                action = self.controls.before_set(step, set_index, side)
                                while action == "pause":
                                    self.console.print(
                                        render_step(
                                            step,
                                            index=index,
                                            total=len(self.steps),
                                            set_index=set_index,
                                            side=side,
                                            phase="paused",
                                        )
                                    )
                                    self._pause_menu()
                                    action = self.controls.before_set(step, set_index, side)
                                if action == "skip":
                                    raise _Skip
                                if action == "quit":
                                    raise _Quit
                                info = self._play_set(step, index, set_index, side)
                                # committed the moment the set ends (a killed session keeps it), then ✓
                                self._record(session_id, step, set_index, side, info, "done")
                                done.append({"id": step.id, "set": set_index, "side": side, "status": "done"})
                                sets_done += 1
                            if self.controls.after_set(step, set_index, None) == "restart":
                                raise _Restart
                        except _Restart:
                            restarts += 1
                            self.console.print(f"  ↺ restarting set {set_index} of {step.id}")
                            continue
                        if set_index < total_sets and step.dosage.get("rest_s"):
                            self._rest(step, index, set_index)
                        set_index += 1
                except _Skip:
                    skipped.append(step.id)
                    self._record(session_id, step, None, None, {}, "skipped")
                    done.append({"id": step.id, "set": None, "side": None, "status": "skipped"})
                    self.console.print(f"  ⤼ skipped {step.id}")
        except (_Quit, KeyboardInterrupt):  # Ctrl-C at a prompt ends the session like "q"
            status = "stopped"
        try:
            after = self.controls.nprs("after")
        except KeyboardInterrupt:
            after = None
        self._flush(session_id)
        attempts = 0
        while self.pending and self._retry_save(attempts):
            attempts += 1
            self._flush(session_id)
        if self.log:
            try:
                self.log.finish_session(session_id, nprs_after=after, status=status)
            except LogError as exc:
                self.save_error = str(exc)
                self.console.print(f"[bold red]✗ the end of the session was not saved:[/] {exc}", highlight=False,
                                   soft_wrap=True)
        summary = SessionSummary(
            session_id,
            status,
            before,
            after,
            sets_done,
            skipped,
            restarts,
            self.pauses,
            self.bells,
            self.clock.now() - t0,
            done,
            [dict(p) for p in self.pending],
            self.save_error,
            started_at,
        )
        self.console.print(render_summary(summary))
        return summary

    def _rest(self, step: Exercise, index: int, set_index: int) -> None:
        def frame(remaining: float) -> Panel:
            return render_step(
                step,
                index=index,
                total=len(self.steps),
                set_index=set_index,
                phase="rest",
                remaining_s=remaining,
            )

        self._countdown(float(step.dosage["rest_s"]), frame)
        self.bell()

    def _record(
        self,
        session_id: int,
        step: Exercise,
        set_index: int | None,
        side: str | None,
        info: Mapping[str, Any],
        status: str,
    ) -> None:
        row: dict[str, Any] = {"step_id": step.id, "kind": step.kind, "set_index": set_index, "side": side,
               "reps": info.get("reps"), "hold_s": info.get("hold_s"), "status": status, "completed_at": now_iso()}
        label = f"{step.id} set {set_index}{' ' + side if side else ''}"
        if self.log is None:
            self._acknowledge(label, info)
            return
        self._flush(session_id)  # earlier unsaved sets first, so the log keeps their order
        if self.pending:
            self.pending.append(row)
            self.console.print(f"[bold red]✗ {label} not saved yet[/] (kept in memory; retrying after the next set)",
                               highlight=False, soft_wrap=True)
            return
        try:
            self.log.log_step(session_id, **row)
        except LogError as exc:
            self.pending.append(row)
            self.save_error = str(exc)
            self.console.print(f"[bold red]✗ {label} not saved:[/] {exc} (kept in memory; retrying after the "
                               "next set)", highlight=False, soft_wrap=True)
            return
        self._acknowledge(label, info)

    def _retry_save(self, attempts: int) -> bool:
        """Whether to try the unsaved sets once more: ask the person (a terminal) or up to 3 times."""
        ask = getattr(self.controls, "retry_save", None)
        if ask is not None:
            return bool(ask(len(self.pending), self.save_error or ""))
        if attempts >= 3:
            return False
        self.clock.sleep(1.0)
        return True

    def _acknowledge(self, label: str, info: Mapping[str, Any]) -> None:
        """The ✓ line, printed only once the set is committed."""
        if info.get("done"):
            self.console.print(f"  ✓ {label}: {info['done']}", highlight=False)

    def _flush(self, session_id: int) -> None:
        """Write the sets kept in memory, oldest first; stop at the first failure (they stay pending)."""
        while self.pending and self.log is not None:
            row = self.pending[0]
            try:
                self.log.log_step(session_id, **row)
            except LogError as exc:
                self.save_error = str(exc)
                return
            self.pending.pop(0)
            self.console.print(f"  ✓ {row['step_id']} set {row['set_index']}"
                               f"{' ' + row['side'] if row['side'] else ''}: saved now", highlight=False)
        if not self.pending:
            self.save_error = None


def render_summary(s: SessionSummary) -> Panel:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", justify="right")
    grid.add_column()
    grid.add_row("status", s.status)
    grid.add_row("sets done", str(s.sets_done))
    grid.add_row("skipped", ", ".join(s.skipped) or "none")
    grid.add_row("time", f"{s.elapsed_s / 60:.1f} min")
    if s.unsaved:
        grid.add_row("NOT SAVED", Text(f"{len(s.unsaved)} finished set(s) could not be written: {s.save_error}",
                                       style="bold red"))
    if s.nprs_before is not None and s.nprs_after is not None:
        change = s.nprs_after - s.nprs_before
        # 2 points: the smallest change that matters to people with back pain (Childs 2005; Suzuki 2020)
        meaning = "a meaningful change" if abs(change) >= 2 else "within day-to-day noise (under 2 points)"
        grid.add_row("pain", f"{s.nprs_before} → {s.nprs_after} ({change:+d}: {meaning})")
        if change >= 2:
            grid.add_row(
                "",
                Text(
                    "Pain rose by 2 or more: rest, and book a clinician review if it happens again.",
                    style="bold red",
                ),
            )
    return Panel(grid, title="Session summary", subtitle=DISCLAIMER)
