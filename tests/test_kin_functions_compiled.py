"""The compiled function evaluator and the kinematics pre-stage give the NumPy reference's numbers bit for bit."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from iliopsoas import models
from iliopsoas.mechanics import kinematics as kin
from iliopsoas.mechanics.functions import (
    Constant,
    Function,
    LinearFunction,
    MultiplierFunction,
    PolynomialFunction,
    SimmSpline,
    function_table,
)
from iliopsoas.mechanics.model import Model

pytestmark = pytest.mark.skipif(kin._EVAL is None, reason="numba is not installed: no compiled evaluator")

_ROUNDOFF = 2e-13  # SimmSpline's tolerance at its end knots


def _functions() -> list[Function]:
    rng = np.random.default_rng(7)
    knots13 = np.linspace(-0.2, 2.1, 13)
    wavy = SimmSpline(knots13, np.sin(3 * knots13) * 0.05)
    return [
        Constant(0.25),
        Constant(-3.0),
        LinearFunction(1.0, 0.0),
        LinearFunction(-0.7, 0.031),
        SimmSpline(np.array([0.0, 1.0]), np.array([0.5, -0.25])),  # two knots: a line
        SimmSpline(np.array([-1.0, 0.0, 2.0]), np.array([1.0, 0.0, 3.0])),  # three knots
        SimmSpline(np.array([-1.0, 0.0, 0.5, 2.0]), np.array([1.0, 0.0, 0.2, 3.0])),  # four knots
        wavy,
        SimmSpline(np.sort(rng.uniform(-2, 2, 9)), rng.normal(size=9)),
        SimmSpline(np.array([0.0, 0.5, 0.5, 1.0, 1.5]), np.array([0.0, 1.0, 1.0, 0.0, 2.0])),  # repeated knot
        SimmSpline(np.zeros(3) + np.array([0.0, 0.0, 1.0]), np.array([1.0, 2.0, 0.0])),  # degenerate start
        PolynomialFunction(np.array([2.5])),
        PolynomialFunction(np.array([0.3, -1.0])),
        PolynomialFunction(np.array([0.1, -0.2, 0.3, -0.4, 0.5])),
        MultiplierFunction(wavy, -1.7),
        MultiplierFunction(MultiplierFunction(LinearFunction(0.3, 0.1), 3.1), -0.45),  # nested scales
        MultiplierFunction(Constant(2.0), 0.3),
        MultiplierFunction(PolynomialFunction(np.array([1.0, 2.0, 3.0])), 1e-3),
    ]


def _arguments(fn: Function, n: int, rng: np.random.Generator) -> np.ndarray:
    """Random points inside and well outside the knots, the knots themselves and points within
    (or just beyond) SimmSpline's round-off tolerance of the end knots."""
    inner = fn
    while isinstance(inner, MultiplierFunction):
        inner = inner.function
    pts = [rng.uniform(-4.0, 4.0, n)]
    if isinstance(inner, SimmSpline):
        lo, hi = inner.x[0], inner.x[-1]
        pts += [inner.x, np.nextafter(inner.x, np.inf), np.nextafter(inner.x, -np.inf),
                rng.uniform(lo, hi, n), lo + _ROUNDOFF * np.array([-2, -1, -0.5, 0.5, 1, 2]),
                hi + _ROUNDOFF * np.array([-2, -1, -0.5, 0.5, 1, 2])]
    return np.concatenate(pts)


