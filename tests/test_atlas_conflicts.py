"""Conflicts distinguish the sides: statements conflict only across opposed positions of a conflict.

The fixture atlas (``tests/data/atlas_min``) checks the validation messages; the package's own data
checks the partition of the ledger's conflicts K1-K13 (issue 2 follow-up: two statements that agree,
such as "iliacus crosses the hip", must not be linked because they sit in the same conflict).
"""

from __future__ import annotations

import itertools
import re
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from iliopsoas.knowledge import DataError, load_atlas
from iliopsoas.knowledge.rdf import export, sparql, term_text
from iliopsoas.knowledge.store import _load

MINI = Path(__file__).parent / "data" / "atlas_min"


@pytest.fixture(scope="module")
def atlas():
    return load_atlas()


def linked(atlas, a: str, b: str) -> bool:
    assert a in atlas.statements and b in atlas.statements, (a, b)
    linked_ab = b in atlas.statements[a].conflicts_with
    assert linked_ab == (a in atlas.statements[b].conflicts_with), f"asymmetric link {a} / {b}"
    return linked_ab


# ----------------------------------------------------------------------------- the real partition


def test_k3_statements_that_agree_iliacus_crosses_the_hip_are_not_linked(atlas):
    hip = [
        "iliacus.crosses-joint.hip-joint",
        "seed-000.iliacus.crosses-joint.hip",
        "seed-003.iliacus.crosses-joint.hip",
    ]
    for a, b in itertools.combinations(hip, 2):
        assert not linked(atlas, a, b), f"{a} and {b} both say iliacus crosses the hip"
    assert all("K3" in atlas.statements[s].conflicts for s in hip)  # still shown with the conflict


def test_k3_one_joint_count_conflicts_with_the_two_joint_count(atlas):
    one = "iliacus.property.one-joint-hip-flexor"
    two = "seed-000.iliacus.crosses-joint.hip"
    assert atlas.statements[two].qualifiers["joint_count"] == 2
    assert linked(atlas, one, two)
    assert linked(atlas, one, "seed-003.iliacus.crosses-joint.sacroiliac")


def test_k3_pairs_each_side_only_with_its_counterpart(atlas):
    # psoas's count and iliacus's count are different disputed points of the same conflict
    assert not linked(atlas, "iliacus.property.one-joint-hip-flexor", "seed-000.psoas-major.crosses-joint.sacroiliac")
    assert not linked(atlas, "seed-000.iliacus.crosses-joint.sacroiliac", "psoas-major.crosses-joint.lumbar-intervertebral-joints")
    assert linked(atlas, "seed-000.psoas-major.crosses-joint.lumbar", "psoas-major.crosses-joint.lumbar-intervertebral-joints")


def _ledger_k1_seeds(reference_dir: Path) -> list[str]:
    text = (reference_dir / "seed-claims.md").read_text(encoding="utf-8")
    section = re.search(r"^### K1 .*?(?=^### )", text, re.M | re.S)
    assert section, "K1 missing from the ledger"
    seeds_line = next(line for line in section.group(0).splitlines() if "Seeds:" in line)
    return sorted(set(re.findall(r"\b(00[0-3])\b", seeds_line)))


def test_k1_seed_prevalence_figures_conflict_as_the_ledger_says(atlas, reference_dir):
    seeds = _ledger_k1_seeds(reference_dir)
    assert seeds == ["001", "002"]
    k1 = atlas.conflicts["K1"]
    figures = {s: f"seed-{s}.psoas-minor.variant.prevalence" for s in seeds}
    sides = {s: k1.position_of(sid) for s, sid in figures.items()}
    assert all(sides.values()) and len({p.id for p in sides.values() if p}) == len(seeds)
    for a, b in itertools.combinations(figures.values(), 2):
        assert linked(atlas, a, b)


