"""Progress over time: adherence, NPRS with its MCID band, PSFS, Thomas-test angles, standing tilt,
and the scored outcome questionnaires with their MCIDs.

Every band drawn is a published threshold (the table and its citations live in
:mod:`iliopsoas.care.measures`; the questionnaires' MCIDs in :mod:`iliopsoas.care.outcomes`), so
that noise is not read as change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from iliopsoas.care.measures import MEASURES
from iliopsoas.care.screening import DISCLAIMER, pain_rising

NPRS_MCID = MEASURES["nprs"].band or 2.0  # Childs 2005; Suzuki 2020
PSFS_MDC = MEASURES["psfs"].band or 2.0  # Stratford 1995
THOMAS_HIP_SEM_DEG = MEASURES["thomas_hip_deg"].band or 11.0  # Peeler & Anderson 2007
STANDING_TILT_SEM_DEG = MEASURES["standing_tilt_deg"].band or 3.6  # Hagins 1998

BANDS = {k: m.band for k, m in MEASURES.items() if m.band is not None}


def _day(iso: str) -> date:
    dt = datetime.fromisoformat(iso)
    return (dt.astimezone(UTC) if dt.tzinfo else dt).date()


def adherence(
    sessions: Sequence[Mapping[str, Any]],
    *,
    days_per_week: int = 5,
    today: date | None = None,
    window_days: int = 28,
) -> dict[str, Any]:
    """Share of planned session days done in the last ``window_days`` (or since the first session).

    A day counts once, whatever the number of sessions; only ``completed`` sessions count. Also
    returns the current streak (consecutive days up to today or yesterday with a completed session).
    """
    if not 1 <= days_per_week <= 7:
        raise ValueError(f"days_per_week must be 1-7, got {days_per_week}")
    done_days = sorted({_day(s["started_at"]) for s in sessions if s.get("status") == "completed"})
    today = today or datetime.now(UTC).date()
    if not done_days:
        return {
            "planned": 0,
            "done": 0,
            "percent": None,
            "streak_days": 0,
            "window_days": window_days,
            "days_per_week": days_per_week,
        }
    start = max(today - timedelta(days=window_days - 1), min(done_days))
    span = (today - start).days + 1
    planned = max(1, round(span * days_per_week / 7))
    done = sum(1 for d in done_days if start <= d <= today)
    streak, day, days = 0, today, set(done_days)
    if day not in days:
        day -= timedelta(days=1)
    while day in days:
        streak += 1
        day -= timedelta(days=1)
    return {
        "planned": planned,
        "done": done,
        "percent": round(100.0 * min(done, planned) / planned, 1),
        "streak_days": streak,
        "window_days": span,
        "days_per_week": days_per_week,
    }


def _trend(values: Sequence[float], band: float) -> dict[str, Any]:
    a = np.asarray(values, dtype=float)
    if a.size == 0:
        return {"n": 0}
    change = float(a[-1] - a[0])
    return {
        "n": int(a.size),
        "baseline": float(a[0]),
        "latest": float(a[-1]),
        "change": round(change, 2),
        "band": band,
        "beyond_band": bool(abs(change) >= band),
    }


def summarize(
    sessions: Sequence[Mapping[str, Any]],
    measures: Sequence[Mapping[str, Any]],
    *,
    days_per_week: int = 5,
    today: date | None = None,
    outcomes: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """Numbers behind the progress view (and ``iliopsoas progress --json``).

    ``sessions.by_status`` counts every session by how it ended (completed, stopped, interrupted,
    running), so a stopped session is shown as stopped, not as a missing completion. ``outcomes`` are
    stored questionnaires (``care.outcome_log.outcomes``); each measure's trend uses its MCID.
    """
    ran = [s for s in sessions if s.get("nprs_before") is not None or s.get("nprs_after") is not None]
    nprs = np.array(
        [[np.nan if s.get(k) is None else float(s[k]) for k in ("nprs_before", "nprs_after")] for s in ran],
        dtype=float,
    ).reshape(-1, 2)
    # the trend compares like with like: each session's "before" score (its "after" if "before" is missing)
    resting = np.where(np.isnan(nprs[:, 0]), nprs[:, 1], nprs[:, 0])
    nprs_trend = _trend(resting[~np.isnan(resting)].tolist(), NPRS_MCID)
    both = nprs[~np.isnan(nprs).any(axis=1)]
    nprs_trend["last_session_change"] = float(both[-1, 1] - both[-1, 0]) if both.size else None
    out: dict[str, Any] = {
        "sessions": {
            "total": len(sessions),
            "completed": sum(1 for s in sessions if s.get("status") == "completed"),
            "by_status": {st: sum(1 for s in sessions if s.get("status") == st)
                          for st in dict.fromkeys(s.get("status") for s in sessions)},
            "sets_done": sum(int(s.get("steps_done") or 0) for s in sessions),
        },
        "adherence": adherence(sessions, days_per_week=days_per_week, today=today),
        "nprs": nprs_trend,
        "clinician_review": pain_rising(nprs),
        "disclaimer": DISCLAIMER,
    }
    for kind in ("psfs", "thomas_hip_deg", "thomas_knee_deg", "standing_tilt_deg"):
        out[kind] = _trend([m["value"] for m in measures if m["kind"] == kind], BANDS[kind])
    out["outcomes"] = {}
    for measure in dict.fromkeys(o["measure"] for o in outcomes):
        results = [o["result"] for o in outcomes if o["measure"] == measure and o["result"]["score"] is not None]
        mcid = results[-1]["mcid"] if results else None
        trend = _trend([r["score"] for r in results], mcid["value"] if mcid else float("inf"))
        trend["mcid"] = mcid
        if mcid is None:
            trend.pop("band", None)
            trend["beyond_band"] = None
        out["outcomes"][measure] = trend
    return out


def plot(
    sessions: Sequence[Mapping[str, Any]],
    measures: Sequence[Mapping[str, Any]],
    path: str | Path,
    *,
    days_per_week: int = 5,
) -> Path:
    """Write a 2x2 PNG: NPRS (MCID band), PSFS (MDC band), Thomas angle and tilt (SEM bands), adherence."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 7.5), dpi=110, layout="constrained")
    ax_pain, ax_psfs, ax_deg, ax_adh = fig.subplots(2, 2).ravel()

    def when(iso: str) -> datetime:
        return datetime.fromisoformat(iso)

    ran = [s for s in sessions if s.get("nprs_before") is not None or s.get("nprs_after") is not None]
    if ran:
        t = [when(s["started_at"]) for s in ran]
        before = np.array(
            [np.nan if s["nprs_before"] is None else s["nprs_before"] for s in ran], dtype=float
        )
        after = np.array([np.nan if s["nprs_after"] is None else s["nprs_after"] for s in ran], dtype=float)
        base = before[0] if not np.isnan(before[0]) else after[0]
        ax_pain.axhspan(base - NPRS_MCID, base + NPRS_MCID, color="0.9", label="baseline ± 2 (MCID)")
        ax_pain.plot(t, before, "o-", label="before session")
        ax_pain.plot(t, after, "s--", label="after session")
        ax_pain.legend(fontsize=8, loc="upper right")
    ax_pain.set(title="Pain (NPRS 0-10)", ylim=(-0.5, 10.5), ylabel="NPRS")

    _measure_panel(ax_psfs, measures, "psfs", "PSFS (0-10, higher is better)", "MDC", (-0.5, 10.5))
    _measure_panel(
        ax_deg, measures, "thomas_hip_deg", "Thomas hip angle and standing tilt (deg)", "SEM", None
    )
    _measure_panel(ax_deg, measures, "standing_tilt_deg", None, "SEM", None)

    done = sorted(_day(s["started_at"]) for s in sessions if s.get("status") == "completed")
    if done:
        week0 = done[0] - timedelta(days=done[0].weekday())
        weeks = np.array([(d - week0).days // 7 for d in sorted(set(done))])
        counts = np.bincount(weeks)
        ax_adh.bar(np.arange(counts.size) + 1, counts, color="tab:green", label="session days done")
        ax_adh.axhline(days_per_week, color="k", ls=":", label=f"planned ({days_per_week}/week)")
        ax_adh.legend(fontsize=8)
    ax_adh.set(title="Adherence", xlabel="week", ylabel="days with a session", ylim=(0, 7.5))
    # a single date (zero span) keeps matplotlib's default ticks: the date locator cannot pick an interval
    for ax in (a for a in (ax_pain, ax_psfs, ax_deg) if a.has_data() and a.dataLim.width > 0):
        locator = AutoDateLocator(maxticks=6)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    fig.suptitle("iliopsoas progress. " + DISCLAIMER, fontsize=10)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    return out


def _measure_panel(
    ax: Any,
    measures: Sequence[Mapping[str, Any]],
    kind: str,
    title: str | None,
    band_name: str,
    ylim: tuple[float, float] | None,
) -> None:
    rows = [m for m in measures if m["kind"] == kind]
    if rows:
        t = [datetime.fromisoformat(m["taken_at"]) for m in rows]
        v = np.array([m["value"] for m in rows], dtype=float)
        band = BANDS[kind]
        line = ax.plot(t, v, "o-", label=kind.replace("_deg", "").replace("_", " "))[0]
        ax.axhspan(
            v[0] - band,
            v[0] + band,
            color=line.get_color(),
            alpha=0.12,
            label=f"baseline ± {band:g} ({band_name})",
        )
        ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    if ylim:
        ax.set_ylim(*ylim)
