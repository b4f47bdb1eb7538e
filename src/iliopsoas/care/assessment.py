"""Self-assessment: signs and home muscle-length tests -> ranked likely contributors, with reasons.

The rule table lives in ``care/data/assessment.yaml`` (each rule cites atlas source keys and the
seed-claims ledger). The result never names a diagnosis: it ranks *likely contributors* (psoas,
iliacus, rectus femoris, TFL, posterior hip), says how much each reason can be trusted, and always
says that no home test separates psoas from iliacus.

Angles are taken in degrees here because they are typed in by people at the edge (answers files).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from iliopsoas.care import evidence
from iliopsoas.care.screening import DISCLAIMER, AnswersError

#: How much a contributor can be trusted, by the strongest kind of reason behind it.
CONFIDENCE = {"test": "moderate", "weak": "low", "belief": "very low"}
_RANK = {"test": 3, "weak": 2, "belief": 1}

INSEPARABLE_NOTE = (
    "No home test separates psoas from iliacus: the Thomas test loads both, and the seed articles' rule "
    "(arched low back = psoas, forward-tipped pelvis = iliacus) is unvalidated."
)


@dataclass(frozen=True)
class Rules:
    contributors: Mapping[str, Mapping[str, str]]
    inputs: Mapping[str, Mapping[str, str]]
    rules: tuple[Mapping[str, Any], ...]
    safety: tuple[Mapping[str, Any], ...]


@lru_cache(maxsize=1)
def load_rules() -> Rules:
    """The assessment rule table (validated once per process)."""
    text = resources.files("iliopsoas.care").joinpath("data/assessment.yaml").read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    rules = Rules(doc["contributors"], doc["inputs"], tuple(doc["rules"]), tuple(doc.get("safety") or ()))
    for r in rules.rules:
        unknown = set(r["adds"]) - set(rules.contributors)
        if unknown:
            raise ValueError(
                f"care/data/assessment.yaml rule {r['id']}: unknown contributor(s) {sorted(unknown)}"
            )
        if r["evidence"] not in CONFIDENCE:
            raise ValueError(
                f"care/data/assessment.yaml rule {r['id']}: evidence must be one of {sorted(CONFIDENCE)}"
            )
        for cond in _conditions(r["when"]):
            if cond["input"] not in rules.inputs:
                raise ValueError(f"care/data/assessment.yaml rule {r['id']}: unknown input {cond['input']!r}")
    return rules


def input_names() -> tuple[str, ...]:
    return tuple(load_rules().inputs)


def _conditions(when: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(when["all"]) if "all" in when else [when]


def parse_inputs(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validate assessment answers; unknown keys and wrong types raise :class:`AnswersError`.

    ``angle`` inputs accept a number or ``{"left": x, "right": y}`` (the larger value, i.e. the
    more restricted side for these tests, is used); ``psfs`` is a list of 0-10 scores.
    """
    spec = load_rules().inputs
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in spec:
            raise AnswersError(f"unknown assessment input '{key}' (known: {', '.join(spec)})")
        if value is None:
            continue
        kind = spec[key]["type"]
        if kind == "bool":
            if not isinstance(value, bool):
                raise AnswersError(f"assessment input '{key}' must be true or false, got {_shown(value)}")
            out[key] = value
        elif kind == "angle":
            out[key] = _angle(key, value)
        else:
            out[key] = _psfs(key, value)
    return out


