"""Smooth-mode muscle paths (``Model.wrapping == "smooth"``): the NumPy reference, pose by pose.

The compiled kernel (:mod:`iliopsoas.mechanics._smooth_kernels`) runs the same rules and is tested
against this module. The rules differ from OpenSim's in three places (``docs/mechanics.md``):

* every segment of a PathWrap's range that needs the surface wraps over it (OpenSim wraps one
  segment per PathWrap: the first that hits, else the one that lengthens the path least, so a
  path jumps whenever that choice changes or a second segment starts to cut through);
* several wraps on one path are applied in passes, as OpenSim does, but until the path stops
  moving (a Gauss-Seidel iteration towards the shortest path over all of them) instead of until
  the length changes by less than 0.5 mm, and without OpenSim's cache of a tangent point's
  first-read ground position;
* the surfaces' own paths are the exact shortest paths of :mod:`~iliopsoas.mechanics.smooth_wrap`.

The moment arm is the unit tension projected through the body velocities at the path points,
as in OpenSim mode; at the exact shortest path this is ``-dL/dq``. Where an end point lies inside
a surface its tangent point is the end point itself, and the pull on it comes from the wrap
(``u`` of the slot) instead of from a chord.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from iliopsoas.mechanics.model import Model, Muscle
from iliopsoas.mechanics.path import CurrentPath, _moving_locations

Array = NDArray[np.float64]
IntArray = NDArray[np.int_]

_COND_TOL = 1e-5
PASS_TOLERANCE = 1e-13  # m: passes stop when no tangent point moves by more than this
MAX_PASSES = 50


@dataclass
class SmoothPath:
    """One muscle's smooth current path for ``n`` poses, ``S`` padded slots (see ``CurrentPath``).

    ``pull`` ``(n, S, 3)``: for a tangent point that coincides with an end point inside its
    surface, the direction of the unit tension on that end point (zero elsewhere).
    ``wrap_object`` ``(n, S)``: the wrap object of a tangent point (-1 for path points).
    """

    ground: Array
    body: IntArray
    local: Array
    ids: IntArray
    wrap_length: Array
    count: IntArray
    pull: Array
    wrap_object: IntArray
    dloc: Array  # (n, S, 3) d(local)/dq of a MovingPathPoint along its own coordinate
    coord: IntArray  # (n, S) that coordinate (-1 otherwise)

    def length(self) -> Array:
        g = self.ground
        n, S = self.ids.shape
        chord = np.sqrt(np.sum((g[:, 1:] - g[:, :-1]) ** 2, axis=2))
        wo = self.wrap_object
        pair = (wo[:, :-1] >= 0) & (wo[:, :-1] == wo[:, 1:]) & (self.ids[:, :-1] % 2 == 1)
        seg = np.where(pair, self.wrap_length[:, 1:], chord)
        used = np.arange(S - 1)[None, :] < (self.count[:, None] - 1)
        return np.where(used, np.nan_to_num(seg), 0.0).sum(axis=1)

    def current_path(self) -> CurrentPath:
        used = np.arange(self.ids.shape[1])[None, :] < self.count[:, None]
        ground = np.where(used[:, :, None], self.ground, np.nan)
        return CurrentPath(ground, self.body, self.local, np.where(used, self.ids, -99), self.wrap_length,
                           self.count, self.length())


def _slot(ident: int, body: int, local: Array, ground: Array, wl: float = 0.0, pull: Array | None = None,
          wobj: int = -1, dloc: Array | None = None, coord: int = -1) -> dict[str, object]:
    return {"id": ident, "body": body, "local": local, "ground": ground, "wl": wl,
            "pull": np.zeros(3) if pull is None else pull, "wobj": wobj,
            "dloc": np.zeros(3) if dloc is None else dloc, "coord": coord}


def smooth_path(model: Model, muscle: Muscle, q: Array, R: Array, p: Array) -> SmoothPath:
    """Smooth current path of ``muscle`` for complete coordinates ``q`` and body poses ``R``, ``p``."""
    n = q.shape[0]
    loc, dloc = _moving_locations(muscle, model, q)
    for i, pt in enumerate(muscle.points):  # the derivative of the location actually used
        if pt.kind == "moving":
            lo, hi = model.coordinates[pt.coordinate].range
            clamped = (q[:, pt.coordinate] < lo) | (q[:, pt.coordinate] > hi)
            dloc[clamped, i] = 0.0
    rows = [_one_pose(model, muscle, q[k], R[k], p[k], loc[k], dloc[k]) for k in range(n)]
    S = max([len(r) for r in rows] + [1])
    out = SmoothPath(ground=np.full((n, S, 3), np.nan), body=np.zeros((n, S), int), local=np.zeros((n, S, 3)),
                     ids=np.full((n, S), -99, int), wrap_length=np.zeros((n, S)), count=np.zeros(n, int),
                     pull=np.zeros((n, S, 3)), wrap_object=np.full((n, S), -1, int), dloc=np.zeros((n, S, 3)),
                     coord=np.full((n, S), -1, int))
    for k, slots in enumerate(rows):
        out.count[k] = len(slots)
        for s, sl in enumerate(slots):
            out.ground[k, s] = sl["ground"]
            out.body[k, s] = sl["body"]
            out.local[k, s] = sl["local"]
            out.ids[k, s] = sl["id"]
            out.wrap_length[k, s] = sl["wl"]
            out.pull[k, s] = sl["pull"]
            out.wrap_object[k, s] = sl["wobj"]
            out.dloc[k, s] = sl["dloc"]
            out.coord[k, s] = sl["coord"]
    return out


def _one_pose(model: Model, muscle: Muscle, q: Array, R: Array, p: Array, loc: Array,
              dloc: Array) -> list[dict[str, Any]]:
    m = len(muscle.points)
    active = np.ones(m, dtype=bool)
    for i, pt in enumerate(muscle.points):
        if pt.kind == "conditional":
            v = q[pt.coordinate]
            active[i] = (v >= pt.range[0] - _COND_TOL) and (v <= pt.range[1] + _COND_TOL)
    slots = [_slot(i, pt.body, loc[i], R[pt.body] @ loc[i] + p[pt.body], dloc=dloc[i],
                   coord=pt.coordinate if pt.kind == "moving" else -1)
             for i, pt in enumerate(muscle.points) if active[i]]
    nw = len(muscle.wraps)
    if nw == 0:
        return slots
    previous: list[tuple[int, Array]] | None = None
    for _ in range(MAX_PASSES if nw > 1 else 1):
        for w in range(nw):
            slots = _apply(model, muscle, w, slots, active, R, p)
        now = [(int(s["id"]), np.asarray(s["ground"])) for s in slots if int(s["id"]) < 0]  # type: ignore[call-overload]
        if previous is not None and len(previous) == len(now) and all(
                a[0] == b[0] and np.max(np.abs(a[1] - b[1])) <= PASS_TOLERANCE for a, b in zip(previous, now, strict=True)):
            break
        previous = now
    return slots


def _apply(model: Model, muscle: Muscle, w: int, slots: list[dict[str, object]], active: NDArray[np.bool_],
           R: Array, p: Array) -> list[dict[str, object]]:
    """Remove wrap ``w``'s tangent points, then wrap every segment of its range that needs it."""
    slots = [s for s in slots if s["id"] not in (-1 - 2 * w, -2 - 2 * w)]
    pw = muscle.wraps[w]
    wo = model.wrap_objects[pw.wrap_object]
    if not wo.active:
        return slots
    m = len(muscle.points)
    ws = 0 if pw.start < 1 else pw.start - 1
    we = m - 1 if pw.end < 1 else pw.end - 1
    ws, we = min(ws, m - 1), min(we, m - 1)
    in_range = [j for j in range(ws, we + 1) if active[j]]
    if not in_range:
        return slots
    ids = [int(s["id"]) for s in slots]  # type: ignore[call-overload]
    start, end = ids.index(in_range[0]), ids.index(in_range[-1])
    b = wo.body
    Rb, pb = R[b], p[b]
    out = slots[: start + 1]
    for j in range(start, end):
        a_, c_ = slots[j], slots[j + 1]
        if int(a_["wobj"]) >= 0 and a_["wobj"] == c_["wobj"] and int(a_["id"]) % 2 == 1:  # type: ignore[call-overload]
            out.append(c_)  # the two tangent points of one wrap: its own surface part
            continue
        ea = wo.rotation.T @ (Rb.T @ (np.asarray(a_["ground"]) - pb) - wo.translation)
        ec = wo.rotation.T @ (Rb.T @ (np.asarray(c_["ground"]) - pb) - wo.translation)
        code, r1, r2, wl, u1, u2 = wo.smooth_line(ea[None], ec[None], method=pw.method)
        if code[0] != 0 and code[0] != 1 and _inserted(code[0], wl[0], r1[0], r2[0]):
            for e, (r, u) in enumerate(((r1[0], u1[0]), (r2[0], u2[0]))):
                local = wo.rotation @ r + wo.translation
                out.append(_slot(-1 - 2 * w - e, b, local, Rb @ local + pb, wl[0] if e == 1 else 0.0,
                                 Rb @ (wo.rotation @ u), pw.wrap_object))
        out.append(c_)
    return out + slots[end + 1:]


