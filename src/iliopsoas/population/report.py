"""The report of a stored run: statistics beside the published figures, sensitivity, figures.

:func:`report` computes it once per finished run and keeps it in ``RUN/report.json`` (recomputed
when the results file changes); the CLI's ``--json``, the web page and the atlas's population
lines all read that one model, :class:`PopulationReport`.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from iliopsoas.population import stats, store
from iliopsoas.population.solve import PARAMETERS

REPORT = "report.json"
REPORT_VERSION = 1


class StatisticOut(BaseModel):
    name: str
    kind: str
    model: float | None = Field(description="the model population's value")
    ci: list[float] | None = Field(description="its 95 % confidence interval")
    n: int = Field(description="people used (their scenarios converged)")
    published: float | str | None
    published_n: int | None = None
    published_ci: list[float] | None = None
    within_published_ci: bool | None = None
    citation: str
    claims: list[str] = []
    note: str | None = None
    sd: float | None = None
    n_groups: list[int] | None = None


class SourceOut(BaseModel):
    name: str
    parameter: str
    target: str | None
    expressed: bool
    how: str
    citation: str


class PopulationReport(BaseModel):
    name: str
    description: str
    n_people: int
    seed: int
    sampler: str
    digest: str
    model: str
    converged: dict[str, float] = Field(description="share of people converged, per scenario")
    incidence_limited: float | None = Field(None, description="share whose pelvic incidence was limited to +-4 deg")
    sources: list[SourceOut]
    statistics: list[StatisticOut]
    sensitivity: dict[str, dict[str, float | None]]
    seconds: float | None = Field(None, description="solve wall time summed over the sessions of the run")
    runs: list[dict[str, Any]] = []


def _bins(v: Any) -> int:
    """40 bins, or one when the values are (nearly) all the same: NumPy cannot cut a range of a few
    ulps into 40 (a moment arm that depends on the model variant only, say)."""
    if v.size == 0:
        return 1
    lo, hi = float(np.min(v)), float(np.max(v))
    return 40 if hi - lo > 1e-9 * max(1.0, abs(lo), abs(hi)) else 1


def _fingerprint(run: Path) -> str:
    st = (run / store.RESULTS).stat()
    return f"{REPORT_VERSION}:{st.st_size}:{st.st_mtime_ns}"


def report(run: str | Path, *, refresh: bool = False) -> PopulationReport:
    """The report of the finished run in ``run`` (cached in ``run/report.json``)."""
    run = Path(run)
    manifest, table = store.read_results(run)
    cache = run / REPORT
    fp = _fingerprint(run)
    if cache.is_file() and not refresh:
        try:
            raw = json.loads(cache.read_text(encoding="utf-8"))
            if raw.get("fingerprint") == fp:
                return PopulationReport.model_validate(raw["report"])
        except (OSError, ValueError, KeyError):
            pass
    spec = manifest.spec
    vars_ = stats.person_variables(manifest, table)
    scen = np.asarray(table.column("scenario").to_pylist(), dtype=object)
    conv = table.column("converged").to_numpy(zero_copy_only=False)
    converged = {sc: round(float(conv[scen == sc].mean()), 4) for sc in spec.measurements.scenarios}
    limited = None
    if any(s.parameter == "pelvic_incidence_deg" for s in spec.sources.values()):
        lim = table.column("model_incidence_limited").to_numpy()
        limited = round(float(lim.mean()), 4)
    timing: list[dict[str, Any]] = []
    try:
        timing = json.loads((run / store.TIMING).read_text(encoding="utf-8")) if (run / store.TIMING).is_file() else []
    except (OSError, ValueError):
        timing = []
    rep = PopulationReport(
        name=spec.name, description=spec.description, n_people=manifest.n_people, seed=manifest.seed,
        sampler=spec.sampler, digest=spec.digest(), model=manifest.model_note, converged=converged,
        incidence_limited=limited,
        sources=[SourceOut(name=k, parameter=s.parameter, target=s.target, expressed=PARAMETERS[s.parameter].expressed,
                           how=PARAMETERS[s.parameter].how, citation=s.citation) for k, s in spec.sources.items()],
        statistics=[StatisticOut.model_validate(stats.compute_statistic(s, vars_)) for s in spec.statistics],
        sensitivity=stats.sensitivity(spec, vars_, seed=manifest.seed),
        seconds=round(sum(float(t.get("seconds", 0.0)) for t in timing), 2) if timing else None,
        runs=timing,
    )
    try:
        tmp = cache.with_name(f".{cache.name}.{uuid.uuid4().hex}.tmp")
        tmp.write_text(json.dumps({"fingerprint": fp, "report": rep.model_dump(mode="json")}, indent=1), encoding="utf-8")
        os.replace(tmp, cache)
    except OSError:
        pass  # a read-only run folder: the report is simply recomputed next time
    return rep


def plot(run: str | Path, folder: str | Path) -> list[Path]:
    """Write the run's figures as PNG files into ``folder``; returns their paths.

    ``distributions.png`` (every measured variable), ``statistics.png`` (one scatter or histogram per
    statistic with the published value), ``sensitivity.png`` (first-order indices per outcome).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run = Path(run)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    manifest, table = store.read_results(run)
    rep = report(run)
    vars_ = stats.person_variables(manifest, table)
    spec = manifest.spec
    measured = [k for k in vars_ if "." in k]
    paths: list[Path] = []

    cols = 3
    rows = max(1, -(-len(measured) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(12, 3.0 * rows), squeeze=False)
    for ax, name in zip(axes.flat, measured, strict=False):
        v = vars_[name][np.isfinite(vars_[name])]
        ax.hist(v, bins=_bins(v), color="#3b6ea5")
        ax.set_title(name, fontsize=9)
        ax.set_ylabel("people", fontsize=8)
    for ax in list(axes.flat)[len(measured):]:
        ax.axis("off")
    fig.suptitle(f"{spec.name}: {manifest.n_people} simulated people (seed {manifest.seed})")
    fig.tight_layout()
    paths.append(folder / "distributions.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    n = len(spec.statistics)
    if n:
        rows = -(-n // cols)
        fig, axes = plt.subplots(rows, cols, figsize=(12, 3.4 * rows), squeeze=False)
        for ax, s, out in zip(axes.flat, spec.statistics, rep.statistics, strict=False):
            pub = out.published if isinstance(out.published, int | float) else None
            if s.kind == "correlation":
                x, y = stats._value(vars_, s.x or ""), stats._value(vars_, s.y or "")
                ok = np.isfinite(x) & np.isfinite(y)
                ax.scatter(x[ok], y[ok], s=3, alpha=0.35, color="#3b6ea5")
                ax.set_xlabel(s.x or "", fontsize=8)
                ax.set_ylabel(s.y or "", fontsize=8)
                label = f"model r = {out.model:.2f}" if out.model is not None else "model r: n/a"
                ax.set_title(f"{label}; published {_pub(out.published)}", fontsize=8)
            elif s.kind in ("mean", "proportion"):
                v = stats._value(vars_, s.variable or "")
                v = v[np.isfinite(v)]
                ax.hist(v, bins=_bins(v), color="#3b6ea5")
                if s.kind == "mean" and pub is not None:
                    ax.axvline(pub, color="#b5403a", lw=2, label="published mean")
                    ax.legend(fontsize=7)
                if s.kind == "proportion":
                    ax.axvline(float(s.above or 0.0), color="#444", lw=1, ls="--")
                ax.set_xlabel(s.variable or "", fontsize=8)
                ax.set_title(f"model {_pub(out.model)}\npublished: {_pub(out.published)}", fontsize=8)
            else:
                assert s.by is not None
                v, g = stats._value(vars_, s.variable or ""), stats._value(vars_, s.by.variable)
                ok = np.isfinite(v) & np.isfinite(g)
                ax.boxplot([v[ok & (g > s.by.above)], v[ok & (g <= s.by.above)]])
                ax.set_xticks([1, 2], [f"{s.by.variable} > {s.by.above:g}", "otherwise"], fontsize=7)
                ax.set_ylabel(s.variable or "", fontsize=8)
                ax.set_title(f"difference {_pub(out.model)}\npublished: {_pub(out.published)}", fontsize=8)
            ax.text(0.0, -0.32, s.name, transform=ax.transAxes, fontsize=7, va="top")
        for ax in list(axes.flat)[n:]:
            ax.axis("off")
        fig.tight_layout()
        paths.append(folder / "statistics.png")
        fig.savefig(paths[-1], dpi=110)
        plt.close(fig)

    if rep.sensitivity:
        outcomes = list(rep.sensitivity)
        sources = [s.name for s in rep.sources if s.expressed]
        fig, ax = plt.subplots(figsize=(12, 0.6 + 0.45 * len(outcomes) * max(1, len(sources)) / 3))
        h = 0.8 / max(1, len(sources))
        for j, src in enumerate(sources):
            vals = [rep.sensitivity[o].get(src) or 0.0 for o in outcomes]
            ax.barh(np.arange(len(outcomes)) + j * h, vals, height=h, label=src)
        ax.set_yticks(np.arange(len(outcomes)) + 0.4 - h / 2, outcomes, fontsize=8)
        ax.set_xlabel("first-order sensitivity index (share of variance)")
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        fig.tight_layout()
        paths.append(folder / "sensitivity.png")
        fig.savefig(paths[-1], dpi=110)
        plt.close(fig)
    return paths


def _pub(v: object) -> str:
    if v is None:
        return "none given"
    if isinstance(v, float):
        return f"{v:.3g}"
    text = str(v)
    return text if len(text) <= 40 else text[:39] + "…"
