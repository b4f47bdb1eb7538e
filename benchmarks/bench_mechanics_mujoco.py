"""Speed against MuJoCo, measured in the same run (issue 17): lengths + moment arms.

Ours: Rajagopal2016 (80 muscles), ``lengths_and_moment_arms`` about the 6 hip coordinates for
``--poses`` random poses (every coordinate uniform over its range except the pelvis and the locked
coordinates), on one thread (``ILIOPSOAS_THREADS=1``) and on two. MuJoCo: MyoLeg from the
``myo-sim`` wheel (80 tendons derived from the same Rajagopal model), ``mj_kinematics`` +
``mj_comPos`` + ``mj_tendon`` per pose (tendon lengths and the full tendon Jacobian), on one
thread and on two (one ``MjData`` per thread; the bindings release the GIL inside each call).
Both count tendon-poses per second (poses/s x 80). Medians of ``--repeats`` runs; the machine's
load average is printed before and after (other jobs may share the cores).

Both of our wrapping modes are timed (``wrapping="opensim"`` and ``"smooth"``).

Also printed: our cost per muscle and pose by kind of path (no wrap, one cylinder, two cylinders
with OpenSim's iterative tangent refinement; ellipsoids from arm26), one thread.

Needs the benchmark extra: ``pip install -c constraints.txt -e '.[benchmark]'``.

    .venv/bin/python benchmarks/bench_mechanics_mujoco.py [--poses 10000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np

HIP = ["hip_flexion_r", "hip_adduction_r", "hip_rotation_r", "hip_flexion_l", "hip_adduction_l", "hip_rotation_l"]


def _load_avg() -> str:
    return " ".join(open("/proc/loadavg").read().split()[:3])


def _median(f, repeats: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _our_poses(model, n: int, rng: np.random.Generator) -> np.ndarray:  # type: ignore[no-untyped-def]
    from iliopsoas.mechanics import complete_coordinates

    lo, hi = model.coordinate_ranges.T
    q = lo + (hi - lo) * rng.random((n, len(lo)))
    keep = [i for i, c in enumerate(model.coordinates) if c.locked or c.name.startswith("pelvis")]
    q[:, keep] = model.coordinate_defaults[keep]
    return complete_coordinates(model, q)


def myoleg():  # type: ignore[no-untyped-def]
    import mujoco
    import myo_sim

    root = Path(myo_sim.__file__).parent / "models"
    leg = root / "leg" / "assets"
    xml = (f'<mujoco model="myoleg"><compiler meshdir="{root}"/><include file="{leg}/myolegs_assets.xml"/>'
           f'<worldbody><include file="{leg}/myolegs_chain.xml"/></worldbody>'
           f'<include file="{leg}/myolegs_tendon.xml"/><include file="{leg}/myolegs_muscle.xml"/></mujoco>')
    return mujoco.MjModel.from_xml_string(xml)


def mujoco_rate(n: int, repeats: int, threads: int) -> tuple[float, int]:
    """Poses per second of MyoLeg tendon lengths + Jacobian, and the tendon count."""
    import mujoco

    m = myoleg()
    rng = np.random.default_rng(1)
    qs = np.tile(m.qpos0, (n, 1))
    for j in range(m.njnt):
        if m.jnt_type[j] in (mujoco.mjtJoint.mjJNT_HINGE, mujoco.mjtJoint.mjJNT_SLIDE) and m.jnt_limited[j]:
            a = m.jnt_qposadr[j]
            qs[:, a] = rng.uniform(m.jnt_range[j, 0], m.jnt_range[j, 1], n)
    datas = [mujoco.MjData(m) for _ in range(threads)]
    out = np.zeros((n, m.ntendon))

    def work(k: int) -> None:
        d = datas[k]
        for i in range(k, n, threads):
            d.qpos[:] = qs[i]
            mujoco.mj_kinematics(m, d)
            mujoco.mj_comPos(m, d)
            mujoco.mj_tendon(m, d)
            out[i] = d.ten_length

    def run() -> None:
        if threads == 1:
            work(0)
            return
        ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()

    run()
    return n / _median(run, repeats), int(m.ntendon)


def ours_rate(model, q: np.ndarray, repeats: int, threads: int, muscles=None) -> float:  # type: ignore[no-untyped-def]
    from iliopsoas.mechanics import lengths_and_moment_arms

    os.environ["ILIOPSOAS_THREADS"] = str(threads)
    lengths_and_moment_arms(model, q[:300], HIP, muscles=muscles)
    return q.shape[0] / _median(lambda: lengths_and_moment_arms(model, q, HIP, muscles=muscles), repeats)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--poses", type=int, default=10000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    try:
        import mujoco  # noqa: F401
        import myo_sim  # noqa: F401
    except ImportError:
        sys.exit("needs the benchmark extra (mujoco, myo-sim): pip install -c constraints.txt -e '.[benchmark]'")
    from iliopsoas.mechanics import load_osim, with_wrapping
    from iliopsoas.paths import shared_dir

    root = shared_dir()
    if root is None:
        sys.exit("../shared is absent (set ILIOPSOAS_SHARED)")
    print(f"load average before: {_load_avg()} (other jobs may share the 2 cores)")
    model = load_osim(root / "models" / "opensim-models" / "Rajagopal2016.osim")
    q = _our_poses(model, args.poses, np.random.default_rng(0))
    smooth = with_wrapping(model, "smooth")
    for threads in (1, 2):
        mj, nt = mujoco_rate(args.poses, args.repeats, threads)
        print(f"{threads} thread(s): MuJoCo {mj * nt / 1e6:.2f} M tendon-poses/s ({mj:,.0f} poses/s, lengths + full "
              f"tendon Jacobian)")
        for mode, m in (("OpenSim", model), ("smooth", smooth)):
            ours = ours_rate(m, q, args.repeats, threads)
            print(f"  ours ({mode} mode) {ours * len(m.muscles) / 1e6:.2f} M tendon-poses/s ({ours:,.0f} poses/s, "
                  f"lengths + 6 hip moment arms); ratio to MuJoCo {ours * len(m.muscles) / (mj * nt):.2f}x")
    # cost per muscle and pose by kind of path, one thread
    groups: dict[str, list[int]] = {"no wrap": [], "one cylinder": [], "two cylinders": []}
    for i, mu in enumerate(model.muscles):
        key = {0: "no wrap", 1: "one cylinder"}.get(len(mu.wraps), "two cylinders")
        groups[key].append(i)
    print("cost per muscle and pose, one thread (lengths + 6 hip moment arms), OpenSim mode / smooth mode:")
    for key, ids in groups.items():
        rate = ours_rate(model, q, args.repeats, 1, muscles=ids)
        rate_s = ours_rate(smooth, q, args.repeats, 1, muscles=ids)
        print(f"  {key:14s} {len(ids):3d} muscles: {1e9 / rate / len(ids):8.0f} / {1e9 / rate_s / len(ids):8.0f} ns")
    arm = load_osim(root / "models" / "opensim-models" / "arm26.osim")
    qa = _our_poses(arm, min(args.poses, 2000), np.random.default_rng(2))
    from iliopsoas.mechanics import lengths_and_moment_arms

    os.environ["ILIOPSOAS_THREADS"] = "1"
    ell = [i for i, mu in enumerate(arm.muscles) if mu.wraps]
    t = _median(lambda: lengths_and_moment_arms(arm, qa, None, muscles=ell), max(1, args.repeats // 2))
    arm_s = with_wrapping(arm, "smooth")
    lengths_and_moment_arms(arm_s, qa[:50], None, muscles=ell)
    t_s = _median(lambda: lengths_and_moment_arms(arm_s, qa, None, muscles=ell), max(1, args.repeats // 2))
    print(f"  {'ellipsoid':14s} {len(ell):3d} muscles: {1e9 * t / qa.shape[0] / len(ell):8.0f} / "
          f"{1e9 * t_s / qa.shape[0] / len(ell):8.0f} ns (arm26; both modes compiled; the OpenSim-mode cylinder refinement of these muscles runs in NumPy)")
    print(f"load average after: {_load_avg()}")


if __name__ == "__main__":
    main()
