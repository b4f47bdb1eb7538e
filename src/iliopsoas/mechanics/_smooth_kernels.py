"""Compiled (numba) smooth-mode paths: the kernels behind ``Model.wrapping == "smooth"``.

Per segment, the exact shortest path over a cylinder or sphere in closed form, and over an
ellipsoid by shooting (:mod:`iliopsoas.mechanics._geodesic_kernels`); per muscle and pose, the
smooth path rules of :mod:`iliopsoas.mechanics.smooth_path` (every segment of a wrap's range that
needs it wraps; several wraps are applied in passes until no tangent point moves by more than
``PASS_TOLERANCE``); per batch, :func:`smooth_model_kernel`, which runs forward kinematics, every
requested muscle's path, its length and its moment arms for every pose, blocks of poses spread
over the threads. The NumPy modules are the reference these kernels are tested against.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from iliopsoas.mechanics._geodesic_kernels import geodesic_steps, shoot
from iliopsoas.mechanics._kinematics_kernels import active_range, add_tension, body_frames

_jit = njit(cache=True, error_model="numpy")
_inline = njit(cache=True, error_model="numpy")
_no_refcount = njit(cache=True, error_model="numpy", _nrt=False)  # type: ignore[call-overload]

PASS_TOLERANCE = 1e-13  # m, as smooth_path.PASS_TOLERANCE
MAX_PASSES = 50
CYLINDER, SPHERE, ELLIPSOID = 0, 1, 2
WORKSPACE_ROWS = 23  # rows of the (rows, 6) workspace of ellipsoid_one
_ZERO = (0.0, 0.0, 0.0)


@_jit
def _unit(x, y, z):  # type: ignore[no-untyped-def]
    m = math.sqrt(x * x + y * y + z * z)
    if m > 0.0:
        return x / m, y / m, z / m
    return 0.0, 0.0, 0.0


@_jit
def _line_side(x1, y1, x2, y2):  # type: ignore[no-untyped-def]
    """Unit direction from the origin to the closest point of the line through two planar points."""
    dx, dy = x2 - x1, y2 - y1
    dd = dx * dx + dy * dy
    if not (dd > 0.0):
        return 1.0, 0.0
    t = -(x1 * dx + y1 * dy) / dd
    fx, fy = x1 + t * dx, y1 + t * dy
    fm = math.hypot(fx, fy)
    nm = math.sqrt(dd)
    if fm > 1e-12 * nm:
        return fx / fm, fy / fm
    return -dy / nm, dx / nm


@_jit
def _planar(x1, y1, x2, y2, ex, ey, R, in1, in2):  # type: ignore[no-untyped-def]
    """See smooth_wrap._planar_path: (theta, phi1, phi2, h1, h2, s, hit, rho1, rho2, own1, own2)."""
    rho1 = math.hypot(x1, y1)
    rho2 = math.hypot(x2, y2)
    a1 = math.atan2(ex * y1 - ey * x1, ex * x1 + ey * y1)
    a2 = math.atan2(ex * y2 - ey * x2, ex * x2 + ey * y2)
    b1 = 0.0 if in1 else math.acos(min(R / rho1, 1.0))
    b2 = 0.0 if in2 else math.acos(min(R / rho2, 1.0))
    h1 = 0.0 if in1 else math.sqrt(max(rho1 * rho1 - R * R, 0.0))
    h2 = 0.0 if in2 else math.sqrt(max(rho2 * rho2 - R * R, 0.0))
    s = 1.0 if a2 >= a1 else -1.0
    theta = abs(a2 - a1) - b1 - b2
    base = math.atan2(ey, ex)
    dx, dy = x2 - x1, y2 - y1
    dd = dx * dx + dy * dy
    hit = False
    if dd > 0.0:
        t = min(max(-(x1 * dx + y1 * dy) / dd, 0.0), 1.0)
        cx, cy = x1 + t * dx, y1 + t * dy
        hit = cx * cx + cy * cy < R * R
    return theta, base + a1 + s * b1, base + a2 - s * b2, h1, h2, s, hit, rho1, rho2, base + a1, base + a2


_TWO_PI = 2.0 * math.pi


@_jit
def _rough_angle(c, d):  # type: ignore[no-untyped-def]
    """atan2(c, d) within 0.01 rad, without a library call (only used to pick a branch of 2 pi)."""
    ac, ad = abs(c), abs(d)
    if ac <= ad:
        z = ac / ad if ad > 0.0 else 0.0
        t = z * (0.9953 - 0.2887 * z * z)
    else:
        z = ad / ac
        t = 0.5 * math.pi - z * (0.9953 - 0.2887 * z * z)
    if d < 0.0:
        t = math.pi - t
    return t if c >= 0.0 else -t


@_jit
def _half(c, d):  # type: ignore[no-untyped-def]
    """1 for directions at angles [0, pi] from the reference direction, 0 for (-pi, 0)."""
    return 1 if (c > 0.0 or (c == 0.0 and d != 0.0) or (c == 0.0 and d == 0.0)) else 0


@_jit
def cylinder_one(p1, p2, R, axis, sign):  # type: ignore[no-untyped-def]
    """smooth_wrap.smooth_cylinder for one segment: (status, r1, r2, wrap length, u1, u2).

    The same geometry as the NumPy reference with one library arc tangent instead of nine
    trigonometric calls: the tangent points are ``(R / d^2) (R P -+ h P_perp)``; the order of the
    end points' angles from the reference direction comes from exact comparisons, and the arc
    ``theta`` from the angle between the tangent points, its branch of ``2 pi`` picked with
    rough angles (an error below ``pi`` picks the right one).
    """
    x1, y1, z1 = p1
    x2, y2, z2 = p2
    if sign != 0 and axis < 2:
        ex = float(sign) if axis == 0 else 0.0
        ey = float(sign) if axis == 1 else 0.0
    else:
        ex, ey = _line_side(x1, y1, x2, y2)
    RR = R * R
    q1 = x1 * x1 + y1 * y1
    q2 = x2 * x2 + y2 * y2
    in1 = q1 < RR
    in2 = q2 < RR
    c1, d1 = ex * y1 - ey * x1, ex * x1 + ey * y1
    c2, d2 = ex * y2 - ey * x2, ex * x2 + ey * y2
    hf1, hf2 = _half(c1, d1), _half(c2, d2)
    cross12 = x1 * y2 - y1 * x2
    if hf1 != hf2:
        up = hf2 > hf1
    elif cross12 != 0.0:
        up = cross12 > 0.0
    else:  # the same or opposite directions: opposite only at angles 0 and pi, pi being the larger
        up = (x1 * x2 + y1 * y2 >= 0.0) or d2 < 0.0
    s = 1.0 if up else -1.0
    h1 = 0.0 if in1 else math.sqrt(q1 - RR)
    h2 = 0.0 if in2 else math.sqrt(q2 - RR)
    if in1:
        k1 = R / math.sqrt(q1) if q1 > 0.0 else 0.0
        t1x, t1y = k1 * x1, k1 * y1
    else:
        k1 = R / q1
        t1x, t1y = k1 * (R * x1 - s * h1 * y1), k1 * (R * y1 + s * h1 * x1)
    if in2:
        k2 = R / math.sqrt(q2) if q2 > 0.0 else 0.0
        t2x, t2y = k2 * x2, k2 * y2
    else:
        k2 = R / q2
        t2x, t2y = k2 * (R * x2 + s * h2 * y2), k2 * (R * y2 - s * h2 * x2)
    # theta = |a2 - a1| - b1 - b2 lies within pi / 2 of |a2 - a1| - pi / 2 (b in [0, pi / 2))
    rough = abs(_rough_angle(c2, d2) - _rough_angle(c1, d1)) - 0.5 * math.pi
    tm = math.atan2(s * (t1x * t2y - t1y * t2x), t1x * t2x + t1y * t2y)
    theta = tm + _TWO_PI * math.floor((rough - tm) / _TWO_PI + 0.5)
    if not (theta >= 0.0 and (theta > 0.0 or in1 or in2)):
        return 0, _ZERO, _ZERO, 0.0, _ZERO, _ZERO
    hit = False
    dx, dy = x2 - x1, y2 - y1
    dd = dx * dx + dy * dy
    if dd > 0.0:
        tt = min(max(-(x1 * dx + y1 * dy) / dd, 0.0), 1.0)
        hx, hy = x1 + tt * dx, y1 + tt * dy
        hit = hx * hx + hy * hy < RR
    code = 3 if (in1 or in2 or hit) else 2
    arc = R * theta
    S = h1 + arc + h2
    dz = z2 - z1
    Lt = math.sqrt(S * S + dz * dz)
    if S > 0.0:
        zA = z1 + dz * h1 / S
        zB = z1 + dz * (h1 + arc) / S
        wl = arc * Lt / S
    else:
        zA, zB, wl = z1, z2, abs(dz)
    r1 = (t1x, t1y, zA)
    r2 = (t2x, t2y, zB)
    u1 = _ZERO
    u2 = _ZERO
    if in1 or in2:
        cS = S / Lt if Lt > 0.0 else 0.0
        cz = dz / Lt if Lt > 0.0 else 0.0
        if in1:  # the helix tangent at the projection, (-y, x) / R turning by s
            u1 = _pull_cylinder(x1, y1, math.sqrt(q1), R, -cS * s * t1y / R, cS * s * t1x / R, cz)
            r1 = p1
        if in2:
            u2 = _pull_cylinder(x2, y2, math.sqrt(q2), R, -cS * s * t2y / R, cS * s * t2x / R, cz)
            r2 = p2
    return code, r1, r2, wl, u1, u2


@_jit
def _pull_cylinder(x, y, rho, R, wx, wy, wz):  # type: ignore[no-untyped-def]
    """J^T w at an end point inside the cylinder (J: the radial projection onto the surface)."""
    r = max(rho, 1e-12 * R)
    tx, ty = -y / r, x / r
    k = (R / r) * (wx * tx + wy * ty)
    return k * tx, k * ty, wz


@_jit
def _plane_normal(p1, p2):  # type: ignore[no-untyped-def]
    nx = p1[1] * p2[2] - p1[2] * p2[1]
    ny = p1[2] * p2[0] - p1[0] * p2[2]
    nz = p1[0] * p2[1] - p1[1] * p2[0]
    mag = math.sqrt(nx * nx + ny * ny + nz * nz)
    scale = math.sqrt((p1[0] ** 2 + p1[1] ** 2 + p1[2] ** 2) * (p2[0] ** 2 + p2[1] ** 2 + p2[2] ** 2))
    if mag <= 1e-12 * max(scale, 1e-300):
        ux, uy, uz = p2[0] - p1[0], p2[1] - p1[1], p2[2] - p1[2]
        if ux * ux + uy * uy + uz * uz == 0.0:
            ux, uy, uz = p1
        ax, ay, az = abs(ux), abs(uy), abs(uz)
        # the axis where u is smallest (first on ties, as numpy.argmin)
        if ax <= ay and ax <= az:
            nx, ny, nz = 0.0, uz, -uy
        elif ay <= az:
            nx, ny, nz = -uz, 0.0, ux
        else:
            nx, ny, nz = uy, -ux, 0.0
        mag = math.sqrt(nx * nx + ny * ny + nz * nz)
    return nx / mag, ny / mag, nz / mag


@_jit
def sphere_one(p1, p2, R, axis, sign):  # type: ignore[no-untyped-def]
    """smooth_wrap.smooth_sphere for one segment: (status, r1, r2, wrap length, u1, u2)."""
    n = _plane_normal(p1, p2)
    u = _unit(p1[0], p1[1], p1[2])
    v = (n[1] * u[2] - n[2] * u[1], n[2] * u[0] - n[0] * u[2], n[0] * u[1] - n[1] * u[0])
    x1 = p1[0] * u[0] + p1[1] * u[1] + p1[2] * u[2]
    y1 = p1[0] * v[0] + p1[1] * v[1] + p1[2] * v[2]
    x2 = p2[0] * u[0] + p2[1] * u[1] + p2[2] * u[2]
    y2 = p2[0] * v[0] + p2[1] * v[1] + p2[2] * v[2]
    ex, ey = _line_side(x1, y1, x2, y2)
    if sign != 0:
        cx = u[axis] * sign
        cy = v[axis] * sign
        cm = math.hypot(cx, cy)
        if cm > 1e-12:
            ex, ey = cx / cm, cy / cm
    d1 = p1[0] ** 2 + p1[1] ** 2 + p1[2] ** 2
    d2 = p2[0] ** 2 + p2[1] ** 2 + p2[2] ** 2
    in1 = d1 < R * R
    in2 = d2 < R * R
    theta, phiA, phiB, _, _, s, hit, _, _, _, _ = _planar(x1, y1, x2, y2, ex, ey, R, in1, in2)
    if not (theta >= 0.0 and ((theta > 0.0 and hit) or in1 or in2)):
        return 0, _ZERO, _ZERO, 0.0, _ZERO, _ZERO
    cA, sA, cB, sB = math.cos(phiA), math.sin(phiA), math.cos(phiB), math.sin(phiB)
    r1 = (R * (cA * u[0] + sA * v[0]), R * (cA * u[1] + sA * v[1]), R * (cA * u[2] + sA * v[2]))
    r2 = (R * (cB * u[0] + sB * v[0]), R * (cB * u[1] + sB * v[1]), R * (cB * u[2] + sB * v[2]))
    wl = R * theta
    u1 = _ZERO
    u2 = _ZERO
    if in1:  # the great circle's tangent at the projection
        u1 = _pull_sphere(p1, d1, R, (s * (-sA * u[0] + cA * v[0]), s * (-sA * u[1] + cA * v[1]),
                                      s * (-sA * u[2] + cA * v[2])))
    if in2:
        u2 = _pull_sphere(p2, d2, R, (s * (-sB * u[0] + cB * v[0]), s * (-sB * u[1] + cB * v[1]),
                                      s * (-sB * u[2] + cB * v[2])))
    if in1:
        r1 = p1
    if in2:
        r2 = p2
    return 3, r1, r2, wl, u1, u2


@_jit
def _pull_sphere(p, d2, R, w):  # type: ignore[no-untyped-def]
    d = math.sqrt(d2)
    ph = _unit(p[0], p[1], p[2])
    k = R / max(d, 1e-12 * R)
    c = w[0] * ph[0] + w[1] * ph[1] + w[2] * ph[2]
    return k * (w[0] - c * ph[0]), k * (w[1] - c * ph[1]), k * (w[2] - c * ph[2])


@_jit
def _initial_length(y1, y2, s1, s2, theta, D):  # type: ignore[no-untyped-def]
    """smooth_wrap._initial_length for one segment."""
    n = _plane_normal(y1, y2)
    ax = (n[1] * s1[2] - n[2] * s1[1], n[2] * s1[0] - n[0] * s1[2], n[0] * s1[1] - n[1] * s1[0])
    ct, st = math.cos(theta), math.sin(theta)
    ef = eb = 0.0
    for i in range(3):
        ef += (ct * s1[i] + st * ax[i] - s2[i]) ** 2
        eb += (ct * s1[i] - st * ax[i] - s2[i]) ** 2
    sg = -1.0 if eb < ef else 1.0
    total = 0.0
    prev = (D[0] * s1[0], D[1] * s1[1], D[2] * s1[2])
    for k in range(1, 9):
        ck, sk = math.cos(theta * k / 8), math.sin(theta * k / 8)
        cur = (D[0] * (ck * s1[0] + sg * sk * ax[0]), D[1] * (ck * s1[1] + sg * sk * ax[1]),
               D[2] * (ck * s1[2] + sg * sk * ax[2]))
        total += math.sqrt((cur[0] - prev[0]) ** 2 + (cur[1] - prev[1]) ** 2 + (cur[2] - prev[2]) ** 2)
        prev = cur
    return total


@_jit
def ellipsoid_one(p1, p2, a, b, c, axis, sign, gw):  # type: ignore[no-untyped-def]
    """smooth_wrap.smooth_ellipsoid for one segment: (status, r1, r2, wrap length, 0, 0).

    Plain Newton steps (up to 40, keeping the best), then Levenberg-Marquardt from the best, on
    the shooting residuals with their exact Jacobian (:func:`_geodesic_kernels.shoot`). ``gw``
    ``(WORKSPACE_ROWS, 6)`` is workspace.
    """
    D = gw[16, :3]
    A = gw[17, :3]
    D[0], D[1], D[2] = a, b, c
    A[0], A[1], A[2] = 1.0 / (a * a), 1.0 / (b * b), 1.0 / (c * c)
    y1 = (p1[0] / a, p1[1] / b, p1[2] / c)
    y2 = (p2[0] / a, p2[1] / b, p2[2] / c)
    q1 = y1[0] ** 2 + y1[1] ** 2 + y1[2] ** 2
    q2 = y2[0] ** 2 + y2[1] ** 2 + y2[2] ** 2
    if q1 < 1.0 or q2 < 1.0:
        return 1, _ZERO, _ZERO, 0.0, _ZERO, _ZERO
    code, s1, s2, theta, _, _ = sphere_one(y1, y2, 1.0, axis, sign)
    if code != 3:
        return 0, _ZERO, _ZERO, 0.0, _ZERO, _ZERO
    cc = gw[18, :3]
    cc[0], cc[1], cc[2] = y1[0] / q1, y1[1] / q1, y1[2] / q1
    rho = math.sqrt(1.0 - 1.0 / q1)
    uu = _unit(s1[0] - cc[0], s1[1] - cc[1], s1[2] - cc[2])
    sq = math.sqrt(q1)
    yh = (y1[0] / sq, y1[1] / sq, y1[2] / sq)
    u = gw[19, :3]
    v = gw[20, :3]
    P1 = gw[21, :3]
    P2 = gw[22, :3]
    for i in range(3):
        u[i] = uu[i]
        P1[i] = p1[i]
        P2[i] = p2[i]
    v[0] = yh[1] * uu[2] - yh[2] * uu[1]
    v[1] = yh[2] * uu[0] - yh[0] * uu[2]
    v[2] = yh[0] * uu[1] - yh[1] * uu[0]
    length = _initial_length(y1, y2, s1, s2, theta, D)
    steps = geodesic_steps(length, a, b, c)
    y = gw[13]
    dp = gw[14]
    dl = gw[15]
    w = gw[:13]
    psi = 0.0
    f1, f2, jac, x0 = shoot(psi, length, steps, P1, P2, cc, rho, u, v, D, A, y, dp, dl, w)
    best_psi, best_len, best = psi, length, f1 * f1 + f2 * f2
    for _ in range(40):  # plain Newton (it crosses the valleys of |F| that damped steps crawl along)
        if max(abs(f1), abs(f2)) <= 1e-13:
            break
        det = jac[0] * jac[3] - jac[1] * jac[2]
        dpsi = -(jac[3] * f1 - jac[1] * f2) / det
        dlen = -(-jac[2] * f1 + jac[0] * f2) / det
        if not (math.isfinite(dpsi) and math.isfinite(dlen)):
            break
        z = psi + dpsi + math.pi
        psi = z - _TWO_PI * math.floor(z / _TWO_PI) - math.pi
        length = max(length + dlen, 0.25 * length)  # a geodesic runs forwards
        f1, f2, jac, x0 = shoot(psi, length, steps, P1, P2, cc, rho, u, v, D, A, y, dp, dl, w)
        e = f1 * f1 + f2 * f2
        if e < best:
            best_psi, best_len, best = psi, length, e
    if not (max(abs(f1), abs(f2)) <= 1e-13):
        psi, length = best_psi, best_len
        f1, f2, jac, x0 = shoot(psi, length, steps, P1, P2, cc, rho, u, v, D, A, y, dp, dl, w)
        mu = 1e-3
        for _ in range(40):  # Levenberg-Marquardt from the best point
            err = f1 * f1 + f2 * f2
            if max(abs(f1), abs(f2)) <= 1e-13:
                break
            g00 = jac[0] ** 2 + jac[2] ** 2
            g01 = jac[0] * jac[1] + jac[2] * jac[3]
            g11 = jac[1] ** 2 + jac[3] ** 2
            r0 = jac[0] * f1 + jac[2] * f2
            r1 = jac[1] * f1 + jac[3] * f2
            accepted = False
            for _ in range(30):
                m00 = g00 + mu * max(g00, 1e-30)
                m11 = g11 + mu * max(g11, 1e-30)
                det = m00 * m11 - g01 * g01
                dpsi = -(m11 * r0 - g01 * r1) / det
                dlen = max(-(-g01 * r0 + m00 * r1) / det, -0.75 * length)
                n1, n2, nj, nx0 = shoot(psi + dpsi, length + dlen, steps, P1, P2, cc, rho, u, v, D, A, y, dp, dl, w)
                if n1 * n1 + n2 * n2 <= err:
                    psi, length, f1, f2, jac, x0 = psi + dpsi, length + dlen, n1, n2, nj, nx0
                    mu = max(mu / 10.0, 1e-12)
                    accepted = True
                    break
                mu *= 10.0
            if not accepted:
                break
        f1, f2, jac, x0 = shoot(psi, length, steps, P1, P2, cc, rho, u, v, D, A, y, dp, dl, w)
    return 3, x0, (y[0], y[1], y[2]), length, _ZERO, _ZERO


# ------------------------------------------------------------------------------ whole path
# Packed tables (data.py, ModelData.smooth_tables): per point ``pint`` (body, conditional
# coordinate, MovingPathPoint column, its coordinate) and ``pflt`` (location, range); per wrap
# ``wint`` (surface kind, body, quadrant axis, sign, range start, end, wrap object, active) and
# ``wflt`` (R_BW row-major, p_BW, radius or semi-axes). Per path slot, ``sint`` (id, body, wrap
# object or -1, MovingPathPoint column or -1) and ``sflt`` (body-frame location, ground position,
# pull on an inside end point, wrap length). Few arguments keep each call cheap.
_ID, _BODY, _WOB, _MCOL = 0, 1, 2, 3
_LOC, _G, _PULL, _WL = 0, 3, 6, 9


@_jit
def _mul(Rm, x):  # type: ignore[no-untyped-def]
    return (Rm[0, 0] * x[0] + Rm[0, 1] * x[1] + Rm[0, 2] * x[2],
            Rm[1, 0] * x[0] + Rm[1, 1] * x[1] + Rm[1, 2] * x[2],
            Rm[2, 0] * x[0] + Rm[2, 1] * x[1] + Rm[2, 2] * x[2])


@_jit
def _mul_t(Rm, x):  # type: ignore[no-untyped-def]
    return (Rm[0, 0] * x[0] + Rm[1, 0] * x[1] + Rm[2, 0] * x[2],
            Rm[0, 1] * x[0] + Rm[1, 1] * x[1] + Rm[2, 1] * x[2],
            Rm[0, 2] * x[0] + Rm[1, 2] * x[1] + Rm[2, 2] * x[2])


@_jit
def _wmul(wf, x, v):  # type: ignore[no-untyped-def]
    """R_BW v for wrap row ``x`` of ``wf``."""
    return (wf[x, 0] * v[0] + wf[x, 1] * v[1] + wf[x, 2] * v[2],
            wf[x, 3] * v[0] + wf[x, 4] * v[1] + wf[x, 5] * v[2],
            wf[x, 6] * v[0] + wf[x, 7] * v[1] + wf[x, 8] * v[2])


@_jit
def _wmul_t(wf, x, v):  # type: ignore[no-untyped-def]
    return (wf[x, 0] * v[0] + wf[x, 3] * v[1] + wf[x, 6] * v[2],
            wf[x, 1] * v[0] + wf[x, 4] * v[1] + wf[x, 7] * v[2],
            wf[x, 2] * v[0] + wf[x, 5] * v[1] + wf[x, 8] * v[2])


@_inline
def _shift(at, by, cnt, si, sf):  # type: ignore[no-untyped-def]
    """Move slots ``at..cnt-1`` by ``by`` (positive: open a gap; negative: close one)."""
    if by > 0:
        for t in range(cnt - 1, at - 1, -1):
            for c in range(4):
                si[t + by, c] = si[t, c]
            for c in range(10):
                sf[t + by, c] = sf[t, c]
    else:
        for t in range(at, cnt):
            for c in range(4):
                si[t + by, c] = si[t, c]
            for c in range(10):
                sf[t + by, c] = sf[t, c]


@_inline
def _apply(kp, w, R, p, active, m, si, sf, cnt, wint, wflt, wo, gw):  # type: ignore[no-untyped-def]
    """Remove wrap ``w``'s tangent points, then wrap every segment of its range that needs it."""
    cap = si.shape[0]
    s = 0
    while s < cnt:  # remove
        if si[s, _ID] == -1 - 2 * w or si[s, _ID] == -2 - 2 * w:
            _shift(s + 1, np.int64(-1), cnt, si, sf)
            cnt -= 1
        else:
            s += 1
    x = wo + w
    if wint[x, 7] == 0:
        return cnt
    jf, jr = active_range(active, m, wint[x, 4], wint[x, 5])
    if jf < 0:
        return cnt
    start = -1
    end = -1
    for s in range(cnt):
        if si[s, _ID] == jf:
            start = s
        if si[s, _ID] == jr:
            end = s
    b = wint[x, 1]
    kind = wint[x, 0]
    axis = wint[x, 2]
    sign = wint[x, 3]
    wob = wint[x, 6]
    Rb = R[kp, b]
    pb = (p[kp, b, 0], p[kp, b, 1], p[kp, b, 2])
    pw = (wflt[x, 9], wflt[x, 10], wflt[x, 11])
    dims = (wflt[x, 12], wflt[x, 13], wflt[x, 14])
    j = start
    while j < end:
        if si[j, _WOB] >= 0 and si[j, _WOB] == si[j + 1, _WOB] and si[j, _ID] < 0 and (-si[j, _ID]) % 2 == 1:
            j += 1  # the two tangent points of one wrap: its own surface part
            continue
        xa = _mul_t(Rb, (sf[j, _G] - pb[0], sf[j, _G + 1] - pb[1], sf[j, _G + 2] - pb[2]))
        ea = _wmul_t(wflt, x, (xa[0] - pw[0], xa[1] - pw[1], xa[2] - pw[2]))
        xb = _mul_t(Rb, (sf[j + 1, _G] - pb[0], sf[j + 1, _G + 1] - pb[1], sf[j + 1, _G + 2] - pb[2]))
        eb = _wmul_t(wflt, x, (xb[0] - pw[0], xb[1] - pw[1], xb[2] - pw[2]))
        if kind == CYLINDER:
            code, r1, r2, wlj, u1, u2 = cylinder_one(ea, eb, dims[0], axis, sign)
        elif kind == SPHERE:
            code, r1, r2, wlj, u1, u2 = sphere_one(ea, eb, dims[0], axis, sign)
        else:
            code, r1, r2, wlj, u1, u2 = ellipsoid_one(ea, eb, dims[0], dims[1], dims[2], axis, sign, gw)
        if code < 2 or cnt + 2 > cap:
            j += 1
            continue
        _shift(j + 1, np.int64(2), cnt, si, sf)
        for e in range(2):
            rr = r1 if e == 0 else r2
            uu = u1 if e == 0 else u2
            sl = j + 1 + e
            lv = _wmul(wflt, x, rr)
            lv = (lv[0] + pw[0], lv[1] + pw[1], lv[2] + pw[2])
            gv = _mul(Rb, lv)
            pv = _mul(Rb, _wmul(wflt, x, uu))
            si[sl, _ID] = -1 - 2 * w - e
            si[sl, _BODY] = b
            si[sl, _WOB] = wob
            si[sl, _MCOL] = -1
            for c in range(3):
                sf[sl, _LOC + c] = lv[c]
                sf[sl, _G + c] = gv[c] + pb[c]
                sf[sl, _PULL + c] = pv[c]
            sf[sl, _WL] = wlj if e == 1 else 0.0
        cnt += 2
        end += 2
        j += 3
    return cnt


