"""Muscle parameters and the normalized force curves of OpenSim's three muscle models.

A :class:`MuscleParameters` holds, for the ``m`` muscles of a model (in model order), every
number the force computations need, as NumPy arrays of shape ``(m,)`` (curve control points
have extra trailing axes). It is immutable: build it once with :func:`muscle_parameters_from_xml`
and pass it to the pure functions of :mod:`iliopsoas.mechanics.forces`.

Supported muscle classes and where their curves come from:

* ``Millard2012EquilibriumMuscle`` (Millard et al. 2013, J Biomech Eng 135(2):021005): the
  active force-length, passive (fiber) force-length, tendon force-length and force-velocity
  curves are C2-continuous chains of quintic Bezier "corners". They are rebuilt here from the
  curve properties exactly as OpenSim 4.6 builds them (``SmoothSegmentedFunctionFactory``),
  including the property defaults and the adjustments OpenSim makes when a model is finalised
  (damped model: minimum active force 0 and zero end slopes of the force-velocity curve;
  classic undamped elastic-tendon model: minimum active force raised to 0.1).
* ``Thelen2003Muscle`` (Thelen 2003, J Biomech Eng 125(1):70-77): closed-form Gaussian active
  curve, exponential passive curve, exponential-then-linear tendon curve (toe at 0.33 Fmax).
* ``DeGrooteFregly2016Muscle`` (De Groote et al. 2016, Ann Biomed Eng 44(10):2922-2936): three
  Gaussian-like active terms, exponential passive and tendon curves, with the modified
  constants OpenSim 4.6 uses.

Units: lengths in m, forces in N, angles in rad, velocities in optimal fiber lengths per second
for ``max_contraction_velocity`` (OpenSim's convention).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any
from xml.etree.ElementTree import Element

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

MILLARD = 0
THELEN = 1
DEGROOTE = 2

SUPPORTED_MUSCLE_TYPES: tuple[str, ...] = (
    "Millard2012EquilibriumMuscle",
    "Thelen2003Muscle",
    "DeGrooteFregly2016Muscle",
)
TYPE_CODES = {name: code for code, name in enumerate(SUPPORTED_MUSCLE_TYPES)}

# SimTK constants (SimTK/include/SimTKcommon/Constants.h semantics).
EPS = float(np.finfo(float).eps)
SIGNIFICANT_REAL = EPS ** (7.0 / 8.0)
SQRT_EPS = math.sqrt(EPS)
DEFAULT_MAX_PENNATION = math.acos(0.1)

# De Groote et al. 2016 curve constants, as modified in OpenSim 4.6 (DeGrooteFregly2016Muscle.h):
# b11 rescaled so that f_L(1) = 1; c2 = c3 so the tendon force is 0 at slack; d1, d4 re-solved so
# the force-velocity curve passes through (-1, 0) and (0, 1).
DGF_B = np.array(
    [
        [0.8150671134243542, 1.055033428970575, 0.162384573599574, 0.063303448465465],
        [0.433004984392647, 0.716775413397760, -0.029947116970696, 0.200356847296188],
        [0.1, 1.0, 0.353553390593274, 0.0],
    ]
)
DGF_KPE = 4.0
DGF_C1, DGF_C2, DGF_C3 = 0.2, 1.0, 0.2
DGF_D1, DGF_D2, DGF_D3, DGF_D4 = -0.3211346127989808, -8.149, -0.374, 0.8825327733249912
DGF_MIN_NORM_FIBER_LENGTH = 0.2


class MuscleModelError(ValueError):
    """A muscle element has a missing, malformed or out-of-range property."""


# --------------------------------------------------------------------------------------------
# Quintic Bezier curves (OpenSim's SegmentedQuinticBezierToolkit / SmoothSegmentedFunction)
# --------------------------------------------------------------------------------------------

# Bernstein (degree 5) -> power basis: coefficient of u**k = sum_i p_i * _B2P[k, i].
_B2P = np.zeros((6, 6))
for _i in range(6):
    for _k in range(_i, 6):
        _B2P[_k, _i] = math.comb(5, _i) * math.comb(5 - _i, _k - _i) * (-1) ** (_k - _i)


def _corner(x0: float, y0: float, dydx0: float, x1: float, y1: float, dydx1: float, c: float):
    """Control points of one quintic Bezier corner between two points with given slopes.

    The two tangent lines meet at a corner point; the inner control points sit at the fraction
    ``c`` (the scaled curviness) of the way from each end point towards that corner.
    """
    root_eps = math.sqrt(EPS)
    if abs(dydx0 - dydx1) > root_eps:
        xc = (y1 - y0 - x1 * dydx1 + x0 * dydx0) / (dydx0 - dydx1)
    else:
        xc = (x1 + x0) / 2
    yc = (xc - x1) * dydx1 + y1
    x0m = x0 + c * (xc - x0)
    y0m = y0 + c * (yc - y0)
    x1m = x1 + c * (xc - x1)
    y1m = y1 + c * (yc - y1)
    return (x0, x0m, x0m, x1m, x1m, x1), (y0, y0m, y0m, y1m, y1m, y1)


def _scale_curviness(c: float) -> float:
    return 0.1 + 0.8 * c


def _curve(corners: list[tuple[Any, Any]], x0: float, x1: float, y0: float, y1: float,
           dydx0: float, dydx1: float) -> dict[str, Any]:
    return {
        "cx": np.array([c[0] for c in corners], dtype=float),
        "cy": np.array([c[1] for c in corners], dtype=float),
        "ends": np.array([x0, x1, y0, y1, dydx0, dydx1], dtype=float),
    }


def active_force_length_curve(min_norm_active_fiber_length: float, transition_norm_fiber_length: float,
                              max_norm_active_fiber_length: float, shallow_ascending_slope: float,
                              minimum_value: float) -> dict[str, Any]:
    """Millard active force-length curve (5 corners), as ``createFiberActiveForceLengthCurve``."""
    x0, x1, x2, x3 = min_norm_active_fiber_length, transition_norm_fiber_length, 1.0, max_norm_active_fiber_length
    ylow, dydx = minimum_value, shallow_ascending_slope
    c = _scale_curviness(1.0)
    x_delta = 0.05 * x2
    xs = x2 - x_delta
    y0, dydx0 = 0.0, 0.0
    y1 = 1 - dydx * (xs - x1)
    dydx01 = 1.25 * (y1 - y0) / (x1 - x0)
    x01 = x0 + 0.5 * (x1 - x0)
    y01 = y0 + 0.5 * (y1 - y0)
    x1s = x1 + 0.5 * (xs - x1)
    y1s = y1 + 0.5 * (1 - y1)
    dydx1s = dydx
    y2, dydx2, y3, dydx3 = 1.0, 0.0, 0.0, 0.0
    x23 = (x2 + x_delta) + 0.5 * (x3 - (x2 + x_delta))
    y23 = y2 + 0.5 * (y3 - y2)
    dydx23 = (y3 - y2) / ((x3 - x_delta) - (x2 + x_delta))
    corners = [
        _corner(x0, ylow, dydx0, x01, y01, dydx01, c),
        _corner(x01, y01, dydx01, x1s, y1s, dydx1s, c),
        _corner(x1s, y1s, dydx1s, x2, y2, dydx2, c),
        _corner(x2, y2, dydx2, x23, y23, dydx23, c),
        _corner(x23, y23, dydx23, x3, ylow, dydx3, c),
    ]
    return _curve(corners, x0, x3, ylow, ylow, 0.0, 0.0)


def fiber_force_length_curve(e_zero: float, e_iso: float, k_low: float, k_iso: float,
                             curviness: float) -> dict[str, Any]:
    """Millard passive fiber force-length curve (2 corners), as ``createFiberForceLengthCurve``."""
    c = _scale_curviness(curviness)
    x_zero, y_zero = 1 + e_zero, 0.0
    x_iso, y_iso = 1 + e_iso, 1.0
    delta_x = min(0.1 * (1.0 / k_iso), 0.1 * (x_iso - x_zero))
    x_low = x_zero + delta_x
    x_foot = x_zero + 0.5 * (x_low - x_zero)
    y_low = 0.0 + k_low * (x_low - x_foot)
    corners = [
        _corner(x_zero, y_zero, 0.0, x_low, y_low, k_low, c),
        _corner(x_low, y_low, k_low, x_iso, y_iso, k_iso, c),
    ]
    return _curve(corners, x_zero, x_iso, y_zero, y_iso, 0.0, k_iso)


def tendon_force_length_curve(e_iso: float, k_iso: float, f_toe: float, curviness: float) -> dict[str, Any]:
    """Millard tendon force-length curve (2 corners), as ``createTendonForceLengthCurve``."""
    c = _scale_curviness(curviness)
    x0, y0, dydx0 = 1.0, 0.0, 0.0
    x_iso, y_iso = 1.0 + e_iso, 1.0
    y_toe = f_toe
    x_toe = (y_toe - 1) / k_iso + x_iso
    x_foot = 1.0 + (x_toe - 1.0) / 10.0
    y_foot = 0.0
    y_toe_mid = y_toe * 0.5
    x_toe_mid = (y_toe_mid - y_iso) / k_iso + x_iso
    dydx_toe_mid = (y_toe_mid - y_foot) / (x_toe_mid - x_foot)
    x_toe_ctrl = x_foot + 0.5 * (x_toe_mid - x_foot)
    y_toe_ctrl = y_foot + dydx_toe_mid * (x_toe_ctrl - x_foot)
    corners = [
        _corner(x0, y0, dydx0, x_toe_ctrl, y_toe_ctrl, dydx_toe_mid, c),
        _corner(x_toe_ctrl, y_toe_ctrl, dydx_toe_mid, x_toe, y_toe, k_iso, c),
    ]
    return _curve(corners, x0, x_toe, y0, y_toe, dydx0, k_iso)


def force_velocity_curve(fmax_e: float, dydx_c: float, dydx_near_c: float, dydx_iso: float,
                         dydx_e: float, dydx_near_e: float, conc_curviness: float,
                         ecc_curviness: float) -> dict[str, Any]:
    """Millard force-velocity curve (4 corners), as ``createFiberForceVelocityCurve``."""
    cc, ce = _scale_curviness(conc_curviness), _scale_curviness(ecc_curviness)
    xc, yc = -1.0, 0.0
    x_near_c = -0.9
    y_near_c = yc + 0.5 * dydx_near_c * (x_near_c - xc) + 0.5 * dydx_c * (x_near_c - xc)
    x_iso, y_iso = 0.0, 1.0
    xe, ye = 1.0, fmax_e
    x_near_e = 0.9
    y_near_e = ye + 0.5 * dydx_near_e * (x_near_e - xe) + 0.5 * dydx_e * (x_near_e - xe)
    corners = [
        _corner(xc, yc, dydx_c, x_near_c, y_near_c, dydx_near_c, cc),
        _corner(x_near_c, y_near_c, dydx_near_c, x_iso, y_iso, dydx_iso, cc),
        _corner(x_iso, y_iso, dydx_iso, x_near_e, y_near_e, dydx_near_e, ce),
        _corner(x_near_e, y_near_e, dydx_near_e, xe, ye, dydx_e, ce),
    ]
    return _curve(corners, xc, xe, yc, ye, dydx_c, dydx_e)


_TABLE = 129  # points of the per-segment table that seeds the inversion of x(u)
_NODES = 1025  # points per segment of the Hermite tables used by the fast evaluation


@dataclass(frozen=True)
class BezierCurves:
    """One smooth segmented curve per muscle, stacked.

    Attributes
    ----------
    x_coef, y_coef : (6, m, s)
        Power-basis coefficients (u**0 .. u**5) of x(u) and y(u) for each of the ``s`` segments.
    starts : (m, s)
        x at the start of each segment (segments are contiguous and increasing).
    u_table : (m, s, 129)
        u at 129 equally spaced x across each segment: the seed of the Newton inversion.
    ends : (m, 6)
        x0, x1, y0, y1, dydx0, dydx1: the domain, the values at its ends and the slopes of the
        straight-line extrapolation outside it.
    """

    x_coef: FloatArray
    y_coef: FloatArray
    starts: FloatArray
    ends: FloatArray
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def u_table(self) -> FloatArray:
        """``(m, s, 129)``: built on first use (a model's muscles without curves would otherwise
        hold megabytes of NaN from the moment it is loaded)."""
        if "u_table" not in self._cache:
            m, n_segments = self.starts.shape
            us = np.linspace(0.0, 1.0, 4001)
            table = np.full((m, n_segments, _TABLE), np.nan)
            grid = np.linspace(0.0, 1.0, _TABLE)
            for i in range(m):
                for k in range(n_segments):
                    if not np.isfinite(self.x_coef[:, i, k]).all():
                        continue
                    xs = _horner(self.x_coef[:, i, k][:, None], us)
                    t = (xs - xs[0]) / (xs[-1] - xs[0])
                    table[i, k] = np.interp(grid, t, us)
            self._cache["u_table"] = table
        return self._cache["u_table"]

    @staticmethod
    def stack(curves: Sequence[dict[str, Any] | None], n_segments: int) -> BezierCurves:
        m = len(curves)
        cx = np.full((m, n_segments, 6), np.nan)
        cy = np.full((m, n_segments, 6), np.nan)
        ends = np.full((m, 6), np.nan)
        for i, c in enumerate(curves):
            if c is None:
                continue
            cx[i], cy[i], ends[i] = c["cx"], c["cy"], c["ends"]
        xc = np.moveaxis(cx @ _B2P.T, -1, 0).copy()
        yc = np.moveaxis(cy @ _B2P.T, -1, 0).copy()
        return BezierCurves(x_coef=xc, y_coef=yc, starts=cx[..., 0].copy(), ends=ends)

    def _tables(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Hermite tables, built on first use and kept: segment widths (m, s), and the exact
        value and slope (m, s, K) on a uniform x grid inside each segment (where the curve is an
        analytic function of x)."""
        if "tables" not in self._cache:
            widths = self.x_coef.sum(axis=0) - self.x_coef[0]  # x(1) - x(0) per (m, s)
            frac = np.linspace(0.0, 1.0, _NODES)
            xn = self.starts[..., None] + widths[..., None] * frac
            xn = np.where(np.isfinite(xn), xn, 0.0)
            y, d = self._exact_in_segments(xn)
            self._cache["tables"] = (widths, y, d)
        return self._cache["tables"]

    def subset(self, idx: NDArray[np.intp]) -> BezierCurves:
        widths, y, d = self._tables()
        out = BezierCurves(self.x_coef[:, idx], self.y_coef[:, idx], self.starts[idx], self.ends[idx])
        out._cache["u_table"] = self.u_table[idx]
        out._cache["tables"] = (widths[idx], y[idx], d[idx])
        return out

    def __call__(self, x: FloatArray, *, derivative: bool = False) -> tuple[FloatArray, FloatArray | None]:
        """Evaluate the curves at ``x`` of shape ``(..., m)``; returns (value, dvalue/dx or None).

        Fast path: cubic Hermite interpolation of exact values and slopes tabulated at 1025
        points per Bezier segment. Each interval lies inside one segment, where the curve is a
        smooth function of x; for OpenSim's curves the error is below 1e-9 in value and 1e-6
        (relative) in slope, checked against :meth:`exact` in the tests.
        """
        x = np.asarray(x, dtype=float)
        m = self.starts.shape[0]
        if x.ndim == 0 or x.shape[-1] != m:
            raise ValueError(f"trailing dimension of x must be {m} (one per muscle), got {x.shape}")
        mi = np.broadcast_to(np.arange(m), x.shape).reshape(-1)
        y, d = self.eval_at(x.reshape(-1), mi, derivative=derivative)
        return y.reshape(x.shape), (None if d is None else d.reshape(x.shape))

    def eval_at(self, x: FloatArray, muscle: NDArray[np.intp], *,
                derivative: bool = False) -> tuple[FloatArray, FloatArray | None]:
        """Evaluate at points ``x`` (N,) of the curves of muscles ``muscle`` (N,) (fast path)."""
        widths, y_nodes, dydx_nodes = self._tables()
        nseg = self.starts.shape[1]
        x0, x1 = self.ends[:, 0][muscle], self.ends[:, 1][muscle]
        seg = np.zeros(x.shape, dtype=np.intp)
        for k in range(1, nseg):
            seg += x >= self.starts[muscle, k]
        base = muscle * nseg + seg
        start = self.starts.reshape(-1)[base]
        width = widths.reshape(-1)[base]
        with np.errstate(invalid="ignore", divide="ignore"):
            t = (np.clip(x, x0, x1) - start) / width * (_NODES - 1)
        t = np.where(np.isfinite(t), t, 0.0)
        j = np.clip(t.astype(np.intp), 0, _NODES - 2)
        f = t - j
        node = base * _NODES + j
        yt, dt = y_nodes.reshape(-1), dydx_nodes.reshape(-1)
        ya, yb, da, db = yt[node], yt[node + 1], dt[node], dt[node + 1]
        h = width / (_NODES - 1)
        f2 = f * f
        f3 = f2 * f
        y = (2 * f3 - 3 * f2 + 1) * ya + (f3 - 2 * f2 + f) * h * da + (3 * f2 - 2 * f3) * yb + (f3 - f2) * h * db
        dydx = None
        if derivative:
            with np.errstate(invalid="ignore", divide="ignore"):
                dydx = (6 * (f2 - f) * (ya - yb) / h + (3 * f2 - 4 * f + 1) * da + (3 * f2 - 2 * f) * db)
        # outside the curve's domain: straight lines with the end slopes
        for out, xe, ye, se in ((x < x0, x0, 2, 4), (x > x1, x1, 3, 5)):
            if out.any():
                where = np.flatnonzero(out)
                mk = muscle[where]
                y[where] = self.ends[mk, ye] + self.ends[mk, se] * (x[where] - xe[where])
                if dydx is not None:
                    dydx[where] = self.ends[mk, se]
        return y, dydx

    def _exact_in_segments(self, xn: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Exact value and slope at points ``xn`` (m, s, K), where ``xn[:, s]`` lies in segment s."""
        m, nseg, k = xn.shape
        flat = np.moveaxis(xn, 0, -1).reshape(nseg * k, m)  # rows: segment-major
        # Nudge each segment's last node inside it so the segment search keeps it there.
        inside = np.moveaxis(np.broadcast_to(np.arange(k) == k - 1, (m, nseg, k)), 0, -1).reshape(nseg * k, m)
        y, d = self.exact(np.where(inside, np.nextafter(flat, -np.inf), flat), derivative=True)
        assert d is not None
        back = (nseg, k, m)
        return np.moveaxis(y.reshape(back), -1, 0).copy(), np.moveaxis(d.reshape(back), -1, 0).copy()

    def exact(self, x: FloatArray, *, derivative: bool = False) -> tuple[FloatArray, FloatArray | None]:
        """Evaluate exactly (x(u) = x solved by Newton to round-off, as OpenSim does)."""
        x = np.asarray(x, dtype=float)
        x0, x1, y0, y1, s0, s1 = (self.ends[:, k] for k in range(6))
        shape = x.shape
        m = self.starts.shape[0]
        xf = x.reshape(-1, m)
        nseg = self.starts.shape[1]
        seg = np.zeros(xf.shape, dtype=np.intp)
        for k in range(1, nseg):
            seg += xf >= self.starts[:, k]
        cols = np.broadcast_to(np.arange(m), xf.shape)
        cx = self.x_coef[:, cols, seg]  # (6, n, m)
        cy = self.y_coef[:, cols, seg]
        xs = cx[0]
        xe = cx.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            xin = np.clip(xf, xs, xe)
            t = (xin - xs) / (xe - xs) * (_TABLE - 1)
            t = np.where(np.isfinite(t), t, 0.0)
            j = np.minimum(t.astype(np.intp), _TABLE - 2)
            fr = t - j
            u = self.u_table[cols, seg, j] * (1.0 - fr) + self.u_table[cols, seg, j + 1] * fr
            # The seed is within ~1e-4 of the root; x(u) is monotonic, so Newton converges
            # quadratically. Three steps reach round-off; any straggler gets more below.
            for _ in range(3):
                u = np.clip(u - (_horner(cx, u) - xin) / _horner_d1(cx, u), 0.0, 1.0)
            g = _horner(cx, u) - xin
            tol = 8 * EPS * (np.abs(xin) + np.abs(xe - xs))
            bad = np.abs(g) > tol
            if bad.any():
                cb = cx[:, bad]
                ub, xb = u[bad], xin[bad]
                tb = tol[bad]
                for _ in range(50):
                    gb = _horner(cb, ub) - xb
                    if not (np.abs(gb) > tb).any():
                        break
                    ub = np.clip(ub - gb / _horner_d1(cb, ub), 0.0, 1.0)
                u[bad] = ub
            y = _horner(cy, u)
            dydx = _horner_d1(cy, u) / _horner_d1(cx, u) if derivative else None
        below = xf < x0
        above = xf > x1
        y = np.where(below, y0 + s0 * (xf - x0), np.where(above, y1 + s1 * (xf - x1), y))
        if dydx is not None:
            dydx = np.where(below, s0, np.where(above, s1, dydx)).reshape(shape)
        return y.reshape(shape), dydx


def _horner(c: FloatArray, u: FloatArray) -> FloatArray:
    """Polynomial with coefficients ``c[0..5]`` (leading axis) at ``u``."""
    r = c[5] * u + c[4]
    for k in (3, 2, 1, 0):
        r *= u
        r += c[k]
    return r


def _horner_d1(c: FloatArray, u: FloatArray) -> FloatArray:
    r = 5.0 * c[5] * u + 4.0 * c[4]
    for k in (3, 2, 1):
        r *= u
        r += k * c[k]
    return r


# --------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MuscleParameters:
    """Everything the force computations need, over the ``m`` muscles of a model (model order).

    Every array has shape ``(m,)`` unless stated. Values that do not apply to a muscle's type are
    NaN. ``min_fiber_length`` is the lower bound OpenSim clamps the fiber to (Millard: the larger
    of the active curve's minimum and the pennation limit; Thelen: the pennation limit;
    De Groote-Fregly: none, 0).
    """

    names: tuple[str, ...]
    type_code: NDArray[np.int64]
    max_isometric_force: FloatArray
    optimal_fiber_length: FloatArray
    tendon_slack_length: FloatArray
    pennation_angle_at_optimal: FloatArray
    max_contraction_velocity: FloatArray
    ignore_tendon_compliance: NDArray[np.bool_]
    fiber_damping: FloatArray
    minimum_activation: FloatArray
    maximum_pennation_angle: FloatArray
    min_fiber_length: FloatArray
    # Millard curve properties in use (after OpenSim's finalize adjustments)
    afl_min_norm_active_fiber_length: FloatArray
    afl_transition_norm_fiber_length: FloatArray
    afl_max_norm_active_fiber_length: FloatArray
    afl_shallow_ascending_slope: FloatArray
    afl_minimum_value: FloatArray
    fpe_strain_at_zero_force: FloatArray
    fpe_strain_at_one_norm_force: FloatArray
    fpe_stiffness_at_low_force: FloatArray
    fpe_stiffness_at_one_norm_force: FloatArray
    fpe_curviness: FloatArray
    tfl_strain_at_one_norm_force: FloatArray
    tfl_stiffness_at_one_norm_force: FloatArray
    tfl_norm_force_at_toe_end: FloatArray
    tfl_curviness: FloatArray
    fv_concentric_slope_at_vmax: FloatArray
    fv_concentric_slope_near_vmax: FloatArray
    fv_isometric_slope: FloatArray
    fv_eccentric_slope_at_vmax: FloatArray
    fv_eccentric_slope_near_vmax: FloatArray
    fv_max_eccentric_velocity_force_multiplier: FloatArray
    fv_concentric_curviness: FloatArray
    fv_eccentric_curviness: FloatArray
    # Thelen 2003
    thelen_fmax_tendon_strain: FloatArray
    thelen_fmax_muscle_strain: FloatArray
    thelen_kshape_active: FloatArray
    thelen_kshape_passive: FloatArray
    thelen_af: FloatArray
    thelen_flen: FloatArray
    # De Groote-Fregly 2016
    dgf_tendon_strain_at_one_norm_force: FloatArray
    dgf_passive_fiber_strain_at_one_norm_force: FloatArray
    dgf_active_force_width_scale: FloatArray
    dgf_ignore_passive_fiber_force: NDArray[np.bool_]
    # Millard curves, built from the properties above
    active_force_length: BezierCurves
    fiber_force_length: BezierCurves
    tendon_force_length: BezierCurves
    force_velocity: BezierCurves

    @property
    def n_muscles(self) -> int:
        return len(self.names)

    @property
    def parallelogram_height(self) -> FloatArray:
        """Fixed fiber 'width' ``l_o sin(alpha_o)`` of the pennation model (m,), m."""
        return self.optimal_fiber_length * np.sin(self.pennation_angle_at_optimal)

    @property
    def max_sin_pennation(self) -> FloatArray:
        return np.sin(self.maximum_pennation_angle)

    @property
    def pennation_min_fiber_length(self) -> FloatArray:
        """Shortest fiber the fixed-width pennation model allows (m,), m."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.maximum_pennation_angle > SIGNIFICANT_REAL,
                            self.parallelogram_height / self.max_sin_pennation, 0.01 * self.optimal_fiber_length)

    @cached_property
    def kernel_tables(self) -> KernelTables:
        """Per-muscle constants and Millard curve tables laid out for the compiled force kernel.

        Built on first use and kept with this (immutable) parameter set; see :class:`KernelTables`.
        """
        return _kernel_tables(self)

    @property
    def type_names(self) -> tuple[str, ...]:
        return tuple(SUPPORTED_MUSCLE_TYPES[int(c)] for c in self.type_code)

    def index(self, names: Sequence[str]) -> NDArray[np.intp]:
        """Indices of ``names`` (raises KeyError naming the unknown muscle)."""
        pos = {n: i for i, n in enumerate(self.names)}
        out = []
        for n in names:
            if n not in pos:
                raise KeyError(f"unknown muscle {n!r}")
            out.append(pos[n])
        return np.asarray(out, dtype=np.intp)

    def subset(self, idx: Sequence[int] | NDArray[np.intp]) -> MuscleParameters:
        """A new MuscleParameters with the muscles at ``idx`` (in that order)."""
        ix = np.asarray(idx, dtype=np.intp)
        values: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "names":
                values[f.name] = tuple(self.names[i] for i in ix)
            elif isinstance(v, BezierCurves):
                values[f.name] = v.subset(ix)
            else:
                values[f.name] = v[ix]
        return MuscleParameters(**values)


