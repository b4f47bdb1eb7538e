"""The rewritten two-wrap tangent refinement (``_refine``) returns the old loop's bits.

``_refine``, ``_step_z`` and ``_adjust_z`` in ``mechanics/_wrap_kernels.py`` replace a loop that called
``_adjust``, ``_rotz`` and ``_spiral_length`` at every step; they claim the same floating-point
results to the last bit (``_step_z``: the same values as ``_adjust_z``, a zero's sign aside). The old loop is rebuilt here from those helpers (still in the module) and
both are run on many wrapping segments: random endpoints around cylinders of 3-100 mm radius,
short (< 4 mm, no step) and long (many steps) wraps, both wrap senses, endpoints whose line passes
close to the axis, coordinates exactly 0.0 or -0.0 and tangent points with an exact zero x or y.
The Rajagopal gastrocnemius paths are compared with OpenSim in ``test_mech_opensim_live.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("numba")

from numba import njit  # noqa: E402

from iliopsoas.mechanics import _wrap_kernels as K  # noqa: E402

_adjust, _rotz, _spiral_length = K._adjust, K._rotz, K._spiral_length


@njit(cache=False)
def _old_refine(p1, p2, r1, r2, wl, theta, axial, long_wrap, R):  # type: ignore[no-untyped-def]
    """The refinement loop of ``cyl_one`` before the rewrite (commit 985a765), unchanged."""
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
    return r1, r2, wl


def _bits(*values: tuple[float, ...] | float) -> np.ndarray:
    flat: list[float] = []
    for v in values:
        flat.extend(v if isinstance(v, tuple) else (v,))
    return np.array(flat, dtype=float).view(np.int64)


def _segments(seed: int, n: int) -> list[tuple[tuple[float, float, float], tuple[float, float, float], float, int, int]]:
    """``n`` endpoint pairs around a z-axis cylinder: (p1, p2, R, wrap_axis, wrap_sign)."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        R = float(rng.uniform(0.003, 0.1))
        a1, a2 = rng.uniform(-math.pi, math.pi, 2)
        d1, d2 = R * np.exp(rng.uniform(0.001, 2.5, 2))
        z1, z2 = (float(z) for z in rng.uniform(-0.3, 0.3, 2))
        kind = k % 5
        if kind == 1:  # short wraps: nearly the same height and angle
            z2 = z1 + float(rng.normal(0.0, 0.002))
            a2 = a1 + math.pi + float(rng.normal(0.0, 0.05))
        elif kind == 2:  # the line between the endpoints passes close to the axis
            a2 = a1 + math.pi + float(rng.normal(0.0, 1e-6))
        p1 = [d1 * math.cos(a1), d1 * math.sin(a1), z1]
        p2 = [d2 * math.cos(a2), d2 * math.sin(a2), z2]
        if kind == 3:  # exact zeros of either sign among the coordinates
            for p in (p1, p2):
                j = int(rng.integers(0, 3))
                p[j] = float(rng.choice([0.0, -0.0]))
        elif kind == 4:  # endpoints on y = +-R or x = +-R: tangent points with an exact zero x or y
            j = int(rng.integers(0, 2))
            p1[j], p2[j] = R, -R
            p1[1 - j] = p2[1 - j] = -float(rng.uniform(0.5, 3.0)) * R
        ws, wa = int(rng.integers(-1, 2)), int(rng.integers(0, 2))
        out.append(((p1[0], p1[1], p1[2]), (p2[0], p2[1], p2[2]), R, wa, ws))
    return out


