"""The guided player: screens captured with Rich's recording console, sessions driven by a script."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from iliopsoas.care.log import CareLog
from iliopsoas.care.planner import PlanOptions, build_plan, exercise
from iliopsoas.care.player import (
    FakeClock,
    Player,
    PromptControls,
    ScriptedControls,
    dosage_text,
    render_step,
)
from iliopsoas.care.screening import DISCLAIMER, AnswersError, evaluate, load_items


def recorder(width: int = 100) -> Console:
    return Console(record=True, file=io.StringIO(), width=width, color_system=None)


def clear_plan(release: bool = True):
    return build_plan(evaluate({i.id: False for i in load_items()}), options=PlanOptions(release=release))


def test_hold_screen_shows_countdown_set_side_cue_stop_signs_and_disclaimer():
    c = recorder()
    step = exercise("kneeling-lunge-stretch")
    c.print(render_step(step, index=4, total=7, set_index=1, side="left", phase="hold", remaining_s=18))
    text = c.export_text()
    assert "STRETCH  step 4/7  Half-kneeling hip-flexor stretch" in text
    assert "HOLD   18 s" in text
    assert "set 1/1 · left side" in text
    assert "1 x 30 s hold, rest 15 s, each side" in text
    assert "front of the hip or thigh" in text  # stop-if
    assert "moderate:" in text  # evidence grade
    assert DISCLAIMER in text
    # the bar is 40 % full after 12 of 30 s
    assert "████████░░░░░░░░░░░░" in text


def test_rep_and_rest_screens():
    c = recorder()
    step = exercise("banded-hip-flexion")
    c.print(render_step(step, index=6, total=7, set_index=2, side="right", phase="reps", rep=7))
    c.print(render_step(step, index=6, total=7, set_index=1, phase="rest", remaining_s=45))
    text = c.export_text()
    assert "REPS 7/15" in text and "set 2/2" in text
    assert "REST   45 s" in text
    assert "2 sets x 15 reps (hold 3 s)" in text


def test_posterior_hip_release_names_the_spot_for_each_set():
    c = recorder()
    step = exercise("posterior-hip-release")
    c.print(render_step(step, index=3, total=7, set_index=2, side="left", phase="ready"))
    assert "deep buttock (piriformis)" in c.export_text()


def test_full_scripted_session_logs_every_set_and_times_holds_with_the_clock(tmp_path):
    plan = clear_plan()
    clock = FakeClock()
    bells = []
    with CareLog(tmp_path / "s.db") as log:
        player = Player(
            plan.steps,
            log=log,
            console=recorder(),
            clock=clock,
            controls=ScriptedControls({"nprs_before": 4, "nprs_after": 2}),
            bell=lambda: bells.append(1),
        )
        summary = player.run(plan=plan.to_json())
        rows = log.steps()
        session = log.sessions()[0]
    # release: psoas 2 x 60 s + iliacus 2 x 60 s + posterior 6 x 45 s with 2 x 10 s rest
    # stretch 2 x 30 s; SLR 4 x 15 x 3 s + 60 s rest; banded 4 x 15 x 6 s + 60 s rest
    expected = 240 + 270 + 20 + 60 + (180 + 60) + (360 + 60)
    assert summary.elapsed_s == pytest.approx(expected)
    assert summary.sets_done == 4 + 6 + 2 + 4 + 4
    assert len(rows) == summary.sets_done + 1  # + the habit step
    assert session["status"] == "completed" and session["nprs_after"] == 2
    assert summary.to_json()["nprs_change"] == -2
    # a bell at the end of every hold and every rest timer
    assert len(bells) == summary.bells == 4 + 6 + 2 + 2 + 1 + 1


def test_skip_restart_pause_and_quit(tmp_path):
    plan = clear_plan()
    script = {
        "nprs_before": 5,
        "skip": ["kneeling-lunge-stretch"],
        "restart": {"straight-leg-raise": 1},
        "pause": ["banded-hip-flexion"],
        "quit_after_sets": 8,
    }
    c = recorder()
    with CareLog(tmp_path / "q.db") as log:
        summary = Player(
            plan.steps,
            log=log,
            console=c,
            clock=FakeClock(),
            controls=ScriptedControls(script),
            bell=lambda: None,
        ).run()
        rows = log.steps()
        session = log.sessions()[0]
    assert summary.skipped == ["kneeling-lunge-stretch"]
    assert summary.restarts == 1 and summary.pauses == 1
    assert session["status"] == "stopped" and summary.nprs_after is None
    done = [(r["step_id"], r["set_index"], r["side"]) for r in rows if r["status"] == "done"]
    # SLR set 1 twice (restarted), SLR set 2, then the banded flexion's set 1: 8 sets started, then quit
    slr = "straight-leg-raise"
    assert done == [(slr, 1, "left"), (slr, 1, "right")] * 2 + [(slr, 2, "left"), (slr, 2, "right")] + [
        ("banded-hip-flexion", 1, "left"),
        ("banded-hip-flexion", 1, "right"),
    ]
    assert [r["step_id"] for r in rows if r["status"] == "skipped"] == ["kneeling-lunge-stretch"]
    text = c.export_text()
    assert "PAUSED" in text and "restarting set 1 of straight-leg-raise" in text and "Session summary" in text


@pytest.mark.parametrize(
    "script, match",
    [
        ({"nprs_before": 11}, "0-10"),
        ({"skip": "psoas-release"}, "list"),
        ({"jump": 1}, "unknown session answer"),
    ],
)
def test_bad_session_scripts_are_rejected(script, match):
    with pytest.raises(AnswersError, match=match):
        ScriptedControls(script)


def test_dosage_text_for_habits():
    assert (
        dosage_text(exercise("sitting-breaks").dosage)
        == "every 45 min of sitting, 2 min up, 8x/day, 7 d/week"
    )


class InterruptingClock(FakeClock):
    """Simulated time that raises Ctrl-C (KeyboardInterrupt) on its n-th tick, once."""

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at, self.ticks = at, 0

    def sleep(self, seconds: float) -> None:
        self.ticks += 1
        if self.ticks == self.at:
            raise KeyboardInterrupt
        super().sleep(seconds)


def test_interactive_controls_read_from_an_injected_stream_and_ctrl_c_pauses_a_hold():
    c = recorder(90)
    steps = [exercise("kneeling-lunge-stretch"), exercise("straight-leg-raise")]
    # NPRS 3; start left hold; Ctrl-C at tick 5 -> pause menu "r" (restart set); start left and right
    # again; "Enter" after the set; SLR: start set 1 left, then "s" skips it; NPRS after 1
    stream = io.StringIO("3\n\nr\n\n\n\n\ns\n1\n")
    player = Player(
        steps,
        log=None,
        console=c,
        clock=InterruptingClock(5),
        controls=PromptControls(c, stream=stream),
        live=True,
        bell=lambda: None,
    )
    s = player.run()
    assert (s.nprs_before, s.nprs_after, s.restarts, s.pauses) == (3, 1, 1, 1)
    assert s.skipped == ["straight-leg-raise"]
    assert [(d["id"], d["side"]) for d in s.steps if d["status"] == "done"] == [
        ("kneeling-lunge-stretch", "left"),
        ("kneeling-lunge-stretch", "right"),
        ("straight-leg-raise", "left"),
    ]
    # 4 s lost before the pause, then 2 x 30 s holds and 15 reps x 3 s
    assert s.elapsed_s == pytest.approx(4 + 60 + 45)
    assert "Paused. Enter resume" in c.export_text()


def test_ctrl_c_at_a_prompt_stops_the_session_and_keeps_what_was_done(tmp_path):
    class CtrlCAfterTwoSets(ScriptedControls):
        def before_set(self, step, set_index, side):
            if self._sets == 2:
                raise KeyboardInterrupt
            return super().before_set(step, set_index, side)

    plan = clear_plan()
    with CareLog(tmp_path / "c.db") as log:
        s = Player(
            plan.steps,
            log=log,
            console=recorder(),
            clock=FakeClock(),
            controls=CtrlCAfterTwoSets({"nprs_before": 2, "nprs_after": 2}),
            bell=lambda: None,
        ).run()
        assert log.sessions()[0]["status"] == "stopped"
        assert [r["side"] for r in log.steps()] == ["left", "right"]
    assert s.status == "stopped" and s.sets_done == 2


def test_the_terminal_player_logs_sets_in_the_order_the_api_serves_them(tmp_path):
    from iliopsoas.care.sets import expand_sets

    plan = clear_plan()
    with CareLog(tmp_path / "o.db") as log:
        Player(plan.steps, log=log, console=recorder(), clock=FakeClock(), controls=ScriptedControls({}),
               bell=lambda: None).run()
        logged = [(r["step_id"], r["set_index"], r["side"]) for r in log.steps()]
    served = [(x.step_id, x.set_index, x.side) for x in expand_sets(plan.steps)]
    assert logged == served  # one set order for the terminal, the API and the web page
