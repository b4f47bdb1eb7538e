"""The Ask index: every passage of :mod:`ask_docs` in an SQLite FTS5 table (stdlib, BM25), plus how a
question is read into a query.

Reading a question (all features of the index, no intent rules):

* normalise, drop left/right ("my left psoas" is the psoas), singularise plurals;
* repair typos against the index's own vocabulary (every word of every passage and entity name);
* spot entity names and lay words ("thigh bone", "hip flexor") with the alias index; each named
  entity becomes one index token (``entpsoasmajor``) that matches the passages about it;
* search FTS5 with BM25 over three fields (names, the cue words people use for that kind of fact,
  the rest), then re-rank the best 60 with a few transparent features: does the passage's subject
  match what the question names, do its cue words occur, is it only an article's word, does it
  carry the number a "how long" question wants.

The index is built once per atlas by :class:`AskIndex` (an explicit object; :func:`ask` keeps one
per atlas). The passages it is built from are cached on disk (``ILIOPSOAS_CACHE_DIR`` or the user
cache folder, ``ask-index/<digest>.pickle``; ``ILIOPSOAS_CACHE_DIR=""`` turns it off), named by a
digest of every input file and of the code that builds them, so an edit never meets a stale cache;
the FTS5 table itself lives in memory.
"""

from __future__ import annotations

import math
import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from iliopsoas.knowledge.ask_describe import DescriptionIndex, name_descriptions
from iliopsoas.knowledge.ask_docs import KIND_WORDS, Doc, entity_token, load_protocols
from iliopsoas.knowledge.ask_plain import plain_question
from iliopsoas.knowledge.ask_predicate import relations_asked
from iliopsoas.knowledge.ask_rank import aspects_asked, rerank
from iliopsoas.knowledge.ask_signs import SafetyMatcher, SemanticSigns
from iliopsoas.knowledge.ask_specifics import StudyIndex
from iliopsoas.knowledge.ask_tables import AskTables, TableCache, build_tables, load_tables, stem
from iliopsoas.knowledge.ask_text import (
    COMMON_WORDS,
    SEARCHED_AS,
    AliasIndex,
    Mention,
    compounds,
    find_mentions,
    normalise,
    repair,
    singular,
    strip_sides,
)
from iliopsoas.knowledge.ask_words import EnglishWords, word_test
from iliopsoas.knowledge.safety import SafetyData

# Words that name a structure only loosely; a question naming something more specific is about that.
GENERIC_WORDS = frozenset(
    "nerve nerves artery arteries vessel fascia ligament joint bone spine hip thigh knee foot leg skin trunk "
    "abdomen belly back body organ organs muscle tendon pelvis groin buttock disc".split()
)
STOP = frozenset(
    "a an the of to in on at by for and or is are was were be been i me my you your it its this "
    "that these those there their they we our us can could should would will shall may might must have has "
    "had with about into from as so if than then just also really please tell know".split()
)
# Everyday words that say nothing about the subject: never "unknown" to the index, never content.
PLAIN = frozenset(
    """am im not no do does did what which who whom whose when where why how want wanted need needs feel feels
    felt get gets got getting make makes made think help good bad best better worse worst always often
    sometimes still again thing things something anything someone everyone people person way ways kind sort
    type lot lots bit little much many more most less least very too quite rather right left same different
    other another each every all any some one two three first last new old now today here there yes okay ok
    mean means said say says tell told ask asked answer question like just even also only well actually
    probably maybe usually normally really etc go goes going went come comes coming put puts use used using
    try trying able possible let lets look looks seem seems true false sure certain whether happen happens
    else anyone everything nothing part parts area done exactly physio physiotherapist doctor book textbook notes
    teacher trainer coach says said told difference differences differ between compare compared versus vs meaning
    directly truly basically generally typically curious wondering wonder wondered interested interest asking
    anyway thanks thank""".split()
)
_YESNO = re.compile(r"^(is|are|does|do|can|could|should|will|would|was|were|has|have|did|am|isnt|doesnt)\b")
# "when you pull along the psoas with the hip straight, does the thigh rotate?": the yes/no comes after the setting
_LATE_YESNO = re.compile(r"^\s*(when|if|while|after|once|with|in|during|under)\b[^?]*,\s*(is|are|does|do|can|could|will|"
                         r"would|did|was|were|should)\b[^,]*\??\s*$", re.I)
_CLAIM = re.compile(r"\b(true|myth|i (read|heard)|they say|people say|claim|claims|correct that|really|"
                    # what one of the articles says: "according to the Ultimate Guide", "the Verywell article"
                    r"according to|(the|this|that|an|one) (article|guide|blog|blog post|author|writer)s?|verywell|"
                    r"ultimate guide|deep dive|anatomy guide)\b")
