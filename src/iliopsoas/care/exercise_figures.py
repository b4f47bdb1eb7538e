"""Exercise figures drawn from our model: the bones posed in each exercise's start and end.

Each figure shows the bundled lumbopelvic model (bone meshes: simplified Pose2Sim meshes, tibia,
foot and trunk as sticks) inside a plain body outline, the exercise's target muscles highlighted
on the working side, and the computed change of psoas and iliacus fibre length
(:mod:`iliopsoas.care.exercise_poses`). Figures are SVG (for the web) or PNG (for the PDF).

Figures are rendered on first use and kept on disk in an explicit :class:`FigureStore` (default:
``$ILIOPSOAS_CACHE_DIR/exercise-figures`` or the user cache folder), under a name that carries a
digest of everything they depend on, so a changed model, pose or renderer draws a new file.

>>> from iliopsoas.care.exercise_figures import exercise_figure   # doctest: +SKIP
>>> exercise_figure("kneeling-lunge-stretch", "png")              # doctest: +SKIP
PosixPath('.../exercise-figures/kneeling-lunge-stretch-1f0c….png')
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from iliopsoas.care.exercise_poses import (
    ExerciseAnalysis,
    ExerciseModel,
    ExercisePose,
    analyse_all,
    load_exercise_library,
    load_poses,
)

Array = NDArray[np.float64]

FORMATS = ("svg", "png")
RENDER_VERSION = "exercise-figure-1"
CITATION = ("Drawn from the iliopsoas lumbopelvic model (Rajagopal et al. 2016; Christophy et al. 2012); "
            "bone shapes simplified from Pose2Sim (BSD-3-Clause).\nPositions are our reading of the exercise cue, "
            "not measurements.")

MUSCLE_COLORS = {"psoas_major": "#c0392b", "psoas_minor": "#e67e22", "iliacus": "#7d3c98",
                 "rectus_femoris": "#138d75", "tensor_fasciae_latae": "#2874a6", "gluteus_maximus": "#b9770e",
                 "piriformis": "#1e8449", "quadratus_lumborum": "#5d6d7e"}
SKIN, SKIN_EDGE, BONE, FAR_BONE, FLOOR = "#f7ebe0", "#c9a88a", np.array([0.93, 0.88, 0.78]), "#cfc8bb", "#9aa1ab"

# points in a body's frame (m) for what the model has no mesh for: the ankle and the foot's sole
# (Rajagopal 2016 ankle centre), the upper trunk, shoulder and head (for a 1.75 m adult; drawing only)
ANKLE = (-0.01, -0.40, 0.0)
HEEL, TOE = (-0.06, -0.455, 0.0), (0.16, -0.455, 0.0)
NECK, HEAD = (0.01, 0.34, 0.0), (0.04, 0.45, 0.0)
SHOULDER, ELBOW, WRIST = (0.0, 0.26, 0.0), (-0.02, -0.02, 0.0), (0.06, -0.25, 0.0)
#: half-widths of the body outline (m): (sagittal, frontal)
WIDTH = {"trunk": (0.105, 0.16), "pelvis": (0.115, 0.17), "thigh": (0.072, 0.075), "shank": (0.05, 0.05),
         "foot": (0.03, 0.04), "neck": (0.05, 0.05), "arm": (0.04, 0.04), "head": (0.1, 0.09)}


class FigureError(ValueError):
    """An exercise that cannot be drawn (no positions, unknown format)."""


# ---------------------------------------------------------------------------------------------
# geometry of one pose, projected on the drawing plane
# ---------------------------------------------------------------------------------------------


@dataclass
class Drawing:
    """One posed model projected on the figure's plane (screen x, y in m; depth toward the viewer)."""

    capsules: list[tuple[str, Array, Array, float, bool]] = field(default_factory=list)  # kind, a, b, hw, near
    head: tuple[Array, float] | None = None
    triangles: list[tuple[Array, float, float, bool]] = field(default_factory=list)  # (3,2), depth, shade, near
    sticks: list[tuple[Array, Array, bool]] = field(default_factory=list)
    muscles: list[tuple[str, Array]] = field(default_factory=list)  # group stem, (k, 2)
    tool: Array | None = None

    def points(self) -> Array:
        pts = [c[1] for c in self.capsules] + [c[2] for c in self.capsules]
        pts += [t[0].mean(axis=0) for t in self.triangles]
        if self.head is not None:
            pts.append(self.head[0])
        return np.array(pts)


