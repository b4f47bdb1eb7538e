"""The atlas's record types: the shape every knowledge data file must have.

The data files under ``knowledge/data/`` are the source of truth (reviewed like code):

``sources/*.yaml``
    mapping ``source-id -> Source``: the four seed articles (``seed-000`` … ``seed-003``) and the
    literature / reference works (``TMA-PM``, ``SP-IP``, ``BOGDUK92`` …). Ids are unique across files.
``entities/<kind-group>.yaml``
    mapping ``entity-id -> Entity``; each entity carries its own ``statements`` list (the entity is
    the statement's subject): the authoritative anatomy.
``statements/*.yaml``
    a list of ``SubjectStatement`` (a statement with an explicit ``subject``): what each seed article
    asserts (``seed-000.yaml`` …), kept apart so the articles' claims never overwrite the anatomy.
``claims.yaml``
    mapping ``claim-id -> Claim`` for every claim of the seed ledger (``C000-05`` …).
``conflicts.yaml``
    mapping ``conflict-id -> Conflict`` (``K1`` … ): points on which statements disagree, each
    split into named positions (the sides) plus the ground every side accepts.

Ids are lower-case slugs (``psoas-major``, ``lesser-trochanter``); statement ids are globally unique
(by convention ``<subject>.<predicate>.<slug>``). Prose fields are written in our own words: facts
carry over from the articles, sentences never do.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
StatementId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]*$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Kind(StrEnum):
    muscle = "muscle"
    muscle_group = "muscle_group"
    tendon = "tendon"
    fascia = "fascia"
    ligament = "ligament"
    bursa = "bursa"
    connective_tissue = "connective_tissue"
    cartilage = "cartilage"
    bone = "bone"
    bony_landmark = "bony_landmark"
    joint = "joint"
    nerve = "nerve"
    nerve_plexus = "nerve_plexus"
    nervous_structure = "nervous_structure"
    vessel = "vessel"
    organ = "organ"
    organ_system = "organ_system"
    region = "region"
    receptor = "receptor"
    clinical_test = "clinical_test"  # an examination such as the Thomas test (how done, how read)


class Laterality(StrEnum):
    paired = "paired"  # one on each side (left and right)
    midline = "midline"  # a single, median structure (sacrum, coccyx, diaphragm)
    not_applicable = "not_applicable"  # systems, generic tissues


class IdStatus(StrEnum):
    confirmed = "confirmed"  # read in the ontology release or a cross-checked infobox
    unconfirmed = "unconfirmed"  # a candidate seen once; shown but flagged
    not_found = "not_found"  # searched, nothing found; never invent one


class Xref(_Strict):
    id: str | None = Field(None, description="e.g. 'UBERON:0001298' or 'FMA:18060'")
    status: IdStatus = IdStatus.not_found
    note: str | None = None

    @model_validator(mode="after")
    def _id_matches_status(self) -> Xref:
        if self.status is IdStatus.not_found and self.id is not None:
            raise ValueError("an id is given but status is 'not_found'")
        if self.status is not IdStatus.not_found and self.id is None:
            raise ValueError(f"status is '{self.status.value}' but no id is given")
        return self


class Xrefs(_Strict):
    uberon: Xref = Field(default_factory=lambda: Xref(id=None))
    fma: Xref = Field(default_factory=lambda: Xref(id=None))


class Predicate(StrEnum):
    origin = "origin"
    insertion = "insertion"
    innervation = "innervation"  # object: nerve; qualifiers.levels: ["L1", "L2", ...]
    blood_supply = "blood_supply"
    crosses_joint = "crosses_joint"
    action = "action"  # literal movement; qualifiers: joint, fixed_end, plane, role
    antagonist_of = "antagonist_of"
    synergist_of = "synergist_of"
    part_of = "part_of"
    fascial_connection = "fascial_connection"
    adjacent_to = "adjacent_to"
    variant = "variant"  # literal prevalence range; qualifiers: population
    associated_condition = "associated_condition"
    intervention = "intervention"  # literal; qualifiers.dosage
    lay_term = "lay_term"  # a lay word used for this structure (correct or not: see status)
    property = "property"  # any other literal fact (size, shape, "longest muscle")
    function = "function"  # non-movement roles (stabilises, compresses the spine)
    located_in = "located_in"


class Status(StrEnum):
    consistent = "consistent"
    contradicted = "contradicted"
    disputed = "disputed"
    opinion = "opinion"


class SourceRef(_Strict):
    """A citation of one source by a statement, optionally where in it."""

    source: str
    locator: str | None = Field(None, description="section, table, page or quoted heading")


class Literal(_Strict):
    """A literal object: a value with an optional unit, or a numeric range."""

    value: str | float | int | None = None
    unit: str | None = None
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _something(self) -> Literal:
        if self.value is None and self.min is None and self.max is None:
            raise ValueError("a literal needs a value or a min/max range")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        return self


class Statement(_Strict):
    """One sourced assertion about its subject (the entity that lists it)."""

    id: StatementId
    predicate: Predicate
    object: Slug | None = Field(None, description="an entity id")
    literal: Literal | None = None
    qualifiers: dict[str, Any] = Field(default_factory=dict)
    sources: list[SourceRef] = Field(min_length=1)
    status: Status
    note: str | None = Field(None, description="why this status; our own words")
    conflicts_with: list[StatementId] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_object(self) -> Statement:
        if (self.object is None) == (self.literal is None):
            raise ValueError("give exactly one of 'object' (an entity id) or 'literal'")
        return self


class SubjectStatement(Statement):
    """A statement kept outside its subject's entity record (``statements/*.yaml``)."""

    subject: Slug


