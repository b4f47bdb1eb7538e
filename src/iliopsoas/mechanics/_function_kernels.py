"""Compiled (numba) evaluation of a model's scalar functions, used when numba is installed.

The kernels evaluate the rows of a :class:`~iliopsoas.mechanics.functions.FunctionTable` one
pose at a time with the same floating-point operations, in the same order, as the NumPy
``value``/``derivative`` methods of :mod:`iliopsoas.mechanics.functions` (which stay the
specification and are compared with these kernels in the tests), so results are identical bit
for bit. What they save is the Python and NumPy call overhead: a model has a hundred or more
transform axes and couplers, each of which otherwise costs a dozen small array operations per
batch.
"""

from __future__ import annotations

from numba import njit

_ROUNDOFF = 2e-13  # SimmMacros ROUNDOFF_ERROR, as in functions.py
# These kernels allocate nothing: compiled without reference counting, which makes a call with a
# dozen array arguments cheaper.
_no_refcount = njit(cache=True, error_model="numpy", _nrt=False)  # type: ignore[call-overload]


@njit(cache=True, error_model="numpy")
def _segment(par, off, nk, x):  # type: ignore[no-untyped-def]
    """SimmSpline's interval: ``searchsorted(knots, x, 'left') - 1`` clipped to ``[0, nk - 2]``.

    For sorted knots, ``searchsorted(..., 'left')`` is the number of knots below ``x``; counting
    them has no unpredictable branch, which beats a bisection on a dozen knots.
    """
    k = -1
    for i in range(nk):
        if par[off + i] < x:
            k += 1
    if k < 0:
        k = 0
    if k > nk - 2:
        k = nk - 2
    return k


@njit(cache=True, error_model="numpy")
def _spline_value(par, off, nk, x, k):  # type: ignore[no-untyped-def]
    """SimmSpline value at ``x`` whose interval (see :func:`_segment`) is ``k``."""
    lo = par[off]
    hi = par[off + nk - 1]
    y, b, c, d = off + nk, off + 2 * nk, off + 3 * nk, off + 4 * nk
    if x > hi:
        return par[y + nk - 1] + (x - hi) * par[b + nk - 1]
    if x < lo:
        return par[y] + (x - lo) * par[b]
    if abs(x - hi) <= _ROUNDOFF:
        return par[y + nk - 1]
    if abs(x - lo) <= _ROUNDOFF:
        return par[y]
    dx = x - par[off + k]
    return par[y + k] + dx * (par[b + k] + dx * (par[c + k] + dx * par[d + k]))


@njit(cache=True, error_model="numpy")
def _spline_derivative(par, off, nk, x, k):  # type: ignore[no-untyped-def]
    lo = par[off]
    hi = par[off + nk - 1]
    b, c, d = off + 2 * nk, off + 3 * nk, off + 4 * nk
    if x > hi or abs(x - hi) <= _ROUNDOFF:
        return par[b + nk - 1]
    if x < lo or abs(x - lo) <= _ROUNDOFF:
        return par[b]
    dx = x - par[off + k]
    return par[b + k] + dx * (2.0 * par[c + k] + 3.0 * dx * par[d + k])


@njit(cache=True, error_model="numpy")
def _horner(par, off, nk, x):  # type: ignore[no-untyped-def]
    """numpy.polyval's operations: ``y = y * x + c`` from the highest power, starting at 0."""
    out = 0.0
    for i in range(nk):
        out = out * x + par[off + i]
    return out


@njit(cache=True, error_model="numpy")
def _value(kind, par, off, nk, x):  # type: ignore[no-untyped-def]
    if kind == 0:
        return par[off]
    if kind == 1:
        return par[off] * x + par[off + 1]
    if kind == 2:
        return _spline_value(par, off, nk, x, _segment(par, off, nk, x))
    return _horner(par, off, nk, x)


@njit(cache=True, error_model="numpy")
def _derivative(kind, par, off, nk, doff, dnk, x):  # type: ignore[no-untyped-def]
    if kind == 0:
        return 0.0
    if kind == 1:
        return par[off]
    if kind == 2:
        return _spline_derivative(par, off, nk, x, _segment(par, off, nk, x))
    return _horner(par, doff, dnk, x)


@njit(cache=True, error_model="numpy")
def _scaled(v, scales, a):  # type: ignore[no-untyped-def]
    for s in range(scales.shape[1]):
        v = scales[a, s] * v
    return v


