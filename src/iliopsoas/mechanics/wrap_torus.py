"""OpenSim 4.6's ``WrapTorus::wrapLine``, vectorised over poses.

OpenSim wraps a segment over a torus (centre circle of radius ``outer_radius`` in the frame's
xy plane, tube of radius ``inner_radius``) by placing a cylinder of the tube's radius at one
point of the centre circle and calling the cylinder's wrap (``OpenSim/Simulation/Wrap/
WrapTorus.cpp``, read, not copied). That point comes from ``findClosestPoint``, which runs
MINPACK's ``lmdif`` twice on a one-variable problem, once from each end of the segment. Since
``lmdif`` stops early (tolerances 1e-4) the point is wherever its iterations stop, so matching
OpenSim means repeating those iterations step for step. :func:`lmdif_1d` is a port of the
C translation of ``lmdif`` that OpenSim ships (``OpenSim/Common/Lmdif.cpp``) for one residual
in one unknown; it differs from the original MINPACK (and from ``scipy.optimize.leastsq``) in
three ways that change the iterates, all reproduced here:

* the Jacobian is a forward difference with a fixed step of 1e-5 (not ``sqrt(epsfcn)·|x|``);
* the machine precision constant is 1.2e-16 (not 2.2e-16) in the stringent tests;
* the initial step bound is ``factor`` whenever ``|factor·‖D x‖| ≤ 1e-4`` (not only when it is 0),
  and Jacobian evaluations are not counted against ``maxfev``.

The residual OpenSim minimises, ``c2 + 2u − 2r(2 c4 u + 2 c3)/ρ(u)``, is the derivative of
``(ρ − 2r)² + z²`` along the line, so its root is the point of the line closest to a circle of
twice the centre circle's radius; we evaluate it exactly as OpenSim does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from iliopsoas.mechanics import wrap as wrapmod

_KERNEL: Any
try:  # the compiled kernel is optional: the NumPy code below is the reference
    from iliopsoas.mechanics._torus_kernels import closest_circle_point_kernel as _KERNEL
except ImportError:  # pragma: no cover - numba missing
    _KERNEL = None

Array = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

_MACHEP = 1.2e-16  # OpenSim's Lmdif.cpp
_DWARF = 1.0e-38
_JACOBIAN_STEP = 1e-5  # fdjac2's fixed forward-difference step in OpenSim's translation
#: findClosestPoint's call: ftol, xtol, gtol, maxfev, factor (mode 1, epsfcn unused)
FTOL, XTOL, GTOL, MAXFEV, FACTOR = 1e-4, 1e-4, 0.0, 500, 0.2
#: WrapTorus' cylinder: length (CYL_LENGTH), quadrant "+x" (towards the ring's centre)
CYLINDER_LENGTH = 10000.0


def _dmax(a: Array, b: Array | float) -> Array:
    """MINPACK's dmax1: ``a`` when ``a >= b``, else ``b``."""
    return np.where(a >= b, a, b)


def _dmin(a: Array, b: Array | float) -> Array:
    """MINPACK's dmin1: ``a`` when ``a <= b``, else ``b``."""
    return np.where(a <= b, a, b)


class _CircleResidual:
    """``WrapTorus::calcCircleResids`` for the line ``p1 + u·n`` of each pose."""

    def __init__(self, p1: Array, p2: Array, radius: float) -> None:
        d = p2 - p1
        mag = np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1] + d[:, 2] * d[:, 2])
        with np.errstate(invalid="ignore", divide="ignore"):
            nx, ny, nz = d[:, 0] / mag, d[:, 1] / mag, d[:, 2] / mag
        x, y, z = p1[:, 0], p1[:, 1], p1[:, 2]
        self.c2 = 2.0 * (x * nx + y * ny + z * nz)
        self.c3 = x * nx + y * ny
        self.c4 = nx * nx + ny * ny
        self.c5 = x * x + y * y
        self.two_r = 2.0 * radius

    def __call__(self, u: Array, rows: slice | NDArray[np.int_] = slice(None)) -> Array:
        c2, c3, c4, c5 = self.c2[rows], self.c3[rows], self.c4[rows], self.c5[rows]
        with np.errstate(invalid="ignore", divide="ignore"):
            return c2 + 2.0 * u - self.two_r * (2.0 * c4 * u + 2.0 * c3) / np.sqrt(u * u * c4 + 2.0 * c3 * u + c5)