def _inserted(code: int, wl: float, r1: Array, r2: Array) -> bool:
    return code in (2, 3)


def smooth_moment_arms(sp: SmoothPath, R: Array, p: Array, W: Array, V: Array, C: Array) -> Array:
    """Moment arms ``(n, k)`` of one smooth path along coupling vectors ``C`` ``(n, k, nc)`` (see
    :func:`~iliopsoas.mechanics.path.path_moment_arms`; ``pull`` replaces the chord direction at an
    inside end point)."""
    n, S = sp.body.shape
    rows = np.arange(n)[:, None]
    Wb = W[rows, :, sp.body]  # (n, S, k, 3)
    Vb = V[rows, :, sp.body]
    arm = np.nan_to_num(sp.ground) - p[rows, sp.body]
    D = Vb + np.cross(Wb, arm[:, :, None, :])
    moving = sp.coord >= 0
    if np.any(moving):
        g = np.einsum("nsij,nsj->nsi", R[rows, sp.body], sp.dloc)  # (n, S, 3)
        cc = np.where(moving, sp.coord, 0)
        Cm = np.take_along_axis(C, cc[:, None, :].repeat(C.shape[1], axis=1), axis=2)  # (n, k, S)
        D = D + np.where(moving[:, :, None, None], g[:, :, None, :] * np.transpose(Cm, (0, 2, 1))[:, :, :, None], 0.0)
    g = np.nan_to_num(sp.ground)
    diff = g[:, 1:] - g[:, :-1]
    dist = np.sqrt(np.sum(diff * diff, axis=2))
    with np.errstate(invalid="ignore", divide="ignore"):
        u = diff / dist[:, :, None]
    # an end point inside a surface: its tangent point coincides with it; the wrap gives the pull
    first_in = (sp.ids[:, 1:] < 0) & (sp.ids[:, 1:] % 2 == 1) & (np.abs(sp.pull[:, 1:]).sum(axis=2) > 0)
    second_in = (sp.ids[:, :-1] < 0) & (sp.ids[:, :-1] % 2 == 0) & (np.abs(sp.pull[:, :-1]).sum(axis=2) > 0)
    u = np.where(first_in[:, :, None], sp.pull[:, 1:], u)
    u = np.where(second_in[:, :, None], sp.pull[:, :-1], u)
    used = np.arange(S - 1)[None, :] < (sp.count[:, None] - 1)
    differ = used & (sp.body[:, :-1] != sp.body[:, 1:])
    u = np.where(differ[:, :, None], np.nan_to_num(u), 0.0)
    rel = D[:, :-1] - D[:, 1:]
    return np.einsum("nsi,nski->nk", u, rel)
