"""Hostile ``.osim`` files, generated at test time (issue 14, "Model files").

Each case is ``(category, name, path)``; :func:`build_cases` writes them under a folder.
``tests/test_mech_hostile_osim.py`` runs every case through ``load_osim`` and the CLI; running
this module as a script (``python tests/osim_hostile.py``) prints the tries and failures per
category for whatever version of the package is importable (used for the before/after table in
docs/mechanics.md).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

BODY = ('<Body name="{name}"><mass>{mass}</mass><mass_center>{mc}</mass_center>'
        '<inertia>0.1 0.1 0.1 0 0 0</inertia>{wraps}</Body>')
WRAP = ('<WrapObjectSet><objects><WrapCylinder name="cyl"><xyz_body_rotation>{rot}</xyz_body_rotation>'
        '<translation>{tr}</translation><radius>{radius}</radius><length>0.1</length>'
        '<quadrant>all</quadrant></WrapCylinder></objects></WrapObjectSet>')


def model_xml(*, body: str = "thigh", mass: str = "1", mc: str = "0 0 0", default: str = "0.1",
              rng: str = "-1 1", loc: str = "0.02 0.05 0", muscle: str = "mus", coord: str = "hip",
              joint: str = "hip_j", rot: str = "0 0 0", tr: str = "0 0 0", radius: str = "0.01",
              coef: str = "1 0", spline_y: str = "0 0.1 0.2", gravity: str = "0 -9.80665 0",
              scale: str = "1", orientation: str = "0 0 0", extra_body: str = "", body_inner: str = "",
              muscle_inner: str = "", function_inner: str = "", version: str = "40000") -> str:
    """A small valid model (two bodies, a coupler, a wrapped muscle) with every number replaceable."""
    fn = function_inner or f'<LinearFunction name="function"><coefficients>{coef}</coefficients></LinearFunction>'
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<OpenSimDocument Version="{version}">
<Model name="hostile">
<gravity>{gravity}</gravity>
<Ground name="ground"/>
<BodySet><objects>
{BODY.format(name=body, mass=mass, mc=mc, wraps=WRAP.format(rot=rot, tr=tr, radius=radius)).replace("</Body>", body_inner + "</Body>")}
{BODY.format(name="shank", mass="1", mc="0 0 0", wraps="")}
{extra_body}
</objects></BodySet>
<JointSet><objects>
<CustomJoint name="{joint}">
<socket_parent_frame>ground_offset</socket_parent_frame><socket_child_frame>{body}_offset</socket_child_frame>
<coordinates>
<Coordinate name="{coord}"><default_value>{default}</default_value><range>{rng}</range></Coordinate>
<Coordinate name="hip_dep"><default_value>0</default_value><range>-2 2</range></Coordinate>
</coordinates>
<frames>
<PhysicalOffsetFrame name="ground_offset"><socket_parent>/ground</socket_parent><translation>0 0 0</translation><orientation>{orientation}</orientation></PhysicalOffsetFrame>
<PhysicalOffsetFrame name="{body}_offset"><socket_parent>/bodyset/{body}</socket_parent><translation>0 0.1 0</translation><orientation>0 0 0</orientation></PhysicalOffsetFrame>
</frames>
<SpatialTransform>
<TransformAxis name="rotation1"><coordinates>{coord}</coordinates><axis>0 0 1</axis>{fn}</TransformAxis>
<TransformAxis name="rotation2"><coordinates>hip_dep</coordinates><axis>1 0 0</axis><LinearFunction name="function"><coefficients>1 0</coefficients></LinearFunction></TransformAxis>
<TransformAxis name="translation1"><coordinates>{coord}</coordinates><axis>0 1 0</axis><SimmSpline name="function"><x>-1 0 1</x><y>{spline_y}</y></SimmSpline></TransformAxis>
</SpatialTransform>
</CustomJoint>
<PinJoint name="knee">
<socket_parent_frame>/bodyset/{body}</socket_parent_frame><socket_child_frame>/bodyset/shank</socket_child_frame>
<coordinates><Coordinate name="knee_q"><default_value>0</default_value><range>-2 0.2</range></Coordinate></coordinates>
</PinJoint>
</objects></JointSet>
<ConstraintSet><objects>
<CoordinateCouplerConstraint name="cc">
<coupled_coordinates_function><LinearFunction name="f"><coefficients>0.5 0</coefficients></LinearFunction></coupled_coordinates_function>
<independent_coordinate_names>{coord}</independent_coordinate_names><dependent_coordinate_name>hip_dep</dependent_coordinate_name>
<scale_factor>{scale}</scale_factor>
</CoordinateCouplerConstraint>
</objects></ConstraintSet>
<ForceSet><objects>
<Thelen2003Muscle name="{muscle}">
<GeometryPath name="path">
<PathPointSet><objects>
<PathPoint name="o"><socket_parent_frame>/ground</socket_parent_frame><location>0.03 0.02 0</location></PathPoint>
<PathPoint name="i"><socket_parent_frame>/bodyset/{body}</socket_parent_frame><location>{loc}</location></PathPoint>
<PathPoint name="k"><socket_parent_frame>/bodyset/shank</socket_parent_frame><location>0.01 -0.05 0</location></PathPoint>
</objects></PathPointSet>
<PathWrapSet><objects><PathWrap name="pw"><wrap_object>cyl</wrap_object></PathWrap></objects></PathWrapSet>
</GeometryPath>{muscle_inner}
<max_isometric_force>500</max_isometric_force><optimal_fiber_length>0.1</optimal_fiber_length>
<tendon_slack_length>0.05</tendon_slack_length>
</Thelen2003Muscle>
</objects></ForceSet>
</Model>
</OpenSimDocument>
"""


