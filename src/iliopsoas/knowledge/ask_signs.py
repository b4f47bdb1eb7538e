"""Recognising the safety file's signs in a question: concepts, negation scope, numbers, typos.

The items of ``knowledge/data/safety.yaml`` are named in two ways, both read here:

* **lay phrases** (``lay``): word sequences people use for the item ("cannot bear weight",
  "numb* ... genital*"); they always count (conservative by design);
* **signs** (``signs``): combinations of *concepts* - sets of words and phrases that say one idea
  ("urine": pee, wee, urinate, pass water ...; "difficulty": cannot, trouble, struggle, dribble ...) -
  that name the item in any order when all occur, not denied, within one sentence and a window of
  words ("urine + difficulty ~6" finds "my pee only dribbles out", "it's hard to start peeing",
  "I haven't peed in 12 hours"). A term ``@concept`` may stand anywhere in the question (the
  pressure tool that came before a numb thigh); ``regions>=2`` asks for body regions of two kinds.
  An item's ``unless``
  concepts cancel it ("lost 5 kg on a diet"; "without dieting" does not cancel).

Words of a member match their inflected forms ("pee": pees, peed, peeing), ``word*`` any ending,
``{num}`` any number and ``{37.8-43}`` a number in a range (so "a temperature of 38.5" and "lost
8 kg" are read as numbers with units). A misspelt word of five letters or more is repaired towards
the safety vocabulary when it keeps its first letter and is no ordinary English word.

**Negation scope.** A negation cue ("no", "not", "never", "without", "didnt" ...) denies what
follows it up to the end of its clause: a comma that starts a new clause, or a conjunction ("and",
"but", "so", "because" ...). "I didn't fall and I can walk fine" denies the fall only. A cue that
belongs to a concept ("cannot pee", "not improving") or to a hedge ("not sure if", "don't know
whether") denies nothing, and "... is fine / normal / gone" after a sign denies it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from rapidfuzz import fuzz, process

from iliopsoas.knowledge.safety import SafetyData, sign_terms

IGNORED = frozenset("a an the my your his her their our some any this that these those very really so quite just also".split())
NEGATIONS = frozenset("no not never without nor neither none cannot deny denies denied nothing excluded".split())
HEDGES = ("not sure", "not certain", "not know if", "not know whether", "no idea if", "no idea whether", "not 100",
          "not entirely sure", "not quite sure", "unsure", "not know", "no idea", "cannot remember", "not remember",
          "cannot tell if", "cannot tell whether",
          # negation words that assert what follows (pseudo-negations, as in NegEx): "it doesn't stop
          # throbbing", "nothing helps the night pain", "nothing has been done about my hernia"
          "not stop", "cannot stop", "never stop", "will not stop", "not go away", "never go away", "nothing help",
          "nothing work", "nothing ease", "nothing relieve", "nothing ... done", "no matter", "not only", "no better",
          "no relief", "not get better", "not improve", "no longer able", "not yet treated", "not ... fixed yet")
# after a sign, a word that says it is absent: "... is fine", "fever-free", "hernia excluded"
FINE = frozenset("fine ok okay normal normally good gone clear negative absent healthy free excluded resolved".split())
# units a number before them measures that are not years of age ("I'm 12 weeks pregnant" is no age)
_NOT_AGE_UNITS = frozenset("week weeks month months day days hour hours minute minutes min mins second seconds "
                           "sec secs s times reps sets percent kg kgs kilos pounds lb lbs cm mm degrees degree deg "
                           "n nm".split())
# "my friend is pregnant, but I'm not": the asker denies, for themselves, what the clause before said
_ELLIPTIC = (("i", "am", "not"), ("i", "do", "not"), ("i", "have", "not"), ("not", "me"))
_FILLER = frozenset("is are was were feel feels felt seem seems look looks has have been just totally completely "
                    "perfectly all absolutely now back to".split())
# a comma ends a denial when a new clause starts after it ("no fever, my leg is numb"), not in a list
# ("no numbness, tingling or weakness")
_NEW_CLAUSE = frozenset("i my it its the there but and now then he she we they what which where how can should is "
                        "does do will could would why when who this that am".split())
_BOUNDARY = frozenset("and but however although though yet so because then except while whereas since after "
                      "when which until".split())
PERSONAL = frozenset("i me my mine myself im we our us son daughter child kid kids baby boy girl teen teenager pt here "
                     "mum mom mother dad father wife husband partner grandma granny grandad grandpa grandmother "
                     "grandfather patient friend brother sister he she his her".split())
# ordinary words a question may use that lie close to a sign word ("performed" / "deformed")
COMMON_ENGLISH = frozenset(
    "performed performs perform reformed informed formed preformed inform person personal persons second "
    "seconds feeling falling calling telling killing filling hinge hinges pressed wanted planted printed "
    "limiting limited lying".split()
)
_CONTRACT = {
    "didnt": "did not", "dont": "do not", "doesnt": "does not", "havent": "have not", "hasnt": "has not",
    "hadnt": "had not", "isnt": "is not", "arent": "are not", "wasnt": "was not", "werent": "were not",
    "wont": "will not", "wouldnt": "would not", "couldnt": "could not", "shouldnt": "should not", "cant": "cannot",
    "aint": "is not", "cnat": "cannot", "canot": "cannot", "cannt": "cannot", "im": "i am", "ive": "i have", "id": "i would", "youre": "you are",
}
_QUESTION = frozenset("is are am can could should would will do does did how what why where when which".split())
_TOKEN = re.compile(r"[a-z]+|\d+(?:\.\d+)?|,")
_SENTENCE = re.compile(r"[.!?;:\n]+(?:\s|$)|\s[-\u2013\u2014]\s")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
                "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
                "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "couple": 2, "few": 3, "several": 4, "half": 0.5}
DEFAULT_WINDOW = 20

__all__ = ["Found", "SafetyMatcher", "SemanticSigns", "for_me", "sentences", "set_apart", "without_elliptic_denials"]


def sentences(text: str) -> list[list[str]]:
    """``text`` as sentences of tokens: lower case, contractions expanded, digits apart from units
    ("5kg" -> 5 kg), decimals whole ("38.5"), commas kept as tokens."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    text = re.sub(r"n't\b", " not", text.replace("can't", "cannot").replace("won't", "will not"))
    text = re.sub(r"'(ve|re|ll|m|d|s)\b", lambda m: {"ve": " have", "re": " are", "ll": " will", "m": " am"}.get(m.group(1), ""), text)
    # two-word negation cues read as one: "free of a fever", "a hernia was ruled out", "negative for DVT"
    text = re.sub(r"\b(free of|clear of|negative for)\b", " without ", text)
    text = re.sub(r"\bruled out\b", " excluded ", text)
    text = re.sub(r"(\d)([a-z])", r"\1 \2", text)
    text = re.sub(r"(\d)p(\d)", r"\1.\2", text)  # a normalised decimal ("38p5") read back
    out = []
    for sent in _SENTENCE.split(text):
        toks: list[str] = []
        for t in _TOKEN.findall(sent):
            toks += _CONTRACT.get(t, t).split()
        for j in range(len(toks) - 2, -1, -1):  # "seventy one" -> 71
            a, b = NUMBER_WORDS.get(toks[j]), NUMBER_WORDS.get(toks[j + 1])
            if a in (20, 30, 40, 50, 60, 70, 80, 90) and b is not None and 1 <= b <= 9 and float(b).is_integer():
                toks[j:j + 2] = [str(int(a + b))]
        if toks:
            out.append(toks)
    return out


