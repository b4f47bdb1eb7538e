"""Wrapping of one straight path segment over a wrap surface, vectorised over poses.

The functions reproduce OpenSim 4.6's ``wrapLine`` algorithms (``OpenSim/Simulation/Wrap``),
including their approximations: OpenSim's cylinder tangent points are a geometric construction,
not the exact shortest path, and its moment arms are computed from those very points. Matching
OpenSim to 1e-7 m therefore means following its steps (quadrant tests, the infinite-axis hit
test, the axial slide of the tangent points, the finite-length rule, and the tangent refinement
that runs only when a path has several wraps). Written from reading the algorithm, in NumPy.

Inputs are the segment end points ``p1``, ``p2`` of shape ``(n, 3)`` in the wrap object's frame.
Outputs: a status code per pose (:data:`NO_WRAP`, :data:`INSIDE_RADIUS`, :data:`WRAPPED`,
:data:`MANDATORY_WRAP`, OpenSim's ``WrapAction`` values), the tangent points ``r1``, ``r2``
``(n, 3)`` in the wrap frame and the on-surface length ``(n,)``. Rows whose status is not
``WRAPPED``/``MANDATORY_WRAP`` hold meaningless points.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

NO_WRAP = 0
INSIDE_RADIUS = 1
WRAPPED = 2
MANDATORY_WRAP = 3

_EPS = np.finfo(float).eps
_LINE_EPSILON = 1e-5
_ROUNDOFF = 2e-13
_MAX_ITERATIONS = 100
_TANGENCY = np.deg2rad(0.1)


def _dot(a: Array, b: Array) -> Array:
    return np.einsum("...i,...i->...", a, b)


def _normalize(v: Array) -> tuple[Array, Array]:
    """WrapMath::NormalizeOrZero: unit vectors (zero below machine epsilon) and norms."""
    mag = np.sqrt(_dot(v, v))
    safe = np.where(mag >= _EPS, mag, 1.0)
    out = np.where((mag >= _EPS)[..., None], v / safe[..., None], 0.0)
    return out, mag


def _unit(v: Array) -> Array:
    """SimTK::UnitVec3 construction (plain normalisation)."""
    mag = np.sqrt(_dot(v, v))
    with np.errstate(invalid="ignore", divide="ignore"):
        return v / mag[..., None]


def _sign(x: Array) -> Array:
    """OpenSim's DSIGN: +1 for x >= 0 (and for NaN nothing is >= 0, so -1)."""
    return np.where(x >= 0.0, 1, -1)


def _closest_on_line(pt: Array, line_pt: Array, line: Array) -> Array:
    """WrapMath::GetClosestPointOnLineToPoint (``line`` is a direction, normalised here)."""
    v1, mag = _normalize(pt - line_pt)
    v2, _ = _normalize(np.broadcast_to(line, pt.shape))
    t = _dot(v1, v2) * mag
    return line_pt + t[..., None] * v2


def _det3(r0: Array, r1: Array, r2: Array) -> Array:
    return _dot(r0, np.cross(r1, r2))


def _intersect_lines(p1: Array, p2: Array, p3: Array, p4: Array) -> tuple[Array, Array, Array, Array]:
    """WrapMath::IntersectLines: closest points of lines p1p2 and p3p4 and their parameters."""
    vec1, mag1 = _normalize(p2 - p1)
    vec2, mag2 = _normalize(p4 - p3)
    cross = np.cross(vec1, vec2)
    denom = _dot(cross, cross)
    ok = np.abs(denom) > _ROUNDOFF
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.where(ok, denom, np.nan)
        row0 = p3 - p1
        t = _det3(row0, vec1, cross) / d
        s = _det3(row0, vec2, cross) / d
        pint2 = p3 + t[..., None] * vec2
        pint1 = p1 + s[..., None] * vec1
        return pint1, s / mag1, pint2, t / mag2


def _intersect_seg_plane(pt1: Array, pt2: Array, normal: Array, d: Array) -> tuple[Array, Array]:
    """WrapMath::IntersectLineSegPlane: (hit mask, intersection point)."""
    vec = pt2 - pt1
    dotprod = _dot(vec, normal)
    ok = np.abs(dotprod) >= _LINE_EPSILON
    with np.errstate(invalid="ignore", divide="ignore"):
        t = (-d - _dot(normal, pt1)) / np.where(ok, dotprod, 1.0)
    ok &= ~((t < -_LINE_EPSILON) | (t > 1.0 + _LINE_EPSILON))
    return ok, pt1 + t[..., None] * vec


