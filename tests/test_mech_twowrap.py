"""Paths over several cylinders in the OpenSim mode keep their numbers through the speed-ups.

OpenSim applies a path's wraps in turn until its length changes by less than 0.5 mm, each with
its iterative tangent refinement. The compiled kernel (``muscle_path`` in
``mechanics/_wrap_kernels.py``) replays a wrap's last application when its input is the same to the
bit (``_apply_wrap_memo``) and steps the refinement without the axis direction's square root and
division (``_step_z``); neither may move a number.

* ``tests/data/mech_twowrap_reference.npz``: lengths and knee, ankle and subtalar moment arms of
  Rajagopal2016's four gastrocnemii at 256 poses (128 uniform over the coordinate ranges, 128 over
  ranges widened by 30%), computed by the kernel before these changes (commit a655f60). Counted
  when the file was made, the 1,024 muscle-poses cover the three ways the pass loop runs there:
  816 where the second cylinder does not touch the path and the second pass is replayed, 190 with
  three passes over both cylinders, 18 with two.
* Wrap orders and sets that Rajagopal does not have, against the NumPy reference
  (``use_kernel=False``), which shares no code with the kernel's pass loop: the gastrocnemius
  wraps reversed (the first wrap often misses, so that only the second application is replayed;
  up to five passes), three cylinders (replays of whole passes, endpoints inside a cylinder) and two
  cylinders on the semitendinosus and semimembranosus (passes where neither wrap touches the path).
  Counted on these 300 poses per variant when the test was written: 469 / 482 / 600 of 600 muscle-poses
  replay at least one application.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from iliopsoas.mechanics import complete_coordinates, lengths_and_moment_arms, load_osim
from iliopsoas.mechanics.model import Model, PathWrap
from iliopsoas.mechanics.wrap import KERNEL_MIN_POSES

pytest.importorskip("numba")

REFERENCE = Path(__file__).parent / "data" / "mech_twowrap_reference.npz"
TOL = 1e-9  # m, lengths and moment arms (issue 17: the same point within 1e-9 m)


@pytest.fixture(scope="module")
def rajagopal(models_dir: Path) -> Model:
    return load_osim(models_dir / "opensim-models" / "Rajagopal2016.osim")


def test_gastrocnemii_give_the_numbers_from_before_the_speedups(rajagopal: Model) -> None:
    ref = np.load(REFERENCE)
    assert list(ref["coordinate_names"]) == list(rajagopal.coordinate_names)
    muscles = [str(m) for m in ref["muscles"]]
    assert all(len(rajagopal.muscles[rajagopal.muscle_index(m)].wraps) == 2 for m in muscles)
    q = ref["q"]
    assert q.shape[0] >= KERNEL_MIN_POSES  # the compiled kernel, not the NumPy path
    L, r = lengths_and_moment_arms(rajagopal, q, [str(c) for c in ref["coordinates"]], muscles=muscles)
    assert np.abs(L - ref["lengths"]).max() <= TOL
    assert np.abs(r - ref["moment_arms"]).max() <= TOL
    assert np.abs(ref["moment_arms"]).max() > 0.02  # knee and ankle moment arms of several cm, not zeros
    # the NumPy reference lands on the same numbers (a subset: it is slower)
    L2, r2 = lengths_and_moment_arms(rajagopal, q[:40], [str(c) for c in ref["coordinates"]], muscles=muscles,
                                     use_kernel=False)
    assert np.abs(L2 - ref["lengths"][:40]).max() <= TOL
    assert np.abs(r2 - ref["moment_arms"][:40]).max() <= TOL


def _with_wraps(model: Model, changes: dict[str, list[str]]) -> Model:
    """``model`` with the named muscles' wraps replaced by the named wrap objects (whole path)."""
    names = [w.name for w in model.wrap_objects]
    muscles = list(model.muscles)
    for muscle, wraps in changes.items():
        i = model.muscle_index(muscle)
        muscles[i] = replace(muscles[i], wraps=tuple(PathWrap(names.index(w)) for w in wraps))
    return replace(model, muscles=tuple(muscles))


VARIANTS = {
    "reversed": {"gasmed_r": ["Gastroc_at_condyles_r", "GasMed_at_shank_r"],
                 "gaslat_l": ["Gastroc_at_condyles_l", "GasLat_at_shank_l"]},
    "three cylinders": {"gasmed_r": ["GasMed_at_shank_r", "Gastroc_at_condyles_r", "GasLat_at_shank_r"],
                        "gaslat_r": ["GasMed_at_shank_r", "GasLat_at_shank_r", "Gastroc_at_condyles_r"]},
    "hamstrings": {"semiten_r": ["ST_at_condyles_r", "GR_at_condyles_r"],
                   "semimem_r": ["GR_at_condyles_r", "SM_at_condyles_r"]},
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_other_wrap_orders_and_sets_match_the_numpy_reference(rajagopal: Model, variant: str) -> None:
    model = _with_wraps(rajagopal, VARIANTS[variant])
    muscles = sorted(VARIANTS[variant])
    lo, hi = model.coordinate_ranges.T
    mid, half = (lo + hi) / 2, (hi - lo) / 2 * 1.2
    q = mid - half + 2 * half * np.random.default_rng(17).random((KERNEL_MIN_POSES + 44, len(lo)))
    keep = [i for i, c in enumerate(model.coordinates) if c.locked or c.name.startswith("pelvis")]
    q[:, keep] = model.coordinate_defaults[keep]
    q = complete_coordinates(model, q)
    coords = ["knee_angle_r", "ankle_angle_r", "hip_flexion_r", "knee_angle_l", "ankle_angle_l"]
    L1, r1 = lengths_and_moment_arms(model, q, coords, muscles=muscles)
    L2, r2 = lengths_and_moment_arms(model, q, coords, muscles=muscles, use_kernel=False)
    assert np.abs(L1 - L2).max() <= 1e-12
    assert np.abs(r1 - r2).max() <= 1e-12
    # the variant changes the paths (the wraps are used), so the comparison is not of unwrapped lines
    L0 = lengths_and_moment_arms(rajagopal, q, coords, muscles=muscles)[0]
    assert np.abs(L1 - L0).max() > 1e-4