def _forms(word: str) -> frozenset[str]:
    """A word and its regular inflections ("pee": pees, peed, peeing; "buckle": buckles, buckled, buckling)."""
    forms = {word}
    if not word.isalpha() or len(word) < 3:
        return frozenset(forms)
    forms |= {word + "s", word + "es", word + "ed", word + "d", word + "ing", word + "er"}
    if word.endswith("e"):
        forms |= {word[:-1] + "ing", word[:-1] + "ed"}
    if word.endswith("y"):
        forms |= {word[:-1] + "ies", word[:-1] + "ied"}
    if word[-1] not in "aeiouwxy" and word[-2] in "aeiou" and word[-3] not in "aeiou":
        forms |= {word + word[-1] + "ing", word + word[-1] + "ed"}
    return frozenset(forms)


@dataclass(frozen=True)
class _Phrase:
    key: str  # concept name, "lay:<item>" or "technique:<id>"
    parts: tuple[tuple[str, object], ...]
    negating: bool  # the phrase itself holds a negation word ("not ... pee")


def _compile(phrase: str, key: str) -> _Phrase:
    parts: list[tuple[str, object]] = []
    negating = False
    for tok in re.sub(r"(?<=[a-z])-(?=[a-z])", " ", phrase.lower()).split():
        if tok == "...":
            parts.append(("gap", 4))
        elif tok == "{num}":
            parts.append(("num", None))
        elif m := re.fullmatch(r"\{(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)\}", tok):
            parts.append(("range", (float(m.group(1)), float(m.group(2)))))
        elif tok.endswith("*"):
            parts.append(("prefix", tok[:-1]))
        elif tok not in IGNORED:
            for w in _CONTRACT.get(tok, tok).split():
                negating |= w in NEGATIONS
                parts.append(("word", _forms(w)))
    return _Phrase(key, tuple(parts), negating)


