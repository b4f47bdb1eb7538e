"""Wrapping of one straight path segment over a wrap surface, vectorised over poses.

The functions reproduce OpenSim 4.6's ``wrapLine`` algorithms (``OpenSim/Simulation/Wrap``)
for cylinders, spheres and ellipsoids, including their approximations: OpenSim's cylinder tangent points are a geometric construction,
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

from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

NO_WRAP = 0
INSIDE_RADIUS = 1
WRAPPED = 2
MANDATORY_WRAP = 3

_KERNEL: Any
try:  # the compiled kernel is optional: the NumPy code below is the reference
    from iliopsoas.mechanics._wrap_kernels import cylinder_kernel as _KERNEL
except ImportError:  # pragma: no cover - numba missing
    _KERNEL = None

_ELL_KERNEL: Any
try:
    from iliopsoas.mechanics._ellipsoid_kernels import ellipsoid_kernel as _ELL_KERNEL
except ImportError:  # pragma: no cover - numba missing
    _ELL_KERNEL = None

KERNEL_MIN_POSES = 256  # below this, NumPy is fast enough and no compilation is triggered
# _ellipsoid_kernels.HYBRID, MIDPOINT, AXIAL; any other name runs as "midpoint", as in wrap_ellipsoid
_ELL_METHODS = {"hybrid": 0, "midpoint": 1, "axial": 2}


def cylinder_kernel_available() -> bool:
    """True when the compiled cylinder wrap (numba) can be used."""
    return _KERNEL is not None


def ellipsoid_kernel_available() -> bool:
    """True when the compiled ellipsoid wrap (numba) can be used."""
    return _ELL_KERNEL is not None
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


def _intersect_seg_plane(pt1: Array, pt2: Array, normal: Array, d: Array) -> tuple[NDArray[np.bool_], Array]:
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
    *,
    compiled: bool | None = None,
) -> tuple[NDArray[np.int_], Array, Array, Array]:
    """OpenSim ``WrapCylinder::wrapLine`` for ``n`` segments ``p1 -> p2`` ``(n, 3)``.

    Uses the compiled per-pose kernel when numba is available (``compiled=None``), else this
    module's NumPy implementation, which is the reference the kernel is tested against.

    The cylinder axis is the frame's z axis, centred at the origin, of ``radius`` and total
    ``length`` (m). ``wrap_sign`` 0 means all quadrants; otherwise wrapping is constrained to the
    side where coordinate ``wrap_axis`` has sign ``wrap_sign``. ``single_wrap`` is True when
    the path has only this wrap (OpenSim then skips the tangent-point refinement).

    Returns ``(status (n,), r1 (n, 3), r2 (n, 3), wrap_length (n,))``.
    """
    p1 = np.ascontiguousarray(p1, dtype=float)
    p2 = np.ascontiguousarray(p2, dtype=float)
    n = p1.shape[0]
    if compiled is None:  # small batches: skip the one-off compilation (seconds) of the kernel
        compiled = _KERNEL is not None and n >= KERNEL_MIN_POSES
    if compiled:
        if _KERNEL is None:
            raise RuntimeError("the compiled cylinder kernel needs numba")
        code_c = np.zeros(n, dtype=np.int64)
        r1c, r2c, wl_c = np.zeros((n, 3)), np.zeros((n, 3)), np.zeros(n)
        _KERNEL(p1, p2, float(radius), float(length), int(wrap_axis), int(wrap_sign), bool(single_wrap),
                code_c, r1c, r2c, wl_c)
        return code_c.astype(int), r1c, r2c, wl_c
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
        far_side = np.where(use_a, a_gt_b, np.where(use_b, ~a_gt_b, False)).astype(bool)
        far_side = far_side | use_a_nw | use_b_nw
        sum_musc = (r1 - p1) + (r2 - p2)
        sum_r = (r1 - p11) + (r2 - p22)
        long_wrap = np.asarray(_dot(sum_r, sum_musc) < 0.0, dtype=bool)
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


def _adjust_tangent(pt: Array, r: Array, w: Array) -> tuple[Array, NDArray[np.bool_]]:
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


# ---------------------------------------------------------------------------------- sphere
_SPHERE_DEGENERATE = 1e-5  # |unit(p1 - p2) x unit(p2)| below this: the line runs through the centre


def _sphere_candidates(pt: Array, n: Array, R: float) -> tuple[Array, Array]:
    """The two tangent points from ``pt`` to the sphere in the plane of normal ``n`` ``(k, 3)``.

    Both lie at angle ``asin(R/|pt|)`` either side of the ray from ``pt`` to the centre, at
    distance ``|pt| cos(asin(R/|pt|))`` from ``pt`` (OpenSim's rotation about ``n``).
    """
    y, dist = _normalize(-pt)
    z = np.cross(n, y)
    with np.errstate(invalid="ignore"):
        ang = np.arcsin(R / dist)
    reach = (dist * np.cos(ang))[:, None]
    c, s = np.cos(ang)[:, None], np.sin(ang)[:, None]
    return pt + (c * y - s * z) * reach, pt + (c * y + s * z) * reach


def wrap_sphere(
    p1: Array, p2: Array, radius: float, wrap_axis: int, wrap_sign: int
) -> tuple[NDArray[np.int_], Array, Array, Array]:
    """OpenSim ``WrapSphere::wrapLine`` for ``n`` segments ``p1 -> p2`` ``(n, 3)`` in the wrap frame.

    The sphere of ``radius`` (m) is centred at the frame origin. A segment wraps only when the
    straight line between its end points crosses the sphere between them (OpenSim checks this
    before the quadrant, so a constrained sphere never pulls a clear line onto itself). The
    tangent points lie in the plane through the centre and the line; without a quadrant the pair
    whose directions from the centre are closest is used; with one (``wrap_sign`` != 0 on axis
    ``wrap_axis``) the pair facing the endpoints' mean, flipped to the constrained side.

    The returned length is OpenSim's great-circle arc ``radius * angle``. For a "far side" wrap
    OpenSim stores ``-radius * (2 pi - angle)``, a negative length, and the path length adds it
    as such; it is reproduced here because matching OpenSim's numbers is the point.

    A line passing within ``1e-5 |p2|`` of the centre is a case OpenSim resolves from the
    previous state's tangent points; this stateless function uses an arbitrary plane through the
    line instead (a measure-zero set of poses).

    Returns ``(status (n,), r1 (n, 3), r2 (n, 3), wrap_length (n,))``.
    """
    p1 = np.asarray(p1, dtype=float)
    p2 = np.asarray(p2, dtype=float)
    n = p1.shape[0]
    R = float(radius)
    code = np.full(n, NO_WRAP, dtype=int)
    r1o = np.zeros((n, 3))
    r2o = np.zeros((n, 3))
    wlen = np.zeros(n)
    inside = (np.sqrt(_dot(p1, p1)) < R) | (np.sqrt(_dot(p2, p2)) < R)
    code[inside] = INSIDE_RADIUS
    ri = p1 - p2
    a = _dot(ri, ri)
    b = 2.0 * _dot(p2, ri)
    c = _dot(p2, p2) - R * R
    disc = b * b - 4.0 * a * c
    with np.errstate(invalid="ignore", divide="ignore"):
        l1 = (-b + np.sqrt(disc)) / (2.0 * a)
        l2 = (-b - np.sqrt(disc)) / (2.0 * a)
        ok = ~inside & (disc >= 0.0) & (0.0 < l1) & (l1 < 1.0) & (0.0 < l2) & (l2 < 1.0) & ~(l1 < l2)
    idx = np.nonzero(ok)[0]
    if idx.size == 0:
        return code, r1o, r2o, wlen
    A, B = p1[idx], p2[idx]
    u, _ = _normalize(A - B)
    np2, _ = _normalize(B)
    hp2 = np.cross(u, np2)
    degenerate = np.sqrt(_dot(hp2, hp2)) < _SPHERE_DEGENERATE
    nrm, _ = _normalize(hp2)
    if np.any(degenerate):  # any unit vector normal to the line
        alt = np.cross(u[degenerate], np.eye(3)[np.argmin(np.abs(u[degenerate]), axis=1)])
        nrm[degenerate], _ = _normalize(alt)
    r1a, r1b = _sphere_candidates(A, nrm, R)
    r2a, r2b = _sphere_candidates(B, nrm, R)
    r1am, _ = _normalize(r1a)
    r1bm, _ = _normalize(r1b)
    r2am, _ = _normalize(r2a)
    r2bm, _ = _normalize(r2b)
    j1, j2, j3, j4 = _dot(r1am, r2am), _dot(r1am, r2bm), _dot(r1bm, r2am), _dot(r1bm, r2bm)
    c1 = (j1 > j2) & (j1 > j3) & (j1 > j4)
    c2 = ~c1 & (j2 > j3) & (j2 > j4)
    c3 = ~c1 & ~c2 & (j3 > j4)
    first1 = (c1 | c2)[:, None]
    first2 = (c1 | c3)[:, None]
    r1 = np.where(first1, r1a, r1b)
    r2 = np.where(first2, r2a, r2b)
    K = idx.size
    status = np.full(K, WRAPPED, dtype=int)
    far = np.zeros(K, dtype=bool)
    if wrap_sign != 0:
        ax, sg = wrap_axis, wrap_sign
        s1, s2 = _sign(A[:, ax]), _sign(B[:, ax])
        either = ((s1 == sg) | (s2 == sg)) & ~degenerate
        # OpenSim's parameter here is a distance along the unit line (m), tested against 0..1
        tt = _dot(A, u)
        mm = A - tt[:, None] * u
        mand = either & (_dot(mm, mm) < R * R) & (tt > 0.0) & (tt < 1.0)
        potential = either & ~mand & (s1 != s2) & (_sign(mm[:, ax]) != sg)
        status[mand] = MANDATORY_WRAP
        status[either & ~mand & ~potential] = NO_WRAP
        pick = ((s1 != sg) | (s2 != sg)) & ~degenerate & (status != NO_WRAP)
        if np.any(pick):
            toward, _ = _normalize(-A - B)
            use1a = (_dot(r1am, toward) > _dot(r1bm, toward))[:, None]
            use2a = (_dot(r2am, toward) > _dot(r2bm, toward))[:, None]
            q1, q11 = np.where(use1a, r1a, r1b), np.where(use1a, r1b, r1a)
            q2, q22 = np.where(use2a, r2a, r2b), np.where(use2a, r2b, r2a)
            side, _ = _normalize((q1 - A) + (q2 - B))
            flip = (sg * side[:, ax] < 0.0)[:, None]
            q1, q2 = np.where(flip, q11, q1), np.where(flip, q22, q2)
            r1 = np.where(pick[:, None], q1, r1)
            r2 = np.where(pick[:, None], q2, r2)
            far = pick & (_dot(r1 + r2, (r1 - A) + (r2 - B)) < 0.0)
    r1n, _ = _normalize(r1)
    r2n, _ = _normalize(r2)
    with np.errstate(invalid="ignore"):
        angle = np.arccos(_dot(r1n, r2n))
    angle = np.where(far, -(2.0 * np.pi - angle), angle)
    live = status != NO_WRAP
    rows = idx[live]
    code[idx] = status
    r1o[rows] = r1[live]
    r2o[rows] = r2[live]
    wlen[rows] = R * angle[live]
    return code, r1o, r2o, wlen


# ------------------------------------------------------------------------------- ellipsoid
_ELL_TINY = 1e-8
_MU_BLEND_MIN = 0.7073
_MU_BLEND_MAX = 0.9
_NUM_FAN_SAMPLES = 300
_SV_BOUNDARY_BLEND = 0.3


def _closest_on_ellipse(a: float, b: float, u: Array, v: Array) -> tuple[Array, Array]:
    """Closest point of the ellipse (x/a)^2 + (y/b)^2 = 1 to (u, v) (Eberly's Newton iteration)."""
    a2, b2 = a * a, b * b
    a2u2, b2v2 = a2 * u * u, b2 * v * v
    x = np.zeros_like(u)
    y = np.zeros_like(v)
    nx = np.abs(u) <= _ROUNDOFF
    ny = np.abs(v) <= _ROUNDOFF
    both = nx & ny
    if a < b:
        x = np.where(both, np.where(u < 0.0, -a, a), x)
        y = np.where(both, v, y)
    else:
        x = np.where(both, u, x)
        y = np.where(both, np.where(v < 0.0, -b, b), y)
    only_x = nx & ~ny
    if np.any(only_x):
        c1 = (a >= b) | (np.abs(v) >= b - a2 / b)
        yy = b2 * v / (b2 - a2) if b2 != a2 else v
        x = np.where(only_x, np.where(c1, u, a * np.sqrt(np.abs(1 - (yy / b) ** 2))), x)
        y = np.where(only_x, np.where(c1, np.where(v >= 0, b, -b), yy), y)
    only_y = ny & ~nx
    if np.any(only_y):
        c2 = (b >= a) | (np.abs(u) >= a - b2 / a)
        xx = a2 * u / (a2 - b2) if a2 != b2 else u
        x = np.where(only_y, np.where(c2, np.where(u >= 0, a, -a), xx), x)
        y = np.where(only_y, np.where(c2, v, b * np.sqrt(np.abs(1 - (xx / a) ** 2))), y)
    gen = ~nx & ~ny
    if np.any(gen):
        uu, vv = u[gen], v[gen]
        au, bv = a2u2[gen], b2v2[gen]
        inside = (uu / a) ** 2 + (vv / b) ** 2 < 1.0
        t = np.where(inside, 0.0, max(a, b) * np.sqrt(uu * uu + vv * vv))
        P = np.zeros_like(t)
        Q = np.zeros_like(t)
        live = np.ones(t.shape, dtype=bool)
        for _ in range(64):
            Pn, Qn = t + a2, t + b2
            P = np.where(live, Pn, P)
            Q = np.where(live, Qn, Q)
            f = P * P * Q * Q - au * Q * Q - bv * P * P
            live &= ~(np.abs(f) < 1e-9)
            if not np.any(live):
                break
            fp = 2.0 * (P * Q * (P + Q) - au * Q - bv * P)
            with np.errstate(divide="ignore", invalid="ignore"):
                t = np.where(live, t - f / fp, t)
        x[gen] = a2 * uu / P
        y[gen] = b2 * vv / Q
    return x, y


def _closest_on_ellipsoid(
    radii: Array, dims: Array, pts: Array, special: int = -1
) -> Array:
    """WrapEllipsoid::findClosestPoint for points ``pts`` ``(N, 3)`` (radii already normalised)."""
    a, b, c = (float(r) for r in radii)
    u, v, w = pts[:, 0], pts[:, 1], pts[:, 2]
    N = pts.shape[0]
    if special >= 0:
        axis = np.full(N, special)
    else:
        axis = np.full(N, -1)
        best = np.full(N, np.inf)
        for i in range(3):
            near = np.abs(pts[:, i]) <= _ROUNDOFF
            s = float(sum(dims[j] for j in range(3) if j != i))
            take = near & (best > s)
            axis = np.where(take, i, axis)
            best = np.where(take, s, best)
    out = pts.copy()
    for ax, (i1, i2, r1_, r2_) in enumerate(((1, 2, b, c), (2, 0, c, a), (0, 1, a, b))):
        sel = axis == ax
        if np.any(sel):
            e1, e2 = _closest_on_ellipse(r1_, r2_, pts[sel, i1], pts[sel, i2])
            out[sel, i1], out[sel, i2] = e1, e2
    gen = axis < 0
    if np.any(gen):
        a2, b2, c2 = a * a, b * b, c * c
        uu, vv, ww = u[gen], v[gen], w[gen]
        a2u2, b2v2, c2w2 = a2 * uu * uu, b2 * vv * vv, c2 * ww * ww
        inside = (uu / a) ** 2 + (vv / b) ** 2 + (ww / c) ** 2 < 1.0
        t = np.where(inside, 0.0, max(a, b, c) * np.sqrt(uu * uu + vv * vv + ww * ww))
        live = np.ones(t.shape, dtype=bool)
        res = np.stack([uu, vv, ww], axis=1)
        for _ in range(64):
            P, Q, R = t + a2, t + b2, t + c2
            f = P * P * Q * Q * R * R - a2u2 * Q * Q * R * R - b2v2 * P * P * R * R - c2w2 * P * P * Q * Q
            hit = live & (np.abs(f) < 1e-9)
            if np.any(hit):
                res[hit] = np.stack([a2 * uu / P, b2 * vv / Q, c2 * ww / R], axis=1)[hit]
            live &= ~hit
            if not np.any(live):
                break
            PQ, PR, QR = P * Q, P * R, Q * R
            fp = 2.0 * (PQ * R * (QR + PR + PQ) - a2u2 * QR * (Q + R) - b2v2 * PR * (P + R) - c2w2 * PQ * (P + Q))
            with np.errstate(divide="ignore", invalid="ignore"):
                t = np.where(live, t - f / fp, t)
        out[gen] = res
    return out


def _tangent_residual(r: Array, d: Array, p: Array, a: Array, vs: Array, vs4: Array) -> tuple[Array, Array]:
    nr = 2.0 * r / (a * a)
    ee = np.stack(
        [_dot(vs, r) + vs4, np.sum((r / a) ** 2, axis=1) - 1.0, _dot(nr, r) + d, _dot(nr, p) + d], axis=1
    )
    return ee, np.sum(ee * ee, axis=1)


def _tangent_point(pe: Array, r: Array, p: Array, a: Array, vs: Array, vs4: Array) -> Array:
    """WrapEllipsoid::calcTangentPoint: move ``r`` so that p-r is tangent in the plane (vs, vs4)."""
    r = r.copy()
    done = np.abs(pe) < 1e-4
    r[done] = p[done]
    idx = np.nonzero(~done)[0]
    if idx.size == 0:
        return r
    R, P, VS, V4 = r[idx], p[idx], vs[idx], vs4[idx]
    d = -_dot(2.0 * R / (a * a), R)
    ee, ssq = _tangent_residual(R, d, P, a, VS, V4)
    ssqo = ssq.copy()
    alpha = np.full(idx.size, 0.01)
    p1m, _ = _normalize(P)
    for _ in range(50):
        act = ssq > _ELL_TINY
        if not np.any(act):
            break
        k = np.nonzero(act)[0]
        Rk, Pk, VSk = R[k], P[k], VS[k]
        ded = np.zeros((k.size, 4, 4))
        ded[:, :3, 0] = VSk
        ded[:, :3, 1] = 2.0 * Rk / (a * a)
        ded[:, :3, 2] = 2.0 * (2.0 * Rk) / (a * a)
        ded[:, :3, 3] = 2.0 * Pk / (a * a)
        ded[:, 3, 2] = 1.0
        ded[:, 3, 3] = 1.0
        p1r1, _ = _normalize(Pk - Rk)
        pcos = _dot(p1r1, p1m[k])
        dd = np.where(pcos > 0.1, 1.0 - np.power(np.abs(pcos), 100) * np.sign(pcos), 1.0)
        v = -np.einsum("kij,kj->ki", ded, ee[k])
        ded2 = ded @ np.transpose(ded, (0, 2, 1))
        diag = np.diagonal(ded2, axis1=1, axis2=2).copy()
        vt = np.zeros((k.size, 4))
        s_, so = ssq[k], ssqo[k]
        al = alpha[k]
        dk = d[k]
        eek = ee[k]
        loop = s_ >= so
        for _ in range(1000):
            if not np.any(loop):
                break
            j = np.nonzero(loop)[0]
            m2 = ded2[j].copy()
            m2[:, [0, 1, 2, 3], [0, 1, 2, 3]] = diag[j] * (1.0 + al[j])[:, None]
            inv = np.linalg.inv(m2)
            vt[j] = dd[j][:, None] * np.einsum("kij,kj->ki", inv, v[j]) / 16.0
            Rk[j] += vt[j, :3]
            dk[j] += vt[j, 3]
            e_new, s_new = _tangent_residual(Rk[j], dk[j], Pk[j], a, VSk[j], V4[k][j])
            eek[j] = e_new
            so[j] = s_[j]
            s_[j] = s_new
            al[j] *= 4.0
            loop[j] = s_new >= so[j]
        al /= 8.0
        fakt = np.full(k.size, 0.5)
        loop = s_ <= so
        for _ in range(1000):
            if not np.any(loop):
                break
            j = np.nonzero(loop)[0]
            fakt[j] *= 2.0
            Rk[j] += vt[j, :3] * fakt[j, None]
            dk[j] += vt[j, 3] * fakt[j]
            e_new, s_new = _tangent_residual(Rk[j], dk[j], Pk[j], a, VSk[j], V4[k][j])
            eek[j] = e_new
            so[j] = s_[j]
            s_[j] = s_new
            loop[j] = s_new <= so[j]
        Rk -= vt[:, :3] * fakt[:, None]
        dk -= vt[:, 3] * fakt
        eek, s_ = _tangent_residual(Rk, dk, Pk, a, VSk, V4[k])
        R[k], d[k], ee[k], ssq[k], ssqo[k], alpha[k] = Rk, dk, eek, s_, s_, al
    r[idx] = R
    return r


def _ellipsoid_surface_path(
    r1: Array, r2: Array, a: Array, vs: Array, vs4: Array, far: Array, factor: float
) -> tuple[Array, Array, Array, Array]:
    """WrapEllipsoid::CalcDistanceOnEllipsoid: (length, n_points, second point, second-last point)."""
    length = np.linalg.norm(r1 - r2, axis=1) / factor
    short = length < 0.001
    nseg = np.clip((length / 0.001).astype(int), 1, 499)
    out_len = np.where(short, length * factor, 0.0)
    npts = np.where(short, 2, nseg + 1)
    w1 = r2.copy()
    w2 = r1.copy()
    idx = np.nonzero(~short)[0]
    if idx.size:
        R1, R2, VS, V4, F = r1[idx], r2[idx], vs[idx], vs4[idx], far[idx]
        ns = nseg[idx]
        imax = np.argmax(np.abs(VS), axis=1)  # first maximum, as OpenSim's strict '>' scan
        u = np.zeros_like(VS)
        u[np.arange(idx.size), imax] = 1.0
        mu = (-V4) / _dot(VS, u)
        a0 = mu[:, None] * u
        ar1, _ = _normalize(R1 - a0)
        ar2, _ = _normalize(R2 - a0)
        phi0 = np.arccos(np.clip(_dot(ar1, ar2), -np.inf, np.inf))
        dphi = np.where(F, -(2 * np.pi - phi0) / ns, phi0 / ns)
        vsz, _ = _normalize(np.cross(ar1, ar2))
        vsy = np.cross(vsz, ar1)
        nmax = int(ns.max())
        i = np.arange(1, nmax)  # interior points 1..n-1
        phi = dphi[:, None] * i[None, :]
        r = np.cos(phi)[:, :, None] * ar1[:, None, :] + np.sin(phi)[:, :, None] * vsy[:, None, :]
        f1 = r / a
        f2 = (a0 / a)[:, None, :]
        aa = np.sum(f1 * f1, axis=2)
        bb = 2.0 * np.sum(f1 * f2, axis=2)
        cc = np.sum(f2 * f2, axis=2) - 1.0
        with np.errstate(invalid="ignore"):
            mu3 = (-bb + np.sqrt(bb * bb - 4.0 * aa * cc)) / (2.0 * aa)
        s = a0[:, None, :] + mu3[:, :, None] * r
        pts = np.concatenate([R1[:, None, :], s, np.zeros((idx.size, 1, 3))], axis=1)
        rows = np.arange(idx.size)
        pts[rows, ns] = R2  # the end point goes right after the last interior point
        seg = np.linalg.norm(np.diff(pts, axis=1), axis=2)
        used = np.arange(nmax)[None, :] < ns[:, None]
        out_len[idx] = np.sum(np.where(used, seg, 0.0), axis=1)
        w1[idx] = pts[:, 1]
        w2[idx] = pts[rows, ns - 1]
    return out_len, npts, w1, w2


def wrap_ellipsoid(
    p1: Array, p2: Array, dimensions: Array, wrap_axis: int, wrap_sign: int, method: str = "hybrid",
    *, compiled: bool = False,
) -> tuple[NDArray[np.int_], Array, Array, Array]:
    """OpenSim ``WrapEllipsoid::wrapLine`` for ``n`` segments ``p1 -> p2`` ``(n, 3)`` in the wrap frame.

    ``dimensions`` are the three radii (m). ``method`` is the PathWrap's "hybrid", "midpoint" or
    "axial". Returns ``(status (n,), r1 (n, 3), r2 (n, 3), wrap_length (n,))``. ``compiled``: run
    the numba port (:mod:`~iliopsoas.mechanics._ellipsoid_kernels`, one segment at a time) instead
    of this NumPy code, which is the reference it is tested against.
    """
    p1 = np.asarray(p1, dtype=float)
    p2 = np.asarray(p2, dtype=float)
    n = p1.shape[0]
    dims = np.asarray(dimensions, dtype=float)
    if compiled:
        if _ELL_KERNEL is None:
            raise RuntimeError("the compiled ellipsoid kernel needs numba")
        code_c = np.zeros(n, dtype=np.int64)
        r1c, r2c, wl_c = np.zeros((n, 3)), np.zeros((n, 3)), np.zeros(n)
        # writable C arrays always (a model's dimensions are read-only): one compiled specialisation
        _ELL_KERNEL(np.require(p1, np.float64, ("C", "W")), np.require(p2, np.float64, ("C", "W")),
                    np.array(dims, dtype=np.float64), int(wrap_axis), int(wrap_sign), _ELL_METHODS.get(method, 1),
                    code_c, r1c, r2c, wl_c)
        return code_c.astype(int), r1c, r2c, wl_c
    factor = 3.0 / float(dims.sum())
    a = dims * factor
    P1, P2 = p1 * factor, p2 * factor
    code = np.full(n, NO_WRAP, dtype=int)
    r1o = np.zeros((n, 3))
    r2o = np.zeros((n, 3))
    wlen = np.zeros(n)
    p1e = np.sum((P1 / a) ** 2, axis=1) - 1.0
    p2e = np.sum((P2 / a) ** 2, axis=1) - 1.0
    inside = (p1e < -0.0001) | (p2e < -0.0001)
    code[inside] = INSIDE_RADIUS
    u1, _ = _normalize(P1)
    u2, _ = _normalize(P2)
    ppm = _dot(u1, u2) - 1.0
    p1p2 = P1 - P2
    f1 = p1p2 / a
    f2 = P2 / a
    aa = _dot(f1, f1)
    bb = 2.0 * _dot(f1, f2)
    cc = _dot(f2, f2) - 1.0
    disc = bb * bb - 4.0 * aa * cc
    with np.errstate(invalid="ignore", divide="ignore"):
        l1 = (-bb + np.sqrt(disc)) / (2.0 * aa)
        l2 = (-bb - np.sqrt(disc)) / (2.0 * aa)
        ok = ~inside & ~(np.abs(ppm) < 0.0001) & ~(disc < 0.0)
        ok &= (0.0 < l1) & (l1 < 1.0) & (0.0 < l2) & (l2 < 1.0)
    idx = np.nonzero(ok)[0]
    if idx.size == 0:
        return code, r1o, r2o, wlen
    K = idx.size
    A, B, PP = P1[idx], P2[idx], p1p2[idx]
    r1 = B + l1[idx, None] * PP
    r2 = B + l2[idx, None] * PP
    r1r2 = r2 - r1
    mu, _ = _normalize(PP)
    mu = np.abs(mu)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = -r1 / r1r2
    t_sv = r1[:, None, :] + t[:, :, None] * r1r2[:, None, :]  # (K, 3 axes, 3)
    t_c1 = np.stack([_closest_on_ellipsoid(a, dims, t_sv[:, i], special=i) for i in range(3)], axis=1)
    best = np.argmax(mu, axis=1)
    rows = np.arange(K)
    mub = mu[rows, best].copy()
    tb = t[rows, best]
    c1 = np.zeros((K, 3))
    sv = np.zeros((K, 3))
    fan_weight = np.full(K, -np.inf)
    if method in ("hybrid", "axial"):
        if method == "hybrid":
            blend = mub > _MU_BLEND_MIN
            s = np.ones(K)
            s = np.where((tb < 0.0) | (tb > 1.0), 0.0,
                         np.where(tb < _SV_BOUNDARY_BLEND, tb / _SV_BOUNDARY_BLEND,
                                  np.where(tb > 1.0 - _SV_BOUNDARY_BLEND, (1.0 - tb) / _SV_BOUNDARY_BLEND, 1.0)))
            adj = blend & (s < 1.0)
            mub = np.where(adj, _MU_BLEND_MIN + s * (mub - _MU_BLEND_MIN), mub)
        use_axial = np.ones(K, dtype=bool) if method == "axial" else mub > _MU_BLEND_MIN
        c1 = np.where(use_axial[:, None], t_c1[rows, best], c1)
        sv = np.where(use_axial[:, None], t_sv[rows, best], sv)
        if method == "hybrid":
            fan = mub < _MU_BLEND_MAX
            if np.any(fan):
                j = np.nonzero(fan)[0]
                mid = r1[j] + 0.5 * r1r2[j]
                tt = np.arange(1, _NUM_FAN_SAMPLES - 1) / _NUM_FAN_SAMPLES
                samples = r1[j, None, :] + tt[None, :, None] * r1r2[j, None, :]
                flat = samples.reshape(-1, 3)
                cp = _closest_on_ellipsoid(a, dims, flat).reshape(samples.shape)
                vv, _ = _normalize(cp - samples)
                v_sum, _ = _normalize(vv.sum(axis=1))
                guess = mid + v_sum
                full = mub[j] <= _MU_BLEND_MIN
                c_full = _closest_on_ellipsoid(a, dims, guess)
                ttb = (mub[j] - _MU_BLEND_MIN) / (_MU_BLEND_MAX - _MU_BLEND_MIN)
                blend_c = ttb[:, None] * c1[j] + (1.0 - ttb)[:, None] * c_full
                c_blend = _closest_on_ellipsoid(a, dims, blend_c)
                c1[j] = np.where(full[:, None], c_full, c_blend)
                sv[j] = np.where(full[:, None], mid, ttb[:, None] * sv[j] + (1.0 - ttb)[:, None] * mid)
                fan_weight[j] = np.where(full, 1.0, 1.0 - ttb)
    else:
        sv = r1 + 0.5 * (r2 - r1)
        c1 = _closest_on_ellipsoid(a, dims, sv)
    use_c1 = np.ones(K, dtype=bool) if method != "axial" else (tb > 0.0) & (tb < 1.0)
    r1 = np.where(use_c1[:, None], c1, r1)
    r2 = np.where(use_c1[:, None], c1, r2)
    if wrap_sign != 0:
        flip = _sign(c1[:, wrap_axis]) != wrap_sign
        if np.any(flip):
            orig = c1.copy()
            c1[flip, wrap_axis] = -c1[flip, wrap_axis]
            r1 = np.where(flip[:, None], c1, r1)
            r2 = np.where(flip[:, None], c1, r2)
            # OpenSim tests "fanWeight == -inf" with a tolerance, which is never true for -inf
            # itself (inf - inf is NaN), so a wrap that did not use the fan keeps -inf here.
            fw = np.minimum(fan_weight, 1.0)
            move = flip & (fw > 0.0)
            if np.any(move):
                # only the rows that move: elsewhere fw may be -inf, and -inf * 0 is NaN
                bis = (orig[move, wrap_axis] + c1[move, wrap_axis]) / 2.0
                tc = c1[move].copy()
                tc[:, wrap_axis] = c1[move, wrap_axis] + fw[move] * (bis - c1[move, wrap_axis])
                c1[move] = _closest_on_ellipsoid(a, dims, tc)
    vs, _ = _normalize(np.cross(PP, A - c1))
    vs4 = -_dot(vs, c1)
    r1 = _tangent_point(p1e[idx], r1, A, a, vs, vs4)
    r2 = _tangent_point(p2e[idx], r2, B, a, vs, vs4)
    far = np.zeros(K, dtype=bool)
    length, npts, w1, w2 = _ellipsoid_surface_path(r1, r2, a, vs, vs4, far, factor)
    if wrap_sign != 0:
        d1, _ = _normalize(A - r1)
        e1, _ = _normalize(w1 - r1)
        d2, _ = _normalize(B - r2)
        e2, _ = _normalize(w2 - r2)
        redo = (npts > 2) & ((_dot(d1, e1) > 0.0) | (_dot(d2, e2) > 0.0))
        if np.any(redo):
            far[redo] = True
            l2_, _, _, _ = _ellipsoid_surface_path(r1[redo], r2[redo], a, vs[redo], vs4[redo], far[redo], factor)
            length[redo] = l2_
    code[idx] = MANDATORY_WRAP
    r1o[idx] = r1 / factor
    r2o[idx] = r2 / factor
    wlen[idx] = length / factor
    return code, r1o, r2o, wlen