def _nested(tag: str, depth: int, inner: str = "") -> str:
    return f"<{tag}>" * depth + inner + f"</{tag}>" * depth


def _multiplier_chain(depth: int) -> str:
    out = '<LinearFunction name="f"><coefficients>1 0</coefficients></LinearFunction>'
    for _ in range(depth):
        out = f'<MultiplierFunction name="function"><function>{out}</function><scale>1</scale></MultiplierFunction>'
    return out


def _frame_chain(n: int) -> str:
    """``n`` offset frames on the shank, each on the previous one, and a muscle point on the last."""
    frames = "".join(
        f'<PhysicalOffsetFrame name="f{i}"><socket_parent>{"/bodyset/shank" if i == 0 else f"/bodyset/shank/f{i - 1}"}'
        f'</socket_parent><translation>0 -0.00001 0</translation><orientation>0 0 0</orientation></PhysicalOffsetFrame>'
        for i in range(n))
    return f"<components>{frames}</components>"


BAD_NUMBERS = ("nan", "NaN", "inf", "-inf", "Infinity", "1e308", "-1e308", "1e400", "1e30", "0x10", "")


def numeric_cases() -> list[tuple[str, str]]:
    """(name, xml) with one number replaced by a non-finite, huge or malformed value."""
    out = []
    slots = {
        "location": lambda v: model_xml(loc=f"{v} 0.05 0"),
        "range": lambda v: model_xml(rng=f"-1 {v}"),
        "default_value": lambda v: model_xml(default=v),
        "mass": lambda v: model_xml(mass=v),
        "mass_center": lambda v: model_xml(mc=f"0 {v} 0"),
        "orientation": lambda v: model_xml(orientation=f"0 {v} 0"),
        "wrap_rotation": lambda v: model_xml(rot=f"{v} 0 0"),
        "wrap_translation": lambda v: model_xml(tr=f"0 0 {v}"),
        "radius": lambda v: model_xml(radius=v),
        "coefficients": lambda v: model_xml(coef=f"{v} 0"),
        "spline_y": lambda v: model_xml(spline_y=f"0 {v} 0.2"),
        "gravity": lambda v: model_xml(gravity=f"0 {v} 0"),
        "scale_factor": lambda v: model_xml(scale=v),
    }
    for slot, make in slots.items():
        for v in BAD_NUMBERS:
            if v == "" and slot in ("mass", "default_value", "radius", "scale_factor"):
                continue  # an empty scalar is the documented default, not an error
            out.append((f"{slot}={v or 'empty'}", make(v)))
    out.append(("negative mass", model_xml(mass="-1")))
    out.append(("range min > max", model_xml(rng="1 -1")))
    out.append(("negative radius", model_xml(radius="-0.01")))
    return out


