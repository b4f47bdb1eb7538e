"""Hostile model files (issue 14, "Model files"): generated at test time, each must either load or
fail with one line naming the file, the element and what was expected -- in ``load_osim``, in
``iliopsoas model …`` and in ``iliopsoas serve --osim``. Never a traceback, never a hang, never a
non-finite number in the model or invalid JSON, and memory bounded by the file size."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from iliopsoas.cli import app
from iliopsoas.mechanics import OsimError, load_osim, moment_arms, muscle_lengths
from iliopsoas.mechanics.osim import LIMITS, OsimLimits
from osim_hostile import build_cases, judge, model_xml, run_cli

runner = CliRunner()


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str, Path]]:
    return build_cases(tmp_path_factory.mktemp("hostile"), mutations=120)


def _finite_model(model: object) -> None:
    """Every number the loader stored is finite (arrays of bodies, joints, points, wraps, coordinates)."""
    m = model
    for b in m.bodies:  # type: ignore[attr-defined]
        assert np.isfinite(b.mass) and np.all(np.isfinite(b.mass_center)) and np.all(np.isfinite(b.inertia))
    for c in m.coordinates:  # type: ignore[attr-defined]
        assert math.isfinite(c.default_value) and all(math.isfinite(v) for v in c.range)
    for j in m.joints:  # type: ignore[attr-defined]
        for a in (j.parent_rotation, j.parent_translation, j.child_rotation, j.child_translation, j.axes):
            assert np.all(np.isfinite(a))
    for mu in m.muscles:  # type: ignore[attr-defined]
        for pt in mu.points:
            assert np.all(np.isfinite(pt.location))
    for w in m.wrap_objects:  # type: ignore[attr-defined]
        assert np.all(np.isfinite(w.translation)) and math.isfinite(w.radius)


def test_every_hostile_file_loads_or_fails_with_one_line_naming_it(cases: list[tuple[str, str, Path]]) -> None:
    loaded = refused = 0
    for cat, name, path in cases:
        try:
            model = load_osim(path)
        except OsimError as exc:
            msg = str(exc)
            assert "\n" not in msg, (cat, name, msg)
            assert msg.startswith(str(path)), (cat, name, msg)
            refused += 1
            continue
        except Exception as exc:  # pragma: no cover - the failure message shows what escaped
            pytest.fail(f"{cat} / {name}: {type(exc).__name__}: {exc}")
        loaded += 1
        _finite_model(model)
        q = model.coordinate_defaults[None]
        L = muscle_lengths(model, q)
        moment_arms(model, q)
        assert np.all(np.isfinite(L)), (cat, name)
    assert loaded >= 20 and refused >= 100  # both outcomes are exercised


def test_each_bad_number_is_refused_naming_its_element_and_the_expected_range(tmp_path: Path) -> None:
    for kwargs, element, expected in (
        (dict(loc="nan 0.05 0"), "<location>", "finite numbers within ±10000 m"),
        (dict(rng="-1 inf"), "<range>", "finite numbers within ±1e+07 rad or m"),
        (dict(default="1e308"), "<default_value>", "finite number within ±1e+07 rad or m"),
        (dict(mass="NaN"), "<mass>", "finite number 0 .. 1e+07 kg"),
        (dict(mass="-2"), "<mass>", "finite number 0 .. 1e+07 kg"),
        (dict(spline_y="0 1e400 0"), "<y>", "finite numbers"),
        (dict(gravity="0 -1e308 0"), "<gravity>", "finite numbers within ±1000 m/s^2"),
    ):
        p = tmp_path / "bad.osim"
        p.write_text(model_xml(**kwargs))
        with pytest.raises(OsimError) as info:
            load_osim(p)
        msg = str(info.value)
        assert msg.startswith(f"{p}:") and element in msg and expected in msg, msg


def test_special_files_are_refused_without_reading_or_blocking(cases: list[tuple[str, str, Path]]) -> None:
    for _, name, path in (c for c in cases if c[0] == "special files"):
        with pytest.raises(OsimError) as info:
            load_osim(path)
        msg = str(info.value)
        expect = {"a FIFO": "not a regular file", "/dev/zero": "not a regular file", "/dev/null": "not a regular file",
                  "a directory": "is a directory", "a symlink to a FIFO": "not a regular file",
                  "an empty file": "malformed XML", "a 33 MiB file": "at most 33,554,432 bytes"}[name]
        assert expect in msg, msg


def test_depth_and_count_limits_name_the_bound(cases: list[tuple[str, str, Path]]) -> None:
    by_name = {name: path for _, name, path in cases}
    for name, expected in (
        ("100,000 nested elements in a body", "nested 65 elements deep (at most 64)"),
        ("3,000 nested MultiplierFunctions", "(at most 64)"),
        ("1,003 bodies", "more than 1,000 bodies"),
        ("600 points in one path", "more than 500 path points"),
        ("100,000 spline knots", "at most 10,000 numbers"),
        ("offset frames in a cycle", "offset frames form a cycle"),
    ):
        with pytest.raises(OsimError, match=expected.replace("(", r"\(").replace(")", r"\)")):
            load_osim(by_name[name])
    tiny = OsimLimits(max_file_bytes=1000)
    with pytest.raises(OsimError, match="at most 1,000 bytes"):
        load_osim(by_name["20 nested MultiplierFunctions"], limits=tiny)
    assert LIMITS.max_depth == 64


def test_a_chain_of_5000_offset_frames_loads_and_composes_every_offset(cases: list[tuple[str, str, Path]]) -> None:
    path = next(p for _, name, p in cases if name == "5,000 chained offset frames")
    model = load_osim(path)
    # the shank point hangs 5,000 x 1e-5 m below its frame chain's root, plus its own location
    pt = model.muscles[0].points[2]
    assert model.bodies[pt.body].name == "shank"
    np.testing.assert_allclose(pt.location, [0.01, -0.05 - 0.05, 0.0], atol=1e-12)


@pytest.mark.parametrize("category", ["numbers", "markup", "nesting", "counts", "mutations"])
def test_cli_model_info_never_shows_a_traceback_or_invalid_json(cases: list[tuple[str, str, Path]],
                                                                category: str) -> None:
    picked = [c for c in cases if c[0] == category]
    for _, name, path in picked:
        for args, as_json in ((["model", "info", str(path), "--json"], True), (["model", "info", str(path)], False)):
            res = runner.invoke(app, args)
            if res.exception is not None and not isinstance(res.exception, SystemExit):
                pytest.fail(f"{name}: {type(res.exception).__name__}: {res.exception}")
            why = judge(res.exit_code, res.stdout, res.stderr, as_json)
            assert not why, f"{name} {' '.join(args[1:2])}: {why}"


def test_cli_moment_arm_with_markup_names_prints_them_literally(tmp_path: Path) -> None:
    p = tmp_path / "markup.osim"
    p.write_text(model_xml(muscle="m[/]x[bold]", coord="c[/]"))
    res = runner.invoke(app, ["model", "moment-arm", str(p), "--muscle", "m[/]x[bold]", "--coordinate", "c[/]",
                              "--steps", "3"])
    assert res.exit_code == 0, res.output
    assert "m[/]x[bold]" in res.stdout
    res = runner.invoke(app, ["model", "moment-arm", str(p), "--muscle", "m[/]", "--coordinate", "c[/]"])
    assert res.exit_code == 1 and "unknown muscle 'm[/]'" in res.stderr


def test_undefined_moment_arm_is_null_in_json(tmp_path: Path) -> None:
    # origin (ground) and insertion (body) both at the pin joint's centre in every pose
    xml = """<OpenSimDocument Version="40000"><Model name="c"><Ground name="ground"/>