@_no_refcount
def _passes(kp, R, p, active, m, si, sf, cnt, wint, wflt, wo, nw, prev_ids, hist, gw):  # type: ignore[no-untyped-def]
    """Apply the ``nw`` wraps in turn until no tangent point moves by more than PASS_TOLERANCE.

    The passes are a fixed-point iteration ``x -> G(x)`` on the tangent points (each wrap is
    placed between its current neighbours, which include the other wraps' tangent points). While
    the path keeps its structure (the same slots), the next input is extrapolated from the last
    three passes by Anderson acceleration (depth 2): ``x = G(x_k) - dG gamma`` with ``gamma``
    minimising ``|r_k - dR gamma|`` (``r = G(x) - x``). ``hist`` ``(7, cap, 3)`` holds the last
    three inputs and outputs and this pass's input; the fixed point, hence the result, is that of
    the plain iteration (measured on Rajagopal's gastrocnemii: 3 passes on average instead of 6,
    at most 8 instead of 19).
    """
    nh = 0
    for _ in range(MAX_PASSES):
        pc = cnt
        for s in range(cnt):
            prev_ids[s] = si[s, _ID]
            if si[s, _ID] < 0:
                for c in range(3):
                    hist[6, s, c] = sf[s, _G + c]
        for w in range(nw):
            cnt = _apply(kp, w, R, p, active, m, si, sf, cnt, wint, wflt, wo, gw)
        same = pc == cnt
        if same:
            for s in range(cnt):
                if si[s, _ID] != prev_ids[s]:
                    same = False
                    break
        if not same:
            nh = 0
            continue
        worst = 0.0
        for s in range(cnt):
            if si[s, _ID] < 0:
                for c in range(3):
                    worst = max(worst, abs(sf[s, _G + c] - hist[6, s, c]))
        if worst <= PASS_TOLERANCE:
            break
        # history entries e = 0 (newest), 1, 2: inputs in hist[2 e], outputs in hist[2 e + 1]
        for e in range(min(nh, 2), 0, -1):
            for s in range(cnt):
                if si[s, _ID] < 0:
                    for c in range(3):
                        hist[2 * e, s, c] = hist[2 * e - 2, s, c]
                        hist[2 * e + 1, s, c] = hist[2 * e - 1, s, c]
        for s in range(cnt):
            if si[s, _ID] < 0:
                for c in range(3):
                    hist[0, s, c] = hist[6, s, c]
                    hist[1, s, c] = sf[s, _G + c]
        nh = min(nh + 1, 3)
        if nh < 2:
            continue
        # dR_j = r_j - r_{j+1}, dG_j = G_j - G_{j+1}; least squares by its normal equations
        a00 = a01 = a11 = b0 = b1 = 0.0
        for s in range(cnt):
            if si[s, _ID] >= 0:
                continue
            for c in range(3):
                r0 = hist[1, s, c] - hist[0, s, c]
                r1 = hist[3, s, c] - hist[2, s, c]
                d0 = r0 - r1
                a00 += d0 * d0
                b0 += d0 * r0
                if nh > 2:
                    d1 = r1 - (hist[5, s, c] - hist[4, s, c])
                    a01 += d0 * d1
                    a11 += d1 * d1
                    b1 += d1 * r0
        g0 = g1 = 0.0
        det = a00 * a11 - a01 * a01
        if nh > 2 and det > 1e-12 * (a00 * a11 + 1e-300):
            g0 = (b0 * a11 - b1 * a01) / det
            g1 = (a00 * b1 - a01 * b0) / det
        elif a00 > 0.0:
            g0 = b0 / a00
        for s in range(cnt):
            if si[s, _ID] >= 0:
                continue
            for c in range(3):
                v = hist[1, s, c] - g0 * (hist[1, s, c] - hist[3, s, c])
                if nh > 2:
                    v -= g1 * (hist[3, s, c] - hist[5, s, c])
                sf[s, _G + c] = v
    return cnt