_NUMBER = re.compile(
    r"\bhow (long|many|much|often|big|thick|heavy|common|active|far|strong|fast|quick|quickly|old|tall|wide|deep)\b|"
    r"\b(speed|velocity|percentage|percent|share(?! (?:the|a|an|one|same|their|its|common|nerves?|tendons?))|average|typical|"
    r"proportion|fraction|what level|which level|at what|sensitivity|index)\b|\bwhat is the (length|size|area|"
    r"angle|pennation|physiological|moment arm|volume|strength|force|torque|range|reliability|sensitivity|"
    r"specificity|prevalence|incidence|emg|activity|(\w+ ){1,3}(strength|force|torque|angle|range|moment arm))\b"
)
_VERBLESS_SAME = re.compile(r"^(the )?\w+( \w+)? (and|&) (the )?\w+( \w+)? (the )?(same|separate|different|distinct) (muscles?|things?)$")
_ONE_OR_TWO = re.compile(r"\b(different|separate|distinct|same) (muscles?|structures?|things?)\b|\bdifferent from\b")
_DEFINE = re.compile(r"^(what is|what are|define|describe|explain|tell me about|what do you know about|who is)\b")
_AND_ASK = re.compile(r",? and (how|what|where|why|which|who|does|do|is|are|can|could|should)\b")
_DEFINE_WORDS = frozenset("what define describe explain who".split())
# "what is the small muscle in front of the psoas major ...": the question seeks a structure it
# does not name, so passages about other structures must not be pushed down.
# "the fan-shaped muscle inside the pelvic bowl, what is it?", "name the small muscle ...": a structure
# described, not named
_DESCRIBED = re.compile(r"\b(what is it|what is this|what is it called|what it is called|what is that|name the|"
                        r"what do you call|what is the name of the)\b")
_SEEKING = re.compile(
    r"^(what|which) (is|are) (the|a|an)( \w+){0,2}? (muscle|muscles|nerve|nerves|bone|bones|artery|"
    r"arteries|ligament|joint|organ|structure|tendon|vessel) (that|which|in|on|at|between|of|near|lying|running)\b"
)
_STATEMENT = re.compile(r"^(i|my|no|not|never|there is no|there are no|without)\b")
#: a sentence or clause that opens as a question ("what ...", "is ...", "can ..."; raw or normalised text)
OPENS_ASK = re.compile(r"^(what|whats|what's|which|where|when|why|how|who|is|are|does|do|can|could|should|will|would|"
                       r"was|were|has|have|did|am|any)\b", re.IGNORECASE)
_WH = re.compile(r"\b(what|which|where|when|why|how|who|whats)\b|^(is|are|does|do|can|could|should|will|was|were|has|have|did)\b")


# "my book says X, is that right?": the statement is what is asked about.
_CONFIRM = re.compile(r"^(is (that|this|it) (\w+ )?(right|correct|true|so|accurate|valid|real)|(is )?(that|this) (right|correct|true)|"
                      r"right|correct|true|am i right|true or false|true or not|is that the case|fact or (myth|fiction)|"
                      r"(is there |are there |any )(any |actual |real |good |some )?(evidence|truth|science|research|"
                      r"proof|studies) (for|to|in|behind|on|about) (that|this|it))$")
_REPORTED = re.compile(r"^((my |the |our |a |an )?(\w+ )?(book|textbook|notes|note|teacher|lecturer|professor|tutor|"
                       r"trainer|coach|instructor|physio|physiotherapist|doctor|chiropractor|friend|article|website|"
                       r"video|app|course|class|lecture|slide|slides|blog|post|influencer|youtuber) (says|said|claims|"
                       r"claimed|states|stated|told me|tells me|writes|wrote|shows|showed|keeps saying|keep saying)|"
                       r"(i|we) (read|heard|saw|was told|have heard|keep hearing)( online| somewhere)?|"
                       r"(someone|somebody|people|everyone|everybody|they|my (whole )?\w+)( online| on \w+| at \w+)? "
                       r"(say|says|said|claim|claims|claimed|keep saying|keeps saying|keep telling me|keeps telling me|"
                       r"told me|tells me|swear|swears|insist|insists))( that)? ")


# a clause about people around the asker ("everyone at my gym blames it", "my coach keeps saying so")
_BARE_ASK = re.compile(r"(so )?(what|now what|what now|what next|what else)( (can|should|do|could|would) (i|you|we) "
                       r"(do|try)( about it| about this| now| instead| then)?)?|what do you (suggest|recommend)|any (tips|ideas|advice)")
_HEARSAY = re.compile(r"\b(everyone|everybody|people|they|someone|tiktok|instagram|youtube|influencers?|online|internet|"
                      r"gym|coach|trainer|talk|talks|talking|say|says|mention|mentions|obsessed|hype|hyped)\b")
