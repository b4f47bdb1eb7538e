"""Neighbours asked from either side: "which muscle does the sciatic nerve pass below?", "the ureter
crosses which muscle?", "which organ lies on the upper part of the psoas?".

The question names one structure, asks for a kind of structure ("which muscle", "what organ") and says
a position (lies, runs, passes, crosses, rests, below, in front of, beside ...). The adjacency statement
linking the named structure with one of the sought kind answers, whichever of the two the atlas records
it under; among several, the one whose wording shares most of the question's words ("upper part").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from iliopsoas.knowledge.ask_docs import Doc
from iliopsoas.knowledge.ask_index import _NOUN_KINDS, Query, _stem

__all__ = ["POSITION_WORDS", "SOUGHT", "neighbour_asked"]

POSITION_WORDS = re.compile(r"\b(lies?|lying|sits?|sitting|runs?|running|pass(?:es)?|passing|cross(?:es)?|crossing|"
                             r"descends?|rests?|resting|emerges?|exits?|leaves?|beside|next to|in front of|behind|below|"
                             r"beneath|under|underneath|above|on top of|between|groove|alongside|neighbou?rs?)\b")
SOUGHT = re.compile(r"\b(?:which|what)(?: \w+)? (muscles?|nerves?|bones?|arter\w*|organs?|vessels?|tendons?|structures?)\b")


def neighbour_asked(index: Any, q: Query, ranked: Sequence[tuple[Doc, float]], top_s: float) -> tuple[Doc, float] | None:
    """A neighbour asked from either side ("which muscle does the sciatic nerve pass below?", "the ureter
    crosses which muscle?"): the best-ranked adjacency statement linking a structure named in the question
    with one of the kind sought, when it ranks near the top; None otherwise."""
    sought = SOUGHT.search(q.asked)
    if q.qtype not in ("other", "which_of") or not q.entities or sought is None or not POSITION_WORDS.search(q.asked):
        return None
    noun = sought.group(1)
    kinds = next((k for n, k in _NOUN_KINDS.items() if noun.startswith(n)), ())
    if not kinds:
        return None
    named = set(q.entities)
    wanted = {_stem(w) for w in q.content if len(w) > 2}
    best: tuple[int, float, Doc] | None = None
    for d, s in ranked[:12]:
        if d.kind != "fact" or d.predicate != "adjacent_to" or d.status != "consistent" or s < top_s - 0.8:
            continue
        ends = [x for x in (d.subject, *d.objects) if x]
        others = [x for x in ends if x not in named]
        if named & set(ends) and others and all(index.kind_of(x) in kinds for x in others):
            said = len(wanted & {_stem(w) for w in re.findall(r"[a-z]+", d.sentence.lower())})  # "on the upper part"
            if best is None or (said, s) > best[:2]:
                best = (said, s, d)
    return (best[2], best[1]) if best else None