@_no_refcount
def smooth_path(k, kp, q, R, p, pint, pflt, mloc, wint, wflt, po, m, wo, nw,  # type: ignore[no-untyped-def]
                si, sf, active, prev_ids, hist, gw):
    """Smooth current path of one muscle in pose ``k``; returns ``(length, number of slots)``.

    Points are rows ``po:po+m`` of the point tables (a MovingPathPoint's body-frame location this
    pose is ``mloc[k, column]``), wraps rows ``wo:wo+nw``; body poses are ``R[kp]``, ``p[kp]``.
    """
    # np.int64, not literal 0: numba would compile each callee again for the literal types (cold start)
    cnt = np.int64(0)
    for i in range(m):
        row = po + i
        c = pint[row, 1]
        act = True
        if c >= 0:
            v = q[k, c]
            act = (v >= pflt[row, 3] - 1e-5) and (v <= pflt[row, 4] + 1e-5)
        active[i] = act
        if not act:
            continue
        b = pint[row, 0]
        mc = pint[row, 2]
        if mc >= 0:
            lv = (mloc[k, mc, 0], mloc[k, mc, 1], mloc[k, mc, 2])
        else:
            lv = (pflt[row, 0], pflt[row, 1], pflt[row, 2])
        gv = _mul(R[kp, b], lv)
        si[cnt, _ID] = i
        si[cnt, _BODY] = b
        si[cnt, _WOB] = -1
        si[cnt, _MCOL] = mc
        for c3 in range(3):
            sf[cnt, _LOC + c3] = lv[c3]
            sf[cnt, _G + c3] = gv[c3] + p[kp, b, c3]
            sf[cnt, _PULL + c3] = 0.0
        sf[cnt, _WL] = 0.0
        cnt += 1
    if nw == 1:
        cnt = _apply(kp, np.int64(0), R, p, active, m, si, sf, cnt, wint, wflt, wo, gw)
    elif nw > 1:
        cnt = _passes(kp, R, p, active, m, si, sf, cnt, wint, wflt, wo, nw, prev_ids, hist, gw)
    total = 0.0
    for s in range(1, cnt):
        if si[s - 1, _WOB] >= 0 and si[s - 1, _WOB] == si[s, _WOB] and si[s - 1, _ID] < 0 and (-si[s - 1, _ID]) % 2 == 1:
            total += sf[s, _WL]
        else:
            total += math.sqrt((sf[s, _G] - sf[s - 1, _G]) ** 2 + (sf[s, _G + 1] - sf[s - 1, _G + 1]) ** 2
                               + (sf[s, _G + 2] - sf[s - 1, _G + 2]) ** 2)
    return total, cnt


