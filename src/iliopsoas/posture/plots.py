"""Figures for the simulate command: a sagittal stick figure and dose-response curves."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def pose_figure(result: Any, path: str | Path) -> Path:
    """Sagittal view (ground x, y) of the joint centres of the solved pose."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from iliopsoas.mechanics import body_transforms
    from iliopsoas.posture.scenarios import _model

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
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def sweep_figure(sweep: dict[str, Any], path: str | Path) -> Path:
    """Each angle of a sweep against the shortening (%)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = [100 * s for s in sweep["shortening"]]
    names = list(sweep["angles"])
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3), squeeze=False)
    for ax, n in zip(axes[0], names, strict=True):
        ax.plot(x, sweep["angles"][n], "-")
        ax.set_xlabel(f"{sweep['muscle']} shortening (% of optimal fibre)")
        ax.set_title(n, fontsize=8)
        ax.xaxis.label.set_fontsize(7)
    fig.suptitle(f"{sweep['scenario']}, {sweep['side']} side", fontsize=9)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
