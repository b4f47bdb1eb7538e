"""Speed of the lumbopelvic model: all muscles' lengths and moment arms at 10,000 poses.

Run: ``.venv/bin/python benchmarks/bench_model.py [--poses 10000] [--opensim-poses 10]``.
Target (issue 5): lengths + moment arms of all 110 muscles about every independent coordinate at
10,000 poses in under 1 s. The last line compares with OpenSim 4.6 (one pose at a time,
``getLength`` and ``computeMomentArm``), measured in the same run on a few poses and scaled to
the same number of poses.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def random_poses(model, n: int, seed: int = 0) -> np.ndarray:
    from iliopsoas.mechanics import complete_coordinates

    lo = np.maximum(model.coordinate_ranges[:, 0], -1.0)
    hi = np.minimum(model.coordinate_ranges[:, 1], 1.0)
    return complete_coordinates(model, np.random.default_rng(seed).uniform(lo, hi, size=(n, len(lo))))


def opensim_seconds_per_pose(model, q: np.ndarray, coords: list[str]) -> float | None:
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
    t0 = time.perf_counter()
    for i in range(len(q)):
        for j, name in enumerate(model.coordinate_names):
            cs.get(name).setValue(s, float(q[i, j]), False)
        om.realizePosition(s)
        for k in range(ms.getSize()):
            mu = ms.get(k)
            mu.getLength(s)
            for c in coord_objs:
                mu.computeMomentArm(s, c)
    return (time.perf_counter() - t0) / len(q)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--poses", type=int, default=10_000)
    ap.add_argument("--opensim-poses", type=int, default=5)
    args = ap.parse_args()

    from iliopsoas import models
    from iliopsoas.mechanics import lengths_and_moment_arms, muscle_lengths

    t0 = time.perf_counter()
    model = models.load("lumbopelvic")
    t_load = time.perf_counter() - t0
    coords = [c.name for c, dep in zip(model.coordinates, model.dependent_mask, strict=True) if not dep]
    q = random_poses(model, args.poses)
    muscle_lengths(model, q[:10])  # warm-up

    t0 = time.perf_counter()
    muscle_lengths(model, q)
    t_len = time.perf_counter() - t0
    t0 = time.perf_counter()
    L, R = lengths_and_moment_arms(model, q, coords)
    t_all = time.perf_counter() - t0

    print(f"model: {len(model.muscles)} muscles, {len(model.coordinates)} coordinates "
          f"({len(coords)} independent); load {t_load:.2f} s")
    print(f"lengths, {args.poses} poses: {t_len:.2f} s")
    print(f"lengths + moment arms {R.shape}: {t_all:.2f} s (target < 1 s: {'met' if t_all < 1 else 'NOT met'})")
    per_pose = opensim_seconds_per_pose(model, q[: args.opensim_poses], coords)
    if per_pose is None:
        print("OpenSim not installed: no comparison")
    else:
        scaled = per_pose * args.poses
        print(f"ratio: ours {t_all:.2f} s vs OpenSim 4.6 {scaled:.0f} s (scaled from {args.opensim_poses} poses) "
              f"= {scaled / t_all:.0f}x faster")


if __name__ == "__main__":
    main()