def test_k1_figures_that_agree_are_not_linked(atlas):
    # seed-002 (absent in 40%, so 60% present) agrees with the 60% Bulgarian series and the textbook figure
    for other in ("psoas-minor.variant.bulgarian", "psoas-minor.variant.absent-40-classic"):
        assert not linked(atlas, "seed-002.psoas-minor.variant.prevalence", other)
    assert linked(atlas, "seed-002.psoas-minor.variant.prevalence", "psoas-minor.variant.prevalence-lit")
    assert linked(atlas, "seed-001.psoas-minor.variant.prevalence", "psoas-minor.variant.absent-40-classic")


def test_agreed_statements_are_kept_but_linked_to_no_one_by_their_conflict(atlas):
    k8 = atlas.conflicts["K8"]
    assert "psoas-major.part-of.iliopsoas" in k8.agreed
    assert not linked(atlas, "psoas-major.part-of.iliopsoas", "psoas-minor.part-of.iliopsoas")
    assert linked(atlas, "seed-002.psoas-minor.property.separate-muscle", "psoas-minor.part-of.iliopsoas")


def test_every_conflict_sets_a_seed_side_against_another_side(atlas):
    for k in atlas.conflicts.values():
        assert len(k.positions) >= 2, k.id
        assert set(k.statements) == {s for p in k.positions for s in p.statements} | set(k.agreed)
        seeded = [p for p in k.positions if any(s.startswith("seed-") for s in p.statements)]
        assert any(k.opposed(p) for p in seeded), f"{k.id}: no seed statement takes an opposed side"
        for p in k.positions:
            for q in k.opposed(p):
                assert p in k.opposed(q), f"{k.id}: {p.id} opposes {q.id} one way only"
                for a, b in itertools.product(p.statements, q.statements):
                    assert linked(atlas, a, b), f"{k.id}: {a} ({p.id}) vs {b} ({q.id})"


def test_partition_cuts_the_links_of_every_conflict(atlas):
    for k in atlas.conflicts.values():
        pairs = sum(linked(atlas, a, b) for a, b in itertools.combinations(k.statements, 2))
        all_pairs = len(k.statements) * (len(k.statements) - 1) // 2
        assert pairs < all_pairs, f"{k.id} still links every pair ({pairs})"


# ----------------------------------------------------------------------------- validation


def fixture_copy(tmp_path: Path, text: str) -> Path:
    root = tmp_path / "atlas"
    shutil.copytree(MINI, root)
    (root / "conflicts.yaml").write_text(text, encoding="utf-8")
    return root


def problems_of(root: Path) -> list[str]:
    with pytest.raises(DataError) as info:
        _load(root)
    return info.value.problems


K2_HEAD = "K2:\n  title: Tailbone\n  claims: [C000-05]\n  resolution: The tailbone is the coccyx.\n"
SACRUM = "seed-000.sacrum.lay-term.tailbone"
COCCYX = "coccyx.lay-term.tailbone"


def test_a_statement_in_two_positions_is_reported(tmp_path):
    root = fixture_copy(
        tmp_path,
        K2_HEAD
        + "  positions:\n"
        + f"  - {{id: sacrum, label: the sacrum, statements: [{SACRUM}]}}\n"
        + f"  - {{id: coccyx, label: the coccyx, statements: [{COCCYX}, {SACRUM}]}}\n",
    )
    assert problems_of(root) == [
        f"conflicts.yaml: K2.positions[1].statements[1]: statement {SACRUM!r} is already in position 'sacrum'; "
        "a statement takes exactly one side"
    ]


def test_a_statement_in_a_position_and_agreed_is_reported(tmp_path):
    root = fixture_copy(
        tmp_path,
        K2_HEAD
        + "  positions:\n"
        + f"  - {{id: sacrum, label: the sacrum, statements: [{SACRUM}]}}\n"
        + f"  - {{id: coccyx, label: the coccyx, statements: [{COCCYX}]}}\n"
        + f"  agreed: [{COCCYX}]\n",
    )
    (line,) = problems_of(root)
    assert line.startswith(f"conflicts.yaml: K2.agreed[0]: statement {COCCYX!r} is already in position 'coccyx'")