@_no_refcount
def eval_kernel(x, src, dest, base, kind, off, nk, doff, dnk, par, scales, group, seg,
                val, der, derivatives):  # type: ignore[no-untyped-def]
    """``val[p, dest[a]] = f_a(x[p, src[a]])`` (and ``der`` likewise when ``derivatives``).

    ``x`` ``(n, X)``; ``val`` and ``der`` ``(n, Y)``; ``base`` ``(Y,)`` or ``(0,)``: when given,
    each row of ``val`` starts as a copy of it and each row of ``der`` as zeros (the columns no
    function writes). Splines with the same ``group[a] >= 0`` share their knots and argument,
    hence their interval, which is found once per pose. ``seg`` ``(n_groups, B)`` is scratch
    space; poses are processed in blocks of ``B``, one row after the other within a block, so
    that each inner loop does one kind of work.
    """
    n = x.shape[0]
    m = kind.shape[0]
    nb = base.shape[0]
    ng = seg.shape[0]
    B = seg.shape[1]
    D = scales.shape[1]
    for p0 in range(0, n, B):
        p1 = min(n, p0 + B)
        for g in range(ng):
            seg[g, 0] = -1  # this block's intervals not found yet
        for p in range(p0, p1):
            for i in range(nb):
                val[p, i] = base[i]
            for i in range(nb):
                der[p, i] = 0.0
        for a in range(m):
            ka = kind[a]
            s = src[a]
            d = dest[a]
            o = off[a]
            if ka == 1:
                sl = par[o]
                ic = par[o + 1]
                for p in range(p0, p1):
                    val[p, d] = sl * x[p, s] + ic
                if derivatives:
                    for p in range(p0, p1):
                        der[p, d] = sl
            elif ka == 2:
                g = group[a]
                nka = nk[a]
                if g >= 0 and seg[g, 0] < 0:  # first row of its group in this block
                    for p in range(p0, p1):
                        seg[g, p - p0] = _segment(par, o, nka, x[p, s])
                for p in range(p0, p1):
                    k = seg[g, p - p0] if g >= 0 else _segment(par, o, nka, x[p, s])
                    val[p, d] = _spline_value(par, o, nka, x[p, s], k)
                    if derivatives:
                        der[p, d] = _spline_derivative(par, o, nka, x[p, s], k)
            else:
                for p in range(p0, p1):
                    val[p, d] = _value(ka, par, o, nk[a], x[p, s])
                    if derivatives:
                        der[p, d] = _derivative(ka, par, o, nk[a], doff[a], dnk[a], x[p, s])
            for j in range(D):  # MultiplierFunction scales, innermost first
                sc = scales[a, j]
                for p in range(p0, p1):
                    val[p, d] = sc * val[p, d]
                if derivatives:
                    for p in range(p0, p1):
                        der[p, d] = sc * der[p, d]


@_no_refcount
def complete_kernel(q, src, dest, kind, off, nk, doff, dnk, par, scales):  # type: ignore[no-untyped-def]
    """In place, couplers in dependency order: ``q[p, dest[a]] = f_a(q[p, src[a]])``."""
    n = q.shape[0]
    m = kind.shape[0]
    for p in range(n):
        for a in range(m):
            q[p, dest[a]] = _scaled(_value(kind[a], par, off[a], nk[a], q[p, src[a]]), scales, a)


@_no_refcount
def coupling_kernel(q, src, dest, kind, off, nk, doff, dnk, par, scales, base, via,
                    slope, out):  # type: ignore[no-untyped-def]
    """Coupling vectors ``out`` ``(n, K, n_coordinates)`` (every entry written; see kinematics).

    Couplers (rows, in dependency order) map ``src`` to ``dest``; direction ``j`` puts unit speed
    on ``base[j]``, then follows every coupler, then is divided by the slope of coupler
    ``via[j]`` (``-1``: none; a zero slope gives NaN). ``slope`` ``(m,)`` is scratch space.
    """
    n = q.shape[0]
    m = kind.shape[0]
    K = base.shape[0]
    nc = out.shape[2]
    for p in range(n):
        for a in range(m):
            slope[a] = _scaled(_derivative(kind[a], par, off[a], nk[a], doff[a], dnk[a], q[p, src[a]]), scales, a)
        for j in range(K):
            for i in range(nc):
                out[p, j, i] = 0.0
            out[p, j, base[j]] = 1.0
            for a in range(m):
                out[p, j, dest[a]] = slope[a] * out[p, j, src[a]]
            if via[j] >= 0:
                s = slope[via[j]]
                scale = 1.0 / s if s != 0.0 else float("nan")
                for i in range(nc):
                    out[p, j, i] = out[p, j, i] * scale
