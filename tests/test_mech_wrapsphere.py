"""WrapSphere against live OpenSim 4.6: lengths, moment arms and tangent points on random poses.

The arm26 model's wrap surfaces (two cylinders, two ellipsoids) are turned into spheres of
several radii, positions and quadrants, so that every arm muscle wraps over a sphere on some
poses and runs clear of it on others. Tolerances: lengths 1e-7 m, moment arms 1e-6 m, path
points 1e-7 m. Poses within 1e-6 rad of a wrap switch (the wrap state changes when a coordinate
moves by 1e-6) are excluded and counted. Poses come from a fresh seed per run (printed;
ILIOPSOAS_MECH_SEED replays a failure).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from iliopsoas.mechanics import (
    OsimError,
    complete_coordinates,
    load_osim,
    moment_arms,
    muscle_lengths,
    path_points,
    write_osim,
)
from iliopsoas.mechanics import wrap as wrapmod
from iliopsoas.mechanics.model import Model

LENGTH_TOL = 1e-7
MOMENT_ARM_TOL = 1e-6
POINT_TOL = 1e-7
SWITCH_STEP = 1e-6
N_POSES = 60

# wrap object -> (radius m, quadrant, translation offset added to the original, m)
VARIANTS = {
    "as_placed": {
        "TRI": (0.016, "all", (0.0, 0.0, 0.0)),
        "TRIlonghh": (0.02, "z", (0.0, 0.0, 0.0)),
        "BIClonghh": (0.02, "-y", (0.0, 0.0, 0.0)),
        "TRIlongglen": (0.003, "x", (0.0, 0.0, 0.0)),
    },
    "shifted": {
        "TRI": (0.022, "-x", (-0.004, 0.003, 0.0)),
        "TRIlonghh": (0.026, "all", (0.002, 0.0, 0.003)),
        "BIClonghh": (0.03, "+x", (0.0, -0.003, 0.002)),
        "TRIlongglen": (0.006, "-y", (0.002, 0.0, 0.0)),
    },
    "constrained_y": {
        "TRI": (0.012, "+y", (0.003, 0.0, 0.0)),
        "TRIlonghh": (0.018, "-z", (0.0, 0.002, 0.0)),
        "BIClonghh": (0.024, "y", (0.0, 0.0, -0.002)),
        "TRIlongglen": (0.004, "all", (0.0, 0.0, 0.0)),
    },
}


def sphere_model(src: Path, dst: Path, spec: dict[str, tuple[float, str, tuple[float, float, float]]]) -> Path:
    """Copy of ``src`` with the named wrap objects replaced by WrapSpheres."""
    tree = ET.parse(src)
    for wset in tree.getroot().iter("WrapObjectSet"):
        objs = wset.find("objects")
        if objs is None:
            continue
        for i, w in enumerate(list(objs)):
            name = w.get("name", "")
            if name not in spec:
                continue
            radius, quadrant, offset = spec[name]
            tr = np.array((w.findtext("translation") or "0 0 0").split(), dtype=float) + offset
            sphere = ET.Element("WrapSphere", {"name": name})
            for tag, text in (("active", "true"), ("xyz_body_rotation", w.findtext("xyz_body_rotation") or "0 0 0"),
                              ("translation", " ".join(repr(float(v)) for v in tr)), ("quadrant", quadrant),
                              ("radius", repr(radius))):
                ET.SubElement(sphere, tag).text = text
            objs.remove(w)
            objs.insert(i, sphere)
    tree.write(dst)
    return dst


def random_poses(model: Model, n: int, rng: np.random.Generator) -> np.ndarray:
    lo, hi = model.coordinate_ranges.T
    return lo + (hi - lo) * rng.random((n, len(model.coordinates)))


def wrap_signature(model: Model, q: np.ndarray, muscles: list[int] | None = None) -> np.ndarray:
    """Per pose and muscle, which tangent points are in the path ``(n, n_muscles)`` (bit mask)."""
    ks = list(range(len(model.muscles))) if muscles is None else muscles
    out = np.zeros((q.shape[0], len(ks)), dtype=np.int64)
    for col, k in enumerate(ks):
        ids = path_points(model, q, k).ids
        for w in range(len(model.muscles[k].wraps)):
            out[:, col] |= np.any(ids == -1 - 2 * w, axis=1).astype(np.int64) << w
    return out


def near_switch(model: Model, q: np.ndarray, muscles: list[int] | None = None) -> np.ndarray:
    """Poses whose wrap state changes when any coordinate moves by ``SWITCH_STEP``."""
    base = wrap_signature(model, q, muscles)
    near = np.zeros(q.shape[0], dtype=bool)
    for c in range(q.shape[1]):
        for step in (-SWITCH_STEP, SWITCH_STEP):
            qq = q.copy()
            qq[:, c] += step
            near |= np.any(wrap_signature(model, qq, muscles) != base, axis=1)
    return near


def opensim_values(
    path: Path, model: Model, q: np.ndarray, muscles: list[str] | None = None, coordinates: list[str] | None = None
) -> tuple[np.ndarray, np.ndarray, list[list[np.ndarray]]]:
    """OpenSim's lengths ``(n, m)``, computeMomentArm ``(n, m, c)`` and current path points."""
    opensim = pytest.importorskip("opensim")
    om = opensim.Model(str(path))
    s = om.initSystem()
    cs = om.getCoordinateSet()
    all_coords = [cs.get(c) for c in model.coordinate_names]
    coords = [cs.get(c) for c in (coordinates or model.coordinate_names)]
    handles = [om.getMuscles().get(name) for name in (muscles or model.muscle_names)]
    n, m, c = q.shape[0], len(handles), len(coords)
    L, r = np.zeros((n, m)), np.zeros((n, m, c))
    points: list[list[np.ndarray]] = []
    for i in range(n):
        for j, h in enumerate(all_coords):
            h.setValue(s, float(q[i, j]), False)
        om.realizePosition(s)
        row = []
        for k, mu in enumerate(handles):
            L[i, k] = mu.getLength(s)
            for j, h in enumerate(coords):
                r[i, k, j] = mu.computeMomentArm(s, h)
            cp = mu.getGeometryPath().getCurrentPath(s)
            row.append(np.array([cp.get(p).getLocationInGround(s).to_numpy() for p in range(cp.getSize())]))
        points.append(row)
    return L, r, points


