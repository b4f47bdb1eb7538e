"""Forward kinematics over batches of poses, with forward-mode derivatives.

``q`` is ``(n_poses, n_coordinates)`` in ``model.coordinate_names`` order (rad, m). The value of
each dependent coordinate of a ``CoordinateCouplerConstraint`` is recomputed from its coupler,
whatever the caller put there.

Derivatives are propagated along *directions* ``dq`` of shape ``(n_poses, k, n_coordinates)``:
each body's angular velocity ``W[:, j]`` and origin velocity ``V[:, j]`` (ground frame) when the
coordinates move with speed ``dq[:, j]``. With the coupling vectors of :func:`coupling_vectors`
as directions, these are the total derivatives along the constraint manifold that OpenSim's
moment-arm solver uses.

The scalar functions (transform axes, couplers) are evaluated by compiled kernels
(:mod:`iliopsoas.mechanics._function_kernels`) over tables derived once per model; the NumPy
methods of :mod:`iliopsoas.mechanics.functions` remain the reference, and the tests check that
both give the same numbers bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from iliopsoas.mechanics.data import ModelData, model_data
from iliopsoas.mechanics.model import Coupler, Model

_FK_KERNEL: Any
_EVAL: Any
_COMPLETE: Any
_COUPLING: Any
try:  # optional compiled kernels; the NumPy code is the reference
    from iliopsoas.mechanics._function_kernels import complete_kernel as _COMPLETE
    from iliopsoas.mechanics._function_kernels import coupling_kernel as _COUPLING
    from iliopsoas.mechanics._function_kernels import eval_kernel as _EVAL
    from iliopsoas.mechanics._wrap_kernels import fk_kernel as _FK_KERNEL
except ImportError:  # pragma: no cover - numba missing
    _FK_KERNEL = _EVAL = _COMPLETE = _COUPLING = None
_KERNEL_MIN_POSES = 256
_BLOCK = 64  # poses per block of the function evaluator

Array = NDArray[np.float64]


def check_q(model: Model, q: object, name: str = "q") -> Array:
    """Validate a pose batch: returns a float ``(n_poses, n_coordinates)`` array (1-D = one pose)."""
    arr = np.asarray(q, dtype=float)
    if arr.ndim == 1:
        arr = arr[None, :]
    _check_width(model, arr, name)
    # a finite sum proves every entry finite without a temporary; an overflowing sum is rechecked
    if not np.isfinite(arr.sum()) and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def _check_width(model: Model, q: Array, name: str = "q") -> None:
    """``q`` must be 2-D with one column per coordinate: the compiled kernels index its columns
    without bounds checks, so a narrower array would be read (or written) out of bounds."""
    nc = len(model.coordinates)
    if q.ndim != 2 or q.shape[1] != nc:
        raise ValueError(
            f"{name} must have shape (n_poses, {nc}) for model {model.name!r} "
            f"(coordinates in model.coordinate_names order), got {q.shape}"
        )


def _derived(model: Model) -> ModelData:
    """The model's tables (:func:`~iliopsoas.mechanics.data.model_data`)."""
    return model_data(model)


def compiled_available() -> bool:
    """True when numba is installed, so that the compiled kernels can run."""
    return _FK_KERNEL is not None


def _check_out(out: Array, shape: tuple[int, ...], name: str) -> None:
    if out.shape != tuple(shape) or out.dtype != np.float64 or not out.flags.c_contiguous or not out.flags.writeable:
        layout = ("" if out.flags.c_contiguous else ", not C-contiguous") + ("" if out.flags.writeable else ", read-only")
        raise ValueError(f"{name} must be a writable C-contiguous float64 array of shape {tuple(shape)}, "
                         f"got {out.dtype} {out.shape}{layout}")


def _plain(a: Array) -> Array:
    """``a`` as a writable C-contiguous float64 array (the one layout the kernels are compiled for)."""
    if a.dtype == np.float64 and a.flags.c_contiguous and a.flags.writeable:
        return a
    return np.array(a, dtype=np.float64, order="C")


