"""PNG figures of the lumbopelvic analyses (matplotlib, Agg backend; nothing is shown on screen).

Each function takes the dictionary returned by the matching function of
:mod:`iliopsoas.models.analyses` and writes one PNG to ``path``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: str | Path) -> Path:
    p = Path(path)
    if p.suffix.lower() != ".png":
        raise ValueError(f"plot path must end in .png, got {str(path)!r}")
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(p, dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return p


def plot_crossings(result: dict[str, Any], path: str | Path, side: str = "r") -> Path:
    """Muscles (fascicles of one side) × joints, coloured by the largest moment arm (mm)."""
    plt = _pyplot()
    joints = [j for j in ("T12_L1", "L1_L2", "L2_L3", "L3_L4", "L4_L5", "L5_S1",
                          f"sacroiliac_{side}", f"hip_{side}", f"walker_knee_{side}")]
    names = [n for n in result["max_moment_arm_mm"] if n.endswith(f"_{side}")]
    grid = np.array([[result["max_moment_arm_mm"][n].get(j, 0.0) for j in joints] for n in names])
    fig, ax = plt.subplots(figsize=(7.5, 0.18 * len(names) + 1.5))
    im = ax.imshow(np.where(grid > 0, grid, np.nan), aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(joints)), joints, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(names)), names, fontsize=6)
    ax.set_title(f"Joints crossed (max |moment arm| ≥ {result['threshold_mm']:g} mm)", fontsize=9)
    fig.colorbar(im, ax=ax, label="largest moment arm (mm)")
    return _save(fig, path)


def plot_hip_moment_arms(result: dict[str, Any], path: str | Path, published: dict[str, Any] | None = None) -> Path:
    """Flexion, adduction and rotation moment arms versus hip flexion, with published values."""
    plt = _pyplot()
    flex = result["flexion_deg"]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), layout="constrained")
    labels = {"flexion": "flexion (+)", "adduction": "adduction (+)", "rotation": "internal rotation (+)"}
    for ax, axis in zip(axes, ("flexion", "adduction", "rotation"), strict=True):
        for group, arms in result["groups"].items():
            ax.plot(flex, arms[axis], lw=2, label=group)
        if published:
            ax.plot(published["flexion_deg"], published[axis], "k--", lw=1, label="Dostal & Andrews 1981 (derived)")
        if axis == "flexion":
            lo, hi = result["published"]["blemker_delp_2005_psoas_peak_flexion_mm"]
            ax.axhspan(lo, hi, color="grey", alpha=0.2, label="Blemker & Delp 2005 psoas peak")
        ax.axhline(0, color="k", lw=0.5)
        ax.set_xlabel("hip flexion (deg)")
        ax.set_ylabel(f"{labels[axis]} moment arm (mm)")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"Hip moment arms, side {result['side']} (force-weighted over fascicles)", fontsize=10)
    return _save(fig, path)


def plot_lumbar(result: dict[str, Any], path: str | Path) -> Path:
    """Per-level psoas extension moment, compression and anterior shear in three postures."""
    plt = _pyplot()
    postures = list(result["postures"])
    levels = list(next(iter(result["postures"].values()))["levels"])
    keys = [("extension_moment_Nm", "extension moment (N m, + extends)"),
            ("compression_N", "compression (N)"), ("anterior_shear_N", "anterior shear (N)")]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), layout="constrained")
    x = np.arange(len(levels))
    width = 0.8 / len(postures)
    for ax, (key, label) in zip(axes, keys, strict=True):
        for i, p in enumerate(postures):
            vals = [result["postures"][p]["levels"][lv][key] for lv in levels]
            ax.bar(x + (i - (len(postures) - 1) / 2) * width, vals, width, label=p)
        ax.axhline(0, color="k", lw=0.5)
        ax.set_xticks(x, levels, rotation=45, fontsize=8)
        ax.set_ylabel(label)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"Psoas major (side {result['side']}) at full activation, per lumbar level", fontsize=10)
    return _save(fig, path)