# Columns of KernelTables.constants, one row per muscle. Derived constants are computed here with
# the same NumPy expressions the NumPy force path uses, so both paths start from identical numbers.
(COL_F, COL_LO, COL_TSL, COL_H, COL_PMIN, COL_MAXPEN, COL_MAXSIN, COL_COS_MAXPEN, COL_ALPHA0, COL_LMIN,
 COL_VMAX, COL_BETA, COL_TH_KA, COL_TH_E0, COL_TH_KPE, COL_TH_PDEN, COL_TH_ETOE, COL_TH_KLIN, COL_DG_S,
 COL_DG_E0, COL_DG_OFF, COL_DG_DEN, COL_DG_IGN, COL_DG_KT, COL_INV_LO, COL_INV_TSL) = range(26)
N_COLUMNS = 26
N_CURVE_SEGMENTS = 5  # most segments of a Millard curve (active force-length); others padded


# Millard curves in KernelTables.constants: curve k (active force-length, fiber force-length,
# tendon force-length, force-velocity) occupies CURVE_WIDTH columns from curve_column(k):
# segment starts (5; unused ones +inf), Hermite interval inverses (K - 1) / width (5), Hermite
# interval widths width / (K - 1) (5), BezierCurves.ends (6), row in ``nodes`` of each segment's
# first node (5, stored as floats).
CURVE_STARTS, CURVE_SCALES, CURVE_STEPS, CURVE_ENDS, CURVE_OFFSETS = 0, 5, 10, 15, 21
CURVE_WIDTH = 26


