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

from iliopsoas.mechanics._kinematics_kernels import active_range, add_tension, rotate_frame

_EPS = float(np.finfo(float).eps)
_LINE_EPSILON = 1e-5
_ROUNDOFF = 2e-13
_TANGENCY = math.radians(0.1)
# For kernels that allocate nothing: compiled without reference counting, because passing some
# twenty arrays per call otherwise costs more than the arithmetic of a short path.
_no_refcount = njit(cache=True, error_model="numpy", _nrt=False)  # type: ignore[call-overload]


@njit(cache=True, error_model="numpy")
def _dot(ax, ay, az, bx, by, bz):  # type: ignore[no-untyped-def]
    return ax * bx + ay * by + az * bz


@njit(cache=True, error_model="numpy")
def _nz(x, y, z):  # type: ignore[no-untyped-def]
    """NormalizeOrZero: (unit x, y, z, magnitude)."""
    mag = math.sqrt(x * x + y * y + z * z)
    if mag >= _EPS:
        return x / mag, y / mag, z / mag, mag
    return 0.0, 0.0, 0.0, mag


@njit(cache=True, error_model="numpy")
def _cross(ax, ay, az, bx, by, bz):  # type: ignore[no-untyped-def]
    return ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx


@njit(cache=True, error_model="numpy")
def _closest_on_line(px, py, pz, lx, ly, lz, dx, dy, dz):  # type: ignore[no-untyped-def]
    v1x, v1y, v1z, mag = _nz(px - lx, py - ly, pz - lz)
    v2x, v2y, v2z, _ = _nz(dx, dy, dz)
    t = _dot(v1x, v1y, v1z, v2x, v2y, v2z) * mag
    return lx + t * v2x, ly + t * v2y, lz + t * v2z


@njit(cache=True, error_model="numpy")
def _det3(a, b, c):  # type: ignore[no-untyped-def]
    cx, cy, cz = _cross(b[0], b[1], b[2], c[0], c[1], c[2])
    return a[0] * cx + a[1] * cy + a[2] * cz


@njit(cache=True, error_model="numpy")
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


@njit(cache=True, error_model="numpy")
def _sign(x):  # type: ignore[no-untyped-def]
    return 1 if x >= 0.0 else -1


@njit(cache=True, error_model="numpy")
def _seg_plane(p1, p2, n, d):  # type: ignore[no-untyped-def]
    vx, vy, vz = p2[0] - p1[0], p2[1] - p1[1], p2[2] - p1[2]
    dp = _dot(vx, vy, vz, n[0], n[1], n[2])
    if abs(dp) < _LINE_EPSILON:
        return False, p1
    t = (-d - _dot(n[0], n[1], n[2], p1[0], p1[1], p1[2])) / dp
    if t < -_LINE_EPSILON or t > 1.0 + _LINE_EPSILON:
        return False, p1
    return True, (p1[0] + t * vx, p1[1] + t * vy, p1[2] + t * vz)


@njit(cache=True, error_model="numpy")
def _spiral_length(r1, r2, long_wrap, R):  # type: ignore[no-untyped-def]
    axial = r2[2] - r1[2]
    cz = r1[0] * r2[1] - r1[1] * r2[0]
    theta = math.atan2(cz, r1[0] * r2[0] + r1[1] * r2[1])
    if long_wrap:
        theta = 2.0 * math.pi - theta
    x = R * theta
    return math.sqrt(x * x + axial * axial), theta, axial


@njit(cache=True, error_model="numpy")
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


# Upper bound used to skip the two arc cosines of the tangency test: |acos a - acos b| >= |a - b|
# (the derivative of acos is at least 1 in magnitude), so a difference of cosines above this is
# an angle difference above _TANGENCY for certain; the margin covers acos's round-off.
_TANGENCY_SURE = _TANGENCY * (1.0 + 1e-9)


@njit(cache=True, error_model="numpy")
def _adjust_z(pt, r, w):  # type: ignore[no-untyped-def]
    """:func:`_adjust` for the case the refinement meets: the result has ``r``'s x and y and a new z.

    The closest points on the axis through ``r`` share ``r``'s x and y, so the intersection and the
    update reduce to their z components; the operations kept are those of :func:`_adjust` on the
    components that are not exact zeros, so the result is the same to the last bit (for an ``r``
    whose x and y are not -0.0, which :func:`cyl_one` never constructs; see :func:`_refine`). Anything
    degenerate (a zero-length segment, parallel lines, a non-finite value) goes to :func:`_adjust`.
    """
    dx, dy, dz = r[0] - pt[0], r[1] - pt[1], r[2] - pt[2]
    mag_p = math.sqrt(dx * dx + dy * dy + dz * dz)
    ex, ey, ez = w[0] - r[0], w[1] - r[1], w[2] - r[2]
    mag_w = math.sqrt(ex * ex + ey * ey + ez * ez)
    if not (mag_p >= _EPS and mag_w >= _EPS):
        return _adjust(pt, r, w)
    prz = dz / mag_p
    rwz = ez / mag_w
    if not (-1.0 <= prz <= 1.0 and -1.0 <= rwz <= 1.0):
        return r, False  # an arc cosine of NaN: no adjustment, as in _adjust
    if not (abs(prz - rwz) > _TANGENCY_SURE):
        if not (abs(math.acos(prz) - math.acos(rwz)) > _TANGENCY):
            return r, False
    # closest points on the axis through r: (r0, r1, r2 + t) with t = v1z * |v1|
    p1az = r[2] + (-prz) * mag_p
    w1az = r[2] + rwz * mag_w
    # IntersectLines(pt, w, p1a, w1a): v2 = (0, 0, +-1)
    fx, fy, fz = w[0] - pt[0], w[1] - pt[1], w[2] - pt[2]
    mag1 = math.sqrt(fx * fx + fy * fy + fz * fz)
    gz = w1az - p1az
    mag2 = math.sqrt(gz * gz)
    if not (mag1 >= _EPS and mag2 >= _EPS):
        return _adjust(pt, r, w)
    v1x, v1y, v1z = fx / mag1, fy / mag1, fz / mag1
    v2z = gz / mag2
    cx, cy, cz = _cross(v1x, v1y, v1z, 0.0, 0.0, v2z)
    denom = cx * cx + cy * cy + cz * cz
    if not (abs(denom) > _ROUNDOFF):
        return _adjust(pt, r, w)
    bx, by, bz = _cross(v1x, v1y, v1z, cx, cy, cz)
    t = ((r[0] - pt[0]) * bx + (r[1] - pt[1]) * by + (p1az - pt[2]) * bz) / denom
    inter_z = p1az + t * v2z
    if not math.isfinite(inter_z):
        return _adjust(pt, r, w)
    return (r[0] + 0.0, r[1] + 0.0, r[2] + 1.5 * (inter_z - r[2])), True


