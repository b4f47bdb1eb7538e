"""Every FAQ question of the four seed articles is answered with its key facts.

The questions are read at test time from ``reference/anatomy-facts.md`` §3 (the tables and the
"Other question headings" paragraph). ``KEY_TERMS`` below is our reading of each question's "key
facts" column: the terms an evidence-based answer must contain. Each entry is a list of any-of
groups; every group needs one of its terms in the answer (case-insensitive, dashes folded).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from iliopsoas.knowledge.ask import ask

FLEXION = ["hip flexion", "flexion of the hip", "flexes the hip"]
STABLE = ["stabil", "steadies"]
NO_SPINE = ["does not attach", "not attach", "no attachment", "indirectly", "no direct"]
ROTATORS = ["piriformis", "obturator", "deep lateral rotators", "gluteus maximus"]

KEY_TERMS: dict[str, list[list[str]]] = {
    # §3.1, seed 000
    "Q000-01": [["rectus femoris"], ["sartorius"], ["pectineus"], ["tensor fasciae latae"]],
    "Q000-02": [["quadratus lumborum"], ["does not cross the hip", "not cross the hip", "not a hip extensor"],
                ["lateral flexion", "side-bend", "hikes", "elevat"]],
    "Q000-03": [["gluteus maximus"], ["hamstring", "biceps femoris", "semitendinosus", "semimembranosus"]],
    "Q000-04": [["tilt"], ["pelvi"], ["clinician"]],
    "Q000-05": [["tilt"], ["lordosis"], ["debated", "disputed", "paradox"]],
    "Q000-06": [["rotat"], ["weak", "contested", "disputed"], ROTATORS, ["femoral version", "bony", "bone"]],
    "Q000-07": [FLEXION, STABLE, ["lateral flexion"]],
    "Q000-08": [FLEXION, ["pelvi"]],
    "Q000-09": [FLEXION, STABLE, ["trunk"], ["lateral flexion"]],
    "Q000-10": [["not attached", "not attach", "no direct", "not to them"], ["retroperitoneal"],
                ["kidney", "ureter", "colon", "caecum"]],
    "Q000-11": [["medial arcuate ligament"], ["fascia"]],
    "Q000-12": [["hip joint"], ["lumbar"], ["sacroiliac"]],
    "Q000-13": [["lesser trochanter"]],
    "Q000-14": [["L1"], ["L3"], ["anterior rami", "ventral rami"]],
    "Q000-15": [["T12"], ["transverse process"], ["lesser trochanter"]],
    "Q000-16": [["femoral nerve"], ["L2"]],
    "Q000-17": [["iliac fossa"], ["iliac crest"], ["ala of sacrum", "sacral ala"], ["lesser trochanter"]],
    # §3.2, seed 001 (questions inferred by the reference notes)
    "Q001-01": [["psoas major"], ["iliacus"], ["lesser trochanter"]],
    "Q001-02": [["medial arcuate ligament"], ["diaphragm"], ["disputed", "unsupported", "no good evidence", "not shown"]],
    "Q001-03": [["33"], ["65"]],
    "Q001-04": [["retroperitoneal", "deep", "behind"]],
    "Q001-05": [["clinician"], ["not a validated", "no validated", "no way"]],
    "Q001-06": [["navel", "abdomen", "belly"], ["iliac fossa", "ilium"], ["evidence", "disputed", "weak"]],
    # §3.3, seed 002
    "Q002-01": [["bursitis"], ["tendin", "strain", "overuse"], ["labral", "impingement", "arthritis"], ["clinician"]],
    "Q002-02": [["straight-leg raise", "straight leg raise"], ["marching"], ["15"], ["stop if pain"]],
    "Q002-03": [["kneeling", "lunge"], ["edge of a bed", "edge of the bed", "thomas"]],
    "Q002-04": [["debated", "disputed"], ["stretch"]],
    # §3.4, seed 003
    "Q003-01": [FLEXION, STABLE, ["lateral flexion"]],
    "Q003-02": [["30"], ["90"], ["weak", "disputed", "limited"], ["pulse", "aneurysm", "vessel", "organ"]],
    "Q003-03": [["lunge", "kneeling"], ["tuck", "posterior tilt"], ["side-bend", "side bend"]],
    "Q003-04": [FLEXION, STABLE],
    "Q003-05": [FLEXION, ["pelvi"]],
    "Q003-06": [FLEXION, STABLE],
    "Q003-07": [["sitting"], ["hip extension"], ["disputed", "unproven", "not shown"]],
    "Q003-08": [["stretch"], ["strength"], ["sitting", "move"], ["clinician"]],
    "Q003-09": [["mechanoreceptor", "speculative"], ["pressure-pain threshold", "pressure pain threshold", "ischaemic compression", "ischemic compression"]],
    # §3.1 "Other question headings in 000" (keyed by their text)
    "What is the origin, insertion, and nerve supply of the iliopsoas?": [["lesser trochanter"], ["femoral nerve"], ["L1"]],
    "What else is connected to the psoas and iliacus?": [["fascia"], ["kidney", "femoral nerve", "lumbar plexus"]],
    "What does the iliacus and psoas do?": [FLEXION],
    "Why do I need a pillow under my knees when sleeping?": [["disputed", "opinion"], ["thomas"]],
    "Does the iliacus move the spine?": [["pelvi"], NO_SPINE],
    "Is the iliacus attached to the spine?": [["pelvi", "ilium", "iliac"], NO_SPINE],
    "Why does my back arch so much?": [["lordosis"], ["tilt"]],
    "Does the psoas move the hip joint?": [FLEXION, ["rotation"]],
    "What muscles oppose the iliopsoas (antagonists)?": [["gluteus maximus"], ["hamstring", "biceps femoris"]],
    "What muscles work with the iliopsoas (synergists)?": [["rectus femoris"], ["sartorius"]],
}


def faq_questions(reference: Path) -> dict[str, str]:
    """Key -> question text, from anatomy-facts.md §3 (table rows and the extra headings)."""
    text = (reference / "anatomy-facts.md").read_text(encoding="utf-8")
    section = text.split("## 3.", 1)[1].split("\n## 4.", 1)[0]
    out: dict[str, str] = {}
    for row in re.finditer(r"^\| (Q\d{3}-\d{2}) \| ([^|]+) \|", section, flags=re.M):
        question = re.sub(r"\*\(inferred\)\*|\*\(heading:[^)]*\)\*", "", row.group(2)).strip()
        out[row.group(1)] = question
    extra = section.split("Other question headings in 000:", 1)[1].split("\n\n", 1)[0]
    for quoted in re.findall(r'"([^"]+\?)"', extra):
        for q in re.findall(r"[^?]+\?", quoted):
            q = " ".join(q.split())
            out[q] = q
    return out


def fold(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[\u2010-\u2015\u2212]", "-", text.lower()))


def missing(answer: str, groups: list[list[str]]) -> list[list[str]]:
    text = fold(answer)
    return [g for g in groups if not any(fold(t) in text for t in g)]


def test_every_faq_question_has_key_terms(reference_dir: Path) -> None:
    questions = faq_questions(reference_dir)
    assert len(questions) >= 40, f"parsed only {len(questions)} FAQ questions from anatomy-facts.md §3"
    assert set(questions) == set(KEY_TERMS), (
        f"without key terms: {sorted(set(questions) - set(KEY_TERMS))}; "
        f"stale keys: {sorted(set(KEY_TERMS) - set(questions))}"
    )


def test_key_term_matcher_can_fail() -> None:
    assert missing("It inserts on the lesser trochanter (L1\u2013L3).", [["l1"], ["L3"], ["lesser trochanter"]]) == []
    assert missing("It arises from the iliac fossa.", [["lesser trochanter"]]) == [["lesser trochanter"]]


def test_all_faq_questions_answered_with_key_facts(reference_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    questions = faq_questions(reference_dir)
    failures = []
    for key, question in questions.items():
        result = ask(question)
        if not result.answered:
            failures.append(f"{key} {question!r}: not answered")
            continue
        if not result.statements and not result.sources:
            failures.append(f"{key} {question!r}: answered without citing a statement or a source")
        gaps = missing(result.answer, KEY_TERMS.get(key, []))
        if gaps:
            failures.append(f"{key} {question!r}: missing {gaps}")
    with capsys.disabled():
        print(f"\nask FAQ: {len(questions) - len(failures)}/{len(questions)} answered with their key facts")
        for f in failures:
            print("  FAIL", f)
    assert not failures
