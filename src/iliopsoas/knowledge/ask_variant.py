"""Yes/no questions about a structure many people lack (a normal anatomical variant).

"Is it normal not to have a psoas minor?", "my cadaver had no psoas minor, should that worry me?",
"does everyone have a psoas minor?": the verdict comes from how often the sources find the structure
(its ``variant`` statements of presence in %), and a recorded note that its absence has no known
clinical consequence backs a "No" to "is that a problem". A question about the asker's own symptoms
is not asked here: only the presence or absence of the structure.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["variant_decision", "variant_span"]

_ABSENT = re.compile(r"\b(not (have|having|got|has)|no|without|absent|absence|missing|lacks?|lacking|born without|"
                     r"doesnt have|dont have|didnt have|hasnt got)\b")
_EVERYONE = re.compile(r"\b(everyone|everybody|all people|every person|every body|all humans|always there)\b")
_NORMAL = re.compile(r"\b(normal|common|usual|typical|ok|okay|fine|natural|variant|variation)\b")
_ODD = re.compile(r"\b(rare|unusual|abnormal|weird|strange|odd|worry|worried|worrying|concern\w*|problem\w*|dangerous|"
                  r"bad|harmful|serious|matter|issue|disease\w*|patholog\w*|sign of|symptom\w*|disorder|clinically (important|significant|relevant)|defect|deformity)\b")


def variant_span(index: Any, subject: str) -> tuple[str, list[str]] | None:
    """"Present in 27–66% of people across 14 studies; summaries give 33–65%" from the variant statements."""
    values: list[float] = []
    ranges: list[str] = []
    used: list[str] = []
    for f in index.atlas.facts_about(subject, "variant"):
        lit = f.literal
        if lit is None or (lit.unit or "").strip() != "%" or f.qualifiers.get("measure", "presence") != "presence":
            continue
        if all(s.source.startswith("seed-") for s in f.sources):
            continue
        got = [v for v in (lit.min, lit.max) if v is not None]
        if isinstance(lit.value, int | float):
            got.append(float(lit.value))
        if lit.min is not None and lit.max is not None:
            ranges.append(f"{lit.min:g}\u2013{lit.max:g}%")
        values += got
        used.append(f.id)
    if len(used) < 2:
        return None
    name = index.atlas.entities[subject].name
    text = f"The {name} is present in {min(values):g}\u2013{max(values):g}% of people across {len(used)} studies and populations"
    text += f"; summaries give {', '.join(dict.fromkeys(ranges))}." if ranges else "."
    return text, used


def variant_decision(index: Any, q: Any) -> Any:
    """"Yes" (normal to lack it) / "No" (not a problem; not everyone has it) for a structure recorded as a
    variant, or None when the question asks no such thing."""
    from iliopsoas.knowledge.ask_yesno import Decision

    raw = q.asked or q.text
    subject = q.entities[0] if q.entities else None
    span = variant_span(index, subject) if subject else None
    if span is None:
        return None
    everyone = _EVERYONE.search(raw) is not None
    absent = _ABSENT.search(raw) is not None
    if not everyone and not (absent and (_NORMAL.search(raw) or _ODD.search(raw))):
        return None
    verdict = "No" if everyone or _ODD.search(raw) else "Yes"
    name = index.atlas.entities[subject].name
    lead = index.fact_docs.get(span[1][0])
    if lead is None:
        return None
    harmless = [d for d in index.by_subject.get(subject, ()) if d.kind == "fact" and d.predicate == "property"
                and not d.seed and re.search(r"\babsen\w*\b.*\bno known\b", d.sentence.lower())]
    found = span[0][len(f"The {name} is "):].rstrip(".")
    said = f"The {name} is a normal variant that many people lack ({found})"
    if harmless:
        said += "; " + harmless[0].sentence.split(": ", 1)[-1].rstrip(".")
    said += "."
    return Decision(verdict, lead, support=tuple(harmless[:1]), text=said,
                    statements=tuple(span[1]))
