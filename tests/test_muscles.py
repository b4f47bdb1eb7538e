"""Muscle parameters and forces: properties that hold without OpenSim."""

from __future__ import annotations

from xml.etree.ElementTree import Element, fromstring

import numpy as np
import pytest

from iliopsoas.mechanics import forces as fz
from iliopsoas.mechanics import muscles as mus


def _muscle(tag: str, name: str = "m", **props: object) -> Element:
    body = "".join(f"<{k}>{v}</{k}>" for k, v in props.items())
    return fromstring(f'<{tag} name="{name}">{body}</{tag}>')


BASE = dict(max_isometric_force=1000, optimal_fiber_length=0.1, tendon_slack_length=0.2,
            pennation_angle_at_optimal=0.2)


def test_defaults_are_opensims() -> None:
    p = mus.muscle_parameters_from_xml([_muscle("Millard2012EquilibriumMuscle")])
    assert p.max_isometric_force[0] == 1000 and p.optimal_fiber_length[0] == 0.1
    assert p.tendon_slack_length[0] == 0.2 and p.max_contraction_velocity[0] == 10
    assert p.fiber_damping[0] == 0.1 and not p.ignore_tendon_compliance[0]
    # damped model: OpenSim drops the active curve's floor to 0 and the f-v end slopes to 0
    assert p.afl_minimum_value[0] == 0.0 and p.fv_concentric_slope_at_vmax[0] == 0.0
    assert p.fpe_stiffness_at_one_norm_force[0] == pytest.approx(2 / 0.7)
    assert p.tfl_stiffness_at_one_norm_force[0] == pytest.approx(1.375 / 0.049)


def test_undamped_elastic_tendon_raises_active_floor_to_point_one() -> None:
    el = _muscle("Millard2012EquilibriumMuscle", fiber_damping=0)
    p = mus.muscle_parameters_from_xml([el])
    assert p.afl_minimum_value[0] == 0.1
    assert p.fv_concentric_slope_at_vmax[0] == pytest.approx(0.125)


def test_file_defaults_section_is_used_before_builtin_defaults() -> None:
    dflt = _muscle("Millard2012EquilibriumMuscle", name="default", max_contraction_velocity=7)
    p = mus.muscle_parameters_from_xml([_muscle("Millard2012EquilibriumMuscle", **BASE)], [dflt])
    assert p.max_contraction_velocity[0] == 7


@pytest.mark.parametrize(
    ("tag", "props", "message"),
    [
        ("Millard2012EquilibriumMuscle", {"max_isometric_force": "lots"}, "<max_isometric_force> must be a number"),
        ("Millard2012EquilibriumMuscle", {"optimal_fiber_length": -1}, "optimal_fiber_length must be > 0"),
        ("Millard2012EquilibriumMuscle", {"ignore_tendon_compliance": "perhaps"}, "must be true or false"),
        ("Thelen2003Muscle", {"Flen": 0.5}, "Flen must be > 1"),
        ("DeGrooteFregly2016Muscle", {"active_force_width_scale": 0.5}, "active_force_width_scale must be >= 1"),
        ("Schutte1993Muscle_Deprecated", {}, "unsupported muscle class"),
    ],
)
def test_bad_properties_name_muscle_property_and_expectation(tag: str, props: dict, message: str) -> None:
    with pytest.raises(mus.MuscleModelError, match=message) as e:
        mus.muscle_parameters_from_xml([_muscle(tag, name="psoas_r", **props)])
    assert "'psoas_r'" in str(e.value)


def test_partial_optional_curve_properties_are_refused_like_opensim() -> None:
    el = fromstring('<Millard2012EquilibriumMuscle name="psoas_r"><FiberForceLengthCurve>'
                    '<stiffness_at_low_force>0.3</stiffness_at_low_force></FiberForceLengthCurve>'
                    '</Millard2012EquilibriumMuscle>')
    with pytest.raises(mus.MuscleModelError, match="must all be given or all be absent"):
        mus.muscle_parameters_from_xml([el])


