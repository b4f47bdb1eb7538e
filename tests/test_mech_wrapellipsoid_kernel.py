"""The compiled ``WrapEllipsoid::wrapLine`` (issue 17, item 4): the numba port in
``mechanics/_ellipsoid_kernels.py`` against the NumPy reference ``wrap.wrap_ellipsoid`` on random
segments (every method, axis and sign; inside, missing and degenerate segments; NaN), and a whole
model (arm26) with and without the compiled code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from iliopsoas.mechanics import lengths_and_moment_arms, load_osim
from iliopsoas.mechanics import wrap as wrapmod
from iliopsoas.mechanics.model import WrapEllipsoid

pytest.importorskip("numba")

TOL = 1e-12  # m
SHAPES = [
    (0.03, 0.05, 0.08),
    (0.05, 0.05, 0.05),  # a sphere: equal radii take the closest-point special cases
    (0.02, 0.06, 0.03),
    (0.05, 0.01, 0.04),
    (0.0381, 0.0381, 0.1),  # two equal radii
]
METHODS = ("hybrid", "midpoint", "axial")


def _spy_on_kernel(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Replace the compiled kernel by a wrapper that records each call's batch size."""
    calls: list[int] = []
    kernel = wrapmod._ELL_KERNEL

    def spy(*args: Any) -> None:
        calls.append(args[0].shape[0])
        kernel(*args)

    monkeypatch.setattr(wrapmod, "_ELL_KERNEL", spy)
    return calls


def _assert_same(ref: tuple[Any, ...], got: tuple[Any, ...], label: str) -> None:
    np.testing.assert_array_equal(got[0], ref[0], err_msg=f"status, {label}")
    for k, name in ((1, "r1"), (2, "r2"), (3, "length")):
        r, g = ref[k], got[k]
        assert g.shape == r.shape, (name, label)
        np.testing.assert_array_equal(np.isnan(g), np.isnan(r), err_msg=f"NaN pattern of {name}, {label}")
        fin = ~np.isnan(r)
        np.testing.assert_array_equal(np.isinf(g[fin]), np.isinf(r[fin]), err_msg=f"inf of {name}, {label}")
        ok = fin & np.isfinite(r)
        assert np.all(np.abs(g[ok] - r[ok]) <= TOL), (name, label, float(np.max(np.abs(g[ok] - r[ok]))))


