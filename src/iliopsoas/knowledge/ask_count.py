"""Counts of structures the atlas lists: "how many lumbar vertebrae are there?".

The count is read from the passages that describe what is asked: a number word next to the counted
noun in a structure's definition or in one of its consistent statements ("one of the five large
vertebrae", "three to five fused rudimentary vertebrae", "formed by three fused bones"). Two readings:

* the noun names the structure itself ("how many lumbar vertebrae"): its own passages count it (a
  second structure named asks for a relation, "how many lumbar vertebrae does psoas attach to", and
  takes the ordinary path);
* the noun names what makes up another structure ("how many bones fuse to form the tailbone", "how
  many vertebrae are in the lower back"): the passages of that structure, or definitions that name
  it, count the noun, and a number next to the container's own name ("the two hip bones") does not.

Among several counts the one whose passage shares most of the question's other words wins ("fuse"
and "fused"). A number that starts a list ("the two hip bones and the sacrum") or is joined to another
word ("a two-joint head") counts nothing asked; a muscle group asked by itself ("how many hamstrings")
counts its muscles. No count found: None, and the question takes the ordinary path.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from iliopsoas.knowledge.ask_tables import stem

__all__ = ["counted"]

_WORDS = ("one two three four five six seven eight nine ten eleven twelve").split()
_NUMBER = {w: i + 1 for i, w in enumerate(_WORDS)}
_NOT_STRUCTURES = frozenset("times reps repetitions sets minutes seconds hours days weeks degrees people persons "
                            "patients studies percent years".split())
_CLASS = frozenset("bones muscles parts pieces segments bits".split())
_COUNTABLE = frozenset("bone bones muscle muscles part parts piece pieces segment segments bit bits vertebra vertebrae "
                       "heads bellies layers".split())
_GENERIC_NAME_WORDS = frozenset("bone bones vertebra vertebrae muscle muscles joint joints the".split())
_ENDS = frozenset("are is do does did there in of make makes form forms fuse fused join joined have has "
                  "does make up the a an and or".split())
_ASK = re.compile(r"\bhow many ([a-z]+(?: [a-z]+)?)")


def _value(word: str) -> int | None:
    return int(word) if word.isdigit() else _NUMBER.get(word)


def _counted_noun(asked: str) -> str | None:
    m = _ASK.search(asked)
    if not m:
        return None
    words = []
    for w in m.group(1).split():
        if w in _ENDS:
            break
        words.append(w)
    return " ".join(words) or None


def _counts(text: str, head: str, exclude: set[str]) -> list[tuple[str, int, int]]:
    """``(count text, start, end)`` of each number word within three words before ``head``."""
    found = list(re.finditer(r"[a-z0-9]+", text.lower()))
    words = [m.group(0) for m in found]
    out = []
    for i, w in enumerate(words):
        low = _value(w)
        if low is None or low > 100:
            continue
        if text[found[i].end():found[i].end() + 1] == "-" and i + 1 < len(words) and stem(words[i + 1]) != head:
            continue  # "a two-joint head" counts joints, not heads
        j, high = i + 1, None
        if j + 1 < len(words) and words[j] == "to" and _value(words[j + 1]) is not None:
            high, j = _value(words[j + 1]), j + 2
        if head == "*" and (set(words[j:j + 3]) & exclude or not set(words[j:j + 3]) & _COUNTABLE):
            continue  # "the two hip bones" counts the container itself; "one on each side" counts no parts
        for k in range(j, min(j + 4, len(words))):
            if stem(words[k]) == head or head == "*" and words[k] in _COUNTABLE:  # "how many bones": bones, vertebrae ...
                between = set(words[j:k])
                if between & exclude:
                    break
                if k + 1 < len(words) and words[k + 1] == "and":
                    break  # "the two hip bones and the sacrum": part of a list, not the whole count
                text_count = f"{low}\u2013{high}" if high else str(low)
                out.append((text_count, i, k))
                break
    return out


def _names(entity: Any) -> set[str]:
    return {entity.name.lower(), *(s.lower() for s in entity.synonyms)}


def counted(index: Any, q: Any) -> Any | None:
    """A passage with the count asked for, as a doc whose ``number`` puts the count first, or None."""
    noun = _counted_noun(q.asked)
    if noun is None or not q.entities or noun.split()[-1] in _NOT_STRUCTURES:
        return None
    atlas = index.atlas
    entity = atlas.entities.get(q.entities[0])
    if entity is None:
        return None
    names = _names(entity)
    itself = noun in names or re.sub(r"e?s$", "", noun) in names or noun.rstrip("e") in names
    if itself and len(set(q.entities)) > 1:
        return None  # "how many lumbar vertebrae does the psoas attach to": a relation, not the list
    last = noun.split()[-1]
    if last not in _CLASS and stem(last) not in index.name_stems:
        return None  # "how many healthy women": not a count of structures
    group = itself and index.kind_of(entity.id) == "muscle_group"  # "how many hamstrings": its muscles
    head = "*" if (last in _CLASS and not itself) or group else stem(last)
    exclude = set() if itself else {w for n in names for w in n.split() if len(w) > 2} - _GENERIC_NAME_WORDS
    docs = [d for d in (index.definitions.get(entity.id),) if d is not None]
    docs += [d for d in index.by_subject.get(entity.id, ()) if d.kind == "fact" and d.status == "consistent" and not d.seed]
    if not itself:  # "vertebrae in the lower back": a definition that names the container counts its parts
        docs += [d for eid, d in index.definitions.items() if eid != entity.id
                 and any(re.search(rf"\b{re.escape(n)}\b", d.sentence.lower()) for n in names)]
    wanted = {stem(w) for w in re.findall(r"[a-z]+", q.asked) if len(w) > 3} - {stem(w) for w in noun.split()}
    best: tuple[int, int, Any, str] | None = None
    own = len(docs) if itself else len([d for d in docs if d.subject == entity.id])
    for order, d in enumerate(docs):
        hits = _counts(d.sentence, head, exclude)
        if order >= own:  # another structure's definition: the count must be "of the lower back" itself
            words = re.findall(r"[a-z0-9]+", d.sentence.lower())
            hits = [h for h in hits if any(re.search(rf"\b{re.escape(n)}\b", " ".join(words[h[2] + 1:h[2] + 7]))
                                           for n in names)]
        if not hits:
            continue
        shared = len(wanted & {stem(w) for w in re.findall(r"[a-z]+", d.sentence.lower())})
        key = (-shared, order)
        if best is None or key < (best[0], best[1]):
            best = (-shared, order, d, hits[0][0])
    if best is None:
        return None
    _, _, d, count = best
    sentence = d.sentence
    if re.match(r"^[A-Z][\w -]*: ", sentence):  # "Lumbar vertebra: One of the five ..." reads as "the lumbar vertebra is one of"
        name, rest = sentence.split(": ", 1)
        name = re.sub(r"^the ", "", name[0].lower() + name[1:])
        sentence = f"the {name} is {rest[0].lower() + rest[1:]}"
    else:
        sentence = sentence[0].lower() + sentence[1:]
    if count == "1":
        noun = re.sub(r"(?<=[^s])s$", "", noun)  # "1 joint"
    return replace(d, number=f"{count} {noun}: {sentence}", predicate="count")