@pytest.mark.opensim
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_sphere_wrapping_matches_opensim_on_random_poses(variant: str, models_dir: Path, tmp_path: Path,
                                                          seed: int) -> None:
    path = sphere_model(models_dir / "opensim-models/arm26.osim", tmp_path / f"{variant}.osim", VARIANTS[variant])
    model = load_osim(path)
    assert sorted(w.name for w in model.wrap_objects if w.type == "WrapSphere") == sorted(VARIANTS[variant])
    q = random_poses(model, N_POSES, np.random.default_rng([seed, len(variant)]))
    L_ref, r_ref, pts_ref = opensim_values(path, model, q)
    L = muscle_lengths(model, q)
    r = moment_arms(model, q)
    keep = ~near_switch(model, q)
    sig = wrap_signature(model, q)
    pt_err = 0.0
    for k in range(len(model.muscles)):
        cur = path_points(model, q, k)
        for i in np.nonzero(keep)[0]:
            ours = cur.ground[i, : cur.count[i]]
            assert ours.shape == pts_ref[i][k].shape, (variant, model.muscle_names[k], i)
            pt_err = max(pt_err, float(np.abs(ours - pts_ref[i][k]).max()))
    len_err = np.abs(L - L_ref)[keep]
    ma_err = np.abs(r - r_ref)[keep]
    wrapped = (sig[keep] != 0).mean()
    # OpenSim stores a far-side sphere wrap's arc as a negative length; count the compared ones
    far = sum(int((path_points(model, q, k).wrap_length[keep] < 0).any(axis=1).sum())
              for k in range(len(model.muscles)))
    print(f"{variant}: {keep.sum()} poses compared, {(~keep).sum()} excluded near a wrap switch; "
          f"{wrapped:.0%} muscle-poses wrap a sphere ({far} far-side); max errors: length {len_err.max():.1e} m, "
          f"moment arm {ma_err.max():.1e} m, path points {pt_err:.1e} m")
    assert keep.sum() >= N_POSES * 0.8
    assert 0.05 < wrapped < 0.95  # the variant exercises both wrapped and clear paths
    if variant == "constrained_y":
        assert far > 0  # this variant's quadrants produce far-side wraps
    assert len_err.max() < LENGTH_TOL
    assert ma_err.max() < MOMENT_ARM_TOL
    assert pt_err < POINT_TOL