def _rotate_z(v: Array, angle: Array) -> Array:
    c, s = np.cos(angle), np.sin(angle)
    return np.stack([c * v[..., 0] - s * v[..., 1], s * v[..., 0] + c * v[..., 1], v[..., 2]], axis=-1)


def wrap_cylinder(
    p1: Array,
    p2: Array,
    radius: float,
    length: float,
    wrap_axis: int,
    wrap_sign: int,
    single_wrap: bool = True,
) -> tuple[NDArray[np.int_], Array, Array, Array]:
    """OpenSim ``WrapCylinder::wrapLine`` for ``n`` segments ``p1 -> p2`` ``(n, 3)``.

    The cylinder axis is the frame's z axis, centred at the origin, of ``radius`` and total
    ``length`` (m). ``wrap_sign`` 0 means all quadrants; otherwise wrapping is constrained to the
    side where coordinate ``wrap_axis`` has sign ``wrap_sign``. ``single_wrap`` is True when
    the path has only this wrap (OpenSim then skips the tangent-point refinement).

    Returns ``(status (n,), r1 (n, 3), r2 (n, 3), wrap_length (n,))``.
    """
    p1 = np.asarray(p1, dtype=float)
    p2 = np.asarray(p2, dtype=float)
    n = p1.shape[0]
    R = float(radius)
    r2_ = R * R
    dn = np.array([0.0, 0.0, 1.0])
    p0 = np.array([0.0, 0.0, -1.0])
    code = np.full(n, WRAPPED, dtype=int)

    inside = (p1[:, 0] ** 2 + p1[:, 1] ** 2 < r2_) | (p2[:, 0] ** 2 + p2[:, 1] ** 2 < r2_)
    cyl_start = np.broadcast_to([0.0, 0.0, -0.5 * length], p1.shape)
    cyl_end = np.broadcast_to([0.0, 0.0, 0.5 * length], p1.shape)
    near12, t12, near00, _ = _intersect_lines(p1, p2, cyl_start, cyl_end)
    dd = near12 - near00
    with np.errstate(invalid="ignore"):
        hit = (_dot(dd, dd) < r2_) & (t12 > 0.0) & (t12 < 1.0)
    constrained = wrap_sign != 0
    done = inside.copy()
    code[inside] = INSIDE_RADIUS
    if not constrained:
        code[~done & hit] = MANDATORY_WRAP
        code[~done & ~hit] = NO_WRAP
        done |= ~hit

    p11 = _closest_on_line(p1, p0, dn)
    p22 = _closest_on_line(p2, p0, dn)

    def candidates(pt: Array, foot: Array) -> tuple[Array, Array, Array]:
        vv, dist_axis = _normalize(pt - foot)
        with np.errstate(invalid="ignore", divide="ignore"):
            sin_theta = R / dist_axis
            dist = R * sin_theta
            pp = foot + dist[:, None] * vv
            dist2 = np.sqrt(r2_ - dist * dist)
        uu = np.cross(dn, vv)
        return pp + dist2[:, None] * uu, pp - dist2[:, None] * uu, dist_axis

    r1a, r1b, p11_dist = candidates(p1, p11)
    r2a, r2b, p22_dist = candidates(p2, p22)
    long_wrap = np.zeros(n, dtype=bool)
    far_side = np.zeros(n, dtype=bool)
    if constrained:
        ax, sg = wrap_axis, wrap_sign
        s1, s2 = _sign(p1[:, ax]), _sign(p2[:, ax])
        either = (s1 == sg) | (s2 == sg)
        new_mand = either & hit & ~done
        code[new_mand] = MANDATORY_WRAP
        opp = either & ~hit & ~done
        wrapped_opp = opp & (s1 != s2) & (_sign(near12[:, ax]) != sg)
        code[opp & ~wrapped_opp] = NO_WRAP
        done |= opp & ~wrapped_opp

        r1am, r1bm, r2am, r2bm = r1a - p11, r1b - p11, r2a - p22, r2b - p22

        def nrm(v: Array) -> Array:
            return np.sqrt(_dot(v, v))

        with np.errstate(invalid="ignore", divide="ignore"):
            alpha = np.arccos(_dot(r1am, r2bm) / (nrm(r1am) * nrm(r2bm)))
            beta = np.arccos(_dot(r1bm, r2am) / (nrm(r1bm) * nrm(r2am)))
        a_gt_b = alpha > beta
        s1a, s1b = _sign(r1a[:, ax]) == sg, _sign(r1b[:, ax]) == sg
        s2a, s2b = _sign(r2a[:, ax]) == sg, _sign(r2b[:, ax]) == sg
        # choice "A": r1 = r1a, r2 = r2b, far side when alpha > beta;
        # choice "B": r1 = r1b, r2 = r2a, far side when alpha <= beta.
        both1 = s1a & s1b
        none1 = ~s1a & ~s1b
        use_b = (both1 & s2a) | (~s1a & s1b) | (none1 & s2a)
        use_a = (both1 & ~s2a) | (s1a & ~s1b) | (none1 & ~s2a & s2b)
        none_all = none1 & ~s2a & ~s2b
        use_a_nw = none_all & a_gt_b
        use_b_nw = none_all & ~a_gt_b
        pick_a = use_a | use_a_nw
        r1 = np.where(pick_a[:, None], r1a, r1b)
        r2 = np.where(pick_a[:, None], r2b, r2a)
        far_side = np.where(use_a, a_gt_b, np.where(use_b, ~a_gt_b, False))
        far_side = far_side | use_a_nw | use_b_nw
        sum_musc = (r1 - p1) + (r2 - p2)
        sum_r = (r1 - p11) + (r2 - p22)
        long_wrap = _dot(sum_r, sum_musc) < 0.0
    else:
        n1a, _ = _normalize(r1a - p11)
        n1b, _ = _normalize(r1b - p11)
        n2a, _ = _normalize(r2a - p22)
        n2b, _ = _normalize(r2b - p22)
        d1, d2, d3, d4 = _dot(n1a, n2a), _dot(n1a, n2b), _dot(n1b, n2a), _dot(n1b, n2b)
        c1 = (d1 > d2) & (d1 > d3) & (d1 > d4)
        c2 = ~c1 & (d2 > d3) & (d2 > d4)
        c3 = ~c1 & ~c2 & (d3 > d4)
        r1 = np.where((c1 | c2)[:, None], r1a, r1b)
        r2 = np.where((c1 | c3)[:, None], r2a, r2b)

    # apex of the wrap, from the point of the line that divides it in the ratio of the
    # endpoints' distances to the axis
    with np.errstate(invalid="ignore", divide="ignore"):
        t = p11_dist / (p11_dist + p22_dist)
    mpt = p1 + t[:, None] * (p2 - p1)
    axispt = _closest_on_line(mpt, p0, dn)
    l1, _ = _normalize(p1 - axispt)
    l2, _ = _normalize(p2 - axispt)
    plane_normal, _ = _normalize(_unit(np.cross(l1, l2)))
    vert1, _ = _normalize(np.cross(dn, plane_normal))
    vert2, _ = _normalize(np.cross(plane_normal, dn))
    apex1 = axispt + R * vert1
    apex2 = axispt + R * vert2
    e1, e2 = mpt - apex1, mpt - apex2
    first = _dot(e1, e1) < _dot(e2, e2)
    pick1 = np.where(far_side, ~first, first)
    apex = np.where(pick1[:, None], apex1, apex2)

    uu, _ = _normalize(p1 - apex)
    vv, _ = _normalize(p2 - apex)
    plane_normal = _unit(np.cross(uu, vv))
    d = -_dot(p1, plane_normal)
    ok1, r1p = _intersect_seg_plane(r1 - 10.0 * dn, r1 + 10.0 * dn, plane_normal, d)
    ok2, r2p = _intersect_seg_plane(r2 - 10.0 * dn, r2 + 10.0 * dn, plane_normal, d)
    q1 = _closest_on_line(r1p, p11, p22)
    q2 = _closest_on_line(r2p, p11, p22)
    base = _dot(p11 - p22, p11 - p22)
    with np.errstate(invalid="ignore"):
        slide1 = ok1 & (_dot(q1 - p22, q1 - p22) < base)
        slide2 = ok2 & (_dot(q2 - p11, q2 - p11) < base)
    r1 = np.where(slide1[:, None], r1p, r1)
    r2 = np.where(slide2[:, None], r2p, r2)

    half = length / 2.0
    off = ((r1[:, 2] < -half) | (r1[:, 2] > half)) & ((r2[:, 2] < -half) | (r2[:, 2] > half))
    code[off & ~done] = NO_WRAP
    done |= off

    wlen = np.zeros(n)
    live = ~done
    if np.any(live):
        r1l, r2l, wl = _spiral(p1[live], p2[live], r1[live], r2[live], long_wrap[live], R, single_wrap)
        r1[live], r2[live], wlen[live] = r1l, r2l, wl
    return code, r1, r2, wlen