def test_a_listed_statement_in_no_position_is_reported(tmp_path):
    root = fixture_copy(
        tmp_path,
        K2_HEAD
        + f"  statements: [{SACRUM}, {COCCYX}]\n"
        + "  positions:\n"
        + f"  - {{id: sacrum, label: the sacrum, statements: [{SACRUM}]}}\n"
        + "  - {id: coccyx, label: the coccyx, statements: [sacrum.lay-term.tailbone-lit]}\n",
    )
    lines = problems_of(root)
    assert (
        f"conflicts.yaml: K2.statements[1]: statement {COCCYX!r} takes no side; "
        "put it in one of the positions ('sacrum', 'coccyx') or in agreed"
    ) in lines
    assert (
        "conflicts.yaml: K2.statements: 'sacrum.lay-term.tailbone-lit' is in position 'coccyx' "
        "but not in the conflict's statements"
    ) in lines
    assert any(x.startswith("conflicts.yaml: K2.positions[1].statements[0]: unknown statement") for x in lines)


def test_opposition_must_name_known_positions_and_be_mutual(tmp_path):
    root = fixture_copy(
        tmp_path,
        K2_HEAD
        + "  positions:\n"
        + f"  - {{id: sacrum, label: the sacrum, statements: [{SACRUM}], opposes: [coccyx, cocyx]}}\n"
        + f"  - {{id: coccyx, label: the coccyx, statements: [{COCCYX}], opposes: [other]}}\n"
        + "  - {id: other, label: another bone, statements: [psoas-minor.variant.prevalence-lit], opposes: [coccyx]}\n",
    )
    lines = problems_of(root)
    assert "conflicts.yaml: K2.positions[0].opposes[1]: unknown position 'cocyx' (did you mean 'coccyx'?)" in lines
    assert (
        "conflicts.yaml: K2.positions[0].opposes: 'sacrum' opposes 'coccyx' but 'coccyx' does not oppose 'sacrum'; "
        "opposition must be mutual"
    ) in lines
    assert len(lines) == 2


def test_a_flat_statement_list_without_positions_is_refused(tmp_path):
    root = fixture_copy(tmp_path, K2_HEAD + f"  statements: [{SACRUM}, {COCCYX}]\n")
    (line,) = problems_of(root)
    assert line.startswith("conflicts.yaml: K2: Value error, positions are missing")


# ----------------------------------------------------------------------------- RDF


def _positions_in_graph(data: bytes, fmt: str) -> dict[str, list[tuple[str, str, list[str], list[str]]]]:
    store = ox.Store()
    store.load(data, format={"turtle": ox.RdfFormat.TURTLE, "jsonld": ox.RdfFormat.JSON_LD}[fmt])
    res = sparql(
        store,
        """SELECT ?k ?p ?id ?order ?label ?s ?o WHERE {
             ?k a ilo:Conflict ; ilo:position ?p . ?p a ilo:Position ; ilo:positionId ?id ; ilo:order ?order ;
             rdfs:label ?label ; ilo:member ?s . OPTIONAL { ?p ilo:opposes ?o } }""",
    )
    found: dict[tuple[str, int], tuple[str, str, set[str], set[str]]] = {}
    for row in res.rows:
        kid = term_text(row["k"], compact=True).split(":", 1)[1]
        key = (kid, int(term_text(row["order"])))
        _, _, members, opposes = found.setdefault(key, (term_text(row["id"]), term_text(row["label"]), set(), set()))
        members.add(term_text(row["s"], compact=True).split(":", 1)[1])
        if row["o"] is not None:
            opposes.add(term_text(row["o"], compact=True).split(":", 1)[1])
    out: dict[str, list[tuple[str, str, list[str], list[str]]]] = {}
    for (kid, _), (pid, label, members, opposes) in sorted(found.items(), key=lambda t: (int(t[0][0][1:]), t[0][1])):
        out.setdefault(kid, []).append((pid, label, sorted(members), sorted(opposes)))
    return out


