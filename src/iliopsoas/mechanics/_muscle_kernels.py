"""Compiled (numba) muscle force kernel, used by :func:`iliopsoas.mechanics.forces.muscle_state`.

One pass over the (pose, muscle) entries does the whole chain for each entry -- rigid tendon,
or OpenSim's static equilibrium for a compliant one (Millard2012 and Thelen2003: Newton on fiber
length with step halving as ``estimateMuscleFiberState``; DeGrooteFregly2016: bisection on the
normalized tendon force) -- and writes every output field at once, with no temporaries.

It is the same algorithm, written entry by entry, as the NumPy reference path in
:mod:`iliopsoas.mechanics.forces` (``_rigid``, ``_compliant``), and reads the same numbers:
per-muscle constants and Hermite curve tables from
:attr:`iliopsoas.mechanics.muscles.MuscleParameters.kernel_tables`. The two paths agree to
round-off (tests/test_muscles_compiled.py). Deliberate differences, each an ulp or so: the
cosine and sine of a pennation angle ``asin(s)`` are ``sqrt((1 - s)(1 + s))`` and ``s`` (no
transcendental calls in a Newton step), and some divisions are multiplications by reciprocals
tabulated once per muscle.

Two drivers share one routine per block of poses: a serial one (small batches: starting the
thread pool costs ~0.5 ms here) and a parallel one over blocks.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from iliopsoas.mechanics.muscles import (
    _NODES,
    COL_ALPHA0,
    COL_BETA,
    COL_COS_MAXPEN,
    COL_DG_DEN,
    COL_DG_E0,
    COL_DG_IGN,
    COL_DG_KT,
    COL_DG_OFF,
    COL_DG_S,
    COL_F,
    COL_H,
    COL_INV_LO,
    COL_INV_TSL,
    COL_LMIN,
    COL_LO,
    COL_MAXPEN,
    COL_MAXSIN,
    COL_PMIN,
    COL_TH_E0,
    COL_TH_ETOE,
    COL_TH_KA,
    COL_TH_KLIN,
    COL_TH_KPE,
    COL_TH_PDEN,
    COL_TSL,
    COL_VMAX,
    CURVE_ENDS,
    CURVE_OFFSETS,
    CURVE_SCALES,
    CURVE_STEPS,
    DEGROOTE,
    DGF_B,
    DGF_C1,
    DGF_C2,
    DGF_C3,
    DGF_D1,
    DGF_D2,
    DGF_D3,
    DGF_D4,
    DGF_KPE,
    MILLARD,
    THELEN,
    curve_column,
)

_EPS = float(np.finfo(float).eps)
_SIG = _EPS ** (7.0 / 8.0)
_SQRT_EPS = math.sqrt(_EPS)
_K = _NODES
_AFL, _FPE, _TFL, _FV = curve_column(0), curve_column(1), curve_column(2), curve_column(3)
# output planes of ``out`` (N_OUT, m, n): muscle-major, so that each muscle's outputs are written
# contiguously
(O_LCE, O_PHI, O_TL, O_FAL, O_FPE, O_FV, O_ACT, O_PAS, O_FIB, O_TEN, O_LCEN) = range(11)
N_OUT = 11
_B = ((float(DGF_B[0, 0]), float(DGF_B[0, 1]), float(DGF_B[0, 2]), float(DGF_B[0, 3])),
      (float(DGF_B[1, 0]), float(DGF_B[1, 1]), float(DGF_B[1, 2]), float(DGF_B[1, 3])),
      (float(DGF_B[2, 0]), float(DGF_B[2, 1]), float(DGF_B[2, 2]), float(DGF_B[2, 3])))
_THELEN_TOE_SCALE = 0.33 / (math.exp(3.0) - 1.0)
_TH_F_TOE = 0.33
_NAN = math.nan


# --------------------------------------------------------------------------------------------
# Curves
# --------------------------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def _bezier(x, c, i, P, nodes):  # pragma: no cover - compiled
    """Millard curve at column ``c`` of muscle ``i`` at ``x``: value and slope (BezierCurves.eval_at)."""
    e = c + CURVE_ENDS
    if x < P[i, e]:
        return P[i, e + 2] + P[i, e + 4] * (x - P[i, e]), P[i, e + 4]
    if x > P[i, e + 1]:
        return P[i, e + 3] + P[i, e + 5] * (x - P[i, e + 1]), P[i, e + 5]
    # segment: starts of unused segments are +inf (the four tests are written out, no loop)
    s = c + int(x >= P[i, c + 1]) + int(x >= P[i, c + 2]) + int(x >= P[i, c + 3]) + int(x >= P[i, c + 4])
    scale = P[i, s + CURVE_SCALES]
    t = (x - P[i, s]) * scale
    if not math.isfinite(t):
        t = 0.0
    j = int(t)
    if j < 0:
        j = 0
    if j > _K - 2:
        j = _K - 2
    f = t - j
    row = int(P[i, s + CURVE_OFFSETS]) + j
    ya, da = nodes[row, 0], nodes[row, 1]
    yb, db = nodes[row + 1, 0], nodes[row + 1, 1]
    h = P[i, s + CURVE_STEPS]
    f2 = f * f
    f3 = f2 * f
    y = (2 * f3 - 3 * f2 + 1) * ya + (f3 - 2 * f2 + f) * h * da + (3 * f2 - 2 * f3) * yb + (f3 - f2) * h * db
    d = 6 * (f2 - f) * (ya - yb) * scale + (3 * f2 - 4 * f + 1) * da + (3 * f2 - 2 * f) * db
    return y, d


@njit(cache=True, error_model="numpy")
def _thelen_fiber(x, i, P):  # pragma: no cover - compiled
    """Thelen active and passive multipliers at normalized fiber length x, with slopes."""
    k = P[i, COL_TH_KA]
    t = x - 1.0
    fal = math.exp(-(t * t) / k)
    dfal = -2.0 * t / k * fal
    e0, kpe, den = P[i, COL_TH_E0], P[i, COL_TH_KPE], P[i, COL_TH_PDEN]
    if x > 1.0:
        ex = math.exp(kpe * (x - 1.0) / e0)
        return fal, dfal, (ex - 1.0) / den, kpe / e0 * ex / den
    return fal, dfal, 0.0, 0.0


@njit(cache=True, error_model="numpy")
def _thelen_tendon(lt_n, i, P):  # pragma: no cover - compiled
    x = lt_n - 1.0
    e_toe, k_lin = P[i, COL_TH_ETOE], P[i, COL_TH_KLIN]
    if x > e_toe:
        return k_lin * (x - e_toe) + _TH_F_TOE, k_lin
    if x > 0.0:
        ex = math.exp(3.0 * x / e_toe)
        return _THELEN_TOE_SCALE * (ex - 1.0), _THELEN_TOE_SCALE * (3.0 / e_toe) * ex
    return 0.0, 0.0


@njit(cache=True, error_model="numpy")
def _degroote_bump(xs, total, b):  # pragma: no cover - compiled
    """``total`` plus one Gaussian-like term of the De Groote-Fregly active curve (the three
    terms are added by three calls, no loop)."""
    den = b[2] + b[3] * xs
    return total + b[0] * math.exp(-0.5 * ((xs - b[1]) * (xs - b[1])) / (den * den))


@njit(cache=True, error_model="numpy")
def _degroote_fiber(x, i, P):  # pragma: no cover - compiled
    """De Groote-Fregly active and passive multipliers at normalized fiber length x (no slopes)."""
    s = P[i, COL_DG_S]
    xs = (x - 1.0) / s + 1.0
    fal = _degroote_bump(xs, 0.0, _B[0]) + _degroote_bump(xs, 0.0, _B[1])
    fal = _degroote_bump(xs, fal, _B[2])
    if P[i, COL_DG_IGN] != 0.0:
        return fal, 0.0
    ex = math.exp(DGF_KPE * (x - 1.0) / P[i, COL_DG_E0])
    return fal, (ex - P[i, COL_DG_OFF]) / P[i, COL_DG_DEN]


@njit(cache=True, error_model="numpy")
def _degroote_fv(vn):  # pragma: no cover - compiled
    t = DGF_D2 * vn + DGF_D3
    return DGF_D1 * math.log(t + math.sqrt(t * t + 1.0)) + DGF_D4


@njit(cache=True, error_model="numpy")
def _pennation(lce, i, P):  # pragma: no cover - compiled
    """Fixed-width pennation (forces.pennation_angle): angle, cosine, sine."""
    if not P[i, COL_ALPHA0] > _EPS:
        return 0.0, 1.0, 0.0
    if lce > P[i, COL_PMIN]:
        s = P[i, COL_H] / lce
        if s < P[i, COL_MAXSIN]:
            s = min(max(s, -1.0), 1.0)
            return math.asin(s), math.sqrt((1.0 - s) * (1.0 + s)), s
    return P[i, COL_MAXPEN], P[i, COL_COS_MAXPEN], P[i, COL_MAXSIN]


# --------------------------------------------------------------------------------------------
# Per muscle and block of poses. Each routine below runs the whole chain for one muscle over a
# block of poses, calling the small helpers above directly: helpers that receive arrays and are
# inlined into other inlined helpers leave reference-count updates in the loops (measured here:
# a rigid entry 97 ns that way, 63 ns written like this).
# --------------------------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def _at(x, r, i):  # pragma: no cover - compiled
    """Entry (r, i) of an array of shape (1 or n, 1 or m) broadcast to (n, m)."""
    return x[r if x.shape[0] > 1 else 0, i if x.shape[1] > 1 else 0]


@njit(cache=True, error_model="numpy")
def _store(out, converged, r, i, lce, phi, tl, fal, fpe, fv, act, passive, fiber, tendon, lo,
           ok):  # pragma: no cover - compiled
    out[O_LCE, i, r] = lce
    out[O_PHI, i, r] = phi
    out[O_TL, i, r] = tl
    out[O_FAL, i, r] = fal
    out[O_FPE, i, r] = fpe
    out[O_FV, i, r] = fv
    out[O_ACT, i, r] = act
    out[O_PAS, i, r] = passive
    out[O_FIB, i, r] = fiber
    out[O_TEN, i, r] = tendon
    out[O_LCEN, i, r] = lce / lo
    converged[i, r] = ok


@njit(cache=True, error_model="numpy")
def _rigid_fiber_length(L, i, code, P):  # pragma: no cover - compiled
    h = P[i, COL_H]
    along = L - P[i, COL_TSL]
    if code == DEGROOTE:
        return math.sqrt(h * h + along * along)
    pmin = P[i, COL_PMIN]
    lce = math.sqrt(h * h + along * along) if along >= pmin * P[i, COL_COS_MAXPEN] else pmin
    if code == MILLARD:
        lce = max(lce, P[i, COL_LMIN])
    return lce


@njit(cache=True, error_model="numpy")
def _rigid_rows(r0, r1, i, code, L, a, v, P, nodes, out, converged):  # pragma: no cover - compiled
    """Rigid-tendon outputs (forces._rigid) of muscle ``i`` in poses ``r0 .. r1 - 1``."""
    F, lo, tsl = P[i, COL_F], P[i, COL_LO], P[i, COL_TSL]
    beta, vmax, lmin = P[i, COL_BETA], P[i, COL_VMAX], P[i, COL_LMIN]
    for r in range(r0, r1):
        L_r, a_r, v_r = L[r, i], _at(a, r, i), _at(v, r, i)
        lce = _rigid_fiber_length(L_r, i, code, P)
        if code == DEGROOTE:
            phi = math.asin(P[i, COL_H] / lce)
            cos = (L_r - tsl) / lce
        else:
            phi, cos, _ = _pennation(lce, i, P)
        tl = L_r - lce * cos
        x = lce / lo
        if code == MILLARD:
            fal = _bezier(x, _AFL, i, P, nodes)[0]
            fpe = _bezier(x, _FPE, i, P, nodes)[0]
            vn = v_r * cos / (lo * vmax)
            fv = 1.0
            if tl < tsl - _SIG:  # slack tendon
                vn = 0.0
            elif vn != 0.0:
                fv = _bezier(vn, _FV, i, P, nodes)[0]
            if (lce <= lmin and vn <= 0) or lce < lmin:  # clamped fiber: no force
                fv, act, p1, p2 = 1.0, 0.0, 0.0, 0.0
            else:
                act = F * a_r * fal * fv
                p1 = F * fpe
                p2 = F * beta * vn
            fm = act + p1 + p2
            if fm < 0:
                p2 = -act - p1
                fm = 0.0
            passive = p1 + p2
        elif code == THELEN:
            fal, _, fpe, _ = _thelen_fiber(x, i, P)
            fv = 1.0
            act = F * a_r * fal
            passive = F * fpe
            fm = act + passive
        else:
            fal, fpe = _degroote_fiber(x, i, P)
            vn = v_r * cos / (lo * vmax)
            fv = _degroote_fv(vn)
            act = F * a_r * fal * fv
            passive = F * fpe + F * beta * vn
            fm = act + passive
        _store(out, converged, r, i, lce, phi, tl, fal, fpe, fv, act, passive, fm, fm * cos, lo, True)


@njit(cache=True, error_model="numpy")
def _hill_geometry(lce, i, P):  # pragma: no cover - compiled
    """cos and sin of the pennation angle (as _pennation), 1/lce, h/lce and sqrt(1 - (h/lce)^2)
    (NaN when negative, as OpenSim's slope), sharing one division and, mostly, one square root."""
    inv_lce = 1.0 / lce
    hl = P[i, COL_H] * inv_lce
    if not P[i, COL_ALPHA0] > _EPS:
        cos, sin = 1.0, 0.0
    elif lce > P[i, COL_PMIN] and hl < P[i, COL_MAXSIN]:
        s = min(max(hl, -1.0), 1.0)
        cos = math.sqrt((1.0 - s) * (1.0 + s))
        return cos, s, inv_lce, hl, cos
    else:
        cos, sin = P[i, COL_COS_MAXPEN], P[i, COL_MAXSIN]
    r2 = 1.0 - hl * hl
    return cos, sin, inv_lce, hl, (math.sqrt(r2) if r2 >= 0.0 else _NAN)


@njit(cache=True, error_model="numpy")
def _hill_slope(lce, inv_lce, hl, root, cos, sin, a, dfal, dfpe, dfse, fm, F, h, inv_lo, inv_tsl,
                thelen):  # pragma: no cover - compiled
    """Slope of the equilibrium error in fiber length (forces._hill_eval), written as OpenSim
    writes it so that it becomes NaN where OpenSim's does (a Thelen fiber driven to zero)."""
    dphi = (-hl * inv_lce) / root
    dfm = F * (a * dfal + dfpe) * inv_lo
    if thelen:
        dfmat = dfm * cos + fm * (h * h * inv_lce * inv_lce * inv_lce / root)
    else:
        dfmat = dfm * cos + fm * (-sin * dphi)
    dtl = lce * sin * dphi - cos
    return dfmat - dfse * F * inv_tsl * dtl


@njit(cache=True, error_model="numpy")
def _trial(lce_prev, ferr_prev, d_prev, step, lmin):  # pragma: no cover - compiled
    """Next iterate of the step-halving Newton iteration, and the step actually taken."""
    delta = -step * ferr_prev / d_prev
    if abs(delta) > _SIG:
        lce = lce_prev + delta
    else:
        sgn = 1.0 if delta > 0 else (-1.0 if delta < 0 else 0.0)  # SimTK::sign(NaN) == 0
        lce = lce_prev - sgn * _SQRT_EPS
        step = 0.0
    return max(lce, lmin), step


@njit(cache=True, error_model="numpy")
def _hill_rows(r0, r1, i, code, L, a, P, nodes, out, converged):  # pragma: no cover - compiled
    """Compliant Millard2012 / Thelen2003 outputs (forces._compliant) of muscle ``i`` in poses
    ``r0 .. r1 - 1``.

    Per pose: OpenSim's estimateMuscleFiberState iteration (Newton on fiber length with step
    halving, from a tendon at 1.01 slack length), its verdict on the final iterate, then the
    split of the fiber force. The iteration is one loop around a single evaluation: Newton
    steps, halvings and the final evaluation all go through it.
    """
    F, h, inv_lo, inv_tsl = P[i, COL_F], P[i, COL_H], P[i, COL_INV_LO], P[i, COL_INV_TSL]
    lo, tsl, lmin, pmin, beta = P[i, COL_LO], P[i, COL_TSL], P[i, COL_LMIN], P[i, COL_PMIN], P[i, COL_BETA]
    millard = code == MILLARD
    tol = max(1e-8 * F, _SIG * 10)
    tol_v = max(1e-10 * F, _SIG * 100)
    max_iter = 200 if millard else 20
    for r in range(r0, r1):
        L_r, a_r = L[r, i], _at(a, r, i)
        along = L_r - 1.01 * tsl
        lce = math.sqrt(h * h + along * along) if along >= pmin * P[i, COL_COS_MAXPEN] else pmin
        if millard:
            lce = max(lce, lmin)
        it = 0
        halving = final = ok = False
        lce_prev = ferr_prev = d_prev = step = 0.0
        while True:
            cos, sin, inv_lce, hl, root = _hill_geometry(lce, i, P)
            tl = L_r - lce * cos
            x = lce * inv_lo
            if millard:
                fal, dfal = _bezier(x, _AFL, i, P, nodes)
                fpe, dfpe = _bezier(x, _FPE, i, P, nodes)
                fse, dfse = _bezier(tl * inv_tsl, _TFL, i, P, nodes)
            else:
                fal, dfal, fpe, dfpe = _thelen_fiber(x, i, P)
                fse, dfse = _thelen_tendon(tl * inv_tsl, i, P)
            if final:
                break
            fm = F * (a_r * fal + fpe)
            ferr = fm * cos - fse * F
            dferr = _hill_slope(lce, inv_lce, hl, root, cos, sin, a_r, dfal, dfpe, dfse, fm, F, h, inv_lo,
                                inv_tsl, not millard)
            if halving:
                if step <= _SQRT_EPS:
                    halving = False
                else:
                    step = 0.5 * step
                    halving = abs(ferr) >= abs(ferr_prev)
                if halving:
                    lce, step = _trial(lce_prev, ferr_prev, d_prev, step, lmin)
                    continue
                it += 1
            # stuck at the lower bound, or a NaN slope: OpenSim's iterate never moves again
            if (abs(ferr) > tol and it < max_iter
                    and not ((lce <= lmin and lce - ferr / dferr <= lmin) or not math.isfinite(dferr))):
                lce_prev, ferr_prev, d_prev = lce, ferr, dferr
                lce, step = _trial(lce_prev, ferr_prev, d_prev, 1.0, lmin)
                halving = True
                continue
            # OpenSim's verdict: converged, at the lower bound, or failed (NaN)
            last = lce
            if abs(ferr) < tol:
                ok = True
            elif lce <= lmin:
                ok, lce = True, lmin
            else:
                lce = _NAN
            if millard and lce < lmin:
                lce = lmin
            if lce == last:
                break
            final = True  # evaluate once more at the reported fiber length
        phi = _pennation(lce, i, P)[0]
        tendon = fse * F
        fiber = tendon / cos
        passive = F * fpe
        at_min = lce <= lmin
        fv = 1.0
        if millard:
            active = fiber - passive
            if beta > 0:
                # OpenSim splits the balancing fiber force into active, elastic and damping
                # parts at the tiny fiber velocity that balances the tendon (at most 20 Newton
                # steps, as forces._damped_fiber_velocity)
                v = 0.0
                for k in range(21):
                    fv, dfv = _bezier(v, _FV, i, P, nodes)
                    if k == 20:
                        break
                    err = F * (a_r * fal * fv + fpe + beta * v) * cos - fse * F
                    if not abs(err) > tol_v:
                        break
                    v = v - err / (F * (a_r * fal * dfv + beta) * cos)
                active = F * a_r * fal * fv
                passive = F * (fpe + beta * v)
                fiber = active + passive
                at_min = (at_min and v <= 0) or lce < lmin
            if at_min:  # clamped fiber: OpenSim reports zero fiber force
                fiber, passive, active, fv = 0.0, 0.0, 0.0, 1.0
        else:
            clamped = at_min and fse / cos - fpe <= a_r * fal
            active = 0.0 if clamped else fiber - passive
            if clamped:
                fiber = 0.0
        _store(out, converged, r, i, lce, phi, tl, fal, fpe, fv, active, passive, fiber, tendon, lo, ok)


@njit(cache=True, error_model="numpy")
def _degroote_lengths(L, ft, i, P):  # pragma: no cover - compiled
    tl = P[i, COL_TSL] * (math.log((ft + DGF_C3) / DGF_C1) / P[i, COL_DG_KT] + DGF_C2)
    along = L - tl
    h = P[i, COL_H]
    lce = math.sqrt(along * along + h * h)
    return tl, lce, along / lce


@njit(cache=True, error_model="numpy")
def _degroote_rows(r0, r1, i, L, a, P, out, converged):  # pragma: no cover - compiled
    """Compliant DeGrooteFregly2016 outputs (forces._degroote_compliant) of muscle ``i`` in poses
    ``r0 .. r1 - 1``: bisection on the normalized tendon force in [0, 5] to 1e-10."""
    F, lo, beta = P[i, COL_F], P[i, COL_LO], P[i, COL_BETA]
    fv0 = _degroote_fv(0.0)
    for r in range(r0, r1):
        L_r, a_r = L[r, i], _at(a, r, i)
        left, right, mid = 0.0, 5.0, 0.0
        r_left = 0.0
        ok = False
        # residual at 0 and at 5 (a sign change is required), then at most 100 bisections
        for k in range(102):
            if k == 0:
                ft = 0.0
            elif k == 1:
                ft = 5.0
            else:
                if not right - left > 1e-10:
                    break
                mid = 0.5 * (left + right)
                ft = mid
            _, lce, cos = _degroote_lengths(L_r, ft, i, P)
            fal, fpe = _degroote_fiber(lce / lo, i, P)
            res = ft - (a_r * fal * fv0 + fpe) * cos
            if k == 0:
                r_left = res
            elif k == 1:
                ok = r_left * res < 0
            elif res * r_left < 0:
                right = mid
            else:
                left, r_left = mid, res
        ft = mid if ok else _NAN
        tl, lce, cos = _degroote_lengths(L_r, ft, i, P)
        fal, fpe = _degroote_fiber(lce / lo, i, P)
        # explicit-mode getters: the force-velocity multiplier that balances the tendon
        fv = (ft / cos - fpe) / (a_r * fal)
        vn = (math.sinh((fv - DGF_D4) / DGF_D1) - DGF_D3) / DGF_D2
        active = F * a_r * fal * fv
        passive = F * fpe + F * beta * vn
        _store(out, converged, r, i, lce, math.asin(P[i, COL_H] / lce), tl, fal, fpe, fv, active, passive,
               active + passive, ft * F, lo, ok)


# --------------------------------------------------------------------------------------------
# Drivers
# --------------------------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def _rows(r0, r1, L, a, v, code, rigid, P, nodes, out, converged):  # pragma: no cover - compiled
    # Muscle by muscle over a long block of poses: one muscle's curve tables (~150 kB, read at
    # scattered nodes) stay in cache across the block (measured: 256-pose blocks cost 40% more
    # per compliant entry than 2,500-pose ones).
    for i in range(L.shape[1]):
        c = code[i]
        if rigid[i]:
            _rigid_rows(r0, r1, i, c, L, a, v, P, nodes, out, converged)
        elif c == DEGROOTE:
            _degroote_rows(r0, r1, i, L, a, P, out, converged)
        else:
            _hill_rows(r0, r1, i, c, L, a, P, nodes, out, converged)


@njit(nogil=True, cache=True, error_model="numpy")
def state_serial(L, a, v, code, rigid, P, nodes, out, converged, block):  # pragma: no cover - compiled
    """Fill ``out`` (N_OUT, m, n) and ``converged`` (m, n) for MTU lengths ``L`` (n, m).

    ``a`` and ``v`` (activation, clamped; MTU velocity) are (1 or n, 1 or m) and broadcast;
    ``code`` (m,) muscle type, ``rigid`` (m,) tendon model; ``P`` and ``nodes`` are
    ``KernelTables``; poses are taken ``block`` at a time.
    """
    n = L.shape[0]
    for r0 in range(0, n, block):
        _rows(r0, min(n, r0 + block), L, a, v, code, rigid, P, nodes, out, converged)


@njit(parallel=True, cache=True, error_model="numpy")
def state_parallel(L, a, v, code, rigid, P, nodes, out, converged, block):  # pragma: no cover - compiled
    """:func:`state_serial` in parallel over blocks of ``block`` poses."""
    n = L.shape[0]
    n_blocks = (n + block - 1) // block
    for b in prange(n_blocks):
        _rows(b * block, min(n, (b + 1) * block), L, a, v, code, rigid, P, nodes, out, converged)