def _match(parts: Sequence[tuple[str, object]], toks: Sequence[str], i: int) -> int | None:
    """End index (exclusive) when ``parts`` match ``toks`` from ``i`` (small words skipped), else None."""
    if not parts:
        return i
    kind, value = parts[0]
    if kind == "gap":  # up to ``value`` other words (small words not counted)
        skipped, j = 0, i
        while j <= len(toks) and skipped <= int(value):  # type: ignore[call-overload]
            end = _match(parts[1:], toks, j)
            if end is not None:
                return end
            if j < len(toks) and toks[j] not in IGNORED:
                skipped += 1
            j += 1
        return None
    while i < len(toks) and toks[i] in IGNORED:
        i += 1
    if i >= len(toks):
        return None
    tok = toks[i]
    if kind == "word" and tok not in value:  # type: ignore[operator]
        return None
    if kind == "prefix" and not (tok.startswith(str(value)) and tok != ","):
        return None
    if kind in ("num", "range"):
        number = float(tok) if _NUMBER.fullmatch(tok) else NUMBER_WORDS.get(tok)
        if number is None:
            return None
        if kind == "range":
            lo, hi = cast(tuple[float, float], value)
            if not lo <= number <= hi:
                return None
            if len(parts) == 1 and i + 1 < len(toks) and toks[i + 1] in _NOT_AGE_UNITS:
                return None  # "i am {10-19}" does not take "I'm 12 weeks pregnant"
    return _match(parts[1:], toks, i + 1)


@dataclass(frozen=True)
class _Occ:
    key: str
    sentence: int
    start: int
    end: int
    negated: bool


@dataclass
class Found:
    """What the matcher read in a question: items named (not denied), techniques asked about, and
    the words of every sign phrase met (denied or not; the question's own subject leaves them out)."""

    items: set[str] = field(default_factory=set)
    techniques: set[str] = field(default_factory=set)
    sign_words: set[str] = field(default_factory=set)
    personal: bool = False
    semantic: set[str] = field(default_factory=set)  # items found only by the meaning check