@njit(cache=True, error_model="numpy")
def _step_z(ptz, rz, wz, dx, dy, dxy, exy, fx, fy, fxy):  # type: ignore[no-untyped-def]
    """:func:`_adjust_z` once the parts that stay fixed during the refinement are known: returns
    ``(new z, adjusted, done)``; ``done`` False means "ask :func:`_adjust_z`" (degenerate input).

    ``dx, dy`` = ``r - pt`` and ``fx, fy`` = ``w - pt`` in x and y, ``dxy``, ``exy``, ``fxy`` the sums of
    the squares of x and y of ``r - pt``, ``w - r``, ``w - pt`` (the first two terms of each squared
    norm, summed in the same order). The direction of the axis line, ``v2 = (0, 0, gz / |gz|)``, is
    exactly +1 or -1 (``sqrt(gz * gz)`` rounds to ``|gz|`` in binary floating point barring
    over- and underflow, which go to :func:`_adjust_z`), and with ``s = v2z`` the cross products of
    :func:`_adjust_z` are exact sign changes: ``c = s (v1y, -v1x, 0)``, ``denom = v1y^2 + v1x^2``,
    ``b = s (v1z v1x, v1z v1y, -denom)``; the numerator of ``t`` is then ``s`` times
    ``dx (v1z v1x) + dy (v1z v1y) - (p1az - ptz) denom`` (rounding is symmetric in sign) and
    ``t * v2z`` is that over ``denom``. So the result equals :func:`_adjust_z`'s (a zero may differ
    in sign, which nothing downstream reads), without the square root and division of ``|gz|`` and
    ``gz / |gz|`` on the chain of dependent operations.
    """
    dz = rz - ptz
    mag_p = math.sqrt(dxy + dz * dz)
    ez = wz - rz
    mag_w = math.sqrt(exy + ez * ez)
    fz = wz - ptz
    mag1 = math.sqrt(fxy + fz * fz)
    if not (mag_p >= _EPS and mag_w >= _EPS and mag1 >= _EPS):
        return rz, False, False
    prz = dz / mag_p
    rwz = ez / mag_w
    if not (-1.0 <= prz <= 1.0 and -1.0 <= rwz <= 1.0):
        return rz, False, True
    if not (abs(prz - rwz) > _TANGENCY_SURE):
        if not (abs(math.acos(prz) - math.acos(rwz)) > _TANGENCY):
            return rz, False, True
    p1az = rz + (-prz) * mag_p
    gz = (rz + rwz * mag_w) - p1az
    if not (abs(gz) >= _EPS and abs(gz) <= 1e150):
        return rz, False, False
    v1x, v1y, v1z = fx / mag1, fy / mag1, fz / mag1
    denom = v1y * v1y + v1x * v1x
    if not (denom > _ROUNDOFF):
        return rz, False, False
    num = (dx * (v1z * v1x) + dy * (v1z * v1y)) - (p1az - ptz) * denom
    inter_z = p1az + num / denom
    if not math.isfinite(inter_z):
        return rz, False, False
    return rz + 1.5 * (inter_z - rz), True, True


@njit(cache=True, error_model="numpy")
def _refine(p1, p2, r1, r2, wl, theta, axial, long_wrap, R):  # type: ignore[no-untyped-def]
    """WrapCylinder's iterative tangent-point refinement for paths with several wraps.

    Step for step the loop of the reference (:func:`wrap.wrap_cylinder`): the first and last
    points of a spiral divided into 2 mm segments are tested for tangency and the tangent
    points moved along the axis until both are tangent within 0.1 degree (at most 100 steps).
    Only the z of the tangent points changes, so the spiral angle, the rotated x, y of the
    test points and the x, y parts of the distances stay the same while the number of segments
    does; they are computed again only when it changes (or when a degenerate step, done by
    :func:`_adjust_z`, moves x or y). Each step is :func:`_step_z` (the value of :func:`_adjust_z`).

    The result is the old loop's (``tests/test_wrap_refine.py``; equal values, a zero's sign aside)
    provided no x or y of ``r1``, ``r2`` is -0.0: the old loop turned such a zero into +0.0 at its
    first step and recomputed the spiral angle, whose sign then flips when it is exactly pi. The
    tangent points :func:`cyl_one` passes never hold a -0.0 (each coordinate is a sum whose first
    term is not -0.0).
    """
    sense = -1.0 if long_wrap else 1.0
    seg = -1
    w1x = w1y = w2x = w2y = 0.0
    dx1 = dy1 = d1 = e1 = fx1 = fy1 = f1 = 0.0
    dx2 = dy2 = d2 = e2 = fx2 = fy2 = f2 = 0.0
    x = R * theta
    xx = x * x
    r1x, r1y, r1z = r1
    r2x, r2y, r2z = r2
    for _ in range(100):
        nseg = int(wl / 0.002)
        if nseg < 2:
            break
        tt = 1.0 / nseg
        if nseg != seg:
            seg = nseg
            a1 = _rotz((r1x, r1y, r1z), sense * tt * theta)
            w1x, w1y = a1[0], a1[1]
            a2 = _rotz((r1x + 0.0, r1y + 0.0, r1z), sense * (1.0 - tt) * theta)
            w2x, w2y = a2[0], a2[1]
            dx1, dy1 = r1x - p1[0], r1y - p1[1]
            d1 = dx1 * dx1 + dy1 * dy1
            ex, ey = w1x - r1x, w1y - r1y
            e1 = ex * ex + ey * ey
            fx1, fy1 = w1x - p1[0], w1y - p1[1]
            f1 = fx1 * fx1 + fy1 * fy1
            dx2, dy2 = r2x - p2[0], r2y - p2[1]
            d2 = dx2 * dx2 + dy2 * dy2
            ex, ey = w2x - r2x, w2y - r2y
            e2 = ex * ex + ey * ey
            fx2, fy2 = w2x - p2[0], w2y - p2[1]
            f2 = fx2 * fx2 + fy2 * fy2
        moved = False
        w1z = r1z + tt * axial
        z1, adj1, done = _step_z(p1[2], r1z, w1z, dx1, dy1, d1, e1, fx1, fy1, f1)
        if done:  # as _adjust_z: an adjusted point's x and y gain + 0.0
            n1x, n1y = (r1x + 0.0, r1y + 0.0) if adj1 else (r1x, r1y)
        else:
            new1, adj1 = _adjust_z(p1, (r1x, r1y, r1z), (w1x, w1y, w1z))
            n1x, n1y, z1 = new1
            moved = not (n1x == r1x and n1y == r1y)
        w2z = z1 + (1.0 - tt) * axial
        z2, adj2, done = _step_z(p2[2], r2z, w2z, dx2, dy2, d2, e2, fx2, fy2, f2)
        if done:  # as _adjust_z: an adjusted point's x and y gain + 0.0
            n2x, n2y = (r2x + 0.0, r2y + 0.0) if adj2 else (r2x, r2y)
        else:
            new2, adj2 = _adjust_z(p2, (r2x, r2y, r2z), (w2x, w2y, w2z))
            n2x, n2y, z2 = new2
            moved = moved or not (n2x == r2x and n2y == r2y)
        r1x, r1y, r1z = n1x, n1y, z1
        r2x, r2y, r2z = n2x, n2y, z2
        if not (adj1 or adj2):
            break
        if moved:  # only a degenerate step changes x or y: start again from the full formulas
            wl, theta, axial = _spiral_length((r1x, r1y, r1z), (r2x, r2y, r2z), long_wrap, R)
            x = R * theta
            xx = x * x
            seg = -1
            continue
        axial = r2z - r1z
        wl = math.sqrt(xx + axial * axial)
    return (r1x, r1y, r1z), (r2x, r2y, r2z), wl


