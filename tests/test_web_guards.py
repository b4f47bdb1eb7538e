"""The web app's guards (issue 14): Host header, body size, framing headers, heavy-work admission,
and the inputs that gave 500 (400-digit integers, year 1, posture at the documented limits).

Hand-written cases beside the schemathesis fuzz (tests/test_web_schemathesis.py). The concurrency
test runs a real uvicorn server; it checks order (health answered while solves are still running),
never a duration.
"""

from __future__ import annotations

import threading
import warnings
from pathlib import Path

import pytest

import robustness_probes as probes
from iliopsoas.care.screening import item_ids
from iliopsoas.web import create_app
from iliopsoas.web.guards import HEAVY, HeavyWork, allowed_hosts, host_name

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

ALL_NO = {i: False for i in item_ids("full")}
HUGE = "9" * 400


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):
    return create_app(db=tmp_path_factory.mktemp("guards") / "care.db")


def client_for(app, host: str) -> TestClient:
    return TestClient(app, base_url=f"http://{host}", raise_server_exceptions=False)


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "localhost.evil",
                                  "127.0.0.1@evil.example"])
def test_a_foreign_host_name_can_neither_read_nor_write_the_care_log(app, host: str) -> None:
    c = client_for(app, host)
    for r in (c.get("/api/care/sessions"), c.post("/api/care/measures", json={"kind": "nprs", "value": 3}),
              c.get("/care"), c.get("/api/health")):
        assert r.status_code == 400 and "DNS rebinding" in r.json()["detail"]
    assert client_for(app, "127.0.0.1").get("/api/care/sessions").json() == []


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:8123", "localhost", "LOCALHOST:80", "[::1]:8123"])
def test_the_loopback_names_are_answered(app, host: str) -> None:
    assert client_for(app, host).get("/api/health").status_code == 200


def test_the_configured_host_and_a_wildcard_bind() -> None:
    names, any_address = allowed_hosts("192.168.1.5")
    assert "192.168.1.5" in names and not any_address
    names, any_address = allowed_hosts("0.0.0.0")
    assert any_address and "0.0.0.0" not in names
    assert host_name("[::1]:8000") == "::1" and host_name("Localhost.:80") == "localhost"
    app = create_app(host="0.0.0.0")
    assert client_for(app, "10.1.2.3:8000").get("/api/health").status_code == 200  # an address: no rebinding
    assert client_for(app, "attacker.example").get("/api/health").status_code == 400