class SafetyMatcher:
    """Every lay phrase, concept and sign of the safety file, compiled once."""

    def __init__(self, data: SafetyData):
        self.data = data
        phrases = [_compile(p, f"lay:{i.id}") for i in data.items for p in i.lay]
        phrases += [_compile(p, f"technique:{t.id}") for t in data.techniques.values() for p in t.lay]
        phrases += [_compile(p, f"concept:{name}") for name, members in data.concepts.items() for p in members]
        self.phrases = tuple(p for p in phrases if p.parts)
        self.by_word: dict[str, list[_Phrase]] = {}
        self.by_other: list[_Phrase] = []
        for p in self.phrases:
            kind, value = p.parts[0]
            if kind == "word":
                for w in value:  # type: ignore[attr-defined]
                    self.by_word.setdefault(w, []).append(p)
            else:
                self.by_other.append(p)
        self.hedges = tuple(_compile(h, "hedge") for h in HEDGES)
        base: set[str] = set()  # words as written in the file: what a typo is repaired to
        forms: set[str] = set()  # and their inflections: never repaired
        prefixes: set[str] = set()
        for p in self.phrases:
            for kind, v in p.parts:
                if kind == "prefix":
                    prefixes.add(str(v))
                elif kind == "word":
                    forms |= cast(frozenset[str], v)
        for _name, members in [*((i.id, i.lay) for i in data.items), *data.concepts.items(),
                              *((t.id, t.lay) for t in data.techniques.values())]:
            base |= {w for m in members for w in re.findall(r"[a-z]+", m.lower()) if len(w) >= 5}
        self.vocab = tuple(sorted(base | {p for p in prefixes if len(p) >= 5}))
        self.vocab_set = frozenset(base | forms)
        self.prefixes = tuple(sorted(p for p in prefixes if len(p) >= 3))
        self.signs = {i.id: [(_parse_sign(s)) for s in i.signs] for i in data.items if i.signs}
        self.semantic: SemanticSigns | None = None  # set with an embedder (Ask's index does)

    # -- reading ----------------------------------------------------------------------------

    def repair(self, tokens: Sequence[str], known: frozenset[str], is_word: Callable[[str], bool] | None = None) -> list[str]:
        """Misspelt long words mapped to the closest safety word ("pregnent" -> "pregnant").

        A typo keeps its first letter (so "performed" never becomes "deformed"); words the atlas
        knows, ordinary English words (``COMMON_ENGLISH``, or single tokens of the embedding
        tokenizer when ``is_word`` is given) are never changed.
        """
        out = []
        for t in tokens:
            if (len(t) >= 5 and t.isalpha() and t not in known and t not in self.vocab_set
                    and t not in COMMON_ENGLISH and not t.startswith(self.prefixes)
                    and not (is_word is not None and is_word(t))):
                hit = process.extractOne(t, self.vocab, scorer=fuzz.ratio, score_cutoff=80)
                if hit is not None and abs(len(hit[0]) - len(t)) <= 2 and hit[0][0] == t[0]:
                    t = hit[0]
            out.append(t)
        return out

    def read(self, text: str, known: Iterable[str] = (), is_word: Callable[[str], bool] | None = None) -> Found:
        known_set = frozenset(known)
        sents = [self.repair(s, known_set, is_word) for s in sentences(text)]
        occs: list[_Occ] = []
        denying: list[bool] = []
        for n, toks in enumerate(sents):
            found_here, denies = self._read_sentence(n, toks)
            occs += found_here
            denying.append(denies)
        found = Found(personal=any(t in PERSONAL for s in sents for t in s))
        by_key: dict[str, list[_Occ]] = {}
        for o in occs:
            by_key.setdefault(o.key, []).append(o)
        # an "unless" phrase that covers a sign's own words sets that mention aside ("slipped disc" is
        # no fall); one elsewhere cancels the item ("lost 5 kg on a diet")
        cancelled: set[str] = set()
        set_aside: set[_Occ] = set()
        # "appendix out 20 years ago": a mention in a sentence that dates it long ago (and not recently) is set aside
        recent = {o.sentence for o in by_key.get("concept:recent_time", []) if not o.negated}
        old_sents = {i.id: {o.sentence for u in i.unless_near for o in by_key.get(f"concept:{u}", [])
                            if not o.negated and o.sentence not in recent} for i in self.data.items if i.unless_near}
        for i in self.data.items:
            unless = [o for u in i.unless for o in by_key.get(f"concept:{u}", []) if not o.negated]
            mine = by_key.get(f"lay:{i.id}", [])
            set_aside |= {o for o in mine if o.sentence in old_sents.get(i.id, ())}
            covered = {o for o in mine for u in unless if u.sentence == o.sentence and u.start < o.end and o.start < u.end}
            set_aside |= covered
            if any(not any(u.sentence == o.sentence and u.start < o.end and o.start < u.end for o in mine) for u in unless):
                cancelled.add(i.id)
        for o in occs:
            kind, _, name = o.key.partition(":")
            if kind == "lay":
                found.sign_words.update(sents[o.sentence][o.start:o.end])
                if not o.negated and name not in cancelled and o not in set_aside:
                    found.items.add(name)
            elif kind == "technique" and not o.negated:
                found.techniques.add(name)
        for item_id, signs in self.signs.items():
            if item_id in found.items or item_id in cancelled:
                continue
            for sign in signs:
                hit = _sign_hit(sign, by_key, sents, negation=True, skip=old_sents.get(item_id, set()))
                if hit is not None:
                    found.items.add(item_id)
                    found.sign_words.update(hit)
                    break
                denied = _sign_hit(sign, by_key, sents, negation=False)
                if denied is not None:
                    found.sign_words.update(denied)
        if self.semantic is not None:
            dated = {i for i, olds in old_sents.items() if olds}  # told as long ago: words only, no meaning check
            for item_id in self.semantic.recognise(sents, denying, by_key, found.items | cancelled | dated):
                found.items.add(item_id)
                found.semantic.add(item_id)
        found.sign_words -= IGNORED | {","}
        return found

    def _occurrences(self, n: int, toks: Sequence[str]) -> list[_Occ]:
        return self._read_sentence(n, toks)[0]

    def _read_sentence(self, n: int, toks: Sequence[str]) -> tuple[list[_Occ], bool]:
        """Concept, lay and technique occurrences of one sentence, and whether it denies anything."""
        raw: list[tuple[_Phrase, int, int]] = []
        for i, tok in enumerate(toks):
            if tok in IGNORED or tok == ",":
                continue
            for ph in (*self.by_word.get(tok, ()), *self.by_other):
                end = _match(ph.parts, toks, i)
                if end is not None and end > i:
                    raw.append((ph, i, end))
        consumed: set[int] = set()
        for ph, i, end in raw:
            if ph.negating:
                consumed.update(j for j in range(i, end) if toks[j] in NEGATIONS)
        for h in self.hedges:
            for i in range(len(toks)):
                end = _match(h.parts, toks, i)
                if end is not None:
                    consumed.update(range(i, end))
        scope = _negation_scope(toks, consumed)
        asking = bool(toks) and toks[0] in _QUESTION  # "is psoas massage ok?" denies nothing
        out = []
        for ph, i, end in raw:
            own = set(range(i, end)) if ph.negating else set()
            negated = any(j in scope and scope[j] not in own for j in range(i, end)) or (
                not asking and not ph.key.startswith("technique:") and _fine_after(toks, end))
            out.append(_Occ(ph.key, n, i, end, negated))
        return out, bool(scope) or any(o.negated for o in out)


