"""``iliopsoas validate``: every comparison of the model with a published number, recomputed."""

from __future__ import annotations

from pathlib import Path

import typer

from iliopsoas.commands._common import console, fail, print_json


def validate(
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    plot: Path | None = typer.Option(None, "--plot", help="Write the comparison figures (PNG) into this folder."),
    group: str | None = typer.Option(None, "--group", help="Only one group: moment_arms, lumbar, passive, posture, "
                                     "thomas or strength."),
) -> None:
    """Model vs published numbers: measure, model, published value, citation, inside or not."""
    from rich.table import Table

    from iliopsoas.posture import validation as v

    groups = {"moment_arms": v.moment_arm_comparisons, "lumbar": v.lumbar_comparisons,
              "passive": v.passive_comparisons, "posture": v.posture_comparisons, "thomas": v.thomas_comparisons,
              "strength": v.strength_comparisons}
    if group is not None and group not in groups:
        fail(f"--group: unknown group {group!r}: use one of {', '.join(groups)}", 1)
    if group is None:
        rep = v.report()
    else:
        rows = groups[group]()
        rep = v.ValidationReport(comparisons=rows, n_inside=sum(r.inside is True for r in rows),
                                 n_outside=sum(r.inside is False for r in rows),
                                 n_not_comparable=sum(r.inside is None for r in rows))
    if plot is not None:
        try:
            written = v.plots(plot)
        except OSError as exc:
            fail(f"--plot: cannot write into {str(plot)!r}: {exc.strerror or exc}", 1)
    if json_out:
        print_json(rep.model_dump(mode="json"))
        return
    table = Table(show_lines=False)
    for col in ("measure", "model", "published", "unit", "inside", "citation"):
        table.add_column(col, overflow="fold")
    for r in rep.comparisons:
        mark = {True: "[green]yes[/]", False: "[red]no[/]", None: "-"}[r.inside]
        table.add_row(r.measure, "-" if r.model is None else f"{r.model:g}", r.published, r.unit, mark, r.citation)
    console.print(table)
    console.print(f"inside {rep.n_inside}, outside {rep.n_outside}, not comparable {rep.n_not_comparable}")
    if plot is not None:
        console.print("figures: " + ", ".join(str(p) for p in written))
