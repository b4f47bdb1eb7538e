"""Public batched functions: muscle lengths, moment arms, path points.

All take ``q`` of shape ``(n_poses, n_coordinates)`` in ``model.coordinate_names`` order (rad,
m; a 1-D ``q`` is one pose). Dependent coordinates are recomputed from their couplers. Large
batches are processed in chunks of ``chunk_size`` poses so memory stays bounded.

Moment arm sign is OpenSim's: ``r = -dL/dq`` (positive when tension drives the coordinate
in its positive direction).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.typing import NDArray

from iliopsoas.mechanics.kinematics import (
    check_q,
    complete_coordinates,
    coupling_vectors,
    forward_kinematics,
)
from iliopsoas.mechanics.model import Model
from iliopsoas.mechanics.path import (
    CurrentPath,
    compiled_path,
    compute_path,
    current_path,
    kernel_eligible,
    path_moment_arms,
)
from iliopsoas.mechanics.wrap import KERNEL_MIN_POSES

Array = NDArray[np.float64]

DEFAULT_CHUNK = 2048
FD_STEP = 1e-6  # central-difference step for exact=True (rad or m)


def _muscle_ids(model: Model, muscles: Sequence[str] | Sequence[int] | None) -> list[int]:
    if muscles is None:
        return list(range(len(model.muscles)))
    out = []
    for m in muscles:
        if isinstance(m, str):
            out.append(model.muscle_index(m))
        else:
            if not 0 <= int(m) < len(model.muscles):
                raise KeyError(f"muscle index {m} out of range 0..{len(model.muscles) - 1}")
            out.append(int(m))
    return out


def _coord_ids(model: Model, coordinates: Sequence[str] | Sequence[int] | None) -> list[int]:
    if coordinates is None:
        return [i for i in range(len(model.coordinates)) if not model.dependent_mask[i]]
    out = []
    for c in coordinates:
        if isinstance(c, str):
            out.append(model.coordinate_index(c))
        else:
            if not 0 <= int(c) < len(model.coordinates):
                raise KeyError(f"coordinate index {c} out of range 0..{len(model.coordinates) - 1}")
            out.append(int(c))
    return out


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
    big = qq.shape[0] >= KERNEL_MIN_POSES
    mids = _muscle_ids(model, muscles)
    out = np.zeros((qq.shape[0], len(mids)))
    for sl in _chunks(qq.shape[0], chunk_size):
        qc = complete_coordinates(model, qq[sl])
        R, p, _, _ = forward_kinematics(model, qc)
        jobs = []
        for k, mi in enumerate(mids):
            mu = model.muscles[mi]
            if use_kernel and big and kernel_eligible(model, mu):
                jobs.append((k, mu))
            else:
                out[sl, k] = compute_path(model, mu, qc, R, p).length()
        for k, (Lk, _, _) in _run_compiled(model, jobs, qc, R, p, None, None):
            out[sl, k] = Lk
    return out


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
    big = qq.shape[0] >= KERNEL_MIN_POSES
    mids = _muscle_ids(model, muscles)
    cids = _coord_ids(model, coordinates)
    out = np.zeros((qq.shape[0], len(mids), len(cids)))
    for sl in _chunks(qq.shape[0], chunk_size):
        qc = complete_coordinates(model, qq[sl])
        C = coupling_vectors(model, qc, cids)
        if exact:
            out[sl] = _fd_moment_arms(model, qc, C, mids)
            continue
        R, p, W, V = forward_kinematics(model, qc, C)
        assert W is not None and V is not None
        jobs = []
        for k, mi in enumerate(mids):
            mu = model.muscles[mi]
            if use_kernel and big and kernel_eligible(model, mu):
                jobs.append((k, mu))
            else:
                out[sl, k, :] = path_moment_arms(compute_path(model, mu, qc, R, p), qc, W, V, C)
        for k, (_, rk, _) in _run_compiled(model, jobs, qc, R, p, W, V):
            out[sl, k, :] = rk
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
    big = qq.shape[0] >= KERNEL_MIN_POSES
    mids = _muscle_ids(model, muscles)
    cids = _coord_ids(model, coordinates)
    L = np.zeros((qq.shape[0], len(mids)))
    r = np.zeros((qq.shape[0], len(mids), len(cids)))
    for sl in _chunks(qq.shape[0], chunk_size):
        qc = complete_coordinates(model, qq[sl])
        C = coupling_vectors(model, qc, cids)
        R, p, W, V = forward_kinematics(model, qc, C)
        assert W is not None and V is not None
        jobs = []
        for k, mi in enumerate(mids):
            mu = model.muscles[mi]
            if use_kernel and big and kernel_eligible(model, mu):
                jobs.append((k, mu))
            else:
                st = compute_path(model, mu, qc, R, p)
                L[sl, k] = st.length()
                r[sl, k, :] = path_moment_arms(st, qc, W, V, C)
        for k, (Lk, rk, _) in _run_compiled(model, jobs, qc, R, p, W, V):
            L[sl, k], r[sl, k, :] = Lk, rk
    return L, r


_POOL: ThreadPoolExecutor | None = None


def _threads() -> int:
    env = os.environ.get("ILIOPSOAS_THREADS", "")
    return max(1, int(env)) if env.isdigit() else max(1, os.cpu_count() or 1)


def _run_compiled(model: Model, jobs: list, qc: Array, R: Array, p: Array,
                  W: Array | None, V: Array | None) -> list:
    """Run the compiled path kernel for ``jobs`` [(slot, muscle)], on threads (the kernel releases
    the GIL; muscles are independent). Returns [(slot, (L, r, None))] in job order."""
    global _POOL
    nt = _threads()
    if nt == 1 or len(jobs) < 2:
        return [(k, compiled_path(model, mu, qc, R, p, W, V)) for k, mu in jobs]
    if _POOL is None or _POOL._max_workers != nt:
        _POOL = ThreadPoolExecutor(max_workers=nt, thread_name_prefix="iliopsoas-path")
    futures = [(k, _POOL.submit(compiled_path, model, mu, qc, R, p, W, V)) for k, mu in jobs]
    return [(k, f.result()) for k, f in futures]


def _fd_moment_arms(model: Model, qc: Array, C: Array, mids: list[int]) -> Array:
    n, k, _ = C.shape
    out = np.zeros((n, len(mids), k))
    for j in range(k):
        lp = _lengths_of(model, complete_coordinates(model, qc + FD_STEP * C[:, j]), mids)
        lm = _lengths_of(model, complete_coordinates(model, qc - FD_STEP * C[:, j]), mids)
        out[:, :, j] = -(lp - lm) / (2.0 * FD_STEP)
    return out


def _lengths_of(model: Model, qc: Array, mids: list[int]) -> Array:
    R, p, _, _ = forward_kinematics(model, qc)
    out = np.zeros((qc.shape[0], len(mids)))
    for k, mi in enumerate(mids):
        mu = model.muscles[mi]
        if qc.shape[0] >= KERNEL_MIN_POSES and kernel_eligible(model, mu):
            out[:, k] = compiled_path(model, mu, qc, R, p)[0]
        else:
            out[:, k] = compute_path(model, mu, qc, R, p).length()
    return out


def path_points(model: Model, q: object, muscle: str | int) -> CurrentPath:
    """The current path of one muscle: ground points ``(n, S, 3)`` (NaN-padded) and their ids.

    Tangent points of wrap ``w`` carry ids ``-1-2w`` and ``-2-2w`` (as in the OpenSim oracle);
    ordinary points carry their PathPointSet index. See :class:`~iliopsoas.mechanics.path.CurrentPath`.
    """
    qq = check_q(model, q)
    mi = model.muscle_index(muscle) if isinstance(muscle, str) else _muscle_ids(model, [int(muscle)])[0]
    qc = complete_coordinates(model, qq)
    R, p, _, _ = forward_kinematics(model, qc)
    return current_path(compute_path(model, model.muscles[mi], qc, R, p))
