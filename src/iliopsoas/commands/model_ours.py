"""``iliopsoas model crossings | hip-moment-arms | lumbar``: analyses of our lumbopelvic model.

These commands are added to the ``model`` command group with :func:`register`. Each prints a
short table, or JSON with ``--json``; ``--plot FILE.png`` also writes a figure. Libraries are
imported inside the commands so that ``iliopsoas --help`` stays fast. Exit code 1: bad option
value.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer

from iliopsoas.commands._common import console, fail, output_path, print_json

JSON_OPT = typer.Option(False, "--json", help="Print JSON instead of a table.")
PLOT_OPT = typer.Option(None, "--plot", help="Also write a PNG figure to this path.", dir_okay=False)
SIDE_OPT = typer.Option("r", "--side", help="Body side: r or l.")
POSTURES = ("erect", "flexed", "extended")
MAX_ANGLES = 2_000  # a 0.07 deg step over the whole hip range; finer is a typo and costs minutes and GBs


def _plot(kind: str, result: dict[str, Any], path: Path | None, **kw: Any) -> None:
    if path is None:
        return
    from iliopsoas.models import plots

    if path.suffix.lower() != ".png":
        fail(f"--plot: expected a path ending in .png, got {str(path)!r}")
    output_path(path, "--plot")
    try:
        out = getattr(plots, f"plot_{kind}")(result, path, **kw)
    except OSError as e:
        fail(f"--plot: cannot write {str(path)!r}: {e.strerror or e}")
    console.print(f"[dim]figure written to {out}[/]", highlight=False)


def _side(side: str) -> str:
    if side not in ("r", "l"):
        fail(f"--side: expected 'r' or 'l', got {side!r}")
    return side


def crossings(
    threshold_mm: float = typer.Option(1.0, "--threshold-mm", help="Smallest moment arm (mm) that counts as crossing."),
    fascicles: bool = typer.Option(False, "--fascicles", help="List every fascicle, not just muscles."),
    json_out: bool = JSON_OPT,
    plot: Path | None = PLOT_OPT,
) -> None:
    """Joints each muscle crosses, computed from non-zero moment arms over the joint ranges."""
    if not 0 < threshold_mm <= 1000:  # no moment arm of the body reaches a metre
        fail(f"--threshold-mm: expected a positive number of millimetres up to 1000, got {threshold_mm}")
    from iliopsoas.models import analyses

    result = analyses.crossings(threshold=threshold_mm / 1000.0)
    table = result["muscles"] if fascicles else result["groups"]
    if json_out:
        print_json(table if not fascicles else {"muscles": table, "max_moment_arm_mm": result["max_moment_arm_mm"]})
    else:
        from rich.table import Table

        t = Table(title=f"Joints crossed (|moment arm| ≥ {threshold_mm:g} mm somewhere in range)")
        t.add_column("muscle")
        t.add_column("joints")
        for name, joints in table.items():
            t.add_row(name, ", ".join(joints) or "-")
        console.print(t)
    _plot("crossings", result, plot)


def hip_moment_arms(
    side: str = SIDE_OPT,
    start: float = typer.Option(-20.0, "--from", help="First hip flexion angle (deg)."),
    stop: float = typer.Option(120.0, "--to", help="Last hip flexion angle (deg)."),
    step: float = typer.Option(5.0, "--step", help="Angle step (deg)."),
    json_out: bool = JSON_OPT,
    plot: Path | None = PLOT_OPT,
) -> None:
    """Flexion, adduction and rotation moment arms of psoas major and iliacus vs hip flexion."""
    side = _side(side)
    if not all(map(math.isfinite, (start, stop, step))) or not step > 0 or stop < start:
        fail(f"--from/--to/--step: expected finite numbers with from <= to and a positive step, "
             f"got {start}, {stop}, {step}")
    if (stop - start) / step + 1 > MAX_ANGLES:
        fail(f"--step: {step:g} deg from {start:g} to {stop:g} gives more than {MAX_ANGLES} angles; "
             "expected a larger step")
    import numpy as np

    from iliopsoas.models import analyses

    angles = np.arange(start, stop + step / 2, step)
    try:
        result = analyses.hip_moment_arms(side, angles)
    except ValueError as e:
        fail(f"--from/--to: {e}")
    if json_out:
        out = {k: v for k, v in result.items() if k != "fascicles"}
        print_json(out)
    else:
        from rich.table import Table

        t = Table(title=f"Hip moment arms (mm), side {side}; rotation + = internal")
        t.add_column("flexion (deg)", justify="right")
        for g in result["groups"]:
            for axis in ("flexion", "adduction", "rotation"):
                t.add_column(f"{g} {axis}", justify="right")
        for i, a in enumerate(result["flexion_deg"]):
            row = [f"{a:g}"]
            for g in result["groups"].values():
                row += [f"{g[axis][i]:.1f}" for axis in ("flexion", "adduction", "rotation")]
            t.add_row(*row)
        console.print(t)
        for g, changes in result["rotation_sign_changes_deg"].items():
            where = ", ".join(f"{c:g}" for c in changes) or "nowhere in range"
            console.print(f"{g}: rotation moment arm changes sign at {where} deg of hip flexion")
    if plot is None:
        return
    published = None  # the published curves are read only to draw them
    from iliopsoas.paths import shared_dir

    root = shared_dir()
    if root is not None and (root / "reference" / "hip_moment_arms_derived_dostal1981.csv").exists():
        published = analyses.dostal_1981_table(root / "reference")
    _plot("hip_moment_arms", result, plot, published=published)


def lumbar(
    side: str = SIDE_OPT,
    posture: str = typer.Option("all", "--posture", help="erect, flexed, extended or all."),
    json_out: bool = JSON_OPT,
    plot: Path | None = PLOT_OPT,
) -> None:
    """Per-level moments, compression and shear of the psoas major at full activation."""
    side = _side(side)
    if posture not in (*POSTURES, "all"):
        fail(f"--posture: expected one of {', '.join(POSTURES)} or all, got {posture!r}")
    from iliopsoas.models import analyses

    result = analyses.lumbar(side)
    if posture != "all":
        result["postures"] = {posture: result["postures"][posture]}
    if json_out:
        print_json(result)
    else:
        from rich.table import Table

        for name, p in result["postures"].items():
            t = Table(title=f"Psoas major {side}, {name} (total lumbar flexion {p['total_lumbar_flexion_deg']:g} deg)")
            for col in ("level", "extension N m", "side-bend N m", "axial N m", "compression N", "ant. shear N"):
                t.add_column(col, justify="right")
            for lv, v in p["levels"].items():
                t.add_row(lv, *(f"{v[k]:.1f}" for k in ("extension_moment_Nm", "lateral_bending_moment_Nm",
                                                         "axial_moment_Nm", "compression_N", "anterior_shear_N")))
            console.print(t)
        console.print(f"[dim]Bogduk et al. 1992: {analyses.BOGDUK_1992}[/]", highlight=False)
    _plot("lumbar", result, plot)


def register(app: typer.Typer) -> None:
    """Add the three analysis commands to the ``model`` command group."""
    app.command("crossings")(crossings)
    app.command("hip-moment-arms")(hip_moment_arms)
    app.command("lumbar")(lumbar)
