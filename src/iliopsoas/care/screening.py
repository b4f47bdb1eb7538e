"""The safety screen: red flags by tier and contraindications to deep abdominal pressure.

The items are data in the one safety file (``knowledge/data/safety.yaml``, loaded by
:mod:`iliopsoas.knowledge.safety`, which Ask reads too); this module only turns them into screen
items, validates a user's answers and turns them into a :class:`ScreenResult`. The rules:

* any *emergency* or *urgent* "yes" blocks the program and says plainly what to do;
* any *unanswered* item blocks it too ("not screened": a missing answer is never taken as "no");
* any *contraindication* "yes" removes every step using a technique it contraindicates (today all
  name ``pressure``: every pressure-release step), with the reason;
* a *soon* "yes" keeps the program but asks for a clinician review.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from iliopsoas.knowledge.safety import RED_FLAG_TIERS, TIERS, load_safety

DISCLAIMER = "Not a diagnosis: this tool informs you and does not replace a clinician."

_BLOCKING_TIERS = RED_FLAG_TIERS
#: the technique the pressure-release steps use (``pressure: true`` in the exercise library)
PRESSURE = "pressure"


class AnswersError(ValueError):
    """An answers file or mapping that cannot be used (unknown id, non-boolean value...)."""

    def __init__(self, message: str, *, malformed: bool = False) -> None:
        super().__init__(message)
        self.malformed = malformed


@dataclass(frozen=True)
class ScreenItem:
    id: str
    tier: str
    question: str
    action: str
    topic: str
    every_session: bool = False
    refs: tuple[str, ...] = ()
    group: str = ""
    contraindicates: tuple[str, ...] = ()

    def summary(self) -> dict[str, str]:
        """The public listing form ``{"id", "question", "tier", "group"}``."""
        return {"id": self.id, "question": self.question, "tier": self.tier, "group": self.group}


@dataclass(frozen=True)
class Reason:
    """Why the program is blocked or changed: a stable ``code``, plain words and the items involved."""

    code: str
    message: str
    items: tuple[str, ...] = ()
    tier: str | None = None

    def to_json(self) -> dict[str, Any]:
        """``items`` are ids; ``questions`` are the same items in the words the person was asked."""
        by_id = {i.id: i.question for i in load_items()}
        return {"code": self.code, "tier": self.tier, "message": self.message, "items": list(self.items),
                "questions": [by_id.get(i, i) for i in self.items]}


@dataclass(frozen=True)
class ScreenResult:
    answers: Mapping[str, bool]
    positives: tuple[ScreenItem, ...]
    missing: tuple[str, ...]
    reasons: tuple[Reason, ...] = field(default_factory=tuple)

    def _tiers(self) -> set[str]:
        return {i.tier for i in self.positives}

    @property
    def blocked(self) -> bool:
        return bool(self.missing) or bool(self._tiers() & set(_BLOCKING_TIERS))

    @property
    def contraindicated(self) -> frozenset[str]:
        """Technique ids ruled out by the contraindications answered "yes"."""
        return frozenset(t for i in self.positives for t in i.contraindicates)

    @property
    def release_allowed(self) -> bool:
        return not self.blocked and PRESSURE not in self.contraindicated

    @property
    def clinician_review(self) -> bool:
        return bool(self._tiers() & {"soon", "urgent", "emergency"})

    @property
    def level(self) -> str:
        """The most serious outcome: emergency, urgent, not_screened, soon, contraindication or clear."""
        tiers = self._tiers()
        for t in ("emergency", "urgent"):
            if t in tiers:
                return t
        if self.missing:
            return "not_screened"
        for t in ("soon", "contraindication"):
            if t in tiers:
                return t
        return "clear"

    def to_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "blocked": self.blocked,
            "release_allowed": self.release_allowed,
            "clinician_review": self.clinician_review,
            "positives": [{"id": i.id, "tier": i.tier, "action": i.action} for i in self.positives],
            "missing": list(self.missing),
            "reasons": [r.to_json() for r in self.reasons],
            "disclaimer": DISCLAIMER,
        }


@lru_cache(maxsize=1)
def load_items() -> tuple[ScreenItem, ...]:
    """Every screening item of the one safety file, in file order (emergency first)."""
    return tuple(
        ScreenItem(
            id=i.id,
            tier=i.tier,
            question=i.question,
            action=i.action,
            topic=i.topic,
            every_session=i.every_session,
            refs=i.refs,
            group=i.group,
            contraindicates=i.contraindicates,
        )
        for i in load_safety().items
    )


def item_ids(scope: str = "full") -> tuple[str, ...]:
    """Ids that must be answered: ``"full"`` (every item) or ``"session"`` (the short checklist)."""
    if scope not in ("full", "session"):
        raise ValueError(f"scope must be 'full' or 'session', got {scope!r}")
    return tuple(i.id for i in load_items() if scope == "full" or i.every_session)


_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


def _as_bool(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise AnswersError(f"answer for screening item '{key}' must be true or false, got {value!r}")


def parse_answers(raw: Mapping[str, Any], *, allow_other: Iterable[str] = ()) -> dict[str, bool]:
    """Validate a mapping ``item id -> true/false``; unknown ids are an error (with suggestions).

    Keys listed in ``allow_other`` are ignored (so one answers file can also hold, say, assessment
    signs). ``None`` values count as unanswered and are dropped.
    """
    if not isinstance(raw, Mapping):
        raise AnswersError(
            f"screening answers must be a mapping of item id to true/false, got {type(raw).__name__}"
        )
    known = {i.id for i in load_items()}
    other = set(allow_other)
    out: dict[str, bool] = {}
    for key, value in raw.items():
        key = str(key)
        if key in other:
            continue
        if key not in known:
            shown = key if len(key) <= 60 else f"{key[:40]}… ({len(key)} characters)"
            raise AnswersError(f"unknown screening item '{shown}'{_suggest(key[:100], known)}")
        if value is None:
            continue
        out[key] = _as_bool(value, key)
    return out


def _suggest(key: str, known: Iterable[str]) -> str:
    from rapidfuzz import process

    best = process.extract(key, list(known), limit=3, score_cutoff=60)
    return (
        f" (did you mean: {', '.join(b[0] for b in best)}?)" if best else " (see `iliopsoas screen --list`)"
    )


#: per tier: the reason's code, the item field listed, its separator and the message ({} = the list)
_TIER_REASONS = {
    "emergency": ("red-flag-emergency", "action", " ", "Do not exercise. {}"),
    "urgent": (
        "red-flag-urgent",
        "topic",
        ", ",
        "Do not start or continue the program: see a doctor within 24-48 hours about {}.",
    ),
    "soon": ("clinician-review", "topic", ", ", "Book a clinician review about {}; the gentle program may continue meanwhile."),
    "contraindication": (
        "pressure-release-removed",
        "topic",
        "; ",
        "Pressure-release steps are removed because deep pressure is unsafe with: {}. "
        "Stretching, strengthening and habits remain.",
    ),
}


def evaluate(answers: Mapping[str, bool], *, scope: str = "full") -> ScreenResult:
    """Apply the screening rules to validated ``answers`` (see :func:`parse_answers`).

    ``scope="session"`` only requires the short every-session checklist to be answered; any other
    answer given is still applied.
    """
    items = load_items()
    required = set(item_ids(scope))
    positives = tuple(i for i in items if answers.get(i.id) is True)
    missing = tuple(i.id for i in items if i.id in required and i.id not in answers)
    by_tier = {t: [i for i in positives if i.tier == t] for t in TIERS}

    def tier_reason(tier: str) -> list[Reason]:
        found = by_tier[tier]
        if not found:
            return []
        code, field_name, sep, template = _TIER_REASONS[tier]
        listed = sep.join(dict.fromkeys(getattr(i, field_name) for i in found))
        return [Reason(code, template.format(listed), tuple(i.id for i in found), tier)]

    not_screened = [
        Reason(
            "not-screened",
            _unanswered_message(missing),
            missing,
            None,
        )
    ] if missing else []
    reasons = [
        *tier_reason("emergency"),
        *tier_reason("urgent"),
        *not_screened,
        *tier_reason("soon"),
        *tier_reason("contraindication"),
    ]
    return ScreenResult(answers=dict(answers), positives=positives, missing=missing, reasons=tuple(reasons))


MAX_ANSWERS_BYTES = 1024 * 1024


def _unanswered_message(missing: tuple[str, ...]) -> str:
    """Plain words naming the unanswered questions (the first three, then how many more)."""
    by_id = {i.id: i.question for i in load_items()}
    shown = [f'"{by_id.get(m, m)}"' for m in missing[:3]]
    more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
    one = len(missing) == 1
    return (
        f"{'This safety question is' if one else f'These {len(missing)} safety questions are'} still "
        f"unanswered: {'; '.join(shown)}{more}. The program stays locked until every question has an answer "
        "(a missing answer is never taken as 'no')."
    )


def read_answers_file(path: str | Path) -> dict[str, Any]:
    """Read a JSON or YAML answers file into a mapping; raise :class:`AnswersError` with the place."""
    p = Path(path)
    try:
        if not p.is_file():  # a folder, a device (/dev/zero) or a pipe is never an answers file
            what = "a folder" if p.is_dir() else ("not a regular file" if p.exists() else "missing")
            raise AnswersError(f"cannot read answers file {p}: it is {what}; expected a JSON or YAML file")
        if p.stat().st_size > MAX_ANSWERS_BYTES:
            raise AnswersError(f"answers file {p} is larger than {MAX_ANSWERS_BYTES // 1024} KB; expected a "
                               "short JSON or YAML mapping", malformed=True)
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise AnswersError(f"cannot read answers file {p}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise AnswersError(f"answers file {p} is not UTF-8 text ({exc.reason})", malformed=True) from exc
    try:
        data = json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
    except RecursionError:
        raise AnswersError(f"answers file {p} is nested too deeply; expected a flat mapping", malformed=True) from None
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise AnswersError(
            f"answers file {p} is not valid {'JSON' if p.suffix.lower() == '.json' else 'YAML'}: {exc}",
            malformed=True,
        ) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise AnswersError(
            f"answers file {p}: expected a mapping at the top level, got {type(data).__name__}",
            malformed=True,
        )
    return data


def pain_rising(nprs: Any, *, rise: float = 2.0, times: int = 2) -> bool:
    """Whether pain rose by ``rise`` or more above baseline in at least ``times`` later sessions.

    ``nprs`` is ``(n_sessions, 2)``: NPRS before and after each session (0-10, NaN when not
    given), oldest first. The baseline is the first session's "before" score (its "after" score
    if "before" is missing). This is a product rule (clinical.md §2.3), not a guideline threshold.
    """
    import numpy as np

    a = np.asarray(nprs, dtype=float).reshape(-1, 2)
    if a.shape[0] < 2:
        return False
    first = a[0]
    baseline = first[0] if not np.isnan(first[0]) else first[1]
    if np.isnan(baseline):
        return False
    later = a[1:]
    with np.errstate(invalid="ignore"):
        worst = np.nanmax(np.where(np.isnan(later), -np.inf, later), axis=1)
    return int(np.count_nonzero(worst - baseline >= rise)) >= times


def pain_rising_reason(nprs: Any) -> Reason | None:
    """The "book a clinician review" reason when :func:`pain_rising` holds for ``nprs``, else ``None``.

    Shared by the screen (CLI and web) and the planner, so every place that makes a decision says
    the same thing.
    """
    if not pain_rising(nprs):
        return None
    return Reason(
        "pain-rising",
        "Your pain has risen by 2 points or more above your first session on two sessions: book a "
        "clinician review, and keep to gentle movement until then.",
        (),
        "soon",
    )