def test_bad_curve_property_names_the_curve() -> None:
    el = fromstring('<Millard2012EquilibriumMuscle name="iliacus_r"><FiberForceLengthCurve>'
                    '<strain_at_one_norm_force>-0.1</strain_at_one_norm_force></FiberForceLengthCurve>'
                    '</Millard2012EquilibriumMuscle>')
    with pytest.raises(mus.MuscleModelError, match="'iliacus_r' FiberForceLengthCurve"):
        mus.muscle_parameters_from_xml([el])


@pytest.fixture(scope="module")
def three() -> mus.MuscleParameters:
    els = [_muscle("Millard2012EquilibriumMuscle", "mil", **BASE),
           _muscle("Thelen2003Muscle", "the", **BASE),
           _muscle("DeGrooteFregly2016Muscle", "dgf", **BASE)]
    return mus.muscle_parameters_from_xml(els)


def test_active_curves_peak_at_one_at_optimal_length(three: mus.MuscleParameters) -> None:
    x = np.linspace(0.5, 1.5, 2001)[:, None] * np.ones(3)
    st_rigid = fz.muscle_state(three, 0.2 + np.sqrt(0.1**2 - (0.1 * np.sin(0.2)) ** 2) * np.ones((1, 3)), 1.0,
                               tendon="rigid")
    np.testing.assert_allclose(st_rigid.active_force_length_multiplier, 1.0, atol=1e-12)
    np.testing.assert_allclose(st_rigid.fiber_length, 0.1, atol=1e-15)
    fal, _ = three.subset([0]).active_force_length(x[:, :1].copy())
    assert fal.max() == pytest.approx(1.0, abs=1e-12) and abs(x[np.argmax(fal), 0] - 1.0) < 1e-3


def test_millard_curves_are_continuous_with_matching_slopes(three: mus.MuscleParameters) -> None:
    one = three.subset([0])
    for curve in (one.active_force_length, one.fiber_force_length, one.tendon_force_length, one.force_velocity):
        for xs in curve.starts[0, 1:]:
            y, d = curve(np.array([[xs - 1e-9], [xs + 1e-9]]), derivative=True)
            assert d is not None
            assert abs(y[1, 0] - y[0, 0]) < 1e-7
            assert abs(d[1, 0] - d[0, 0]) < 1e-5 * max(1.0, abs(d[0, 0]))


