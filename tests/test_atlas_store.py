"""The atlas store: validation messages, name resolution, symmetric conflicts, the real data."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from iliopsoas.knowledge import DataError, UnknownName, load_atlas
from iliopsoas.knowledge.schema import ModelVerdict, ModelVerdictKind
from iliopsoas.knowledge.store import DATA_DIR, _load, clear_cache, normalise_name

MINI = Path(__file__).parent / "data" / "atlas_min"


@pytest.fixture(scope="module")
def mini():
    return load_atlas(MINI)


def broken(tmp_path: Path, rel: str, old: str, new: str) -> Path:
    """A copy of the mini atlas with ``old`` replaced by ``new`` (once) in file ``rel``."""
    root = tmp_path / "atlas"
    shutil.copytree(MINI, root)
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text {old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return root


def problems_of(root: Path) -> list[str]:
    with pytest.raises(DataError) as info:
        _load(root)
    return info.value.problems


# ----------------------------------------------------------------------------- loading


def test_mini_atlas_loads_with_expected_counts(mini):
    c = mini.counts()
    assert c["entities"] == 11
    assert c["statements"] == 10
    assert c["claims"] == 5
    assert c["claims_by_verdict"] == {"consistent": 2, "contradicted": 2, "disputed": 0, "opinion": 1}
    assert c["confirmed_ids"] == {"uberon": 2, "fma": 1}
    assert mini.warnings == ()


def test_load_atlas_is_cached_per_folder(mini):
    assert load_atlas(MINI) is mini
    assert load_atlas(str(MINI)) is mini


def test_keys_become_ids_and_yaml_integer_articles_are_padded(mini):
    assert mini.entities["psoas-major"].id == "psoas-major"
    assert mini.sources["TMA-PM"].id == "TMA-PM"
    assert mini.claims["C002-11"].article == "002"  # written unquoted (002) in the fixture


def test_atlas_mappings_are_read_only(mini):
    with pytest.raises(TypeError):
        mini.entities["x"] = mini.entities["femur"]  # type: ignore[index]


# ----------------------------------------------------------------------------- validation messages


def test_unknown_object_names_file_key_path_and_suggestion(tmp_path):
    root = broken(
        tmp_path, "entities/muscles.yaml", "object: lesser-trochanter", "object: lesser-trochanterr"
    )
    assert problems_of(root) == [
        "entities/muscles.yaml: psoas-major.statements[0].object: unknown entity 'lesser-trochanterr' "
        "(did you mean 'lesser-trochanter'?)"
    ]


def test_unknown_source_is_reported_with_suggestion(tmp_path):
    root = broken(
        tmp_path, "entities/muscles.yaml", "sources: [{source: CP-PMIN}", "sources: [{source: CP-PMN}"
    )
    assert problems_of(root) == [
        "entities/muscles.yaml: psoas-minor.statements[0].sources[0].source: unknown source 'CP-PMN' "
        "(did you mean 'CP-PMIN'?)"
    ]


def test_bad_kind_suggests_the_closest_kind(tmp_path):
    root = broken(
        tmp_path,
        "entities/bones.yaml",
        "kind: bone\n  laterality: paired",
        "kind: bnoe\n  laterality: paired",
    )
    (line,) = problems_of(root)
    assert line.startswith("entities/bones.yaml: femur.kind: Input should be")
    assert "got 'bnoe' (did you mean 'bone'?)" in line


def test_missing_field_and_extra_field_are_named(tmp_path):
    root = broken(tmp_path, "entities/bones.yaml", "  laterality: midline\n", "  lateralty: midline\n")
    lines = problems_of(root)
    assert "entities/bones.yaml: sacrum.laterality: required field is missing" in lines
    assert any(
        x.startswith("entities/bones.yaml: sacrum.lateralty: Extra inputs are not permitted") for x in lines
    )


def test_statement_without_sources_is_rejected(tmp_path):
    root = broken(tmp_path, "statements/seed-002.yaml", "sources: [{source: seed-002}]", "sources: []")
    (line,) = problems_of(root)
    assert line.startswith("statements/seed-002.yaml: [0].sources: List should have at least 1 item")


def test_statement_needs_exactly_one_object_or_literal(tmp_path):
    root = broken(
        tmp_path,
        "entities/muscles.yaml",
        "      object: iliopsoas\n",
        "      object: iliopsoas\n      literal: {value: x}\n",
    )
    (line,) = problems_of(root)
    assert line.startswith("entities/muscles.yaml: psoas-major.statements[1]: ")
    assert "exactly one of 'object'" in line


def test_duplicate_statement_id_points_at_the_first_definition(tmp_path):
    root = broken(
        tmp_path,
        "statements/seed-002.yaml",
        "id: seed-002.psoas-minor.variant.prevalence",
        "id: seed-001.psoas-minor.variant.prevalence",
    )
    lines = problems_of(root)
    assert (
        "statements/seed-002.yaml: [0].id: duplicate statement id 'seed-001.psoas-minor.variant.prevalence' "
        "(first in statements/seed-001.yaml: [0])"
    ) in lines


def test_duplicate_entity_across_files_and_duplicate_yaml_key(tmp_path):
    root = broken(tmp_path, "entities/bones.yaml", "coccyx:\n", "iliacus:\n")
    assert "entities/muscles.yaml: iliacus: duplicate entity id (also in entities/bones.yaml)" in problems_of(
        root
    )
    root2 = broken(tmp_path / "b", "entities/bones.yaml", "coccyx:\n", "sacrum:\n")
    (line,) = problems_of(root2)
    assert line.startswith("entities/bones.yaml: line ") and "duplicate key 'sacrum'" in line


def test_yaml_syntax_error_gives_line_and_column(tmp_path):
    root = broken(tmp_path, "conflicts.yaml", "title: Tailbone", "title: [Tailbone")
    (line,) = problems_of(root)
    assert line.startswith("conflicts.yaml: line ") and "invalid YAML" in line


def test_dangling_references_in_claims_conflicts_links_and_verdicts(tmp_path):
    root = broken(
        tmp_path,
        "claims.yaml",
        "statements: [seed-002.psoas-minor.variant.prevalence]",
        "statements: [seed-002.psoas-minor.variant.prevalense]",
    )
    (tmp := root / "conflicts.yaml").write_text(
        tmp.read_text().replace("claims: [C000-05]", "claims: [C000-5]")
    )
    (tmp := root / "statements" / "seed-000.yaml").write_text(
        tmp.read_text().replace(
            "conflicts_with: [coccyx.lay-term.tailbone]", "conflicts_with: [coccyx.lay-term.tailbon]"
        )
    )
    (root / "model_verdicts" / "bad.json").write_text('{"C009-01": {"verdict": "supports", "analysis": "x"}}')
    lines = problems_of(root)
    assert (
        "claims.yaml: C002-11.statements[0]: unknown statement 'seed-002.psoas-minor.variant.prevalense' "
        "(did you mean 'seed-002.psoas-minor.variant.prevalence'?)"
    ) in lines
    assert "conflicts.yaml: K2.claims[0]: unknown claim 'C000-5' (did you mean 'C000-05'?)" in lines
    assert (
        "statements/seed-000.yaml: [0].conflicts_with[0]: unknown statement 'coccyx.lay-term.tailbon' "
        "(did you mean 'coccyx.lay-term.tailbone'?)"
    ) in lines
    assert any(x.startswith("model_verdicts/bad.json: C009-01: unknown claim") for x in lines)
    assert len(lines) == 4  # every problem reported at once, one line each


def test_claim_id_must_match_its_key(tmp_path):
    root = broken(tmp_path, "claims.yaml", "C001-04:\n", "C001-04:\n  id: C001-40\n")
    assert problems_of(root) == ["claims.yaml: C001-04.id: 'C001-40' differs from its key 'C001-04'"]


def test_missing_folder_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        _load(tmp_path / "nowhere")


def test_synonym_shared_by_two_entities_is_a_warning(tmp_path):
    root = broken(
        tmp_path, "entities/bones.yaml", "synonyms: [thigh bone]", "synonyms: [thigh bone, sit bones]"
    )
    atlas = _load(root)
    assert len(atlas.warnings) == 1
    assert "'sit bones' also names" in atlas.warnings[0]


# ----------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("psoas major", "psoas-major"),
        ("  PSOAS   Major ", "psoas-major"),
        ("psoas-major", "psoas-major"),
        ("psoas", "psoas-major"),  # documented preferred reading
        ("psoasmajor", "psoas-major"),
        ("hip flexors", "iliopsoas"),
        ("the hip flexor", "iliopsoas"),
        ("thigh bone", "femur"),
        ("thigh bones", "femur"),
        ("sit bones", "ischial-tuberosity"),
        ("sit bone", "ischial-tuberosity"),
        ("tailbone", "coccyx"),
        ("illiacus", "iliacus"),
        ("psoas mnor", "psoas-minor"),
        ("lesser trochanterr", "lesser-trochanter"),
        ("Iliacus muscle", "iliacus"),
    ],
)
def test_resolve_tolerates_case_spacing_plurals_lay_words_and_typos(mini, name, expected):
    assert mini.resolve(name).id == expected


@pytest.mark.parametrize("nonsense", ["banana", "knee cap", "xyz", "", "   "])
def test_resolve_rejects_nonsense_with_closest_names(mini, nonsense):
    with pytest.raises(UnknownName) as info:
        mini.resolve(nonsense)
    if nonsense.strip():
        assert 1 <= len(info.value.suggestions) <= 5
        assert all(s in {e.name for e in mini.entities.values()} for s in info.value.suggestions)


def test_lookup_is_exact_only(mini):
    assert mini.lookup("Thigh Bone").id == "femur"
    assert mini.lookup("illiacus") is None


def test_normalise_name_keeps_latin_s_endings():
    assert normalise_name("Psoas") == "psoas"
    assert normalise_name("iliacus") == "iliacus"
    assert normalise_name("Lumbar vertebrae") == "lumbar vertebra"
    assert normalise_name("transverse processes") == "transverse process"


def test_search_ranks_the_named_muscle_first(mini):
    hits = mini.search("psoas")
    assert hits[0][0].id == "psoas-major"
    assert {e.id for e, _ in hits} >= {"psoas-major", "psoas-minor", "iliopsoas"}
    assert mini.search("zzzzqqq") == []


# ----------------------------------------------------------------------------- facts and conflicts


def test_facts_about_and_mentioning(mini):
    about = mini.facts_about("psoas-minor", "variant")
    assert {f.id for f in about} == {
        "psoas-minor.variant.prevalence-lit",
        "seed-001.psoas-minor.variant.prevalence",
        "seed-002.psoas-minor.variant.prevalence",
    }
    assert {f.subject for f in mini.facts_mentioning("lesser-trochanter")} == {"psoas-major", "iliacus"}
    assert mini.facts_about("psoas-major", "origin") == []


def test_conflict_group_members_conflict_with_each_other(mini):
    lit = mini.statements["psoas-minor.variant.prevalence-lit"]
    assert lit.conflicts == ("K1",)
    assert set(lit.conflicts_with) == {
        "seed-001.psoas-minor.variant.prevalence",
        "seed-002.psoas-minor.variant.prevalence",
    }


def test_conflicts_with_links_are_made_symmetric(mini):
    # only the seed-000 statement lists the link; the coccyx statement gets it back
    assert "seed-000.sacrum.lay-term.tailbone" in mini.statements["coccyx.lay-term.tailbone"].conflicts_with
    for f in mini.statements.values():
        for other in f.conflicts_with:
            assert f.id in mini.statements[other].conflicts_with


def test_claims_for_filters_by_verdict_and_article(mini):
    assert [c.id for c in mini.claims_for("contradicted")] == ["C000-05", "C001-09"]
    assert [c.id for c in mini.claims_for(article="001")] == ["C001-04", "C001-09", "C001-50"]
    assert [c.id for c in mini.claims_for("opinion", "001")] == ["C001-04"]


def test_model_verdicts_are_merged_and_with_model_verdicts_returns_a_new_atlas(mini):
    assert mini.claims["C001-09"].model_verdict.verdict is ModelVerdictKind.contradicts
    mv = ModelVerdict(verdict=ModelVerdictKind.supports, analysis="test")
    other = mini.with_model_verdicts({"C001-50": mv})
    assert other.claims["C001-50"].model_verdict == mv
    assert mini.claims["C001-50"].model_verdict is None  # the original is untouched
    with pytest.raises(DataError):
        mini.with_model_verdicts({"C999-99": mv})


# ----------------------------------------------------------------------------- the real data


def test_real_atlas_loads_from_its_cache_and_every_statement_has_a_source(tmp_path, monkeypatch):
    monkeypatch.setenv("ILIOPSOAS_CACHE_DIR", str(tmp_path / "cache"))
    t0 = time.perf_counter()
    _load(DATA_DIR)  # cold: every YAML file parsed
    cold = time.perf_counter() - t0
    clear_cache()
    t0 = time.perf_counter()
    atlas = load_atlas()  # what every later process pays: parsed files come from the cache
    warm = time.perf_counter() - t0
    assert atlas.data_dir == DATA_DIR
    assert atlas.entities, "the package has no entities yet"
    assert all(len(f.sources) >= 1 for f in atlas.statements.values())
    print(f"atlas load: cold {cold * 1000:.0f} ms, warm {warm * 1000:.0f} ms, {atlas.counts()}")
    assert load_atlas() is atlas


def test_parse_cache_gives_the_same_atlas_and_survives_corruption(tmp_path, monkeypatch):
    monkeypatch.setenv("ILIOPSOAS_CACHE_DIR", str(tmp_path / "cache"))
    cold = _load(MINI)
    files = sorted((tmp_path / "cache" / "atlas-yaml").glob("*.json"))
    assert len(files) == len(list(MINI.rglob("*.yaml")))
    warm = _load(MINI)
    assert warm.counts() == cold.counts()
    assert warm.statements == cold.statements and dict(warm.claims) == dict(cold.claims)
    for f in files:
        f.write_text("{not json")
    assert _load(MINI).counts() == cold.counts()


def test_parse_cache_never_hides_an_edit(tmp_path, monkeypatch):
    monkeypatch.setenv("ILIOPSOAS_CACHE_DIR", str(tmp_path / "cache"))
    root = broken(tmp_path, "entities/bones.yaml", "name: femur", "name: femur")
    assert _load(root).entities["femur"].name == "femur"
    f = root / "entities" / "bones.yaml"
    f.write_text(f.read_text().replace("name: femur", "name: thighbone proper"))
    assert _load(root).entities["femur"].name == "thighbone proper"


def test_any_casing_and_spacing_of_every_label_resolves_to_its_entity(mini):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    labels = sorted({(label, e.id) for e in mini.entities.values() for label in [e.name, *e.synonyms]})

    @settings(max_examples=150, deadline=None)
    @given(st.sampled_from(labels), st.randoms(use_true_random=False))
    def check(pair, rnd):
        label, eid = pair
        mangled = "".join(c.upper() if rnd.random() < 0.5 else c for c in label).replace(
            " ", " " * rnd.randint(1, 3)
        )
        assert mini.resolve("  " + mangled + " ").id == eid

    check()


def test_entity_valued_qualifiers_are_checked(tmp_path):
    root = broken(tmp_path, "entities/muscles.yaml", "joint: hip-joint", "joint: hip-jiont")
    assert problems_of(root) == [
        "entities/muscles.yaml: psoas-major.statements[3].qualifiers.joint: unknown entity 'hip-jiont' "
        "(did you mean 'hip-joint'?) (this qualifier names an entity id)"
    ]
