"""Coverage of OpenSim elements found in public models (issue 17, item 4), on small synthetic
files written here: FreeJoint and BallJoint, PiecewiseLinearFunction (moving path points and
joint transforms), the deprecated Schutte1993/Delp1990 muscles' path geometry, contact-force tag
names as OpenSim writes them, and lenient loading that never raises on a skippable element and
drops (and names) every path that depended on it. Checked live against OpenSim 4.6."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from iliopsoas.mechanics import (
    OsimError,
    body_transforms,
    complete_coordinates,
    load_osim,
    moment_arms,
    muscle_lengths,
    write_osim,
)
from iliopsoas.mechanics.functions import PiecewiseLinearFunction

PATH = """<GeometryPath name="path"><PathPointSet><objects>{points}</objects></PathPointSet>{wraps}</GeometryPath>"""
POINT = '<PathPoint name="{n}"><socket_parent_frame>{f}</socket_parent_frame><location>{loc}</location></PathPoint>'
PLF_POINT = """<MovingPathPoint name="{n}"><socket_parent_frame>/bodyset/hand</socket_parent_frame>
<socket_x_coordinate>/jointset/{c}</socket_x_coordinate>
<socket_y_coordinate>/jointset/{c}</socket_y_coordinate>
<socket_z_coordinate>/jointset/{c}</socket_z_coordinate>
<x_location><PiecewiseLinearFunction name="function"><x>-1 -0.2 0.3 1</x><y>0.01 0.02 0.015 0.03</y></PiecewiseLinearFunction></x_location>
<y_location><Constant name="function"><value>-0.02</value></Constant></y_location>
<z_location><PiecewiseLinearFunction name="function"><x>-1 1</x><y>-0.01 0.01</y></PiecewiseLinearFunction></z_location>
</MovingPathPoint>"""


def body(name: str) -> str:
    return (f'<Body name="{name}"><mass>1</mass><mass_center>0 -0.1 0</mass_center>'
            f"<inertia>0.01 0.01 0.01 0 0 0</inertia></Body>")


def coordinate(name: str, lo: float, hi: float) -> str:
    return f'<Coordinate name="{name}"><default_value>0</default_value><range>{lo} {hi}</range></Coordinate>'


def muscle(cls: str, name: str, points: str, wraps: str = "") -> str:
    return (f'<{cls} name="{name}">{PATH.format(points=points, wraps=wraps)}<max_isometric_force>300'
            f"</max_isometric_force><optimal_fiber_length>0.08</optimal_fiber_length><tendon_slack_length>0.1"
            f"</tendon_slack_length></{cls}>")


def coverage_model(extra_forces: str = "", extra_joint_fn: str = "", wrap_objects: str = "",
                   constraints: str = "", moving_by: str = "elbow/elbow_flex") -> str:
    forearm_fn = extra_joint_fn or (
        '<PiecewiseLinearFunction name="function"><x>-2 0 2</x><y>-0.01 0 0.02</y></PiecewiseLinearFunction>')
    forces = "".join([
        muscle("Thelen2003Muscle", "moving_plf",
               POINT.format(n="o", f="/bodyset/upper", loc="0.02 -0.05 0.01") + PLF_POINT.format(n="m", c=moving_by)),
        muscle("Schutte1993Muscle_Deprecated", "schutte",
               POINT.format(n="o", f="/bodyset/upper", loc="-0.02 -0.1 0") + POINT.format(n="i", f="/bodyset/forearm",
                                                                                         loc="-0.01 -0.05 0.01")),
        muscle("Delp1990Muscle_Deprecated", "delp",
               POINT.format(n="o", f="/ground", loc="0.05 0.1 0") + POINT.format(n="v", f="/bodyset/upper",
                                                                                loc="0.02 -0.2 0.01")
               + POINT.format(n="i", f="/bodyset/hand", loc="0.01 -0.03 0")),
        extra_forces,
    ])
    ground_extra = wrap_objects
    return f"""<?xml version="1.0" encoding="UTF-8" ?>
