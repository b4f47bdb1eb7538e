"""``iliopsoas simulate``: resting postures under tightness, and dose-response sweeps."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import typer

from iliopsoas.commands._common import console, fail, output_path, print_json

app = typer.Typer(
    help="Resting posture of the model (supine, standing, sitting, thomas, prone) with tight muscles.",
    no_args_is_help=True,
    invoke_without_command=False,
)

SCENARIO_HELP = "supine, standing, sitting, thomas or prone"


# Where a message of the posture library comes from, by how it starts: the CLI names the option.
_PLACES = (
    ("side ", "--side"),
    ("steps ", "--steps"),
    ("muscle_size ", "--muscle-size"),
    ("pelvic_incidence_offset_deg ", "--pelvic-incidence-offset"),
    ("unknown scenario", "SCENARIO"),
)


def _fail_at(exc: Exception, tightness_place: str, code: int = 1) -> NoReturn:
    """Exit with ``code`` and the library's message, prefixed by the option it is about.

    ``tightness_place`` names where tightness targets and amounts came from (``--tight`` or
    ``--muscle``); messages that already start with an option name are kept as they are.
    """
    message = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    if not message.startswith("--"):
        place = next((opt for start, opt in _PLACES if message.startswith(start)), tightness_place)
        message = f"{place}: {message}"
    fail(message, code)


def _save_plot(figure: str, result: Any, path: Path) -> None:
    """Draw ``result`` with ``iliopsoas.posture.plots.<figure>`` into ``path`` (PNG), or exit 1."""
    from iliopsoas.posture import plots

    output_path(path, "--plot")
    try:
        getattr(plots, figure)(result, path)
    except OSError as exc:
        fail(f"--plot: cannot write {str(path)!r}: {exc.strerror or exc}", 1)
    except (KeyError, ValueError, TypeError) as exc:  # the figure cannot be drawn from this result
        fail(f"--plot: cannot draw the figure for {str(path)!r} ({type(exc).__name__}: {exc})", 1)


def _person(no_psoas_minor: bool, muscle_size: float, pi_offset: float):  # type: ignore[no-untyped-def]
    from iliopsoas.posture import Person

    return Person(psoas_minor=not no_psoas_minor, muscle_size=muscle_size, pelvic_incidence_offset_deg=pi_offset)


def run(
    scenario: str,
    tight: list[str],
    side: str,
    json_out: bool,
    plot: Path | None,
    no_psoas_minor: bool,
    muscle_size: float,
    pi_offset: float,
) -> None:
    """Solve one posture and print its angles (deg), pose and what holds it."""
    from iliopsoas.posture import TightnessError, parse_tight, simulate

    if plot is not None:
        output_path(plot, "--plot")  # before the solve, not seconds later
    try:
        person = _person(no_psoas_minor, muscle_size, pi_offset)
    except TightnessError as exc:
        _fail_at(exc, "--tight")
    tights = {}
    for spec in tight:
        try:
            target, amount = parse_tight(spec)
        except TightnessError as exc:
            # a spec that is not TARGET=NUMBER is malformed usage (2), like a malformed --muscle-size
            malformed = "expected a number" in str(exc) or str(exc).startswith("--tight expects")
            _fail_at(exc, f"--tight {spec!r}", 2 if malformed else 1)
        tights[target] = amount
    try:
        res = simulate(scenario.lower(), tights, side=side, person=person)
    except (TightnessError, KeyError) as exc:
        _fail_at(exc, "--tight")
    except (ValueError, ArithmeticError) as exc:  # the solver gave up (e.g. thomas at psoas 40 %, stiffness 3)
        fail(f"--tight: no {scenario} equilibrium could be computed for this tightness ({exc}); try less "
             "shortening or stiffness")
    data = res.as_dict()
    if plot is not None:
        _save_plot("pose_figure", res, plot)
    if json_out:
        print_json(data)
    else:
        console.print(f"[bold]{scenario}[/] ({data['side']} side): {res.message}")
        for k, v in res.angles.items():
            shown = "-" if v is None else (f"{v:.3f}" if k.endswith("_m") else f"{v:.1f}")
            console.print(f"  {k:24s} {shown}")
        if res.interpretation:
            console.print(f"  points to: {', '.join(res.interpretation['points_to'])}")
    if not res.converged:
        fail(f"the {scenario} equilibrium did not converge: {res.message}", 1)


def _scenario_command(name: str):  # type: ignore[no-untyped-def]
    def command(
        tight: list[str] = typer.Option([], "--tight", help="TARGET=AMOUNT, e.g. psoas=20% (shortening, % of "
                                        "optimal fibre length); add :stiffness=1.5:tone=0.02. Repeatable."),
        side: str = typer.Option("right", "--side", help="left or right: the side of the tight muscles"),
        json_out: bool = typer.Option(False, "--json", help="Print JSON."),
        plot: Path | None = typer.Option(None, "--plot", help="Save a figure of the pose (PNG)."),
        no_psoas_minor: bool = typer.Option(False, "--no-psoas-minor", help="Person without a psoas minor."),
        muscle_size: float = typer.Option(1.0, "--muscle-size", help="Force scale of every muscle (0.5-2)."),
        pi_offset: float = typer.Option(0.0, "--pelvic-incidence-offset", help="Sacroiliac nutation, deg (-4..4)."),
    ) -> None:
        run(name, tight, side, json_out, plot, no_psoas_minor, muscle_size, pi_offset)

    command.__doc__ = f"Solve the {name} posture: angles (deg), pose and what holds it."
    return command


for _name in ("supine", "standing", "sitting", "thomas", "prone"):
    app.command(_name)(_scenario_command(_name))


@app.command("sweep")
def sweep_cmd(
    scenario: str = typer.Argument(..., help=SCENARIO_HELP),
    muscle: str = typer.Option("iliacus", "--muscle", help="Target (psoas, iliacus, iliopsoas, rectus_femoris, tfl, ...)."),
    start: str = typer.Option("0", "--from", help="Lowest shortening, % of optimal fibre length."),
    stop: str = typer.Option("30", "--to", help="Highest shortening, %."),
    steps: int = typer.Option(31, "--steps", help="Number of values (2-5000)."),
    side: str = typer.Option("right", "--side"),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    plot: Path | None = typer.Option(None, "--plot", help="Save the dose-response curves (PNG)."),
) -> None:
    """Angles versus the shortening of one muscle, solved as one batch."""
    from iliopsoas.posture import TightnessError, sweep

    if plot is not None:
        output_path(plot, "--plot")
    try:
        a = float(start.rstrip("%")) / 100.0
        b = float(stop.rstrip("%")) / 100.0
    except ValueError:
        fail(f"--from and --to must be numbers (percent), got {start!r} and {stop!r}", 2)
    try:
        out = sweep(scenario.lower(), muscle, a, b, steps, side=side)
    except (TightnessError, KeyError) as exc:
        _fail_at(exc, "--muscle")
    except (ValueError, ArithmeticError) as exc:
        fail(f"--from/--to: no {scenario} equilibrium could be computed over this range ({exc}); try a "
             "smaller range")
    if plot is not None:
        _save_plot("sweep_figure", out, plot)
    if json_out:
        print_json(out)
    elif plot is None:
        for i, s in enumerate(out["shortening"]):
            vals = ", ".join(f"{k}={v[i]:.1f}" if v[i] is not None else f"{k}=n/a"
                             for k, v in out["angles"].items())
            console.print(f"{100 * s:5.1f}%  {vals}{'' if out['converged'][i] else '  (not converged)'}")
    if not all(out["converged"]):
        n_bad = out["converged"].count(False)
        fail(f"{n_bad} of {len(out['converged'])} sweep points did not converge: {'; '.join(out['messages'])}", 1)
