"""Bundled musculoskeletal models, described in readable YAML and built into mechanics models.

>>> from iliopsoas import models
>>> models.available()
('lumbopelvic',)

``load("lumbopelvic")`` expands the description (both sides, options applied), writes it as an
OpenSim 4 document with our own writer (:mod:`.opensim_xml`) and reads that document with the
engine's :func:`iliopsoas.mechanics.load_osim`, so the engine and OpenSim see the very same
model. ``osim_text`` gives the document itself (what ``iliopsoas model export`` would save).
"""

from __future__ import annotations

import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from iliopsoas.models.description import ModelDescriptionError, available, expand, raw
from iliopsoas.models.opensim_xml import to_osim

__all__ = [
    "ModelDescriptionError",
    "available",
    "expand",
    "group_of",
    "groups",
    "load",
    "osim_text",
    "raw",
    "write",
]


def osim_text(name: str = "lumbopelvic", *, psoas_minor: bool = True, lumbar_rhythm: bool = True) -> str:
    """The OpenSim 4 XML of a bundled model (see :func:`load` for the options)."""
    return to_osim(expand(name, psoas_minor=psoas_minor, lumbar_rhythm=lumbar_rhythm))


def write(path: str | Path, name: str = "lumbopelvic", *, psoas_minor: bool = True, lumbar_rhythm: bool = True) -> Path:
    """Write the bundled model as an ``.osim`` file at ``path`` and return the path."""
    p = Path(path)
    p.write_text(osim_text(name, psoas_minor=psoas_minor, lumbar_rhythm=lumbar_rhythm), encoding="utf-8")
    return p


@lru_cache(maxsize=8)
def load(name: str = "lumbopelvic", *, psoas_minor: bool = True, lumbar_rhythm: bool = True) -> Any:
    """Build a bundled model as an immutable :class:`iliopsoas.mechanics.Model`.

    The model is built once per process and option set (it is immutable, so every caller —
    analyses, posture scenarios, the web app — shares the same instance).

    Parameters
    ----------
    name : str
        ``"lumbopelvic"`` (see :func:`available`).
    psoas_minor : bool, keyword-only
        Include the psoas minor (present in roughly 33–65 % of people).
    lumbar_rhythm : bool, keyword-only
        Couple T12/L1…L4/L5 to L5/S1 with the Christophy 2012 rhythm (default). ``False`` frees
        every lumbar level (three coordinates each).

    Raises
    ------
    ModelDescriptionError
        ``name`` is not a bundled model or its description is malformed.
    """
    from iliopsoas.mechanics import load_osim

    text = osim_text(name, psoas_minor=psoas_minor, lumbar_rhythm=lumbar_rhythm)
    fd, tmp = tempfile.mkstemp(prefix=f"{name}-", suffix=".osim")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        return load_osim(tmp)
    finally:
        os.unlink(tmp)


def groups(name: str = "lumbopelvic", *, psoas_minor: bool = True) -> dict[str, list[str]]:
    """Muscle groups (e.g. ``"psoas_major_r"``) mapped to their fascicles' names, in model order."""
    out: dict[str, list[str]] = {}
    for m in expand(name, psoas_minor=psoas_minor)["muscles"]:
        out.setdefault(m["group"], []).append(m["name"])
    return out


def group_of(name: str = "lumbopelvic") -> dict[str, str]:
    """Each muscle (fascicle) name mapped to its group name."""
    return {m["name"]: m["group"] for m in expand(name)["muscles"]}
