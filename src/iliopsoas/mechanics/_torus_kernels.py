"""Compiled (numba) per-pose ``WrapTorus::findClosestPoint``, used when numba is installed.

The same operations, in the same order, as :func:`iliopsoas.mechanics.wrap_torus.lmdif_1d` and
:func:`~iliopsoas.mechanics.wrap_torus.closest_circle_point` (the NumPy reference, compared with
this kernel bit for bit in the tests), one problem at a time: the NumPy version pays a dozen
array calls per ``lmdif`` step for every pose still iterating.
"""

from __future__ import annotations

import math

from numba import njit

_MACHEP = 1.2e-16
_DWARF = 1.0e-38
_H = 1e-5
_FTOL = 1e-4
_XTOL = 1e-4
_GTOL = 0.0
_MAXFEV = 500
_FACTOR = 0.2


@njit(cache=True, error_model="numpy")
def _resid(u, c2, c3, c4, c5, two_r):  # type: ignore[no-untyped-def]
    return c2 + 2.0 * u - two_r * (2.0 * c4 * u + 2.0 * c3) / math.sqrt(u * u * c4 + 2.0 * c3 * u + c5)


@njit(cache=True, error_model="numpy")
def _dmax(a, b):  # type: ignore[no-untyped-def]
    return a if a >= b else b


@njit(cache=True, error_model="numpy")
def _dmin(a, b):  # type: ignore[no-untyped-def]
    return a if a <= b else b


@njit(cache=True, error_model="numpy")
def _lmpar(r, diag, qtb, delta, par):  # type: ignore[no-untyped-def]
    """lmpar for n = 1 (r != 0): (step before negation, new par)."""
    x = qtb / r
    wa2 = diag * x
    dxnorm = abs(wa2)
    fp = dxnorm - delta
    if fp <= 0.1 * delta:
        return x, 0.0
    wa1 = diag * (wa2 / dxnorm)
    wa1 = (wa1 - 0.0) / r
    temp = abs(wa1)
    parl = ((fp / delta) / temp) / temp
    gnorm = abs((0.0 + r * qtb) / diag)
    paru = gnorm / delta
    if paru == 0.0:
        paru = _DWARF / _dmin(delta, 0.1)
    par = _dmax(par, parl)
    par = _dmin(par, paru)
    if par == 0.0:
        par = gnorm / dxnorm
    it = 0
    while True:
        it += 1
        if par == 0.0:
            par = _dmax(_DWARF, 0.001 * paru)
        dd = math.sqrt(par) * diag
        # qrsolv for n = 1
        sdiag = r
        wa = qtb
        if dd != 0.0:
            if abs(r) < abs(dd):
                cotan = r / dd
                sin = 0.5 / math.sqrt(0.25 + 0.25 * cotan * cotan)
                cos = sin * cotan
            else:
                tan = dd / r
                cos = 0.5 / math.sqrt(0.25 + 0.25 * tan * tan)
                sin = cos * tan
            sdiag = cos * r + sin * dd
            wa = cos * qtb + sin * 0.0
        x = 0.0 if sdiag == 0.0 else (wa - 0.0) / sdiag
        w2 = diag * x
        dxnorm = abs(w2)
        fp_old = fp
        fp = dxnorm - delta
        if abs(fp) <= 0.1 * delta or (parl == 0.0 and fp <= fp_old and fp_old < 0.0) or it == 10:
            return x, par
        w1 = (diag * (w2 / dxnorm)) / sdiag
        temp = abs(w1)
        parc = ((fp / delta) / temp) / temp
        if fp > 0.0:
            parl = _dmax(parl, par)
        if fp < 0.0:
            paru = _dmin(paru, par)
        par = _dmax(parl, par + parc)


