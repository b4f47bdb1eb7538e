"""Exercise figures from our model: every care exercise posed, drawn, and its psoas/iliacus length change."""

from __future__ import annotations

import doctest
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

from iliopsoas.care.exercise_figures import FigureError, FigureStore, exercise_figure
from iliopsoas.care.exercise_poses import (
    PoseError,
    analyse_all,
    load_exercise_library,
    load_poses,
    parse_poses,
)
from iliopsoas.web import create_app


@pytest.fixture(scope="module")
def analyses():
    return {a.id: a for a in analyse_all()}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with TestClient(create_app(db=tmp_path_factory.mktemp("ex") / "care.sqlite3",
                               figures_dir=tmp_path_factory.mktemp("figures"))) as c:
        yield c


def test_every_care_exercise_has_positions():
    library = [e["id"] for e in load_exercise_library()]
    assert library and set(library) <= set(load_poses())


def test_the_lunge_cue_matters_in_numbers(analyses):
    lunge = analyses["kneeling-lunge-stretch"]
    no_tuck = next(v for v in lunge.variants if v.id == "no-tuck").length_change
    tuck = lunge.length_change
    # the tuck adds 20 deg of hip extension: both hip flexors stretch clearly more than without it
    assert tuck.psoas_pct > no_tuck.psoas_pct + 3 and tuck.iliacus_pct > no_tuck.iliacus_pct + 5
    assert tuck.psoas_pct > 0 and tuck.most_stretched[0].pct >= max(f.pct for f in tuck.fascicles) - 1e-9
    assert tuck.most_stretched[0].label.endswith("(right)")


def test_stretches_lengthen_and_strengthening_shortens(analyses):
    assert analyses["sitting-breaks"].length_change.psoas_pct > 10  # standing up from a chair
    for ex in ("straight-leg-raise", "banded-hip-flexion", "seated-march"):
        lc = analyses[ex].length_change
        assert lc.psoas_pct < 0 and lc.iliacus_pct < 0, ex
    quad = analyses["kneeling-quad-stretch"].length_change
    assert quad.targets["rectus_femoris"] > 10 and abs(quad.psoas_pct) < 0.5  # bending the knee stretches the two-joint muscle


def test_pressure_releases_do_not_change_length(analyses):
    for ex in ("psoas-release", "iliacus-release"):
        lc = analyses[ex].length_change
        assert lc.psoas_pct == 0 and lc.iliacus_pct == 0


def test_api_lists_every_exercise_with_figure_and_length_change(client):
    r = client.get("/api/care/exercises")
    assert r.status_code == 200
    rows = r.json()
    assert [x["id"] for x in rows] == [e["id"] for e in load_exercise_library()]
    for x in rows:
        assert x["figure"].endswith(".svg") and x["figure_png"].endswith(".png")
        assert {"psoas_pct", "iliacus_pct", "most_stretched"} <= set(x["length_change"])
    lunge = next(x for x in rows if x["id"] == "kneeling-lunge-stretch")
    svg = client.get(lunge["figure"])
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content[:2000] and len(svg.content) > 10_000
    assert client.get("/api/care/exercises/nope/figure.svg").status_code == 404
    assert client.get("/api/care/exercises/psoas-release/figure.gif").status_code == 422


def test_figures_are_kept_on_disk_and_redrawn_when_the_pose_changes(tmp_path):
    store = FigureStore(tmp_path)
    png = store.path("seated-march", "png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.parent == tmp_path
    stamp = png.stat().st_mtime_ns
    assert FigureStore(tmp_path).path("seated-march", "png") == png and png.stat().st_mtime_ns == stamp
    poses = load_poses()
    data = {"exercises": {"seated-march": {"side": "r", "start": {"thigh_r": 90, "knee_r": 90, "thigh_l": 90, "knee_l": 90},
                                           "end": {"thigh_r": 110, "knee_r": 90, "thigh_l": 90, "knee_l": 90}}}}
    changed = FigureStore(tmp_path, poses={**poses, **parse_poses(data)})
    assert changed.digest("seated-march") != store.digest("seated-march")
    assert exercise_figure("seated-march", "png", directory=tmp_path) == png  # the function the PDF calls
    with pytest.raises(FigureError, match="unknown exercise"):
        store.path("no-such-exercise")
    with pytest.raises(FigureError, match="format"):
        store.path("seated-march", "gif")


@pytest.mark.parametrize("data, where", [
    ({"exercises": {"x": {"start": {"hip": 3}}}}, "exercises.x.start: unknown key 'hip'"),
    ({"exercises": {"x": {"orientation": "upside-down"}}}, "exercises.x.orientation"),
    ({"exercises": {"x": {"end": {"thigh_r": "far"}}}}, "exercises.x.end.thigh_r"),
    ({"nothing": 1}, "'exercises'"),
])
def test_bad_pose_data_is_named(data, where):
    with pytest.raises(PoseError, match=where.replace("(", r"\(").replace(")", r"\)")):
        parse_poses(data)


def test_a_pose_beyond_the_model_range_is_refused(analyses):
    data = parse_poses({"exercises": {"x": {"end": {"thigh_r": -60}}}})
    with pytest.raises(PoseError, match="hip_flexion_r = -60.0 deg is outside"):
        analyse_all(["x"], poses=data)


def test_anatomical_labels():
    from iliopsoas.models import labels

    assert doctest.testmod(labels).failed == 0
    assert labels.coordinate_label("L4_L5_flex_ext") == "Lumbar extension, L4/L5"
    assert labels.muscle_label("QL_mid_L3_12_3_r") == "Quadratus lumborum, middle fascicle, L3 to 12th rib (right)"
    assert labels.muscle_label("some_new_muscle_l") == "Some new muscle (left)"