def curve_column(k: int) -> int:
    """First column of Millard curve ``k`` in :attr:`KernelTables.constants`."""
    return N_COLUMNS + CURVE_WIDTH * k


@dataclass(frozen=True)
class KernelTables:
    """What the compiled force kernel reads, for ``m`` muscles.

    Attributes
    ----------
    constants : (m, N_COLUMNS + 4 * CURVE_WIDTH)
        Per-muscle numbers (columns ``COL_*``; NaN where one does not apply to the muscle's type),
        then the segment data of the four Millard curves (see :func:`curve_column`).
    nodes : (N, 2)
        Exact value and slope at the Hermite nodes (``BezierCurves._tables``), node after node.
    """

    constants: FloatArray
    nodes: FloatArray


def _kernel_tables(p: MuscleParameters) -> KernelTables:
    m = p.n_muscles
    c = np.full((m, N_COLUMNS), np.nan)
    c[:, COL_F] = p.max_isometric_force
    c[:, COL_LO] = p.optimal_fiber_length
    c[:, COL_TSL] = p.tendon_slack_length
    c[:, COL_H] = p.parallelogram_height
    c[:, COL_PMIN] = p.pennation_min_fiber_length
    c[:, COL_MAXPEN] = p.maximum_pennation_angle
    c[:, COL_MAXSIN] = p.max_sin_pennation
    c[:, COL_COS_MAXPEN] = np.cos(p.maximum_pennation_angle)
    c[:, COL_ALPHA0] = p.pennation_angle_at_optimal
    c[:, COL_LMIN] = p.min_fiber_length
    c[:, COL_VMAX] = p.max_contraction_velocity
    c[:, COL_BETA] = p.fiber_damping
    c[:, COL_TH_KA] = p.thelen_kshape_active
    c[:, COL_TH_E0] = p.thelen_fmax_muscle_strain
    c[:, COL_TH_KPE] = p.thelen_kshape_passive
    c[:, COL_TH_PDEN] = np.exp(p.thelen_kshape_passive) - 1.0
    c[:, COL_TH_ETOE], c[:, COL_TH_KLIN] = _thelen_toe(p.thelen_fmax_tendon_strain)
    e0 = p.dgf_passive_fiber_strain_at_one_norm_force
    off = np.exp(DGF_KPE * (DGF_MIN_NORM_FIBER_LENGTH - 1.0) / e0)
    c[:, COL_DG_S] = p.dgf_active_force_width_scale
    c[:, COL_DG_E0] = e0
    c[:, COL_DG_OFF] = off
    c[:, COL_DG_DEN] = np.exp(DGF_KPE) - off
    c[:, COL_DG_IGN] = p.dgf_ignore_passive_fiber_force.astype(float)
    c[:, COL_DG_KT] = degroote_tendon_stiffness_parameter(p)
    c[:, COL_INV_LO] = 1.0 / p.optimal_fiber_length
    c[:, COL_INV_TSL] = 1.0 / p.tendon_slack_length

    millard = np.flatnonzero(p.type_code == MILLARD)
    curves_out = np.full((m, 4, CURVE_WIDTH), np.nan)
    curves_out[:, :, CURVE_OFFSETS:CURVE_OFFSETS + N_CURVE_SEGMENTS] = 0.0
    parts: list[FloatArray] = []
    row = 0
    curves = (p.active_force_length, p.fiber_force_length, p.tendon_force_length, p.force_velocity)
    for k, curve in enumerate(curves):
        nseg = curve.starts.shape[1]
        cv = curves_out[:, k]
        cv[:, CURVE_STARTS:CURVE_STARTS + N_CURVE_SEGMENTS] = np.inf
        cv[:, CURVE_STARTS:CURVE_STARTS + nseg] = curve.starts
        cv[:, CURVE_ENDS:CURVE_ENDS + 6] = curve.ends
        if millard.size == 0:
            continue
        w, y, d = curve._tables()
        with np.errstate(divide="ignore", invalid="ignore"):
            cv[:, CURVE_SCALES:CURVE_SCALES + nseg] = (_NODES - 1) / w
        cv[:, CURVE_STEPS:CURVE_STEPS + nseg] = w / (_NODES - 1)
        n_nodes = y.shape[2]
        first = row + n_nodes * np.arange(millard.size * nseg).reshape(millard.size, nseg)
        cv[millard, CURVE_OFFSETS:CURVE_OFFSETS + nseg] = first
        parts.append(np.stack([y[millard], d[millard]], axis=-1).reshape(-1, 2))
        row += millard.size * nseg * n_nodes
    nodes = np.concatenate(parts) if parts else np.zeros((1, 2))
    table = np.concatenate([c, curves_out.reshape(m, 4 * CURVE_WIDTH)], axis=1)
    return KernelTables(constants=np.ascontiguousarray(table), nodes=np.ascontiguousarray(nodes))


