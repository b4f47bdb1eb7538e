"""Read a bundled model description (YAML) and expand it into both sides.

The description file lists the right side only (items marked ``side: r``); the left side is its
mirror image in the sagittal plane (z → −z of the pelvis frame). Mirroring follows the
reflection ``M = diag(1, 1, −1)``:

* points, translations and translation axes: ``(x, y, z) → (x, y, −z)``;
* rotation axes are pseudo-vectors: ``(x, y, z) → (−x, −y, z)`` so that a positive coordinate
  means the same anatomical motion on both sides (flexion, adduction, internal rotation);
* body-fixed X-Y-Z orientations ``(a, b, c) → (−a, −b, c)`` (because ``M R(a) M`` flips the
  sense of rotations about x and y and keeps the one about z);
* inertia products ``Ixz`` and ``Iyz`` change sign;
* wrap-cylinder quadrants ``±z`` swap; ``±x``, ``±y`` and ``all`` are unchanged.

The result is a plain dictionary (the *expanded description*) that :mod:`.opensim_xml` turns
into an OpenSim 4 document. Nothing here computes mechanics.
"""

from __future__ import annotations

import copy
import re
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

_SIDE = re.compile(r"_r(?=$|_|/)")


class ModelDescriptionError(ValueError):
    """A model description is missing, unknown or malformed."""


def available() -> tuple[str, ...]:
    """Names of the bundled model descriptions (e.g. ``("lumbopelvic",)``)."""
    root = resources.files("iliopsoas.models")
    return tuple(sorted(p.name[: -len(".yaml")] for p in root.iterdir() if p.name.endswith(".yaml")))


@lru_cache(maxsize=8)
def _raw(name: str) -> dict[str, Any]:
    if name not in available():
        raise ModelDescriptionError(
            f"unknown model {name!r}: expected one of {', '.join(available()) or '(none)'}"
        )
    text = resources.files("iliopsoas.models").joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    # libyaml's loader where PyYAML was built with it (same result as safe_load, ~5x faster on this file)
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(data, dict) or data.get("format") != "iliopsoas-model/1":
        raise ModelDescriptionError(f"{name}.yaml: expected 'format: iliopsoas-model/1' at the top level")
    return data


def raw(name: str) -> dict[str, Any]:
    """The description exactly as written in ``<name>.yaml`` (a deep copy; right side only)."""
    return copy.deepcopy(_raw(name))


def mirror_name(name: str) -> str:
    """``'psoas_major_L1_VB_r'`` → ``'psoas_major_L1_VB_l'``; also inside ``/jointset/hip_r/…``."""
    return _SIDE.sub("_l", name)


def _mirror_point(v: list[float]) -> list[float]:
    return [v[0], v[1], -v[2]]


def _mirror_rotation_axis(v: list[float]) -> list[float]:
    return [-v[0], -v[1], v[2]]


def _mirror_orientation(v: list[float]) -> list[float]:
    return [-v[0], -v[1], v[2]]


def _mirror_offset(o: dict[str, Any]) -> dict[str, Any]:
    return {"translation": _mirror_point(o["translation"]), "orientation": _mirror_orientation(o["orientation"])}


