"""Per-model tables, built once per model: :class:`ModelData`.

A :class:`~iliopsoas.mechanics.model.Model` describes a model; a :class:`ModelData` holds what
the evaluators derive from that description once and then reuse on every call (as MuJoCo's
``mjModel`` compiles an ``mjSpec`` or Pinocchio's ``Data`` accompanies its ``Model``): the
couplers in dependency order and their function table, the joint transform axes and their
function table, the joint frames as stacked arrays, which body each coordinate moves, and the
path points and wraps of every muscle as the flat tables the compiled path kernel reads.

``model_data(model)`` builds it on first use and keeps it with the model (the model is
immutable, so the tables never go stale); nothing writes into them after they are built.
Nothing in the engine keeps per-model state anywhere else.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from iliopsoas.mechanics.functions import FunctionTable, function_table
from iliopsoas.mechanics.model import Coupler, Model, Muscle

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class ModelData:
    """Tables derived once from one model.

    ``couplers``: the couplers in dependency order (None, with the reason in ``coupler_error``,
    when they form a cycle); ``coupler_src``/``coupler_dest`` their independent/dependent
    coordinates; ``coupler_table`` their functions including the scale factor.
    ``axis_*``: the non-constant joint transform axes (coordinate ``axis_src``, flat column
    ``axis_dest = 6 j + i`` of the ``(n, J, 6)`` axis values), the constant values ``axis_base``
    ``(6 J,)``, ``axc`` ``(J, 6)`` (coordinate per axis, -1 if constant) and ``axis_groups``
    (axes sharing a spline's knots and argument). ``joints``: the arrays the compiled forward
    kinematics reads (axes, parent, child, R_PF, p_PF, R_BM, p_BM). ``body_mask``
    ``(n_bodies, n_coordinates)``: which coordinates move each body. ``kernel_muscles``: per
    muscle, whether the compiled path kernel handles it. ``path_tables``: ``(p_off, w_off,
    *tables)``, every kernel muscle's points and wraps stacked in model order (muscle ``i``'s
    rows are ``p_off[i]:p_off[i+1]`` and ``w_off[i]:w_off[i+1]``). ``euler_rotations``: the
    three rotational coordinates of each FreeJoint and BallJoint, whose generalized speeds in
    OpenSim are angular velocities (see :func:`~iliopsoas.mechanics.kinematics.coupling_vectors`).
    """

    couplers: tuple[Coupler, ...] | None
    coupler_error: str
    coupler_src: IntArray
    coupler_dest: IntArray
    coupler_table: FunctionTable | None
    axis_src: IntArray
    axis_dest: IntArray
    axis_base: Array
    axis_table: FunctionTable | None
    axis_groups: IntArray
    n_axis_groups: int
    axc: IntArray
    body_mask: NDArray[np.bool_]
    joints: tuple[NDArray[Any], ...]
    kernel_muscles: tuple[bool, ...]
    path_tables: tuple[NDArray[Any], ...]
    euler_rotations: IntArray  # (m, 3): the rotational coordinates of each FreeJoint/BallJoint
    smooth_tables: tuple[NDArray[Any], ...]  # every muscle's points and wraps for the smooth kernel
    moving_points: tuple[tuple[int, int], ...]  # (muscle, point) of each MovingPathPoint, in column order

    def ordered_couplers(self) -> tuple[Coupler, ...]:
        """The couplers in dependency order; ``ValueError`` if they form a cycle."""
        if self.couplers is None:
            raise ValueError(self.coupler_error)
        return self.couplers


_BUILD_LOCK = threading.Lock()
_ATTR = "_model_data"


def model_data(model: Model) -> ModelData:
    """The model's :class:`ModelData`, built on first use and kept with the model."""
    d = model.__dict__.get(_ATTR)
    if d is None:
        with _BUILD_LOCK:
            d = model.__dict__.get(_ATTR)
            if d is None:
                d = build_model_data(model)
                object.__setattr__(model, _ATTR, d)
    return d