HIP = ["hip_flexion_r", "hip_adduction_r", "hip_rotation_r", "lumbar_extension"]
BRIM = {  # Rajagopal2016's pelvic-brim cylinders of the right iliopsoas, as spheres
    "PS_at_brim_r": (0.05, "-y", (0.0, 0.0, 0.0)),
    "IL_at_brim_r": (0.045, "all", (0.0, 0.01, 0.0)),
}


@pytest.mark.opensim
def test_iliopsoas_over_pelvic_brim_spheres_matches_opensim(models_dir: Path, tmp_path: Path, seed: int) -> None:
    path = sphere_model(models_dir / "opensim-models/Rajagopal2016.osim", tmp_path / "brim.osim", BRIM)
    model = load_osim(path)
    names = ["psoas_r", "iliacus_r"]
    ks = [model.muscle_index(m) for m in names]
    q = random_poses(model, 40, np.random.default_rng([seed, 2016]))
    locked = np.array([c.locked for c in model.coordinates])
    q[:, locked] = model.coordinate_defaults[locked]
    q = complete_coordinates(model, q)
    L_ref, r_ref, pts_ref = opensim_values(path, model, q, names, HIP)
    keep = ~near_switch(model, q, ks)
    L = muscle_lengths(model, q, names)
    r = moment_arms(model, q, HIP, muscles=names)
    sig = wrap_signature(model, q, ks)
    pt_err = 0.0
    for col, k in enumerate(ks):
        cur = path_points(model, q, k)
        for i in np.nonzero(keep)[0]:
            pt_err = max(pt_err, float(np.abs(cur.ground[i, : cur.count[i]] - pts_ref[i][col]).max()))
    len_err, ma_err = np.abs(L - L_ref)[keep], np.abs(r - r_ref)[keep]
    print(f"Rajagopal2016 brim spheres: {keep.sum()} poses compared, {(~keep).sum()} excluded near a wrap switch; "
          f"{(sig[keep] != 0).mean():.0%} wrapped; max errors: length {len_err.max():.1e} m, "
          f"moment arm {ma_err.max():.1e} m, path points {pt_err:.1e} m")
    assert keep.sum() >= 30
    assert 0.05 < (sig[keep] != 0).mean() < 0.95
    assert len_err.max() < LENGTH_TOL
    assert ma_err.max() < MOMENT_ARM_TOL
    assert pt_err < POINT_TOL


@pytest.mark.opensim
def test_write_osim_round_trip_keeps_spheres_and_opensim_agrees(models_dir: Path, tmp_path: Path) -> None:
    src = sphere_model(models_dir / "opensim-models/arm26.osim", tmp_path / "in.osim", VARIANTS["shifted"])
    model = load_osim(src)
    out = tmp_path / "out.osim"
    write_osim(model, out)
    again = load_osim(out)
    spheres = {w.name: w for w in again.wrap_objects if w.type == "WrapSphere"}
    assert set(spheres) == set(VARIANTS["shifted"])
    for name, (radius, quadrant, _) in VARIANTS["shifted"].items():
        assert spheres[name].radius == radius
        assert spheres[name].quadrant == quadrant
    q = random_poses(model, 12, np.random.default_rng(11))
    assert np.abs(muscle_lengths(again, q) - muscle_lengths(model, q)).max() < 1e-12
    L_ref, r_ref, _ = opensim_values(out, again, q)
    keep = ~near_switch(again, q)
    assert np.abs(muscle_lengths(again, q) - L_ref)[keep].max() < LENGTH_TOL
    assert np.abs(moment_arms(again, q) - r_ref)[keep].max() < MOMENT_ARM_TOL


@pytest.mark.opensim
def test_an_inactive_sphere_is_ignored_as_in_opensim(models_dir: Path, tmp_path: Path) -> None:
    path = sphere_model(models_dir / "opensim-models/arm26.osim", tmp_path / "act.osim", VARIANTS["as_placed"])
    text = path.read_text()
    path.write_text(text.replace('<WrapSphere name="TRI"><active>true</active>', '<WrapSphere name="TRI"><active>false</active>'))
    model = load_osim(path)
    assert not next(w for w in model.wrap_objects if w.name == "TRI").active
    q = random_poses(model, 20, np.random.default_rng(5))
    L_ref, r_ref, _ = opensim_values(path, model, q)
    keep = ~near_switch(model, q)
    assert np.abs(muscle_lengths(model, q) - L_ref)[keep].max() < LENGTH_TOL
    assert np.abs(moment_arms(model, q) - r_ref)[keep].max() < MOMENT_ARM_TOL
    tri = path_points(model, q, model.muscle_index("TRIlat"))
    assert not np.any(np.isin(tri.ids, [-1, -2]))  # TRIlat's only wrap is the inactive sphere


