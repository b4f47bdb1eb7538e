"""The bundled lumbopelvic–hip model: its description, its registration and its OpenSim export."""

from __future__ import annotations

import math

import numpy as np
import pytest

from iliopsoas import models
from iliopsoas.models.description import ModelDescriptionError, mirror_name


@pytest.fixture(scope="module")
def desc() -> dict:
    return models.expand("lumbopelvic")


def _by_name(items: list[dict]) -> dict[str, dict]:
    return {i["name"]: i for i in items}


def test_model_has_the_bodies_and_joints_the_issue_asks_for(desc):
    bodies = {b["name"] for b in desc["bodies"]}
    for side in "rl":
        assert {f"innominate_{side}", f"femur_{side}", f"tibia_{side}", f"patella_{side}"} <= bodies
    assert {"torso", "sacrum", "lumbar1", "lumbar2", "lumbar3", "lumbar4", "lumbar5"} <= bodies
    joints = _by_name(desc["joints"])
    for level in ("T12_L1", "L1_L2", "L2_L3", "L3_L4", "L4_L5", "L5_S1"):
        assert len(joints[level]["coordinates"]) == 3
    for side in "rl":
        assert [c["name"] for c in joints[f"hip_{side}"]["coordinates"]] == [
            f"hip_flexion_{side}", f"hip_adduction_{side}", f"hip_rotation_{side}"
        ]
        si = joints[f"sacroiliac_{side}"]
        assert (si["parent"], si["child"]) == ("sacrum", f"innominate_{side}")


def test_sacroiliac_joints_move_a_few_degrees_against_a_literature_stiffness(desc):
    joints = _by_name(desc["joints"])
    for side in "rl":
        (c,) = joints[f"sacroiliac_{side}"]["coordinates"]
        lo, hi = (math.degrees(v) for v in c["range"])
        assert -5 < lo < -2 and 2 < hi < 5  # RSA studies: at most 3.6 deg
        assert 6.8 <= c["passive_stiffness"] * math.pi / 180 <= 30  # N m/deg, Miller 1987 span
    assert "sacroiliac" in desc["sources"]


def test_muscle_groups_cover_targets_antagonists_and_synergists():
    g = models.groups("lumbopelvic")
    for side in "rl":
        assert len(g[f"psoas_major_{side}"]) == 11
        assert len(g[f"iliacus_{side}"]) >= 3
        assert g[f"psoas_minor_{side}"] == [f"psoas_minor_{side}"]
        for name in (
            "gluteus_maximus", "biceps_femoris_long_head", "semitendinosus", "semimembranosus",
            "piriformis", "obturator_internus", "quadratus_lumborum", "erector_spinae",
            "pectineus", "sartorius", "rectus_femoris", "tensor_fasciae_latae", "gluteus_medius_anterior",
        ):
            assert f"{name}_{side}" in g, name


def test_psoas_minor_is_switchable():
    with_minor = {m["name"] for m in models.expand("lumbopelvic")["muscles"]}
    without = {m["name"] for m in models.expand("lumbopelvic", psoas_minor=False)["muscles"]}
    assert with_minor - without == {"psoas_minor_r", "psoas_minor_l"}


def test_lumbar_rhythm_can_be_switched_off():
    coupled = models.expand("lumbopelvic")["constraints"]
    free = models.expand("lumbopelvic", lumbar_rhythm=False)["constraints"]
    assert len(coupled) - len(free) == 15  # five upper levels x three rotations
    assert {c["dependent"] for c in free} == {"knee_angle_r_beta", "knee_angle_l_beta"}


def test_left_side_is_the_mirror_image_of_the_right(desc):
    muscles = _by_name(desc["muscles"])
    for name, m in muscles.items():
        if not name.endswith("_r"):
            continue
        left = muscles[mirror_name(name)]
        for key in ("max_isometric_force", "optimal_fiber_length", "tendon_slack_length", "pennation_angle_at_optimal"):
            assert left[key] == m[key]
        for pr, pl in zip(m["path"], left["path"], strict=True):
            assert pl["location"] == [pr["location"][0], pr["location"][1], -pr["location"][2]]
            assert pl["body"] == mirror_name(pr["body"])