class _Projector:
    def __init__(self, view: str, side: str):
        self.view, self.sign = view, (1.0 if side == "r" else -1.0)

    def __call__(self, v: Array) -> tuple[Array, Array]:
        """Screen coordinates ``(..., 2)`` and depth toward the viewer ``(...,)`` of ground points ``(..., 3)``."""
        if self.view == "frontal":  # the viewer faces the person: their right is on the viewer's left
            return np.stack([-v[..., 2], v[..., 1]], axis=-1), v[..., 0]
        return np.stack([self.sign * v[..., 0], v[..., 1]], axis=-1), self.sign * v[..., 2]


def _in_ground(R: Array, p: Array, k: int, local: Sequence[float]) -> Array:
    return np.asarray(R[k] @ np.asarray(local, dtype=float) + p[k])


def _joint_centre(model: Any, R: Array, p: Array, joint: str) -> Array:
    j = model.joints[model.joint_names.index(joint)]
    return np.asarray(R[j.parent] @ j.parent_translation + p[j.parent])


def pose_drawing(em: ExerciseModel, ex: ExercisePose, q: Array, meshes: Mapping[str, list[Any]]) -> Drawing:
    """Project the model at pose ``q`` ``(n_coordinates,)``: outline capsules, bone triangles, muscles."""
    from iliopsoas.mechanics import body_transforms, path_points

    model = em.model
    Rm, pm = body_transforms(model, q[None, :])
    R, p = Rm[0], pm[0]
    proj = _Projector(ex.view, ex.side)
    col = 1 if ex.view == "frontal" else 0
    d = Drawing()
    near_side = ex.side

    def P(v: Array) -> Array:
        return proj(v)[0]

    def depth_near(body_side: str | None) -> bool:
        return ex.view == "frontal" or body_side in (None, near_side)

    torso = model.body_index("torso")
    t12 = _joint_centre(model, R, p, "T12_L1")
    t12_local = model.joints[model.joint_names.index("T12_L1")].child_translation

    def torso_pt(off: Sequence[float]) -> Array:
        return _in_ground(R, p, torso, np.asarray(t12_local) + np.asarray(off))
    neck, head = torso_pt(NECK), torso_pt(HEAD)
    hips = {s: _joint_centre(model, R, p, f"hip_{s}") for s in ("r", "l")}
    mid_hip = 0.5 * (hips["r"] + hips["l"])
    sacrum = _joint_centre(model, R, p, "L5_S1")
    d.capsules.append(("pelvis", P(0.5 * (sacrum + mid_hip)), P(mid_hip), WIDTH["pelvis"][col], True))
    d.capsules.append(("trunk", P(0.5 * (sacrum + mid_hip)), P(torso_pt(SHOULDER)), WIDTH["trunk"][col], True))
    d.capsules.append(("neck", P(torso_pt(SHOULDER)), P(neck), WIDTH["neck"][col], True))
    d.head = (P(head), WIDTH["head"][col])
    d.sticks.append((P(t12), P(neck), True))
    for s in ("r", "l"):
        near = depth_near(s)
        tibia = model.body_index(f"tibia_{s}")
        knee = _joint_centre(model, R, p, f"walker_knee_{s}")
        ankle = _in_ground(R, p, tibia, ANKLE)
        shank_dir = (ankle - knee) / max(float(np.linalg.norm(ankle - knee)), 1e-9)
        # the foot: flat under a near-vertical shank, pointed (plantar-flexed) under a lying shank
        heel, toe = _in_ground(R, p, tibia, HEEL), _in_ground(R, p, tibia, TOE)
        if abs(float(shank_dir[1])) < 0.5:  # the shank lies (kneeling, lying): the foot points
            heel, toe = ankle - 0.04 * shank_dir, ankle + 0.17 * shank_dir
        z = 1.0 if s == "r" else -1.0
        shoulder = torso_pt((SHOULDER[0], SHOULDER[1], 0.17 * z))
        elbow, wrist = torso_pt((ELBOW[0], ELBOW[1], 0.2 * z)), torso_pt((WRIST[0], WRIST[1], 0.21 * z))
        d.capsules += [("thigh", P(hips[s]), P(knee), WIDTH["thigh"][col], near),
                       ("shank", P(knee), P(ankle), WIDTH["shank"][col], near),
                       ("foot", P(heel), P(toe), WIDTH["foot"][col], near),
                       ("arm", P(shoulder), P(elbow), WIDTH["arm"][col], near),
                       ("arm", P(elbow), P(wrist), WIDTH["arm"][col] * 0.85, near)]
        d.sticks += [(P(knee), P(ankle), near), (P(heel), P(toe), near)]
    # bone meshes, shaded by a light from the viewer's upper left
    light = np.array([-0.35, 0.55, 0.76])
    light /= np.linalg.norm(light)
    for body, body_meshes in meshes.items():
        k = model.body_index(body)
        side = body[-1] if body.endswith(("_r", "_l")) else None
        for mesh in body_meshes:
            v = mesh.vertices @ R[k].T + p[k]
            xy, dep = proj(v)
            tri = v[mesh.faces]
            n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
            n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
            n3 = np.stack([*proj(n)[0].T, proj(n)[1]], axis=1)  # normal in (screen x, screen y, depth)
            shade = 0.55 + 0.45 * np.abs(n3 @ light)
            for f, dd, sh in zip(mesh.faces, dep[mesh.faces].mean(axis=1), shade, strict=True):
                d.triangles.append((xy[f], float(dd), float(sh), depth_near(side)))
    # target muscles of the working side
    names = [(g, f) for g in ex.targets for f in em.groups.get(f"{g}_{ex.side}", ())]
    if names:
        paths = path_points(model, q[None, :], [f for _, f in names])
        for g, f in names:
            cp = paths[f]
            d.muscles.append((g, P(cp.ground[0, : int(cp.count[0])])))
    if ex.tool is not None:
        pts = [m for g, m in d.muscles if g == ex.tool["muscle"]]
        if pts:
            path = pts[0]
            seg = np.linalg.norm(np.diff(path, axis=0), axis=1)
            s_cum = np.concatenate([[0.0], np.cumsum(seg)])
            at = float(ex.tool.get("fraction", 0.5)) * s_cum[-1]
            d.tool = np.array([np.interp(at, s_cum, path[:, 0]), np.interp(at, s_cum, path[:, 1])])
    return d


