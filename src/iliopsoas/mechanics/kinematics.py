"""Forward kinematics over batches of poses, with forward-mode derivatives.

``q`` is ``(n_poses, n_coordinates)`` in ``model.coordinate_names`` order (rad, m). The value of
each dependent coordinate of a ``CoordinateCouplerConstraint`` is recomputed from its coupler,
whatever the caller put there.

Derivatives are propagated along *directions* ``dq`` of shape ``(n_poses, k, n_coordinates)``:
each body's angular velocity ``W[:, j]`` and origin velocity ``V[:, j]`` (ground frame) when the
coordinates move with speed ``dq[:, j]``. With the coupling vectors of :func:`coupling_vectors`
as directions, these are the total derivatives along the constraint manifold that OpenSim's
moment-arm solver uses.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from iliopsoas.mechanics.model import Model

_FK_KERNEL: Any
try:  # optional compiled kernel; the NumPy code is the reference
    from iliopsoas.mechanics._wrap_kernels import fk_kernel as _FK_KERNEL
except ImportError:  # pragma: no cover - numba missing
    _FK_KERNEL = None
_KERNEL_MIN_POSES = 256

Array = NDArray[np.float64]


def check_q(model: Model, q: object, name: str = "q") -> Array:
    """Validate a pose batch: returns a float ``(n_poses, n_coordinates)`` array (1-D = one pose)."""
    arr = np.asarray(q, dtype=float)
    if arr.ndim == 1:
        arr = arr[None, :]
    nc = len(model.coordinates)
    if arr.ndim != 2 or arr.shape[1] != nc:
        raise ValueError(
            f"{name} must have shape (n_poses, {nc}) for model {model.name!r} "
            f"(coordinates in model.coordinate_names order), got {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def complete_coordinates(model: Model, q: Array) -> Array:
    """Copy of ``q`` ``(n, n_coordinates)`` with dependent coordinates set by their couplers."""
    out = np.array(q, dtype=float, copy=True)
    for cp in _couplers_in_order(model):
        out[:, cp.dependent] = cp.scale_factor * cp.function.value(out[:, cp.independent])
    return out


def _couplers_in_order(model: Model) -> list:
    """Couplers sorted so that a coupler whose independent coordinate is itself dependent runs later."""
    pending = list(model.couplers)
    done: list = []
    deps = {cp.dependent for cp in pending}
    resolved: set[int] = set()
    while pending:
        progressed = False
        for cp in list(pending):
            if cp.independent not in deps or cp.independent in resolved:
                done.append(cp)
                resolved.add(cp.dependent)
                pending.remove(cp)
                progressed = True
        if not progressed:
            raise ValueError(f"coordinate couplers of model {model.name!r} form a cycle")
    return done


def coupling_vectors(model: Model, q: Array, coordinates: Sequence[int]) -> Array:
    """Directions ``C`` ``(n, k, n_coordinates)``: unit speed on each coordinate, couplers followed.

    This is the vector OpenSim's ``MomentArmSolver`` obtains with ``projectU``: for an independent
    coordinate, ``C = e_i + s f'(q_i) e_dep`` (chained through further couplers). For a dependent
    coordinate with one independent coordinate ``j``, ``C`` is ``C_j / (s f'(q_j))``.
    """
    n = q.shape[0]
    nc = len(model.coordinates)
    out = np.zeros((n, len(coordinates), nc))
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
    model: Model, q: Array, dq: Array | None = None
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
    if _FK_KERNEL is None or n < _KERNEL_MIN_POSES or not model.joints:
        return _forward_kinematics_numpy(model, q, dq)
    nb = len(model.bodies)
    S, dF, axc = joint_axis_values(model, q, derivatives=dq is not None)
    if dq is None:
        k = 0
        dS = np.zeros((n, 0) + S.shape[1:])
    else:
        k = dq.shape[1]
        dS = np.where(axc >= 0, dF[:, None] * dq[:, :, axc], 0.0)
    data = _joint_arrays(model)
    R = np.zeros((n, nb, 3, 3))
    R[:, 0] = np.eye(3)
    p = np.zeros((n, nb, 3))
    W = np.zeros((n, k, nb, 3))
    V = np.zeros((n, k, nb, 3))
    _FK_KERNEL(S, dS, *data, R, p, W, V)
    if dq is None:
        return R, p, None, None
    return R, p, W, V


def joint_axis_values(model: Model, q: Array, *,
                      derivatives: bool = True) -> tuple[Array, Array, NDArray[np.int64]]:
    """Transform-axis values ``S`` ``(n, J, 6)``, the derivatives ``dF`` ``(n, J, 6)`` of their
    functions at ``q`` (zero for constant axes, and everywhere unless ``derivatives``) and the
    coordinate of each non-constant axis ``axc`` ``(J, 6)`` (-1 for constants):
    ``dS = dF * dq[axc]`` along any direction ``dq``."""
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
    """``(n_bodies, n_coordinates)``: True where a coordinate drives a joint between ground and the body."""
    mask = np.zeros((len(model.bodies), len(model.coordinates)), dtype=bool)
    for jt in model.joints:  # parents come before their children
        mask[jt.child] = mask[jt.parent]
        for ci in jt.axis_coordinates:
            if ci >= 0:
                mask[jt.child, ci] = True
    return mask


_JOINT_ARRAYS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _joint_arrays(model: Model) -> tuple:
    data = _JOINT_ARRAYS.get(model)
    if data is None:
        js = model.joints
        data = (
            np.array([j.axes for j in js], dtype=float),
            np.array([j.parent for j in js], dtype=np.int64),
            np.array([j.child for j in js], dtype=np.int64),
            np.array([j.parent_rotation for j in js], dtype=float),
            np.array([j.parent_translation for j in js], dtype=float),
            np.array([j.child_rotation for j in js], dtype=float),
            np.array([j.child_translation for j in js], dtype=float),
        )
        _JOINT_ARRAYS[model] = data
    return data


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


def body_transforms(model: Model, q: object) -> tuple[Array, Array]:
    """Ground pose of every body for poses ``q`` ``(n_poses, n_coordinates)``.

    Returns ``R`` ``(n_poses, n_bodies, 3, 3)`` (body-to-ground rotation) and ``p``
    ``(n_poses, n_bodies, 3)`` (body origin in ground, m), bodies in ``model.body_names`` order.
    """
    qq = complete_coordinates(model, check_q(model, q))
    R, p, _, _ = forward_kinematics(model, qq)
    return R, p
