"""MovingPathPoints run in the compiled OpenSim-mode kernel with the NumPy reference's numbers.

Muscles whose points include a ``MovingPathPoint`` (and whose wraps are cylinders) go through the
fused whole-model kernel (``model_kernel``/``muscle_path`` in ``mechanics/_wrap_kernels.py``) for
batches of ``KERNEL_MIN_POSES`` poses or more; ``use_kernel=False`` runs the NumPy reference
(``path.py``), which the live OpenSim tests check. The kernel must give the same lengths and moment
arms (<= 1e-12 m): the point's location at the clamped coordinate and, in the moment arm, its own
velocity in its body, ``R dloc/dq`` at the unclamped value (OpenSim's convention).

The synthetic model covers: moving points on wrap-free paths (summed inline) and on paths over one
and two cylinders, a moving point driven by a coordinate that does not move its own body (its
velocity term counts along directions that leave the body still), a moving point as first and as
last point, two moving points on one body in a row, a conditional point beside moving ones,
SimmSpline, PiecewiseLinear, Linear and Constant functions, and poses past the coordinate ranges
(where the location is clamped and the derivative is not). MoBL-ARMS 4.1 and DAS (tests/data/osim)
add a published model's moving-point muscle (APL, cylinders only); their other moving-point muscles
and the cyclist's cross ellipsoids, spheres or tori, which the fused kernel does not run. With
OpenSim 4.6 installed, the kernel's numbers for the synthetic model are also checked live.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from iliopsoas.mechanics import complete_coordinates, lengths_and_moment_arms, load_osim, muscle_lengths
from iliopsoas.mechanics.data import model_data
from iliopsoas.mechanics.model import Model
from iliopsoas.mechanics.wrap import KERNEL_MIN_POSES

pytest.importorskip("numba")

TOL = 1e-12  # m
DATA = Path(__file__).parent / "data" / "osim"

PATH = '<GeometryPath name="path"><PathPointSet><objects>{points}</objects></PathPointSet>{wraps}</GeometryPath>'
POINT = '<PathPoint name="{n}"><socket_parent_frame>{f}</socket_parent_frame><location>{loc}</location></PathPoint>'
COND = ('<ConditionalPathPoint name="{n}"><socket_parent_frame>{f}</socket_parent_frame><location>{loc}</location>'
        "<socket_coordinate>/jointset/{c}</socket_coordinate><range>{lo} {hi}</range></ConditionalPathPoint>")
SPLINE = '<SimmSpline name="function"><x>{x}</x><y>{y}</y></SimmSpline>'
PLF = '<PiecewiseLinearFunction name="function"><x>{x}</x><y>{y}</y></PiecewiseLinearFunction>'
LIN = '<LinearFunction name="function"><coefficients>{a} {b}</coefficients></LinearFunction>'
CONST = '<Constant name="function"><value>{v}</value></Constant>'


def moving(n: str, f: str, c: str, fx: str, fy: str, fz: str) -> str:
    return (f'<MovingPathPoint name="{n}"><socket_parent_frame>{f}</socket_parent_frame>'
            f"<socket_x_coordinate>/jointset/{c}</socket_x_coordinate>"
            f"<socket_y_coordinate>/jointset/{c}</socket_y_coordinate>"
            f"<socket_z_coordinate>/jointset/{c}</socket_z_coordinate>"
            f"<x_location>{fx}</x_location><y_location>{fy}</y_location><z_location>{fz}</z_location>"
            "</MovingPathPoint>")


def wraps(*names: str) -> str:
    items = "".join(f'<PathWrap name="pw{i}"><wrap_object>{w}</wrap_object><method>hybrid</method>'
                    f"<range>-1 -1</range></PathWrap>" for i, w in enumerate(names))
    return f"<PathWrapSet><objects>{items}</objects></PathWrapSet>"


def muscle(name: str, points: str, wrap: str = "") -> str:
    return (f'<Thelen2003Muscle name="{name}">{PATH.format(points=points, wraps=wrap)}'
            "<max_isometric_force>300</max_isometric_force><optimal_fiber_length>0.08</optimal_fiber_length>"
            "<tendon_slack_length>0.1</tendon_slack_length></Thelen2003Muscle>")


def cylinder(name: str, xyz: str, trans: str, radius: float, quadrant: str) -> str:
    return (f'<WrapCylinder name="{name}"><xyz_body_rotation>{xyz}</xyz_body_rotation>'
            f"<translation>{trans}</translation><active>true</active><quadrant>{quadrant}</quadrant>"
            f"<radius>{radius}</radius><length>0.2</length></WrapCylinder>")


def body(name: str, wrap_objects: str = "") -> str:
    ws = f'<WrapObjectSet name="wrapobjectset"><objects>{wrap_objects}</objects></WrapObjectSet>' if wrap_objects else ""
    return (f'<Body name="{name}"><mass>1</mass><mass_center>0 -0.1 0</mass_center>'
            f"<inertia>0.01 0.01 0.01 0 0 0</inertia>{ws}</Body>")


def pin(name: str, parent: str, child: str, coord: str, lo: float, hi: float, offset: str, orient: str) -> str:
    return (f'<PinJoint name="{name}"><socket_parent_frame>{parent}_offset</socket_parent_frame>'
            f"<socket_child_frame>/bodyset/{child}</socket_child_frame>"
            f'<coordinates><Coordinate name="{coord}"><default_value>0</default_value><range>{lo} {hi}</range>'
            f"</Coordinate></coordinates><frames>"
            f'<PhysicalOffsetFrame name="{parent}_offset"><socket_parent>{"/ground" if parent == "ground" else "/bodyset/" + parent}'
            f"</socket_parent><translation>{offset}</translation><orientation>{orient}</orientation>"
            "</PhysicalOffsetFrame></frames></PinJoint>")


def moving_model() -> str:
    up, fa, ha = "/bodyset/upper", "/bodyset/forearm", "/bodyset/hand"
    m_elbow = moving("m_elbow", fa, "elbow/elbow_flex", SPLINE.format(x="-0.5 0.5 1.5 2.5", y="0.012 0.02 0.016 0.008"),
                     SPLINE.format(x="-0.5 1 2.5", y="-0.02 -0.035 -0.03"), CONST.format(v=0.004))
    m_by_wrist = moving("m_by_wrist", up, "wrist/wrist_flex", PLF.format(x="-1 -0.2 0.3 1", y="0.01 0.02 0.015 0.03"),
                        LIN.format(a=0.01, b=-0.25), PLF.format(x="-1 1", y="-0.01 0.01"))
    m_first = moving("m_first", up, "shoulder/shoulder_flex", LIN.format(a=0.01, b=0.02),
                     SPLINE.format(x="-1 0 1 2", y="-0.03 -0.05 -0.04 -0.06"), CONST.format(v=-0.01))
    m_last = moving("m_last", ha, "wrist/wrist_flex", SPLINE.format(x="-1 0 1", y="0.01 0.015 0.012"),
                    LIN.format(a=-0.01, b=-0.04), CONST.format(v=0.0))
    m_last2 = moving("m_last", fa, "elbow/elbow_flex", SPLINE.format(x="-0.5 0.5 1.5 2.5", y="0.02 0.03 0.025 0.022"),
                     SPLINE.format(x="-0.5 1 2.5", y="-0.2 -0.22 -0.21"), CONST.format(v=-0.005))
    m_fa2 = moving("m_fa2", fa, "elbow/elbow_flex", CONST.format(v=0.018),
                   SPLINE.format(x="-0.5 1 2.5", y="-0.06 -0.08 -0.07"), LIN.format(a=0.002, b=0.0))
    forces = "".join([
        muscle("mov_inline",
               POINT.format(n="o", f=up, loc="0.02 -0.05 0.01") + m_elbow + POINT.format(n="i", f=ha, loc="0.01 -0.03 0")),
        muscle("mov_other_coordinate",
               POINT.format(n="o", f="/ground", loc="0.05 0.1 0") + m_by_wrist + POINT.format(n="i", f=ha, loc="0.01 -0.03 0")),
        muscle("mov_first_last_inline", m_first + POINT.format(n="v", f=fa, loc="0.015 -0.1 0") + m_last),
        muscle("mov_one_cylinder",
               m_first + m_elbow + m_fa2 + POINT.format(n="i", f=ha, loc="0.01 -0.02 0.005"), wraps("elbow_cyl")),
        muscle("mov_two_cylinders",
               POINT.format(n="o", f=up, loc="0.02 -0.1 0.01")
               + COND.format(n="c", f=up, loc="0.03 -0.25 0.0", c="elbow/elbow_flex", lo=-0.5, hi=1.2)
               + m_last2 + POINT.format(n="i", f=ha, loc="0.02 -0.04 0"), wraps("elbow_cyl", "wrist_cyl")),
        muscle("mov_back_cylinder",
               POINT.format(n="o", f=up, loc="-0.02 -0.1 0") + m_elbow + m_last, wraps("wrist_cyl")),
        muscle("fixed", POINT.format(n="o", f=up, loc="-0.02 -0.1 0") + POINT.format(n="i", f=fa, loc="-0.01 -0.05 0.01")),
    ])
    return f"""<?xml version="1.0" encoding="UTF-8" ?>