@pytest.mark.parametrize("fmt", ["turtle", "jsonld"])
def test_rdf_round_trip_keeps_positions(atlas, fmt):
    expected = {
        k.id: [
            (p.id, p.label, sorted(p.statements), sorted(f"{k.id}-{o.id}" for o in k.opposed(p)))
            for p in k.positions
        ]
        for k in sorted(atlas.conflicts.values(), key=lambda k: int(k.id[1:]))
    }
    assert _positions_in_graph(export(atlas, fmt), fmt) == expected


def test_rdf_agreed_statements_and_links_follow_the_sides(atlas):
    store = ox.Store()
    store.load(export(atlas, "turtle"), format=ox.RdfFormat.TURTLE)
    agreed = sparql(store, "SELECT ?s WHERE { conflict:K3 ilo:agreed ?s }")
    assert {term_text(r["s"], compact=True) for r in agreed.rows} == {f"stmt:{s}" for s in atlas.conflicts["K3"].agreed}
    hip = sparql(
        store,
        "ASK { stmt:seed-000.iliacus.crosses-joint.hip ilo:conflictsWith stmt:seed-003.iliacus.crosses-joint.hip }",
    )
    assert hip.boolean is False


# ----------------------------------------------------------------------------- web


def test_web_conflicts_list_their_sides(tmp_path):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient

    from iliopsoas.web import create_app

    with TestClient(create_app(db=tmp_path / "care.sqlite3")) as client:
        rows = {c["id"]: c for c in client.get("/api/atlas/conflicts").json()}
        entity = client.get("/api/atlas/entities/iliacus").json()
    k3 = rows["K3"]
    sides = {p["id"]: p for p in k3["positions"]}
    assert sides["iliacus-one-joint"]["opposes"] == ["iliacus-two-joints", "iliopsoas-three-joints"]
    assert "seed-000.iliacus.crosses-joint.hip" in sides["iliacus-two-joints"]["statements"]
    assert "iliacus.crosses-joint.hip-joint" in k3["agreed"]
    assert {f["id"] for f in k3["statements"]} == {s for p in k3["positions"] for s in p["statements"]} | set(k3["agreed"])
    assert any(c["id"] == "K3" and c["positions"] for c in entity["conflicts"])


# ----------------------------------------------------------------------------- CLI


def test_show_marks_agreed_statements_as_shared_ground_not_as_a_conflict():
    from typer.testing import CliRunner

    from iliopsoas.cli import app

    env = {"ILIOPSOAS_ATLAS_DIR": "", "COLUMNS": "250"}
    out = CliRunner().invoke(app, ["atlas", "show", "iliacus"], env=env).stdout
    lines = out.splitlines()

    def status_of(text: str, sources: str) -> str:  # the status cell: the row's line and the next
        i = next(i for i, line in enumerate(lines) if f"│ {text} " in line and sources in line)
        return lines[i].split("│")[4] + lines[i + 1].split("│")[4]

    # K8: iliacus is part of the iliopsoas on every side, so its statement is shared ground
    agreed = status_of("iliopsoas", "WP-IP, SP-IP, RP-IP")
    assert "agreed by all sides of K8" in agreed and "⚠" not in agreed
    # K9: a statement that takes a side keeps the warning
    medial = status_of("hip medial rotation", "GPN-IL")
    assert "⚠ K9" in medial and "agreed" not in medial
    k8 = out[out.index("⚠ K8") :]
    assert "agreed by every side" in k8[: k8.index("╰")]
    k9 = out[out.index("⚠ K9") :]
    assert "agreed by every side" not in k9[: k9.index("╰")]
