"""Smooth wrapping: the shortest path over a wrap surface, C¹ in the end points (NumPy reference).

``load_osim(path, wrapping="smooth")`` computes paths with these functions (and their compiled
twins in :mod:`iliopsoas.mechanics._smooth_kernels`) instead of OpenSim's ``wrapLine``. The rules
of *when* a segment wraps and *on which side* are OpenSim's, stated as geometry instead of as
quadrant tests on candidate points; *how* it wraps is the exact shortest path:

* **Cylinder** (axis z, infinite): seen along the axis, the path leaves the end point ``P1`` on a
  tangent line of the circle, runs along the circle through the angle ``theta`` and leaves on a
  tangent line to ``P2``. Angles are measured from a reference direction ``e`` on the side the
  path must pass: the constrained half-axis (``-y`` ...) when the wrap has a quadrant, else the
  side on which the straight line passes. With ``a1``, ``a2`` the angles of ``P1``, ``P2`` from
  ``e`` (in ``(-pi, pi]``) and ``b_i = acos(R / d_i)``, the path wraps when
  ``theta = |a2 - a1| - b1 - b2 > 0``. This is OpenSim's rule for cylinders (a constrained
  cylinder also pulls a line that passes on the wrong side round the constrained side), and it is
  continuous: at ``theta = 0`` the path touches the circle at one point. Unrolled, the surface
  part is a helix and the whole path a straight line of horizontal length
  ``S = h1 + R theta + h2`` (``h_i = sqrt(d_i^2 - R^2)``) and rise ``z2 - z1``: closed form, no
  iteration, no stopping tolerance.
* **Sphere**: the same construction in the plane through the centre and both end points, with
  OpenSim's rule that a sphere is wrapped only when the segment enters it; a quadrant chooses the
  side (the constrained axis projected into that plane).
* **Ellipsoid**: the geodesic, found by shooting (see :func:`smooth_ellipsoid`).

Because the tangent points are those of the exact shortest path, the derivative of the path
length with respect to an end point is the unit vector along the path there (the envelope
theorem), so the moment arm computed by projecting a unit tension at the path points is the true
``-dL/dq``.

Known non-smooth places, all from the rules rather than from the algorithm: an end point inside
the surface (no wrap, as OpenSim); an unconstrained surface whose straight line passes through the
centre (two shortest paths of equal length, one on each side); an end point crossing the ray
opposite a constrained side (the path would have to wind round the other way); a sphere or
ellipsoid whose segment leaves it on the wrong side of a quadrant. Cylinders are treated as
infinitely long (OpenSim drops a wrap whose tangent points both lie beyond the ends).

Inputs and outputs follow :mod:`iliopsoas.mechanics.wrap`: segments ``p1``, ``p2`` ``(n, 3)`` in
the wrap frame; returns ``(status (n,), r1 (n, 3), r2 (n, 3), wrap length (n,))``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from iliopsoas.mechanics.wrap import INSIDE_RADIUS, MANDATORY_WRAP, NO_WRAP, WRAPPED

Array = NDArray[np.float64]
IntArray = NDArray[np.int_]


def _dot(a: Array, b: Array) -> Array:
    return np.einsum("...i,...i->...", a, b)


def _line_side(x1: Array, y1: Array, x2: Array, y2: Array) -> tuple[Array, Array]:
    """Unit direction from the origin to the closest point of the line through the two points
    (a fixed normal of the line when the line passes through the origin)."""
    dx, dy = x2 - x1, y2 - y1
    dd = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = -(x1 * dx + y1 * dy) / dd
        fx, fy = x1 + t * dx, y1 + t * dy
        fm = np.hypot(fx, fy)
        nm = np.sqrt(dd)
        ok = fm > 1e-12 * np.maximum(nm, 1e-300)
        ex = np.where(ok, fx / fm, -dy / nm)
        ey = np.where(ok, fy / fm, dx / nm)
    return ex, ey



def _unit3(v: Array) -> Array:
    with np.errstate(invalid="ignore", divide="ignore"):
        return v / np.sqrt(_dot(v, v))[:, None]


def _angles(x: Array, y: Array, ex: Array, ey: Array) -> Array:
    return np.arctan2(ex * y - ey * x, ex * x + ey * y)


def _planar_path(x1: Array, y1: Array, x2: Array, y2: Array, ex: Array, ey: Array, R: float,
                 in1: NDArray[np.bool_], in2: NDArray[np.bool_]) -> dict[str, Array]:
    """The planar part of a wrap round the circle of radius ``R``, passing on the side of
    ``(ex, ey)``; an end point inside the circle counts as its radial projection onto it."""
    rho1 = np.hypot(x1, y1)
    rho2 = np.hypot(x2, y2)
    a1 = _angles(x1, y1, ex, ey)
    a2 = _angles(x2, y2, ex, ey)
    with np.errstate(invalid="ignore", divide="ignore"):
        b1 = np.where(in1, 0.0, np.arccos(np.minimum(R / rho1, 1.0)))
        b2 = np.where(in2, 0.0, np.arccos(np.minimum(R / rho2, 1.0)))
        h1 = np.where(in1, 0.0, np.sqrt(np.maximum(rho1 * rho1 - R * R, 0.0)))
        h2 = np.where(in2, 0.0, np.sqrt(np.maximum(rho2 * rho2 - R * R, 0.0)))
    s = np.where(a2 >= a1, 1.0, -1.0)
    theta = np.abs(a2 - a1) - b1 - b2
    base = np.arctan2(ey, ex)
    dx, dy = x2 - x1, y2 - y1
    dd = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.clip(-(x1 * dx + y1 * dy) / dd, 0.0, 1.0)
    cx, cy = x1 + t * dx, y1 + t * dy
    hit = (cx * cx + cy * cy < R * R) & (dd > 0.0)
    return {"theta": theta, "phi1": base + a1 + s * b1, "phi2": base + a2 - s * b2, "h1": h1, "h2": h2,
            "s": s, "hit": hit, "rho1": rho1, "rho2": rho2, "own1": base + a1, "own2": base + a2}


def _status(in1: NDArray[np.bool_], in2: NDArray[np.bool_], theta: Array, hit: NDArray[np.bool_],
            needs_hit: bool) -> tuple[IntArray, NDArray[np.bool_]]:
    """Status and where to insert tangent points: where the path wraps (theta > 0; for a sphere the
    segment must also enter it), or where an end point lies inside and the path from its
    projection onto the surface would wrap (theta >= 0). An inside end point from whose
    projection the path leaves the surface straight away is left alone (no wrap, as OpenSim)."""
    inside = in1 | in2
    wrap = (theta > 0.0) & (hit if needs_hit else True)
    insert = wrap | (inside & (theta >= 0.0))
    wrap = insert
    code = np.where(wrap & (inside | hit), MANDATORY_WRAP, np.where(wrap, WRAPPED, NO_WRAP))
    return code.astype(int), insert


def smooth_cylinder(p1: Array, p2: Array, radius: float, wrap_axis: int,
                    wrap_sign: int) -> tuple[IntArray, Array, Array, Array, Array, Array]:
    """Shortest path from ``p1`` to ``p2`` ``(n, 3)`` round the infinite cylinder of ``radius``
    about the frame's z axis, on the constrained side (``wrap_sign`` != 0 on axis ``wrap_axis``
    0 or 1) or else on the side the straight line passes.

    Returns ``(status, r1, r2, wrap length, u1, u2)``. Status ``MANDATORY_WRAP``: the straight
    segment cuts the cross-section circle (or an end point lies inside it); ``WRAPPED``: only the
    quadrant makes it wrap; ``NO_WRAP``. An end point inside the cylinder is taken as its radial
    projection onto the surface, so the length stays C¹ as a point crosses the surface while the
    path wraps; its tangent point is the end point itself, and ``u1`` (``u2``) is the direction a
    unit tension pulls on it (zero for end points outside, where the chord gives it).
    """
    p1 = np.asarray(p1, dtype=float)
    p2 = np.asarray(p2, dtype=float)
    n = p1.shape[0]
    R = float(radius)
    x1, y1, z1 = p1[:, 0], p1[:, 1], p1[:, 2]
    x2, y2, z2 = p2[:, 0], p2[:, 1], p2[:, 2]
    if wrap_sign != 0 and wrap_axis in (0, 1):
        ex = np.full(n, float(wrap_sign) if wrap_axis == 0 else 0.0)
        ey = np.full(n, float(wrap_sign) if wrap_axis == 1 else 0.0)
    else:
        ex, ey = _line_side(x1, y1, x2, y2)
    in1 = x1 * x1 + y1 * y1 < R * R
    in2 = x2 * x2 + y2 * y2 < R * R
    pl = _planar_path(x1, y1, x2, y2, ex, ey, R, in1, in2)
    code, insert = _status(in1, in2, pl["theta"], pl["hit"].astype(bool), needs_hit=False)
    phi1, phi2 = pl["phi1"], pl["phi2"]
    arc = R * np.maximum(pl["theta"], 0.0)
    h1, h2, s = pl["h1"], pl["h2"], pl["s"]
    S = h1 + arc + h2
    dz = z2 - z1
    Lt = np.hypot(S, dz)
    pos = S > 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        zA = np.where(pos, z1 + dz * h1 / S, z1)
        zB = np.where(pos, z1 + dz * (h1 + arc) / S, z2)
        wl = np.where(pos, arc * Lt / S, np.abs(dz))
        cS = np.where(Lt > 0.0, S / Lt, 0.0)
        cz = np.where(Lt > 0.0, dz / Lt, 0.0)
    r1 = np.stack([R * np.cos(phi1), R * np.sin(phi1), zA], axis=1)
    r2 = np.stack([R * np.cos(phi2), R * np.sin(phi2), zB], axis=1)
    # the path's direction (the helix tangent) at the projections of inside end points
    tau1 = np.stack([-cS * s * np.sin(phi1), cS * s * np.cos(phi1), cz], axis=1)
    tau2 = np.stack([-cS * s * np.sin(phi2), cS * s * np.cos(phi2), cz], axis=1)
    u1 = _pull_cylinder(p1, pl["rho1"], R, tau1, in1)
    u2 = _pull_cylinder(p2, pl["rho2"], R, tau2, in2)
    r1 = np.where(in1[:, None], p1, r1)
    r2 = np.where(in2[:, None], p2, r2)
    for a in (r1, r2, u1, u2):
        a[~insert] = 0.0
    return code, r1, r2, np.where(insert, wl, 0.0), u1, u2


def _pull_cylinder(p: Array, rho: Array, R: float, w: Array, inside: NDArray[np.bool_]) -> Array:
    """``J^T w`` for the radial projection ``J`` onto the cylinder at inside points (else 0): the
    pull of a unit tension whose path leaves the projection in direction ``w``."""
    phi = np.arctan2(p[:, 1], p[:, 0])
    tx, ty = -np.sin(phi), np.cos(phi)
    with np.errstate(invalid="ignore", divide="ignore"):
        k = (R / np.maximum(rho, 1e-12 * R)) * (w[:, 0] * tx + w[:, 1] * ty)
    out = np.stack([k * tx, k * ty, w[:, 2]], axis=1)
    out[~inside] = 0.0
    return out


def _plane_normal(p1: Array, p2: Array) -> Array:
    """Unit normal of the plane through the origin and both points (any plane through the line
    when they are collinear with the origin)."""
    nrm = np.cross(p1, p2)
    mag = np.sqrt(_dot(nrm, nrm))
    scale = np.sqrt(_dot(p1, p1) * _dot(p2, p2))
    degenerate = mag <= 1e-12 * np.maximum(scale, 1e-300)
    if np.any(degenerate):
        u = p2[degenerate] - p1[degenerate]
        u = np.where(_dot(u, u)[:, None] > 0.0, u, p1[degenerate])
        alt = np.cross(u, np.eye(3)[np.argmin(np.abs(u), axis=1)])
        nrm[degenerate] = alt
        mag[degenerate] = np.sqrt(_dot(alt, alt))
    with np.errstate(invalid="ignore", divide="ignore"):
        return nrm / mag[:, None]


def smooth_sphere(p1: Array, p2: Array, radius: float, wrap_axis: int,
                  wrap_sign: int) -> tuple[IntArray, Array, Array, Array, Array, Array]:
    """Shortest path from ``p1`` to ``p2`` ``(n, 3)`` over the sphere of ``radius`` at the origin
    when the straight segment enters the sphere (OpenSim's rule), round the constrained side
    (``wrap_sign`` != 0 on axis ``wrap_axis``, projected into the plane of the path) or else the side
    the segment passes. Same outputs and inside-point rule as :func:`smooth_cylinder`."""
    p1 = np.asarray(p1, dtype=float)
    p2 = np.asarray(p2, dtype=float)
    R = float(radius)
    nrm = _plane_normal(p1, p2)
    u = _unit3(p1)
    v = np.cross(nrm, u)
    x1, y1 = _dot(p1, u), _dot(p1, v)
    x2, y2 = _dot(p2, u), _dot(p2, v)
    ex, ey = _line_side(x1, y1, x2, y2)
    if wrap_sign != 0:
        c = np.zeros(3)
        c[wrap_axis] = float(wrap_sign)
        cx, cy = u @ c, v @ c
        cm = np.hypot(cx, cy)
        ok = cm > 1e-12
        with np.errstate(invalid="ignore", divide="ignore"):
            ex = np.where(ok, cx / cm, ex)
            ey = np.where(ok, cy / cm, ey)
    in1 = _dot(p1, p1) < R * R
    in2 = _dot(p2, p2) < R * R
    pl = _planar_path(x1, y1, x2, y2, ex, ey, R, in1, in2)
    code, insert = _status(in1, in2, pl["theta"], pl["hit"].astype(bool), needs_hit=True)
    phi1, phi2 = pl["phi1"], pl["phi2"]
    s = pl["s"][:, None]
    r1 = R * (np.cos(phi1)[:, None] * u + np.sin(phi1)[:, None] * v)
    r2 = R * (np.cos(phi2)[:, None] * u + np.sin(phi2)[:, None] * v)
    tau1 = s * (-np.sin(phi1)[:, None] * u + np.cos(phi1)[:, None] * v)
    tau2 = s * (-np.sin(phi2)[:, None] * u + np.cos(phi2)[:, None] * v)
    u1 = _pull_sphere(p1, R, tau1, in1)
    u2 = _pull_sphere(p2, R, tau2, in2)
    r1 = np.where(in1[:, None], p1, r1)
    r2 = np.where(in2[:, None], p2, r2)
    wl = R * np.maximum(pl["theta"], 0.0)
    for a in (r1, r2, u1, u2):
        a[~insert] = 0.0
    return code, r1, r2, np.where(insert, wl, 0.0), u1, u2


def _pull_sphere(p: Array, R: float, w: Array, inside: NDArray[np.bool_]) -> Array:
    """``J^T w`` for the radial projection onto the sphere at inside points (else 0)."""
    d = np.sqrt(_dot(p, p))
    ph = _unit3(p)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (R / np.maximum(d, 1e-12 * R))[:, None] * (w - _dot(w, ph)[:, None] * ph)
    out[~inside] = 0.0
    return out


# ------------------------------------------------------------------------------- ellipsoid
# RK4 steps of a geodesic: at most STEP_FRACTION times the ellipsoid's smallest radius of curvature
# (b^2 / a), counted on the first guess of its length (so fixed while Newton's method runs)
STEP_FRACTION = 0.1
MAX_STEPS = 2000
_NEWTON_TOL = 1e-13
_NEWTON_ITERATIONS = 40


def _geodesic_rhs(x: Array, t: Array, A: Array) -> tuple[Array, Array]:
    """Geodesic equations on the ellipsoid ``x^T A x = 1``: ``x' = t``, ``t' = -(t^T A t / |A x|^2) A x``."""
    ax = x * A
    alpha = _dot(t * A, t) / _dot(ax, ax)
    return t, -alpha[:, None] * ax


def _geodesic(x: Array, t: Array, length: Array, A: Array, steps: NDArray[np.int_]) -> tuple[Array, Array]:
    """End point and unit tangent after ``length`` along the geodesic from ``(x, t)``: ``steps``
    ``(k,)`` RK4 steps per row."""
    h = (length / steps)[:, None]
    for i in range(int(steps.max(initial=0))):
        on = (i < steps)[:, None]
        k1x, k1t = _geodesic_rhs(x, t, A)
        k2x, k2t = _geodesic_rhs(x + 0.5 * h * k1x, t + 0.5 * h * k1t, A)
        k3x, k3t = _geodesic_rhs(x + 0.5 * h * k2x, t + 0.5 * h * k2t, A)
        k4x, k4t = _geodesic_rhs(x + h * k3x, t + h * k3t, A)
        x = np.where(on, x + (h / 6.0) * (k1x + 2.0 * k2x + 2.0 * k3x + k4x), x)
        t = np.where(on, t + (h / 6.0) * (k1t + 2.0 * k2t + 2.0 * k3t + k4t), t)
    return x, t


def _polar_point(c: Array, rho: Array, u: Array, v: Array, psi: Array, D: Array) -> Array:
    """The point at angle ``psi`` of an end point's circle of tangency (in the unit-sphere image:
    centre ``c``, radius ``rho``, in-plane basis ``u``, ``v``), mapped back onto the ellipsoid."""
    return D * (c + rho[:, None] * (np.cos(psi)[:, None] * u + np.sin(psi)[:, None] * v))


def _shoot(psi: Array, length: Array, p1: Array, p2: Array, c: Array, rho: Array, u: Array, v: Array,
           D: Array, A: Array, steps: NDArray[np.int_]) -> tuple[Array, Array, Array, Array]:
    """Residuals of the two tangency conditions at the far end, and the path's tangent points."""
    x0 = _polar_point(c, rho, u, v, psi, D)
    t0 = _unit3(x0 - p1)
    x, t = _geodesic(x0, t0, length, A, steps)
    f1 = _dot(x * A, p2) - 1.0  # the line x -> p2 touches the ellipsoid at x
    nrm = _unit3(x * A)
    w = _unit3(p2 - x)
    # ... and continues the geodesic's direction: the signed angle from t to the line, zero only
    # when they agree (not when they are opposite)
    f2 = np.arctan2(_dot(np.cross(nrm, t), w), _dot(t, w))
    return np.stack([f1, f2], axis=1), x0, x, t