def test_every_figure_names_a_cited_source(desc):
    sources = desc["sources"]
    assert all(s.get("citation") for s in sources.values())
    for item in desc["bodies"] + desc["joints"] + desc["wrap_objects"] + desc["constraints"]:
        assert item["source"] in sources, item["name"]
    for m in desc["muscles"]:
        assert m["parameters_source"] in sources, m["name"]
        for key in ("tendon_slack_length_source", "max_isometric_force_source"):
            if key in m:
                assert m[key] in sources
        for p in m["path"]:
            assert p["source"] in sources, m["name"]


def test_unknown_model_name_is_a_clear_error():
    with pytest.raises(ModelDescriptionError, match="unknown model 'spine'.*lumbopelvic"):
        models.expand("spine")


def test_osim_text_is_an_opensim_document():
    text = models.osim_text("lumbopelvic")
    assert text.startswith('<?xml version="1.0"')
    assert text.count("<Millard2012EquilibriumMuscle ") == 132
    assert text.count("<SpringGeneralizedForce ") == 2


# ---------------------------------------------------------------------------------------- OpenSim


@pytest.fixture(scope="module")
def osim_pair(tmp_path_factory, models_dir):
    """(opensim module, our model, its state) with our export loaded in OpenSim 4.6."""
    osim = pytest.importorskip("opensim")
    osim.Logger.removeFileSink()  # no opensim.log in the working directory
    osim.Logger.setLevelString("error")
    path = models.write(tmp_path_factory.mktemp("lp") / "lumbopelvic.osim")
    m = osim.Model(str(path))
    s = m.initSystem()
    return osim, m, s


def _set(model, state, values: dict[str, float]) -> None:
    cs = model.getCoordinateSet()
    for i in range(cs.getSize()):
        c = cs.get(i)
        c.setValue(state, values.get(c.getName(), 0.0), False)
    model.realizePosition(state)


def _lengths(model, state, names) -> np.ndarray:
    ms = model.getMuscles()
    return np.array([ms.get(n).getLength(state) for n in names])


def _ground(osim, model, state, body: str, loc) -> np.ndarray:
    v = model.getBodySet().get(body).findStationLocationInGround(state, osim.Vec3(*[float(x) for x in loc]))
    return np.array([v.get(i) for i in range(3)])


@pytest.mark.opensim
def test_leg_muscles_registered_from_rajagopal_keep_their_lengths(osim_pair, models_dir):
    """Splitting the pelvis into sacrum + innominates must not move any Rajagopal geometry."""
    osim, ours, s1 = osim_pair
    raj = osim.Model(str(models_dir / "opensim-models" / "Rajagopal2016.osim"))
    s2 = raj.initSystem()
    names = ["glmax1_r", "glmax2_r", "glmax3_r", "bflh_r", "semiten_r", "semimem_r", "piri_r",
             "sart_r", "recfem_r", "tfl_r", "glmed1_r", "glmax1_l", "recfem_l", "semiten_l",
             "addlong_r", "addbrev_r", "addmagProx_r", "addmagMid_r", "addmagDist_r", "addmagIsch_r", "grac_r",
             "addlong_l", "addmagIsch_l", "grac_l"]
    rng = np.random.default_rng(5)
    worst = 0.0
    for _ in range(25):
        pose = {}
        for side in "rl":
            pose |= {f"hip_flexion_{side}": rng.uniform(-0.3, 1.9), f"hip_adduction_{side}": rng.uniform(-0.5, 0.3),
                     f"hip_rotation_{side}": rng.uniform(-0.6, 0.6), f"knee_angle_{side}": rng.uniform(0.0, 2.0)}
            pose[f"knee_angle_{side}_beta"] = pose[f"knee_angle_{side}"]
        _set(ours, s1, pose)
        _set(raj, s2, pose)
        worst = max(worst, float(np.max(np.abs(_lengths(ours, s1, names) - _lengths(raj, s2, names)))))
        il = _lengths(ours, s1, ["iliacus_lower_r"])[0] - _lengths(raj, s2, ["iliacus_r"])[0]
        worst = max(worst, abs(il))
    assert worst < 1e-6


