"""Smooth wrapping mode (issue 17 items 1 and 3): the 10^6-pose continuity sweep and the figures.

Sweep: hip flexion from -30 to 120 degrees in 0.01 degree steps (15,001 poses) on 81 lines of
(adduction -50..30, rotation -40..40, 10 degree grid): 1.22 million poses per muscle, for psoas,
iliacus and gluteus maximus (1-3) of Rajagopal2016 and the bundled lumbopelvic model (its psoas
fascicles, iliacus parts and gluteus maximus), in both wrapping modes. Moment arms about the three
hip coordinates (compiled kernels, every thread). Printed per muscle and mode: the largest change
between neighbouring poses, over all pairs and over "well-posed" pairs (no via point of the path
within 1 mm of, or inside, its wrap cylinder), and the lines where a well-posed pair changes by
more than 0.05 mm (with the flexion angle).

``--figures DIR`` writes psoas and iliacus figures (moment arm against hip flexion in both modes,
with the derivative of OpenSim's own length) as ``DIR/smooth_psoas.png``, ``DIR/smooth_iliacus.png``.

    .venv/bin/python benchmarks/bench_mechanics_smooth.py [--quick] [--figures docs/img]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

HIP = ["hip_flexion_r", "hip_adduction_r", "hip_rotation_r"]
CITATION = ("Model: Rajagopal et al. 2016, IEEE TBME 63:2068 (opensim-models Rajagopal2016.osim). OpenSim mode: this "
            "engine, = OpenSim 4.6 to 4e-14 m on its oracle.\nSmooth mode: exact shortest path. Jumps: via point "
            "crossing the wrap cylinder (cf. opensim-core issue 3741).")


def _load_avg() -> str:
    return " ".join(open("/proc/loadavg").read().split()[:3])


def clearance(model, q: np.ndarray, name: str) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Smallest distance (m) of the muscle's points outside its wrap cylinders (negative inside)."""
    from iliopsoas.mechanics import body_transforms

    mu = model.muscles[model.muscle_index(name)]
    R, p = body_transforms(model, q)
    out = np.full(q.shape[0], np.inf)
    for pw in mu.wraps:
        w = model.wrap_objects[pw.wrap_object]
        for pt in mu.points:
            g = np.einsum("nij,j->ni", R[:, pt.body], pt.location) + p[:, pt.body]
            e = (np.einsum("nji,nj->ni", R[:, w.body], g - p[:, w.body]) - w.translation) @ w.rotation
            out = np.minimum(out, np.hypot(e[:, 0], e[:, 1]) - w.radius)
    return out


def sweep(model, names: list[str], step_deg: float, grid: int) -> dict[str, dict[str, object]]:  # type: ignore[no-untyped-def]
    from iliopsoas.mechanics import moment_arms

    hf, ha, hr = (model.coordinate_index(c) for c in HIP)
    th = np.deg2rad(np.arange(-30.0, 120.0 + 1e-9, step_deg))
    out = {n: {"all": 0.0, "posed": 0.0, "lines": [], "pairs": 0, "excluded": 0} for n in names}
    for add in range(-50, 31, grid):
        for rot in range(-40, 41, grid):
            q = np.tile(model.coordinate_defaults, (th.size, 1))
            q[:, hf], q[:, ha], q[:, hr] = th, np.deg2rad(add), np.deg2rad(rot)
            r = moment_arms(model, q, HIP, muscles=names)
            jump = np.abs(np.diff(r, axis=0)).max(axis=2) * 1000  # mm
            for k, n in enumerate(names):
                d = clearance(model, q, n)
                posed = (d[:-1] > 1e-3) & (d[1:] > 1e-3)
                o = out[n]
                o["pairs"] += jump.shape[0]  # type: ignore[operator]
                o["excluded"] += int((~posed).sum())  # type: ignore[operator]
                o["all"] = max(o["all"], float(jump[:, k].max()))  # type: ignore[call-overload]
                jp = np.where(posed, jump[:, k], 0.0)
                o["posed"] = max(o["posed"], float(jp.max()))  # type: ignore[call-overload]
                if jp.max() > 0.05:
                    i = int(jp.argmax())
                    o["lines"].append((add, rot, round(float(np.rad2deg(th[i])), 2), round(float(jp[i]), 2)))  # type: ignore[attr-defined]
    return out


