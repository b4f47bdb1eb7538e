"""Compiled (numba) ``WrapEllipsoid::wrapLine`` (OpenSim mode), used when numba is installed.

A scalar port of :func:`iliopsoas.mechanics.wrap.wrap_ellipsoid` and its helpers
(``_closest_on_ellipse``, ``_closest_on_ellipsoid``, ``_tangent_residual``, ``_tangent_point``,
``_ellipsoid_surface_path``), one segment at a time: the same operations in the same order as the
NumPy reference, which stays the definition and is compared with this kernel in the tests. The
sums follow the order NumPy computes them in (``einsum`` adds a 3-vector's products as
``(0 + 2) + 1`` and a 4-vector's as ``(0 + 2) + (1 + 3)``, ``sum``/``norm`` left to right, long
sums pairwise, the 4x4 ``ded @ ded.T`` with fused multiply-adds as OpenBLAS does); the 4x4 inverse
that NumPy takes from LAPACK is an LU factorisation with partial pivoting here, and NumPy's
vectorised ``arccos``/``power`` may differ from the C library's in the last bit, so the results
agree to rounding (far below 1e-12 m), usually bit for bit.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit
from numba.core import types
from numba.extending import intrinsic

NO_WRAP = 0
INSIDE_RADIUS = 1
MANDATORY_WRAP = 3

HYBRID = 0
MIDPOINT = 1
AXIAL = 2

_EPS = float(np.finfo(float).eps)
_ROUNDOFF = 2e-13
_ELL_TINY = 1e-8
_MU_BLEND_MIN = 0.7073
_MU_BLEND_MAX = 0.9
_NUM_FAN_SAMPLES = 300
_NUM_FAN = _NUM_FAN_SAMPLES - 2  # the fan's interior samples
_SV_BOUNDARY_BLEND = 0.3
_SV_BOUNDARY_HIGH = 1.0 - _SV_BOUNDARY_BLEND
_MU_BLEND_SPAN = _MU_BLEND_MAX - _MU_BLEND_MIN
_TWO_PI = 2 * np.pi
_MAX_SEGMENTS = 499


def _fma_typer(typingctx, x, y, z):  # type: ignore[no-untyped-def]
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.fma(args[0], args[1], args[2])

    return sig, codegen


#: ``_fma(x, y, z)``: x * y + z rounded once (LLVM's fma), as OpenBLAS's kernels compute
_fma: Any = intrinsic(_fma_typer)


@njit(cache=True, error_model="numpy")
def _dot3(ax, ay, az, bx, by, bz):  # type: ignore[no-untyped-def]
    """``np.einsum('...i,...i->...')`` of two 3-vectors (NumPy adds the products as (0 + 2) + 1)."""
    return (ax * bx + az * bz) + ay * by


@njit(cache=True, error_model="numpy")
def _sum3(x, y, z):  # type: ignore[no-untyped-def]
    """``np.sum`` of three values (left to right)."""
    return (x + y) + z


@njit(cache=True, error_model="numpy")
def _normalize(x, y, z):  # type: ignore[no-untyped-def]
    """wrap._normalize: the unit vector (zero below machine epsilon) and the norm."""
    mag = math.sqrt(_dot3(x, y, z, x, y, z))
    if mag >= _EPS:
        return x / mag, y / mag, z / mag, mag
    return 0.0, 0.0, 0.0, mag


@njit(cache=True, error_model="numpy")
def _norm(x, y, z):  # type: ignore[no-untyped-def]
    """``np.linalg.norm(v, axis=-1)``."""
    return math.sqrt(_sum3(x * x, y * y, z * z))


@njit(cache=True, error_model="numpy")
def _argmax3(x, y, z):  # type: ignore[no-untyped-def]
    """``np.argmax`` of three values: the first maximum, or the first NaN."""
    if math.isnan(x):
        return 0
    best, m = 0, x
    if math.isnan(y):
        return 1
    if y > m:
        best, m = 1, y
    if math.isnan(z):
        return 2
    if z > m:
        best = 2
    return best


@njit(cache=True, error_model="numpy")
def _pairwise_leaf(x, lo, n):  # type: ignore[no-untyped-def]
    """NumPy's ``pairwise_sum`` of ``x[lo:lo + n]`` for ``n <= 128`` (eight running sums)."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += x[i]
        return res
    r0, r1, r2, r3 = x[lo], x[lo + 1], x[lo + 2], x[lo + 3]
    r4, r5, r6, r7 = x[lo + 4], x[lo + 5], x[lo + 6], x[lo + 7]
    i = 8
    while i < n - (n % 8):
        j = lo + i
        r0 += x[j]
        r1 += x[j + 1]
        r2 += x[j + 2]
        r3 += x[j + 3]
        r4 += x[j + 4]
        r5 += x[j + 5]
        r6 += x[j + 6]
        r7 += x[j + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += x[lo + i]
        i += 1
    return res


@njit(cache=True, error_model="numpy")
def _split(n):  # type: ignore[no-untyped-def]
    n2 = n // 2
    return n2 - n2 % 8


@njit(cache=True, error_model="numpy")
def _pairwise2(x, lo, n):  # type: ignore[no-untyped-def]
    if n <= 128:
        return _pairwise_leaf(x, lo, n)
    n2 = _split(n)
    return _pairwise_leaf(x, lo, n2) + _pairwise_leaf(x, lo + n2, n - n2)


@njit(cache=True, error_model="numpy")
def _pairwise3(x, lo, n):  # type: ignore[no-untyped-def]
    if n <= 128:
        return _pairwise_leaf(x, lo, n)
    n2 = _split(n)
    return _pairwise2(x, lo, n2) + _pairwise2(x, lo + n2, n - n2)


@njit(cache=True, error_model="numpy")
def _pairwise_sum(x, n):  # type: ignore[no-untyped-def]
    """``np.sum(x[:n])`` as NumPy adds a contiguous row: its 0.0 start plus the pairwise sum
    (blocks of at most 128 summed with eight running sums, halves split at multiples of 8;
    unrolled without recursion, three levels cover ``n < 1000`` and ``n`` is at most 499)."""
    if n <= 128:
        return 0.0 + _pairwise_leaf(x, np.int64(0), n)  # not a literal 0: one compilation
    n2 = _split(n)
    return 0.0 + (_pairwise3(x, np.int64(0), n2) + _pairwise3(x, n2, n - n2))


# ----------------------------------------------------------------------------- closest points
@njit(cache=True, error_model="numpy")
def _closest_on_ellipse(a, b, u, v):  # type: ignore[no-untyped-def]
    """wrap._closest_on_ellipse for one point."""
    a2, b2 = a * a, b * b
    a2u2, b2v2 = a2 * u * u, b2 * v * v
    nx = abs(u) <= _ROUNDOFF
    ny = abs(v) <= _ROUNDOFF
    if nx and ny:
        if a < b:
            return (-a if u < 0.0 else a), v
        return u, (-b if v < 0.0 else b)
    if nx:
        c1 = (a >= b) or (abs(v) >= b - a2 / b)
        yy = b2 * v / (b2 - a2) if b2 != a2 else v
        if c1:
            return u, (b if v >= 0 else -b)
        q = yy / b
        return a * math.sqrt(abs(1 - q * q)), yy
    if ny:
        c2 = (b >= a) or (abs(u) >= a - b2 / a)
        xx = a2 * u / (a2 - b2) if a2 != b2 else u
        if c2:
            return (a if u >= 0 else -a), v
        q = xx / a
        return xx, b * math.sqrt(abs(1 - q * q))
    qu, qv = u / a, v / b
    inside = qu * qu + qv * qv < 1.0
    t = 0.0 if inside else max(a, b) * math.sqrt(u * u + v * v)
    P = 0.0
    Q = 0.0
    for _ in range(64):
        P, Q = t + a2, t + b2
        f = P * P * Q * Q - a2u2 * Q * Q - b2v2 * P * P
        if abs(f) < 1e-9:
            break
        fp = 2.0 * (P * Q * (P + Q) - a2u2 * Q - b2v2 * P)
        t = t - f / fp
    return a2 * u / P, b2 * v / Q


@njit(cache=True, error_model="numpy")
def _closest(a, b, c, s0, s1, s2, u, v, w, special):  # type: ignore[no-untyped-def]
    """wrap._closest_on_ellipsoid for one point (radii a, b, c; ``s_i`` the sum of the two other
    dimensions, which picks the plane when the point lies on several)."""
    if special >= 0:
        axis = special
    else:
        axis = -1
        best = np.inf
        if abs(u) <= _ROUNDOFF and best > s0:
            axis, best = 0, s0
        if abs(v) <= _ROUNDOFF and best > s1:
            axis, best = 1, s1
        if abs(w) <= _ROUNDOFF and best > s2:
            axis, best = 2, s2
    if axis == 0:
        e1, e2 = _closest_on_ellipse(b, c, v, w)
        return u, e1, e2
    if axis == 1:
        e1, e2 = _closest_on_ellipse(c, a, w, u)
        return e2, v, e1
    if axis == 2:
        e1, e2 = _closest_on_ellipse(a, b, u, v)
        return e1, e2, w
    a2, b2, c2 = a * a, b * b, c * c
    a2u2, b2v2, c2w2 = a2 * u * u, b2 * v * v, c2 * w * w
    qu, qv, qw = u / a, v / b, w / c
    inside = qu * qu + qv * qv + qw * qw < 1.0
    t = 0.0 if inside else max(a, b, c) * math.sqrt(u * u + v * v + w * w)
    for _ in range(64):
        P, Q, R = t + a2, t + b2, t + c2
        f = P * P * Q * Q * R * R - a2u2 * Q * Q * R * R - b2v2 * P * P * R * R - c2w2 * P * P * Q * Q
        if abs(f) < 1e-9:
            return a2 * u / P, b2 * v / Q, c2 * w / R
        PQ, PR, QR = P * Q, P * R, Q * R
        fp = 2.0 * (PQ * R * (QR + PR + PQ) - a2u2 * QR * (Q + R) - b2v2 * PR * (P + R) - c2w2 * PQ * (P + Q))
        t = t - f / fp
    return u, v, w


@njit(cache=True, error_model="numpy")
def _closest_fan(a, b, c, s0, s1, s2, fan, ws):  # type: ignore[no-untyped-def]
    """:func:`_closest` (no special axis) for the fan's samples ``fan[0:3]`` ``(3, m)``, written to
    ``fan[3:6]``. The same operations per sample as :func:`_closest`, but the samples' Newton
    iterations run in lock step (a branch-free pass over all samples per iteration), so that they
    overlap and vectorise. ``ws`` ``(8, m)`` is a workspace."""
    m = fan.shape[1]
    a2, b2, c2 = a * a, b * b, c * c
    big = max(a, b, c)
    t, a2u2, b2v2, c2w2 = ws[0], ws[1], ws[2], ws[3]
    P_, Q_, R_, live = ws[4], ws[5], ws[6], ws[7]
    n_live = 0
    for j in range(m):
        u, v, w = fan[0, j], fan[1, j], fan[2, j]
        if abs(u) <= _ROUNDOFF or abs(v) <= _ROUNDOFF or abs(w) <= _ROUNDOFF:
            fan[3, j], fan[4, j], fan[5, j] = _closest(a, b, c, s0, s1, s2, u, v, w, np.int64(-1))
            live[j] = -1.0  # done (a point in a coordinate plane)
            continue
        a2u2[j], b2v2[j], c2w2[j] = a2 * u * u, b2 * v * v, c2 * w * w
        qu, qv, qw = u / a, v / b, w / c
        inside = qu * qu + qv * qv + qw * qw < 1.0
        t[j] = 0.0 if inside else big * math.sqrt(u * u + v * v + w * w)
        live[j] = 1.0  # iterating (then 2.0: converged)
        n_live += 1
    for _ in range(64):
        if n_live == 0:
            break
        n_live = 0
        for j in range(m):
            tj = t[j]
            P, Q, R = tj + a2, tj + b2, tj + c2
            au, bv, cw = a2u2[j], b2v2[j], c2w2[j]
            f = P * P * Q * Q * R * R - au * Q * Q * R * R - bv * P * P * R * R - cw * P * P * Q * Q
            PQ, PR, QR = P * Q, P * R, Q * R
            fp = 2.0 * (PQ * R * (QR + PR + PQ) - au * QR * (Q + R) - bv * PR * (P + R) - cw * PQ * (P + Q))
            lv = live[j] == 1.0
            hit = lv and abs(f) < 1e-9
            go = lv and not abs(f) < 1e-9
            t[j] = tj - f / fp if go else tj
            P_[j] = P if hit else P_[j]
            Q_[j] = Q if hit else Q_[j]
            R_[j] = R if hit else R_[j]
            live[j] = 2.0 if hit else live[j]
            n_live += 1 if go else 0
    for j in range(m):
        if live[j] == 2.0:
            fan[3, j] = a2 * fan[0, j] / P_[j]
            fan[4, j] = b2 * fan[1, j] / Q_[j]
            fan[5, j] = c2 * fan[2, j] / R_[j]
        elif live[j] == 1.0:  # no convergence in 64 steps: the point itself
            fan[3, j], fan[4, j], fan[5, j] = fan[0, j], fan[1, j], fan[2, j]


# ----------------------------------------------------------------------------- tangent points
@njit(cache=True, error_model="numpy")
def _residual(r, d, p, a, vs, vs4, ee):  # type: ignore[no-untyped-def]
    """wrap._tangent_residual: writes the residuals to ``ee`` (4,) and returns their squared sum."""
    n0 = 2.0 * r[0] / (a[0] * a[0])
    n1 = 2.0 * r[1] / (a[1] * a[1])
    n2 = 2.0 * r[2] / (a[2] * a[2])
    q0, q1, q2 = r[0] / a[0], r[1] / a[1], r[2] / a[2]
    ee[0] = _dot3(vs[0], vs[1], vs[2], r[0], r[1], r[2]) + vs4
    ee[1] = _sum3(q0 * q0, q1 * q1, q2 * q2) - 1.0
    ee[2] = _dot3(n0, n1, n2, r[0], r[1], r[2]) + d
    ee[3] = _dot3(n0, n1, n2, p[0], p[1], p[2]) + d
    return ((ee[0] * ee[0] + ee[1] * ee[1]) + ee[2] * ee[2]) + ee[3] * ee[3]


@njit(cache=True, error_model="numpy")
def _inverse4(m, inv, lu, piv, b):  # type: ignore[no-untyped-def]
    """The inverse of the 4x4 ``m`` into ``inv`` as ``np.linalg.inv`` gets it from OpenBLAS
    (``dgesv`` on the identity): the left-looking ``getf2`` (each column's dot products as fused
    multiply-add chains from zero, the pivot's reciprocal scaling the column below it), then
    ``getrs``: the row interchanges, the unit lower and the upper triangular solves (``x_k -= x_i l_ki``
    fused, the diagonal's reciprocal). ``lu`` (4, 4), ``piv`` (4,) and ``b`` (4,) are workspaces."""
    for i in range(4):
        for j in range(4):
            lu[i, j] = m[i, j]
    for j in range(4):
        for i in range(4):
            b[i] = lu[i, j]
        for i in range(j):  # earlier interchanges, on this column
            p = piv[i]
            if p != i:
                tmp = b[i]
                b[i] = b[p]
                b[p] = tmp
        for i in range(1, j):
            t = 0.0
            for k in range(i):
                t = _fma(lu[i, k], b[k], t)
            b[i] = b[i] - t
        for i in range(j, 4):
            t = 0.0
            for k in range(j):
                t = _fma(lu[i, k], b[k], t)
            b[i] = b[i] - t
        p = j
        big = abs(b[j])
        for i in range(j + 1, 4):
            if abs(b[i]) > big:
                big = abs(b[i])
                p = i
        piv[j] = p
        for i in range(4):
            lu[i, j] = b[i]
        pivot = lu[p, j]
        if pivot != 0.0:
            if p != j:
                for c in range(j + 1):
                    tmp = lu[j, c]
                    lu[j, c] = lu[p, c]
                    lu[p, c] = tmp
            rcp = 1.0 / pivot
            for i in range(j + 1, 4):
                lu[i, j] = lu[i, j] * rcp
    for i in range(4):
        for c in range(4):
            inv[i, c] = 1.0 if i == c else 0.0
    for i in range(4):
        p = piv[i]
        if p != i:
            for c in range(4):
                tmp = inv[i, c]
                inv[i, c] = inv[p, c]
                inv[p, c] = tmp
    for c in range(4):
        for i in range(4):
            for k in range(i + 1, 4):
                inv[k, c] = _fma(-inv[i, c], lu[k, i], inv[k, c])
        for i in range(3, -1, -1):
            inv[i, c] = inv[i, c] * (1.0 / lu[i, i])
            for k in range(i):
                inv[k, c] = _fma(-inv[i, c], lu[k, i], inv[k, c])


@njit(cache=True, error_model="numpy")
def _tangent_point(pe, rx, ry, rz, px, py, pz, a, vs, vs4, ws_r, ws_p, ee, ded, ded2, m2, inv, lu, piv, col, v,
                   vt):  # type: ignore[no-untyped-def]
    """wrap._tangent_point for one end point: the moved tangent point."""
    if abs(pe) < 1e-4:
        return px, py, pz
    R, P = ws_r, ws_p
    R[0], R[1], R[2] = rx, ry, rz
    P[0], P[1], P[2] = px, py, pz
    n0 = 2.0 * R[0] / (a[0] * a[0])
    n1 = 2.0 * R[1] / (a[1] * a[1])
    n2 = 2.0 * R[2] / (a[2] * a[2])
    d = -_dot3(n0, n1, n2, R[0], R[1], R[2])
    ssq = _residual(R, d, P, a, vs, vs4, ee)
    ssqo = ssq
    alpha = 0.01
    m0, m1, m2_, _ = _normalize(px, py, pz)
    for _ in range(50):
        if not ssq > _ELL_TINY:
            break
        for i in range(3):
            aa = a[i] * a[i]
            ded[i, 0] = vs[i]
            ded[i, 1] = 2.0 * R[i] / aa
            ded[i, 2] = 2.0 * (2.0 * R[i]) / aa
            ded[i, 3] = 2.0 * P[i] / aa
        ded[3, 0] = 0.0
        ded[3, 1] = 0.0
        ded[3, 2] = 1.0
        ded[3, 3] = 1.0
        u0, u1, u2, _ = _normalize(P[0] - R[0], P[1] - R[1], P[2] - R[2])
        pcos = _dot3(u0, u1, u2, m0, m1, m2_)
        dd = 1.0
        if pcos > 0.1:  # np.sign(pcos) is 1 there
            dd = 1.0 - math.pow(abs(pcos), 100.0) * 1.0
        for i in range(4):
            v[i] = -((ded[i, 0] * ee[0] + ded[i, 2] * ee[2]) + (ded[i, 1] * ee[1] + ded[i, 3] * ee[3]))
            for j in range(4):
                ded2[i, j] = _fma(ded[i, 3], ded[j, 3], _fma(ded[i, 2], ded[j, 2],
                                                             _fma(ded[i, 1], ded[j, 1], ded[i, 0] * ded[j, 0])))
        for i in range(4):
            vt[i] = 0.0
        s_, so, al, dk = ssq, ssqo, alpha, d
        loop = s_ >= so
        for _ in range(1000):
            if not loop:
                break
            for i in range(4):
                for j in range(4):
                    m2[i, j] = ded2[i, j]
                m2[i, i] = ded2[i, i] * (1.0 + al)
            _inverse4(m2, inv, lu, piv, col)
            for i in range(4):
                x = (inv[i, 0] * v[0] + inv[i, 2] * v[2]) + (inv[i, 1] * v[1] + inv[i, 3] * v[3])
                vt[i] = dd * x / 16.0
            R[0] += vt[0]
            R[1] += vt[1]
            R[2] += vt[2]
            dk += vt[3]
            s_new = _residual(R, dk, P, a, vs, vs4, ee)
            so = s_
            s_ = s_new
            al *= 4.0
            loop = s_new >= so
        al /= 8.0
        fakt = 0.5
        loop = s_ <= so
        for _ in range(1000):
            if not loop:
                break
            fakt *= 2.0
            R[0] += vt[0] * fakt
            R[1] += vt[1] * fakt
            R[2] += vt[2] * fakt
            dk += vt[3] * fakt
            s_new = _residual(R, dk, P, a, vs, vs4, ee)
            so = s_
            s_ = s_new
            loop = s_new <= so
        R[0] -= vt[0] * fakt
        R[1] -= vt[1] * fakt
        R[2] -= vt[2] * fakt
        dk -= vt[3] * fakt
        s_ = _residual(R, dk, P, a, vs, vs4, ee)
        d, ssq, ssqo, alpha = dk, s_, s_, al
    return R[0], R[1], R[2]


# ----------------------------------------------------------------------------- surface path
@njit(cache=True, error_model="numpy")
def _surface_path(r1, r2, a, vs, vs4, far, factor, seg):  # type: ignore[no-untyped-def]
    """wrap._ellipsoid_surface_path for one wrap: (length, n_points, second point, second-last
    point); ``seg`` is a workspace for the polyline's segment lengths."""
    length = _norm(r1[0] - r2[0], r1[1] - r2[1], r1[2] - r2[2]) / factor
    x = length / 0.001
    if x < 9.2e18:  # NumPy's astype(int): NaN and huge values become the smallest integer
        nseg = int(x) if x > -9.2e18 else -(2 ** 62)
    else:
        nseg = -(2 ** 62)
    nseg = min(max(nseg, 1), _MAX_SEGMENTS)
    if length < 0.001:
        return length * factor, 2, r2[0], r2[1], r2[2], r1[0], r1[1], r1[2]
    ns = nseg
    imax = _argmax3(abs(vs[0]), abs(vs[1]), abs(vs[2]))
    u0 = 1.0 if imax == 0 else 0.0
    u1 = 1.0 if imax == 1 else 0.0
    u2 = 1.0 if imax == 2 else 0.0
    mu = (-vs4) / _dot3(vs[0], vs[1], vs[2], u0, u1, u2)
    a00, a01, a02 = mu * u0, mu * u1, mu * u2
    b0, b1, b2, _ = _normalize(r1[0] - a00, r1[1] - a01, r1[2] - a02)
    c0, c1, c2, _ = _normalize(r2[0] - a00, r2[1] - a01, r2[2] - a02)
    phi0 = math.acos(_dot3(b0, b1, b2, c0, c1, c2))
    if far:
        dphi = -(_TWO_PI - phi0) / ns
    else:
        dphi = phi0 / ns
    z0, z1, z2, _ = _normalize(b1 * c2 - b2 * c1, b2 * c0 - b0 * c2, b0 * c1 - b1 * c0)
    y0 = z1 * b2 - z2 * b1
    y1 = z2 * b0 - z0 * b2
    y2 = z0 * b1 - z1 * b0
    g0, g1, g2 = a00 / a[0], a01 / a[1], a02 / a[2]
    cc = _sum3(g0 * g0, g1 * g1, g2 * g2) - 1.0
    qx, qy, qz = r1[0], r1[1], r1[2]
    w1x, w1y, w1z = r2[0], r2[1], r2[2]
    w2x, w2y, w2z = r1[0], r1[1], r1[2]
    for i in range(1, ns):
        phi = dphi * i
        cp, sp = math.cos(phi), math.sin(phi)
        rx, ry, rz = cp * b0 + sp * y0, cp * b1 + sp * y1, cp * b2 + sp * y2
        f0, f1, f2 = rx / a[0], ry / a[1], rz / a[2]
        aa = _sum3(f0 * f0, f1 * f1, f2 * f2)
        bb = 2.0 * _sum3(f0 * g0, f1 * g1, f2 * g2)
        mu3 = (-bb + math.sqrt(bb * bb - 4.0 * aa * cc)) / (2.0 * aa)
        sx, sy, sz = a00 + mu3 * rx, a01 + mu3 * ry, a02 + mu3 * rz
        seg[i - 1] = _norm(sx - qx, sy - qy, sz - qz)
        qx, qy, qz = sx, sy, sz
        if i == 1:
            w1x, w1y, w1z = sx, sy, sz
        if i == ns - 1:
            w2x, w2y, w2z = sx, sy, sz
    seg[ns - 1] = _norm(r2[0] - qx, r2[1] - qy, r2[2] - qz)
    return _pairwise_sum(seg, ns), ns + 1, w1x, w1y, w1z, w2x, w2y, w2z


# ----------------------------------------------------------------------------- wrapLine
@njit(cache=True, error_model="numpy")
def ellipsoid_kernel(p1, p2, dims, wrap_axis, wrap_sign, method, code, r1o, r2o, wlen):  # type: ignore[no-untyped-def]
    """WrapEllipsoid::wrapLine for each row of ``p1``, ``p2`` ``(n, 3)`` (wrap frame) with
    semi-axes ``dims`` (3,) and ``method`` (:data:`HYBRID`, :data:`MIDPOINT`, :data:`AXIAL`):
    writes the status ``code`` ``(n,)``, tangent points ``r1o``, ``r2o`` ``(n, 3)`` and the wrap
    length ``wlen`` ``(n,)``."""
    n = p1.shape[0]
    factor = 3.0 / ((dims[0] + dims[1]) + dims[2])
    a = np.empty(3)
    for i in range(3):
        a[i] = dims[i] * factor
    a0, a1, a2 = a[0], a[1], a[2]
    s0, s1, s2 = dims[1] + dims[2], dims[0] + dims[2], dims[0] + dims[1]
    # workspaces, reused for every segment
    vs = np.empty(3)
    r1 = np.empty(3)
    r2 = np.empty(3)
    ws_r = np.empty(3)
    ws_p = np.empty(3)
    ee = np.empty(4)
    v = np.empty(4)
    vt = np.empty(4)
    ded = np.empty((4, 4))
    ded2 = np.empty((4, 4))
    m2 = np.empty((4, 4))
    inv = np.empty((4, 4))
    lu = np.empty((4, 4))
    piv = np.empty(4, np.int64)
    col = np.empty(4)
    seg = np.empty(_MAX_SEGMENTS)
    fan = np.empty((6, _NUM_FAN))
    fws = np.empty((8, _NUM_FAN))
    for k in range(n):  # serial: safe from any Python thread
        code[k] = NO_WRAP
        for i in range(3):
            r1o[k, i] = 0.0
            r2o[k, i] = 0.0
        wlen[k] = 0.0
        Ax, Ay, Az = p1[k, 0] * factor, p1[k, 1] * factor, p1[k, 2] * factor
        Bx, By, Bz = p2[k, 0] * factor, p2[k, 1] * factor, p2[k, 2] * factor
        q0, q1, q2 = Ax / a0, Ay / a1, Az / a2
        p1e = _sum3(q0 * q0, q1 * q1, q2 * q2) - 1.0
        q0, q1, q2 = Bx / a0, By / a1, Bz / a2
        p2e = _sum3(q0 * q0, q1 * q1, q2 * q2) - 1.0
        inside = (p1e < -0.0001) or (p2e < -0.0001)
        if inside:
            code[k] = INSIDE_RADIUS
            continue
        u0, u1, u2, _ = _normalize(Ax, Ay, Az)
        w0, w1, w2, _ = _normalize(Bx, By, Bz)
        ppm = _dot3(u0, u1, u2, w0, w1, w2) - 1.0
        Px, Py, Pz = Ax - Bx, Ay - By, Az - Bz
        f10, f11, f12 = Px / a0, Py / a1, Pz / a2
        f20, f21, f22 = Bx / a0, By / a1, Bz / a2
        aa = _dot3(f10, f11, f12, f10, f11, f12)
        bb = 2.0 * _dot3(f10, f11, f12, f20, f21, f22)
        cc = _dot3(f20, f21, f22, f20, f21, f22) - 1.0
        disc = bb * bb - 4.0 * aa * cc
        l1 = (-bb + math.sqrt(disc)) / (2.0 * aa)
        l2 = (-bb - math.sqrt(disc)) / (2.0 * aa)
        if abs(ppm) < 0.0001 or disc < 0.0:
            continue
        if not ((0.0 < l1) and (l1 < 1.0) and (0.0 < l2) and (l2 < 1.0)):
            continue
        r1x, r1y, r1z = Bx + l1 * Px, By + l1 * Py, Bz + l1 * Pz
        r2x, r2y, r2z = Bx + l2 * Px, By + l2 * Py, Bz + l2 * Pz
        dx, dy, dz = r2x - r1x, r2y - r1y, r2z - r1z
        m0, m1, m2_, _ = _normalize(Px, Py, Pz)
        m0, m1, m2_ = abs(m0), abs(m1), abs(m2_)
        best = _argmax3(m0, m1, m2_)
        if best == 0:
            mub, tb = m0, -r1x / dx
        elif best == 1:
            mub, tb = m1, -r1y / dy
        else:
            mub, tb = m2_, -r1z / dz
        c1x, c1y, c1z = 0.0, 0.0, 0.0
        fan_weight = -np.inf
        if method == HYBRID or method == AXIAL:
            if method == HYBRID:
                blend = mub > _MU_BLEND_MIN
                if (tb < 0.0) or (tb > 1.0):
                    s = 0.0
                elif tb < _SV_BOUNDARY_BLEND:
                    s = tb / _SV_BOUNDARY_BLEND
                elif tb > _SV_BOUNDARY_HIGH:
                    s = (1.0 - tb) / _SV_BOUNDARY_BLEND
                else:
                    s = 1.0
                if blend and s < 1.0:
                    mub = _MU_BLEND_MIN + s * (mub - _MU_BLEND_MIN)
            use_axial = True if method == AXIAL else mub > _MU_BLEND_MIN
            if use_axial:
                c1x, c1y, c1z = _closest(a0, a1, a2, s0, s1, s2, r1x + tb * dx, r1y + tb * dy, r1z + tb * dz,
                                         best)
            if method == HYBRID and mub < _MU_BLEND_MAX:
                midx, midy, midz = r1x + 0.5 * dx, r1y + 0.5 * dy, r1z + 0.5 * dz
                sx, sy, sz = 0.0, 0.0, 0.0
                for j in range(_NUM_FAN):
                    tt = (j + 1) / _NUM_FAN_SAMPLES
                    fan[0, j], fan[1, j], fan[2, j] = r1x + tt * dx, r1y + tt * dy, r1z + tt * dz
                _closest_fan(a0, a1, a2, s0, s1, s2, fan, fws)
                for j in range(_NUM_FAN):
                    e0, e1, e2, _ = _normalize(fan[3, j] - fan[0, j], fan[4, j] - fan[1, j], fan[5, j] - fan[2, j])
                    sx += e0
                    sy += e1
                    sz += e2
                e0, e1, e2, _ = _normalize(sx, sy, sz)
                fx, fy, fz = _closest(a0, a1, a2, s0, s1, s2, midx + e0, midy + e1, midz + e2, np.int64(-1))
                if mub <= _MU_BLEND_MIN:
                    c1x, c1y, c1z = fx, fy, fz
                    fan_weight = 1.0
                else:
                    ttb = (mub - _MU_BLEND_MIN) / _MU_BLEND_SPAN
                    c1x, c1y, c1z = _closest(a0, a1, a2, s0, s1, s2, ttb * c1x + (1.0 - ttb) * fx,
                                             ttb * c1y + (1.0 - ttb) * fy, ttb * c1z + (1.0 - ttb) * fz, np.int64(-1))
                    fan_weight = 1.0 - ttb
        else:
            c1x, c1y, c1z = _closest(a0, a1, a2, s0, s1, s2, r1x + 0.5 * dx, r1y + 0.5 * dy, r1z + 0.5 * dz, np.int64(-1))
        use_c1 = True if method != AXIAL else (tb > 0.0) and (tb < 1.0)
        if use_c1:
            r1x, r1y, r1z = c1x, c1y, c1z
            r2x, r2y, r2z = c1x, c1y, c1z
        if wrap_sign != 0:
            cax = c1x if wrap_axis == 0 else (c1y if wrap_axis == 1 else c1z)
            if (1 if cax >= 0.0 else -1) != wrap_sign:
                if wrap_axis == 0:
                    c1x = -c1x
                elif wrap_axis == 1:
                    c1y = -c1y
                else:
                    c1z = -c1z
                r1x, r1y, r1z = c1x, c1y, c1z
                r2x, r2y, r2z = c1x, c1y, c1z
                fw = min(fan_weight, 1.0)
                if fw > 0.0:
                    flipped = -cax
                    bis = (cax + flipped) / 2.0
                    moved = flipped + fw * (bis - flipped)
                    if wrap_axis == 0:
                        c1x, c1y, c1z = _closest(a0, a1, a2, s0, s1, s2, moved, c1y, c1z, np.int64(-1))
                    elif wrap_axis == 1:
                        c1x, c1y, c1z = _closest(a0, a1, a2, s0, s1, s2, c1x, moved, c1z, np.int64(-1))
                    else:
                        c1x, c1y, c1z = _closest(a0, a1, a2, s0, s1, s2, c1x, c1y, moved, np.int64(-1))
        ex, ey, ez = Ax - c1x, Ay - c1y, Az - c1z
        vs[0], vs[1], vs[2], _ = _normalize(Py * ez - Pz * ey, Pz * ex - Px * ez, Px * ey - Py * ex)
        vs4 = -_dot3(vs[0], vs[1], vs[2], c1x, c1y, c1z)
        # one call site each for the tangent search and the surface path (fewer inlined copies to compile)
        for e in range(2):
            if e == 0:
                pe, tx, ty, tz, ox, oy, oz, out = p1e, r1x, r1y, r1z, Ax, Ay, Az, r1
            else:
                pe, tx, ty, tz, ox, oy, oz, out = p2e, r2x, r2y, r2z, Bx, By, Bz, r2
            out[0], out[1], out[2] = _tangent_point(pe, tx, ty, tz, ox, oy, oz, a, vs, vs4, ws_r, ws_p, ee, ded,
                                                    ded2, m2, inv, lu, piv, col, v, vt)
        far = False
        length = 0.0
        for _ in range(2):
            res = _surface_path(r1, r2, a, vs, vs4, far, factor, seg)
            length = res[0]
            if far or wrap_sign == 0 or res[1] <= 2:
                break
            d10, d11, d12, _ = _normalize(Ax - r1[0], Ay - r1[1], Az - r1[2])
            e10, e11, e12, _ = _normalize(res[2] - r1[0], res[3] - r1[1], res[4] - r1[2])
            d20, d21, d22, _ = _normalize(Bx - r2[0], By - r2[1], Bz - r2[2])
            e20, e21, e22, _ = _normalize(res[5] - r2[0], res[6] - r2[1], res[7] - r2[2])
            if not (_dot3(d10, d11, d12, e10, e11, e12) > 0.0 or _dot3(d20, d21, d22, e20, e21, e22) > 0.0):
                break
            far = True  # the long way round
        code[k] = MANDATORY_WRAP
        for i in range(3):
            r1o[k, i] = r1[i] / factor
            r2o[k, i] = r2[i] / factor
        wlen[k] = length / factor
