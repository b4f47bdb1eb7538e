"""Figures of ``iliopsoas validate --plot DIR``: the model beside the published numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from iliopsoas.posture.plots import _pyplot, _save


def moment_arms_figure(path: Path) -> Path:
    """Psoas fascicles and iliacus flexion moment arms inside Blemker & Delp's bands; Arnold's subjects."""
    from iliopsoas.models import analyses as an
    from iliopsoas.models import literature as lit

    plt = _pyplot()
    flex = np.arange(-10.0, 96.0, 5.0)
    hip = an.hip_moment_arms("r", flex)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, muscle, group in ((axes[0], "psoas", "psoas_major"), (axes[1], "iliacus", "iliacus")):
        lo, hi = lit.blemker_band(muscle, "flexion", flex)
        ax.fill_between(flex, lo, hi, color="0.85", label="Blemker & Delp 2005 fibre band")
        for name, arms in hip["fascicles"].items():
            if name.startswith(group):
                ax.plot(flex, arms["flexion"], color="C0", lw=0.8, alpha=0.7)
        ax.plot(flex, hip["groups"][f"{group}_r"]["flexion"], color="C0", lw=2, label="model (fascicles, mean)")
        if muscle == "psoas":
            arn = lit.arnold_2000_psoas_flexion(flex)
            for s in range(3):
                ax.plot(flex, arn[:, s], "k--", lw=0.8, label="Arnold et al. 2000" if s == 0 else None)
        ax.set_title(f"{muscle}: hip-flexion moment arm")
        ax.set_xlabel("hip flexion (deg)")
        ax.set_ylabel("moment arm (mm)")
        ax.legend(fontsize=7)
    return _save(fig, path, dpi=110)


def passive_figure(path: Path) -> Path:
    """Summed passive hip and knee moments of the model against Riener & Edrich 1999 and Silder 2007."""
    from iliopsoas.models import literature as lit
    from iliopsoas.posture.passive import riener_edrich_hip_moment, riener_edrich_knee_moment
    from iliopsoas.posture.validation import passive_moments

    plt = _pyplot()
    s = lit.silder_2007_passive_moments()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    hips = np.arange(-15.0, 81.0, 5.0)
    for i, knee in enumerate((15.0, 60.0, 90.0)):
        mh, _ = passive_moments(hips, np.full(hips.size, knee))
        c = f"C{i}"
        axes[0].plot(hips, mh, color=c, lw=2, label=f"model, knee {knee:g}")
        axes[0].plot(hips, riener_edrich_hip_moment(hips, knee), color=c, ls="--", lw=1)
        sel = (s["moment"] == "hip_flexion") & (s["knee"] == knee) & (s["ankle"] == 0)
        axes[0].plot(s["hip"][sel], s["value"][sel], color=c, ls=":", lw=1)
    axes[0].set_title("passive hip moment (-- Riener & Edrich, : Silder)")
    axes[0].set_xlabel("hip flexion (deg)")
    axes[0].set_ylabel("N m (+ flexing)")
    axes[0].legend(fontsize=7)
    knees = np.arange(0.0, 111.0, 5.0)
    for i, hip in enumerate((0.0, 45.0)):
        _, mk = passive_moments(np.full(knees.size, hip), knees)
        c = f"C{i}"
        axes[1].plot(knees, mk, color=c, lw=2, label=f"model, hip {hip:g}")
        axes[1].plot(knees, riener_edrich_knee_moment(hip, knees), color=c, ls="--", lw=1)
        sel = (s["moment"] == "knee_flexion") & (s["hip"] == hip) & (s["ankle"] == 0)
        axes[1].plot(s["knee"][sel], s["value"][sel], color=c, ls=":", lw=1)
    axes[1].set_title("passive knee moment (-- Riener & Edrich, : Silder)")
    axes[1].set_xlabel("knee flexion (deg)")
    axes[1].set_ylabel("N m (+ flexing)")
    axes[1].legend(fontsize=7)
    return _save(fig, path, dpi=110)


def strength_figure(path: Path) -> Path:
    """The model's largest isometric hip-flexion moment against hip angle (Ito et al. 2024: rises to 105 deg)."""
    from iliopsoas.posture.validation import strength_curve

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for knee in (0.0, 90.0):
        sc = strength_curve(knee)
        ax.plot(sc["flexion_deg"], sc["moment_nm"], "o-", label=f"model, knee {knee:g} deg")
    ax.set_xlabel("hip flexion (deg)")
    ax.set_ylabel("isometric hip-flexion moment (N m)")
    ax.set_title("Ito et al. 2024: lowest at 0 deg, highest at 105 deg", fontsize=8)
    ax.legend(fontsize=7)
    return _save(fig, path, dpi=110)


def lumbar_figure(path: Path) -> Path:
    """Right psoas flexion-extension moment per level at full activation, erect, with the 10 N m bound."""
    from iliopsoas.models import analyses as an

    plt = _pyplot()
    lum = an.lumbar("r")["postures"]["erect"]["levels"]
    levels = list(lum)
    vals = [lum[lv]["extension_moment_Nm"] for lv in levels]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.barh(levels, vals, color="C0")
    ax.axvspan(-10, 10, color="0.9", zorder=0, label="very small (Bogduk 1992): |M| <= 10 N m")
    ax.set_xlabel("extension moment (N m), full activation, erect")
    ax.invert_yaxis()
    ax.legend(fontsize=7)
    return _save(fig, path, dpi=110)


def write_all(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [moment_arms_figure(folder / "validation_moment_arms.png"),
            passive_figure(folder / "validation_passive_moments.png"),
            lumbar_figure(folder / "validation_lumbar.png"),
            strength_figure(folder / "validation_strength.png")]