def test_a_segment_clear_of_the_sphere_does_not_wrap() -> None:
    p1 = np.array([[0.1, 0.05, 0.0], [0.1, 0.0, 0.0]])
    p2 = np.array([[-0.1, 0.05, 0.0], [0.05, 0.0, 0.0]])
    code, _, _, _ = wrapmod.wrap_sphere(p1, p2, 0.02, 0, 0)
    # the first passes 5 cm from the centre; the second lies on a ray away from the sphere
    assert code.tolist() == [wrapmod.NO_WRAP, wrapmod.NO_WRAP]


def test_a_segment_through_the_sphere_wraps_on_the_great_circle() -> None:
    R = 0.02
    p1 = np.array([[0.1, 0.005, 0.0]])
    p2 = np.array([[-0.1, 0.005, 0.0]])
    code, r1, r2, wl = wrapmod.wrap_sphere(p1, p2, R, 0, 0)
    assert code[0] == wrapmod.WRAPPED
    # tangent points lie on the sphere, and each end segment is tangent (perpendicular to the radius)
    assert np.allclose(np.linalg.norm(r1, axis=1), R) and np.allclose(np.linalg.norm(r2, axis=1), R)
    assert abs(float(np.dot(r1[0], p1[0] - r1[0]))) < 1e-15
    assert abs(float(np.dot(r2[0], p2[0] - r2[0]))) < 1e-15
    # the path goes over the +y side, where the line passes, and the arc is R * angle
    assert r1[0, 1] > 0 and r2[0, 1] > 0
    angle = np.arccos(np.dot(r1[0], r2[0]) / R**2)
    assert wl[0] == pytest.approx(R * angle, rel=1e-12)
    d = np.hypot(0.1, 0.005)
    expected = 2 * np.sqrt(d**2 - R**2) + R * (np.pi - 2 * np.arctan2(0.005, 0.1) - 2 * np.arccos(R / d))
    assert np.linalg.norm(p1[0] - r1[0]) + wl[0] + np.linalg.norm(p2[0] - r2[0]) == pytest.approx(expected)


def test_an_end_point_inside_the_sphere_is_reported() -> None:
    code, _, _, _ = wrapmod.wrap_sphere(np.array([[0.01, 0.0, 0.0]]), np.array([[-0.1, 0.0, 0.0]]), 0.02, 0, 0)
    assert code[0] == wrapmod.INSIDE_RADIUS


def test_a_negative_sphere_radius_names_the_element(models_dir: Path, tmp_path: Path) -> None:
    spec = dict(VARIANTS["as_placed"])
    spec["TRI"] = (-0.01, "all", (0.0, 0.0, 0.0))
    path = sphere_model(models_dir / "opensim-models/arm26.osim", tmp_path / "neg.osim", spec)
    with pytest.raises(OsimError, match=r'<radius> of <WrapSphere name="TRI">: expected a finite number 0 .. 10000 m'):
        load_osim(path)


def test_large_batches_send_sphere_muscles_to_the_numpy_path(models_dir: Path, tmp_path: Path) -> None:
    path = sphere_model(models_dir / "opensim-models/arm26.osim", tmp_path / "big.osim", VARIANTS["shifted"])
    model = load_osim(path)
    q = random_poses(model, 300, np.random.default_rng(3))  # above the compiled kernel's threshold
    assert np.abs(muscle_lengths(model, q) - muscle_lengths(model, q, use_kernel=False)).max() < 1e-12
    assert np.abs(moment_arms(model, q) - moment_arms(model, q, use_kernel=False)).max() < 1e-12
    small = np.concatenate([muscle_lengths(model, q[i : i + 50]) for i in range(0, 300, 50)])
    assert np.abs(muscle_lengths(model, q) - small).max() < 1e-12