# ------------------------------------------------------------------ whole model, all poses
@_jit
def _towards_next(sf, s):  # type: ignore[no-untyped-def]
    """Unit direction from slot ``s`` to slot ``s + 1`` and their distance (the direction is NaN
    when the distance is 0; callers skip such a pair)."""
    dx = sf[s + 1, _G] - sf[s, _G]
    dy = sf[s + 1, _G + 1] - sf[s, _G + 1]
    dz = sf[s + 1, _G + 2] - sf[s, _G + 2]
    dist = math.sqrt(dx * dx + dy * dy + dz * dz)
    return dx / dist, dy / dist, dz / dist, dist


@_no_refcount
def _straight(k, q, Rl, pl, pint, pflt, a0, a1, n_aff, aff_list, Wt, Vo, kd, r, t, sf, si):  # type: ignore[no-untyped-def]
    """Length of a muscle without wraps or moving points in pose ``k``, and its moment arms added to
    ``r[k, t]`` (ground positions kept in ``sf[:, _G:_G+3]``, bodies in ``si[:, _BODY]``)."""
    cnt = 0
    length = 0.0
    for row in range(a0, a1):
        c = pint[row, 1]
        if c >= 0:
            v = q[k, c]
            if not ((v >= pflt[row, 3] - 1e-5) and (v <= pflt[row, 4] + 1e-5)):
                continue
        b = pint[row, 0]
        gv = _mul(Rl[0, b], (pflt[row, 0], pflt[row, 1], pflt[row, 2]))
        si[cnt, _BODY] = b
        for c3 in range(3):
            sf[cnt, _G + c3] = gv[c3] + pl[0, b, c3]
        if cnt > 0:
            length += math.sqrt((sf[cnt, _G] - sf[cnt - 1, _G]) ** 2 + (sf[cnt, _G + 1] - sf[cnt - 1, _G + 1]) ** 2
                                + (sf[cnt, _G + 2] - sf[cnt - 1, _G + 2]) ** 2)
        cnt += 1
    if kd == 0:
        return length
    for s in range(cnt - 1):
        ba, bb = si[s, _BODY], si[s + 1, _BODY]
        if ba == bb:
            continue
        ux, uy, uz, dist = _towards_next(sf, s)
        if not (dist > 0.0):
            continue
        add_tension(r, k, t, ux, uy, uz, sf[s, _G], sf[s, _G + 1], sf[s, _G + 2], sf[s + 1, _G], sf[s + 1, _G + 1],
                    sf[s + 1, _G + 2], ba, bb, n_aff, aff_list, Wt, Vo)
    return length


