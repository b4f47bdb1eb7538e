"""Public batched functions: muscle lengths, moment arms, path points.

All take ``q`` of shape ``(n_poses, n_coordinates)`` in ``model.coordinate_names`` order (rad,
m; a 1-D ``q`` is one pose). Dependent coordinates are recomputed from their couplers. Large
batches are processed in chunks of ``chunk_size`` poses so memory stays bounded.

Moment arm sign is OpenSim's: ``r = -dL/dq`` (positive when tension drives the coordinate
in its positive direction).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, overload

import numpy as np
from numpy.typing import NDArray

from iliopsoas.mechanics._parallel import run_sliced
from iliopsoas.mechanics.data import model_data
from iliopsoas.mechanics.kinematics import (
    body_coordinate_mask,
    check_q,
    complete_coordinates,
    coupling_vectors,
    forward_kinematics,
    joint_axis_values,
)
from iliopsoas.mechanics.model import Model
from iliopsoas.mechanics.path import (
    CurrentPath,
    compute_path,
    current_path,
    path_moment_arms,
)
from iliopsoas.mechanics.smooth_path import smooth_moment_arms, smooth_path
from iliopsoas.mechanics.wrap import KERNEL_MIN_POSES

Array = NDArray[np.float64]

# poses per chunk: 1024 keeps the per-call work buffers (coupling vectors, joint-axis values) small
# enough for the allocator to recycle; at 2048 the moment-arm path page-faulted 2,100-2,700 fresh pages
# per 10,000-pose call (Rajagopal, 6 hip coordinates), ~3.5 ms on the benchmark VM
DEFAULT_CHUNK = 1024
FD_STEP = 1e-6  # central-difference step for exact=True (rad or m)


def _indices(items: Sequence[str] | Sequence[int], count: int, index_of: Callable[[str], int], what: str) -> list[int]:
    """Positions of ``items`` given by name (``index_of``) or by index (checked against ``count``)."""
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(index_of(item))
        else:
            if not 0 <= int(item) < count:
                raise KeyError(f"{what} index {item} out of range 0..{count - 1}")
            out.append(int(item))
    return out


def _muscle_ids(model: Model, muscles: Sequence[str] | Sequence[int] | None) -> list[int]:
    if muscles is None:
        return list(range(len(model.muscles)))
    return _indices(muscles, len(model.muscles), model.muscle_index, "muscle")


def _coord_ids(model: Model, coordinates: Sequence[str] | Sequence[int] | None) -> list[int]:
    if coordinates is None:
        return [i for i in range(len(model.coordinates)) if not model.dependent_mask[i]]
    return _indices(coordinates, len(model.coordinates), model.coordinate_index, "coordinate")


def _chunks(n: int, size: int) -> list[slice]:
    size = max(1, int(size))
    return [slice(i, min(i + size, n)) for i in range(0, n, size)] or [slice(0, 0)]


def muscle_lengths(
    model: Model,
    q: object,
    muscles: Sequence[str] | Sequence[int] | None = None,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    use_kernel: bool = True,
) -> Array:
    """Musculotendon path lengths (m), shape ``(n_poses, n_muscles)``.

    Parameters
    ----------
    model : the model.
    q : ``(n_poses, n_coordinates)`` coordinates in ``model.coordinate_names`` order.
    muscles : names or indices (default: all, in ``model.muscle_names`` order).
    """
    qq = check_q(model, q)
    L, _ = _paths(model, qq, _muscle_ids(model, muscles), None, chunk_size, use_kernel)
    return L


def moment_arms(
    model: Model,
    q: object,
    coordinates: Sequence[str] | Sequence[int] | None = None,
    exact: bool = False,
    *,
    muscles: Sequence[str] | Sequence[int] | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    use_kernel: bool = True,
) -> Array:
    """Moment arms (m), shape ``(n_poses, n_muscles, n_coords)``.

    ``exact=False`` (default) is OpenSim's ``computeMomentArm``: unit tension at the current
    path points (tangent points included) projected into generalized forces along the coupling
    vector of each coordinate. ``exact=True`` is the true ``-dL/dq`` (central difference with
    step ``FD_STEP``, dependent coordinates following their couplers). The two agree on paths
    without wrapping and differ by up to millimetres where a cylinder wrap is active.

    ``coordinates`` defaults to every independent coordinate.
    """
    qq = check_q(model, q)
    mids = _muscle_ids(model, muscles)
    cids = _coord_ids(model, coordinates)
    if not exact:
        _, r = _paths(model, qq, mids, cids, chunk_size, use_kernel)
        assert r is not None
        return r
    out = np.zeros((qq.shape[0], len(mids), len(cids)))
    for sl in _chunks(qq.shape[0], chunk_size):
        qc = complete_coordinates(model, qq[sl], use_kernel=use_kernel)
        out[sl] = _fd_moment_arms(model, qc, coupling_vectors(model, qc, cids, use_kernel=use_kernel), mids,
                                  use_kernel)
    return out


def lengths_and_moment_arms(
    model: Model,
    q: object,
    coordinates: Sequence[str] | Sequence[int] | None = None,
    *,
    muscles: Sequence[str] | Sequence[int] | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    use_kernel: bool = True,
) -> tuple[Array, Array]:
    """Both at once (one path computation): ``(n, n_muscles)`` and ``(n, n_muscles, n_coords)``."""
    qq = check_q(model, q)
    L, r = _paths(model, qq, _muscle_ids(model, muscles), _coord_ids(model, coordinates), chunk_size, use_kernel)
    assert r is not None
    return L, r


def _paths(model: Model, qq: Array, mids: list[int], cids: list[int] | None, chunk_size: int,
           use_kernel: bool) -> tuple[Array, Array | None]:
    """Lengths ``(n, M)`` and, when ``cids`` is given, OpenSim moment arms ``(n, M, k)``.

    Muscles the whole-model kernel handles (fixed, conditional and moving points, cylinder wraps) are computed
    in one compiled call per chunk; the others (and small batches) by the NumPy reference.
    ``use_kernel=False`` runs the NumPy reference for everything (the one switch between the two).
    """
    n = qq.shape[0]
    L = np.zeros((n, len(mids)))
    r = np.zeros((n, len(mids), len(cids))) if cids is not None else None
    if model.wrapping == "smooth" and use_kernel and _SMOOTH_KERNEL is not None:
        return _smooth_paths(model, qq, mids, cids, chunk_size, L, r)
    fused = use_kernel and n >= KERNEL_MIN_POSES and _MODEL_KERNEL is not None and model.wrapping == "opensim"
    eligible = model_data(model).kernel_muscles if fused else ()
    kcols = [k for k, mi in enumerate(mids) if fused and eligible[mi]]
    others = sorted(set(range(len(mids))) - set(kcols))
    # one work buffer per call, reused by every chunk: fresh memory costs a page fault per 4 KiB
    chunks = _chunks(n, chunk_size)
    size, nc = chunks[0].stop - chunks[0].start, qq.shape[1]
    q_work = np.empty((size, nc))
    C_work = np.empty((size, len(cids), nc)) if cids is not None else None
    for sl in chunks:
        m = sl.stop - sl.start
        qc = complete_coordinates(model, qq[sl], out=q_work[:m], use_kernel=use_kernel)
        C = (coupling_vectors(model, qc, cids, out=C_work[:m], use_kernel=use_kernel)
             if cids is not None and C_work is not None else None)
        if kcols:
            if len(kcols) == len(mids):
                _run_model_kernel(model, qc, C, mids, L[sl], None if r is None else r[sl])
            else:
                Lk = np.zeros((qc.shape[0], len(kcols)))
                rk = None if r is None else np.zeros((qc.shape[0], len(kcols), r.shape[2]))
                _run_model_kernel(model, qc, C, [mids[k] for k in kcols], Lk, rk)
                L[sl, kcols] = Lk
                if r is not None and rk is not None:
                    r[sl, kcols] = rk
        if others:
            R, p, W, V = forward_kinematics(model, qc, C, use_kernel=use_kernel)
            for k in others:
                if model.wrapping == "smooth":
                    sp = smooth_path(model, model.muscles[mids[k]], qc, R, p)
                    L[sl, k] = sp.length()
                    if r is not None and C is not None and W is not None and V is not None:
                        r[sl, k, :] = smooth_moment_arms(sp, R, p, W, V, C)
                    continue
                st = compute_path(model, model.muscles[mids[k]], qc, R, p, use_kernel=use_kernel)
                L[sl, k] = st.length()
                if r is not None and C is not None and W is not None and V is not None:
                    r[sl, k, :] = path_moment_arms(st, qc, W, V, C)
    return L, r


_MODEL_KERNEL: Any
try:  # optional compiled whole-model kernel; the NumPy path is the reference
    from iliopsoas.mechanics._wrap_kernels import model_kernel as _MODEL_KERNEL
except ImportError:  # pragma: no cover - numba missing
    _MODEL_KERNEL = None
_BLOCK = 16  # poses per parallel work item

_SMOOTH_KERNEL: Any
try:
    from iliopsoas.mechanics._smooth_kernels import smooth_model_kernel as _SMOOTH_KERNEL
except ImportError:  # pragma: no cover - numba missing
    _SMOOTH_KERNEL = None


def _smooth_paths(model: Model, qq: Array, mids: list[int], cids: list[int] | None, chunk_size: int, L: Array,
                  r: Array | None) -> tuple[Array, Array | None]:
    """Smooth-mode lengths and moment arms, one compiled call per chunk (every muscle)."""
    chunks = _chunks(qq.shape[0], chunk_size)
    size, nc = chunks[0].stop - chunks[0].start, qq.shape[1]
    q_work = np.empty((size, nc))
    C_work = np.empty((size, len(cids), nc)) if cids is not None else None
    for sl in chunks:
        m = sl.stop - sl.start
        qc = complete_coordinates(model, qq[sl], out=q_work[:m])
        C = coupling_vectors(model, qc, cids, out=C_work[:m]) if cids is not None and C_work is not None else None
        _run_smooth_kernel(model, qc, C, mids, L[sl], None if r is None else r[sl])
    return L, r


def moving_point_locations(model: Model, qc: Array, *, exact: bool) -> tuple[Array, Array]:
    """Body-frame locations ``(n, n_moving, 3)`` of every MovingPathPoint (``ModelData.moving_points``
    order) at the clamped coordinate, and their derivatives along the coordinate: OpenSim's (at the
    unclamped value) or, with ``exact``, the derivative of the location used (zero when clamped)."""
    pts = model_data(model).moving_points
    n = qc.shape[0]
    loc = np.zeros((n, len(pts), 3))
    dloc = np.zeros((n, len(pts), 3))
    for c, (i, j) in enumerate(pts):
        pt = model.muscles[i].points[j]
        v = qc[:, pt.coordinate]
        lo, hi = model.coordinates[pt.coordinate].range
        vc = np.clip(v, lo, hi)
        for a in range(3):
            loc[:, c, a] = pt.functions[a].value(vc)
            dloc[:, c, a] = pt.functions[a].derivative(v)
        if exact:
            dloc[(v < lo) | (v > hi), c] = 0.0
    return loc, dloc


def _kernel_inputs(model: Model, qc: Array, C: Array | None, mus: list[int], r_out: Array | None
                   ) -> tuple[Array, Array, Array, Array, NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """What both whole-model kernels read besides the path tables: the directions ``C`` and moment-arm
    output (empty when only lengths are asked), the joint-axis values and, per body, the directions
    that can move it (``aff_list[b, :n_aff[b]]``)."""
    n, nc = qc.shape
    if C is None:
        C = np.zeros((n, 0, nc))
    if r_out is None:
        r_out = np.zeros((n, len(mus), 0))
    S, dF, axc = joint_axis_values(model, qc, derivatives=C.shape[1] > 0)  # dF is read only along directions
    moved = (C != 0).any(axis=0)  # (k, nc); NaN counts as moving
    aff = (body_coordinate_mask(model).astype(np.int64) @ moved.T.astype(np.int64)) > 0  # (nb, k)
    n_aff = aff.sum(axis=1).astype(np.int64)
    aff_list = np.ascontiguousarray(np.argsort(~aff, axis=1, kind="stable").astype(np.int64))
    return C, r_out, S, dF, axc, n_aff, aff_list


def _run_smooth_kernel(model: Model, qc: Array, C: Array | None, mus: list[int], L_out: Array,
                       r_out: Array | None) -> None:
    C, r_out, S, dF, axc, n_aff, aff_list = _kernel_inputs(model, qc, C, mus, r_out)
    d = model_data(model)
    p_off, w_off, pint, pflt, wint, wflt = d.smooth_tables
    mus_arr = np.asarray(mus, dtype=np.int64)
    npts = p_off[mus_arr + 1] - p_off[mus_arr]
    nwr = w_off[mus_arr + 1] - w_off[mus_arr]
    cap = int((npts + 2 * nwr * (npts + 2 * nwr)).max(initial=0)) + 2
    mloc, mdloc = moving_point_locations(model, qc, exact=True)
    qc, S, dF, C, mloc, mdloc = (np.ascontiguousarray(a) for a in (qc, S, dF, C, mloc, mdloc))

    def call(s: slice, L: Array, r: Array) -> None:
        _SMOOTH_KERNEL(qc[s], S[s], dF[s], axc, C[s], d.joints, n_aff, aff_list, mus_arr, p_off, w_off,
                       pint, pflt, mloc[s], mdloc[s], wint, wflt, len(model.bodies), cap, int(npts.max(initial=0)),
                       _BLOCK, L[s], r[s])

    _into(L_out, r_out, call, qc.shape[0])


def _run_model_kernel(model: Model, qc: Array, C: Array | None, mus: list[int], L_out: Array,
                      r_out: Array | None) -> None:
    """Fill ``L_out`` ``(n, M)`` and ``r_out`` ``(n, M, k)`` (zeros on entry) for muscles ``mus``."""
    C, r_out, S, dF, axc, n_aff, aff_list = _kernel_inputs(model, qc, C, mus, r_out)
    d = model_data(model)
    p_off, w_off, *tab = d.path_tables
    mus_arr = np.asarray(mus, dtype=np.int64)
    max_points = int((p_off[mus_arr + 1] - p_off[mus_arr]).max(initial=0))
    max_wraps = int((w_off[mus_arr + 1] - w_off[mus_arr]).max(initial=0))
    joint = d.joints
    # MovingPathPoints in OpenSim's convention, as path.py: the derivative at the unclamped coordinate
    mloc, mdloc = moving_point_locations(model, qc, exact=False)
    qc, S, dF, C, mloc, mdloc = (np.ascontiguousarray(a) for a in (qc, S, dF, C, mloc, mdloc))

    def call(s: slice, L: Array, r: Array) -> None:
        _MODEL_KERNEL(qc[s], S[s], dF[s], axc, C[s], *joint, n_aff, aff_list, mus_arr,
                      p_off, *tab[:5], mloc[s], mdloc[s], w_off, *tab[5:], len(model.bodies), max_points,
                      max_wraps, _BLOCK, L[s], r[s])

    _into(L_out, r_out, call, qc.shape[0])


def _into(L_out: Array, r_out: Array, call: Callable[[slice, Array, Array], None], n: int) -> None:
    """Run a whole-model kernel ``call(poses, L, r)`` over the poses, one slice per thread, into
    ``L_out`` and ``r_out``: through C-ordered copies when they are views of another layout, so
    that one compiled version of the kernel serves every call."""
    L_c = L_out if L_out.flags.c_contiguous else np.ascontiguousarray(L_out)
    r_c = r_out if r_out.flags.c_contiguous else np.ascontiguousarray(r_out)
    run_sliced(lambda s: call(s, L_c, r_c), n, _BLOCK)
    if L_c is not L_out:
        L_out[...] = L_c
    if r_c is not r_out:
        r_out[...] = r_c


def _fd_moment_arms(model: Model, qc: Array, C: Array, mids: list[int], use_kernel: bool = True) -> Array:
    n, k, _ = C.shape
    out = np.zeros((n, len(mids), k))
    for j in range(k):
        lp, _ = _paths(model, complete_coordinates(model, qc + FD_STEP * C[:, j], use_kernel=use_kernel), mids, None, n,
                       use_kernel)
        lm, _ = _paths(model, complete_coordinates(model, qc - FD_STEP * C[:, j], use_kernel=use_kernel), mids, None, n,
                       use_kernel)
        out[:, :, j] = -(lp - lm) / (2.0 * FD_STEP)
    return out


def _path_muscle_id(model: Model, muscle: object) -> int:
    """Position of one muscle given by name or index; an unknown name lists the closest names."""
    import difflib
    import operator

    if isinstance(muscle, str):
        if muscle in model.muscle_names:
            return model.muscle_names.index(muscle)
        close = difflib.get_close_matches(muscle, model.muscle_names, n=3, cutoff=0.6)
        hint = f"; closest: {', '.join(close)}" if close else "; see model.muscle_names"
        raise KeyError(f"muscles: unknown muscle {muscle!r} in model {model.name!r}{hint}")
    if isinstance(muscle, bool):
        raise TypeError("muscles: expected muscle names or integer indices, got a bool")
    try:
        index = operator.index(muscle)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"muscles: expected muscle names or integer indices, got {type(muscle).__name__}") from None
    return _indices([index], len(model.muscles), model.muscle_index, "muscle")[0]


# A str is also a Sequence[str]; it matches the first overload, so the overlap is harmless.
@overload
def path_points(model: Model, q: object, muscles: str | int, *,  # type: ignore[overload-overlap]
                use_kernel: bool = True) -> CurrentPath: ...


@overload
def path_points(model: Model, q: object, muscles: Sequence[str | int], *,
                use_kernel: bool = True) -> dict[str, CurrentPath]: ...


def path_points(model: Model, q: object, muscles: object, *,
                use_kernel: bool = True) -> CurrentPath | dict[str, CurrentPath]:
    """Current paths (points in ground, wrap tangent points included) of one or several muscles.

    Parameters
    ----------
    model : Model
    q : array_like, ``(n_poses, n_coordinates)`` or ``(n_coordinates,)``
        Poses in ``model.coordinate_names`` order (rad, m); dependent coordinates are recomputed.
    muscles : str, int, or a sequence of them
        One muscle (name or index in ``model.muscle_names``) or several. Forward kinematics runs
        once per call, whatever the number of muscles.

    Returns
    -------
    CurrentPath or dict[str, CurrentPath]
        For one muscle its :class:`~iliopsoas.mechanics.path.CurrentPath`: ``ground``
        ``(n_poses, S, 3)`` m (NaN-padded), ``ids`` ``(n_poses, S)``, ``count`` ``(n_poses,)``, ...
        For a sequence (or 1-D integer array) a dict from muscle name to its ``CurrentPath``, in
        the order asked (a muscle asked twice appears once); ``S`` may differ between muscles.
        Tangent points of wrap ``w`` carry ids ``-1-2w`` and ``-2-2w`` (as in the OpenSim oracle);
        ordinary points carry their PathPointSet index.

    Raises
    ------
    KeyError
        Unknown muscle name (the message names it and the closest names) or index out of range,
        as :func:`muscle_lengths` and :func:`moment_arms` do.
    TypeError
        An entry of ``muscles`` is neither a name nor an integer.
    ValueError
        ``q`` has the wrong shape or holds NaN/inf.

    Examples
    --------
    >>> one = path_points(model, q, "psoas_r")                            # doctest: +SKIP
    >>> both = path_points(model, q, ["psoas_r", "iliacus_r"])            # doctest: +SKIP
    >>> both["psoas_r"].ground.shape == one.ground.shape                  # doctest: +SKIP
    True
    """
    qq = check_q(model, q)
    # a str (or bytes) is a Sequence too, but names one muscle; np.ndim would choke on a ragged list
    many = (isinstance(muscles, Sequence) and not isinstance(muscles, str | bytes)) or (
        isinstance(muscles, np.ndarray) and muscles.ndim > 0)
    if many:
        ids = list(dict.fromkeys(_path_muscle_id(model, m) for m in muscles))  # type: ignore[attr-defined]
    else:
        ids = [_path_muscle_id(model, muscles)]
    qc = complete_coordinates(model, qq, use_kernel=use_kernel)
    R, p, _, _ = forward_kinematics(model, qc, use_kernel=use_kernel)
    if model.wrapping == "smooth":
        paths = {model.muscle_names[i]: smooth_path(model, model.muscles[i], qc, R, p).current_path() for i in ids}
    else:
        paths = {model.muscle_names[i]: current_path(compute_path(model, model.muscles[i], qc, R, p,
                                                                  use_kernel=use_kernel)) for i in ids}
    return paths if many else paths[model.muscle_names[ids[0]]]
