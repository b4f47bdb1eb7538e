"""Model verdicts on the atlas claims: what the lumbopelvic analyses say, with the number.

Each verdict is ``{"verdict": "supports|contradicts|depends|not_testable", "value", "unit",
"analysis", "note"}`` (the atlas :class:`~iliopsoas.knowledge.schema.ModelVerdict`). Verdicts
and notes are derived from the computed numbers by the rules below; nothing is typed in by hand.
Claim ids come from ``shared/reference/seed-claims.md``. :func:`write` regenerates
``knowledge/data/model_verdicts/lumbopelvic.json``, which ``iliopsoas atlas claims`` shows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from iliopsoas.models import analyses as an

Verdict = dict[str, Any]


def _v(verdict: str, value: float | None, unit: str | None, analysis: str, note: str) -> Verdict:
    return {"verdict": verdict, "value": None if value is None else round(float(value), 2), "unit": unit,
            "analysis": analysis, "note": note}


def _angles(values: list[float]) -> str:
    return ", ".join(f"{v:g}" for v in values)


# ------------------------------------------------------------------------------------ crossings


def crossing_verdicts(cx: dict[str, Any]) -> dict[str, Verdict]:
    """C000-11 (iliacus: 2 joints), C000-12 (psoas: 3 joints), C001-09 (only psoas bridges)."""
    g = cx["groups"]
    out: dict[str, Verdict] = {}
    il = g["iliacus_r"]
    il_si = [n for n in an._groups()["iliacus_r"] if "sacroiliac_r" in cx["muscles"][n]]
    si_arm = max((cx["max_moment_arm_mm"][n]["sacroiliac_r"] for n in il_si), default=0.0)
    out["C000-11"] = _v(
        "supports" if il == ["sacroiliac_r", "hip_r"] else "contradicts", len(il), "joints", "model crossings",
        f"iliacus crosses {', '.join(il)}; only the sacral-ala fascicle(s) ({', '.join(il_si) or 'none'}) span the "
        f"sacroiliac joint (max moment arm {si_arm:.0f} mm); the iliac-fossa fascicles cross the hip only",
    )
    ps = g["psoas_major_r"]
    lumbar_crossed = [j for j in ps if j in an.LUMBAR_LEVELS]
    regions = int(bool(lumbar_crossed)) + int("sacroiliac_r" in ps) + int("hip_r" in ps)
    out["C000-12"] = _v(
        "supports" if regions == 3 else "contradicts", regions, "joint regions", "model crossings",
        f"psoas major crosses {len(ps)} joints: {', '.join(ps)} - the lumbar spine ({len(lumbar_crossed)} levels), "
        "the sacroiliac joint and the hip, i.e. three regions but more than three joints",
    )
    right = {k: js for k, js in g.items() if k.endswith("_r") and "hip_r" in js}
    spine_hip = sorted(k for k, js in right.items() if any(j in an.LUMBAR_LEVELS for j in js))
    sacrum_hip = sorted(k for k, js in right.items() if "sacroiliac_r" in js and k not in spine_hip)
    out["C001-09"] = _v(
        "depends", len(spine_hip), "muscles", "model crossings",
        f"only {', '.join(spine_hip)} spans lumbar levels and the hip, but {', '.join(sacrum_hip)} also run from the "
        "axial skeleton (sacrum) across the sacroiliac joint to the femur",
    )
    return out


# ------------------------------------------------------------------------------------------ hip


def _rotation_verdict(hip: dict[str, Any], key: str, who: str, i0: int) -> Verdict:
    flex = np.array(hip["flexion_deg"])
    rot = np.array(hip["groups"][key]["rotation"])
    ext = flex[rot < 0]
    if ext.size == 0:
        verdict, note = "contradicts", f"{who} has an internal-rotation moment arm at every flexion angle"
    elif ext.size == flex.size:
        verdict, note = "supports", f"{who} flexes and externally rotates at every angle tested"
    else:
        verdict = "depends"
        span = f"at {ext.min():.0f} deg" if ext.min() == ext.max() else f"from {ext.min():.0f} to {ext.max():.0f} deg"
        note = (f"{who} flexes the hip at every angle from {flex.min():g} to {flex.max():g} deg; its rotation moment "
                f"arm is internal in the anatomical position and external only {span} of flexion (sign change at "
                f"{_angles(hip['rotation_sign_changes_deg'][key])} deg)")
    return _v(verdict, rot[i0], "mm (rotation arm at 0 deg, + internal)", "model hip-moment-arms", note)


def hip_verdicts(hip: dict[str, Any]) -> dict[str, Verdict]:
    """C000-23, C000-46, C000-29, C003-19, C000-33, C001-31 from the hip moment arms."""
    out: dict[str, Verdict] = {}
    pm, ilg = hip["groups"]["psoas_major_r"], hip["groups"]["iliacus_r"]
    flex = list(hip["flexion_deg"])
    i0 = flex.index(0.0)
    peak = hip["peak_flexion"]
    out["C000-23"] = _v(
        "supports" if min(pm["flexion"]) > 0 and min(ilg["flexion"]) > 0 else "contradicts",
        peak["psoas_major_r"]["moment_arm_mm"], "mm", "model hip-moment-arms",
        f"both have positive hip-flexion moment arms over {flex[0]:g}..{flex[-1]:g} deg (psoas peak "
        f"{peak['psoas_major_r']['moment_arm_mm']} mm, iliacus peak {peak['iliacus_r']['moment_arm_mm']} mm)",
    )
    out["C000-46"] = _rotation_verdict(hip, "psoas_major_r", "psoas major", i0)
    out["C000-29"] = _rotation_verdict(hip, "iliacus_r", "iliacus", i0)
    rot_il = np.array(ilg["rotation"])
    mixed = (rot_il < 0).any() and (rot_il > 0).any()
    out["C003-19"] = _v(
        "depends" if mixed else ("supports" if (rot_il < 0).all() else "contradicts"),
        rot_il[i0], "mm (rotation arm at 0 deg, + internal)", "model hip-moment-arms",
        "a shortened iliacus pulls toward the rotation its moment arm gives: internal in the anatomical position, "
        f"external only beyond {_angles(hip['rotation_sign_changes_deg']['iliacus_r'])} deg of hip flexion; "
        "tightness itself is not modelled",
    )
    out["C000-33"] = _v(
        "supports" if ilg["flexion"][i0] > 0 else "contradicts", ilg["flexion"][i0], "mm", "model hip-moment-arms",
        "a positive hip-flexion moment arm means that with the femur fixed the iliacus tilts the pelvis anteriorly",
    )
    length = hip["length_mm"]["psoas_major_r"]
    change = length[flex.index(90.0)] - length[i0]
    out["C001-31"] = _v(
        "supports" if change < 0 else "contradicts", change, "mm", "model hip-moment-arms",
        "change of the (force-weighted) psoas major length from 0 to 90 deg hip flexion",
    )
    return out


def antagonist_verdicts(flexion_deg: list[float]) -> dict[str, Verdict]:
    """C000-50 (gluteus maximus), C000-53 (hamstrings), C000-54 (piriformis)."""
    out: dict[str, Verdict] = {}
    i0 = list(flexion_deg).index(0.0)
    span = f"{flexion_deg[0]:g} to {flexion_deg[-1]:g} deg"
    gmax = an.group_moment_arm("gluteus_maximus_r", "hip_flexion_r", flexion_deg)
    out["C000-50"] = _v(
        "supports" if gmax[i0] < 0 else "contradicts", gmax[i0], "mm (hip flexion arm at 0 deg)", "model hip-moment-arms",
        f"gluteus maximus has an extension (negative flexion) moment arm of {-gmax[i0]:.0f} mm in the anatomical "
        f"position (force-weighted over its three parts; "
        f"{f'extensor at every angle from {span}' if (gmax < 0).all() else 'not an extensor at every angle'})",
    )
    hams = {g: an.group_moment_arm(g, "hip_flexion_r", flexion_deg)
            for g in ("biceps_femoris_long_head_r", "semitendinosus_r", "semimembranosus_r")}
    out["C000-53"] = _v(
        "supports" if all(v[i0] < 0 for v in hams.values()) else "contradicts",
        float(np.mean([v[i0] for v in hams.values()])), "mm (mean hip flexion arm at 0 deg)", "model hip-moment-arms",
        "hamstring hip flexion moment arms at 0 deg: " + ", ".join(f"{g} {v[i0]:.0f} mm" for g, v in hams.items())
        + " (negative = extension, opposing the iliopsoas)",
    )
    pf = an.group_moment_arm("piriformis_r", "hip_flexion_r", flexion_deg)
    pr = an.group_moment_arm("piriformis_r", "hip_rotation_r", flexion_deg)
    if (pf < 0).all():
        verdict = "supports"
        how = (f"an extensor at every angle from {span} ({pf[i0]:.1f} mm at 0 deg, "
               f"{100 * pf[i0] / gmax[i0]:.0f} % of gluteus maximus)")
    else:
        verdict = "depends"
        how = (f"an extensor only at some angles (flexion arm {pf[i0]:.1f} mm at 0 deg, sign changes at "
               f"{_angles(an._zero_crossings(np.asarray(flexion_deg, dtype=float), pf))} deg)")
    out["C000-54"] = _v(
        verdict, pf[i0], "mm (hip flexion arm at 0 deg)", "model hip-moment-arms",
        f"piriformis is {how}; its largest action is external rotation (rotation arm {pr[i0]:.1f} mm at 0 deg, "
        "negative = external), which opposes the internal-rotation arm of the iliacus",
    )
    return out


def hip_flexor_verdicts() -> dict[str, Verdict]:
    """C001-16 (psoas the strongest hip flexor), C000-66 (the named synergists flex the hip)."""
    out: dict[str, Verdict] = {}
    res = an.hip_flexion_moments("r", [0.0, 45.0, 90.0])
    mom, angles = res["moments_Nm"], res["flexion_deg"]
    best = [max(mom.items(), key=lambda kv: kv[1][i])[0] for i in range(len(angles))]
    psoas_best = [a for a, b in zip(angles, best, strict=True) if b == "psoas_major_r"]
    detail = "; ".join(
        f"{a:g} deg: psoas major {mom['psoas_major_r'][i]:.0f}, iliacus {mom['iliacus_r'][i]:.0f}, "
        f"rectus femoris {mom['rectus_femoris_r'][i]:.0f} N m" for i, a in enumerate(angles)
    )
    out["C001-16"] = _v(
        "supports" if len(psoas_best) == len(angles) else ("contradicts" if not psoas_best else "depends"),
        mom["psoas_major_r"][0], "N m (psoas major hip-flexion moment at 0 deg, full activation)",
        "model hip-flexion-moments",
        "strongest flexor by angle (knee straight): "
        + ", ".join(f"{a:g} deg {b}" for a, b in zip(angles, best, strict=True))
        + f" ({detail}); forces from the Rajagopal/Christophy parameters with force-length",
    )
    syn = an.hip_flexion_moments("r", [0.0, 30.0, 60.0, 90.0])
    synergists = ("pectineus_r", "sartorius_r", "rectus_femoris_r", "tensor_fasciae_latae_r", "gluteus_medius_anterior_r")
    flexing = {g: [a for a, m in zip(syn["flexion_deg"], syn["moments_Nm"][g], strict=True) if m > 0.5]
               for g in synergists}
    some = [g for g in synergists if flexing[g]]
    partial = [f"{g} only at {_angles(flexing[g])} deg" for g in some if len(flexing[g]) < len(syn["flexion_deg"])]
    lead = (f"all {len(some)} can flex the hip, but {'; '.join(partial)} (knee straight; muscles that also cross the "
            "knee lose force when short). " if partial else "")
    out["C000-66"] = _v(
        "supports" if len(some) == len(synergists) and not partial else "depends", len(some),
        "of the 5 named synergists flex the hip at some angle", "model hip-flexion-moments",
        lead + "Hip-flexion moment at full activation, knee straight, at 0/30/60/90 deg: "
        + "; ".join(f"{g} {', '.join(f'{m:.0f}' for m in syn['moments_Nm'][g])} N m" for g in synergists)
        + " (negative = extension)",
    )
    return out


# --------------------------------------------------------------------------------------- lumbar


def side_bending_verdict() -> Verdict:
    """C003-57: bending the spine away from a psoas lengthens it."""
    from iliopsoas.mechanics import complete_coordinates, muscle_lengths

    model = an._model(True, True)
    k = model.coordinate_index("L5_S1_lat_bending")
    q = np.zeros((2, len(model.coordinates)))
    q[1, k] = model.coordinates[k].range[0]
    q = complete_coordinates(model, q)
    names = an._groups()["psoas_major_r"]
    dl = muscle_lengths(model, q, muscles=names)
    fmax = an._fmax()
    w = np.array([fmax[n] for n in names])
    d_len = float(((dl[1] - dl[0]) @ w) / w.sum() * 1000)
    return _v(
        "supports" if d_len > 0 else "contradicts", d_len, "mm", "model lengths",
        "lengthening of the right psoas major when the lumbar spine bends fully to the left (Christophy rhythm)",
    )


def psoas_minor_verdict(cx: dict[str, Any], lum: dict[str, Any]) -> Verdict:
    """C001-52: the psoas minor plays a minor role in spinal flexion."""
    fmax = an._fmax()
    arms = cx["max_moment_arm_mm"]["psoas_minor_r"]
    pmin = max(arms.get(lv, 0.0) for lv in an.LUMBAR_LEVELS) / 1000 * fmax["psoas_minor_r"]
    pmaj = max(abs(v["extension_moment_Nm"]) for p in lum["postures"].values() for v in p["levels"].values())
    return _v(
        "supports" if pmin < 0.2 * pmaj else "depends", pmin, "N m (largest lumbar moment, upper bound)",
        "model crossings",
        f"with its small belly (Fmax {fmax['psoas_minor_r']:.0f} N, our estimate from dissection widths) the psoas "
        f"minor's largest lumbar moment is at most {pmin:.1f} N m against {pmaj:.1f} N m for the psoas major; it "
        "crosses the lumbar levels and the sacroiliac joint but not the hip",
    )


def _describe_posture(lum: dict[str, Any], posture: str) -> str:
    lv = {k: v["extension_moment_Nm"] for k, v in lum["postures"][posture]["levels"].items() if v["compression_N"] > 0}
    ext = [k for k, v in lv.items() if v > 0]
    fl = [k for k, v in lv.items() if v < 0]
    parts = []
    if ext:
        parts.append(f"extends {', '.join(ext)} (up to {max(lv[k] for k in ext):.1f} N m)")
    if fl:
        parts.append(f"flexes {', '.join(fl)} (down to {min(lv[k] for k in fl):.1f} N m)")
    return f"in the {posture} posture it " + " and ".join(parts)


def lumbar_verdicts(lum: dict[str, Any]) -> dict[str, Verdict]:
    """C002-17, C000-43, C002-14, C000-41, C001-19: the psoas paradox as numbers."""
    out: dict[str, Verdict] = {}
    postures = lum["postures"].values()
    erect = lum["postures"]["erect"]["levels"]
    upper = [erect[lv]["extension_moment_Nm"] for lv in ("L1_L2", "L2_L3")]
    lower = [erect[lv]["extension_moment_Nm"] for lv in ("L4_L5", "L5_S1")]
    comp = max(v["compression_N"] for v in erect.values())
    big_m = max(abs(v["extension_moment_Nm"]) for p in postures for v in p["levels"].values())
    lever = max(abs(v["extension_moment_Nm"]) / max(v["compression_N"], 1e-9) * 1000 for v in erect.values())
    pattern = all(u > 0 for u in upper) and all(x < 0 for x in lower)
    out["C002-17"] = _v(
        "supports" if max(upper) > 0 else "contradicts", max(upper), "N m", "model lumbar",
        f"at full activation, erect: extension moments {', '.join(f'{u:.1f}' for u in upper)} N m at L1/L2, L2/L3 and "
        f"{', '.join(f'{v:.1f}' for v in lower)} N m at L4/L5, L5/S1, against up to {comp:.0f} N of compression "
        f"(effective lever at most {lever:.0f} mm){'; the Bogduk 1992 pattern' if pattern else ''}",
    )
    es_cap = max(v for p in postures for v in p["erector_spinae_extension_moment_Nm"].values())
    ps_ext = max(v["extension_moment_Nm"] for p in postures for v in p["levels"].values())
    ratio = ps_ext / es_cap
    out["C000-43"] = _v(
        "contradicts" if ratio < 0.25 else "depends", ratio * 100, "% of the erector spinae extension moment",
        "model lumbar",
        f"the psoas's largest extension moment (any level, any posture) is {ps_ext:.1f} N m, {100 * ratio:.0f} % of the "
        f"largest moment of the same-side lumbar erector spinae pars lumborum alone ({es_cap:.1f} N m; the thoracic "
        f"parts are not in the model, so this is an upper bound); at L4/L5 and L5/S1 the psoas flexes (erect: "
        f"{erect['L4_L5']['extension_moment_Nm']:.1f} and {erect['L5_S1']['extension_moment_Nm']:.1f} N m) while "
        f"compressing the discs by up to {comp:.0f} N",
    )
    lat = [erect[lv]["lateral_bending_moment_Nm"] for lv in an.LUMBAR_LEVELS if erect[lv]["compression_N"] > 0]
    out["C002-14"] = _v(
        "supports" if lat and min(lat) > 0 else "depends", max(lat) if lat else None, "N m",
        "model lumbar", "right psoas at full activation bends each lumbar level it crosses towards the right (erect)",
    )
    ax = max(abs(erect[lv]["axial_moment_Nm"]) for lv in an.LUMBAR_LEVELS)
    latmax = max(abs(v) for v in lat) if lat else 0.0
    out["C000-41"] = _v(
        "supports" if ax > 0.1 * latmax else "depends", ax, "N m (largest axial moment, erect)", "model lumbar",
        f"at full activation (erect) the psoas produces side-bending moments up to {latmax:.1f} N m, "
        f"flexion-extension moments up to {big_m:.1f} N m and axial moments up to {ax:.1f} N m "
        f"({100 * ax / max(latmax, 1e-9):.0f} % of the side-bending moment), so it can act in all these directions; "
        "whether it 'mainly stabilises' is not a question of moment arms",
    )
    out["C001-19"] = _v(
        "depends", max(erect[lv]["extension_moment_Nm"] for lv in an.LUMBAR_LEVELS),
        "N m (largest extension moment, erect)", "model lumbar",
        "At full activation, " + "; ".join(_describe_posture(lum, p) for p in lum["postures"])
        + ". Its moments depend on level and posture and do not add up to holding the curve; a lordosing role "
        "would have to come from its compression and stiffness, which a moment analysis cannot decide",
    )
    return out


# ------------------------------------------------------------------------------------- all of it


def model_verdicts() -> dict[str, Verdict]:
    """Every model verdict, keyed by claim id."""
    cx = an.crossings()
    hip = an.hip_moment_arms("r")
    lum = an.lumbar("r")
    out: dict[str, Verdict] = {}
    out |= crossing_verdicts(cx)
    out |= hip_verdicts(hip)
    out |= antagonist_verdicts(hip["flexion_deg"])
    out |= hip_flexor_verdicts()
    out["C001-52"] = psoas_minor_verdict(cx, lum)
    out["C003-57"] = side_bending_verdict()
    out |= lumbar_verdicts(lum)
    return out


def write(path: str | Path) -> dict[str, Verdict]:
    """Compute :func:`model_verdicts` and write them as JSON to ``path``."""
    v = model_verdicts()
    Path(path).write_text(json.dumps(v, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return v
