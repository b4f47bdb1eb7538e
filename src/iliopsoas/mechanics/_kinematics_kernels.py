"""Compiled (numba) forward kinematics of one pose for the whole-model path kernels.

:func:`body_frames` composes the joint transforms of pose ``k`` exactly as
:func:`iliopsoas.mechanics._wrap_kernels.fk_pose` does (the same operations, so the same body
poses to the last bit), and computes each body's angular velocity ``W`` and the velocity ``Vo``
of the point of the body at the ground origin (``V - W x p``) along the directions that can move
that body only (``aff_list[b, :n_aff[b]]``; the others stay zero). The path kernels read exactly
``W`` and ``Vo``: a unit tension at ground position ``g`` on body ``b`` projects to
``u . (Vo + W x g)``.
"""

from __future__ import annotations

import math

from numba import njit


@njit(cache=True, error_model="numpy")
def rotate_frame(rfm, rot, tmp, ang, ax0, ax1, ax2):  # type: ignore[no-untyped-def]
    """``rfm <- rfm @ rot`` with ``rot`` the rotation by ``ang`` about the unit axis ``(ax0, ax1, ax2)``
    (Rodrigues: I + s K + (1 - c) K^2, K the cross-product matrix of the axis); ``rot`` and ``tmp``
    are 3x3 workspaces. Shared by every compiled forward-kinematics loop so that they all give the
    same body poses to the last bit."""
    s, co = math.sin(ang), math.cos(ang)
    oc = 1.0 - co
    rot[0, 0] = 1.0 + oc * (-ax2 * ax2 - ax1 * ax1)
    rot[0, 1] = -s * ax2 + oc * (ax0 * ax1)
    rot[0, 2] = s * ax1 + oc * (ax0 * ax2)
    rot[1, 0] = s * ax2 + oc * (ax0 * ax1)
    rot[1, 1] = 1.0 + oc * (-ax2 * ax2 - ax0 * ax0)
    rot[1, 2] = -s * ax0 + oc * (ax1 * ax2)
    rot[2, 0] = -s * ax1 + oc * (ax0 * ax2)
    rot[2, 1] = s * ax0 + oc * (ax1 * ax2)
    rot[2, 2] = 1.0 + oc * (-ax1 * ax1 - ax0 * ax0)
    for a in range(3):
        for b in range(3):
            tmp[a, b] = rfm[a, 0] * rot[0, b] + rfm[a, 1] * rot[1, b] + rfm[a, 2] * rot[2, b]
    for a in range(3):
        for b in range(3):
            rfm[a, b] = tmp[a, b]


@njit(cache=True, error_model="numpy")
def active_range(active, m, start, end):  # type: ignore[no-untyped-def]
    """First and last active path point ``(jf, jr)`` of a wrap's point range (``start``/``end``
    1-based as OpenSim writes them, < 1 meaning the path's ends); ``-1`` where there is none."""
    ws = 0 if start < 1 else start - 1
    we = m - 1 if end < 1 else end - 1
    ws = min(ws, m - 1)
    we = min(we, m - 1)
    jf = -1
    for j in range(ws, we + 1):
        if active[j]:
            jf = j
            break
    jr = -1
    for j in range(we, ws - 1, -1):
        if active[j]:
            jr = j
            break
    return jf, jr


