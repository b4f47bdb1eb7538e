"""Everything Ask precomputes, as one explicit object, and the on-disk cache that keeps it.

:class:`AskTables` holds what :class:`~iliopsoas.knowledge.ask_index.AskIndex` needs besides the atlas
itself: the passages (:mod:`ask_docs`), the alias index and vocabulary typo repair aims at, the word
stems of every passage, how many passages use each stem, the part/whole and name-variant relations of
the entities, the passages' embeddings and the token ids of every word the index knows (so a question
made of known words is embedded without loading the tokenizer).

:class:`TableCache` stores tables as ``<folder>/<key>.pickle``. The key is a SHA-256 digest of every
input: the atlas data files, the safety file, the care protocols, the code that builds the tables and
the embedding files' identity. A changed input gives a new key, so a stale table is never read; the
eight newest files are kept. The folder is ``$ILIOPSOAS_CACHE_DIR/ask-index`` or the user cache folder;
``ILIOPSOAS_CACHE_DIR=""`` turns the cache off (tables are then built in memory every time).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from iliopsoas.knowledge.ask_docs import PROTOCOLS_FILE, Doc, build_docs
from iliopsoas.knowledge.ask_text import AliasIndex, build_alias_index, compounds, find_mentions, normalise

FORMAT = b"ask-tables-2\0"
_CODE = ("ask_docs.py", "ask_tables.py", "ask_text.py", "ask_render.py", "ask_semantic.py", "safety.py", "ask_signs.py")
_WORDS = re.compile(r"[a-z0-9%]+")
_SUFFIX = re.compile(r"(ions|ion|ing|ed|es|s)$")
# Words a question is made of besides the passages' words: their token ids are kept too.
QUESTION_WORDS = (
    "what which where when why how who whom whose is are was were be been do does did can could should would will "
    "may might must have has had the a an of to in on at by for and or not no yes my your i me you it its this "
    "that these those there their they we our us with about into from as so if than then just also really please "
    "tell know between difference same different true right correct wrong book says said between"
).split()


# irregular forms people ask with ("felt", "lying", "sat") and the form the passages use
_IRREGULAR = {"felt": "feel", "lying": "lie", "lain": "lie", "sat": "sit", "stood": "stand", "ran": "run",
              "bent": "bend", "went": "go", "gone": "go", "torn": "tear", "tore": "tear", "held": "hold",
              "kept": "keep", "knelt": "kneel", "slept": "sleep", "worse": "bad", "worst": "bad"}


def stem(word: str) -> str:
    """A crude stem for matching question words to passage words: endings off ("sitting" and "sits" as
    "sit"), irregular forms to their base ("felt": "feel"), five letters kept."""
    word = _IRREGULAR.get(word, word)
    if len(word) > 4:
        cut = word if word.endswith("ss") else _SUFFIX.sub("", word)  # "press", "stress" keep their s
        if cut != word and len(cut) >= 3 and cut[-1] == cut[-2] and cut[-1] in "bdgmnpt":
            cut = cut[:-1]  # "sitting", "stopped", "running": the doubled consonant goes too
        word = cut
    elif len(word) == 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]  # "hips", "legs", "sits", "lies"
    return word[:5]


@dataclass(frozen=True)
class AskTables:
    """What the Ask index is built from, computed once per set of inputs (see the module doc)."""

    docs: tuple[Doc, ...]
    alias: AliasIndex
    vocabulary: frozenset[str]
    doc_stems: tuple[frozenset[str], ...]  # per passage, in ``docs`` order
    cue_stems: tuple[frozenset[str], ...]
    df: Mapping[str, int]  # stem -> number of passages using it
    parents: Mapping[str, tuple[str, ...]]  # entity -> the wholes it is part of
    children: Mapping[str, tuple[str, ...]]
    variants: Mapping[str, tuple[str, ...]]  # entities named after one another (Thomas / modified Thomas test)
    doc_vecs: Any = None  # (len(docs), 256) float16 passage embeddings, or None without the semantic table
    word_ids: Mapping[str, tuple[int, ...]] | None = None  # word -> token ids of the semantic tokenizer


def build_tables(atlas: Any, protocols: Sequence[Mapping[str, Any]], safety: Any, matcher_vocab: Sequence[str],
                 embedder: Any = None) -> AskTables:
    """Compute the tables from the atlas, the care protocols, the safety data and (optionally) the embedder."""
    names = [(eid, [e.name, *e.synonyms, *([e.latin] if e.latin else [])]) for eid, e in atlas.entities.items()]
    plain_alias = build_alias_index(names, ())

    def named_in(text: str) -> list[str]:
        return [m.entity for m in find_mentions(normalise(text).split(), plain_alias, fuzzy=False)]

    docs = build_docs(atlas, protocols, safety, named_in)
    texts = [_WORDS.findall(f"{d.cues} {d.body} {d.sentence}".lower()) for d in docs]
    words = {w for t in texts for w in t if w.isalpha()}
    alias = build_alias_index(names, sorted(words))
    vocabulary = alias.vocabulary | frozenset(words) | frozenset(matcher_vocab)
    cue_cache: dict[str, frozenset[str]] = {}
    cue_stems = tuple(cue_cache.setdefault(d.cues, frozenset(stem(w) for w in d.cues.split())) for d in docs)
    doc_stems = tuple(frozenset(stem(w) for w in _WORDS.findall(compounds(f"{d.names} {d.body} {d.sentence}".lower())))
                      for d in docs)
    df: dict[str, int] = {}
    for stems_of in doc_stems:
        for w in stems_of:
            df[w] = df.get(w, 0) + 1
    parents: dict[str, tuple[str, ...]] = {}
    children: dict[str, tuple[str, ...]] = {}
    for f in atlas.statements.values():
        if f.predicate.value == "part_of" and f.object and f.status.value == "consistent" and f.subject != f.object:
            parents[f.subject] = tuple(dict.fromkeys((*parents.get(f.subject, ()), f.object)))
            children[f.object] = tuple(dict.fromkeys((*children.get(f.object, ()), f.subject)))
    variants: dict[str, tuple[str, ...]] = {}
    ents = list(atlas.entities.values())
    for a in ents:
        if " " not in a.name:
            continue
        inside = re.compile(rf"\b{re.escape(a.name.lower())}\b")
        for b in ents:
            if a.id != b.id and a.kind == b.kind and inside.search(b.name.lower()):
                variants[a.id] = (*variants.get(a.id, ()), b.id)
                variants[b.id] = (*variants.get(b.id, ()), a.id)
    doc_vecs = word_ids = None
    if embedder is not None:
        doc_vecs = embedder.embed([d.sentence for d in docs]).astype("float16")
        known = sorted({*vocabulary, *alias.aliases, *(w for a in alias.aliases for w in a.split()), *QUESTION_WORDS})
        word_ids = embedder.token_ids([w for w in known if w and " " not in w])
    return AskTables(tuple(docs), alias, vocabulary, doc_stems, cue_stems, df, parents, children, variants,
                     doc_vecs, word_ids)


class TableCache:
    """The on-disk store of :class:`AskTables`, one pickle per input digest (see the module doc)."""

    def __init__(self, folder: Path | None):
        self.folder = folder

    @classmethod
    def default(cls) -> TableCache:
        env = os.environ.get("ILIOPSOAS_CACHE_DIR")
        if env == "":
            return cls(None)  # explicitly disabled
        try:
            return cls((Path(env) if env else platformdirs.user_cache_path("iliopsoas")) / "ask-index")
        except Exception:  # noqa: BLE001 - no usable home folder: build in memory every time
            return cls(None)

    def get(self, key: str | None) -> AskTables | None:
        if key is None or self.folder is None:
            return None
        try:
            with open(self.folder / f"{key}.pickle", "rb") as fh:
                data = pickle.load(fh)  # noqa: S301 - our own file, named by the digest of its inputs
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError):
            return None
        return data if isinstance(data, AskTables) else None

    def put(self, key: str | None, tables: AskTables) -> None:
        if key is None or self.folder is None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f"{key}.{os.getpid()}.tmp"
            with open(tmp, "wb") as fh:
                pickle.dump(tables, fh, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(self.folder / f"{key}.pickle")
            for stale in sorted(self.folder.glob("*.pickle"), key=lambda p: p.stat().st_mtime)[:-8]:
                stale.unlink(missing_ok=True)
        except OSError:
            return


def tables_key(atlas: Any, semantic: str = "") -> str | None:
    """The digest naming the tables of ``atlas``: every input file, the building code and ``semantic``
    (the embedding files' identity, "" without them). None when the atlas has no folder to read."""
    folder = getattr(atlas, "data_dir", None)
    if folder is None or not Path(folder).is_dir():
        return None
    here = Path(__file__).resolve().parent
    h = hashlib.sha256(FORMAT + semantic.encode() + b"\0")
    files = sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml", ".json"))
    files += [here / "data" / "safety.yaml", PROTOCOLS_FILE, *(here / c for c in _CODE)]
    try:
        for f in files:
            h.update(str(f.name).encode() + b"\0" + f.read_bytes())
    except OSError:
        return None
    return h.hexdigest()


def load_tables(atlas: Any, build: Callable[[], AskTables], semantic: str = "",
                cache: TableCache | None = None) -> AskTables:
    """The tables of ``atlas`` from ``cache`` (default: :meth:`TableCache.default`), built and stored
    when missing."""
    cache = cache or TableCache.default()
    key = tables_key(atlas, semantic)
    tables = cache.get(key)
    if tables is None:
        tables = build()
        cache.put(key, tables)
    return tables
