"""Atlas pages one can study from: readable citations, the structure in the model, a quiz with saved progress;
and the API page's Swagger UI served from the installed wheel."""

from __future__ import annotations

import sqlite3
import warnings
from datetime import UTC, datetime, timedelta

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

from iliopsoas.care.study_log import StudyLog
from iliopsoas.web import create_app
from iliopsoas.web.api_atlas import title_parts


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return tmp_path_factory.mktemp("study") / "care.sqlite3"


@pytest.fixture(scope="module")
def client(db):
    with TestClient(create_app(db=db)) as c:
        yield c


def test_sources_read_as_author_year_title_with_a_link(client):
    e = client.get("/api/atlas/entities/psoas major").json()
    bogduk = e["sources"]["BOGDUK1992"]
    assert bogduk["short"] == "Bogduk et al. 1992"
    assert bogduk["cite"].startswith("Bogduk et al. 1992. Anatomy and biomechanics of psoas major.")
    assert bogduk["link"] == "https://doi.org/10.1016/0268-0033(92)90024-X"
    fact_sources = [s for f in e["facts"] for s in f["sources"]]
    assert all(s["short"] for s in fact_sources)


@pytest.mark.parametrize("title, clean, form", [
    ("Anatomical variations of the lumbar plexus (main title; subtitle left out, see the DOI)",
     "Anatomical variations of the lumbar plexus", None),
    ("Hip joint (topic definition, descriptive)", "Hip joint", "topic definition"),
    ("Psoas major (encyclopaedia entry)", "Psoas major", "encyclopaedia entry"),
    ("Plain title", "Plain title", None),
])
def test_internal_notes_never_reach_a_title(title, clean, form):
    assert title_parts(title) == (clean, form)


def test_no_source_title_on_a_page_carries_an_internal_note(client):
    for name in ("psoas major", "iliacus", "lumbar plexus", "hip joint"):
        e = client.get(f"/api/atlas/entities/{name}").json()
        for s in e["sources"].values():
            assert not any(w in s["title"].lower() for w in ("descriptive", "subtitle", "left out")), s


def test_where_is_it_marks_the_structure_in_the_model(client):
    w = client.get("/api/atlas/entities/iliacus/where").json()
    assert w["in_model"] and w["groups"] == ["iliacus_r", "iliacus_l"] and len(w["muscles"]) == 6
    bone = client.get("/api/atlas/entities/thigh bone/where").json()  # a synonym of the femur
    assert bone["bodies"] == ["femur_r", "femur_l"] and len(bone["meshes"]) == 10
    joint = client.get("/api/atlas/entities/hip joint/where").json()
    assert set(joint["joint_points"]) == {"hip_r", "hip_l"}
    assert client.get("/api/atlas/entities/femoral nerve/where").json()["in_model"] is False
    assert client.get("/api/atlas/entities/no such thing at all/where").status_code == 404


def test_quiz_cards_are_scheduled_and_kept_in_the_care_database(client, db):
    q = client.get("/api/atlas/quiz?entity=iliacus").json()
    assert q["stats"]["studied"] == 0 and q["card"]["prompt"].endswith("?") or q["card"]["prompt"].endswith(".")
    first = q["card"]["statement_id"]
    r = client.post("/api/atlas/quiz/review", json={"statement_id": first, "rating": 3, "entity": "iliacus"})
    assert r.status_code == 200
    body = r.json()
    assert body["saved"]["reviews"] == 1 and body["stats"]["studied"] == 1 and body["card"]["statement_id"] != first
    with sqlite3.connect(db) as con:  # durable before the answer came back
        assert con.execute("SELECT reviews FROM study_cards WHERE statement_id = ?", (first,)).fetchone() == (1,)
    bad = client.post("/api/atlas/quiz/review", json={"statement_id": "nope", "rating": 3})
    assert bad.status_code == 422
    assert client.post("/api/atlas/quiz/review", json={"statement_id": first, "rating": 5}).status_code == 422


def test_fsrs_puts_a_forgotten_card_before_new_ones(tmp_path):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with StudyLog(tmp_path / "care.sqlite3") as log:
        log.review("a", 1, now=now)  # again: due within minutes
        log.review("b", 4, now=now)  # easy: due in days
        later = now + timedelta(hours=1)
        assert log.due(["c", "b", "a"], now=later) == ["a", "c"]
        assert log.stats(["a", "b", "c"], now=later) == {"cards": 3, "studied": 2, "due": 1, "new": 1}
        with pytest.raises(ValueError, match="rating"):
            log.review("a", 0)


def test_api_page_has_swagger_ui_served_offline(client):
    page = client.get("/api/docs").text
    assert "/static/vendor/swagger/swagger-ui-bundle.js" in page and "https://" not in page
    js = client.get("/static/vendor/swagger/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 500_000
    assert client.get("/static/vendor/swagger/swagger-ui.css").status_code == 200
