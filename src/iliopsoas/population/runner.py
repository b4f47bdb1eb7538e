"""Running a population: chunks of people solved on Dask (or in this process), stored as they finish.

* People are cut into chunks of ``chunk_size`` consecutive people (a multiple of
  :data:`~iliopsoas.population.solve.BLOCK`); chunk ``c`` holds people ``c*chunk_size ...``.
* Each chunk is one Dask task with a deterministic key; the task gets the chunk's source values
  (sampled once, in the client, from the run's seed) and returns its rows. The client writes each
  result to its chunk file atomically, so workers need no shared file system, a task run twice
  (after a worker was lost) writes the same file twice, and nothing is ever half-written.
* A run started again with the same spec, seed and size skips the chunks already stored.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from iliopsoas.population import store
from iliopsoas.population.sampling import sample_people
from iliopsoas.population.solve import BLOCK, solve_people
from iliopsoas.population.spec import Spec

DEFAULT_CHUNK = 8 * BLOCK
MODEL_NOTE = "lumbopelvic model, posture scenarios as of this version (population.solve adapter)"

Progress = Callable[[int, int, int], None]  # (people solved now, people stored in all, people in the run)


@dataclass(frozen=True)
class RunSummary:
    out: Path
    n_people: int
    n_chunks: int
    chunks_computed: int
    chunks_resumed: int
    seconds: float
    task_seconds: list[float]
    workers: int
    scheduler: str
    task_cpu_seconds: tuple[float, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        ts = np.asarray(self.task_seconds)
        return {"out": str(self.out), "n_people": self.n_people, "n_chunks": self.n_chunks,
                "chunks_computed": self.chunks_computed, "chunks_resumed": self.chunks_resumed,
                "seconds": round(self.seconds, 3), "workers": self.workers, "scheduler": self.scheduler,
                "median_task_seconds": round(float(np.median(ts)), 4) if ts.size else None}


def solve_chunk(spec: Spec, values: dict[str, np.ndarray], first: int) -> tuple[dict[str, Any], float, float]:
    """One task: solve people ``first ...``; returns their rows, the wall seconds and the CPU seconds
    of the worker process (the two differ when the machine gives the worker less than a core)."""
    t0, c0 = time.perf_counter(), time.process_time()
    cols = solve_people(spec, values, first)
    return cols, time.perf_counter() - t0, time.process_time() - c0


def _check_sizes(n_people: int, chunk_size: int, seed: int) -> None:
    if not isinstance(n_people, int) or n_people < 1:
        raise ValueError(f"--people must be a whole number of at least 1, got {n_people!r}")
    if not isinstance(chunk_size, int) or chunk_size < BLOCK or chunk_size % BLOCK:
        raise ValueError(f"--chunk-size must be a multiple of {BLOCK} people, got {chunk_size!r}")
    if not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ValueError(f"--seed must be a whole number from 0 to 2**63-1, got {seed!r}")


def run_population(spec: Spec, *, n_people: int, out: str | Path, seed: int = 0, workers: int | None = None,
                   scheduler: str | None = None, client: Any = None, chunk_size: int = DEFAULT_CHUNK,
                   progress: Progress | None = None) -> RunSummary:
    """Solve ``n_people`` people of ``spec`` into the run folder ``out`` (resuming what is stored there).

    ``workers=0`` solves in this process without Dask; otherwise a ``distributed`` client is used:
    ``client`` if given, else one connected to ``scheduler`` (an address such as
    ``tcp://host:8786``), else a new local cluster of ``workers`` processes (default: the number of
    cores). The local cluster is closed at the end; a given client or scheduler is left running.
    """
    _check_sizes(n_people, chunk_size, seed)
    if workers is not None and (not isinstance(workers, int) or workers < 0):
        raise ValueError(f"--workers must be 0 (this process) or more, got {workers!r}")
    out = Path(out)
    manifest = store.Manifest(spec, seed, n_people, chunk_size, MODEL_NOTE)
    store.open_run(out, manifest)
    done = store.stored_chunks(out, manifest)
    todo = [c for c in range(manifest.n_chunks) if c not in done]
    stored_people = sum(b - a for a, b in map(manifest.chunk_range, done))
    values = sample_people(spec, n_people, seed)
    t0 = time.perf_counter()
    task_seconds: list[float] = []
    task_cpu: list[float] = []
    solved = 0

    def finished(chunk: int, cols: dict[str, Any], secs: float, cpu: float) -> None:
        nonlocal solved, stored_people
        store.write_chunk(out, chunk, store.to_table(cols, manifest))
        a, b = manifest.chunk_range(chunk)
        solved += b - a
        stored_people += b - a
        task_seconds.append(secs)
        task_cpu.append(cpu)
        if progress is not None:
            progress(solved, stored_people, n_people)

    def args(chunk: int) -> tuple[Spec, dict[str, np.ndarray], int]:
        a, b = manifest.chunk_range(chunk)
        return spec, {k: v[a:b] for k, v in values.items()}, a

    if progress is not None:
        progress(0, stored_people, n_people)
    n_workers, where = 0, "this process"
    if todo and client is None and scheduler is None and workers == 0:
        for c in todo:
            finished(c, *solve_chunk(*args(c)))
    elif todo:
        n_workers, where = _run_dask(spec, manifest, todo, args, finished, workers=workers, scheduler=scheduler,
                                     client=client)
    store.assemble(out, manifest)
    summary = RunSummary(out, n_people, manifest.n_chunks, len(todo), len(done), time.perf_counter() - t0,
                         task_seconds, n_workers, where, tuple(task_cpu))
    info = summary.as_dict()
    store.record_timing(out, {k: info[k] for k in ("seconds", "workers", "scheduler", "chunks_computed",
                                                   "chunks_resumed", "median_task_seconds")})
    return summary


def _run_dask(spec: Spec, manifest: store.Manifest, todo: list[int], args: Callable[[int], tuple[Any, ...]],
              finished: Callable[[int, dict[str, Any], float, float], None], *, workers: int | None, scheduler: str | None,
              client: Any) -> tuple[int, str]:
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    own_client = client is None
    if client is None:
        if scheduler is not None:
            try:
                client = Client(scheduler, timeout="10s")
            except (OSError, TimeoutError) as exc:
                raise ConnectionError(f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({exc})") from None
        else:
            n = workers or os.cpu_count() or 1
            # loopback only, free ports chosen by the system (no clash with other servers on this machine)
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                                   dashboard_address="127.0.0.1:0")
            client = Client(cluster)
    try:
        n_workers = len(client.scheduler_info().get("workers", {}))
        where = "local cluster" if cluster is not None else str(client.scheduler.address)
        key = f"population-{spec.digest()}-{manifest.seed}-{manifest.n_people}-{manifest.chunk_size}"
        futures = {client.submit(solve_chunk, *args(c), key=f"{key}-{c:06d}", pure=False, retries=1): c for c in todo}
        written: set[int] = set()
        for fut in as_completed(futures):
            c = futures[fut]
            cols, secs, cpu = fut.result()
            fut.release()
            if c not in written:  # one result per chunk, whatever happened to the workers
                finished(c, cols, secs, cpu)
                written.add(c)
        return n_workers, where
    finally:
        if own_client:
            client.close()
        if cluster is not None:
            cluster.close()
