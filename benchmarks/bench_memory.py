"""Peak memory of a million-pose batch: ``muscle_lengths`` and ``lengths_and_moment_arms``.

Run: ``.venv/bin/python benchmarks/bench_memory.py [--poses 1000000] [--model Rajagopal2016.osim]``.

Each measurement runs in a fresh child process, so its peak resident set (``ru_maxrss``) is its
own: the interpreter and libraries, the model, the input poses, the output and the engine's
chunked working memory. The output alone is printed beside it for comparison.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

HIP3 = ["hip_flexion_r", "hip_adduction_r", "hip_rotation_r"]


def _child(model_file: str, n: int, what: str) -> None:
    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    from bench_mechanics import random_poses

    from iliopsoas.mechanics import lengths_and_moment_arms, load_osim, muscle_lengths
    from iliopsoas.paths import shared_dir

    root = shared_dir()
    if root is None:
        sys.exit("../shared is absent (set ILIOPSOAS_SHARED)")
    model = load_osim(root / "models" / "opensim-models" / model_file)
    q = random_poses(model, n, 0)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    if what == "lengths":
        out = [muscle_lengths(model, q)]
    else:
        out = list(lengths_and_moment_arms(model, q, [c for c in HIP3 if c in model.coordinate_names]))
    dt = time.perf_counter() - t0
    no_nan = all(not bool(np.isnan(o).any()) for o in out)
    print(json.dumps({
        "seconds": dt, "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "rss_before_bytes": base * 1024, "output_bytes": sum(o.nbytes for o in out),
        "input_bytes": q.nbytes, "muscles": len(model.muscle_names), "no_nan": no_nan,
    }))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--poses", type=int, default=1_000_000)
    ap.add_argument("--model", default="Rajagopal2016.osim")
    ap.add_argument("--child", choices=["lengths", "moment_arms"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.model, args.poses, args.child)
        return
    gb = 1024.0 ** 3
    for what in ("lengths", "moment_arms"):
        res = subprocess.run([sys.executable, __file__, "--poses", str(args.poses), "--model", args.model,
                              "--child", what], capture_output=True, text=True, check=False)
        if res.returncode != 0:
            print(f"{what}: failed: {res.stderr.strip().splitlines()[-1] if res.stderr.strip() else res.returncode}")
            continue
        r = json.loads(res.stdout.strip().splitlines()[-1])
        label = "lengths" if what == "lengths" else "lengths + 3 hip moment arms"
        print(f"{args.model}, {r['muscles']} muscles, {args.poses:,} poses, {label}: {r['seconds']:.0f} s, "
              f"peak RSS {r['peak_rss_bytes'] / gb:.2f} GB (peak before the call, poses made: {r['rss_before_bytes'] / gb:.2f} GB; "
              f"output {r['output_bytes'] / gb:.2f} GB, input {r['input_bytes'] / gb:.2f} GB); "
              f"no NaN: {r['no_nan']}")


if __name__ == "__main__":
    main()
