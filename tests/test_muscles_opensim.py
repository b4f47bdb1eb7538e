"""Muscle curves, parameters and forces against live OpenSim 4.6 and the shared oracle.

Each live comparison draws fresh random poses over the coordinates' ranges and random
activations, lets OpenSim compute the MTU length (so these tests check the muscle models only,
not the path engine), and feeds that length to :func:`iliopsoas.mechanics.forces.muscle_state`.
Tolerances: fiber and tendon lengths 1e-7 m; forces 1e-6 relative, with an absolute floor of
1e-8 Fmax for forces near zero (OpenSim's own equilibrium tolerance).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from defusedxml import ElementTree as DET

from iliopsoas.mechanics import forces as fz
from iliopsoas.mechanics import muscles as mus

osim = pytest.importorskip("opensim")
pytestmark = pytest.mark.opensim

N_POSES = 100


def _params(path: Path) -> mus.MuscleParameters:
    return mus.muscle_parameters_from_xml(*mus.muscle_elements(DET.parse(str(path)).getroot()))


def _close_forces(ours: np.ndarray, ref: np.ndarray, fmax: np.ndarray, ok: np.ndarray, msg: str = "") -> None:
    tol = 1e-6 * np.abs(ref) + 1e-8 * fmax
    bad = ok & ~(np.abs(ours - ref) <= tol)
    assert not bad.any(), f"{msg} {int(bad.sum())} entries differ; worst {np.nanmax(np.abs(ours - ref)[ok]):.3g} N"


def _downcast(mu):
    for cls in (osim.Millard2012EquilibriumMuscle, osim.Thelen2003Muscle, osim.DeGrooteFregly2016Muscle):
        c = cls.safeDownCast(mu)
        if c is not None:
            return c
    raise TypeError(mu.getConcreteClassName())


def _sample(path: Path, rigid: bool, seed: int) -> dict[str, np.ndarray]:
    """OpenSim's lengths and forces at random poses and activations (tendons per model or rigid)."""
    model = osim.Model(str(path))
    muscles = model.getMuscles()
    m = muscles.getSize()
    if rigid:
        for i in range(m):
            muscles.get(i).set_ignore_tendon_compliance(True)
    state = model.initSystem()
    coords = model.getCoordinateSet()
    rng = np.random.default_rng(seed)
    act = rng.uniform(0.0, 1.0, (N_POSES, m))
    keys = ("L", "V", "lce", "tl", "phi", "ft", "fa", "fp", "fal", "fpe")
    out = {k: np.full((N_POSES, m), np.nan) for k in keys}
    failed = np.zeros((N_POSES, m), dtype=bool)
    names = [coords.get(j).getName() for j in range(coords.getSize())]
    for k in range(N_POSES):
        for j, name in enumerate(names):
            c = coords.get(j)
            if name.startswith("pelvis_") or name.endswith("_beta") or c.getDefaultLocked():
                continue
            c.setValue(state, c.getRangeMin() + (c.getRangeMax() - c.getRangeMin()) * rng.random(), False)
        for name in names:
            if name.endswith("_beta"):  # patella follows the knee (coupler: scale 1, identity)
                coords.get(name).setValue(state, coords.get(name[: -len("_beta")]).getValue(state), False)
        if rigid:  # rigid tendons also get random joint speeds: fiber velocity, f-v curve, damping
            for j, name in enumerate(names):
                if not name.startswith("pelvis_"):
                    coords.get(j).setSpeedValue(state, float(rng.uniform(-2.0, 2.0)))
            for name in names:
                if name.endswith("_beta"):
                    coords.get(name).setSpeedValue(state, coords.get(name[: -len("_beta")]).getSpeedValue(state))
        for i in range(m):
            muscles.get(i).setActivation(state, float(act[k, i]))
        model.realizeVelocity(state)
        try:
            model.equilibrateMuscles(state)
        except Exception:  # some muscle has no equilibrium here: equilibrate them one by one
            for i in range(m):
                concrete = _downcast(muscles.get(i))
                try:
                    concrete.computeInitialFiberEquilibrium(state)
                except Exception:
                    failed[k, i] = True
        model.realizeDynamics(state)
        for i in range(m):
            mu = muscles.get(i)
            out["L"][k, i] = mu.getLength(state)
            out["V"][k, i] = mu.getLengtheningSpeed(state)
            if failed[k, i]:
                continue
            out["lce"][k, i] = mu.getFiberLength(state)
            out["tl"][k, i] = mu.getTendonLength(state)
            out["phi"][k, i] = mu.getPennationAngle(state)
            out["ft"][k, i] = mu.getTendonForce(state)
            out["fa"][k, i] = mu.getActiveFiberForce(state)
            out["fp"][k, i] = mu.getPassiveFiberForce(state)
            out["fal"][k, i] = mu.getActiveForceLengthMultiplier(state)
            out["fpe"][k, i] = mu.getPassiveForceMultiplier(state)
    out["act"] = act
    out["failed"] = failed
    out["names"] = np.array([muscles.get(i).getName() for i in range(m)])
    return out


