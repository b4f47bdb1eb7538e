"""Smooth polynomial stand-ins for path lengths and body points over a scenario's few free DOF.

The engine's wrapped paths cost ~0.15 s per call; an equilibrium solve needs hundreds of
evaluations. Each scenario frees a handful of coordinates, and every muscle length or body
point depends on only a few of them (a right-leg muscle does not care about the left hip).
So each function is fitted once, by least squares on engine samples, as a total-degree
polynomial in just the coordinates it depends on (found by probing), in coordinates scaled to
[-1, 1]. Values and exact gradients of the polynomial are then cheap for any batch of poses.
The fit error is measured on separate validation poses and reported by the solver.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

DEGREE_BY_DIMS = {0: 0, 1: 10, 2: 9, 3: 7, 4: 5}
DEPENDENCE_TOL = 1e-9


def _exponents(d: int, degree: int) -> NDArray[np.intp]:
    if d == 0:
        return np.zeros((1, 0), dtype=np.intp)
    rows = [e for e in product(range(degree + 1), repeat=d) if sum(e) <= degree]
    return np.asarray(rows, dtype=np.intp)


@dataclass(frozen=True)
class PolyGroup:
    """Functions sharing the same input dims: ``values = monomials(x) @ coef``.

    ``dims`` index the scenario's varied coordinates; ``lo``/``hi`` their box; ``coef`` is
    ``(n_terms, n_functions)``; ``columns`` says where each function goes in the output.
    """

    dims: tuple[int, ...]
    lo: Array
    hi: Array
    exps: NDArray[np.intp]
    coef: Array
    columns: NDArray[np.intp]

    def _x(self, u: Array) -> Array:
        return (2.0 * u[:, self.dims] - (self.lo + self.hi)) / (self.hi - self.lo)

    def design(self, u: Array) -> Array:
        x = self._x(u)
        n = x.shape[0]
        out = np.ones((n, self.exps.shape[0]))
        for i in range(len(self.dims)):
            out *= x[:, i, None] ** self.exps[None, :, i]
        return out

    def evaluate(self, u: Array) -> tuple[Array, Array]:
        """Values ``(n, F)`` and gradients ``(n, F, len(dims))`` with respect to the raw coordinates."""
        x = self._x(u)
        n, d = x.shape
        if d == 0:
            return np.broadcast_to(self.coef[0], (n, self.coef.shape[1])).copy(), np.zeros((n, self.coef.shape[1], 0))
        deg = int(self.exps.max())
        pw = np.ones((n, d, deg + 1))
        for p in range(1, deg + 1):
            pw[:, :, p] = pw[:, :, p - 1] * x
        per_dim = [pw[:, i, self.exps[:, i]] for i in range(d)]
        # products over all dims but j, from prefix and suffix products: O(d) array products
        prefix = [np.ones((n, self.exps.shape[0]))]
        for i in range(d):
            prefix.append(prefix[-1] * per_dim[i])
        suffix = np.ones((n, self.exps.shape[0]))
        stack = np.empty((d + 1, n, self.exps.shape[0]))
        stack[0] = prefix[d]
        scale = 2.0 / (self.hi - self.lo)
        for j in range(d - 1, -1, -1):
            e = self.exps[:, j]
            dpow = np.where(e > 0, e * pw[:, j, np.maximum(e - 1, 0)], 0.0)
            stack[j + 1] = prefix[j] * dpow * suffix * scale[j]
            suffix = suffix * per_dim[j]
        out = stack @ self.coef  # (d + 1, n, F)
        return out[0], np.moveaxis(out[1:], 0, 2)


@dataclass(frozen=True)
class Surrogate:
    """All fitted functions of one kind (e.g. muscle lengths), ``n_functions`` outputs."""

    n_functions: int
    n_dims: int
    groups: tuple[PolyGroup, ...]
    max_error: float

    def evaluate(self, u: Array) -> tuple[Array, Array]:
        """Values ``(n, F)`` and gradients ``(n, F, n_dims)`` at varied coordinates ``u`` ``(n, n_dims)``."""
        n = u.shape[0]
        vals = np.zeros((n, self.n_functions))
        grads = np.zeros((n, self.n_functions, self.n_dims))
        for g in self.groups:
            v, gr = g.evaluate(u)
            vals[:, g.columns] = v
            if g.dims:
                grads[:, g.columns[:, None], np.asarray(g.dims)[None, :]] = gr
        return vals, grads


def _least_squares(A: Array, y: Array) -> Array:
    """Least squares through a QR factorisation (columns are scaled monomials on [-1, 1], well posed)."""
    from scipy.linalg import qr, solve_triangular

    Q, R = qr(A, mode="economic")
    return np.asarray(solve_triangular(R, Q.T @ y))


def one_blas_thread() -> Any:
    """A context in which BLAS/LAPACK (NumPy's and SciPy's OpenBLAS) run on one thread.

    The posture problems are small (least squares of ~600 x 126, Newton systems of a few
    unknowns). On a loaded machine OpenBLAS's worker threads wait for a free core on every call:
    a 2000 x 330 QR took 0.7-6.8 s with 2 threads and 0.05 s with one (load average 12 on 2 cores).
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def fit(
    func: Callable[[Array], Array],
    lo: Array,
    hi: Array,
    *,
    n_samples: int = 400,
    n_validate: int = 60,
    seed: int = 0,
) -> Surrogate:
    """Fit every output of ``func`` (``(n, d) -> (n, F)``) over the box ``[lo, hi]``.

    One call of ``func`` on all probes, samples and validation poses together; the linear algebra
    on one thread (:func:`one_blas_thread`).
    """
    with one_blas_thread():
        return _fit(func, np.asarray(lo, dtype=float), np.asarray(hi, dtype=float), n_samples=n_samples,
                    n_validate=n_validate, seed=seed)


