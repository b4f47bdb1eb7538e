"""Static word embeddings for Ask: WordLlama's 256-d "l2_supercat" table, as shipped in its wheel.

WordLlama (MIT licence, https://github.com/dleemiller/WordLlama) packages a 32,000 x 256 float16
token-embedding table and the Llama-2 tokenizer it was trained with. A text's vector is the mean of
its tokens' rows, normalised, so a question and a passage that say the same thing in other words
("the fan-shaped muscle inside the pelvic bowl" / "a fan-shaped muscle filling the iliac fossa")
land close together even when BM25 finds few shared words.

Nothing is downloaded: both files are read from the installed ``wordllama`` package (located with
:func:`importlib.util.find_spec`, without importing it, which would pull in its training code). The
table is memory-mapped straight out of the ``.safetensors`` file, so only the rows a text uses are
read. :class:`Embedder` is an explicit object; :func:`load` returns None when the package is absent
(Ask then ranks with BM25 alone).
"""

from __future__ import annotations

import importlib.util
import json
import struct
from collections.abc import Sequence
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
    """Text -> unit vector (mean of WordLlama token embeddings). Thread-safe to call."""

    def __init__(self, weights: Path, tokenizer: Path):
        from tokenizers import Tokenizer

        self.table = _table(weights)
        self.tokenizer: Any = Tokenizer.from_file(str(tokenizer))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), 256)`` float32 unit vectors (a text without tokens gives zeros)."""
        out = np.zeros((len(texts), self.table.shape[1]), dtype=np.float32)
        for i, enc in enumerate(self.tokenizer.encode_batch(list(texts), add_special_tokens=False)):
            ids = [t for t in enc.ids if 0 <= t < self.table.shape[0]]
            if ids:
                out[i] = self.table[ids].astype(np.float32).mean(axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms

    def is_word(self, word: str) -> bool:
        """True when ``word`` is a single token of the tokenizer's 32,000 (a common English word)."""
        return len(self.tokenizer.encode(" " + word, add_special_tokens=False).ids) <= 2


def load() -> Embedder | None:
    """The embedder of the installed WordLlama files, or None when they are not installed."""
    files = package_files()
    if files is None:
        return None
    try:
        return Embedder(*files)
    except (ImportError, OSError, ValueError, KeyError):
        return None
