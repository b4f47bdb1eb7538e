"""Static word embeddings for Ask: WordLlama's 256-d "l2_supercat" table, as shipped in its wheel.

WordLlama (MIT licence, https://github.com/dleemiller/WordLlama) packages a 32,000 x 256 float16
token-embedding table and the Llama-2 tokenizer it was trained with. A text's vector is the mean of
its tokens' rows, normalised, so a question and a passage that say the same thing in other words
("the fan-shaped muscle inside the pelvic bowl" / "a fan-shaped muscle filling the iliac fossa")
land close together even when BM25 finds few shared words.

Nothing is downloaded: both files are read from the installed ``wordllama`` package (located with
:func:`importlib.util.find_spec`, without importing it, which would pull in its training code). The
table is memory-mapped straight out of the ``.safetensors`` file, so only the rows a text uses are
read; the tokenizer is loaded only when a word is met whose token ids were not precomputed.
:class:`Embedder` is an explicit object; :func:`load` returns None when the package is absent (Ask
then ranks with BM25 alone).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import struct
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

WEIGHTS = "weights/l2_supercat_256.safetensors"
TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"
DIM = 256


def package_files() -> tuple[Path, Path] | None:
    """The weight and tokenizer files inside the installed ``wordllama`` package, or None."""
    try:
        spec = importlib.util.find_spec("wordllama")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    weights, tokenizer = root / WEIGHTS, root / TOKENIZER
    return (weights, tokenizer) if weights.is_file() and tokenizer.is_file() else None


def _table(path: Path) -> np.ndarray:
    """The embedding table of a ``.safetensors`` file, memory-mapped (read-only, nothing copied)."""
    with open(path, "rb") as fh:
        (size,) = struct.unpack("<Q", fh.read(8))
        header = json.loads(fh.read(size))
    info = header["embedding.weight"]
    if info["dtype"] != "F16" or len(info["shape"]) != 2:
        raise ValueError(f"{path}: expected a 2-D F16 'embedding.weight', got {info['dtype']} {info['shape']}")
    start, end = info["data_offsets"]
    rows, cols = info["shape"]
    if end - start != rows * cols * 2:
        raise ValueError(f"{path}: 'embedding.weight' holds {end - start} bytes, expected {rows * cols * 2}")
    return np.memmap(path, dtype=np.float16, mode="r", offset=8 + size + start, shape=(rows, cols))


class Embedder:
    """Text -> unit vector (mean of WordLlama token embeddings). Thread-safe to call.

    ``word_ids`` (word -> token ids, precomputed for every word the index knows) lets
    :meth:`embed_words` work without the tokenizer, which is loaded only for a word not in it.
    """

    def __init__(self, weights: Path, tokenizer: Path, word_ids: Mapping[str, tuple[int, ...]] | None = None):
        self.weights = weights
        self.tokenizer_file = tokenizer
        self.table = _table(weights)
        self.word_ids: dict[str, tuple[int, ...]] = dict(word_ids or {})
        self._tokenizer: Any = None
        self._lock = threading.Lock()
        self._wvec: dict[str, np.ndarray] = {}

    @property
    def tokenizer(self) -> Any:
        with self._lock:
            if self._tokenizer is None:
                from tokenizers import Tokenizer

                self._tokenizer = Tokenizer.from_file(str(self.tokenizer_file))
            return self._tokenizer

    def identity(self) -> str:
        """What names these files in a cache key: sizes, and a digest of the tokenizer and the table's header."""
        h = hashlib.sha256(self.tokenizer_file.read_bytes())
        with open(self.weights, "rb") as fh:
            (size,) = struct.unpack("<Q", fh.read(8))
            h.update(fh.read(size))
        return f"{self.weights.stat().st_size}:{self.tokenizer_file.stat().st_size}:{h.hexdigest()[:16]}"

    def _mean(self, ids: Sequence[int]) -> np.ndarray:
        ids = [t for t in ids if 0 <= t < self.table.shape[0]]
        vec = self.table[ids].astype(np.float32).mean(axis=0) if ids else np.zeros(self.table.shape[1], np.float32)
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm > 0 else vec

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), 256)`` float32 unit vectors (a text without tokens gives zeros)."""
        encoded = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        out = np.zeros((len(texts), self.table.shape[1]), dtype=np.float32)
        for i, enc in enumerate(encoded):
            out[i] = self._mean(enc.ids)
        return out

    def token_ids(self, words: Sequence[str]) -> dict[str, tuple[int, ...]]:
        """Token ids of each word as it reads inside a text (word-start marker included)."""
        encoded = self.tokenizer.encode_batch(list(words), add_special_tokens=False)
        return {w: tuple(enc.ids) for w, enc in zip(words, encoded, strict=True)}

    def embed_words(self, words: Sequence[str]) -> np.ndarray:
        """The unit vector of the text made of ``words`` (the same as :meth:`embed` of the words
        joined by spaces, since Llama tokens do not cross a word start)."""
        missing = [w for w in words if w not in self.word_ids]
        if missing:
            self.word_ids.update(self.token_ids(missing))
        return self._mean([t for w in words for t in self.word_ids[w]])

    def word_vec(self, word: str) -> np.ndarray:
        """The unit vector of one word (kept: words repeat across answers)."""
        vec = self._wvec.get(word)
        if vec is None:
            vec = self.embed_words([word])
            if len(self._wvec) > 20000:
                self._wvec.clear()
            self._wvec[word] = vec
        return vec

    def is_word(self, word: str) -> bool:
        """True when ``word`` is a single token of the tokenizer's 32,000 (a common English word)."""
        return len(self.embed_ids(word)) == 1

    def embed_ids(self, word: str) -> tuple[int, ...]:
        if word not in self.word_ids:
            self.word_ids.update(self.token_ids([word]))
        return self.word_ids[word]


def load(word_ids: Mapping[str, tuple[int, ...]] | None = None) -> Embedder | None:
    """The embedder of the installed WordLlama files, or None when they are not installed (or
    ``ILIOPSOAS_ASK_SEMANTIC=0``, to rank with BM25 alone)."""
    files = package_files()
    if files is None or os.environ.get("ILIOPSOAS_ASK_SEMANTIC") == "0":
        return None
    try:
        return Embedder(*files, word_ids=word_ids)
    except (OSError, ValueError, KeyError):
        return None
