"""Speed of the posture solver: one solve and a 1,000-point dose-response sweep per scenario.

Run: ``.venv/bin/python benchmarks/bench_posture.py [--points 1000] [--repeat 5]``.
Targets (issue 6): one solve < 100 ms; a 1,000-point sweep < 10 s. The one-off set-up per
scenario (engine-sampled fits, ~1-4 s) is reported separately. The last line compares the
batched sweep with the same number of single solves, measured on a few of them in the same run.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    from iliopsoas.posture import Person, Tightness
    from iliopsoas.posture.scenarios import loads_for, scenario_problem

    person = Person()
    worst_single = 0.0
    ratio_line = ""
    for sc in ("supine", "standing", "sitting", "thomas", "prone"):
        t0 = time.perf_counter()
        prob = scenario_problem(sc, "r", person)
        prob.warm_up()
        setup = time.perf_counter() - t0
        prob.solve(loads_for(prob, [{}], "r", person))  # resting pose: the warm start of later solves
        singles = []
        for i in range(args.repeat):
            loads = loads_for(prob, [{"psoas": Tightness(0.05 * (i + 1))}], "r", person)
            t = time.perf_counter()
            sol = prob.solve(loads)
            singles.append(time.perf_counter() - t)
            assert sol.converged.all(), sol.messages
        values = np.linspace(0.0, 0.3, args.points)
        loads = loads_for(prob, [{"iliacus": Tightness(float(v))} for v in values], "r", person)
        t = time.perf_counter()
        sol = prob.solve(loads)
        sweep_s = time.perf_counter() - t
        worst_single = max(worst_single, float(np.median(singles)))
        print(f"{sc:9s} set-up {setup:5.2f} s | one solve median {1000 * np.median(singles):6.1f} ms "
              f"(max {1000 * max(singles):6.1f}) | {args.points}-point sweep {sweep_s:5.2f} s, "
              f"{int(sol.converged.sum())}/{args.points} converged, {sol.iterations} iterations")
        if sc == "supine":
            ratio_line = (f"batched sweep vs {args.points} single solves (supine): "
                          f"{np.median(singles) * args.points / sweep_s:.1f}x faster")
    print(f"worst median single solve {1000 * worst_single:.1f} ms (target < 100 ms)")
    print(ratio_line)


if __name__ == "__main__":
    main()
