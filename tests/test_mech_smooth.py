"""Smooth wrapping mode (issue 17 items 1 and 3): the exact shortest path, C¹ in the pose.

Checks: the option and its errors; the compiled kernel against the NumPy reference; moment arms
equal to ``-dL/dq`` (central differences); the path is never longer than OpenSim's where both wrap
the same segment; agreement with OpenSim where the two modes' rules agree; a 10^5-pose
continuity sweep (the 10^6-pose sweep is ``benchmarks/bench_mechanics_smooth.py``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from iliopsoas import models
from iliopsoas.mechanics import (
    body_transforms,
    complete_coordinates,
    lengths_and_moment_arms,
    load_osim,
    moment_arms,
    muscle_lengths,
    path_points,
    with_wrapping,
)
from iliopsoas.mechanics.model import Model
from iliopsoas.mechanics.smooth_wrap import smooth_cylinder, smooth_ellipsoid, smooth_sphere

pytest.importorskip("numba")

HIP = ["hip_flexion_r", "hip_adduction_r", "hip_rotation_r"]


@pytest.fixture(scope="module")
def rajagopal(models_dir: Path) -> Model:
    return load_osim(models_dir / "opensim-models" / "Rajagopal2016.osim", wrapping="smooth")


@pytest.fixture(scope="module")
def arm26(models_dir: Path) -> Model:
    return load_osim(models_dir / "opensim-models" / "arm26.osim", wrapping="smooth")


def _poses(model: Model, n: int, seed: int) -> np.ndarray:
    lo, hi = model.coordinate_ranges.T
    q = np.tile(model.coordinate_defaults, (n, 1))
    rng = np.random.default_rng(seed)
    for i, c in enumerate(model.coordinates):
        if c.locked or model.dependent_mask[i] or c.name.startswith("pelvis") or hi[i] - lo[i] > 10:
            continue
        q[:, i] = rng.uniform(lo[i], hi[i], n)
    return complete_coordinates(model, q)


def test_the_wrapping_option_is_checked_and_switchable(models_dir: Path) -> None:
    path = models_dir / "opensim-models" / "arm26.osim"
    with pytest.raises(ValueError, match="wrapping: expected one of 'opensim', 'smooth', got 'geodesic'"):
        load_osim(path, wrapping="geodesic")
    m = load_osim(path)
    assert m.wrapping == "opensim"
    s = with_wrapping(m, "smooth")
    assert s.wrapping == "smooth" and s is not m and with_wrapping(s, "smooth") is s
    assert with_wrapping(s, "opensim").muscle_names == m.muscle_names
    with pytest.raises(ValueError, match="wrapping"):
        with_wrapping(m, "Smooth")
    bundled = with_wrapping(models.load("lumbopelvic"), "smooth")
    assert bundled.wrapping == "smooth" and models.load("lumbopelvic").wrapping == "opensim"


def test_compiled_kernel_matches_the_numpy_reference(rajagopal: Model, arm26: Model) -> None:
    q = _poses(rajagopal, 40, 1)
    L1, r1 = lengths_and_moment_arms(rajagopal, q, HIP + ["knee_angle_r", "ankle_angle_r"])
    L2, r2 = lengths_and_moment_arms(rajagopal, q, HIP + ["knee_angle_r", "ankle_angle_r"], use_kernel=False)
    assert np.abs(L1 - L2).max() < 1e-12 and np.abs(r1 - r2).max() < 1e-12
    assert np.abs(r1).max() > 0.02  # not a comparison of zeros
    # arm26: the muscles with one wrap each (cylinders and an ellipsoid)
    one = [i for i, mu in enumerate(arm26.muscles) if len(mu.wraps) == 1]
    qa = _poses(arm26, 30, 2)
    La, ra = lengths_and_moment_arms(arm26, qa, muscles=one)
    Lb, rb = lengths_and_moment_arms(arm26, qa, muscles=one, use_kernel=False)
    assert np.abs(La - Lb).max() < 1e-12 and np.abs(ra - rb).max() < 1e-11


def test_moment_arms_are_the_derivative_of_the_length(rajagopal: Model, arm26: Model) -> None:
    q = _poses(rajagopal, 30, 3)
    coords = HIP + ["knee_angle_r", "ankle_angle_r"]
    r = moment_arms(rajagopal, q, coords)
    fd = moment_arms(rajagopal, q, coords, exact=True)  # central differences of the length
    assert np.abs(r - fd).max() < 1e-8
    one = [i for i, mu in enumerate(arm26.muscles) if len(mu.wraps) == 1]
    qa = _poses(arm26, 20, 4)
    ra = moment_arms(arm26, qa, muscles=one)
    fa = moment_arms(arm26, qa, exact=True, muscles=one)
    assert np.abs(ra - fa).max() < 1e-7  # the ellipsoid's geodesic is integrated (RK4)


def test_the_smooth_path_is_never_longer_than_opensims(rajagopal: Model) -> None:
    q = _poses(rajagopal, 200, 5)
    opensim = with_wrapping(rajagopal, "opensim")
    names = ["psoas_r", "iliacus_r", "recfem_r", "addlong_r", "glmax3_r"]
    Ls = muscle_lengths(rajagopal, q, names)
    Lo = muscle_lengths(opensim, q, names)
    compared = 0
    for k, name in enumerate(names):
        ps, po = path_points(rajagopal, q, name), path_points(opensim, q, name)
        for i in range(q.shape[0]):
            a, b = ps.ids[i][ps.ids[i] != -99], po.ids[i][po.ids[i] != -99]
            if len(a) == len(b) and np.array_equal(a, b) and (a < 0).any():
                compared += 1
                assert Ls[i, k] <= Lo[i, k] + 1e-12, (name, i)
    assert compared > 100


def test_surface_solvers_against_each_other() -> None:
    rng = np.random.default_rng(6)
    p1, p2 = rng.normal(size=(400, 3)) * 0.1, rng.normal(size=(400, 3)) * 0.1
    # an ellipsoid with equal semi-axes is a sphere (outside end points: the same rule)
    cs, s1, s2, wls, _, _ = smooth_sphere(p1, p2, 0.04, 1, -1)
    ce, e1, e2, wle, _, _ = smooth_ellipsoid(p1, p2, np.array([0.04, 0.04, 0.04]), 1, -1)
    outside = (np.linalg.norm(p1, axis=1) > 0.04) & (np.linalg.norm(p2, axis=1) > 0.04)
    assert np.array_equal(cs[outside], ce[outside]) and (ce[outside] == 3).sum() > 20
    w = outside & (ce == 3)
    assert np.abs(e1[w] - s1[w]).max() < 1e-12 and np.abs(wle[w] - wls[w]).max() < 1e-6
    # a cylinder path: its tangent segments touch the circle, and the length is that of the unrolled line
    c, r1, r2, wl, u1, u2 = smooth_cylinder(p1, p2, 0.04, 0, 1)
    w = (c >= 2) & (np.hypot(p1[:, 0], p1[:, 1]) > 0.04) & (np.hypot(p2[:, 0], p2[:, 1]) > 0.04)
    assert w.sum() > 50 and np.allclose(np.hypot(r1[w, 0], r1[w, 1]), 0.04, atol=1e-15)
    d = r1[w, :2] - p1[w, :2]
    assert np.abs(np.einsum("ij,ij->i", d, r1[w, :2])).max() < 1e-15  # tangent: radius _|_ tangent line


def test_psoas_iliacus_and_gluteus_maximus_moment_arms_do_not_jump(rajagopal: Model) -> None:
    """10^5 poses at 0.01 degree steps of hip flexion on seven lines of (adduction, rotation) chosen
    through OpenSim's psoas/iliacus jumps. Smooth mode: no neighbour differs by more than 0.05 mm
    except next to poses where a via point lies within 1 mm of its wrap cylinder (or inside it),
    where the moment arm is continuous but steep (it changes with the square root of the
    distance); there psoas and iliacus still never jump by more than 0.5 mm, while OpenSim's
    moment arms jump by tens of millimetres in the same sweep. Gluteus maximus 1 and 2 are held to
    this up to 90 degrees of flexion: beyond, with the hip adducted, their paths jump in both modes
    where the rules themselves do (docs/mechanics.md, "Where the smooth mode still jumps")."""
    opensim = with_wrapping(rajagopal, "opensim")
    names = ["psoas_r", "iliacus_r", "glmax1_r", "glmax2_r", "glmax3_r"]
    hf, ha, hr = (rajagopal.coordinate_index(c) for c in HIP)
    th = np.deg2rad(np.arange(-30.0, 120.0 + 1e-9, 0.01))
    lines = [(30, 0), (20, -30), (-40, -40), (-50, -10), (0, 0), (10, 20), (-20, 30)]
    worst = np.zeros(len(names))
    worst_steep = np.zeros(len(names))
    worst_opensim = np.zeros(len(names))
    for add, rot in lines:
        q = np.tile(rajagopal.coordinate_defaults, (th.size, 1))
        q[:, hf], q[:, ha], q[:, hr] = th, np.deg2rad(add), np.deg2rad(rot)
        r = moment_arms(rajagopal, q, HIP, muscles=names)
        ro = moment_arms(opensim, q, HIP, muscles=names)
        jump = np.abs(np.diff(r, axis=0)).max(axis=2)
        jump_o = np.abs(np.diff(ro, axis=0)).max(axis=2)
        for k, name in enumerate(names):
            d = _via_point_clearance(rajagopal, q, name)
            posed = (d[:-1] > 1e-3) & (d[1:] > 1e-3)
            if name in ("glmax1_r", "glmax2_r"):
                posed &= th[1:] <= np.deg2rad(90.0)
            worst[k] = max(worst[k], jump[posed, k].max())
            worst_steep[k] = max(worst_steep[k], jump[:, k].max())
            worst_opensim[k] = max(worst_opensim[k], jump_o[:, k].max())
    assert th.size * len(lines) >= 100_000
    assert (worst < 0.05e-3).all(), dict(zip(names, worst * 1000, strict=True))
    assert worst_steep[:2].max() < 0.5e-3, worst_steep * 1000
    assert worst_opensim[:2].min() > 10e-3  # the artifacts the smooth mode removes are in this sweep


def _via_point_clearance(model: Model, q: np.ndarray, name: str) -> np.ndarray:
    """Smallest distance (m) of the muscle's points outside its wrap cylinders (negative inside)."""
    mu = model.muscles[model.muscle_index(name)]
    R, p = body_transforms(model, q)
    out = np.full(q.shape[0], np.inf)
    for pw in mu.wraps:
        w = model.wrap_objects[pw.wrap_object]
        for pt in mu.points:
            g = np.einsum("nij,j->ni", R[:, pt.body], pt.location) + p[:, pt.body]
            e = (np.einsum("nji,nj->ni", R[:, w.body], g - p[:, w.body]) - w.translation) @ w.rotation
            out = np.minimum(out, np.hypot(e[:, 0], e[:, 1]) - w.radius)
    return out


