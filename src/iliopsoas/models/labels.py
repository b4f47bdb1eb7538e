"""Anatomical labels for model names: ``hip_flexion_r`` -> "Hip flexion (right)",
``psoas_major_L3_TP_r`` -> "Psoas major, L3 transverse-process fascicle (right)".

The labels are for people; the names stay the OpenSim ids (every API keeps them). Names we do not
know are turned into words (underscores to spaces, a trailing ``_r``/``_l`` to "(right)"/"(left)"),
so any ``.osim`` still gets readable labels.

>>> coordinate_label("hip_flexion_r")
'Hip flexion (right)'
>>> muscle_label("psoas_major_L3_L4_IVD_l")
'Psoas major, L3/L4 disc fascicle (left)'
>>> muscle_label("iliacus_sacral_r")
'Iliacus, sacral-ala fascicle (right)'
"""

from __future__ import annotations

import re

SIDES = {"r": "right", "l": "left"}

#: coordinate stem (side removed) -> label, with the sign of the OpenSim coordinate where it helps
COORDINATES = {
    "pelvis_tilt": "Pelvis tilt in space (+ = backward)",
    "pelvis_list": "Pelvis list in space",
    "pelvis_rotation": "Pelvis rotation in space",
    "pelvis_tx": "Pelvis forward position",
    "pelvis_ty": "Pelvis height",
    "pelvis_tz": "Pelvis sideways position",
    "sacroiliac_nutation": "Sacroiliac nutation",
    "L5_S1_flex_ext": "Lumbar extension (+) / flexion (-), L5/S1 driving L1-L5",
    "L5_S1_lat_bending": "Lumbar side bending, L5/S1",
    "L5_S1_axial_rotation": "Lumbar rotation, L5/S1",
    "lumbar_extension": "Lumbar extension",
    "lumbar_bending": "Lumbar side bending",
    "lumbar_rotation": "Lumbar rotation",
    "hip_flexion": "Hip flexion",
    "hip_adduction": "Hip adduction",
    "hip_rotation": "Hip internal rotation",
    "knee_angle": "Knee flexion",
    "ankle_angle": "Ankle dorsiflexion",
    "subtalar_angle": "Subtalar inversion",
    "mtp_angle": "Toe extension",
}

#: muscle (fascicle or group) stem -> label
MUSCLES = {
    "psoas_major": "Psoas major",
    "psoas_minor": "Psoas minor",
    "psoas": "Psoas",
    "iliacus": "Iliacus",
    "iliopsoas": "Iliopsoas",
    "iliacus_upper": "Iliacus, upper (iliac-crest) fascicle",
    "iliacus_lower": "Iliacus, lower (iliac-fossa) fascicle",
    "iliacus_sacral": "Iliacus, sacral-ala fascicle",
    "gluteus_maximus": "Gluteus maximus",
    "glmax1": "Gluteus maximus, upper part",
    "glmax2": "Gluteus maximus, middle part",
    "glmax3": "Gluteus maximus, lower part",
    "biceps_femoris_long_head": "Biceps femoris, long head",
    "bflh": "Biceps femoris, long head",
    "bfsh": "Biceps femoris, short head",
    "semitendinosus": "Semitendinosus",
    "semiten": "Semitendinosus",
    "semimembranosus": "Semimembranosus",
    "semimem": "Semimembranosus",
    "piriformis": "Piriformis",
    "piri": "Piriformis",
    "sartorius": "Sartorius",
    "sart": "Sartorius",
    "rectus_femoris": "Rectus femoris",
    "recfem": "Rectus femoris",
    "tensor_fasciae_latae": "Tensor fasciae latae",
    "tfl": "Tensor fasciae latae",
    "gluteus_medius_anterior": "Gluteus medius, anterior part",
    "glmed1": "Gluteus medius, anterior part",
    "glmed2": "Gluteus medius, middle part",
    "glmed3": "Gluteus medius, posterior part",
    "glmin1": "Gluteus minimus, anterior part",
    "glmin2": "Gluteus minimus, middle part",
    "glmin3": "Gluteus minimus, posterior part",
    "pectineus": "Pectineus",
    "pect": "Pectineus",
    "obturator_internus": "Obturator internus with the gemelli",
    "obtint": "Obturator internus with the gemelli",
    "adductor_longus": "Adductor longus",
    "addlong": "Adductor longus",
    "adductor_brevis": "Adductor brevis",
    "addbrev": "Adductor brevis",
    "adductor_magnus": "Adductor magnus",
    "addmagProx": "Adductor magnus, proximal part",
    "addmagMid": "Adductor magnus, middle part",
    "addmagDist": "Adductor magnus, distal part",
    "addmagIsch": "Adductor magnus, ischiocondylar part",
    "gracilis": "Gracilis",
    "grac": "Gracilis",
    "quadratus_femoris": "Quadratus femoris",
    "quadfem": "Quadratus femoris",
    "quadratus_lumborum": "Quadratus lumborum",
    "erector_spinae": "Erector spinae (lumbar)",
    "vasmed": "Vastus medialis",
    "vasint": "Vastus intermedius",
    "vaslat": "Vastus lateralis",
    "gasmed": "Gastrocnemius, medial head",
    "gaslat": "Gastrocnemius, lateral head",
    "soleus": "Soleus",
    "tibant": "Tibialis anterior",
    "tibpost": "Tibialis posterior",
}