# ---------------------------------------------------------------------------------------------
# rendering
# ---------------------------------------------------------------------------------------------


def _floor(d: Drawing, orientation: str) -> float:
    skip = {"thigh", "trunk", "pelvis", "arm"} if orientation == "upright" else {"arm"}
    lows = [min(a[1], b[1]) - hw for kind, a, b, hw, _ in d.capsules if kind not in skip]
    return float(min(lows))


def _bbox(d: Drawing, floor: float) -> tuple[float, float, float, float]:
    xs, ys = [], []
    for _, a, b, hw, _ in d.capsules:
        xs += [a[0] - hw, a[0] + hw, b[0] - hw, b[0] + hw]
        ys += [a[1] - hw, a[1] + hw, b[1] - hw, b[1] + hw]
    if d.head is not None:
        c, r = d.head
        xs += [c[0] - r, c[0] + r]
        ys += [c[1] - r, c[1] + r]
    return min(xs), max(xs), min(min(ys), floor), max(ys)


def _shift(d: Drawing, dx: float, dy: float) -> Drawing:
    o = np.array([dx, dy])
    return Drawing(capsules=[(k, a + o, b + o, hw, n) for k, a, b, hw, n in d.capsules],
                   head=(d.head[0] + o, d.head[1]) if d.head else None,
                   triangles=[(t + o, dep, sh, n) for t, dep, sh, n in d.triangles],
                   sticks=[(a + o, b + o, n) for a, b, n in d.sticks],
                   muscles=[(g, m + o) for g, m in d.muscles], tool=None if d.tool is None else d.tool + o)


