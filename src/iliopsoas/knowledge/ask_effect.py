"""Yes/no "can X cause Y": decided by a reference passage about X (or its parts) that speaks of Y.

"Can the iliopsoas cause groin pain?", "is iliopsoas trouble a cause of groin pain in athletes?", "can
the iliopsoas tendon make the hip snap?": the effect's own words (groin; hip, snap) must all appear in a
consistent reference statement about the structure asked, its parts or the whole it belongs to (the
share of chronic groin pain in athletes with an iliopsoas disorder as its cause; internal snapping hip).
That passage answers **Yes** (a disputed one **Not clearly**; a condition before a figure, and a
mention denied in the passage, "men without back pain", does not count), and the conditions recorded
for the structure follow it. When no passage
speaks of the effect there is no verdict here, and the caller refuses the question as before ("can a
tight psoas cause elbow pain").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

__all__ = ["SAID_AS", "effect_asked", "effect_decision"]

_CAUSE = re.compile(
    r"\b(?:cause|causes|caused|a cause of|the cause of|lead to|leads to|give you|gives you|give|gives|result in|"
    r"results in|trigger|triggers|make|makes|behind|responsible for|be why)\s+"
    r"(?:a |an |the |your |my |you |me |someone s )?((?:[a-z]+ ?){1,4})")
_SKIP = frozenset("a an the your my you me it this that problems problem issues issue pain pains painful ache aches "
                  "trouble in of to and or at on with for people someone s feel sound sounds noise noises".split())
# everyday words for an effect and the word the passages use ("a clicking hip" is a snapping hip)
SAID_AS = {"click": "snap", "clicks": "snap", "clicking": "snapping", "clicky": "snapping", "pop": "snap",
            "pops": "snap", "popping": "snapping", "clunk": "snap", "clunking": "snapping"}


_PAIN = frozenset("pain pains painful ache aches hurt hurts sore soreness".split())
_KINDS = frozenset({"associated_condition", "property", "definition"})
_RANK = {"associated_condition": 0, "property": 1, "definition": 2}
_NEGATED = re.compile(r"\b(without|no|not|non)\b(\s+[a-z-]+){1,3}")


def effect_asked(asked: str) -> list[str]:
    """The words naming the effect of a "can X cause Y" question ("groin pain" -> ["groin", "pain"]: a pain
    must be a pain in the passage too, "lying on the back" is no back pain), or []."""
    m = _CAUSE.search(asked)
    if not m:
        return []
    said = m.group(1).split()
    words = [SAID_AS.get(w, w) for w in said if w not in _SKIP and len(w) > 2]
    return words + ["pain"] if words and _PAIN & set(said) else words


def _said(word: str, stems: set[str]) -> bool:
    from iliopsoas.knowledge.ask_index import _stem

    s = _stem(word)
    return any(t == s or len(s) >= 4 and (t.startswith(s) or s.startswith(t) and len(t) >= 4) for t in stems)


def effect_decision(index: Any, q: Any, subject: str | None, ranked: Sequence[tuple[Any, float]]) -> Any | None:
    """**Yes** (or **Not clearly**) from the reference passage about ``subject`` (or its parts or whole) that says
    every effect word, with the structure's recorded conditions as support; None when none does."""
    from iliopsoas.knowledge.ask_evidence import NOT_CLEAR
    from iliopsoas.knowledge.ask_index import _stem
    from iliopsoas.knowledge.ask_yesno import Decision

    words = effect_asked(q.asked)
    if not words or subject is None:
        return None
    family = {subject, *index.children.get(subject, ()), *index.parents.get(subject, ())}
    score = {d.id: s for d, s in ranked}
    found = []
    for d in (d for e in family for d in index.by_subject.get(e, ())):
        if d.subject not in family or d.kind not in ("fact", "entity") or d.seed \
                or d.status not in ("consistent", "disputed") or d.predicate not in _KINDS:
            continue  # a condition, a figure or what the structure is: not any passage that uses the word
        text = _NEGATED.sub(" ", f"{d.sentence} {d.body}".lower())  # "60 men without back pain" says no back pain
        stems = {_stem(w) for w in re.findall(r"[a-z]+", text)}
        if all(_said(w, stems) for w in words):
            own = d.subject == subject
            found.append((not own, _RANK.get(d.predicate, 3), -score.get(d.id, 0.0), d.id, d))
    if not found:
        return None
    found.sort(key=lambda x: x[:4])
    lead = found[0][4]
    verdict = "Yes" if lead.status == "consistent" else NOT_CLEAR  # a disputed link is said to be disputed
    conditions = [d for d in index.by_subject.get(lead.subject or subject, ())
                  if d.predicate == "associated_condition" and d.status == "consistent" and not d.seed and d is not lead]
    support = tuple([x[4] for x in found[1:2]] + conditions[:2])
    return Decision(verdict, lead, support)