# --------------------------------------------------------------------------------------------
# Reading OpenSim XML
# --------------------------------------------------------------------------------------------


def _child(el: Element | None, tag: str) -> Element | None:
    if el is None:
        return None
    for ch in el:
        if ch.tag == tag:
            return ch
    return None


def _text(el: Element | None, tag: str) -> str | None:
    ch = _child(el, tag)
    if ch is None or ch.text is None or not ch.text.strip():
        return None
    return ch.text.strip()


def _float(el: Element | None, tag: str, default: float | None, where: str,
           fallback: Element | None = None) -> float | None:
    s = _text(el, tag)
    if s is None:
        s = _text(fallback, tag)
    if s is None:
        return default
    try:
        v = float(s)
    except ValueError:
        raise MuscleModelError(f"{where}: <{tag}> must be a number, got {s!r}") from None
    if not math.isfinite(v):
        raise MuscleModelError(f"{where}: <{tag}> must be finite, got {s!r}")
    return v


def _req(v: float | None) -> float:
    assert v is not None
    return v


def _bool(el: Element | None, tag: str, default: bool, where: str, fallback: Element | None = None) -> bool:
    s = _text(el, tag)
    if s is None:
        s = _text(fallback, tag)
    if s is None:
        return default
    low = s.lower()
    if low in ("true", "1"):
        return True
    if low in ("false", "0"):
        return False
    raise MuscleModelError(f"{where}: <{tag}> must be true or false, got {s!r}")


