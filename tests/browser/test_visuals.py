"""Every page at a desktop (1400x900) and a phone (390x844) size: framed, no sideways scroll, axe-core clean;
bones by default on the Model page, labelled posture figure, the atlas study view, exercise figures.

The server runs without ``--geometry``, so bones on the Model page come from the meshes shipped in the
package. Screenshots go to artifacts/screenshots/ (``<page>-<width>.png``). axe-core is the copy bundled
in the axe-playwright-python package (offline).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

import pytest
from tests.browser.test_pages import ARGS, CHROMIUM, SHOTS, _free_port, _require_browser

pytestmark = pytest.mark.browser

PAGES = {"home": "/", "atlas": "/atlas", "ask": "/ask", "model": "/model", "posture": "/posture", "care": "/care",
         "population": "/population", "api": "/api/docs"}
READY = {  # what each page shows once it has loaded its data
    "home": "h1", "atlas": "#where-plot .main-svg", "ask": "#ask-form", "model": "#ma-value",
    "posture": "#posture-angles tbody tr", "care": "#screen-items input", "population": "#pop-status", "api": "#swagger-ui .opblock",
}
SIZES = ((1400, 900), (390, 844))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    _require_browser()
    tmp = tmp_path_factory.mktemp("visuals")
    port = _free_port()
    env = {**os.environ, "ILIOPSOAS_CACHE_DIR": str(tmp / "cache")}
    log = tmp / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "iliopsoas.cli", "serve", "--port", str(port), "--db",
                                 str(tmp / "care.sqlite3"), "--no-browser"], stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(base + "/api/health", timeout=2):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"the server did not start:\n{log.read_text()}")
            time.sleep(0.2)
    for path in ("/api/model", "/api/posture"):  # build the model before pages time their requests
        urllib.request.urlopen(base + path, timeout=120).read()
    solve = urllib.request.Request(base + "/api/posture/simulate", data=b'{"scenario": "standing"}',
                                   headers={"Content-Type": "application/json"})
    urllib.request.urlopen(solve, timeout=300).read()  # the first solve builds the scenario's problem
    yield base
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


@pytest.mark.parametrize("width, height", SIZES)
def test_every_page_fits_and_passes_axe(server, browser, width, height):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    ctx = browser.new_context(viewport={"width": width, "height": height})
    page = ctx.new_page()
    page.set_default_timeout(90_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    problems = []
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, path in PAGES.items():
        page.goto(server + path)
        page.wait_for_selector(READY[name])
        page.wait_for_timeout(150)
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"))
        scroll = page.evaluate("document.documentElement.scrollWidth")
        if scroll > width:
            problems.append(f"{name}: scrolls sideways ({scroll} px wide at {width} px)")
        found = axe.run(page).response["violations"]
        for v in found:
            if v["impact"] in ("serious", "critical"):
                problems.append(f"{name}: axe {v['id']} ({v['impact']}) on {v['nodes'][0]['target']}")
    ctx.close()
    assert not problems, "\n".join(problems)
    assert not errors, errors


def test_model_page_shows_bones_by_default_and_the_whole_figure(server, browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    page.goto(server + "/model")
    page.wait_for_selector("#ma-value")
    meshes = page.evaluate("document.getElementById('scene').data.filter(t => t.type === 'mesh3d').length")
    assert meshes == 10
    # the axes hold every bone: the scene's ranges contain the model's bounds
    inside = page.evaluate("""(() => { const s = document.getElementById('scene').layout.scene;
        const zs = document.getElementById('scene').data.filter(t => t.type === 'mesh3d').flatMap(t => t.z);
        return Math.min(...zs) >= s.zaxis.range[0] && Math.max(...zs) <= s.zaxis.range[1]; })()""")
    assert inside
    assert page.locator("#muscle option:checked").inner_text().startswith("Psoas major (right)")
    assert page.locator("label[for='slider-hip_flexion_r'] span").inner_text() == "Hip flexion (right)"
    assert page.locator("#quantity-group legend").inner_text() == "Show"
    page.check("input[name=quantity][value=passive_force]")
    page.wait_for_function("document.getElementById('ma-readout').textContent.includes(' N ')")
    ctx.close()


def test_posture_figure_is_labelled_and_keys_readable(server, browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    page.goto(server + "/posture")
    page.wait_for_selector("#posture-angles tbody tr", timeout=90_000)
    notes = page.evaluate("document.getElementById('posture-plot').layout.annotations.map(a => a.text)")
    assert {"trunk", "pelvis", "thigh", "shank"} <= set(notes)
    text = page.locator("#posture-angles").inner_text()
    assert "_deg" not in text and "_m" not in text
    assert page.locator("#posture-angles .baseline-note").count() == page.locator("#posture-angles tbody tr").count()
    ctx.close()


def test_atlas_study_view_and_quiz_by_keyboard(server, browser):
    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    page = ctx.new_page()
    page.goto(server + "/atlas#iliacus")
    page.wait_for_selector("#key-facts")
    assert page.locator("nav.toc a").count() >= 4
    assert page.locator("#entity-sources li").first.inner_text()[0].isalpha()
    page.goto(server + "/atlas#quiz")
    page.wait_for_selector("#quiz-reveal")
    prompt = page.locator("#quiz-prompt").inner_text()
    page.keyboard.press("Enter")  # the reveal button has the focus
    page.wait_for_selector("#quiz-answer:not([hidden])")
    page.keyboard.press("3")  # "good"
    page.wait_for_function("document.getElementById('quiz-stats').textContent.includes('1 studied')")
    assert page.locator("#quiz-prompt").count() == 1 and prompt
    ctx.close()


def test_exercise_figures_load_in_the_browser(server, browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    page.goto(server + "/api/care/exercises/kneeling-lunge-stretch/figure.svg")
    size = page.evaluate("(() => { const s = document.querySelector('svg'); const b = s.getBBox(); return [b.width, b.height]; })()")
    assert size[0] > 300 and size[1] > 150
    page.screenshot(path=str(SHOTS / "exercise-lunge.png"))
    ctx.close()
