"""OpenSim functions, kinematics and cylinder wrapping on cases whose answers are known."""

from __future__ import annotations

import numpy as np

from iliopsoas.mechanics.functions import (
    Constant,
    LinearFunction,
    MultiplierFunction,
    PolynomialFunction,
    SimmSpline,
)
from iliopsoas.mechanics.wrap import MANDATORY_WRAP, NO_WRAP, WRAPPED, wrap_cylinder


def test_simm_spline_interpolates_its_knots_and_extrapolates_linearly() -> None:
    x = np.array([-2.0, -1.0, 0.0, 0.5, 2.0])
    y = np.sin(x)
    s = SimmSpline(x, y)
    assert np.allclose(s.value(x), y, atol=1e-15)
    h = 1e-6
    xs = np.linspace(-1.9, 1.9, 50)
    fd = (s.value(xs + h) - s.value(xs - h)) / (2 * h)
    assert np.allclose(s.derivative(xs), fd, atol=1e-7)
    assert np.isclose(s.value(3.0), y[-1] + 1.0 * s.derivative(np.array([2.0]))[0])
    assert np.isclose(s.derivative(np.array([-5.0]))[0], s.b[0])


def test_simm_spline_reproduces_a_cubic_exactly() -> None:
    # SimmSpline's end conditions match third derivatives, so a cubic is reproduced exactly
    x = np.linspace(-1, 1, 7)
    s = SimmSpline(x, x**3 - 2 * x)
    xs = np.linspace(-1, 1, 101)
    assert np.allclose(s.value(xs), xs**3 - 2 * xs, atol=1e-12)


def test_simple_functions() -> None:
    x = np.array([0.0, 1.0, 2.0])
    assert np.array_equal(Constant(3.0).value(x), [3.0, 3.0, 3.0])
    assert np.array_equal(LinearFunction(2.0, 1.0).value(x), [1.0, 3.0, 5.0])
    p = PolynomialFunction(np.array([1.0, 0.0, -1.0]))  # x^2 - 1
    assert np.array_equal(p.value(x), [-1.0, 0.0, 3.0])
    assert np.array_equal(p.derivative(x), [0.0, 2.0, 4.0])
    m = MultiplierFunction(p, 0.5)
    assert np.array_equal(m.value(x), [-0.5, 0.0, 1.5])


def test_a_line_through_a_cylinder_wraps_with_tangent_points_on_the_surface() -> None:
    p1 = np.array([[-0.2, 0.01, 0.0], [-0.2, 0.3, 0.0]])
    p2 = np.array([[0.2, 0.01, 0.0], [0.2, 0.3, 0.0]])
    code, r1, r2, wl = wrap_cylinder(p1, p2, radius=0.05, length=0.2, wrap_axis=0, wrap_sign=0)
    assert code[0] == MANDATORY_WRAP and code[1] == NO_WRAP
    assert np.allclose(np.hypot(r1[0, 0], r1[0, 1]), 0.05)
    assert np.allclose(np.hypot(r2[0, 0], r2[0, 1]), 0.05)
    # the wrapped path is longer than the chord and shorter than going around half the cylinder
    total = np.linalg.norm(r1[0] - p1[0]) + wl[0] + np.linalg.norm(p2[0] - r2[0])
    assert 0.4 < total < 0.4 + np.pi * 0.05


def test_a_constrained_cylinder_only_wraps_on_its_active_side() -> None:
    # both endpoints on the -y side of a +y quadrant cylinder: the path is forced round +y
    p1 = np.array([[-0.2, -0.1, 0.0]])
    p2 = np.array([[0.2, -0.1, 0.0]])
    code, r1, r2, _ = wrap_cylinder(p1, p2, radius=0.05, length=0.2, wrap_axis=1, wrap_sign=1)
    assert code[0] == WRAPPED
    assert r1[0, 1] > 0 or r2[0, 1] > 0


def test_compiled_cylinder_kernel_agrees_with_the_numpy_reference() -> None:
    rng = np.random.default_rng(11)
    for axis, sign, single in ((0, 0, True), (1, -1, True), (0, 1, False), (2, 1, False)):
        p1 = rng.normal(size=(3000, 3)) * 0.1
        p2 = rng.normal(size=(3000, 3)) * 0.1
        ref = wrap_cylinder(p1, p2, 0.03, 0.1, axis, sign, single, compiled=False)
        fast = wrap_cylinder(p1, p2, 0.03, 0.1, axis, sign, single, compiled=True)
        assert np.array_equal(ref[0], fast[0])
        wrapped = ref[0] >= WRAPPED
        assert wrapped.mean() > 0.05
        assert np.abs(ref[1][wrapped] - fast[1][wrapped]).max() < 1e-10
        assert np.abs(ref[3] - fast[3]).max() < 1e-10


def test_a_segment_through_the_cylinder_axis_wraps_the_same_compiled_and_in_numpy() -> None:
    # the segment's line meets the axis: a zero cross product along the way, which must follow IEEE
    # arithmetic (as OpenSim's C++ and the NumPy reference do), not raise ZeroDivisionError
    p1 = np.tile([0.0, 0.0904, -0.1015], (300, 1))
    p2 = np.tile([0.0, -0.0916, 0.268], (300, 1))
    with np.errstate(all="ignore"):
        ref = wrap_cylinder(p1, p2, 0.06253429004857773, 1.0, 0, 0, False, compiled=False)
    fast = wrap_cylinder(p1, p2, 0.06253429004857773, 1.0, 0, 0, False, compiled=True)
    assert np.array_equal(ref[0], fast[0]) and (fast[0] >= WRAPPED).all()
    for a, b in zip(ref[1:], fast[1:], strict=True):
        assert np.isfinite(b).all()
        assert np.abs(a - b).max() < 1e-12