def build_model_data(model: Model) -> ModelData:
    """Derive every table of :class:`ModelData` from ``model`` (see :func:`model_data`)."""
    try:
        ordered: tuple[Coupler, ...] | None = model.coupler_order
        error = ""
    except ValueError as exc:  # raised again by whatever needs the couplers
        ordered, error = None, str(exc)
    cps = ordered or ()
    J = len(model.joints)
    axc = np.full((J, 6), -1, dtype=np.int64)
    base = np.zeros(J * 6)
    src: list[int] = []
    dest: list[int] = []
    fns = []
    for j, jt in enumerate(model.joints):
        for i in range(6):
            fn = jt.functions[i]
            ci = jt.axis_coordinates[i]
            if fn.is_constant() or ci < 0:
                base[6 * j + i] = fn.value(np.zeros(1))[0]
            else:
                axc[j, i] = ci
                src.append(ci)
                dest.append(6 * j + i)
                fns.append(fn)
    mask = np.zeros((len(model.bodies), len(model.coordinates)), dtype=bool)
    for jt in model.joints:  # parents come before their children
        mask[jt.child] = mask[jt.parent]
        for ci in jt.axis_coordinates:
            if ci >= 0:
                mask[jt.child, ci] = True
    # rows sorted by function type: the evaluator's per-row branch then follows a simple pattern
    order = sorted(range(len(fns)), key=lambda a: (type(fns[a]).__name__, src[a]))
    src, dest, fns = [src[a] for a in order], [dest[a] for a in order], [fns[a] for a in order]
    table = function_table(fns)
    groups, n_groups = table.spline_groups(src) if table is not None else (np.zeros(0, np.int64), 0)
    kernel = tuple(_kernel_handles(model, mu) for mu in model.muscles)
    data = ModelData(
        couplers=ordered,
        coupler_error=error,
        coupler_src=np.array([cp.independent for cp in cps], dtype=np.int64),
        coupler_dest=np.array([cp.dependent for cp in cps], dtype=np.int64),
        coupler_table=function_table([cp.function for cp in cps], [cp.scale_factor for cp in cps]),
        axis_src=np.array(src, dtype=np.int64),
        axis_dest=np.array(dest, dtype=np.int64),
        axis_base=base,
        axis_table=table,
        axis_groups=groups,
        n_axis_groups=n_groups,
        axc=axc,
        body_mask=mask,
        joints=_joint_arrays(model),
        kernel_muscles=kernel,
        path_tables=_path_tables(model, kernel),
        euler_rotations=np.array([jt.axis_coordinates[:3] for jt in model.joints
                                  if jt.type in ("FreeJoint", "BallJoint")], dtype=np.int64).reshape(-1, 3),
        smooth_tables=_smooth_tables(model),
        moving_points=tuple((i, j) for i, mu in enumerate(model.muscles)
                            for j, pt in enumerate(mu.points) if pt.kind == "moving"),
    )
    # the masks callers see are read-only; the kernels' tables stay writable arrays only because
    # numba compiles (and caches) a separate specialisation for read-only ones; nothing writes them
    for a in (data.axc, data.body_mask):
        a.setflags(write=False)
    return data


def _kernel_handles(model: Model, muscle: Muscle) -> bool:
    """True when the compiled path kernel reproduces this muscle's path: only surfaces whose
    algorithm it knows (fixed, conditional and moving points all run there)."""
    return all(model.wrap_objects[w.wrap_object].has_kernel for w in muscle.wraps)


def _joint_arrays(model: Model) -> tuple[NDArray[Any], ...]:
    js = model.joints
    if not js:
        return (np.zeros((0, 6, 3)), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 3, 3)),
                np.zeros((0, 3)), np.zeros((0, 3, 3)), np.zeros((0, 3)))
    return (
        np.array([j.axes for j in js], dtype=float),
        np.array([j.parent for j in js], dtype=np.int64),
        np.array([j.child for j in js], dtype=np.int64),
        np.array([j.parent_rotation for j in js], dtype=float),
        np.array([j.parent_translation for j in js], dtype=float),
        np.array([j.child_rotation for j in js], dtype=float),
        np.array([j.child_translation for j in js], dtype=float),
    )


def _muscle_tables(model: Model, muscle: Muscle, columns: list[int]) -> tuple[NDArray[Any], ...]:
    """One muscle's point table (body, location, conditional coordinate, range, MovingPathPoint
    column and coordinate) and wrap table (body, R_BW, p_BW, radius, length, quadrant axis and
    sign, point range, object, active). ``columns``: each point's column in
    ``ModelData.moving_points`` order (-1 for points that do not move)."""
    pts = muscle.points
    wos = [model.wrap_objects[w.wrap_object] for w in muscle.wraps]
    return (
        np.array([pt.body for pt in pts], dtype=np.int64),
        np.array([pt.location if pt.kind != "moving" else np.zeros(3) for pt in pts], dtype=float).reshape(-1, 3),
        np.array([pt.coordinate if pt.kind == "conditional" else -1 for pt in pts], dtype=np.int64),
        np.array([pt.range for pt in pts], dtype=float).reshape(-1, 2),
        np.array([[c, pt.coordinate if c >= 0 else -1] for pt, c in zip(pts, columns, strict=True)],
                 dtype=np.int64).reshape(-1, 2),
        np.array([wo.body for wo in wos], dtype=np.int64),
        np.array([wo.rotation for wo in wos], dtype=float).reshape(-1, 3, 3),
        np.array([wo.translation for wo in wos], dtype=float).reshape(-1, 3),
        np.array([wo.radius for wo in wos], dtype=float),
        np.array([wo.length for wo in wos], dtype=float),
        np.array([wo.wrap_axis for wo in wos], dtype=np.int64),
        np.array([wo.wrap_sign for wo in wos], dtype=np.int64),
        np.array([w.start for w in muscle.wraps], dtype=np.int64),
        np.array([w.end for w in muscle.wraps], dtype=np.int64),
        np.array([w.wrap_object for w in muscle.wraps], dtype=np.int64),
        np.array([wo.active for wo in wos], dtype=np.bool_),
    )