def complete_coordinates(model: Model, q: Array, *, out: Array | None = None, use_kernel: bool = True) -> Array:
    """Copy of ``q`` ``(n, n_coordinates)`` with dependent coordinates set by their couplers.

    ``out``: optional writable C-contiguous float64 array of the same shape to fill and return (a
    buffer reused across chunks costs no fresh memory). A ``q`` that is not 2-D with one column per
    coordinate raises ``ValueError``. ``use_kernel=False`` evaluates the couplers in NumPy (the
    reference; the compiled evaluator gives the same bits).
    """
    if out is None:
        out = np.array(q, dtype=float, order="C", copy=True)
    else:
        _check_out(out, np.shape(q), "out")
        np.copyto(out, q)
    _check_width(model, out)
    d = _derived(model)
    ordered = _couplers_in_order(model)
    if not ordered:
        return out
    if use_kernel and _COMPLETE is not None and d.coupler_table is not None:
        _COMPLETE(out, d.coupler_src, d.coupler_dest, *d.coupler_table.arrays)
        return out
    for cp in ordered:
        out[:, cp.dependent] = cp.scale_factor * cp.function.value(out[:, cp.independent])
    return out


def _couplers_in_order(model: Model) -> tuple[Coupler, ...]:
    """Couplers sorted so that a coupler whose independent coordinate is itself dependent runs later."""
    return _derived(model).ordered_couplers()


def coupling_vectors(model: Model, q: Array, coordinates: Sequence[int], *, out: Array | None = None,
                     use_kernel: bool = True) -> Array:
    """Directions ``C`` ``(n, k, n_coordinates)``: unit speed on each coordinate, couplers followed.

    This is the vector OpenSim's ``MomentArmSolver`` obtains with ``projectU``: for an independent
    coordinate, ``C = e_i + s f'(q_i) e_dep`` (chained through further couplers). For a dependent
    coordinate with one independent coordinate ``j``, ``C`` is ``C_j / (s f'(q_j))``.
    ``out``: optional writable C-contiguous float64 array ``(n, k, n_coordinates)`` to fill and
    return. ``q`` must be complete ``(n, n_coordinates)`` (``ValueError`` otherwise) and each entry
    of ``coordinates`` an index in ``0 .. n_coordinates - 1`` (``IndexError`` otherwise).
    """
    _check_width(model, q)
    n = q.shape[0]
    nc = len(model.coordinates)
    bad = [ci for ci in coordinates if not 0 <= int(ci) < nc]
    if bad:  # the compiled kernel writes column ``ci`` unchecked
        raise IndexError(f"coordinates: index {bad[0]} out of range 0..{nc - 1} for model {model.name!r}")
    if out is None:
        out = np.empty((n, len(coordinates), nc))
    else:
        _check_out(out, (n, len(coordinates), nc), "out")
    d = _derived(model)
    ordered = _couplers_in_order(model)
    if use_kernel and _COUPLING is not None and d.coupler_table is not None:
        row = {cp.dependent: a for a, cp in enumerate(ordered)}
        via = np.array([row.get(int(ci), -1) for ci in coordinates], dtype=np.int64)
        base = np.array([ordered[v].independent if v >= 0 else int(ci) for ci, v in zip(coordinates, via, strict=True)],
                        dtype=np.int64)
        _COUPLING(_plain(q), d.coupler_src, d.coupler_dest, *d.coupler_table.arrays, base, via,
                  np.empty(len(ordered)), out)
    else:
        out.fill(0.0)
        out[...] = _coupling_vectors_reference(model, q, coordinates, out)
    if d.euler_rotations.size:
        _angular_speed_directions(model, q, coordinates, out)
    return out


