"""Compiled (numba) shortest path over an ellipsoid (smooth mode): the twin of
:func:`iliopsoas.mechanics.smooth_wrap.smooth_ellipsoid`, which is the reference.

The same shooting problem (unknowns: the angle ``psi`` of the first tangent point on its circle of
tangency in the unit-sphere image, and the geodesic length ``l``; equations: the far end touches
the line to ``p2`` and runs along it) with the same RK4 integration and step count, so both
converge to the same path; here the Jacobian is exact (the integration is differentiated in
forward mode with respect to ``psi`` and ``l``) instead of central differences.
"""

from __future__ import annotations

import math

from numba import njit

_jit = njit(cache=True, error_model="numpy")
_ZERO = (0.0, 0.0, 0.0)
STEP_FRACTION = 0.1  # as smooth_wrap.STEP_FRACTION
MAX_STEPS = 2000
_TOL = 1e-13
_ITERATIONS = 40


@_jit
def _deriv(y, v, A, out, o):  # type: ignore[no-untyped-def]
    """Write f(y) (``v is None``: not used) -- the geodesic equations -- or its derivative along
    ``v`` at ``y`` into ``out[o:o+6]``; ``y`` and ``v`` are 6-vectors (position, tangent)."""
    ax0, ax1, ax2 = A[0] * y[0], A[1] * y[1], A[2] * y[2]
    q = ax0 * ax0 + ax1 * ax1 + ax2 * ax2
    at0, at1, at2 = A[0] * y[3], A[1] * y[4], A[2] * y[5]
    alpha = (y[3] * at0 + y[4] * at1 + y[5] * at2) / q
    if v.shape[0] == 0:
        out[o], out[o + 1], out[o + 2] = y[3], y[4], y[5]
        out[o + 3], out[o + 4], out[o + 5] = -alpha * ax0, -alpha * ax1, -alpha * ax2
        return
    av0, av1, av2 = A[0] * v[0], A[1] * v[1], A[2] * v[2]
    dalpha = 2.0 * (at0 * v[3] + at1 * v[4] + at2 * v[5]) / q - 2.0 * alpha * (ax0 * av0 + ax1 * av1 + ax2 * av2) / q
    out[o], out[o + 1], out[o + 2] = v[3], v[4], v[5]
    out[o + 3] = -dalpha * ax0 - alpha * av0
    out[o + 4] = -dalpha * ax1 - alpha * av1
    out[o + 5] = -dalpha * ax2 - alpha * av2


@_jit
def _step(y, dp, dl, h, dh, A, w):  # type: ignore[no-untyped-def]
    """One RK4 step of size ``h`` in place on the state ``y`` (position, unit tangent) and its
    derivatives ``dp`` (with respect to psi, through the start) and ``dl`` (with respect to the
    length, through ``h``; ``dh`` = dh/dlength)."""
    none = w[12, :0]
    # rows of w: 0-2 stage slopes k, kp, kl; 3-5 stage points; 6-8 sums of k, kp, kl
    for i in range(6):
        w[3, i] = y[i]
        w[4, i] = dp[i]
        w[5, i] = dl[i]
        w[6, i] = 0.0
        w[7, i] = 0.0
        w[8, i] = 0.0
    for stage in range(4):
        _deriv(w[3], none, A, w[0], 0)
        _deriv(w[3], w[4], A, w[1], 0)
        _deriv(w[3], w[5], A, w[2], 0)
        wt = 1.0 if (stage == 0 or stage == 3) else 2.0
        for i in range(6):
            w[6, i] += wt * w[0, i]
            w[7, i] += wt * w[1, i]
            w[8, i] += wt * w[2, i]
        if stage < 3:
            frac = 0.5 if stage < 2 else 1.0
            for i in range(6):
                w[3, i] = y[i] + frac * h * w[0, i]
                w[4, i] = dp[i] + frac * h * w[1, i]
                w[5, i] = dl[i] + frac * dh * w[0, i] + frac * h * w[2, i]
    for i in range(6):
        y[i] += (h / 6.0) * w[6, i]
        dp[i] += (h / 6.0) * w[7, i]
        dl[i] += (dh / 6.0) * w[6, i] + (h / 6.0) * w[8, i]


