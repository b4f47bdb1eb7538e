"""The security headers block nothing the pages need (issue 14): every page loads in chromium under
the Content-Security-Policy with no violation and no console error, at desktop and phone sizes,
and a page on another origin cannot frame the app.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from test_pages import ARGS, CHROMIUM, _require_browser

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PAGES = ("/", "/atlas", "/ask", "/model", "/posture", "/care", "/api/docs")
#: what shows that a page's scripts ran (plotly drew, the API answered) before it is photographed
DRAWN = {"/model": "#scene.js-plotly-plot", "/posture": "#posture-plot.js-plotly-plot"}
PORTS = range(8126, 8130)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory):
    _require_browser()
    import robustness_probes as probes

    port = probes.free_port(PORTS)
    db = tmp_path_factory.mktemp("csp") / "care.db"
    proc = subprocess.Popen([sys.executable, "-m", "iliopsoas.cli", "serve", "--port", str(port), "--db", str(db),
                             "--no-browser"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(url + "/api/health", timeout=2):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("the server did not start")
            time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.mark.parametrize("size", [(1400, 900), (390, 844)])
def test_every_page_loads_under_the_content_security_policy(base: str, size: tuple[int, int]) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        ctx = browser.new_context(viewport={"width": size[0], "height": size[1]})
        problems: list[str] = []
        for path in PAGES:
            page = ctx.new_page()
            page.on("console", lambda m, path=path: problems.append(f"{path}: console {m.type}: {m.text}")
                    if m.type == "error" else None)
            page.on("pageerror", lambda e, path=path: problems.append(f"{path}: {e}"))
            page.add_init_script("document.addEventListener('securitypolicyviolation', e => "
                                 "console.error('CSP blocked ' + e.blockedURI + ' (' + e.violatedDirective + ')'))")
            response = page.goto(base + path, wait_until="networkidle", timeout=120_000)
            assert response is not None and response.status == 200
            if path in DRAWN:
                page.wait_for_selector(DRAWN[path], timeout=180_000)
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
            SHOTS.mkdir(parents=True, exist_ok=True)
            name = "home" if path == "/" else path.strip("/").replace("/", "-")
            page.screenshot(path=str(SHOTS / f"csp-{name}-{size[0]}x{size[1]}.png"))
            page.close()
        browser.close()
    assert not problems, "\n".join(problems)


def test_another_origin_cannot_frame_the_app(base: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    outer = tmp_path / "outer.html"
    outer.write_text(f'<!doctype html><iframe id="f" src="{base}/care" width="600" height="400"></iframe>')
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page()
        page.goto(outer.as_uri())
        page.wait_for_timeout(1500)
        frame = page.frame_locator("#f")
        assert frame.locator("body[data-page='care']").count() == 0, "the care page rendered inside a frame"
        browser.close()
