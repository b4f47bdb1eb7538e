"""Every red flag and every contraindication gates the program (parametrized over the YAML)."""

from __future__ import annotations

import math

import pytest

from iliopsoas.care.planner import build_plan
from iliopsoas.care.screening import (
    DISCLAIMER,
    TIERS,
    AnswersError,
    evaluate,
    item_ids,
    load_items,
    pain_rising,
    parse_answers,
)

ITEMS = load_items()


def all_no() -> dict[str, bool]:
    return {i.id: False for i in ITEMS}


def by_tier(*tiers: str) -> list:
    return [pytest.param(i, id=i.id) for i in ITEMS if i.tier in tiers]


def test_every_tier_is_represented_and_ids_are_unique():
    assert {i.tier for i in ITEMS} == set(TIERS)
    assert len({i.id for i in ITEMS}) == len(ITEMS)
    # the cauda-equina items are on the short every-session checklist
    assert {"bladder-retention", "bladder-bowel-control", "saddle-numbness"} <= set(item_ids("session"))


def test_all_no_gives_a_clear_full_program():
    result = evaluate(all_no())
    assert result.level == "clear" and not result.blocked and result.release_allowed
    plan = build_plan(result)
    assert not plan.blocked
    assert [s.kind for s in plan.steps][:2] == ["stretch", "strengthen"]  # release only when opted in


@pytest.mark.parametrize("item", by_tier("emergency", "urgent"))
def test_red_flag_blocks_the_program_with_plain_instructions(item):
    answers = all_no() | {item.id: True}
    plan = build_plan(evaluate(answers))
    assert plan.blocked
    assert plan.steps == ()
    codes = {r.code: r for r in plan.reasons}
    reason = codes[f"red-flag-{item.tier}"]
    assert item.id in reason.items
    wanted = "emergency" if item.tier == "emergency" else "24-48 hours"
    assert wanted in reason.message or wanted in item.action
    assert plan.to_json()["disclaimer"] == DISCLAIMER


@pytest.mark.parametrize("item", by_tier("contraindication"))
def test_contraindication_removes_every_pressure_release_step_and_says_why(item):
    answers = all_no() | {item.id: True}
    plan = build_plan(evaluate(answers))
    assert not plan.blocked
    assert plan.steps, "stretching, strengthening and habits remain"
    assert all(s.kind != "release" and not s.pressure for s in plan.steps)
    removed = {i for i, code in plan.removed if code == "pressure-release-removed"}
    assert {"psoas-release", "iliacus-release"} <= removed
    reason = next(r for r in plan.reasons if r.code == "pressure-release-removed")
    assert reason.items == (item.id,)
    assert item.topic in reason.message


@pytest.mark.parametrize("item", by_tier("soon"))
def test_soon_flag_keeps_the_program_but_asks_for_a_clinician_review(item):
    plan = build_plan(evaluate(all_no() | {item.id: True}))
    assert not plan.blocked and plan.clinician_review
    assert any(r.code == "clinician-review" and item.id in r.items for r in plan.reasons)


@pytest.mark.parametrize("item", [pytest.param(i, id=i.id) for i in ITEMS])
def test_an_unanswered_item_is_never_taken_as_no(item):
    answers = all_no()
    del answers[item.id]
    result = evaluate(answers)
    assert result.blocked and result.level in ("not_screened", "emergency", "urgent")
    assert result.missing == (item.id,)
    assert build_plan(result).steps == ()


def test_session_scope_only_requires_the_short_checklist():
    short = {i: False for i in item_ids("session")}
    assert not evaluate(short, scope="session").blocked
    assert evaluate(short, scope="full").blocked


def test_answers_are_validated_with_suggestions():
    with pytest.raises(AnswersError, match="did you mean: pregnancy"):
        parse_answers({"pregnancyy": True})
    with pytest.raises(AnswersError, match="true or false"):
        parse_answers({"pregnancy": 3})
    assert parse_answers({"pregnancy": "yes", "hernia": "no", "clots": None}) == {
        "pregnancy": True,
        "hernia": False,
    }


def test_pain_rising_needs_two_sessions_two_points_above_baseline():
    nan = math.nan
    assert not pain_rising([])
    assert not pain_rising([[3, 3], [5, 4]])  # once only
    assert pain_rising([[3, 3], [5, 4], [4, 5]])
    assert not pain_rising([[3, 3], [4, 4], [4, 4]])  # +1 is noise
    assert pain_rising([[nan, 2], [nan, 4], [4, nan]])  # baseline from "after" when "before" is missing
    plan = build_plan(evaluate(all_no()), nprs_history=[[3, 3], [5, 5], [6, 5]])
    assert plan.clinician_review and not plan.blocked
    assert any(r.code == "pain-rising" and "clinician review" in r.message for r in plan.reasons)
