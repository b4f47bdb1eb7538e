"""Speed of the lumbopelvic model: all muscles' lengths and moment arms at 10,000 poses.

Run: ``.venv/bin/python benchmarks/bench_model.py [--poses 10000] [--opensim-poses 50]``.
Target (issue 5): lengths + moment arms of every muscle about every independent coordinate at
10,000 poses in under 1 s. The last lines compare with OpenSim 4.6 (one pose at a time,
``getLength`` and ``computeMomentArm``), measured in the same run on a subsample of the same
poses (OpenSim needs about 0.5 s per pose here, hence the default of 50) and scaled to the same
number of poses, and check that both give the same numbers on that subsample.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def random_poses(model, n: int, seed: int = 0) -> np.ndarray:
    """Coordinates uniform over their ranges (clipped to +-1), locked ones at their defaults
    (OpenSim ignores ``setValue`` on a locked coordinate), couplers applied."""
    from iliopsoas.mechanics import complete_coordinates

    lo = np.maximum(model.coordinate_ranges[:, 0], -1.0)
    hi = np.minimum(model.coordinate_ranges[:, 1], 1.0)
    q = np.random.default_rng(seed).uniform(lo, hi, size=(n, len(lo)))
    locked = np.array([c.locked for c in model.coordinates], dtype=bool)
    q[:, locked] = model.coordinate_defaults[locked]
    return complete_coordinates(model, q)


def _load() -> str:
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"


def opensim_values(model, q: np.ndarray, coords: list[str]) -> tuple[float, np.ndarray, np.ndarray] | None:
    """OpenSim's seconds per pose, lengths ``(n, m)`` and moment arms ``(n, m, k)``, or None."""
    try:
        import opensim as osim
    except ImportError:
        return None
    import tempfile
    from pathlib import Path

    from iliopsoas import models

    osim.Logger.removeFileSink()  # no opensim.log in the working directory
    osim.Logger.setLevelString("error")
    with tempfile.TemporaryDirectory() as tmp:
        om = osim.Model(str(models.write(Path(tmp) / "lumbopelvic.osim")))
    s = om.initSystem()
    cs, ms = om.getCoordinateSet(), om.getMuscles()
    coord_objs = [cs.get(c) for c in coords]
    all_coords = [cs.get(c) for c in model.coordinate_names]
    muscles = [ms.get(i) for i in range(ms.getSize())]
    assert [mu.getName() for mu in muscles] == list(model.muscle_names)
    L = np.zeros((len(q), len(muscles)))
    r = np.zeros((len(q), len(muscles), len(coord_objs)))
    t0 = time.perf_counter()
    for i in range(len(q)):
        for c, v in zip(all_coords, q[i], strict=True):
            c.setValue(s, float(v), False)
        om.realizePosition(s)
        for k, mu in enumerate(muscles):
            L[i, k] = mu.getLength(s)
            for j, c in enumerate(coord_objs):
                r[i, k, j] = mu.computeMomentArm(s, c)
    return (time.perf_counter() - t0) / len(q), L, r


def _timed(fn, repeat: int):  # type: ignore[no-untyped-def]
    """(best wall time, CPU time of that call over all threads, first call's wall time, result)."""
    runs, out = [], None
    for _ in range(max(1, repeat)):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        runs.append((time.perf_counter() - t0, time.process_time() - c0))
    best = min(runs)
    return best[0], best[1], runs[0][0], out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--poses", type=int, default=10_000)
    ap.add_argument("--opensim-poses", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from iliopsoas import models
    from iliopsoas.mechanics import lengths_and_moment_arms, muscle_lengths

    t0 = time.perf_counter()
    model = models.load("lumbopelvic")
    t_load = time.perf_counter() - t0
    coords = [c.name for c, dep in zip(model.coordinates, model.dependent_mask, strict=True) if not dep]
    q = random_poses(model, args.poses)
    muscle_lengths(model, q[:300])  # warm-up (loads the compiled kernels)

    t_len, c_len, _, _ = _timed(lambda: muscle_lengths(model, q), args.repeat)
    t_all, c_all, t_first, (L, R) = _timed(lambda: lengths_and_moment_arms(model, q, coords), args.repeat)

    print(f"model: {len(model.muscles)} muscles, {len(model.coordinates)} coordinates "
          f"({len(coords)} independent); load {t_load:.2f} s")
    print(f"lengths, {args.poses} poses: {t_len:.2f} s (best of {args.repeat}; CPU {c_len:.2f} s)")
    print(f"lengths + moment arms {R.shape}: {t_all:.2f} s, best of {args.repeat}, CPU {c_all:.2f} s (target < 1 s: "
          f"{'met' if t_all < 1 else 'NOT met'}); first call {t_first:.2f} s (includes the first touch of "
          f"the {R.nbytes / 1e6:.0f} MB result, slow on a fresh virtual machine)")
    print(f"load average {_load()}")
    k = min(args.opensim_poses, args.poses)
    sub = np.random.default_rng(1).choice(args.poses, size=k, replace=False)
    res = opensim_values(model, q[sub], coords)
    if res is None:
        print("OpenSim not installed: no comparison")
        return
    per_pose, oL, oR = res
    scaled = per_pose * args.poses
    print(f"ratio: ours {t_all:.2f} s vs OpenSim 4.6 {scaled:.0f} s (scaled from {k} of the {args.poses} poses) "
          f"= {scaled / t_all:,.0f}x faster")
    print(f"agreement on those poses: lengths max {np.abs(L[sub] - oL).max():.1e} m, "
          f"moment arms max {np.abs(R[sub] - oR).max():.1e} m")


if __name__ == "__main__":
    main()
