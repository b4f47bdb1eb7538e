"""Speed of population runs on Dask: people solved per second on 1 and 2 local worker processes,
the scaling efficiency, the scheduler's per-task overhead, and an estimate for 10**6 people on 64
workers from those measurements.

Run: ``.venv/bin/python benchmarks/bench_population.py [--people 1024] [--chunk 256] [--repeats 1]``.

Method. The example spec (``iliopsoas population example``) is used as it is. Before timing, every
worker solves one chunk (imports, compiled kernels, fitted problems of every model variant are
loaded), so the timed runs measure steady state. A run's rate is people / wall seconds of
``run_population`` against a warm cluster (sampling, Dask scheduling and writing the chunk files
included). The scheduler overhead is the wall time per task of 400 no-op tasks on the 2-worker
cluster. The estimate for N people on W workers is

    T = N * c / W + (N / chunk) * o + w

with c the measured solve cost per person on one worker (median task seconds / people per task), o
the per-task overhead and w one worker's warm-up (measured here; on a new cluster each worker pays
it once, in parallel). The machine is shared with other helpers: the load average is printed before
and after, and the numbers are only as good as the share of the cores we got.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from iliopsoas.population import example_spec, run_population
from iliopsoas.population.sampling import sample_people
from iliopsoas.population.solve import BLOCK, solve_people


def load() -> str:
    return os.getloadavg().__repr__()


def _warm(spec, values, first):  # runs on each worker
    t0 = time.perf_counter()
    solve_people(spec, values, first)
    return time.perf_counter() - t0


def _noop(i: int) -> int:
    return i


def measure(workers: int, spec, people: int, chunk: int, repeats: int, tmp: Path) -> dict:
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster, Client(cluster) as client:
        warm_values = {k: v[:BLOCK] for k, v in sample_people(spec, BLOCK, 999).items()}
        warm = client.run(_warm, spec, warm_values, 0)
        rates, tasks, cpu = [], [], []
        for r in range(repeats):
            out = tmp / f"w{workers}-{r}"
            s = run_population(spec, n_people=people, out=out, seed=r, client=client, chunk_size=chunk)
            rates.append(people / s.seconds)
            tasks += s.task_seconds
            cpu += s.task_cpu_seconds
            shutil.rmtree(out)
        overhead = None
        if workers == 2:
            t0 = time.perf_counter()
            futs = client.map(_noop, range(400), pure=False)
            client.gather(futs)
            overhead = (time.perf_counter() - t0) / 400
    return {"workers": workers, "rate": statistics.median(rates), "task_median_s": statistics.median(tasks),
            "task_cpu_median_s": statistics.median(cpu),
            "warm_up_s": max(warm.values()), "overhead_s": overhead}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--people", type=int, default=1024)
    ap.add_argument("--chunk", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=1)
    a = ap.parse_args()
    spec = example_spec()
    print(f"load average before: {load()}  (machine shared with other helpers)")
    # fitted problems of every model variant on disk first, so workers only load them
    v = sample_people(spec, 4 * BLOCK, 0)
    solve_people(spec, v, 0)
    tmp = Path(tempfile.mkdtemp(prefix="bench-pop-"))
    try:
        one = measure(1, spec, a.people, a.chunk, a.repeats, tmp)
        two = measure(2, spec, a.people, a.chunk, a.repeats, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"load average after: {load()}")
    eff = two["rate"] / (2 * one["rate"])
    c = one["task_median_s"] / a.chunk  # wall: what a worker that owns a core would see is nearer the CPU time
    o = two["overhead_s"]
    for r in (one, two):
        print(f"{r['workers']} worker process(es): {r['rate']:.1f} people/s, median task {r['task_median_s']:.2f} s wall, "
              f"{r['task_cpu_median_s']:.2f} s CPU ({a.chunk} people), warm-up {r['warm_up_s']:.1f} s")
    print(f"scaling efficiency 2 vs 1 workers: {eff:.2f} (1.00 = linear)")
    cpu_ratio = two["task_cpu_median_s"] / one["task_cpu_median_s"]
    print(f"CPU per task, 2 workers / 1 worker: {cpu_ratio:.2f} (1.00 = Dask adds no work; a wall efficiency below "
          "1 with this near 1 means the machine did not give us a second core)")
    c_cpu = one["task_cpu_median_s"] / a.chunk
    print(f"solve cost per person on one worker: {1000 * c:.1f} ms wall, {1000 * c_cpu:.1f} ms CPU; "
          f"scheduler overhead per task: {1000 * o:.2f} ms")
    n, w, chunk = 10**6, 64, a.chunk  # the chunk size c was measured at
    T = n * c / w + (n / chunk) * o + one["warm_up_s"]
    print(f"estimate, 10^6 people on 64 workers (chunk {chunk}): {T / 60:.1f} min "
          f"({n * c / w / 60:.1f} min solving, {(n / chunk) * o:.1f} s scheduling, {one['warm_up_s']:.0f} s warm-up)")
    T_cpu = n * c_cpu / w + (n / chunk) * o + one["warm_up_s"]
    print(f"estimate with the CPU cost (workers that own their core): {T_cpu / 60:.1f} min")
    print(f"ratio: 2 workers / 1 worker = {two['rate'] / one['rate']:.2f}x people per second")


if __name__ == "__main__":
    main()