_SOCIAL = re.compile(r"^(everyone|everybody|people|they|all|my|i|we|someone|somebody|the whole)\b|"
                     r"\b(says|said|blame|blames|blamed|keeps? (saying|telling)|told me|tells me|always)\b")


# "do I have one iliopsoas, or one on each side?": a choice between two answers, not a yes/no question
_CHOICE = re.compile(r",\s*or (?!not\b|no\b|false\b|true\b|is it\b|does it\b|do they\b|are they\b|is that\b)\w", re.I)


def _ends_yesno(question: str) -> bool:
    """"my psoas feels knotted up, does massaging it actually work?": a statement, then a yes/no question
    (not a choice: "should I rest or stretch them" asks which)."""
    clauses = [c for c in (normalise(c) for c in re.split(r"[.,;:!?]+|\s[-\u2013\u2014]\s", question)) if c]
    last = clauses[-1] if len(clauses) >= 2 else ""
    return bool(_YESNO.search(last)) and len(last.split()) > 2 and " or " not in f" {last} "


# a question that points back at what was just told ("why shouldn't I call that a tight rectus femoris",
# "is this a sign of ...") is about that too
_BACK_REF = re.compile(r"\b(call|calling|is|was|explain|explains|cause|causes|mean|means|make|makes) (that|this)\b"
                       r"(?! (muscle|test|stretch|exercise|bone|nerve|one)s?\b)|"
                       r"\b(use|using|apply|applying|put|wear|take) (them|these|those|both)\b")


def _asked_part(question: str, names: Any = None) -> str:
    """The question without leading statements about the asker ("I have no fever, what ...?").

    Clauses that state something about the person ("I", "my", "no ...") are context; when another
    clause asks something of its own, only that one is the query. A bare confirmation ("my book says
    the psoas inserts on the greater trochanter, is that right?") asks about the statement itself.
    """
    clauses = [normalise(c) for c in re.split(r"[.,;:!?]+|\s[-\u2013\u2014]\s", question) if c.strip()]
    clauses = [c for c in clauses if c]
    if names is not None and len(clauses) == 1:
        # "what is the psoas and why does everyone on tiktok talk about it": a second question about what
        # people say, naming no structure, is social context
        head, sep, tail = clauses[0].partition(" and why ")
        if sep and names(head) and not names(tail) and _HEARSAY.search(tail):
            return head
    if len(clauses) >= 2 and _BACK_REF.search(clauses[-1]) and not _BACK_REF.search(clauses[-2]):
        # "I have a heat pack and an ice pack. How do I use them safely?": what "them" points at is asked too,
        # with the earlier clauses that name a structure when that one points back too ("my book says the psoas
        # flexes the spine, another source says it extends it; what is this contradiction called")
        told = [c for c in clauses[:-2] if names is not None and names(c)] \
            if re.search(r"\b(it|its|they|them|this|that)\b", clauses[-2]) else []  # "... says it helps extend it"
        if not told and len(clauses) >= 3 and len(clauses[-2].split()) <= 3:
            told = [clauses[-3]]  # "I feel it in my knee, not my hip. Is that OK?": a short aside ends what is told
        return " ".join([*told, clauses[-2], clauses[-1]])
    if len(clauses) >= 2 and _CONFIRM.match(clauses[-1]):
        claim = _REPORTED.sub("", " ".join(clauses[:-1]))
        return f"is it true that {claim}"  # a yes/no question about the statement: is it true
    if (len(clauses) >= 2 and names is not None and OPENS_ASK.match(clauses[-1]) and len(clauses[-1].split()) >= 4
            and names(clauses[-1]) and not any(OPENS_ASK.match(c) for c in clauses[:-1])
            and not _BACK_REF.search(clauses[-1])):
        # "no fever, no numbness, just tight hips. what does the iliopsoas do?": statements, then a
        # question that names what it asks about by itself: the statements are context (Ask's safety
        # check reads the whole text)
        return clauses[-1]
    # a statement that names a structure ("I'm not pregnant and want to stretch my hip flexors") is
    # part of what is asked; one that only speaks of the asker ("I have no fever") is context
    asking = [c for c in clauses if c and (not _STATEMENT.search(c) or (names is not None and names(c)))]
    if any(_WH.search(c) and len(c.split()) > 2 for c in asking):
        # "what does the psoas do, everyone at my gym blames it for everything": social context that
        # neither asks nor names a structure is set aside; when the asking clause names the structure
        # itself ("people say my psoas is tight, what is the psoas"), so is every other statement
        named_ask = names is not None and any(_WH.search(c) and names(c) for c in asking)
        asking = [c for c in asking if _WH.search(c) or not _SOCIAL.search(c)
                  or (names is not None and names(c) and not named_ask)]
    if asking and len(asking) < len(clauses) and any(_WH.search(c) and len(c.split()) > 2 for c in asking) \
            and not all(_BARE_ASK.fullmatch(c) for c in asking):
        return " ".join(asking)  # ("my knee hurts kneeling in the lunge stretch, what can I do?": the ask says nothing
    return normalise(question)  # by itself, so the statement is what it is about)