def _segments(rng: np.random.Generator, dims: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """End points around the ellipsoid: most segments cross it, some miss it or start inside."""
    p1 = rng.standard_normal((n, 3)) * dims * 2.5
    p2 = rng.standard_normal((n, 3)) * dims * 2.5
    # a quarter in coordinate planes (exact zeros: the closest-point search's planar branches)
    q = n // 4
    ax = rng.integers(0, 3, q)
    p1[np.arange(q), ax] = 0.0
    p2[np.arange(q), ax] = 0.0
    return p1, p2


@pytest.mark.parametrize("dims", SHAPES)
@pytest.mark.parametrize("method", METHODS)
def test_compiled_ellipsoid_wrap_matches_the_numpy_reference(dims: tuple[float, float, float], method: str) -> None:
    d = np.array(dims)
    rng = np.random.default_rng(10 * SHAPES.index(dims) + METHODS.index(method))
    seen = np.zeros(4, dtype=int)
    for axis in (0, 1, 2):
        for sign in (0, 1, -1):
            p1, p2 = _segments(rng, d, 400)
            with np.errstate(all="ignore"):
                ref = wrapmod.wrap_ellipsoid(p1, p2, d, axis, sign, method)
            got = wrapmod.wrap_ellipsoid(p1, p2, d, axis, sign, method, compiled=True)
            _assert_same(ref, got, f"{dims} {method} axis {axis} sign {sign}")
            seen += np.bincount(ref[0], minlength=4)
    # the draw exercises wraps, misses and inside end points
    assert min(seen[wrapmod.MANDATORY_WRAP], seen[wrapmod.NO_WRAP], seen[wrapmod.INSIDE_RADIUS]) > 150, seen


def test_compiled_ellipsoid_wrap_edge_cases() -> None:
    d = np.array([0.03, 0.05, 0.08])
    p1 = np.array([
        [0.1, 0.0, 0.0],      # through the centre along x
        [0.0, 0.1, 0.0],      # along y: end points on the axis
        [0.1, 0.01, 0.0],     # in the z = 0 plane
        [0.1, 0.0, 0.0],      # a zero-length segment
        [0.03, 0.0, 0.0],     # an end point on the surface
        [0.0, 0.0, 0.0],      # an end point at the centre (inside)
        [np.nan, 0.0, 0.0],   # NaN end point
        [0.2, 0.2, 0.2],      # a segment far from the ellipsoid
        [0.1, 1e-14, -1e-14],  # near-zero coordinates (below the closest-point roundoff)
        [1e3, 1e3, 1e3],      # far away
        [0.04, 0.0, 0.0],      # tangent-ish grazing line
    ])
    p2 = np.array([
        [-0.1, 0.0, 0.0],
        [0.0, -0.1, 0.0],
        [-0.1, -0.02, 0.0],
        [0.1, 0.0, 0.0],
        [-0.1, 0.01, 0.01],
        [0.1, 0.1, 0.1],
        [-0.1, 0.0, 0.0],
        [0.3, -0.2, 0.1],
        [-0.1, -1e-14, 1e-14],
        [-1e3, -1e3, -0.999e3],
        [0.0, 0.0501, 0.0],
    ])
    slow = 8
    singular = 0
    for method in (*METHODS, "unknown"):  # any other name runs as midpoint in both
        for axis in (0, 1, 2):
            for sign in (0, 1, -1):
                got = wrapmod.wrap_ellipsoid(p1, p2, d, axis, sign, method, compiled=True)
                for i in range(len(p1)):  # row by row: NumPy's 4x4 inverse raises on an exactly singular system
                    label = f"edge case {i} {method} axis {axis} sign {sign}"
                    if i == slow and method in ("midpoint", "unknown") and (method, axis, sign) != ("midpoint", 0, 0):
                        continue  # the tangent search's 50 x 1000 steps: ~10 s a call in NumPy, so once
                    try:
                        with np.errstate(all="ignore"):
                            ref = wrapmod.wrap_ellipsoid(p1[i:i + 1], p2[i:i + 1], d, axis, sign, method)
                    except np.linalg.LinAlgError:
                        # (a line through the centre along an axis, a grazing line in a symmetry plane):
                        # the compiled LU divides by the zero pivot and the wrap length is NaN
                        singular += 1
                        assert got[0][i] == wrapmod.MANDATORY_WRAP and np.isnan(got[3][i]), label
                        continue
                    _assert_same(ref, tuple(x[i:i + 1] for x in got), label)
    assert 0 < singular < 40
    # an empty batch
    got = wrapmod.wrap_ellipsoid(np.zeros((0, 3)), np.zeros((0, 3)), d, 0, 0, "hybrid", compiled=True)
    assert got[0].shape == (0,) and got[1].shape == (0, 3) and got[3].shape == (0,)


def test_compiled_ellipsoid_wrap_is_row_independent() -> None:
    # one segment at a time: a row's result does not depend on the other rows of the batch
    d = np.array([0.02, 0.06, 0.03])
    rng = np.random.default_rng(7)
    p1, p2 = _segments(rng, d, 200)
    whole = wrapmod.wrap_ellipsoid(p1, p2, d, 1, -1, "hybrid", compiled=True)
    for i in range(0, 200, 7):
        one = wrapmod.wrap_ellipsoid(p1[i:i + 1], p2[i:i + 1], d, 1, -1, "hybrid", compiled=True)
        for k in range(4):
            np.testing.assert_array_equal(one[k][0], whole[k][i])


def test_wrap_ellipsoid_dispatches_on_compiled(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _spy_on_kernel(monkeypatch)
    wo = WrapEllipsoid(name="e", body=0, xyz_body_rotation=np.zeros(3), translation=np.zeros(3),
                       rotation=np.eye(3), dimensions=np.array([0.03, 0.05, 0.08]))
    p1 = np.array([[0.1, 0.01, 0.0]])
    p2 = np.array([[-0.1, 0.02, 0.01]])
    ref = wo.wrap_line(p1, p2, single=True, method="hybrid", compiled=False)
    assert calls == []
    got = wo.wrap_line(p1, p2, single=True, method="hybrid", compiled=True)
    assert calls == [1]
    _assert_same(ref, got, "wrap_line")
    assert WrapEllipsoid.kernel_min_poses == 1


def test_arm26_lengths_and_moment_arms_with_and_without_the_kernel(models_dir: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    model = load_osim(models_dir / "opensim-models" / "arm26.osim")
    assert any(isinstance(w, WrapEllipsoid) for w in model.wrap_objects)
    lo = np.maximum(model.coordinate_ranges[:, 0], -1.5)
    hi = np.minimum(model.coordinate_ranges[:, 1], 1.5)
    q = np.random.default_rng(3).uniform(lo, hi, size=(40, len(lo)))
    calls = _spy_on_kernel(monkeypatch)
    L_ref, r_ref = lengths_and_moment_arms(model, q, use_kernel=False)
    assert calls == []  # use_kernel=False keeps the ellipsoid in NumPy
    L, r = lengths_and_moment_arms(model, q)
    assert calls  # ... and the default runs it compiled
    np.testing.assert_allclose(L, L_ref, rtol=0, atol=TOL)
    np.testing.assert_allclose(r, r_ref, rtol=0, atol=TOL)
    assert np.array_equal(np.isnan(L), np.isnan(L_ref)) and np.array_equal(np.isnan(r), np.isnan(r_ref))