def test_refine_gives_the_old_loops_bits_on_wrapping_segments() -> None:
    wraps = stepped = long_runs = short = zero_tangent = 0
    for p1, p2, R, wa, ws in _segments(7, 6000):
        try:
            status, r1, r2, wl0 = K.cyl_one(p1, p2, R, 1.0, wa, ws, True)
        except ZeroDivisionError:  # a line through the axis (both x exactly 0): before the refinement
            continue
        if status < 2:
            continue
        wraps += 1
        # the precondition of the identity: tangent points never carry a negative zero
        assert not any(c == 0.0 and math.copysign(1.0, c) < 0.0 for c in r1 + r2), (p1, p2, R)
        zero_tangent += any(c == 0.0 for c in r1[:2] + r2[:2])
        for long_wrap in (False, True):
            wl, theta, axial = _spiral_length(r1, r2, long_wrap, R)
            new = K._refine(p1, p2, r1, r2, wl, theta, axial, long_wrap, R)
            old = _old_refine(p1, p2, r1, r2, wl, theta, axial, long_wrap, R)
            assert np.array_equal(_bits(*new), _bits(*old)), (p1, p2, R, long_wrap, new, old)
            stepped += new[0][2] != r1[2] or new[1][2] != r2[2]
            long_runs += wl > 0.1
            short += wl < 0.004
        # the call in cyl_one: its result is the old loop's from the unrefined tangent points
        full = K.cyl_one(p1, p2, R, 1.0, wa, ws, False)
        expected = []
        for long_wrap in (False, True):
            wl, theta, axial = _spiral_length(r1, r2, long_wrap, R)
            if _bits(wl)[0] == _bits(wl0)[0]:
                expected.append(_bits(status, *_old_refine(p1, p2, r1, r2, wl, theta, axial, long_wrap, R)))
        assert expected and any(np.array_equal(_bits(*full), e) for e in expected), (p1, p2, R)
    # the sample exercises what it claims to
    assert wraps > 2000 and stepped > 1000 and long_runs > 200 and short > 50 and zero_tangent > 50


def test_refine_matches_on_half_turns_with_exact_zero_tangent_points() -> None:
    """theta = pi exactly, tangent points (0, +-R): the spiral angle's sign rests on zero signs."""
    R = 0.05
    n = 0
    for z2 in (0.003, 0.01, 0.1, -0.05, 0.35):
        for px in (-0.1, 0.1, 0.0, 0.2, -0.0):
            for long_wrap in (False, True):
                r1, r2 = (0.0, R, 0.0), (0.0, -R, z2)
                p1, p2 = (px, R, -0.02), (px, -R, z2 + 0.03)
                wl, theta, axial = _spiral_length(r1, r2, long_wrap, R)
                new = K._refine(p1, p2, r1, r2, wl, theta, axial, long_wrap, R)
                old = _old_refine(p1, p2, r1, r2, wl, theta, axial, long_wrap, R)
                assert np.array_equal(_bits(*new), _bits(*old)), (p1, p2, long_wrap, new, old)
                n += new[0][2] != r1[2]
    assert n > 10


def test_adjust_z_is_adjust_on_random_and_degenerate_triples() -> None:
    """``_adjust_z`` is ``_adjust`` for every input whose x and y are not negative zeros."""
    rng = np.random.default_rng(3)
    cases = []
    for _ in range(4000):
        r = (float(rng.normal()), float(rng.normal()), float(rng.normal()))
        pt = tuple(float(v) for v in np.array(r) + rng.normal(0.0, 0.05, 3))
        w = (float(rng.normal()), float(rng.normal()), r[2] + float(rng.normal(0.0, 0.05)))
        cases.append((pt, r, w))
    r = (0.03, 0.04, 0.01)
    inf, nan = math.inf, math.nan
    cases += [
        (r, r, (0.05, 0.0, 0.02)),  # endpoint on the tangent point
        ((0.1, 0.0, 0.0), r, r),  # test point on the tangent point
        ((0.03, 0.04, -0.2), r, (0.03, 0.04, 0.3)),  # everything on one axis-parallel line
        ((0.1, 0.2, 0.01), r, (0.0, 0.05, 0.01)),  # no axial component: tangent
        ((0.1, 0.2, 0.3), r, (0.0, 0.05, 0.01)),
        ((0.1, 0.2, 0.3), r, (0.1, 0.2, -0.3)),  # endpoint and test point on one axis-parallel line
        ((0.1, 0.2, 0.3), r, (0.0, 0.05, 0.3)),  # closest points on the axis (almost) coincide
        ((0.1, 0.2, 0.3), r, (0.0, 0.05, 0.01 + 1e-300)),
        ((0.1, 0.2, nan), r, (0.0, 0.05, 0.02)),
        ((0.1, 0.2, 0.3), r, (0.0, 0.05, inf)),
        ((0.1, 0.2, 1e200), r, (0.0, 0.05, -1e200)),
        ((0.0, 0.2, 0.0), (0.0, 0.05, 0.0), (0.05, 0.0, 0.01)),
        ((0.2, 0.0, 0.3), (0.05, 0.0, 0.0), (0.0, 0.05, 0.0)),
    ]
    adjusted = 0
    for pt, r, w in cases:
        new, adj_new = K._adjust_z(pt, r, w)
        old, adj_old = K._adjust(pt, r, w)
        assert adj_new == adj_old and np.array_equal(_bits(new), _bits(old)), (pt, r, w, new, old)
        adjusted += adj_new
    assert adjusted > 2000


