"""WrapTorus in the OpenSim mode (iliopsoas.mechanics.wrap_torus).

Agreement with OpenSim 4.6 on real models is checked in test_mech_public_models.py (stored values
for all 20 torus muscles of MoBL-ARMS and DAS, and live when opensim is installed). Here: the
compiled circle-point search is the NumPy port bit for bit, OpenSim's status rules, the loader.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from iliopsoas.mechanics import OsimError, load_osim, moment_arms, muscle_lengths, wrap_torus, write_osim
from iliopsoas.mechanics import wrap as wrapmod

MINI = """<?xml version="1.0" encoding="UTF-8" ?>
<OpenSimDocument Version="40000"><Model name="ring">
  <Ground name="ground" />
  <BodySet><objects><Body name="thigh"><mass>1</mass><mass_center>0 0 0</mass_center>
    <inertia>1 1 1 0 0 0</inertia></Body></objects></BodySet>
  <JointSet><objects><PinJoint name="hip">
    <socket_parent_frame>/ground</socket_parent_frame><socket_child_frame>/bodyset/thigh</socket_child_frame>
    <coordinates><Coordinate name="hip_flexion"><range>-1 2</range></Coordinate></coordinates>
  </PinJoint></objects></JointSet>
  <ForceSet><objects><Thelen2003Muscle name="flexor"><GeometryPath name="path"><PathPointSet><objects>
    <PathPoint name="origin"><socket_parent_frame>/ground</socket_parent_frame><location>0.05 0.1 0</location></PathPoint>
    <PathPoint name="insertion"><socket_parent_frame>/bodyset/thigh</socket_parent_frame>
      <location>0.03 -0.2 0</location></PathPoint>
  </objects></PathPointSet></GeometryPath></Thelen2003Muscle></objects></ForceSet>