def _empty_tables() -> tuple[NDArray[Any], ...]:
    f, i, b = float, np.int64, np.bool_
    return (
        np.zeros(0, i), np.zeros((0, 3), f), np.zeros(0, i), np.zeros((0, 2), f), np.zeros((0, 2), i),
        np.zeros(0, i), np.zeros((0, 3, 3), f), np.zeros((0, 3), f), np.zeros(0, f), np.zeros(0, f),
        np.zeros(0, i), np.zeros(0, i), np.zeros(0, i), np.zeros(0, i), np.zeros(0, i), np.zeros(0, b),
    )


def _path_tables(model: Model, kernel: tuple[bool, ...]) -> tuple[NDArray[Any], ...]:
    """``(p_off, w_off, pbody, ploc, pcoord, prange, pmove, wbody, ...)`` (see :func:`_muscle_tables`;
    ``pmove`` ``(P, 2)``: MovingPathPoint column and coordinate, -1 otherwise)."""
    empty = _empty_tables()
    columns: list[list[int]] = []
    n_moving = 0
    for mu in model.muscles:  # the order of ModelData.moving_points
        columns.append([])
        for pt in mu.points:
            columns[-1].append(n_moving if pt.kind == "moving" else -1)
            n_moving += pt.kind == "moving"
    rows = [_muscle_tables(model, mu, cols) if ok else empty
            for mu, ok, cols in zip(model.muscles, kernel, columns, strict=True)]
    p_off = np.cumsum([0] + [r[0].shape[0] for r in rows]).astype(np.int64)
    w_off = np.cumsum([0] + [r[5].shape[0] for r in rows]).astype(np.int64)
    tables = tuple(np.ascontiguousarray(np.concatenate([r[i] for r in rows] + [empty[i]], axis=0))
                   for i in range(len(empty)))
    return (p_off, w_off, *tables)


def _smooth_tables(model: Model) -> tuple[NDArray[Any], ...]:
    """Every muscle's points and wraps, packed for the smooth kernel (see ``_smooth_kernels``):
    ``(p_off, w_off, pint, pflt, wint, wflt)``. ``pint`` ``(P, 4)``: body, conditional coordinate
    (-1), MovingPathPoint column (``moving_points`` order, -1), its coordinate (-1); ``pflt``
    ``(P, 5)``: location, range; ``wint`` ``(W, 8)``: surface kind, body, quadrant axis, sign,
    range start, end, wrap object, active; ``wflt`` ``(W, 15)``: R_BW row-major, p_BW, radius (then
    zeros) or the three semi-axes."""
    pts = [(i, j, pt) for i, mu in enumerate(model.muscles) for j, pt in enumerate(mu.points)]
    col: dict[tuple[int, int], int] = {}
    for i, j, pt in pts:
        if pt.kind == "moving":
            col[(i, j)] = len(col)
    pw = [w for mu in model.muscles for w in mu.wraps]
    wos = [model.wrap_objects[w.wrap_object] for w in pw]

    pint = np.array([[pt.body, pt.coordinate if pt.kind == "conditional" else -1, col.get((i, j), -1),
                      pt.coordinate if pt.kind == "moving" else -1] for i, j, pt in pts], dtype=np.int64)
    pflt = np.array([[*(pt.location if pt.kind != "moving" else np.zeros(3)), *pt.range] for _, _, pt in pts],
                    dtype=float)
    wint = np.array([[wo.smooth_code, wo.body, wo.wrap_axis, wo.wrap_sign, w.start, w.end,
                      w.wrap_object, int(wo.active)] for w, wo in zip(pw, wos, strict=True)], dtype=np.int64)
    wflt = np.array([[*np.asarray(wo.rotation).ravel(), *wo.translation, *wo.size_vector()] for wo in wos],
                    dtype=float)
    return (
        np.cumsum([0] + [len(mu.points) for mu in model.muscles]).astype(np.int64),
        np.cumsum([0] + [len(mu.wraps) for mu in model.muscles]).astype(np.int64),
        pint.reshape(-1, 4), pflt.reshape(-1, 5), wint.reshape(-1, 8), wflt.reshape(-1, 15),
    )