def smooth_ellipsoid(p1: Array, p2: Array, dimensions: Array, wrap_axis: int, wrap_sign: int,
                     step_fraction: float = STEP_FRACTION) -> tuple[IntArray, Array, Array, Array, Array, Array]:
    """Shortest path from ``p1`` to ``p2`` ``(n, 3)`` over the ellipsoid of semi-axes ``dimensions``
    when the straight segment enters it (OpenSim's rule), round the constrained side
    (``wrap_sign`` != 0 on axis ``wrap_axis``) or else the side the segment passes.

    The surface part is a geodesic. In the image of the ellipsoid under ``x -> x / dimensions``
    (the unit sphere) the tangent points from an end point form a circle; the path leaves ``p1``
    at angle ``psi`` of its circle, runs a geodesic of length ``l`` (RK4 on the geodesic equations,
    steps of at most ``step_fraction`` times the smallest radius of curvature, their number fixed
    from the first guess of ``l``) and must arrive tangent to the line to ``p2``: two equations in
    ``(psi, l)``, solved by Newton's method (finite-difference Jacobian here; the compiled twin
    differentiates the integration exactly) to ``1e-13``, starting from the sphere image's great
    circle. An end point inside the ellipsoid means no wrap, as OpenSim (``u1``, ``u2`` are zero).
    """
    p1 = np.asarray(p1, dtype=float)
    p2 = np.asarray(p2, dtype=float)
    n = p1.shape[0]
    D = np.asarray(dimensions, dtype=float)
    A = 1.0 / (D * D)
    y1, y2 = p1 / D, p2 / D
    code, s1, s2, arc, _, _ = smooth_sphere(y1, y2, 1.0, wrap_axis, wrap_sign)
    inside = (_dot(y1, y1) < 1.0) | (_dot(y2, y2) < 1.0)
    live = (code == MANDATORY_WRAP) & ~inside
    code = np.where(inside, INSIDE_RADIUS, np.where(live, MANDATORY_WRAP, NO_WRAP))
    r1 = np.zeros((n, 3))
    r2 = np.zeros((n, 3))
    wl = np.zeros(n)
    idx = np.nonzero(live)[0]
    if idx.size:
        a1, a2, b1, b2 = p1[idx], p2[idx], y1[idx], s1[idx]
        q1 = _dot(b1, b1)
        c = b1 / q1[:, None]
        rho = np.sqrt(1.0 - 1.0 / q1)
        u = _unit3(b2 - c)
        v = np.cross(b1 / np.sqrt(q1)[:, None], u)
        psi = np.zeros(idx.size)
        length = _initial_length(b1, y2[idx], b2, s2[idx], arc[idx], D)
        steps = geodesic_steps(length, D, step_fraction)
        x0, x, f = _newton(psi, length, a1, a2, c, rho, u, v, D, A, steps)
        r1[idx], r2[idx] = x0, x
        wl[idx] = f
    zero = np.zeros((n, 3))
    return code.astype(int), r1, r2, wl, zero, zero.copy()