def _qrsolv(r: Array, dd: Array, qtb: Array) -> tuple[Array, Array]:
    """qrsolv for n = 1: the least-squares solution of ``[r; dd] x = [qtb; 0]`` and ``sdiag``."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        small = np.abs(r) < np.abs(dd)
        cotan = r / dd
        sin_a = 0.5 / np.sqrt(0.25 + 0.25 * cotan * cotan)
        cos_a = sin_a * cotan
        tan = dd / r
        cos_b = 0.5 / np.sqrt(0.25 + 0.25 * tan * tan)
        sin_b = cos_b * tan
        cos = np.where(small, cos_a, cos_b)
        sin = np.where(small, sin_a, sin_b)
        rotate = dd != 0.0
        sdiag = np.where(rotate, cos * r + sin * dd, r)
        wa = np.where(rotate, cos * qtb + sin * 0.0, qtb)
        x = np.where(sdiag == 0.0, 0.0, (wa - 0.0) / sdiag)
    return x, sdiag


def _lmpar(r: Array, diag: Array, qtb: Array, delta: Array, par: Array) -> tuple[Array, Array]:
    """lmpar for n = 1 (``r`` ≠ 0): the step ``x`` (before negation) and the new ``par``."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        x = qtb / r
        wa2 = diag * x
        dxnorm = np.abs(wa2)
        fp = dxnorm - delta
        gauss_newton = fp <= 0.1 * delta
        wa1 = diag * (wa2 / dxnorm)
        wa1 = (wa1 - 0.0) / r
        temp = np.abs(wa1)
        parl = ((fp / delta) / temp) / temp
        gnorm = np.abs((0.0 + r * qtb) / diag)
        paru = gnorm / delta
        paru = np.where(paru == 0.0, _DWARF / _dmin(delta, 0.1), paru)
        par = _dmin(_dmax(par, parl), paru)
        par = np.where(par == 0.0, gnorm / dxnorm, par)
    live = ~gauss_newton
    out_par = np.where(gauss_newton, 0.0, par)
    it = 0
    while np.any(live):
        it += 1
        rows = np.flatnonzero(live)
        p, pl, pu = par[rows], parl[rows], paru[rows]
        d, rr, qb, dl = diag[rows], r[rows], qtb[rows], delta[rows]
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            p = np.where(p == 0.0, _dmax(np.full_like(p, _DWARF), 0.001 * pu), p)
            xs, sdiag = _qrsolv(rr, np.sqrt(p) * d, qb)
            w2 = d * xs
            dxn = np.abs(w2)
            fp_old = fp[rows]
            fp_new = dxn - dl
            stop = (np.abs(fp_new) <= 0.1 * dl) | ((pl == 0.0) & (fp_new <= fp_old) & (fp_old < 0.0)) | (it == 10)
            w1 = (d * (w2 / dxn)) / sdiag
            t = np.abs(w1)
            parc = ((fp_new / dl) / t) / t
            pl = np.where(fp_new > 0.0, _dmax(pl, p), pl)
            pu = np.where(fp_new < 0.0, _dmin(pu, p), pu)
            p_next = _dmax(pl, p + parc)
        x[rows] = xs
        fp[rows] = fp_new
        out_par[rows[stop]] = p[stop]
        par[rows] = np.where(stop, p, p_next)
        parl[rows], paru[rows] = pl, pu
        live[rows[stop]] = False
    return x, out_par