def _shown(value: Any) -> str:
    """``repr(value)``, cut short (a 400-digit number or a list of 1,000 scores stays one short line)."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:40]}… ({len(text)} characters)"


def _number(key: str, value: Any) -> float:
    # a huge whole number (400 digits) is out of range; float(value) would raise OverflowError
    huge = isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**6
    if huge or isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AnswersError(f"assessment input '{key}' must be a finite number of degrees, got {_shown(value)}")
    if not -180.0 <= float(value) <= 180.0:
        raise AnswersError(f"assessment input '{key}' must be between -180 and 180 degrees, got {value}")
    return float(value)


def _angle(key: str, value: Any) -> float:
    if isinstance(value, Mapping):
        sides = {k: _number(f"{key}.{k}", v) for k, v in value.items() if k in ("left", "right")}
        if not sides or set(value) - {"left", "right"}:
            raise AnswersError(
                f"assessment input '{key}' as a mapping needs only 'left' and/or 'right', got {list(value)}"
            )
        return max(sides.values())
    return _number(key, value)


def _psfs(key: str, value: Any) -> list[float]:
    if not isinstance(value, list) or not 1 <= len(value) <= 5:
        raise AnswersError(f"assessment input '{key}' must be a list of 1-5 activity scores, got {_shown(value)}")
    scores = []
    for n, v in enumerate(value):
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 10:
            raise AnswersError(f"assessment input '{key}'[{n}] must be a score from 0 to 10, got {_shown(v)}")
        scores.append(float(v))
    return scores


def _holds(cond: Mapping[str, Any], inputs: Mapping[str, Any]) -> bool:
    value = inputs.get(cond["input"])
    if "not" in cond:  # "not true" also holds when the input is unanswered
        return value is not cond["not"]
    if value is None:
        return False
    if "is" in cond:
        return bool(value is cond["is"])
    ok = True
    for op, fn in (("gt", float.__gt__), ("ge", float.__ge__), ("lt", float.__lt__), ("le", float.__le__)):
        if op in cond:
            ok = ok and fn(float(value), float(cond[op]))
    return ok


@dataclass(frozen=True)
class Finding:
    rule: str
    text: str
    weight: float
    evidence: str
    sources: tuple[str, ...]
    claims: tuple[str, ...]


@dataclass(frozen=True)
class Contributor:
    id: str
    label: str
    muscle: str
    score: float
    confidence: str
    reasons: tuple[Finding, ...]


@dataclass(frozen=True)
class Assessment:
    inputs: Mapping[str, Any]
    contributors: tuple[Contributor, ...]
    notes: tuple[str, ...]
    safety: tuple[str, ...]

    @property
    def top(self) -> tuple[str, ...]:
        """Ids of the first two contributors (ties with the second included)."""
        if not self.contributors:
            return ()
        cut = self.contributors[min(1, len(self.contributors) - 1)].score
        return tuple(c.id for c in self.contributors if c.score >= cut)

    def to_json(self, *, with_evidence: bool = True) -> dict[str, Any]:
        def reason(f: Finding) -> dict[str, Any]:
            d: dict[str, Any] = {"rule": f.rule, "text": f.text, "weight": f.weight, "kind": f.evidence}
            if with_evidence:
                d.update(evidence.refs(f.sources, f.claims))
            else:
                d.update({"sources": list(f.sources), "claims": list(f.claims)})
            return d

        return {
            "contributors": [
                {
                    "id": c.id,
                    "label": c.label,
                    "muscle": c.muscle,
                    "score": c.score,
                    "confidence": c.confidence,
                    "reasons": [reason(f) for f in c.reasons],
                }
                for c in self.contributors
            ],
            "notes": list(self.notes),
            "safety": list(self.safety),
            "disclaimer": DISCLAIMER,
        }

    def missing_refs(self) -> list[str]:
        """Atlas ids cited by the fired rules that the atlas does not hold (sorted, unique)."""
        out: set[str] = set()
        for c in self.contributors:
            for f in c.reasons:
                out.update(evidence.missing_refs(f.sources, f.claims))
        return sorted(out)


def assess(inputs: Mapping[str, Any]) -> Assessment:
    """Rank likely contributors from validated ``inputs`` (see :func:`parse_inputs`).

    Contributors with no fired rule are left out; ties keep the table's order.
    """
    rules = load_rules()
    found: dict[str, list[Finding]] = {c: [] for c in rules.contributors}
    for r in rules.rules:
        if all(_holds(c, inputs) for c in _conditions(r["when"])):
            for cid, w in r["adds"].items():
                found[cid].append(
                    Finding(
                        r["id"],
                        r["text"].strip(),
                        float(w),
                        r["evidence"],
                        tuple(r.get("sources") or ()),
                        tuple(r.get("claims") or ()),
                    )
                )
    contributors = []
    for cid, fs in found.items():
        if not fs:
            continue
        best = max(fs, key=lambda f: _RANK[f.evidence]).evidence
        meta = rules.contributors[cid]
        contributors.append(
            Contributor(
                cid,
                meta["label"],
                meta["muscle"],
                round(sum(f.weight for f in fs), 2),
                CONFIDENCE[best],
                tuple(fs),
            )
        )
    order = list(rules.contributors)
    contributors.sort(key=lambda c: (-c.score, order.index(c.id)))
    notes = []
    if any(c.id in ("psoas-major", "iliacus") for c in contributors):
        notes.append(INSEPARABLE_NOTE)
    if "thomas_hip_deg" in inputs:
        notes.append(
            "The Thomas test measures hip extension validly only when the low back is held flat "
            "(otherwise sensitivity 32 %, specificity 57 %: VIGOTSKY2016); repeat it the same way each time."
        )
    if not contributors:
        notes.append("Nothing you reported points to a particular muscle; the general program still applies.")
    safety = tuple(
        s["text"].strip() for s in rules.safety if all(_holds(c, inputs) for c in _conditions(s["when"]))
    )
    return Assessment(dict(inputs), tuple(contributors), tuple(notes), safety)
