"""``iliopsoas model analyze PATH MOTION.mot --out RESULT.sto``: muscle quantities over a motion.

Added to the ``model`` command group with :func:`register` (or ``app.command("analyze")(analyze)``).
The library is imported inside the command so that ``iliopsoas --help`` stays fast.
Exit codes: 1 bad input (missing or malformed file, unknown muscle or coordinate, bad value).
"""

from __future__ import annotations

from pathlib import Path

import typer

from iliopsoas.commands._common import console, fail, print_json


def analyze(
    path: Path = typer.Argument(..., help="OpenSim model (.osim).", dir_okay=False),
    motion: Path = typer.Argument(..., help="Motion (.mot/.sto) with coordinate columns.", dir_okay=False),
    out: Path = typer.Option(..., "--out", help="Result table to write (.sto).", dir_okay=False),
    muscles: list[str] | None = typer.Option(
        None, "--muscles", help="Muscle name (repeat or comma-separate); default: all muscles."),
    coordinates: list[str] | None = typer.Option(
        None, "--coordinates", help="Coordinates for moment arms; default: those in the motion."),
    activation: float = typer.Option(1.0, "--activation", help="Activation of every muscle, 0 to 1."),
    tendon: str = typer.Option("model", "--tendon", help="Tendon: model (each muscle's own), rigid or compliant."),
    json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Lengths, moment arms, fiber lengths and forces over a motion (like OpenSim's MuscleAnalysis).

    Writes one .sto table: columns '<muscle>|length', '|fiber_length', '|tendon_length',
    '|pennation_angle' (rad), '|active_fiber_force', '|passive_fiber_force', '|tendon_force' (N),
    '|moment_arm_<coordinate>' (m) and '|moment_<coordinate>' (N·m). Forces are static (zero fiber
    velocity) at the given activation. See docs/mechanics.md, "Muscle models".
    """
    if not 0.0 <= activation <= 1.0:
        fail(f"--activation: expected a number from 0 to 1, got {activation}")
    if tendon not in ("model", "rigid", "compliant"):
        fail(f"--tendon: expected model, rigid or compliant, got {tendon!r}")
    for label, f in (("model", path), ("motion", motion)):
        if not f.is_file():
            fail(f"{label} file not found: {str(f)!r}")
    names = _split(muscles)
    coords = _split(coordinates)

    from iliopsoas.mechanics import OsimError, load_osim
    from iliopsoas.mechanics.muscle_analysis import analyze_motion
    from iliopsoas.mechanics.storage import StorageError, read_storage, write_storage

    try:
        model = load_osim(path)
    except OsimError as e:
        fail(str(e))
    if model.muscle_params is None or not model.muscles:
        fail(f"{str(path)!r} has no muscles to analyse")
    try:
        table = read_storage(motion)
    except StorageError as e:
        fail(str(e))
    for n in names or []:
        if n not in model.muscle_names:
            fail(f"--muscles: unknown muscle {n!r} in {model.name!r}")
    for c in coords or []:
        if c not in model.coordinate_names:
            fail(f"--coordinates: unknown coordinate {c!r} in {model.name!r}")
    if table.data.shape[0] == 0:
        fail(f"{str(motion)!r} has no rows")
    try:
        result, summary = analyze_motion(model, table, muscles=names, coordinates=coords,
                                         activation=activation, tendon=tendon)
    except (StorageError, ValueError) as e:
        fail(str(e))
    try:
        write_storage(out, result)
    except OSError as e:
        fail(f"--out: cannot write {str(out)!r}: {e.strerror or e}")
    summary["out"] = str(out)
    if json_out:
        print_json(summary)
        return
    console.print(
        f"wrote {summary['rows']} rows x {summary['columns']} columns to {out} "
        f"({len(summary['muscles'])} muscles; moment arms about {', '.join(summary['coordinates']) or 'none'})",
        highlight=False, markup=False,
    )
    if summary["frames_without_equilibrium"]:
        console.print(f"[yellow]{summary['frames_without_equilibrium']} frames had a muscle without a "
                      "tendon equilibrium (NaN in the table)[/]")
    if summary["unused_motion_columns"]:
        from rich.markup import escape

        console.print(f"[dim]motion columns not used: {escape(', '.join(summary['unused_motion_columns']))}[/]",
                      highlight=False)


def _split(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    out = [s.strip() for v in values for s in v.split(",") if s.strip()]
    return out or None


def register(app: typer.Typer) -> None:
    """Add ``analyze`` to the ``model`` command group."""
    app.command("analyze")(analyze)