def _draw_panel(ax: Any, d: Drawing, ex: ExercisePose, floor: float, pt_per_m: float, title: str, *,
                seated: bool = False) -> None:
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Circle, Rectangle

    x0, x1, _, y1 = _bbox(d, floor)
    # floor or table
    ax.add_patch(Rectangle((x0 - 0.3, floor - 0.05), (x1 - x0) + 0.6, 0.05, color=FLOOR, lw=0, zorder=1))
    seat = [c for c in d.capsules if c[0] == "pelvis"][0]
    seat_y = seat[2][1] - seat[3]
    if seated and seat_y - floor > 0.25:  # sitting: a seat under the pelvis and thighs
        knees = [c[2] for c in d.capsules if c[0] == "thigh"]
        front = max(k[0] for k in knees) - 0.08 if ex.view == "sagittal" else x1
        back = seat[1][0] - 0.18 if ex.view == "sagittal" else x0
        ax.add_patch(Rectangle((back, seat_y - 0.05), front - back, 0.05, color=FLOOR, lw=0, zorder=1))
        ax.add_patch(Rectangle((back + 0.02, floor), 0.03, seat_y - 0.05 - floor, color=FLOOR, lw=0, zorder=1))
        ax.add_patch(Rectangle((front - 0.05, floor), 0.03, seat_y - 0.05 - floor, color=FLOOR, lw=0, zorder=1))
    if d.tool is not None:
        r = 0.045
        ax.add_patch(Circle((d.tool[0], floor + r), r, color="#37474f", zorder=7.5))
        ax.annotate("ball", (d.tool[0], floor + r), xytext=(0, -14), textcoords="offset points", ha="center",
                    va="top", fontsize=7, color="#37474f")
    # body outline: every capsule stroked twice (edge, then fill) so that they merge into one silhouette
    for far_first in (False, True):
        for layer, colour, extra in ((0, SKIN_EDGE, 1.6), (1, SKIN, 0.0)):
            for _kind, a, b, hw, near in d.capsules:
                if near != far_first:
                    continue
                ax.plot([a[0], b[0]], [a[1], b[1]], color=colour, lw=2 * hw * pt_per_m + extra,
                        solid_capstyle="round", zorder=3 + 2 * far_first + layer)
    if d.head is not None:
        c, r = d.head
        ax.add_patch(Circle((float(c[0]), float(c[1])), r, facecolor=SKIN, edgecolor=SKIN_EDGE, lw=0.8, zorder=7))
    # bones: far side first, then near, each painted back to front
    for near in (False, True):
        tris = sorted((t for t in d.triangles if t[3] == near), key=lambda t: t[1])
        if tris:
            base = BONE if near else np.array([0.80, 0.78, 0.74])
            colours = [np.clip(base * sh, 0, 1) for _, _, sh, _ in tris]
            coll = PolyCollection([t[0] for t in tris], facecolors=colours, edgecolors=colours, linewidths=0.25,
                                  zorder=8 + 2 * near)
            coll.set_rasterized(True)
            ax.add_collection(coll)
        for a, b, n in d.sticks:
            if n == near:
                ax.plot([a[0], b[0]], [a[1], b[1]], color="#b3a68e" if near else FAR_BONE, lw=3.2,
                        solid_capstyle="round", zorder=9 + 2 * near)
    for g, m in d.muscles:
        ax.plot(m[:, 0], m[:, 1], color=MUSCLE_COLORS.get(g, "#34495e"), lw=2.2, solid_capstyle="round", zorder=12)
    ax.set_title(title, fontsize=9, loc="left")


