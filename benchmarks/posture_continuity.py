"""Full continuity check of the posture solver (issue 13): 0.5 % steps from 0 to 40 % shortening.

For psoas, iliacus, rectus femoris and TFL in all five scenarios, every dose is solved by
continuation from the relaxed body and again from the tightest dose; the script prints, per sweep,
the largest change of any angle between neighbouring doses, the doses where the two branches
differ (bistable), every jump > 1 deg with the bifurcation it crosses (a jump without one is a
failure) and whether every point converged. CI runs a coarse version of this
(tests/test_posture_continuity.py); this is the full sweep (about 10-30 min on 2 cores).

    python benchmarks/posture_continuity.py [--steps 81] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from iliopsoas.posture import sweep

MUSCLES = ("psoas", "iliacus", "rectus_femoris", "tfl")
SCENARIOS = ("supine", "standing", "sitting", "thomas", "prone")


def run(steps: int) -> list[dict]:
    rows = []
    for sc in SCENARIOS:
        for mu in MUSCLES:
            t0 = time.perf_counter()
            out = sweep(sc, mu, 0.0, 0.4, steps)
            worst = 0.0
            for v in out["angles"].values():
                a = np.array([np.nan if x is None else x for x in v], dtype=float)
                d = np.abs(np.diff(a))
                if np.isfinite(d).any():
                    worst = max(worst, float(np.nanmax(d)))
            row = {"scenario": sc, "muscle": mu, "max_step_change_deg": round(worst, 3),
                   "converged": sum(out["converged"]), "points": steps, "bistable": sum(out["bistable"]),
                   "jumps": out["jumps"],
                   "unflagged_jumps": sum(not j["bifurcation"] for j in out["jumps"]),
                   "from_tightest_branch": sum(out.get("from_tightest_branch", [])), "seconds": round(time.perf_counter() - t0, 1)}
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=81)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    res = run(a.steps)
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(res, f, indent=1)