_SIDE = re.compile(r"^(?P<stem>.+?)_(?P<side>[rl])$")
_PSOAS = re.compile(r"^psoas_major_(?P<a>L\d|T12)_(?:(?P<b>L\d|S1)_IVD|(?P<kind>VB|TP))$")
_QL = re.compile(r"^QL_(?P<layer>post|mid|ant)_(?P<rest>.+)$")
_ES = re.compile(r"^(?P<m>IL|LTpL)_(?P<level>[LT]\d+)$")
_PLACES = {"VB": "vertebral-body", "TP": "transverse-process"}
_QL_LAYERS = {"post": "posterior", "mid": "middle", "ant": "anterior"}


def split_side(name: str) -> tuple[str, str | None]:
    """``("hip_flexion", "right")`` from ``"hip_flexion_r"``; ``(name, None)`` without a side."""
    m = _SIDE.match(name)
    if m is None:
        return name, None
    return m["stem"], SIDES[m["side"]]


def _with_side(text: str, side: str | None) -> str:
    return f"{text} ({side})" if side else text


def _words(stem: str) -> str:
    text = stem.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


_LEVEL = re.compile(r"^(?P<a>L\d|T12)_(?P<b>L\d|S1)_(?P<dof>flex_ext|lat_bending|axial_rotation)$")
_DOFS = {"flex_ext": "Lumbar extension", "lat_bending": "Lumbar side bending", "axial_rotation": "Lumbar rotation"}


def coordinate_label(name: str) -> str:
    """A readable label for a coordinate name (any model)."""
    stem, side = split_side(name)
    if stem in COORDINATES:
        return _with_side(COORDINATES[stem], side)
    m = _LEVEL.match(stem)
    if m:
        return f"{_DOFS[m['dof']]}, {m['a']}/{m['b']}"
    if stem.endswith("_beta"):
        return _with_side(_words(stem[:-5]) + " (coupled)", side)
    return _with_side(_words(stem), side)


BODIES = {"femur": "Femur", "tibia": "Tibia", "patella": "Patella", "innominate": "Hip bone", "pelvis": "Pelvis",
          "sacrum": "Sacrum", "torso": "Trunk (T12 and above)", "calcn": "Heel bone", "talus": "Talus", "toes": "Toes"}
_LUMBAR = re.compile(r"^lumbar(?P<n>\d)$")


def body_label(name: str) -> str:
    """A readable label for a body name (any model): ``lumbar3`` -> "L3 vertebra", ``femur_r`` -> "Femur (right)"."""
    stem, side = split_side(name)
    m = _LUMBAR.match(stem)
    if m:
        return f"L{m['n']} vertebra"
    return _with_side(BODIES.get(stem) or _words(stem), side)


def muscle_label(name: str) -> str:
    """A readable label for a muscle, a fascicle or a muscle group name (any model)."""
    stem, side = split_side(name)
    if stem in MUSCLES:
        return _with_side(MUSCLES[stem], side)
    m = _PSOAS.match(stem)
    if m:
        where = f"{m['a']}/{m['b']} disc" if m["b"] else f"{m['a']} {_PLACES[m['kind']]}"
        return _with_side(f"Psoas major, {where} fascicle", side)
    m = _QL.match(stem)
    if m:
        parts = m["rest"].split("_")
        origin = "ilium" if parts[0] == "I" else parts[0]
        ends = [p for p in parts[1:] if re.fullmatch(r"[LT]\d+", p)] + ["12th rib" for p in parts[1:] if p == "12"]
        span = f"{origin} to {ends[0]}" if ends else m["rest"].replace("_", " ")
        return _with_side(f"Quadratus lumborum, {_QL_LAYERS[m['layer']]} fascicle, {span}", side)
    m = _ES.match(stem)
    if m:
        muscle = "Iliocostalis lumborum" if m["m"] == "IL" else "Longissimus thoracis pars lumborum"
        return _with_side(f"{muscle}, {m['level']} fascicle", side)
    return _with_side(_words(stem), side)