def _mirrored(d: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of the right-side record ``d`` with ``changes`` applied, marked as left side."""
    out = copy.deepcopy(d)
    out.update(changes)
    out["side"] = "l"
    return out


def _mirror_body(b: dict[str, Any]) -> dict[str, Any]:
    i = b["inertia"]
    return _mirrored(
        b,
        name=mirror_name(b["name"]),
        mass_center=_mirror_point(b["mass_center"]),
        inertia=[i[0], i[1], i[2], i[3], -i[4], -i[5]],
    )


def _mirror_wrap(w: dict[str, Any]) -> dict[str, Any]:
    return _mirrored(
        w,
        name=mirror_name(w["name"]),
        body=mirror_name(w["body"]),
        translation=_mirror_point(w["translation"]),
        xyz_body_rotation=_mirror_orientation(w["xyz_body_rotation"]),
        quadrant={"z": "-z", "+z": "-z", "-z": "z"}.get(w["quadrant"], w["quadrant"]),
    )


def _mirror_joint(j: dict[str, Any]) -> dict[str, Any]:
    out = _mirrored(
        j,
        name=mirror_name(j["name"]),
        parent=mirror_name(j["parent"]),
        child=mirror_name(j["child"]),
        parent_offset=_mirror_offset(j["parent_offset"]),
        child_offset=_mirror_offset(j["child_offset"]),
    )
    for c in out["coordinates"]:
        c["name"] = mirror_name(c["name"])
    for key, axis in out["axes"].items():
        flip = _mirror_rotation_axis if key.startswith("rotation") else _mirror_point
        axis["axis"] = flip(axis["axis"])
        if "coordinate" in axis:
            axis["coordinate"] = mirror_name(axis["coordinate"])
    return out


def _mirror_constraint(c: dict[str, Any]) -> dict[str, Any]:
    return _mirrored(c, **{key: mirror_name(c[key]) for key in ("name", "independent", "dependent")})


def _mirror_muscle(m: dict[str, Any]) -> dict[str, Any]:
    out = _mirrored(m, name=mirror_name(m["name"]), group=mirror_name(m["group"]))
    for p in out["path"]:
        p["body"] = mirror_name(p["body"])
        p["location"] = _mirror_point(p["location"])
        if "coordinate" in p:
            p["coordinate"] = mirror_name(p["coordinate"])
    for w in out.get("wraps", []):
        w["object"] = mirror_name(w["object"])
    return out


_MIRRORS = {
    "bodies": _mirror_body,
    "wrap_objects": _mirror_wrap,
    "joints": _mirror_joint,
    "constraints": _mirror_constraint,
    "muscles": _mirror_muscle,
}


def expand(name: str = "lumbopelvic", *, psoas_minor: bool = True, lumbar_rhythm: bool = True) -> dict[str, Any]:
    """The description with both sides and the options applied.

    Parameters
    ----------
    name : str
        A bundled description (see :func:`available`).
    psoas_minor : bool, keyword-only
        Keep the psoas minor (present in roughly a third to two thirds of people).
    lumbar_rhythm : bool, keyword-only
        Couple the lumbar levels to L5/S1 with the Christophy et al. (2012) rhythm. Without it,
        every level keeps its own three coordinates (needed to ask which level a muscle crosses).

    Returns
    -------
    dict
        Keys ``bodies``, ``wrap_objects``, ``joints``, ``constraints``, ``muscles`` (lists of
        dicts, right side then left side where sided) plus the metadata of the file.
    """
    data = raw(name)
    out: dict[str, Any] = {k: v for k, v in data.items() if k not in _MIRRORS}
    out["options"] = {"psoas_minor": bool(psoas_minor), "lumbar_rhythm": bool(lumbar_rhythm)}
    for key, mirror in _MIRRORS.items():
        items = data.get(key, [])
        if not isinstance(items, list):
            raise ModelDescriptionError(f"{name}.yaml: '{key}' must be a list")
        out[key] = list(items) + [mirror(item) for item in items if item.get("side") == "r"]
    if not psoas_minor:
        out["muscles"] = [m for m in out["muscles"] if m.get("optional") != "psoas_minor"]
    if not lumbar_rhythm:
        out["constraints"] = [c for c in out["constraints"] if not c.get("lumbar_rhythm")]
    _check(name, out)
    return out


def _check(name: str, d: dict[str, Any]) -> None:
    """Cross-references must resolve: bodies of joints, points and wraps; coordinates of axes."""
    bodies = {"ground"} | {b["name"] for b in d["bodies"]}
    wraps = {w["name"] for w in d["wrap_objects"]}
    coords = {c["name"] for j in d["joints"] for c in j["coordinates"]}
    for w in d["wrap_objects"]:
        if w["body"] not in bodies:
            raise ModelDescriptionError(f"{name}: wrap object {w['name']} is on unknown body {w['body']!r}")
    for j in d["joints"]:
        for key in ("parent", "child"):
            if j[key] not in bodies:
                raise ModelDescriptionError(f"{name}: joint {j['name']} has unknown {key} body {j[key]!r}")
        for axis_name, axis in j["axes"].items():
            if "coordinate" in axis and axis["coordinate"] not in coords:
                raise ModelDescriptionError(
                    f"{name}: joint {j['name']} {axis_name} uses unknown coordinate {axis['coordinate']!r}"
                )
    for c in d["constraints"]:
        for key in ("independent", "dependent"):
            if c[key] not in coords:
                raise ModelDescriptionError(f"{name}: constraint {c['name']} has unknown {key} coordinate {c[key]!r}")
    for m in d["muscles"]:
        for i, p in enumerate(m["path"]):
            if p["body"] not in bodies:
                raise ModelDescriptionError(f"{name}: muscle {m['name']} point {i + 1} is on unknown body {p['body']!r}")
        for w in m.get("wraps", []):
            if w["object"] not in wraps:
                raise ModelDescriptionError(f"{name}: muscle {m['name']} wraps over unknown object {w['object']!r}")
        for key in ("max_isometric_force", "optimal_fiber_length", "tendon_slack_length", "pennation_angle_at_optimal"):
            if not isinstance(m.get(key), int | float):
                raise ModelDescriptionError(f"{name}: muscle {m['name']} needs a number for {key}")