@pytest.mark.opensim
def test_deep_external_rotators_registered_from_gait2392_keep_their_lengths(osim_pair, models_dir):
    """Quadratus femoris and the gemelli line (our obturator internus) come from Delp 1990 unchanged."""
    osim, ours, s1 = osim_pair
    src = osim.Model(str(models_dir / "opensim-models" / "gait2392_millard2012muscle.osim"))
    s2 = src.initSystem()
    rng = np.random.default_rng(11)
    worst = 0.0
    for _ in range(10):
        pose = {"hip_flexion_r": rng.uniform(-0.3, 1.9), "hip_adduction_r": rng.uniform(-0.5, 0.3),
                "hip_rotation_r": rng.uniform(-0.6, 0.6)}
        _set(ours, s1, pose)
        _set(src, s2, pose)
        mine = _lengths(ours, s1, ["quadfem_r", "obtint_r"])
        theirs = _lengths(src, s2, ["quad_fem_r", "gem_r"])
        worst = max(worst, float(np.max(np.abs(mine - theirs))))
    assert worst < 1e-6


@pytest.mark.opensim
def test_lumbar_muscles_registered_from_christophy_keep_their_lengths(osim_pair, models_dir, desc):
    osim, ours, s1 = osim_pair
    src = osim.Model(str(models_dir / "pose2sim" / "Model_Pose2Sim_muscles_flex.osim"))
    s2 = src.initSystem()
    ratios = {c["dependent"]: c["linear"][0] for c in desc["constraints"] if c.get("lumbar_rhythm")}
    src_names = {"flex_ext": "Flex_Ext", "lat_bending": "Lat_Bending", "axial_rotation": "axial_rotation"}
    right = [m["name"] for m in desc["muscles"] if m["group"] in ("quadratus_lumborum_r", "erector_spinae_r")]
    left = [mirror_name(n) for n in right]
    rng = np.random.default_rng(7)
    worst_r = worst_l = 0.0
    for _ in range(15):
        base = {"flex_ext": rng.uniform(-0.19, 0.06), "lat_bending": rng.uniform(-0.04, 0.04),
                "axial_rotation": rng.uniform(-0.2, 0.2)}
        ours_pose, src_pose = {}, {}
        for level, src_level in [("L5_S1", "L5_S1"), ("L4_L5", "L4_L5"), ("L3_L4", "L3_L4"),
                                 ("L2_L3", "L2_L3"), ("L1_L2", "L1_L2"), ("T12_L1", "L1_T12")]:
            for k, v in base.items():
                val = v * ratios.get(f"{level}_{k}", 1.0)
                ours_pose[f"{level}_{k}"] = val
                src_pose[f"{src_level}_{src_names[k]}"] = val
        _set(ours, s1, ours_pose)
        _set(src, s2, src_pose)
        worst_r = max(worst_r, float(np.max(np.abs(_lengths(ours, s1, right) - _lengths(src, s2, right)))))
        worst_l = max(worst_l, float(np.max(np.abs(_lengths(ours, s1, left) - _lengths(src, s2, left)))))
    assert worst_r < 1e-6
    # Our left side is the exact mirror of the right; the source's left side is not (its left QL and
    # longissimus points differ from the mirrored right ones by up to about 2 mm).
    assert worst_l < 3e-3


def test_psoas_runs_along_the_vertebral_bodies_from_the_t12_l1_disc(desc):
    """Bogduk 1992: fascicles from the T12/L1 disc down, along the lateral aspect of the bodies.

    Every fascicle passes a via point on each lumbar vertebra below its origin, outside the
    vertebral body (elliptic cores of ``bone_shapes``) and then over the sacral ala; the
    uppermost fascicle starts on the torso, above the T12/L1 joint.
    """
    shapes = {c["body"]: c for c in desc["bone_shapes"]["elliptic_cylinders"]}
    fascicles = [m for m in desc["muscles"] if m["group"] == "psoas_major_r"]
    assert any(m["path"][0]["body"] == "torso" for m in fascicles)
    for mu in fascicles:
        bodies = [p["body"] for p in mu["path"]]
        start = 0 if bodies[0] == "torso" else int(bodies[0][-1])
        assert bodies[1:7 - start] == [f"lumbar{j}" for j in range(start + 1, 6)] + ["sacrum"], mu["name"]
        for p in mu["path"][1:6 - start]:
            sh = shapes[p["body"]]
            x, _, z = p["location"]
            (cx, cz), (ax, az) = sh["centre_xz"], sh["semi_axes_xz"]
            assert ((x - cx) / ax) ** 2 + ((z - cz) / az) ** 2 > 1.0, (mu["name"], p["body"])