</Model></OpenSimDocument>
"""


def test_compiled_circle_point_search_is_the_numpy_port_bit_for_bit() -> None:
    pytest.importorskip("numba")
    rng = np.random.default_rng(3)
    n = 3000
    p1 = rng.normal(size=(n, 3)) * rng.uniform(0.005, 0.1, size=(n, 1))
    p2 = p1 + rng.normal(size=(n, 3)) * rng.uniform(0.005, 0.1, size=(n, 1))
    for radius, axis, sign in [(0.01, 0, 0), (0.05, 1, -1), (0.012, 2, 1)]:
        found_n, c_n = wrap_torus.closest_circle_point(p1, p2, radius, axis, sign, compiled=False)
        found_k, c_k = wrap_torus.closest_circle_point(p1, p2, radius, axis, sign, compiled=True)
        assert np.array_equal(found_n, found_k)
        assert np.array_equal(c_n[found_n], c_k[found_n])
        np.testing.assert_allclose(np.hypot(c_n[:, 0], c_n[:, 1]), radius, rtol=1e-12)


def test_lmdif_port_stops_early_as_opensim_does() -> None:
    # OpenSim's tolerances (1e-4, relative) end the search before the residual's root: the
    # stored OpenSim values of the real models depend on exactly where (test_mech_public_models)
    rng = np.random.default_rng(5)
    p1 = rng.normal(size=(200, 3)) * 0.05
    p2 = p1 + rng.normal(size=(200, 3)) * 0.05
    res = wrap_torus._CircleResidual(p1, p2, 0.02)
    u, info = wrap_torus.lmdif_1d(res, 200)
    assert set(np.unique(info)) <= {1, 2, 3, 4, 5, 6, 7, 8} and np.all(info > 0)
    f = np.abs(res(u))
    assert np.median(f) < 1e-3 and np.max(f) > 1e-12  # near a root, not polished to round-off


@pytest.mark.parametrize("compiled", [False, True])
def test_torus_status_follows_opensim(compiled: bool) -> None:
    if compiled:
        pytest.importorskip("numba")
    inner, outer = 0.01, 0.05
    # (a) through the tube (x = 0.045, 5 mm inside the centre circle): wraps over the ring's inside
    # (b) through the hole, clear of the tube: OpenSim still reports "wrapped", with no tangent points
    p1 = np.array([[0.045, 0.0, 0.05], [0.035, 0.0, 0.05]])
    p2 = np.array([[0.045, 0.0, -0.05], [0.035, 0.0, -0.05]])
    code, r1, r2, wl = wrap_torus.wrap_torus(p1, p2, inner, outer, 0, 0, compiled=compiled)
    assert list(code) == [wrapmod.WRAPPED, wrapmod.WRAPPED]  # never MANDATORY_WRAP, as OpenSim
    assert np.all(np.isfinite(r1[0])) and np.all(np.isfinite(r2[0])) and wl[0] > 0
    assert r1[0, 0] < outer and r2[0, 0] < outer  # on the side towards the ring's centre
    assert np.hypot(r1[0, 0] - outer, r1[0, 2]) == pytest.approx(inner, rel=1e-9)
    path = np.linalg.norm(p1[0] - r1[0]) + wl[0] + np.linalg.norm(r2[0] - p2[0])
    assert path > 0.1
    assert np.all(np.isnan(r1[1])) and wl[1] == 0.0
    # (c) constrained to -x while the line lies at +x: no circle point found, no wrap
    code_c, *_ = wrap_torus.wrap_torus(p1, p2, inner, outer, 0, -1, compiled=compiled)
    assert list(code_c) == [wrapmod.NO_WRAP, wrapmod.NO_WRAP]


def _with_torus(tmp_path: Path, radii: str) -> Path:
    text = MINI.replace(
        '<Body name="thigh">',
        '<Body name="thigh"><WrapObjectSet><objects><WrapTorus name="ring">'
        f'<translation>0.04 0 0</translation><xyz_body_rotation>1.5707963267948966 0 0</xyz_body_rotation>{radii}'
        "</WrapTorus></objects></WrapObjectSet>",
    ).replace("</PathPointSet>", "</PathPointSet><PathWrapSet><objects><PathWrap name=\"pw\">"
              "<wrap_object>ring</wrap_object></PathWrap></objects></PathWrapSet>")
    p = tmp_path / "torus.osim"
    p.write_text(text)
    return p


def test_torus_loads_checks_its_radii_and_round_trips(tmp_path: Path) -> None:
    model = load_osim(_with_torus(tmp_path, ""))
    ring = model.wrap_objects[0]
    assert ring.type == "WrapTorus" and (ring.inner_radius, ring.outer_radius) == (0.01, 0.05)  # OpenSim's defaults
    model = load_osim(_with_torus(tmp_path, "<inner_radius>0.02</inner_radius><outer_radius>0.06</outer_radius>"))
    q = np.linspace(-1.0, 2.0, 9)[:, None]
    L = muscle_lengths(model, q)
    straight = np.linalg.norm(np.array([0.05, 0.1, 0.0]) - _insertion(q[:, 0]), axis=1)
    assert np.sum(L[:, 0] > straight + 1e-4) >= 2  # the ring bends the path in some poses
    out = tmp_path / "written.osim"
    write_osim(model, out)
    again = load_osim(out)
    assert (again.wrap_objects[0].inner_radius, again.wrap_objects[0].outer_radius) == (0.02, 0.06)
    np.testing.assert_array_equal(muscle_lengths(again, q), L)
    with pytest.raises(OsimError, match=r"WrapTorus.*expected 0 < inner_radius < outer_radius"):
        load_osim(_with_torus(tmp_path, "<inner_radius>0.06</inner_radius><outer_radius>0.05</outer_radius>"))


def _insertion(angle: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.stack([0.03 * c + 0.2 * s, 0.03 * s - 0.2 * c, np.zeros_like(angle)], axis=1)


@pytest.mark.opensim
def test_synthetic_torus_matches_opensim_live(tmp_path: Path) -> None:
    opensim = pytest.importorskip("opensim")
    path = _with_torus(tmp_path, "<inner_radius>0.02</inner_radius><outer_radius>0.06</outer_radius>")
    model = load_osim(path)
    q = np.linspace(-1.0, 2.0, 25)[:, None]
    L = muscle_lengths(model, q)[:, 0]
    r = moment_arms(model, q, [0])[:, 0, 0]
    om = opensim.Model(str(path))
    s = om.initSystem()
    c = om.getCoordinateSet().get(0)
    mu = om.getMuscles().get(0)
    for i, qi in enumerate(q[:, 0]):
        c.setValue(s, float(qi))
        om.realizePosition(s)
        assert abs(mu.getLength(s) - L[i]) < 1e-12, qi
        assert abs(mu.computeMomentArm(s, c) - r[i]) < 1e-12, qi


def test_smooth_mode_refuses_a_torus_by_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"'flexor' wraps over WrapTorus 'ring'.*use wrapping='opensim'"):
        load_osim(_with_torus(tmp_path, ""), wrapping="smooth")
