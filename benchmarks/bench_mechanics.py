"""Speed of the mechanics engine against OpenSim 4.6 on Rajagopal2016 (all 80 muscles).

Run: ``.venv/bin/python benchmarks/bench_mechanics.py [--poses 10000] [--opensim-poses 200]``.

Three measurements, each ours (all poses in one call) against OpenSim's one-state-at-a-time
Python API, measured in the same run:

* lengths + moment arms about the 6 hip coordinates: ``lengths_and_moment_arms`` vs a loop of
  ``setValue`` / ``realizePosition`` / ``getLength`` / ``computeMomentArm`` (target >= 1000x);
* lengths alone: ``muscle_lengths`` vs ``getLength`` (target >= 100x);
* forces: ``muscle_forces`` (path lengths + fiber equilibrium, each muscle's own tendon model,
  activation 0.5) vs ``setActivation`` / ``realizeVelocity`` / ``equilibrateMuscles`` /
  ``getTendonForce`` (target >= 100x).

OpenSim is timed on a subsample of the same poses (``--opensim-poses``) and its time per pose
is scaled to the full count; the output says so. The subsample is also used to check that both
give the same numbers.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

HIP = ["hip_flexion_r", "hip_adduction_r", "hip_rotation_r", "hip_flexion_l", "hip_adduction_l", "hip_rotation_l"]


def _model_path() -> Path:
    from iliopsoas.paths import shared_dir

    root = shared_dir()
    if root is None:
        sys.exit("../shared is absent (set ILIOPSOAS_SHARED)")
    return root / "models" / "opensim-models" / "Rajagopal2016.osim"


def random_poses(model, n: int, seed: int) -> np.ndarray:
    """Independent coordinates uniform over their ranges, couplers applied.

    The pelvis and every locked coordinate stay at their defaults: OpenSim ignores ``setValue`` on
    a locked coordinate, so sampling one would compare different poses.
    """
    from iliopsoas.mechanics import complete_coordinates

    lo, hi = model.coordinate_ranges[:, 0], model.coordinate_ranges[:, 1]
    q = np.random.default_rng(seed).uniform(lo, hi, size=(n, len(lo)))
    fixed = [i for i, c in enumerate(model.coordinates) if c.name.startswith("pelvis_") or c.locked]
    q[:, fixed] = model.coordinate_defaults[fixed]
    return complete_coordinates(model, q)


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def _best(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _opensim(path: Path, names: list[str], q: np.ndarray, activation: float):
    import opensim as osim

    osim.Logger.setLevelString("error")
    model = osim.Model(str(path))
    state = model.initSystem()
    cs = model.getCoordinateSet()
    coords = [cs.get(n) for n in names]
    ms = model.getMuscles()
    muscles = [ms.get(i) for i in range(ms.getSize())]
    hip = [cs.get(n) for n in HIP]
    n, m = q.shape[0], len(muscles)

    def set_pose(k: int) -> None:
        for c, v in zip(coords, q[k], strict=True):
            c.setValue(state, float(v), False)

    L = np.zeros((n, m))
    r = np.zeros((n, m, len(hip)))

    def sweep(moment_arms: bool) -> float:
        """Seconds per pose to fill ``L`` (and ``r`` when ``moment_arms``)."""
        t0 = time.perf_counter()
        for k in range(n):
            set_pose(k)
            model.realizePosition(state)
            for i, mu in enumerate(muscles):
                L[k, i] = mu.getLength(state)
                if moment_arms:
                    for j, c in enumerate(hip):
                        r[k, i, j] = mu.computeMomentArm(state, c)
        return (time.perf_counter() - t0) / n

    t_len = sweep(False)
    t_ma = sweep(True)

    F = np.zeros((n, m))
    failed = 0
    t0 = time.perf_counter()
    for k in range(n):
        set_pose(k)
        for mu in muscles:
            mu.setActivation(state, activation)
        model.realizeVelocity(state)
        try:
            model.equilibrateMuscles(state)
        except Exception:
            failed += 1
            F[k] = np.nan
            continue
        for i, mu in enumerate(muscles):
            F[k, i] = mu.getTendonForce(state)
    t_f = (time.perf_counter() - t0) / n
    return t_len, t_ma, t_f, L, r, F, failed


def _opensim_path_cost(path: Path, names: list[str], q: np.ndarray, muscles: list[str]) -> float:
    """Seconds per pose OpenSim spends on the paths of ``muscles`` alone.

    Pose set and ``realizePosition`` once without asking for a length, then again followed by
    ``getLength`` of each muscle: the difference is the (lazily computed) path, C++ wrapping
    included, plus one Python call per muscle.
    """
    import opensim as osim

    model = osim.Model(str(path))
    state = model.initSystem()
    cs = model.getCoordinateSet()
    coords = [cs.get(c) for c in names]
    ms = model.getMuscles()
    chosen = [ms.get(m) for m in muscles]

    def sweep(with_lengths: bool) -> float:
        t0 = time.perf_counter()
        for k in range(q.shape[0]):
            for c, v in zip(coords, q[k], strict=True):
                c.setValue(state, float(v), False)
            model.realizePosition(state)
            if with_lengths:
                for mu in chosen:
                    mu.getLength(state)
        return (time.perf_counter() - t0) / q.shape[0]

    sweep(True)
    return max(0.0, min(sweep(True) for _ in range(2)) - min(sweep(False) for _ in range(2)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--poses", type=int, default=10_000)
    ap.add_argument("--opensim-poses", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from iliopsoas.mechanics import lengths_and_moment_arms, load_osim, muscle_lengths
    from iliopsoas.mechanics.forces import muscle_forces

    path = _model_path()
    model = load_osim(path)
    q = random_poses(model, args.poses, args.seed)
    n, m = q.shape[0], len(model.muscle_names)
    act = 0.5
    print(f"Rajagopal2016: {m} muscles, {n} random poses; {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}, NumPy {np.__version__}")

    t_len, L = _best(lambda: muscle_lengths(model, q), args.repeat)
    t_ma, (L2, r) = _best(lambda: lengths_and_moment_arms(model, q, HIP), args.repeat)  # type: ignore[misc]
    t_f, st = _best(lambda: muscle_forces(model, q, act), args.repeat)

    try:
        import opensim  # noqa: F401
    except ImportError:
        print(f"ours: lengths {n / t_len:,.0f} poses/s, lengths+hip moment arms {n / t_ma:,.0f} poses/s, "
              f"forces {n / t_f:,.0f} poses/s (OpenSim not installed: no ratios)")
        return
    k = min(args.opensim_poses, n)
    sub = np.random.default_rng(args.seed + 1).choice(n, size=k, replace=False)
    o_len, o_ma, o_f, oL, orr, oF, failed = _opensim(path, list(model.coordinate_names), q[sub], act)
    note = f"OpenSim timed on {k} of the {n} poses and scaled per pose; load average {_load()}"
    rows = [
        ("lengths+hip moment arms", n / t_ma, 1.0 / o_ma, 1000),
        ("lengths", n / t_len, 1.0 / o_len, 100),
        ("forces", n / t_f, 1.0 / o_f, 100),
    ]
    for label, ours, theirs, target in rows:
        ratio = ours / theirs
        flag = "meets" if ratio >= target else "below"
        print(f"{label}: ours {ours:,.0f} poses/s, OpenSim {theirs:,.0f} poses/s, ratio {ratio:,.0f}x "
              f"({flag} target {target}x; {note})")
    # What bounds the lengths ratio: the four gastrocnemii wrap over two cylinders each, and
    # OpenSim's iterative tangent refinement (reproduced step for step, ~84 steps per muscle and
    # pose) cannot be shortened without changing its numbers. Our time for those four muscles
    # alone (kinematics included) caps the lengths ratio of any engine no faster than ours on
    # those four paths, whatever the other muscles cost.
    gas = [i for i, mu in enumerate(model.muscles) if len(mu.wraps) >= 2]
    if gas:
        t_gas, _ = _best(lambda: muscle_lengths(model, q, gas), args.repeat)
        o_gas = _opensim_path_cost(path, list(model.coordinate_names), q[sub], [model.muscle_names[i] for i in gas])
        print(f"bound: the {len(gas)} muscles with two wraps ({', '.join(model.muscle_names[i] for i in gas)}) take us "
              f"{t_gas / n * 1e6:.1f} us per pose alone (OpenSim's C++ path for them: {o_gas * 1e6:.1f} us per pose); "
              f"OpenSim's whole lengths loop takes {o_len * 1e6:.0f} us per pose, so an engine no faster than ours on "
              f"those {len(gas)} paths cannot exceed {o_len / (t_gas / n):,.0f}x on lengths, however fast the other "
              f"{m - len(gas)} muscles are")
    ok = ~np.isnan(oF).any(axis=1)
    df = np.abs(st.tendon_force[sub][ok] - oF[ok]) / np.maximum(np.abs(oF[ok]),
                                                                1e-8 * model.muscle_params.max_isometric_force)
    # the force stage alone: our muscle models fed with OpenSim's own path lengths
    from iliopsoas.mechanics.forces import muscle_state

    own = muscle_state(model.muscle_params, oL, act).tendon_force
    fmax = model.muscle_params.max_isometric_force
    d_own = np.abs(own[ok] - oF[ok]) / (1e-6 * np.abs(oF[ok]) + 1e-8 * fmax)  # <= 1: within the tests' tolerance
    d_ours = np.abs(st.tendon_force[sub][ok] - oF[ok]) / (1e-6 * np.abs(oF[ok]) + 1e-8 * fmax)
    print(f"agreement on the subsample: lengths max {np.abs(L[sub] - oL).max():.1e} m, hip moment arms max "
          f"{np.abs(r[sub] - orr).max():.1e} m, tendon forces max relative {np.nanmax(df):.1e}, max error / "
          f"(1e-6 |F| + 1e-8 Fmax) = {np.nanmax(d_ours):.2f}; "
          f"tendon forces from OpenSim's lengths max error / (1e-6 |F| + 1e-8 Fmax) = {np.nanmax(d_own):.2f} "
          f"({failed} poses OpenSim could not equilibrate)")


if __name__ == "__main__":
    main()