def _angular_speed_directions(model: Model, q: Array, coordinates: Sequence[int], out: Array) -> None:
    """Directions of the rotational coordinates of FreeJoint and BallJoint.

    OpenSim builds these joints on Simbody's Free and Ball mobilizers in Euler-angle mode, whose
    generalized speeds are the angular velocity of the child frame in the parent frame, expressed
    in the parent frame -- not the rates of the X-Y-Z body-fixed angles. A moment arm "about"
    such a coordinate is therefore the moment about the parent frame's axis ``e_k``: the direction
    is the angle rates that produce that angular velocity, ``E(q)^-1 e_k``, with
    ``E = [x, Rx(a) y, Rx(a) Ry(b) z]`` (couplers driven by these coordinates follow them).
    """
    trip = _derived(model).euler_rotations  # (m, 3) coordinate indices
    where = {int(c): (t, k) for t in range(trip.shape[0]) for k, c in enumerate(trip[t])}
    ordered = _couplers_in_order(model)
    for col, ci in enumerate(coordinates):
        hit = where.get(int(ci))
        if hit is None:
            continue
        t, k = hit
        idx = trip[t]
        a, b = q[:, idx[0]], q[:, idx[1]]
        E = np.zeros((q.shape[0], 3, 3))
        E[:, 0, 0] = 1.0
        E[:, 1, 1], E[:, 2, 1] = np.cos(a), np.sin(a)
        E[:, 0, 2], E[:, 1, 2], E[:, 2, 2] = np.sin(b), -np.sin(a) * np.cos(b), np.cos(a) * np.cos(b)
        e = np.zeros((q.shape[0], 3))
        e[:, k] = 1.0
        with np.errstate(all="ignore"):  # gimbal lock (cos b = 0): no finite direction, as in OpenSim
            rates = np.linalg.solve(E, e[:, :, None])[:, :, 0]
        out[:, col, :] = 0.0
        out[:, col, idx] = rates
        for cp in ordered:
            slope = cp.scale_factor * cp.function.derivative(q[:, cp.independent])
            out[:, col, cp.dependent] = slope * out[:, col, cp.independent]


def _coupling_vectors_reference(model: Model, q: Array, coordinates: Sequence[int], out: Array) -> Array:
    """The NumPy reference of :func:`coupling_vectors`; ``out`` holds zeros on entry."""
    n = q.shape[0]
    ordered = _couplers_in_order(model)
    dep_of = {cp.dependent: cp for cp in ordered}
    scale = np.ones((n, len(coordinates)))
    for k, ci in enumerate(coordinates):
        base = ci
        if ci in dep_of:
            cp = dep_of[ci]
            base = cp.independent
            slope = cp.scale_factor * cp.function.derivative(q[:, base])
            with np.errstate(divide="ignore"):
                scale[:, k] = np.where(slope != 0.0, 1.0 / np.where(slope != 0.0, slope, 1.0), np.nan)
        out[:, k, base] = 1.0
    # unit speed on each base coordinate, then the couplers in dependency order (all directions at once)
    for cp in ordered:
        slope = cp.scale_factor * cp.function.derivative(q[:, cp.independent])
        out[:, :, cp.dependent] = slope[:, None] * out[:, :, cp.independent]
    return out * scale[:, :, None]


def _axis_rotation(axis: Array, angle: Array) -> Array:
    """Rotation matrices ``(n, 3, 3)`` about the unit ``axis`` by ``angle`` ``(n,)`` (Rodrigues)."""
    kx = np.array(
        [[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]]
    )
    s = np.sin(angle)[:, None, None]
    c = np.cos(angle)[:, None, None]
    return np.eye(3) + s * kx + (1.0 - c) * (kx @ kx)


def _cross(a: Array, b: Array) -> Array:
    """Cross product over the last axis (broadcasting), faster than np.cross for small vectors."""
    out = np.empty(np.broadcast_shapes(a.shape, b.shape))
    out[..., 0] = a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1]
    out[..., 1] = a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2]
    out[..., 2] = a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    return out


