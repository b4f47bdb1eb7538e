"""Progress numbers (adherence, bands) and the PNG chart."""

from __future__ import annotations

from datetime import date

import pytest

from iliopsoas.care.progress import NPRS_MCID, adherence, plot, summarize


def session(day: str, before=None, after=None, status="completed"):
    return {
        "started_at": f"2026-03-{day}T07:30:00.000+00:00",
        "status": status,
        "nprs_before": before,
        "nprs_after": after,
    }


def test_adherence_counts_days_not_sessions_and_only_completed_ones():
    s = [
        session("02"),
        session("02"),
        session("03"),
        session("04", status="stopped"),
        session("05"),
        session("06"),
    ]
    a = adherence(s, days_per_week=5, today=date(2026, 3, 8))
    # 7 days since the first session at 5 per week = 5 planned; 4 distinct completed days
    assert (a["planned"], a["done"], a["percent"]) == (5, 4, 80.0)
    assert a["streak_days"] == 0  # nothing on the 7th or 8th
    assert adherence(s, today=date(2026, 3, 6))["streak_days"] == 2  # the 5th and 6th (the 4th was stopped)
    assert adherence([], today=date(2026, 3, 6))["percent"] is None
    with pytest.raises(ValueError, match="days_per_week"):
        adherence(s, days_per_week=9)


def test_summary_flags_changes_beyond_the_published_bands():
    sessions = [session("02", 6, 5), session("04", 5, 4), session("06", 4, 3)]
    measures = [
        {"taken_at": "2026-03-02T07:00:00+00:00", "kind": "thomas_hip_deg", "value": 8.0},
        {"taken_at": "2026-03-30T07:00:00+00:00", "kind": "thomas_hip_deg", "value": 2.0},
        {"taken_at": "2026-03-02T07:00:00+00:00", "kind": "psfs", "value": 4.0},
        {"taken_at": "2026-03-30T07:00:00+00:00", "kind": "psfs", "value": 6.5},
    ]
    out = summarize(sessions, measures, today=date(2026, 3, 6))
    # resting (before-session) pain 6 -> 4: a change of 2 reaches the MCID; the last session eased it by 1
    assert out["nprs"]["change"] == -2 and out["nprs"]["band"] == NPRS_MCID and out["nprs"]["beyond_band"]
    assert out["nprs"]["last_session_change"] == -1
    assert out["psfs"]["beyond_band"]  # +2.5 > MDC 2
    assert not out["thomas_hip_deg"]["beyond_band"]  # -6 deg is inside the 11 deg SEM
    assert out["standing_tilt_deg"] == {"n": 0}
    assert out["clinician_review"] is False
    worse = summarize([session("02", 2, 2), session("03", 4, 5), session("04", 5, 4)], [])
    assert worse["clinician_review"] is True


def test_plot_writes_a_png(tmp_path):
    sessions = [session(f"{d:02d}", 5 - d % 3, 4 - d % 3) for d in range(2, 20, 2)]
    measures = [
        {"taken_at": f"2026-03-{d:02d}T07:00:00+00:00", "kind": k, "value": v}
        for d, k, v in [(2, "standing_tilt_deg", 16.0), (16, "standing_tilt_deg", 14.5), (2, "psfs", 4.0)]
    ]
    out = plot(sessions, measures, tmp_path / "deep" / "p.png")
    assert out.read_bytes()[:4] == b"\x89PNG" and out.stat().st_size > 20_000
    empty = plot([], [], tmp_path / "empty.png")  # a new user gets empty axes, not an error
    assert empty.exists()
