"""Static equilibrium under gravity, passive muscle forces, joint tissue, contact and balance.

Formulation
-----------
A scenario frees ``k`` reduced coordinates ``z``; the model's coordinates are ``q = q0 + B z``.
The pelvis moves in the sagittal plane: ``pelvis_tilt`` rotates it about the ground z axis;
its position is either free in height (``pelvis_ty``, resting on contacts) or follows from a
:class:`Pin` (a body point held on the floor, e.g. the ankles when standing). The generalized
forces along ``z`` are the negative gradient of the potential energy

``U(z) = sum_m E_m(L_m) + U_gravity + sum_c E_contact(h_c) - sum_j W_tissue``

* muscles: ``F_m dL_m/dz``, ``F_m`` the tendon force of the engine's Millard muscle with a rigid
  tendon (passive curves calibrated, see ``iliopsoas.models.passive_calibration``), passive part
  scaled by the tightness stiffness, active part only where a resting tone is set;
* gravity: ``m g dy/dz`` for every body's centre of mass (and a foot point mass, :data:`FOOT_MASS`);
* contact (one-sided, penalty): ``k eps log(1 + exp(-h/eps))`` (soft tissue of stiffness ``k`` =
  50 kN/m, smoothing ``eps`` = 1 mm); supports are frictionless (no horizontal force);
* joint tissue: the non-muscle moments of :mod:`iliopsoas.posture.passive`.

Where a scenario adds a :class:`Constraint` (the centre of mass over the base of support when
standing, the lumbar spine flat on the table in the Thomas test) a multiplier ``lam`` - an
ankle torque, the hands' hug torque - acts along ``d(z)`` and the solver finds ``(z, lam)`` with
``dU/dz = lam d(z)`` and ``c(z) = 0``.

Exactness. Iterations use polynomial fits of path lengths and body points
(:mod:`iliopsoas.posture.surrogate`) for speed; every reported pose is then *polished* with the
engine itself: lengths and ``-dL/dq`` by central differences of the engine's path lengths
(step 1e-6, the engine's ``exact`` moment arms) and exact kinematics, until the exact generalized
forces are below tolerance. The fits only steer the iterations.

Solver. Batched Newton iterations. Scenarios without a constraint are minimised (Hessian by
forward differences, eigenvalues floored positive so every step goes downhill); scenarios with a
constraint are root-found (Newton on the residual ``(dU/dz - lam d, c)`` with a line search on its
scaled norm), since a balanced upright posture need not be a minimum of the passive energy
(``stable`` says whether it is). Tightness is reached by homotopy from the untightened rest pose
(:func:`Problem.solve`), so every answer lies on the branch connected to the relaxed body.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from iliopsoas.mechanics import body_transforms, complete_coordinates, coupling_vectors, muscle_lengths
from iliopsoas.mechanics.forces import muscle_state
from iliopsoas.posture import passive
from iliopsoas.posture.surrogate import Surrogate, cached_fit, one_blas_thread, source_digest
from iliopsoas.posture.tightness import MuscleLoads

Array = NDArray[np.float64]

CONTACT_STIFFNESS = 5.0e4  # N/m, soft tissue under a bony prominence (our order-of-magnitude choice)
CONTACT_SMOOTHING = 1.0e-3  # m
FD_STEP = 1.0e-6  # rad or m: forward differences of the gradient, central differences of lengths
MAX_STEP_ROT = 0.12  # rad per Newton step
MAX_STEP_TRANS = 0.02  # m per Newton step
TOL_ROT = 1.0e-4  # N m: converged when every generalized moment is below this
TOL_TRANS = 1.0e-3  # N
TOL_CONSTRAINT = 1.0e-5  # m
HOMOTOPY_STEPS = 6
HOMOTOPY_LOOSE = 100.0  # intermediate continuation steps stop at 100 x tolerance (they only carry the branch)
SLOW_ROW_ITER_FACTOR = 5  # rows not converged after the homotopy get this many times the iterations
NONMONOTONE_MEMORY = 5  # merits remembered by the non-monotone line search
LM_MIN_ITER = 150  # least-squares iterations converge more slowly than Newton's
TILT_ROW_SCALE = 1.0e-3  # rad: the bookkeeping row that pulls z's tilt onto the balanced tilt
EFFORT_WEIGHT = 1.0e-2  # a postural torque of 1 N m weighs as much as a residual of 1e-6 N m of a passive joint
EFFORT_STEP_TOL = 1.0e-7  # rad: least-effort iterations stop when the step is this small
#: A least-squares row that rests against the edge of the scenario's range and has not lowered its
#: merit by STALL_GAIN (relative) in STALL_ITERS iterations is stopped: its step points out of the
#: range, the clipped step cannot reach a root, and further iterations only wander along the edge
#: (such rows are reported as stopped at the edge, converged or not, either way).
STALL_GAIN = 1.0e-2
STALL_ITERS = 10
ENGINE_MIN_BATCH = 256  # the engine's compiled path kernel runs from this many poses on

#: The model has no feet; the foot is a point mass on the tibia. Mass = Rajagopal 2016 talus +
#: calcaneus + toes (0.1 + 1.25 + 0.2166 kg); position = their centre of mass with the ankle at
#: 0 deg, in the tibia frame (ankle joint at (-0.01, -0.4, 0), subtalar offset and calcaneus
#: centre of mass from Rajagopal2016.osim, our sum).
FOOT_MASS = 1.5666
FOOT_POINT = (0.041, -0.412, 0.008)
ANKLE_POINT = (-0.01, -0.4, 0.0)  # Rajagopal 2016 ankle joint centre in the tibia frame


@dataclass(frozen=True)
class Contact:
    """A body point (body frame, m) resting on a horizontal support at ``height`` (m)."""

    name: str
    body: str
    point: tuple[float, float, float]
    height: float = 0.0
    radius: float = 0.0  # a sphere of this radius around the point rolls on the support


@dataclass(frozen=True)
class Pin:
    """A body point held at a ground point (the pelvis position follows; no free height)."""

    body: str
    point: tuple[float, float, float]


@dataclass(frozen=True)
class Constraint:
    """One scalar condition ``c(z) = 0`` and the torque that enforces it.

    ``kind`` = ``"com_over_pin"``: the horizontal position of the centre of mass of the
    ``gravity`` bodies lies ``offset`` m in front of the pin; ``"touch"``: the contact point
    ``contact`` just touches its support (gap 0). The multiplier is a torque on ``torque_body``
    (from the ground when ``torque_from`` is None, else from ``torque_from``), N·m.
    """

    kind: str
    name: str
    torque_body: str
    torque_from: str | None = None
    offset: float = 0.0
    contact: Contact | None = None


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
    pin: Pin | None = None
    constraint: Constraint | None = None
    mode: str = "minimize"  # "root": find the balanced pose even where it is not a minimum of the energy
    #: free coordinates along which postural muscle activity may add a torque; the pose then
    #: minimises the sum of their squares (least effort), zero where passive tissue suffices
    effort: tuple[str, ...] = ()
    #: convergence tolerance of the generalized forces (N m; N for translations: ten times more)
    tolerance: float = TOL_ROT
    margin: float = math.radians(3.0)

    @property
    def minimize(self) -> bool:
        return self.constraint is None and self.mode == "minimize"


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
    multiplier: Array | None = None  # (n,) the constraint's torque (N m), when there is one
    effort: dict[str, Array] | None = None  # postural muscle torque (N m, (n,)) along each effort coordinate


def _rot2(th: Array) -> tuple[Array, Array]:
    return np.sin(th), np.cos(th)


class Problem:
    """A scenario bound to a model: fitted and exact functions, basis and generalized forces."""

    def __init__(self, model: Any, setup: Setup, *, nutation: float = 0.0) -> None:
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
        self.tx = model.coordinate_index("pelvis_tx")
        self.ty = model.coordinate_index("pelvis_ty")
        glob = {self.tilt, self.tx, self.ty}
        self.varied = np.asarray([i for i in range(nc) if i not in glob and np.any(B[i] != 0)], dtype=np.intp)
        Bv = B[self.varied]
        self.u_lo = q0[self.varied] + np.minimum(Bv * self.z_lo, Bv * self.z_hi).sum(1) - setup.margin
        self.u_hi = q0[self.varied] + np.maximum(Bv * self.z_lo, Bv * self.z_hi).sum(1) + setup.margin
        self.trans = np.array([model.coordinates[model.coordinate_index(self._main(col))].motion_type == "translational"
                               for col in setup.basis])
        self.params = model.muscle_params
        con = setup.constraint
        #: the balance condition is solved in closed form for the pelvis tilt and its torque eliminated
        self.eliminate = con is not None and con.kind == "com_over_pin"
        self.has_lambda = con is not None and not self.eliminate
        self.tilt_col = setup.free.index("pelvis_tilt") if "pelvis_tilt" in setup.free else -1
        soft = np.array([f in setup.effort for f in setup.free] + ([False] if self.has_lambda else []))
        self.soft = soft
        self.weights = np.where(soft, EFFORT_WEIGHT, 1.0)
        self._subsets: dict[bytes, Any] = {}
        self._z_warm: Array | None = None
        self._build_points()
        self._build_joint_terms()

    # -- construction -------------------------------------------------------------------------
    @staticmethod
    def _main(col: dict[str, float]) -> str:
        return max(col.items(), key=lambda kv: abs(kv[1]))[0]

    def _build_points(self) -> None:
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
        self.total_mass = float(self.masses.sum())
        self.contacts = [(m.body_index(c.body), np.asarray(c.point, dtype=float)) for c in self.setup.contacts]
        self.heights0 = np.asarray([c.height + c.radius for c in self.setup.contacts], dtype=float)
        extra: list[tuple[int, Array]] = []
        pin = self.setup.pin
        if pin is not None:
            extra.append((m.body_index(pin.body), np.asarray(pin.point, dtype=float)))
        con = self.setup.constraint
        if con is not None and con.kind == "touch" and con.contact is not None:
            extra.append((m.body_index(con.contact.body), np.asarray(con.contact.point, dtype=float)))
        self.extra_points = extra
        # sagittal angles of the bodies a constraint torque acts on
        self.angle_bodies = []
        if con is not None:
            self.angle_bodies.append(m.body_index(con.torque_body))
            if con.torque_from is not None:
                self.angle_bodies.append(m.body_index(con.torque_from))
        self.n_points = len(pts) + len(self.contacts) + len(extra)

    def _build_joint_terms(self) -> None:
        m = self.model
        terms: list[tuple[int, Any, float, str]] = []
        for s in ("r", "l"):
            for base, fn in passive.tissue_terms().items():
                terms.append((m.coordinate_index(f"{base}_{s}"), fn, 1.0, f"{base}_{s}"))
        l5 = m.coordinate_index("L5_S1_flex_ext")
        C = coupling_vectors(m, complete_coordinates(m, self.q0[None, :]), [l5])[0, 0]
        self.lumbar_ratio = float(sum(C[i] for i, n in enumerate(m.coordinate_names) if n.endswith("_flex_ext")))
        terms.append((l5, passive.lumbar_moment, self.lumbar_ratio, "lumbar_total_extension"))
        self.joint_terms = [t for t in terms if np.any(self.B[t[0]])]

    # -- coordinates --------------------------------------------------------------------------
    def q_of(self, z: Array) -> Array:
        """Model coordinates ``(n, nc)`` of reduced coordinates ``z`` ``(n, k)`` (the pin placed, if any)."""
        q = self.q0[None, :] + z @ self.B.T
        if self.setup.pin is not None:
            q = self._place_pin(q, self._kin_func(q[:, self.varied]))
        return q

    def _place_pin(self, q: Array, K: Array) -> Array:
        col = 2 * (len(self.mass_points) + len(self.contacts))
        px, py = K[:, col], K[:, col + 1]
        s, c = _rot2(q[:, self.tilt])
        q = q.copy()
        q[:, self.tx] = -(c * px - s * py)
        q[:, self.ty] = -(s * px + c * py)
        return q

    def _q_from_u(self, u: Array) -> Array:
        q = np.tile(self.q0, (u.shape[0], 1))
        q[:, self.varied] = u
        q[:, self.tilt] = 0.0
        q[:, self.tx] = 0.0
        q[:, self.ty] = 0.0
        return q

    # -- the functions that are fitted, and their exact versions -------------------------------
    def _kin_func(self, u: Array) -> Array:
        R, p = body_transforms(self.model, self._q_from_u(u))
        cols = []
        for b, pt, *_ in self.mass_points + [(b, pt) for b, pt in self.contacts] + self.extra_points:
            g = np.einsum("nij,j->ni", R[:, b], pt) + p[:, b]
            cols += [g[:, 0], g[:, 1]]
        for b in self.angle_bodies:
            cols.append(np.arctan2(R[:, b, 1, 0], R[:, b, 0, 0]))
        return np.stack(cols, axis=1) if cols else np.zeros((u.shape[0], 0))

    def _muscle_func(self, u: Array) -> Array:
        return muscle_lengths(self.model, complete_coordinates(self.model, self._q_from_u(u)))

    def _key(self, kind: str) -> str:
        return source_digest(kind, repr(self.setup), repr(self.q0.tolist()), repr(self.model.muscle_names),
                             repr(self.u_lo.tolist()), repr(self.u_hi.tolist()))

    @cached_property
    def kin(self) -> Surrogate:
        return cached_fit(self._key("kin"), self._kin_func, self.u_lo, self.u_hi, n_samples=500)

    @cached_property
    def lengths(self) -> Surrogate:
        return cached_fit(self._key("lengths"), self._muscle_func, self.u_lo, self.u_hi, n_samples=600)

    @cached_property
    def moving_muscles(self) -> NDArray[np.intp]:
        """Muscles whose length depends on the varied coordinates (the others add no force along z)."""
        cols = [g.columns for g in self.lengths.groups if g.dims]
        return np.unique(np.concatenate(cols)) if cols else np.zeros(0, dtype=np.intp)

    def exact_kin(self, u: Array) -> tuple[Array, Array]:
        """Body points and angles with their exact derivatives (central differences of the engine's kinematics)."""
        return _central(self._kin_func, u)

    def exact_lengths(self, u: Array) -> tuple[Array, Array]:
        """Path lengths ``(n, m)`` and ``dL/du`` ``(n, m, d)`` from the engine (central differences, step 1e-6)."""
        mids = self.moving_muscles
        n, d = u.shape
        L = np.zeros((n, self.params.n_muscles))
        dL = np.zeros((n, self.params.n_muscles, d))
        if mids.size == 0:
            return L, dL
        shifts = np.concatenate([np.zeros((1, d)), FD_STEP * np.eye(d), -FD_STEP * np.eye(d)])
        uu = (u[:, None, :] + shifts[None]).reshape(-1, d)
        qq = complete_coordinates(self.model, self._q_from_u(uu))
        pad = max(0, ENGINE_MIN_BATCH - qq.shape[0])  # small batches: pad so the compiled kernel runs
        if pad:
            qq = np.vstack([qq, np.repeat(qq[:1], pad, axis=0)])
        vals = muscle_lengths(self.model, qq, muscles=[int(i) for i in mids])[: n * (2 * d + 1)]
        vals = vals.reshape(n, 2 * d + 1, mids.size)
        # the other muscles keep their (constant) fitted length
        Lfit, _ = self.lengths.evaluate(u)
        L[:] = Lfit
        L[:, mids] = vals[:, 0]
        dL[:, mids, :] = np.moveaxis((vals[:, 1:d + 1] - vals[:, d + 1:]) / (2 * FD_STEP), 1, 2)
        return L, dL

    def warm_up(self) -> None:
        """Build the fits and the engine's force-curve tables (once per process), outside timing."""
        _ = self.lengths, self.kin, self.moving_muscles
        if not getattr(self, "_warm", False):
            m = self.params.n_muscles
            zeros = np.zeros((1, m))
            z0 = np.asarray(self.setup.z_init, dtype=float)[None, :]
            L0, _ = self.lengths.evaluate((self.q0[None, :] + z0 @ self.B.T)[:, self.varied])
            self.muscle_forces(L0, MuscleLoads(zeros, zeros + 1.0, zeros, zeros + 1.0))
            self._warm = True

    # -- forces -------------------------------------------------------------------------------
    def muscle_forces(self, L: Array, loads: MuscleLoads) -> Array:
        """Tendon forces ``(n, m)`` (N) for path lengths ``L`` ``(n, m)``."""
        if loads.fiber_length_scale is not None:
            # fibres f times as long with the tendon shorter by as much: the same forces as this
            # model's muscle at the path length pivot + (L - pivot) / f (exact, pennation included)
            p = self.params
            pivot = p.tendon_slack_length + p.optimal_fiber_length * np.cos(p.pennation_angle_at_optimal)
            f = loads.fiber_length_scale
            L = np.where(f == 1.0, L, pivot + (L - pivot) / f)  # f = 1: the model as built, bit for bit
        Leff = L + loads.length_offset
        act = loads.activation
        ms = muscle_state(self.params, Leff, act, tendon="rigid")
        active = np.where(act > 0, ms.active_fiber_force, 0.0)
        return (loads.stiffness * ms.passive_fiber_force + active) * np.cos(ms.pennation_angle) * loads.force_scale

    def gradient(self, z: Array, loads: MuscleLoads, heights: Array, *, detail: bool = False,
                 exact: bool = False) -> Any:
        """``dU/dz`` ``(n, k)``; with ``detail`` also the generalized forces of each part and the kinematics."""
        q = self.q0[None, :] + z @ self.B.T
        u = q[:, self.varied]
        th = q[:, self.tilt]
        s, c = _rot2(th)
        Bv = self.B[self.varied]
        bt, bty = self.B[self.tilt], self.B[self.ty]
        g = -float(self.model.gravity[1])
        if exact:
            L, dL = self.exact_lengths(u)
            K, dK = self.exact_kin(u)
        else:
            L, dL = self.lengths.evaluate(u)
            K, dK = self.kin.evaluate(u)
        F = self.muscle_forces(L, loads)
        dU_muscle = np.einsum("nm,nmd->nd", F, dL) @ Bv if len(self.varied) else np.zeros_like(z)

        nmp, ncp = len(self.mass_points), len(self.contacts)
        pinned = self.setup.pin is not None
        if pinned:
            pc = 2 * (nmp + ncp)
            Px, Py, dPx, dPy = K[:, pc], K[:, pc + 1], dK[:, pc], dK[:, pc + 1]
        else:
            Px = Py = np.zeros(len(z))
            dPx = dPy = np.zeros((len(z), len(self.varied)))

        def height(col: int) -> tuple[Array, Array, Array]:
            """Height of point ``col`` above the pelvis origin or the pin, and its z-gradient."""
            X, Y = K[:, col] - Px, K[:, col + 1] - Py
            dX, dY = dK[:, col] - dPx, dK[:, col + 1] - dPy
            y = s * X + c * Y
            dy = (s[:, None] * dX + c[:, None] * dY) @ Bv + (c * X - s * Y)[:, None] * bt[None, :]
            if not pinned:
                y = y + q[:, self.ty]
                dy = dy + bty[None, :]
            return y, dy, c * X - s * Y

        dU_grav = np.zeros_like(z)
        com_x = np.zeros(len(z))
        dcom_x = np.zeros_like(z)
        com_y = np.zeros(len(z))
        for i, (_, _, mass) in enumerate(self.mass_points):
            y, dy, x = height(2 * i)
            dU_grav += g * mass * dy
            com_x += mass * x
            com_y += mass * y
            X, Y = K[:, 2 * i] - Px, K[:, 2 * i + 1] - Py
            dX, dY = dK[:, 2 * i] - dPx, dK[:, 2 * i + 1] - dPy
            dcom_x += mass * ((c[:, None] * dX - s[:, None] * dY) @ Bv + (-s * X - c * Y)[:, None] * bt[None, :])
        com_x /= self.total_mass
        dcom_x /= self.total_mass
        com_y /= self.total_mass
        if loads.gravity_scale is not None:  # every mass scaled alike: the centre of mass stays put
            dU_grav = dU_grav * loads.gravity_scale[:, None]

        dU_contact = np.zeros_like(z)
        fn = np.zeros((z.shape[0], ncp))
        for ci in range(ncp):
            h, dh, _ = height(2 * (nmp + ci))
            h = h - heights[:, ci]
            f = CONTACT_STIFFNESS * CONTACT_SMOOTHING * np.logaddexp(0.0, -h / CONTACT_SMOOTHING)
            fn[:, ci] = f
            dU_contact -= f[:, None] * dh

        dU_joint = np.zeros_like(z)
        tissue: dict[str, Array] = {}
        for ci, fn_t, ratio, label in self.joint_terms:
            M = ratio * fn_t(ratio * q[:, ci]) if ratio != 1.0 else fn_t(q[:, ci])
            tissue[label] = M / ratio if ratio != 1.0 else M
            dU_joint -= M[:, None] * self.B[ci][None, :]

        total = dU_muscle + dU_grav + dU_contact + dU_joint
        if not detail:
            return total
        return total, {"F": F, "dL": dL, "L": L, "K": K, "dK": dK, "q": q, "gravity": -dU_grav,
                       "contact": -dU_contact, "joint_limits": -dU_joint, "contact_forces": fn,
                       "tissue": tissue, "com_x": com_x, "dcom_x": dcom_x, "com_y": com_y, "height": height}

    # -- the constraint -----------------------------------------------------------------------
    def constraint(self, z: Array, det: dict[str, Any]) -> tuple[Array, Array]:
        """``c(z)`` ``(n,)`` and the direction ``d(z)`` ``(n, k)`` of its torque (from ``gradient``'s detail)."""
        con = self.setup.constraint
        assert con is not None
        Bv, bt = self.B[self.varied], self.B[self.tilt]
        if con.kind == "com_over_pin":
            c = det["com_x"] - con.offset
        else:
            col = 2 * (len(self.mass_points) + len(self.contacts)) + (2 if self.setup.pin is not None else 0)
            h, _, _ = det["height"](col)
            assert con.contact is not None
            c = h - (con.contact.height + con.contact.radius)
        base = 2 * self.n_points
        dK = det["dK"]
        d = dK[:, base] @ Bv + bt[None, :]
        if con.torque_from is not None:
            d = d - (dK[:, base + 1] @ Bv + bt[None, :])
        return c, d

    # -- solver -------------------------------------------------------------------------------
    def rest_pose(self) -> Array:
        """The untightened resting pose ``(k,)`` (solved once from ``setup.z_init``): the homotopy start."""
        if self._z_warm is None:
            m = self.params.n_muscles
            zero = np.zeros((1, m))
            loads = MuscleLoads(zero, zero + 1.0, zero, zero + 1.0)
            z0 = np.asarray(self.setup.z_init, dtype=float)[None, :]
            lam0 = np.zeros(1)
            z, lam, ok, _ = self._newton(z0, lam0, loads, np.tile(self.heights0, (1, 1)), max_iter=200)
            self._z_warm = z[0].copy()
            self._lam_warm = float(lam[0])
        return self._z_warm

    def _tol(self) -> Array:
        return np.where(self.trans, 10.0 * self.setup.tolerance, self.setup.tolerance)

    def balanced_tilt(self, z: Array, *, exact: bool = False) -> Array:
        """The pelvis tilt (rad, ``(n,)``) that puts the centre of mass ``offset`` in front of the pin.

        With the joints fixed, tilting rotates the body rigidly about the pin: the centre of mass
        relative to the pin, ``rho (cos phi, sin phi)`` at zero tilt, moves to angle ``phi + tilt``;
        ``rho cos(phi + tilt) = offset`` with the centre of mass above the pin.
        """
        con = self.setup.constraint
        assert con is not None
        q = self.q0[None, :] + z @ self.B.T
        u = q[:, self.varied]
        K = self._kin_func(u) if exact else self.kin.evaluate(u)[0]
        nmp, ncp = len(self.mass_points), len(self.contacts)
        pc = 2 * (nmp + ncp)
        X = (K[:, 0:2 * nmp:2] - K[:, pc:pc + 1]) @ self.masses / self.total_mass
        Y = (K[:, 1:2 * nmp:2] - K[:, pc + 1:pc + 2]) @ self.masses / self.total_mass
        rho, phi = np.hypot(X, Y), np.arctan2(Y, X)
        return np.arccos(np.clip(con.offset / rho, -1.0, 1.0)) - phi - self.q0[self.tilt]

    def residual(self, z: Array, lam: Array, loads: MuscleLoads, heights: Array, *,
                 exact: bool = False) -> tuple[Array, dict[str, Any]]:
        """Scaled residual ``(n, k [+1])``: generalized forces over tolerance, and the constraint.

        With an eliminated balance condition the tilt row instead says how far ``z``'s tilt is
        from the balanced one, and the torque is the generalized force along the tilt.
        """
        tol = self._tol()
        if self.eliminate:
            th = self.balanced_tilt(z, exact=exact)
            zb = z.copy()
            zb[:, self.tilt_col] = th
            G, det = self.gradient(zb, loads, heights, detail=True, exact=exact)
            _, d = self.constraint(zb, det)
            lam_b = G[:, self.tilt_col] / d[:, self.tilt_col]
            r = (G - lam_b[:, None] * d) / tol
            r[:, self.tilt_col] = (z[:, self.tilt_col] - th) / TILT_ROW_SCALE
            det["lam"], det["d"] = lam_b, d
            return r, det
        G, det = self.gradient(z, loads, heights, detail=True, exact=exact)
        if self.setup.constraint is None:
            return G / tol, det
        c, d = self.constraint(z, det)
        det["c"], det["d"] = c, d
        return np.concatenate([(G - lam[:, None] * d) / tol, (c / TOL_CONSTRAINT)[:, None]], axis=1), det

    def _jacobian(self, z: Array, lam: Array, loads: MuscleLoads, heights: Array, r0: Array,
                  exact: bool = False) -> Array:
        """Forward-difference Jacobian of the scaled residual with respect to ``(z, lam)``: ``(n, w, w)``."""
        n, k = z.shape
        eye = np.eye(k)
        pts = (z[:, None, :] + FD_STEP * eye[None]).reshape(-1, k)
        rep = np.repeat(np.arange(n), k)
        r, _ = self.residual(pts, lam[rep], loads.rows(rep), heights[rep], exact=exact)
        J = np.moveaxis((r.reshape(n, k, -1) - r0[:, None, :]) / FD_STEP, 1, 2)  # (n, w, k)
        if self.has_lambda:
            _, det = self.gradient(z, loads, heights, detail=True, exact=exact)
            _, d = self.constraint(z, det)
            col = np.concatenate([-d / self._tol(), np.zeros((n, 1))], axis=1)
            J = np.concatenate([J, col[:, :, None]], axis=2)
        return J

    def _newton(self, z: Array, lam: Array, loads: MuscleLoads, heights: Array, *, max_iter: int = 40,
                exact: bool = False, J_fixed: Array | None = None,
                loose: float = 1.0) -> tuple[Array, Array, NDArray[np.bool_], int]:
        """Newton iterations on every row until its scaled residual is below ``loose`` (1: converged;
        more for the intermediate steps of a continuation); returns (z, lam, ok, it)."""
        if not self.setup.minimize:
            return self._levenberg_marquardt(z, lam, loads, heights, max_iter=max(max_iter, LM_MIN_ITER), exact=exact,
                                             J_fixed=J_fixed, loose=loose)
        z = z.copy()
        lam = lam.copy()
        n, k = z.shape
        maxstep = np.where(self.trans, MAX_STEP_TRANS, MAX_STEP_ROT)
        ok = np.zeros(n, dtype=bool)
        active = np.arange(n)
        minimize = self.setup.minimize
        it = 0
        for it in range(1, max_iter + 1):  # noqa: B007 - reported
            if active.size == 0:
                break
            za, la, ha = z[active], lam[active], heights[active]
            lo = loads.rows(active)
            r, _ = self.residual(za, la, lo, ha, exact=exact)
            hard_ok = np.abs(r[:, ~self.soft]).max(axis=1) <= loose
            done = hard_ok & (np.abs(r).max(axis=1) <= loose)
            ok[active[done]] = True
            keep = ~done
            if not keep.any():
                active = active[:0]
                break
            idx = np.flatnonzero(keep)
            active, za, la, ha, r, hard_ok = active[keep], za[keep], la[keep], ha[keep], r[keep], hard_ok[keep]
            lo = lo.rows(idx)
            J = (J_fixed[active] if J_fixed is not None
                 else self._jacobian(za, la, lo, ha, r, exact=False))
            step, metric = _newton_step(J, r, minimize, self._tol(), self.weights)
            dz = step[:, :k]
            if self.soft.any():  # least effort: stop where the step vanishes and the hard equations hold
                still = hard_ok & (np.abs(dz).max(axis=1) < EFFORT_STEP_TOL)
                ok[active[still]] = True
                if still.all():
                    active = active[:0]
                    break
                mv = ~still
                active, za, la, ha, r, step, dz = active[mv], za[mv], la[mv], ha[mv], r[mv], step[mv], dz[mv]
                lo = lo.rows(np.flatnonzero(mv))
            scale = np.max(np.abs(dz) / maxstep, axis=1, keepdims=True)
            step = step / np.maximum(scale, 1.0)
            merit0 = metric(r, np.arange(active.size))
            todo = np.arange(active.size)
            znew, lnew = za.copy(), la.copy()
            for alpha in (1.0, 0.5, 0.25, 0.1, 0.03):
                cz = np.clip(za[todo] + alpha * step[todo, :k], self.z_lo, self.z_hi)
                cl = la[todo] + (alpha * step[todo, k] if step.shape[1] > k else 0.0)
                rc, _ = self.residual(cz, cl, lo.rows(todo), ha[todo], exact=exact)
                good = metric(rc, todo) < merit0[todo]
                znew[todo], lnew[todo] = cz, cl
                todo = todo[~good]
                if todo.size == 0:
                    break
            z[active], lam[active] = znew, lnew
        if active.size:
            r, _ = self.residual(z[active], lam[active], loads.rows(active), heights[active], exact=exact)
            ok[active] = (np.abs(r[:, ~self.soft]).max(axis=1) <= loose if self.soft.any()
                          else np.abs(r).max(axis=1) <= loose)
        return z, lam, ok, it

    def _levenberg_marquardt(self, z: Array, lam: Array, loads: MuscleLoads, heights: Array, *,
                             max_iter: int = 40, exact: bool = False, J_fixed: Array | None = None,
                             loose: float = 1.0) -> tuple[Array, Array, NDArray[np.bool_], int]:
        """Root mode. Without effort rows: Levenberg-Marquardt on the residual. With effort rows:
        Gauss-Newton steps that solve the hard (passive, balance) equations exactly in the
        linearisation and, in the null space of their Jacobian, minimise the postural torques."""
        z, lam = z.copy(), lam.copy()
        n, k = z.shape
        soft = self.soft
        hard = ~soft
        maxstep = np.where(self.trans, MAX_STEP_TRANS, MAX_STEP_ROT)
        mu = np.full(n, 1e-3)
        ok = np.zeros(n, dtype=bool)
        active = np.arange(n)
        it = 0
        r_all, _ = self.residual(z, lam, loads, heights, exact=exact)
        ws = EFFORT_WEIGHT

        def merit(rr: Array) -> Array:
            return (rr[:, hard] ** 2).sum(axis=1) + ((ws * rr[:, soft]) ** 2).sum(axis=1)

        # non-monotone line search (Grippo et al. 1986): a step is accepted if it lowers the merit
        # below the largest of the last NONMONOTONE_MEMORY merits, so that full Newton steps are
        # taken near the solution even where stiff rows briefly grow (plain descent crawls there)
        best = merit(r_all)  # each row's lowest merit so far (the stall test below)
        history = np.tile(best[:, None], (1, NONMONOTONE_MEMORY))
        since = np.zeros(n, dtype=np.int64)

        for it in range(1, max_iter + 1):  # noqa: B007 - reported
            if active.size == 0:
                break
            za, la, ha, r = z[active], lam[active], heights[active], r_all[active]
            lo = loads.rows(active)
            J = J_fixed[active] if J_fixed is not None else self._jacobian(za, la, lo, ha, r, exact=False)
            w_n = J.shape[2]
            step = np.zeros((active.size, w_n))
            for i in range(active.size):
                if soft.any():
                    Jh, Js = J[i][hard], J[i][soft]
                    sp = np.linalg.lstsq(Jh, -r[i, hard], rcond=1e-12)[0]
                    _, sv, vt = np.linalg.svd(Jh)
                    rank = int((sv > sv.max() * 1e-10).sum()) if sv.size else 0
                    N = vt[rank:].T
                    if N.shape[1]:
                        y = np.linalg.lstsq(Js @ N, -(r[i, soft] + Js @ sp), rcond=1e-12)[0]
                        sp = sp + N @ y
                    step[i] = sp
                else:
                    A = J[i]
                    M = A.T @ A
                    step[i] = np.linalg.solve(M + mu[active[i]] * np.diag(np.diag(M) + 1e-12), -A.T @ r[i])
            sc = np.maximum(np.max(np.abs(step[:, :k]) / maxstep, axis=1, keepdims=True), 1.0)
            step = step / sc
            m0 = np.maximum(merit(r), history[active].max(axis=1)) if not soft.any() else merit(r)
            todo = np.arange(active.size)
            moved = np.zeros(active.size, dtype=bool)
            for alpha in (1.0, 0.5, 0.25, 0.1, 0.03, 0.01):
                cz = np.clip(za[todo] + alpha * step[todo, :k], self.z_lo, self.z_hi)
                cl = la[todo] + (alpha * step[todo, k] if w_n > k else 0.0)
                rc, _ = self.residual(cz, cl, lo.rows(todo), ha[todo], exact=exact)
                good = merit(rc) < m0[todo]
                gi = todo[good]
                z[active[gi]], lam[active[gi]], r_all[active[gi]] = cz[good], cl[good], rc[good]
                moved[gi] = True
                mu[active[gi]] = np.maximum(mu[active[gi]] / 3.0, 1e-9)
                todo = todo[~good]
                if todo.size == 0:
                    break
            mu[active[todo]] = np.minimum(mu[active[todo]] * 10.0, 1e10)
            m_now = merit(r_all[active])
            history[active] = np.concatenate([history[active][:, 1:], m_now[:, None]], axis=1)
            gained = m_now < (1.0 - STALL_GAIN) * best[active]
            best[active] = np.where(gained, m_now, best[active])
            since[active] = np.where(gained, 0, since[active] + 1)
            za_now = z[active]
            at_edge = (np.isclose(za_now, self.z_lo) | np.isclose(za_now, self.z_hi)).any(axis=1)
            r_new = r_all[active]
            hard_ok = np.abs(r_new[:, hard]).max(axis=1) <= loose
            small = np.abs(step[:, :k]).max(axis=1) < EFFORT_STEP_TOL
            done = hard_ok & ((np.abs(r_new).max(axis=1) <= loose) | (soft.any() & (small | ~moved)))
            ok[active[done]] = True
            # with effort rows the step does not depend on mu: a row no step size improved would
            # compute the same step again at the same point, so it stops here (not converged)
            # instead of repeating that identical work until max_iter
            stuck = ~done & ((~moved & soft.any()) | (at_edge & (since[active] >= STALL_ITERS)))
            active = active[~(done | stuck)]
        if active.size:
            ok[active] = np.abs(r_all[active][:, hard]).max(axis=1) <= loose if soft.any() else \
                np.abs(r_all[active]).max(axis=1) <= loose
        return z, lam, ok, it

    def solve(self, loads: MuscleLoads, *, z0: Array | None = None, heights: Array | None = None,
              max_iter: int = 40, homotopy: bool = True, polish: bool = True, lam0: Array | None = None,
              start_loads: MuscleLoads | None = None) -> Solution:
        """:meth:`_solve` with the linear algebra on one thread (:func:`one_blas_thread`)."""
        with one_blas_thread():
            return self._solve(loads, z0=z0, heights=heights, max_iter=max_iter, homotopy=homotopy, polish=polish,
                               lam0=lam0, start_loads=start_loads)

    def _solve(self, loads: MuscleLoads, *, z0: Array | None = None, heights: Array | None = None,
               max_iter: int = 40, homotopy: bool = True, polish: bool = True, lam0: Array | None = None,
               start_loads: MuscleLoads | None = None) -> Solution:
        """Resting poses for every row of ``loads`` (``n`` problems solved as one batch).

        From the untightened rest pose the tightness is switched on in :data:`HOMOTOPY_STEPS`
        steps (each corrected by Newton iterations), then the result is polished with the
        engine's exact lengths, moment arms and kinematics. With ``z0`` and ``start_loads`` the
        homotopy starts from those poses solved for those loads instead (continuation from
        another branch, e.g. backwards along a dose sweep).
        """
        self.warm_up()
        n = loads.n
        t0 = time.perf_counter()
        H0 = np.tile(self.heights0, (n, 1)) if heights is None else np.asarray(heights, dtype=float)
        if z0 is None:
            z = np.tile(self.rest_pose(), (n, 1))
            lam = np.full(n, getattr(self, "_lam_warm", 0.0))
        else:
            z = np.array(z0, dtype=float)
            lam = np.zeros(n) if lam0 is None else np.array(lam0, dtype=float)
        it_total = 0
        steps = HOMOTOPY_STEPS if (homotopy and (z0 is None or start_loads is not None)) else 1
        for j in range(1, steps + 1):
            step_loads = (_blend(loads, j / steps) if start_loads is None
                          else _between(start_loads, loads, j / steps))
            z, lam, _, it = self._newton(z, lam, step_loads, H0, max_iter=max_iter,
                                         loose=HOMOTOPY_LOOSE)
            it_total += it
        z, lam, ok, it = self._newton(z, lam, loads, H0, max_iter=max_iter)
        it_total += it
        slow = np.flatnonzero(~ok)
        if slow.size:
            # past a fold (the branch followed from the relaxed body ends) the body moves far to the
            # other branch: give those rows the iterations the bounded steps need to get there
            zs, ls, _, it = self._newton(z[slow], lam[slow], loads.rows(slow), H0[slow],
                                         max_iter=SLOW_ROW_ITER_FACTOR * max_iter)
            z[slow], lam[slow] = zs, ls
            it_total += it
        if polish:
            z, lam, it = self._polish(z, lam, loads, H0)
            it_total += it
        return self._finish(z, lam, loads, H0, it_total, time.perf_counter() - t0, exact=polish)

    def _polish(self, z: Array, lam: Array, loads: MuscleLoads, heights: Array,
                max_iter: int = 8) -> tuple[Array, Array, int]:
        """Newton iterations on the exact residual, with the fitted Jacobian."""
        r, _ = self.residual(z, lam, loads, heights, exact=False)
        J = self._jacobian(z, lam, loads, heights, r)
        z, lam, ok, it = self._newton(z, lam, loads, heights, max_iter=max_iter, exact=True, J_fixed=J)
        slow = np.flatnonzero(~ok)
        if slow.size:  # a second pass for the few rows that need it, with the Jacobian where they are now
            zs, ls, hs, lo = z[slow], lam[slow], heights[slow], loads.rows(slow)
            r, _ = self.residual(zs, ls, lo, hs, exact=False)
            J = self._jacobian(zs, ls, lo, hs, r)
            zs, ls, _, it2 = self._newton(zs, ls, lo, hs, max_iter=2 * max_iter, exact=True, J_fixed=J)
            z[slow], lam[slow] = zs, ls
            it += it2
        return z, lam, it

    def _finish(self, z: Array, lam: Array, loads: MuscleLoads, heights: Array, it: int, seconds: float,
                *, exact: bool) -> Solution:
        n, k = z.shape
        if self.eliminate:
            z = z.copy()
            z[:, self.tilt_col] = self.balanced_tilt(z, exact=exact)
        r, det = self.residual(z, lam, loads, heights, exact=exact)
        if self.eliminate:
            lam = det["lam"]
        resid = np.abs(r[:, ~self.soft]).max(axis=1)
        conv = resid <= 1.0
        stable = self._stable(z, lam, loads, heights)
        at_bound = np.isclose(z, self.z_lo) | np.isclose(z, self.z_hi)
        msgs = []
        for i in range(n):
            if at_bound[i].any():
                names = ", ".join(self.setup.free[j] for j in np.flatnonzero(at_bound[i]))
                conv[i] = False
                msgs.append(f"stopped at the edge of the scenario's range for {names}; no equilibrium inside it")
            elif not conv[i]:
                msgs.append(f"did not converge (largest generalized force {resid[i]:.3g} x tolerance)")
            elif self.setup.minimize and not stable[i]:
                conv[i] = False
                msgs.append("converged to a stationary point that is not a minimum")
            elif not stable[i]:
                msgs.append("converged; balanced, but not passively stable: postural control holds it")
            else:
                msgs.append("converged")
        q = self.q_of(z)
        k = self.k
        effort = {f: r[:, j] * self._tol()[j] for j, f in enumerate(self.setup.free) if self.soft[j]}
        return Solution(z=z, q=q, converged=conv, stable=stable, residual=resid, iterations=it, messages=msgs,
                        seconds=seconds, multiplier=lam if self.setup.constraint is not None else None,
                        effort=effort if k else {})

    def _stable(self, z: Array, lam: Array, loads: MuscleLoads, heights: Array) -> NDArray[np.bool_]:
        """Positive-definite Hessian of the passive energy (on the constraint's tangent space, if any)."""
        n, k = z.shape
        eye = np.eye(k)
        pts = np.concatenate([z[:, None, :], z[:, None, :] + FD_STEP * eye[None]], axis=1).reshape(-1, k)
        rep = np.repeat(np.arange(n), k + 1)
        G = self.gradient(pts, loads.rows(rep), heights[rep]).reshape(n, k + 1, k)
        H = (G[:, 1:] - G[:, :1]) / FD_STEP
        H = 0.5 * (H + np.swapaxes(H, 1, 2))
        if self.eliminate:
            # the whole body's lean about the ankles is held by the ankle torque: test the joints
            keep = [j for j in range(k) if j != self.tilt_col]
            r0, _ = self.residual(z, lam, loads, heights)
            J = self._jacobian(z, lam, loads, heights, r0)[:, keep][:, :, keep] * self._tol()[keep][None, :, None]
            return np.linalg.eigvalsh(0.5 * (J + np.swapaxes(J, 1, 2)))[:, 0] > 0
        if self.setup.constraint is not None:
            _, det = self.gradient(z, loads, heights, detail=True)
            _, d = self.constraint(z, det)
            # the constraint's own direction is held by its torque: test the others
            P = np.eye(k)[None] - np.einsum("ni,nj->nij", d, d) / np.maximum((d * d).sum(1), 1e-12)[:, None, None]
            H = P @ H @ P + np.einsum("ni,nj->nij", d, d)
        return np.linalg.eigvalsh(H)[:, 0] > 0


def _newton_step(J: Array, r: Array, minimize: bool, tol: Array, weights: Array) -> tuple[Array, Any]:
    """Newton step for each row and the merit function its line search decreases.

    Minimisation: the residual is the scaled gradient ``G / tol``; the Hessian ``tol * J`` is
    symmetrised and its eigenvalues floored positive, so the step goes downhill, and the merit is
    the Newton decrement ``G' H^-1 G`` with that modified Hessian (weighs stiff and soft
    directions alike). Root finding: weighted least-squares (Gauss-Newton) step, merit
    ``|w r|^2``; with unit weights it is Newton's step, with small weights on the effort rows it
    minimises the postural torques while the other equations hold.
    """
    if minimize:
        H = tol[None, :, None] * J
        H = 0.5 * (H + np.swapaxes(H, 1, 2))
        w, V = np.linalg.eigh(H)
        floor = np.maximum(1e-6, 1e-6 * np.abs(w).max(1, keepdims=True))
        w = np.maximum(np.abs(w), floor)
        G = r * tol
        step = -np.einsum("nij,nj,nkj,nk->ni", V, 1.0 / w, V, G)

        def decrement(rr: Array, rows: NDArray[np.intp]) -> Array:
            return np.einsum("ni,ni->n", np.einsum("nji,nj->ni", V[rows], rr * tol) ** 2, 1.0 / w[rows])

        return step, decrement
    out = np.empty((r.shape[0], J.shape[2]))
    A = weights[None, :, None] * J
    b = -weights[None, :] * r
    for i in range(len(r)):
        out[i] = np.linalg.lstsq(A[i], b[i], rcond=1e-12)[0]

    def norm2(rr: Array, rows: NDArray[np.intp]) -> Array:
        return ((weights[None, :] * rr) ** 2).sum(axis=1)

    return out, norm2


def _central(func: Any, u: Array) -> tuple[Array, Array]:
    """Values and central-difference derivatives of ``func`` (``(n, d) -> (n, F)``) in one call."""
    n, d = u.shape
    shifts = np.concatenate([np.zeros((1, d)), FD_STEP * np.eye(d), -FD_STEP * np.eye(d)])
    vals = func((u[:, None, :] + shifts[None]).reshape(-1, d)).reshape(n, 2 * d + 1, -1)
    return vals[:, 0], np.moveaxis((vals[:, 1:d + 1] - vals[:, d + 1:]) / (2 * FD_STEP), 1, 2)


def _blend(loads: MuscleLoads, t: float) -> MuscleLoads:
    """Tightness switched on to the fraction ``t`` (offsets, stiffness and tone interpolated)."""
    if t >= 1.0:
        return loads
    f, g = loads.fiber_length_scale, loads.gravity_scale
    return MuscleLoads(loads.length_offset * t, 1.0 + (loads.stiffness - 1.0) * t, loads.activation * t,
                       loads.force_scale, None if f is None else 1.0 + (f - 1.0) * t,
                       None if g is None else 1.0 + (g - 1.0) * t)


def _between(a: MuscleLoads, b: MuscleLoads, t: float) -> MuscleLoads:
    """Loads a fraction ``t`` of the way from ``a`` to ``b`` (row by row)."""
    if t >= 1.0:
        return b
    return MuscleLoads(a.length_offset + (b.length_offset - a.length_offset) * t,
                       a.stiffness + (b.stiffness - a.stiffness) * t, a.activation + (b.activation - a.activation) * t,
                       b.force_scale, _between_scale(a.fiber_length_scale, b.fiber_length_scale, t),
                       _between_scale(a.gravity_scale, b.gravity_scale, t))


def _between_scale(a: Array | None, b: Array | None, t: float) -> Array | None:
    if a is None and b is None:
        return None
    a1 = 1.0 if a is None else a
    b1 = 1.0 if b is None else b
    return np.asarray(a1 + (b1 - a1) * t, dtype=float)


def _repeat(loads: MuscleLoads, times: int) -> MuscleLoads:
    """Each row of ``loads`` repeated ``times`` times in a row (as ``np.repeat`` along rows)."""
    return loads.rows(np.repeat(np.arange(loads.n), times))
