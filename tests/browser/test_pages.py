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


# Counts the person's own clicks (trusted events only) and instruments Web Audio, before the page loads.
CARE_PROBES = """
window.__clicks = 0;
document.addEventListener('click', (e) => { if (e.isTrusted) window.__clicks++; }, true);
window.__audio = {contexts: 0, tones: 0};
const RealAudio = window.AudioContext;
window.AudioContext = class extends RealAudio {
  constructor(...a) { super(...a); window.__audio.contexts++; }
  createOscillator() {
    const o = super.createOscillator(), start = o.start.bind(o);
    o.start = (...x) => { window.__audio.tones++; return start(...x); };
    return o;
  }
};
"""


def care_page(browser, width, height, speed):
    ctx = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    ctx.add_init_script(CARE_PROBES)
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.set_default_timeout(60_000)
    pg.goto(f"{SERVER_BASE[0]}/care?speed={speed}")
    pg.wait_for_selector("body[data-care-ready='1']")
    return ctx, pg, errors


SERVER_BASE: list[str] = []


def clear_screen(pg) -> int:
    """Answer the screen as a person with no red flags would; return the clicks it took."""
    before = pg.evaluate("window.__clicks")
    for button in pg.locator(".none-apply").all():
        button.click()
    pg.click("#screen-btn")
    pg.wait_for_selector("#screen-level, #screen-result .error", timeout=120_000)
    assert pg.locator("#screen-level").count() == 1, pg.locator("#screen-result").inner_text()
    assert pg.locator("#screen-level").get_attribute("data-level") == "clear"
    return int(pg.evaluate("window.__clicks")) - before


