"""Reading .osim files: safe parsing, clear errors with element, name and line; write round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from iliopsoas.mechanics import OsimError, load_osim, moment_arms, muscle_lengths, write_osim

MINI = """<?xml version="1.0" encoding="UTF-8" ?>
<OpenSimDocument Version="40000">
  <Model name="mini">
    <Ground name="ground" />
    <BodySet><objects>
      <Body name="thigh"><mass>1</mass><mass_center>0 0 0</mass_center><inertia>1 1 1 0 0 0</inertia></Body>
    </objects></BodySet>
    <JointSet><objects>
      <{joint} name="hip">
        <socket_parent_frame>ground_offset</socket_parent_frame>
        <socket_child_frame>thigh_offset</socket_child_frame>
        <coordinates><Coordinate name="hip_flexion"><default_value>0</default_value>
          <range>-1 2</range></Coordinate></coordinates>
        <frames>
          <PhysicalOffsetFrame name="ground_offset"><socket_parent>/ground</socket_parent>
            <translation>0 1 0</translation><orientation>0 0 0</orientation></PhysicalOffsetFrame>
          <PhysicalOffsetFrame name="thigh_offset"><socket_parent>/bodyset/thigh</socket_parent>
            <translation>0 0 0</translation><orientation>0 0 0</orientation></PhysicalOffsetFrame>
        </frames>
      </{joint}>
    </objects></JointSet>
    <ForceSet><objects>
      <Thelen2003Muscle name="flexor">
        <GeometryPath name="path"><PathPointSet><objects>
          <PathPoint name="origin"><socket_parent_frame>/ground</socket_parent_frame>
            <location>0.05 1.1 0</location></PathPoint>
          <PathPoint name="insertion"><socket_parent_frame>{insertion_body}</socket_parent_frame>
            <location>0.03 -0.2 0</location></PathPoint>
        </objects></PathPointSet></GeometryPath>
        <max_isometric_force>1000</max_isometric_force><optimal_fiber_length>0.1</optimal_fiber_length>
        <tendon_slack_length>0.1</tendon_slack_length><pennation_angle_at_optimal>0</pennation_angle_at_optimal>
      </Thelen2003Muscle>
    </objects></ForceSet>
  </Model>
