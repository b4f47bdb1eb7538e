"""``iliopsoas simulate``: resting postures under tightness, and dose-response sweeps."""

from __future__ import annotations

from pathlib import Path

import typer

from iliopsoas.commands._common import console, fail, print_json

app = typer.Typer(
    help="Resting posture of the model (supine, standing, sitting, thomas, prone) with tight muscles.",
    no_args_is_help=True,
    invoke_without_command=False,
)

SCENARIO_HELP = "supine, standing, sitting, thomas or prone"


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

    try:
        person = _person(no_psoas_minor, muscle_size, pi_offset)
        tights = dict(parse_tight(t) for t in tight)
        res = simulate(scenario.lower(), tights, side=side, person=person)
    except (TightnessError, KeyError) as exc:
        fail(str(exc).strip("'\""), 1)
    data = res.as_dict()
    if plot is not None:
        from iliopsoas.posture.plots import pose_figure

        try:
            pose_figure(res, plot)
        except OSError as exc:
            fail(f"cannot write {plot}: {exc}", 1)
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

    try:
        a = float(start.rstrip("%")) / 100.0
        b = float(stop.rstrip("%")) / 100.0
    except ValueError:
        fail(f"--from and --to must be numbers (percent), got {start!r} and {stop!r}", 2)
    try:
        out = sweep(scenario.lower(), muscle, a, b, steps, side=side)
    except (TightnessError, KeyError) as exc:
        fail(str(exc).strip("'\""), 1)
    if plot is not None:
        from iliopsoas.posture.plots import sweep_figure

        try:
            sweep_figure(out, plot)
        except OSError as exc:
            fail(f"cannot write {plot}: {exc}", 1)
    if json_out:
        print_json(out)
    elif plot is None:
        for i, s in enumerate(out["shortening"]):
            vals = ", ".join(f"{k}={v[i]:.1f}" for k, v in out["angles"].items())
            console.print(f"{100 * s:5.1f}%  {vals}{'' if out['converged'][i] else '  (not converged)'}")
    if not all(out["converged"]):
        n_bad = out["converged"].count(False)
        fail(f"{n_bad} of {len(out['converged'])} sweep points did not converge: {'; '.join(out['messages'])}", 1)