@njit(cache=True, error_model="numpy")
def _rotz(v, ang):  # type: ignore[no-untyped-def]
    c, s = math.cos(ang), math.sin(ang)
    return (c * v[0] - s * v[1], s * v[0] + c * v[1], v[2])


@njit(cache=True, error_model="numpy")
def _tangent_candidates(p, pc, R):  # type: ignore[no-untyped-def]
    """The two points where lines from ``p`` touch the cylinder in the plane normal to its axis
    through ``p`` (``pc``: the closest point of the axis), and the distance of ``p`` from the axis."""
    vx, vy, vz, d = _nz(p[0] - pc[0], p[1] - pc[1], p[2] - pc[2])
    dist = R * (R / d)
    pp = (pc[0] + dist * vx, pc[1] + dist * vy, pc[2] + dist * vz)
    h = math.sqrt(R * R - dist * dist) if R * R - dist * dist >= 0.0 else math.nan
    ux, uy, uz = _cross(0.0, 0.0, 1.0, vx, vy, vz)
    return (pp[0] + h * ux, pp[1] + h * uy, pp[2] + h * uz), (pp[0] - h * ux, pp[1] - h * uy, pp[2] - h * uz), d


@njit(cache=True, error_model="numpy")
def cylinder_kernel(p1a, p2a, R, length, wrap_axis, wrap_sign, single, code, r1o, r2o, wlo):  # type: ignore[no-untyped-def]
    for k in range(p1a.shape[0]):
        c, r1, r2, wl = cyl_one(
            (p1a[k, 0], p1a[k, 1], p1a[k, 2]), (p2a[k, 0], p2a[k, 1], p2a[k, 2]),
            R, length, wrap_axis, wrap_sign, single,
        )
        code[k] = c
        r1o[k, 0], r1o[k, 1], r1o[k, 2] = r1[0], r1[1], r1[2]
        r2o[k, 0], r2o[k, 1], r2o[k, 2] = r2[0], r2[1], r2[2]
        wlo[k] = wl


@njit(cache=True, error_model="numpy")
def cyl_one(p1, p2, R, length, wrap_axis, wrap_sign, single):  # type: ignore[no-untyped-def]
    """One segment: (status, r1, r2, wrap length), as WrapCylinder::wrapLine."""
    zero = (0.0, 0.0, 0.0)
    r2_ = R * R
    if p1[0] ** 2 + p1[1] ** 2 < r2_ or p2[0] ** 2 + p2[1] ** 2 < r2_:
        return 1, zero, zero, 0.0
    near12, t12, near00, _, _ = _intersect_lines(p1, p2, (0.0, 0.0, -0.5 * length), (0.0, 0.0, 0.5 * length))
    ddx, ddy, ddz = near12[0] - near00[0], near12[1] - near00[1], near12[2] - near00[2]
    hit = (ddx * ddx + ddy * ddy + ddz * ddz < r2_) and (t12 > 0.0) and (t12 < 1.0)
    status = 2
    if wrap_sign == 0:
        if hit:
            status = 3
        else:
            return 0, zero, zero, 0.0
    else:  # the quadrant decides before any tangent point is constructed
        s1, s2 = _sign(p1[wrap_axis]), _sign(p2[wrap_axis])
        if s1 == wrap_sign or s2 == wrap_sign:
            if hit:
                status = 3
            elif s1 != s2 and _sign(near12[wrap_axis]) != wrap_sign:
                status = 2
            else:
                return 0, zero, zero, 0.0
    p11 = _closest_on_line(p1[0], p1[1], p1[2], 0.0, 0.0, -1.0, 0.0, 0.0, 1.0)
    p22 = _closest_on_line(p2[0], p2[1], p2[2], 0.0, 0.0, -1.0, 0.0, 0.0, 1.0)
    r1a, r1b, d1 = _tangent_candidates(p1, p11, R)
    r2a, r2b, d2 = _tangent_candidates(p2, p22, R)
    far_side = False
    long_wrap = False
    if wrap_sign != 0:
        ax = wrap_axis
        sg = wrap_sign
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
        return 0, zero, zero, 0.0
    wl, theta, axial = _spiral_length(r1, r2, long_wrap, R)
    if not single:
        r1, r2, wl = _refine(p1, p2, r1, r2, wl, theta, axial, long_wrap, R)
    return status, r1, r2, wl