class Entity(_Strict):
    id: Slug
    name: str
    kind: Kind
    synonyms: list[str] = Field(default_factory=list)
    laterality: Laterality
    xrefs: Xrefs = Field(default_factory=Xrefs)
    latin: str | None = None
    summary: str | None = Field(None, description="one or two sentences in our own words")
    mentioned_in: list[str] = Field(default_factory=list, description="seed keys: '000'..'003'")
    statements: list[Statement] = Field(default_factory=list)


class SourceKind(StrEnum):
    seed_article = "seed_article"
    reference_work = "reference_work"  # textbook, encyclopedia, atlas site
    research = "research"  # peer-reviewed paper or review
    model = "model"  # a published musculoskeletal model


class Source(_Strict):
    id: str
    title: str
    kind: SourceKind
    publisher: str | None = None
    authors: str | None = None
    year: int | None = None
    doi: str | None = None
    url: str | None = None
    note: str | None = None


class Verdict(StrEnum):
    consistent = "consistent"
    contradicted = "contradicted"
    disputed = "disputed"
    opinion = "opinion"


class ModelVerdictKind(StrEnum):
    supports = "supports"
    contradicts = "contradicts"
    depends = "depends"  # depends on posture / parameters
    not_testable = "not_testable"


class ModelVerdict(_Strict):
    """What one of our model analyses says about a claim (filled by mechanics/posture)."""

    verdict: ModelVerdictKind
    value: float | None = None
    unit: str | None = None
    analysis: str
    note: str | None = None


class Claim(_Strict):
    id: Annotated[str, Field(pattern=r"^C\d{3}-\d{2}$")]
    article: Annotated[str, Field(pattern=r"^\d{3}$")]
    text: str = Field(description="our paraphrase of the claim")
    verdict: Verdict
    basis: str | None = Field(None, description="why this verdict, with source keys")
    sources: list[SourceRef] = Field(default_factory=list)
    statements: list[StatementId] = Field(default_factory=list)
    model_verdict: ModelVerdict | None = None


class Position(_Strict):
    """One side of a :class:`Conflict`: what its statements hold on the disputed point.

    ``opposes`` names the positions of the same conflict this one disagrees with; left out, it
    opposes every other position. A conflict with several disputed points (how many joints
    iliacus crosses *and* how many psoas crosses) pairs each side only with its counterpart.
    """

    id: Slug
    label: str = Field(min_length=1, description="what this side holds, in a short phrase of our own words")
    statements: list[StatementId] = Field(min_length=1)
    opposes: list[Slug] | None = None


class Conflict(_Strict):
    """A point on which sources disagree, split into the sides (:class:`Position`) they take.

    Statements conflict only with the statements of the positions their own position opposes;
    ``agreed`` holds statements every side accepts (the shared ground, shown as context, linked
    to nothing). ``statements`` is every member (positions in order, then ``agreed``); when a data
    file gives it, the store checks that positions and ``agreed`` cover it exactly.
    """

    id: Annotated[str, Field(pattern=r"^K\d+$")]
    title: str
    positions: list[Position] = Field(min_length=2)
    agreed: list[StatementId] = Field(default_factory=list)
    statements: list[StatementId] = Field(min_length=2)
    claims: list[str] = Field(default_factory=list)
    resolution: str

    @model_validator(mode="before")
    @classmethod
    def _members_from_positions(cls, data: Any) -> Any:
        """Fill ``statements`` from the positions and ``agreed`` when the record leaves it out."""
        if not isinstance(data, dict):
            return data
        if "positions" not in data and "statements" in data:
            raise ValueError(
                "positions are missing: a conflict names its sides, each with an id, a label and the "
                "statements that take it (a flat statements list no longer says who disagrees with whom)"
            )
        if "statements" in data:
            return data
        members: list[Any] = []
        positions = data.get("positions")
        for p in positions if isinstance(positions, list) else []:
            ids = p.get("statements") if isinstance(p, dict) else None
            members += ids if isinstance(ids, list) else []
        agreed = data.get("agreed")
        members += agreed if isinstance(agreed, list) else []
        return {**data, "statements": list(dict.fromkeys(members))}  # once each, in order

    def position_of(self, statement_id: str) -> Position | None:
        """The position that holds ``statement_id`` (``None`` when it is agreed or not a member)."""
        return next((p for p in self.positions if statement_id in p.statements), None)

    def opposed(self, position: Position) -> list[Position]:
        """The positions ``position`` disagrees with (every other one unless it names them)."""
        if position.opposes is None:
            return [p for p in self.positions if p.id != position.id]
        return [p for p in self.positions if p.id in position.opposes]