def markup_cases() -> list[tuple[str, str]]:
    names = ("a[/]b", "[bold]x", "[/]", "m[link=file:///etc/passwd]x[/link]", "[red]q[/red]", "\\[x]")
    out = []
    for n in names:
        out.append((f"muscle {n}", model_xml(muscle=n)))
        out.append((f"body {n}", model_xml(body=n)))
        out.append((f"coordinate {n}", model_xml(coord=n)))
        out.append((f"joint {n}", model_xml(joint=n)))
    return out


def nesting_cases() -> list[tuple[str, str]]:
    return [
        ("100,000 nested elements in a body", model_xml(body_inner=_nested("x", 100_000))),
        ("1,000 nested elements in a muscle", model_xml(muscle_inner=_nested("y", 1_000))),
        ("65 nested elements", model_xml(body_inner=_nested("x", 60))),
        ("3,000 nested MultiplierFunctions", model_xml(function_inner=_multiplier_chain(3_000))),
        ("20 nested MultiplierFunctions", model_xml(function_inner=_multiplier_chain(20))),
        ("5,000 chained offset frames", model_xml().replace(
            '<Body name="shank">', '<Body name="shank">' + _frame_chain(5_000), 1).replace(
            '<socket_parent_frame>/bodyset/shank</socket_parent_frame><location>0.01',
            '<socket_parent_frame>/bodyset/shank/f4999</socket_parent_frame><location>0.01', 1)),
        ("offset frames in a cycle", model_xml().replace(
            "<Body name=\"shank\">",
            '<Body name="shank"><components><PhysicalOffsetFrame name="a"><socket_parent>b</socket_parent></PhysicalOffsetFrame>'
            '<PhysicalOffsetFrame name="b"><socket_parent>a</socket_parent></PhysicalOffsetFrame></components>', 1)
         .replace("<socket_parent_frame>/bodyset/shank</socket_parent_frame><location>0.01",
                  "<socket_parent_frame>/bodyset/shank/a</socket_parent_frame><location>0.01")),
    ]


def count_cases() -> list[tuple[str, str]]:
    bodies = "".join(BODY.format(name=f"extra{i}", mass="1", mc="0 0 0", wraps="") for i in range(1_001))
    many_points = "".join(
        f'<PathPoint name="p{i}"><socket_parent_frame>/ground</socket_parent_frame><location>0 {i * 1e-4} 0</location></PathPoint>'
        for i in range(600))
    return [
        ("1,003 bodies", model_xml(extra_body=bodies)),
        ("600 points in one path", model_xml().replace('<PathPoint name="o">', many_points + '<PathPoint name="o">', 1)),
        ("100,000 spline knots", model_xml().replace(
            "<x>-1 0 1</x><y>0 0.1 0.2</y>",
            "<x>" + " ".join(str(i) for i in range(100_000)) + "</x><y>" + " ".join("0" for _ in range(100_000)) + "</y>")),
    ]


def mutation_cases(n: int, seed: int = 14) -> list[tuple[str, str]]:
    """``n`` well-formed variants of the valid model, each with one to three random edits of its
    tree: an element deleted, duplicated, renamed to another tag of the file, moved under another
    parent, or its text replaced by a number, a reference or garbage."""
    import xml.etree.ElementTree as ET

    rng = random.Random(seed)
    texts = ["nan", "1e308", "-1", "0", "1 2", "1 2 3 4 5 6 7", "/bodyset/nope", "../..", "hip", "cyl",
             "true", "x", "", "1e-300", "3.14159", "/ground", "shank"]
    out = []
    for k in range(n):
        root = ET.fromstring(model_xml().split("?>", 1)[1])
        for _ in range(rng.randint(1, 3)):
            parents = [(p, c) for p in root.iter() for c in p]
            tags = sorted({el.tag for el in root.iter()})
            parent, el = rng.choice(parents)
            op = rng.randrange(5)
            if op == 0:
                parent.remove(el)
            elif op == 1:
                parent.insert(list(parent).index(el), ET.fromstring(ET.tostring(el)))
            elif op == 2:
                el.tag = rng.choice(tags)
            elif op == 3:
                others = [q for q, _ in parents if q is not el and el not in q.iter()]
                if others:
                    parent.remove(el)
                    rng.choice(others).append(el)
            else:
                el.text = rng.choice(texts)
        out.append((f"mutation {k}", ET.tostring(root, encoding="unicode")))
    return out


