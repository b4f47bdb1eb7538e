"""The run folder: a manifest, one Parquet file per chunk, and the assembled results.

::

    RUN/manifest.json                 spec, seed, people, chunk size, digest (written first)
    RUN/chunks/chunk-000012.parquet   people 12*chunk ... 13*chunk-1, written atomically
    RUN/results.parquet               every chunk in person order (written when all are stored)

A chunk file is written to a temporary name and renamed, so a file under its final name is
always complete; writing the same chunk twice (a task run again after a lost worker) replaces
it with identical content. Every Parquet file carries the spec and the seed in its metadata.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from iliopsoas.population.spec import Spec, SpecError, parse_spec

FORMAT = "iliopsoas-population-1"
MANIFEST = "manifest.json"
RESULTS = "results.parquet"
TIMING = "timing.json"


class StoreError(ValueError):
    """A run folder is missing, incomplete or belongs to a different run."""


@dataclass(frozen=True)
class Manifest:
    spec: Spec
    seed: int
    n_people: int
    chunk_size: int
    model_note: str

    @property
    def n_chunks(self) -> int:
        return -(-self.n_people // self.chunk_size)

    def chunk_range(self, chunk: int) -> tuple[int, int]:
        a = chunk * self.chunk_size
        return a, min(a + self.chunk_size, self.n_people)

    def as_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "spec": self.spec.model_dump(mode="json"), "digest": self.spec.digest(),
                "seed": self.seed, "n_people": self.n_people, "chunk_size": self.chunk_size,
                "model": self.model_note}

    def metadata(self) -> dict[bytes, bytes]:
        return {b"iliopsoas.population": json.dumps(self.as_json(), sort_keys=True).encode()}


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def open_run(out: Path, manifest: Manifest) -> None:
    """Create ``out`` with ``manifest``, or check that the stored manifest is the same run."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "chunks").mkdir(exist_ok=True)
    path = out / MANIFEST
    if path.exists():
        old = read_manifest(out)
        for what, a, b in (("spec", old.spec.digest(), manifest.spec.digest()), ("seed", old.seed, manifest.seed),
                           ("number of people", old.n_people, manifest.n_people),
                           ("chunk size", old.chunk_size, manifest.chunk_size)):
            if a != b:
                raise StoreError(f"{out}: holds a different run ({what} {a} there, {b} now); use another --out folder "
                                 "or the same options to resume")
        return
    _atomic_write_text(path, json.dumps(manifest.as_json(), indent=2) + "\n")


def read_manifest(run: Path) -> Manifest:
    path = run / MANIFEST
    if not path.is_file():
        raise StoreError(f"{run}: not a population run (no {MANIFEST})")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StoreError(f"{path}: unreadable manifest ({exc})") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise StoreError(f"{path}: not a {FORMAT} manifest")
    try:
        spec = parse_spec(raw["spec"], str(path))
        return Manifest(spec, int(raw["seed"]), int(raw["n_people"]), int(raw["chunk_size"]), str(raw.get("model", "")))
    except (KeyError, TypeError, ValueError, SpecError) as exc:
        raise StoreError(f"{path}: malformed manifest ({exc})") from None


def chunk_path(run: Path, chunk: int) -> Path:
    return run / "chunks" / f"chunk-{chunk:06d}.parquet"


def stored_chunks(run: Path, manifest: Manifest) -> set[int]:
    """Chunk ids whose file is present under its final name (complete by construction)."""
    out = set()
    for p in (run / "chunks").glob("chunk-*.parquet"):
        try:
            c = int(p.stem.split("-")[1])
        except (IndexError, ValueError):
            continue
        if 0 <= c < manifest.n_chunks:
            out.add(c)
    return out


def to_table(columns: dict[str, Any], manifest: Manifest) -> pa.Table:
    arrays = {}
    for k, v in columns.items():
        a = np.asarray(v)
        if k == "person":
            arrays[k] = pa.array(a, pa.int64())
        elif k in ("scenario", "message"):
            arrays[k] = pa.array([str(x) for x in a], pa.string())
        elif k == "converged":
            arrays[k] = pa.array(a.astype(bool), pa.bool_())
        else:
            arrays[k] = pa.array(a.astype(float), pa.float64())
    return pa.table(arrays).replace_schema_metadata(manifest.metadata())


def write_chunk(run: Path, chunk: int, table: pa.Table) -> Path:
    path = chunk_path(run, chunk)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)
    return path


def assemble(run: Path, manifest: Manifest) -> Path:
    """Write ``results.parquet`` from every chunk, in person order; checks nothing is missing or repeated."""
    have = stored_chunks(run, manifest)
    missing = sorted(set(range(manifest.n_chunks)) - have)
    if missing:
        raise StoreError(f"{run}: {len(missing)} of {manifest.n_chunks} chunks missing (first: {missing[0]}); "
                         "run again with the same options to resume")
    tables = [pq.read_table(chunk_path(run, c)) for c in range(manifest.n_chunks)]
    table = pa.concat_tables(tables).replace_schema_metadata(manifest.metadata())
    people = np.unique(table.column("person").to_numpy())
    if people.size != manifest.n_people or people[0] != 0 or people[-1] != manifest.n_people - 1:
        raise StoreError(f"{run}: the chunks hold {people.size} distinct people, expected {manifest.n_people}")
    path = run / RESULTS
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)
    return path


def read_results(run: Path) -> tuple[Manifest, pa.Table]:
    """The manifest and the assembled table of a finished run."""
    manifest = read_manifest(run)
    path = run / RESULTS
    if not path.is_file():
        n = len(stored_chunks(run, manifest))
        raise StoreError(f"{run}: the run is not finished ({n} of {manifest.n_chunks} chunks stored); run it again "
                         "with the same options to resume")
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise StoreError(f"{path}: unreadable Parquet ({exc})") from None
    return manifest, table


def record_timing(run: Path, summary: dict[str, Any]) -> None:
    """Append one session's timing (people solved, seconds, workers) to ``RUN/timing.json``."""
    path = run / TIMING
    try:
        old = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
    except (OSError, ValueError):
        old = []
    old.append(summary)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(old, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
