"""Population lines for the atlas's claims: what stored runs say about a claim.

A statistic in a spec may name the claims it speaks to (``claims: [C001-34]``). This reader looks
at the finished runs in :func:`runs_dir` and returns, per claim, one line per such statistic,
with the model population's value, its interval and the published figure. It only reads reports
(:func:`iliopsoas.population.report`); the model verdicts themselves are untouched.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel

from iliopsoas.population.store import MANIFEST, RESULTS


class PopulationLine(BaseModel):
    claim: str
    run: str
    statistic: str
    model: float | None
    ci: list[float] | None
    n: int
    published: float | str | None
    citation: str
    text: str


def runs_dir() -> Path:
    """Where stored runs are looked for: ``$ILIOPSOAS_POPULATIONS`` or the user data folder."""
    env = os.environ.get("ILIOPSOAS_POPULATIONS")
    if env:
        return Path(env)
    import platformdirs

    return platformdirs.user_data_path("iliopsoas") / "populations"


def list_runs(folder: Path | None = None) -> list[Path]:
    """Finished runs (a manifest and assembled results) directly under ``folder``, by name."""
    root = runs_dir() if folder is None else folder
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / MANIFEST).is_file() and (p / RESULTS).is_file())


def _num(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.2f}"


def population_lines(folder: Path | None = None) -> dict[str, list[PopulationLine]]:
    """``{claim id: [PopulationLine, ...]}`` from every finished run; unreadable runs are skipped."""
    from iliopsoas.population.report import report
    from iliopsoas.population.store import StoreError

    out: dict[str, list[PopulationLine]] = {}
    for run in list_runs(folder):
        try:
            rep = report(run)
        except (StoreError, OSError, ValueError):
            continue
        for s in rep.statistics:
            for cid in s.claims:
                ci = f" [{_num(s.ci[0])}, {_num(s.ci[1])}]" if s.ci else ""
                pub = s.published if s.published is not None else "none given"
                text = (f"population ({rep.n_people} simulated people, run {run.name}): {s.name} = {_num(s.model)}{ci}; "
                        f"published {pub} ({s.citation})")
                out.setdefault(cid, []).append(PopulationLine(claim=cid, run=run.name, statistic=s.name, model=s.model,
                                                              ci=s.ci, n=s.n, published=s.published,
                                                              citation=s.citation, text=text))
    return out
