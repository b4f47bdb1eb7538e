"""Figures for the simulate command: a sagittal stick figure and dose-response curves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def _pyplot() -> Any:
    """``matplotlib.pyplot`` on the non-interactive Agg backend (imported on first use: slow)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: str | Path, dpi: int) -> Path:
    """Lay out, write and close ``fig``; return the path written."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=dpi)
    plt.close(fig)
    return out


def pose_figure(result: Any, path: str | Path) -> Path:
    """Sagittal view (ground x, y) of the joint centres of the solved pose."""
    import numpy as np

    from iliopsoas.mechanics import body_transforms
    from iliopsoas.posture.scenarios import _model

    plt = _pyplot()
    model = _model(True)
    q = np.zeros(len(model.coordinates))
    for k, v in result.pose_deg.items():
        name = k[:-4] if k.endswith("_deg") else k[:-2]
        if name in model.coordinate_names:
            q[model.coordinate_index(name)] = np.radians(v) if k.endswith("_deg") else v
    Rm, p = body_transforms(model, q[None, :])
    fig, ax = plt.subplots(figsize=(6, 4))
    for j in model.joints:
        if j.parent == 0:
            continue
        a = Rm[0, j.parent] @ j.parent_translation + p[0, j.parent]
        b = p[0, j.child]
        ax.plot([a[0], b[0]], [a[1], b[1]], "-", color="0.4")
        ax.plot(a[0], a[1], "o", color="C0", ms=3)
    ax.set_aspect("equal")
    ax.set_title(f"{result.scenario}: " + ", ".join(f"{k}={v:.1f}" for k, v in result.angles.items() if v is not None))
    ax.title.set_fontsize(7)
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    return _save(fig, path, dpi=120)


def _series(values: list[float | None]) -> np.ndarray:
    """A sweep's angle list as floats; points that did not solve (None) become gaps (NaN)."""
    return np.array(values, dtype=float)


def sweep_figure(sweep: dict[str, Any], path: str | Path) -> Path:
    """Each angle of a sweep against the shortening (%)."""
    plt = _pyplot()
    x = [100 * s for s in sweep["shortening"]]
    names = list(sweep["angles"])
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3), squeeze=False)
    for ax, n in zip(axes[0], names, strict=True):
        ax.plot(x, _series(sweep["angles"][n]), "-")
        ax.set_xlabel(f"{sweep['muscle']} shortening (% of optimal fibre)")
        ax.set_title(n, fontsize=8)
        ax.xaxis.label.set_fontsize(7)
    fig.suptitle(f"{sweep['scenario']}, {sweep['side']} side", fontsize=9)
    return _save(fig, path, dpi=120)


#: (scenario, angle, title) panels of the documentation figure
DOSE_PANELS = (
    ("standing", "pelvic_tilt_deg", "standing: pelvic tilt (ASIS-PSIS, + anterior)"),
    ("standing", "lumbar_lordosis_deg", "standing: lumbar angle (L1-L5 axes)"),
    ("supine", "lumbar_lordosis_deg", "supine: lumbar angle"),
    ("supine", "hip_rotation_deg", "supine: hip rotation (+ external)"),
    ("thomas", "thomas_hip_deg", "Thomas: thigh to horizontal"),
    ("thomas", "thomas_knee_deg", "Thomas: knee flexion"),
)


def dose_response_figure(path: str | Path, *, steps: int = 16, top: float = 0.3) -> Path:
    """Psoas vs iliacus shortening (0 to ``top``) in the documented scenarios and angles."""
    from iliopsoas.posture.sweep import sweep

    plt = _pyplot()
    cache = {(sc, mu): sweep(sc, mu, 0.0, top, steps) for sc in {p[0] for p in DOSE_PANELS}
             for mu in ("psoas", "iliacus")}
    fig, axes = plt.subplots(2, 3, figsize=(11, 6))
    for ax, (sc, angle, title) in zip(axes.ravel(), DOSE_PANELS, strict=True):
        for mu, style in (("psoas", "-"), ("iliacus", "--")):
            out = cache[(sc, mu)]
            x = [100 * s for s in out["shortening"]]
            ax.plot(x, _series(out["angles"].get(angle, [None] * len(x))), style, label=mu)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("shortening (% of optimal fibre length)", fontsize=8)
        ax.set_ylabel("deg", fontsize=8)
        ax.legend(fontsize=7)
    return _save(fig, path, dpi=110)


def knee_support_figure(path: str | Path) -> Path:
    """Lumbar angle vs height of a support under the knees, for a few tightness values."""
    from iliopsoas.posture.scenarios import knee_support_height
    from iliopsoas.posture.tightness import Tightness

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for label, tight in (("untightened", {}), ("iliacus 20 %", {"iliacus": Tightness(0.2)}),
                         ("psoas 20 %", {"psoas": Tightness(0.2)}), ("iliopsoas 30 %", {"iliopsoas": Tightness(0.3)})):
        ks = knee_support_height(tight)
        ax.plot([100 * h for h in ks["heights_m"]], ks["lumbar_lordosis_deg"], "o-", ms=3, label=label)
    ax.set_xlabel("support under the knees (cm)")
    ax.set_ylabel("lumbar angle (deg)")
    ax.set_title("supine: a support under the knees lowers the lumbar angle", fontsize=9)
    ax.legend(fontsize=7)
    return _save(fig, path, dpi=110)


def rotation_abduction_figure(path: str | Path, *, steps: int = 13, top: float = 0.3) -> Path:
    """Left: moments about the supine hip-rotation axis; right: Thomas abduction vs shortening."""
    from iliopsoas.posture.scenarios import supine_rotation_balance
    from iliopsoas.posture.sweep import sweep
    from iliopsoas.posture.tightness import Tightness

    plt = _pyplot()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8))
    for label, tight, style in (("untightened", {}, "-"), ("psoas 20 %", {"psoas": Tightness(0.2)}, "--"),
                                ("iliacus 20 %", {"iliacus": Tightness(0.2)}, ":")):
        bal = supine_rotation_balance(tight)
        a1.plot(bal["external_rotation_deg"], bal["moment_out_nm"]["total"], style, label=f"total, {label}")
        if not tight:
            a1.plot(bal["external_rotation_deg"], bal["moment_out_nm"]["gravity"], "-", color="grey",
                    label="gravity (foot and leg)")
    a1.axhline(0.0, color="k", lw=0.5)
    a1.set_xlabel("hip rotation, + = outward (deg)")
    a1.set_ylabel("moment turning the leg out (N m)")
    a1.set_title("supine: balance about the hip-rotation axis (right leg)", fontsize=9)
    a1.legend(fontsize=7)
    for mu, style in (("tfl", "-"), ("iliacus", "--"), ("psoas", ":"), ("rectus_femoris", "-.")):
        out = sweep("thomas", mu, 0.0, top, steps)
        x = [100 * s for s in out["shortening"]]
        a2.plot(x, _series(out["angles"].get("thomas_abduction_deg", [None] * len(x))), style, label=mu)
    a2.set_xlabel("shortening (% of optimal fibre length)")
    a2.set_ylabel("abduction of the hanging thigh (deg)")
    a2.set_title("modified Thomas test: abduction", fontsize=9)
    a2.legend(fontsize=7)
    return _save(fig, path, dpi=110)