@pytest.mark.opensim
def test_symmetric_pose_gives_equal_left_and_right_lengths(osim_pair, desc):
    osim, m, s = osim_pair
    pose = {"L5_S1_flex_ext": -0.1}
    for side in "rl":
        pose |= {f"hip_flexion_{side}": 0.7, f"hip_adduction_{side}": -0.1, f"hip_rotation_{side}": 0.2,
                 f"knee_angle_{side}": 0.9, f"knee_angle_{side}_beta": 0.9, f"sacroiliac_nutation_{side}": 0.03}
    for c in desc["constraints"]:
        if c.get("lumbar_rhythm"):
            pose[c["dependent"]] = c["linear"][0] * pose.get(c["independent"], 0.0)
    _set(m, s, pose)
    right = [mu["name"] for mu in desc["muscles"] if mu["side"] == "r"]
    left = [mirror_name(n) for n in right]
    assert np.max(np.abs(_lengths(m, s, right) - _lengths(m, s, left))) < 1e-9


def _path_points_in_ground(osim, m, s, name: str) -> list[np.ndarray]:
    cur = m.getMuscles().get(name).getGeometryPath().getCurrentPath(s)
    out = []
    for i in range(cur.getSize()):
        v = cur.get(i).getLocationInGround(s)
        out.append(np.array([v.get(k) for k in range(3)]))
    return out


@pytest.mark.opensim
def test_no_muscle_path_passes_through_bone_at_neutral(osim_pair, desc):
    """Against simple bone cores (femoral heads, lumbar vertebral bodies; see ``bone_shapes``)."""
    osim, m, s = osim_pair
    _set(m, s, {})
    shapes = desc["bone_shapes"]
    bodyset = m.getBodySet()

    def to_body(body: str, pts: np.ndarray) -> np.ndarray:
        tr = bodyset.get(body).getTransformInGround(s)
        rot = np.array([[tr.R().get(i, j) for j in range(3)] for i in range(3)])
        p = np.array([tr.p().get(i) for i in range(3)])
        return (pts - p) @ rot

    spheres = shapes["spheres"] + [
        {**sp, "name": mirror_name(sp["name"]), "body": mirror_name(sp["body"])} for sp in shapes["spheres"]
    ]
    ts = np.linspace(0.0, 1.0, 41)[:, None]
    for mu in desc["muscles"]:
        attached = {mu["path"][0]["body"]}  # the vertebra of origin (via points must clear the others)
        pts = _path_points_in_ground(osim, m, s, mu["name"])
        samples = np.concatenate([a + ts * (b - a) for a, b in zip(pts[:-1], pts[1:], strict=True)])
        for sp in spheres:
            local = to_body(sp["body"], samples) - np.array(sp["centre"])
            assert np.min(np.linalg.norm(local, axis=1)) > sp["radius"], (mu["name"], sp["name"])
        for cyl in shapes["elliptic_cylinders"]:
            if cyl["body"] in attached:
                continue  # a path may start on the surface of its own vertebra
            local = to_body(cyl["body"], samples)
            (cx, cz), (ax, az) = cyl["centre_xz"], cyl["semi_axes_xz"]
            inside = (((local[:, 0] - cx) / ax) ** 2 + ((local[:, 2] - cz) / az) ** 2 < 1.0) & (
                (local[:, 1] > cyl["y_range"][0]) & (local[:, 1] < cyl["y_range"][1])
            )
            assert not inside.any(), (mu["name"], cyl["name"])


def test_docs_list_every_muscle_group_and_figure():
    from iliopsoas.paths import REPO_DIR

    doc = (REPO_DIR / "docs" / "model.md").read_text(encoding="utf-8")
    for group in models.groups("lumbopelvic"):
        if group.endswith("_r"):
            assert f"| {group} |" in doc, group
    for img in ("model_crossings.png", "model_hip_moment_arms.png", "model_lumbar.png"):
        assert f"img/{img}" in doc and (REPO_DIR / "docs" / "img" / img).is_file()


def test_broken_cross_references_are_reported_with_their_place():
    from iliopsoas.models.description import _check

    d = models.expand("lumbopelvic")
    d["muscles"][0]["path"][1]["body"] = "pelvis"
    with pytest.raises(ModelDescriptionError, match=r"muscle psoas_major_L1_VB_r point 2 is on unknown body 'pelvis'"):
        _check("lumbopelvic", d)
    d = models.expand("lumbopelvic")
    d["muscles"][3]["tendon_slack_length"] = None
    with pytest.raises(ModelDescriptionError, match="needs a number for tendon_slack_length"):
        _check("lumbopelvic", d)