def _check(cond: bool, where: str, message: str) -> None:
    if not cond:
        raise MuscleModelError(f"{where}: {message}")


def _millard(el: Element, dflt: Element | None, where: str, base: dict[str, Any]) -> dict[str, Any]:
    """Millard2012EquilibriumMuscle properties, defaults and finalize-time adjustments."""
    out: dict[str, Any] = {}
    damping = _req(_float(el, "fiber_damping", 0.1, where, dflt))
    use_damping = damping >= 0.001
    if not use_damping:
        damping = 0.0
    min_act = _req(_float(el, "minimum_activation", 0.01, where, dflt))
    max_penn = _req(_float(el, "maximum_pennation_angle", DEFAULT_MAX_PENNATION, where, dflt))

    def sub(tag: str) -> tuple[Element | None, Element | None]:
        return _child(el, tag), _child(dflt, tag)

    afl, afl_d = sub("ActiveForceLengthCurve")
    w = f"{where} ActiveForceLengthCurve"
    a_min = _req(_float(afl, "min_norm_active_fiber_length", 0.47 - 0.0259, w, afl_d))
    a_tr = _req(_float(afl, "transition_norm_fiber_length", 0.73, w, afl_d))
    a_max = _req(_float(afl, "max_norm_active_fiber_length", 1.8123, w, afl_d))
    a_slope = _req(_float(afl, "shallow_ascending_slope", 0.8616, w, afl_d))
    a_minval = _req(_float(afl, "minimum_value", 0.1, w, afl_d))

    fv, fv_d = sub("ForceVelocityCurve")
    w = f"{where} ForceVelocityCurve"
    c_at = _req(_float(fv, "concentric_slope_at_vmax", 0.0, w, fv_d))
    c_near = _req(_float(fv, "concentric_slope_near_vmax", 0.25, w, fv_d))
    iso = _req(_float(fv, "isometric_slope", 5.0, w, fv_d))
    e_at = _req(_float(fv, "eccentric_slope_at_vmax", 0.0, w, fv_d))
    e_near = _req(_float(fv, "eccentric_slope_near_vmax", 0.15, w, fv_d))
    fmax_e = _req(_float(fv, "max_eccentric_velocity_force_multiplier", 1.4, w, fv_d))
    c_curv = _req(_float(fv, "concentric_curviness", 0.6, w, fv_d))
    e_curv = _req(_float(fv, "eccentric_curviness", 0.9, w, fv_d))
    _check(c_near >= SQRT_EPS and e_near >= SQRT_EPS, w, "slopes near vmax must be at least 1.49e-8")

    if not base["ignore_tendon_compliance"] and not use_damping:
        # Classic (undamped) Hill model with an elastic tendon: OpenSim keeps the fiber velocity
        # solvable by a floor on the active curve and non-zero end slopes of the f-v curve.
        _check(min_act >= 0.01, where, "minimum_activation must be >= 0.01 for an undamped elastic tendon")
        a_minval = max(a_minval, 0.1)
        c_at = max(c_at, 0.5 * c_near)
        e_at = max(e_at, 0.5 * e_near)
    else:
        min_act = min(max(min_act, 0.0), 1.0)
        a_minval = 0.0 if a_minval > 0 else a_minval
        c_at = 0.0 if c_at > 0 else c_at
        e_at = 0.0 if e_at > 0 else e_at

    fpe, fpe_d = sub("FiberForceLengthCurve")
    w = f"{where} FiberForceLengthCurve"
    e0 = _req(_float(fpe, "strain_at_zero_force", 0.0, w, fpe_d))
    e1 = _req(_float(fpe, "strain_at_one_norm_force", 0.7, w, fpe_d))
    opt = [_float(fpe, t, None, w, fpe_d) for t in ("stiffness_at_low_force", "stiffness_at_one_norm_force", "curviness")]
    if all(v is not None for v in opt):
        k_low, k_iso, fpe_c = (float(v) for v in opt)  # type: ignore[arg-type]
    elif all(v is None for v in opt):
        k_low, k_iso, fpe_c = 0.2, 2.0 / (e1 - e0), 0.75
    else:
        raise MuscleModelError(f"{w}: stiffness_at_low_force, stiffness_at_one_norm_force and curviness "
                               "must all be given or all be absent (as OpenSim requires)")

    tfl, tfl_d = sub("TendonForceLengthCurve")
    w = f"{where} TendonForceLengthCurve"
    t_e = _req(_float(tfl, "strain_at_one_norm_force", 0.049, w, tfl_d))
    topt = [_float(tfl, t, None, w, tfl_d) for t in ("stiffness_at_one_norm_force", "norm_force_at_toe_end", "curviness")]
    if all(v is not None for v in topt):
        t_k, t_ftoe, t_c = (float(v) for v in topt)  # type: ignore[arg-type]
    elif all(v is None for v in topt):
        t_k, t_ftoe, t_c = 1.375 / t_e, 2.0 / 3.0, 0.5
    else:
        raise MuscleModelError(f"{w}: stiffness_at_one_norm_force, norm_force_at_toe_end and curviness "
                               "must all be given or all be absent (as OpenSim requires)")

    # Same validity checks as SmoothSegmentedFunctionFactory (so curve construction is defined).
    w = f"{where} ActiveForceLengthCurve"
    root = math.sqrt(EPS)
    _check(a_min >= 0 and a_tr > a_min + root and 1.0 > a_tr + root and a_max > 1.0 + root, w,
           "need 0 <= min_norm_active_fiber_length < transition_norm_fiber_length < 1 < max_norm_active_fiber_length")
    _check(a_minval >= 0, w, "minimum_value must be >= 0")
    _check(0 <= a_slope < (1 - a_minval) / (1 - a_tr), w, "shallow_ascending_slope out of range")
    w = f"{where} FiberForceLengthCurve"
    _check(e1 > e0, w, "strain_at_one_norm_force must exceed strain_at_zero_force")
    _check(k_iso > 1.0 / (e1 - e0), w, "stiffness_at_one_norm_force must exceed 1/(e1 - e0)")
    _check(0 < k_low < 1.0 / (e1 - e0), w, "stiffness_at_low_force must lie in (0, 1/(e1 - e0))")
    _check(0 <= fpe_c <= 1, w, "curviness must lie in [0, 1]")
    w = f"{where} TendonForceLengthCurve"
    _check(t_e > 0, w, "strain_at_one_norm_force must be > 0")
    _check(0 < t_ftoe < 1, w, "norm_force_at_toe_end must lie in (0, 1)")
    _check(t_k > 1.0 / t_e, w, "stiffness_at_one_norm_force must exceed 1/strain_at_one_norm_force")
    _check(0 <= t_c <= 1, w, "curviness must lie in [0, 1]")
    w = f"{where} ForceVelocityCurve"
    _check(fmax_e > 1.0, w, "max_eccentric_velocity_force_multiplier must exceed 1")
    _check(0 <= c_at < 1 and c_at < c_near <= 1, w, "concentric slopes out of range")
    _check(iso > 1, w, "isometric_slope must exceed 1")
    _check(0 <= e_at < fmax_e - 1 and e_at <= e_near < fmax_e - 1, w, "eccentric slopes out of range")
    _check(0 <= c_curv <= 1 and 0 <= e_curv <= 1, w, "curviness values must lie in [0, 1]")

    lo, alpha = base["optimal_fiber_length"], base["pennation_angle_at_optimal"]
    _check(0 <= max_penn <= math.pi / 2, where, "maximum_pennation_angle must lie in [0, pi/2]")
    h = lo * math.sin(alpha)
    pen_min = h / math.sin(max_penn) if max_penn > SIGNIFICANT_REAL else 0.01 * lo
    out.update(
        fiber_damping=damping,
        minimum_activation=min_act,
        maximum_pennation_angle=max_penn,
        min_fiber_length=max(SIGNIFICANT_REAL, a_min * lo, pen_min),
        afl_min_norm_active_fiber_length=a_min,
        afl_transition_norm_fiber_length=a_tr,
        afl_max_norm_active_fiber_length=a_max,
        afl_shallow_ascending_slope=a_slope,
        afl_minimum_value=a_minval,
        fpe_strain_at_zero_force=e0,
        fpe_strain_at_one_norm_force=e1,
        fpe_stiffness_at_low_force=k_low,
        fpe_stiffness_at_one_norm_force=k_iso,
        fpe_curviness=fpe_c,
        tfl_strain_at_one_norm_force=t_e,
        tfl_stiffness_at_one_norm_force=t_k,
        tfl_norm_force_at_toe_end=t_ftoe,
        tfl_curviness=t_c,
        fv_concentric_slope_at_vmax=c_at,
        fv_concentric_slope_near_vmax=c_near,
        fv_isometric_slope=iso,
        fv_eccentric_slope_at_vmax=e_at,
        fv_eccentric_slope_near_vmax=e_near,
        fv_max_eccentric_velocity_force_multiplier=fmax_e,
        fv_concentric_curviness=c_curv,
        fv_eccentric_curviness=e_curv,
        _curves=(
            active_force_length_curve(a_min, a_tr, a_max, a_slope, a_minval),
            fiber_force_length_curve(e0, e1, k_low, k_iso, fpe_c),
            tendon_force_length_curve(t_e, t_k, t_ftoe, t_c),
            force_velocity_curve(fmax_e, c_at, c_near, iso, e_at, e_near, c_curv, e_curv),
        ),
    )
    return out