@_jit
def _block(k0, k1, q, S, dF, axc, C, joints, n_aff, aff_list, mus, p_off, w_off,  # type: ignore[no-untyped-def]
           pint, pflt, mloc, mdloc, wint, wflt, n_bodies, cap, max_points, L, r):
    axes, parent, child, rpf, ppf, rbm, pbm = joints
    kd = C.shape[1]
    nm = mus.shape[0]
    Rl = np.zeros((1, n_bodies, 3, 3))
    for a in range(3):
        Rl[0, 0, a, a] = 1.0
    pl = np.zeros((1, n_bodies, 3))
    Wt = np.zeros((n_bodies, kd, 3))
    Vo = np.zeros((n_bodies, kd, 3))
    rfm = np.empty((3, 3))
    rot = np.empty((3, 3))
    tmp = np.empty((3, 3))
    rgf = np.empty((3, 3))
    rgm = np.empty((3, 3))
    wfm = np.empty((kd, 3))
    vfm = np.empty((kd, 3))
    si = np.empty((cap, 4), dtype=np.int64)
    sf = np.empty((cap, 10))
    prev_ids = np.empty(cap, dtype=np.int64)
    hist = np.empty((7, cap, 3))
    gw = np.empty((WORKSPACE_ROWS, 6))
    active = np.empty(max(max_points, 1), dtype=np.bool_)
    Dm = np.zeros((cap, max(kd, 1), 3))
    for k in range(k0, k1):
        body_frames(k, S, dF, axc, C, axes, parent, child, rpf, ppf, rbm, pbm, n_aff, aff_list, Rl, pl, Wt, Vo,
                    rfm, rot, tmp, rgf, rgm, wfm, vfm)
        for t in range(nm):
            mi = mus[t]
            a0, a1 = p_off[mi], p_off[mi + 1]
            b0, b1 = w_off[mi], w_off[mi + 1]
            fixed = b1 == b0
            for row in range(a0, a1):
                if pint[row, 2] >= 0:
                    fixed = False
            if fixed:
                # no wrap and no moving point: the straight line through the active points, summed here
                # (the same operations as smooth_path and the loop below, without the slot bookkeeping)
                L[k, t] = _straight(k, q, Rl, pl, pint, pflt, a0, a1, n_aff, aff_list, Wt, Vo, kd, r, t, sf, si)
                continue
            length, cnt = smooth_path(k, 0, q, Rl, pl, pint, pflt, mloc, wint, wflt, a0, a1 - a0, b0, b1 - b0,
                                      si, sf, active, prev_ids, hist, gw)
            L[k, t] = length
            if kd == 0:
                continue
            moving = False
            for s in range(cnt):
                if si[s, _MCOL] >= 0:
                    moving = True
            if moving:  # the velocity of a MovingPathPoint within its body, R dloc/dq, per direction
                for s in range(cnt):
                    mc = si[s, _MCOL]
                    for kk in range(kd):
                        for a in range(3):
                            Dm[s, kk, a] = 0.0
                    if mc >= 0:
                        cc = pint[a0 + si[s, _ID], 3]
                        dv = _mul(Rl[0, si[s, _BODY]], (mdloc[k, mc, 0], mdloc[k, mc, 1], mdloc[k, mc, 2]))
                        for kk in range(kd):
                            f = C[k, kk, cc]
                            for a in range(3):
                                Dm[s, kk, a] = dv[a] * f
            for s in range(cnt - 1):
                ba, bb = si[s, _BODY], si[s + 1, _BODY]
                if ba == bb:
                    continue
                i1 = si[s + 1, _ID]
                i0 = si[s, _ID]
                if i1 < 0 and (-i1) % 2 == 1 and (sf[s + 1, _PULL] != 0.0 or sf[s + 1, _PULL + 1] != 0.0
                                                   or sf[s + 1, _PULL + 2] != 0.0):
                    ux, uy, uz = sf[s + 1, _PULL], sf[s + 1, _PULL + 1], sf[s + 1, _PULL + 2]
                elif i0 < 0 and (-i0) % 2 == 0 and (sf[s, _PULL] != 0.0 or sf[s, _PULL + 1] != 0.0
                                                     or sf[s, _PULL + 2] != 0.0):
                    ux, uy, uz = sf[s, _PULL], sf[s, _PULL + 1], sf[s, _PULL + 2]
                else:
                    ux, uy, uz, dist = _towards_next(sf, s)
                    if not (dist > 0.0):
                        continue
                add_tension(r, k, t, ux, uy, uz, sf[s, _G], sf[s, _G + 1], sf[s, _G + 2], sf[s + 1, _G],
                            sf[s + 1, _G + 1], sf[s + 1, _G + 2], ba, bb, n_aff, aff_list, Wt, Vo)
                if moving:
                    for kk in range(kd):
                        r[k, t, kk] += (ux * (Dm[s, kk, 0] - Dm[s + 1, kk, 0]) + uy * (Dm[s, kk, 1] - Dm[s + 1, kk, 1])
                                        + uz * (Dm[s, kk, 2] - Dm[s + 1, kk, 2]))