@_jit
def shoot(psi, length, steps, p1, p2, c, rho, u, v, D, A, y, dp, dl, w):  # type: ignore[no-untyped-def]
    """Residuals ``f1``, ``f2`` of the far end's tangency for the path that leaves ``p1`` at angle
    ``psi`` of its circle of tangency (unit-sphere image: centre ``c``, radius ``rho``, basis ``u``,
    ``v``) and follows the geodesic for ``length`` (``steps`` RK4 steps); their Jacobian
    ``(df1/dpsi, df1/dl, df2/dpsi, df2/dl)`` and the first tangent point. The end point is
    ``y[:3]``; ``dp``, ``dl`` (6) and ``w`` ``(13, 6)`` are workspace."""
    cs, sn = math.cos(psi), math.sin(psi)
    for i in range(3):
        y[i] = D[i] * (c[i] + rho * (cs * u[i] + sn * v[i]))
        dp[i] = D[i] * rho * (-sn * u[i] + cs * v[i])
    x0 = (y[0], y[1], y[2])
    d0, d1, d2 = y[0] - p1[0], y[1] - p1[1], y[2] - p1[2]
    m = math.sqrt(d0 * d0 + d1 * d1 + d2 * d2)
    t0, t1, t2 = d0 / m, d1 / m, d2 / m
    pr = (t0 * dp[0] + t1 * dp[1] + t2 * dp[2])
    y[3], y[4], y[5] = t0, t1, t2
    dp[3], dp[4], dp[5] = (dp[0] - pr * t0) / m, (dp[1] - pr * t1) / m, (dp[2] - pr * t2) / m
    for i in range(6):
        dl[i] = 0.0
    h = length / steps
    dh = 1.0 / steps
    for _ in range(steps):
        _step(y, dp, dl, h, dh, A, w)
    x = (y[0], y[1], y[2])
    t = (y[3], y[4], y[5])
    ap0, ap1, ap2 = A[0] * p2[0], A[1] * p2[1], A[2] * p2[2]
    f1 = x[0] * ap0 + x[1] * ap1 + x[2] * ap2 - 1.0
    j11 = dp[0] * ap0 + dp[1] * ap1 + dp[2] * ap2
    j12 = dl[0] * ap0 + dl[1] * ap1 + dl[2] * ap2
    # f2: the signed angle from t to the line x -> p2 about the normal n
    nx, ny, nz = A[0] * x[0], A[1] * x[1], A[2] * x[2]
    nm = math.sqrt(nx * nx + ny * ny + nz * nz)
    nx, ny, nz = nx / nm, ny / nm, nz / nm
    wx, wy, wz = p2[0] - x[0], p2[1] - x[1], p2[2] - x[2]
    wm = math.sqrt(wx * wx + wy * wy + wz * wz)
    wx, wy, wz = wx / wm, wy / wm, wz / wm
    cx, cy, cz = ny * t[2] - nz * t[1], nz * t[0] - nx * t[2], nx * t[1] - ny * t[0]
    s_ = cx * wx + cy * wy + cz * wz
    c_ = t[0] * wx + t[1] * wy + t[2] * wz
    f2 = math.atan2(s_, c_)
    j21 = j22 = 0.0
    for col in range(2):
        dv = dp if col == 0 else dl
        dxx, dxy, dxz = dv[0], dv[1], dv[2]
        dtx, dty, dtz = dv[3], dv[4], dv[5]
        # dn = (I - n n^T) A dx / |A x|
        ax_, ay_, az_ = A[0] * dxx / nm, A[1] * dxy / nm, A[2] * dxz / nm
        pn = nx * ax_ + ny * ay_ + nz * az_
        dnx, dny, dnz = ax_ - pn * nx, ay_ - pn * ny, az_ - pn * nz
        # dw = -(I - w w^T) dx / |p2 - x|
        pw = wx * dxx + wy * dxy + wz * dxz
        dwx, dwy, dwz = -(dxx - pw * wx) / wm, -(dxy - pw * wy) / wm, -(dxz - pw * wz) / wm
        # d(n x t) = dn x t + n x dt
        ex = (dny * t[2] - dnz * t[1]) + (ny * dtz - nz * dty)
        ey = (dnz * t[0] - dnx * t[2]) + (nz * dtx - nx * dtz)
        ez = (dnx * t[1] - dny * t[0]) + (nx * dty - ny * dtx)
        ds = ex * wx + ey * wy + ez * wz + cx * dwx + cy * dwy + cz * dwz
        dc = dtx * wx + dty * wy + dtz * wz + t[0] * dwx + t[1] * dwy + t[2] * dwz
        if col == 0:
            j21 = (c_ * ds - s_ * dc) / (s_ * s_ + c_ * c_)
        else:
            j22 = (c_ * ds - s_ * dc) / (s_ * s_ + c_ * c_)
    return f1, f2, (j11, j12, j21, j22), x0


@_jit
def geodesic_steps(length, a, b, c):  # type: ignore[no-untyped-def]
    """RK4 steps for a geodesic of about ``length`` (smooth_wrap.geodesic_steps)."""
    r_min = min(a, b, c) ** 2 / max(a, b, c)
    return int(min(max(math.ceil(1.25 * abs(length) / (STEP_FRACTION * r_min)), 8), MAX_STEPS))