@njit(cache=True, error_model="numpy", _nrt=False)  # type: ignore[call-overload]
def body_frames(k, S, dF, axc, C, axes, parent, child, rpf, ppf, rbm, pbm, n_aff, aff_list,  # type: ignore[no-untyped-def]
                R, p, W, Vo, rfm, rot, tmp, rgf, rgm, wfm, vfm):
    """Pose ``k``: ``R[0]`` ``(nb, 3, 3)``, ``p[0]`` ``(nb, 3)`` (``R[0, 0]`` = identity on entry), and,
    with directions ``C[k]`` ``(kd, n_coordinates)``, ``W``/``Vo`` ``(nb, kd, 3)`` (zero on first
    entry; entries of directions that cannot move a body are never written)."""
    J = S.shape[1]
    kd = C.shape[1]
    for j in range(J):
        ch = child[j]
        pa = parent[j]
        na = n_aff[ch] if kd > 0 else 0
        for a in range(3):
            for b in range(3):
                rfm[a, b] = 1.0 if a == b else 0.0
        for jj in range(na):
            kk = aff_list[ch, jj]
            for a in range(3):
                wfm[kk, a] = 0.0
                vfm[kk, a] = 0.0
        for i in range(3):
            ax0, ax1, ax2 = axes[j, i, 0], axes[j, i, 1], axes[j, i, 2]
            c = axc[j, i]
            if c >= 0 and na > 0:
                ra = (rfm[0, 0] * ax0 + rfm[0, 1] * ax1 + rfm[0, 2] * ax2,
                      rfm[1, 0] * ax0 + rfm[1, 1] * ax1 + rfm[1, 2] * ax2,
                      rfm[2, 0] * ax0 + rfm[2, 1] * ax1 + rfm[2, 2] * ax2)
                f = dF[k, j, i]
                for jj in range(na):
                    kk = aff_list[ch, jj]
                    d = f * C[k, kk, c]
                    if d != 0.0:
                        wfm[kk, 0] += d * ra[0]
                        wfm[kk, 1] += d * ra[1]
                        wfm[kk, 2] += d * ra[2]
            ang = S[k, j, i]
            if ang == 0.0:
                continue
            rotate_frame(rfm, rot, tmp, ang, ax0, ax1, ax2)
        pfm0 = pfm1 = pfm2 = 0.0
        for i in range(3, 6):
            v = S[k, j, i]
            pfm0 += v * axes[j, i, 0]
            pfm1 += v * axes[j, i, 1]
            pfm2 += v * axes[j, i, 2]
            c = axc[j, i]
            if c >= 0:
                f = dF[k, j, i]
                for jj in range(na):
                    kk = aff_list[ch, jj]
                    d = f * C[k, kk, c]
                    vfm[kk, 0] += d * axes[j, i, 0]
                    vfm[kk, 1] += d * axes[j, i, 1]
                    vfm[kk, 2] += d * axes[j, i, 2]
        for a in range(3):
            for b in range(3):
                rgf[a, b] = R[0, pa, a, 0] * rpf[j, 0, b] + R[0, pa, a, 1] * rpf[j, 1, b] + R[0, pa, a, 2] * rpf[j, 2, b]
        pgf0 = p[0, pa, 0] + R[0, pa, 0, 0] * ppf[j, 0] + R[0, pa, 0, 1] * ppf[j, 1] + R[0, pa, 0, 2] * ppf[j, 2]
        pgf1 = p[0, pa, 1] + R[0, pa, 1, 0] * ppf[j, 0] + R[0, pa, 1, 1] * ppf[j, 1] + R[0, pa, 1, 2] * ppf[j, 2]
        pgf2 = p[0, pa, 2] + R[0, pa, 2, 0] * ppf[j, 0] + R[0, pa, 2, 1] * ppf[j, 1] + R[0, pa, 2, 2] * ppf[j, 2]
        for a in range(3):
            for b in range(3):
                rgm[a, b] = rgf[a, 0] * rfm[0, b] + rgf[a, 1] * rfm[1, b] + rgf[a, 2] * rfm[2, b]
        pgm0 = pgf0 + rgf[0, 0] * pfm0 + rgf[0, 1] * pfm1 + rgf[0, 2] * pfm2
        pgm1 = pgf1 + rgf[1, 0] * pfm0 + rgf[1, 1] * pfm1 + rgf[1, 2] * pfm2
        pgm2 = pgf2 + rgf[2, 0] * pfm0 + rgf[2, 1] * pfm1 + rgf[2, 2] * pfm2
        for a in range(3):
            for b in range(3):
                R[0, ch, a, b] = rgm[a, 0] * rbm[j, b, 0] + rgm[a, 1] * rbm[j, b, 1] + rgm[a, 2] * rbm[j, b, 2]
        p[0, ch, 0] = pgm0 - (R[0, ch, 0, 0] * pbm[j, 0] + R[0, ch, 0, 1] * pbm[j, 1] + R[0, ch, 0, 2] * pbm[j, 2])
        p[0, ch, 1] = pgm1 - (R[0, ch, 1, 0] * pbm[j, 0] + R[0, ch, 1, 1] * pbm[j, 1] + R[0, ch, 1, 2] * pbm[j, 2])
        p[0, ch, 2] = pgm2 - (R[0, ch, 2, 0] * pbm[j, 0] + R[0, ch, 2, 1] * pbm[j, 1] + R[0, ch, 2, 2] * pbm[j, 2])
        # velocities: W_c = W_p + R_GF w_FM; the point of the child at the ground origin moves with
        # Vo_c = Vo_p + (W_p - W_c) x p_GM + R_GF v_FM (W_p, Vo_p zero along directions not moving the parent)
        for jj in range(na):
            kk = aff_list[ch, jj]
            wpx, wpy, wpz = W[pa, kk, 0], W[pa, kk, 1], W[pa, kk, 2]
            wcx = wpx + rgf[0, 0] * wfm[kk, 0] + rgf[0, 1] * wfm[kk, 1] + rgf[0, 2] * wfm[kk, 2]
            wcy = wpy + rgf[1, 0] * wfm[kk, 0] + rgf[1, 1] * wfm[kk, 1] + rgf[1, 2] * wfm[kk, 2]
            wcz = wpz + rgf[2, 0] * wfm[kk, 0] + rgf[2, 1] * wfm[kk, 1] + rgf[2, 2] * wfm[kk, 2]
            dx, dy, dz = wpx - wcx, wpy - wcy, wpz - wcz
            Vo[ch, kk, 0] = (Vo[pa, kk, 0] + (dy * pgm2 - dz * pgm1)
                             + rgf[0, 0] * vfm[kk, 0] + rgf[0, 1] * vfm[kk, 1] + rgf[0, 2] * vfm[kk, 2])
            Vo[ch, kk, 1] = (Vo[pa, kk, 1] + (dz * pgm0 - dx * pgm2)
                             + rgf[1, 0] * vfm[kk, 0] + rgf[1, 1] * vfm[kk, 1] + rgf[1, 2] * vfm[kk, 2])
            Vo[ch, kk, 2] = (Vo[pa, kk, 2] + (dx * pgm1 - dy * pgm0)
                             + rgf[2, 0] * vfm[kk, 0] + rgf[2, 1] * vfm[kk, 1] + rgf[2, 2] * vfm[kk, 2])
            W[ch, kk, 0] = wcx
            W[ch, kk, 1] = wcy
            W[ch, kk, 2] = wcz


