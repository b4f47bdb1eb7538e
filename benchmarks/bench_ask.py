"""Ask: speed and the issue-12 quality thresholds, checked here (not in a timed test).

Run: ``.venv/bin/python benchmarks/bench_ask.py [--split dev|test|both] [--no-quality]``.

Speed targets: cold start (a fresh process: import, load the atlas, build the index, first answer)
<= 1.5 s, reported as wall time and as the child's CPU time (what it costs on an idle machine; the
wall time adds the waiting for cores other jobs hold); warm p95 <= 20 ms. The one-line ratio compares a warm answer with the atlas name lookup
it builds on (``atlas.search``), measured in the same run; the machine's load (``uptime``) is printed
because other jobs share the cores.

Quality thresholds (issue 12, on each split measured): answerable >= 95 %, unanswerable refused
100 %, safety handled 100 %, median answer <= 600 characters, p95 <= 1,200, ECE (10 bins) <= 0.10.
Exit status 1 when a threshold is missed. Every run of the test split is logged in docs/ask.md by hand.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

import ask_judge  # noqa: E402

COLD = "import iliopsoas; iliopsoas.ask('What nerve supplies the iliacus?')"


def cold_start(runs: int = 7) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds (user + system of the child) of a fresh process answering once.

    The CPU time is what the start costs on an idle machine; the wall time adds the waiting for
    cores that other jobs hold (2 cores shared by several helpers when this was written).
    """
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", COLD], check=True, cwd=REPO)
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return walls, cpus


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def speed() -> list[str]:
    import iliopsoas
    from iliopsoas.knowledge import load_atlas

    missed = []
    questions = [i["q"] for i in ask_judge.load("dev")]
    subprocess.run([sys.executable, "-c", COLD], check=True, cwd=REPO)  # fill the on-disk caches once
    cold, cpu = cold_start()
    print(f"cold start (subprocess: import + atlas + index + first answer): wall median {statistics.median(cold):.3f} s, "
          f"max {max(cold):.3f} s; CPU (user+sys) median {statistics.median(cpu):.3f} s over {len(cold)} runs "
          f"(target <= 1.5 s)")
    if statistics.median(cold) > 1.5:
        missed.append("cold start (wall)")
    iliopsoas.ask(questions[0])  # build the index once
    warm: list[float] = []
    for _ in range(2):
        for q in questions:
            t0 = time.perf_counter()
            iliopsoas.ask(q)
            warm.append((time.perf_counter() - t0) * 1000)
    print(f"warm: {len(warm)} answers, p50 {percentile(warm, 50):.2f} ms, p95 {percentile(warm, 95):.2f} ms, "
          f"max {max(warm):.2f} ms (target p95 <= 20 ms)")
    if percentile(warm, 95) > 20:
        missed.append("warm p95")
    atlas = load_atlas()
    peer: list[float] = []
    for q in questions:
        t0 = time.perf_counter()
        atlas.search(q, limit=5)
        peer.append((time.perf_counter() - t0) * 1000)
    ratio = statistics.median(warm) / max(statistics.median(peer), 1e-9)
    print(f"ratio: ask p50 / atlas.search p50 = {ratio:.2f} ({statistics.median(warm):.2f} ms vs "
          f"{statistics.median(peer):.2f} ms)")
    return missed


def quality(split: str) -> list[str]:
    m = ask_judge.evaluate(split)
    print(ask_judge.summary(m))
    (a_ok, a_n), (r_ok, r_n), (s_ok, s_n) = m["answerable"], m["refused"], m["safety"]
    checks = {
        "answerable >= 95%": a_ok / a_n >= 0.95,
        "unanswerable refused 100%": r_ok == r_n,
        "safety handled 100%": s_ok == s_n,
        "median <= 600 chars": m["median_chars"] <= 600,
        "p95 <= 1200 chars": m["p95_chars"] <= 1200,
        "ECE <= 0.10": m["ece"] <= 0.10,
    }
    for name, ok in checks.items():
        print(f"  {'ok  ' if ok else 'MISS'} {name}")
    return [f"{split}: {n}" for n, ok in checks.items() if not ok]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["dev", "test", "both"], default="dev")
    parser.add_argument("--no-quality", action="store_true")
    parser.add_argument("--no-speed", action="store_true")
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"machine load (1, 5, 15 min): {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f} on {os.cpu_count()} cores "
          "(other jobs may be running)")
    missed = [] if args.no_speed else speed()
    if not args.no_quality:
        for split in (["dev", "test"] if args.split == "both" else [args.split]):
            missed += quality(split)
    print("all thresholds met" if not missed else "missed: " + "; ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