def forward_kinematics(
    model: Model, q: Array, dq: Array | None = None, *, use_kernel: bool = True
) -> tuple[Array, Array, Array | None, Array | None]:
    """Body poses in ground for complete coordinates ``q`` ``(n, n_coordinates)``.

    Returns ``R`` ``(n, n_bodies, 3, 3)`` and ``p`` ``(n, n_bodies, 3)`` such that a point
    ``x_B`` fixed in body ``b`` is at ``R[:, b] @ x_B + p[:, b]`` in ground. With directions
    ``dq`` ``(n, k, n_coordinates)`` also returns, per direction, each body's angular velocity
    ``W`` ``(n, k, n_bodies, 3)`` and origin velocity ``V`` ``(n, k, n_bodies, 3)`` in ground,
    so that a body-fixed point at ground position ``g`` moves with ``V + W x (g - p)``;
    otherwise those are ``None``. ``q`` must already satisfy the couplers
    (see :func:`complete_coordinates`). Uses a compiled kernel for large batches when numba
    is installed; the NumPy implementation is the reference.
    """
    n = q.shape[0]
    if not use_kernel or _FK_KERNEL is None or n < _KERNEL_MIN_POSES or not model.joints:
        return _forward_kinematics_numpy(model, q, dq)
    nb = len(model.bodies)
    S, dF, axc = joint_axis_values(model, q, derivatives=dq is not None)
    if dq is None:
        k = 0
        dS = np.zeros((n, 0) + S.shape[1:])
    else:
        k = dq.shape[1]
        dS = np.where(axc >= 0, dF[:, None] * dq[:, :, axc], 0.0)
    data = _derived(model).joints
    R = np.zeros((n, nb, 3, 3))
    R[:, 0] = np.eye(3)
    p = np.zeros((n, nb, 3))
    W = np.zeros((n, k, nb, 3))
    V = np.zeros((n, k, nb, 3))
    _FK_KERNEL(S, dS, *data, R, p, W, V)
    if dq is None:
        return R, p, None, None
    return R, p, W, V


def joint_axis_values(model: Model, q: Array, *, derivatives: bool = True,
                      out: tuple[Array, Array] | None = None,
                      use_kernel: bool = True) -> tuple[Array, Array, NDArray[np.int64]]:
    """Transform-axis values ``S`` ``(n, J, 6)``, the derivatives ``dF`` ``(n, J, 6)`` of their
    functions at ``q`` (zero for constant axes, and everywhere unless ``derivatives``) and the
    coordinate of each non-constant axis ``axc`` ``(J, 6)`` (-1 for constants):
    ``dS = dF * dq[axc]`` along any direction ``dq``. ``out``: optional ``(S, dF)`` buffers
    (writable C-contiguous float64 arrays of those shapes) to fill and return."""
    _check_width(model, q)
    d = _derived(model)
    n = q.shape[0]
    J = len(model.joints)
    if out is not None:
        S, dF = out
        _check_out(S, (n, J, 6), "out[0]")
        _check_out(dF, (n, J, 6), "out[1]")
    if not use_kernel or _EVAL is None or d.axis_table is None:
        S0, dF0, axc = _joint_axis_values_reference(model, q, derivatives=derivatives)
        if out is None:
            return S0, dF0, axc
        S[...] = S0
        dF[...] = dF0
        return S, dF, axc
    if out is None:  # every entry is written by the evaluator (dF's as zeros first)
        S = np.empty((n, J, 6))
        dF = np.empty((n, J, 6))
    _EVAL(_plain(q), d.axis_src, d.axis_dest, d.axis_base, *d.axis_table.arrays, d.axis_groups,
          np.empty((d.n_axis_groups, _BLOCK), dtype=np.int64), S.reshape(n, 6 * J), dF.reshape(n, 6 * J), derivatives)
    return S, dF, d.axc.copy()


def _joint_axis_values_reference(model: Model, q: Array, *,
                                 derivatives: bool = True) -> tuple[Array, Array, NDArray[np.int64]]:
    """The NumPy reference of :func:`joint_axis_values`: one function at a time."""
    n = q.shape[0]
    J = len(model.joints)
    S = np.zeros((n, J, 6))
    dF = np.zeros((n, J, 6))
    axc = np.full((J, 6), -1, dtype=np.int64)
    for j, jt in enumerate(model.joints):
        for i in range(6):
            fn = jt.functions[i]
            ci = jt.axis_coordinates[i]
            if fn.is_constant() or ci < 0:
                S[:, j, i] = fn.value(np.zeros(n))
            else:
                S[:, j, i] = fn.value(q[:, ci])
                if derivatives:
                    dF[:, j, i] = fn.derivative(q[:, ci])
                axc[j, i] = ci
    return S, dF, axc


