"""Ask's precomputed tables and their cache, the semantic component, and the published numbers it answers."""

from __future__ import annotations

import numpy as np
import pytest

from iliopsoas.knowledge import ask_semantic
from iliopsoas.knowledge.ask import ask
from iliopsoas.knowledge.ask_index import AskIndex
from iliopsoas.knowledge.ask_tables import AskTables, TableCache, tables_key
from iliopsoas.knowledge.store import load_atlas


@pytest.fixture(scope="module")
def embedder():
    e = ask_semantic.load()
    if e is None:
        pytest.skip("wordllama is not installed (Ask then ranks with BM25 alone)")
    return e


def test_the_embedding_table_ships_in_the_wheel_and_is_memory_mapped(embedder) -> None:
    weights, tokenizer = ask_semantic.package_files()
    assert weights.name.endswith(".safetensors") and tokenizer.name.endswith(".json")
    assert embedder.table.shape == (32000, 256) and isinstance(embedder.table, np.memmap)


def test_word_by_word_vectors_equal_the_tokenizer_on_whole_questions(embedder) -> None:
    """The shortcut Ask uses on questions (precomputed token ids per word) is the full encoding."""
    for text in ["where does the psoas major attach", "what nerve supplies the iliacus muscle",
                 "how long should i hold a hip flexor stretch", "the fan shaped muscle inside the pelvic bowl"]:
        whole = embedder.embed([text])[0]
        by_word = embedder.embed_words(text.split())
        assert float(whole @ by_word) > 0.999, text


def test_meaning_brings_paraphrases_closer_than_unrelated_text(embedder) -> None:
    q, near, far = embedder.embed(["a fan shaped muscle in the pelvic bowl",
                                   "A fan-shaped muscle filling the iliac fossa on the inner surface of the ilium",
                                   "The femoral nerve supplies the quadriceps"])
    assert float(q @ near) > float(q @ far)


def test_ordinary_words_are_single_tokens_and_typos_are_not(embedder) -> None:
    assert embedder.is_word("performed") and embedder.is_word("curious")
    assert not embedder.is_word("pregnent") and not embedder.is_word("illiacus")


def test_tables_are_cached_by_a_digest_of_their_inputs(tmp_path) -> None:
    atlas = load_atlas()
    cache = TableCache(tmp_path)
    index = AskIndex(atlas, cache=cache)
    files = list(tmp_path.glob("*.pickle"))
    assert len(files) == 1 and files[0].stem == tables_key(atlas, index.embedder.identity() if index.embedder else "")
    again = cache.get(files[0].stem)
    assert isinstance(again, AskTables) and [d.id for d in again.docs] == [d.id for d in index.docs]
    # another semantic identity (or any changed input) names another file: a stale table is never read
    assert tables_key(atlas, "other") != files[0].stem


def test_a_broken_cache_file_is_rebuilt_not_trusted(tmp_path) -> None:
    atlas = load_atlas()
    cache = TableCache(tmp_path)
    AskIndex(atlas, cache=cache)
    path = next(tmp_path.glob("*.pickle"))
    path.write_bytes(b"not a pickle")
    assert cache.get(path.stem) is None
    assert len(AskIndex(atlas, cache=cache).docs) > 1000


def test_the_cache_can_be_turned_off() -> None:
    assert TableCache(None).get("anything") is None


@pytest.mark.parametrize(
    ("question", "figure"),
    [
        ("what is the normal hip angle in the modified Thomas test", "11.9"),
        ("what share of healthy men stand with an anterior pelvic tilt", "85"),
        ("how much does bone shape alone tilt the pelvis", "13"),
        ("hip flexion force in newtons for men and women", "192.8"),
        ("what knee angle on the Thomas test suggests a short rectus femoris", "67"),
    ],
)
def test_published_numbers_the_project_holds_are_answered_with_their_source(question, figure) -> None:
    a = ask(question)
    assert a.answered and figure in a.answer, (question, a.answer[:200])
    assert a.sources and all(s.citation for s in a.sources)


def test_every_published_number_statement_keeps_its_verification_label() -> None:
    atlas = load_atlas()
    mine = [f for f in atlas.statements.values() if f.origin.endswith("published-numbers.yaml")]
    assert len(mine) >= 40
    labels = {"verified", "verified-secondary", "derived", "model-parameter"}
    for f in mine:
        assert str(f.qualifiers.get("verification", "")).split(" ")[0] in labels, f.id
        assert all(s.source in atlas.sources for s in f.sources), f.id