def figures(model, directory: str) -> None:  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from iliopsoas.mechanics import moment_arms, muscle_lengths, with_wrapping

    opensim = with_wrapping(model, "opensim")
    smooth = with_wrapping(model, "smooth")
    hf, ha, hr = (model.coordinate_index(c) for c in HIP)
    # (muscle, posture with an OpenSim jump, where it is, posture where OpenSim's adduction moment
    # arm departs most from the derivative of its length) from the sweeps
    cases = [("psoas_r", 30, 0, -28.70, (30, -30)), ("iliacus_r", 30, -40, -25.70, (-40, -30))]
    for name, add, rot, at, (a3, r3) in cases:
        fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
        for ax, (lo, hi, step, coord, a, r_) in zip(axes, (
                (-30, 120, 0.05, 0, add, rot), (at - 0.3, at + 0.3, 0.0005, 0, add, rot), (-30, 60, 0.05, 1, a3, r3)),
                strict=True):
            th = np.deg2rad(np.arange(lo, hi + 1e-9, step))
            q = np.tile(model.coordinate_defaults, (th.size, 1))
            q[:, hf], q[:, ha], q[:, hr] = th, np.deg2rad(a), np.deg2rad(r_)
            ro = moment_arms(opensim, q, [HIP[coord]], muscles=[name])[:, 0, 0] * 1000
            rs = moment_arms(smooth, q, [HIP[coord]], muscles=[name])[:, 0, 0] * 1000
            h = 1e-6
            idx = model.coordinate_index(HIP[coord])
            qp, qm = q.copy(), q.copy()
            qp[:, idx] += h
            qm[:, idx] -= h
            dL = -(muscle_lengths(opensim, qp, [name]) - muscle_lengths(opensim, qm, [name]))[:, 0] / (2 * h) * 1000
            dL[np.abs(dL - rs) > 100.0] = np.nan  # a difference across OpenSim's jump in length
            x = np.rad2deg(th)
            ax.plot(x, ro, color="tab:red", lw=1.6, label="OpenSim mode (= OpenSim 4.6)")
            ax.plot(x, dL, color="0.35", lw=1.0, ls="--", label="$-dL/dq$ of OpenSim's length")
            ax.plot(x, rs, color="tab:blue", lw=1.6, label="smooth mode ($= -dL/dq$)")
            ax.set_xlabel("hip flexion (deg)")
            what = ("flexion" if coord == 0 else "adduction") + " moment arm (mm)"
            ax.set_ylabel(what)
            ax.set_title(f"adduction {a}°, rotation {r_}°" + ("  (zoom on the jump)" if step < 0.01 else ""),
                         fontsize=10)
            ax.grid(alpha=0.3)
        axes[0].legend(fontsize=8, loc="best")
        fig.suptitle(f"{name}: hip moment arm in the two wrapping modes", fontsize=12)
        fig.text(0.01, -0.04, CITATION, fontsize=7.5, ha="left", va="top")
        fig.tight_layout()
        path = f"{directory}/smooth_{name.split('_')[0]}.png"
        fig.savefig(path, dpi=100, bbox_inches="tight")
        plt.close(fig)
        print("wrote", path)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="0.1 degree steps on a 20 degree grid (a smoke run)")
    ap.add_argument("--figures", metavar="DIR", help="write the psoas and iliacus figures there")
    ap.add_argument("--no-sweep", action="store_true")
    args = ap.parse_args()
    from iliopsoas import models
    from iliopsoas.mechanics import load_osim, with_wrapping
    from iliopsoas.paths import shared_dir

    root = shared_dir()
    if root is None:
        sys.exit("../shared is absent (set ILIOPSOAS_SHARED)")
    raj = load_osim(root / "models" / "opensim-models" / "Rajagopal2016.osim")
    if args.figures:
        figures(raj, args.figures)
    if args.no_sweep:
        return
    step, grid = (0.1, 20) if args.quick else (0.01, 10)
    bundled = models.load("lumbopelvic")
    b_names = [n for n in bundled.muscle_names if n.endswith("_r") and
               (n.startswith("psoas_major") or n.startswith("iliacus") or n.startswith("glmax"))]
    print(f"load average before: {_load_avg()} (other jobs may share the 2 cores)")
    for label, model, names in (("Rajagopal2016", raj, ["psoas_r", "iliacus_r", "glmax1_r", "glmax2_r", "glmax3_r"]),
                                ("lumbopelvic (bundled)", bundled, b_names)):
        for mode in ("opensim", "smooth"):
            m = with_wrapping(model, mode)
            t = time.perf_counter()
            res = sweep(m, names, step, grid)
            dt = time.perf_counter() - t
            poses = next(iter(res.values()))["pairs"]
            print(f"{label}, {mode} mode: {poses + len(range(-50, 31, grid)) * len(range(-40, 41, grid)):,} poses per "
                  f"muscle, {dt:.0f} s")
            for n, o in res.items():
                lines = o["lines"]
                print(f"  {n:26s} largest neighbour change {o['all']:8.3f} mm; well-posed pairs {o['posed']:8.3f} mm "
                      f"(excluded {100 * o['excluded'] / o['pairs']:.1f}%); lines over 0.05 mm: {len(lines)}"  # type: ignore[arg-type, operator]
                      + (f" {sorted(lines)[:6]}" if lines else ""))  # type: ignore[call-overload]
    print(f"load average after: {_load_avg()}")


if __name__ == "__main__":
    main()