def _fit(func: Callable[[Array], Array], lo: Array, hi: Array, *, n_samples: int, n_validate: int,
         seed: int) -> Surrogate:
    d = lo.size
    rng = np.random.default_rng(seed)
    # dependence is probed along each axis from two base points (the centre and an off-centre
    # point), so that a factor vanishing at one of them cannot hide an input
    bases = [0.5 * (lo + hi), lo + 0.31 * (hi - lo)]
    probes = []
    for base in bases:
        probes.append(base)
        for j in range(d):
            for frac in (0.0, 1.0):
                p = base.copy()
                p[j] = lo[j] + frac * (hi[j] - lo[j])
                probes.append(p)
    samples = lo + (hi - lo) * rng.random((n_samples, d))
    corners = lo + (hi - lo) * np.array(list(product((0.0, 1.0), repeat=d))) if d <= 6 else np.zeros((0, d))
    valid = lo + (hi - lo) * rng.random((n_validate, d))
    allu = np.vstack([np.asarray(probes), samples, corners, valid])
    y = np.asarray(func(allu), dtype=float)
    n_probe = len(probes)
    yp, ys = y[:n_probe], y[n_probe:n_probe + n_samples + len(corners)]
    yv = y[n_probe + n_samples + len(corners):]
    us = allu[n_probe:n_probe + n_samples + len(corners)]
    n_f = y.shape[1]
    deps = np.zeros((n_f, d), dtype=bool)
    per_base = 1 + 2 * d
    for b in range(len(bases)):
        y0 = yp[b * per_base]
        for j in range(d):
            for o in (1, 2):
                deps[:, j] |= np.abs(yp[b * per_base + 2 * j + o] - y0) > DEPENDENCE_TOL
    groups: list[PolyGroup] = []
    keys: dict[tuple[int, ...], list[int]] = {}
    for f in range(n_f):
        keys.setdefault(tuple(int(j) for j in np.flatnonzero(deps[f])), []).append(f)
    max_err = 0.0
    for dims, cols in keys.items():
        degree = DEGREE_BY_DIMS.get(len(dims), 3)
        exps = _exponents(len(dims), degree)
        g0 = PolyGroup(dims, lo[list(dims)], hi[list(dims)], exps, np.zeros((exps.shape[0], len(cols))),
                       np.asarray(cols, dtype=np.intp))
        A = g0.design(us)
        coef = _least_squares(A, ys[:, cols])
        g = PolyGroup(dims, g0.lo, g0.hi, exps, coef, g0.columns)
        err = np.abs(g.design(valid) @ coef - yv[:, cols])
        max_err = max(max_err, float(err.max()) if err.size else 0.0)
        groups.append(g)
    return Surrogate(n_f, d, tuple(groups), max_err)


