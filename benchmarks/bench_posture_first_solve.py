"""What a person waits for on the Posture page: the first and later solves per scenario.

Each run is a fresh Python process that does what ``POST /api/posture/simulate`` does (the
tightened solve and the untightened baseline; :func:`iliopsoas.posture.simulate`), first with an
empty fit cache (``ILIOPSOAS_CACHE_DIR`` in a new temporary folder: a first start), then with the
cache that run left (a later start), then again in the same process (warm).

Run: ``.venv/bin/python benchmarks/bench_posture_first_solve.py [--runs 3] [--scenarios supine,thomas]``.
Prints medians over the runs and the load average before and after (other helpers share the machine).
Set ``PYTHONPATH`` to another checkout's ``src`` to measure that code (e.g. the previous commit).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

CHILD = """
import json, sys, time
t0 = time.perf_counter()
import iliopsoas.posture as p
sc = sys.argv[1]
tight = {"psoas": p.Tightness(shortening=0.2)}
out = {"import_s": time.perf_counter() - t0}
t = time.perf_counter(); p.simulate(sc, tight, side="right"); p.simulate(sc, {}, side="right")
out["first_s"] = time.perf_counter() - t
t = time.perf_counter(); p.simulate(sc, {"psoas": p.Tightness(shortening=0.1)}, side="right")
out["warm_s"] = time.perf_counter() - t
print(json.dumps(out))
"""


def _run(scenario: str, cache: str) -> dict[str, float]:
    env = {**os.environ, "ILIOPSOAS_CACHE_DIR": cache}
    res = subprocess.run([sys.executable, "-c", CHILD, scenario], env=env, capture_output=True, text=True, check=True)
    return dict(json.loads(res.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--scenarios", default="standing,supine,sitting,thomas")
    args = ap.parse_args()
    print(f"load before: {os.getloadavg()[0]:.1f} (1 min), {os.cpu_count()} cores")
    for sc in args.scenarios.split(","):
        cold, later, warm = [], [], []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as cache:
                a = _run(sc, cache)
                b = _run(sc, cache)
            cold.append(a["first_s"])
            later.append(b["first_s"])
            warm += [a["warm_s"], b["warm_s"]]
        print(f"{sc:9s} first start {np.median(cold):5.1f} s | later start {np.median(later):5.1f} s | "
              f"warm {np.median(warm):5.2f} s   (medians of {args.runs} runs; {time.strftime('%H:%M:%S')})")
    print(f"load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
