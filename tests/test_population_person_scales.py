"""The two person properties a population varies through the posture model: optimal fibre length
(tendon shorter by as much) and body mass. Each is checked against what it claims to be, and a
person with both scales 1 must be the model as built, bit for bit."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from iliopsoas.mechanics.forces import muscle_state
from iliopsoas.population.solve import solve_people
from iliopsoas.population.spec import parse_spec
from iliopsoas.posture import Person, Tightness, TightnessError
from iliopsoas.posture.scenarios import loads_for, scenario_problem, solve_batch
from iliopsoas.posture.tightness import MuscleLoads


@pytest.fixture(scope="module")
def standing():
    return scenario_problem("standing", "r", Person())


def _plain(n: int, m: int, **kw) -> MuscleLoads:
    z = np.zeros((n, m))
    return MuscleLoads(z, z + 1.0, z, z + 1.0, **kw)


def _stretched(prob, n: int = 7) -> np.ndarray:
    """Path lengths from slack to well past optimal fibre length, for every muscle."""
    p = prob.params
    pivot = p.tendon_slack_length + p.optimal_fiber_length * np.cos(p.pennation_angle_at_optimal)
    x = np.linspace(0.9, 1.5, n)[:, None]
    return pivot[None, :] + (x - 1.0) * p.optimal_fiber_length[None, :]


def test_fibre_length_scale_gives_the_forces_of_longer_fibres_with_a_shorter_tendon(standing):
    p = standing.params
    L = _stretched(standing)
    n, m = L.shape
    for f in (0.7, 1.3):
        cos = np.cos(p.pennation_angle_at_optimal)
        scaled = dataclasses.replace(p, optimal_fiber_length=f * p.optimal_fiber_length,
                                     tendon_slack_length=p.tendon_slack_length - (f - 1.0) * p.optimal_fiber_length * cos,
                                     min_fiber_length=f * p.min_fiber_length)
        ms = muscle_state(scaled, L, 0.0, tendon="rigid")
        direct = ms.passive_fiber_force * np.cos(ms.pennation_angle)
        F = standing.muscle_forces(L, _plain(n, m, fiber_length_scale=np.full((n, m), f)))
        assert direct.max() > 100.0  # stretched enough for passive force
        np.testing.assert_allclose(F, direct, rtol=1e-9, atol=1e-9)
        F1 = standing.muscle_forces(L, _plain(n, m))
        stretched = F1 > 1.0
        # longer fibres are stretched less by the same path length: less passive force, and more for shorter
        assert ((F < F1) if f > 1 else (F > F1))[stretched].all()


def test_body_mass_scale_scales_gravity_and_nothing_else(standing):
    z = np.tile(standing.rest_pose(), (3, 1))
    H = np.tile(standing.heights0, (3, 1))
    m = standing.params.n_muscles
    _, base = standing.gradient(z, _plain(3, m), H, detail=True)
    g = np.array([0.6, 1.0, 1.5])
    _, heavy = standing.gradient(z, _plain(3, m, gravity_scale=g), H, detail=True)
    np.testing.assert_allclose(heavy["gravity"], base["gravity"] * g[:, None], rtol=1e-12)
    assert np.abs(base["gravity"]).max() > 1.0
    for k in ("F", "contact", "joint_limits", "com_x"):
        assert np.array_equal(heavy[k], base[k]), k


def test_scales_of_one_are_the_model_as_built_bit_for_bit(standing):
    tights = [{"psoas": Tightness(shortening=s)} for s in (0.0, 0.1, 0.2)]
    plain = loads_for(standing, tights, "r", Person())
    assert plain.fiber_length_scale is None and plain.gravity_scale is None
    ones = dataclasses.replace(plain, fiber_length_scale=np.ones_like(plain.stiffness), gravity_scale=np.ones(3))
    a, b = standing.solve(plain), standing.solve(ones)
    assert np.array_equal(a.q, b.q) and a.converged.all()


def test_a_person_outside_the_scales_ranges_is_refused_by_name():
    with pytest.raises(TightnessError, match="fiber_length_scale must be between 0.5 and 2"):
        Person(fiber_length_scale=3.0)
    with pytest.raises(TightnessError, match="body_mass_scale must be between 0.5 and 2"):
        Person(body_mass_scale=float("nan"))


def _spec(extra: dict) -> object:
    return parse_spec({
        "name": "scales", "sampler": "monte_carlo",
        "sources": {"tight_psoas": {"parameter": "shortening", "target": "psoas", "citation": "our assumption",
                                    "distribution": {"type": "uniform", "low": 0.0, "high": 0.2}}, **extra},
        "measurements": {"scenarios": {"standing": ["pelvic_tilt_deg", "lumbar_lordosis_deg"]}},
        "statistics": [], "sensitivity": {"outcomes": []},
    }, "test")


def test_a_population_with_every_scale_one_solves_the_model_as_built():
    """Constant 1 fibre and mass scales: the same table as a spec without them, and the posture
    API's own answer for each person; other scales change the answer."""
    n = 8
    sh = np.linspace(0.0, 0.2, n)
    const = {"type": "constant", "value": 1.0}
    with_ones = _spec({"fibre": {"parameter": "optimal_fiber_length_scale", "distribution": const, "citation": "one"},
                       "mass": {"parameter": "segment_mass_scale", "distribution": const, "citation": "one"}})
    a = solve_people(with_ones, {"tight_psoas": sh, "fibre": np.ones(n), "mass": np.ones(n)}, 0)
    b = solve_people(_spec({}), {"tight_psoas": sh}, 0)
    _, _, _, ang = solve_batch("standing", [{"psoas": Tightness(shortening=float(s))} for s in sh])
    for c in ("pelvic_tilt_deg", "lumbar_lordosis_deg"):
        assert np.array_equal(a[c], b[c]) and np.array_equal(a[c], ang[c]), c
    varied = solve_people(with_ones, {"tight_psoas": sh, "fibre": np.full(n, 1.3), "mass": np.full(n, 1.4)}, 0)
    assert np.array_equal(varied["model_fiber_length_scale"], np.full(n, 1.3))
    assert varied["converged"].all()
    assert not np.allclose(varied["lumbar_lordosis_deg"], a["lumbar_lordosis_deg"], atol=1e-3)


def test_a_persons_pelvis_shape_moves_only_their_measured_tilt():
    """Preece 2008's bone shape (ASIS-PSIS angle with the pelvic plane vertical) adds to each
    person's pelvic tilt and changes nothing else; without the source every person has the mean."""
    n = 8
    sh = np.linspace(0.0, 0.2, n)
    shapes = np.linspace(3.0, 21.0, n)
    spec = _spec({"shape": {"parameter": "pelvis_shape_deg", "citation": "Preece et al. 2008",
                            "distribution": {"type": "normal", "mean": 13.0, "sd": 5.0, "low": 0.0, "high": 23.0}}})
    a = solve_people(spec, {"tight_psoas": sh, "shape": shapes}, 0)
    b = solve_people(_spec({}), {"tight_psoas": sh}, 0)
    assert np.allclose(a["pelvic_tilt_deg"] - shapes, b["pelvic_tilt_deg"] - 13.0, atol=1e-9)
    assert np.array_equal(a["lumbar_lordosis_deg"], b["lumbar_lordosis_deg"])
    assert np.array_equal(a["model_pelvis_shape_deg"], shapes) and np.all(b["model_pelvis_shape_deg"] == 13.0)
