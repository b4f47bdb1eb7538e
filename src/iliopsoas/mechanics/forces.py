"""Muscle-tendon forces over batches of poses, for a rigid or a compliant tendon.

Every function here is pure and batched: MTU lengths and activations are arrays of shape
``(n, m)`` (``n`` poses, ``m`` muscles of a :class:`~iliopsoas.mechanics.muscles.MuscleParameters`),
results are arrays of the same shape, in SI units (m, rad, N).

Tendon models (``tendon=``):

* ``"rigid"`` -- the tendon stays at its slack length; the fiber length follows from the MTU
  length and the fixed-width pennation model (OpenSim's ``ignore_tendon_compliance=true``).
* ``"compliant"`` -- static equilibrium of an elastic tendon with the fiber at zero velocity,
  found with the same iteration OpenSim 4.6 uses in ``equilibrateMuscles`` (Millard2012 and
  Thelen2003: Newton on fiber length with step halving, tolerance 1e-8 Fmax, starting from a
  tendon at 1.01 slack length; DeGrooteFregly2016: bisection on normalized tendon force in
  [0, 5] to 1e-10), so that the root found is the one OpenSim finds.
* ``"model"`` -- each muscle's own ``ignore_tendon_compliance`` flag (Thelen2003 is always
  compliant).

In the compliant case the reported fiber force is the one that balances the tendon,
``F_fiber = F_tendon / cos(pennation)``, and the active part is ``F_fiber - F_passive``. This is
what OpenSim's getters report after ``equilibrateMuscles`` (to its solver tolerance).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from iliopsoas.mechanics import muscles as mus
from iliopsoas.mechanics._parallel import KERNEL_LOCK, set_kernel_threads, threads
from iliopsoas.mechanics.muscles import (
    DEGROOTE,
    MILLARD,
    SIGNIFICANT_REAL,
    SQRT_EPS,
    THELEN,
    MuscleParameters,
)

FloatArray = NDArray[np.float64]
TendonMode = Literal["rigid", "compliant", "model"]
TENDON_MODES: tuple[str, ...] = ("rigid", "compliant", "model")
DEFAULT_CHUNK = 8192  # poses per chunk in muscle_state (bounds the temporaries)


@dataclass(frozen=True)
class MuscleState:
    """Fiber and force quantities of ``m`` muscles in ``n`` poses; every array is ``(n, m)``.

    Lengths in m, angles in rad, forces in N; multipliers are dimensionless. ``converged`` is
    False where a compliant-tendon solve failed (those entries are NaN). The compiled path
    returns the arrays in column-major order (each muscle's poses contiguous in memory), as
    views of one buffer shared by the float fields: writing into one field changes only that
    field, but keeping one field alive keeps the whole buffer (``.copy()`` it to keep it alone).
    ``mtu_length`` is the caller's array when it was already a float array.
    """

    mtu_length: FloatArray
    fiber_length: FloatArray
    normalized_fiber_length: FloatArray
    pennation_angle: FloatArray
    tendon_length: FloatArray
    active_force_length_multiplier: FloatArray
    passive_force_multiplier: FloatArray
    force_velocity_multiplier: FloatArray
    active_fiber_force: FloatArray
    passive_fiber_force: FloatArray
    fiber_force: FloatArray
    tendon_force: FloatArray
    converged: NDArray[np.bool_]

    def as_dict(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


# --------------------------------------------------------------------------------------------
# Boundary checks
# --------------------------------------------------------------------------------------------


def _tendon_rigid(p: MuscleParameters, tendon: str) -> NDArray[np.bool_]:
    if tendon not in TENDON_MODES:
        raise ValueError(f"tendon must be one of {', '.join(TENDON_MODES)}; got {tendon!r}")
    if tendon == "rigid":
        return np.ones(p.n_muscles, dtype=bool)
    if tendon == "compliant":
        return np.zeros(p.n_muscles, dtype=bool)
    return p.ignore_tendon_compliance.copy()


# --------------------------------------------------------------------------------------------
# Curves and pennation, dispatched on muscle type (p holds muscles of one type only)
# --------------------------------------------------------------------------------------------


def _fiber_curves(p: MuscleParameters, code: int, lce_n: FloatArray, deriv: bool = True):
    if code == MILLARD:
        fal, dfal = p.active_force_length(lce_n, derivative=deriv)
        fpe, dfpe = p.fiber_force_length(lce_n, derivative=deriv)
        return fal, dfal, fpe, dfpe
    if code == THELEN:
        return (*mus.thelen_active_force_length(p, lce_n), *mus.thelen_passive_force_length(p, lce_n))
    return (*mus.degroote_active_force_length(p, lce_n), *mus.degroote_passive_force_length(p, lce_n))


def _tendon_curve(p: MuscleParameters, code: int, lt_n: FloatArray):
    if code == MILLARD:
        return p.tendon_force_length(lt_n, derivative=True)
    if code == THELEN:
        return mus.thelen_tendon_force_length(p, lt_n)
    return mus.degroote_tendon_force_length(p, lt_n)


def _height(p: MuscleParameters) -> FloatArray:
    return p.parallelogram_height


def _pennation_min(p: MuscleParameters) -> FloatArray:
    """Shortest fiber the fixed-width pennation model allows (MuscleFixedWidthPennationModel)."""
    return p.pennation_min_fiber_length


def pennation_angle(p: MuscleParameters, fiber_length: FloatArray) -> FloatArray:
    """Fixed-width pennation angle (rad) of fibers of length ``fiber_length`` (n, m)."""
    h = _height(p)
    pmin = _pennation_min(p)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = h / fiber_length
        phi = np.where(s < p.max_sin_pennation, np.arcsin(np.clip(s, -1, 1)), p.maximum_pennation_angle)
    phi = np.where(fiber_length > pmin, phi, p.maximum_pennation_angle)
    return np.where(p.pennation_angle_at_optimal > mus.EPS, phi, 0.0)


def rigid_tendon_fiber_length(p: MuscleParameters, mtu_length: FloatArray) -> FloatArray:
    """Fiber length (m) with the tendon at slack length; ``mtu_length`` is (n, m).

    Millard fibers are clamped at ``p.min_fiber_length`` (OpenSim's ``clampFiberLength``)."""
    h = _height(p)
    along = mtu_length - p.tendon_slack_length
    pmin = _pennation_min(p)
    lce = np.where(along >= pmin * np.cos(p.maximum_pennation_angle), np.sqrt(h * h + along * along), pmin)
    lce = np.where(p.type_code == DEGROOTE, np.sqrt(h * h + along * along), lce)
    return np.where(p.type_code == MILLARD, np.maximum(lce, p.min_fiber_length), lce)


# --------------------------------------------------------------------------------------------
# Rigid tendon
# --------------------------------------------------------------------------------------------


def _rigid(p: MuscleParameters, code: int, L: FloatArray, a: FloatArray, v: FloatArray) -> dict[str, FloatArray]:
    F, lo = p.max_isometric_force, p.optimal_fiber_length
    lce = rigid_tendon_fiber_length(p, L)
    phi = pennation_angle(p, lce) if code != DEGROOTE else np.arcsin(_height(p) / lce)
    cos = np.cos(phi) if code != DEGROOTE else (L - p.tendon_slack_length) / lce
    tl = L - lce * cos
    lce_n = lce / lo
    fal, _, fpe, _ = _fiber_curves(p, code, lce_n, deriv=False)
    vn = v * cos / (lo * p.max_contraction_velocity)
    if code == MILLARD:
        slack = tl < p.tendon_slack_length - SIGNIFICANT_REAL
        vn = np.where(slack, 0.0, vn)
        if np.any(vn != 0.0):
            fv = p.force_velocity(vn)[0]
        else:
            fv = np.ones_like(L)
        fv = np.where(slack, 1.0, fv)
        clamped = ((lce <= p.min_fiber_length) & (vn <= 0)) | (lce < p.min_fiber_length)
        vn = np.where(clamped, 0.0, vn)
        fv = np.where(clamped, 1.0, fv)
        act = np.where(clamped, 0.0, F * a * fal * fv)
        p1 = np.where(clamped, 0.0, F * fpe)
        p2 = np.where(clamped, 0.0, F * p.fiber_damping * vn)
        fm = act + p1 + p2
        neg = fm < 0
        p2 = np.where(neg, -act - p1, p2)
        fm = np.where(neg, 0.0, fm)
        passive = p1 + p2
    elif code == THELEN:
        if np.any(v != 0.0):
            raise ValueError("a rigid-tendon Thelen2003Muscle is only available at zero velocity")
        fv = np.ones_like(L)
        act = F * a * fal
        passive = F * fpe
        fm = act + passive
    else:
        fv = mus.degroote_force_velocity(vn)
        act = F * a * fal * fv
        passive = F * fpe + F * p.fiber_damping * vn
        fm = act + passive
    return dict(fiber_length=lce, pennation_angle=phi, tendon_length=tl, fal=fal, fpe=fpe, fv=fv,
                active=act, passive=passive, fiber=fm, tendon=fm * cos, converged=np.ones(L.shape, dtype=bool))


# --------------------------------------------------------------------------------------------
# Compliant tendon, static equilibrium
# --------------------------------------------------------------------------------------------


def _hill_eval(p: MuscleParameters, code: int, lce: FloatArray, L: FloatArray, a: FloatArray) -> dict[str, FloatArray]:
    """Equilibrium error and its partials at fiber length ``lce`` (zero fiber velocity)."""
    F, lo, tsl = p.max_isometric_force, p.optimal_fiber_length, p.tendon_slack_length
    phi = pennation_angle(p, lce)
    cos, sin = np.cos(phi), np.sin(phi)
    tl = L - lce * cos
    fal, dfal, fpe, dfpe = _fiber_curves(p, code, lce / lo)
    fse, dfse = _tendon_curve(p, code, tl / tsl)
    fm = F * (a * fal + fpe)
    ferr = fm * cos - fse * F
    h = _height(p)
    # The partials are written as OpenSim writes them, so that they become NaN exactly where
    # OpenSim's do (a Thelen fiber driven to zero length), which ends its iteration there.
    with np.errstate(divide="ignore", invalid="ignore"):
        hl = h / lce
        root = np.sqrt(1.0 - hl * hl)
        dphi = (-hl / lce) / root
        dfm = F * (a * dfal + dfpe) / lo
        if code == THELEN:
            dcos = h * h / (lce**3 * root)
            dfmat = dfm * cos + fm * dcos
        else:
            dfmat = dfm * cos + fm * (-sin * dphi)
        dtl = lce * sin * dphi - cos
        dft = dfse * F / tsl * dtl
    return dict(ferr=ferr, dferr=dfmat - dft, tl=tl, phi=phi, cos=cos, fal=fal, fpe=fpe, fse=fse)


class _PerElement:
    """MuscleParameters seen element by element: each attribute gathered at ``muscle`` (N,).

    Lets the equilibrium iteration work on a flat, shrinking set of (pose, muscle) entries
    while reusing the same curve and pennation code; curves evaluate with
    :meth:`BezierCurves.eval_at`.
    """

    def __init__(self, params: MuscleParameters, muscle: NDArray[np.intp]) -> None:
        self._params = params
        self._muscle = muscle
        self._seen: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        seen = self.__dict__["_seen"]
        if name not in seen:
            value = getattr(self._params, name)
            if isinstance(value, mus.BezierCurves):
                mi = self._muscle
                seen[name] = lambda x, derivative=False, _c=value: _c.eval_at(x, mi, derivative=derivative)
            else:
                seen[name] = np.asarray(value)[self._muscle]
        return seen[name]


def _elements(p: MuscleParameters, muscle: NDArray[np.intp]) -> MuscleParameters:
    return cast(MuscleParameters, _PerElement(p, muscle))


def _hill_equilibrium(p: MuscleParameters, code: int, L: FloatArray, a: FloatArray) -> dict[str, np.ndarray]:
    """OpenSim's static fiber-equilibrium Newton iteration, run on all poses and muscles at once.

    The entries are flattened; each outer iteration works only on the entries not yet
    converged, and each step-halving pass only on the entries still halving.
    """
    n, m = L.shape
    # Entries are taken muscle by muscle, so that one muscle's curve tables stay in cache.
    mi = np.repeat(np.arange(m), n)
    E = _elements(p, mi)
    Lf, af = L.T.reshape(-1), a.T.reshape(-1)
    tol = np.maximum(1e-8 * E.max_isometric_force, SIGNIFICANT_REAL * 10)
    max_iter = 200 if code == MILLARD else 20
    lmin = E.min_fiber_length
    h = _height(E)
    along = Lf - 1.01 * E.tendon_slack_length
    pmin = _pennation_min(E)
    lce = np.where(along >= pmin * np.cos(E.maximum_pennation_angle), np.sqrt(h * h + along * along), pmin)
    if code == MILLARD:
        lce = np.maximum(lce, lmin)
    ev = _hill_eval(E, code, lce, Lf, af)
    ferr, dferr = ev["ferr"], ev["dferr"]
    live = np.arange(lce.size)
    for _ in range(max_iter):
        live = live[np.abs(ferr[live]) > tol[live]]
        # A fiber at its lower bound whose Newton step points further down never moves again
        # (every halved step is clamped back to the bound), and a NaN slope freezes the iterate
        # too: OpenSim's loop ends with that state, so stop iterating those entries now.
        with np.errstate(divide="ignore", invalid="ignore"):
            lv, fv_, dv = lce[live], ferr[live], dferr[live]
            pinned = ((lv <= lmin[live]) & (lv - fv_ / dv <= lmin[live])) | ~np.isfinite(dv)
        live = live[~pinned]
        if live.size == 0:
            break
        lce_prev, ferr_prev, d_prev = lce[live], ferr[live], dferr[live]
        hstep = np.ones(live.size)
        halving = np.arange(live.size)  # positions (within live) still in the step-halving loop
        while halving.size:
            k = live[halving]
            with np.errstate(divide="ignore", invalid="ignore"):
                delta = -hstep[halving] * ferr_prev[halving] / d_prev[halving]
            big = np.abs(delta) > SIGNIFICANT_REAL
            sgn = np.where(delta > 0, 1.0, np.where(delta < 0, -1.0, 0.0))  # SimTK::sign(NaN) == 0
            trial = np.where(big, lce_prev[halving] + delta, lce_prev[halving] - sgn * SQRT_EPS)
            hstep[halving] = np.where(big, hstep[halving], 0.0)
            trial = np.maximum(trial, lmin[k])
            evk = _hill_eval(_elements(p, mi[k]), code, trial, Lf[k], af[k])
            lce[k], ferr[k], dferr[k] = trial, evk["ferr"], evk["dferr"]
            stop = hstep[halving] <= SQRT_EPS
            hstep[halving] = np.where(stop, hstep[halving], 0.5 * hstep[halving])
            again = ~stop & (np.abs(evk["ferr"]) >= np.abs(ferr_prev[halving]))
            halving = halving[again]
    return _equilibrium_result(E, code, lce, ferr, tol, lmin, Lf, af, n, m)


def _equilibrium_result(E: MuscleParameters, code: int, lce: FloatArray, ferr: FloatArray, tol: FloatArray,
                        lmin: FloatArray, Lf: FloatArray, af: FloatArray, n: int, m: int) -> dict[str, np.ndarray]:
    """OpenSim's verdict on the final iterate: converged, at the lower bound, or failed (NaN)."""
    ok = np.abs(ferr) < tol
    low = ~ok & (lce <= lmin)
    lce = np.where(low, lmin, lce)
    lce = np.where(ok | low, lce, np.nan)
    if code == MILLARD:
        lce = np.maximum(lce, lmin)
    final = _hill_eval(E, code, lce, Lf, af)
    out = {k: v.reshape(m, n).T for k, v in final.items()}
    return dict(fiber_length=lce.reshape(m, n).T, converged=(ok | low).reshape(m, n).T, **out)


def _compliant(p: MuscleParameters, code: int, L: FloatArray, a: FloatArray) -> dict[str, FloatArray]:
    F = p.max_isometric_force
    if code == DEGROOTE:
        return _degroote_compliant(p, L, a)
    eq = _hill_equilibrium(p, code, L, a)
    lce, cos, fpe, fal, fse = eq["fiber_length"], eq["cos"], eq["fpe"], eq["fal"], eq["fse"]
    tendon = fse * F
    fiber = tendon / cos
    passive = F * fpe
    at_min = lce <= p.min_fiber_length
    fv = np.ones_like(L)
    if code == MILLARD:
        active = fiber - passive
        damped = p.fiber_damping > 0
        if damped.any():
            # With fiber damping, OpenSim splits the balancing fiber force into active, elastic
            # and damping parts by solving a*fal*fv(v) + fpe + beta*v = fse/cos for the
            # (tiny) residual fiber velocity v; do the same so the parts agree too.
            v = _damped_fiber_velocity(p, a, fal, fpe, fse, cos)
            fv_d = p.force_velocity(v)[0]
            act_d = F * a * fal * fv_d
            pas_d = F * (fpe + p.fiber_damping * v)
            active = np.where(damped, act_d, active)
            passive = np.where(damped, pas_d, passive)
            fiber = np.where(damped, act_d + pas_d, fiber)
            fv = np.where(damped, fv_d, fv)
            at_min = at_min & np.where(damped, v <= 0, True) | (lce < p.min_fiber_length)
        # OpenSim marks a fiber at its lower bound as clamped and reports zero fiber force.
        fiber = np.where(at_min, 0.0, fiber)
        passive = np.where(at_min, 0.0, passive)
        active = np.where(at_min, 0.0, active)
        fv = np.where(at_min, 1.0, fv)
    else:
        shortening = fse / cos - fpe <= a * fal
        clamped = at_min & shortening
        active = np.where(clamped, 0.0, fiber - passive)
        fiber = np.where(clamped, 0.0, fiber)
    return dict(fiber_length=lce, pennation_angle=eq["phi"], tendon_length=eq["tl"], fal=fal, fpe=fpe,
                fv=fv, active=active, passive=passive, fiber=fiber, tendon=tendon,
                converged=eq["converged"])


def _damped_fiber_velocity(p: MuscleParameters, a: FloatArray, fal: FloatArray, fpe: FloatArray,
                           fse: FloatArray, cos: FloatArray) -> FloatArray:
    """Normalized fiber velocity balancing a damped Millard fiber against its tendon (Newton)."""
    F = p.max_isometric_force
    tol = np.maximum(1e-10 * F, SIGNIFICANT_REAL * 100)
    v = np.zeros_like(fal)
    beta = p.fiber_damping
    for _ in range(20):
        fv, dfv = p.force_velocity(v, derivative=True)
        assert dfv is not None
        err = F * (a * fal * fv + fpe + beta * v) * cos - fse * F
        if not (np.abs(err) > tol).any():
            break
        d = F * (a * fal * dfv + beta) * cos
        v = np.where(np.abs(err) > tol, v - err / d, v)
    return v


def _degroote_lengths(p: MuscleParameters, L: FloatArray, ft: FloatArray):
    tl = p.tendon_slack_length * mus.degroote_tendon_length_from_force(p, ft)
    along = L - tl
    h = _height(p)
    lce = np.sqrt(along * along + h * h)
    return tl, lce, along / lce


def _degroote_compliant(p: MuscleParameters, L: FloatArray, a: FloatArray) -> dict[str, FloatArray]:
    """Bisection on normalized tendon force in [0, 5] to 1e-10, as DeGrooteFregly2016Muscle does."""
    lo = p.optimal_fiber_length
    fv0 = mus.degroote_force_velocity(np.zeros(1))[0]

    def residual(ft: FloatArray) -> FloatArray:
        _, lce, cos = _degroote_lengths(p, L, ft)
        fal, _, fpe, _ = _fiber_curves(p, DEGROOTE, lce / lo, deriv=False)
        return ft - (a * fal * fv0 + fpe) * cos

    left = np.zeros_like(L)
    right = np.full_like(L, 5.0)
    r_left = residual(left)
    ok = r_left * residual(right) < 0
    mid = left.copy()
    for _ in range(100):
        if not (right - left > 1e-10).any():
            break
        going = right - left > 1e-10
        mid = np.where(going, 0.5 * (left + right), mid)
        r_mid = residual(mid)
        to_left = going & (r_mid * r_left < 0)
        to_right = going & ~(r_mid * r_left < 0)
        right = np.where(to_left, mid, right)
        left = np.where(to_right, mid, left)
        r_left = np.where(to_right, r_mid, r_left)
    return _degroote_outputs(p, L, a, np.where(ok, mid, np.nan), ok)


def _degroote_outputs(p: MuscleParameters, L: FloatArray, a: FloatArray, ft: FloatArray,
                      ok: NDArray[np.bool_]) -> dict[str, FloatArray]:
    F, lo = p.max_isometric_force, p.optimal_fiber_length
    tl, lce, cos = _degroote_lengths(p, L, ft)
    fal, _, fpe, _ = _fiber_curves(p, DEGROOTE, lce / lo, deriv=False)
    tendon = ft * F
    # Explicit-mode getters: the force-velocity multiplier that balances the tendon, its
    # velocity, and the damping force at that velocity.
    with np.errstate(divide="ignore", invalid="ignore"):
        fv = (ft / cos - fpe) / (a * fal)
    vn = (np.sinh((fv - mus.DGF_D4) / mus.DGF_D1) - mus.DGF_D3) / mus.DGF_D2
    active = F * a * fal * fv
    passive = F * fpe + F * p.fiber_damping * vn
    return dict(fiber_length=lce, pennation_angle=np.arcsin(_height(p) / lce), tendon_length=tl, fal=fal,
                fpe=fpe, fv=fv, active=active, passive=passive, fiber=active + passive,
                tendon=tendon, converged=ok)


# --------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------


def muscle_state(params: MuscleParameters, mtu_length: ArrayLike, activation: ArrayLike = 1.0, *,
                 velocity: ArrayLike | None = None, tendon: TendonMode | str = "model",
                 chunk_size: int = DEFAULT_CHUNK) -> MuscleState:
    """Fiber lengths and forces of every muscle in every pose.

    Parameters
    ----------
    params : MuscleParameters
        The ``m`` muscles.
    mtu_length : array (n, m)
        Muscle-tendon (path) lengths in m.
    activation : scalar, (m,) or (n, m)
        Activation in [0, 1]; Millard and Thelen muscles clamp it below at their
        ``minimum_activation`` as OpenSim does.
    velocity : scalar, (m,) or (n, m), optional
        MTU lengthening speed in m/s (default 0). Only the rigid tendon uses it; the compliant
        equilibrium is static and requires zero velocity.
    tendon : {"model", "rigid", "compliant"}
        Tendon model (see the module docstring).
    chunk_size : int
        Poses per chunk of the NumPy path (used without numba); its temporaries grow with
        ``chunk_size * m``, not with ``n``. The compiled path has no temporaries.

    Returns
    -------
    MuscleState
        Arrays of shape ``(n, m)``.

    Examples
    --------
    >>> import numpy as np
    >>> from xml.etree.ElementTree import fromstring
    >>> from iliopsoas.mechanics.muscles import muscle_parameters_from_xml
    >>> el = fromstring('<Millard2012EquilibriumMuscle name="m"><max_isometric_force>1000'
    ...                 '</max_isometric_force><optimal_fiber_length>0.1</optimal_fiber_length>'
    ...                 '<tendon_slack_length>0.2</tendon_slack_length></Millard2012EquilibriumMuscle>')
    >>> p = muscle_parameters_from_xml([el])
    >>> s = muscle_state(p, np.array([[0.3]]), 1.0, tendon="rigid")
    >>> round(float(s.tendon_force[0, 0]), 6)  # optimal fiber length, full activation: Fmax
    1000.0
    """
    m = params.n_muscles
    L = np.asarray(mtu_length, dtype=float)
    if L.ndim != 2 or L.shape[1] != m:
        raise ValueError(f"mtu_length must have shape (n, {m}), got {L.shape}")
    if not np.isfinite(L).all() or (L <= 0).any():
        raise ValueError("mtu_length must be finite and positive (m)")
    n = L.shape[0]
    a = _as_rows("activation", activation, n, m)
    if a.size == 1 and not 0.0 <= float(a[0, 0]) <= 1.0 or a.size > 1 and ((a < 0).any() or (a > 1).any()):
        raise ValueError("activation must lie in [0, 1]")
    lower = np.where(params.type_code == DEGROOTE, 0.0, params.minimum_activation)
    a = np.clip(a, lower, 1.0)  # (1 or n, m)
    rigid = _tendon_rigid(params, tendon)
    v = _as_rows("velocity", velocity, n, m, default=0.0)
    if velocity is not None:
        moving = v != 0.0
        if (~rigid[None, :] & moving).any():
            raise ValueError("velocity must be 0 for compliant tendons: the compliant equilibrium is static")
        if ((params.type_code == THELEN)[None, :] & moving).any():
            raise ValueError("a rigid-tendon Thelen2003Muscle is only available at zero velocity")
    kernels = _state_kernels()
    if kernels is None:
        a, v = np.broadcast_to(a, (n, m)), np.broadcast_to(v, (n, m))
        return _state_numpy(params, L, a, v, rigid, chunk_size)
    return _state_compiled(kernels, params, L, a, v, rigid)


def _as_rows(name: str, value: ArrayLike | None, n: int, m: int, *,
             default: float | None = None) -> FloatArray:
    """``value`` as a (1 or n, 1 or m) float array that broadcasts to (n, m), not broadcast yet."""
    if value is None:
        if default is None:
            raise ValueError(f"{name} is required")
        value = default
    if isinstance(value, float | int):  # the common scalar: no array checks needed
        if not np.isfinite(value):
            raise ValueError(f"{name} must be finite (found NaN or inf)")
        return np.full((1, 1), float(value))
    arr = np.asarray(value, dtype=float)
    if arr.ndim > 2:
        raise ValueError(f"{name} must have shape (n, {m}), ({m},) or be a scalar; got {arr.shape}")
    if arr.ndim >= 1 and arr.shape[-1] not in (1, m):
        raise ValueError(f"trailing dimension of {name} must be {m} (one per muscle), got {arr.shape[-1]}")
    if arr.ndim == 2 and arr.shape[0] not in (1, n):
        raise ValueError(f"{name} must have {n} rows (one per pose), got {arr.shape[0]}")
    arr = arr.reshape((arr.shape[0] if arr.ndim == 2 else 1, arr.shape[-1] if arr.ndim else 1))
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    return arr


def _state_kernels() -> Any:
    """The compiled force kernel module, or None without numba (then the NumPy path runs)."""
    try:
        from iliopsoas.mechanics import _muscle_kernels as k
    except ImportError:  # numba not installed: the NumPy path does the same work
        return None
    return k


# Below this many units of work (one per rigid entry, ten per compliant one) the serial kernel is
# used: starting the thread pool costs about as much as 20,000 rigid entries (~0.5 ms) here.
_PARALLEL_WORK = 20_000


def _writable(x: np.ndarray, dtype: Any = float) -> np.ndarray:
    """C-contiguous and writable, so that the kernels see one array type (one compiled signature)."""
    if x.dtype != dtype or not x.flags.c_contiguous or not x.flags.writeable:
        return np.array(x, dtype=dtype, order="C")
    return x


def _state_compiled(k: Any, params: MuscleParameters, L: FloatArray, a: FloatArray, v: FloatArray,
                    rigid: NDArray[np.bool_]) -> MuscleState:
    n, m = L.shape
    t = params.kernel_tables
    # muscle-major buffers: the fields are their transposes, (n, m) arrays in column-major order
    out = np.empty((k.N_OUT, m, n))
    converged = np.empty((m, n), dtype=bool)
    args = (_writable(L), _writable(a), _writable(v), _writable(params.type_code, np.int64),
            _writable(rigid, bool), t.constants, t.nodes, out, converged)
    n_rigid = int(rigid.sum())
    work = n * (n_rigid + 10 * (m - n_rigid))
    if work < _PARALLEL_WORK or threads() == 1:
        k.state_serial(*args, max(n, 1))
    else:
        with KERNEL_LOCK:
            count = set_kernel_threads()
            k.state_parallel(*args, -(-n // count))  # one long block of poses per thread
    return MuscleState(
        mtu_length=L,
        fiber_length=out[k.O_LCE].T,
        normalized_fiber_length=out[k.O_LCEN].T,
        pennation_angle=out[k.O_PHI].T,
        tendon_length=out[k.O_TL].T,
        active_force_length_multiplier=out[k.O_FAL].T,
        passive_force_multiplier=out[k.O_FPE].T,
        force_velocity_multiplier=out[k.O_FV].T,
        active_fiber_force=out[k.O_ACT].T,
        passive_fiber_force=out[k.O_PAS].T,
        fiber_force=out[k.O_FIB].T,
        tendon_force=out[k.O_TEN].T,
        converged=converged.T,
    )


def _state_numpy(params: MuscleParameters, L: FloatArray, a: FloatArray, v: FloatArray,
                 rigid: NDArray[np.bool_], chunk_size: int) -> MuscleState:
    """The NumPy reference path of :func:`muscle_state` (inputs checked, ``a`` clamped, all (n, m))."""
    n, m = L.shape
    keys = ("fiber_length", "pennation_angle", "tendon_length", "fal", "fpe", "fv", "active", "passive",
            "fiber", "tendon")
    out: dict[str, Any] = {k: np.full((n, m), np.nan) for k in keys}
    out["converged"] = np.ones((n, m), dtype=bool)
    groups = []
    for code in (MILLARD, THELEN, DEGROOTE):
        for is_rigid in (True, False):
            cols = np.flatnonzero((params.type_code == code) & (rigid == is_rigid))
            if cols.size:
                # a group holding every muscle is params itself: subset() would copy the curve tables
                sub = params if cols.size == m else params.subset(cols)
                groups.append((code, is_rigid, cols, sub))
    # Poses are processed in chunks so that the temporaries stay bounded for any batch size.
    step = max(1, int(chunk_size))
    for start in range(0, n, step):
        rows = slice(start, min(start + step, n))
        for code, is_rigid, cols, sub in groups:
            Lc, ac = L[rows][:, cols], a[rows][:, cols]
            fn = _rigid(sub, code, Lc, ac, v[rows][:, cols]) if is_rigid else _compliant(sub, code, Lc, ac)
            for k in keys + ("converged",):
                out[k][rows, cols] = fn[k]
    return MuscleState(
        mtu_length=L,
        fiber_length=out["fiber_length"],
        normalized_fiber_length=out["fiber_length"] / params.optimal_fiber_length,
        pennation_angle=out["pennation_angle"],
        tendon_length=out["tendon_length"],
        active_force_length_multiplier=out["fal"],
        passive_force_multiplier=out["fpe"],
        force_velocity_multiplier=out["fv"],
        active_fiber_force=out["active"],
        passive_fiber_force=out["passive"],
        fiber_force=out["fiber"],
        tendon_force=out["tendon"],
        converged=out["converged"],
    )


def model_muscle_parameters(model: Any) -> MuscleParameters:
    """The MuscleParameters of a loaded model (``model.muscle_params``)."""
    for attr in ("muscle_params", "muscle_parameters", "muscles"):
        p = getattr(model, attr, None)
        if isinstance(p, MuscleParameters):
            return p
    raise TypeError("model has no muscle parameters (expected a MuscleParameters in 'muscle_params')")


def _select(model: Any, muscles: Sequence[str] | Sequence[int] | None) -> tuple[MuscleParameters, list[int] | None]:
    p = model_muscle_parameters(model)
    if muscles is None:
        return p, None
    ids = [m if isinstance(m, int | np.integer) else model.muscle_index(m) for m in muscles]
    return p.subset(ids), [int(i) for i in ids]


def muscle_forces(model: Any, q: ArrayLike, activation: ArrayLike = 1.0, *,
                  muscles: Sequence[str] | Sequence[int] | None = None, velocity: ArrayLike | None = None,
                  tendon: TendonMode | str = "model", lengths: ArrayLike | None = None) -> MuscleState:
    """Fiber lengths and forces of the model's muscles at poses ``q``.

    Parameters
    ----------
    model : Model
        A loaded model (:func:`iliopsoas.mechanics.load_osim`).
    q : array (n, n_coordinates)
        Coordinates in ``model.coordinate_names`` order, SI units.
    activation : scalar, (m,) or (n, m)
    muscles : names or indices, optional
        Default: every muscle, in model order.
    velocity, tendon : see :func:`muscle_state`.
    lengths : array (n, m), optional
        MTU lengths when already computed (skips the path computation).

    Returns
    -------
    MuscleState with arrays of shape ``(n, m)``.
    """
    p, ids = _select(model, muscles)
    if lengths is None:
        from iliopsoas.mechanics import muscle_lengths

        lengths = muscle_lengths(model, q, ids)
    return muscle_state(p, np.asarray(lengths, dtype=float), activation, velocity=velocity, tendon=tendon)


def joint_moments(model: Any, q: ArrayLike, activation: ArrayLike = 1.0, *,
                  coordinates: Sequence[str] | Sequence[int] | None = None,
                  muscles: Sequence[str] | Sequence[int] | None = None,
                  tendon: TendonMode | str = "model") -> FloatArray:
    """Generalized forces from the muscles (N·m for rotational coordinates), shape ``(n, k)``.

    ``sum over muscles of moment_arm (n, m, k) * tendon_force (n, m)``, with OpenSim's moment-arm
    sign (positive drives the coordinate in its positive direction). ``coordinates`` defaults to
    every independent coordinate (as :func:`iliopsoas.mechanics.moment_arms`).
    """
    from iliopsoas.mechanics import lengths_and_moment_arms

    p, ids = _select(model, muscles)
    L, r = lengths_and_moment_arms(model, q, coordinates, muscles=ids)
    state = muscle_state(p, L, activation, tendon=tendon)
    return np.einsum("nmk,nm->nk", r, state.tendon_force)
