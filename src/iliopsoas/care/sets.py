"""One source for how a program is played: dosage text, set order, work and rest seconds.

The terminal player, the JSON API (``POST /api/care/sessions``, ``GET /api/care/program``) and the
web page all read these functions, so a set means the same thing everywhere:

* :func:`dosage_text` -- the one-line dose ("2 sets x 15 reps (hold 3 s), rest 60 s, each side, ...");
* :func:`sides_of` -- ``left``/``right`` for one-sided steps, else one unsided pass;
* :func:`work_seconds` -- how long one set takes: the hold, or repetitions x seconds per repetition;
* :func:`expand_sets` -- every set (and side) in play order, with the rest that follows it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

#: seconds per repetition when a step gives no ``tempo_s`` (a pacing choice, not a trial dose)
DEFAULT_TEMPO_S = 3.0


def dosage_text(d: Mapping[str, Any]) -> str:
    """One line such as ``2 sets x 15 reps (hold 3 s), rest 60 s, each side, 1x/day, 7 d/week``."""
    parts = []
    if "every_min" in d:
        parts.append(f"every {d['every_min']} min of sitting, {d.get('duration_s', 120) // 60} min up")
    else:
        sets = d.get("sets", 1)
        if d.get("reps"):
            hold = f" (hold {d['hold_s']:g} s)" if d.get("hold_s", 0) > 1 else ""
            parts.append(f"{sets} set{'s' if sets != 1 else ''} x {d['reps']} reps{hold}")
        elif d.get("hold_s"):
            parts.append(f"{sets} x {d['hold_s']:g} s hold")
        if d.get("rest_s"):
            parts.append(f"rest {d['rest_s']:g} s")
    if d.get("side") == "each":
        parts.append("each side")
    if d.get("times_per_day"):
        parts.append(f"{d['times_per_day']}x/day")
    if d.get("days_per_week"):
        parts.append(f"{d['days_per_week']} d/week")
    return ", ".join(parts)


def sides_of(step: Any) -> list[str | None]:
    """``["left", "right"]`` for a step done on each side, else ``[None]`` (habits: always one pass)."""
    if step.kind == "habit":
        return [None]
    return ["left", "right"] if step.dosage.get("side") == "each" else [None]


def n_sets(step: Any) -> int:
    return 1 if step.kind == "habit" else int(step.dosage.get("sets", 1))


def tempo_seconds(step: Any) -> float:
    return float(step.dosage.get("tempo_s", DEFAULT_TEMPO_S))


def work_seconds(step: Any) -> float:
    """Seconds of work in one set (one side): the hold, or reps x seconds per rep; 0 for a habit."""
    d = step.dosage
    if step.kind == "habit":
        return 0.0
    if d.get("reps"):
        return float(d["reps"]) * tempo_seconds(step)
    return float(d.get("hold_s", 0) or 0)


@dataclass(frozen=True)
class SetSpec:
    """One set on one side, as every player plays it."""

    step_id: str
    name: str
    kind: str
    set_index: int
    sets: int
    side: str | None
    hold_s: float | None
    reps: int | None
    tempo_s: float | None
    work_s: float
    rest_s: float | None  # the step's rest between sets
    rest_after_s: float  # the rest that follows this set before the next one (0 at a step's end)
    position: str | None  # the spot for this set (posterior-hip release: one spot per set)
    cue: str
    feel: str
    stop_if: tuple[str, ...]
    dosage_text: str
    evidence_grade: str

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["stop_if"] = list(self.stop_if)
        return d


def expand_sets(steps: Sequence[Any]) -> list[SetSpec]:
    """Every set in play order: for each step, set 1 left, set 1 right, (rest), set 2 left, ..."""
    out: list[SetSpec] = []
    for s in steps:
        d = s.dosage
        total = n_sets(s)
        sides = sides_of(s)
        rest = float(d["rest_s"]) if d.get("rest_s") else None
        for k in range(1, total + 1):
            for j, side in enumerate(sides):
                last_side = j == len(sides) - 1
                out.append(
                    SetSpec(
                        step_id=s.id,
                        name=s.name,
                        kind=s.kind,
                        set_index=k,
                        sets=total,
                        side=side,
                        hold_s=float(d["hold_s"]) if d.get("hold_s") and s.kind != "habit" else None,
                        reps=int(d["reps"]) if d.get("reps") else None,
                        tempo_s=tempo_seconds(s) if d.get("reps") else None,
                        work_s=work_seconds(s),
                        rest_s=rest,
                        rest_after_s=(rest or 0.0) if last_side and k < total else 0.0,
                        position=s.positions[(k - 1) % len(s.positions)] if s.positions else None,
                        cue=s.cue,
                        feel=s.feel,
                        stop_if=tuple(s.stop_if),
                        dosage_text=dosage_text(d),
                        evidence_grade=s.evidence["grade"],
                    )
                )
    return out


def session_seconds(steps: Sequence[Any]) -> float:
    """Work plus rests of one session, in seconds (for calendar events and the page's estimate)."""
    return sum(x.work_s + x.rest_after_s for x in expand_sets(steps))
