"""Outcome questionnaires scored as published, checked against the published worked examples and rules."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from iliopsoas.care.outcomes import MEASURE_IDS, OutcomeError, questionnaire, score
from iliopsoas.cli import app

runner = CliRunner()


def odi(values):
    return {f"S{k}": v for k, v in enumerate(values, 1)}


def test_odi_matches_the_forms_worked_examples():
    # Fairbank & Pynsent 2000 form: 16 of 50 -> 32 %; one section missed -> 16 of 45 -> 35.5 % (truncated)
    full = score("odi", odi([2, 2, 2, 2, 2, 2, 2, 2, 0, 0]))
    assert full.score == 32.0 and full.missing_items == [] and full.higher_is_better is False
    one_missing = score("odi", {**odi([2, 2, 2, 2, 2, 2, 2, 2, 0]), "S10": None})
    assert one_missing.score == pytest.approx(16 / 45 * 100, abs=0.01) and int(one_missing.score * 10) == 355
    assert one_missing.missing_items == ["S10"]
    assert full.mcid is not None and full.mcid.value == 10  # Ostelo 2008
    two_missing = score("odi", odi([5] * 8))
    assert two_missing.score is None and two_missing.missing_items == ["S9", "S10"] and two_missing.notes


def test_hoos12_scales_transform_to_0_worst_100_best_and_impute_the_scale_mean():
    best = score("hoos12", {i.id: 0 for i in questionnaire("hoos12").items})
    worst = score("hoos12", {i.id: 4 for i in questionnaire("hoos12").items})
    assert best.score == 100 and worst.score == 0
    assert best.subscales == {"pain": 100, "function": 100, "qol": 100}
    # pain 1, 2, missing, 1: the missing item takes the mean (4/3), sum 16/3 of 16 -> 66.67
    answers = {"P1": 1, "P2": 2, "P3": None, "P4": 1, "F1": 0, "F2": 0, "F3": 1, "F4": 1,
               "Q1": 2, "Q2": 2, "Q3": 1, "Q4": 1}
    r = score("hoos12", answers)
    assert r.subscales["pain"] == pytest.approx(100 - (4 / 3 * 4) / 16 * 100, abs=0.01)
    assert r.subscales["function"] == 87.5 and r.subscales["qol"] == 62.5
    assert r.score == pytest.approx((r.subscales["pain"] + 87.5 + 62.5) / 3, abs=0.01)  # Summary = mean of scales
    assert r.missing_items == ["P3"]
    # fewer than half a scale's items: no scale score, so no Summary either
    short = score("hoos12", {**answers, "P1": None, "P2": None, "P3": None})
    assert short.subscales["pain"] is None and short.score is None and short.subscales["qol"] == 62.5
    assert r.mcid is None  # no HOOS-12 MCID in our sources: none is invented


def test_ihot12_is_the_item_mean_and_needs_every_item():
    r = score("ihot12", {f"Q{k}": 8 * k for k in range(1, 13)})
    assert r.score == 52.0 and r.mcid.value == 13 and r.higher_is_better
    partial = score("ihot12", {f"Q{k}": 50 for k in range(1, 12)})
    assert partial.score is None and partial.missing_items == ["Q12"]


def test_psfs_is_the_mean_of_the_rated_activities_by_name_or_id():
    assert score("psfs", {"stairs": 4, "running": 2, "sitting long": 6}).score == 4.0
    assert score("psfs", {"activity1": 3, "activity2": 8}).score == 5.5
    assert score("psfs", {"activity1": 3}).notes  # fewer than three activities is flagged, not refused


@pytest.mark.parametrize("measure, answers, match", [
    ("odi", {"S1": 6}, r"odi item S1: expected a whole number from 0 to 5|from 0 to 5, got 6"),
    ("odi", {"S11": 1}, "unknown item 'S11'"),
    ("hoos12", {"P1": 1.5}, "whole number"),
    ("ihot12", {"Q1": "high"}, "expected a number"),
    ("psfs", {}, "at least one activity"),
    ("koos", {}, "measure must be one of"),
])
def test_bad_answers_get_one_line_naming_the_item(measure, answers, match):
    with pytest.raises(OutcomeError, match=match):
        score(measure, answers)


def test_cli_outcomes_score_json_has_the_interface_keys(tmp_path, monkeypatch):
    monkeypatch.setenv("ILIOPSOAS_DB", str(tmp_path / "c.db"))
    f = tmp_path / "odi.yaml"
    f.write_text(yaml.safe_dump(odi([2, 2, 2, 2, 2, 2, 2, 2, 0, 0])))
    r = runner.invoke(app, ["outcomes", "score", "odi", "--answers", str(f), "--json", "--log"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert {"measure", "score", "subscales", "mcid", "missing_items"} <= set(out) and out["score"] == 32.0
    listed = json.loads(runner.invoke(app, ["outcomes", "list", "--json"]).stdout)
    assert [o["measure"] for o in listed] == ["odi"] and listed[0]["result"]["score"] == 32.0
    f.write_text(yaml.safe_dump({"S1": 9}))
    r = runner.invoke(app, ["outcomes", "score", "odi", "--answers", str(f)])
    assert r.exit_code == 1 and "S1" in r.output and "Traceback" not in r.output
    assert set(MEASURE_IDS) == {"psfs", "hoos12", "ihot12", "odi"}