def body_coordinate_mask(model: Model) -> NDArray[np.bool_]:
    """``(n_bodies, n_coordinates)``: True where a coordinate drives a joint between ground and the body.

    Built once per model; the array is read-only.
    """
    return _derived(model).body_mask


def _forward_kinematics_numpy(
    model: Model, q: Array, dq: Array | None = None
) -> tuple[Array, Array, Array | None, Array | None]:
    """The NumPy reference of :func:`forward_kinematics`: same arguments, shapes and results."""
    n = q.shape[0]
    nb = len(model.bodies)
    R = np.zeros((n, nb, 3, 3))
    p = np.zeros((n, nb, 3))
    R[:, 0] = np.eye(3)
    k = 0 if dq is None else dq.shape[1]
    W = np.zeros((n, k, nb, 3)) if dq is not None else None
    V = np.zeros((n, k, nb, 3)) if dq is not None else None
    for jt in model.joints:
        rfm = np.broadcast_to(np.eye(3), (n, 3, 3)).copy()
        pfm = np.zeros((n, 3))
        wfm = np.zeros((n, k, 3)) if dq is not None else None  # angular velocity of M in F
        vfm = np.zeros((n, k, 3)) if dq is not None else None  # d p_FM, in F
        for i in range(6):
            fn = jt.functions[i]
            ci = jt.axis_coordinates[i]
            if fn.is_constant() or ci < 0:
                val = fn.value(np.zeros(n))
                dval = None
            else:
                val = fn.value(q[:, ci])
                dval = fn.derivative(q[:, ci])[:, None] * dq[:, :, ci] if dq is not None else None
            axis = jt.axes[i]
            if i < 3:
                if wfm is not None and dval is not None:
                    wfm += dval[:, :, None] * (rfm @ axis)[:, None, :]
                if not np.any(val):
                    continue
                rfm = rfm @ _axis_rotation(axis, val)
            else:
                pfm = pfm + val[:, None] * axis
                if vfm is not None and dval is not None:
                    vfm += dval[:, :, None] * axis
        par, ch = jt.parent, jt.child
        rgp, pgp = R[:, par], p[:, par]
        rgf = rgp @ jt.parent_rotation
        pgf = pgp + rgp @ jt.parent_translation
        rgm = rgf @ rfm
        pgm = pgf + np.einsum("nij,nj->ni", rgf, pfm)
        rgb = rgm @ jt.child_rotation.T
        R[:, ch] = rgb
        p[:, ch] = pgm - rgb @ jt.child_translation
        if W is not None and V is not None and wfm is not None and vfm is not None:
            wp, vp = W[:, :, par], V[:, :, par]
            rgf_t = np.swapaxes(rgf, 1, 2)
            wc = wp + wfm @ rgf_t  # rows: (R_GF w)^T
            vgm = vp + _cross(wp, (pgm - pgp)[:, None, :]) + vfm @ rgf_t
            W[:, :, ch] = wc
            V[:, :, ch] = vgm - _cross(wc, (pgm - p[:, ch])[:, None, :])
    return R, p, W, V


def body_transforms(model: Model, q: object, *, use_kernel: bool = True) -> tuple[Array, Array]:
    """Ground pose of every body for poses ``q`` ``(n_poses, n_coordinates)``.

    Returns ``R`` ``(n_poses, n_bodies, 3, 3)`` (body-to-ground rotation) and ``p``
    ``(n_poses, n_bodies, 3)`` (body origin in ground, m), bodies in ``model.body_names`` order.
    """
    qq = complete_coordinates(model, check_q(model, q), use_kernel=use_kernel)
    R, p, _, _ = forward_kinematics(model, qq, use_kernel=use_kernel)
    return R, p