</OpenSimDocument>
"""


def mini(tmp_path: Path, joint: str = "PinJoint", insertion_body: str = "/bodyset/thigh") -> Path:
    p = tmp_path / "mini.osim"
    p.write_text(MINI.format(joint=joint, insertion_body=insertion_body))
    return p


def test_a_pin_joint_muscle_has_the_textbook_moment_arm(tmp_path: Path) -> None:
    model = load_osim(mini(tmp_path))
    q = np.linspace(-1, 2, 7)[:, None]
    L = muscle_lengths(model, q)[:, 0]
    # origin (0.05, 0.1) above the pin, insertion (0.03, -0.2) rotating about z: law of cosines
    a, b = np.array([0.05, 0.1]), np.array([0.03, -0.2])
    c, s = np.cos(q[:, 0]), np.sin(q[:, 0])
    ins = np.stack([c * b[0] - s * b[1], s * b[0] + c * b[1]], axis=1)
    assert np.allclose(L, np.linalg.norm(ins - a, axis=1), atol=1e-14)
    r = moment_arms(model, q)[:, 0, 0]
    rx = moment_arms(model, q, exact=True)[:, 0, 0]
    assert np.allclose(r, rx, atol=1e-9)
    dins = np.stack([-s * b[0] - c * b[1], c * b[0] - s * b[1]], axis=1)
    assert np.allclose(r, -np.sum((ins - a) * dins, axis=1) / L, atol=1e-12)


def test_model_is_immutable(tmp_path: Path) -> None:
    model = load_osim(mini(tmp_path))
    with pytest.raises(ValueError):
        model.joints[0].axes[0, 0] = 5.0
    with pytest.raises(AttributeError):
        model.name = "other"  # type: ignore[misc]


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(OsimError, match="no such file"):
        load_osim(tmp_path / "absent.osim")


def test_broken_xml_is_a_clear_error(tmp_path: Path) -> None:
    p = tmp_path / "broken.osim"
    p.write_text("<OpenSimDocument><Model name='x'>")
    with pytest.raises(OsimError, match="malformed XML"):
        load_osim(p)


def test_entity_expansion_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "bomb.osim"
    p.write_text(
        '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        "<OpenSimDocument><Model name='&b;'/></OpenSimDocument>"
    )
    with pytest.raises(OsimError, match="unsafe XML"):
        load_osim(p)


def test_unknown_body_reference_names_element_name_and_line(tmp_path: Path) -> None:
    with pytest.raises(OsimError) as exc:
        load_osim(mini(tmp_path, insertion_body="/bodyset/shank"))
    msg = str(exc.value)
    assert 'PathPoint name="insertion"' in msg
    assert "mini.osim:27:" in msg
    assert "shank" in msg


def test_unsupported_joint_fails_in_strict_mode_and_is_listed_in_lenient_mode(tmp_path: Path) -> None:
    path = mini(tmp_path, joint="EllipsoidJoint")
    with pytest.raises(OsimError, match=r'mini.osim:9: <EllipsoidJoint name="hip">: unsupported joint type'):
        load_osim(path)


def test_not_an_osim_file(tmp_path: Path) -> None:
    p = tmp_path / "x.osim"
    p.write_text("<html></html>")
    with pytest.raises(OsimError, match="no <Model>"):
        load_osim(p)


def test_q_shape_is_checked_with_a_message_naming_the_input(tmp_path: Path) -> None:
    model = load_osim(mini(tmp_path))
    with pytest.raises(ValueError, match=r"q must have shape \(n_poses, 1\)"):
        muscle_lengths(model, np.zeros((3, 2)))
    with pytest.raises(KeyError, match="unknown coordinate"):
        moment_arms(model, np.zeros((1, 1)), ["knee"])


def test_write_osim_round_trip_gives_identical_numbers(models_dir: Path, tmp_path: Path) -> None:
    for rel in ("opensim-models/Rajagopal2016.osim", "opensim-models/gait2392_millard2012muscle.osim"):
        model = load_osim(models_dir / rel)
        out = tmp_path / "copy.osim"
        write_osim(model, out)
        again = load_osim(out)
        assert again.coordinate_names == model.coordinate_names
        assert again.muscle_names == model.muscle_names
        rng = np.random.default_rng(7)
        lo, hi = model.coordinate_ranges.T
        q = lo + (hi - lo) * rng.random((40, len(model.coordinates)))
        assert np.abs(muscle_lengths(again, q) - muscle_lengths(model, q)).max() < 1e-12
        cs = ["hip_flexion_r", "knee_angle_r"]
        assert np.abs(moment_arms(again, q, cs) - moment_arms(model, q, cs)).max() < 1e-12


@pytest.mark.opensim
def test_write_osim_output_loads_in_opensim_with_the_same_numbers(models_dir: Path, tmp_path: Path) -> None:
    opensim = pytest.importorskip("opensim")
    model = load_osim(models_dir / "opensim-models/Rajagopal2016.osim")
    out = tmp_path / "rt.osim"
    write_osim(model, out)
    om = opensim.Model(str(out))
    s = om.initSystem()
    q = model.coordinate_defaults.copy()
    q[model.coordinate_index("hip_flexion_r")] = 0.6
    q[model.coordinate_index("knee_angle_r")] = 0.9
    q[model.coordinate_index("knee_angle_r_beta")] = 0.9
    for name, v in zip(model.coordinate_names, q, strict=True):
        om.getCoordinateSet().get(name).setValue(s, float(v), False)
    om.realizePosition(s)
    ours_L = muscle_lengths(model, q)[0]
    ours_r = moment_arms(model, q, ["hip_flexion_r"])[0, :, 0]
    hip = om.getCoordinateSet().get("hip_flexion_r")
    for k, name in enumerate(model.muscle_names):
        mu = om.getMuscles().get(name)
        assert abs(mu.getLength(s) - ours_L[k]) < 1e-7
        assert abs(mu.computeMomentArm(s, hip) - ours_r[k]) < 1e-6


def test_lenient_mode_lists_what_it_skipped(tmp_path: Path) -> None:
    model = load_osim(mini(tmp_path, joint="EllipsoidJoint"), strict=False)
    assert any("unsupported joint type EllipsoidJoint" in s for s in model.skipped)
    assert any("muscle 'flexor' skipped: it attaches to bodies without a joint" in s for s in model.skipped)
    assert model.muscle_names == ()


def test_unsupported_wrap_surface_is_named(tmp_path: Path) -> None:
    text = MINI.format(joint="PinJoint", insertion_body="/bodyset/thigh").replace(
        '<Body name="thigh">',
        '<Body name="thigh"><WrapObjectSet><objects><WrapDoubleCylinderObst name="ring"/></objects></WrapObjectSet>',
    )
    p = tmp_path / "obstacle.osim"
    p.write_text(text)
    with pytest.raises(OsimError, match=r'<WrapDoubleCylinderObst name="ring">: unsupported wrap object type'):
        load_osim(p)
    assert any("WrapDoubleCylinderObst" in s for s in load_osim(p, strict=False).skipped)
