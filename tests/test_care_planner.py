"""The program builder: order, defaults from the articles, adjustable options, the PDF handout."""

from __future__ import annotations

import pytest

from iliopsoas.care.pdf import write_handout
from iliopsoas.care.planner import PROGRAM_ORDER, PlanOptions, build_plan, load_exercises, release_notice
from iliopsoas.care.screening import DISCLAIMER, AnswersError, evaluate, load_items


def clear():
    return evaluate({i.id: False for i in load_items()})


def test_default_program_follows_the_evidence_and_has_no_pressure_release():
    plan = build_plan(clear())
    ids = [s.id for s in plan.steps]
    assert ids == ["kneeling-lunge-stretch", "straight-leg-raise", "banded-hip-flexion", "sitting-breaks"]
    assert not any(s.pressure or s.kind == "release" for s in plan.steps)
    assert ("psoas-release", "user-choice") in plan.removed
    assert plan.to_json()["release_notice"] is None


def test_opting_in_puts_release_after_stretch_and_strengthen_with_psoas_before_iliacus():
    plan = build_plan(clear(), options=PlanOptions(release=True))
    ids = [s.id for s in plan.steps]
    assert ids == [
        "kneeling-lunge-stretch",
        "straight-leg-raise",
        "banded-hip-flexion",
        "psoas-release",
        "iliacus-release",
        "posterior-hip-release",
        "sitting-breaks",
    ]
    assert plan.steps[0].kind != "release"
    assert [s.kind for s in plan.steps] == sorted((s.kind for s in plan.steps), key=PROGRAM_ORDER.index)
    notice = plan.to_json()["release_notice"]
    assert notice == release_notice()
    assert notice["grade"] == "very-low" and notice["risks"] and "No trial" in notice["summary"]
    # the notice's risks are the release steps' own stop signs from the exercise library (one source)
    assert all(stop in notice["risks"] for e in load_exercises() if e.kind == "release" for stop in e.stop_if)


def test_default_doses_are_the_articles():
    steps = {s.id: s.dosage for s in build_plan(clear(), options=PlanOptions(release=True)).steps}
    assert 30 <= steps["psoas-release"]["hold_s"] <= 90  # seed-003: 30-90 s
    assert steps["kneeling-lunge-stretch"]["hold_s"] == 30  # BANDY1997: 30 s is enough
    assert steps["banded-hip-flexion"]["hold_s"] == 3  # seed-002: 3 s hold
    for sid in ("straight-leg-raise", "banded-hip-flexion"):
        assert (
            15 <= steps[sid]["reps"] <= 20
            and 2 <= steps[sid]["sets"] <= 3
            and steps[sid]["times_per_day"] == 1
        )


def test_every_step_has_cue_feel_stop_if_and_a_sourced_evidence_grade():
    for ex in load_exercises():
        assert ex.cue and ex.feel and ex.stop_if
        assert ex.evidence["grade"] in ("moderate", "low", "very-low")
        assert ex.evidence["sources"], ex.id
        assert {"times_per_day", "days_per_week", "side"} <= set(ex.dosage)
    # the pressure-release steps are the low-evidence, optional module
    assert all(e.evidence["grade"] == "very-low" for e in load_exercises() if e.pressure)


def test_options_adjust_within_limits_and_are_rejected_outside():
    plan = build_plan(clear(), options=PlanOptions(release=True, release_hold_s=90, strengthen_sets=3, strengthen_reps=20))
    doses = {s.id: s.dosage for s in plan.steps}
    assert doses["iliacus-release"]["hold_s"] == 90
    assert (doses["straight-leg-raise"]["sets"], doses["straight-leg-raise"]["reps"]) == (3, 20)
    with pytest.raises(
        AnswersError, match=r"release_hold_s' = 120 is outside the range for psoas-release \(hold_s 30-90\)"
    ):
        build_plan(clear(), options=PlanOptions(release_hold_s=120))
    with pytest.raises(AnswersError, match="unknown plan option"):
        PlanOptions.from_mapping({"reps": 10})


def test_no_band_swaps_in_the_seated_march_and_release_can_be_left_out():
    plan = build_plan(clear(), options=PlanOptions(band=False, release=False))
    ids = [s.id for s in plan.steps]
    assert "banded-hip-flexion" not in ids and "seated-march" in ids
    assert not any(s.kind == "release" for s in plan.steps)
    assert ("psoas-release", "user-choice") in plan.removed
    assert (
        len(
            [
                s
                for s in build_plan(clear(), options=PlanOptions(max_strengthen=1)).steps
                if s.kind == "strengthen"
            ]
        )
        == 1
    )


def test_pdf_handout_lists_each_step_its_dose_and_the_disclaimer(tmp_path):
    plan = build_plan(clear(), options=PlanOptions(release=True))
    log = {"sessions": [{"started_at": "2026-03-02T18:00:00+00:00", "status": "stopped", "nprs_before": 4,
                         "nprs_after": None, "note": None, "steps": [{"status": "done"}] * 3}]}
    data = write_handout(plan, tmp_path / "h.pdf", compress=False, name="Ada Lovelace", log=log).read_bytes()
    assert data.startswith(b"%PDF")
    # (PDF strings escape parentheses, so the probes avoid them)
    for text in (
        DISCLAIMER,
        "Psoas pressure release",
        "2 sets x 15 reps",
        "Stop if:",
        "Evidence",
        "very-low",
        "For: Ada Lovelace",
        "Your clinician",
        "Session log",
        "2026-03-02",
        "stopped",
    ):
        assert text.encode("latin-1") in data, text
    blocked = build_plan(evaluate({i.id: False for i in load_items()} | {"cold-pale-leg": True}))
    data = write_handout(blocked, tmp_path / "b.pdf", compress=False).read_bytes()
    assert b"The program is locked." in data and b"Psoas pressure release" not in data
