"""Readable citations of atlas sources: "Bandy et al. 1997. The effect of time ... . https://doi.org/...".

Used by Ask (answers list their sources this way) and by the atlas page. Only what the source
record holds is shown; nothing is guessed: a source without authors is cited by its publisher,
one without a year leaves the year out, and the link is the DOI when there is one, else the URL.

>>> from iliopsoas.knowledge.schema import Source
>>> src = Source(id="BANDY1997", title="The effect of time and frequency of static stretching",
...              kind="research", authors="Bandy WD, Irion JM, Briggler M", year=1997,
...              doi="10.1093/ptj/77.10.1090")
>>> cite(src)
'Bandy et al. 1997. The effect of time and frequency of static stretching. https://doi.org/10.1093/ptj/77.10.1090'
>>> short_cite(src)
'Bandy et al. 1997'
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["author_text", "cite", "link", "short_cite"]

_INITIALS = re.compile(r"^[A-Z]{1,3}$")


def _surname(author: str) -> str:
    """'Bandy WD' -> 'Bandy'; 'van Dillen LR' -> 'van Dillen'; a lone name is kept."""
    words = author.strip().rstrip(".").split()
    while len(words) > 1 and _INITIALS.match(words[-1].replace(".", "")):
        words.pop()
    return " ".join(words)


def author_text(authors: str | None) -> str | None:
    """The author part: one surname, "A & B" for two, "A et al." for three or more (or when marked)."""
    if not authors or not authors.strip():
        return None
    text = authors.strip()
    etal = bool(re.search(r"\bet al\.?", text))
    text = re.sub(r",?\s*\bet al\.?", "", text).strip().rstrip(",")
    names = [n for n in re.split(r",|;| and ", text) if n.strip()]
    if not names:
        return None
    if etal or len(names) >= 3:
        return f"{_surname(names[0])} et al."
    if len(names) == 2:
        return f"{_surname(names[0])} & {_surname(names[1])}"
    return _surname(names[0])


def link(source: Any) -> str | None:
    """``https://doi.org/<doi>`` when the source has a DOI, else its URL, else ``None``."""
    doi = getattr(source, "doi", None)
    if doi:
        doi = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", doi.strip(), flags=re.I)
        return f"https://doi.org/{doi}"
    return getattr(source, "url", None) or None


def short_cite(source: Any) -> str:
    """"Author et al. Year" (or the publisher, or the seed article's key) for inline mentions."""
    who = author_text(getattr(source, "authors", None))
    if who is None:
        kind = getattr(getattr(source, "kind", None), "value", getattr(source, "kind", None))
        who = source.id if kind == "seed_article" else getattr(source, "publisher", None) or source.id
    year = getattr(source, "year", None)
    return f"{who} {year}" if year else who


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "?", "!")) else text + "."


def cite(source: Any) -> str:
    """A full readable citation: "Author et al. Year. Title. Journal. DOI-or-link" (parts that exist only)."""
    head = short_cite(source)
    seed = getattr(getattr(source, "kind", None), "value", getattr(source, "kind", None)) == "seed_article"
    parts = [f"Article {source.id}" if seed else head if not head.startswith(source.id) else "", source.title]
    publisher = getattr(source, "publisher", None)
    if publisher and (seed or author_text(getattr(source, "authors", None)) is not None):
        parts.append(publisher)  # the journal and volume when authors are named; who runs a seed article
    text = " ".join(_sentence(p) for p in parts if p and p.strip())
    where = link(source)
    return f"{text} {where}" if where else text
