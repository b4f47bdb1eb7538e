"""Static equilibrium under gravity, passive muscle forces, passive joint moments and contact.

Formulation
-----------
A scenario frees ``k`` reduced coordinates ``z``; the model's coordinates are ``q = q0 + B z``
(``B`` is ``(n_coordinates, k)``, so a reduced coordinate may move several model coordinates
together, e.g. pelvis tilt with the hip angle when the thigh is held still). The pelvis moves
in the sagittal plane only: ``pelvis_tilt`` (rotation about the ground z axis) and
``pelvis_ty`` (height). The resting pose is a stationary point of the potential energy

``U(z) = sum_m E_m(L_m + offset_m) + U_gravity + sum_c E_contact(h_c) - sum_j W_joint``

whose gradient is

* muscles: ``F_m dL_m/dz`` with ``F_m`` the tendon force of the engine's Millard muscle with a
  rigid tendon (``iliopsoas.mechanics.forces.muscle_state``), passive part scaled by the
  tightness stiffness, active part only where a resting tone is set;
* gravity: ``m g dy/dz`` for every body's centre of mass (and a foot point mass, see
  :data:`FOOT_MASS`), in the ground frame;
* contact (one-sided, penalty): a point of a body at height ``h`` above its support plane
  pushes back with ``k eps log(1 + exp(-h/eps))`` (a smoothed ``k max(0, -h)``: soft tissue of
  stiffness ``k`` = 50 kN/m, smoothing ``eps`` = 1 mm). The support is frictionless, which is
  why only vertical forces appear and horizontal translation is left out;
* passive joint moments of non-muscle tissue (:mod:`iliopsoas.posture.passive`).

Path lengths and body points come from polynomial fits over the scenario's range
(:mod:`iliopsoas.posture.surrogate`, engine-sampled, error reported). The solver is a batched
damped Newton method: the Hessian is a forward difference of the gradient (all ``k + 1``
points evaluated as one batch), its eigenvalues are floored at a positive value so every step
goes downhill, steps are clipped and a 4-point line search on the gradient norm picks the
step length. A row converges when every component of the gradient is below ``tol``
(N·m or N); rows that do not converge within ``max_iter`` are reported as not converged with
the reason. ``stable`` says whether the unmodified Hessian is positive definite there (a
minimum, not a saddle).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from iliopsoas.mechanics import body_transforms, complete_coordinates, coupling_vectors
from iliopsoas.mechanics.forces import muscle_state
from iliopsoas.posture import passive
from iliopsoas.posture.surrogate import Surrogate, cached_fit, source_digest
from iliopsoas.posture.tightness import MuscleLoads

Array = NDArray[np.float64]

CONTACT_STIFFNESS = 5.0e4  # N/m, soft tissue under a bony prominence (our order-of-magnitude choice)
CONTACT_SMOOTHING = 1.0e-3  # m
FD_STEP = 1.0e-6
MAX_STEP_ROT = 0.12  # rad per Newton step
MAX_STEP_TRANS = 0.02  # m per Newton step

#: The model has no feet; the foot is a point mass on the tibia. Mass = Rajagopal 2016 talus +
#: calcaneus + toes (0.1 + 1.25 + 0.2166 kg); position = their centre of mass with the ankle at
#: 0 deg, in the tibia frame (ankle joint at (-0.01, -0.4, 0), subtalar offset and calcaneus
#: centre of mass from Rajagopal2016.osim, our sum).
FOOT_MASS = 1.5666
FOOT_POINT = (0.041, -0.412, 0.008)


@dataclass(frozen=True)
class Contact:
    """A body point (body frame, m) resting on a horizontal support at ``height`` (m)."""

    name: str
    body: str
    point: tuple[float, float, float]
    height: float = 0.0
    radius: float = 0.0  # a sphere of this radius around the point rolls on the support


@dataclass(frozen=True)
class Setup:
    """What a scenario frees and what supports it (see the module docstring)."""

    name: str
    q0: dict[str, float]
    free: tuple[str, ...]
    basis: tuple[dict[str, float], ...]
    z_lo: tuple[float, ...]
    z_hi: tuple[float, ...]
    z_init: tuple[float, ...]
    contacts: tuple[Contact, ...] = ()
    gravity_bodies: tuple[str, ...] | None = None  # None: every body
    feet: tuple[str, ...] = ("r", "l")
    pivot: tuple[float, float] = (0.0, 0.0)  # point of the pelvis frame the pelvis turns about
    margin: float = np.radians(3.0)


@dataclass
class Solution:
    """Batch result: every array has ``n`` rows."""

    z: Array
    q: Array
    converged: NDArray[np.bool_]
    stable: NDArray[np.bool_]
    residual: Array
    iterations: int
    messages: list[str]
    seconds: float = 0.0


class Problem:
    """A scenario bound to a model: fitted functions, basis and the gradient of the energy."""

    def __init__(self, model: Any, setup: Setup, *, nutation: float = 0.0, side_for_nutation: bool = True) -> None:
        self.model = model
        self.setup = setup
        names = model.coordinate_names
        nc = len(names)
        self.k = len(setup.free)
        q0 = np.zeros(nc)
        for c, v in setup.q0.items():
            q0[model.coordinate_index(c)] = v
        for s in ("r", "l"):
            q0[model.coordinate_index(f"sacroiliac_nutation_{s}")] = nutation
        self.q0 = q0
        B = np.zeros((nc, self.k))
        for j, col in enumerate(setup.basis):
            for c, coef in col.items():
                B[model.coordinate_index(c), j] = coef
        self.B = B
        self.z_lo = np.asarray(setup.z_lo, dtype=float)
        self.z_hi = np.asarray(setup.z_hi, dtype=float)
        self.tilt = model.coordinate_index("pelvis_tilt")
        self.ty = model.coordinate_index("pelvis_ty")
        glob = {self.tilt, self.ty}
        self.varied = np.asarray([i for i in range(nc) if i not in glob and np.any(B[i] != 0)], dtype=np.intp)
        Bv = B[self.varied]
        span_lo = q0[self.varied] + np.minimum(Bv * self.z_lo, Bv * self.z_hi).sum(1) - setup.margin
        span_hi = q0[self.varied] + np.maximum(Bv * self.z_lo, Bv * self.z_hi).sum(1) + setup.margin
        self.u_lo, self.u_hi = span_lo, span_hi
        self.trans = np.array([model.coordinates[model.coordinate_index(c)].motion_type == "translational"
                               for c in self._main_coordinate_names()])
        self.params = model.muscle_params
        self._subsets: dict[bytes, Any] = {}
        self._z_warm: Array | None = None
        self._build_kinematic_sets()
        self._build_joint_terms()

    # -- construction -------------------------------------------------------------------------
    def _main_coordinate_names(self) -> list[str]:
        out = []
        for col in self.setup.basis:
            main = max(col.items(), key=lambda kv: abs(kv[1]))[0]
            out.append(main)
        return out

    def _build_kinematic_sets(self) -> None:
        m = self.model
        bodies = self.setup.gravity_bodies
        if bodies is None:
            bodies = tuple(b for b in m.body_names if b != "ground")
        pts: list[tuple[int, Array, float]] = []
        for b in bodies:
            body = m.bodies[m.body_index(b)]
            if body.mass > 0:
                pts.append((m.body_index(b), np.asarray(body.mass_center, dtype=float), float(body.mass)))
        for s in self.setup.feet:
            x, y, zz = FOOT_POINT
            pts.append((m.body_index(f"tibia_{s}"), np.array([x, y, zz if s == "r" else -zz]), FOOT_MASS))
        self.mass_points = pts
        self.masses = np.array([p[2] for p in pts])
        self.total_mass = float(sum(p[2] for p in pts))
        self.contacts = [(m.body_index(c.body), np.asarray(c.point, dtype=float)) for c in self.setup.contacts]
        self.heights0 = np.asarray([c.height + c.radius for c in self.setup.contacts], dtype=float)

    def _build_joint_terms(self) -> None:
        m = self.model
        terms: list[tuple[int, Any, float]] = []
        riener: list[tuple[int, int]] = []
        for s in ("r", "l"):
            for base, lim in passive.COORDINATE_LIMITS.items():
                if base in ("hip_flexion", "knee_angle"):
                    continue  # calibrated to Riener & Edrich's in-vivo totals instead (below)
                terms.append((m.coordinate_index(f"{base}_{s}"), lim, 1.0))
            riener.append((m.coordinate_index(f"hip_flexion_{s}"), m.coordinate_index(f"knee_angle_{s}")))
        self.riener = riener
        l5 = m.coordinate_index("L5_S1_flex_ext")
        C = coupling_vectors(m, complete_coordinates(m, self.q0[None, :]), [l5])[0, 0]
        total = float(sum(C[i] for i, n in enumerate(m.coordinate_names) if n.endswith("_flex_ext")))
        self.lumbar_ratio = total
        terms.append((l5, passive.lumbar_moment, total))
        self.joint_terms = terms

    def q_of(self, z: Array) -> Array:
        return self.q0[None, :] + z @ self.B.T

    def _q_from_u(self, u: Array) -> Array:
        q = np.tile(self.q0, (u.shape[0], 1))
        q[:, self.varied] = u
        q[:, self.tilt] = 0.0
        q[:, self.ty] = 0.0
        return q

    def _kin_func(self, u: Array) -> Array:
        R, p = body_transforms(self.model, self._q_from_u(u))
        cols = []
        for b, pt, _mass in self.mass_points:
            g = np.einsum("nij,j->ni", R[:, b], pt) + p[:, b]
            cols.append(g[:, 0])
            cols.append(g[:, 1])
        for b, pt in self.contacts:
            g = np.einsum("nij,j->ni", R[:, b], pt) + p[:, b]
            cols.append(g[:, 0])
            cols.append(g[:, 1])
        return np.stack(cols, axis=1) if cols else np.zeros((u.shape[0], 0))

    def _muscle_func(self, u: Array) -> Array:
        from iliopsoas.mechanics import muscle_lengths

        return muscle_lengths(self.model, self._q_from_u(u))

    def _key(self, kind: str) -> str:
        return source_digest(kind, repr(self.setup), repr(self.q0.tolist()), repr(self.model.muscle_names),
                             repr(self.u_lo.tolist()), repr(self.u_hi.tolist()))

    @cached_property
    def kin(self) -> Surrogate:
        return cached_fit(self._key("kin"), self._kin_func, self.u_lo, self.u_hi, n_samples=500)

    @cached_property
    def lengths(self) -> Surrogate:
        return cached_fit(self._key("lengths"), self._muscle_func, self.u_lo, self.u_hi, n_samples=600)

    def warm_up(self) -> None:
        """Build the fits and the engine's force-curve tables (once per process), outside timing."""
        _ = self.lengths, self.kin
        if not getattr(self, "_warm", False):
            m = self.params.n_muscles
            zeros = np.zeros((1, m))
            L0, _ = self.lengths.evaluate(self.q0[self.varied][None, :])
            self.muscle_forces(L0, MuscleLoads(zeros, zeros + 1.0, zeros, zeros + 1.0))
            self._warm = True

    # -- energy gradient ----------------------------------------------------------------------
    def muscle_forces(self, L: Array, loads: MuscleLoads) -> Array:
        """Tendon forces ``(n, m)`` (N) for path lengths ``L`` ``(n, m)``."""
        Leff = L + loads.length_offset
        act = loads.activation
        ms = muscle_state(self.params, Leff, act, tendon="rigid")
        active = np.where(act > 0, ms.active_fiber_force, 0.0)
        return (loads.stiffness * ms.passive_fiber_force + active) * np.cos(ms.pennation_angle) * loads.force_scale

    def _untightened_forces(self, L: Array, F: Array, loads: MuscleLoads) -> Array:
        """The forces ``F`` with every tightness removed (recomputed only where a load differs)."""
        changed = np.any((loads.length_offset != 0) | (loads.stiffness != 1) | (loads.activation != 0), axis=0)
        if not changed.any():
            return F
        cols = np.flatnonzero(changed)
        F0 = F.copy()
        key = cols.tobytes()
        sub = self._subsets.get(key)
        if sub is None:  # prepared once: muscle_state does not copy a parameter set it is given whole
            sub = self._subsets[key] = self.params.subset(cols)
        ms = muscle_state(sub, L[:, cols], 0.0, tendon="rigid")  # activation clamps to its minimum
        F0[:, cols] = ms.passive_fiber_force * np.cos(ms.pennation_angle) * loads.force_scale[:, cols]
        return F0

    def gradient(self, z: Array, loads: MuscleLoads, heights: Array, *, detail: bool = False) -> Any:
        """``dU/dz`` ``(n, k)``; with ``detail`` also the generalized forces of each part."""
        q = self.q_of(z)
        u = q[:, self.varied]
        th = q[:, self.tilt]
        ty = q[:, self.ty]
        s, c = np.sin(th), np.cos(th)
        Bv = self.B[self.varied]
        bt, bty = self.B[self.tilt], self.B[self.ty]
        g = -float(self.model.gravity[1])

        L, dL = self.lengths.evaluate(u)
        F = self.muscle_forces(L, loads)
        dU_muscle = np.einsum("nm,nmd->nd", F, dL) @ Bv if len(self.varied) else np.zeros_like(z)

        K, dK = self.kin.evaluate(u)
        nmp = len(self.mass_points)
        px, py = self.setup.pivot
        mass = self.masses
        Sx = K[:, 0:2 * nmp:2] @ mass - px * mass.sum()
        Sy = K[:, 1:2 * nmp:2] @ mass - py * mass.sum()
        dSx = np.einsum("nbd,b->nd", dK[:, 0:2 * nmp:2], mass)
        dSy = np.einsum("nbd,b->nd", dK[:, 1:2 * nmp:2], mass)
        dU_grav = g * ((s[:, None] * dSx + c[:, None] * dSy) @ Bv
                       + (c * Sx - s * Sy)[:, None] * bt[None, :]
                       + self.total_mass * bty[None, :])

        dU_contact = np.zeros_like(z)
        fn = np.zeros((z.shape[0], len(self.contacts)))
        for ci in range(len(self.contacts)):
            X = K[:, 2 * nmp + 2 * ci]
            Y = K[:, 2 * nmp + 2 * ci + 1]
            dX = dK[:, 2 * nmp + 2 * ci]
            dY = dK[:, 2 * nmp + 2 * ci + 1]
            h = ty + s * X + c * Y - heights[:, ci]
            f = CONTACT_STIFFNESS * CONTACT_SMOOTHING * np.logaddexp(0.0, -h / CONTACT_SMOOTHING)
            fn[:, ci] = f
            dh = (s[:, None] * dX + c[:, None] * dY) @ Bv + (c * X - s * Y)[:, None] * bt[None, :] + bty[None, :]
            dU_contact -= f[:, None] * dh

        dU_joint = np.zeros_like(z)
        for ci, lim, ratio in self.joint_terms:
            if not np.any(self.B[ci]):
                continue
            M = ratio * lim(ratio * q[:, ci]) if ratio != 1.0 else lim(q[:, ci])
            dU_joint -= M[:, None] * self.B[ci][None, :]

        varied = list(self.varied)
        need = [(hi, kn) for hi, kn in self.riener if np.any(self.B[hi]) or np.any(self.B[kn])]
        if need:
            F0 = self._untightened_forces(L, F, loads)
            for hi, kn in need:
                hd, kd = np.degrees(q[:, hi]), np.degrees(q[:, kn])
                for cj, total_fn in ((hi, passive.riener_edrich_hip_moment(hd, kd)),
                                     (kn, passive.riener_edrich_knee_moment(hd, kd))):
                    if not np.any(self.B[cj]) or cj not in varied:
                        continue
                    own = -np.einsum("nm,nm->n", F0, dL[:, :, varied.index(cj)])
                    dU_joint -= (total_fn - own)[:, None] * self.B[cj][None, :]

        total = dU_muscle + dU_grav + dU_contact + dU_joint
        if not detail:
            return total
        return total, {"F": F, "dL": dL, "L": L, "gravity": -dU_grav, "contact": -dU_contact,
                       "joint_limits": -dU_joint, "contact_forces": fn}

    # -- solver -------------------------------------------------------------------------------
    def rest_pose(self) -> Array:
        """The untightened resting pose ``(k,)``, solved once from ``setup.z_init``: the warm start."""
        if self._z_warm is None:
            m = self.params.n_muscles
            zero = np.zeros((1, m))
            sol = self.solve(MuscleLoads(zero, zero + 1.0, zero, zero + 1.0),
                             z0=np.asarray(self.setup.z_init, dtype=float)[None, :])
            self._z_warm = sol.z[0].copy() if sol.converged[0] else np.asarray(self.setup.z_init, dtype=float)
        return self._z_warm

    def _tol(self) -> Array:
        return np.where(self.trans, 1e-2, 1e-3)

    def solve(self, loads: MuscleLoads, *, z0: Array | None = None, heights: Array | None = None,
              max_iter: int = 80) -> Solution:
        """Resting poses for every row of ``loads`` (``n`` problems solved as one batch)."""
        import time

        self.warm_up()
        n, k = loads.n, self.k
        # warm start from the untightened resting pose (solved once, the same start for every call)
        z = np.array(z0, dtype=float) if z0 is not None else np.tile(self.rest_pose(), (n, 1))
        t0 = time.perf_counter()
        H0 = np.tile(self.heights0, (n, 1)) if heights is None else np.asarray(heights, dtype=float)
        tol = self._tol()
        maxstep = np.where(self.trans, MAX_STEP_TRANS, MAX_STEP_ROT)
        active = np.arange(n)
        resid = np.full(n, np.inf)
        it = 0
        eye = np.eye(k)
        w_all = np.ones((n, k))
        V_all = np.tile(eye, (n, 1, 1))
        for it in range(1, max_iter + 1):  # noqa: B007 - reported after the loop
            if active.size == 0:
                break
            za = z[active]
            la = loads.rows(active)
            ha = H0[active]
            na = active.size
            # the Hessian (a forward difference of the gradient, all k + 1 points as one batch)
            # is refreshed every other iteration and reused in between (chord steps)
            fresh = it % 2 == 1 or it <= 2
            if fresh:
                pts = np.concatenate([za[:, None, :], za[:, None, :] + FD_STEP * eye[None]], axis=1).reshape(-1, k)
                Gall = self.gradient(pts, _repeat(la, k + 1), np.repeat(ha, k + 1, axis=0)).reshape(na, k + 1, k)
                G = Gall[:, 0]
            else:
                G = self.gradient(za, la, ha)
            ok = np.all(np.abs(G) <= tol, axis=1)
            resid[active] = np.abs(G / tol).max(1)
            keep = ~ok
            if not keep.any():
                active = active[:0]
                break
            kidx = np.flatnonzero(keep)
            active, za, G, la, ha = active[keep], za[keep], G[keep], la.rows(kidx), ha[keep]
            if fresh:
                H = (Gall[kidx, 1:] - G[:, None, :]) / FD_STEP
                H = 0.5 * (H + np.swapaxes(H, 1, 2))
                w, V = np.linalg.eigh(H)
                floor = np.maximum(1e-6, 1e-6 * np.abs(w).max(1, keepdims=True))
                w_all[active] = np.maximum(np.abs(w), floor)
                V_all[active] = V
            w, V = w_all[active], V_all[active]
            step = -np.einsum("nij,nj,nkj,nk->ni", V, 1.0 / w, V, G)
            scale = np.max(np.abs(step) / maxstep, axis=1, keepdims=True)
            step = step / np.maximum(scale, 1.0)
            # backtracking on the Newton decrement G' H^-1 G (modified Hessian), which weighs
            # stiff and soft directions alike; only the rows that need a shorter step are re-evaluated
            merit0 = np.einsum("ni,ni->n", np.einsum("nji,nj->ni", V, G) ** 2, 1.0 / w)
            znew = za.copy()
            todo = np.arange(active.size)
            for alpha in (1.0, 0.5, 0.2, 0.05):
                cand = np.clip(za[todo] + alpha * step[todo], self.z_lo, self.z_hi)
                Gc = self.gradient(cand, la.rows(todo), ha[todo])
                merit = np.einsum("ni,ni->n", np.einsum("nji,nj->ni", V[todo], Gc) ** 2, 1.0 / w[todo])
                good = merit < merit0[todo]
                znew[todo] = cand
                todo = todo[~good]
                if todo.size == 0:
                    break
            z[active] = znew
        pts = np.concatenate([z[:, None, :], z[:, None, :] + FD_STEP * eye[None]], axis=1).reshape(-1, k)
        Gall = self.gradient(pts, _repeat(loads, k + 1), np.repeat(H0, k + 1, axis=0)).reshape(n, k + 1, k)
        Gf = Gall[:, 0]  # the gradient at z itself is the first point of the difference batch
        Hf = (Gall[:, 1:] - Gall[:, :1]) / FD_STEP
        Hf = 0.5 * (Hf + np.swapaxes(Hf, 1, 2))
        stable = np.linalg.eigvalsh(Hf)[:, 0] > 0
        resid = np.abs(Gf / tol).max(1)
        conv = resid <= 1.0
        at_bound = (np.isclose(z, self.z_lo) | np.isclose(z, self.z_hi))
        msgs = []
        for i in range(n):
            if conv[i] and not at_bound[i].any():
                msgs.append("converged" if stable[i] else "converged to a stationary point that is not a minimum")
            elif at_bound[i].any():
                names = ", ".join(self.setup.free[j] for j in np.flatnonzero(at_bound[i]))
                conv[i] = False
                msgs.append(f"stopped at the edge of the scenario's range for {names}; no equilibrium inside it")
            else:
                msgs.append(f"did not converge in {max_iter} iterations (largest gradient {resid[i]:.3g} x tolerance)")
        conv &= stable
        return Solution(z=z, q=self.q_of(z), converged=conv, stable=stable, residual=resid, iterations=it,
                        messages=msgs, seconds=time.perf_counter() - t0)


def _repeat(loads: MuscleLoads, times: int) -> MuscleLoads:
    """Each row of ``loads`` repeated ``times`` times in a row (as ``np.repeat`` along rows)."""
    return loads.rows(np.repeat(np.arange(loads.n), times))
