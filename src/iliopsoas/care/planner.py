"""The program builder: safety gates first, then release -> stretch -> strengthen -> habits.

:func:`build_plan` is a pure function of the screen result, the (optional) assessment, the user's
options and the NPRS history. The exercise library and its default dosages are data
(``care/data/exercises.yaml``, every figure cited there).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from iliopsoas.care.assessment import Assessment
from iliopsoas.care.screening import DISCLAIMER, AnswersError, Reason, ScreenResult, pain_rising_reason

KINDS = ("release", "stretch", "strengthen", "habit")
EVIDENCE_GRADES = ("moderate", "low", "very-low")


@dataclass(frozen=True)
class Exercise:
    id: str
    kind: str
    muscle: str
    name: str
    dosage: Mapping[str, Any]
    cue: str
    feel: str
    stop_if: tuple[str, ...]
    evidence: Mapping[str, Any]
    limits: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    pressure: bool = False
    when: str | None = None
    needs: str | None = None
    replaces: str | None = None
    targets: tuple[str, ...] = ()
    positions: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "muscle": self.muscle,
            "name": self.name,
            "dosage": dict(self.dosage),
            "evidence": {
                "grade": self.evidence["grade"],
                "summary": self.evidence["summary"],
                "sources": list(self.evidence.get("sources") or ()),
                "claims": list(self.evidence.get("claims") or ()),
            },
            "cue": self.cue,
            "feel": self.feel,
            "stop_if": list(self.stop_if),
            "pressure": self.pressure,
        }
        if self.targets:
            d["targets"] = list(self.targets)
        if self.positions:
            d["positions"] = list(self.positions)
        return d


@lru_cache(maxsize=1)
def load_exercises() -> tuple[Exercise, ...]:
    """The exercise library in program order (validated once per process)."""
    text = resources.files("iliopsoas.care").joinpath("data/exercises.yaml").read_text(encoding="utf-8")
    return _parse_exercises(yaml.safe_load(text)["exercises"], "care/data/exercises.yaml")


def _parse_exercises(raw: Sequence[Mapping[str, Any]], where: str) -> tuple[Exercise, ...]:
    out = []
    for n, e in enumerate(raw):
        at = f"{where}: exercise {n} ({e.get('id')})"
        if e.get("kind") not in KINDS:
            raise ValueError(f"{at}: kind must be one of {KINDS}, got {e.get('kind')!r}")
        grade = (e.get("evidence") or {}).get("grade")
        if grade not in EVIDENCE_GRADES:
            raise ValueError(f"{at}: evidence.grade must be one of {EVIDENCE_GRADES}, got {grade!r}")
        for key in ("cue", "feel", "name", "muscle"):
            if not isinstance(e.get(key), str) or not e[key]:
                raise ValueError(f"{at}: '{key}' must be a non-empty string")
        if not e.get("stop_if"):
            raise ValueError(f"{at}: 'stop_if' must list at least one stop sign")
        out.append(
            Exercise(
                id=e["id"],
                kind=e["kind"],
                muscle=e["muscle"],
                name=e["name"],
                dosage=dict(e["dosage"]),
                cue=e["cue"],
                feel=e["feel"],
                stop_if=tuple(e["stop_if"]),
                evidence=dict(e["evidence"]),
                limits={k: (float(v[0]), float(v[1])) for k, v in (e.get("limits") or {}).items()},
                pressure=bool(e.get("pressure", False)),
                when=e.get("when"),
                needs=e.get("needs"),
                replaces=e.get("replaces"),
                targets=tuple(e.get("targets") or ()),
                positions=tuple(e.get("positions") or ()),
            )
        )
    return tuple(out)


def exercise(exercise_id: str) -> Exercise:
    for e in load_exercises():
        if e.id == exercise_id:
            return e
    raise KeyError(exercise_id)


@dataclass(frozen=True)
class PlanOptions:
    """What the user may adjust. ``None`` keeps each exercise's default (from the articles).

    Values outside an exercise's limits are rejected, naming the option and the allowed range.
    """

    band: bool = True  # a resistance band is available
    release: bool = True  # include the (optional, low-evidence) pressure-release steps
    release_hold_s: float | None = None
    stretch_hold_s: float | None = None
    strengthen_sets: int | None = None
    strengthen_reps: int | None = None
    max_strengthen: int = 2  # fewer exercises means better adherence

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> PlanOptions:
        known = set(cls.__dataclass_fields__)
        unknown = set(raw) - known
        if unknown:
            raise AnswersError(
                f"unknown plan option(s) {sorted(unknown)} (known: {', '.join(sorted(known))})"
            )
        opts = cls(**dict(raw))
        for name in ("band", "release"):
            if not isinstance(getattr(opts, name), bool):
                raise AnswersError(f"plan option '{name}' must be true or false, got {getattr(opts, name)!r}")
        for name in (
            "release_hold_s",
            "stretch_hold_s",
            "strengthen_sets",
            "strengthen_reps",
            "max_strengthen",
        ):
            v = getattr(opts, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
                raise AnswersError(f"plan option '{name}' must be a number, got {v!r}")
        if not 1 <= opts.max_strengthen <= 3:
            raise AnswersError(f"plan option 'max_strengthen' must be 1-3, got {opts.max_strengthen}")
        return opts


_ADJUST = {
    "release": (("release_hold_s", "hold_s"),),
    "stretch": (("stretch_hold_s", "hold_s"),),
    "strengthen": (("strengthen_sets", "sets"), ("strengthen_reps", "reps")),
}


def _adjusted(ex: Exercise, opts: PlanOptions) -> Exercise:
    dosage = dict(ex.dosage)
    for opt_name, key in _ADJUST.get(ex.kind, ()):
        value = getattr(opts, opt_name)
        if value is None:
            continue
        lo, hi = ex.limits.get(key, (value, value))
        if not lo <= value <= hi:
            raise AnswersError(
                f"plan option '{opt_name}' = {value} is outside the range for {ex.id} ({key} {lo:g}-{hi:g})"
            )
        dosage[key] = int(value) if float(value).is_integer() else float(value)
    return replace(ex, dosage=dosage)


@dataclass(frozen=True)
class Plan:
    blocked: bool
    reasons: tuple[Reason, ...]
    steps: tuple[Exercise, ...]
    removed: tuple[tuple[str, str], ...]  # (exercise id, reason code)
    clinician_review: bool
    screen: ScreenResult
    contributors: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "blocked": self.blocked,
            "reasons": [r.to_json() for r in self.reasons],
            "steps": [s.to_json() for s in self.steps],
            "removed": [{"id": i, "reason": code} for i, code in self.removed],
            "clinician_review": self.clinician_review,
            "level": self.screen.level,
            "contributors": list(self.contributors),
            "disclaimer": DISCLAIMER,
        }


def build_plan(
    screen: ScreenResult,
    assessment: Assessment | None = None,
    *,
    options: PlanOptions | None = None,
    nprs_history: Any = (),
) -> Plan:
    """Build the program, applying every safety gate before choosing exercises.

    Parameters
    ----------
    screen:
        the evaluated safety screen; emergency, urgent or unanswered items block the program.
    assessment:
        optional; its top contributors add the matching targeted stretch.
    options:
        user adjustments within each exercise's limits.
    nprs_history:
        ``(n_sessions, 2)`` NPRS before/after per past session, oldest first (see
        :func:`~iliopsoas.care.screening.pain_rising_reason`).

    Returns
    -------
    Plan
        ``blocked`` plans carry no steps, only the reasons and what to do.
    """
    opts = options or PlanOptions()
    library = load_exercises()
    adjusted = {ex.id: _adjusted(ex, opts) for ex in library}  # bad options fail even when blocked
    reasons = list(screen.reasons)
    review = screen.clinician_review
    rising = pain_rising_reason(nprs_history)
    if rising is not None:
        review = True
        reasons.append(rising)
    if assessment is not None and assessment.safety:
        review = True
        reasons += [Reason("assessment-safety", text, (), "soon") for text in assessment.safety]
    contributors = assessment.top if assessment is not None else ()
    if screen.blocked:
        return Plan(True, tuple(reasons), (), (), review, screen, contributors)

    steps: list[Exercise] = []
    removed: list[tuple[str, str]] = []
    has = {e.id for e in library}
    n_strengthen = 0
    for ex in library:
        if ex.when is not None and ex.when not in contributors:
            continue
        if (ex.pressure or ex.kind == "release") and not screen.release_allowed:
            # a contraindication in the safety file names the technique (``pressure``) it rules out
            removed.append((ex.id, "pressure-release-removed"))
            continue
        if ex.kind == "release" and not opts.release:
            removed.append((ex.id, "user-choice"))
            continue
        if ex.id == "kneeling-quad-stretch" and assessment is not None and assessment.safety:
            removed.append((ex.id, "assessment-safety"))
            continue
        if ex.needs == "band" and not opts.band:
            continue
        if ex.replaces is not None and ex.replaces in has and opts.band and opts.max_strengthen < 3:
            continue  # a stand-in for when the equipment is missing, or when all three are wanted
        if ex.kind == "strengthen":
            if n_strengthen >= opts.max_strengthen:
                continue
            n_strengthen += 1
        steps.append(adjusted[ex.id])
    return Plan(False, tuple(reasons), tuple(steps), tuple(removed), review, screen, contributors)