def render(analysis: ExerciseAnalysis, ex: ExercisePose, name: str, path: str | Path, *,
           em: ExerciseModel | None = None, meshes: Mapping[str, list[Any]] | None = None) -> Path:
    """Draw one exercise (start, end and its variants' ends) into ``path`` (.svg or .png)."""
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from iliopsoas.models.labels import muscle_label
    from iliopsoas.models.meshes import shipped_meshes

    em = ExerciseModel.bundled() if em is None else em
    meshes = shipped_meshes(em.model.body_names) if meshes is None else meshes
    poses = [(ex.start, "Start"), (ex.end, "End")] + [(ex.end_of(v.id), v.title) for v in ex.variants]
    if ex.start == ex.end:
        poses = [(ex.start, "Position (held)")]
    drawings = [pose_drawing(em, ex, em.q(a, ex.orientation)[0], meshes) for a, _ in poses]
    seated = [ex.orientation == "upright" and min(a.get("thigh_r", 0.0), a.get("thigh_l", 0.0)) >= 60 for a, _ in poses]
    # every panel on the same floor and the same scale
    boxes = []
    for k, d in enumerate(drawings):
        f = _floor(d, ex.orientation)
        drawings[k] = d = _shift(d, 0.0, -f)
        boxes.append(_bbox(d, 0.0))
    w = max(b[1] - b[0] for b in boxes) + 0.16
    h = max(b[3] for b in boxes) + 0.14
    n = len(drawings)
    inch_per_m = min(3.3 / h, (8.6 if n == 1 else 4.2) / w)  # one scale for every panel
    panel_w, panel_h = w * inch_per_m, h * inch_per_m
    fig_w = max(6.4, n * panel_w + 0.4)
    text_w = fig_w - 0.8

    def wrapped(text: str, chars_per_inch: float) -> list[str]:
        return [w for line in text.splitlines() for w in textwrap.wrap(line, int(text_w * chars_per_inch)) or [""]]

    side = "right" if ex.side == "r" else "left"
    cap, cite = wrapped(caption(analysis, side), 15.5), wrapped(CITATION, 21)
    top = 0.78  # title, legend row, panel titles
    bottom = 0.22 + 0.16 * len(cap) + 0.12 + 0.1 * len(cite)
    fig_h = top + panel_h + bottom
    fig = plt.figure(figsize=(fig_w, fig_h))
    pt_per_m = inch_per_m * 72.0
    for k, (d, (_, title)) in enumerate(zip(drawings, poses, strict=True)):
        left = (fig_w - n * panel_w) / 2 + k * panel_w
        ax = fig.add_axes((left / fig_w, bottom / fig_h, panel_w / fig_w, panel_h / fig_h))
        cx = 0.5 * (boxes[k][0] + boxes[k][1])
        ax.set_xlim(cx - w / 2, cx + w / 2)
        ax.set_ylim(-0.08, h - 0.08)
        ax.set_aspect("equal", adjustable="box")
        ax.axis("off")
        _draw_panel(ax, d, ex, 0.0, pt_per_m, title, seated=seated[k])
    fig.text(0.4 / fig_w, 1 - 0.1 / fig_h, name, fontsize=11, fontweight="bold", va="top")
    handles = [Line2D([], [], color=MUSCLE_COLORS.get(g, "#34495e"), lw=2.5, label=muscle_label(g)) for g in ex.targets]
    if handles:
        fig.legend(handles=handles, loc="upper left", fontsize=7.5, frameon=False, ncol=len(handles),
                   bbox_to_anchor=(0.3 / fig_w, 1 - 0.3 / fig_h), handlelength=1.6, columnspacing=1.2)
    fig.text(0.4 / fig_w, (bottom - 0.12) / fig_h, "\n".join(cap), fontsize=8, va="top", linespacing=1.35)
    fig.text(0.4 / fig_w, 0.08 / fig_h, "\n".join(cite), fontsize=6, color="#555", va="bottom")
    out = Path(path)
    fig.savefig(out, format=out.suffix.lstrip(".") or "png", dpi=150, metadata={"Date": None} if out.suffix == ".svg" else None)
    plt.close(fig)
    return out


def _pct(v: float) -> str:
    return f"{v:+.1f} %"


def caption(a: ExerciseAnalysis, side: str) -> str:
    """The numbers under a figure, in words (two or three lines)."""
    lc = a.length_change
    lines = [f"Fibre length, {side} side, start to end (% of optimal fibre length): psoas major {_pct(lc.psoas_pct)}, "
             f"iliacus {_pct(lc.iliacus_pct)}"
             + "".join(f", {g.replace('_', ' ')} {_pct(v)}" for g, v in lc.targets.items()
                       if g not in ("psoas_major", "iliacus", "psoas_minor")) + "."]
    if abs(lc.psoas_pct) < 0.05 and abs(lc.iliacus_pct) < 0.05:
        lines.append(a.note)
    elif lc.most_stretched and lc.most_stretched[0].pct > 0.05:
        top = lc.most_stretched[0]
        lines.append(f"Most stretched: {top.label.replace(f' ({side})', '')} ({_pct(top.pct)}).")
    else:
        top = lc.most_shortened[0]
        lines.append(f"The muscles shorten as they work; most: {top.label.replace(f' ({side})', '')} ({_pct(top.pct)}).")
    for v in a.variants:
        lines.append(f"{v.label}: psoas major {_pct(v.length_change.psoas_pct)}, iliacus {_pct(v.length_change.iliacus_pct)}.")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# the store on disk