def geodesic_steps(length: Array, D: Array, step_fraction: float = STEP_FRACTION) -> NDArray[np.int_]:
    """RK4 steps for geodesics of about ``length`` on the ellipsoid of semi-axes ``D``."""
    r_min = float(np.min(D)) ** 2 / float(np.max(D))
    return np.clip(np.ceil(1.25 * np.abs(length) / (step_fraction * r_min)), 8, MAX_STEPS).astype(int)


def _initial_length(y1: Array, y2: Array, s1: Array, s2: Array, theta: Array, D: Array) -> Array:
    """Length of the image on the ellipsoid of the unit sphere's great-circle arc ``theta`` from
    ``s1`` to ``s2`` (in the plane of the origin and the end points' images ``y1``, ``y2``), 8 chords."""
    axis = _plane_normal(y1, y2)
    ax_s1 = np.cross(axis, s1)
    fwd = np.cos(theta)[:, None] * s1 + np.sin(theta)[:, None] * ax_s1
    back = np.cos(theta)[:, None] * s1 - np.sin(theta)[:, None] * ax_s1
    flip = _dot(back - s2, back - s2) < _dot(fwd - s2, fwd - s2)
    ax_s1 = np.where(flip[:, None], -ax_s1, ax_s1)
    pts = [D * (np.cos(theta * k / 8)[:, None] * s1 + np.sin(theta * k / 8)[:, None] * ax_s1) for k in range(9)]
    total = np.zeros(np.shape(theta))
    for k in range(8):
        total = total + np.sqrt(_dot(pts[k + 1] - pts[k], pts[k + 1] - pts[k]))
    return total