# "which muscles work with the iliopsoas" seeks other structures of the kind it names; "what nerve
# supplies the iliacus" asks about the iliacus itself.
_NOUN_KINDS = {"muscle": ("muscle", "muscle_group"), "nerve": ("nerve", "nerve_plexus"), "bone": ("bone", "bony_landmark"),
               "joint": ("joint",), "organ": ("organ", "organ_system"), "ligament": ("ligament",),
               "tendon": ("tendon",), "vessel": ("vessel",), "arteri": ("vessel",), "artery": ("vessel",),
               "structure": (), "test": ("clinical_test",)}
_WHICH = re.compile(r"^(what|which|name|list)( \w+)?( of the| of)? (muscles?|nerves?|bones?|arter\w*|ligaments?|joints?|organs?|structures?|vessels?|tendons?|tests?)\b")
# Everyday words and the words the passages use for the same idea (a small thesaurus of the index).
SYNONYMS = {"meet": "join", "meets": "join", "lack": "absent", "lacks": "absent", "missing": "absent",
            "thickest": "largest", "biggest": "largest", "fibres": "fibre", "fibers": "fibre", "fiber": "fibre",
            "pee": "urine", "tummy": "abdomen", "belly": "abdomen", "outward": "lateral", "inward": "medial",
            "sideways": "lateral", "gut": "abdomen", "intestine": "organ", "intestines": "organ", "bowel": "organ",
            "arch": "lordosis", "arches": "lordosis", "arched": "lordosis", "curve": "lordosis", "curved": "lordosis",
            "outwards": "lateral", "turn": "rotate", "turns": "rotate", "flop": "rotate", "flops": "rotate",
            "roll": "rotate", "rolls": "rotate", "lay": "lying", "sleeping": "lying", "bed": "lying",
            "strech": "stretch", "loosen": "stretch", "fix": "stretch", "tight": "tightness",
            "breathing": "diaphragm", "breathe": "diaphragm", "breath": "diaphragm",
            "flex": "flexion", "flexes": "flexion", "bend": "flexion", "bends": "flexion", "extend": "extension",
            "extends": "extension", "abduct": "abduction", "abducts": "abduction", "adduct": "adduction",
            "adducts": "adduction", "rotates": "rotation", "lift": "flexion", "lifts": "flexion",
            "strength": "force", "strong": "force", "stronger": "force"}


_WORDS = re.compile(r"[a-z0-9%]+")
_ABBREVIATIONS = {"pcsa": "physiological cross sectional area", "csa": "cross sectional area",
                  "rom": "range of motion", "lbp": "low back pain", "mtt": "modified thomas test",
                  "rct": "randomised controlled trial", "rcts": "randomised controlled trials"}
_DOES_TYPO = re.compile(r"\b(where|what|how|why|when|which|who) dose\b")
_SEM_W = float(os.environ.get("ASK_SEM_W", "1"))
_SEM_K = int(os.environ.get("ASK_SEM_K", "10"))


def _plain_text(d: Doc) -> str:
    return d.sentence
_stem = stem  # the passages' stemming (kept under its old name for the writer and the decider)


@dataclass(frozen=True)
class Query:
    """A question as the index reads it."""

    text: str  # normalised, whole (the safety check reads all of it)
    tokens: tuple[str, ...]  # sides dropped, singular, typos repaired
    mentions: tuple[Mention, ...]
    entities: tuple[str, ...]  # named structures, specific ones first (generic words only if nothing else)
    content: tuple[str, ...]  # content words outside the names
    unknown: tuple[str, ...]  # content words the index has never seen
    repaired: int
    qtype: str  # yesno | number | definition | why | how | other
    claim: bool
    seeking: int = 0  # 2: "what is the muscle that ..."; 1: "which muscles ..." (the answer names a structure)
    related: tuple[str, ...] = ()  # wholes and parts of the named structures (psoas major <-> iliopsoas)
    key: tuple[str, ...] = ()  # content words that say what is asked (everyday words left out)
    generic: bool = False  # only loose words ("hip", "nerve") name a structure
    personal: bool = False  # the asker speaks about themselves ("my hip", "I")
    implied: bool = False  # ``related`` is the hip-flexor family implied by a "why does my ..." question
    asked: str = ""  # the asking part of ``text`` (statements about the asker left out)
    relations: frozenset[str] = frozenset()  # statement predicates the question's words ask for
    studies: frozenset[str] = frozenset()  # cited sources the question names ("Bogduk 1992")
    other_studies: tuple[str, ...] = ()  # authors named with a year or "et al" that no cited source has
    aspects: frozenset[str] = frozenset()  # care aspects asked: rest, stop, feel, where_pain


