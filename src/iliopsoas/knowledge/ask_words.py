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
from importlib import resources

#: Real English words that a question about this region nearly always means as the anatomical word.
ANATOMY_MISSPELLINGS = frozenset({"lumber"})


class EnglishWords:
    """Ordinary English words (lower case), read from the word list on first use."""

    def __init__(self, counts: dict[str, int] | None = None):
        self._counts = counts

    @property
    def counts(self) -> dict[str, int]:
        if self._counts is None:
            try:
                raw = resources.files("spellchecker").joinpath("resources", "en.json.gz").read_bytes()
                self._counts = json.loads(gzip.decompress(raw))
            except (ModuleNotFoundError, FileNotFoundError, OSError, ValueError):
                self._counts = {}
        return self._counts

    @classmethod
    def load(cls) -> EnglishWords:
        """The English list of the installed ``pyspellchecker`` (empty when it is not installed)."""
        return cls()

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word in self.counts and word not in ANATOMY_MISSPELLINGS

    def __len__(self) -> int:
        return len(self.counts)


def word_test(english: EnglishWords, *others: Callable[[str], bool] | None) -> Callable[[str], bool]:
    """One test "is this an ordinary English word": the list, or any of ``others`` (e.g. a tokenizer's
    whole-word tokens)."""
    tests = [t for t in others if t is not None]

    def is_word(word: str) -> bool:
        return word in english or any(t(word) for t in tests)

    return is_word
