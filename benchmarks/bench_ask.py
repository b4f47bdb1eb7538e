"""Speed of ``iliopsoas.ask``: cold start to the first answer, and warm latency over the eval set.

Run: ``.venv/bin/python benchmarks/bench_ask.py``. Targets (issue 3): cold < 1.5 s, warm p95 < 20 ms.
The one-line ratio at the end compares a warm answer with the atlas name lookup it builds on
(``atlas.search``), measured in the same run.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
EVAL = REPO / "tests" / "data" / "ask_eval.yaml"
COLD = "import iliopsoas; iliopsoas.ask('What nerve supplies the iliacus?')"


def cold_start(runs: int = 5) -> list[float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", COLD], check=True, cwd=REPO)
        times.append(time.perf_counter() - t0)
    return times


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def main() -> None:
    import iliopsoas
    from iliopsoas.knowledge import load_atlas

    questions = [item["q"] for item in yaml.safe_load(EVAL.read_text(encoding="utf-8"))]
    cold = cold_start()
    print(f"cold start (subprocess, import + load atlas + first answer): median {statistics.median(cold):.3f} s, "
          f"max {max(cold):.3f} s over {len(cold)} runs (target < 1.5 s)")

    iliopsoas.ask(questions[0])  # build the indexes once
    warm: list[float] = []
    for _ in range(3):
        for q in questions:
            t0 = time.perf_counter()
            iliopsoas.ask(q)
            warm.append((time.perf_counter() - t0) * 1000)
    print(f"warm: {len(warm)} answers, p50 {percentile(warm, 50):.2f} ms, p95 {percentile(warm, 95):.2f} ms, "
          f"max {max(warm):.2f} ms (target p95 < 20 ms)")

    atlas = load_atlas()
    peer: list[float] = []
    for q in questions:
        t0 = time.perf_counter()
        atlas.search(q, limit=5)
        peer.append((time.perf_counter() - t0) * 1000)
    ratio = statistics.median(warm) / max(statistics.median(peer), 1e-9)
    print(f"ratio: ask p50 / atlas.search p50 = {ratio:.2f} "
          f"({statistics.median(warm):.2f} ms vs {statistics.median(peer):.2f} ms)")


if __name__ == "__main__":
    main()
