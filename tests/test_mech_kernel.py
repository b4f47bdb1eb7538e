"""The compiled whole-model kernel returns the NumPy reference's numbers.

The kernel (``model_kernel`` in ``mechanics/_wrap_kernels.py``) runs for batches of ``KERNEL_MIN_POSES`` poses or
more; ``use_kernel=False`` forces the NumPy path, which the oracle and live OpenSim tests check.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from iliopsoas import models
from iliopsoas.mechanics import complete_coordinates, lengths_and_moment_arms, moment_arms, muscle_lengths
from iliopsoas.mechanics.wrap import KERNEL_MIN_POSES

pytest.importorskip("numba")


@pytest.fixture(scope="module")
def lumbopelvic():
    return models.load("lumbopelvic")


def _poses(model, n: int, seed: int) -> np.ndarray:
    lo = np.maximum(model.coordinate_ranges[:, 0], -1.0)
    hi = np.minimum(model.coordinate_ranges[:, 1], 1.0)
    q = np.random.default_rng(seed).uniform(lo, hi, size=(n, len(lo)))
    locked = np.array([c.locked for c in model.coordinates], dtype=bool)
    q[:, locked] = model.coordinate_defaults[locked]
    return complete_coordinates(model, q)


def test_kernel_and_numpy_agree_on_every_lumbopelvic_muscle_and_coordinate(lumbopelvic) -> None:
    q = _poses(lumbopelvic, KERNEL_MIN_POSES, 11)
    L1, r1 = lengths_and_moment_arms(lumbopelvic, q)
    L2, r2 = lengths_and_moment_arms(lumbopelvic, q, use_kernel=False)
    assert r1.shape == (q.shape[0], len(lumbopelvic.muscles), int((~lumbopelvic.dependent_mask).sum()))
    assert np.abs(L1 - L2).max() < 1e-12
    assert np.abs(r1 - r2).max() < 1e-12
    assert np.abs(r1).max() > 0.01  # the comparison is not between zeros


def test_kernel_handles_a_muscle_subset_in_any_order_and_chunks(lumbopelvic) -> None:
    q = _poses(lumbopelvic, 300, 12)
    names = list(lumbopelvic.muscle_names)
    pick = [names[-1], names[0], names[len(names) // 2]]
    coords = ["hip_flexion_r", "hip_adduction_l"] if "hip_adduction_l" in lumbopelvic.coordinate_names else None
    full = moment_arms(lumbopelvic, q, coords)
    part = moment_arms(lumbopelvic, q, coords, muscles=pick, chunk_size=97)
    idx = [names.index(m) for m in pick]
    assert np.array_equal(part, full[:, idx])
    assert np.array_equal(muscle_lengths(lumbopelvic, q, pick, chunk_size=97), muscle_lengths(lumbopelvic, q)[:, idx])


def test_concurrent_calls_from_threads_give_the_same_numbers(lumbopelvic) -> None:
    q = _poses(lumbopelvic, 512, 13)
    ref = muscle_lengths(lumbopelvic, q)
    out: list[np.ndarray] = []

    def work() -> None:
        out.append(muscle_lengths(lumbopelvic, q))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(out) == 3
    assert all(np.array_equal(o, ref) for o in out)


@pytest.mark.parametrize("n", [0, 1, 15, 16, 17, 100, 1000])
@pytest.mark.parametrize("count", [1, 2, 3, 8])
def test_pose_slices_cover_every_pose_once_in_whole_blocks(n: int, count: int) -> None:
    from iliopsoas.mechanics._parallel import pose_slices

    slices = pose_slices(n, 16, count)
    covered = [k for s in slices for k in range(s.start, s.stop)]
    assert covered == list(range(n))
    assert len(slices) <= max(1, count)
    assert all(s.start % 16 == 0 for s in slices)


def test_one_and_several_threads_give_identical_numbers(lumbopelvic, monkeypatch) -> None:
    q = _poses(lumbopelvic, 700, 14)  # not a whole number of blocks
    monkeypatch.setenv("ILIOPSOAS_THREADS", "1")
    L1, r1 = lengths_and_moment_arms(lumbopelvic, q)
    monkeypatch.setenv("ILIOPSOAS_THREADS", "3")
    L3, r3 = lengths_and_moment_arms(lumbopelvic, q)
    assert np.array_equal(L1, L3) and np.array_equal(r1, r3)
    assert np.abs(r1).max() > 0.01
