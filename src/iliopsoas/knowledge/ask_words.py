"""Ordinary English words: what typo repair must leave alone.

Typo repair maps an unknown word to the nearest word of the atlas's vocabulary. A word the atlas
does not use is not thereby a typo: "weekend" is no "weakened", "aching" no "arching", "blade" no
"bladder", "lately" no "laterally". Which words are English comes from the word-frequency list
that ships inside the ``pyspellchecker`` wheel (English subtitles and web text; about 160,000
words, each seen at least 50 times), read once per :class:`~iliopsoas.knowledge.ask_index.AskIndex`.
Misspellings people make often ("recieve", "excercise", "muscel", "illiacus") are not in it, so
they are still repaired.

A few real words are, in questions about the low back and hip, nearly always a misspelling of
the anatomical word (:data:`ANATOMY_MISSPELLINGS`: "lumber spine"); those count as not English here.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

#: Real English words that a question about this region nearly always means as the anatomical word.
ANATOMY_MISSPELLINGS = frozenset({"lumber"})


@dataclass(frozen=True)
class EnglishWords:
    """The set of ordinary English words (lower case)."""

    words: frozenset[str]

    @classmethod
    def load(cls) -> EnglishWords:
        """The English list of the installed ``pyspellchecker``; empty when it is not installed."""
        try:
            raw = resources.files("spellchecker").joinpath("resources", "en.json.gz").read_bytes()
        except (ModuleNotFoundError, FileNotFoundError, OSError):
            return cls(frozenset())
        counts = json.loads(gzip.decompress(raw))
        return cls(frozenset(w for w in counts if w.isalpha() and w not in ANATOMY_MISSPELLINGS))

    def __contains__(self, word: object) -> bool:
        return word in self.words

    def __len__(self) -> int:
        return len(self.words)


def word_test(english: EnglishWords, *others: Callable[[str], bool] | None) -> Callable[[str], bool] | None:
    """One test "is this an ordinary English word": the list, or any of ``others`` (e.g. a tokenizer's
    whole-word tokens); None when nothing can tell."""
    tests = [t for t in others if t is not None]
    if not english.words and not tests:
        return None

    def is_word(word: str) -> bool:
        return word in english.words or any(t(word) for t in tests)

    return is_word
