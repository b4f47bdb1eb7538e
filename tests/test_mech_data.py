"""Model and data kept apart (issue 17, item 5): per-model tables in one object built once, no
kinematics <-> model import cycle, one switch between NumPy and compiled code, one class per
wrap surface."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import iliopsoas.mechanics as mech
from iliopsoas.mechanics import (
    body_transforms,
    complete_coordinates,
    coupling_vectors,
    lengths_and_moment_arms,
    load_osim,
    moment_arms,
    muscle_lengths,
    path_points,
)
from iliopsoas.mechanics.data import ModelData, model_data
from iliopsoas.mechanics.model import WrapCylinder, WrapEllipsoid, WrapObject, WrapSphere

ENGINE = Path(mech.__file__).parent


@pytest.fixture(scope="module")
def rajagopal(models_dir: Path) -> mech.Model:
    return load_osim(models_dir / "opensim-models" / "Rajagopal2016.osim")


@pytest.fixture(scope="module")
def arm26(models_dir: Path) -> mech.Model:
    return load_osim(models_dir / "opensim-models" / "arm26.osim")


def _poses(model: mech.Model, n: int, seed: int) -> np.ndarray:
    lo = np.maximum(model.coordinate_ranges[:, 0], -1.5)
    hi = np.minimum(model.coordinate_ranges[:, 1], 1.5)
    q = np.random.default_rng(seed).uniform(lo, hi, size=(n, len(lo)))
    locked = np.array([c.locked for c in model.coordinates], dtype=bool)
    q[:, locked] = model.coordinate_defaults[locked]
    return q


def _imports(module: str) -> set[str]:
    tree = ast.parse((ENGINE / f"{module}.py").read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
    return out


def test_the_model_module_imports_no_computation_module() -> None:
    # model.py describes; kinematics/path/moment_arms/data compute on it and import it, never the reverse
    imported = _imports("model")
    for computing in ("kinematics", "path", "moment_arms", "data", "forces"):
        assert not any(m.startswith(f"iliopsoas.mechanics.{computing}") for m in imported), computing


def test_the_tables_are_one_object_built_once_per_model(rajagopal: mech.Model, arm26: mech.Model) -> None:
    d = model_data(rajagopal)
    assert isinstance(d, ModelData)
    muscle_lengths(rajagopal, _poses(rajagopal, 300, 1))
    assert model_data(rajagopal) is d
    assert model_data(arm26) is not d
    assert len(d.kernel_muscles) == len(rajagopal.muscles)
    assert not d.body_mask.flags.writeable and not d.axc.flags.writeable
    # the engine holds no per-model state outside ModelData: no weak-key caches at module level
    for path in sorted(ENGINE.glob("*.py")):
        assert "WeakKeyDictionary" not in path.read_text(encoding="utf-8"), path.name


def test_use_kernel_false_never_calls_compiled_code(rajagopal: mech.Model, arm26: mech.Model,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    models = (rajagopal, arm26)
    qs = [_poses(m, 300, 2 + k) for k, m in enumerate(models)]  # past every kernel's batch threshold
    coords = [["hip_flexion_r", "knee_angle_r"], None]
    expected = []
    for m, q, c in zip(models, qs, coords, strict=True):
        expected.append((lengths_and_moment_arms(m, q, c), body_transforms(m, q),
                         path_points(m, q, m.muscle_names[0]).ground))

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a compiled kernel ran although use_kernel=False")

    import importlib

    kinematics = importlib.import_module("iliopsoas.mechanics.kinematics")
    wrap = importlib.import_module("iliopsoas.mechanics.wrap")
    ma = importlib.import_module("iliopsoas.mechanics.moment_arms")  # the package exports a function of that name

    for mod, names in ((kinematics, ("_FK_KERNEL", "_EVAL", "_COMPLETE", "_COUPLING")), (wrap, ("_KERNEL", "_ELL_KERNEL")),
                       (ma, ("_MODEL_KERNEL", "_SMOOTH_KERNEL"))):
        for name in names:
            monkeypatch.setattr(mod, name, refuse)
    for m, q, c, ((L, r), (R, p), g) in zip(models, qs, coords, expected, strict=True):
        L2, r2 = lengths_and_moment_arms(m, q, c, use_kernel=False)
        np.testing.assert_allclose(L2, L, rtol=0, atol=1e-12)
        np.testing.assert_allclose(r2, r, rtol=0, atol=1e-12)
        R2, p2 = body_transforms(m, q, use_kernel=False)
        np.testing.assert_allclose(R2, R, rtol=0, atol=1e-12)
        np.testing.assert_allclose(p2, p, rtol=0, atol=1e-12)
        g2 = path_points(m, q, m.muscle_names[0], use_kernel=False).ground
        np.testing.assert_allclose(g2, g, rtol=0, atol=1e-12)
        muscle_lengths(m, q, use_kernel=False)
        moment_arms(m, q, c, exact=True, use_kernel=False)
        qc = complete_coordinates(m, q, use_kernel=False)
        coupling_vectors(m, qc, [0], use_kernel=False)


def test_each_wrap_surface_is_its_own_class(rajagopal: mech.Model, arm26: mech.Model) -> None:
    kinds = {type(w) for w in rajagopal.wrap_objects} | {type(w) for w in arm26.wrap_objects}
    assert WrapCylinder in kinds and WrapEllipsoid in kinds
    for cls, tag in ((WrapCylinder, "WrapCylinder"), (WrapSphere, "WrapSphere"), (WrapEllipsoid, "WrapEllipsoid")):
        assert issubclass(cls, WrapObject) and cls.type == tag
    # no module of the engine branches on the surface's class name
    for path in sorted(ENGINE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare) and isinstance(node.left, ast.Attribute) and node.left.attr == "type":
                consts = [c.value for c in node.comparators if isinstance(c, ast.Constant)]
                assert not any(isinstance(v, str) and v.startswith("Wrap") for v in consts), path.name


def test_the_unused_per_muscle_path_kernel_is_gone() -> None:
    from iliopsoas.mechanics import _wrap_kernels, path

    assert not hasattr(_wrap_kernels, "path_kernel") and not hasattr(path, "compiled_path")
