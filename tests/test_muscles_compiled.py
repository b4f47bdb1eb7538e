"""The compiled force kernel (numba) against the NumPy reference path of ``muscle_state``.

Both paths implement the same algorithms; they must agree to round-off on every output field,
flag the same entries as unconverged and produce NaN in the same places, for every muscle type,
tendon model, velocity and activation shape. The serial and the parallel driver must give
identical numbers.
"""

from __future__ import annotations

from pathlib import Path
from xml.etree.ElementTree import Element, fromstring

import numpy as np
import pytest
from defusedxml import ElementTree as DET

from iliopsoas.mechanics import forces as fz
from iliopsoas.mechanics import muscles as mus

pytest.importorskip("numba")

FIELDS = [f for f in fz.MuscleState.__dataclass_fields__ if f != "converged"]


def _muscle(tag: str, name: str, **props: object) -> Element:
    body = "".join(f"<{k}>{v}</{k}>" for k, v in props.items())
    return fromstring(f'<{tag} name="{name}">{body}</{tag}>')


def _numpy_path(monkeypatch: pytest.MonkeyPatch, *args, **kwargs) -> fz.MuscleState:
    with monkeypatch.context() as mp, np.errstate(all="ignore"):  # extreme inputs: NaN by design
        mp.setattr(fz, "_state_kernels", lambda: None)
        return fz.muscle_state(*args, **kwargs)


def assert_same_state(compiled: fz.MuscleState, reference: fz.MuscleState, fmax: np.ndarray) -> None:
    np.testing.assert_array_equal(compiled.converged, reference.converged)
    for name in FIELDS:
        x, y = getattr(compiled, name), getattr(reference, name)
        assert x.shape == y.shape, name
        np.testing.assert_array_equal(np.isnan(x), np.isnan(y), err_msg=name)
        # forces relative to Fmax, everything else (lengths in m, angles, multipliers) absolute
        scale = fmax if "force" in name and "multiplier" not in name else 1.0
        np.testing.assert_allclose(x, y, rtol=1e-11, atol=1e-11 * np.broadcast_to(scale, x.shape).max(),
                                   err_msg=name)


@pytest.fixture(scope="module")
def every_kind() -> mus.MuscleParameters:
    """Muscles of all three types: pennated or not, damped or not, rigid or elastic tendons."""
    els = []
    for i in range(3):
        common = dict(max_isometric_force=400 + 500 * i, optimal_fiber_length=0.06 + 0.03 * i,
                      tendon_slack_length=0.08 + 0.1 * i, pennation_angle_at_optimal=0.15 * i)
        els.append(_muscle("Millard2012EquilibriumMuscle", f"mil{i}", fiber_damping=0.1 * (i % 2),
                           ignore_tendon_compliance=str(i == 2).lower(), **common))
        els.append(_muscle("Thelen2003Muscle", f"the{i}", **common))
        els.append(_muscle("DeGrooteFregly2016Muscle", f"dgf{i}", fiber_damping=0.01 * i,
                           ignore_tendon_compliance=str(i == 1).lower(), **common))
    return mus.muscle_parameters_from_xml(els)


def _lengths(p: mus.MuscleParameters, n: int, seed: int) -> np.ndarray:
    """MTU lengths from slack fibers and tendons to long stretched ones (clamped fibers included)."""
    rng = np.random.default_rng(seed)
    tendon = p.tendon_slack_length * rng.uniform(0.95, 1.1, (n, p.n_muscles))
    return tendon + p.optimal_fiber_length * rng.uniform(0.05, 2.2, (n, p.n_muscles))