def _thelen(el: Element, dflt: Element | None, where: str, base: dict[str, Any]) -> dict[str, Any]:
    vals = {
        "thelen_fmax_tendon_strain": _req(_float(el, "FmaxTendonStrain", 0.04, where, dflt)),
        "thelen_fmax_muscle_strain": _req(_float(el, "FmaxMuscleStrain", 0.6, where, dflt)),
        "thelen_kshape_active": _req(_float(el, "KshapeActive", 0.45, where, dflt)),
        "thelen_kshape_passive": _req(_float(el, "KshapePassive", 5.0, where, dflt)),
        "thelen_af": _req(_float(el, "Af", 0.25, where, dflt)),
        "thelen_flen": _req(_float(el, "Flen", 1.4, where, dflt)),
    }
    for k in ("thelen_fmax_tendon_strain", "thelen_fmax_muscle_strain", "thelen_kshape_active",
              "thelen_kshape_passive", "thelen_af"):
        _check(vals[k] > 0, where, f"{k.removeprefix('thelen_')} must be > 0")
    _check(vals["thelen_flen"] > 1.0, where, "Flen must be > 1")
    min_act = _req(_float(el, "minimum_activation", 0.01, where, dflt))
    _check(min_act >= 0.01, where, "minimum_activation must be >= 0.01")
    max_penn = _req(_float(el, "maximum_pennation_angle", DEFAULT_MAX_PENNATION, where, dflt))
    lo, alpha = base["optimal_fiber_length"], base["pennation_angle_at_optimal"]
    h = lo * math.sin(alpha)
    pen_min = h / math.sin(max_penn) if max_penn > SIGNIFICANT_REAL else 0.01 * lo
    vals.update(minimum_activation=min_act, maximum_pennation_angle=max_penn, min_fiber_length=pen_min,
                fiber_damping=0.0)
    return vals


