"""``iliopsoas atlas …``: every command, its JSON shape and its exit codes.

Most tests run on the small fixture atlas (``ILIOPSOAS_ATLAS_DIR``); the tests marked "real data"
check the issue's acceptance criteria on the package's own data.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iliopsoas.cli import app

MINI = Path(__file__).parent / "data" / "atlas_min"
runner = CliRunner()

STATEMENT_KEYS = {
    "id",
    "predicate",
    "object",
    "literal",
    "qualifiers",
    "sources",
    "status",
    "note",
    "conflicts_with",
    "conflicts",
}


def run(*args: str, data: Path | None = MINI, stdin: str | None = None):
    env = {"ILIOPSOAS_ATLAS_DIR": str(data)} if data else {"ILIOPSOAS_ATLAS_DIR": ""}
    env["COLUMNS"] = "140"
    return runner.invoke(app, ["atlas", *args], env=env, input=stdin)


def run_json(*args: str, data: Path | None = MINI):
    res = run(*args, "--json", data=data)
    assert res.exit_code == 0, res.stderr + res.stdout
    return json.loads(res.stdout)


# ----------------------------------------------------------------------------- list / show / search


def test_list_json_and_kind_filter():
    rows = run_json("list")
    assert len(rows) == 11
    assert set(rows[0]) == {"id", "name", "kind", "laterality", "synonyms", "statements"}
    muscles = run_json("list", "--kind", "muscles")
    assert {r["id"] for r in muscles} == {"psoas-major", "psoas-minor", "iliacus", "iliopsoas"}


def test_list_unknown_kind_exits_1_with_a_suggestion():
    res = run("list", "--kind", "musle")
    assert res.exit_code == 1
    assert "did you mean 'muscle'" in res.stderr


def test_show_json_shape():
    d = run_json("show", "Psoas Major")
    assert {"id", "name", "kind", "synonyms", "xrefs", "statements"} <= set(d)
    assert d["id"] == "psoas-major" and d["kind"] == "muscle"
    assert d["xrefs"]["uberon"] == {"id": "UBERON:0001298", "status": "confirmed", "note": None}
    assert set(d["xrefs"]) == {"uberon", "fma"}
    for st in d["statements"]:
        assert set(st) == STATEMENT_KEYS
        assert st["sources"] and all("source" in s for s in st["sources"])


def test_show_lists_object_side_statements_separately():
    d = run_json("show", "lesser trochanter")
    assert d["statements"] == []
    assert {s["subject"] for s in d["mentioned_by"]} == {"psoas-major", "iliacus"}


def test_show_is_typo_tolerant_and_reads_lay_words():
    assert run_json("show", "illiacus")["id"] == "iliacus"
    assert run_json("show", "tailbone")["id"] == "coccyx"
    assert run_json("show", "thigh bone")["id"] == "femur"


def test_show_unknown_name_exits_1_with_closest_names():
    res = run("show", "psoas banana split")
    assert res.exit_code == 1
    assert "unknown name" in res.stderr and "closest:" in res.stderr
    assert "Traceback" not in res.stderr + res.stdout


def test_show_human_output_marks_conflicts_and_status():
    res = run("show", "psoas minor")
    assert res.exit_code == 0
    out = res.stdout
    assert "psoas minor" in out and "variant" in out
    assert "⚠ K1" in out and "consistent" in out
    assert "seed-001" in out and "CP-PMIN" in out


def test_search_json():
    hits = run_json("search", "psoas")
    assert hits[0]["id"] == "psoas-major"
    assert set(hits[0]) == {"id", "name", "kind", "score"}
    assert run_json("search", "qqqzzzxx") == []


# ----------------------------------------------------------------------------- claims / conflicts


def test_claims_json_shape_and_filters():
    rows = run_json("claims")
    assert len(rows) == 5
    assert set(rows[0]) == {"id", "article", "text", "verdict", "statements", "model_verdict", "population"}
    assert [r["id"] for r in run_json("claims", "--verdict", "contradicted")] == ["C000-05", "C001-09"]
    assert [r["id"] for r in run_json("claims", "--verdict", "opinion/marketing", "--article", "1")] == [
        "C001-04"
    ]
    assert [r["id"] for r in run_json("claims", "--article", "seed-002")] == ["C002-11"]
    mv = next(r for r in rows if r["id"] == "C001-09")["model_verdict"]
    assert mv["verdict"] == "contradicts" and mv["analysis"] == "example"


@pytest.mark.parametrize(
    ("args", "needle"), [(("--verdict", "maybe"), "--verdict"), (("--article", "007"), "--article")]
)
def test_claims_bad_filter_exits_1(args, needle):
    res = run("claims", *args)
    assert res.exit_code == 1 and needle in res.stderr


def test_conflicts_json_and_human():
    rows = run_json("conflicts")
    assert [r["id"] for r in rows] == ["K1", "K2"]
    k1 = rows[0]
    assert set(k1) == {"id", "title", "resolution", "claims", "positions", "agreed", "statements"}
    assert {s["subject"] for s in k1["statements"]} == {"psoas-minor"}
    assert [p["id"] for p in k1["positions"]] == ["range-40-60", "about-60", "depends-on-population"]
    assert k1["positions"][0] == {
        "id": "range-40-60",
        "label": "present in roughly 40-60% of people",
        "statements": ["seed-001.psoas-minor.variant.prevalence"],
        "opposes": ["about-60", "depends-on-population"],
    }
    assert k1["agreed"] == []
    res = run("conflicts")
    assert res.exit_code == 0 and "K1" in res.stdout and "Psoas minor prevalence" in res.stdout
    assert "Side range-40-60: present in roughly 40-60% of people" in res.stdout


# ----------------------------------------------------------------------------- sparql / export


def test_sparql_select_json():
    d = run_json("sparql", "SELECT ?m WHERE { ?m ilo:insertion ent:lesser-trochanter } ORDER BY ?m")
    assert d["kind"] == "select" and d["variables"] == ["m"]
    assert [r["m"] for r in d["rows"]] == [
        "https://w3id.org/iliopsoas/entity/iliacus",
        "https://w3id.org/iliopsoas/entity/psoas-major",
    ]


def test_sparql_ask_and_construct_and_stdin():
    assert run_json("sparql", "ASK { ent:femur a ilo:Entity }") == {"kind": "ask", "boolean": True}
    d = run_json("sparql", "CONSTRUCT { ?e a ilo:Entity } WHERE { ?e a ilo:Entity }")
    assert d["kind"] == "graph" and len(d["triples"]) == 11
    res = run("sparql", "-", stdin="SELECT ?s WHERE { ?s ilo:id ?id }")
    assert res.exit_code == 0 and "10 result(s)" in res.stdout


def test_sparql_statement_ids_with_dots_work_as_prefixed_names():
    d = run_json("sparql", "SELECT ?st WHERE { stmt:seed-000.sacrum.lay-term.tailbone ilo:status ?st }")
    assert d["rows"] == [{"st": "contradicted"}]


def test_malformed_sparql_exits_2_with_the_parser_message():
    res = run("sparql", "SELECT ?x WHERE {")
    assert res.exit_code == 2
    assert "malformed SPARQL" in res.stderr and "error at" in res.stderr
    assert "Traceback" not in res.stderr + res.stdout


@pytest.mark.parametrize("fmt", ["turtle", "jsonld"])
def test_export_to_file_round_trips(tmp_path, fmt):
    from iliopsoas.knowledge.rdf import count_triples

    out = tmp_path / f"atlas.{fmt}"
    d = run_json("export", "--format", fmt, "--out", str(out))
    assert d["format"] == fmt and d["path"] == str(out)
    assert count_triples(out.read_bytes(), fmt) == d["triples"] > 100


def test_export_to_stdout_and_bad_format():
    res = run("export", "--format", "turtle")
    assert res.exit_code == 0 and res.stdout.startswith("@prefix")
    bad = run("export", "--format", "xml")
    assert bad.exit_code == 2 and "--format" in bad.stderr
    assert run("export", "--format", "jsonld", "--json").exit_code == 2


# ----------------------------------------------------------------------------- broken data


def test_broken_data_exits_3_with_one_line_per_problem(tmp_path):
    root = tmp_path / "atlas"
    shutil.copytree(MINI, root)
    f = root / "entities" / "muscles.yaml"
    f.write_text(f.read_text().replace("object: lesser-trochanter", "object: lesser-trochanterr", 1))
    for cmd in (("show", "psoas"), ("list",), ("check",), ("sparql", "ASK {}")):
        res = run(*cmd, data=root)
        assert res.exit_code == 3, cmd
        assert "psoas-major.statements[0].object: unknown entity 'lesser-trochanterr'" in res.stderr
        assert "Traceback" not in res.stderr + res.stdout


def test_check_reports_counts():
    d = run_json("check")
    assert d["ok"] is True and d["counts"]["entities"] == 11 and d["warnings"] == []


def test_version():
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.stdout.startswith("iliopsoas ")


# ----------------------------------------------------------------------------- real data (issue 2 acceptance)


def _ledger(reference_dir: Path) -> dict[str, str]:
    """claim id -> verdict from seed-claims.md, mapped onto our four statuses."""
    text = (reference_dir / "seed-claims.md").read_text(encoding="utf-8")
    out = {}
    for m in re.finditer(
        r"^\| (C\d{3}-\d{2}) \| .*? \| (consistent|contradicted|disputed/evidence-weak|opinion/marketing) \|",
        text,
        re.M,
    ):
        out[m.group(1)] = m.group(2).split("/")[0]
    return out


def _conflict_ids(reference_dir: Path) -> list[str]:
    text = (reference_dir / "seed-claims.md").read_text(encoding="utf-8")
    return re.findall(r"^### (K\d+) ", text, re.M)


def test_real_psoas_minor_carries_conflicting_prevalence_from_001_002_and_literature():
    d = run_json("show", "psoas minor", data=None)
    prevalence = [s for s in d["statements"] if s["predicate"] == "variant"]
    by_source = {src["source"]: s for s in prevalence for src in s["sources"]}
    assert "seed-001" in by_source and "seed-002" in by_source
    literature = [s for s in prevalence if not any(x["source"].startswith("seed-") for x in s["sources"])]
    assert literature, "no literature prevalence statement for psoas minor"
    ids = {s["id"] for s in prevalence}
    for s in [by_source["seed-001"], by_source["seed-002"]]:
        assert set(s["conflicts_with"]) & ids, (
            f"{s['id']} is not marked as conflicting with another prevalence"
        )
    assert any(
        set(s["conflicts_with"]) & {by_source["seed-001"]["id"], by_source["seed-002"]["id"]}
        for s in literature
    )


def test_real_every_ledger_conflict_shows_in_atlas_conflicts(reference_dir):
    expected = _conflict_ids(reference_dir)
    assert len(expected) == 13
    rows = run_json("conflicts", data=None)
    assert [r["id"] for r in rows] == expected
    human = run("conflicts", data=None).stdout
    for kid in expected:
        assert f"⚠ {kid}" in human


def test_real_every_ledger_claim_is_present_with_its_verdict(reference_dir):
    ledger = _ledger(reference_dir)
    assert len(ledger) == 221
    rows = {r["id"]: r for r in run_json("claims", data=None)}
    missing = sorted(set(ledger) - set(rows))
    wrong = sorted(c for c in ledger if c in rows and rows[c]["verdict"] != ledger[c])
    assert not missing, f"claims missing: {missing}"
    assert not wrong, f"claims with another verdict than the ledger: {wrong}"


def test_real_every_statement_has_a_source_and_known_status():
    from iliopsoas.knowledge import load_atlas

    atlas = load_atlas()
    assert atlas.statements
    for f in atlas.statements.values():
        assert f.sources and all(s.source in atlas.sources for s in f.sources), f.id


def test_real_show_iliopsoas_main_job():
    res = run("show", "iliopsoas", data=None)
    assert res.exit_code == 0, res.stderr
    assert "iliopsoas" in res.stdout and "Traceback" not in res.stdout