# Someone else's condition: "my dad had a DVT; I've never had one. How often should I foam roll?"
OTHERS = frozenset("sister sisters brother brothers dad father mum mom mother wife husband partner boyfriend girlfriend "
                   "friend friends coworker coworkers colleague colleagues classmate classmates client clients patient "
                   "patients grandma grandpa granny grandad grandmother grandfather son daughter aunt uncle cousin "
                   "neighbour neighbor boss teammate roommate flatmate dog cat he she they".split())
_FIRST_PERSON = frozenset("i me myself we us".split())
_THIRD_PERSON = frozenset("he she him her his hers they them their theirs".split()) | OTHERS
_CLAUSE_START = _BOUNDARY | {"who", "whose"}
_PEOPLE = _FIRST_PERSON | _THIRD_PERSON | {"my", "our", "it", "this", "that", "there"}
# the asker says the condition is not theirs: "for me", "my own", "I've never had one", "no health problems"
_SELF_APART = re.compile(r"\b(my own|for me|for myself|(fine|healthy|well|ok|okay|good) myself|i have never|i never had|i am not|i do not have|i have not had|"
                         r"not me|i have no|no (health|medical) (problems?|issues?|conditions?)|i am (fit and )?healthy|"
                         r"i (only|just) have|all i have is)\b")