@pytest.mark.parametrize("tendon", ["rigid", "compliant"])
def test_tendon_force_equals_fiber_force_along_tendon(three: mus.MuscleParameters, tendon: str) -> None:
    rng = np.random.default_rng(0)
    L = rng.uniform(0.28, 0.33, (200, 3))
    a = rng.uniform(0.05, 1.0, (200, 3))
    st = fz.muscle_state(three, L, a, tendon=tendon)
    assert st.converged.all()
    np.testing.assert_allclose(st.tendon_force, st.fiber_force * np.cos(st.pennation_angle), rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(st.fiber_length * np.cos(st.pennation_angle) + st.tendon_length, L, atol=1e-12)
    assert (st.tendon_force >= -1e-9).all()


def test_compliant_tendon_stretches_and_carries_less_force_than_rigid(three: mus.MuscleParameters) -> None:
    L = np.full((1, 3), 0.31)
    rigid = fz.muscle_state(three, L, 1.0, tendon="rigid")
    comp = fz.muscle_state(three, L, 1.0, tendon="compliant")
    assert (comp.tendon_length > 0.2).all()
    assert (comp.fiber_length < rigid.fiber_length).all()


def test_more_activation_more_force(three: mus.MuscleParameters) -> None:
    L = np.full((1, 3), 0.3)
    low = fz.muscle_state(three, L, 0.2, tendon="compliant").tendon_force
    high = fz.muscle_state(three, L, 0.9, tendon="compliant").tendon_force
    assert (high > low).all()


def test_lengthening_velocity_raises_rigid_millard_force(three: mus.MuscleParameters) -> None:
    one = three.subset([0])
    L = np.full((1, 1), 0.3)
    iso = fz.muscle_state(one, L, 1.0, tendon="rigid")
    ecc = fz.muscle_state(one, L, 1.0, velocity=0.2, tendon="rigid")
    con = fz.muscle_state(one, L, 1.0, velocity=-0.2, tendon="rigid")
    assert con.tendon_force[0, 0] < iso.tendon_force[0, 0] < ecc.tendon_force[0, 0]
    assert ecc.force_velocity_multiplier[0, 0] < 1.4


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(mtu_length=np.ones((2, 2))), r"shape \(n, 3\)"),
        (dict(mtu_length=np.ones((2, 3)), activation=np.ones(4)), "trailing dimension of activation must be 3"),
        (dict(mtu_length=np.ones((2, 3)), activation=1.5), r"activation must lie in \[0, 1\]"),
        (dict(mtu_length=np.full((2, 3), np.nan)), "finite and positive"),
        (dict(mtu_length=np.ones((2, 3)), tendon="stiff"), "tendon must be one of"),
        (dict(mtu_length=np.ones((2, 3)), velocity=0.1, tendon="compliant"), "velocity must be 0"),
    ],
)
def test_inputs_are_checked_at_the_boundary(three: mus.MuscleParameters, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fz.muscle_state(three, **kwargs)


def test_subset_keeps_order_and_values(three: mus.MuscleParameters) -> None:
    sub = three.subset(three.index(["dgf", "mil"]))
    assert sub.names == ("dgf", "mil")
    assert sub.type_names == ("DeGrooteFregly2016Muscle", "Millard2012EquilibriumMuscle")
    with pytest.raises(KeyError, match="unknown muscle 'x'"):
        three.index(["x"])


@pytest.mark.parametrize("tendon_strain", [0.049, 0.1])
def test_compiled_and_numpy_equilibria_agree(tendon_strain: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """The numba kernel (when installed) runs the same iteration as the NumPy path."""
    pytest.importorskip("numba")
    els = [_muscle("Millard2012EquilibriumMuscle", f"m{i}", max_isometric_force=500 + 300 * i,
                   optimal_fiber_length=0.05 + 0.02 * i, tendon_slack_length=0.1 + 0.05 * i,
                   pennation_angle_at_optimal=0.1 * i, fiber_damping=0.1 if i % 2 else 0.0,
                   TendonForceLengthCurve=f"<strain_at_one_norm_force>{tendon_strain}</strain_at_one_norm_force>")
           for i in range(4)]
    p = mus.muscle_parameters_from_xml(els)
    rng = np.random.default_rng(5)
    base = p.tendon_slack_length + p.optimal_fiber_length
    L = base * rng.uniform(0.7, 1.3, (300, 4))
    a = rng.uniform(0.0, 1.0, (300, 4))
    compiled = fz.muscle_state(p, L, a, tendon="compliant")
    monkeypatch.setattr(fz, "_state_kernels", lambda: None)
    numpy_path = fz.muscle_state(p, L, a, tendon="compliant")
    np.testing.assert_array_equal(compiled.converged, numpy_path.converged)
    np.testing.assert_allclose(compiled.fiber_length, numpy_path.fiber_length, rtol=0, atol=1e-12)
    np.testing.assert_allclose(compiled.tendon_force, numpy_path.tendon_force, rtol=1e-10, atol=1e-9)


def test_chunking_does_not_change_results(three: mus.MuscleParameters) -> None:
    rng = np.random.default_rng(2)
    L = rng.uniform(0.27, 0.33, (50, 3))
    a = rng.uniform(0.05, 1.0, (50, 3))
    whole = fz.muscle_state(three, L, a, tendon="compliant")
    parts = fz.muscle_state(three, L, a, tendon="compliant", chunk_size=7)
    for name, value in whole.as_dict().items():
        np.testing.assert_array_equal(value, getattr(parts, name), err_msg=name)
