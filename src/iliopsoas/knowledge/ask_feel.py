""""Is it normal to feel X during this exercise?": the care step's own "feel" and "stop if" lines decide.

"Is it normal to feel the stretch in the front of the hip and thigh in a lunge stretch?", "should I feel
the half-kneeling stretch at the front of my thigh?", "is it normal to feel deep pressure beside the
belly button during a psoas release?": the places and sensations the question names are looked up in
the exercise's "you should feel ..." line (**Yes**) and in its "stop if ..." line (**No**: that is a
sign to stop). Words a stop line names only to exclude them ("anywhere other than the front of the
hip") do not count there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

__all__ = ["asks_feel", "feel_decision"]

_ASKS = re.compile(r"\b(normal|ok|okay|fine|supposed|expected|meant|usual|right|common)\b( \w+){0,2} (to )?(feel|be felt|"
                   r"get|have)\b|\bshould (i|you|it|we|one) (feel|be feeling)\b|\b(do|does|will|would) (i|you|it|one) "
                   r"feel\b|\bis (it|this|that) (normal|ok|okay|fine) (if|that|when)\b|\bwhere should (i|you|it) feel\b|"
                   # "I feel the release as a deep ache inside my pelvis, is that ok?"
                   r"\b(i|you) (feel|felt|get)\b.*\b(is|was) (it|this|that) (normal|ok|okay|fine|alright|all right|expected)$")
# places and sensations, as the care lines write them
_WORDS = ("front", "back", "side", "inside", "outside", "knee", "thigh", "hip", "groin", "belly", "navel", "pressure",
          "buttock", "leg", "pinch", "pulse", "numb", "tingl", "sharp", "shoot", "electric", "sick", "faint", "deep",
          "ache", "stretch", "work", "low back", "lower back", "spine", "pelvis", "abdomen", "stomach", "tummy")
_SAME = {"lower back": "low back", "stomach": "belly", "tummy": "belly", "abdomen": "belly", "belly button": "navel",
         "umbilicus": "navel", "tingling": "tingl", "numbness": "numb", "shooting": "shoot"}
_EXCLUDED = re.compile(r"\b(anywhere|somewhere)? ?other than [^;,.]*|\bnot (in|at) the [^;,.]*")


def asks_feel(raw: str) -> bool:
    return _ASKS.search(raw) is not None


def _found(text: str) -> set[str]:
    t = text.lower()
    for a, b in _SAME.items():
        t = t.replace(a, b)
    return {w for w in _WORDS if re.search(rf"\b{w}", t)}


def feel_decision(index: Any, q: Any, ranked: Sequence[tuple[Any, float]]) -> Any:
    """The verdict on "is it normal to feel X", from the care step the question is about, or None."""
    from iliopsoas.knowledge.ask_yesno import Decision

    raw = q.asked or q.text
    if not asks_feel(raw):
        return None
    step = next((d.extra.get("exercise") for d, _ in ranked[:10] if d.kind == "care" and d.extra.get("exercise")), None)
    if step is None:
        return None
    lines = {d.predicate: d for d in index.docs if d.kind == "care" and d.extra.get("exercise") == step}
    feel, stop = lines.get("feel"), lines.get("stop")
    after = raw.split(" feel", 1)[-1] if " feel" in raw else raw
    asked = _found(re.sub(r"\bhip[ -]flexors?\b|\b(psoas|iliacus) (release|stretch)\b", " ", after)) - {"stretch", "work"}
    asked |= _found(raw) & {"pinch", "pulse", "numb", "tingl", "sharp", "shoot", "electric", "sick", "faint"}
    if not asked:
        return None
    if stop is not None:
        stop_words = _found(_EXCLUDED.sub(" ", stop.sentence.split(":", 1)[-1]))
        if asked & stop_words and not (feel is not None and asked <= _found(feel.sentence.split(":", 1)[-1])):
            return Decision("No", stop, (feel,) if feel is not None else ())
    if feel is not None:
        feel_words = _found(feel.sentence.split(":", 1)[-1])
        if len(asked & feel_words) >= max(1, (len(asked) + 1) // 2):
            return Decision("Yes", feel, (stop,) if stop is not None else ())
    return None