def lmdif_1d(fcn: _CircleResidual, n: int) -> tuple[Array, NDArray[np.int_]]:
    """OpenSim's ``lmdif_C`` with ``m = n = 1``, x0 = 0 and ``findClosestPoint``'s settings, for
    ``n`` independent problems at once; returns the final ``u`` and ``info`` per problem."""
    x = np.zeros(n)
    info = np.zeros(n, dtype=int)
    fvec = fcn(x)
    fnorm = np.abs(fvec)
    nfev = np.ones(n, dtype=int)
    par = np.zeros(n)
    it = np.ones(n, dtype=int)
    delta = np.zeros(n)
    diag = np.zeros(n)
    xnorm = np.zeros(n)
    r = np.zeros(n)  # R of the QR factorisation (= -J)
    qtf = np.zeros(n)
    gnorm = np.zeros(n)
    need_jac = np.ones(n, dtype=bool)
    live = np.ones(n, dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        while np.any(live):
            # outer loop: Jacobian, its QR factorisation, scaling, gradient test
            jrows = np.flatnonzero(live & need_jac)
            if jrows.size:
                xj = x[jrows]
                jac = (fcn(xj + _JACOBIAN_STEP, jrows) - fvec[jrows]) / _JACOBIAN_STEP
                acnorm = np.abs(jac)
                rj = np.where(acnorm == 0.0, -0.0, -jac)  # rdiag = -ajnorm, ajnorm signed like jac
                first = it[jrows] == 1
                dj = np.where(first, np.where(acnorm == 0.0, 1.0, acnorm), diag[jrows])
                delta_first = FACTOR * np.abs(dj * xj)
                delta_first = np.where(np.abs(delta_first) <= 1e-4, FACTOR, delta_first)
                delta[jrows] = np.where(first, delta_first, delta[jrows])
                xnorm[jrows] = np.where(first, np.abs(dj * xj), xnorm[jrows])
                fv = fvec[jrows]
                householder = np.where(acnorm == 0.0, jac, 2.0)  # a[0] after qrfac (unused when 0)
                q = np.where(householder != 0.0, fv + householder * (-(0.0 + householder * fv) / householder), fv)
                qtf[jrows] = q
                r[jrows] = rj
                fn = fnorm[jrows]
                g = np.where((fn != 0.0) & (acnorm != 0.0),
                             _dmax(np.zeros_like(fn), np.abs((0.0 + rj * (q / fn)) / acnorm)), 0.0)
                gnorm[jrows] = g
                stop = g <= GTOL
                info[jrows[stop]] = 4
                live[jrows[stop]] = False
                diag[jrows] = _dmax(dj, acnorm)
                need_jac[jrows] = False
            rows = np.flatnonzero(live)
            if not rows.size:
                break
            # inner loop: one trial step per live problem
            p, parn = _lmpar(r[rows], diag[rows], qtf[rows], delta[rows], par[rows])
            p = -p
            xr, d = x[rows], diag[rows]
            wa2 = xr + p
            pnorm = np.abs(d * p)
            first = it[rows] == 1
            dl = np.where(first, _dmin(delta[rows], pnorm), delta[rows])
            f1 = fcn(wa2, rows)
            nfev[rows] += 1
            fnorm1 = np.abs(f1)
            fn = fnorm[rows]
            t = fnorm1 / fn
            actred = np.where(0.1 * fnorm1 < fn, 1.0 - t * t, -1.0)
            temp1 = np.abs(0.0 + r[rows] * p) / fn
            temp2 = (np.sqrt(parn) * pnorm) / fn
            prered = temp1 * temp1 + (temp2 * temp2) / 0.5
            dirder = -(temp1 * temp1 + temp2 * temp2)
            ratio = np.where(prered != 0.0, actred / prered, 0.0)
            low = ratio <= 0.25
            tmp = np.where(actred >= 0.0, 0.5, 0.5 * dirder / (dirder + 0.5 * actred))
            tmp = np.where((0.1 * fnorm1 >= fn) | (tmp < 0.1), 0.1, tmp)
            grow = ~low & ((parn == 0.0) | (ratio >= 0.75))
            dl = np.where(low, tmp * _dmin(dl, pnorm / 0.1), np.where(grow, pnorm / 0.5, dl))
            parn = np.where(low, parn / tmp, np.where(grow, 0.5 * parn, parn))
            ok = ratio >= 1e-4
            xr = np.where(ok, wa2, xr)
            x[rows] = xr
            fvec[rows] = np.where(ok, f1, fvec[rows])
            xn = np.where(ok, np.abs(d * xr), xnorm[rows])
            xnorm[rows] = xn
            fnorm[rows] = np.where(ok, fnorm1, fn)
            it[rows] += ok
            delta[rows], par[rows] = dl, parn
            small = (np.abs(actred) <= FTOL) & (prered <= FTOL) & (0.5 * ratio <= 1.0)
            inf = np.where(small, 1, 0)
            inf = np.where(dl <= XTOL * xn, 2, inf)
            inf = np.where(small & (inf == 2), 3, inf)
            stringent = inf == 0  # the second group of tests runs only when the first did not stop
            inf = np.where(stringent & (nfev[rows] >= MAXFEV), 5, inf)
            inf = np.where(stringent & (np.abs(actred) <= _MACHEP) & (prered <= _MACHEP) & (0.5 * ratio <= 1.0),
                           6, inf)
            inf = np.where(stringent & (dl <= _MACHEP * xn), 7, inf)
            inf = np.where(stringent & (gnorm[rows] <= _MACHEP), 8, inf)
            info[rows] = inf
            live[rows] = inf == 0
            need_jac[rows] = ok
    return x, info


def _sign(v: Array) -> NDArray[np.int_]:
    return np.where(v >= 0.0, 1, -1)


def closest_circle_point(p1: Array, p2: Array, radius: float, wrap_axis: int, wrap_sign: int,
                         *, compiled: bool = False) -> tuple[BoolArray, Array]:
    """``WrapTorus::findClosestPoint``: (found, point of the centre circle ``(n, 3)``).

    Two ``lmdif`` passes (from ``p1`` towards ``p2`` and back); unconstrained, the one that ends
    nearer the circle wins; constrained, the one whose line point lies on the ``wrap_sign`` side
    of ``wrap_axis`` (the nearer if both; not found if neither). ``compiled``: the numba kernel
    (same operations, one pose at a time) instead of this NumPy reference.
    """
    n = p1.shape[0]
    if compiled:
        if _KERNEL is None:
            raise RuntimeError("the compiled torus kernel needs numba")
        found_k = np.zeros(n, dtype=np.bool_)
        c_k = np.zeros((n, 3))
        _KERNEL(np.ascontiguousarray(p1, dtype=float), np.ascontiguousarray(p2, dtype=float), float(radius),
                int(wrap_axis), int(wrap_sign), found_k, c_k)
        return found_k, c_k
    u1, _ = lmdif_1d(_CircleResidual(p1, p2, radius), n)
    u2, _ = lmdif_1d(_CircleResidual(p2, p1, radius), n)
    d = p2 - p1
    mag = np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1] + d[:, 2] * d[:, 2])
    with np.errstate(invalid="ignore", divide="ignore"):
        a1 = p1 + u1[:, None] * (d / mag[:, None])
        a2 = p2 + u2[:, None] * ((p1 - p2) / mag[:, None])

        def dist(a: Array) -> Array:
            x, y, z = a[:, 0], a[:, 1], a[:, 2]
            rho = np.sqrt(x * x + y * y)
            return np.sqrt(x * x + y * y + z * z + radius * radius - 2.0 * radius * rho)

        first = dist(a1) < dist(a2)
    found = np.ones(n, dtype=bool)
    if wrap_sign != 0:
        ok1 = _sign(a1[:, wrap_axis]) == wrap_sign
        ok2 = _sign(a2[:, wrap_axis]) == wrap_sign
        first = np.where(ok1 & ok2, first, ok1)
        found = ok1 | ok2
    a = np.where(first[:, None], a1, a2)
    with np.errstate(invalid="ignore", divide="ignore"):
        mag_a = np.sqrt(a[:, 0] * a[:, 0] + a[:, 1] * a[:, 1])
        c = np.stack([a[:, 0] * radius / mag_a, a[:, 1] * radius / mag_a, np.zeros(n)], axis=1)
    return found, c