def _jacobian(psi: Array, length: Array, p1: Array, p2: Array, c: Array, rho: Array, u: Array, v: Array,
              D: Array, A: Array, steps: NDArray[np.int_]) -> Array:
    """Central-difference Jacobian ``(k, equation, variable)`` of :func:`_shoot`'s residuals."""
    h = 1e-7
    hl = 1e-7 * np.maximum(np.abs(length), 1e-3)
    Fp = _shoot(psi + h, length, p1, p2, c, rho, u, v, D, A, steps)[0]
    Fm = _shoot(psi - h, length, p1, p2, c, rho, u, v, D, A, steps)[0]
    Gp = _shoot(psi, length + hl, p1, p2, c, rho, u, v, D, A, steps)[0]
    Gm = _shoot(psi, length - hl, p1, p2, c, rho, u, v, D, A, steps)[0]
    return np.stack([(Fp - Fm) / (2 * h), (Gp - Gm) / (2 * hl)[:, None]], axis=2)


def _newton(psi: Array, length: Array, p1: Array, p2: Array, c: Array, rho: Array, u: Array, v: Array,
            D: Array, A: Array, steps: NDArray[np.int_]) -> tuple[Array, Array, Array]:
    """Levenberg-Marquardt steps on the residuals of :func:`_shoot` (a plain Newton step when it
    reduces them) until both are below ``1e-13``."""
    F, x0, x, _ = _shoot(psi, length, p1, p2, c, rho, u, v, D, A, steps)
    # plain Newton first (it crosses the valleys of |F| that damped steps crawl along)
    best_psi, best_len, best = psi.copy(), length.copy(), np.sum(F * F, axis=1)
    for _ in range(_NEWTON_ITERATIONS):
        live = ~(np.max(np.abs(F), axis=1) <= _NEWTON_TOL)
        if not np.any(live):
            break
        J = _jacobian(psi, length, p1, p2, c, rho, u, v, D, A, steps)
        det = J[:, 0, 0] * J[:, 1, 1] - J[:, 0, 1] * J[:, 1, 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            dpsi = -(J[:, 1, 1] * F[:, 0] - J[:, 0, 1] * F[:, 1]) / det
            dlen = -(-J[:, 1, 0] * F[:, 0] + J[:, 0, 0] * F[:, 1]) / det
        psi = np.where(live, np.remainder(psi + dpsi + np.pi, 2 * np.pi) - np.pi, psi)
        length = np.where(live, np.maximum(length + dlen, 0.25 * length), length)  # a geodesic runs forwards
        F, x0, x, _ = _shoot(psi, length, p1, p2, c, rho, u, v, D, A, steps)
        e = np.sum(F * F, axis=1)
        better = e < best
        best_psi, best_len, best = np.where(better, psi, best_psi), np.where(better, length, best_len), np.where(better, e, best)
    psi, length = best_psi, best_len
    F, x0, x, _ = _shoot(psi, length, p1, p2, c, rho, u, v, D, A, steps)
    mu = np.full(psi.shape, 1e-3)
    for _ in range(_NEWTON_ITERATIONS):
        err = np.sum(F * F, axis=1)
        live = np.max(np.abs(F), axis=1) > _NEWTON_TOL
        if not np.any(live):
            break
        J = _jacobian(psi, length, p1, p2, c, rho, u, v, D, A, steps)
        JtJ = np.einsum("kei,kej->kij", J, J)
        JtF = np.einsum("kei,ke->ki", J, F)
        for _ in range(30):
            M = JtJ + mu[:, None, None] * np.eye(2) * np.maximum(np.diagonal(JtJ, axis1=1, axis2=2)[:, :, None], 1e-30)
            det = M[:, 0, 0] * M[:, 1, 1] - M[:, 0, 1] * M[:, 1, 0]
            with np.errstate(invalid="ignore", divide="ignore"):
                dpsi = -(M[:, 1, 1] * JtF[:, 0] - M[:, 0, 1] * JtF[:, 1]) / det
                dlen = -(-M[:, 1, 0] * JtF[:, 0] + M[:, 0, 0] * JtF[:, 1]) / det
            dpsi = np.where(live, dpsi, 0.0)
            dlen = np.where(live, np.maximum(dlen, -0.75 * length), 0.0)
            Fn, x0n, xn, _ = _shoot(psi + dpsi, length + dlen, p1, p2, c, rho, u, v, D, A, steps)
            ok = np.sum(Fn * Fn, axis=1) <= err  # NaN counts as worse
            accept = live & ok
            psi = np.where(accept, psi + dpsi, psi)
            length = np.where(accept, length + dlen, length)
            F = np.where(accept[:, None], Fn, F)
            x0 = np.where(accept[:, None], x0n, x0)
            x = np.where(accept[:, None], xn, x)
            mu = np.where(accept, np.maximum(mu / 10.0, 1e-12), np.where(live, mu * 10.0, mu))
            live = live & ~ok
            if not np.any(live):
                break
    return x0, x, length