def _spiral_length(r1: Array, r2: Array, long_wrap: Array, R: float) -> tuple[Array, Array, Array]:
    axial = r2[:, 2] - r1[:, 2]
    uu = np.concatenate([r1[:, :2], np.zeros((r1.shape[0], 1))], axis=1)
    vv = np.concatenate([r2[:, :2], np.zeros((r2.shape[0], 1))], axis=1)
    theta = np.arctan2(np.cross(uu, vv)[:, 2], _dot(uu, vv))
    theta = np.where(long_wrap, 2.0 * np.pi - theta, theta)
    x = R * theta
    return np.sqrt(x * x + axial * axial), theta, axial


def _spiral(
    p1: Array, p2: Array, r1: Array, r2: Array, long_wrap: Array, R: float, single_wrap: bool
) -> tuple[Array, Array, Array]:
    """WrapCylinder::_make_spiral_path: the helix length, refining r1, r2 for multi-wrap paths."""
    r1 = r1.copy()
    r2 = r2.copy()
    wlen, theta, axial = _spiral_length(r1, r2, long_wrap, R)
    if single_wrap:
        return r1, r2, wlen
    dn = np.array([0.0, 0.0, 1.0])
    sense = np.where(long_wrap, -1.0, 1.0)
    active = np.ones(r1.shape[0], dtype=bool)
    for _ in range(_MAX_ITERATIONS):
        nseg = np.maximum((wlen / 0.002).astype(int), 1)
        active &= nseg >= 2
        if not np.any(active):
            break
        idx = np.nonzero(active)[0]
        t = 1.0 / nseg[idx]
        th, ax, sn = theta[idx], axial[idx], sense[idx]
        w1 = _rotate_z(r1[idx], sn * t * th) + dn * (t * ax)[:, None]
        new1, adj1 = _adjust_tangent(p1[idx], r1[idx], w1)
        # OpenSim evaluates the second wrap point after r1 has moved, with the old angle
        w2 = _rotate_z(new1, sn * (1.0 - t) * th) + dn * ((1.0 - t) * ax)[:, None]
        new2, adj2 = _adjust_tangent(p2[idx], r2[idx], w2)
        r1[idx] = new1
        r2[idx] = new2
        moved = adj1 | adj2
        active[idx[~moved]] = False
        if not np.any(moved):
            break
        wl, th2, ax2 = _spiral_length(r1[idx], r2[idx], long_wrap[idx], R)
        wlen[idx], theta[idx], axial[idx] = wl, th2, ax2
    return r1, r2, wlen


def _adjust_tangent(pt: Array, r: Array, w: Array) -> tuple[Array, Array]:
    """WrapCylinder::_adjust_tangent_point: slide ``r`` so that pt-r is tangent to the helix."""
    dn = np.array([0.0, 0.0, 1.0])
    pr, _ = _normalize(r - pt)
    rw, _ = _normalize(w - r)
    with np.errstate(invalid="ignore"):
        alpha = np.arccos(pr[:, 2])
        omega = np.arccos(rw[:, 2])
        adjust = np.abs(alpha - omega) > _TANGENCY
    if not np.any(adjust):
        return r, adjust
    p1a = _closest_on_line(pt, r, dn)
    w1a = _closest_on_line(w, r, dn)
    _, _, inter, _ = _intersect_lines(pt, w, p1a, w1a)
    out = np.where(adjust[:, None], r + 1.5 * (inter - r), r)
    return out, adjust