# ---------------------------------------------------------------------------------------------
# on-disk cache of fits (same convention as the atlas parse cache: ILIOPSOAS_CACHE_DIR, "" = off)
# ---------------------------------------------------------------------------------------------

_CACHE_VERSION = b"posture-fit-1\0"


def cache_dir() -> Path | None:
    env = os.environ.get("ILIOPSOAS_CACHE_DIR")
    if env == "":
        return None
    try:
        import platformdirs

        base = Path(env) if env else platformdirs.user_cache_path("iliopsoas")
    except Exception:  # noqa: BLE001 - no usable home folder: run without the cache
        return None
    return base / "posture-fits"


def source_digest(*parts: str | bytes) -> str:
    """A key from the given parts and the source of everything a fit depends on."""
    import iliopsoas

    root = Path(iliopsoas.__file__).resolve().parent
    h = hashlib.sha256(_CACHE_VERSION)
    files = sorted((root / "mechanics").glob("*.py")) + sorted((root / "models").glob("*.py"))
    files += sorted((root / "models").glob("*.yaml")) + [root / "posture" / "surrogate.py",
                                                         root / "posture" / "equilibrium.py"]
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    for p in parts:
        h.update(p if isinstance(p, bytes) else p.encode())
        h.update(b"\0")
    return h.hexdigest()[:32]


def save(s: Surrogate, path: Path) -> None:
    arrays: dict[str, Any] = {"meta": np.array([s.n_functions, s.n_dims, len(s.groups)]),
                              "max_error": np.array([s.max_error])}
    for i, g in enumerate(s.groups):
        arrays[f"g{i}_dims"] = np.asarray(g.dims, dtype=np.intp)
        arrays[f"g{i}_lo"], arrays[f"g{i}_hi"] = g.lo, g.hi
        arrays[f"g{i}_exps"], arrays[f"g{i}_coef"], arrays[f"g{i}_columns"] = g.exps, g.coef, g.columns
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)


def load(path: Path) -> Surrogate | None:
    try:
        with np.load(path) as z:
            nf, nd, ng = (int(v) for v in z["meta"])
            groups = tuple(
                PolyGroup(tuple(int(d) for d in z[f"g{i}_dims"]), z[f"g{i}_lo"], z[f"g{i}_hi"], z[f"g{i}_exps"],
                          z[f"g{i}_coef"], z[f"g{i}_columns"])
                for i in range(ng)
            )
            return Surrogate(nf, nd, groups, float(z["max_error"][0]))
    except (OSError, KeyError, ValueError):
        return None


def cached_fit(key: str, func: Callable[[Array], Array], lo: Array, hi: Array, **kw: Any) -> Surrogate:
    """:func:`fit`, stored under ``key`` in :func:`cache_dir` and reused when present."""
    folder = cache_dir()
    path = None if folder is None else folder / f"{key}.npz"
    if path is not None and path.exists():
        s = load(path)
        if s is not None and s.n_dims == len(lo):
            return s
    s = fit(func, lo, hi, **kw)
    if path is not None:
        try:
            save(s, path)
        except OSError:
            pass
    return s