# "they" and "them" after the asker's own plural body parts ("my hip flexors ... a stretch for them") are those parts
_PLURAL_PARTS = frozenset("flexors hips legs muscles quads hamstrings glutes thighs tendons".split())

# the asker receives what is asked about: "for me", "my own", "on myself"
_FOR_ME = re.compile(r"\b(my own|for me|for myself|on myself|on me|my (hip flexors?|hips?|psoas|iliacus|belly|stomach|tummy|"
                     r"abdomen|groin|quads?|thighs?|legs?|back|glutes?))\b")
# "my client is pregnant (I'm not)": a clause-final denial by the asker of what the clause before said
_ELLIPTIC_TEXT = re.compile(r"(?:,|\(|\bbut|\band)\s*(?:i'?m|i am|i do|i don'?t|i have|i haven'?t)\s*(?:not)?\b(?=\s*(?:[,.;:!?)]|$|"
                            r"though|myself|obviously))|\bnot me\b", re.I)


def _flat(sents: Sequence[Sequence[str]]) -> str:
    """Sentences as one line of words (commas dropped), for phrase patterns."""
    return " ".join(" ".join(t for t in s if t != ",") for s in sents)


def for_me(text: str) -> bool:
    """The asker says they receive what is asked about ("for me", "my hip flexors")."""
    return _FOR_ME.search(_flat(sentences(text))) is not None


def without_elliptic_denials(text: str) -> str:
    """``text`` without the asker's clause-final denials ("my client is pregnant (I'm not)")."""
    return _ELLIPTIC_TEXT.sub(" ", text)


def _clauses(toks: Sequence[str]) -> list[list[str]]:
    """A sentence cut before commas and clause words ("and", "but", "so", "who" ...)."""
    out: list[list[str]] = [[]]
    for t in toks:
        if (t == "," or t in _CLAUSE_START) and out[-1]:
            out.append([])
        if t != ",":
            out[-1].append(t)
    return [c for c in out if c]


def _others(clause: Sequence[str], before: str) -> bool:
    """A clause about another person: it names one ("my sister is pregnant", "... a client who is
    pregnant") and the asker is not in it ("I'm on warfarin like my dad" is the asker's)."""
    if any(t in _FIRST_PERSON for t in clause) or clause[-1] == "here" or clause[0] in _QUESTION:
        return False  # "AAA patient here" is the asker; "can he stretch?" is the question asked
    return any(t in OTHERS for t in clause) or (clause[0] in ("who", "whose") and before in OTHERS)