# ------------------------------------------------------------------ whole path, one muscle
@njit(cache=True, error_model="numpy")
def _mul(Rm, x):  # type: ignore[no-untyped-def]
    return (
        Rm[0, 0] * x[0] + Rm[0, 1] * x[1] + Rm[0, 2] * x[2],
        Rm[1, 0] * x[0] + Rm[1, 1] * x[1] + Rm[1, 2] * x[2],
        Rm[2, 0] * x[0] + Rm[2, 1] * x[1] + Rm[2, 2] * x[2],
    )


@njit(cache=True, error_model="numpy")
def _mul_t(Rm, x):  # type: ignore[no-untyped-def]
    return (
        Rm[0, 0] * x[0] + Rm[1, 0] * x[1] + Rm[2, 0] * x[2],
        Rm[0, 1] * x[0] + Rm[1, 1] * x[1] + Rm[2, 1] * x[2],
        Rm[0, 2] * x[0] + Rm[1, 2] * x[1] + Rm[2, 2] * x[2],
    )


@_no_refcount
def _remove(w, ids, body, loc, g, wl, cnt):  # type: ignore[no-untyped-def]
    for s in range(cnt):
        if ids[s] == -1 - 2 * w:
            for t in range(s, cnt - 2):
                ids[t] = ids[t + 2]
                body[t] = body[t + 2]
                wl[t] = wl[t + 2]
                for c in range(3):
                    loc[t, c] = loc[t + 2, c]
                    g[t, c] = g[t + 2, c]
            return cnt - 2
    return cnt


@_no_refcount
def _open_two(at, ids, body, loc, g, wl, cnt):  # type: ignore[no-untyped-def]
    """Move path slots ``at .. cnt-1`` two places up, freeing slots ``at`` and ``at + 1``."""
    for t in range(cnt + 1, at + 1, -1):
        ids[t] = ids[t - 2]
        body[t] = body[t - 2]
        wl[t] = wl[t - 2]
        for c in range(3):
            loc[t, c] = loc[t - 2, c]
            g[t, c] = g[t - 2, c]


@_no_refcount
def _query(s, ids, g, cache_g, cache_ok):  # type: ignore[no-untyped-def]
    i = ids[s]
    if i < 0:
        w = (-i - 1) // 2
        e = (-i - 1) % 2
        if not cache_ok[w, e]:
            cache_ok[w, e] = True
            for c in range(3):
                cache_g[w, e, c] = g[s, c]
        return (cache_g[w, e, 0], cache_g[w, e, 1], cache_g[w, e, 2])
    return (g[s, 0], g[s, 1], g[s, 2])


