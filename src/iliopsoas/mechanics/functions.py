"""OpenSim's scalar functions, evaluated over batches.

Every function maps an array ``x`` of any shape to an array of the same shape (``value``) and
gives its first derivative (``derivative``). They are frozen dataclasses holding read-only
arrays, so a :class:`~iliopsoas.mechanics.model.Model` that holds them stays immutable.

The formulas follow OpenSim 4.6 (``OpenSim/Common/{Constant,LinearFunction,SimmSpline,
PolynomialFunction,MultiplierFunction}``); in particular :class:`SimmSpline` reproduces
SimmSpline's end conditions (third derivatives from divided differences at both ends) and its
linear extrapolation outside the knots, which is not a textbook natural spline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

_TINY = 1e-7  # SimmMacros TINY_NUMBER: the smallest knot spacing SimmSpline allows
_ROUNDOFF = 2e-13  # SimmMacros ROUNDOFF_ERROR, used by EQUAL_WITHIN_ERROR


def _frozen(a: object) -> Array:
    arr = np.array(a, dtype=float)
    arr.setflags(write=False)
    return arr


class Function:
    """Base class: a scalar function of one variable, vectorised over ``x``."""

    def value(self, x: Array) -> Array:  # pragma: no cover - abstract
        raise TypeError(f"{type(self).__name__} does not define value()")

    def derivative(self, x: Array) -> Array:  # pragma: no cover - abstract
        raise TypeError(f"{type(self).__name__} does not define derivative()")

    def is_constant(self) -> bool:
        return False


@dataclass(frozen=True)
class Constant(Function):
    """``f(x) = value``."""

    constant: float

    def value(self, x: Array) -> Array:
        return np.full(np.shape(x), float(self.constant))

    def derivative(self, x: Array) -> Array:
        return np.zeros(np.shape(x))

    def is_constant(self) -> bool:
        return True


@dataclass(frozen=True)
class LinearFunction(Function):
    """``f(x) = slope * x + intercept`` (OpenSim's ``coefficients = [slope, intercept]``)."""

    slope: float
    intercept: float

    def value(self, x: Array) -> Array:
        return self.slope * np.asarray(x, dtype=float) + self.intercept

    def derivative(self, x: Array) -> Array:
        return np.full(np.shape(x), float(self.slope))


@dataclass(frozen=True)
class PolynomialFunction(Function):
    """``f(x) = c[0] x^(n-1) + ... + c[n-1]``: OpenSim lists coefficients from the highest power."""

    coefficients: Array = field(default_factory=lambda: _frozen([0.0]))

    def __post_init__(self) -> None:
        object.__setattr__(self, "coefficients", _frozen(np.atleast_1d(self.coefficients)))

    def value(self, x: Array) -> Array:
        return np.polyval(self.coefficients, np.asarray(x, dtype=float))

    def derivative(self, x: Array) -> Array:
        if self.coefficients.size < 2:
            return np.zeros(np.shape(x))
        return np.polyval(np.polyder(self.coefficients), np.asarray(x, dtype=float))


@dataclass(frozen=True)
class MultiplierFunction(Function):
    """``f(x) = scale * g(x)`` for an inner function ``g``."""

    function: Function
    scale: float = 1.0

    def value(self, x: Array) -> Array:
        return self.scale * self.function.value(x)

    def derivative(self, x: Array) -> Array:
        return self.scale * self.function.derivative(x)

    def is_constant(self) -> bool:
        return self.function.is_constant()


@dataclass(frozen=True)
class SimmSpline(Function):
    """OpenSim's SimmSpline: a cubic spline through ``(x, y)``.

    Coefficients are computed once, exactly as ``SimmSpline::calcCoefficients`` does (a
    tridiagonal solve whose end conditions match the third derivative of the cubic through the
    first/last four knots). Outside ``[x[0], x[-1]]`` the spline is continued by the straight line
    with the end slope, as OpenSim does.
    """

    x: Array
    y: Array
    b: Array = field(init=False, repr=False)
    c: Array = field(init=False, repr=False)
    d: Array = field(init=False, repr=False)

    def __post_init__(self) -> None:
        xs = np.asarray(self.x, dtype=float).ravel()
        ys = np.asarray(self.y, dtype=float).ravel()
        if xs.size != ys.size or xs.size < 2:
            raise ValueError(
                f"SimmSpline needs x and y of the same length >= 2, got {xs.size} and {ys.size}"
            )
        if np.any(np.diff(xs) < 0):
            raise ValueError("SimmSpline x values must be non-decreasing")
        b, c, d = _simm_coefficients(xs, ys)
        object.__setattr__(self, "x", _frozen(xs))
        object.__setattr__(self, "y", _frozen(ys))
        object.__setattr__(self, "b", _frozen(b))
        object.__setattr__(self, "c", _frozen(c))
        object.__setattr__(self, "d", _frozen(d))

    def _segment(self, x: Array) -> tuple[NDArray[np.intp], Array]:
        n = self.x.size
        k = np.searchsorted(self.x, x, side="left") - 1
        k = np.clip(k, 0, n - 2)
        return k, x - self.x[k]

    def value(self, x: Array) -> Array:
        x = np.asarray(x, dtype=float)
        k, dx = self._segment(x)
        out = self.y[k] + dx * (self.b[k] + dx * (self.c[k] + dx * self.d[k]))
        lo, hi = self.x[0], self.x[-1]
        out = np.where(np.abs(x - lo) <= _ROUNDOFF, self.y[0], out)
        out = np.where(np.abs(x - hi) <= _ROUNDOFF, self.y[-1], out)
        out = np.where(x < lo, self.y[0] + (x - lo) * self.b[0], out)
        out = np.where(x > hi, self.y[-1] + (x - hi) * self.b[-1], out)
        return out

    def derivative(self, x: Array) -> Array:
        x = np.asarray(x, dtype=float)
        k, dx = self._segment(x)
        out = self.b[k] + dx * (2.0 * self.c[k] + 3.0 * dx * self.d[k])
        lo, hi = self.x[0], self.x[-1]
        out = np.where((x < lo) | (np.abs(x - lo) <= _ROUNDOFF), self.b[0], out)
        out = np.where((x > hi) | (np.abs(x - hi) <= _ROUNDOFF), self.b[-1], out)
        return out


@dataclass(frozen=True)
class PiecewiseLinearFunction(SimmSpline):
    """OpenSim's PiecewiseLinearFunction: straight lines between the points ``(x, y)``.

    As in OpenSim, the slope of the last segment continues past the last point and that of the
    first before the first; the derivative is the slope of the segment. It is evaluated as a
    :class:`SimmSpline` whose quadratic and cubic coefficients are zero (so the compiled
    evaluators need no new kind of function).
    """

    def __post_init__(self) -> None:
        xs = np.asarray(self.x, dtype=float).ravel()
        ys = np.asarray(self.y, dtype=float).ravel()
        if xs.size != ys.size or xs.size < 2:
            raise ValueError(
                f"PiecewiseLinearFunction needs x and y of the same length >= 2, got {xs.size} and {ys.size}"
            )
        if np.any(np.diff(xs) <= 0):
            raise ValueError("PiecewiseLinearFunction x values must be increasing")
        b = np.empty(xs.size)
        b[:-1] = np.diff(ys) / np.diff(xs)
        b[-1] = b[-2]
        object.__setattr__(self, "x", _frozen(xs))
        object.__setattr__(self, "y", _frozen(ys))
        object.__setattr__(self, "b", _frozen(b))
        object.__setattr__(self, "c", _frozen(np.zeros(xs.size)))
        object.__setattr__(self, "d", _frozen(np.zeros(xs.size)))


def _simm_coefficients(x: Array, y: Array) -> tuple[Array, Array, Array]:
    """Polynomial coefficients ``b, c, d`` of each knot interval (SimmSpline's algorithm)."""
    n = x.size
    b = np.zeros(n)
    c = np.zeros(n)
    d = np.zeros(n)
    if n == 2:
        t = max(_TINY, x[1] - x[0])
        b[:] = (y[1] - y[0]) / t
        return b, c, d
    nm1, nm2 = n - 1, n - 2
    d[0] = max(_TINY, x[1] - x[0])
    c[1] = (y[1] - y[0]) / d[0]
    for i in range(1, nm1):
        d[i] = max(_TINY, x[i + 1] - x[i])
        b[i] = 2.0 * (d[i - 1] + d[i])
        c[i + 1] = (y[i + 1] - y[i]) / d[i]
        c[i] = c[i + 1] - c[i]
    b[0] = -d[0]
    b[nm1] = -d[nm2]
    c[0] = 0.0
    c[nm1] = 0.0
    if n > 3:
        d31 = max(_TINY, x[3] - x[1])
        d20 = max(_TINY, x[2] - x[0])
        d1 = max(_TINY, x[nm1] - x[n - 3])
        d2 = max(_TINY, x[nm2] - x[n - 4])
        d30 = max(_TINY, x[3] - x[0])
        d3 = max(_TINY, x[nm1] - x[n - 4])
        c[0] = c[2] / d31 - c[1] / d20
        c[nm1] = c[nm2] / d1 - c[n - 3] / d2
        c[0] = c[0] * d[0] * d[0] / d30
        c[nm1] = -c[nm1] * d[nm2] * d[nm2] / d3
    for i in range(1, n):
        t = d[i - 1] / b[i - 1]
        b[i] -= t * d[i - 1]
        c[i] -= t * c[i - 1]
    c[nm1] /= b[nm1]
    for j in range(nm1):
        i = nm2 - j
        c[i] = (c[i] - d[i] * c[i + 1]) / b[i]
    b[nm1] = (y[nm1] - y[nm2]) / d[nm2] + d[nm2] * (c[nm2] + 2.0 * c[nm1])
    for i in range(nm1):
        b[i] = (y[i + 1] - y[i]) / d[i] - d[i] * (c[i + 1] + 2.0 * c[i])
        d[i] = (c[i + 1] - c[i]) / d[i]
        c[i] *= 3.0
    c[nm1] *= 3.0
    d[nm1] = d[nm2]
    return b, c, d


# Kind codes of a FunctionTable row (the compiled evaluator dispatches on them).
KIND_CONSTANT, KIND_LINEAR, KIND_SPLINE, KIND_POLYNOMIAL = 0, 1, 2, 3


@dataclass(frozen=True, eq=False)
class FunctionTable:
    """Several functions flattened into arrays, for a compiled evaluator (one row per function).

    Row ``a`` is function ``a`` of kind ``kind[a]`` (``KIND_*``) whose parameters start at
    ``par[off[a]]``: the constant; ``slope, intercept``; a spline's ``nk[a]`` knots then its
    ``y, b, c, d`` (``nk[a]`` each); or a polynomial's ``nk[a]`` coefficients (highest power
    first) with its derivative's ``dnk[a]`` coefficients at ``par[doff[a]]``. The result is then
    multiplied by ``scales[a, 0]``, ``scales[a, 1]``, ... in turn (MultiplierFunction scales,
    innermost first, then any outer factor such as a coupler's ``scale_factor``; padded with 1.0,
    which changes nothing), so values are those of :meth:`Function.value` bit for bit.
    Shapes: ``kind, off, nk, doff, dnk`` ``(m,)`` int64, ``par`` ``(P,)``, ``scales`` ``(m, D)``
    (``D`` may be 0).
    """

    kind: NDArray[np.int64]
    off: NDArray[np.int64]
    nk: NDArray[np.int64]
    doff: NDArray[np.int64]
    dnk: NDArray[np.int64]
    par: Array
    scales: Array

    @property
    def arrays(self) -> tuple[NDArray[Any], ...]:
        """The arrays in the order the compiled evaluator takes them."""
        return (self.kind, self.off, self.nk, self.doff, self.dnk, self.par, self.scales)

    def spline_groups(self, src: Sequence[int]) -> tuple[NDArray[np.int64], int]:
        """Rows that are splines with the same knots and the same argument ``src[a]`` share a group.

        Returns ``group`` ``(m,)`` (-1 for rows that are not splines) and the number of groups;
        a group's rows fall in the same knot interval, so it is searched once.
        """
        group = np.full(self.kind.size, -1, dtype=np.int64)
        ids: dict[tuple[int, bytes], int] = {}
        for a in np.flatnonzero(self.kind == KIND_SPLINE).tolist():
            knots = self.par[self.off[a]: self.off[a] + self.nk[a]]
            group[a] = ids.setdefault((int(src[a]), knots.tobytes()), len(ids))
        return group, len(ids)


def function_table(functions: Sequence[Function],
                   outer_scales: Sequence[float] | None = None) -> FunctionTable | None:
    """Flatten ``functions`` (each then multiplied by ``outer_scales[a]``, if given) into a table.

    Returns None when one of them is not a type the table knows (the caller then evaluates the
    functions one by one).
    """
    kinds: list[int] = []
    offs: list[int] = []
    nks: list[int] = []
    doffs: list[int] = []
    dnks: list[int] = []
    par: list[float] = []
    chains: list[list[float]] = []
    for a, fn in enumerate(functions):
        chain: list[float] = []
        while isinstance(fn, MultiplierFunction):
            chain.append(float(fn.scale))
            fn = fn.function
        chain.reverse()  # innermost scale is applied first
        if outer_scales is not None:
            chain.append(float(outer_scales[a]))
        off, dpar = len(par), np.zeros(0)
        if isinstance(fn, Constant):
            kind, block = KIND_CONSTANT, np.array([float(fn.constant)])
        elif isinstance(fn, LinearFunction):
            kind, block = KIND_LINEAR, np.array([float(fn.slope), float(fn.intercept)])
        elif isinstance(fn, SimmSpline):
            kind, block = KIND_SPLINE, np.concatenate([fn.x, fn.y, fn.b, fn.c, fn.d])
        elif isinstance(fn, PolynomialFunction):
            kind, block = KIND_POLYNOMIAL, np.asarray(fn.coefficients, dtype=float)
            if block.size >= 2:
                dpar = np.polyder(block)  # exactly what PolynomialFunction.derivative evaluates
        else:
            return None
        par.extend(block.tolist())
        kinds.append(kind)
        offs.append(off)
        nks.append(fn.x.size if isinstance(fn, SimmSpline) else block.size)
        doffs.append(len(par))
        dnks.append(dpar.size)
        par.extend(dpar.tolist())
        chains.append(chain)
    depth = max((len(c) for c in chains), default=0)
    scales = np.ones((len(chains), depth))
    for a, chain in enumerate(chains):
        scales[a, : len(chain)] = chain
    def ints(v: list[int]) -> NDArray[np.int64]:
        return np.array(v, dtype=np.int64)

    return FunctionTable(kind=ints(kinds), off=ints(offs), nk=ints(nks), doff=ints(doffs), dnk=ints(dnks),
                         par=np.array(par, dtype=float), scales=scales)
