"""A figure asked for something specific that no shown passage is about: refuse, never a neighbour.

"What did Reid 1994 report at L3?", "how common is the psoas minor in Japanese people?", "the
moment arm at 60 degrees in Arnold 2000", "the normal resting angle between the psoas and the
spine": when a question asks for a figure and names a study (author or year), a spinal level, a
joint angle, a group of people (a nationality or an age), an activity ("during sprinting") or a
kind of angle ("resting", "to the vertical") that none of the passages the answer would show
speaks of, the nearest figure belongs to another study, level, angle, group or quantity. Showing
it would answer a different question, so Ask says the asked figure is not in its sources instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

__all__ = ["StudyIndex", "asks_figure", "unmatched"]

# an explicit request for a figure ("how much", "what is the ... angle", "what EMG did Juker record")
_FIGURE = re.compile(
    r"\b(how (much|many|common|big|large|long|wide|thick|strong|often|far|heavy)|what (is|was|were|are) (the )?"
    r"(\w+ ){0,4}(value|figure|number|size|area|csa|pcsa|length|angle|arm|force|strength|prevalence|percentage|"
    r"tension|tone|stiffness|"
    r"share|rate|emg|activity|mass|volume|torque|moment|incidence|tilt)|what (\w+ ){1,5}did (\w+ ){1,4}(report|find|"
    r"found|measure|give|show|record)|what share|what proportion)\b"
)
# nouns of measured figures: a figure is asked unless the question asks "when / which / whether"
_FIGURE_NOUNS = re.compile(r"\b(prevalence|percentage|moment arm|cross sectional area|csa|emg)\b")
# "what did Bogduk find" asks for a figure only when it names a quantity ("what did Reid find for the CSA")
_FOUND = re.compile(r"\bwhat did (\w+ ){1,4}(report|find|measure|give|show|record)|\baccording to\b")
# a "when / which / why" question or a yes/no question asks no figure unless it says so ("how much", "what value")
_NOT_FIGURE = re.compile(r"^(?:(?:in|according to|for|from) [^,?]*,? )?(when|which|why|who|whether|did|does|do|is|are|was|"
                         r"were|can|could|has|have)\b|\b(when|why|which) (was|were|is|are|does|do|did)\b")
_YEAR = re.compile(r"\b(19[5-9]\d|20[0-3]\d)\b")
_LEVEL = re.compile(r"\b([tls])\s?(\d{1,2})\b(?:\s*[/-]\s*([tls])?\s?(\d{1,2})\b)?", re.I)
_ANGLE = re.compile(r"\bat (-?\d+(?:\.\d+)?)\s*(?:degrees?|deg|\u00b0)", re.I)
_ACTIVITY = re.compile(r"\b(?:during|while|when)\s+(?:the\s+|a\s+)?(\w+ing)\b")
_AUTHOR_CUES = (
    re.compile(r"\b([A-Za-z][a-zA-Z]{2,})(?:\s+(?:and|&)\s+[A-Za-z][a-zA-Z]{2,})?\s+(?:et al\.?\s*)?\(?(?:19|20)\d\d\b"),
    re.compile(r"\b([A-Za-z][a-zA-Z]{2,})\s+(?:et al|and colleagues|and co|'s (?:study|paper|data|group))\b"),
    re.compile(r"\b(?:according to|study by|paper by|data of|data from|work of|by)\s+([A-Z][a-z]{2,})\b"),
    re.compile(r"\b[A-Z][a-z]{2,}\s+(?:and|&)\s+([A-Z][a-zA-Z]{2,})\b"),
    re.compile(r"\bdid ([A-Z][a-z]{2,})(?:\s+et al|\s+and colleagues)?\s+(?:report|find|measure|record|show|give|get)\b"),
)
_NOT_NAMES = frozenset("the this that what which study paper data how according and with from for in of by a an "
                       "report reported find found measure did does psoas iliacus iliopsoas hip emg mri csa rct "
                       "since until before after during year years around about than adults adult people men women "
                       "children athletes patients subjects volunteers students runners cadavers".split())
# nationalities and places (a figure for people of one place)
_PEOPLE: dict[str, str] = {
    "afghan": "afghanistan", "albanian": "albania", "algerian": "algeria", "american": "usa", "americans": "usa",
    "argentine": "argentina", "argentinian": "argentina", "armenian": "armenia", "australian": "australia",
    "austrian": "austria", "bangladeshi": "bangladesh", "belgian": "belgium", "bolivian": "bolivia", "brazilian":
    "brazil", "british": "uk", "bulgarian": "bulgaria", "cambodian": "cambodia", "cameroonian": "cameroon",
    "canadian": "canada", "chilean": "chile", "chinese": "china", "colombian": "colombia", "congolese": "congo",
    "croatian": "croatia", "cuban": "cuba", "czech": "czechia", "danish": "denmark", "dane": "denmark", "dutch":
    "netherlands", "egyptian": "egypt", "english": "uk", "estonian": "estonia", "ethiopian": "ethiopia", "filipino":
    "philippines", "finnish": "finland", "finn": "finland", "french": "france", "georgian": "georgia", "german":
    "germany", "ghanaian": "ghana", "greek": "greece", "hungarian": "hungary", "icelandic": "iceland", "indian":
    "india", "indonesian": "indonesia", "iranian": "iran", "iraqi": "iraq", "irish": "ireland", "israeli": "israel",
    "italian": "italy", "jamaican": "jamaica", "japanese": "japan", "jordanian": "jordan", "kenyan": "kenya",
    "korean": "korea", "kuwaiti": "kuwait", "latvian": "latvia", "lebanese": "lebanon", "libyan": "libya",
    "lithuanian": "lithuania", "malaysian": "malaysia", "maltese": "malta", "mexican": "mexico", "moroccan":
    "morocco", "nepalese": "nepal", "nepali": "nepal", "nigerian": "nigeria", "norwegian": "norway", "pakistani":
    "pakistan", "palestinian": "palestine", "peruvian": "peru", "polish": "poland", "pole": "poland", "portuguese":
    "portugal", "romanian": "romania", "russian": "russia", "saudi": "saudi", "scottish": "uk", "serbian": "serbia",
    "singaporean": "singapore", "slovak": "slovakia", "slovenian": "slovenia", "somali": "somalia", "african":
    "africa", "sudanese": "sudan", "swedish": "sweden", "swede": "sweden", "swiss": "switzerland", "syrian":
    "syria", "taiwanese": "taiwan", "tanzanian": "tanzania", "thai": "thailand", "tunisian": "tunisia", "turkish":
    "turkey", "turk": "turkey", "ugandan": "uganda", "ukrainian": "ukraine", "venezuelan": "venezuela",
    "vietnamese": "vietnam", "welsh": "uk", "yemeni": "yemen", "zambian": "zambia", "zimbabwean": "zimbabwe",
    "asian": "asia", "european": "europe", "caucasian": "caucasian", "hispanic": "hispanic", "latino": "hispanic",
    "latina": "hispanic", "arab": "arab", "arabic": "arab", "scandinavian": "scandinavia", "inuit": "inuit",
    "aboriginal": "aboriginal", "maori": "maori", "afghanistan": "afghanistan", "albania": "albania", "algeria":
    "algeria", "usa": "usa", "argentina": "argentina", "armenia": "armenia", "australia": "australia", "austria":
    "austria", "bangladesh": "bangladesh", "belgium": "belgium", "bolivia": "bolivia", "brazil": "brazil", "uk":
    "uk", "bulgaria": "bulgaria", "cambodia": "cambodia", "cameroon": "cameroon", "canada": "canada", "chile":
    "chile", "china": "china", "colombia": "colombia", "congo": "congo", "croatia": "croatia", "cuba": "cuba",
    "czechia": "czechia", "denmark": "denmark", "netherlands": "netherlands", "egypt": "egypt", "estonia":
    "estonia", "ethiopia": "ethiopia", "philippines": "philippines", "finland": "finland", "france": "france",
    "georgia": "georgia", "germany": "germany", "ghana": "ghana", "greece": "greece", "hungary": "hungary",
    "iceland": "iceland", "india": "india", "indonesia": "indonesia", "iran": "iran", "iraq": "iraq", "ireland":
    "ireland", "israel": "israel", "italy": "italy", "jamaica": "jamaica", "japan": "japan", "jordan": "jordan",
    "kenya": "kenya", "korea": "korea", "kuwait": "kuwait", "latvia": "latvia", "lebanon": "lebanon", "libya":
    "libya", "lithuania": "lithuania", "malaysia": "malaysia", "malta": "malta", "mexico": "mexico", "morocco":
    "morocco", "nepal": "nepal", "nigeria": "nigeria", "norway": "norway", "pakistan": "pakistan", "palestine":
    "palestine", "peru": "peru", "poland": "poland", "portugal": "portugal", "romania": "romania", "russia":
    "russia", "serbia": "serbia", "singapore": "singapore", "slovakia": "slovakia", "slovenia": "slovenia",
    "somalia": "somalia", "africa": "africa", "sudan": "sudan", "sweden": "sweden", "switzerland": "switzerland",
    "syria": "syria", "taiwan": "taiwan", "tanzania": "tanzania", "thailand": "thailand", "tunisia": "tunisia",
    "turkey": "turkey", "uganda": "uganda", "ukraine": "ukraine", "venezuela": "venezuela", "vietnam": "vietnam",
    "yemen": "yemen", "zambia": "zambia", "zimbabwe": "zimbabwe", "asia": "asia", "europe": "europe", "america":
    "usa", "britain": "uk", "england": "uk", "scotland": "uk", "wales": "uk", "spain": "spain", "spanish": "spain",
}
_AGE = re.compile(r"\b(?:over|above|older than|aged|age|past)\s+(\d{2})\b|\b(\d{2})\s*(?:year|yr)s?[\s-]*olds?\b|"
                  r"\bin (?:their|his|her) (\d)0s\b|\b(\d{2})s\b")
_AGE_RANGE = re.compile(r"\b(\d{1,2})\s*(?:-|\u2013|to)\s*(\d{2,3})\s*(?:y\b|yr|years?|year-old)|\baged (\d{1,2})\s*(?:-|\u2013|to)\s*(\d{2,3})")
# the state a figure is asked for ("at rest", "passive"): the passage must be about that state
_STATES = re.compile(r"\b(resting|at rest|relaxed|passive|passively|supine|prone|contracted|stretched|asleep)\b")
_GENERIC_ANGLE = frozenset("the a an normal average typical mean usual what is its of this that joint".split())


_QUANTITY = re.compile(r"\b(force|strength|torque|moment|area|csa|pcsa|length|width|thickness|volume|mass|weight|angle|"
                       r"emg|activation|prevalence|incidence|share|percentage|proportion|range of motion|rom|tilt|"
                       r"lordosis|value|values|norm|norms|figure|figures|size)\b")


def asks_figure(question: str, *, loose: bool = False) -> bool:
    """True when ``question`` (raw) asks for a figure: a value, a size, a share, what a study found
    (``loose``: or only names a measured quantity, "hip flexion force of people over 70")."""
    text = question.lower().replace("-", " ")
    quantity = _QUANTITY.search(text) is not None
    if _FIGURE.search(text) is not None or (_FOUND.search(text) and quantity):
        return True
    if _NOT_FIGURE.search(text) is not None:
        return False
    return _FIGURE_NOUNS.search(text) is not None or (loose and quantity)


def _text(doc: Any, sources: Any) -> str:
    parts = [doc.sentence, doc.body, doc.names]
    for sid in doc.sources:
        src = sources.get(sid)
        if src is not None:
            parts += [src.title or "", src.authors or "", str(src.year or ""), src.publisher or "", sid]
        else:
            parts.append(sid)
    return " ".join(p for p in parts if p).lower()


def unmatched(question: str, docs: Sequence[Any], sources: Any) -> str | None:
    """What the figure question names that no passage in ``docs`` (shown, best first) speaks of,
    in words ("the study by Arnold", "level L3", "60 degrees"), or None when everything is matched."""
    if not docs or not asks_figure(question, loose=True):
        return None
    strict = asks_figure(question)
    shown = [_text(d, sources) for d in docs]
    numbered = [t for d, t in zip(docs, shown, strict=True) if d.number or re.search(r"\d", d.sentence)] or shown
    allt = " ".join(shown)
    lower = question.lower()
    # what one passage must say at once: the study, the level, the angle, the group of people
    checks: list[tuple[str, Callable[[str], bool]]] = []
    for year in dict.fromkeys(_YEAR.findall(question)):
        checks.append((f"the study of {year}", partial(_says_any, (year,))))
    names: list[str] = []
    for rx in _AUTHOR_CUES:
        names += [n for n in rx.findall(question) if isinstance(n, str)]
    for name in dict.fromkeys(n.lower() for n in names):
        if name not in _NOT_NAMES and len(name) >= 3 and not _YEAR.fullmatch(name):
            checks.append((f"the study by {name.capitalize()}", partial(_says_any, (re.escape(name),))))
    for m in _LEVEL.finditer(question):
        if m.group(1).lower() == "s" and not m.group(3):
            continue  # "s1" alone is rarely a level asked for a figure
        levels = [f"{m.group(1)}{m.group(2)}".lower()] + ([f"{(m.group(3) or m.group(1))}{m.group(4)}".lower()] if m.group(4) else [])
        checks.append(("level " + "/".join(lv.upper() for lv in levels), partial(_says_all, tuple(rf"{lv}\b" for lv in levels))))
    for m in _ANGLE.finditer(question):
        checks.append((f"{m.group(1)} degrees", partial(_says_angle, m.group(1))))
    for word in dict.fromkeys(re.findall(r"[a-z]+", lower)):
        key = word if word in _PEOPLE else word[:-1] if word.endswith("s") and word[:-1] in _PEOPLE else None
        if key == "us" or (key is not None and len(key) < 4 and key not in ("uk", "usa")):
            continue
        if key is not None:
            place = _PEOPLE[key]
            names_of = [k for k, v in _PEOPLE.items() if v == place]
            checks.append((f"{key.capitalize()} people", partial(_says_any, tuple(names_of))))
    if (age := _asked_age(lower)) is not None:
        checks.append((f"people aged {age[0]}" + ("+" if age[1] else ""), partial(_covers_age, age)))
    if checks and not any(all(ok(t) for _, ok in checks) for t in numbered):
        return next((label for label, ok in checks if not ok(numbered[0])), checks[0][0])
    for act in _ACTIVITY.findall(lower) if strict else ():
        stem = act[:-3] if len(act) > 5 else act
        if not re.search(rf"\b{re.escape(stem[:5])}", allt):
            return act
    for state in _STATES.findall(lower) if strict else ():
        if not re.search(rf"\b{re.escape(state[:5])}", numbered[0]):
            return f"{state}"
    if strict and "angle" in lower:
        miss = _angle_words(lower)
        lead = numbered[0]
        for w in miss:
            if not re.search(rf"\b{re.escape(w[:5])}", lead):
                return f"a {w} angle"
    return None


def _says_any(words: tuple[str, ...], text: str) -> bool:
    return any(re.search(rf"\b{w}", text) for w in words)


def _says_all(patterns: tuple[str, ...], text: str) -> bool:
    return all(re.search(rf"\b{p}", text) for p in patterns)


def _says_angle(degrees: str, text: str) -> bool:
    return re.search(rf"(?<![\d.]){re.escape(degrees)}\s*(deg|\u00b0|degrees)", text) is not None


def _covers_age(age: tuple[int, bool], text: str) -> bool:
    return _covers(text, age)


def _asked_age(text: str) -> tuple[int, bool] | None:
    """The age a question asks about: (years, and older?)."""
    m = _AGE.search(text)
    if m is None:
        return None
    if m.group(1):
        return int(m.group(1)), True
    if m.group(2):
        return int(m.group(2)), False
    if m.group(3):
        return int(m.group(3)) * 10, False
    return None


def _covers(text: str, age: tuple[int, bool]) -> bool:
    for m in _AGE_RANGE.finditer(text):
        lo, hi = (int(m.group(1)), int(m.group(2))) if m.group(1) else (int(m.group(3)), int(m.group(4)))
        if (age[1] and hi >= age[0]) or lo <= age[0] <= hi:
            return True
    return False


def _angle_words(text: str) -> list[str]:
    """Words that say which angle is asked: "resting angle", "angle ... to the vertical"."""
    out: list[str] = []
    m = re.search(r"(\w+) angle\b", text)
    if m and m.group(1) not in _GENERIC_ANGLE:
        out.append(m.group(1))
    m = re.search(r"\bangle\b.*?\bto the (\w+)", text)
    if m:
        out.append(m.group(1))
    return out


# Source-id prefixes that name a publisher or a kind of source, not a study ("WP-PM" is Wikipedia).
_GENERIC_PREFIXES = frozenset("wp wd tma rp kh sp pmc nct irct credo kjr bm ah seed fd ob dc aa pp ima gait the".split())
# bodies that publish norms or guidelines, named by their capitals ("CDC normal values", "the WHO guideline")
_BODIES = frozenset("CDC WHO NIH NHS NICE AAOS APTA ACSM FDA CDPH".split())
_STRONG_CUES = _AUTHOR_CUES[:2]  # an author with a year or "et al": a study is named, held or not


class StudyIndex:
    """The studies the atlas cites, found by author surname and year ("Bogduk 1992", "the 1995
    fine-wire EMG study", "Andersson et al."), so that a question naming one is answered from the
    statements that cite it, and one naming a study the atlas lacks is not answered with a neighbour.
    """

    def __init__(self, sources: Any):
        self.by_name: dict[str, set[str]] = {}
        self.by_year: dict[int, set[str]] = {}
        for sid, src in sources.items():
            names: set[str] = set()
            for word in re.findall(r"(?:Mc|Mac|O')?[A-Z][a-z]+(?:-[A-Z][a-z]+)?", src.authors or ""):
                if word.lower() not in ("et", "al", "and"):
                    names.add(word.lower())
            prefix = re.match(r"[A-Z]{2,}", sid)
            if prefix and prefix.group(0).lower() not in _GENERIC_PREFIXES and (src.year or len(prefix.group(0)) >= 5):
                names.add(prefix.group(0).lower())
            for n in names:
                self.by_name.setdefault(n, set()).add(sid)
            if isinstance(src.year, int):
                self.by_year.setdefault(src.year, set()).add(sid)

    def named(self, question: str, is_word: Callable[[str], bool] | None = None) -> tuple[frozenset[str], tuple[str, ...]]:
        """The cited sources ``question`` names (by surname and/or year) and the author names it gives
        with a year or "et al" that no cited source has."""
        words = re.findall(r"[A-Za-z][A-Za-z'-]*|\d{4}", question)
        years = {int(y) for y in _YEAR.findall(question)}
        found: set[str] = set()
        late: list[str] = []
        for j, w in enumerate(words):
            lw = re.sub(r"'s$", "", w.lower())
            if lw not in self.by_name or lw in _NOT_NAMES:
                continue
            near = " ".join(words[j + 1 : j + 4]).lower()
            strong = (w[0].isupper() or re.search(r"\b(19|20)\d\d\b|\bet al|colleagues", near) is not None
                      or (len(lw) >= 5 and is_word is not None and not is_word(lw)))
            if strong:
                hits = self.by_name[lw]
                with_year = {s for s in hits if any(s in self.by_year.get(y, ()) for y in years)}
                if years and not with_year and re.search(r"\b(19|20)\d\d\b", near):
                    late.append(re.sub(r"'s$", "", w))  # "McGill 1995": a study by that author, not of that year
                else:
                    found |= with_year or hits
        missing = list(late)
        for rx in _STRONG_CUES:
            for name in rx.findall(question):
                ln = name.lower()
                if (isinstance(name, str) and ln not in _NOT_NAMES and ln not in self.by_name and not _YEAR.fullmatch(name)
                        and not (is_word is not None and is_word(ln))):  # "adults (2015)" names no author
                    missing.append(name[0].upper() + name[1:])
        letters = [c for c in question if c.isalpha()]
        if sum(c.isupper() for c in letters) < 0.5 * len(letters):  # a question in capitals names no body by its capitals
            # "the CDC normal values": a body's figures, which no source the atlas cites gives
            missing += [f"the {w}" for w in dict.fromkeys(re.findall(r"\b[A-Z]{3,5}\b", question))
                        if w in _BODIES and w.lower() not in self.by_name]
        if not found and years and not missing:  # "the 1995 fine-wire EMG study": the studies of that year
            found = {s for y in years for s in self.by_year.get(y, ())}
        when = f" ({', '.join(str(y) for y in sorted(years))})" if years else ""
        return frozenset(found), tuple(dict.fromkeys(m + when for m in missing))