def build_cases(folder: Path, mutations: int = 60) -> list[tuple[str, str, Path]]:
    """Write every case under ``folder``; returns ``(category, name, path)``."""
    folder.mkdir(parents=True, exist_ok=True)
    cases: list[tuple[str, str, Path]] = []
    groups = {
        "numbers": numeric_cases(),
        "markup": markup_cases(),
        "nesting": nesting_cases(),
        "counts": count_cases(),
        "mutations": mutation_cases(mutations),
    }
    for cat, items in groups.items():
        for k, (name, xml) in enumerate(items):
            p = folder / f"{cat}-{k:03d}.osim"
            p.write_text(xml, encoding="utf-8")
            cases.append((cat, name, p))
    # special files
    fifo = folder / "fifo.osim"
    if hasattr(os, "mkfifo") and not fifo.exists():
        os.mkfifo(fifo)
    cases.append(("special files", "a FIFO", fifo))
    cases.append(("special files", "/dev/zero", Path("/dev/zero")))
    cases.append(("special files", "/dev/null", Path("/dev/null")))
    cases.append(("special files", "a directory", folder))
    link = folder / "link-to-fifo.osim"
    if not link.is_symlink():
        link.symlink_to(fifo)
    cases.append(("special files", "a symlink to a FIFO", link))
    empty = folder / "empty.osim"
    empty.write_bytes(b"")
    cases.append(("special files", "an empty file", empty))
    big = folder / "oversize.osim"
    with open(big, "wb") as f:  # sparse: past the size limit without using the disk
        f.truncate(33 * 1024 * 1024)
    cases.append(("special files", "a 33 MiB file", big))
    return cases


def run_cli(path: Path, args: list[str], timeout: float = 60.0) -> tuple[int | None, str, str]:
    """Run ``iliopsoas model …`` on ``path`` in a fresh process; ``None`` exit code on timeout."""
    cmd = [sys.executable, "-c", "from iliopsoas.cli import main; main()", "model", *args[:1], str(path), *args[1:]]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None, "", "timeout"
    return res.returncode, res.stdout, res.stderr


def judge(code: int | None, out: str, err: str, as_json: bool) -> str:
    """'' when the command behaved (exit 0 with valid output, or exit 1 with one error line), else why not."""
    if code is None:
        return "did not finish"
    if "Traceback" in err or "Traceback" in out:
        return "traceback: " + err.strip().splitlines()[-1][:120]
    if code == 0:
        if as_json:
            try:
                json.loads(out, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
            except ValueError as exc:
                return f"invalid JSON ({exc})"
        return ""
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    if code != 1 or len(lines) != 1 or not lines[0].startswith("error:"):
        return f"exit {code}: {err.strip()[:160]!r}"
    return ""


def main() -> None:  # pragma: no cover - a report, run by hand
    from typer.testing import CliRunner

    from iliopsoas.cli import app

    runner = CliRunner()
    with tempfile.TemporaryDirectory() as d:
        cases = build_cases(Path(d), mutations=120)
        tally: dict[str, list[int]] = {}
        for cat, name, path in cases:
            why = ""
            for args, as_json in ((["info", "--json"], True), (["info"], False)):
                if cat == "special files":  # may block: a fresh process with a timeout
                    code, out, err = run_cli(path, args, timeout=20.0)
                else:
                    res = runner.invoke(app, ["model", args[0], str(path), *args[1:]])
                    code, out, err = res.exit_code, res.stdout, res.stderr
                    if res.exception is not None and not isinstance(res.exception, SystemExit):
                        err += f"\nTraceback: {type(res.exception).__name__}: {res.exception}"
                why = judge(code, out, err, as_json)
                if not why and code == 0 and cat == "numbers":  # every case holds a value to refuse
                    why = "loaded a non-finite, out-of-range or malformed number without a word"
                if why:
                    print(f"FAIL {cat} / {name} / {' '.join(args)}: {why}")
                    break
            t = tally.setdefault(cat, [0, 0])
            t[0] += 1
            t[1] += bool(why)
        for cat, (n, f) in tally.items():
            print(f"{cat}: {n} tries, {f} failures")


if __name__ == "__main__":  # pragma: no cover
    main()
