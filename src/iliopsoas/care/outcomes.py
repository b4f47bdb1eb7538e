"""Scored outcome questionnaires: PSFS, HOOS-12, iHOT-12 and ODI, each scored as its authors publish.

Each scorer takes the person's answers (item id -> number; ``None`` or absent = not answered) and
returns one :class:`OutcomeScore` (the same model for the CLI's ``--json`` and the API). Item wording
is NOT reproduced here: people answer on the official form and the app scores the numbers. Item
labels below are our own short descriptions.

Scoring rules and where they come from
--------------------------------------
* **PSFS** (Stratford et al. 1995, Physiother Can 47:258-263): the person names up to five activities
  they find hard and rates each 0 (unable) to 10 (as before the problem); the score is the mean of the
  ratings. Change band: minimal detectable change 2 points for the average (Stratford 1995).
* **HOOS-12** (Gandek et al. 2019, Osteoarthritis Cartilage 27(5):746-753 and 754-761; scoring as given
  by the HOOS authors at koos.nu, "HOOS-12"): 4 Pain, 4 Function and 4 Quality-of-life items, each 0
  (no problem) to 4 (extreme). A scale is scored when at least half its items (2 of 4) are answered;
  each missing item takes the mean of the answered items of that scale (person-specific estimate);
  the summed scale is transformed so 0 is the worst and 100 the best possible score. The Summary
  Impact score is the mean of the three scale scores, so it needs all three. No HOOS-12 minimal
  important change was found in the sources we hold, so none is drawn.
* **iHOT-12** (Griffin et al. 2012, Arthroscopy 28(5):611-616): 12 visual-analogue items, each read
  as 0-100 with 100 the best quality of life; the score is the mean of the items. We score only a
  complete form (all 12 items): the sources we hold state no rule for missing items. MCID 13 points
  (Arthroscopy 2019;35(2):411-416, doi:10.1016/j.arthro.2018.09.028).
* **ODI 2.1a** (Fairbank & Pynsent 2000, Spine 25(22):2940-2953): 10 sections scored 0-5; the index is
  total / (5 x sections answered) x 100, 0 = no disability. The published form's worked examples: 16
  of 50 -> 32 %; one section missed -> 16 of 45 -> 35.5 % (truncated; 35.56 exactly). We score forms
  with at most one unanswered section, the case the form covers. MCID 10 points (Ostelo et al. 2008,
  Spine 33(1):90-94); minimal detectable change (90 %) 10 points (the form's instructions).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

MeasureId = Literal["psfs", "hoos12", "ihot12", "odi"]
MEASURE_IDS: tuple[str, ...] = ("psfs", "hoos12", "ihot12", "odi")


class OutcomeError(ValueError):
    """Answers that cannot be scored (unknown item, value out of range...): the message names it."""


class Mcid(BaseModel):
    value: float
    kind: Literal["MCID", "MDC"] = Field(description="minimal clinically important difference or detectable change")
    source: str


class OutcomeScore(BaseModel):
    """One scored questionnaire (``iliopsoas outcomes score --json`` and ``/api/care/outcomes/...``)."""

    measure: str
    name: str
    score: float | None = Field(description="None when the published missing-item rule does not allow a score")
    subscales: dict[str, float | None]
    mcid: Mcid | None
    missing_items: list[str]
    range: tuple[float, float]
    higher_is_better: bool
    notes: list[str] = Field(default_factory=list)
    source: str


@dataclass(frozen=True)
class Item:
    id: str
    label: str
    scale: str
    low: float
    high: float


@dataclass(frozen=True)
class Questionnaire:
    id: str
    name: str
    items: tuple[Item, ...]
    range: tuple[float, float]
    higher_is_better: bool
    mcid: Mcid | None
    source: str
    instructions: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "items": [vars(i) for i in self.items],
            "range": list(self.range),
            "higher_is_better": self.higher_is_better,
            "mcid": self.mcid.model_dump() if self.mcid else None,
            "source": self.source,
            "instructions": self.instructions,
        }


_HOOS_QOL = (
    "how often you are aware of your hip problem",
    "how far you have changed your way of life to avoid straining the hip",
    "how much a lack of confidence in the hip troubles you",
    "how much difficulty the hip gives you overall",
)
_ODI_SECTIONS = (
    "pain intensity", "personal care", "lifting", "walking", "sitting",
    "standing", "sleeping", "sex life", "social life", "travelling",
)  # fmt: skip

QUESTIONNAIRES: dict[str, Questionnaire] = {
    "psfs": Questionnaire(
        "psfs",
        "Patient-Specific Functional Scale",
        tuple(Item(f"activity{k}", f"activity {k} you find hard (0 unable - 10 as before)", "activities", 0, 10)
              for k in range(1, 6)),
        (0.0, 10.0),
        True,
        Mcid(value=2.0, kind="MDC", source="Stratford et al. 1995 (average of the activities)"),
        "Stratford et al. 1995, Physiother Can 47:258-263",
        "Name up to five activities you find hard because of the problem and rate each 0 (unable) to 10 "
        "(as before). Re-rate the same activities each time. Answers may also give the activity names: "
        '{"stairs": 4, "running": 2}.',
    ),
    "hoos12": Questionnaire(
        "hoos12",
        "HOOS-12 (Hip disability and Osteoarthritis Outcome Score, 12 items)",
        (
            *(Item(f"P{k}", f"pain item {k} of the HOOS-12 form (0 none - 4 extreme)", "pain", 0, 4) for k in range(1, 5)),
            *(Item(f"F{k}", f"function item {k} of the HOOS-12 form (0 none - 4 extreme)", "function", 0, 4)
              for k in range(1, 5)),
            *(Item(f"Q{k}", f"quality of life: {t} (0 best - 4 worst)", "qol", 0, 4) for k, t in enumerate(_HOOS_QOL, 1)),
        ),
        (0.0, 100.0),
        True,
        None,
        "Gandek et al. 2019, Osteoarthritis Cartilage 27(5):746-753 and 754-761; HOOS-12 scoring, koos.nu",
        "Answer on the official HOOS-12 form; enter each box as 0 (left, no problem) to 4 (right, extreme).",
    ),
    "ihot12": Questionnaire(
        "ihot12",
        "iHOT-12 (International Hip Outcome Tool, 12 items)",
        tuple(Item(f"Q{k}", f"item {k} of the iHOT-12 form, read as 0-100 (100 = no problem)", "total", 0, 100)
              for k in range(1, 13)),
        (0.0, 100.0),
        True,
        Mcid(value=13.0, kind="MCID", source="Arthroscopy 2019;35(2):411-416 (hip arthroscopy, 1 year)"),
        "Griffin et al. 2012, Arthroscopy 28(5):611-616",
        "Answer on the official iHOT-12 form; enter each mark as 0-100 where 100 means no problem at all.",
    ),
    "odi": Questionnaire(
        "odi",
        "Oswestry Disability Index 2.1a",
        tuple(Item(f"S{k}", f"section {k}: {t} (0 least - 5 most disability)", "sections", 0, 5)
              for k, t in enumerate(_ODI_SECTIONS, 1)),
        (0.0, 100.0),
        False,
        Mcid(value=10.0, kind="MCID", source="Ostelo et al. 2008, Spine 33(1):90-94"),
        "Fairbank & Pynsent 2000, Spine 25(22):2940-2953",
        "Answer on the official ODI 2.1a form; each section scores 0 (first statement) to 5 (last).",
    ),
}


def questionnaire(measure: str) -> Questionnaire:
    try:
        return QUESTIONNAIRES[measure]
    except KeyError:
        raise OutcomeError(f"measure must be one of {', '.join(MEASURE_IDS)}, got {measure!r}") from None


def _number(value: Any, where: str, low: float, high: float, whole: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(float(value)):
        raise OutcomeError(f"{where}: expected a number from {low:g} to {high:g}, got {value!r}")
    v = float(value)
    if not low <= v <= high:
        raise OutcomeError(f"{where}: expected a number from {low:g} to {high:g}, got {v:g}")
    if whole and not v.is_integer():
        raise OutcomeError(f"{where}: expected a whole number from {low:g} to {high:g}, got {v:g}")
    return v


def parse_answers(measure: str, raw: Any) -> dict[str, float | None]:
    """Validate ``raw`` for ``measure``: item id -> value (None = unanswered). PSFS also takes names."""
    q = questionnaire(measure)
    if not isinstance(raw, Mapping):
        raise OutcomeError(f"{measure} answers: expected a mapping of item id to number, got {type(raw).__name__}")
    items = {i.id: i for i in q.items}
    if measure == "psfs" and raw and not set(map(str, raw)) <= set(items):
        if len(raw) > 5:
            raise OutcomeError(f"psfs answers: at most 5 activities, got {len(raw)}")
        raw = {f"activity{k}": v for k, v in enumerate(raw.values(), 1)}
    out: dict[str, float | None] = {}
    for key, value in raw.items():
        key = str(key)
        if key not in items:
            raise OutcomeError(f"{measure} answers: unknown item {key!r} (items: {', '.join(items)})")
        it = items[key]
        out[key] = None if value is None else _number(value, f"{measure} item {key}", it.low, it.high,
                                                      whole=measure in ("hoos12", "odi"))
    return out


def score(measure: str, raw: Any) -> OutcomeScore:
    """Score ``raw`` answers for ``measure`` by its published rules (module docstring)."""
    q = questionnaire(measure)
    answers = parse_answers(measure, raw)
    return _SCORERS[measure](q, answers)


def _base(q: Questionnaire, score_value: float | None, subscales: dict[str, float | None], missing: list[str],
          notes: list[str]) -> OutcomeScore:
    return OutcomeScore(
        measure=q.id,
        name=q.name,
        score=None if score_value is None else round(score_value, 2),
        subscales={k: None if v is None else round(v, 2) for k, v in subscales.items()},
        mcid=q.mcid,
        missing_items=missing,
        range=q.range,
        higher_is_better=q.higher_is_better,
        notes=notes,
        source=q.source,
    )


def _psfs(q: Questionnaire, a: dict[str, float | None]) -> OutcomeScore:
    given = [v for v in a.values() if v is not None]
    if not given:
        raise OutcomeError("psfs answers: rate at least one activity from 0 to 10")
    notes = [] if len(given) >= 3 else ["fewer than three activities rated; the PSFS usually uses three to five"]
    return _base(q, sum(given) / len(given), {"activities_rated": float(len(given))}, [], notes)


def _hoos12(q: Questionnaire, a: dict[str, float | None]) -> OutcomeScore:
    subscales: dict[str, float | None] = {}
    missing = [i.id for i in q.items if a.get(i.id) is None]
    notes = []
    for scale in ("pain", "function", "qol"):
        ids = [i.id for i in q.items if i.scale == scale]
        got = [v for k in ids if (v := a.get(k)) is not None]
        if len(got) * 2 < len(ids):
            subscales[scale] = None
            notes.append(f"{scale}: {len(got)} of {len(ids)} items answered; at least {len(ids) // 2} are needed")
            continue
        raw_sum = sum(got) / len(got) * len(ids)  # missing items take the mean of the answered ones
        subscales[scale] = 100.0 - raw_sum / (4 * len(ids)) * 100.0
    scales = [subscales[s] for s in ("pain", "function", "qol")]
    summary = None if any(v is None for v in scales) else sum(v for v in scales if v is not None) / 3
    if summary is None:
        notes.append("the Summary Impact score needs all three scale scores")
    return _base(q, summary, subscales, missing, notes)


def _ihot12(q: Questionnaire, a: dict[str, float | None]) -> OutcomeScore:
    missing = [i.id for i in q.items if a.get(i.id) is None]
    if missing:
        return _base(q, None, {}, missing, ["all 12 items are needed: no missing-item rule is published in our sources"])
    vals = [v for v in a.values() if v is not None]
    return _base(q, sum(vals) / len(vals), {}, [], [])


def _odi(q: Questionnaire, a: dict[str, float | None]) -> OutcomeScore:
    missing = [i.id for i in q.items if a.get(i.id) is None]
    if len(missing) > 1:
        return _base(q, None, {}, missing, [f"{len(missing)} sections unanswered; the form's rule covers at most one"])
    vals = [v for v in a.values() if v is not None]
    return _base(q, sum(vals) / (5 * len(vals)) * 100.0, {}, missing, [])


_SCORERS = {"psfs": _psfs, "hoos12": _hoos12, "ihot12": _ihot12, "odi": _odi}
