"""Population specs, sampling, statistics, the report, the CLI, the atlas's population lines and the
web page, on one small in-process run (the Dask behaviour is in test_population_dask.py)."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from iliopsoas.cli import app
from iliopsoas.population import SpecError, example_spec, example_text, load_spec, parse_spec, run_population
from iliopsoas.population.sampling import sample_people, unit_design
from iliopsoas.population.solve import PARAMETERS
from iliopsoas.population.spec import Statistic
from iliopsoas.population.stats import _r_ci, compute_statistic

SPEC = Path(__file__).parent / "data" / "population_small.yaml"
runner = CliRunner()


def _small() -> dict:
    return yaml.safe_load(SPEC.read_text(encoding="utf-8"))


# ----------------------------------------------------------------------------- spec
def test_example_spec_is_valid_and_every_source_carries_a_citation():
    spec = example_spec()
    assert {"psoas_minor_present", "pelvic_incidence_deg", "pelvis_shape_deg", "segment_mass_scale",
            "segment_length_scale", "strength_scale", "optimal_fiber_length_scale", "passive_stiffness_scale", "shortening"} == {
        s.parameter for s in spec.sources.values()}
    assert all(len(s.citation) > 10 for s in spec.sources.values())
    heino = [s for s in spec.statistics if s.published.value == -0.04]
    assert heino and "Heino" in heino[0].citation


def test_population_example_prints_the_documented_spec():
    res = runner.invoke(app, ["population", "example"])
    assert res.exit_code == 0
    assert res.stdout == example_text() and res.stdout.startswith("#")
    assert parse_spec(yaml.safe_load(res.stdout)).digest() == example_spec().digest()


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["sources"]["strength"].update(parameter="height"), "sources.strength.parameter: unknown parameter 'height'"),
    (lambda d: d["sources"]["tight_psoas"].update(distribution={"type": "uniform", "low": 0, "high": 0.6}),
     "sources.tight_psoas.distribution: shortening must stay within [0, 0.4]"),
    (lambda d: d["sources"]["tight_psoas"].update(target="spleen"), "sources.tight_psoas.target: unknown muscle target 'spleen'"),
    (lambda d: d["sources"]["tight_psoas"].pop("citation"), "sources.tight_psoas.citation: Field required"),
    (lambda d: d["measurements"]["scenarios"].update(handstand=["pelvic_tilt_deg"]), "unknown scenario"),
    (lambda d: d["measurements"]["scenarios"].update(standing=["thomas_hip_deg"]), "unknown angle 'thomas_hip_deg'"),
    (lambda d: d["statistics"][0].update(y="standing.hip_rotation_deg"), "statistics.0.y: unknown variable"),
    (lambda d: d["sources"]["strength"].update(distribution={"type": "normal", "mean": 1, "sd": 0.5}),
     "strength_scale x passive_stiffness_scale must stay within [0.5, 3]"),
    (lambda d: d["sources"].update(tight_iliopsoas={"parameter": "shortening", "target": "iliopsoas", "citation": "x y z",
                                                    "distribution": {"type": "constant", "value": 0.1}}),
     "already shortened by source"),
])
def test_a_bad_spec_is_refused_with_the_place_and_what_was_expected(edit, message):
    data = _small()
    edit(data)
    with pytest.raises(SpecError, match=message.replace("[", r"\[").replace("(", r"\(")):
        parse_spec(data, "spec.yaml")


def test_population_run_with_a_broken_spec_file_fails_on_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsources: [1, 2\n", encoding="utf-8")
    res = runner.invoke(app, ["population", "run", str(bad), "--people", "10", "--out", str(tmp_path / "o")])
    assert res.exit_code == 1
    assert "not valid YAML" in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_population_run_refuses_a_chunk_size_that_is_not_a_multiple_of_the_block(tmp_path):
    res = runner.invoke(app, ["population", "run", str(SPEC), "--people", "10", "--out", str(tmp_path / "o"),
                              "--chunk-size", "100", "--workers", "0"])
    assert res.exit_code == 1 and "--chunk-size must be a multiple of 64" in res.stderr


# ----------------------------------------------------------------------------- sampling
@pytest.mark.parametrize("sampler", ["sobol", "lhs", "monte_carlo"])
def test_the_same_seed_gives_the_same_people(sampler):
    a, b = unit_design(sampler, 100, 3, 7), unit_design(sampler, 100, 3, 7)
    assert np.array_equal(a, b) and not np.array_equal(a, unit_design(sampler, 100, 3, 8))
    assert a.min() >= 0 and a.max() < 1


def test_a_monte_carlo_person_does_not_depend_on_the_size_of_the_run():
    assert np.array_equal(unit_design("monte_carlo", 10, 4, 3), unit_design("monte_carlo", 1000, 4, 3)[:10])


def test_sampled_values_follow_their_distributions():
    spec = example_spec()
    v = sample_people(spec, 4096, 1)
    assert abs(v["psoas_minor"].mean() - 0.418) < 0.01
    pi = v["pelvic_incidence"]
    assert pi.min() >= 33 and pi.max() <= 85 and abs(np.median(pi) - 51.7) < 1.0
    assert 0.0 <= v["tight_iliacus"].min() and v["tight_iliacus"].max() <= 0.2


# ----------------------------------------------------------------------------- statistics
def test_fisher_interval_of_heino_1990():
    lo, hi = _r_ci(-0.04, 25)
    assert lo == pytest.approx(-0.428, abs=1e-3) and hi == pytest.approx(0.361, abs=1e-3)


def test_statistics_recover_known_values():
    rng = np.random.default_rng(0)
    x = rng.normal(size=5000)
    y = 0.5 * x + rng.normal(size=5000) * math.sqrt(0.75)  # r = 0.5
    g = (rng.random(5000) < 0.3).astype(float)
    vars_ = {"a.x": x, "a.y": y, "a.z": y + 2.0 * g, "g": g}
    r = compute_statistic(Statistic(name="corr", kind="correlation", x="a.x", y="-a.y", citation="t e s t"), vars_)
    assert r["ci"][0] < -0.5 < r["ci"][1] and r["ci"][1] - r["ci"][0] < 0.05
    m = compute_statistic(Statistic(name="mean", kind="mean", variable="a.x", citation="t e s t",
                                    published={"value": 0.0, "sd": 1.0, "n": 100}), vars_)
    assert m["ci"][0] < 0 < m["ci"][1] and m["within_published_ci"] is True
    p = compute_statistic(Statistic(name="share", kind="proportion", variable="a.x", above=0.0, citation="t e s t"), vars_)
    assert p["ci"][0] < 0.5 < p["ci"][1]
    d = compute_statistic(Statistic(name="diff", kind="group_difference", variable="a.z", by={"variable": "g"},
                                    citation="t e s t"), vars_)
    assert d["ci"][0] < 2.0 < d["ci"][1] and sum(d["n_groups"]) == 5000


# ----------------------------------------------------------------------------- a small run
@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("populations")
    run_population(load_spec(SPEC), n_people=256, out=folder / "small", seed=4, workers=0, chunk_size=128)
    return folder


def test_report_json_has_the_interface_keys(runs, tmp_path):
    res = runner.invoke(app, ["population", "report", str(runs / "small"), "--json", "--plot", str(tmp_path / "fig")])
    assert res.exit_code == 0, res.stderr
    rep = json.loads(res.stdout)
    assert rep["n_people"] == 256
    assert {"name", "model", "ci", "published", "citation"} <= set(rep["statistics"][0])
    assert set(rep["sensitivity"]) == {"standing.lumbar_lordosis_deg", "standing.pelvic_tilt_deg"}
    assert sorted(p.name for p in (tmp_path / "fig").iterdir()) == ["distributions.png", "sensitivity.png",
                                                                     "statistics.png"]


def test_sensitivity_ranks_the_tight_psoas_for_lordosis_and_skips_what_the_model_cannot_express(runs):
    from iliopsoas.population import report

    rep = report(runs / "small")
    lord = rep.sensitivity["standing.lumbar_lordosis_deg"]
    assert not PARAMETERS["segment_length_scale"].expressed and lord["stature"] is None
    assert PARAMETERS["optimal_fiber_length_scale"].expressed and lord["fibre_length"] is not None
    assert PARAMETERS["segment_mass_scale"].expressed and lord["body_mass"] is not None
    # among the tightness and strength sources the psoas drives lordosis (body mass and fibre
    # length, which act on every muscle and on gravity, come first in today's model)
    assert lord["tight_psoas"] > max(lord["tight_iliacus"], lord["strength"]) + 0.05
    tilt = next(s for s in rep.statistics if s.name == "standing pelvic tilt")
    assert tilt.n == 256 and tilt.published == 13.0 and tilt.published_ci is not None


def test_a_store_row_per_person_and_scenario_with_spec_and_seed_embedded(runs):
    import pyarrow.parquet as pq

    t = pq.read_table(runs / "small" / "results.parquet")
    assert t.num_rows == 256 * 2
    meta = json.loads(t.schema.metadata[b"iliopsoas.population"])
    assert meta["seed"] == 4 and meta["spec"]["name"] == "test-small" and meta["n_people"] == 256


def test_report_of_an_unfinished_run_says_how_to_resume(tmp_path):
    res = runner.invoke(app, ["population", "report", str(tmp_path)])
    assert res.exit_code == 1 and "not a population run" in res.stderr


def test_atlas_claims_gain_a_population_line_from_a_stored_run(runs, monkeypatch):
    monkeypatch.setenv("ILIOPSOAS_POPULATIONS", str(runs))
    res = runner.invoke(app, ["atlas", "claims", "--json"], env={"COLUMNS": "140"})
    assert res.exit_code == 0, res.stderr
    by_id = {c["id"]: c for c in json.loads(res.stdout)}
    line = by_id["C000-45"]["population"]
    assert len(line) == 1 and "256 simulated people" in line[0] and "run small" in line[0]
    assert all(not c["population"] for cid, c in by_id.items() if cid != "C000-45")


def test_population_page_lists_stored_runs_and_serves_their_figures(runs, monkeypatch, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient
    from iliopsoas.web import create_app

    monkeypatch.setenv("ILIOPSOAS_POPULATIONS", str(runs))
    with TestClient(create_app(db=tmp_path / "care.sqlite3")) as c:
        page = c.get("/population")
        assert page.status_code == 200 and "/static/population.js" in page.text
        listed = c.get("/api/population/runs").json()["runs"]
        assert [r["name"] for r in listed] == ["small"] and listed[0]["n_people"] == 256
        rep = c.get("/api/population/runs/small").json()
        assert rep["statistics"][1]["citation"].startswith("Preece")
        png = c.get(rep["figures"][0])
        assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
        missing = c.get("/api/population/runs/not-there")
        assert missing.status_code == 404 and "no finished population run" in missing.json()["detail"]
        assert "C000-45" in c.get("/api/population/claims").json()


def test_a_measurement_that_barely_varies_still_plots():
    """A moment arm that depends on the model variant only can differ by a few ulps between
    people; NumPy refuses to cut such a range into 40 bins (a 10,000-person report crashed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from iliopsoas.population.report import _bins

    v = np.array([0.0512, np.nextafter(0.0512, 1.0), 0.0512])
    with pytest.raises(ValueError):
        np.histogram(v, bins=40)
    fig, ax = plt.subplots()
    ax.hist(v, bins=_bins(v))
    plt.close(fig)
    assert _bins(np.linspace(0, 1, 10)) == 40
