"""Populations on a real Dask cluster: same results as one process, a killed worker loses nothing,
a stopped run resumes. One small spec (one model variant, two cheap scenarios) keeps this lean."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from iliopsoas.population import load_spec, run_population
from iliopsoas.population.store import RESULTS, read_manifest, stored_chunks

pytestmark = pytest.mark.slow

SPEC = Path(__file__).parent / "data" / "population_small.yaml"
N = 200  # not a multiple of the chunk: the last chunk is short
SEED = 11


def _same(a: Path, b: Path) -> None:
    ta, tb = pq.read_table(a / RESULTS), pq.read_table(b / RESULTS)
    assert ta.column_names == tb.column_names
    for c in ta.column_names:
        x, y = ta.column(c).to_numpy(zero_copy_only=False), tb.column(c).to_numpy(zero_copy_only=False)
        if x.dtype.kind == "f":
            assert np.array_equal(x, y, equal_nan=True), c
        else:
            assert (x == y).all(), c


def _no_duplicates_and_complete(run: Path, n: int, per_person: int) -> None:
    t = pq.read_table(run / RESULTS)
    keys = list(zip(t.column("person").to_pylist(), t.column("scenario").to_pylist(), strict=True))
    assert len(keys) == len(set(keys)) == n * per_person
    assert set(t.column("person").to_pylist()) == set(range(n))


@pytest.fixture(scope="module")
def spec():
    return load_spec(SPEC)


@pytest.fixture(scope="module")
def reference(spec, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pop") / "single"
    summary = run_population(spec, n_people=N, out=out, seed=SEED, workers=0, chunk_size=64)
    assert summary.chunks_computed == 4 and summary.workers == 0
    return out


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster, \
            Client(cluster) as c:
        yield c


def test_two_worker_processes_give_the_single_process_results_whatever_the_chunking(spec, reference, client,
                                                                                     tmp_path):
    out = tmp_path / "dask"
    # through the scheduler's address, as `population run --scheduler ADDRESS` connects to any cluster
    summary = run_population(spec, n_people=N, out=out, seed=SEED, scheduler=client.scheduler.address, chunk_size=128)
    assert summary.workers == 2 and summary.chunks_computed == 2
    _same(reference, out)
    _no_duplicates_and_complete(out, N, 2)


def test_a_worker_killed_mid_run_leaves_the_store_complete_without_duplicates(spec, reference, client, tmp_path):
    out = tmp_path / "killed"
    killed: list[int] = []

    def kill_one(solved: int, stored: int, total: int) -> None:
        if solved == 0 or killed:
            return
        busy = {w for w, keys in client.processing().items() if keys}
        pids = client.run(os.getpid, workers=sorted(busy)) if busy else {}
        if pids:
            pid = next(iter(pids.values()))
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    run_population(spec, n_people=N, out=out, seed=SEED, client=client, chunk_size=64, progress=kill_one)
    assert killed, "no worker was busy after the first chunk: the test did not kill anything"
    _no_duplicates_and_complete(out, N, 2)
    _same(reference, out)
    # the nanny brings the killed worker back; wait so later tests see two workers again
    deadline = time.monotonic() + 60
    while len(client.scheduler_info()["workers"]) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)


def test_a_stopped_run_resumes_from_the_stored_chunks(spec, reference, tmp_path):
    out = tmp_path / "stopped"

    def stop(solved: int, stored: int, total: int) -> None:
        if solved >= 128:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_population(spec, n_people=N, out=out, seed=SEED, workers=0, chunk_size=64, progress=stop)
    manifest = read_manifest(out)
    assert len(stored_chunks(out, manifest)) == 2
    assert not (out / RESULTS).exists()
    summary = run_population(spec, n_people=N, out=out, seed=SEED, workers=0, chunk_size=64)
    assert summary.chunks_resumed == 2 and summary.chunks_computed == 2
    _same(reference, out)


def test_a_run_folder_refuses_a_different_run(spec, reference):
    from iliopsoas.population import StoreError

    with pytest.raises(StoreError, match="seed 11 there, 12 now"):
        run_population(spec, n_people=N, out=reference, seed=12, workers=0, chunk_size=64)


def test_progress_counts_every_person_once(spec, tmp_path):
    seen: list[tuple[int, int, int]] = []
    lock = threading.Lock()

    def record(solved: int, stored: int, total: int) -> None:
        with lock:
            seen.append((solved, stored, total))

    run_population(spec, n_people=130, out=tmp_path / "p", seed=1, workers=0, chunk_size=64, progress=record)
    assert seen[0] == (0, 0, 130) and seen[-1] == (130, 130, 130)
    assert [s[1] for s in seen] == sorted(s[1] for s in seen)


def test_an_unreachable_scheduler_is_a_one_line_error(tmp_path):
    from typer.testing import CliRunner

    from iliopsoas.cli import app

    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    res = CliRunner().invoke(app, ["population", "run", str(SPEC), "--people", "64", "--out", str(tmp_path / "o"),
                                   "--scheduler", f"tcp://127.0.0.1:{port}"])
    assert res.exit_code == 1
    assert f"--scheduler tcp://127.0.0.1:{port}: cannot reach a Dask scheduler there" in res.stderr
