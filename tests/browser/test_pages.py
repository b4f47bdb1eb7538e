"""The app in a real browser: Debian's chromium driven by Playwright (no browser download).

``iliopsoas serve`` runs in a subprocess on a free loopback port with a temporary care database.
Every page is loaded and photographed into artifacts/screenshots/; a question is asked, a slider is
moved, a guided-session timer step runs and is found in the SQLite log, and a session abandoned by
closing the page keeps what it had saved.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from iliopsoas.care.log import CareLog
from iliopsoas.paths import shared_dir

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def _require_browser() -> None:
    reason = None
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (scripts/setup-system.sh installs it)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "the playwright package is not installed (test extra)"
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    _require_browser()
    db = tmp_path_factory.mktemp("browser") / "care.sqlite3"
    port = _free_port()
    cmd = [sys.executable, "-m", "iliopsoas.cli", "serve", "--port", str(port), "--db", str(db), "--no-browser"]
    shared = shared_dir()
    geometry = shared / "models" / "pose2sim" / "Geometry" if shared else None
    if geometry is not None and geometry.is_dir():
        cmd += ["--geometry", str(geometry)]
    log = tmp_path_factory.mktemp("browser-log") / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(base + "/api/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the server did not start:\n{log.read_text()}")
        time.sleep(0.2)
    # the model takes a second or two to build: do it before any page times its requests
    urllib.request.urlopen(base + "/api/model", timeout=60).read()
    warm = urllib.request.Request(base + "/api/model/moment-arms", method="POST", headers={"Content-Type": "application/json"},
                                  data=json.dumps({"muscle": "psoas_major_r", "coordinate": "hip_flexion_r"}).encode())
    urllib.request.urlopen(warm, timeout=120).read()
    warm = urllib.request.Request(base + "/api/posture/simulate", method="POST", headers={"Content-Type": "application/json"},
                                  data=json.dumps({"scenario": "standing"}).encode())
    urllib.request.urlopen(warm, timeout=180).read()
    yield {"base": base, "db": db, "log": log}
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    assert "Traceback" not in log.read_text(), log.read_text()


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.set_default_timeout(30_000)
    yield pg
    ctx.close()
    assert not errors, errors


def shot(pg, name: str, full_page: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def api(server, path: str):
    with urllib.request.urlopen(server["base"] + path, timeout=30) as r:
        return json.loads(r.read())


def test_home_and_atlas_pages(server, page):
    page.goto(server["base"] + "/")
    assert page.locator("h1").inner_text().startswith("The hip-flexor complex")
    shot(page, "home")
    page.goto(server["base"] + "/api/docs")
    page.wait_for_selector("#swagger-ui .opblock")
    assert page.locator("#swagger-ui .opblock").count() >= 20
    shot(page, "api")
    page.goto(server["base"] + "/atlas")
    page.wait_for_selector("#entity-name")
    assert page.locator("#entity-name").inner_text() == "psoas major"
    assert page.locator("#atlas-results li").count() > 20
    page.fill("#atlas-q", "iliacus")
    page.press("#atlas-q", "Enter")
    page.wait_for_function("document.getElementById('entity-name')?.textContent === 'iliacus'")
    rows = page.locator("#entity tbody tr")
    assert rows.count() > 5
    assert page.locator("#entity .badge.consistent").count() > 0
    # a fact in conflict carries the conflict badge, never "consistent" beside it
    assert page.locator("#entity td:has(.badge.conflict) .badge.consistent").count() == 0
    assert page.locator("details.conflict").count() > 0
    page.locator("details.conflict").first.locator("summary").click()
    assert page.locator("details.conflict .position h4").first.inner_text().startswith("Side: ")
    shot(page, "atlas")


def test_ask_a_question_and_see_the_answer(server, page):
    page.goto(server["base"] + "/ask")
    page.fill("#question", "What nerve supplies the iliacus?")
    page.click("#ask-btn")
    page.wait_for_selector("#answer")
    assert "femoral" in page.locator("#answer .answer").inner_text().lower()
    assert page.locator("#facts-used tbody tr").count() >= 1
    assert page.locator("#answer-sources li").count() >= 1
    assert not page.locator("#answer-evidence").is_visible()  # the full evidence waits behind "More"
    page.click("#answer-more summary")
    assert "All the evidence found" in page.locator("#answer-evidence").inner_text()
    shot(page, "ask")


def test_model_slider_moves_the_moment_arm_plot(server, page):
    page.goto(server["base"] + "/model")
    page.wait_for_selector("#ma-value")
    page.wait_for_function("document.getElementById('scene').data && document.getElementById('scene').data.length > 3")
    marker = "(() => { const d = document.getElementById('ma-plot').data; return d[d.length - 1].x[0]; })()"
    before_x, before_text = page.evaluate(marker), page.locator("#ma-value").inner_text()
    knee = "(() => { const t = document.getElementById('scene').data.find(t => t.name === 'joints');" \
           " return t.y[t.text.indexOf('tibia_r')]; })()"
    knee_before = page.evaluate(knee)
    slider = page.locator("#slider-hip_flexion_r")
    slider.focus()
    for _ in range(120):  # 0.5 deg per key press: 60 deg of hip flexion
        page.keyboard.press("ArrowRight")
    page.wait_for_function(f"{marker} !== {before_x}")
    page.wait_for_function(f"document.getElementById('ma-value').textContent !== {json.dumps(before_text)}")
    page.wait_for_function(f"{marker} === 60")
    page.wait_for_timeout(300)
    assert page.locator("#slider-hip_flexion_r-value").inner_text() == "60.0°"
    assert page.evaluate(knee) > knee_before + 0.2  # the knee came forward in the 3-D view
    shot(page, "model", full_page=True)


def test_care_screen_plan_pdf_and_a_timed_session_step(server, page):
    page.goto(server["base"] + "/care?speed=400")
    page.wait_for_selector("#screen-items input[type=radio]")
    for radio in page.locator("#screen-items input[type=radio][value=no]").all():
        radio.check()
    page.click("#screen-btn")
    page.wait_for_selector("#screen-level")
    assert page.locator("#screen-level").inner_text() == "clear"
    page.fill("#in-thomas_hip_deg", "8")
    page.click("#assess-btn")
    page.wait_for_selector("#assess-result ol li")
    page.click("#plan-btn")
    page.wait_for_selector("#plan-steps li")
    n_steps = page.locator("#plan-steps li").count()
    assert n_steps >= 4
    with page.expect_download() as dl:
        page.click("#pdf-btn")
    pdf = Path(dl.value.path())
    assert pdf.read_bytes().startswith(b"%PDF")
    page.select_option("#nprs-before", "3")
    page.click("#session-start")
    page.wait_for_selector("#current-set")
    sid = int(page.locator("#player").get_attribute("data-session"))
    step = page.locator("#current-set").get_attribute("data-step")
    page.click("#timer-start")  # the first set's hold runs 400x faster here, then saves itself
    page.wait_for_selector("#session-log li")
    assert step in page.locator("#session-log li").first.get_attribute("data-step")
    logged = api(server, f"/api/care/sessions/{sid}")
    assert logged["steps_done"] == 1 and logged["steps"][0]["step_id"] == step
    with CareLog(server["db"]) as log:  # the very file the CLI reads
        assert [t["step_id"] for t in log.steps(sid)] == [step]
    page.click("#session-stop")
    page.wait_for_selector("#session-summary")
    assert "stopped" in page.locator("#session-summary").inner_text()
    page.wait_for_selector("#chart-nprs .main-svg")
    shot(page, "care", full_page=True)


def test_closing_the_browser_mid_session_keeps_the_log_consistent(server, browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.goto(server["base"] + "/care")
    pg.wait_for_selector("#screen-items input[type=radio]")
    for radio in pg.locator("#screen-items input[type=radio][value=no]").all():
        radio.check()
    pg.click("#session-start")
    pg.wait_for_selector("#current-set")
    sid = int(pg.locator("#player").get_attribute("data-session"))
    for k in range(2):
        pg.click("#set-done")
        pg.wait_for_function(f"document.querySelectorAll('#session-log li').length === {k + 1}")
    pg.locator("#player").scroll_into_view_if_needed()
    shot(pg, "care-session")
    ctx.close()  # the user closes the browser: no finish request is ever sent
    with CareLog(server["db"]) as log:
        assert log.integrity_ok()
        row = next(s for s in log.sessions() if s["id"] == sid)
        assert row["status"] == "running" and row["steps_done"] == 2
        assert all(re.match(r"\d{4}-\d\d-\d\dT", t["completed_at"]) for t in log.steps(sid))
    sessions = api(server, "/api/care/sessions")
    assert next(s for s in sessions if s["id"] == sid)["steps_done"] == 2


def test_posture_slider_changes_the_predicted_angles(server, page):
    page.goto(server["base"] + "/posture")
    page.wait_for_selector("#posture-angles tbody tr", timeout=90_000)
    tilt = "document.querySelector('#posture-angles tr[data-angle=pelvic_tilt_deg] td:nth-child(3)').textContent"
    before = page.evaluate(tilt)
    slider = page.locator("#tight-psoas")
    slider.focus()
    for _ in range(20):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(f"{tilt} !== {json.dumps(before)}", timeout=90_000)
    assert float(page.evaluate(tilt)) > float(before)  # a shorter psoas tips the standing pelvis forward
    assert page.locator("#posture-claims tbody tr").count() >= 3
    assert page.locator("#posture-population tbody tr").count() >= 3
    shot(page, "posture", full_page=True)
