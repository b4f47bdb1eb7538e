"""The server prepares the posture scenarios in the background (``iliopsoas serve``), and the
first request for a prepared scenario reuses that work."""

from __future__ import annotations

from fastapi.testclient import TestClient

from iliopsoas.web import api_posture, create_app


def test_warm_up_prepares_the_baseline_that_the_first_request_then_uses(tmp_path):
    app = create_app(db=tmp_path / "care.sqlite3")
    settings = app.state.settings
    done = api_posture.warm_up(settings, scenarios=("standing", "walking"), sides=("right",))
    assert done == ["standing:right"]  # an unknown scenario is skipped, not fatal
    prepared = settings.cache["posture-baseline:standing:right"]
    assert prepared.converged
    with TestClient(app) as c:
        r = c.post("/api/posture/simulate", json={"scenario": "standing"}).json()
    assert r["baseline"]["angles"] == prepared.angles
    assert settings.cache["posture-baseline:standing:right"] is prepared  # reused, not solved again
    assert "posture-baseline:standing:left" not in settings.cache
