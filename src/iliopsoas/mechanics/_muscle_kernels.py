"""Compiled (numba) fiber-equilibrium iteration for Millard2012 muscles, used when numba is installed.

The same algorithm as the NumPy path in :func:`iliopsoas.mechanics.forces._hill_equilibrium`
(OpenSim's static ``estimateMuscleFiberState``: Newton on fiber length with step halving), one
(pose, muscle) entry per loop iteration, in parallel. Curves are evaluated from the same
Hermite tables as :meth:`iliopsoas.mechanics.muscles.BezierCurves.__call__`, so both paths give
the same numbers to round-off (checked in tests/test_muscles.py).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

_EPS = float(np.finfo(float).eps)
_SIG = _EPS ** (7.0 / 8.0)
_SQRT_EPS = math.sqrt(_EPS)


@njit(cache=True, inline="always")
def _curve(x, i, starts, widths, ends, yn, dn):  # pragma: no cover - compiled
    if x < ends[i, 0]:
        return ends[i, 2] + ends[i, 4] * (x - ends[i, 0]), ends[i, 4]
    if x > ends[i, 1]:
        return ends[i, 3] + ends[i, 5] * (x - ends[i, 1]), ends[i, 5]
    nseg = starts.shape[1]
    k_nodes = yn.shape[2]
    s = 0
    for k in range(1, nseg):
        if x >= starts[i, k]:
            s += 1
    w = widths[i, s]
    t = (x - starts[i, s]) / w * (k_nodes - 1)
    if not math.isfinite(t):
        t = 0.0
    j = int(t)
    if j < 0:
        j = 0
    if j > k_nodes - 2:
        j = k_nodes - 2
    f = t - j
    ya, yb = yn[i, s, j], yn[i, s, j + 1]
    da, db = dn[i, s, j], dn[i, s, j + 1]
    h = w / (k_nodes - 1)
    f2 = f * f
    f3 = f2 * f
    y = (2 * f3 - 3 * f2 + 1) * ya + (f3 - 2 * f2 + f) * h * da + (3 * f2 - 2 * f3) * yb + (f3 - f2) * h * db
    d = 6 * (f2 - f) * (ya - yb) / h + (3 * f2 - 4 * f + 1) * da + (3 * f2 - 2 * f) * db
    return y, d


@njit(cache=True)
def _eval(lce, L, a, i, F, lo, tsl, h, pmin, maxpen, maxsin, alpha0,
          a_st, a_w, a_e, a_y, a_d, p_st, p_w, p_e, p_y, p_d, t_st, t_w, t_e, t_y, t_d):  # pragma: no cover
    phi = 0.0
    if alpha0[i] > _EPS:
        if lce > pmin[i]:
            s = h[i] / lce
            phi = math.asin(min(max(s, -1.0), 1.0)) if s < maxsin[i] else maxpen[i]
        else:
            phi = maxpen[i]
    cos = math.cos(phi)
    sin = math.sin(phi)
    tl = L - lce * cos
    fal, dfal = _curve(lce / lo[i], i, a_st, a_w, a_e, a_y, a_d)
    fpe, dfpe = _curve(lce / lo[i], i, p_st, p_w, p_e, p_y, p_d)
    fse, dfse = _curve(tl / tsl[i], i, t_st, t_w, t_e, t_y, t_d)
    fm = F[i] * (a * fal + fpe)
    ferr = fm * cos - fse * F[i]
    hl = h[i] / lce
    dphi = (-hl / lce) / math.sqrt(1.0 - hl * hl) if hl * hl < 1.0 else math.nan
    dfm = F[i] * (a * dfal + dfpe) / lo[i]
    dfmat = dfm * cos + fm * (-sin * dphi)
    dtl = lce * sin * dphi - cos
    dft = dfse * F[i] / tsl[i] * dtl
    return ferr, dfmat - dft


@njit(cache=True, parallel=True)
def millard_equilibrium(L, a, mi, F, lo, tsl, h, pmin, maxpen, maxsin, alpha0, lmin, max_iter,
                        a_st, a_w, a_e, a_y, a_d, p_st, p_w, p_e, p_y, p_d,
                        t_st, t_w, t_e, t_y, t_d):  # pragma: no cover - compiled
    """Fiber length and final equilibrium error of every entry; inputs flat (N,), params (m,)."""
    n = L.shape[0]
    lce_out = np.empty(n)
    err_out = np.empty(n)
    for e in prange(n):
        i = mi[e]
        tol = max(1e-8 * F[i], _SIG * 10)
        along = L[e] - 1.01 * tsl[i]
        if along >= pmin[i] * math.cos(maxpen[i]):
            lce = math.sqrt(h[i] * h[i] + along * along)
        else:
            lce = pmin[i]
        lce = max(lce, lmin[i])
        ferr, dferr = _eval(lce, L[e], a[e], i, F, lo, tsl, h, pmin, maxpen, maxsin, alpha0,
                            a_st, a_w, a_e, a_y, a_d, p_st, p_w, p_e, p_y, p_d, t_st, t_w, t_e, t_y, t_d)
        it = 0
        while abs(ferr) > tol and it < max_iter:
            # stuck at the lower bound, or a NaN slope: OpenSim's iterate never moves again
            if (lce <= lmin[i] and lce - ferr / dferr <= lmin[i]) or not math.isfinite(dferr):
                break
            lce_prev = lce
            ferr_prev = ferr
            d_prev = dferr
            step = 1.0
            while True:
                delta = -step * ferr_prev / d_prev
                if abs(delta) > _SIG:
                    lce = lce_prev + delta
                else:
                    sgn = 1.0 if delta > 0 else (-1.0 if delta < 0 else 0.0)
                    lce = lce_prev - sgn * _SQRT_EPS
                    step = 0.0
                lce = max(lce, lmin[i])
                ferr, dferr = _eval(lce, L[e], a[e], i, F, lo, tsl, h, pmin, maxpen, maxsin, alpha0,
                                    a_st, a_w, a_e, a_y, a_d, p_st, p_w, p_e, p_y, p_d,
                                    t_st, t_w, t_e, t_y, t_d)
                if step <= _SQRT_EPS:
                    break
                step = 0.5 * step
                if not abs(ferr) >= abs(ferr_prev):
                    break
            it += 1
        lce_out[e] = lce
        err_out[e] = ferr
    return lce_out, err_out

