"""What the studies computed, on a stored population: correlations, means, proportions, group
differences (each with a 95 % confidence interval), and first-order variance-based sensitivity.

Only people whose every needed scenario converged enter a statistic; the count used is reported.

* correlation -- Pearson r (or Spearman rho) with a Fisher-z interval (Spearman: the Fieller,
  Hartley & Pearson 1957 standard error sqrt(1.06 / (n - 3))). Where the study gives r and n, its
  own interval is computed the same way, and the model's r is checked against it.
* mean -- t interval; proportion -- Wilson interval; group difference -- Welch interval.
* sensitivity -- RBD-FAST first-order indices (Tarantola, Gatelli & Mara 2006; Plischke 2010) with
  SALib, valid for any sample design: the share of an outcome's variance explained by each
  source alone. Sources the model cannot express, or that do not vary, get no index (None).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray
from scipy import stats as sps

from iliopsoas.population.solve import PARAMETERS
from iliopsoas.population.spec import Spec, Statistic
from iliopsoas.population.store import Manifest

Array = NDArray[np.float64]
Z95 = float(sps.norm.ppf(0.975))


def person_variables(manifest: Manifest, table: pa.Table) -> dict[str, Array]:
    """Every variable as a ``(n_people,)`` array in person order; NaN where the scenario did not converge."""
    n = manifest.n_people
    person = table.column("person").to_numpy()
    scen = np.asarray(table.column("scenario").to_pylist(), dtype=object)
    conv = table.column("converged").to_numpy(zero_copy_only=False)
    out: dict[str, Array] = {}
    first = np.full(n, -1)
    first[person[::-1]] = np.arange(person.size)[::-1]
    for s in manifest.spec.sources:
        out[s] = table.column(s).to_numpy()[first]
    cols = set(table.column_names)
    wanted: dict[str, list[str]] = {sc: list(a) for sc, a in manifest.spec.measurements.scenarios.items()}
    for sc, gs in manifest.spec.measurements.muscle_forces.items():
        wanted.setdefault(sc, []).extend(f"{g}_force_n" for g in gs)
    wanted["moment_arms"] = [m.name for m in manifest.spec.measurements.moment_arms]
    for sc, names in wanted.items():
        rows = np.flatnonzero(scen == sc)
        for c in names:
            if c not in cols:
                continue
            v = np.full(n, np.nan)
            vals = table.column(c).to_numpy()[rows]
            v[person[rows]] = np.where(conv[rows], vals, np.nan)
            out[f"{sc}.{c}"] = v
    return out


def _value(vars_: dict[str, Array], name: str) -> Array:
    return -vars_[name[1:]] if name.startswith("-") else vars_[name]


def _r_ci(r: float, n: int, spearman: bool = False) -> list[float] | None:
    if n <= 3 or not math.isfinite(r):
        return None
    se = math.sqrt((1.06 if spearman else 1.0) / (n - 3))
    z = math.atanh(max(min(r, 0.999999), -0.999999))
    return [math.tanh(z - Z95 * se), math.tanh(z + Z95 * se)]


def _round(x: Any, nd: int = 4) -> Any:
    if x is None:
        return None
    if isinstance(x, list):
        return [_round(v, nd) for v in x]
    return round(float(x), nd) if math.isfinite(float(x)) else None


def compute_statistic(s: Statistic, vars_: dict[str, Array]) -> dict[str, Any]:
    """One statistic as reported: name, kind, model value, its CI, n, the published figure."""
    pub = s.published
    published: Any = pub.value if pub.value is not None else pub.text
    pub_ci: list[float] | None = list(pub.ci) if pub.ci is not None else None
    model: float | None = None
    ci: list[float] | None = None
    n = 0
    extra: dict[str, Any] = {}
    if s.kind == "correlation":
        x, y = _value(vars_, s.x or ""), _value(vars_, s.y or "")
        ok = np.isfinite(x) & np.isfinite(y)
        n = int(ok.sum())
        if n > 3 and np.std(x[ok]) > 0 and np.std(y[ok]) > 0:
            fn = sps.spearmanr if s.method == "spearman" else sps.pearsonr
            model = float(fn(x[ok], y[ok])[0])
            ci = _r_ci(model, n, s.method == "spearman")
        if pub_ci is None and pub.value is not None and pub.n:
            pub_ci = _r_ci(pub.value, pub.n, s.method == "spearman")
    elif s.kind == "mean":
        v = _value(vars_, s.variable or "")
        v = v[np.isfinite(v)]
        n = int(v.size)
        if n >= 2:
            model = float(v.mean())
            half = float(sps.t.ppf(0.975, n - 1) * v.std(ddof=1) / math.sqrt(n))
            ci = [model - half, model + half]
            extra["sd"] = _round(v.std(ddof=1))
        if pub_ci is None and pub.value is not None and pub.sd is not None and pub.n:
            half = float(sps.t.ppf(0.975, pub.n - 1) * pub.sd / math.sqrt(pub.n))
            pub_ci = [pub.value - half, pub.value + half]
    elif s.kind == "proportion":
        v = _value(vars_, s.variable or "")
        v = v[np.isfinite(v)]
        n = int(v.size)
        if n:
            k = int((v > float(s.above or 0.0)).sum())
            model = k / n
            denom = 1 + Z95**2 / n
            centre = (model + Z95**2 / (2 * n)) / denom
            half = Z95 * math.sqrt(model * (1 - model) / n + Z95**2 / (4 * n * n)) / denom
            ci = [centre - half, centre + half]
    else:  # group difference
        by = s.by
        assert by is not None
        v, g = _value(vars_, s.variable or ""), _value(vars_, by.variable)
        ok = np.isfinite(v) & np.isfinite(g)
        hi, lo = v[ok & (g > by.above)], v[ok & (g <= by.above)]
        n = int(ok.sum())
        extra["n_groups"] = [int(hi.size), int(lo.size)]
        if hi.size >= 2 and lo.size >= 2:
            model = float(hi.mean() - lo.mean())
            va, vb = hi.var(ddof=1) / hi.size, lo.var(ddof=1) / lo.size
            se = math.sqrt(va + vb)
            dof = (va + vb) ** 2 / (va**2 / (hi.size - 1) + vb**2 / (lo.size - 1)) if se > 0 else 1.0
            half = float(sps.t.ppf(0.975, dof) * se)
            ci = [model - half, model + half]
    within = None
    if model is not None and pub_ci is not None:
        within = bool(pub_ci[0] <= model <= pub_ci[1])
    return {"name": s.name, "kind": s.kind, "model": _round(model), "ci": _round(ci), "n": n,
            "published": published, "published_n": pub.n, "published_ci": _round(pub_ci),
            "within_published_ci": within, "citation": s.citation, "claims": list(s.claims),
            **({"note": s.note} if s.note else {}), **extra}


def sensitivity(spec: Spec, vars_: dict[str, Array], *, seed: int = 0) -> dict[str, dict[str, float | None]]:
    """``{outcome: {source: first-order index or None}}`` (None: not expressed or not varied)."""
    from SALib.analyze import rbd_fast

    names = list(spec.sources)
    usable = [s for s in names if PARAMETERS[spec.sources[s].parameter].expressed
              and np.ptp(vars_[s]) > 0]
    out: dict[str, dict[str, float | None]] = {}
    for outcome in spec.sensitivity.outcomes:
        y = _value(vars_, outcome)
        ok = np.isfinite(y)
        res: dict[str, float | None] = {s: None for s in names}
        if usable and ok.sum() >= 64 and np.ptp(y[ok]) > 0:
            X = np.column_stack([vars_[s][ok] for s in usable])
            problem = {"num_vars": len(usable), "names": usable,
                       "bounds": [[float(X[:, j].min()), float(X[:, j].max())] for j in range(len(usable))]}
            si = rbd_fast.analyze(problem, X, y[ok], num_resamples=spec.sensitivity.resamples, seed=seed)
            for s, v in zip(usable, si["S1"], strict=True):
                res[s] = round(float(v), 4) if math.isfinite(float(v)) else None
        out[outcome] = res
    return out
