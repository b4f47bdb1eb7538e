"""What the care log may hold: one pydantic model per record, shared by the log, the API and import.

The care log validates every record it writes with these models (:mod:`iliopsoas.care.log`), and
the web API builds its request bodies from the same field types, so the command line, the API
and ``session import`` cannot store what another would reject:

* pain scores (NPRS) are whole numbers 0-10;
* measurements are finite and within the range of their kind (:data:`MEASURE_RANGES`);
* times are ISO 8601 date-times (``2026-03-31T08:00:00+00:00``) from 1900 on and never more than
  :data:`FUTURE_TOLERANCE` after this machine's clock (a record "from 2099" is refused);
* statuses, scopes, levels and sides come from closed lists; every integer and text is bounded;
* a questionnaire (:class:`OutcomeRecord`) must be scorable by its published rules
  (:mod:`iliopsoas.care.outcomes`); its score is recomputed from the answers, never taken as given;
* a quiz card (:class:`StudyCardRecord`) holds a well-formed FSRS card state and a rating 1-4.

:func:`validate` returns the model or raises :class:`RecordError`, whose one-line message names
the record, the field and what was expected (``sessions[3].nprs_before: expected ... got 99``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from iliopsoas.care.measures import MEASURES
from iliopsoas.care.outcomes import MEASURE_IDS, OutcomeError, score

MEASURE_KINDS = ("nprs", "psfs", "thomas_hip_deg", "thomas_knee_deg", "standing_tilt_deg")
SESSION_STATUSES = ("running", "completed", "stopped", "interrupted", "incomplete")
STEP_STATUSES = ("done", "skipped")
SCREEN_SCOPES = ("full", "session")
SCREEN_LEVELS = ("emergency", "urgent", "not_screened", "soon", "contraindication", "clear")

#: the range each measurement kind may take (one source: care/measures.py, with units and change bands)
MEASURE_RANGES: dict[str, tuple[float, float]] = {k: (float(m.low), float(m.high)) for k, m in MEASURES.items()}

#: how far after this machine's clock a record's time may lie (clocks of two machines differ a little)
FUTURE_TOLERANCE = timedelta(minutes=10)
EARLIEST_YEAR = 1900

MeasureKind = Literal["nprs", "psfs", "thomas_hip_deg", "thomas_knee_deg", "standing_tilt_deg"]
SessionStatus = Literal["running", "completed", "stopped", "interrupted", "incomplete"]
StepStatus = Literal["done", "skipped"]
Side = Literal["left", "right"]
ScreenScope = Literal["full", "session"]
ScreenLevel = Literal["emergency", "urgent", "not_screened", "soon", "contraindication", "clear"]


class RecordError(ValueError):
    """A record the care log refuses; the message names the record, the field and what was expected."""


def now_iso() -> str:
    """This machine's time now, as the care log stores times (UTC, milliseconds)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def parse_time(text: str) -> datetime:
    """An ISO 8601 date-time (a naive one is taken as UTC); ValueError with what was expected."""
    if not isinstance(text, str) or not 10 <= len(text) <= 40:
        raise ValueError(f"expected an ISO 8601 date-time such as 2026-03-31T08:00:00+00:00, got {text!r}")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"expected an ISO 8601 date-time such as 2026-03-31T08:00:00+00:00, got {text!r}"
        ) from None
    if dt.year < EARLIEST_YEAR:
        raise ValueError(f"expected a date-time from {EARLIEST_YEAR} on, got {text!r}")
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _timestamp(text: str, info: ValidationInfo) -> str:
    dt = parse_time(text)
    now = (info.context or {}).get("now") or datetime.now(UTC)
    if dt > now + FUTURE_TOLERANCE:
        raise ValueError(
            f"expected a time not after this machine's clock ({now.isoformat(timespec='seconds')}), got {text!r}"
        )
    return text