@njit(cache=True, error_model="numpy", nogil=True)
def smooth_model_kernel(q, S, dF, axc, C, joints, n_aff, aff_list, mus, p_off, w_off,  # type: ignore[no-untyped-def]
                        pint, pflt, mloc, mdloc, wint, wflt, n_bodies, cap, max_points, block, L, r):
    """Smooth-mode lengths ``L`` ``(n, M)`` and moment arms ``r`` ``(n, M, k)`` of muscles ``mus``.

    ``q``, ``S``, ``dF``, ``axc``, ``C``, ``n_aff``, ``aff_list`` as for
    :func:`iliopsoas.mechanics._wrap_kernels.model_kernel`; ``joints`` the tuple of joint arrays
    (``ModelData.joints``); the packed point and wrap tables described above, with
    ``mloc``/``mdloc`` ``(n, n_moving, 3)``, the body-frame location of each MovingPathPoint per
    pose and its derivative along its coordinate; ``cap`` path slots per muscle.
    """
    n = q.shape[0]
    nblk = (n + block - 1) // block
    for bi in range(nblk):
        k0 = bi * block
        _block(k0, min(n, k0 + block), q, S, dF, axc, C, joints, n_aff, aff_list, mus, p_off, w_off,
               pint, pflt, mloc, mdloc, wint, wflt, n_bodies, cap, max_points, L, r)
