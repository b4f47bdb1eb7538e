"""Muscle paths over batches of poses: current path points, wrapping, length, OpenSim moment arm.

For each muscle the *current path* of every pose is held in padded arrays of ``S`` slots
(``S = n_points + 2 n_wraps``): ground position, body, position in the body frame, an id (the
index into the PathPointSet, or ``-1-2w`` / ``-2-2w`` for the first/second tangent point of the
muscle's ``w``-th PathWrap, as in the OpenSim oracle) and the on-surface length stored on the
second tangent point. Inactive conditional points are dropped, and tangent points are inserted
per pose with vectorised gathers, so there is no Python loop over poses.

Semantics follow OpenSim 4.6 ``GeometryPath`` (see ``docs/mechanics.md``): the wrap range, the
choice of the first mandatory wrap or else the smallest length increase, up to 8 passes with
several wraps, the length as a sum of chords plus on-surface lengths, and the moment arm as the
unit tension projected through the body Jacobians along the coupling vector.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from iliopsoas.mechanics import wrap as wrapmod
from iliopsoas.mechanics.model import Model, Muscle, WrapObject

Array = NDArray[np.float64]
IntArray = NDArray[np.int_]

_COND_TOL = 1e-5  # ConditionalPathPoint activity tolerance in OpenSim


@dataclass
class CurrentPath:
    """The current path of one muscle for ``n`` poses (``S`` padded slots).

    ``ground`` ``(n, S, 3)`` m (NaN in unused slots), ``body`` ``(n, S)``, ``local`` ``(n, S, 3)``
    (position in the body frame), ``ids`` ``(n, S)`` (PathPointSet index, or ``-1-2w``/``-2-2w``
    for tangent points of wrap ``w``, ``-99`` padding), ``wrap_length`` ``(n, S)`` (on the second
    tangent point), ``count`` ``(n,)`` number of used slots, ``length`` ``(n,)``.
    """

    ground: Array
    body: IntArray
    local: Array
    ids: IntArray
    wrap_length: Array
    count: IntArray
    length: Array


def _moving_locations(muscle: Muscle, model: Model, q: Array) -> tuple[Array, Array]:
    """Body-frame locations ``(n, m, 3)`` of every point and ``d loc / d q_c`` ``(n, m, 3)``."""
    n = q.shape[0]
    m = len(muscle.points)
    loc = np.empty((n, m, 3))
    dloc = np.zeros((n, m, 3))
    for i, pt in enumerate(muscle.points):
        if pt.kind == "moving":
            qc = q[:, pt.coordinate]
            lo, hi = model.coordinates[pt.coordinate].range
            qcl = np.clip(qc, lo, hi)
            for a in range(3):
                loc[:, i, a] = pt.functions[a].value(qcl)
                dloc[:, i, a] = pt.functions[a].derivative(qc)
        else:
            loc[:, i, :] = pt.location
    return loc, dloc


def _gather(a: Array, src: IntArray) -> Array:
    """``a[i, src[i, j], ...]`` for a per-pose slot permutation ``src`` ``(n, S)``."""
    if a.ndim == 2:
        return np.take_along_axis(a, src, axis=1)
    return np.take_along_axis(a, src[:, :, None], axis=1)


class _PathState:
    """Mutable per-call workspace for one muscle's current path (never stored on the model)."""

    def __init__(self, model: Model, muscle: Muscle, q: Array, R: Array, p: Array) -> None:
        self.model = model
        self.muscle = muscle
        n = q.shape[0]
        m = len(muscle.points)
        self.S = m + 2 * len(muscle.wraps)
        S = self.S
        loc, self.dloc_pp = _moving_locations(muscle, model, q)
        active = np.ones((n, m), dtype=bool)
        for i, pt in enumerate(muscle.points):
            if pt.kind == "conditional":
                v = q[:, pt.coordinate]
                active[:, i] = (v >= pt.range[0] - _COND_TOL) & (v <= pt.range[1] + _COND_TOL)
        self.pp_active = active
        order = np.argsort(~active, axis=1, kind="stable")
        self.count = active.sum(axis=1)
        bodies = np.array([pt.body for pt in muscle.points])
        self.ids = np.full((n, S), -99, dtype=int)
        self.ids[:, :m] = np.where(np.arange(m)[None, :] < self.count[:, None], order, -99)
        self.body = np.zeros((n, S), dtype=int)
        self.body[:, :m] = bodies[order]
        self.local = np.zeros((n, S, 3))
        self.local[:, :m] = np.take_along_axis(loc, order[:, :, None], axis=1)
        self.wlen = np.zeros((n, S))
        self.R, self.p = R, p
        rows = np.arange(n)[:, None]
        self.ground = np.einsum("nsij,nsj->nsi", R[rows, self.body], self.local) + p[rows, self.body]
        wobj = [w.wrap_object for w in muscle.wraps]
        self.wobj_of_wrap = np.array(wobj + [-1], dtype=int)
        nw = len(muscle.wraps)
        self.wcache = np.zeros((n, max(nw, 1), 2, 3))
        self.wvalid = np.zeros((n, max(nw, 1), 2), dtype=bool)

    def wrap_object_of_slot(self) -> IntArray:
        """Wrap-object index of each slot (-1 for ordinary path points)."""
        w = np.where(self.ids < 0, (-self.ids - 1) // 2, len(self.muscle.wraps))
        w = np.where(self.ids == -99, len(self.muscle.wraps), w)
        return self.wobj_of_wrap[w]

    def query(self, rows: IntArray, slots: IntArray) -> None:
        """Mark tangent points as read in ground (OpenSim caches a point's ground location at
        its first read in a realization; later moves of the point within the same path
        computation change its body-frame location but not that cached ground location)."""
        ids = self.ids[rows, slots]
        tang = (ids < 0) & (ids != -99)
        if not np.any(tang):
            return
        r, sl, i = rows[tang], slots[tang], ids[tang]
        w, e = (-i - 1) // 2, (-i - 1) % 2
        fresh = ~self.wvalid[r, w, e]
        self.wcache[r[fresh], w[fresh], e[fresh]] = self.ground[r[fresh], sl[fresh]]
        self.wvalid[r[fresh], w[fresh], e[fresh]] = True

    def cached_ground(self, rows: IntArray | None = None) -> Array:
        """Ground positions as OpenSim reads them (``(n, S, 3)``), after querying every used slot."""
        n = self.ground.shape[0]
        rows_ = np.arange(n) if rows is None else rows
        used = np.arange(self.S)[None, :] < self.count[rows_, None]
        rr, ss = np.nonzero(used)
        self.query(rows_[rr], ss)
        g = self.ground[rows_].copy()
        ids = self.ids[rows_]
        tang = (ids < 0) & (ids != -99) & used
        if np.any(tang):
            r2, s2 = np.nonzero(tang)
            i = ids[r2, s2]
            g[r2, s2] = self.wcache[rows_[r2], (-i - 1) // 2, (-i - 1) % 2]
        return g

    def length(self) -> Array:
        n = self.ground.shape[0]
        g = self.cached_ground()
        a, b = g[:, :-1], g[:, 1:]
        chord = np.sqrt(np.sum((b - a) ** 2, axis=2))
        wo = self.wrap_object_of_slot()
        same = (wo[:, :-1] >= 0) & (wo[:, :-1] == wo[:, 1:])
        seg = np.where(same, self.wlen[:, 1:], chord)
        used = np.arange(self.S - 1)[None, :] < (self.count[:, None] - 1)
        return np.where(used, seg, 0.0).sum(axis=1) if n else np.zeros(0)

    def cached_ground_at(self, rows: IntArray, j: int) -> Array:
        """Cached ground positions ``(len(rows), 2, 3)`` of slots ``j`` and ``j + 1``."""
        for slot in (j, j + 1):
            self.query(rows, np.full(rows.shape[0], slot))
        out = self.ground[rows, j : j + 2].copy()
        for k, slot in enumerate((j, j + 1)):
            ids = self.ids[rows, slot]
            tang = (ids < 0) & (ids != -99)
            if np.any(tang):
                i = ids[tang]
                out[tang, k] = self.wcache[rows[tang], (-i - 1) // 2, (-i - 1) % 2]
        return out

    def remove_wrap(self, w: int, mask: NDArray[np.bool_]) -> None:
        """Drop wrap ``w``'s tangent points where present (poses in ``mask``)."""
        hit = (self.ids == -1 - 2 * w) & mask[:, None]
        has = hit.any(axis=1)
        if not np.any(has):
            return
        pos = np.where(has, hit.argmax(axis=1), self.S)
        idx = np.arange(self.S)[None, :]
        src = np.where(idx >= pos[:, None], np.minimum(idx + 2, self.S - 1), idx)
        self._permute(src)
        tail = idx >= (self.count - 2 * has)[:, None]
        self.ids[tail & has[:, None]] = -99
        self.count = self.count - 2 * has

    def insert_wrap(self, w: int, mask: NDArray[np.bool_], at: IntArray, local1: Array, local2: Array,
                    body: int, wlen: Array) -> None:
        """Insert tangent points (body-frame ``local1``, ``local2``) at slot ``at`` for poses in ``mask``."""
        idx = np.arange(self.S)[None, :]
        at_ = np.where(mask, at, self.S)[:, None]
        src = np.where(idx < at_, idx, np.maximum(idx - 2, 0))
        self._permute(src)
        rows = np.nonzero(mask)[0]
        k = at[rows]
        for slot, loc, tag in ((k, local1, -1 - 2 * w), (k + 1, local2, -2 - 2 * w)):
            self.ids[rows, slot] = tag
            self.body[rows, slot] = body
            self.local[rows, slot] = loc[rows]
            self.ground[rows, slot] = (
                np.einsum("nij,nj->ni", self.R[rows, body], loc[rows]) + self.p[rows, body]
            )
            self.wlen[rows, slot] = 0.0
        self.wlen[rows, k + 1] = wlen[rows]
        self.count = self.count + 2 * mask

    def _permute(self, src: IntArray) -> None:
        self.ids = _gather(self.ids, src)
        self.body = _gather(self.body, src)
        self.local = _gather(self.local, src)
        self.ground = _gather(self.ground, src)
        self.wlen = _gather(self.wlen, src)

    def slot_of_pp(self, j: IntArray) -> IntArray:
        hit = self.ids == j[:, None]
        return np.where(hit.any(axis=1), hit.argmax(axis=1), -1)


def _apply_wrap(st: _PathState, w: int, mask: NDArray[np.bool_], single: bool, compiled: bool) -> IntArray:
    """One PathWrap of GeometryPath::applyWrapObjects for poses in ``mask``; returns result codes."""
    model, muscle = st.model, st.muscle
    pw = muscle.wraps[w]
    wo = model.wrap_objects[pw.wrap_object]
    n = mask.shape[0]
    result = np.zeros(n, dtype=int)
    st.remove_wrap(w, mask)
    if not wo.active or not np.any(mask):
        return result
    m = len(muscle.points)
    ws = 0 if pw.start < 1 else pw.start - 1
    we = m - 1 if pw.end < 1 else pw.end - 1
    ws, we = min(ws, m - 1), min(we, m - 1)
    act = st.pp_active[:, ws : we + 1]
    any_act = act.any(axis=1)
    jf = ws + act.argmax(axis=1)
    jr = we - act[:, ::-1].argmax(axis=1)
    mask = mask & any_act
    start = st.slot_of_pp(jf)
    end = st.slot_of_pp(jr)
    mask = mask & (start >= 0) & (end >= 0)

    b = wo.body
    Rw, pw_ = wo.rotation, wo.translation
    found_mand = np.zeros(n, dtype=bool)
    best = np.zeros(n, dtype=bool)
    best_j = np.zeros(n, dtype=int)
    min_change = np.full(n, np.inf)
    best_r1 = np.zeros((n, 3))
    best_r2 = np.zeros((n, 3))
    best_len = np.zeros(n)
    wobj_slot = st.wrap_object_of_slot()
    rows_all = np.arange(n)
    for j in range(st.S - 1):
        cand = mask & ~found_mand & (j >= start) & (j < end) & (j + 1 < st.count)
        same = (wobj_slot[:, j] >= 0) & (wobj_slot[:, j] == wobj_slot[:, j + 1])
        cand &= ~same
        if not np.any(cand):
            continue
        rows = rows_all[cand]
        Rb, pb = st.R[rows, b], st.p[rows, b]
        ga, gb = st.ground[rows, j], st.ground[rows, j + 1]
        # ground -> wrap body -> wrap frame
        a_w = np.einsum("ji,nj->ni", Rw, np.einsum("nji,nj->ni", Rb, ga - pb) - pw_)
        b_w = np.einsum("ji,nj->ni", Rw, np.einsum("nji,nj->ni", Rb, gb - pb) - pw_)
        code, r1, r2, wl = _wrap_line(wo, a_w, b_w, single, pw.method, compiled)
        result[rows] = code
        l1 = r1 @ Rw.T + pw_
        l2 = r2 @ Rw.T + pw_
        mand = code == wrapmod.MANDATORY_WRAP
        wrapped = code == wrapmod.WRAPPED
        change = np.full(rows.shape[0], np.inf)
        if np.any(wrapped):
            rw = rows[wrapped]
            cg = st.cached_ground_at(rw, j)
            ca, cb = cg[:, 0], cg[:, 1]
            g1 = np.einsum("nij,nj->ni", Rb[wrapped], l1[wrapped]) + pb[wrapped]
            g2 = np.einsum("nij,nj->ni", Rb[wrapped], l2[wrapped]) + pb[wrapped]
            change[wrapped] = (np.linalg.norm(g1 - ca, axis=1) + wl[wrapped]
                               + np.linalg.norm(cb - g2, axis=1) - np.linalg.norm(cb - ca, axis=1))
        better = wrapped & (change < min_change[rows])
        take = mand | better
        tr = rows[take]
        best[tr] = True
        best_j[tr] = j
        best_r1[tr], best_r2[tr], best_len[tr] = l1[take], l2[take], wl[take]
        min_change[rows[better & ~mand]] = change[better & ~mand]
        found_mand[rows[mand]] = True
    if np.any(best):
        st.insert_wrap(w, best, best_j + 1, best_r1, best_r2, b, best_len)
    return result


class UnsupportedWrapError(ValueError):
    """A wrap surface type whose OpenSim algorithm this engine does not reproduce."""


def _wrap_line(wo: WrapObject, a: Array, b: Array, single: bool, method: str,
               compiled: bool) -> tuple[IntArray, Array, Array, Array]:
    if type(wo).wrap_line is WrapObject.wrap_line:
        raise UnsupportedWrapError(f"wrap object {wo.name!r} of type {wo.type or type(wo).__name__} "
                                   "is not supported by this engine")
    # a wrap among several refines its tangent points step by step, far slower in NumPy than compiled,
    # so it runs compiled whatever the batch size (MoBL-ARMS's cylinder-and-sphere paths: 17 s -> see docs)
    return wo.wrap_line(a, b, single=single, method=method,
                        compiled=compiled and (a.shape[0] >= type(wo).kernel_min_poses or not single))


def compute_path(model: Model, muscle: Muscle, q: Array, R: Array, p: Array, *, use_kernel: bool = True) -> _PathState:
    """Current path of ``muscle`` for complete coordinates ``q`` and body poses ``R``, ``p``.

    ``use_kernel=False`` keeps every step in NumPy (the reference); otherwise a wrap whose
    surface has a compiled ``wrapLine`` uses it for batches of its ``kernel_min_poses`` or more.
    """
    st = _PathState(model, muscle, q, R, p)
    nw = len(muscle.wraps)
    if nw == 0:
        return st
    n = q.shape[0]
    if nw == 1:
        _apply_wrap(st, 0, np.ones(n, dtype=bool), True, use_kernel)
        return st
    order = np.tile(np.arange(nw), (n, 1))
    done = np.zeros(n, dtype=bool)
    last = np.full(n, np.inf)
    for kk in range(8):
        results = np.zeros((n, nw), dtype=int)
        for i in range(nw):
            for w in np.unique(order[:, i]):
                sel = (order[:, i] == w) & ~done
                if np.any(sel):
                    res = _apply_wrap(st, int(w), sel, False, use_kernel)
                    results[sel, i] = res[sel]
        length = st.length()
        conv = np.abs(length - last) < 0.0005
        last = np.where(done, last, length)
        done |= conv
        if kk == 0:
            swap = ~done & (results[:, 0] == wrapmod.NO_WRAP) & (results[:, 1] == wrapmod.INSIDE_RADIUS)
            if np.any(swap):
                order[swap, 0], order[swap, 1] = 1, 0
                st.remove_wrap(0, swap)
        if np.all(done):
            break
    return st


def current_path(st: _PathState) -> CurrentPath:
    used = np.arange(st.S)[None, :] < st.count[:, None]
    ground = np.where(used[:, :, None], st.cached_ground(), np.nan)
    return CurrentPath(ground, st.body, st.local, np.where(used, st.ids, -99), st.wlen, st.count, st.length())


def path_moment_arms(st: _PathState, q: Array, W: Array, V: Array, C: Array) -> Array:
    """OpenSim moment arms ``(n, k)`` of one muscle along coupling vectors ``C`` ``(n, k, nc)``.

    Unit tension applied at the current-path points of consecutive pairs on different bodies,
    projected with the body velocities ``W``, ``V`` ``(n, k, n_bodies, 3)`` along ``C`` (see
    :func:`~iliopsoas.mechanics.kinematics.forward_kinematics`); MovingPathPoints add their
    ``R dP/dq`` term on their own coordinate.
    """
    n, S = st.body.shape
    rows = np.arange(n)[:, None]
    Wb = W[rows, :, st.body]  # (n, S, k, 3)
    Vb = V[rows, :, st.body]
    arm = st.ground - st.p[rows, st.body]  # (n, S, 3): latest (not cached) positions
    D = Vb + np.cross(Wb, arm[:, :, None, :])
    muscle = st.muscle
    for i, pt in enumerate(muscle.points):
        if pt.kind != "moving":
            continue
        slot = st.ids == i
        if not np.any(slot):
            continue
        g = np.einsum("nij,nj->ni", st.R[:, pt.body], st.dloc_pp[:, i])  # (n, 3)
        extra = g[:, None, :] * C[:, :, pt.coordinate][:, :, None]  # (n, k, 3)
        D = D + slot[:, :, None, None] * extra[:, None, :, :]
    g = st.cached_ground()
    a, b = g[:, :-1], g[:, 1:]
    diff = b - a
    dist = np.sqrt(np.sum(diff * diff, axis=2))
    with np.errstate(invalid="ignore", divide="ignore"):
        u = diff / dist[:, :, None]
    used = np.arange(S - 1)[None, :] < (st.count[:, None] - 1)
    differ = used & (st.body[:, :-1] != st.body[:, 1:])
    u = np.where(differ[:, :, None], u, 0.0)
    rel = D[:, :-1] - D[:, 1:]  # (n, S-1, k, 3)
    return np.einsum("nsi,nski->nk", u, rel)
