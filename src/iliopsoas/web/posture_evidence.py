"""Population figures shown beside the posture model's predictions (Posture page).

Each figure comes from a published study, cited on its row (the collected numbers are in
shared/reference/pelvic_tilt_lordosis_norms.csv and thomas_test_norms.csv). ``angle`` names the
model output it may be set against; ``comparable`` says how far the two measure the same thing.
"""

from __future__ import annotations

from typing import Any

POPULATION: tuple[dict[str, Any], ...] = (
    {"angle": "pelvic_tilt_deg", "scenario": "standing", "measure": "ASIS-PSIS angle from bone shape alone",
     "value": 13.0, "spread": "SD 5, range 0-23", "unit": "deg", "population": "30 cadaver pelves",
     "source": "Preece et al. 2008, J Man Manip Ther 16(2):113-117",
     "comparable": "same landmarks (ASIS-PSIS line against the horizontal), but measured on dry pelves set with "
                   "the anterior pelvic plane vertical: bone shape, not posture. The model takes this mean, "
                   "{pelvis_shape_deg:.1f} deg, as its bone shape; its standing value minus that is the part that "
                   "is posture (solved)"},
    {"angle": "pelvic_tilt_deg", "scenario": "standing", "measure": "share of people standing in anterior tilt",
     "value": 85.0, "spread": "women 75 %", "unit": "% of men", "population": "120 healthy adults (PALM meter)",
     "source": "Herrington 2011, Man Ther",
     "comparable": "a forward-tipped pelvis is the usual standing posture, not a sign of tightness"},
    {"angle": "lumbar_lordosis_deg", "scenario": "standing", "measure": "lumbar lordosis (radiograph)",
     "value": 46.5, "spread": "pelvic incidence 51.7 +- 11 (33-85) deg", "unit": "deg",
     "population": "100 healthy young adults", "source": "Vaz et al. 2002, Eur Spine J 11(1):80-87",
     "comparable": "the model measures the angle between its T12-L2 and L4-S1 joint-centre lines, a different "
                   "construction: compare changes, not absolute values"},
    {"angle": "lumbar_lordosis_deg", "scenario": "standing", "measure": "hip-extension range vs lordosis and tilt",
     "value": -0.09, "spread": "r with tilt -0.04", "unit": "r", "population": "25 healthy adults",
     "source": "Heino, Godges & Carter 1990, JOSPT 12(6):243-247",
     "comparable": "no relation found between hip-flexor length and standing lordosis or pelvic tilt"},
    {"angle": "lumbar_lordosis_deg", "scenario": "standing", "measure": "iliopsoas length vs lordosis",
     "value": None, "spread": "weak tendency only", "unit": "", "population": "60 men",
     "source": "Jorgensson 1993, Aust J Physiother 39:125-132",
     "comparable": "lordosis slightly larger when iliopsoas was shorter; no correlation with lumbar extension"},
    {"angle": "thomas_hip_deg", "scenario": "thomas", "measure": "modified Thomas test thigh angle (mean)",
     "value": -11.9, "spread": "SD not reported", "unit": "deg", "population": "117 elite athletes",
     "source": "Harvey 1998, Br J Sports Med 32(1):68-70",
     "comparable": "same test; above 0 deg (thigh above horizontal) is the usual cut-off for short one-joint "
                   "hip flexors (Winters et al. 2004, Phys Ther 84(9):800-807)"},
    {"angle": "thomas_knee_deg", "scenario": "thomas", "measure": "modified Thomas test knee angle (mean)",
     "value": 52.5, "spread": "SD not reported", "unit": "deg", "population": "117 elite athletes",
     "source": "Harvey 1998, Br J Sports Med 32(1):68-70",
     "comparable": "same test; below 67 deg points to a short rectus femoris (BMC Sports Sci Med Rehabil 2021, "
                   "s13102-021-00242-y, Table 4)"},
)

#: Words that mark a seed claim as being about posture (shown with the ledger's and the model's verdicts).
CLAIM_PATTERN = r"\btilt|lordos|\barch|posture|\bsway|pelvis forward|tips? (the pelvis )?forward"


def population_rows(pelvis_shape_deg: float) -> list[dict[str, Any]]:
    """:data:`POPULATION` with the model's pelvis-shape angle written into the texts that cite it
    (:data:`iliopsoas.posture.scenarios.PELVIS_SHAPE_DEG`)."""
    return [{k: v.format(pelvis_shape_deg=pelvis_shape_deg) if isinstance(v, str) and "{pelvis_shape_deg" in v else v
             for k, v in row.items()} for row in POPULATION]