@njit(cache=True, error_model="numpy")
def add_tension(r, k, t, ux, uy, uz, gax, gay, gaz, gbx, gby, gbz, ba, bb, n_aff, aff_list, Wt, Vo):  # type: ignore[no-untyped-def]
    """Moment arms ``r[k, t]`` of a unit tension ``u`` pulling the point at ground position ``ga`` on
    body ``ba`` towards ``gb`` on body ``bb``: ``u . (Vo + W x ga)`` added along each direction that
    moves ``ba``, ``u . (Vo + W x gb)`` taken off along each that moves ``bb`` (written as
    ``(g x u) . W``). Shared by both modes' whole-model kernels, so they sum the same way."""
    ma0, ma1, ma2 = gay * uz - gaz * uy, gaz * ux - gax * uz, gax * uy - gay * ux
    mb0, mb1, mb2 = gby * uz - gbz * uy, gbz * ux - gbx * uz, gbx * uy - gby * ux
    for jj in range(n_aff[ba]):
        j = aff_list[ba, jj]
        r[k, t, j] += (ux * Vo[ba, j, 0] + uy * Vo[ba, j, 1] + uz * Vo[ba, j, 2]
                       + ma0 * Wt[ba, j, 0] + ma1 * Wt[ba, j, 1] + ma2 * Wt[ba, j, 2])
    for jj in range(n_aff[bb]):
        j = aff_list[bb, jj]
        r[k, t, j] -= (ux * Vo[bb, j, 0] + uy * Vo[bb, j, 1] + uz * Vo[bb, j, 2]
                       + mb0 * Wt[bb, j, 0] + mb1 * Wt[bb, j, 1] + mb2 * Wt[bb, j, 2])
