"""Public ``path_points`` for several muscles: one kinematics pass, the same numbers as one muscle at a time."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import numpy as np
import pytest

import iliopsoas
from iliopsoas import models
from iliopsoas.mechanics import Model, load_osim, path_points
from iliopsoas.mechanics.path import CurrentPath


def _random_poses(model: Model, n: int, seed: int = 0) -> np.ndarray:
    lo = np.array([c.range[0] for c in model.coordinates])
    hi = np.array([c.range[1] for c in model.coordinates])
    return lo + (hi - lo) * np.random.default_rng(seed).random((n, len(lo)))


def _assert_same_path(a: CurrentPath, b: CurrentPath, name: str) -> None:
    for f in dataclasses.fields(CurrentPath):
        np.testing.assert_array_equal(getattr(a, f.name), getattr(b, f.name), err_msg=f"{name}.{f.name}")


@pytest.fixture(scope="module")
def rajagopal(models_dir: Path) -> Model:
    return load_osim(models_dir / "opensim-models" / "Rajagopal2016.osim")


@pytest.fixture(scope="module")
def lumbopelvic() -> Model:
    return models.load("lumbopelvic")


def test_every_rajagopal_path_from_one_call_equals_the_single_muscle_calls(rajagopal: Model) -> None:
    q = _random_poses(rajagopal, 30)
    names = list(rajagopal.muscle_names)
    paths = path_points(rajagopal, q, names)
    assert list(paths) == names
    for name in names:
        _assert_same_path(paths[name], path_points(rajagopal, q, name), name)
    # wrapping muscles really produce tangent points, so the comparison covers wrap insertion
    assert (paths["psoas_r"].ids < 0).any() and (paths["psoas_r"].ids == -99).any()


def test_every_lumbopelvic_path_from_one_call_equals_the_single_muscle_calls(lumbopelvic: Model) -> None:
    q = _random_poses(lumbopelvic, 20, seed=1)
    names = list(lumbopelvic.muscle_names)
    paths = path_points(lumbopelvic, q, names)
    assert list(paths) == names
    for k, name in enumerate(names):
        _assert_same_path(paths[name], path_points(lumbopelvic, q, k), name)


def test_indices_names_order_and_duplicates(lumbopelvic: Model) -> None:
    q = lumbopelvic.coordinate_defaults  # 1-D: one pose
    names = lumbopelvic.muscle_names
    paths = path_points(lumbopelvic, q, [names[3], 0, np.int64(3), names[1]])
    assert list(paths) == [names[3], names[0], names[1]]  # order asked, each muscle once
    assert paths[names[0]].ground.shape[0] == 1
    by_array = path_points(lumbopelvic, q, np.array([1, 0]))
    assert list(by_array) == [names[1], names[0]]
    assert path_points(lumbopelvic, q, []) == {}
    assert isinstance(path_points(lumbopelvic, q, np.int64(2)), CurrentPath)


def test_unknown_muscle_is_named_with_the_closest_names(lumbopelvic: Model) -> None:
    q = lumbopelvic.coordinate_defaults
    typo = lumbopelvic.muscle_names[0] + "x"
    with pytest.raises(KeyError, match=rf"unknown muscle '{typo}'.*closest: {lumbopelvic.muscle_names[0]}"):
        path_points(lumbopelvic, q, [lumbopelvic.muscle_names[1], typo])
    with pytest.raises(KeyError, match=r"unknown muscle 'zzzz'.*see model.muscle_names"):
        path_points(lumbopelvic, q, "zzzz")
    with pytest.raises(KeyError, match=r"muscle index 999 out of range"):
        path_points(lumbopelvic, q, [0, 999])
    with pytest.raises(TypeError, match=r"muscles: expected muscle names or integer indices, got float"):
        path_points(lumbopelvic, q, [1.5])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"got set"):
        path_points(lumbopelvic, q, {"psoas_r"})  # type: ignore[call-overload]
    with pytest.raises(TypeError, match=r"got bytes"):  # not a sequence of byte-valued indices
        path_points(lumbopelvic, q, b"ab")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match=r"got list"):  # a ragged list names no muscle
        path_points(lumbopelvic, q, [["psoas_r"], "iliacus_r"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match=r"q must have shape"):
        path_points(lumbopelvic, q[:-1], ["psoas_r"])


def test_web_scene_paths_equal_the_engine_paths(lumbopelvic: Model) -> None:
    from iliopsoas.web.scene import make_view, muscle_paths

    view = make_view(lumbopelvic)
    q = _random_poses(lumbopelvic, 1, seed=2)[0]
    groups = list(view.groups)[:12]
    drawn = muscle_paths(view, q, groups)
    assert [d["name"] for d in drawn] == [n for g in groups for n in view.groups[g]]
    for d in drawn:
        cp = path_points(lumbopelvic, q, d["name"])
        np.testing.assert_array_equal(d["points"], np.round(cp.ground[0, : int(cp.count[0])], 5))


# Engine internals imported outside iliopsoas.mechanics (none: everything goes through the public API).
KNOWN_INTERNAL_IMPORTS: set[tuple[str, str, str]] = set()
INTERNAL = ("iliopsoas.mechanics.path", "iliopsoas.mechanics.kinematics", "iliopsoas.mechanics.wrap",
            "iliopsoas.mechanics._wrap_kernels")


def test_code_outside_the_engine_uses_its_public_api_for_paths_and_kinematics() -> None:
    root = Path(iliopsoas.__file__).parent
    found = set()
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("mechanics/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module in INTERNAL:
                found |= {(rel, node.module, a.name) for a in node.names}
    assert found <= KNOWN_INTERNAL_IMPORTS, sorted(found - KNOWN_INTERNAL_IMPORTS)