# ---------------------------------------------------------------------------------------------


def default_dir() -> Path:
    """``$ILIOPSOAS_CACHE_DIR/exercise-figures``, else the user cache folder (a temporary one without a home)."""
    env = os.environ.get("ILIOPSOAS_CACHE_DIR")
    if env:
        return Path(env) / "exercise-figures"
    try:
        import platformdirs

        return platformdirs.user_cache_path("iliopsoas") / "exercise-figures"
    except Exception:  # noqa: BLE001 - no usable home folder
        return Path(tempfile.gettempdir()) / "iliopsoas-exercise-figures"


class FigureStore:
    """Exercise figures on disk, rendered on first use (one model, pose set and library per store)."""

    def __init__(self, directory: str | Path | None = None, *, em: ExerciseModel | None = None,
                 poses: Mapping[str, ExercisePose] | None = None, library: Sequence[Mapping[str, Any]] | None = None):
        self.directory = Path(directory) if directory is not None else default_dir()
        self._em = em
        self.poses = dict(load_poses() if poses is None else poses)
        self.library = list(load_exercise_library() if library is None else library)
        self._analyses: dict[str, ExerciseAnalysis] | None = None
        self._lock = threading.Lock()

    @property
    def em(self) -> ExerciseModel:
        if self._em is None:
            self._em = ExerciseModel.bundled()
        return self._em

    def names(self) -> dict[str, str]:
        return {str(e["id"]): str(e.get("name", e["id"])) for e in self.library}

    def analyses(self) -> dict[str, ExerciseAnalysis]:
        """Length changes of every exercise that has positions (computed once per store)."""
        with self._lock:
            if self._analyses is None:
                ids = [i for i in self.names() if i in self.poses]
                self._analyses = {a.id: a for a in analyse_all(ids, em=self.em, poses=self.poses)}
            return self._analyses

    def digest(self, exercise_id: str) -> str:
        """What the figure depends on: its positions, name, the model description and the drawing code."""
        import iliopsoas
        from iliopsoas.models.meshes import SHIPPED_DIR

        root = Path(iliopsoas.__file__).resolve().parent
        h = hashlib.sha256(RENDER_VERSION.encode())
        ex = self.poses[exercise_id]
        h.update(json.dumps([ex.side, ex.orientation, ex.view, ex.targets, ex.note, dict(ex.start), dict(ex.end),
                             [(v.id, v.label, dict(v.end)) for v in ex.variants], dict(ex.tool or {}),
                             self.names().get(exercise_id)], sort_keys=True, default=str).encode())
        files = [root / "care" / "exercise_figures.py", root / "care" / "exercise_poses.py",
                 root / "models" / "lumbopelvic.yaml", *sorted(SHIPPED_DIR.glob("*.vtp"))]
        for f in files:
            h.update(f.read_bytes())
        return h.hexdigest()[:16]

    def path(self, exercise_id: str, fmt: str = "svg") -> Path:
        """The figure file of one exercise, rendered now if the store does not hold it yet."""
        if fmt not in FORMATS:
            raise FigureError(f"format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
        if exercise_id not in self.names():
            raise FigureError(f"unknown exercise {exercise_id!r}; expected one of {', '.join(self.names())}")
        if exercise_id not in self.poses:
            raise FigureError(f"exercise {exercise_id!r} has no positions in exercise_poses.yaml yet")
        out = self.directory / f"{exercise_id}-{self.digest(exercise_id)}.{fmt}"
        if out.is_file():
            return out
        self.directory.mkdir(parents=True, exist_ok=True)
        analysis = self.analyses()[exercise_id]
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{exercise_id}-", suffix=f".{fmt}")
        os.close(fd)
        try:
            render(analysis, self.poses[exercise_id], self.names()[exercise_id], tmp, em=self.em)
            os.replace(tmp, out)  # another process may have written the same file: both are identical
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return out


def exercise_figure(exercise_id: str, fmt: str = "png", *, directory: str | Path | None = None) -> Path:
    """The model-drawn figure file of one care exercise (``fmt`` ``"png"`` or ``"svg"``), for the PDF handout.

    Raises :class:`FigureError` for an unknown exercise or format.
    """
    return FigureStore(directory).path(exercise_id, fmt)