class AskIndex:
    """Passages + FTS5 table + alias index + safety matcher for one atlas (built once, read-only).

    Parameters
    ----------
    atlas:
        a loaded :class:`~iliopsoas.knowledge.store.Atlas`.
    protocols:
        the care exercise records (default: the packaged library).
    safety:
        the safety data (default: the packaged safety file).
    """

    def __init__(self, atlas: Any, protocols: Sequence[Any] | None = None, safety: SafetyData | None = None,
                 cache: TableCache | None = None):
        from iliopsoas.knowledge import ask_semantic
        from iliopsoas.knowledge.safety import load_safety

        self.atlas = atlas
        self.safety = safety or load_safety()
        self.matcher = SafetyMatcher(self.safety)
        self.studies = StudyIndex(atlas.sources)
        self.dated = frozenset(sid for sid, src in atlas.sources.items() if src.year and src.kind.value == "research")
        self.embedder = ask_semantic.load()
        #: "is this an ordinary English word" (never repaired as a typo): a word list, or a whole token of
        #: the embedder's tokenizer
        self.is_word = word_test(EnglishWords.load(), self.embedder.is_word if self.embedder is not None else None)

        def build() -> AskTables:
            return build_tables(atlas, load_protocols() if protocols is None else protocols, self.safety,
                                self.matcher.vocab, self.embedder)

        if protocols is None and safety is None:
            tables = load_tables(atlas, build, self.embedder.identity() if self.embedder else "", cache)
        else:
            tables = build()
        if self.embedder is not None and tables.word_ids:
            self.embedder.word_ids.update(tables.word_ids)
        if self.embedder is not None:  # the second, meaning-based safety recogniser
            self.matcher.semantic = SemanticSigns(self.safety, self.embedder)
        self.tables = tables
        self.docs: tuple[Doc, ...] = tables.docs
        self.alias: AliasIndex = tables.alias
        self.vocabulary: frozenset[str] = tables.vocabulary
        self.parents, self.children, self.variants = tables.parents, tables.children, tables.variants
        from iliopsoas.knowledge.ask_tables import stem

        # the stems of every word in a structure's name or synonyms ("how many vertebrae" counts structures)
        self.name_stems: frozenset[str] = frozenset(
            stem(w) for e in atlas.entities.values() for n in (e.name, *e.synonyms) for w in n.lower().split())
        self.doc_vecs = tables.doc_vecs if self.embedder is not None else None
        self.describe = DescriptionIndex(atlas.entities, stem, self.embedder)  # "the muscle lining the pelvic bowl"
        self.cue_stems = {d.id: st for d, st in zip(self.docs, tables.cue_stems, strict=True)}
        self.doc_stems = {d.id: st for d, st in zip(self.docs, tables.doc_stems, strict=True)}
        self._df = tables.df
        self._row = {d.id: n for n, d in enumerate(self.docs)}
        self._qvec: dict[str, Any] = {}
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._lock = threading.Lock()
        self._db.execute("CREATE VIRTUAL TABLE p USING fts5(names, cues, body, tokenize='porter unicode61')")
        self._db.executemany(
            "INSERT INTO p(rowid, names, cues, body) VALUES (?, ?, ?, ?)",
            ((n, compounds(d.names.lower()), d.cues, compounds(f"{d.body} {d.sentence}".lower()))
             for n, d in enumerate(self.docs)),
        )
        self.by_subject: dict[str, list[Doc]] = {}
        for d in self.docs:
            if d.subject:
                self.by_subject.setdefault(d.subject, []).append(d)
        self.definitions = {d.subject: d for d in self.docs if d.predicate == "definition" and d.subject}
        self.fact_docs = {d.facts[0]: d for d in self.docs if d.kind == "fact" and d.facts}
        self.claim_docs = {d.claims[0]: d for d in self.docs if d.kind == "claim"}
        self.claim_of: dict[str, tuple[str, ...]] = {}
        for cid, c in atlas.claims.items():
            for sid in c.statements:
                self.claim_of[sid] = (*self.claim_of.get(sid, ()), cid)
        self.kind_words = {d.id: frozenset(KIND_WORDS.get(str(d.extra.get("kind")), "").split())
                           for d in self.docs if d.kind == "care"}
        self.pain_words = frozenset("hurt hurts pain painful ache aches sore injury injured".split())
        self.evidence_words = frozenset("work works effective evidence proven research trial help helps".split())
        self.care_words = frozenset("stretch stretching strengthen strengthening exercise exercises release hold rep "
                                    "reps set sets dose stronger loosen".split())

    # -- reading a question ---------------------------------------------------------------

    def _names_in(self, text: str) -> set[str]:
        """The structures ``text`` names outright."""
        return {m.entity for m in find_mentions(normalise(text).split(), self.alias)}

    def _shared_head(self, raw: list[str]) -> list[str]:
        """Two names sharing one head noun ("ely vs ober test", "thomas and ober tests") each get the noun
        when the name with it is one the atlas knows."""
        out = list(raw)
        for i in range(len(out) - 4, -1, -1):
            first, link, second, head = out[i:i + 4]
            if link in ("vs", "versus", "and", "or", "v") and head in ("test", "tests") and "test" not in (first, second) \
                    and f"{first} test" in self.alias.aliases:
                out[i + 1:i + 1] = ["test"]
        return out

    def analyse(self, question: str) -> Query:
        question = plain_question(question)  # slang spelled out, fillers end a clause
        described = self.describe.resolve(question, self._names_in)
        if described:  # "the fluid pouch under the hip flexor tendon": the iliopsoas bursa
            question = name_descriptions(question, described)
        full = normalise(question)
        text = _asked_part(question, self._names_something)  # ``full`` keeps what the asker says about themselves
        raw = strip_sides(text).split()
        raw = _DOES_TYPO.sub(r"\1 does", " ".join(raw)).split()  # "where dose the psoas attach"
        raw = [w for t in raw for w in _ABBREVIATIONS.get(t, t).split()]  # "pcsa" as the passages write it
        raw = self._shared_head(raw)  # "ely vs ober test": the Ely test and the Ober test
        # names with a typo in one word ("hip flexer", "psoas majr") are found before single words
        # are repaired, so that "flexer" becomes "flexor" and not the nearer "flexed"
        first = [m for m in find_mentions([singular(t, self.alias.vocabulary) for t in raw], self.alias)
                 if m.end - m.start >= 2 and m.score < 1.0 and len(m.alias.split()) == m.end - m.start]
        for m in first:
            raw[m.start:m.end] = m.alias.split()
        tokens, repaired = repair(raw, self.alias, keep=frozenset(j for m in first for j in range(m.start, m.end)),
                                  is_word=self.is_word)
        repaired += len(first)
        mentions = find_mentions(tokens, self.alias)
        specific = [m for m in mentions if m.alias not in GENERIC_WORDS]
        in_names = {j for m in mentions for j in range(m.start, m.end)}
        content = tuple(
            t for j, t in enumerate(tokens) if j not in in_names and t not in STOP
        )
        key = tuple(t for t in content if t not in PLAIN)
        # "type of joint is the hip": a named structure plus a word next to it in the question can
        # name a more specific one ("hip joint"), which then comes first.
        joined = [self.alias.aliases.get(f"{m.alias} {t}") or self.alias.aliases.get(f"{t} {m.alias}")
                  for m in mentions for t in content]
        entities = tuple(dict.fromkeys([e for e in joined if e] + [m.entity for m in (specific or mentions)]))
        unknown = tuple(
            t for t in key
            if t not in self.vocabulary and t not in COMMON_WORDS and t.isalpha() and len(t) > 2
        )
        if re.match(r"where (do|does|is|are)\b", text):  # "where does the iliacus sit / live / lie"
            content = tuple("located" if t in ("sit", "sits", "live", "lives", "lie", "lies") else t for t in content)
        if re.search(r"\bwhat (do|does|did)\b.*\bdo\b|\b(job|role|function) of\b", text):
            content += ("action", "function")  # "what does X do" asks for its actions
        if len(entities) >= 2 and re.search(r"\b(know|tell|which|whether|if)\b.*\bor\b", text):
            content += ("attribute", "distinguish", "separate", "validated", "symptoms")  # telling two apart
        if re.search(r"\b(rotat|turn|roll|flop|point|fall|fell)\w* (\w+ )?out(ward|wards)?\b", text):
            content += ("lateral", "rotation", "external", "turn", "outward")  # "my leg turns out" is lateral rotation
        if re.search(r"\bleft and (a |the )?right\b|\bon (each|both) sides?\b|\bone (on|per|for) each\b|\b(a )?pair of\b|"
                     r"\b(is there|are there|do (we|i|you|people|humans) have) (only |just )?(one|two|a single)\b", text):
            content += ("paired",)  # "do we have a left and a right psoas": whether the structure is paired
        if re.search(r"\b(just |only )?(one|a single) side\b|\bone[- ]sided\b|\bunilateral\w*", text):
            content += ("lateral", "flexion", "same", "side")  # "contracts on one side": side-bending to that side
        family = [p for e in entities for p in (*self.parents.get(e, ()), *self.children.get(e, ()),
                                                *self.variants.get(e, ()))]
        implied = False
        if not entities and re.search(r"\b(my|i)\b", text) and re.search(r"\b(why|what can i do)\b", text):
            family = ["iliopsoas", "psoas-major", "iliacus"]  # "why does my back arch": the hip flexors asked about
            implied = True
        related = tuple(dict.fromkeys(p for p in family if p not in entities))
        generic = bool(mentions) and not specific
        pair_relation = re.search(r"\b(nerves?|innervat\w*|supply|supplied|blood|arter\w*|tendons?|insert\w*|end|ends|"
                                  r"origin\w*|start|starts|bone|bones)\b", text)
        if len(entities) >= 2 and _VERBLESS_SAME.search(text):
            qtype = "yesno"  # "iliacus and psoas: same muscle?"
        elif len(entities) >= 2 and re.search(r"\b(difference|differences|differ|different|vs|versus|compare|compared|each|what do they (look at|check|test|measure|assess|show))\b", text) \
                and not (_YESNO.search(text) and (pair_relation or _ONE_OR_TWO.search(text))):
            # "do psoas and iliacus get different nerves", "is the iliacus a different muscle from the psoas": yes/no
            qtype = "compare"
        elif (_DEFINE.search(text) or re.match(r"what (do|does) .+ mean$", text)) and entities \
                and (not set(key) - {"meant", "mean"} or self._defined_first(text) is not None):
            qtype = "definition"  # "what is meant by the tailbone" asks what it is
        elif _NUMBER.search(text):
            qtype = "number"
        elif (_YESNO.search(text) or text.endswith(" true") or " true or false" in text or _LATE_YESNO.search(question)
              or _ends_yesno(question)) and not _CHOICE.search(question):
            qtype = "yesno"
        elif text.startswith("why ") or re.search(r"\bwhy\b", text) and re.search(r"\b(my|i)\b", text) \
                or re.search(r"\bwhy (is|are|do|does|did|should|must|would|can) (the|a|an|one|it|they|you)\b", text):
            qtype = "why"
        elif len(entities) >= 2 and re.search(r"\b(know|tell|which|whether|if)\b.*\bor\b", text):
            qtype = "which_of"  # "how do I know if it is my psoas or my iliacus" asks how to tell them apart
        elif re.search(r"\bwhat can i do\b|\bhow (can|do) i (fix|help|treat|loosen|relax|improve|get rid)\b|\bwhat helps\b", text):
            qtype = "overview"
        elif text.startswith(("how do", "how to", "how is", "how can", "how should", "how are")):
            qtype = "how"
        else:
            qtype = "other"
        which = _WHICH.search(text)
        same_kind = bool(which and entities and self._kind_of(entities[0]) in _NOUN_KINDS.get(which.group(4).rstrip("s"), ()))
        # "what muscle attaches to the lesser trochanter": another kind of structure than the one named is sought
        other_kind = bool(which and entities and not same_kind and which.group(4).rstrip("s") in _NOUN_KINDS)
        seeking = 2 if _SEEKING.search(text) or _DESCRIBED.search(text) or other_kind else 1 if same_kind or generic else 0
        studies, other_studies = self.studies.named(question, self.embedder.is_word if self.embedder else None)
        return Query(full, tuple(tokens), tuple(mentions), entities, content, unknown, repaired, qtype,
                     bool(_CLAIM.search(text)), seeking, related, key, generic,
                     bool(re.search(r"\b(i|my|me|im)\b", full)), implied, text,
                     relations_asked(" ".join(self._relation_tokens(tokens, mentions)))
                     if qtype not in ("why", "overview") else frozenset(),
                     studies, other_studies, aspects_asked(text))

    @staticmethod
    def _relation_tokens(tokens: Sequence[str], mentions: Sequence[Mention]) -> list[str]:
        """The words a relation is read from: a movement-class name that is what the question is about ("my
        hip flexor is irritated ...") names the structure, it asks for no action ("is X a hip flexor" does)."""
        first = min(mentions, key=lambda m: m.start) if mentions else None
        if first is None or not re.search(r"\b(flexor|extensor|rotator|abductor|adductor)s?\b", first.alias):
            return list(tokens)
        return [t for j, t in enumerate(tokens) if not first.start <= j < first.end]

    def _names_something(self, clause: str) -> bool:
        """True when ``clause`` names a structure of the atlas (a specific one, not "hip" or "back")."""
        return any(m.alias not in GENERIC_WORDS for m in find_mentions(clause.split(), self.alias, fuzzy=False))

    def kind_of(self, entity: str) -> str:
        """The kind of entity ``entity`` ("muscle", "bone" ...; "" when unknown)."""
        return self._kind_of(entity)

    def _kind_of(self, entity: str) -> str:
        e = self.atlas.entities.get(entity)
        return e.kind.value if e is not None else ""

    # -- searching ------------------------------------------------------------------------

    def _fts(self, terms: Iterable[str], limit: int) -> list[tuple[int, float]]:
        uniq = list(dict.fromkeys(t for t in terms if t and re.fullmatch(r"[a-z0-9]+", t)))
        if not uniq:
            return []
        match = " OR ".join(f'"{t}"' for t in uniq)
        with self._lock:
            rows = self._db.execute(
                "SELECT rowid, bm25(p, 4.0, 2.0, 1.0) FROM p WHERE p MATCH ? ORDER BY bm25(p, 4.0, 2.0, 1.0) LIMIT ?",
                (match, limit),
            ).fetchall()
        return [(int(r), -float(s)) for r, s in rows]

    def search(self, q: Query, limit: int = 60) -> list[tuple[Doc, float]]:
        """Passages for ``q``, best first, with their re-ranked scores (higher is better)."""
        terms = [entity_token(e) for e in (*q.entities, *q.related, *(m.entity for m in q.mentions))]
        terms += list(q.content)
        terms += [SYNONYMS.get(t, "") for t in q.content]
        terms += [x for t in q.content for x in SEARCHED_AS.get(t, ())]  # "overdid" is told as overuse
        for m in q.mentions:
            terms += m.alias.split()
        hits = self._fts(terms, limit)
        have = {r for r, _ in hits}
        # every passage about a structure the question names is a candidate, not only BM25's best 60
        floor = min((b for _, b in hits), default=0.0)
        for e in q.entities[:2]:
            for d in self.by_subject.get(e, ()):
                row = self._row[d.id]
                if row not in have and d.kind == "fact":
                    hits.append((row, floor))
                    have.add(row)
        if q.studies:  # "what did Bogduk 1992 find": every passage citing the study named is a candidate
            for n, d in enumerate(self.docs):
                if n not in have and q.studies & set(d.sources):
                    hits.append((n, floor))
                    have.add(n)
        sem = None
        if self.doc_vecs is not None and self.embedder is not None and _SEM_W:
            qv = self._query_vec(q)
            sem = self.doc_vecs @ qv
            extra = [int(i) for i in np.argsort(-sem)[:_SEM_K] if int(i) not in have]
            hits = hits + [(i, 0.0) for i in extra]
        if not hits:
            return []
        return rerank(self, q, hits, sem)

    def _defined_first(self, text: str) -> tuple[str, str] | None:
        """"What is the lumbar plexus, and how is it related to the psoas?": a structure named alone in a
        first "what is" clause is defined first; returns its name and the second clause, answered by the
        facts that follow (:meth:`then_asked`)."""
        m = _AND_ASK.search(text)
        if m is None:
            return None
        first = re.sub(r"^(what is|what are|define|describe|explain|who is) (the |a |an )?", "", text[:m.start()]).strip(" ,")
        rest = text[m.start():].lstrip(" ,")[len("and "):]
        return (first, rest) if first and first in self.alias.aliases else None

    def then_asked(self, q: Query) -> Query | None:
        """The second clause of "what is X, and how common is it?" read as its own question ("it" is X)."""
        split = self._defined_first(q.text) if q.qtype == "definition" else None
        if split is None:
            return None
        name, rest = split
        return self.analyse(re.sub(r"\b(it|they|them)\b", name, rest) + "?")

    def idf(self, stem: str) -> float:
        """How rare a word stem is among the passages (a stem no passage uses is the rarest)."""
        return math.log((len(self.docs) + 1) / (self._df.get(stem, 0) + 1))

    def similarity(self, q: Query, d: Doc) -> float:
        """Cosine of the question's and the passage's embeddings (0 without the semantic table)."""
        if self.embedder is None or self.doc_vecs is None:
            return 0.0
        row = self._row.get(d.id)
        if row is None:
            return 0.0
        return float(self.doc_vecs[row] @ self._query_vec(q))

    def near_words(self, docs: Sequence[Doc], threshold: float = 0.45) -> Any:
        """A test "does one of ``docs`` use a word close in meaning to this one?" (embedding cosine
        >= ``threshold`` between single words; always False without the semantic table)."""
        if self.embedder is None:
            return lambda _w: False
        emb = self.embedder
        words = sorted({w for d in docs for w in _WORDS.findall(d.sentence.lower()) if w.isalpha() and len(w) > 2})
        mat = np.stack([emb.word_vec(w) for w in words]) if words else None

        def near(word: str) -> bool:
            if mat is None:
                return False
            return bool((mat @ emb.word_vec(word)).max() >= threshold)

        return near

    def _query_vec(self, q: Query) -> Any:
        key = " ".join(q.tokens)
        hit = self._qvec.get(key)
        if hit is None:
            assert self.embedder is not None
            hit = self.embedder.embed_words(list(q.tokens))
            if len(self._qvec) > 256:
                self._qvec.clear()
            self._qvec[key] = hit
        return hit

    def close(self) -> None:
        with self._lock:
            self._db.close()

