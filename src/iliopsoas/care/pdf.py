"""A printable program handout (fpdf2, A4) a physiotherapist could hand out.

Page one: the person's name and the date, space for the clinician's contact, the safety notes, then
one block per step (dose, cue, what to feel, when to stop, evidence; the exercise picture when one
is available). Then a log table: the sessions recorded so far and empty rows to fill in by hand.

The built-in PDF fonts cover Latin-1 only, so text is folded to it (dashes, arrows, ticks...).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from iliopsoas.care.planner import Plan
from iliopsoas.care.screening import DISCLAIMER
from iliopsoas.care.sets import dosage_text

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
    plan: Plan,
    path: str | Path,
    *,
    title: str = "Hip-flexor program",
    compress: bool = True,
    name: str | None = None,
    on: date | None = None,
    log: Mapping[str, Any] | None = None,
    figures: Mapping[str, str | Path] | None = None,
    blank_rows: int = 8,
) -> Path:
    """Write ``plan`` as a PDF handout at ``path`` and return the path (``compress=False``: readable bytes).

    ``name`` and ``on`` (default today) head the page; ``log`` is a care-log export
    (``CareLog.export_json()``) whose sessions fill the log table; ``figures`` maps a step id to a PNG
    drawn beside that step.
    """
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
    para(f"For: {name or '_' * 40}        Date: {(on or date.today()).isoformat()}", 11)
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(width, 6, _latin1("Your clinician (name, phone, e-mail):"), new_x="LMARGIN", new_y="NEXT")
    pdf.rect(pdf.l_margin, pdf.get_y(), width, 16)
    pdf.ln(19)
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
        figure = (figures or {}).get(step.id)
        if figure is not None and Path(figure).is_file():
            pdf.image(str(figure), w=min(120.0, width))
            pdf.ln(1)
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
        why_words = {"user-choice": "optional, very-low evidence; not chosen",
                     "pressure-release-removed": "unsafe with an answer on the safety screen",
                     "assessment-safety": "a self-assessment answer needs a clinician first"}
        para("Left out: " + "; ".join(f"{i} ({why_words.get(why, why)})" for i, why in plan.removed), 9, "I")
    _log_table(pdf, width, (log or {}).get("sessions") or (), blank_rows)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(out))
    return out


_LOG_COLUMNS = (("Date", 30), ("Status", 28), ("Sets done", 22), ("Skipped", 20), ("Pain before", 25),
                ("Pain after", 25), ("Notes", 0))


def _log_table(pdf: Any, width: float, sessions: Any, blank_rows: int) -> None:
    """The sessions recorded so far (newest 20), then empty rows to fill in by hand."""
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(width, 8, "Session log", new_x="LMARGIN", new_y="NEXT")
    fixed = sum(w for _, w in _LOG_COLUMNS)
    widths = [w or width - fixed for _, w in _LOG_COLUMNS]
    pdf.set_font("Helvetica", "B", 9)
    for (label, _), w in zip(_LOG_COLUMNS, widths, strict=True):
        pdf.cell(w, 7, label, border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
    for s in list(sessions)[-20:]:
        steps = s.get("steps") or ()
        done = sum(1 for t in steps if t.get("status") == "done")
        skipped = sum(1 for t in steps if t.get("status") == "skipped")
        row = (str(s.get("started_at", ""))[:10], str(s.get("status") or ""), str(done), str(skipped),
               "-" if s.get("nprs_before") is None else str(s["nprs_before"]),
               "-" if s.get("nprs_after") is None else str(s["nprs_after"]), _latin1(str(s.get("note") or ""))[:40])
        for text, w in zip(row, widths, strict=True):
            pdf.cell(w, 7, text, border=1)
        pdf.ln()
    for _ in range(blank_rows):
        for w in widths:
            pdf.cell(w, 8, "", border=1)
        pdf.ln()
