"""Bad input gives a one-line error naming the option, the place and what was expected; never a traceback.

One regression test per fix made in the documentation review (see docs/cli.md, exit codes).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from iliopsoas.cli import app

runner = CliRunner()


def _error(args: list[str], code: int = 1) -> str:
    """Run the command, check its exit code and that no traceback leaks; return the error line."""
    res = runner.invoke(app, args)
    assert "Traceback" not in res.stdout + res.stderr
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert res.exit_code == code, res.stdout + res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert lines and lines[-1].startswith("error: "), res.stderr
    return lines[-1]


@pytest.fixture(scope="module")
def rajagopal(models_dir: Path) -> Path:
    return models_dir / "opensim-models" / "Rajagopal2016.osim"


@pytest.mark.parametrize("option", ["--from", "--to"])
def test_moment_arm_rejects_a_sweep_bound_that_is_not_finite(rajagopal: Path, option: str) -> None:
    msg = _error(["model", "moment-arm", str(rajagopal), "--muscle", "psoas_r", "--coordinate",
                  "hip_flexion_r", option, "nan"])
    assert f"{option}: expected a finite number" in msg and "nan" in msg


@pytest.mark.parametrize("args", [["--from", "nan"], ["--to", "inf"]])
def test_hip_moment_arms_rejects_bounds_that_are_not_finite(args: list[str]) -> None:
    msg = _error(["model", "hip-moment-arms", *args])
    assert "--from/--to/--step: expected finite numbers" in msg


def test_hip_moment_arms_refuses_a_step_that_would_take_minutes() -> None:
    # 0.0001 deg over -20..120 deg is 1.4 million angles: it used to run for minutes and take GBs
    msg = _error(["model", "hip-moment-arms", "--step", "0.0001"])
    assert msg.startswith("error: --step: 0.0001 deg") and "expected a larger step" in msg


def test_crossings_rejects_an_infinite_threshold() -> None:
    # an infinite threshold used to succeed and report that no muscle crosses any joint
    msg = _error(["model", "crossings", "--threshold-mm", "inf"])
    assert "--threshold-mm: expected a positive number of millimetres" in msg


def test_error_messages_stay_on_one_line_whatever_the_width(rajagopal: Path) -> None:
    res = runner.invoke(app, ["model", "moment-arm", str(rajagopal), "--muscle", "psoas_r",
                              "--coordinate", "knee_angle_r_beta"])
    assert res.exit_code == 1
    assert len(res.stderr.strip().splitlines()) == 1 and len(res.stderr) > 80
    assert "driven by a coupler" in res.stderr


@pytest.mark.parametrize(
    ("args", "start"),
    [
        (["standing", "--tight", "psoas=20%:stiffness=9"], "error: --tight 'psoas=20%:stiffness=9': stiffness must"),
        (["standing", "--tight", "psoas=80%"], "error: --tight 'psoas=80%': shortening must be between 0 and 0.4"),
        (["standing", "--tight", "psoaz=20%"], "error: --tight: unknown tightness target 'psoaz'"),
        (["standing", "--side", "middle"], "error: --side: side must be left or right, got 'middle'"),
        (["standing", "--muscle-size", "5"], "error: --muscle-size: muscle_size must be between 0.5 and 2"),
        (["supine", "--pelvic-incidence-offset", "10"], "error: --pelvic-incidence-offset: "),
        (["sweep", "lying"], "error: SCENARIO: unknown scenario 'lying': use one of supine, standing"),
        (["sweep", "standing", "--muscle", "foo"], "error: --muscle: unknown tightness target 'foo'"),
        (["sweep", "standing", "--steps", "1"], "error: --steps: steps must be an integer from 2"),
    ],
)
def test_simulate_errors_name_the_option_and_keep_their_quotes(args: list[str], start: str) -> None:
    msg = _error(["simulate", *args])
    assert msg.startswith(start), msg  # each expected start closes the quote around the bad value


@pytest.mark.parametrize(
    ("spec", "start"),
    [
        ("psoas=abc", "error: --tight 'psoas=abc': expected a number such as 20% or 0.2, got 'abc'"),
        ("psoas", "error: --tight expects TARGET=AMOUNT such as psoas=20%, got 'psoas'"),
    ],
)
def test_a_malformed_tight_spec_is_a_usage_error(spec: str, start: str) -> None:
    # exit 2, as for any malformed number (--muscle-size abc, sweep --from abc); it used to exit 1
    msg = _error(["simulate", "standing", "--tight", spec], code=2)
    assert msg.startswith(start), msg


def test_simulate_plot_into_a_missing_folder_names_plot(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    msg = _error(["simulate", "supine", "--plot", str(blocker / "pose.png")])
    assert msg.startswith("error: --plot: cannot write") and "Not a directory" in msg


def test_serve_checks_the_care_database_before_starting(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    msg = _error(["serve", "--db", str(blocker / "care.sqlite3"), "--no-browser", "--port", "1"])
    assert msg.startswith("error: --db: cannot open the care database") and "cannot create its folder" in msg


def test_serve_checks_the_osim_model_before_starting(tmp_path: Path) -> None:
    bad = tmp_path / "model.osim"
    bad.write_text("not xml at all")
    msg = _error(["serve", "--osim", str(bad), "--no-browser", "--port", "1"])
    assert msg.startswith("error: --osim: ") and "malformed XML" in msg


def test_a_care_database_path_that_is_a_folder_is_refused(tmp_path: Path) -> None:
    msg = _error(["session", "list", "--db", str(tmp_path)])
    assert "it is a folder; expected a database file" in msg


@pytest.mark.parametrize("name", ["index", "atlas", "ask", "model", "posture", "care", "api"])
def test_every_page_is_a_whole_document_with_its_own_title_and_tab(name: str) -> None:
    # the pages share one frame (templates/_layout.html) since the duplicated heads were merged
    from iliopsoas.web.app import PAGE_TITLES, _page

    html = _page(name)
    title, page = PAGE_TITLES[name]
    assert html.startswith("<!doctype html>") and html.rstrip().endswith("</html>")
    assert f"<title>{title} · iliopsoas</title>" in html and f'<body data-page="{page}">' in html
    assert "{{" not in html and html.count("<main>") == 1 and html.count("</main>") == 1