def test_care_screen_in_five_clicks_then_a_session_that_runs_itself(server, browser):
    from iliopsoas.care.planner import build_plan
    from iliopsoas.care.screening import evaluate, load_items
    from iliopsoas.care.sets import expand_sets

    SERVER_BASE[:] = [server["base"]]
    ctx, pg, errors = care_page(browser, 1400, 900, speed=60)
    screen_clicks = clear_screen(pg)
    assert screen_clicks <= 8 and screen_clicks == 5  # four "None of these apply to me" + "Check my answers"
    with CareLog(server["db"]) as log:  # every item was recorded as "no", not left out
        assert set(log.latest_screen("full")["answers"].values()) == {False}
        assert len(log.latest_screen("full")["answers"]) == len(load_items())
    shot(pg, "care-screen-1400")
    # the default program follows the evidence; pressure release is an informed opt-in
    pg.click("#plan-btn")
    pg.wait_for_selector("#plan-steps li")
    kinds = [k for k in pg.locator("#plan-steps li").evaluate_all("ns => ns.map(n => n.dataset.kind)")]
    assert "release" not in kinds and kinds[0] == "stretch"
    pg.locator("#release-details summary").click()
    assert "Evidence: very-low" in pg.locator("#release-notice").inner_text()
    pg.fill("#pdf-name", "Ada Lovelace")
    with pg.expect_download(timeout=180_000) as dl:
        pg.click("#pdf-btn")
    pdf = Path(dl.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF") and b"/Subtype /Image" in pdf  # the model-drawn exercise figures are in it
    pg.locator("#release-details summary").click()
    # a whole session: one pain rating, Start, one pain rating at the end; everything else runs itself
    clicks0 = pg.evaluate("window.__clicks")
    pg.locator("#nprs-before button[data-value='3']").click()
    pg.click("#session-start")
    pg.wait_for_selector("#current-set[data-phase=work]")
    sid = int(pg.locator("#player").get_attribute("data-session"))
    pg.keyboard.press("Space")  # pause: the countdown stops
    assert pg.locator("#current-set img.player-figure").count() == 1  # the exercise picture from our model
    pg.wait_for_selector("#current-set")
    assert "paused" in pg.locator("#player-phase").inner_text().lower()
    frozen = pg.locator("#timer").inner_text()
    pg.wait_for_timeout(400)
    assert pg.locator("#timer").inner_text() == frozen
    pg.locator("#player").scroll_into_view_if_needed()
    shot(pg, "care-session-1400")
    pg.keyboard.press("Space")  # resume
    pg.wait_for_selector("#session-end", timeout=180_000)
    pg.locator("#nprs-after button[data-value='2']").click()
    pg.wait_for_selector("#session-summary")
    session_clicks = pg.evaluate("window.__clicks") - clicks0
    assert session_clicks == 3, session_clicks
    audio = pg.evaluate("window.__audio")
    expected = expand_sets(build_plan(evaluate({i.id: False for i in load_items()})).steps)
    assert audio["contexts"] >= 1 and audio["tones"] >= len(expected)  # a tone at least at every set's end
    logged = api(server, f"/api/care/sessions/{sid}")
    assert logged["status"] == "completed" and (logged["nprs_before"], logged["nprs_after"]) == (3, 2)
    assert [(t["step_id"], t["set_index"], t["side"]) for t in logged["steps"]] == [
        (x.step_id, x.set_index, x.side) for x in expected]  # exactly the sets done, once each, in order
    assert "Session complete" in pg.locator("#session-summary").inner_text()
    pg.wait_for_selector("#chart-nprs .main-svg")
    shot(pg, "care-1400", full_page=True)
    print(f"\nclicks: screen {screen_clicks}, session {session_clicks}")
    ctx.close()
    assert not errors, errors


def test_care_on_a_phone_double_clicks_record_once_and_a_stopped_session_says_so(server, browser):
    SERVER_BASE[:] = [server["base"]]
    ctx, pg, errors = care_page(browser, 390, 844, speed=1)
    clear_screen(pg)
    shot(pg, "care-screen-390")
    pg.click("#session-start")  # no pain rating given: none is recorded
    pg.wait_for_selector("#current-set[data-phase=ready]")
    sid = int(pg.locator("#player").get_attribute("data-session"))
    pg.click("#set-next")  # skip the count-in
    pg.wait_for_selector("#current-set[data-phase=work]")
    pg.dblclick("#set-next")  # "done early", clicked twice in a hurry
    pg.wait_for_selector("#current-set[data-index='1']")
    pg.wait_for_timeout(500)
    assert pg.locator("#session-log li").count() == 1
    pg.locator("#player").scroll_into_view_if_needed()
    shot(pg, "care-session-390")
    pg.click("#session-stop")
    pg.wait_for_selector("#session-summary")
    assert pg.locator("#session-summary").inner_text().startswith("Session stopped early: 1 of ")
    logged = api(server, f"/api/care/sessions/{sid}")
    assert logged["status"] == "stopped" and logged["steps_done"] == 1
    assert logged["nprs_before"] is None and logged["nprs_after"] is None
    pg.wait_for_function("document.getElementById('progress-sessions')?.textContent.includes('stopped')")
    ctx.close()
    assert not errors, errors


def test_closing_the_browser_mid_session_keeps_the_log_consistent(server, browser):
    SERVER_BASE[:] = [server["base"]]
    ctx, pg, _ = care_page(browser, 1280, 900, speed=1)
    clear_screen(pg)
    pg.click("#session-start")
    pg.wait_for_selector("#current-set")
    sid = int(pg.locator("#player").get_attribute("data-session"))
    for k in range(2):
        pg.click("#set-next")  # count-in -> work
        pg.wait_for_selector("#current-set[data-phase=work]")
        pg.click("#set-next")  # work done -> saved
        pg.wait_for_function(f"document.querySelectorAll('#session-log li').length === {k + 1}")
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


def test_a_busy_answer_is_retried_after_the_wait_the_server_asks_for(server, page):
    """Too many solves at once answer 503 with a short Retry-After (web/guards.py); the page waits and
    asks again instead of stopping with an error."""
    busy = {"n": 0}

    def first_busy(route):
        if busy["n"] == 0:
            busy["n"] += 1
            route.fulfill(status=503, headers={"Retry-After": "1", "Content-Type": "application/json"},
                          body=json.dumps({"detail": "busy", "message": "busy"}))
        else:
            route.continue_()

    page.route("**/api/posture/simulate", first_busy)
    page.goto(server["base"] + "/posture")
    page.wait_for_selector("#posture-angles tbody tr", timeout=90_000)
    assert busy["n"] == 1
    assert "busy" not in page.locator("#posture-status").text_content()