def _degroote(el: Element, dflt: Element | None, where: str, base: dict[str, Any]) -> dict[str, Any]:
    vals: dict[str, Any] = {
        "dgf_tendon_strain_at_one_norm_force": _req(_float(el, "tendon_strain_at_one_norm_force", 0.049, where, dflt)),
        "dgf_passive_fiber_strain_at_one_norm_force": _req(
            _float(el, "passive_fiber_strain_at_one_norm_force", 0.6, where, dflt)),
        "dgf_active_force_width_scale": _req(_float(el, "active_force_width_scale", 1.0, where, dflt)),
        "dgf_ignore_passive_fiber_force": _bool(el, "ignore_passive_fiber_force", False, where, dflt),
        "fiber_damping": _req(_float(el, "fiber_damping", 0.0, where, dflt)),
    }
    _check(vals["dgf_tendon_strain_at_one_norm_force"] > 0, where, "tendon_strain_at_one_norm_force must be > 0")
    _check(vals["dgf_passive_fiber_strain_at_one_norm_force"] > 0, where,
           "passive_fiber_strain_at_one_norm_force must be > 0")
    _check(vals["dgf_active_force_width_scale"] >= 1, where, "active_force_width_scale must be >= 1")
    _check(vals["fiber_damping"] >= 0, where, "fiber_damping must be >= 0")
    _check(base["pennation_angle_at_optimal"] < math.pi / 2 - SIGNIFICANT_REAL, where,
           "pennation_angle_at_optimal must lie in [0, pi/2)")
    vals.update(minimum_activation=0.0, maximum_pennation_angle=math.pi / 2, min_fiber_length=0.0)
    return vals


_FLOAT_FIELDS = [f.name for f in fields(MuscleParameters)
                 if f.name not in ("names", "type_code", "ignore_tendon_compliance", "dgf_ignore_passive_fiber_force",
                                   "active_force_length", "fiber_force_length", "tendon_force_length",
                                   "force_velocity")]


def muscle_parameters_from_xml(elements: Sequence[Element], defaults: Sequence[Element] | None = None) -> MuscleParameters:
    """Read muscle properties from OpenSim XML elements, with OpenSim 4.6's defaults.

    Parameters
    ----------
    elements : sequence of Element, length m
        The ``<Millard2012EquilibriumMuscle>``, ``<Thelen2003Muscle>`` or
        ``<DeGrooteFregly2016Muscle>`` elements of a model, in model order (any XML parser
        producing ``xml.etree`` elements, e.g. defusedxml).
    defaults : sequence of Element, optional
        Elements of the model file's ``<defaults>`` section; a property absent from a muscle is
        taken from the default object of the same class before OpenSim's built-in default.

    Returns
    -------
    MuscleParameters
        Arrays of shape ``(m,)``.

    Raises
    ------
    MuscleModelError
        For an unsupported class, a malformed number or an out-of-range value; the message
        names the muscle, the property and what was expected.
    """
    dmap = {d.tag: d for d in (defaults or [])}
    rows: list[dict[str, Any]] = []
    curves: list[tuple[Any, ...] | None] = []
    for pos, el in enumerate(elements):
        name = el.get("name") or f"#{pos}"
        where = f"{el.tag} {name!r}"
        if el.tag not in TYPE_CODES:
            raise MuscleModelError(
                f"{where}: unsupported muscle class (supported: {', '.join(SUPPORTED_MUSCLE_TYPES)})")
        dflt = dmap.get(el.tag)
        base: dict[str, Any] = {
            "max_isometric_force": _req(_float(el, "max_isometric_force", 1000.0, where, dflt)),
            "optimal_fiber_length": _req(_float(el, "optimal_fiber_length", 0.1, where, dflt)),
            "tendon_slack_length": _req(_float(el, "tendon_slack_length", 0.2, where, dflt)),
            "pennation_angle_at_optimal": _req(_float(el, "pennation_angle_at_optimal", 0.0, where, dflt)),
            "max_contraction_velocity": _req(_float(el, "max_contraction_velocity", 10.0, where, dflt)),
            "ignore_tendon_compliance": _bool(el, "ignore_tendon_compliance", False, where, dflt),
        }
        _check(base["max_isometric_force"] > 0, where, "max_isometric_force must be > 0")
        _check(base["optimal_fiber_length"] > 0, where, "optimal_fiber_length must be > 0")
        _check(base["tendon_slack_length"] > 0, where, "tendon_slack_length must be > 0")
        _check(0 <= base["pennation_angle_at_optimal"] <= math.pi / 2 - SIGNIFICANT_REAL, where,
               "pennation_angle_at_optimal must lie in [0, pi/2)")
        _check(base["max_contraction_velocity"] > 0, where, "max_contraction_velocity must be > 0")
        code = TYPE_CODES[el.tag]
        if code == MILLARD:
            extra = _millard(el, dflt, where, base)
            curves.append(extra.pop("_curves"))
        elif code == THELEN:
            # Thelen2003Muscle always integrates its fiber length: the tendon is elastic.
            base["ignore_tendon_compliance"] = False
            extra = _thelen(el, dflt, where, base)
            curves.append(None)
        else:
            extra = _degroote(el, dflt, where, base)
            curves.append(None)
        row = {"name": name, "type_code": code, **base, **extra}
        rows.append(row)

    def col(key: str) -> FloatArray:
        return np.array([float(r.get(key, np.nan)) for r in rows], dtype=float)

    values: dict[str, Any] = {k: col(k) for k in _FLOAT_FIELDS}
    values["names"] = tuple(r["name"] for r in rows)
    values["type_code"] = np.array([r["type_code"] for r in rows], dtype=np.int64)
    values["ignore_tendon_compliance"] = np.array([r["ignore_tendon_compliance"] for r in rows], dtype=bool)
    values["dgf_ignore_passive_fiber_force"] = np.array(
        [bool(r.get("dgf_ignore_passive_fiber_force", False)) for r in rows], dtype=bool)
    for k, (key, nseg) in enumerate((("active_force_length", 5), ("fiber_force_length", 2),
                                     ("tendon_force_length", 2), ("force_velocity", 4))):
        values[key] = BezierCurves.stack([c[k] if c is not None else None for c in curves], nseg)
    return MuscleParameters(**values)