def set_apart(text: str) -> tuple[str, bool] | None:
    """``text`` without its clauses about other people, and whether the asker sets themselves apart from
    them in a question about themselves (None: no clause is about someone else).

    The asker is set apart when they say so ("for me", "my own", "I've never had one", "no health
    problems") and nothing outside those clauses speaks of anyone else ("can she ...?", "on her").
    """
    sents = sentences(text)
    kept: list[str] = []
    dropped = False
    for toks in sents:
        before, theirs = "", False
        for c in _clauses(toks):
            # "my grandmother broke her hip and could not walk": a clause with no subject goes on about them
            if _others(c, before) or (theirs and c[0] in _BOUNDARY and not any(t in _PEOPLE for t in c)):
                dropped = theirs = True
            else:
                kept.append(" ".join(c))
                theirs = False
            before = c[-1]
    if not dropped:
        return None
    flat = _flat(sents)
    # "... I want to do psoas release on her": the other person is spoken of again, so it may be for them
    said = [t for c in kept for t in c.split()]
    parts = any(t in _PLURAL_PARTS for t in said)
    third = _THIRD_PERSON - {"they", "them", "their"} if parts else _THIRD_PERSON
    again = any(t in third for t in said) or any(t in third for t in sents[-1])
    apart = _SELF_APART.search(flat) is not None and not again
    return ". ".join(kept), apart


def _negation_scope(toks: Sequence[str], consumed: set[int]) -> dict[int, int]:
    """Token index -> the index of the negation cue that denies it."""
    scope: dict[int, int] = {}
    for j, t in enumerate(toks):
        if t not in NEGATIONS or j in consumed:
            continue
        k = j + 1
        while k < len(toks):
            w = toks[k]
            nxt = toks[k + 1] if k + 1 < len(toks) else ""
            if w in ("and", "or") and nxt not in _NEW_CLAUSE and nxt not in _BOUNDARY:
                pass  # a list: "denies fever, night sweats and night pain" denies all three
            elif w in _BOUNDARY or (w == "," and nxt in _NEW_CLAUSE):
                break
            scope.setdefault(k, j)
            k += 1
    for j in range(len(toks)):  # "my friend is pregnant, but I'm not": denies the words before it
        for tail in _ELLIPTIC:
            end = j + len(tail)
            if tuple(toks[j:end]) == tail and (end == len(toks) or toks[end] in (",", "though", "myself")
                                                 or toks[end] in _QUESTION):
                for k in range(j):
                    scope.setdefault(k, j)
    return scope


def _fine_after(toks: Sequence[str], end: int) -> bool:
    """"... is fine", "... are normal", "walking ok": the sign named only to say it is absent."""
    k = end
    while k < min(len(toks), end + 6):
        w = toks[k]
        if w in FINE:  # "is fine", "are normal, ..." - not "has gone brown", not "7 kg gone"
            if w == "gone" and toks[k - 1] not in ("has", "have", "is", "are", "was", "all", "now"):
                return False
            after = toks[k + 1] if k + 1 < len(toks) else ","
            return toks[k - 1] not in NEGATIONS and (after == "," or after in _BOUNDARY or after in _NEW_CLAUSE
                                                     or after in ("again", "too", "now", "thanks"))
        if w in ("and", "or"):
            k += 2  # "bladder and bowels are fine"
            continue
        if w not in _FILLER and w not in IGNORED and w != "but":  # "felt like jelly but were fine by the evening"
            return False
        k += 1
    return False


@dataclass(frozen=True)
class _Sign:
    near: tuple[str, ...]  # concepts within one sentence and the window
    anywhere: tuple[str, ...]  # "@concept"
    regions: int  # "regions>=N" (0: none)
    window: int


def _parse_sign(sign: str) -> _Sign:
    m = re.search(r"~\s*(\d+)", sign)
    window = int(m.group(1)) if m else DEFAULT_WINDOW
    near, anywhere, regions = [], [], 0
    for term in sign_terms(sign):
        if term.startswith("regions>="):
            regions = int(term.split(">=")[1])
        elif term.startswith("@"):
            anywhere.append(term[1:])
        else:
            near.append(term)
    return _Sign(tuple(near), tuple(anywhere), regions, window)


