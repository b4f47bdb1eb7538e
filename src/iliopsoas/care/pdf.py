"""A printable program handout (fpdf2, A4): safety notes, then one block per step.

The built-in PDF fonts cover Latin-1 only, so text is folded to it (dashes, arrows, ticks...).
"""

from __future__ import annotations

from pathlib import Path

from iliopsoas.care.planner import Plan
from iliopsoas.care.player import dosage_text
from iliopsoas.care.screening import DISCLAIMER

_FOLD = str.maketrans(
    {
        "–": "-",
        "—": "-",
        "’": "'",
        "‘": "'",
        "“": '"',
        "”": '"',
        "→": "->",
        "×": "x",
        "≥": ">=",
        "≤": "<=",
        "✓": "v",
        "·": "-",
        "…": "...",
        "±": "+/-",
    }
)


def _latin1(text: str) -> str:
    return text.translate(_FOLD).encode("latin-1", "replace").decode("latin-1")


def write_handout(
    plan: Plan, path: str | Path, *, title: str = "Hip-flexor program", compress: bool = True
) -> Path:
    """Write ``plan`` as a PDF handout at ``path`` and return the path (``compress=False``: readable bytes)."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_compression(compress)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def para(text: str, size: float = 10, style: str = "", gap: float = 1.5) -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(width, size * 0.5, _latin1(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    para(title, 18, "B")
    para(DISCLAIMER, 10, "I")
    if plan.blocked:
        para("The program is locked.", 13, "B")
        for r in plan.reasons:
            para(f"- {r.message}", 11)
        out = Path(path)
        pdf.output(str(out))
        return out
    for r in plan.reasons:
        para(f"Note: {r.message}", 10, "B")
    para(
        "Before every session: skip anything that hurts, stop if pain rises, and re-check the short safety "
        "list. Pain at least 2 points above your first session, twice: book a clinician review.",
        10,
    )
    kinds_seen: set[str] = set()
    for n, step in enumerate(plan.steps, start=1):
        if step.kind not in kinds_seen:
            kinds_seen.add(step.kind)
            para(step.kind.upper(), 13, "B", gap=0.5)
        para(f"{n}. {step.name}", 12, "B", gap=0.5)
        para(f"Dose: {dosage_text(step.dosage)}", 10, gap=0.5)
        if step.positions:
            para("Spots: " + "; ".join(step.positions), 10, gap=0.5)
        para(f"How: {step.cue}", 10, gap=0.5)
        para(f"Feel it: {step.feel}", 10, gap=0.5)
        para("Stop if: " + "; ".join(step.stop_if), 10, gap=0.5)
        ev = step.evidence
        para(
            f"Evidence ({ev['grade']}): {ev['summary']} [{', '.join(ev.get('sources') or ())}]", 9, "I", gap=3
        )
    if plan.removed:
        para("Left out: " + ", ".join(f"{i} ({why})" for i, why in plan.removed), 9, "I")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(out))
    return out