@pytest.mark.parametrize("tendon", ["rigid", "compliant", "model"])
def test_compiled_kernel_matches_numpy_path_for_every_muscle_type(every_kind: mus.MuscleParameters, tendon: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    p = every_kind
    L = _lengths(p, 300, 1)
    a = np.random.default_rng(2).uniform(0.0, 1.0, L.shape)
    compiled = fz.muscle_state(p, L, a, tendon=tendon)
    reference = _numpy_path(monkeypatch, p, L, a, tendon=tendon)
    assert_same_state(compiled, reference, p.max_isometric_force)
    if tendon != "rigid":  # the range reaches lengths where some compliant tendons have no equilibrium
        assert not reference.converged.all()


def test_compiled_kernel_matches_numpy_path_with_velocity(every_kind: mus.MuscleParameters,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    keep = np.flatnonzero(p_types := every_kind.type_code != mus.THELEN)  # rigid Thelen needs zero velocity
    assert p_types.any()
    p = every_kind.subset(keep)
    L = _lengths(p, 200, 3)
    v = np.random.default_rng(4).uniform(-0.8, 0.8, L.shape)
    compiled = fz.muscle_state(p, L, 0.7, velocity=v, tendon="rigid")
    reference = _numpy_path(monkeypatch, p, L, 0.7, velocity=v, tendon="rigid")
    assert_same_state(compiled, reference, p.max_isometric_force)
    assert (np.abs(compiled.force_velocity_multiplier - 1.0) > 1e-3).any()


@pytest.mark.parametrize("model_file", ["Rajagopal2016.osim", "gait2392_thelen2003muscle.osim"])
def test_compiled_kernel_matches_numpy_path_on_opensim_models(models_dir: Path, model_file: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    root = DET.parse(str(models_dir / "opensim-models" / model_file)).getroot()
    p = mus.muscle_parameters_from_xml(*mus.muscle_elements(root))
    L = _lengths(p, 100, 5)
    a = np.random.default_rng(6).uniform(0.0, 1.0, (1, p.n_muscles))
    compiled = fz.muscle_state(p, L, a)
    reference = _numpy_path(monkeypatch, p, L, a)
    assert_same_state(compiled, reference, p.max_isometric_force)


def test_parallel_and_serial_drivers_give_identical_numbers(every_kind: mus.MuscleParameters,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    p = every_kind
    monkeypatch.setenv("ILIOPSOAS_THREADS", "2")  # the parallel driver runs even on one core
    L = _lengths(p, 700, 7)  # enough work for the parallel driver
    assert L.shape[0] * p.n_muscles * 10 > fz._PARALLEL_WORK
    whole = fz.muscle_state(p, L, 0.4, tendon="compliant")
    parts = [fz.muscle_state(p, L[k:k + 5], 0.4, tendon="compliant") for k in range(0, L.shape[0], 5)]
    for name in [*FIELDS, "converged"]:
        np.testing.assert_array_equal(getattr(whole, name), np.concatenate([getattr(s, name) for s in parts]),
                                      err_msg=name)


@pytest.mark.parametrize("shape", [(), (1,), (9,), (1, 1), (1, 9), (40, 1), (40, 9)])
def test_activation_broadcasts_like_a_full_array(every_kind: mus.MuscleParameters, shape: tuple) -> None:
    p = every_kind
    L = _lengths(p, 40, 8)
    a = np.random.default_rng(9).uniform(0.0, 1.0, shape)
    got = fz.muscle_state(p, L, a, tendon="compliant")
    full = fz.muscle_state(p, L, np.broadcast_to(a, L.shape).copy(), tendon="compliant")
    for name in [*FIELDS, "converged"]:
        np.testing.assert_array_equal(getattr(got, name), getattr(full, name), err_msg=name)


def test_read_only_and_strided_inputs_are_accepted(every_kind: mus.MuscleParameters) -> None:
    p = every_kind
    L = _lengths(p, 30, 10)
    ro = L.copy()
    ro.flags.writeable = False
    strided = np.repeat(L, 2, axis=1)[:, ::2]
    ref = fz.muscle_state(p, L, 0.5).tendon_force
    np.testing.assert_array_equal(fz.muscle_state(p, ro, 0.5).tendon_force, ref)
    np.testing.assert_array_equal(fz.muscle_state(p, strided, 0.5).tendon_force, ref)


def test_empty_batch_gives_empty_arrays(every_kind: mus.MuscleParameters) -> None:
    s = fz.muscle_state(every_kind, np.zeros((0, every_kind.n_muscles)) + 1.0, 0.5)
    assert s.tendon_force.shape == (0, every_kind.n_muscles) and s.converged.shape == (0, every_kind.n_muscles)


def test_calls_from_several_threads_give_the_numbers_of_one_call(every_kind: mus.MuscleParameters,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """As the web app's request threads do: parallel and serial launches at once, on a parameter
    set whose kernel tables are not built yet."""
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setenv("ILIOPSOAS_THREADS", "2")
    p = every_kind.subset(np.arange(every_kind.n_muscles))  # fresh object: tables built under contention
    big, small = _lengths(p, 700, 11), _lengths(p, 3, 12)
    want = {n: fz.muscle_state(every_kind, L, 0.6, tendon="compliant") for n, L in ((700, big), (3, small))}
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda L: (L.shape[0], fz.muscle_state(p, L, 0.6, tendon="compliant")),
                            [big, small] * 4))
    for n, state in got:
        for name in [*FIELDS, "converged"]:
            np.testing.assert_array_equal(getattr(state, name), getattr(want[n], name), err_msg=name)


_CONCURRENT_SCRIPT = """
import numpy as np
from concurrent.futures import ThreadPoolExecutor
from xml.etree.ElementTree import fromstring
from iliopsoas.mechanics import forces as fz, muscles as mus
el = ('<Millard2012EquilibriumMuscle name="m{}"><max_isometric_force>500</max_isometric_force>'
      '<optimal_fiber_length>0.1</optimal_fiber_length><tendon_slack_length>0.2</tendon_slack_length>'
      '<pennation_angle_at_optimal>0.1</pennation_angle_at_optimal></Millard2012EquilibriumMuscle>')
p = mus.muscle_parameters_from_xml([fromstring(el.format(i)) for i in range(9)])
L = 0.2 + 0.1 * np.random.default_rng(0).uniform(0.5, 1.5, (3000, 9))
want = fz.muscle_state(p, L, 0.6, tendon="compliant").tendon_force
with ThreadPoolExecutor(4) as pool:
    got = list(pool.map(lambda x: fz.muscle_state(p, x, 0.6, tendon="compliant").tendon_force, [L] * 16))
assert all(np.array_equal(g, want, equal_nan=True) for g in got)
"""


def test_parallel_launches_from_several_threads_take_turns() -> None:
    """numba's workqueue threading layer aborts the process on concurrent launches (measured:
    this script ends with SIGABRT when the launch lock is replaced by a no-op)."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, NUMBA_THREADING_LAYER="workqueue", ILIOPSOAS_THREADS="2")
    done = subprocess.run([sys.executable, "-c", _CONCURRENT_SCRIPT], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_parallel_force_kernel_launches_under_the_shared_lock() -> None:
    from iliopsoas.mechanics import _parallel

    assert fz.KERNEL_LOCK is _parallel.KERNEL_LOCK


def test_kernel_tables_are_built_once_per_parameter_set(every_kind: mus.MuscleParameters) -> None:
    assert every_kind.kernel_tables is every_kind.kernel_tables
    assert every_kind.subset([0, 1]).kernel_tables is not every_kind.kernel_tables


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(activation=np.ones((3, 9))), "activation must have 2 rows"),
        (dict(activation=np.full(9, np.nan)), "activation must be finite"),
        (dict(velocity=np.ones((2, 9)), tendon="rigid"), "rigid-tendon Thelen2003Muscle is only available at zero"),
        (dict(velocity=np.ones((1, 4))), "trailing dimension of velocity must be 9"),
    ],
)
def test_bad_inputs_name_the_input(every_kind: mus.MuscleParameters, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fz.muscle_state(every_kind, np.full((2, 9), 0.3), **kwargs)
