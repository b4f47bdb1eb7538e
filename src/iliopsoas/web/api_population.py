"""``/api/population``: stored population runs, their reports and figures (read only).

Runs are looked for in :func:`iliopsoas.population.claims.runs_dir` (``$ILIOPSOAS_POPULATIONS``);
a run is named by its folder name, and only names of finished runs found there are accepted.
Running a study from the browser is not offered: use ``iliopsoas population run``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

router = APIRouter(prefix="/api/population", tags=["population"])

FIGURES = ("distributions", "statistics", "sensitivity")
_PLOT = threading.Lock()  # matplotlib's pyplot state is shared by the process


def _run(name: str) -> Path:
    from iliopsoas.population.claims import list_runs, runs_dir

    runs = {p.name: p for p in list_runs()}
    if name not in runs:
        known = ", ".join(sorted(runs)) or f"none stored in {runs_dir()}"
        raise HTTPException(404, f"run {name!r}: no finished population run of that name (runs: {known})")
    return runs[name]


@router.get("/runs")
def runs() -> dict[str, Any]:
    """The finished runs found in the runs folder."""
    from iliopsoas.population.claims import list_runs, runs_dir
    from iliopsoas.population.store import StoreError, read_manifest

    out = []
    for p in list_runs():
        try:
            m = read_manifest(p)
        except StoreError:
            continue
        out.append({"name": p.name, "spec": m.spec.name, "n_people": m.n_people, "seed": m.seed,
                    "digest": m.spec.digest()})
    return {"folder": str(runs_dir()), "runs": out}


@router.get("/runs/{name}")
def run_report(name: str) -> dict[str, Any]:
    """One run's report: statistics beside the published figures, sensitivity indices, sources."""
    from iliopsoas.population import StoreError, report

    path = _run(name)
    try:
        rep = report(path)
    except StoreError as exc:
        raise HTTPException(409, str(exc)) from None
    data = rep.model_dump(mode="json")
    data["figures"] = [f"/api/population/runs/{name}/figures/{f}.png" for f in FIGURES]
    return data


@router.get("/runs/{name}/figures/{figure}.png", response_class=FileResponse)
def figure(name: str, figure: str) -> FileResponse:
    """A figure of the run (PNG), drawn on first request and kept in the run's ``figures`` folder."""
    from iliopsoas.population import StoreError, plot
    from iliopsoas.population.store import RESULTS

    if figure not in FIGURES:
        raise HTTPException(404, f"figure {figure!r}: expected one of {', '.join(FIGURES)}")
    path = _run(name)
    folder = path / "figures"
    target = folder / f"{figure}.png"
    with _PLOT:
        if not target.is_file() or target.stat().st_mtime < (path / RESULTS).stat().st_mtime:
            try:
                plot(path, folder)
            except (StoreError, OSError) as exc:
                raise HTTPException(409, f"run {name!r}: cannot draw the figures ({exc})") from None
    if not target.is_file():
        raise HTTPException(404, f"run {name!r} has no {figure} figure (no statistics or outcomes in its spec)")
    return FileResponse(target, media_type="image/png")


@router.get("/claims")
def claims() -> dict[str, Any]:
    """Population lines per atlas claim, from every finished run."""
    from iliopsoas.population.claims import population_lines

    return {cid: [line.model_dump(mode="json") for line in lines] for cid, lines in population_lines().items()}
