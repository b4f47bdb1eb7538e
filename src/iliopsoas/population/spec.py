"""A population spec: what varies between people, what to measure, what to compute.

A spec is YAML (``iliopsoas population example`` prints a documented one). It names

* ``sources`` -- each source of variation between people: the model parameter it sets
  (see :data:`iliopsoas.population.solve.PARAMETERS`), its distribution, and its citation;
* ``measurements`` -- per person: clinical angles in each posture scenario, muscle tensions at
  the solved pose, moment arms at chosen poses;
* ``statistics`` -- what the studies computed (correlations, means, proportions, group
  differences), each beside the published figure it answers;
* ``sensitivity`` -- the outcomes whose variance is split among the sources.

Variables in statistics are named ``scenario.measurement`` (e.g. ``thomas.thomas_hip_deg``) or by
a source's name (the sampled value); a leading ``-`` negates (Heino's hip *extension* range is
the negative of the Thomas thigh angle).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

EXAMPLE_FILE = Path(__file__).resolve().parent / "data" / "example.yaml"
NAME = r"^[a-z][a-z0-9_]*$"


class SpecError(ValueError):
    """The spec is malformed; the message names the place and what was expected."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Normal(_Strict):
    """Normal, optionally truncated to ``[low, high]`` (sampled by inverse CDF, never clipped)."""

    type: Literal["normal"]
    mean: float
    sd: Annotated[float, Field(gt=0)]
    low: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _bounds(self) -> Normal:
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self


class LogNormal(_Strict):
    """Log-normal with the given ``median`` and ``sigma`` (standard deviation of the log)."""

    type: Literal["lognormal"]
    median: Annotated[float, Field(gt=0)]
    sigma: Annotated[float, Field(gt=0)]


class Uniform(_Strict):
    type: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _bounds(self) -> Uniform:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self


class Bernoulli(_Strict):
    """Present (1) with probability ``p``, else absent (0)."""

    type: Literal["bernoulli"]
    p: Annotated[float, Field(ge=0, le=1)]


class Constant(_Strict):
    type: Literal["constant"]
    value: float


Distribution = Annotated[Normal | LogNormal | Uniform | Bernoulli | Constant, Field(discriminator="type")]


class Source(_Strict):
    """One source of variation between people."""

    parameter: str = Field(description="the model parameter it sets (population.solve.PARAMETERS)")
    target: str | None = Field(default=None, description="for per-muscle parameters: the muscle target, e.g. iliacus")
    distribution: Distribution
    citation: Annotated[str, Field(min_length=3)]


class MomentArm(_Strict):
    name: Annotated[str, Field(pattern=NAME)]
    muscle: str = Field(description="a muscle group, e.g. psoas_major")
    coordinate: str = Field(description="e.g. hip_flexion")
    pose_deg: dict[str, float] = Field(default_factory=dict)


class Measurements(_Strict):
    scenarios: dict[str, list[str]] = Field(description="scenario -> angle names to keep")
    muscle_forces: dict[str, list[str]] = Field(default_factory=dict, description="scenario -> muscle groups")
    moment_arms: list[MomentArm] = Field(default_factory=list)


class Published(_Strict):
    value: float | None = None
    ci: tuple[float, float] | None = None
    sd: float | None = None
    n: int | None = None
    text: str | None = Field(default=None, description="the figure in words when it is not one number")


class Split(_Strict):
    """People split in two by a variable: ``variable > above`` (or ``== 1`` for a present/absent source)."""

    variable: str
    above: float = 0.5


class Statistic(_Strict):
    name: Annotated[str, Field(min_length=3)]
    kind: Literal["correlation", "mean", "proportion", "group_difference"]
    x: str | None = None
    y: str | None = None
    variable: str | None = None
    above: float | None = None
    by: Split | None = None
    method: Literal["pearson", "spearman"] = "pearson"
    published: Published = Field(default_factory=lambda: Published())
    citation: Annotated[str, Field(min_length=3)]
    claims: list[str] = Field(default_factory=list, description="atlas claim ids this statistic speaks to")
    note: str | None = None

    @model_validator(mode="after")
    def _fields(self) -> Statistic:
        need = {"correlation": ("x", "y"), "mean": ("variable",), "proportion": ("variable", "above"),
                "group_difference": ("variable", "by")}[self.kind]
        missing = [f for f in need if getattr(self, f) is None]
        if missing:
            raise ValueError(f"a {self.kind} statistic needs {', '.join(missing)}")
        return self


class Sensitivity(_Strict):
    outcomes: list[str] = Field(default_factory=list)
    resamples: Annotated[int, Field(ge=0, le=1000)] = 100


class Spec(_Strict):
    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    sampler: Literal["sobol", "lhs", "monte_carlo"] = "sobol"
    side: Literal["right", "left"] = "right"
    sources: dict[Annotated[str, Field(pattern=NAME)], Source]
    measurements: Measurements
    statistics: list[Statistic] = Field(default_factory=list)
    sensitivity: Sensitivity = Field(default_factory=Sensitivity)

    def digest(self) -> str:
        """A short hash of the spec's content (what a stored run is keyed by)."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _where(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def parse_spec(data: Any, origin: str = "spec") -> Spec:
    """Validate a spec given as a mapping; check names against the model's vocabulary."""
    if not isinstance(data, dict):
        raise SpecError(f"{origin}: expected a mapping with name, sources, measurements; got {type(data).__name__}")
    try:
        spec = Spec.model_validate(data)
    except ValidationError as exc:
        e = exc.errors()[0]
        raise SpecError(f"{origin}: {_where(e['loc'])}: {e['msg']}") from None
    from iliopsoas.population.solve import check_spec

    check_spec(spec, origin)
    _check_variables(spec, origin)
    return spec


def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"{p}: cannot read the spec ({exc.strerror or exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" line {mark.line + 1}" if mark is not None else ""
        raise SpecError(f"{p}:{at}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    return parse_spec(data, str(p))


def example_text() -> str:
    """The documented example spec (YAML, with comments)."""
    return EXAMPLE_FILE.read_text(encoding="utf-8")


def example_spec() -> Spec:
    return parse_spec(yaml.safe_load(example_text()), "example spec")


def variables(spec: Spec) -> set[str]:
    """Every variable name a statistic may use."""
    out = set(spec.sources)
    for sc, names in spec.measurements.scenarios.items():
        out |= {f"{sc}.{a}" for a in names}
    for sc, groups in spec.measurements.muscle_forces.items():
        out |= {f"{sc}.{g}_force_n" for g in groups}
    out |= {f"moment_arms.{m.name}" for m in spec.measurements.moment_arms}
    return out


def _check_variables(spec: Spec, origin: str) -> None:
    known = variables(spec)

    def check(v: str | None, where: str) -> None:
        if v is None:
            return
        if v.lstrip("-") not in known:
            raise SpecError(f"{origin}: {where}: unknown variable {v!r}; expected one of {', '.join(sorted(known))}")

    for i, s in enumerate(spec.statistics):
        for f in ("x", "y", "variable"):
            check(getattr(s, f), f"statistics.{i}.{f}")
        if s.by is not None:
            check(s.by.variable, f"statistics.{i}.by.variable")
    for i, o in enumerate(spec.sensitivity.outcomes):
        check(o, f"sensitivity.outcomes.{i}")
        if o.lstrip("-") in spec.sources:
            raise SpecError(f"{origin}: sensitivity.outcomes.{i}: {o!r} is a source, not a measured outcome")

