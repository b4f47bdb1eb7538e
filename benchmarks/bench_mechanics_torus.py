"""WrapTorus muscles of MoBL-ARMS 4.1 and the Dynamic Arm Simulator: agreement with OpenSim 4.6 and
speed, ours against OpenSim in the same run.

For each model, every muscle that wraps over a torus, random poses over the coordinate ranges
(seeded): lengths and moment arms about every independent unlocked coordinate, ours and OpenSim's;
printed per muscle: max |ΔL| and max |Δr|, how many poses differ by more than 1e-8 m, and how
many give NaN on both sides (OpenSim's ellipsoid wrap on the same path gives NaN in rare poses;
so do we). Speed: medians of ``--repeat`` runs, one thread, lengths + moment arms of the torus
muscles for ``--poses`` poses (ours) against OpenSim's ``getLength`` + ``computeMomentArm`` for
``--check`` poses. The machine's load average is printed (other jobs may share the cores).

    .venv/bin/python benchmarks/bench_mechanics_torus.py [--poses 1000] [--check 200] [--seed 7]
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from iliopsoas.mechanics import complete_coordinates, load_osim, moment_arms, muscle_lengths

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "osim"
MODELS = {"MOBL_ARMS_41": "upper-limb/MOBL_ARMS_41.osim.gz", "das4_v4": "arm-model/das4_v4.osim.gz"}


def _poses(model, n: int, rng: np.random.Generator) -> np.ndarray:  # type: ignore[no-untyped-def]
    lo, hi = model.coordinate_ranges.T
    q = lo + (hi - lo) * rng.random((n, len(lo)))
    locked = np.array([c.locked for c in model.coordinates])
    q[:, locked] = model.coordinate_defaults[locked]
    return complete_coordinates(model, q)


def run(name: str, path: Path, poses: int, check: int, repeat: int, seed: int) -> None:
    import opensim

    model = load_osim(path)
    torus = [mu.name for mu in model.muscles
             if any(model.wrap_objects[w.wrap_object].type == "WrapTorus" for w in mu.wraps)]
    locked = [c.locked for c in model.coordinates]
    free = [i for i in range(len(locked)) if not model.dependent_mask[i] and not locked[i]]
    rng = np.random.default_rng(seed)
    q = _poses(model, max(poses, check), rng)
    muscle_lengths(model, q[:2], torus)  # load the compiled kernels once
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        L = muscle_lengths(model, q[:poses], torus)
        r = moment_arms(model, q[:poses], free, muscles=torus)
        times.append(time.perf_counter() - t0)
    ours = statistics.median(times) / (poses * len(torus))

    om = opensim.Model(str(path))
    s = om.initSystem()
    cs = om.getCoordinateSet()
    handles = [cs.get(c) for c in model.coordinate_names]
    mus = [om.getMuscles().get(m) for m in torus]
    Lo = np.zeros((check, len(torus)))
    ro = np.zeros((check, len(torus), len(free)))
    t0 = time.perf_counter()
    for i in range(check):
        for j, h in enumerate(handles):
            h.setValue(s, float(q[i, j]), False)
        om.realizePosition(s)
        for k, mu in enumerate(mus):
            Lo[i, k] = mu.getLength(s)
            for c, ci in enumerate(free):
                ro[i, k, c] = mu.computeMomentArm(s, handles[ci])
    theirs = (time.perf_counter() - t0) / (check * len(torus))
    L, r = L[:check], r[:check]
    print(f"\n{name}: {len(torus)} torus muscles, {check} poses checked, moment arms about {len(free)} "
          f"coordinates (seed {seed})")
    print(f"{'muscle':8s} {'max|dL| m':>10s} {'>1e-8':>6s} {'NaN both':>8s} {'max|dr| m':>10s} {'>1e-8':>6s}")
    for k, m in enumerate(torus):
        both = np.isnan(L[:, k]) & np.isnan(Lo[:, k])
        dl = np.abs(np.where(both, 0.0, L[:, k] - Lo[:, k]))
        bothr = np.isnan(r[:, k]) & np.isnan(ro[:, k])
        dr = np.abs(np.where(bothr, 0.0, r[:, k] - ro[:, k])).max(axis=1)
        print(f"{m:8s} {np.nanmax(dl):10.1e} {int((~(dl <= 1e-8)).sum()):6d} {int(both.sum()):8d} "
              f"{np.nanmax(dr):10.1e} {int((~(dr <= 1e-8)).sum()):6d}")
    print(f"per muscle and pose, lengths + {len(free)} moment arms: ours {1e6 * ours:.0f} µs "
          f"({poses} poses, median of {repeat}), OpenSim {1e6 * theirs:.0f} µs; ratio {theirs / ours:.1f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--poses", type=int, default=1000)
    ap.add_argument("--check", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, rel in MODELS.items():
            p = Path(tmp) / f"{name}.osim"
            p.write_bytes(gzip.decompress((DATA / rel).read_bytes()))
            run(name, p, args.poses, args.check, args.repeat, args.seed)
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
