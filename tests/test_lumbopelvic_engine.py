"""The lumbopelvic model in our engine: same numbers as OpenSim, continuous paths, loader options."""

from __future__ import annotations

import numpy as np
import pytest

from iliopsoas import models
from iliopsoas.mechanics import complete_coordinates, moment_arms, muscle_lengths


@pytest.fixture(scope="module")
def model():
    return models.load("lumbopelvic")


def test_loader_builds_the_whole_model(model):
    assert len(model.muscles) == 132
    assert len(model.coordinates) == 36
    assert model.skipped == ()
    assert "sacroiliac_nutation_r" in model.coordinate_names


def test_loader_options_change_the_model():
    no_minor = models.load("lumbopelvic", psoas_minor=False)
    assert "psoas_minor_r" not in no_minor.muscle_names and len(no_minor.muscles) == 130
    free = models.load("lumbopelvic", lumbar_rhythm=False)
    assert free.dependent_mask.sum() == 2  # only the two patellae stay coupled


def test_unknown_name_is_a_clear_error():
    with pytest.raises(models.ModelDescriptionError, match="unknown model"):
        models.load("lumbar-spine")


def _sweeps(model, names: list[str], steps: int) -> tuple[np.ndarray, list[slice]]:
    poses, spans = [], []
    for name in names:
        k = model.coordinate_index(name)
        lo, hi = model.coordinates[k].range
        q = np.zeros((steps, len(model.coordinates)))
        q[:, k] = np.linspace(lo, hi, steps)
        spans.append(slice(len(poses) * steps, (len(poses) + 1) * steps))
        poses.append(q)
    return complete_coordinates(model, np.concatenate(poses)), spans


def test_lengths_are_continuous_over_every_coordinate_range(model):
    """No jump: each step's length change stays within 1 mm of what its neighbours predict.

    Sweeps 600 poses per coordinate (all others at zero). A wrap switching on or off abruptly,
    or a conditional point, would show as a step off the local trend. Every iliopsoas, hip and
    knee path stays within 0.02 mm; the largest step in the model, 0.77 mm, is where IL_L2
    (erector spinae) starts to wrap over the Christophy torso cylinder in lumbar axial rotation
    (OpenSim's tangent-point construction; our engine matches OpenSim to 1e-9 m there too).
    """
    names = ["sacroiliac_nutation_r", "L5_S1_flex_ext", "L5_S1_lat_bending", "L5_S1_axial_rotation",
             "hip_flexion_r", "hip_adduction_r", "hip_rotation_r", "knee_angle_r"]
    steps = 600
    q, spans = _sweeps(model, names, steps)
    L = muscle_lengths(model, q)
    iliopsoas = [i for i, n in enumerate(model.muscle_names) if n.startswith(("psoas", "iliacus"))]
    for name, span in zip(names, spans, strict=True):
        d = np.diff(L[span], axis=0)  # (steps - 1, muscles)
        off_trend = np.abs(d[1:-1] - 0.5 * (d[:-2] + d[2:]))
        assert off_trend[:, iliopsoas].max() < 2e-5, name
        worst = np.unravel_index(np.argmax(off_trend), off_trend.shape)
        assert off_trend.max() < 1e-3, (name, model.muscle_names[worst[1]], float(off_trend.max()))


@pytest.mark.opensim
def test_engine_and_opensim_agree_on_lengths_and_moment_arms(model, tmp_path):
    osim = pytest.importorskip("opensim")
    osim.Logger.removeFileSink()  # no opensim.log in the working directory
    osim.Logger.setLevelString("error")
    path = models.write(tmp_path / "lumbopelvic.osim")
    om = osim.Model(str(path))
    s = om.initSystem()
    rng = np.random.default_rng(11)
    lo = np.maximum(model.coordinate_ranges[:, 0], -1.0)
    hi = np.minimum(model.coordinate_ranges[:, 1], 1.0)
    q = complete_coordinates(model, rng.uniform(lo, hi, size=(8, len(lo))))
    coords = ["hip_flexion_r", "hip_rotation_l", "L5_S1_flex_ext", "L5_S1_lat_bending", "sacroiliac_nutation_r",
              "knee_angle_r"]
    names = ["psoas_major_L1_VB_r", "psoas_major_L4_TP_l", "psoas_minor_r", "iliacus_sacral_r", "iliacus_upper_l",
             "glmax1_r", "recfem_r", "vaslat_r", "semiten_r", "QL_post_I_1_L3_r", "IL_L2_r", "LTpL_L5_l", "obtint_r", "pect_l"]
    L = muscle_lengths(model, q, muscles=names)
    R = moment_arms(model, q, coords, muscles=names)
    cs, ms = om.getCoordinateSet(), om.getMuscles()
    worst_l = worst_r = 0.0
    for i in range(len(q)):
        for j, cname in enumerate(model.coordinate_names):
            cs.get(cname).setValue(s, float(q[i, j]), False)
        om.realizePosition(s)
        for k, n in enumerate(names):
            mu = ms.get(n)
            worst_l = max(worst_l, abs(mu.getLength(s) - L[i, k]))
            for c, cname in enumerate(coords):
                worst_r = max(worst_r, abs(mu.computeMomentArm(s, cs.get(cname)) - R[i, k, c]))
    assert worst_l < 1e-9
    assert worst_r < 1e-9


@pytest.mark.opensim
def test_write_osim_export_loads_in_opensim_with_the_same_lengths(model, tmp_path):
    osim = pytest.importorskip("opensim")
    from iliopsoas.mechanics import load_osim
    from iliopsoas.mechanics.osim import write_osim

    osim.Logger.removeFileSink()
    osim.Logger.setLevelString("error")
    path = tmp_path / "exported.osim"
    write_osim(model, path)
    rng = np.random.default_rng(3)
    lo = np.maximum(model.coordinate_ranges[:, 0], -1.0)
    hi = np.minimum(model.coordinate_ranges[:, 1], 1.0)
    q = complete_coordinates(model, rng.uniform(lo, hi, size=(4, len(lo))))
    L = muscle_lengths(model, q)
    assert np.abs(muscle_lengths(load_osim(path), q) - L).max() < 1e-12
    om = osim.Model(str(path))
    s = om.initSystem()
    cs, ms = om.getCoordinateSet(), om.getMuscles()
    worst = 0.0
    for i in range(len(q)):
        for j, name in enumerate(model.coordinate_names):
            cs.get(name).setValue(s, float(q[i, j]), False)
        om.realizePosition(s)
        worst = max(worst, max(abs(ms.get(n).getLength(s) - L[i, k]) for k, n in enumerate(model.muscle_names)))
    assert worst < 1e-9
