"""The program as an iCalendar (.ics) file, so any calendar app reminds the person offline.

One recurring event per training rhythm of the plan (for instance "every day" for strengthening, then
"Monday to Friday" for stretching, back to back), each with a reminder 10 minutes before, the steps and doses in the
description and the length of one session (work plus rests, from :mod:`iliopsoas.care.sets`). Times
are "floating" local times (RFC 5545 §3.3.5): 18:00 stays 18:00 wherever the person is. The event
UIDs are derived from the program and the start, so importing the file again updates the same
events instead of doubling them. The default span is 6 weeks, the length of the stretching and
strengthening trials behind the doses (BANDY1997, THORBORG2016).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from iliopsoas.care.planner import Plan
from iliopsoas.care.screening import DISCLAIMER
from iliopsoas.care.sets import dosage_text, session_seconds

_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_NAMESPACE = uuid.UUID("6f1d1c1e-3b9a-4d0c-9a55-7b2f3a1c0e11")


class CalendarError(ValueError):
    """The plan or the options cannot make a calendar (locked plan, bad start or span)."""


def _rhythms(steps: Sequence[Any]) -> dict[int, list[Any]]:
    """Steps that are sessions (not habits), grouped by days per week, most frequent first."""
    out: dict[int, list[Any]] = {}
    for s in steps:
        if s.kind == "habit":
            continue
        out.setdefault(int(s.dosage.get("days_per_week", 7)), []).append(s)
    return dict(sorted(out.items(), reverse=True))


def build_calendar(plan: Plan, *, start: date, at: time = time(18, 0), weeks: int = 6,
                   alarm_min: int = 10) -> Any:
    """An ``icalendar.Calendar`` for ``plan`` starting on ``start`` at ``at`` for ``weeks`` weeks."""
    from icalendar import Alarm, Calendar, Event, vRecur

    if plan.blocked:
        raise CalendarError("the program is locked by the safety screen: there is nothing to schedule")
    if not 1 <= weeks <= 52:
        raise CalendarError(f"weeks must be 1-52, got {weeks}")
    rhythms = _rhythms(plan.steps)
    if not rhythms:
        raise CalendarError("the program has no exercise steps to schedule")
    cal = Calendar()
    cal.add("prodid", "-//iliopsoas//care program//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "Hip-flexor program")
    habits = [s for s in plan.steps if s.kind == "habit"]
    begin = datetime.combine(start, at)
    for days, steps in rhythms.items():  # back to back, so the events of one evening do not overlap
        minutes = max(5, math.ceil(session_seconds(steps) / 60))
        ev = Event()
        label = "every day" if days >= 7 else f"{days} days a week"
        ev.add("summary", f"Hip-flexor exercises ({label})")
        ev.add("dtstart", begin)
        ev.add("duration", timedelta(minutes=minutes))
        ev.add("dtstamp", datetime.now(UTC))
        lines = [f"{n}. {s.name}: {dosage_text(s.dosage)} (evidence: {s.evidence['grade']})"
                 for n, s in enumerate(steps, 1)]
        if habits:
            lines.append("Also: " + "; ".join(f"{h.name} ({dosage_text(h.dosage)})" for h in habits))
        lines += ["Skip anything that hurts; stop if pain rises. Run it with `iliopsoas session start` or the "
                  "Care page.", DISCLAIMER]
        ev.add("description", "\n".join(lines))
        if days >= 7:
            ev.add("rrule", vRecur(freq="DAILY", count=weeks * 7))
        else:
            ev.add("rrule", vRecur(freq="WEEKLY", byday=list(_WEEKDAYS[:days]), count=weeks * days))
        key = "|".join([start.isoformat(), at.isoformat(), str(days), *(f"{s.id}:{s.dosage}" for s in steps)])
        ev.add("uid", f"{uuid.uuid5(_NAMESPACE, key)}@iliopsoas")
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"Hip-flexor exercises in {alarm_min} minutes ({minutes} min)")
        alarm.add("trigger", timedelta(minutes=-alarm_min))
        ev.add_component(alarm)
        cal.add_component(ev)
        begin += timedelta(minutes=minutes)
    return cal


def write_ics(plan: Plan, path: str | Path, **kw: Any) -> Path:
    """Write the calendar for ``plan`` to ``path`` (see :func:`build_calendar`) and return the path."""
    data = build_calendar(plan, **kw).to_ical()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)
    return out