def test_agreement_with_opensim_where_the_rules_agree(rajagopal: Model, reference_dir: Path) -> None:
    """On the 2,000 oracle poses where OpenSim wraps the same segment and no via point is inside the
    cylinder, smooth moment arms are within 0.2 mm of the derivative of OpenSim's own length (the
    oracle's central differences) for psoas and iliacus; OpenSim's reported moment arm departs from
    that derivative by up to 3.5 mm (its tangent points are an approximate construction)."""
    d = np.load(reference_dir / "opensim-oracle" / "Rajagopal2016-oracle.npz")
    names = [str(x) for x in d["muscle_names"]]
    coords = [str(x) for x in d["moment_arm_coordinates"]]
    q = d["q_all"]
    opensim = with_wrapping(rajagopal, "opensim")
    r = moment_arms(rajagopal, q, coords, muscles=names)
    for name in ("psoas_r", "iliacus_r"):
        k = names.index(name)
        ps, po = path_points(rajagopal, q, name), path_points(opensim, q, name)
        same = np.array([np.array_equal(a[a != -99], b[b != -99]) and (a < 0).any() for a, b in zip(ps.ids, po.ids,
                                                                                                     strict=True)])
        rule = same & (_via_point_clearance(rajagopal, q, name) > 0)
        assert rule.sum() > 500
        to_fd = np.abs(r[rule, k] - d["moment_arm_fd"][rule, k]).max()
        to_opensim = np.abs(r[rule, k] - d["moment_arm"][rule, k])
        assert to_fd < 0.2e-3, (name, to_fd)
        assert np.percentile(to_opensim, 95) < 1e-3, name


def test_path_points_in_smooth_mode_end_at_tangent_points(rajagopal: Model) -> None:
    q = _poses(rajagopal, 50, 7)
    p = path_points(rajagopal, q, "psoas_r")
    L = muscle_lengths(rajagopal, q, ["psoas_r"])[:, 0]
    np.testing.assert_allclose(p.length, L, rtol=0, atol=1e-14)
    wrapped = (p.ids == -1).any(axis=1)
    assert wrapped.sum() > 5
    assert (p.count[wrapped] == 6).all() and (p.count[~wrapped] == 4).all()