def _evaluate(fns: list[Function], x: np.ndarray, outer: list[float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Values and derivatives of ``fns[a]`` at ``x[:, a]`` through the compiled evaluator."""
    table = function_table(fns, outer)
    assert table is not None
    m = len(fns)
    idx = np.arange(m, dtype=np.int64)
    groups, ng = table.spline_groups(idx)
    val = np.zeros(x.shape)
    der = np.zeros(x.shape)
    kin._EVAL(np.ascontiguousarray(x), idx, idx, np.zeros(0), *table.arrays, groups,
              np.empty((ng, 8), dtype=np.int64), val, der, True)
    return val, der


def test_compiled_evaluator_equals_each_function_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    fns = _functions()
    cols = [_arguments(fn, 300, rng) for fn in fns]
    n = max(c.size for c in cols)
    x = np.stack([np.resize(c, n) for c in cols], axis=1)
    val, der = _evaluate(fns, x)
    for a, fn in enumerate(fns):
        np.testing.assert_array_equal(val[:, a], fn.value(x[:, a]), err_msg=f"value of {fn!r}")
        np.testing.assert_array_equal(der[:, a], fn.derivative(x[:, a]), err_msg=f"derivative of {fn!r}")


def test_outer_scale_is_applied_after_the_function_like_a_coupler_scale_factor() -> None:
    fns = _functions()
    scales = [0.5 + a / 7 for a in range(len(fns))]
    x = np.tile(np.linspace(-3, 3, 41)[:, None], (1, len(fns)))
    val, der = _evaluate(fns, x, scales)
    for a, fn in enumerate(fns):
        np.testing.assert_array_equal(val[:, a], scales[a] * fn.value(x[:, a]))
        np.testing.assert_array_equal(der[:, a], scales[a] * fn.derivative(x[:, a]))


def test_splines_sharing_knots_and_argument_share_one_interval_search() -> None:
    knots = np.linspace(0, 1, 6)
    a, b = SimmSpline(knots, knots**2), SimmSpline(knots, np.cos(knots))
    c = SimmSpline(knots + 0.1, knots)
    table = function_table([a, b, c, LinearFunction(1.0, 0.0)])
    assert table is not None
    groups, n = table.spline_groups([4, 4, 4, 4])
    assert groups.tolist() == [0, 0, 1, -1] and n == 2
    groups, n = table.spline_groups([4, 5, 4, 4])  # same knots, other argument: separate
    assert groups.tolist() == [0, 1, 2, -1] and n == 3


class _Shifted(Function):
    """A function type the table does not know."""

    def value(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=float) + 0.5

    def derivative(self, x: np.ndarray) -> np.ndarray:
        return np.ones(np.shape(x))


def test_unknown_function_types_fall_back_to_the_reference() -> None:
    assert function_table([LinearFunction(1.0, 0.0), _Shifted()]) is None
    model = models.load("lumbopelvic")
    j = next(i for i, jt in enumerate(model.joints) if any(c >= 0 for c in jt.axis_coordinates))
    jt = model.joints[j]
    i = next(k for k, c in enumerate(jt.axis_coordinates) if c >= 0)
    fns = list(jt.functions)
    fns[i] = _Shifted()
    joints = list(model.joints)
    joints[j] = dataclasses.replace(jt, functions=tuple(fns))
    odd = dataclasses.replace(model, joints=tuple(joints))
    q = _poses(odd, 50)
    S, dF, _ = kin.joint_axis_values(odd, q)
    assert np.array_equal(S[:, j, i], q[:, jt.axis_coordinates[i]] + 0.5)
    S0, dF0, _ = kin._joint_axis_values_reference(odd, q)
    assert np.array_equal(S, S0) and np.array_equal(dF, dF0)


def _poses(model: Model, n: int, seed: int = 0) -> np.ndarray:
    """Poses across (and 0.3 beyond) every coordinate's range, plus the range ends exactly."""
    lo, hi = model.coordinate_ranges.T
    q = np.random.default_rng(seed).uniform(lo - 0.3, hi + 0.3, size=(n, len(lo)))
    q[0], q[1] = lo, hi
    return q


def _check_prestage(model: Model, n: int = 700) -> None:
    q = _poses(model, n)
    for derivatives in (True, False):
        got = kin.joint_axis_values(model, q, derivatives=derivatives)
        ref = kin._joint_axis_values_reference(model, q, derivatives=derivatives)
        for g, r, what in zip(got, ref, ("S", "dF", "axc"), strict=True):
            np.testing.assert_array_equal(g, r, err_msg=f"{model.name}: {what}, derivatives={derivatives}")
    qc = kin.complete_coordinates(model, q)
    expected = q.copy()
    for cp in kin._couplers_in_order(model):
        expected[:, cp.dependent] = cp.scale_factor * cp.function.value(expected[:, cp.independent])
    np.testing.assert_array_equal(qc, expected)
    cids = list(range(len(model.coordinates)))  # dependent coordinates included
    C = kin.coupling_vectors(model, qc, cids)
    C0 = kin._coupling_vectors_reference(model, qc, cids, np.zeros_like(C))
    np.testing.assert_array_equal(C, C0)


def test_prestage_equals_the_reference_on_the_lumbopelvic_model() -> None:
    model = models.load("lumbopelvic")
    assert len(model.couplers) > 10  # the lumbar rhythm
    _check_prestage(model)


@pytest.mark.parametrize("name", ["Rajagopal2016", "gait2392_millard2012muscle", "arm26"])
def test_prestage_equals_the_reference_on_opensim_models(models_dir: Path, name: str) -> None:
    from iliopsoas.mechanics import load_osim

    _check_prestage(load_osim(models_dir / "opensim-models" / f"{name}.osim"))


def _with_couplers(model: Model, couplers: tuple) -> Model:
    return dataclasses.replace(model, couplers=couplers)


def test_chained_and_flat_couplers_match_the_reference() -> None:
    base = models.load("lumbopelvic")
    knots = np.linspace(-1.0, 1.0, 7)
    flat = SimmSpline(knots, np.full(7, 0.2))  # every coefficient zero: slope exactly 0
    cps = list(base.couplers)
    first, second, third = cps[0], cps[1], cps[2]
    # the second coupler now follows the first one's dependent coordinate (a chain); the first is
    # flat, so the direction of its dependent coordinate is NaN, as in the reference
    cps[0] = dataclasses.replace(first, function=MultiplierFunction(flat, 0.8), scale_factor=1.3)
    cps[1] = dataclasses.replace(second, independent=first.dependent, function=PolynomialFunction(np.array([0.2, 0.5, 0.0])))
    cps[2] = dataclasses.replace(third, function=SimmSpline(knots, knots**3 - knots), scale_factor=-0.6)
    model = _with_couplers(base, tuple(reversed(cps)))  # declared out of order on purpose
    order = [cp.dependent for cp in kin._couplers_in_order(model)]
    assert order.index(first.dependent) < order.index(second.dependent)
    q = _poses(model, 400, seed=5)
    qc = kin.complete_coordinates(model, q)
    expected = q.copy()
    for cp in kin._couplers_in_order(model):
        expected[:, cp.dependent] = cp.scale_factor * cp.function.value(expected[:, cp.independent])
    np.testing.assert_array_equal(qc, expected)
    cids = [first.independent, first.dependent, second.dependent, third.dependent, third.independent, 0]
    C = kin.coupling_vectors(model, qc, cids)
    C0 = kin._coupling_vectors_reference(model, qc, cids, np.zeros_like(C))
    np.testing.assert_array_equal(C, C0)
    assert np.isnan(C[:, 1]).all() and np.isfinite(C[:, [0, 3, 4, 5]]).all()


def test_output_buffers_are_filled_and_checked() -> None:
    model = models.load("lumbopelvic")
    q = _poses(model, 300)
    n, nc, J = q.shape[0], q.shape[1], len(model.joints)
    qc = kin.complete_coordinates(model, q)
    buf = np.full((n, nc), np.nan)
    assert kin.complete_coordinates(model, q, out=buf) is buf
    np.testing.assert_array_equal(buf, qc)
    C = np.full((n, 3, nc), np.nan)
    assert kin.coupling_vectors(model, qc, [0, 1, 2], out=C) is C
    np.testing.assert_array_equal(C, kin.coupling_vectors(model, qc, [0, 1, 2]))
    S, dF = np.full((n, J, 6), np.nan), np.full((n, J, 6), np.nan)
    for derivatives in (True, False):
        got = kin.joint_axis_values(model, qc, derivatives=derivatives, out=(S, dF))
        assert got[0] is S and got[1] is dF
        ref = kin._joint_axis_values_reference(model, qc, derivatives=derivatives)
        np.testing.assert_array_equal(S, ref[0])
        np.testing.assert_array_equal(dF, ref[1])
    with pytest.raises(ValueError, match=r"out must be a writable C-contiguous float64 array of shape \(300, "):
        kin.complete_coordinates(model, q, out=np.zeros((n, nc + 1)))
    with pytest.raises(ValueError, match=r"out\[1\]"):
        kin.joint_axis_values(model, qc, out=(S, np.zeros((n, J, 6), dtype=np.float32)))


def test_derived_tables_are_built_once_per_model_and_read_only() -> None:
    model = models.load("lumbopelvic")
    mask = kin.body_coordinate_mask(model)
    assert kin.body_coordinate_mask(model) is mask and not mask.flags.writeable
    _, _, axc = kin.joint_axis_values(model, model.coordinate_defaults[None, :])
    axc[:] = 99  # the caller's copy: the model's table is untouched
    assert (kin.joint_axis_values(model, model.coordinate_defaults[None, :])[2] != 99).any()
    other = _with_couplers(model, model.couplers[:1])  # a new model gets its own tables
    assert len(kin._couplers_in_order(other)) == 1 and len(kin._couplers_in_order(model)) == len(model.couplers)


def test_single_pose_and_readonly_input() -> None:
    model = models.load("lumbopelvic")
    q = model.coordinate_defaults[None, :]  # read-only
    assert not q.flags.writeable
    S, dF, _ = kin.joint_axis_values(model, q)
    S0, dF0, _ = kin._joint_axis_values_reference(model, q)
    assert np.array_equal(S, S0) and np.array_equal(dF, dF0)
    assert np.array_equal(kin.complete_coordinates(model, q), q)


def test_a_cycle_of_couplers_is_reported_by_what_needs_the_couplers_only() -> None:
    model = models.load("lumbopelvic")
    a, b = model.couplers[0], model.couplers[1]
    cyclic = _with_couplers(model, (dataclasses.replace(a, independent=b.dependent),
                                    dataclasses.replace(b, independent=a.dependent)))
    q = np.zeros((3, len(model.coordinates)))
    with pytest.raises(ValueError, match="form a cycle"):
        kin.complete_coordinates(cyclic, q)
    with pytest.raises(ValueError, match="form a cycle"):
        kin.coupling_vectors(cyclic, q, [0])
    S, _, _ = kin.joint_axis_values(cyclic, q)  # the joints do not depend on the couplers
    assert np.array_equal(S, kin._joint_axis_values_reference(cyclic, q)[0])


def test_a_wrong_width_or_coordinate_index_is_refused_before_any_kernel_runs() -> None:
    # the kernels index columns without bounds checks: a narrow q or an index past the last
    # coordinate must be an error, never a read or write out of bounds
    model = models.load("lumbopelvic")
    nc = len(model.coordinates)
    narrow = np.zeros((3, 2))
    with pytest.raises(ValueError, match=rf"q must have shape \(n_poses, {nc}\).*got \(3, 2\)"):
        kin.complete_coordinates(model, narrow)
    with pytest.raises(ValueError, match=r"got \(3, 2\)"):
        kin.coupling_vectors(model, narrow, [0])
    with pytest.raises(ValueError, match=r"got \(3, 2\)"):
        kin.joint_axis_values(model, narrow)
    with pytest.raises(ValueError, match=rf"got \({nc},\)"):
        kin.complete_coordinates(model, np.zeros(nc))
    q = np.tile(model.coordinate_defaults, (3, 1))
    for bad in (nc, -1):
        with pytest.raises(IndexError, match=rf"coordinates: index {bad} out of range 0\.\.{nc - 1}"):
            kin.coupling_vectors(model, q, [0, bad])
    with pytest.raises(ValueError, match=r"not C-contiguous"):
        kin.complete_coordinates(model, q, out=np.zeros((nc, 3)).T)


def test_an_empty_batch_gives_empty_results() -> None:
    model = models.load("lumbopelvic")
    q = np.zeros((0, len(model.coordinates)))
    assert kin.complete_coordinates(model, q).shape == q.shape
    assert kin.coupling_vectors(model, q, [0, 1]).shape == (0, 2, q.shape[1])
    S, dF, axc = kin.joint_axis_values(model, q)
    assert S.shape == dF.shape == (0, len(model.joints), 6) and axc.shape == (len(model.joints), 6)
