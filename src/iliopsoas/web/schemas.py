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
    short: str = Field("", description="author-year (or publisher) for inline mentions, e.g. 'Bandy et al. 1997'")
    cite: str = Field("", description="author, year, title, journal and DOI/link as one readable citation")
    link: str | None = Field(None, description="https://doi.org/... when the source has a DOI, else its URL")
    form: str | None = Field(None, description="what kind of text it is, when the record says (e.g. 'encyclopaedia entry')")


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
    label: str = Field("", description="anatomical label, e.g. 'Hip flexion (right)'")


class MuscleGroupOut(BaseModel):
    name: str
    fascicles: list[str]
    label: str = Field("", description="anatomical label, e.g. 'Psoas major (right)'")
    fascicle_labels: list[str] = Field(default_factory=list,
                                       description="one per fascicle, e.g. 'Psoas major, L3 transverse-process fascicle (right)'")


class MeshOut(BaseModel):
    body: str
    label: str
    vertices: int
    faces: int


class ModelInfo(BaseModel):
    name: str
    source: str
    coordinates: list[CoordinateOut]
    muscles: list[MuscleGroupOut]
    default_muscle: str
    default_coordinate: str
    meshes: int = Field(description="number of bone meshes in the scene")
    mesh_source: str = Field("", description="where the bone meshes come from (shipped simplified Pose2Sim meshes, "
                                             "a --geometry folder, or none: bones drawn as segments)")
    bone_meshes: list[MeshOut] = Field(default_factory=list, description="the scene's bone meshes by body")
    bounds_m: list[list[float]] = Field(default_factory=list,
                                        description="[[x, y, z] min, [x, y, z] max] of the default scene, m (camera framing)")
    quantities: list[str] = Field(default_factory=list, description="what POST /api/model/curves can compute")
    loaded_file: str | None = Field(None, description="the .osim file loaded through POST /api/model/osim, if any")


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


Quantity = Literal["moment_arm", "length", "fiber_length", "passive_force", "active_force"]


class CurvesIn(_In):
    muscle: str = Field(min_length=1, max_length=200, description="a muscle group from GET /api/model",
                        examples=["psoas_major_r"])
    quantity: Quantity = Field("moment_arm", description="moment_arm (cm), length (muscle-tendon, cm), fiber_length "
                               "(% of optimal), passive_force (N, relaxed), active_force (N, at `activation`)")
    coordinate: str = Field(min_length=1, max_length=200, description="the coordinate a moment arm is about",
                            examples=["hip_flexion_r"])
    sweep: str | None = Field(None, max_length=200, description="the coordinate on the x axis (default: coordinate)")
    coordinates: Degrees = Field(default_factory=dict, description="the rest of the pose, degrees")
    exact: bool = Field(False, description="moment arm as the exact -dL/dq instead of OpenSim's computeMomentArm")
    activation: float = Field(1.0, ge=0.0, le=1.0, description="activation for active_force")
    points: int = Field(41, ge=2, le=121)


class BandOut(BaseModel):
    source: str = Field(description="source key, e.g. BLEMKER2005")
    citation: str
    series: str = Field(description="'upper'/'lower' bound of a band, or one curve ('subject 1', 'women')")
    muscle: str
    coordinate: str
    angle_deg: list[float]
    value: list[float] = Field(description="moment arm, cm, OpenSim sign convention")


class CurvesOut(BaseModel):
    muscle: str
    muscle_label: str
    quantity: str
    unit: str
    method: str = Field(description="how the values were computed")
    coordinate: str
    coordinate_label: str
    sweep: str
    sweep_label: str
    sweep_deg: list[float]
    fascicles: list[str]
    fascicle_labels: list[str]
    values: list[list[float | None]] = Field(description="(points, fascicles)")
    aggregate: str = Field(description="'mean' (lengths, moment arms) or 'sum' (forces) of the fascicles")
    aggregate_values: list[float | None]
    current_deg: float
    current: list[float | None]
    current_aggregate: float | None
    bands: list[BandOut] = Field(default_factory=list, description="published curves for this muscle and coordinate")


class OsimUploadIn(_In):
    filename: str = Field(min_length=1, max_length=200, description="the file's name (shown on the page)",
                          examples=["Rajagopal2016.osim"])
    text: str = Field(min_length=1, description="the .osim XML text (at most MAX_OSIM_BYTES)")


# ------------------------------------------------------------------------------------------ care
def _screen_answers_model() -> type[BaseModel]:
    """One optional true/false field per screening item (ids from knowledge/data/safety.yaml).

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
    release: bool = False  # pressure release is an informed opt-in (very-low evidence)
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
    """One set on one side, in play order (built by ``care.sets.expand_sets``: one source for every player)."""

    step_id: str
    name: str
    kind: str
    set_index: int
    sets: int
    side: str | None
    hold_s: float | None
    reps: int | None
    tempo_s: float | None = None
    work_s: float = Field(0.0, description="seconds of work in this set: the hold, or reps x seconds per rep")
    rest_s: float | None
    rest_after_s: float = Field(0.0, description="rest that follows this set before the next one")
    position: str | None = None
    cue: str
    feel: str = ""
    stop_if: list[str] = Field(default_factory=list)
    dosage_text: str = ""
    evidence_grade: str = ""
    figure: str | None = Field(None, description="URL of the exercise picture, when one is available")


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
    nprs_after: Nprs | None = Field(None, description="pain after the session; null = not given")
    status: Literal["completed", "stopped"] = "completed"


class OutcomeIn(_In):
    answers: dict[str, Any] = Field(description="item id -> number (null = not answered); see GET /api/care/outcomes/{measure}")
    log: bool = Field(False, description="also store the answers and score in the care log")


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