# --------------------------------------------------------------------------------------------
# Closed-form curves (Thelen 2003, De Groote-Fregly 2016); x has shape (..., m)
# --------------------------------------------------------------------------------------------


def thelen_active_force_length(p: MuscleParameters, lce_n: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Thelen (2003) Gaussian active force-length multiplier and its derivative."""
    k = p.thelen_kshape_active
    t = lce_n - 1.0
    f = np.exp(-(t * t) / k)
    return f, -2.0 * t / k * f


def thelen_passive_force_length(p: MuscleParameters, lce_n: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Thelen (2003) exponential passive multiplier (0 below optimal length) and derivative."""
    e0, kpe = p.thelen_fmax_muscle_strain, p.thelen_kshape_passive
    with np.errstate(over="ignore"):
        ex = np.exp(kpe * (lce_n - 1.0) / e0)
    den = np.exp(kpe) - 1.0
    on = lce_n > 1.0
    return np.where(on, (ex - 1.0) / den, 0.0), np.where(on, kpe / e0 * ex / den, 0.0)


def _thelen_toe(e0: FloatArray) -> tuple[FloatArray, FloatArray]:
    e3 = math.exp(3.0)
    e_toe = 99.0 * e0 * e3 / (166.0 * e3 - 67.0)
    k_lin = 0.67 / (e0 - e_toe)
    return e_toe, k_lin


def thelen_tendon_force_length(p: MuscleParameters, lt_n: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Thelen (2003) tendon curve: exponential toe up to 0.33 Fmax, then linear; and derivative."""
    x = lt_n - 1.0
    e_toe, k_lin = _thelen_toe(p.thelen_fmax_tendon_strain)
    k_toe, f_toe = 3.0, 0.33
    with np.errstate(over="ignore"):
        ex = np.exp(k_toe * x / e_toe)
    toe = f_toe / (math.exp(k_toe) - 1.0) * (ex - 1.0)
    dtoe = f_toe / (math.exp(k_toe) - 1.0) * (k_toe / e_toe) * ex
    f = np.where(x > e_toe, k_lin * (x - e_toe) + f_toe, np.where(x > 0.0, toe, 0.0))
    d = np.where(x > e_toe, k_lin + 0.0 * x, np.where(x > 0.0, dtoe, 0.0))
    return f, d


def degroote_active_force_length(p: MuscleParameters, lce_n: FloatArray) -> tuple[FloatArray, FloatArray]:
    """De Groote-Fregly (2016) active multiplier (sum of 3 Gaussian-like terms) and derivative."""
    s = p.dgf_active_force_width_scale
    x = (lce_n - 1.0) / s + 1.0
    f = np.zeros_like(x)
    d = np.zeros_like(x)
    for b1, b2, b3, b4 in DGF_B:
        den = b3 + b4 * x
        g = b1 * np.exp(-0.5 * (x - b2) ** 2 / den**2)
        f = f + g
        d = d + g * (b2 - x) * (b3 + b2 * b4) / den**3
    return f, d / s


def degroote_passive_force_length(p: MuscleParameters, lce_n: FloatArray) -> tuple[FloatArray, FloatArray]:
    """De Groote-Fregly (2016) passive multiplier (0 at 0.2 optimal length) and derivative."""
    e0 = p.dgf_passive_fiber_strain_at_one_norm_force
    off = np.exp(DGF_KPE * (DGF_MIN_NORM_FIBER_LENGTH - 1.0) / e0)
    den = np.exp(DGF_KPE) - off
    ex = np.exp(DGF_KPE * (lce_n - 1.0) / e0)
    f = (ex - off) / den
    d = DGF_KPE * ex / (e0 * den)
    ign = p.dgf_ignore_passive_fiber_force
    return np.where(ign, 0.0, f), np.where(ign, 0.0, d)


def degroote_tendon_stiffness_parameter(p: MuscleParameters) -> FloatArray:
    """kT chosen so the tendon curve reaches 1 at ``tendon_strain_at_one_norm_force``."""
    return np.log((1.0 + DGF_C3) / DGF_C1) / (1.0 + p.dgf_tendon_strain_at_one_norm_force - DGF_C2)


def degroote_tendon_force_length(p: MuscleParameters, lt_n: FloatArray) -> tuple[FloatArray, FloatArray]:
    kt = degroote_tendon_stiffness_parameter(p)
    ex = DGF_C1 * np.exp(kt * (lt_n - DGF_C2))
    return ex - DGF_C3, kt * ex


def degroote_tendon_length_from_force(p: MuscleParameters, ft_n: FloatArray) -> FloatArray:
    """Normalized tendon length at a normalized tendon force (inverse of the tendon curve)."""
    kt = degroote_tendon_stiffness_parameter(p)
    return np.log((ft_n + DGF_C3) / DGF_C1) / kt + DGF_C2


def degroote_force_velocity(v_n: FloatArray) -> FloatArray:
    t = DGF_D2 * v_n + DGF_D3
    return DGF_D1 * np.log(t + np.sqrt(t * t + 1.0)) + DGF_D4


def muscle_elements(root: Element) -> tuple[list[Element], list[Element]]:
    """The muscle elements of an OpenSim model document (ForceSet order) and its defaults.

    ``root`` is the ``<OpenSimDocument>`` (or ``<Model>``) element. Returns ``(muscles,
    defaults)``: the supported muscle elements outside ``<defaults>``, and the supported muscle
    elements inside it.
    """
    model = root if root.tag == "Model" else _child(root, "Model")
    if model is None:
        return [], []
    defaults: list[Element] = []
    d = _child(model, "defaults")
    if d is not None:
        defaults = [el for el in d if el.tag in TYPE_CODES]
    out: list[Element] = []
    fs = _child(model, "ForceSet")
    objs = _child(fs, "objects")
    if objs is not None:
        out = [el for el in objs if el.tag in TYPE_CODES]
    return out, defaults
