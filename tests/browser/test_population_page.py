"""The Population page in Debian's chromium: a stored run is chosen, its table and figures show,
and the page never scrolls sideways on a 390 px phone."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from iliopsoas.population import load_spec, run_population

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
SPEC = Path(__file__).resolve().parents[1] / "data" / "population_small.yaml"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not CHROMIUM.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} is missing (scripts/setup-system.sh installs it)")
    runs = tmp_path_factory.mktemp("populations")
    run_population(load_spec(SPEC), n_people=128, out=runs / "adults-demo", seed=2, workers=0, chunk_size=128)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    log = runs / "server.log"
    env = {**os.environ, "ILIOPSOAS_POPULATIONS": str(runs)}
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "iliopsoas.cli", "serve", "--port", str(port), "--db",
                                 str(runs / "care.sqlite3"), "--no-browser"], stdout=out, stderr=subprocess.STDOUT,
                                env=env)
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
    yield base
    proc.terminate()
    proc.wait(timeout=10)
    assert "Traceback" not in log.read_text(), log.read_text()


@pytest.mark.parametrize("width, height", [(1400, 900), (390, 844)])
def test_population_page_shows_a_stored_run_without_sideways_scroll(server, width, height):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        pg = b.new_page(viewport={"width": width, "height": height})
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(server + "/population")
        pg.wait_for_selector("#pop-stats tbody tr", timeout=60_000)
        assert "adults-demo" in pg.locator("#pop-run").inner_text()
        assert "Preece" in pg.locator("#pop-stats").inner_text()
        pg.wait_for_function("[...document.images].length === 3 && "
                             "[...document.images].every(i => i.complete && i.naturalWidth > 0)", timeout=60_000)
        assert pg.evaluate("document.documentElement.scrollWidth") <= width
        SHOTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(SHOTS / f"population-{width}.png"), full_page=True)
        b.close()
        assert not errors, errors
