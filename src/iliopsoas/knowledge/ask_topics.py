"""Topics for the question answerer: symptoms, posture and self-care questions.

Each :class:`Topic` selects atlas statements by predicate and a pattern over the statement's
words, seed-ledger claims by a pattern over their paraphrase, and named conflicts (``K1`` …).
The lead and closing lines are framing written by us; the substance of every answer comes from
the records they select.
"""

from __future__ import annotations

from dataclasses import dataclass

from iliopsoas.knowledge.ask_text import FAMILY


@dataclass(frozen=True)
class Topic:
    name: str
    lead: str
    entities: tuple[str, ...] = FAMILY
    predicates: tuple[str, ...] = ()
    fact_pattern: str = ""
    claim_pattern: str = ""
    conflicts: tuple[str, ...] = ()
    closing: str = ""
    needs_family: bool = False
    claims_name_family: bool = True  # keep only claims that name the muscle asked about, when any do


_ROTATORS = ("piriformis", "obturator-internus", "deep-lateral-rotators-of-hip", "gluteus-maximus")
_CLINICIAN_IF_PERSISTS = (
    "If it keeps happening, hurts, or limits you, a clinician (doctor or physiotherapist) can "
    "examine you; this answer describes anatomy and evidence, not your body."
)
# Safety framing for pressure techniques follows the contraindications gathered in the shared
# clinical conventions (clinical.md §2.4: aortic aneurysm, pregnancy, recent abdominal surgery,
# hernia, blood thinners, acute abdominal illness; femoral nerve and vessels in the groin fold).
_PRESSURE_SAFETY = (
    "Deep pressure into the belly or groin is not safe for everyone (for example in pregnancy, "
    "after abdominal surgery, with a hernia or aneurysm, or on blood thinners): if you feel a pulse "
    "under your fingers or tool, or sharp, shooting or tingling pain into the thigh, stop."
)