@njit(cache=True, error_model="numpy")
def lmdif_1d(c2, c3, c4, c5, two_r):  # type: ignore[no-untyped-def]
    """OpenSim's lmdif_C with m = n = 1 from x = 0 with findClosestPoint's settings: (x, info)."""
    x = 0.0
    fvec = _resid(x, c2, c3, c4, c5, two_r)
    fnorm = abs(fvec)
    nfev = 1
    par = 0.0
    it = 1
    delta = 0.0
    diag = 0.0
    xnorm = 0.0
    while True:  # outer loop
        jac = (_resid(x + _H, c2, c3, c4, c5, two_r) - fvec) / _H
        acnorm = abs(jac)
        if acnorm == 0.0:
            r = -0.0
            qtf = fvec
        else:
            r = -jac
            qtf = fvec + 2.0 * (-(0.0 + 2.0 * fvec) / 2.0)
        if it == 1:
            diag = 1.0 if acnorm == 0.0 else acnorm
            xnorm = abs(diag * x)
            delta = _FACTOR * xnorm
            if abs(delta) <= 1e-4:
                delta = _FACTOR
        gnorm = 0.0
        if fnorm != 0.0 and acnorm != 0.0:
            gnorm = _dmax(0.0, abs((0.0 + r * (qtf / fnorm)) / acnorm))
        if gnorm <= _GTOL:
            return x, 4
        diag = _dmax(diag, acnorm)
        while True:  # inner loop
            p, par = _lmpar(r, diag, qtf, delta, par)
            p = -p
            wa2 = x + p
            pnorm = abs(diag * p)
            if it == 1:
                delta = _dmin(delta, pnorm)
            f1 = _resid(wa2, c2, c3, c4, c5, two_r)
            nfev += 1
            fnorm1 = abs(f1)
            actred = -1.0
            if 0.1 * fnorm1 < fnorm:
                t = fnorm1 / fnorm
                actred = 1.0 - t * t
            temp1 = abs(0.0 + r * p) / fnorm
            temp2 = (math.sqrt(par) * pnorm) / fnorm
            prered = temp1 * temp1 + (temp2 * temp2) / 0.5
            dirder = -(temp1 * temp1 + temp2 * temp2)
            ratio = 0.0
            if prered != 0.0:
                ratio = actred / prered
            if ratio <= 0.25:
                if actred >= 0.0:
                    tmp = 0.5
                else:
                    tmp = 0.5 * dirder / (dirder + 0.5 * actred)
                if 0.1 * fnorm1 >= fnorm or tmp < 0.1:
                    tmp = 0.1
                delta = tmp * _dmin(delta, pnorm / 0.1)
                par = par / tmp
            elif par == 0.0 or ratio >= 0.75:
                delta = pnorm / 0.5
                par = 0.5 * par
            if ratio >= 1e-4:
                x = wa2
                fvec = f1
                xnorm = abs(diag * x)
                fnorm = fnorm1
                it += 1
            small = abs(actred) <= _FTOL and prered <= _FTOL and 0.5 * ratio <= 1.0
            info = 1 if small else 0
            if delta <= _XTOL * xnorm:
                info = 2
            if small and info == 2:
                info = 3
            if info != 0:
                return x, info
            if nfev >= _MAXFEV:
                info = 5
            if abs(actred) <= _MACHEP and prered <= _MACHEP and 0.5 * ratio <= 1.0:
                info = 6
            if delta <= _MACHEP * xnorm:
                info = 7
            if gnorm <= _MACHEP:
                info = 8
            if info != 0:
                return x, info
            if ratio >= 1e-4:
                break


@njit(cache=True, error_model="numpy")
def _coefficients(ax, ay, az, bx, by, bz):  # type: ignore[no-untyped-def]
    dx, dy, dz = bx - ax, by - ay, bz - az
    mag = math.sqrt(dx * dx + dy * dy + dz * dz)
    nx, ny, nz = dx / mag, dy / mag, dz / mag
    c2 = 2.0 * (ax * nx + ay * ny + az * nz)
    c3 = ax * nx + ay * ny
    c4 = nx * nx + ny * ny
    c5 = ax * ax + ay * ay
    return c2, c3, c4, c5


@njit(cache=True, error_model="numpy")
def _distance(x, y, z, radius):  # type: ignore[no-untyped-def]
    rho = math.sqrt(x * x + y * y)
    return math.sqrt(x * x + y * y + z * z + radius * radius - 2.0 * radius * rho)


@njit(cache=True, error_model="numpy")
def closest_circle_point_kernel(p1, p2, radius, wrap_axis, wrap_sign, found, c):  # type: ignore[no-untyped-def]
    """WrapTorus::findClosestPoint for each row of ``p1``, ``p2`` ``(n, 3)``: writes ``found``
    ``(n,)`` and the circle point ``c`` ``(n, 3)``."""
    n = p1.shape[0]
    two_r = 2.0 * radius
    for i in range(n):  # serial: about 1 µs a pose, and safe from any Python thread
        ax, ay, az = p1[i, 0], p1[i, 1], p1[i, 2]
        bx, by, bz = p2[i, 0], p2[i, 1], p2[i, 2]
        k2, k3, k4, k5 = _coefficients(ax, ay, az, bx, by, bz)
        u1, _ = lmdif_1d(k2, k3, k4, k5, two_r)
        k2, k3, k4, k5 = _coefficients(bx, by, bz, ax, ay, az)
        u2, _ = lmdif_1d(k2, k3, k4, k5, two_r)
        dx, dy, dz = bx - ax, by - ay, bz - az
        mag = math.sqrt(dx * dx + dy * dy + dz * dz)
        a1x, a1y, a1z = ax + u1 * (dx / mag), ay + u1 * (dy / mag), az + u1 * (dz / mag)
        a2x, a2y, a2z = bx + u2 * ((ax - bx) / mag), by + u2 * ((ay - by) / mag), bz + u2 * ((az - bz) / mag)
        first = _distance(a1x, a1y, a1z, radius) < _distance(a2x, a2y, a2z, radius)
        ok = True
        if wrap_sign != 0:
            v1 = a1x if wrap_axis == 0 else (a1y if wrap_axis == 1 else a1z)
            v2 = a2x if wrap_axis == 0 else (a2y if wrap_axis == 1 else a2z)
            ok1 = (1 if v1 >= 0.0 else -1) == wrap_sign
            ok2 = (1 if v2 >= 0.0 else -1) == wrap_sign
            if not (ok1 and ok2):
                first = ok1
            ok = ok1 or ok2
        found[i] = ok
        sx, sy = (a1x, a1y) if first else (a2x, a2y)
        m = math.sqrt(sx * sx + sy * sy)
        c[i, 0] = sx * radius / m
        c[i, 1] = sy * radius / m
        c[i, 2] = 0.0
