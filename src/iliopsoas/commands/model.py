"""``iliopsoas model …``: inspect OpenSim models and compute moment arms.

Degrees at this edge, SI units inside. Exit codes: 1 bad input or unknown name (file, muscle,
coordinate), 2 usage errors (caught by Typer).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from iliopsoas.commands import model_analyze, model_ours
from iliopsoas.commands._common import console, fail, print_json

if TYPE_CHECKING:
    from iliopsoas.mechanics import Model

app = typer.Typer(help="OpenSim models: structure, muscle paths, moment arms.", no_args_is_help=True)


def _load(path: Path, strict: bool) -> Model:
    from iliopsoas.mechanics import OsimError, load_osim

    try:
        return load_osim(path, strict=strict)
    except OsimError as exc:
        fail(str(exc))


def _is_rotational(model: Model, i: int) -> bool:
    return model.coordinates[i].motion_type != "translational"


def _to_user(model: Model, i: int, v: float) -> float:
    return math.degrees(v) if _is_rotational(model, i) else v


def _info(model: Model) -> dict[str, Any]:
    coupled_by: dict[int, str] = {}
    for cp in model.couplers:
        coupled_by[cp.dependent] = model.coordinates[cp.independent].name
    coords = []
    for i, c in enumerate(model.coordinates):
        unit = "deg" if _is_rotational(model, i) else "m"
        coords.append(
            {
                "name": c.name,
                "joint": c.joint,
                "motion_type": c.motion_type,
                "unit": unit,
                "range": [_to_user(model, i, c.range[0]), _to_user(model, i, c.range[1])],
                "default": _to_user(model, i, c.default_value),
                "locked": c.locked,
                "coupled_to": coupled_by.get(i),
                "drives": [model.coordinates[d].name for d in model.coupled_to(i)],
            }
        )
    muscles = []
    for mu in model.muscles:
        muscles.append(
            {
                "name": mu.name,
                "type": mu.type,
                "path_points": [
                    {"name": p.name, "body": model.bodies[p.body].name, "kind": p.kind} for p in mu.points
                ],
                "wraps": [model.wrap_objects[w.wrap_object].name for w in mu.wraps],
            }
        )
    return {
        "name": model.name,
        "source": model.source,
        "bodies": list(model.body_names),
        "joints": [
            {
                "name": j.name,
                "type": j.type,
                "parent": model.bodies[j.parent].name,
                "child": model.bodies[j.child].name,
                "coordinates": [model.coordinates[c].name for c in j.coordinates],
            }
            for j in model.joints
        ],
        "coordinates": coords,
        "wrap_objects": [
            {"name": w.name, "type": w.type, "body": model.bodies[w.body].name, "quadrant": w.quadrant}
            for w in model.wrap_objects
        ],
        "muscles": muscles,
        "unsupported": list(model.skipped),
    }


@app.command("info")
def info(
    path: Path = typer.Argument(..., help="An OpenSim 4.x .osim file."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    lenient: bool = typer.Option(False, "--lenient", help="Skip unsupported components instead of failing."),
) -> None:
    """Bodies, joints, coordinates (range, default, couplers), muscles and anything unsupported."""
    model = _load(path, strict=not lenient)
    data = _info(model)
    if as_json:
        print_json(data)
        return
    from rich.markup import escape
    from rich.table import Table

    console.print(
        f"[bold]{escape(model.name)}[/]: {len(model.bodies)} bodies, {len(model.joints)} joints, "
        f"{len(model.coordinates)} coordinates, {len(model.muscles)} muscles, "
        f"{len(model.wrap_objects)} wrap objects"
    )
    t = Table("coordinate", "joint", "range", "default", "coupled to", "locked")
    for c in data["coordinates"]:
        lo, hi = c["range"]
        t.add_row(
            escape(c["name"]), escape(c["joint"]), f"{lo:.4g} .. {hi:.4g} {c['unit']}", f"{c['default']:.4g}",
            escape(c["coupled_to"] or ""), "yes" if c["locked"] else "",
        )
    console.print(t)
    mt = Table("muscle", "type", "points", "wraps")
    for mu in data["muscles"]:
        kinds = [p["kind"] for p in mu["path_points"]]
        extra = ", ".join(f"{kinds.count(k)} {k}" for k in ("conditional", "moving") if k in kinds)
        mt.add_row(escape(mu["name"]), escape(mu["type"]), f"{len(kinds)}" + (f" ({extra})" if extra else ""),
                   escape(", ".join(mu["wraps"])))
    console.print(mt)
    if data["unsupported"]:
        console.print("[yellow]unsupported (skipped):[/]")
        for s in data["unsupported"]:
            console.print(f"  {s}", highlight=False, markup=False)


def _parse_sets(model: Model, sets: list[str]) -> dict[int, float]:
    out: dict[int, float] = {}
    for item in sets:
        if "=" not in item:
            fail(f"--set expects coord=value, got {item!r}")
        name, _, val = item.partition("=")
        try:
            i = model.coordinate_index(name.strip())
        except KeyError as exc:
            fail(str(exc.args[0]))
        try:
            v = float(val)
        except ValueError:
            fail(f"--set {name}: {val!r} is not a number")
        if not math.isfinite(v):
            fail(f"--set {name}: expected a finite number (deg, or m for a translation), got {val!r}")
        out[i] = math.radians(v) if _is_rotational(model, i) else v
    return out


@app.command("moment-arm")
def moment_arm(
    path: Path = typer.Argument(..., help="An OpenSim 4.x .osim file."),
    muscle: str = typer.Option(..., "--muscle", help="Muscle name."),
    coordinate: str = typer.Option(..., "--coordinate", help="Coordinate to sweep and take the moment arm about."),
    start: float | None = typer.Option(None, "--from", help="Start of the sweep (deg, or m); default: range min."),
    stop: float | None = typer.Option(None, "--to", help="End of the sweep (deg, or m); default: range max."),
    steps: int = typer.Option(25, "--steps", min=1, max=100000, help="Number of poses in the sweep."),
    exact: bool = typer.Option(False, "--exact", help="True -dL/dq instead of OpenSim's definition."),
    sets: list[str] = typer.Option([], "--set", help="Hold another coordinate: coord=value (deg or m). Repeatable."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV."),
    plot: Path | None = typer.Option(None, "--plot", help="Write a PNG plot to this file."),
    lenient: bool = typer.Option(False, "--lenient", help="Skip unsupported components instead of failing."),
) -> None:
    """Moment arm (and length) of one muscle over a sweep of one coordinate.

    Other coordinates stay at their defaults unless set with --set. Output in mm and degrees.
    """
    import numpy as np

    from iliopsoas.mechanics import lengths_and_moment_arms, moment_arms, muscle_lengths

    model = _load(path, strict=not lenient)
    try:
        mi = model.muscle_index(muscle)
        ci = model.coordinate_index(coordinate)
    except KeyError as exc:
        fail(str(exc.args[0]))
    if model.dependent_mask[ci]:
        fail(f"coordinate {coordinate!r} is driven by a coupler; sweep its independent coordinate instead")
    for label, value in (("--from", start), ("--to", stop)):
        if value is not None and not math.isfinite(value):
            fail(f"{label}: expected a finite number (deg, or m for a translation), got {value}")
    rot = _is_rotational(model, ci)
    lo_si, hi_si = model.coordinates[ci].range
    conv = math.degrees if rot else float
    lo = conv(lo_si) if start is None else start
    hi = conv(hi_si) if stop is None else stop
    values = np.linspace(lo, hi, steps)
    q = np.tile(model.coordinate_defaults, (steps, 1))
    for i, v in _parse_sets(model, sets).items():
        q[:, i] = v
    q[:, ci] = np.radians(values) if rot else values
    from iliopsoas.mechanics import UnsupportedWrapError

    try:
        if exact:
            L = muscle_lengths(model, q, [mi])
            r = moment_arms(model, q, [ci], exact=True, muscles=[mi])
        else:
            L, r = lengths_and_moment_arms(model, q, [ci], muscles=[mi])
    except UnsupportedWrapError as exc:
        fail(str(exc))
    unit = "deg" if rot else "m"
    rows = [
        {coordinate + f"_{unit}": float(v), "moment_arm_mm": _finite(r[k, 0, 0] * 1000), "length_mm": _finite(L[k, 0] * 1000)}
        for k, v in enumerate(values)
    ]
    definition = "exact -dL/dq" if exact else "OpenSim computeMomentArm"
    if plot is not None:
        _plot(plot, values, r[:, 0, 0] * 1000, f"{muscle} about {coordinate} ({definition})", f"{coordinate} ({unit})")
    if as_json:
        print_json({"model": model.name, "muscle": muscle, "coordinate": coordinate, "definition": definition,
                    "unit": {"coordinate": unit, "moment_arm": "mm", "length": "mm"}, "rows": rows})
    elif as_csv:
        keys = list(rows[0])
        print(",".join(keys))
        for row in rows:
            print(",".join("" if row[k] is None else f"{row[k]:.6g}" for k in keys))
    elif plot is None:
        from rich.markup import escape
        from rich.table import Table

        t = Table(escape(f"{coordinate} ({unit})"), "moment arm (mm)", "length (mm)",
                  title=escape(f"{muscle} — {definition}"))
        for row in rows:
            vals = list(row.values())
            t.add_row(f"{vals[0]:.2f}", "undefined" if vals[1] is None else f"{vals[1]:.3f}",
                      "undefined" if vals[2] is None else f"{vals[2]:.2f}")
        console.print(t)
    else:
        console.print(f"wrote {plot}", markup=False, highlight=False)


def _finite(v: float) -> float | None:
    """``v`` as a float, or None (JSON null) where it is undefined, e.g. the moment arm of a path whose
    points coincide."""
    x = float(v)
    return x if math.isfinite(x) else None


def _plot(path: Path, x: Any, y: Any, title: str, xlabel: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(x, y)
    ax.axhline(0.0, color="grey", lw=0.5)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("moment arm (mm)")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=120)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror}")
    finally:
        plt.close(fig)


model_ours.register(app)  # crossings, hip-moment-arms, lumbar: our lumbopelvic model
model_analyze.register(app)  # analyze: muscle quantities over a motion
