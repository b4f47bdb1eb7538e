"""Request and response bodies of the JSON API (pydantic; they make the OpenAPI schema).

Angles cross this edge in degrees and lengths in centimetres where people read them; the
libraries behind the API work in SI units.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from iliopsoas.care.records import (
    MeasureKind,
    Note,
    Nprs,
    Reps,
    Seconds,
    SetIndex,
    Side,
    StepId,
    StepStatus,
)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------------------------------ atlas
class EntityBrief(BaseModel):
    id: str
    name: str
    kind: str
    score: float | None = None


class SourceBrief(BaseModel):
    id: str
    title: str
    kind: str | None = None
    year: int | None = None
    url: str | None = None


class FactOut(BaseModel):
    id: str
    subject: str
    subject_name: str
    predicate: str
    object: str | None
    object_name: str | None
    text: str = Field(description="the object or literal, as words")
    qualifiers: dict[str, Any]
    sources: list[dict[str, Any]]
    status: str
    note: str | None
    conflicts_with: list[str]
    conflicts: list[str]


class PositionOut(BaseModel):
    id: str
    label: str
    statements: list[str] = Field(description="ids of the statements that take this side")
    opposes: list[str] = Field(description="ids of the positions this side disagrees with")


class ConflictOut(BaseModel):
    id: str
    title: str
    resolution: str
    claims: list[str]
    positions: list[PositionOut]
    agreed: list[str] = Field(description="ids of the statements every side accepts")
    statements: list[FactOut]


class EntityOut(BaseModel):
    id: str
    name: str
    kind: str
    latin: str | None
    summary: str | None
    synonyms: list[str]
    laterality: str
    facts: list[FactOut]
    mentioned_by: list[FactOut]
    conflicts: list[ConflictOut]
    sources: dict[str, SourceBrief]


class SparqlIn(_In):
    query: str = Field(min_length=1, max_length=100_000, description="a SPARQL 1.1 query (no SERVICE)",
                       examples=["SELECT ?e ?name WHERE { ?e a ilo:Entity ; skos:prefLabel ?name } LIMIT 5"])
    max_rows: int = Field(1000, ge=1, le=10_000, description="return at most this many results")
    timeout_s: float = Field(10.0, ge=0.1, le=30.0, description="stop the query after this many seconds")


class SparqlOut(BaseModel):
    kind: Literal["select", "ask", "graph"]
    variables: list[str]
    rows: list[dict[str, str | None]] = Field(description="SELECT: variable -> term as text (None = unbound)")
    boolean: bool | None = Field(description="ASK: the answer")
    triples: list[list[str]] = Field(description="CONSTRUCT/DESCRIBE: [subject, predicate, object] as text")
    truncated: bool = Field(description="more results than max_rows existed")


# ------------------------------------------------------------------------------------------ ask
class AskIn(_In):
    question: str = Field(min_length=1, max_length=1000, description="a question in English")

    @field_validator("question")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("the question is blank; expected a question in words")
        return v


# ------------------------------------------------------------------------------------------ model
class CoordinateOut(BaseModel):
    name: str
    min_deg: float
    max_deg: float
    default_deg: float


class MuscleGroupOut(BaseModel):
    name: str
    fascicles: list[str]


class ModelInfo(BaseModel):
    name: str
    source: str
    coordinates: list[CoordinateOut]
    muscles: list[MuscleGroupOut]
    default_muscle: str
    default_coordinate: str
    meshes: int = Field(description="number of bone meshes loaded from the Geometry folder")


Degrees = dict[str, float]


class PoseIn(_In):
    coordinates: Degrees = Field(default_factory=dict, description="slider coordinate -> angle in degrees",
                                 examples=[{"hip_flexion_r": 30.0, "L5_S1_flex_ext": -5.0}])
    muscles: list[str] | None = Field(None, max_length=200, description="muscle groups to draw (default: all)",
                                      examples=[["psoas_major_r", "iliacus_r"]])
    meshes: bool = True


class PoseOut(BaseModel):
    segments: list[dict[str, Any]]
    origins: dict[str, list[float]]
    muscles: list[dict[str, Any]]
    meshes: list[dict[str, Any]]


class MomentArmIn(_In):
    muscle: str = Field(min_length=1, max_length=200, description="a muscle group from GET /api/model",
                        examples=["psoas_major_r"])
    coordinate: str = Field(min_length=1, max_length=200, description="the coordinate the moment arm is about",
                            examples=["hip_flexion_r"])
    sweep: str | None = Field(None, max_length=200, description="the coordinate swept on the x axis (default: coordinate)")
    coordinates: Degrees = Field(default_factory=dict, description="the rest of the pose, degrees",
                                 examples=[{"hip_adduction_r": 10.0}])
    points: int = Field(41, ge=2, le=121)


class MomentArmOut(BaseModel):
    muscle: str
    coordinate: str
    sweep: str
    sweep_deg: list[float]
    fascicles: list[str]
    moment_arm_cm: list[list[float]] = Field(description="(points, fascicles), cm; positive = flexion/extension per OpenSim sign")
    current_deg: float
    current_cm: list[float]
    mean_current_cm: float


# ------------------------------------------------------------------------------------------ care
def _screen_answers_model() -> type[BaseModel]:
    """One optional true/false field per screening item (ids from care/data/screening.yaml).

    Unknown keys are let through here so that the screening library can name them with a
    "did you mean" hint; it rejects them with a 422.
    """
    from iliopsoas.care.screening import load_items

    fields: dict[str, Any] = {
        i.id.replace("-", "_"): (bool | None, Field(None, alias=i.id, description=f"[{i.tier}] {i.question}"))
        for i in load_items()
    }
    return create_model(  # type: ignore[call-overload,no-any-return]
        "ScreenAnswers", __config__=ConfigDict(extra="allow", populate_by_name=False), **fields
    )


ScreenAnswers = _screen_answers_model()


def screen_dict(answers: BaseModel) -> dict[str, Any]:
    """The answers keyed by item id (unanswered items left out)."""
    return {k: v for k, v in answers.model_dump(by_alias=True).items() if v is not None}


class ScreenIn(_In):
    answers: ScreenAnswers = Field(description="screening item id -> true/false")  # type: ignore[valid-type]
    log: bool = True


class AssessIn(_In):
    inputs: dict[str, Any] = Field(description="assessment input -> value (see GET /api/care/assess/inputs)",
                                   examples=[{"thomas_hip_deg": 8, "arched_low_back": True}])
    log: bool = True


class PlanOptionsIn(_In):
    band: bool = True
    release: bool = True
    release_hold_s: float | None = Field(None, ge=0, le=3600)
    stretch_hold_s: float | None = Field(None, ge=0, le=3600)
    strengthen_sets: int | None = Field(None, ge=1, le=20)
    strengthen_reps: int | None = Field(None, ge=1, le=200)
    max_strengthen: int = Field(2, ge=1, le=3)


class PlanIn(_In):
    screen: ScreenAnswers = Field(description="screening item id -> true/false")  # type: ignore[valid-type]
    assessment: dict[str, Any] = Field(default_factory=dict)
    options: PlanOptionsIn = Field(default_factory=lambda: PlanOptionsIn.model_validate({}))


# The care bodies below use the care log's own field types (iliopsoas.care.records), which the log
# validates again on write: the API, the command line and `session import` accept the same values.
class SessionStartIn(PlanIn):
    nprs_before: Nprs | None = Field(None, description="pain now, 0-10")


class SessionSet(BaseModel):
    step_id: str
    name: str
    kind: str
    set_index: int
    sets: int
    side: str | None
    hold_s: float | None
    reps: int | None
    rest_s: float | None
    cue: str


class SessionStartOut(BaseModel):
    session_id: int
    plan: dict[str, Any]
    sets: list[SessionSet]


class StepIn(_In):
    step_id: StepId
    set_index: SetIndex | None = None
    side: Side | None = None
    reps: Reps | None = None
    hold_s: Seconds | None = None
    status: StepStatus = "done"


class StepOut(BaseModel):
    id: int
    session_id: int
    steps_done: int
    steps_skipped: int


class FinishIn(_In):
    nprs_after: Nprs | None = None
    status: Literal["completed", "stopped"] = "completed"


class MeasureIn(_In):
    kind: MeasureKind
    value: float = Field(ge=-180, le=180, allow_inf_nan=False, description="in the range of its kind")
    side: Side | None = None
    note: Note | None = None  # the range of each kind (MEASURE_RANGES) is checked by the route and the log


# ------------------------------------------------------------------------------------------ posture
class TightnessIn(_In):
    shortening_pct: float = Field(0.0, ge=0, le=40, description="fibre shortening, % of optimal fibre length")
    stiffness: float = Field(1.0, ge=0.5, le=3.0, description="scale of the passive fibre force")


class PostureIn(_In):
    scenario: Literal["supine", "standing", "sitting", "thomas", "prone"] = "standing"
    side: Literal["right", "left"] = "right"
    tightness: dict[str, TightnessIn] = Field(default_factory=dict, max_length=20,
                                              description="target (psoas, iliacus, rectus_femoris, …) -> tightness",
                                              examples=[{"psoas": {"shortening_pct": 20}}])