<OpenSimDocument Version="40000">
<Model name="moving">
<Ground name="ground"/>
<BodySet><objects>{body("upper", cylinder("elbow_cyl", "0 0 0", "0 -0.3 0", 0.02, "+x"))}{body("forearm")}{body("hand", "")}{body("palm", cylinder("wrist_cyl", "0.3 0 0", "0 0 0", 0.015, "-x"))}</objects></BodySet>
<JointSet><objects>
{pin("shoulder", "ground", "upper", "shoulder_flex", -1.0, 2.0, "0 0 0", "0 0 0")}
{pin("elbow", "upper", "forearm", "elbow_flex", -0.5, 2.5, "0 -0.3 0", "0.1 0 0.2")}
{pin("wrist", "forearm", "hand", "wrist_flex", -1.0, 1.0, "0 -0.25 0", "0 0.3 0")}
<WeldJoint name="palm_weld"><socket_parent_frame>hand_offset</socket_parent_frame><socket_child_frame>/bodyset/palm</socket_child_frame><frames><PhysicalOffsetFrame name="hand_offset"><socket_parent>/bodyset/hand</socket_parent><translation>0 0 0</translation><orientation>0 0 0</orientation></PhysicalOffsetFrame></frames></WeldJoint>
</objects></JointSet>
<ForceSet><objects>{forces}</objects></ForceSet>
</Model>
</OpenSimDocument>
"""


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Model:
    p = tmp_path_factory.mktemp("moving") / "moving.osim"
    p.write_text(moving_model())
    return load_osim(p)


def _poses(model: Model, n: int, seed: int, widen: float = 0.0) -> np.ndarray:
    lo, hi = model.coordinate_ranges.T
    span = hi - lo
    q = (lo - widen * span) + (1 + 2 * widen) * span * np.random.default_rng(seed).random((n, len(lo)))
    locked = np.array([c.locked for c in model.coordinates], dtype=bool)
    q[:, locked] = model.coordinate_defaults[locked]
    return complete_coordinates(model, q)


def _compare(model: Model, q: np.ndarray, muscles: list[str], coords: list[str] | None = None) -> tuple[float, float]:
    assert q.shape[0] >= KERNEL_MIN_POSES  # the compiled kernel, not the NumPy path
    L1, r1 = lengths_and_moment_arms(model, q, coords, muscles=muscles)
    L2, r2 = lengths_and_moment_arms(model, q, coords, muscles=muscles, use_kernel=False)
    assert np.isfinite(L2).all() and np.isfinite(r2).all()
    assert np.array_equal(np.isnan(L1), np.isnan(L2)) and np.array_equal(np.isnan(r1), np.isnan(r2))
    return float(np.nanmax(np.abs(L1 - L2), initial=0.0)), float(np.nanmax(np.abs(r1 - r2), initial=0.0))


def test_moving_point_muscles_are_kernel_muscles(model: Model) -> None:
    d = model_data(model)
    assert all(d.kernel_muscles)
    assert len(d.moving_points) == 10
    pmove = d.path_tables[6]
    assert pmove.shape == (sum(len(mu.points) for mu in model.muscles), 2)
    assert sorted(pmove[pmove[:, 0] >= 0, 0].tolist()) == list(range(10))


@pytest.mark.parametrize("widen", [0.0, 0.2])
def test_kernel_and_numpy_agree_on_moving_point_muscles(model: Model, widen: float) -> None:
    q = _poses(model, 400, 21 if widen else 20, widen)
    dL, dr = _compare(model, q, list(model.muscle_names))
    assert dL <= TOL and dr <= TOL, (dL, dr)
    _, r = lengths_and_moment_arms(model, q)
    assert np.abs(r).max() > 0.01  # the comparison is not between zeros


def test_the_moving_velocity_term_counts_where_its_coordinate_leaves_the_body_still(model: Model) -> None:
    # the wrist moves neither the ground nor the upper arm, which carry mov_other_coordinate's first
    # two points: its wrist moment arm is the hand's and the moving point's own velocity terms
    q = _poses(model, 300, 22)
    L1, r1 = lengths_and_moment_arms(model, q, ["wrist_flex"], muscles=["mov_other_coordinate"])
    L2, r2 = lengths_and_moment_arms(model, q, ["wrist_flex"], muscles=["mov_other_coordinate"], use_kernel=False)
    assert np.abs(r1 - r2).max() <= TOL
    h = 1e-7
    qp, qm = q.copy(), q.copy()
    j = model.coordinate_names.index("wrist_flex")
    qp[:, j] += h
    qm[:, j] -= h
    fd = -(muscle_lengths(model, qp, ["mov_other_coordinate"]) - muscle_lengths(model, qm, ["mov_other_coordinate"])) / (2 * h)
    assert np.abs(r1[:, :, 0] - fd).max() < 1e-6  # inside the range: OpenSim's moment arm is -dL/dq


def test_subsets_orders_and_chunks_give_the_same_numbers(model: Model) -> None:
    q = _poses(model, 300, 23, 0.1)
    names = list(model.muscle_names)
    pick = ["mov_two_cylinders", "fixed", "mov_inline"]
    L, r = lengths_and_moment_arms(model, q)
    Lp, rp = lengths_and_moment_arms(model, q, muscles=pick, chunk_size=97)
    idx = [names.index(m) for m in pick]
    assert np.array_equal(Lp, L[:, idx]) and np.array_equal(rp, r[:, idx])


def _public(tmp_path: Path, rel: str) -> Model:
    p = tmp_path / Path(rel).name[:-3]
    p.write_bytes(gzip.decompress((DATA / rel).read_bytes()))
    return load_osim(p)


@pytest.mark.parametrize("rel", ["upper-limb/MOBL_ARMS_41.osim.gz", "arm-model/das4_v4.osim.gz"])
def test_public_models_moving_point_muscles_agree(tmp_path: Path, rel: str) -> None:
    # MoBL-ARMS and DAS each have one such muscle (APL) whose wraps the kernel knows; their other
    # moving-point muscles cross ellipsoids, spheres or tori and stay on the NumPy path code
    m = _public(tmp_path, rel)
    d = model_data(m)
    mov = sorted({i for i, _ in d.moving_points})
    kern = [m.muscle_names[i] for i in mov if d.kernel_muscles[i]]
    assert kern == ["APL"]
    assert all(d.kernel_muscles[i] == all(m.wrap_objects[w.wrap_object].has_kernel for w in m.muscles[i].wraps)
               for i in mov)
    q = _poses(m, KERNEL_MIN_POSES, 24)
    free = [m.coordinate_names[i] for i in range(len(m.coordinates)) if not m.dependent_mask[i]]
    dL, dr = _compare(m, q, kern, free)
    assert dL <= TOL and dr <= TOL, (dL, dr)
    _, r = lengths_and_moment_arms(m, q, free, muscles=kern)
    assert np.abs(r).max() > 0.005


def test_the_cyclists_moving_point_muscles_stay_on_numpy_for_their_ellipsoids(tmp_path: Path) -> None:
    m = _public(tmp_path, "full-body-cyclist/cyclistFullBodyMuscle.osim.gz")
    d = model_data(m)
    mov = sorted({i for i, _ in d.moving_points})
    assert len(mov) == 4
    assert not any(d.kernel_muscles[i] for i in mov)
    assert all(any(m.wrap_objects[w.wrap_object].type == "WrapEllipsoid" for w in m.muscles[i].wraps) for i in mov)


@pytest.mark.opensim
@pytest.mark.parametrize("widen", [0.0, 0.1])
def test_the_kernel_matches_opensim_live_on_moving_points(model: Model, tmp_path: Path, widen: float) -> None:
    opensim = pytest.importorskip("opensim")
    path = tmp_path / "moving.osim"
    path.write_text(moving_model())
    q = _poses(model, KERNEL_MIN_POSES, 25 if widen else 26, widen)  # the compiled kernel; the first poses checked
    L, r = lengths_and_moment_arms(model, q)
    om = opensim.Model(str(path))
    s = om.initSystem()
    cs = om.getCoordinateSet()
    handles = [cs.get(c) for c in model.coordinate_names]
    mus = [om.getMuscles().get(nm) for nm in model.muscle_names]
    for i in range(12):
        for j, h in enumerate(handles):
            h.setValue(s, float(q[i, j]), False)
        om.realizePosition(s)
        for k, mu in enumerate(mus):
            assert abs(mu.getLength(s) - L[i, k]) < 1e-12, (mu.getName(), i)
            for c, h in enumerate(handles):
                assert abs(mu.computeMomentArm(s, h) - r[i, k, c]) < 1e-9, (mu.getName(), i, c)
