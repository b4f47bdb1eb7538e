"""``iliopsoas population``: simulated populations on Dask, and their statistics beside the studies."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from iliopsoas.commands._common import console, fail, print_json

app = typer.Typer(
    help="Populations of simulated people: run a spec on Dask, report its statistics beside published ones.",
    no_args_is_help=True,
)


@app.command("example")
def example() -> None:
    """Print a documented example spec (save it: iliopsoas population example > spec.yaml)."""
    from iliopsoas.population import example_text

    sys.stdout.write(example_text())


@app.command("run")
def run(
    spec_path: Path = typer.Argument(..., metavar="SPEC", help="Population spec (YAML); see 'population example'."),
    people: int = typer.Option(..., "--people", "-n", help="Number of people to simulate."),
    out: Path = typer.Option(..., "--out", "-o", help="Run folder (created; an unfinished run there is resumed)."),
    workers: int | None = typer.Option(None, "--workers", "-k",
                                       help="Local Dask worker processes (default: cores); 0 = in this process."),
    scheduler: str | None = typer.Option(None, "--scheduler", help="Address of an existing Dask scheduler."),
    seed: int = typer.Option(0, "--seed", help="Seed of the sample (the same seed gives the same people)."),
    chunk_size: int | None = typer.Option(None, "--chunk-size", help="People per task (a multiple of 64; default 512)."),
    as_json: bool = typer.Option(False, "--json", help="Print the run summary as JSON (no progress bar)."),
) -> None:
    """Sample PEOPLE people from SPEC, solve them on Dask, store one Parquet row per person x scenario."""
    import time

    from iliopsoas.population import SpecError, StoreError, load_spec, run_population
    from iliopsoas.population.runner import DEFAULT_CHUNK

    if workers is not None and scheduler is not None:
        fail("--workers and --scheduler exclude each other: a scheduler brings its own workers")
    try:
        spec = load_spec(spec_path)
    except SpecError as exc:
        fail(escape(str(exc)))
    bar = None
    task = None
    t0 = time.perf_counter()
    if not as_json:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        bar = Progress(TextColumn("people solved"), BarColumn(), MofNCompleteColumn(),
                       TextColumn("{task.fields[rate]}"), TextColumn("ETA"), TimeRemainingColumn(),
                       TimeElapsedColumn(), console=console)
        task = bar.add_task("solve", total=people, rate="")
        bar.start()

    def progress(solved: int, stored: int, total: int) -> None:
        if bar is not None and task is not None:
            dt = time.perf_counter() - t0
            rate = f"{solved / dt:.1f} people/s" if solved and dt > 0 else "starting"
            bar.update(task, completed=stored, rate=rate)

    try:
        summary = run_population(spec, n_people=people, out=out, seed=seed, workers=workers, scheduler=scheduler,
                                 chunk_size=chunk_size or DEFAULT_CHUNK, progress=progress)
    except (ValueError, StoreError, ConnectionError) as exc:
        if bar is not None:
            bar.stop()
        fail(escape(str(exc)))
    except KeyboardInterrupt:
        if bar is not None:
            bar.stop()
        fail(f"stopped; the chunks already stored in {out} are kept: run the same command again to resume", 130)
    if bar is not None:
        bar.stop()
    info = summary.as_dict()
    if as_json:
        print_json(info)
        return
    console.print(f"{people} people in {out}: {summary.chunks_computed} chunks solved, {summary.chunks_resumed} "
                  f"resumed, {summary.seconds:.1f} s "
                  + ("in this process" if summary.scheduler == "this process"
                     else f"on {summary.scheduler} ({summary.workers} workers)") + ". "
                  f"Next: iliopsoas population report {out}")


@app.command("report")
def report(
    run_dir: Path = typer.Argument(..., metavar="RUN", help="A run folder written by 'population run'."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    plot_dir: Path | None = typer.Option(None, "--plot", help="Write the figures (PNG) into this folder."),
) -> None:
    """The run's statistics beside the published figures they answer, and the sensitivity indices."""
    from iliopsoas.population import StoreError
    from iliopsoas.population import plot as make_plots
    from iliopsoas.population import report as make_report

    try:
        rep = make_report(run_dir)
        figures = make_plots(run_dir, plot_dir) if plot_dir is not None else []
    except StoreError as exc:
        fail(escape(str(exc)))
    except OSError as exc:
        fail(escape(f"--plot {plot_dir}: cannot write the figures ({exc.strerror or exc})"))
    if as_json:
        data = rep.model_dump(mode="json")
        data["figures"] = [str(p) for p in figures]
        print_json(data)
        return
    _print_report(rep)
    for p in figures:
        console.print(f"figure: {escape(str(p))}")


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)


def _print_report(rep: Any) -> None:
    from rich.table import Table

    console.print(f"[bold]{escape(rep.name)}[/]: {rep.n_people} simulated people, seed {rep.seed}, {rep.sampler} "
                  f"sample; converged: " + ", ".join(f"{k} {v:.1%}" for k, v in rep.converged.items()))
    if rep.incidence_limited is not None:
        console.print(f"pelvic incidence limited to the model's +-4 deg for {rep.incidence_limited:.1%} of people")
    t = Table(title="statistics beside the published figures", expand=True)
    for c in ("statistic", "model population", "95 % CI", "n", "published", "citation"):
        t.add_column(c)
    for s in rep.statistics:
        t.add_row(escape(s.name), _fmt(s.model), _fmt(s.ci), str(s.n), escape(_fmt(s.published)), escape(s.citation))
    console.print(t)
    if rep.sensitivity:
        sources = [s.name for s in rep.sources]
        t = Table(title="first-order sensitivity (share of each outcome's variance; - = not expressed by the model)",
                  expand=True)
        t.add_column("outcome")
        for s in sources:
            t.add_column(s.replace("_", " "))
        for outcome, row in rep.sensitivity.items():
            t.add_row(outcome, *[_fmt(row.get(s)) for s in sources])
        console.print(t)