<OpenSimDocument Version="40000">
<Model name="coverage">
<Ground name="ground">{ground_extra}</Ground>
<BodySet><objects>{body("upper")}{body("forearm")}{body("hand")}</objects></BodySet>
<JointSet><objects>
<FreeJoint name="free"><socket_parent_frame>/ground</socket_parent_frame><socket_child_frame>/bodyset/upper</socket_child_frame>
<coordinates>{coordinate("f_rx", -1, 1)}{coordinate("f_ry", -1, 1)}{coordinate("f_rz", -1, 1)}{coordinate("f_tx", -1, 1)}{coordinate("f_ty", -1, 1)}{coordinate("f_tz", -1, 1)}</coordinates>
</FreeJoint>
<CustomJoint name="elbow"><socket_parent_frame>upper_offset</socket_parent_frame><socket_child_frame>/bodyset/forearm</socket_child_frame>
<coordinates>{coordinate("elbow_flex", -0.5, 2.5)}</coordinates>
<frames><PhysicalOffsetFrame name="upper_offset"><socket_parent>/bodyset/upper</socket_parent><translation>0 -0.3 0</translation><orientation>0.1 0 0.2</orientation></PhysicalOffsetFrame></frames>
<SpatialTransform>
<TransformAxis name="rotation1"><coordinates>elbow_flex</coordinates><axis>0 0 1</axis><LinearFunction name="function"><coefficients>1 0</coefficients></LinearFunction></TransformAxis>
<TransformAxis name="rotation2"><coordinates></coordinates><axis>1 0 0</axis><Constant name="function"><value>0</value></Constant></TransformAxis>
<TransformAxis name="rotation3"><coordinates></coordinates><axis>0 1 0</axis><Constant name="function"><value>0</value></Constant></TransformAxis>
<TransformAxis name="translation1"><coordinates>elbow_flex</coordinates><axis>1 0 0</axis>{forearm_fn}</TransformAxis>
<TransformAxis name="translation2"><coordinates></coordinates><axis>0 1 0</axis><Constant name="function"><value>0</value></Constant></TransformAxis>
<TransformAxis name="translation3"><coordinates></coordinates><axis>0 0 1</axis><Constant name="function"><value>0</value></Constant></TransformAxis>
</SpatialTransform></CustomJoint>
<BallJoint name="wrist"><socket_parent_frame>forearm_offset</socket_parent_frame><socket_child_frame>/bodyset/hand</socket_child_frame>
<coordinates>{coordinate("wrist_flex", -1, 1)}{coordinate("wrist_dev", -0.5, 0.5)}{coordinate("wrist_rot", -1, 1)}</coordinates>
<frames><PhysicalOffsetFrame name="forearm_offset"><socket_parent>/bodyset/forearm</socket_parent><translation>0 -0.25 0</translation><orientation>0 0.3 0</orientation></PhysicalOffsetFrame></frames>
</BallJoint>
</objects></JointSet>
<ConstraintSet><objects>{constraints}</objects></ConstraintSet>
<ForceSet><objects>{forces}
<HuntCrossleyForce name="contact"><HuntCrossleyForce::ContactParametersSet name="contact_parameters"><objects/></HuntCrossleyForce::ContactParametersSet></HuntCrossleyForce>
</objects></ForceSet>
</Model>
</OpenSimDocument>
"""


@pytest.fixture
def coverage_file(tmp_path: Path) -> Path:
    p = tmp_path / "coverage.osim"
    p.write_text(coverage_model())
    return p


def _poses(model, n: int, seed: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    lo, hi = model.coordinate_ranges.T
    return lo + (hi - lo) * np.random.default_rng(seed).random((n, len(lo)))


def test_the_elements_load_strictly(coverage_file: Path) -> None:
    model = load_osim(coverage_file)
    assert [j.type for j in model.joints] == ["FreeJoint", "CustomJoint", "BallJoint"]
    assert model.muscle_names == ("moving_plf", "schutte", "delp")
    assert model.muscle_params is None  # the deprecated muscles' force models are not reproduced
    fn = model.muscles[0].points[1].functions[0]
    assert isinstance(fn, PiecewiseLinearFunction)
    x = np.array([-2.0, -1.0, -0.6, -0.2, 0.0, 0.3, 0.9, 1.0, 1.5])
    # straight lines between the points; the end segments' slopes continue outside
    expected = np.interp(x, fn.x, fn.y)
    expected[0] = 0.01 + (-2.0 + 1.0) * (0.01 / 0.8)
    expected[-1] = 0.03 + 0.5 * (0.015 / 0.7)
    np.testing.assert_allclose(fn.value(x), expected, atol=1e-15)
    np.testing.assert_allclose(fn.derivative(np.array([-0.5, 0.0, 0.5])), [0.0125, -0.01, 0.015 / 0.7], atol=1e-15)


def test_piecewise_linear_joint_functions_run_compiled_and_in_numpy(coverage_file: Path) -> None:
    model = load_osim(coverage_file)
    q = _poses(model, 300, 4)
    L1 = muscle_lengths(model, q)
    L2 = muscle_lengths(model, q, use_kernel=False)
    np.testing.assert_allclose(L1, L2, atol=1e-12, rtol=0)


def test_lenient_loading_skips_what_it_cannot_reproduce_and_names_every_dropped_path(tmp_path: Path) -> None:
    obstacle = ('<WrapObjectSet><objects><WrapDoubleCylinderObst name="ring"><translation>0 0 0</translation>'
                "<radiusUcyl>0.01</radiusUcyl><radiusVcyl>0.05</radiusVcyl></WrapDoubleCylinderObst></objects>"
                "</WrapObjectSet>")
    on_obstacle = muscle("Thelen2003Muscle", "over_ring",
                         POINT.format(n="o", f="/ground", loc="0 0.1 0")
                         + POINT.format(n="i", f="/bodyset/upper", loc="0 -0.1 0"),
                         '<PathWrapSet><objects><PathWrap name="pw"><wrap_object>ring</wrap_object></PathWrap>'
                         "</objects></PathWrapSet>")
    sine = '<Sine name="function"><amplitude>0.01</amplitude><omega>1</omega><phase>0</phase></Sine>'
    coupler = ('<CoordinateCouplerConstraint name="odd"><coupled_coordinates_function>' + sine +
               "</coupled_coordinates_function><independent_coordinate_names>f_rx</independent_coordinate_names>"
               "<dependent_coordinate_name>wrist_rot</dependent_coordinate_name></CoordinateCouplerConstraint>")
    p = tmp_path / "lenient.osim"
    p.write_text(coverage_model(extra_forces=on_obstacle, extra_joint_fn=sine, wrap_objects=obstacle, constraints=coupler))
    with pytest.raises(OsimError, match=r"unsupported .* \(load with strict=False to skip it\)"):
        load_osim(p)
    model = load_osim(p, strict=False)
    skipped = "\n".join(model.skipped)
    assert "WrapDoubleCylinderObst" in skipped
    assert "'over_ring' skipped: its path wraps over the skipped WrapDoubleCylinderObst 'ring'" in skipped
    assert '<CustomJoint name="elbow">: joint skipped' in skipped and "unsupported function type Sine" in skipped
    assert "joints not connected to ground" in skipped and "wrist" in skipped
    # every path reaching past the skipped elbow (the forearm and hand and their coupler) is left out, by name
    for name in ("moving_plf", "schutte", "delp"):
        assert f"muscle {name!r} skipped" in skipped
    assert model.muscle_names == ()
    assert "<CoordinateCouplerConstraint name=\"odd\">: coupler skipped" in skipped


def test_a_path_following_a_skipped_coupler_is_dropped_and_named(tmp_path: Path) -> None:
    sine = '<Sine name="function"><amplitude>0.01</amplitude><omega>1</omega><phase>0</phase></Sine>'
    coupler = ('<CoordinateCouplerConstraint name="odd"><coupled_coordinates_function>' + sine +
               "</coupled_coordinates_function><independent_coordinate_names>f_rx</independent_coordinate_names>"
               "<dependent_coordinate_name>wrist_rot</dependent_coordinate_name></CoordinateCouplerConstraint>")
    p = tmp_path / "coupler.osim"
    p.write_text(coverage_model(constraints=coupler))
    model = load_osim(p, strict=False)
    skipped = "\n".join(model.skipped)
    # the hand moves with wrist_rot, which the skipped coupler drove: paths reaching the hand go
    assert "muscle 'moving_plf' skipped: its path moves with a coordinate of the skipped coupler(s) ['odd']" in skipped
    assert "muscle 'delp' skipped" in skipped
    assert model.muscle_names == ("schutte",)


def test_a_moving_point_driven_by_a_ball_joint_angle_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "ball.osim"
    p.write_text(coverage_model(moving_by="wrist/wrist_flex"))
    with pytest.raises(OsimError, match="driven by a rotational coordinate of a FreeJoint or BallJoint"):
        load_osim(p)
    assert load_osim(p, strict=False).muscle_names == ("schutte", "delp")


def test_documents_older_than_opensim_2_are_refused_with_a_message(tmp_path: Path) -> None:
    p = tmp_path / "old.osim"
    p.write_text(coverage_model().replace('Version="40000"', 'Version="10500"'))
    with pytest.raises(OsimError, match=r"document version 10500 \(before 2.0\) is not supported"):
        load_osim(p, strict=False)


@pytest.mark.opensim
def test_an_opensim_2_document_is_converted_as_opensim_does(models_dir: Path) -> None:
    opensim = pytest.importorskip("opensim")
    path = models_dir / "kinematicPassengerModel" / "Christophy2012_axialRotationUpd_skeletonOnly.osim"
    assert 'Version="20101"' in path.read_text()[:200]
    model = load_osim(path)
    assert len(model.couplers) == 12 and model.skipped == ()
    q = _poses(model, 10, 11)
    R, p = body_transforms(model, q)
    om = opensim.Model(str(path))
    s = om.initSystem()
    handles = [om.getCoordinateSet().get(c) for c in model.coordinate_names]
    qc = complete_coordinates(model, q)
    for i in range(q.shape[0]):
        for j, h in enumerate(handles):
            h.setValue(s, float(qc[i, j]), False)
        om.realizePosition(s)
        for b, nm in enumerate(model.body_names[1:], start=1):
            X = om.getBodySet().get(nm).getTransformInGround(s)
            assert max(abs(X.p().get(a) - p[i, b, a]) for a in range(3)) < 1e-12, nm


@pytest.mark.opensim
def test_the_elements_match_opensim_live(coverage_file: Path, tmp_path: Path) -> None:
    opensim = pytest.importorskip("opensim")
    model = load_osim(coverage_file)
    written = tmp_path / "written.osim"
    write_osim(model, written)  # FreeJoint and BallJoint as CustomJoints, PLF kept
    q = _poses(model, 25, 7)
    R, p = body_transforms(model, q)
    L = muscle_lengths(model, q)
    r = moment_arms(model, q)
    cids = [i for i in range(len(model.coordinates)) if not model.dependent_mask[i]]
    for path in (coverage_file, written):
        om = opensim.Model(str(path))
        s = om.initSystem()
        cs = om.getCoordinateSet()
        handles = [cs.get(c) for c in model.coordinate_names]
        mus = [om.getMuscles().get(nm) for nm in model.muscle_names]
        for i in range(q.shape[0]):
            for j, h in enumerate(handles):
                h.setValue(s, float(q[i, j]), False)
            om.realizePosition(s)
            for b, nm in enumerate(model.body_names[1:], start=1):
                X = om.getBodySet().get(nm).getTransformInGround(s)
                assert max(abs(X.p().get(a) - p[i, b, a]) for a in range(3)) < 1e-12
                assert max(abs(X.R().get(a, c) - R[i, b, a, c]) for a in range(3) for c in range(3)) < 1e-12
            for k, mu in enumerate(mus):
                assert abs(mu.getLength(s) - L[i, k]) < 1e-12, (path.name, mu.getName())
                for c, ci in enumerate(cids):
                    assert abs(mu.computeMomentArm(s, handles[ci]) - r[i, k, c]) < 1e-9, (mu.getName(), ci)


LIGAMENT = """<Ligament name="lig"><GeometryPath name="path"><PathPointSet><objects>
<PathPoint name="a"><socket_parent_frame>/bodyset/upper</socket_parent_frame><location>0.03 -0.25 0.01</location></PathPoint>
<PathPoint name="b"><socket_parent_frame>/bodyset/forearm</socket_parent_frame><location>0.02 -0.04 0</location></PathPoint>
</objects></PathPointSet></GeometryPath><resting_length>0.06</resting_length><pcsa_force>50</pcsa_force>
<SimmSpline name="force_length_curve"><x>-5 0.998 0.999 1 1.1 1.2 1.5 5</x><y>0 0 0 0 20 80 400 1000</y></SimmSpline>
</Ligament>"""
SPRING = """<PathSpring name="spring"><GeometryPath name="path"><PathPointSet><objects>
<PathPoint name="a"><socket_parent_frame>/ground</socket_parent_frame><location>0.1 0.05 0</location></PathPoint>
<PathPoint name="b"><socket_parent_frame>/bodyset/forearm</socket_parent_frame><location>-0.02 -0.1 0.02</location></PathPoint>
</objects></PathPointSet></GeometryPath><resting_length>0.3</resting_length><stiffness>800</stiffness>
<dissipation>0.3</dissipation></PathSpring>"""


@pytest.mark.opensim
def test_ligament_and_path_spring_lengths_moment_arms_and_tensions_match_opensim(tmp_path: Path) -> None:
    opensim = pytest.importorskip("opensim")
    from iliopsoas.mechanics.path_forces import (
        path_force_lengths,
        path_force_moment_arms,
        path_force_tensions,
    )

    p = tmp_path / "passive.osim"
    p.write_text(coverage_model(extra_forces=LIGAMENT + SPRING))
    model = load_osim(p)
    assert [pf.type for pf in model.path_forces] == ["Ligament", "PathSpring"]
    assert model.muscle_names == ("moving_plf", "schutte", "delp")  # the passive forces are kept apart
    q = _poses(model, 30, 9)
    qdot = np.random.default_rng(10).normal(size=q.shape)
    cids = [model.coordinate_index(c) for c in ("f_rx", "f_ty", "elbow_flex")]
    L = path_force_lengths(model, q)
    r = path_force_moment_arms(model, q, cids)
    speed = -np.einsum("nmk,nk->nm", path_force_moment_arms(model, q, list(range(len(model.coordinates)))), qdot)
    T = path_force_tensions(model, q, lengthening_speed=speed)
    assert (T[:, 0] > 0).any() and (T[:, 0] == 0).any() and (T[:, 1] > 0).any()  # taut and slack poses
    om = opensim.Model(str(p))
    s = om.initSystem()
    cs = om.getCoordinateSet()
    handles = [cs.get(c) for c in model.coordinate_names]
    lig = opensim.Ligament.safeDownCast(om.getForceSet().get("lig"))
    spring = opensim.PathSpring.safeDownCast(om.getForceSet().get("spring"))
    for i in range(q.shape[0]):
        for j, h in enumerate(handles):
            h.setValue(s, float(q[i, j]), False)
            h.setSpeedValue(s, float(qdot[i, j]))
        om.realizeDynamics(s)
        for k, obj in enumerate((lig, spring)):
            gp = obj.getGeometryPath()
            assert abs(gp.getLength(s) - L[i, k]) < 1e-12
            assert abs(obj.getTension(s) - T[i, k]) <= 1e-9 * max(1.0, abs(T[i, k]))
            for c, ci in enumerate(cids):
                assert abs(gp.computeMomentArm(s, handles[ci]) - r[i, k, c]) < 1e-12
