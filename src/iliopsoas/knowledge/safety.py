"""The one safety file: red flags, urgency tiers and contraindications (``knowledge/data/safety.yaml``).

The care screen (:mod:`iliopsoas.care.screening`), the program builder (:mod:`iliopsoas.care.planner`)
and Ask (:mod:`iliopsoas.knowledge.ask_safety`) all read these items, so a sign added here is
screened, gates the program and is recognised in questions at once.

>>> from iliopsoas.knowledge.safety import load_safety
>>> data = load_safety()
>>> data.item("pregnancy").contraindicates
('pressure',)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

TIERS = ("emergency", "urgent", "soon", "contraindication")
RED_FLAG_TIERS = ("emergency", "urgent")
SAFETY_FILE = "knowledge/data/safety.yaml"

__all__ = ["RED_FLAG_TIERS", "SAFETY_FILE", "TIERS", "SafetyData", "SafetyItem", "Technique", "load_safety", "sign_terms"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Technique(_Strict):
    """A self-care technique a contraindication can rule out (``pressure``: deep belly/groin pressure)."""

    id: str
    name: str
    lay: tuple[str, ...] = ()


class SafetyItem(_Strict):
    """One red flag or contraindication: what the screen asks, what to do, how people say it."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    tier: str
    group: str = Field(min_length=1)
    topic: str = Field(min_length=1)
    question: str = Field(min_length=1)
    action: str = Field(min_length=1)
    why: str | None = None
    short: str | None = None
    contraindicates: tuple[str, ...] = ()
    every_session: bool = False
    lay: tuple[str, ...] = ()
    signs: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    #: concepts that set aside a mention of the item in their own sentence only ("appendix out 20 years
    #: ago" is no recent surgery; a C-section three weeks ago in the next sentence still is)
    unless_near: tuple[str, ...] = ()
    describe: tuple[str, ...] = ()
    needs_person: bool = False
    refs: tuple[str, ...] = ()

    @field_validator("tier")
    @classmethod
    def _known_tier(cls, v: str) -> str:
        if v not in TIERS:
            raise ValueError(f"tier must be one of {', '.join(TIERS)}, got {v!r}")
        return v

    @model_validator(mode="after")
    def _contraindication_says_what_and_why(self) -> SafetyItem:
        if self.tier == "contraindication" and not (self.contraindicates and self.why):
            raise ValueError("a contraindication needs 'contraindicates' (technique ids) and 'why'")
        if self.tier != "contraindication" and self.contraindicates:
            raise ValueError(f"only contraindications list 'contraindicates' (tier is {self.tier!r})")
        return self

    @property
    def red_flag(self) -> bool:
        return self.tier in RED_FLAG_TIERS


class SafetyData(_Strict):
    """Every item in file order (emergency first) and the techniques contraindications name."""

    techniques: Mapping[str, Technique]
    items: tuple[SafetyItem, ...]
    concepts: Mapping[str, tuple[str, ...]] = Field(default_factory=dict)
    #: the warning signs, in plain words, that advice about one's own pain ends with (safety-netting)
    safety_net: str = ""

    def item(self, item_id: str) -> SafetyItem:
        for i in self.items:
            if i.id == item_id:
                return i
        raise KeyError(item_id)

    def of_tier(self, *tiers: str) -> tuple[SafetyItem, ...]:
        return tuple(i for i in self.items if i.tier in tiers)


def parse_safety(doc: Any, where: str = SAFETY_FILE) -> SafetyData:
    """Validate a parsed safety document; raise ``ValueError`` naming the file, the item and the field."""
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise ValueError(f"{where}: expected a mapping with an 'items' list")
    techniques: dict[str, Technique] = {}
    for tid, raw in (doc.get("techniques") or {}).items():
        try:
            techniques[tid] = Technique.model_validate({**(raw or {}), "id": tid})
        except (ValidationError, TypeError) as exc:
            raise ValueError(f"{where}: techniques.{tid}: {_first_error(exc)}") from None
    concepts: dict[str, tuple[str, ...]] = {}
    for name, members in (doc.get("concepts") or {}).items():
        if not isinstance(members, list) or not members or not all(isinstance(m, str) and m.strip() for m in members):
            raise ValueError(f"{where}: concepts.{name}: expected a non-empty list of words or phrases")
        concepts[str(name)] = tuple(members)
    items: list[SafetyItem] = []
    seen: set[str] = set()
    for n, raw in enumerate(doc["items"]):
        name = raw.get("id", "?") if isinstance(raw, dict) else "?"
        at = f"{where}: item {n} ({name})"
        if not isinstance(raw, dict):
            raise ValueError(f"{at}: expected a mapping, got {type(raw).__name__}")
        try:
            item = SafetyItem.model_validate(raw)
        except ValidationError as exc:
            raise ValueError(f"{at}: {_first_error(exc)}") from None
        if item.id in seen:
            raise ValueError(f"{at}: duplicate id {item.id!r}")
        unknown = [t for t in item.contraindicates if t not in techniques]
        if unknown:
            raise ValueError(f"{at}: contraindicates unknown technique(s) {unknown}; known: {sorted(techniques)}")
        for term in [t for sign in item.signs for t in sign_terms(sign)] + list(item.unless) + list(item.unless_near):
            name = term.lstrip("@")
            if name not in concepts and not term.startswith("regions>="):
                raise ValueError(f"{at}: sign term {term!r} names no concept; known: {', '.join(sorted(concepts))}")
        seen.add(item.id)
        items.append(item)
    net = doc.get("safety_net", "")
    if not isinstance(net, str):
        raise ValueError(f"{where}: safety_net: expected a sentence, got {type(net).__name__}")
    return SafetyData(techniques=techniques, items=tuple(items), concepts=concepts, safety_net=net.strip())


def sign_terms(sign: str) -> list[str]:
    """The terms of a sign ``"urine + difficulty ~6"`` -> ``["urine", "difficulty"]`` (window dropped)."""
    return [t.strip() for t in re.sub(r"~\s*\d+", "", sign).split("+") if t.strip()]


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        e = exc.errors()[0]
        loc = ".".join(str(x) for x in e["loc"])
        return f"{loc}: {e['msg']}" if loc else e["msg"]
    return str(exc)


@lru_cache(maxsize=1)
def load_safety() -> SafetyData:
    """The packaged safety file, validated once per process."""
    text = resources.files("iliopsoas.knowledge").joinpath("data/safety.yaml").read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ten times faster
    return parse_safety(yaml.load(text, Loader=loader))  # noqa: S506 - a safe loader