<BodySet><objects><Body name="b"><mass>1</mass></Body></objects></BodySet>
<JointSet><objects><PinJoint name="j"><socket_parent_frame>/ground</socket_parent_frame>
<socket_child_frame>/bodyset/b</socket_child_frame><coordinates><Coordinate name="q"><range>-1 1</range>
</Coordinate></coordinates></PinJoint></objects></JointSet>
<ForceSet><objects><Thelen2003Muscle name="mus"><GeometryPath name="path"><PathPointSet><objects>
<PathPoint name="o"><socket_parent_frame>/ground</socket_parent_frame><location>0 0 0</location></PathPoint>
<PathPoint name="i"><socket_parent_frame>/bodyset/b</socket_parent_frame><location>0 0 0</location></PathPoint>
</objects></PathPointSet></GeometryPath></Thelen2003Muscle></objects></ForceSet></Model></OpenSimDocument>"""
    p = tmp_path / "coincident.osim"
    p.write_text(xml)
    model = load_osim(p)
    assert muscle_lengths(model, model.coordinate_defaults)[0, 0] == 0.0
    res = runner.invoke(app, ["model", "moment-arm", str(p), "--muscle", "mus", "--coordinate", "q",
                              "--steps", "2", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))["rows"]
    assert [r["moment_arm_mm"] for r in rows] == [None, None]


def test_special_files_through_the_cli_in_a_fresh_process_finish_with_one_line(cases: list[tuple[str, str, Path]]) -> None:
    for _, name, path in (c for c in cases if c[0] == "special files"):
        code, out, err = run_cli(path, ["info", "--json"], timeout=60.0)
        assert code == 1, (name, code, err)
        assert not judge(code, out, err, True), (name, err)


def test_serve_refuses_a_hostile_model_before_listening(cases: list[tuple[str, str, Path]]) -> None:
    by_name = {name: path for _, name, path in cases}
    for name in ("location=nan", "100,000 nested elements in a body", "a FIFO", "/dev/zero"):
        res = runner.invoke(app, ["serve", "--port", "8131", "--no-browser", "--osim", str(by_name[name])])
        assert res.exit_code == 1, (name, res.output)
        assert "Traceback" not in res.output and res.stderr.startswith("error: --osim"), res.stderr


@pytest.mark.slow
def test_peak_memory_stays_within_20x_the_file_size(tmp_path: Path) -> None:
    """A file near the count limits (999 bodies, 3,999 muscles of 12 points): its load's peak
    resident memory above the process's baseline stays within 20 times the file size."""
    p = tmp_path / "large.osim"
    body = '<Body name="b{i}"><mass>1</mass><mass_center>0 0 0</mass_center><inertia>1 1 1 0 0 0</inertia></Body>'
    joint = ('<PinJoint name="j{i}"><socket_parent_frame>{p}</socket_parent_frame><socket_child_frame>/bodyset/b{i}'
             '</socket_child_frame><coordinates><Coordinate name="q{i}"><default_value>0</default_value><range>-1 1'
             '</range></Coordinate></coordinates></PinJoint>')
    with open(p, "w") as f:
        f.write('<?xml version="1.0"?>\n<OpenSimDocument Version="40000"><Model name="large"><Ground name="ground"/>'
                "<BodySet><objects>")
        f.writelines(body.format(i=i) for i in range(999))
        f.write("</objects></BodySet><JointSet><objects>")
        f.writelines(joint.format(i=i, p="/ground" if i == 0 else f"/bodyset/b{i - 1}") for i in range(999))
        f.write("</objects></JointSet><ForceSet><objects>")
        for m in range(3_999):
            pts = "".join(f'<PathPoint name="p{k}"><socket_parent_frame>/bodyset/b{(m + k) % 999}</socket_parent_frame>'
                          f"<location>0.01 0.02 0.03</location></PathPoint>" for k in range(12))
            f.write(f'<Thelen2003Muscle name="m{m}"><GeometryPath name="path"><PathPointSet><objects>{pts}'
                    "</objects></PathPointSet></GeometryPath><max_isometric_force>100</max_isometric_force>"
                    "<optimal_fiber_length>0.1</optimal_fiber_length><tendon_slack_length>0.2</tendon_slack_length>"
                    "</Thelen2003Muscle>")
        f.write("</objects></ForceSet></Model></OpenSimDocument>\n")
    code = (
        "import resource, sys\n"
        "from iliopsoas.mechanics import load_osim\n"
        "import numpy, iliopsoas.mechanics.muscles\n"
        "base = int(open('/proc/self/statm').read().split()[1]) * resource.getpagesize()\n"
        "m = load_osim(sys.argv[1])\n"
        "hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM:')][0]\n"
        "peak = int(hwm.split()[1]) * 1024  # this process's own high-water mark (ru_maxrss would include\n"
        "# the parent's size at fork, which Linux carries across exec)\n"
        "print(len(m.muscles), base, peak)\n"
    )
    res = subprocess.run([sys.executable, "-c", code, str(p)], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    n, base, peak = (int(v) for v in res.stdout.split())
    size = p.stat().st_size
    assert n == 3_999
    assert peak - base <= 20 * size, f"peak {peak - base:,} B above baseline for a {size:,} B file"