def _step(pt, r, w):  # type: ignore[no-untyped-def]
    """``_step_z`` as ``_refine`` calls it (fixed parts precomputed), falling back to ``_adjust_z``."""
    dx, dy = r[0] - pt[0], r[1] - pt[1]
    ex, ey = w[0] - r[0], w[1] - r[1]
    fx, fy = w[0] - pt[0], w[1] - pt[1]
    z, adj, done = K._step_z(pt[2], r[2], w[2], dx, dy, dx * dx + dy * dy, ex * ex + ey * ey, fx, fy, fx * fx + fy * fy)
    if not done:
        return K._adjust_z(pt, r, w), False
    return ((r[0] + 0.0, r[1] + 0.0, z) if adj else r, adj), True


def test_step_z_gives_adjust_z_values_on_random_and_degenerate_triples() -> None:
    """The step without the axis direction's square root and division has ``_adjust_z``'s values
    (``==``, so a zero may differ in sign), and leaves degenerate input to ``_adjust_z``."""
    rng = np.random.default_rng(5)
    cases = []
    for k in range(20000):
        r = tuple(float(v) for v in rng.normal(0.0, 0.05, 3))
        scale = 10.0 ** float(rng.uniform(-6, 0))
        pt = tuple(float(v) for v in np.array(r) + rng.normal(0.0, scale, 3))
        w = (float(rng.normal(0.0, 0.05)), float(rng.normal(0.0, 0.05)), r[2] + float(rng.normal(0.0, scale)))
        if k % 7 == 0:  # exact zeros in the differences
            j = int(rng.integers(0, 3))
            pt = tuple(r[i] if i == j else pt[i] for i in range(3))
        if k % 11 == 0:
            w = (pt[0], w[1], w[2]) if k % 2 else (w[0], pt[1], pt[2])
        cases.append((pt, r, w))
    r = (0.03, 0.04, 0.01)
    inf, nan = math.inf, math.nan
    cases += [
        (r, r, (0.05, 0.0, 0.02)), ((0.1, 0.0, 0.0), r, r), ((0.03, 0.04, -0.2), r, (0.03, 0.04, 0.3)),
        ((0.1, 0.2, 0.01), r, (0.0, 0.05, 0.01)), ((0.1, 0.2, 0.3), r, (0.1, 0.2, -0.3)),
        ((0.1, 0.2, 0.3), r, (0.0, 0.05, 0.01 + 1e-300)), ((0.1, 0.2, nan), r, (0.0, 0.05, 0.02)),
        ((0.1, 0.2, 0.3), r, (0.0, 0.05, inf)), ((0.1, 0.2, 1e200), r, (0.0, 0.05, -1e200)),
        ((0.1, 0.2, 1e140), r, (0.0, 0.05, -1e140)), ((0.1, 0.2, 1e160), r, (0.0, 0.05, 1e150)),
        ((0.0, 0.2, 0.0), (0.0, 0.05, 0.0), (0.05, 0.0, 0.01)), ((0.2, 0.0, 0.3), (0.05, 0.0, 0.0), (0.0, 0.05, 0.0)),
        ((0.03, 0.2, 0.3), r, (0.03, 0.05, 0.02)), ((0.1, 0.04, 0.3), r, (0.0, 0.04, 0.02)),
    ]
    adjusted = fast = 0
    for pt, r, w in cases:
        (new, adj_new), was_fast = _step(pt, r, w)
        old, adj_old = K._adjust_z(pt, r, w)
        same = all(a == b or (math.isnan(a) and math.isnan(b)) for a, b in zip(new, old, strict=True))
        assert adj_new == adj_old and same, (pt, r, w, new, old)
        adjusted += adj_new
        fast += was_fast and adj_new
    assert adjusted > 10000 and fast > 10000
