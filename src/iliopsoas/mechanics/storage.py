"""Read and write OpenSim motion (``.mot``) and storage (``.sto``) files.

The format is a text header ended by a line ``endheader``, then a line of tab-separated column
labels, then one row of numbers per time step. Header lines are either ``key=value``
(``version``, ``nRows``, ``nColumns``, ``inDegrees``, ...) or free text (the first line is
usually the table's name). Older files use ``datacolumns``/``datarows`` instead of
``nColumns``/``nRows``; both are understood.

Column labels may be bare coordinate names (``hip_flexion_r``) or component paths
(``/jointset/hip_r/hip_flexion_r/value``, with ``/speed`` for speeds). :func:`motion_to_q` maps a
table's columns onto a model's coordinates, converting degrees to radians for rotational
coordinates when the header says ``inDegrees=yes``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


class StorageError(ValueError):
    """A malformed .mot/.sto file, or a motion that does not fit a model."""


@dataclass(frozen=True)
class Storage:
    """A table of time series.

    Attributes
    ----------
    name : str
        First free-text header line (OpenSim's table name).
    labels : tuple of str, length k
        Column labels, including the first (usually ``time``).
    data : array (n, k)
        The numbers, one row per time step.
    in_degrees : bool
        Whether rotational quantities are in degrees (``inDegrees=yes``).
    header : dict
        Every other ``key=value`` header entry, as text.
    """

    name: str
    labels: tuple[str, ...]
    data: FloatArray
    in_degrees: bool = False
    header: dict[str, str] = field(default_factory=dict)

    @property
    def time(self) -> FloatArray:
        """The first column (n,)."""
        return self.data[:, 0]

    def column(self, label: str) -> FloatArray:
        """The column called ``label`` (n,); KeyError names the missing label."""
        try:
            return self.data[:, self.labels.index(label)]
        except ValueError:
            raise KeyError(f"no column {label!r}") from None


_COUNT_KEYS = {"nrows": "rows", "datarows": "rows", "ncolumns": "columns", "datacolumns": "columns"}


def read_storage(path: str | Path) -> Storage:
    """Read a ``.mot``/``.sto`` file.

    Raises
    ------
    StorageError
        Naming the file, the line number and the problem (missing ``endheader``, a row with the
        wrong number of values, a value that is not a number, counts that contradict the header).
    FileNotFoundError
        If the file does not exist.
    """
    p = Path(path)
    text = p.read_text(encoding="utf-8", errors="replace")
    return parse_storage(text, source=str(p))


def parse_storage(text: str, *, source: str = "<text>") -> Storage:
    """Parse the text of a ``.mot``/``.sto`` file (see :func:`read_storage`)."""
    lines = text.splitlines()
    name = ""
    header: dict[str, str] = {}
    counts: dict[str, int] = {}
    end = None
    for i, raw in enumerate(lines):
        line = raw.strip()
        if line.lower() == "endheader":
            end = i
            break
        if "=" in line:
            key, _, value = line.partition("=")
            key, value = key.strip(), value.strip()
            header[key] = value
            kind = _COUNT_KEYS.get(key.lower())
            if kind:
                try:
                    counts[kind] = int(value)
                except ValueError:
                    raise StorageError(f"{source}:{i + 1}: {key} must be an integer, got {value!r}") from None
        elif line and not name:
            name = line
    if end is None:
        raise StorageError(f"{source}: no 'endheader' line: not an OpenSim .mot/.sto file")
    deg = header.get("inDegrees", header.get("indegrees", "no")).strip().lower()
    if deg not in ("yes", "no", "true", "false"):
        raise StorageError(f"{source}: inDegrees must be yes or no, got {deg!r}")
    in_degrees = deg in ("yes", "true")
    i = end + 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines):
        raise StorageError(f"{source}:{end + 2}: missing the column-label line after endheader")
    label_line = lines[i]
    labels = tuple(s.strip() for s in (label_line.split("\t") if "\t" in label_line else label_line.split()))
    if any(not s for s in labels):
        raise StorageError(f"{source}:{i + 1}: empty column label")
    if len(set(labels)) != len(labels):
        dup = sorted({s for s in labels if labels.count(s) > 1})
        raise StorageError(f"{source}:{i + 1}: duplicate column label(s) {', '.join(dup)}")
    rows: list[list[float]] = []
    for j in range(i + 1, len(lines)):
        parts = lines[j].split()
        if not parts:
            continue
        if len(parts) != len(labels):
            raise StorageError(
                f"{source}:{j + 1}: row has {len(parts)} values, expected {len(labels)} (one per column label)")
        try:
            rows.append([float(x) for x in parts])
        except ValueError:
            bad = next(x for x in parts if not _is_float(x))
            raise StorageError(f"{source}:{j + 1}: {bad!r} is not a number") from None
    data = np.array(rows, dtype=float).reshape(len(rows), len(labels))
    if "columns" in counts and counts["columns"] != len(labels):
        raise StorageError(f"{source}: header says {counts['columns']} columns but the label line has {len(labels)}")
    if "rows" in counts and counts["rows"] != len(rows):
        raise StorageError(f"{source}: header says {counts['rows']} rows but the file has {len(rows)}")
    extra = {k: v for k, v in header.items() if k.lower() not in ("indegrees",) and k.lower() not in _COUNT_KEYS}
    return Storage(name=name, labels=labels, data=data, in_degrees=in_degrees, header=extra)


def _is_float(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def format_storage(table: Storage) -> str:
    """The text of ``table`` in OpenSim's format (version=1, tab separated, 17 significant digits)."""
    n, k = table.data.shape
    if k != len(table.labels):
        raise StorageError(f"data has {k} columns but there are {len(table.labels)} labels")
    out = [table.name or "table", "version=1", f"nRows={n}", f"nColumns={k}",
           f"inDegrees={'yes' if table.in_degrees else 'no'}"]
    for key, value in table.header.items():
        if key.lower() == "version":
            continue
        out.append(f"{key}={value}")
    out.append("endheader")
    out.append("\t".join(table.labels))
    for row in table.data:
        out.append("\t".join(_fmt(v) for v in row))
    return "\n".join(out) + "\n"


def _fmt(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Inf" if v > 0 else "-Inf"
    return repr(float(v))


def write_storage(path: str | Path, table: Storage) -> None:
    """Write ``table`` to ``path`` as a ``.mot``/``.sto`` file."""
    Path(path).write_text(format_storage(table), encoding="utf-8")


def coordinate_of_label(label: str) -> tuple[str, str]:
    """(coordinate name, quantity) of a column label: ``value`` for bare names and ``/value``.

    ``/jointset/hip_r/hip_flexion_r/speed`` -> ("hip_flexion_r", "speed");
    ``hip_flexion_r`` -> ("hip_flexion_r", "value").
    """
    if "/" not in label:
        return label, "value"
    parts = [s for s in label.split("/") if s]
    if len(parts) >= 2 and parts[-1] in ("value", "speed", "acceleration"):
        return parts[-2], parts[-1]
    return parts[-1], "value"


def motion_to_q(table: Storage, coordinate_names: Sequence[str], defaults: Sequence[float] | FloatArray,
                rotational: Sequence[bool] | NDArray[np.bool_], *, strict: bool = False) -> tuple[FloatArray, list[str]]:
    """Generalized coordinates over a motion, in the model's coordinate order and SI units.

    Parameters
    ----------
    table : Storage
        The motion (first column: time).
    coordinate_names : sequence of str, length c
        The model's coordinates in order.
    defaults : (c,)
        Value used for a coordinate the motion does not contain (SI units).
    rotational : (c,) bool
        Which coordinates are angles (converted from degrees when ``table.in_degrees``).
    strict : bool
        If True, a column naming no model coordinate is an error; otherwise it is ignored and
        returned in the second result.

    Returns
    -------
    q : array (n, c)
    ignored : list of str
        Column labels that were not used (speeds, unknown names, other outputs).
    """
    names = list(coordinate_names)
    c = len(names)
    d = np.asarray(defaults, dtype=float)
    rot = np.asarray(rotational, dtype=bool)
    if d.shape != (c,) or rot.shape != (c,):
        raise StorageError(f"defaults and rotational must have length {c} (one per coordinate)")
    pos = {nm: i for i, nm in enumerate(names)}
    q = np.tile(d, (table.data.shape[0], 1))
    ignored: list[str] = []
    seen: dict[int, str] = {}
    for j, label in enumerate(table.labels[1:], start=1):
        coord, quantity = coordinate_of_label(label)
        if quantity != "value" or coord not in pos:
            if strict and quantity == "value":
                raise StorageError(f"column {label!r} names no coordinate of the model")
            ignored.append(label)
            continue
        i = pos[coord]
        if i in seen:
            raise StorageError(f"columns {seen[i]!r} and {label!r} both give coordinate {coord!r}")
        seen[i] = label
        col = table.data[:, j]
        q[:, i] = np.deg2rad(col) if (table.in_degrees and rot[i]) else col
    return q, ignored


def model_motion_to_q(model: Any, table: Storage, *, strict: bool = False) -> tuple[FloatArray, list[str]]:
    """:func:`motion_to_q` with names, defaults and angle flags read from a loaded model.

    Coupled (dependent) coordinates are then recomputed from their couplers by the kinematics.
    """
    names = list(model.coordinate_names)
    defaults = np.asarray(model.coordinate_defaults, dtype=float)
    rot = np.array([c.motion_type == "rotational" for c in model.coordinates], dtype=bool)
    return motion_to_q(table, names, defaults, rot, strict=strict)
