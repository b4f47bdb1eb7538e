"""Readable citations: author/year/title/link from the source record, never guessed."""

from __future__ import annotations

from iliopsoas.knowledge.citation import author_text, cite, link, short_cite
from iliopsoas.knowledge.schema import Source
from iliopsoas.knowledge.store import load_atlas


def test_author_text_follows_the_count_of_authors() -> None:
    assert author_text("Page P") == "Page"
    assert author_text("Bordoni B, Varacallo M") == "Bordoni & Varacallo"
    assert author_text("Bandy WD, Irion JM, Briggler M") == "Bandy et al."
    assert author_text("Winters MV, et al.") == "Winters et al."
    assert author_text(None) is None and author_text("  ") is None


def test_doi_wins_over_the_url_and_is_a_link() -> None:
    s = Source(id="X", title="T", kind="research", doi="doi:10.1/abc", url="https://example.org/x")
    assert link(s) == "https://doi.org/10.1/abc"
    assert link(Source(id="Y", title="T", kind="research")) is None


def test_nothing_is_invented_for_a_bare_source() -> None:
    s = Source(id="IC-META", title="Ischaemic compression (meta-analysis)", kind="research")
    assert cite(s) == "Ischaemic compression (meta-analysis)."
    assert short_cite(s) == "IC-META"


def test_every_atlas_source_renders_with_its_title_and_link() -> None:
    atlas = load_atlas()
    for src in atlas.sources.values():
        text = cite(src)
        assert src.title.rstrip(".?!") in text
        if src.url or src.doi:
            assert text.endswith(link(src) or "")
        if src.year:
            assert str(src.year) in text
    assert cite(atlas.sources["BANDY1997"]).startswith("Bandy et al. 1997. The effect of time")
