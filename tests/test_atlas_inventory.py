"""Every structure of the inventory (anatomy-facts.md §1) is an entity of the atlas.

A row is found when its canonical name (or a part of it: "hip bone (os coxae)" -> "hip bone",
"os coxae"), its contract id (the slug of the canonical name), or one of the seed wordings
quoted in the row names an entity exactly (no typo tolerance). Missing rows are printed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from iliopsoas.knowledge import load_atlas

# rows the reference itself says are not worth modelling
NOT_MODELLED = ("not ontology entities worth modelling",)


def inventory_rows(reference_dir: Path) -> list[tuple[str, str, list[str]]]:
    """(section, canonical name, seed wordings) for every table row of §1."""
    text = (reference_dir / "anatomy-facts.md").read_text(encoding="utf-8")
    start = text.index("## 1. Entity inventory")
    end = text.index("\n## 2.", start)
    rows = []
    section = ""
    for line in text[start:end].splitlines():
        if line.startswith("### "):
            section = line[4:].strip()
            continue
        if not line.startswith("| ") or line.startswith("| canonical name") or line.startswith("|---"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if any(marker in line for marker in NOT_MODELLED):
            continue
        wordings = re.findall(r'"([^"]+)"', cells[1])
        rows.append((section, cells[0], wordings))
    return rows


def candidates(canonical: str, wordings: list[str]) -> tuple[list[str], list[str]]:
    """(ids to try, names to try) for one inventory row, most specific first."""
    bare = re.sub(r"\([^)]*\)", " ", canonical)
    bare = re.sub(r"\s+", " ", bare).strip(" ,")
    slug = re.sub(r"[^a-z0-9]+", "-", bare.lower()).strip("-")
    # "psoas / iliac fascia": the last part carries the head noun, so parts are tried last-first
    parts = [p for p in re.split(r"\s*/\s*|,\s*", bare) if p.strip()][::-1]
    ids = [slug, *(re.sub(r"[^a-z0-9]+", "-", p.lower()).strip("-") for p in parts)]
    names = [canonical, bare, *parts, *re.findall(r"\(([^)]*)\)", canonical), *wordings]
    return ids, [n for n in names if n.strip()]


def find(atlas, canonical: str, wordings: list[str]) -> str | None:
    ids, names = candidates(canonical, wordings)
    for i in ids:
        if i in atlas.entities:
            return i
    for n in names:
        e = atlas.lookup(n)
        if e is not None:
            return e.id
    return None


def test_inventory_table_is_parsed(reference_dir):
    rows = inventory_rows(reference_dir)
    assert len(rows) >= 90, len(rows)
    names = {r[1] for r in rows}
    assert {"psoas major", "iliacus", "lesser trochanter", "femoral nerve", "iliolumbar artery"} <= names


def test_every_inventory_entity_is_in_the_atlas(reference_dir):
    atlas = load_atlas()
    rows = inventory_rows(reference_dir)
    missing = []
    for section, canonical, wordings in rows:
        if find(atlas, canonical, wordings) is None:
            missing.append(f"{section}: {canonical} (seed wording: {', '.join(wordings) or '-'})")
    if missing:
        print("Inventory rows with no atlas entity:\n  " + "\n  ".join(missing))
    assert not missing, f"{len(missing)} of {len(rows)} inventory rows missing:\n" + "\n".join(missing)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("psoas", "psoas-major"),
        ("tailbone", "coccyx"),
        ("thigh bone", "femur"),
        ("sit bones", "ischial-tuberosity"),
        ("hip flexor", "iliopsoas"),
        ("QL", "quadratus-lumborum"),
        ("IT band", "iliotibial-tract"),
        ("SI joint", "sacroiliac-joint"),
    ],
)
def test_lay_words_of_the_articles_resolve(word, expected):
    atlas = load_atlas()
    assert atlas.resolve(word).id == expected