Timestamp = Annotated[str, AfterValidator(_timestamp)]
Nprs = Annotated[int, Field(strict=True, ge=0, le=10, description="pain 0 (none) to 10 (worst imaginable)")]
Seconds = Annotated[float, Field(strict=True, ge=0, le=3600, allow_inf_nan=False)]
SetIndex = Annotated[int, Field(strict=True, ge=1, le=100)]
Reps = Annotated[int, Field(strict=True, ge=0, le=1000)]
StepId = Annotated[str, Field(min_length=1, max_length=200)]
StepKind = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[a-z][a-z0-9_-]*$")]
Note = Annotated[str, Field(max_length=2000)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MeasureRecord(_Record):
    """One measurement: pain, PSFS, a Thomas-test angle or the standing pelvic tilt."""

    kind: MeasureKind
    value: float = Field(strict=True, allow_inf_nan=False)
    taken_at: Timestamp
    side: Side | None = None
    note: Note | None = None

    @field_validator("value")
    @classmethod
    def _in_range(cls, value: float, info: ValidationInfo) -> float:
        kind = info.data.get("kind")
        if kind in MEASURE_RANGES:
            lo, hi = MEASURE_RANGES[kind]
            if not lo <= value <= hi:
                raise ValueError(f"{kind} must be between {lo:g} and {hi:g}, got {value:g}")
        return value


class StepRecord(_Record):
    """One finished or skipped set of one exercise (per side)."""

    step_id: StepId
    kind: StepKind | None = None
    set_index: SetIndex | None = None
    side: Side | None = None
    reps: Reps | None = None
    hold_s: Seconds | None = None
    status: StepStatus = "done"
    completed_at: Timestamp


class SessionRecord(_Record):
    """A guided session with its sets (``id`` of an export is ignored: the log numbers its own)."""

    id: int | None = Field(None, strict=True, ge=1, le=2**53)
    started_at: Timestamp
    finished_at: Timestamp | None = None
    status: SessionStatus = "completed"
    nprs_before: Nprs | None = None
    nprs_after: Nprs | None = None
    note: Note | None = None
    plan: dict[str, Any] | None = None
    steps: list[StepRecord] = Field(default_factory=list, max_length=10_000)


class ScreenRecord(_Record):
    """One safety screen: the answers and the outcome as evaluated when it was taken."""

    taken_at: Timestamp
    scope: ScreenScope
    level: ScreenLevel
    blocked: bool = Field(strict=True)
    answers: dict[Annotated[str, Field(min_length=1, max_length=100)], Annotated[bool, Field(strict=True)]] = (
        Field(max_length=500)
    )


OutcomeMeasure = Literal["psfs", "hoos12", "ihot12", "odi"]
AnswerKey = Annotated[str, Field(min_length=1, max_length=100)]
#: an answer as given (whole numbers stay whole); the questionnaire's own rules check its range
AnswerValue = Annotated[int, Field(strict=True)] | Annotated[float, Field(strict=True, allow_inf_nan=False)] | None


class OutcomeRecord(_Record):
    """One filled-in questionnaire (PSFS, HOOS-12, iHOT-12, ODI): the answers as given and their score.

    The answers must be scorable by the questionnaire's published rules; ``score`` is always
    recomputed from them (a score in the input is ignored), so no file can store a wrong one.
    """

    taken_at: Timestamp
    measure: OutcomeMeasure
    answers: dict[AnswerKey, AnswerValue] = Field(max_length=50)
    score: float | None = Field(None, allow_inf_nan=False)
    note: Note | None = None

    @model_validator(mode="before")
    @classmethod
    def _scored(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or data.get("measure") not in MEASURE_IDS:
            return data  # the field checks name what is wrong
        answers = data.get("answers")
        if not isinstance(answers, Mapping) or not all(
                v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in answers.values()):
            return data
        try:
            result = score(str(data["measure"]), answers)
        except OutcomeError as exc:
            raise ValueError(f"answers: {exc}") from None
        return {**data, "score": result.score}


class FsrsCardState(_Record):
    """The spaced-repetition state of one quiz card, as the ``fsrs`` package (v6) writes it."""

    card_id: int = Field(strict=True, ge=0, le=2**63 - 1)
    state: int = Field(strict=True, ge=1, le=3, description="1 learning, 2 review, 3 relearning")
    step: int | None = Field(None, strict=True, ge=0, le=1000)
    stability: float | None = Field(None, ge=0, le=1e6, allow_inf_nan=False)
    difficulty: float | None = Field(None, ge=0, le=100, allow_inf_nan=False)
    due: str
    last_review: str | None = None

    @field_validator("due", "last_review")
    @classmethod
    def _when(cls, value: str | None) -> str | None:
        if value is not None:
            parse_time(value)
        return value


class StudyCardRecord(_Record):
    """One atlas quiz card: which statement, its FSRS state, how often it was reviewed and the last rating."""

    statement_id: Annotated[str, Field(min_length=1, max_length=300)]
    card: FsrsCardState
    reviews: int = Field(strict=True, ge=0, le=1_000_000)
    last_rating: int | None = Field(None, strict=True, ge=1, le=4, description="1 again, 2 hard, 3 good, 4 easy")
    updated_at: Timestamp

    @property
    def due(self) -> str:
        return self.card.due


class CareLogExport(_Record):
    """A whole exported log, as ``data export`` writes it and ``data import`` reads it (questionnaires
    and quiz cards are optional, so exports written before they existed still import)."""

    format: Literal["iliopsoas-care-log"]
    schema_version: int | None = Field(None, strict=True, ge=1, le=1000)
    exported_at: str | None = Field(None, max_length=40)
    sessions: list[SessionRecord] = Field(default_factory=list, max_length=100_000)
    screens: list[ScreenRecord] = Field(default_factory=list, max_length=100_000)
    measures: list[MeasureRecord] = Field(default_factory=list, max_length=1_000_000)
    outcomes: list[OutcomeRecord] = Field(default_factory=list, max_length=100_000)
    study_cards: list[StudyCardRecord] = Field(default_factory=list, max_length=100_000)

    @field_validator("sessions", "screens", "measures", "outcomes", "study_cards", mode="before")
    @classmethod
    def _none_is_empty(cls, v: Any) -> Any:
        return [] if v is None else v


M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], data: Mapping[str, Any], *, where: str = "", now: datetime | None = None) -> M:
    """``model`` validated from ``data``, or :class:`RecordError` naming ``where`` and the field."""
    try:
        return model.model_validate(data, context={"now": now or datetime.now(UTC)})
    except ValidationError as exc:
        raise RecordError(describe(exc, where)) from None


def describe(exc: ValidationError, where: str = "") -> str:
    """The first problem of ``exc`` on one line: ``where.field[2].x: what was expected, got value``."""
    err = exc.errors(include_url=False)[0]
    loc = where
    for part in err.get("loc", ()):
        loc += f"[{part}]" if isinstance(part, int) else (f".{part}" if loc else str(part))
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ").replace("Input should be", "expected")
    if err["type"] == "missing":
        msg = "missing (this field is required)"
    shown = ""
    if "got " not in msg and "input" in err and err["type"] not in ("missing", "extra_forbidden"):
        shown = f", got {_short(err['input'])}"
    if err["type"] == "extra_forbidden":
        msg = "unknown field (not part of a care-log record)"
    more = len(exc.errors()) - 1
    tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{loc or 'record'}: {msg}{shown}{tail}"


def _short(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    text = repr(value)
    return text if len(text) <= 60 else text[:40] + f"… ({len(text)} characters)"
