"""Compiled (numba) per-pose kernel of the cylinder wrap, used when numba is installed.

It performs the same operations as :func:`iliopsoas.mechanics.wrap.wrap_cylinder` (the NumPy
reference, which stays the specification and is compared with this kernel in the tests), one
pose at a time. The gain is in the tangent-point refinement of multi-wrap paths: up to 100
iterations per pose, which in NumPy cost a dozen array calls each.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_EPS = float(np.finfo(float).eps)
_LINE_EPSILON = 1e-5
_ROUNDOFF = 2e-13
_TANGENCY = math.radians(0.1)


@njit(cache=True, inline="always")
def _dot(ax, ay, az, bx, by, bz):  # type: ignore[no-untyped-def]
    return ax * bx + ay * by + az * bz


@njit(cache=True, inline="always")
def _nz(x, y, z):  # type: ignore[no-untyped-def]
    """NormalizeOrZero: (unit x, y, z, magnitude)."""
    mag = math.sqrt(x * x + y * y + z * z)
    if mag >= _EPS:
        return x / mag, y / mag, z / mag, mag
    return 0.0, 0.0, 0.0, mag


@njit(cache=True, inline="always")
def _cross(ax, ay, az, bx, by, bz):  # type: ignore[no-untyped-def]
    return ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx


@njit(cache=True, inline="always")
def _closest_on_line(px, py, pz, lx, ly, lz, dx, dy, dz):  # type: ignore[no-untyped-def]
    v1x, v1y, v1z, mag = _nz(px - lx, py - ly, pz - lz)
    v2x, v2y, v2z, _ = _nz(dx, dy, dz)
    t = _dot(v1x, v1y, v1z, v2x, v2y, v2z) * mag
    return lx + t * v2x, ly + t * v2y, lz + t * v2z


@njit(cache=True, inline="always")
def _det3(a, b, c):  # type: ignore[no-untyped-def]
    cx, cy, cz = _cross(b[0], b[1], b[2], c[0], c[1], c[2])
    return a[0] * cx + a[1] * cy + a[2] * cz


@njit(cache=True)
def _intersect_lines(p1, p2, p3, p4):  # type: ignore[no-untyped-def]
    """(pInt1, s, pInt2, t, ok) of WrapMath::IntersectLines; tuples of 3."""
    v1x, v1y, v1z, mag1 = _nz(p2[0] - p1[0], p2[1] - p1[1], p2[2] - p1[2])
    v2x, v2y, v2z, mag2 = _nz(p4[0] - p3[0], p4[1] - p3[1], p4[2] - p3[2])
    cx, cy, cz = _cross(v1x, v1y, v1z, v2x, v2y, v2z)
    denom = cx * cx + cy * cy + cz * cz
    nan = math.nan
    if abs(denom) <= _ROUNDOFF:
        return (nan, nan, nan), nan, (nan, nan, nan), nan, False
    row0 = (p3[0] - p1[0], p3[1] - p1[1], p3[2] - p1[2])
    cr = (cx, cy, cz)
    t = _det3(row0, (v1x, v1y, v1z), cr) / denom
    s = _det3(row0, (v2x, v2y, v2z), cr) / denom
    pint2 = (p3[0] + t * v2x, p3[1] + t * v2y, p3[2] + t * v2z)
    pint1 = (p1[0] + s * v1x, p1[1] + s * v1y, p1[2] + s * v1z)
    return pint1, s / mag1, pint2, t / mag2, True


@njit(cache=True, inline="always")
def _sign(x):  # type: ignore[no-untyped-def]
    return 1 if x >= 0.0 else -1


@njit(cache=True)
def _seg_plane(p1, p2, n, d):  # type: ignore[no-untyped-def]
    vx, vy, vz = p2[0] - p1[0], p2[1] - p1[1], p2[2] - p1[2]
    dp = _dot(vx, vy, vz, n[0], n[1], n[2])
    if abs(dp) < _LINE_EPSILON:
        return False, p1
    t = (-d - _dot(n[0], n[1], n[2], p1[0], p1[1], p1[2])) / dp
    if t < -_LINE_EPSILON or t > 1.0 + _LINE_EPSILON:
        return False, p1
    return True, (p1[0] + t * vx, p1[1] + t * vy, p1[2] + t * vz)


@njit(cache=True)
def _spiral_length(r1, r2, long_wrap, R):  # type: ignore[no-untyped-def]
    axial = r2[2] - r1[2]
    cz = r1[0] * r2[1] - r1[1] * r2[0]
    theta = math.atan2(cz, r1[0] * r2[0] + r1[1] * r2[1])
    if long_wrap:
        theta = 2.0 * math.pi - theta
    x = R * theta
    return math.sqrt(x * x + axial * axial), theta, axial


@njit(cache=True)
def _adjust(pt, r, w):  # type: ignore[no-untyped-def]
    prx, pry, prz, _ = _nz(r[0] - pt[0], r[1] - pt[1], r[2] - pt[2])
    rwx, rwy, rwz, _ = _nz(w[0] - r[0], w[1] - r[1], w[2] - r[2])
    alpha = math.acos(prz) if -1.0 <= prz <= 1.0 else math.nan
    omega = math.acos(rwz) if -1.0 <= rwz <= 1.0 else math.nan
    if not (abs(alpha - omega) > _TANGENCY):
        return r, False
    p1a = _closest_on_line(pt[0], pt[1], pt[2], r[0], r[1], r[2], 0.0, 0.0, 1.0)
    w1a = _closest_on_line(w[0], w[1], w[2], r[0], r[1], r[2], 0.0, 0.0, 1.0)
    _, _, inter, _, _ = _intersect_lines(pt, w, p1a, w1a)
    return (
        r[0] + 1.5 * (inter[0] - r[0]),
        r[1] + 1.5 * (inter[1] - r[1]),
        r[2] + 1.5 * (inter[2] - r[2]),
    ), True


@njit(cache=True)
def _rotz(v, ang):  # type: ignore[no-untyped-def]
    c, s = math.cos(ang), math.sin(ang)
    return (c * v[0] - s * v[1], s * v[0] + c * v[1], v[2])


@njit(cache=True)
def cylinder_kernel(p1a, p2a, R, length, wrap_axis, wrap_sign, single, code, r1o, r2o, wlo):  # type: ignore[no-untyped-def]
    n = p1a.shape[0]
    r2_ = R * R
    for k in range(n):
        p1 = (p1a[k, 0], p1a[k, 1], p1a[k, 2])
        p2 = (p2a[k, 0], p2a[k, 1], p2a[k, 2])
        wlo[k] = 0.0
        if p1[0] ** 2 + p1[1] ** 2 < r2_ or p2[0] ** 2 + p2[1] ** 2 < r2_:
            code[k] = 1
            continue
        near12, t12, near00, _, _ = _intersect_lines(p1, p2, (0.0, 0.0, -0.5 * length), (0.0, 0.0, 0.5 * length))
        ddx, ddy, ddz = near12[0] - near00[0], near12[1] - near00[1], near12[2] - near00[2]
        hit = (ddx * ddx + ddy * ddy + ddz * ddz < r2_) and (t12 > 0.0) and (t12 < 1.0)
        status = 2
        if wrap_sign == 0:
            if hit:
                status = 3
            else:
                code[k] = 0
                continue
        p11 = _closest_on_line(p1[0], p1[1], p1[2], 0.0, 0.0, -1.0, 0.0, 0.0, 1.0)
        p22 = _closest_on_line(p2[0], p2[1], p2[2], 0.0, 0.0, -1.0, 0.0, 0.0, 1.0)
        # candidates
        vx, vy, vz, d1 = _nz(p1[0] - p11[0], p1[1] - p11[1], p1[2] - p11[2])
        dist = R * (R / d1)
        pp = (p11[0] + dist * vx, p11[1] + dist * vy, p11[2] + dist * vz)
        h = math.sqrt(r2_ - dist * dist) if r2_ - dist * dist >= 0.0 else math.nan
        ux, uy, uz = _cross(0.0, 0.0, 1.0, vx, vy, vz)
        r1a = (pp[0] + h * ux, pp[1] + h * uy, pp[2] + h * uz)
        r1b = (pp[0] - h * ux, pp[1] - h * uy, pp[2] - h * uz)
        vx, vy, vz, d2 = _nz(p2[0] - p22[0], p2[1] - p22[1], p2[2] - p22[2])
        dist = R * (R / d2)
        pp = (p22[0] + dist * vx, p22[1] + dist * vy, p22[2] + dist * vz)
        h = math.sqrt(r2_ - dist * dist) if r2_ - dist * dist >= 0.0 else math.nan
        ux, uy, uz = _cross(0.0, 0.0, 1.0, vx, vy, vz)
        r2a = (pp[0] + h * ux, pp[1] + h * uy, pp[2] + h * uz)
        r2b = (pp[0] - h * ux, pp[1] - h * uy, pp[2] - h * uz)
        far_side = False
        long_wrap = False
        if wrap_sign != 0:
            ax = wrap_axis
            sg = wrap_sign
            s1, s2 = _sign(p1[ax]), _sign(p2[ax])
            if s1 == sg or s2 == sg:
                if hit:
                    status = 3
                elif s1 != s2 and _sign(near12[ax]) != sg:
                    status = 2
                else:
                    code[k] = 0
                    continue
            m1a = (r1a[0] - p11[0], r1a[1] - p11[1], r1a[2] - p11[2])
            m1b = (r1b[0] - p11[0], r1b[1] - p11[1], r1b[2] - p11[2])
            m2a = (r2a[0] - p22[0], r2a[1] - p22[1], r2a[2] - p22[2])
            m2b = (r2b[0] - p22[0], r2b[1] - p22[1], r2b[2] - p22[2])
            ca = _dot(m1a[0], m1a[1], m1a[2], m2b[0], m2b[1], m2b[2]) / (
                math.sqrt(_dot(m1a[0], m1a[1], m1a[2], m1a[0], m1a[1], m1a[2]))
                * math.sqrt(_dot(m2b[0], m2b[1], m2b[2], m2b[0], m2b[1], m2b[2]))
            )
            cb = _dot(m1b[0], m1b[1], m1b[2], m2a[0], m2a[1], m2a[2]) / (
                math.sqrt(_dot(m1b[0], m1b[1], m1b[2], m1b[0], m1b[1], m1b[2]))
                * math.sqrt(_dot(m2a[0], m2a[1], m2a[2], m2a[0], m2a[1], m2a[2]))
            )
            alpha = math.acos(ca) if -1.0 <= ca <= 1.0 else math.nan
            beta = math.acos(cb) if -1.0 <= cb <= 1.0 else math.nan
            agb = alpha > beta
            s1a, s1b = _sign(r1a[ax]) == sg, _sign(r1b[ax]) == sg
            s2a, s2b = _sign(r2a[ax]) == sg, _sign(r2b[ax]) == sg
            pick_a = False
            if s1a and s1b:
                if s2a:
                    far_side = not agb
                else:
                    pick_a = True
                    far_side = agb
            elif s1a and not s1b:
                pick_a = True
                far_side = agb
            elif (not s1a) and s1b:
                far_side = not agb
            else:
                if s2a:
                    far_side = not agb
                elif s2b:
                    pick_a = True
                    far_side = agb
                else:
                    pick_a = agb
                    far_side = True
            r1 = r1a if pick_a else r1b
            r2 = r2b if pick_a else r2a
            smx = (r1[0] - p1[0]) + (r2[0] - p2[0])
            smy = (r1[1] - p1[1]) + (r2[1] - p2[1])
            smz = (r1[2] - p1[2]) + (r2[2] - p2[2])
            srx = (r1[0] - p11[0]) + (r2[0] - p22[0])
            sry = (r1[1] - p11[1]) + (r2[1] - p22[1])
            srz = (r1[2] - p11[2]) + (r2[2] - p22[2])
            long_wrap = _dot(srx, sry, srz, smx, smy, smz) < 0.0
        else:
            n1a = _nz(r1a[0] - p11[0], r1a[1] - p11[1], r1a[2] - p11[2])
            n1b = _nz(r1b[0] - p11[0], r1b[1] - p11[1], r1b[2] - p11[2])
            n2a = _nz(r2a[0] - p22[0], r2a[1] - p22[1], r2a[2] - p22[2])
            n2b = _nz(r2b[0] - p22[0], r2b[1] - p22[1], r2b[2] - p22[2])
            dd1 = _dot(n1a[0], n1a[1], n1a[2], n2a[0], n2a[1], n2a[2])
            dd2 = _dot(n1a[0], n1a[1], n1a[2], n2b[0], n2b[1], n2b[2])
            dd3 = _dot(n1b[0], n1b[1], n1b[2], n2a[0], n2a[1], n2a[2])
            dd4 = _dot(n1b[0], n1b[1], n1b[2], n2b[0], n2b[1], n2b[2])
            if dd1 > dd2 and dd1 > dd3 and dd1 > dd4:
                r1, r2 = r1a, r2a
            elif dd2 > dd3 and dd2 > dd4:
                r1, r2 = r1a, r2b
            elif dd3 > dd4:
                r1, r2 = r1b, r2a
            else:
                r1, r2 = r1b, r2b
        t = d1 / (d1 + d2)
        mpt = (p1[0] + t * (p2[0] - p1[0]), p1[1] + t * (p2[1] - p1[1]), p1[2] + t * (p2[2] - p1[2]))
        axispt = _closest_on_line(mpt[0], mpt[1], mpt[2], 0.0, 0.0, -1.0, 0.0, 0.0, 1.0)
        l1x, l1y, l1z, _ = _nz(p1[0] - axispt[0], p1[1] - axispt[1], p1[2] - axispt[2])
        l2x, l2y, l2z, _ = _nz(p2[0] - axispt[0], p2[1] - axispt[1], p2[2] - axispt[2])
        cx, cy, cz = _cross(l1x, l1y, l1z, l2x, l2y, l2z)
        cm = math.sqrt(cx * cx + cy * cy + cz * cz)
        pnx, pny, pnz, _ = _nz(cx / cm, cy / cm, cz / cm)
        a1 = _cross(0.0, 0.0, 1.0, pnx, pny, pnz)
        v1x, v1y, v1z, _ = _nz(a1[0], a1[1], a1[2])
        a2 = _cross(pnx, pny, pnz, 0.0, 0.0, 1.0)
        v2x, v2y, v2z, _ = _nz(a2[0], a2[1], a2[2])
        apex1 = (axispt[0] + R * v1x, axispt[1] + R * v1y, axispt[2] + R * v1z)
        apex2 = (axispt[0] + R * v2x, axispt[1] + R * v2y, axispt[2] + R * v2z)
        e1 = (mpt[0] - apex1[0]) ** 2 + (mpt[1] - apex1[1]) ** 2 + (mpt[2] - apex1[2]) ** 2
        e2 = (mpt[0] - apex2[0]) ** 2 + (mpt[1] - apex2[1]) ** 2 + (mpt[2] - apex2[2]) ** 2
        first = e1 < e2
        pick1 = (not first) if far_side else first
        apex = apex1 if pick1 else apex2
        ux, uy, uz, _ = _nz(p1[0] - apex[0], p1[1] - apex[1], p1[2] - apex[2])
        wx, wy, wz, _ = _nz(p2[0] - apex[0], p2[1] - apex[1], p2[2] - apex[2])
        cx, cy, cz = _cross(ux, uy, uz, wx, wy, wz)
        cm = math.sqrt(cx * cx + cy * cy + cz * cz)
        pn = (cx / cm, cy / cm, cz / cm)
        d = -_dot(p1[0], p1[1], p1[2], pn[0], pn[1], pn[2])
        ok1, r1p = _seg_plane((r1[0], r1[1], r1[2] - 10.0), (r1[0], r1[1], r1[2] + 10.0), pn, d)
        ok2, r2p = _seg_plane((r2[0], r2[1], r2[2] - 10.0), (r2[0], r2[1], r2[2] + 10.0), pn, d)
        base = _dot(p11[0] - p22[0], p11[1] - p22[1], p11[2] - p22[2], p11[0] - p22[0], p11[1] - p22[1], p11[2] - p22[2])
        if ok1:
            q1 = _closest_on_line(r1p[0], r1p[1], r1p[2], p11[0], p11[1], p11[2], p22[0], p22[1], p22[2])
            e = (q1[0] - p22[0]) ** 2 + (q1[1] - p22[1]) ** 2 + (q1[2] - p22[2]) ** 2
            if e < base:
                r1 = r1p
        if ok2:
            q2 = _closest_on_line(r2p[0], r2p[1], r2p[2], p11[0], p11[1], p11[2], p22[0], p22[1], p22[2])
            e = (q2[0] - p11[0]) ** 2 + (q2[1] - p11[1]) ** 2 + (q2[2] - p11[2]) ** 2
            if e < base:
                r2 = r2p
        half = length / 2.0
        if (r1[2] < -half or r1[2] > half) and (r2[2] < -half or r2[2] > half):
            code[k] = 0
            continue
        wl, theta, axial = _spiral_length(r1, r2, long_wrap, R)
        if not single:
            sense = -1.0 if long_wrap else 1.0
            for _ in range(100):
                nseg = int(wl / 0.002)
                if nseg < 1:
                    nseg = 1
                if nseg < 2:
                    break
                tt = 1.0 / nseg
                w1 = _rotz(r1, sense * tt * theta)
                w1 = (w1[0], w1[1], w1[2] + tt * axial)
                new1, adj1 = _adjust(p1, r1, w1)
                w2 = _rotz(new1, sense * (1.0 - tt) * theta)
                w2 = (w2[0], w2[1], w2[2] + (1.0 - tt) * axial)
                new2, adj2 = _adjust(p2, r2, w2)
                r1, r2 = new1, new2
                if not (adj1 or adj2):
                    break
                wl, theta, axial = _spiral_length(r1, r2, long_wrap, R)
        code[k] = status
        r1o[k, 0], r1o[k, 1], r1o[k, 2] = r1[0], r1[1], r1[2]
        r2o[k, 0], r2o[k, 1], r2o[k, 2] = r2[0], r2[1], r2[2]
        wlo[k] = wl
