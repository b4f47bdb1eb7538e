"""Compiled (numba) whole-model kernel: forward kinematics and every muscle's path, pose by pose.

One call computes, for a batch of poses, the body poses (and, with directions, the body
velocities along the coupling vectors) and then the length and OpenSim moment arms of every
requested muscle, without leaving compiled code: no Python loop over muscles, no
``(n, k, n_bodies, 3)`` velocity arrays in memory, and poses spread over the cores with
``prange`` (blocks of poses per thread, each thread with its own small workspaces).

It is a scheduling of the per-pose kernels of :mod:`iliopsoas.mechanics._wrap_kernels`
(``fk_pose`` and ``muscle_path``, which the tests compare with the NumPy reference), so it
returns the same numbers as the per-muscle kernel to the last bit; the moment-arm contraction
is the same expression, skipping only (body, direction) pairs whose velocities are exactly zero.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from iliopsoas.mechanics._wrap_kernels import _cross, _query, fk_pose, muscle_path


@njit(cache=True, parallel=True)
def model_kernel(q, S, dF, axc, C, axes, parent, child, rpf, ppf, rbm, pbm, aff,  # type: ignore[no-untyped-def]
                 mus, p_off, pbody, ploc, pcoord, prange_,
                 w_off, wbody, wR, wp, wrad, wlen, waxis, wsign, wstart, wend, wobj, wact,
                 n_bodies, max_points, max_wraps, block, L, r):
    """Lengths ``L`` ``(n, M)`` and moment arms ``r`` ``(n, M, k)`` of muscles ``mus`` ``(M,)``.

    ``q`` ``(n, n_coordinates)`` complete coordinates; ``S`` ``(n, J, 6)`` joint transform-axis
    values; ``dF`` ``(n, J, 6)`` the derivatives of the axis functions at ``q``; ``axc`` ``(J, 6)``
    the coordinate of each non-constant axis (-1 otherwise); ``C`` ``(n, k, n_coordinates)``
    coupling vectors (k = 0: lengths only); ``aff`` ``(n_bodies, k)`` True where a body can move
    along a direction. Muscle ``i``'s points are rows ``p_off[i]:p_off[i+1]`` of the point
    tables and its wraps rows ``w_off[i]:w_off[i+1]`` of the wrap tables (see path.py).
    """
    n = q.shape[0]
    J = S.shape[1]
    kd = C.shape[1]
    nm = mus.shape[0]
    smax = max_points + 2 * max_wraps + 2
    nwb = max(max_wraps, 1)
    nblk = (n + block - 1) // block
    for bi in prange(nblk):
        k0 = bi * block
        k1 = min(n, k0 + block)
        Rl = np.zeros((1, n_bodies, 3, 3))
        for a in range(3):
            Rl[0, 0, a, a] = 1.0
        pl = np.zeros((1, n_bodies, 3))
        Wl = np.zeros((1, kd, n_bodies, 3))
        Vl = np.zeros((1, kd, n_bodies, 3))
        dSl = np.zeros((1, kd, J, 6))
        rfm = np.empty((3, 3))
        rot = np.empty((3, 3))
        tmp = np.empty((3, 3))
        rgf = np.empty((3, 3))
        rgm = np.empty((3, 3))
        wfm = np.empty((kd, 3))
        vfm = np.empty((kd, 3))
        ids = np.empty(smax, dtype=np.int64)
        body = np.empty(smax, dtype=np.int64)
        loc = np.empty((smax, 3))
        g = np.empty((smax, 3))
        wl = np.empty(smax)
        active = np.empty(max(max_points, 1), dtype=np.bool_)
        cache_g = np.empty((nwb, 2, 3))
        cache_ok = np.empty((nwb, 2), dtype=np.bool_)
        results = np.zeros(nwb, dtype=np.int64)
        order = np.arange(nwb)
        for k in range(k0, k1):
            for kk in range(kd):
                for j in range(J):
                    for i in range(6):
                        c = axc[j, i]
                        dSl[0, kk, j, i] = dF[k, j, i] * C[k, kk, c] if c >= 0 else 0.0
            fk_pose(k, 0, S, dSl, axes, parent, child, rpf, ppf, rbm, pbm, Rl, pl, Wl, Vl,
                    rfm, rot, tmp, rgf, rgm, wfm, vfm)
            for t in range(nm):
                mi = mus[t]
                a0, a1 = p_off[mi], p_off[mi + 1]
                b0, b1 = w_off[mi], w_off[mi + 1]
                length, cnt = muscle_path(
                    k, 0, q, Rl, pl, pbody, ploc, pcoord, prange_,
                    wbody, wR, wp, wrad, wlen, waxis, wsign, wstart, wend, wobj, wact, a0, a1 - a0, b0, b1 - b0,
                    ids, body, loc, g, wl, active, cache_g, cache_ok, results, order)
                L[k, t] = length
                if kd == 0:
                    continue
                for s in range(cnt - 1):
                    ba, bb = body[s], body[s + 1]
                    if ba == bb:
                        continue
                    ga = _query(s, ids, g, cache_g, cache_ok)
                    gb = _query(s + 1, ids, g, cache_g, cache_ok)
                    dx, dy, dz = gb[0] - ga[0], gb[1] - ga[1], gb[2] - ga[2]
                    dist = math.sqrt(dx * dx + dy * dy + dz * dz)
                    ux, uy, uz = dx / dist, dy / dist, dz / dist
                    aa = (g[s, 0] - pl[0, ba, 0], g[s, 1] - pl[0, ba, 1], g[s, 2] - pl[0, ba, 2])
                    ab = (g[s + 1, 0] - pl[0, bb, 0], g[s + 1, 1] - pl[0, bb, 1], g[s + 1, 2] - pl[0, bb, 2])
                    for j in range(kd):
                        if not (aff[ba, j] or aff[bb, j]):
                            continue
                        ca = _cross(Wl[0, j, ba, 0], Wl[0, j, ba, 1], Wl[0, j, ba, 2], aa[0], aa[1], aa[2])
                        cb = _cross(Wl[0, j, bb, 0], Wl[0, j, bb, 1], Wl[0, j, bb, 2], ab[0], ab[1], ab[2])
                        Dx = Vl[0, j, ba, 0] + ca[0] - Vl[0, j, bb, 0] - cb[0]
                        Dy = Vl[0, j, ba, 1] + ca[1] - Vl[0, j, bb, 1] - cb[1]
                        Dz = Vl[0, j, ba, 2] + ca[2] - Vl[0, j, bb, 2] - cb[2]
                        r[k, t, j] += ux * Dx + uy * Dy + uz * Dz