@_no_refcount
def _length(ids, g, wl, cnt, wobj, wo, cache_g, cache_ok):  # type: ignore[no-untyped-def]
    total = 0.0
    prev = _query(np.int64(0), ids, g, cache_g, cache_ok)  # not a literal 0: see muscle_path
    for s in range(1, cnt):
        cur = _query(s, ids, g, cache_g, cache_ok)
        a, b = ids[s - 1], ids[s]
        if a < 0 and b < 0 and wobj[wo + (-a - 1) // 2] == wobj[wo + (-b - 1) // 2]:
            total += wl[s]
        else:
            total += math.sqrt((cur[0] - prev[0]) ** 2 + (cur[1] - prev[1]) ** 2 + (cur[2] - prev[2]) ** 2)
        prev = cur
    return total


@_no_refcount
def _apply_wrap(k, w, single, R, p, active, m, ids, body, loc, g, wl, cnt, cache_g, cache_ok,  # type: ignore[no-untyped-def]
                wbody, wR, wp, wrad, wlen, waxis, wsign, wstart, wend, wobj, wact, wo):
    cnt = _remove(w, ids, body, loc, g, wl, cnt)
    if not wact[wo + w]:
        return 0, cnt
    jf, jr = active_range(active, m, wstart[wo + w], wend[wo + w])
    if jf < 0 or jr < 0:
        return 0, cnt
    start = -1
    end = -1
    for s in range(cnt):
        if ids[s] == jf:
            start = s
        if ids[s] == jr:
            end = s
    if start < 0 or end < 0:
        return 0, cnt
    b = wbody[wo + w]
    Rb = R[k, b]
    pb = (p[k, b, 0], p[k, b, 1], p[k, b, 2])
    Rw = wR[wo + w]
    pw = (wp[wo + w, 0], wp[wo + w, 1], wp[wo + w, 2])
    result = 0
    best = -1
    min_change = math.inf
    br1 = (0.0, 0.0, 0.0)
    br2 = (0.0, 0.0, 0.0)
    bwl = 0.0
    for j in range(start, end):
        a_, b_ = ids[j], ids[j + 1]
        if a_ < 0 and b_ < 0 and wobj[wo + (-a_ - 1) // 2] == wobj[wo + (-b_ - 1) // 2]:
            continue
        xa = _mul_t(Rb, (g[j, 0] - pb[0], g[j, 1] - pb[1], g[j, 2] - pb[2]))
        ea = _mul_t(Rw, (xa[0] - pw[0], xa[1] - pw[1], xa[2] - pw[2]))
        xb = _mul_t(Rb, (g[j + 1, 0] - pb[0], g[j + 1, 1] - pb[1], g[j + 1, 2] - pb[2]))
        eb = _mul_t(Rw, (xb[0] - pw[0], xb[1] - pw[1], xb[2] - pw[2]))
        code, r1, r2, wlj = cyl_one(ea, eb, wrad[wo + w], wlen[wo + w], waxis[wo + w], wsign[wo + w], single)
        result = code
        if code < 2:
            continue
        l1 = _mul(Rw, r1)
        l1 = (l1[0] + pw[0], l1[1] + pw[1], l1[2] + pw[2])
        l2 = _mul(Rw, r2)
        l2 = (l2[0] + pw[0], l2[1] + pw[1], l2[2] + pw[2])
        if code == 3:
            best, br1, br2, bwl = j, l1, l2, wlj
            break
        ca = _query(j, ids, g, cache_g, cache_ok)
        cb = _query(j + 1, ids, g, cache_g, cache_ok)
        g1 = _mul(Rb, l1)
        g1 = (g1[0] + pb[0], g1[1] + pb[1], g1[2] + pb[2])
        g2 = _mul(Rb, l2)
        g2 = (g2[0] + pb[0], g2[1] + pb[1], g2[2] + pb[2])
        change = (
            math.sqrt((g1[0] - ca[0]) ** 2 + (g1[1] - ca[1]) ** 2 + (g1[2] - ca[2]) ** 2)
            + wlj
            + math.sqrt((cb[0] - g2[0]) ** 2 + (cb[1] - g2[1]) ** 2 + (cb[2] - g2[2]) ** 2)
            - math.sqrt((cb[0] - ca[0]) ** 2 + (cb[1] - ca[1]) ** 2 + (cb[2] - ca[2]) ** 2)
        )
        if change < min_change:
            best, br1, br2, bwl = j, l1, l2, wlj
            min_change = change
    if best >= 0:
        at = best + 1
        _open_two(at, ids, body, loc, g, wl, cnt)
        for e in range(2):
            lv = br1 if e == 0 else br2
            s = at + e
            ids[s] = -1 - 2 * w - e
            body[s] = b
            wl[s] = bwl if e == 1 else 0.0
            gv = _mul(Rb, lv)
            for c in range(3):
                loc[s, c] = lv[c]
                g[s, c] = gv[c] + pb[c]
        cnt += 2
    return result, cnt


@_no_refcount
def _same_input(w, ids, g, cnt, memo_m, memo_ids, memo_g):  # type: ignore[no-untyped-def]
    """Whether the path slots (``ids``, ``g``, ``cnt``) are, to the bit, those wrap ``w`` was last applied to."""
    if memo_m[w, 0] != cnt:
        return False
    for s in range(cnt):
        if ids[s] != memo_ids[w, s]:
            return False
        for c in range(3):
            a, b = g[s, c], memo_g[w, s, c]
            if not (a == b and math.copysign(1.0, a) == math.copysign(1.0, b)):  # NaN never matches
                return False
    return True


@_no_refcount
def _apply_wrap_memo(k, w, single, R, p, active, m, ids, body, loc, g, wl, cnt, cache_g, cache_ok,  # type: ignore[no-untyped-def]
                     wbody, wR, wp, wrad, wlen, waxis, wsign, wstart, wend, wobj, wact, wo,
                     memo_m, memo_ids, memo_g, memo_s):
    """:func:`_apply_wrap` (several wraps, so with the tangent refinement) that reuses wrap ``w``'s last
    application in this pose when its input is the same to the bit.

    The application is a function of the slots it is given (``ids``, ``g``, ``cnt`` once ``w``'s own
    points are removed), of the wrap's fixed data and of the tangent-point cache, which only ever
    gains entries and never changes one within a pose: a query that filled an entry the first time
    returns that entry the second time. So the same input gives the same output: the two points
    inserted at the same slot, the same result code. In OpenSim's pass loop this happens whenever
    one of two wraps does not touch the path: the second pass then repeats the first exactly.
    ``memo_m[w]`` = (input slot count or -1, result, insertion slot or -1); ``memo_ids``/``memo_g``
    the input slots; ``memo_s[w, e]`` the inserted slots' location, ground position and wrap length.
    """
    cnt = _remove(w, ids, body, loc, g, wl, cnt)
    if _same_input(w, ids, g, cnt, memo_m, memo_ids, memo_g):
        at = memo_m[w, 2]
        if at >= 0:
            _open_two(at, ids, body, loc, g, wl, cnt)
            for e in range(2):
                s = at + e
                ids[s] = -1 - 2 * w - e
                body[s] = wbody[wo + w]
                wl[s] = memo_s[w, e, 6]
                for c in range(3):
                    loc[s, c] = memo_s[w, e, c]
                    g[s, c] = memo_s[w, e, 3 + c]
            cnt += 2
        return memo_m[w, 1], cnt
    memo_m[w, 0] = cnt
    for s in range(cnt):
        memo_ids[w, s] = ids[s]
        for c in range(3):
            memo_g[w, s, c] = g[s, c]
    res, cnt = _apply_wrap(k, w, single, R, p, active, m, ids, body, loc, g, wl, cnt, cache_g, cache_ok,
                           wbody, wR, wp, wrad, wlen, waxis, wsign, wstart, wend, wobj, wact, wo)
    at = -1
    if cnt > memo_m[w, 0]:
        for s in range(cnt):
            if ids[s] == -1 - 2 * w:
                at = s
                break
        for e in range(2):
            memo_s[w, e, 6] = wl[at + e]
            for c in range(3):
                memo_s[w, e, c] = loc[at + e, c]
                memo_s[w, e, 3 + c] = g[at + e, c]
    memo_m[w, 1] = res
    memo_m[w, 2] = at
    return res, cnt


@_no_refcount
def muscle_path(k, kp, q, R, p, pbody, ploc, pcoord, prange, pmove, mloc,  # type: ignore[no-untyped-def]
                wbody, wR, wp, wrad, wlen, waxis, wsign, wstart, wend, wobj, wact, po, m, wo, nw,
                ids, body, loc, g, wl, active, cache_g, cache_ok, results, order, memo_m, memo_ids, memo_g, memo_s):
    """Current path of one muscle in pose ``q[k]`` with body poses ``R[kp]``, ``p[kp]``.

    The muscle's ``m`` points are rows ``po:po+m`` of the point tables and its ``nw`` wraps rows
    ``wo:wo+nw`` of the wrap tables; a MovingPathPoint (``pmove[row, 0]`` >= 0) is at ``mloc[k,
    pmove[row, 0]]`` in its body this pose (``ploc`` otherwise). Fills the workspace (``ids``, ``body``, ``loc``, ``g``,
    ``wl``, the tangent-point cache, the record of each wrap's last application ``memo_*``, see
    :func:`_apply_wrap_memo`) and returns ``(length, number of path slots)``.
    Semantics: see path.py.
    """
    # np.int64(0), not 0, wherever a callee gets it: a literal 0 (or True/False) would make numba
    # compile the callee once more for the literal type (cold start, issue 17)
    cnt = np.int64(0)
    zero = np.int64(0)
    single = nw == 1
    cache_ok[:, :] = False
    for i in range(m):
        c = pcoord[po + i]
        act = True
        if c >= 0:
            v = q[k, c]
            act = (v >= prange[po + i, 0] - 1e-5) and (v <= prange[po + i, 1] + 1e-5)
        active[i] = act
        if act:
            b = pbody[po + i]
            mc = pmove[po + i, 0]
            if mc >= 0:
                lv = (mloc[k, mc, 0], mloc[k, mc, 1], mloc[k, mc, 2])
            else:
                lv = (ploc[po + i, 0], ploc[po + i, 1], ploc[po + i, 2])
            gv = _mul(R[kp, b], lv)
            ids[cnt] = i
            body[cnt] = b
            wl[cnt] = 0.0
            for cc in range(3):
                loc[cnt, cc] = lv[cc]
                g[cnt, cc] = gv[cc] + p[kp, b, cc]
            cnt += 1
    if nw == 1:
        _, cnt = _apply_wrap(kp, zero, single, R, p, active, m, ids, body, loc, g, wl, cnt, cache_g, cache_ok,
                             wbody, wR, wp, wrad, wlen, waxis, wsign, wstart, wend, wobj, wact, wo)
        length = _length(ids, g, wl, cnt, wobj, wo, cache_g, cache_ok)
    elif nw > 1:
        for i in range(nw):
            order[i] = i
            memo_m[i, 0] = -1
        last = math.inf
        length = 0.0
        for kk in range(8):
            for i in range(nw):
                res, cnt = _apply_wrap_memo(kp, order[i], single, R, p, active, m, ids, body, loc, g, wl, cnt,
                                            cache_g, cache_ok, wbody, wR, wp, wrad, wlen, waxis, wsign, wstart,
                                            wend, wobj, wact, wo, memo_m, memo_ids, memo_g, memo_s)
                results[i] = res
            length = _length(ids, g, wl, cnt, wobj, wo, cache_g, cache_ok)
            if abs(length - last) < 0.0005:
                break
            last = length
            if kk == 0 and results[0] == 0 and results[1] == 1:
                order[0] = 1
                order[1] = 0
                cnt = _remove(zero, ids, body, loc, g, wl, cnt)
    else:
        length = _length(ids, g, wl, cnt, wobj, wo, cache_g, cache_ok)
    return length, cnt


# ------------------------------------------------------------------------ forward kinematics
@njit(cache=True, error_model="numpy")
def fk_kernel(S, dS, axes, parent, child, rpf, ppf, rbm, pbm, R, p, W, V):  # type: ignore[no-untyped-def]
    """Compose joint transforms per pose (see kinematics.forward_kinematics for the conventions).

    S (n, J, 6) transform-axis values, dS (n, k, J, 6) their derivatives along k directions.
    Writes R (n, B, 3, 3), p (n, B, 3), W and V (n, k, B, 3); R[:, 0] must already be identity.
    """
    kd = dS.shape[1]
    rfm = np.empty((3, 3))
    rot = np.empty((3, 3))
    tmp = np.empty((3, 3))
    rgf = np.empty((3, 3))
    rgm = np.empty((3, 3))
    wfm = np.empty((kd, 3))
    vfm = np.empty((kd, 3))
    for t in range(S.shape[0]):
        fk_pose(t, t, S, dS, axes, parent, child, rpf, ppf, rbm, pbm, R, p, W, V, rfm, rot, tmp, rgf, rgm, wfm, vfm)


@njit(cache=True, error_model="numpy")
def fk_pose(t, td, S, dS, axes, parent, child, rpf, ppf, rbm, pbm, R, p, W, V,  # type: ignore[no-untyped-def]
            rfm, rot, tmp, rgf, rgm, wfm, vfm):
    """One pose of :func:`fk_kernel`: values ``S[t]``, derivatives ``dS[td]``, outputs at index ``td``
    (``rfm`` ... ``vfm`` are workspaces)."""
    J = S.shape[1]
    kd = dS.shape[1]
    for j in range(J):
        for a in range(3):
            for b in range(3):
                rfm[a, b] = 1.0 if a == b else 0.0
        wfm[:, :] = 0.0
        vfm[:, :] = 0.0
        for i in range(3):
            ax0, ax1, ax2 = axes[j, i, 0], axes[j, i, 1], axes[j, i, 2]
            ra = (rfm[0, 0] * ax0 + rfm[0, 1] * ax1 + rfm[0, 2] * ax2,
                  rfm[1, 0] * ax0 + rfm[1, 1] * ax1 + rfm[1, 2] * ax2,
                  rfm[2, 0] * ax0 + rfm[2, 1] * ax1 + rfm[2, 2] * ax2)
            for kk in range(kd):
                d = dS[td, kk, j, i]
                if d != 0.0:
                    wfm[kk, 0] += d * ra[0]
                    wfm[kk, 1] += d * ra[1]
                    wfm[kk, 2] += d * ra[2]
            ang = S[t, j, i]
            if ang == 0.0:
                continue
            rotate_frame(rfm, rot, tmp, ang, ax0, ax1, ax2)
        pfm0 = pfm1 = pfm2 = 0.0
        for i in range(3, 6):
            v = S[t, j, i]
            pfm0 += v * axes[j, i, 0]
            pfm1 += v * axes[j, i, 1]
            pfm2 += v * axes[j, i, 2]
            for kk in range(kd):
                d = dS[td, kk, j, i]
                vfm[kk, 0] += d * axes[j, i, 0]
                vfm[kk, 1] += d * axes[j, i, 1]
                vfm[kk, 2] += d * axes[j, i, 2]
        pa, ch = parent[j], child[j]
        for a in range(3):
            for b in range(3):
                rgf[a, b] = R[td, pa, a, 0] * rpf[j, 0, b] + R[td, pa, a, 1] * rpf[j, 1, b] + R[td, pa, a, 2] * rpf[j, 2, b]
        pgf = (
            p[td, pa, 0] + R[td, pa, 0, 0] * ppf[j, 0] + R[td, pa, 0, 1] * ppf[j, 1] + R[td, pa, 0, 2] * ppf[j, 2],
            p[td, pa, 1] + R[td, pa, 1, 0] * ppf[j, 0] + R[td, pa, 1, 1] * ppf[j, 1] + R[td, pa, 1, 2] * ppf[j, 2],
            p[td, pa, 2] + R[td, pa, 2, 0] * ppf[j, 0] + R[td, pa, 2, 1] * ppf[j, 1] + R[td, pa, 2, 2] * ppf[j, 2],
        )
        for a in range(3):
            for b in range(3):
                rgm[a, b] = rgf[a, 0] * rfm[0, b] + rgf[a, 1] * rfm[1, b] + rgf[a, 2] * rfm[2, b]
        pgm = (
            pgf[0] + rgf[0, 0] * pfm0 + rgf[0, 1] * pfm1 + rgf[0, 2] * pfm2,
            pgf[1] + rgf[1, 0] * pfm0 + rgf[1, 1] * pfm1 + rgf[1, 2] * pfm2,
            pgf[2] + rgf[2, 0] * pfm0 + rgf[2, 1] * pfm1 + rgf[2, 2] * pfm2,
        )
        for a in range(3):
            for b in range(3):
                # R_GB = R_GM R_BM^T
                R[td, ch, a, b] = rgm[a, 0] * rbm[j, b, 0] + rgm[a, 1] * rbm[j, b, 1] + rgm[a, 2] * rbm[j, b, 2]
        for a in range(3):
            p[td, ch, a] = pgm[a] - (R[td, ch, a, 0] * pbm[j, 0] + R[td, ch, a, 1] * pbm[j, 1] + R[td, ch, a, 2] * pbm[j, 2])
        for kk in range(kd):
            wp = (W[td, kk, pa, 0], W[td, kk, pa, 1], W[td, kk, pa, 2])
            wc = (
                wp[0] + rgf[0, 0] * wfm[kk, 0] + rgf[0, 1] * wfm[kk, 1] + rgf[0, 2] * wfm[kk, 2],
                wp[1] + rgf[1, 0] * wfm[kk, 0] + rgf[1, 1] * wfm[kk, 1] + rgf[1, 2] * wfm[kk, 2],
                wp[2] + rgf[2, 0] * wfm[kk, 0] + rgf[2, 1] * wfm[kk, 1] + rgf[2, 2] * wfm[kk, 2],
            )
            d1 = (pgm[0] - p[td, pa, 0], pgm[1] - p[td, pa, 1], pgm[2] - p[td, pa, 2])
            c1 = _cross(wp[0], wp[1], wp[2], d1[0], d1[1], d1[2])
            d2 = (pgm[0] - p[td, ch, 0], pgm[1] - p[td, ch, 1], pgm[2] - p[td, ch, 2])
            c2 = _cross(wc[0], wc[1], wc[2], d2[0], d2[1], d2[2])
            for a in range(3):
                vg = V[td, kk, pa, a] + c1[a] + rgf[a, 0] * vfm[kk, 0] + rgf[a, 1] * vfm[kk, 1] + rgf[a, 2] * vfm[kk, 2]
                W[td, kk, ch, a] = wc[a]
                V[td, kk, ch, a] = vg - c2[a]


# ------------------------------------------------------------------ whole model, all poses
# Kept in this file so that numba's on-disk cache, keyed on this file, is invalidated whenever
# any of the per-pose kernels it calls changes.
#
# Compiled (numba) whole-model kernel: forward kinematics and every muscle's path, pose by pose.
#
# One call computes, for a batch of poses, the body poses (and, with directions, the body
# velocities along the coupling vectors) and then the length and OpenSim moment arms of every
# requested muscle, without leaving compiled code: no Python loop over muscles, no
# ``(n, k, n_bodies, 3)`` velocity arrays in memory. It walks blocks of poses, each with its own
# small workspaces, and releases the GIL: the caller spreads the poses over the cores by running
# one call per thread on its own slice of them (``_parallel.run_sliced``). Serial code compiles
# in a fraction of the time numba's ``parallel=True`` takes, which is most of a cold start.
#
# It schedules the per-pose kernels of :mod:`iliopsoas.mechanics._wrap_kernels` (``fk_pose`` and
# ``muscle_path``, which the tests compare with the NumPy reference), so lengths are the same to
# the last bit. Moment arms are the same projection written as ``u . (V_o - V_o') + (g x u) . W
# - (g' x u) . W'`` with ``V_o = V - W x p`` (round-off differences only), summed over the
# directions along which a body can move at all.


@njit(cache=True, error_model="numpy", nogil=True)
def model_kernel(q, S, dF, axc, C, axes, parent, child, rpf, ppf, rbm, pbm, n_aff, aff_list,  # type: ignore[no-untyped-def]
                 mus, p_off, pbody, ploc, pcoord, prange_, pmove, mloc, mdloc,
                 w_off, wbody, wR, wp, wrad, wlen, waxis, wsign, wstart, wend, wobj, wact,
                 n_bodies, max_points, max_wraps, block, L, r):
    """Lengths ``L`` ``(n, M)`` and moment arms ``r`` ``(n, M, k)`` of muscles ``mus`` ``(M,)``.

    ``q`` ``(n, n_coordinates)`` complete coordinates; ``S`` ``(n, J, 6)`` joint transform-axis
    values; ``dF`` ``(n, J, 6)`` the derivatives of the axis functions at ``q``; ``axc`` ``(J, 6)``
    the coordinate of each non-constant axis (-1 otherwise); ``C`` ``(n, k, n_coordinates)``
    coupling vectors (k = 0: lengths only); body ``b`` can move only along the ``n_aff[b]``
    directions ``aff_list[b, :n_aff[b]]`` (the velocities along the others are exactly zero).
    Muscle ``i``'s points are rows ``p_off[i]:p_off[i+1]`` of the point tables and its wraps rows
    ``w_off[i]:w_off[i+1]`` of the wrap tables (see path.py). A MovingPathPoint's row has its column
    and coordinate in ``pmove`` (-1 otherwise); ``mloc``/``mdloc`` ``(n, n_moving, 3)`` are each
    moving point's body-frame location this pose and its derivative along its coordinate
    (``moment_arms.moving_point_locations``, OpenSim's convention). Muscles without wraps are
    summed inline; the others go through ``muscle_path``.
    """
    n = q.shape[0]
    J = S.shape[1]
    kd = C.shape[1]
    nm = mus.shape[0]
    smax = max_points + 2 * max_wraps + 2
    nwb = max(max_wraps, 1)
    nblk = (n + block - 1) // block
    for bi in range(nblk):
        k0 = bi * block
        k1 = min(n, k0 + block)
        Rl = np.zeros((1, n_bodies, 3, 3))
        for a in range(3):
            Rl[0, 0, a, a] = 1.0
        pl = np.zeros((1, n_bodies, 3))
        Wl = np.zeros((1, kd, n_bodies, 3))
        Vl = np.zeros((1, kd, n_bodies, 3))
        dSl = np.zeros((1, kd, J, 6))
        Wt = np.zeros((n_bodies, kd, 3))
        Vo = np.zeros((n_bodies, kd, 3))
        rfm = np.empty((3, 3))
        rot = np.empty((3, 3))
        tmp = np.empty((3, 3))
        rgf = np.empty((3, 3))
        rgm = np.empty((3, 3))
        wfm = np.empty((kd, 3))
        vfm = np.empty((kd, 3))
        ids = np.empty(smax, dtype=np.int64)
        body = np.empty(smax, dtype=np.int64)
        loc = np.empty((smax, 3))
        g = np.empty((smax, 3))
        wl = np.empty(smax)
        active = np.empty(max(max_points, 1), dtype=np.bool_)
        cache_g = np.empty((nwb, 2, 3))
        cache_ok = np.empty((nwb, 2), dtype=np.bool_)
        results = np.zeros(nwb, dtype=np.int64)
        order = np.arange(nwb)
        memo_m = np.empty((nwb, 3), dtype=np.int64)
        memo_ids = np.empty((nwb, smax), dtype=np.int64)
        memo_g = np.empty((nwb, smax, 3))
        memo_s = np.empty((nwb, 2, 7))
        for k in range(k0, k1):
            for kk in range(kd):
                for j in range(J):
                    for i in range(6):
                        c = axc[j, i]
                        dSl[0, kk, j, i] = dF[k, j, i] * C[k, kk, c] if c >= 0 else 0.0
            fk_pose(k, 0, S, dSl, axes, parent, child, rpf, ppf, rbm, pbm, Rl, pl, Wl, Vl,
                    rfm, rot, tmp, rgf, rgm, wfm, vfm)
            for b in range(n_bodies):
                for jj in range(n_aff[b]):
                    j = aff_list[b, jj]
                    wc = _cross(Wl[0, j, b, 0], Wl[0, j, b, 1], Wl[0, j, b, 2], pl[0, b, 0], pl[0, b, 1], pl[0, b, 2])
                    for a in range(3):
                        Wt[b, j, a] = Wl[0, j, b, a]
                        Vo[b, j, a] = Vl[0, j, b, a] - wc[a]
            for t in range(nm):
                mi = mus[t]
                a0, a1 = p_off[mi], p_off[mi + 1]
                b0, b1 = w_off[mi], w_off[mi + 1]
                if b1 == b0:  # straight line through the active points, no call
                    cnt = 0
                    length = 0.0
                    for i in range(a0, a1):
                        c = pcoord[i]
                        if c >= 0:
                            v = q[k, c]
                            if not ((v >= prange_[i, 0] - 1e-5) and (v <= prange_[i, 1] + 1e-5)):
                                continue
                        b = pbody[i]
                        mc = pmove[i, 0]
                        if mc >= 0:
                            gv = _mul(Rl[0, b], (mloc[k, mc, 0], mloc[k, mc, 1], mloc[k, mc, 2]))
                        else:
                            gv = _mul(Rl[0, b], (ploc[i, 0], ploc[i, 1], ploc[i, 2]))
                        ids[cnt] = i - a0
                        body[cnt] = b
                        for cc in range(3):
                            g[cnt, cc] = gv[cc] + pl[0, b, cc]
                        if cnt > 0:
                            length += math.sqrt((g[cnt, 0] - g[cnt - 1, 0]) ** 2 + (g[cnt, 1] - g[cnt - 1, 1]) ** 2
                                                + (g[cnt, 2] - g[cnt - 1, 2]) ** 2)
                        cnt += 1
                else:
                    length, cnt = muscle_path(
                        k, 0, q, Rl, pl, pbody, ploc, pcoord, prange_, pmove, mloc,
                        wbody, wR, wp, wrad, wlen, waxis, wsign, wstart, wend, wobj, wact, a0, a1 - a0, b0, b1 - b0,
                        ids, body, loc, g, wl, active, cache_g, cache_ok, results, order,
                        memo_m, memo_ids, memo_g, memo_s)
                L[k, t] = length
                if kd == 0:
                    continue
                # unit tension at each pair of consecutive points on different bodies, projected
                # on each body's velocity along the directions: u . (Vo + W x g), Vo = V - W x p
                for s in range(cnt - 1):
                    ba, bb = body[s], body[s + 1]
                    if ba == bb:
                        continue
                    ga = _query(s, ids, g, cache_g, cache_ok)
                    gb = _query(s + 1, ids, g, cache_g, cache_ok)
                    dx, dy, dz = gb[0] - ga[0], gb[1] - ga[1], gb[2] - ga[2]
                    dist = math.sqrt(dx * dx + dy * dy + dz * dz)
                    ux, uy, uz = dx / dist, dy / dist, dz / dist
                    # moments use the latest (not cached) positions, as OpenSim's force directions do
                    add_tension(r, k, t, ux, uy, uz, g[s, 0], g[s, 1], g[s, 2], g[s + 1, 0], g[s + 1, 1], g[s + 1, 2],
                                ba, bb, n_aff, aff_list, Wt, Vo)
                    # a MovingPathPoint also moves within its body: R dloc/dq times the direction's
                    # component along its coordinate (any direction, not only those moving the body)
                    for e in range(2):
                        i = ids[s + e]
                        if i < 0:
                            continue
                        mc = pmove[a0 + i, 0]
                        if mc < 0:
                            continue
                        cm = pmove[a0 + i, 1]
                        dv = _mul(Rl[0, body[s + e]], (mdloc[k, mc, 0], mdloc[k, mc, 1], mdloc[k, mc, 2]))
                        ud = ux * dv[0] + uy * dv[1] + uz * dv[2]
                        sg = 1.0 if e == 0 else -1.0
                        for j in range(kd):
                            f = C[k, j, cm]
                            if f != 0.0:
                                r[k, t, j] += sg * (ud * f)