def wrap_torus(
    p1: Array,
    p2: Array,
    inner_radius: float,
    outer_radius: float,
    wrap_axis: int,
    wrap_sign: int,
    single_wrap: bool = True,
    *,
    compiled: bool | None = None,
) -> tuple[NDArray[np.int_], Array, Array, Array]:
    """OpenSim ``WrapTorus::wrapLine`` for ``n`` segments ``p1 -> p2`` ``(n, 3)`` in the torus frame.

    Returns ``(status, r1, r2, wrap length)`` as :func:`~iliopsoas.mechanics.wrap.wrap_cylinder`.
    ``compiled``: run the circle-point search and the cylinder wrap compiled (None: when numba
    is available, at any batch size). As in OpenSim the status is ``NO_WRAP`` only when no circle point is found on the
    constrained side, and ``WRAPPED`` otherwise, even when the cylinder at that point does not
    wrap: those rows carry NaN tangent points (OpenSim's unset wrap result), so the path never
    takes them, and a cylinder's mandatory wrap does not end the search over segments.
    """
    p1 = np.ascontiguousarray(p1, dtype=float)
    p2 = np.ascontiguousarray(p2, dtype=float)
    n = p1.shape[0]
    use_kernel = wrapmod.cylinder_kernel_available() and _KERNEL is not None if compiled is None else compiled
    found, c = closest_circle_point(p1, p2, outer_radius, wrap_axis, wrap_sign, compiled=use_kernel)
    # the cylinder frame: origin at c, x towards the ring's centre, y = -z of the torus,
    # z along the circle; R's rows are those axes in the torus frame
    neg = -c
    xa, _ = wrapmod._normalize(neg)
    ya = np.broadcast_to(np.array([0.0, 0.0, -1.0]), xa.shape)
    za = np.cross(xa, ya)
    R = np.stack([xa, ya, za], axis=1)  # (n, 3, 3)
    origin = np.einsum("nij,nj->ni", R, neg)
    q1 = np.einsum("nij,nj->ni", R, p1) + origin
    q2 = np.einsum("nij,nj->ni", R, p2) + origin
    code = np.full(n, wrapmod.NO_WRAP, dtype=int)
    r1 = np.full((n, 3), np.nan)
    r2 = np.full((n, 3), np.nan)
    wlen = np.zeros(n)
    rows = np.flatnonzero(found)
    if rows.size:
        cc, c1, c2, wl = wrapmod.wrap_cylinder(q1[rows], q2[rows], inner_radius, CYLINDER_LENGTH, 0, 1,
                                               single_wrap, compiled=use_kernel)
        ok = (cc == wrapmod.WRAPPED) | (cc == wrapmod.MANDATORY_WRAP)
        Rt = R[rows]
        back1 = np.einsum("nji,nj->ni", Rt, c1 - origin[rows])
        back2 = np.einsum("nji,nj->ni", Rt, c2 - origin[rows])
        code[rows] = wrapmod.WRAPPED
        r1[rows] = np.where(ok[:, None], back1, np.nan)
        r2[rows] = np.where(ok[:, None], back2, np.nan)
        wlen[rows] = np.where(ok, wl, 0.0)
    return code, r1, r2, wlen
