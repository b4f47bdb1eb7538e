"""First call in a fresh process, per public model: load, then lengths + moment arms.

For each model a new Python process imports the engine, loads the file and computes lengths and
moment arms (about its first six independent coordinates) of every muscle for 300 random poses,
twice. Printed
per model: whether it loads strictly, the load time, the first call (which loads -- or, with an
empty cache, compiles -- the numba kernels) and the second call. ``--cold`` also runs one model
with an empty numba cache (``NUMBA_CACHE_DIR`` set to a fresh folder), so that every kernel is
compiled. The machine's load average is printed with the table (other jobs may share the cores).

    .venv/bin/python benchmarks/bench_mechanics_models.py [--cold] [--shared ../shared] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "osim"
CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
from iliopsoas.mechanics import OsimError, complete_coordinates, lengths_and_moment_arms, load_osim
t1 = time.perf_counter()
try:
    m = load_osim(sys.argv[1]); strict = True
except OsimError:
    m = load_osim(sys.argv[1], strict=False); strict = False
t2 = time.perf_counter()
lo, hi = m.coordinate_ranges.T
q = complete_coordinates(m, lo + (hi - lo) * np.random.default_rng(0).random((300, len(lo))))
free = [i for i in range(len(lo)) if not m.dependent_mask[i]][:6]
lengths_and_moment_arms(m, q, free)
t3 = time.perf_counter()
lengths_and_moment_arms(m, q, free)
t4 = time.perf_counter()
print(json.dumps({"strict": strict, "muscles": len(m.muscles), "import": t1 - t0, "load": t2 - t1,
                  "first": t3 - t2, "second": t4 - t3}))
"""


def models(shared: Path | None, out: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for gz in sorted(DATA.glob("*/*.osim.gz")):
        p = out / gz.name[:-3]
        p.write_bytes(gzip.decompress(gz.read_bytes()))
        found[p.stem] = p
    if shared is not None:
        for p in sorted((shared / "models").glob("*/*.osim")):
            found[p.stem] = p
    return found


def run(path: Path, env: dict[str, str]) -> dict[str, float]:
    res = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, env=env,
                         timeout=1800)
    if res.returncode != 0:
        return {"error": res.stderr.strip().splitlines()[-1] if res.stderr.strip() else f"exit {res.returncode}"}  # type: ignore[dict-item]
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cold", action="store_true", help="also time one model with an empty numba cache")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--only", nargs="*", default=None, help="model names (file stems) to run; default: all")
    args = ap.parse_args()
    shared = args.shared if args.shared.is_dir() else None
    print("load average:", open("/proc/loadavg").read().split()[:3], "(other jobs may share the cores)")
    with tempfile.TemporaryDirectory() as d:
        files = models(shared, Path(d))
        if args.only:
            files = {k: v for k, v in files.items() if k in args.only}
        env = dict(os.environ)
        print(f"{'model':36s} {'strict':>6s} {'muscles':>7s} {'import':>7s} {'load':>6s} {'1st call':>8s} {'2nd call':>8s}")
        for name, path in files.items():
            r = run(path, env)
            if "error" in r:
                print(f"{name:36s} error: {r['error']}")
                continue
            print(f"{name:36s} {str(r['strict']):>6s} {r['muscles']:7d} {r['import']:7.2f} {r['load']:6.2f} "
                  f"{r['first']:8.2f} {r['second']:8.2f}")
        if args.cold:
            name = "Rajagopal2016" if "Rajagopal2016" in files else next(iter(files))
            with tempfile.TemporaryDirectory() as cache:
                r = run(files[name], {**env, "NUMBA_CACHE_DIR": cache})
                print(f"cold (empty numba cache) {name}: import {r.get('import', 0):.2f} s, load {r.get('load', 0):.2f} s, "
                      f"first call {r.get('first', 0):.2f} s, second {r.get('second', 0):.2f} s")
                r = run(files[name], {**env, "NUMBA_CACHE_DIR": cache})
                print(f"  same cache, next process: first call {r.get('first', 0):.2f} s")
    print("load average:", open("/proc/loadavg").read().split()[:3])


if __name__ == "__main__":
    main()