@pytest.fixture(scope="session")
def degroote_model(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Rajagopal2016 with every muscle converted to DeGrooteFregly2016Muscle by OpenSim itself."""
    model = osim.Model(str(models_dir / "opensim-models" / "Rajagopal2016.osim"))
    model.finalizeConnections()
    osim.DeGrooteFregly2016Muscle.replaceMuscles(model)
    model.finalizeConnections()
    out = tmp_path_factory.mktemp("dgf") / "Rajagopal2016_DeGrooteFregly.osim"
    model.printToXML(str(out))
    return out


CASES = [
    ("pose2sim", False),
    ("gait2392_millard2012muscle.osim", True),
    ("gait2392_millard2012muscle.osim", False),
    ("gait2392_thelen2003muscle.osim", False),
    ("Rajagopal2016.osim", True),
    ("Rajagopal2016.osim", False),
    ("RajagopalLaiUhlrich2023.osim", False),
    ("DGF", True),
    ("DGF", False),
]


@pytest.mark.parametrize(("model_file", "rigid"), CASES, ids=[f"{f.split('.')[0]}-{'rigid' if r else 'model'}" for f, r in CASES])
def test_forces_match_live_opensim(models_dir: Path, degroote_model: Path, model_file: str, rigid: bool) -> None:
    if model_file == "DGF":
        path = degroote_model
    elif model_file == "pose2sim":  # full body with Christophy lumbar psoas fascicles
        path = models_dir / "pose2sim" / "Model_Pose2Sim_muscles_flex.osim"
    else:
        path = models_dir / "opensim-models" / model_file
    seed = int(np.random.SeedSequence().entropy % 2**32)  # fresh poses each run; reported on failure
    ref = _sample(path, rigid, seed=seed)
    p = _params(path)
    assert list(p.names) == list(ref["names"])
    failed = ref["failed"]
    assert failed.mean() < 0.05, "OpenSim failed to equilibrate many muscles"
    msg = f"seed={seed}"
    # OpenSim itself occasionally returns a NaN path length (pose2sim: 1 entry in ~30,000); those
    # entries are left out and counted.
    no_length = ~np.isfinite(ref["L"])
    assert no_length.mean() < 1e-3, f"{msg}: OpenSim gave {int(no_length.sum())} NaN lengths"
    L = np.where(no_length, p.tendon_slack_length + p.optimal_fiber_length, ref["L"])
    V = np.where(no_length, 0.0, ref["V"])
    st = fz.muscle_state(p, L, ref["act"], velocity=V if rigid else None, tendon="rigid" if rigid else "model")
    failed = failed | no_length
    st_converged = np.where(no_length, False, st.converged)
    if rigid:
        assert np.abs(ref["V"]).max() > 0.1  # the velocity path is exercised
    # Where OpenSim finds no equilibrium, neither do we (and we say so instead of guessing).
    np.testing.assert_array_equal(st_converged, ~failed, err_msg=msg)
    ok = ~failed
    for ours, key in ((st.fiber_length, "lce"), (st.tendon_length, "tl")):
        np.testing.assert_allclose(ours[ok], ref[key][ok], rtol=0, atol=1e-7, err_msg=msg)
    np.testing.assert_allclose(st.pennation_angle[ok], ref["phi"][ok], rtol=0, atol=1e-7, err_msg=msg)
    fmax = np.broadcast_to(p.max_isometric_force, ok.shape)
    _close_forces(st.tendon_force, ref["ft"], fmax, ok, msg)
    _close_forces(st.active_fiber_force, ref["fa"], fmax, ok, msg)
    _close_forces(st.passive_fiber_force, ref["fp"], fmax, ok, msg)
    np.testing.assert_allclose(st.active_force_length_multiplier[ok], ref["fal"][ok], rtol=0, atol=1e-9,
                               err_msg=msg)
    np.testing.assert_allclose(st.passive_force_multiplier[ok], ref["fpe"][ok], rtol=0, atol=1e-9,
                               err_msg=msg)


def test_degroote_solver_fails_where_no_equilibrium_exists(degroote_model: Path) -> None:
    """Poses OpenSim cannot equilibrate are reported as not converged (NaN), never as numbers."""
    p = _params(degroote_model)
    very_short = (p.tendon_slack_length * 0.5)[None, :]
    st = fz.muscle_state(p, very_short, 1.0, tendon="compliant")
    assert (~st.converged).all()
    assert np.isnan(st.tendon_force).all()


def test_millard_curves_match_opensim_curve_objects() -> None:
    rng = np.random.default_rng(7)
    cases = [
        (mus.active_force_length_curve(0.25, 0.77, 1.9, 0.75, 0.0), 5,
         osim.ActiveForceLengthCurve(0.25, 0.77, 1.9, 0.75, 0.0), (0.0, 2.2)),
        (mus.active_force_length_curve(0.47 - 0.0259, 0.73, 1.8123, 0.8616, 0.1), 5,
         osim.ActiveForceLengthCurve(), (0.0, 2.2)),
        (mus.fiber_force_length_curve(0.0, 0.6, 0.2, 3.0, 0.75), 2,
         osim.FiberForceLengthCurve(0.0, 0.6, 0.2, 3.0, 0.75), (0.5, 2.2)),
        (mus.tendon_force_length_curve(0.049, 1.375 / 0.049, 2.0 / 3.0, 0.5), 2,
         osim.TendonForceLengthCurve(), (0.95, 1.1)),
        (mus.force_velocity_curve(1.4, 0.0, 0.25, 5.0, 0.0, 0.15, 0.6, 0.9), 4,
         osim.ForceVelocityCurve(), (-1.2, 1.2)),
    ]
    for spec, nseg, ref, (lo, hi) in cases:
        curve = mus.BezierCurves.stack([spec], nseg)
        x = rng.uniform(lo, hi, 400)
        y_ref = np.array([ref.calcValue(float(v)) for v in x])
        d_ref = np.array([ref.calcDerivative(float(v), 1) for v in x])
        # exact evaluation (Newton on the Bezier parameter): round-off agreement
        y, dydx = curve.exact(x[:, None], derivative=True)
        assert dydx is not None
        np.testing.assert_allclose(y[:, 0], y_ref, rtol=0, atol=1e-12)
        np.testing.assert_allclose(dydx[:, 0], d_ref, rtol=1e-9, atol=1e-9)
        # fast evaluation (Hermite tables): documented bounds, 1e-9 in value, 1e-6 in slope
        y, dydx = curve(x[:, None], derivative=True)
        assert dydx is not None
        np.testing.assert_allclose(y[:, 0], y_ref, rtol=0, atol=1e-9)
        np.testing.assert_allclose(dydx[:, 0], d_ref, rtol=1e-6, atol=1e-6)


def test_parameters_in_use_match_opensim_after_finalize(models_dir: Path) -> None:
    """Defaults and OpenSim's finalize-time adjustments (damped model: f_L floor 0) agree."""
    path = models_dir / "opensim-models" / "gait2392_millard2012muscle.osim"
    p = _params(path)
    model = osim.Model(str(path))
    model.initSystem()
    ms = model.getMuscles()
    for i in range(ms.getSize()):
        mu = osim.Millard2012EquilibriumMuscle.safeDownCast(ms.get(i))
        assert p.max_isometric_force[i] == mu.getMaxIsometricForce()
        assert p.max_contraction_velocity[i] == mu.getMaxContractionVelocity()
        assert p.fiber_damping[i] == pytest.approx(mu.getFiberDamping())
        assert p.minimum_activation[i] == pytest.approx(mu.getMinimumActivation())
        assert p.min_fiber_length[i] == pytest.approx(mu.getMinimumFiberLength(), rel=1e-12)
        afl = mu.getActiveForceLengthCurve()
        assert p.afl_minimum_value[i] == afl.getMinValue()
        fpe = mu.getFiberForceLengthCurve()
        assert p.fpe_stiffness_at_one_norm_force[i] == pytest.approx(fpe.getStiffnessAtOneNormForceInUse())
        tfl = mu.getTendonForceLengthCurve()
        assert p.tfl_stiffness_at_one_norm_force[i] == pytest.approx(tfl.getStiffnessAtOneNormForceInUse())
        assert p.tfl_norm_force_at_toe_end[i] == pytest.approx(tfl.getNormForceAtToeEndInUse())


@pytest.mark.parametrize("oracle", ["Rajagopal2016-oracle.npz", "gait2392_millard2012muscle-oracle.npz"])
def test_rigid_tendon_forces_match_oracle(reference_dir: Path, models_dir: Path, oracle: str) -> None:
    d = np.load(reference_dir / "opensim-oracle" / oracle)
    meta = json.loads(str(d["meta_json"]))
    model_file = models_dir / "opensim-models" / Path(meta["model_file"]).name
    p = _params(model_file)
    sub = p.subset(p.index([str(n) for n in d["muscle_names"]]))
    np.testing.assert_array_equal(sub.max_isometric_force, d["max_isometric_force"])
    np.testing.assert_array_equal(sub.tendon_slack_length, d["tendon_slack_length"])
    st = fz.muscle_state(sub, d["length"], 1.0, tendon="rigid")
    np.testing.assert_allclose(st.fiber_length, d["fiber_length"], rtol=0, atol=1e-7)
    np.testing.assert_allclose(st.tendon_length, d["tendon_length"], rtol=0, atol=1e-7)
    np.testing.assert_allclose(st.pennation_angle, d["pennation_angle"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(st.normalized_fiber_length, d["normalized_fiber_length"], rtol=1e-12)
    np.testing.assert_allclose(st.active_force_length_multiplier, d["active_force_length_multiplier"], rtol=0,
                               atol=1e-9)
    np.testing.assert_allclose(st.passive_force_multiplier, d["passive_force_multiplier"], rtol=0, atol=1e-9)
    ok = np.ones(st.tendon_force.shape, dtype=bool)
    for ours, key in ((st.tendon_force, "tendon_force"), (st.active_fiber_force, "active_fiber_force"),
                      (st.passive_fiber_force, "passive_fiber_force"), (st.fiber_force, "fiber_force")):
        _close_forces(ours, d[key], sub.max_isometric_force, ok)
    # gait2392's clamped fibers (tendon shorter than slack) report zero force, as in OpenSim
    clamped = st.fiber_length <= sub.min_fiber_length
    if "gait2392" in oracle:
        assert clamped.sum() > 100
        assert (st.tendon_force[clamped] == 0).all()
    assert not math.isnan(float(st.tendon_force.sum()))