TOPICS: dict[str, Topic] = {
    "why_turn_out": Topic(
        "why_turn_out",
        "Why a leg turns out (rotates outward) is not settled by the sources. What they record about "
        "the iliopsoas and the other rotators of the hip:",
        entities=(*FAMILY, *_ROTATORS),
        predicates=("action", "property", "function"),
        fact_pattern=r"rotat|turn",
        claim_pattern=r"rotat|turns? out|turn outward|foot turns",
        conflicts=("K9",),
        closing=_CLINICIAN_IF_PERSISTS,
    ),
    "why_arch": Topic(
        "why_arch",
        "What the sources say about the hip flexors, pelvic tilt and the arch (lordosis) of the lower back:",
        predicates=("action", "function", "property", "associated_condition"),
        fact_pattern=r"lordos|arch|lumbar (spine )?(extension|flexion)|extension of the lumbar|pelvi\w* tilt|anterior tilt|paradox|tilts the pelvis",
        claim_pattern=r"\barch|lordos|lumbar curve|pelvic tilt|anterior tilt",
        conflicts=("K5", "K10"),
        closing=_CLINICIAN_IF_PERSISTS,
    ),
    "why_hip_out": Topic(
        "why_hip_out",
        "\u201cMy hip goes out\u201d or \u201cmy pelvis is rotated\u201d is not a defined diagnosis in the "
        "sources. What they record about how the hip flexors move the pelvis:",
        predicates=("action", "function", "property"),
        fact_pattern=r"pelvi|tilt",
        claim_pattern=r"pelvi\w* (forward|rotat|tilt|into)|anterior (pelvic )?tilt|twisted pelvis|rotates the pelvi|pelvis forward",
        conflicts=("K10",),
        closing=_CLINICIAN_IF_PERSISTS,
    ),
    "why_pillow": Topic(
        "why_pillow",
        "What the sources say about needing a pillow under the knees when lying down:",
        predicates=("associated_condition", "property", "function"),
        fact_pattern=r"pillow|thomas|contracture",
        claim_pattern=r"pillow|lying down|tight when lying",
        closing=_CLINICIAN_IF_PERSISTS,
    ),
    "why_tight": Topic(
        "why_tight",
        "What the sources say about why hip flexors feel tight:",
        predicates=("associated_condition", "property", "function", "intervention", "action"),
        fact_pattern=r"sitting|sedentary|sit\b|inactivity",
        claim_pattern=r"sitting|\bsit\b|causes of tight|tight hip flexors",
        closing=_CLINICIAN_IF_PERSISTS,
    ),
    "pain": Topic(
        "pain",
        "What the sources say about pain from the iliopsoas (this describes possibilities, it is not a diagnosis):",
        entities=(*FAMILY, "iliopsoas-bursa", "iliopsoas-tendon"),
        predicates=("associated_condition",),
        claim_pattern=r"\bpain|hurt|injur|mimic|labral|impingement|arthritis",
        closing="For pain that persists, is severe, or makes walking hard, see a clinician.",
    ),
    "stretch": Topic(
        "stretch",
        "How the sources describe stretching the hip flexors:",
        predicates=("intervention",),
        fact_pattern=r"stretch|lunge|kneeling|thomas|edge of",
        claim_pattern=r"stretch|lunge",
        conflicts=("K7",),
        closing="Stop if the stretch is felt anywhere other than the front of the hip and thigh, or if pain increases.",
        needs_family=True,
    ),
    "strengthen": Topic(
        "strengthen",
        "How the sources describe strengthening the hip flexors:",
        predicates=("intervention",),
        fact_pattern=r"strength|raise|march|repetition|\breps?\b|\bsets?\b|band|resist",
        claim_pattern=r"strength|straight.leg|marching|repetition|reps\b|banded|hold 3",
        closing="Stop if pain increases.",
        needs_family=True,
    ),
    "release": Topic(
        "release",
        "What the sources say about pressure \u201crelease\u201d and massage of the psoas and iliacus:",
        entities=(*FAMILY, "iliac-fossa"),
        predicates=("intervention", "property", "located_in", "adjacent_to"),
        fact_pattern=r"release|pressure|massage|compression|roller|trigger|deep|retroperitoneal|behind|navel|reach|palpat",
        claim_pattern=r"release|pressure|massage|roller|hip hook|\btool|navel|reach|rubb|ball",
        conflicts=("K7",),
        closing=_PRESSURE_SAFETY,
        needs_family=True,
    ),
    "why_pressure": Topic(
        "why_pressure",
        "Why sustained pressure is said to help, and what the evidence says:",
        predicates=("intervention",),
        fact_pattern=r"pressure|compression|receptor|trigger",
        claim_pattern=r"receptor|alarm|pressure relax|relax\w* (first )?(through|with) pressure",
        conflicts=("K7",),
        closing=_PRESSURE_SAFETY,
        needs_family=True,
        claims_name_family=False,
    ),
    "what_to_do": Topic(
        "what_to_do",
        "What the sources offer for tight hip flexors:",
        predicates=("intervention", "associated_condition"),
        fact_pattern=r"stretch|strength|sitting|break|move|rest|lunge",
        claim_pattern=r"stretch|strength|sitting|rest a few days|physical therap",
        conflicts=("K7",),
        closing=_CLINICIAN_IF_PERSISTS,
        needs_family=True,
    ),
    "which_muscle": Topic(
        "which_muscle",
        "Can you tell whether the psoas or the iliacus is the problem? What the sources record:",
        predicates=(),
        claim_pattern=r"arch.*psoas|psoas.*arch|tilt.*iliacus|iliacus.*tilt|work on both|independent|own release",
        conflicts=("K10",),
        closing="Symptoms are not a validated way to single out one muscle; a clinician's examination is the way to check.",
    ),
    "breathing": Topic(
        "breathing",
        "What the sources say about the psoas, the diaphragm and breathing:",
        entities=(*FAMILY, "diaphragm", "medial-arcuate-ligament"),
        predicates=("fascial_connection", "adjacent_to", "function", "property", "part_of"),
        fact_pattern=r"diaphragm|arcuate|breath|psoas|fascia",
        claim_pattern=r"breath|diaphragm",
        conflicts=("K11",),
    ),
}
