"""Where an atlas structure is in our model: muscle groups, bones and joints to highlight in the 3-D view.

The atlas and the model name things differently (``hip-bone`` / ``innominate_r``); this table links
them. A muscle whose atlas id matches a model group (``rectus-femoris`` -> ``rectus_femoris``) needs
no entry. Structures the model does not have (nerves, vessels, organs...) are simply not found.
"""

from __future__ import annotations

from typing import Any

_INNOMINATE = ("innominate_r", "innominate_l")
_LUMBAR = ("lumbar1", "lumbar2", "lumbar3", "lumbar4", "lumbar5")

#: atlas id -> (model group stems, bodies, joints)
WHERE: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "iliopsoas": (("psoas_major", "iliacus"), (), ()),
    "psoas": (("psoas_major", "psoas_minor"), (), ()),
    "gluteus-medius": (("gluteus_medius_anterior",), (), ()),
    "gluteal-muscle-group": (("gluteus_maximus", "gluteus_medius_anterior"), (), ()),
    "hamstring-muscle-group": (("biceps_femoris_long_head", "semitendinosus", "semimembranosus"), (), ()),
    "biceps-femoris": (("biceps_femoris_long_head",), (), ()),
    "deep-lateral-rotators-of-hip": (("piriformis", "obturator_internus", "quadratus_femoris"), (), ()),
    "low-back-muscles": (("erector_spinae", "quadratus_lumborum"), (), ()),
    "quadriceps-femoris": (("rectus_femoris",), (), ()),
    "femur": ((), ("femur_r", "femur_l"), ()),
    "lesser-trochanter": ((), ("femur_r", "femur_l"), ()),
    "greater-trochanter": ((), ("femur_r", "femur_l"), ()),
    "head-of-femur": ((), ("femur_r", "femur_l"), ()),
    "hip-bone": ((), _INNOMINATE, ()),
    "ilium": ((), _INNOMINATE, ()),
    "iliac-crest": ((), _INNOMINATE, ()),
    "iliac-fossa": ((), _INNOMINATE, ()),
    "anterior-superior-iliac-spine": ((), _INNOMINATE, ()),
    "anterior-inferior-iliac-spine": ((), _INNOMINATE, ()),
    "posterior-superior-iliac-spine": ((), _INNOMINATE, ()),
    "pubis": ((), _INNOMINATE, ()),
    "pecten-pubis": ((), _INNOMINATE, ()),
    "iliopubic-eminence": ((), _INNOMINATE, ()),
    "ischium": ((), _INNOMINATE, ()),
    "ischial-tuberosity": ((), _INNOMINATE, ()),
    "acetabulum": ((), _INNOMINATE, ("hip_r", "hip_l")),
    "sacrum": ((), ("sacrum",), ()),
    "ala-of-sacrum": ((), ("sacrum",), ()),
    "vertebral-column": ((), (*_LUMBAR, "sacrum", "torso"), ()),
    "lumbar-vertebra": ((), _LUMBAR, ()),
    "vertebral-body": ((), _LUMBAR, ()),
    "transverse-process": ((), _LUMBAR, ()),
    "first-lumbar-vertebra": ((), ("lumbar1",), ()),
    "second-lumbar-vertebra": ((), ("lumbar2",), ()),
    "third-lumbar-vertebra": ((), ("lumbar3",), ()),
    "fourth-lumbar-vertebra": ((), ("lumbar4",), ()),
    "fifth-lumbar-vertebra": ((), ("lumbar5",), ()),
    "twelfth-thoracic-vertebra": ((), ("torso",), ("T12_L1",)),
    "thoracic-vertebra": ((), ("torso",), ()),
    "tibia": ((), ("tibia_r", "tibia_l"), ()),
    "patella": ((), ("patella_r", "patella_l"), ()),
    "hip-joint": ((), (), ("hip_r", "hip_l")),
    "sacroiliac-joint": ((), (), ("sacroiliac_r", "sacroiliac_l")),
    "lumbar-intervertebral-joints": ((), (), ("L5_S1", "L4_L5", "L3_L4", "L2_L3", "L1_L2", "T12_L1")),
    "knee-joint": ((), (), ("walker_knee_r", "walker_knee_l")),
}


def where(entity_id: str, view: Any) -> dict[str, list[str]]:
    """Model groups, bodies and joints of ``view`` that show ``entity_id`` (lists may be empty)."""
    stems, bodies, joints = WHERE.get(entity_id, ((entity_id.replace("-", "_"),), (), ()))
    groups = [f"{s}_{side}" for s in stems for side in ("r", "l") if f"{s}_{side}" in view.groups]
    model = view.model
    return {"groups": groups, "bodies": [b for b in bodies if b in model.body_names],
            "joints": [j for j in joints if j in model.joint_names]}


def scene(entity_id: str, view: Any) -> dict[str, Any]:
    """The model at its neutral pose with ``entity_id`` marked: meshes, segments, the structure's
    muscle paths and joint centres (ground, m), and which bodies to highlight."""
    import numpy as np

    from iliopsoas.mechanics import body_transforms
    from iliopsoas.web.scene import joint_centres, muscle_paths, pose_vector, posed_meshes, skeleton

    found = where(entity_id, view)
    q = pose_vector(view, {})
    R, p = body_transforms(view.model, q[None, :])
    centres = joint_centres(view.model, R[0], p[0])
    joints = {j: np.round(centres[view.model.joint_names.index(j)], 5).tolist() for j in found["joints"]}
    in_model = bool(found["groups"] or found["bodies"] or found["joints"])
    return {"entity": entity_id, "in_model": in_model, **found, "joint_points": joints,
            "meshes": posed_meshes(view, q), "segments": skeleton(view, q)["segments"],
            "muscles": muscle_paths(view, q, found["groups"])}