def test_a_body_over_the_limit_is_refused_before_it_is_read(app) -> None:
    c = client_for(app, "127.0.0.1")
    big = b'{"answers": {"x": "' + b"a" * (2 * 2**20) + b'"}}'
    r = c.post("/api/care/screen", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "larger than" in r.json()["detail"]

    def chunks():
        for _ in range(3):
            yield b"a" * 2**20

    r = c.post("/api/care/screen", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413  # no Content-Length: counted while read
    assert c.post("/api/care/screen", json={"answers": ALL_NO, "log": False}).status_code == 200


@pytest.mark.parametrize("path", ["/", "/care", "/api/health", "/api/care/sessions", "/static/common.js"])
def test_no_page_can_be_framed_and_scripts_come_from_this_app(app, path: str) -> None:
    h = client_for(app, "127.0.0.1").get(path).headers
    assert h["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in h["content-security-policy"]
    assert "script-src 'self'" in h["content-security-policy"] and h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "no-referrer"


def test_heavy_work_is_admitted_up_to_its_bound_then_refused() -> None:
    work = HeavyWork()
    kind = work.kind_of("/api/posture/simulate")
    assert kind == "posture solve" and work.kind_of("/api/health") is None
    bound = HEAVY[kind][1]
    assert all(work.admit(kind) for _ in range(bound)) and not work.admit(kind)
    work.release(kind)
    assert work.admit(kind)


@pytest.mark.parametrize(("path", "body"), [
    ("/api/care/assess", '{"inputs": {"thomas_hip_deg": HUGE}}'),
    ("/api/care/plan", '{"screen": ALL_NO, "assessment": {"thomas_hip_deg": HUGE}}'),
    ("/api/care/plan.pdf", '{"screen": ALL_NO, "assessment": {"psfs": [HUGE]}}'),
    ("/api/care/sessions", '{"screen": ALL_NO, "nprs_before": HUGE}'),
    ("/api/care/measures", '{"kind": "nprs", "value": HUGE}'),
])
def test_a_400_digit_integer_is_a_422_not_a_500(app, path: str, body: str) -> None:
    import json

    body = body.replace("ALL_NO", json.dumps(ALL_NO)).replace("HUGE", HUGE)
    r = client_for(app, "127.0.0.1").post(path, content=body.encode(), headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text


def test_progress_as_of_year_1_is_a_422_with_sessions_logged(tmp_path: Path) -> None:
    c = client_for(create_app(db=tmp_path / "c.db"), "127.0.0.1")
    sid = c.post("/api/care/sessions", json={"screen": ALL_NO, "nprs_before": 3}).json()["session_id"]
    assert c.post(f"/api/care/sessions/{sid}/finish", json={"nprs_after": 2}).status_code == 200
    r = c.get("/api/care/progress", params={"as_of": "0001-01-01"})
    assert r.status_code == 422 and "1900" in r.json()["detail"]
    assert c.get("/api/care/progress", params={"as_of": "2026-12-01"}).status_code == 200


@pytest.mark.slow
def test_posture_at_the_documented_limits_answers_without_a_500(app) -> None:
    r = client_for(app, "127.0.0.1").post(
        "/api/posture/simulate", json={"scenario": "thomas", "tightness": {"psoas": {"shortening_pct": 40, "stiffness": 3}}})
    assert r.status_code in (200, 422), r.text
    if r.status_code == 422:
        assert r.json()["detail"].startswith("thomas: no equilibrium could be computed")


def test_sparql_refuses_service_and_stops_a_runaway_query(app) -> None:
    c = client_for(app, "127.0.0.1")
    r = c.post("/api/atlas/sparql", json={"query": "SELECT * WHERE { SERVICE <http://example.org/q> { ?s ?p ?o } }"})
    assert r.status_code == 422 and "SERVICE is refused" in r.json()["detail"]
    r = c.post("/api/atlas/sparql", json={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
                                          "timeout_s": 1})
    assert r.status_code == 422 and "bound of 1 s" in r.json()["detail"]
    r = c.post("/api/atlas/sparql", json={"query": "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }", "max_rows": 5})
    assert r.status_code == 200 and len(r.json()["rows"]) == 5 and r.json()["truncated"] is True
    r = c.post("/api/atlas/sparql", json={"query": "SELECT ?e WHERE { ?e a ilo:Entity ; skos:prefLabel 'iliacus'@en }"})
    assert r.status_code == 200 and r.json()["rows"] == [{"e": "https://w3id.org/iliopsoas/entity/iliacus"}]


@pytest.mark.slow
def test_100_concurrent_solves_leave_health_and_care_writes_answering(tmp_path: Path) -> None:
    server = probes.start_server(tmp_path / "care.db", probes.free_port(range(8125, 8129)))
    outstanding = threading.Semaphore(0)
    answers: list[tuple[int, bool]] = []

    def solve(k: int) -> None:
        code, headers, _ = probes.call("POST", server.url + "/api/posture/simulate",
                                       {"scenario": "standing", "tightness": {"psoas": {"shortening_pct": 1 + k % 30}}},
                                       timeout=900)
        answers.append((code, any(h.lower() == "retry-after" for h in headers)))
        outstanding.release()

    try:
        threads = [threading.Thread(target=solve, args=(k,), daemon=True) for k in range(100)]
        for th in threads:
            th.start()
        while len(answers) < 90:  # the refusals come back first, from the event loop
            outstanding.acquire(timeout=120)
        during = []
        for k in range(5):
            during.append(probes.call("GET", server.url + "/api/health")[0])
            during.append(probes.call("POST", server.url + "/api/care/measures", {"kind": "nprs", "value": k})[0])
        still_solving = len(answers) < 100
        for th in threads:
            th.join(900)
    finally:
        server.kill()
    assert during == [200, 201] * 5
    assert still_solving, "health and care writes were answered while admitted solves were still running"
    codes = [c for c, _ in answers]
    assert set(codes) <= {200, 503} and codes.count(200) >= 1 and codes.count(503) >= 90
    assert all(retry for code, retry in answers if code == 503), "every refusal says when to come back"