def _sign_hit(sign: _Sign, by_key: dict[str, list[_Occ]], sents: Sequence[Sequence[str]], *,
              negation: bool, skip: set[int] | frozenset[int] = frozenset()) -> list[str] | None:
    """The words of a match of ``sign`` (None when there is none) outside the sentences ``skip``; denied
    occurrences count only when ``negation`` is False."""
    def occs(concept: str) -> list[_Occ]:
        return [o for o in by_key.get(f"concept:{concept}", []) if not (negation and o.negated)]

    words: list[str] = []
    for concept in sign.anywhere:
        hits = occs(concept)
        if not hits:
            return None
        words += sents[hits[0].sentence][hits[0].start:hits[0].end]
    for n, toks in enumerate(sents):
        if n in skip:
            continue
        if sign.regions:
            kinds = {k for k, lst in by_key.items() if k.startswith("concept:region_")
                     for o in lst if o.sentence == n and not (negation and o.negated)}
            if len(kinds) < sign.regions:
                continue
        combo = _combination([[o for o in occs(c) if o.sentence == n] for c in sign.near], sign.window)
        if combo is not None:
            return words + [w for o in combo for w in toks[o.start:o.end]]
    return None


def _combination(options: Sequence[Sequence[_Occ]], window: int) -> list[_Occ] | None:
    """One occurrence per term, all within ``window`` tokens (first start to last end)."""
    if any(not o for o in options):
        return None
    best: list[_Occ] | None = None

    def walk(i: int, chosen: list[_Occ]) -> None:
        nonlocal best
        if best is not None:
            return
        if i == len(options):
            if not chosen or max(o.end for o in chosen) - min(o.start for o in chosen) <= window + 1:
                best = list(chosen)
            return
        for o in options[i][:12]:
            walk(i + 1, [*chosen, o])

    walk(0, [])
    return best


# Concepts that only say where or when (a body part, a time, "pain"): not enough to anchor the
# meaning check, which needs a symptom word of the item ("pee", "numb", "lump", "weight").
_PLACE_OR_TIME = frozenset("thigh_knee hip_region spine_back organ night morning pain duration change exercise_program "
                           "legs widespread fast heavy_amount".split())
SEMANTIC_THRESHOLD = 0.70


class SemanticSigns:
    """A second, cautious recogniser: a sentence close in meaning to one of an item's ``describe``
    sentences (cosine of mean WordLlama word vectors >= ``threshold``), when the sentence denies
    nothing and names one of the item's symptom concepts (its anchor). Catches phrasings the
    signs miss ("only a trickle comes out" beside "pee"); the threshold was chosen on the dev split
    so that no non-safety question is flagged."""

    def __init__(self, data: SafetyData, embedder: Any, threshold: float = SEMANTIC_THRESHOLD):
        self.embedder = embedder
        self.threshold = threshold
        self.describe = {i.id: i.describe for i in data.items if i.describe and i.signs}
        self.anchors = {i.id: {t.lstrip("@") for sg in i.signs for t in sign_terms(sg)} - _PLACE_OR_TIME
                        for i in data.items if i.id in self.describe}
        self._vecs: dict[str, Any] = {}

    def vectors(self, item_id: str) -> Any:
        import numpy as np

        if item_id not in self._vecs:
            rows = [self.embedder.embed_words(sentences(t)[0]) for t in self.describe[item_id]]
            self._vecs[item_id] = np.stack(rows)
        return self._vecs[item_id]

    def recognise(self, sents: Sequence[Sequence[str]], denying: Sequence[bool], by_key: dict[str, list[_Occ]],
                  skip: set[str]) -> list[str]:
        out = []
        for n, toks in enumerate(sents):
            if denying[n]:
                continue
            named = {k.split(":", 1)[1] for k, lst in by_key.items() if k.startswith("concept:")
                     for o in lst if o.sentence == n and not o.negated}
            candidates = [i for i, anchors in self.anchors.items() if i not in skip and i not in out and anchors & named]
            words = [t for t in toks if t != ","]
            if not candidates or not words:
                continue
            vec = self.embedder.embed_words(words)
            out += [i for i in candidates if float((self.vectors(i) @ vec).max()) >= self.threshold]
        return out
