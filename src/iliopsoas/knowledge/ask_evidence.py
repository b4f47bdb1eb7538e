"""Verdicts for claim and research questions, from the claim ledger and the study results.

"My trainer says sitting keeps the iliopsoas contracted, is that wording accurate?", "is there actual
evidence that a tight psoas causes back pain?", "is the Ober test well validated?", "are there
published RCTs for psoas release?", "did Heino 1990 find that hip-flexor length was related to
lordosis?": the first sentence answers with a verdict taken from what the project records,

* a claim of the articles, by its ledger verdict: contradicted -> **No**; consistent -> **Yes**;
  disputed -> **No** when the ledger found no evidence at all ("no evidence found", "not
  demonstrated"), else **Not clearly** (its reason follows); opinion or marketing -> **Not
  established**. A claim worded as a denial ("has no attachment on the spine") answers a question
  worded without one the other way round;
* a study result or evidence statement, by what it says: "no studies support its validity", "no
  trial results yet", "no relationship", "no difference", "not a valid measure" -> **No**; a
  randomised trial or meta-analysis that found an improvement, asked "is there evidence / are there
  trials" -> **Yes**; a care step's evidence grade when evidence is asked for (very low: no trial
  has tested it -> **No**).

Otherwise no verdict is given here (the other steps of :mod:`ask_yesno` may still decide).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from iliopsoas.knowledge.ask_text import FINDING

__all__ = ["NOT_CLEAR", "asks_research", "claim_decision", "claim_lead", "research_decision"]

NOT_CLEAR = "Not clearly"
_NO_EVIDENCE = re.compile(r"\b(no evidence|no (supporting )?(source|study|studies|trial|trials)( \w+)? (found|has|have|"
                          r"support\w*|tested|show\w*)|not demonstrated|no study found|untested|not (been )?tested|"
                          r"no validated|no support|unsupported)\b")
# a denial: a negation word, or "too broad to reach" / "unable to" / "fails to" (says that it does not)
_DENIAL = re.compile(r"\b(no|not|never|cannot|can not|without|neither|nor|nothing|none|unable|fails? to|"
                     r"too \w+( and \w+)? (to|for))\b|n't\b")
_NEG_RESULT = re.compile(
    r"\b(no (studies|study|trials?|trial results|evidence|relationship|correlation|link|difference|(clear )?effect|"
    r"association|validity|change|extra gain)|not (a )?valid|not validated|(has|have) not been tested|"
    r"did not|does not (improve|change|differ|lower|help)|little validity|without posted results|no \w+ support|"
    r"no effect or)\b")
_POS_RESULT = re.compile(r"\b(improv\w*|increas\w*|raised|gained|effective|reduc\w*|eased|better|supports?|"
                         r"valid measure|correlat\w*)\b")
_TRIAL = re.compile(r"\b(random\w*|trial|meta[- ]?analys\w*|systematic review|crossover)\b")
# the question asks whether evidence exists ("is there evidence", "are there trials", "is it validated")
_EVIDENCE_FOR = re.compile(
    r"\b(is there|are there|was there|were there|has there been|have there been|any|got any|know of any)\b"
    r"( \w+){0,3} (evidence|studies|study|research|trials?|rcts?|randomised controlled trials?|proof|science|data)\b|"
    r"\b(well |properly |scientifically |clinically )?(validated|proven)\b|\bvalid (test|measure|way)\b|"
    r"\b(research|studies|science|evidence|trials?) (show|shows|showed|shown|find|found|prove|proves|proven|proved|"
    r"established|demonstrated|say|says|support|backs?)\b")
_STUDY_FOUND = re.compile(r"\b(did|does|do)\b( \w+){1,6} (find|found|show|shows|report|conclude|demonstrate)\w* that\b|"
                          r"^(did|does|do) (\w+ ){1,4}(19|20)\d\d (find|found|show|report|conclude)\w*\b")
_FRAME = frozenset("true correct right wrong accurate wording really actually evidence actual real any good there "
                   "research researches study studies show shows showed trial trials rct randomised published "
                   "proof instagram tiktok influencer people trainer coach says said someone online blog article "
                   "read heard claim claims myth just stuff thing that this whether before after during".split())


_CAUSE = {"cause", "causes", "caus", "lead", "leads", "trigger", "link", "linked", "relat"}


# How a claim says what a yes/no question asks in other words: a cause as what something "leads to", tightness
# as "tension" ("does a tight psoas cause shallow breathing" / "psoas tension ... leads to shallow breathing")
_CAUSAL_WORDS = ("cause", "causes", "leads", "lead", "trigger", "results", "produces", "makes")
_CLAIM_SAYS = {"cause": _CAUSAL_WORDS, "caus": _CAUSAL_WORDS, "causi": _CAUSAL_WORDS, "lead": _CAUSAL_WORDS,
               "leads": _CAUSAL_WORDS, "trigg": _CAUSAL_WORDS, "resul": _CAUSAL_WORDS,
               "tight": ("tension", "tense"), "tensi": ("tight", "tightness"), "tense": ("tight", "tightness")}


# "does stretching hurt performance", "does sitting reduce hip extension": an effect of something done, which a
# study's result decides
_HARM = ("hurt|hurts|harm|harms|impair|impairs|reduce|reduces|lower|lowers|worsen|worsens|decrease|decreases|ruin|"
         "ruins|weaken|weakens|shorten|shortens|bad|harmful")
_GAIN = "improve|improves|increase|increases|boost|boosts|help|helps|raise|raises|lengthen|lengthens|good|better"
_EFFECT_OF = re.compile(rf"^(?:does|do|did|can|could|will|would|is|are) ([\w ]{{1,60}}?) ({_HARM}|{_GAIN}|affect|affects|"
                        rf"change|changes)\b")
_HARMFUL = re.compile(rf"^(?:{_HARM})$")
# "is hip-flexor length related to the low-back curve": a relation a study measured
_RELATED = re.compile(r"\b(related|linked|associated|correlated?|correlates|connected)( (strongly|closely|at all|really))? "
                      r"(to|with)\b|\bgo(es)? with\b|"
                      r"\b(link|relationship|correlation|association|connection) between\b")


_LINK_WORDS = "link links linked relationship relation related correlation correlate correlated association associated " \
    "connection connected"
_CAUSED = re.compile(r"\b(?:cause|causes|lead to|leads to|result in|results in|give you|gives you)\b((?: \w+){1,3})")
_EFFECT_SKIP = frozenset("a an the your my more less much greater higher lower bigger smaller increased reduced extra "
                         "what does do research say says studies show".split())


# words after "does" that name no thing done ("does it", "does the psoas ...": a structure's own action)
_NOT_DONE = frozenset("it this that they he she you i we there psoas iliacus iliopsoas hip hips muscle muscles".split())


def _done_words(raw: str, content: Sequence[str] | None = None) -> list[str]:
    """The words naming what is done in an effect question ("does a pre-game hip flexor stretch hurt ...": pre,
    game, stretch), without structures (not in ``content``, the question's words outside names) and pronouns."""
    m = _EFFECT_OF.search(raw)
    if m is None:
        return []
    return [w for w in m.group(1).split() if w not in _NOT_DONE and len(w) >= 3 and not w.isdigit()
            and w not in ("the", "your", "doing", "flexor", "flexors") and (content is None or w in content)]


def _effect_stems(raw: str) -> set[str]:
    """The stems of the effect a causal question asks about ("cause more lumbar lordosis": lumbar, lordosis)."""
    from iliopsoas.knowledge.ask_tables import stem

    m = _CAUSED.search(raw)
    if m is None:
        return set()
    words = []
    for w in m.group(1).split():
        if w in ("what", "does", "and", "or", "is", "are"):
            break
        if w not in _EFFECT_SKIP and len(w) > 2:
            words.append(stem(w))
    return set(words)


def asks_research(raw: str) -> bool:
    """True when the question asks what research found or whether evidence exists (or an effect of something
    done that a study measured)."""
    return bool(_EVIDENCE_FOR.search(raw) or _STUDY_FOUND.search(raw) or _RELATED.search(raw)
                or bool(_done_words(raw)))


def claim_lead(status: str, text: str, basis: str, question: str) -> str | None:
    """The yes/no lead for an article claim with ledger verdict ``status`` (claim ``text``, ledger
    ``basis``) asked about in ``question``."""
    if status == "opinion":
        return "Not established"
    flipped = bool(_DENIAL.search(text.lower())) != bool(_DENIAL.search(question.lower()))
    if status == "disputed":  # a weakly supported denial ("stretches are said not to work") is no "no" to
        # the question it denies ("does stretching work?")
        return "No" if _NO_EVIDENCE.search(basis.lower()) and not flipped else NOT_CLEAR
    lead = {"consistent": "Yes", "contradicted": "No"}.get(status)
    if lead is None:
        return None
    if flipped:
        lead = "No" if lead == "Yes" else "Yes"  # the claim denies what the question asks (or the other way)
    return lead


def _stems(text: str) -> set[str]:
    from iliopsoas.knowledge.ask_tables import stem

    return {stem(w) for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 2}


def _wanted(q: Any) -> list[str]:
    from iliopsoas.knowledge.ask_tables import stem

    return list(dict.fromkeys(stem(w) for w in q.key if len(w) > 2 and w not in _FRAME))


def claim_decision(index: Any, q: Any, ranked: Sequence[tuple[Any, float]], *, share: float = 0.6) -> Any:
    """The verdict of the article claim that says what yes/no question ``q`` asks (``share``: how much
    of the question's own words the claim must use), or None."""
    from iliopsoas.knowledge.ask_predicate import _GENERIC_IDS
    from iliopsoas.knowledge.ask_tables import stem
    from iliopsoas.knowledge.ask_text import EXPAND
    from iliopsoas.knowledge.ask_yesno import Decision

    wanted = _wanted(q)
    if not ranked or not wanted:
        return None
    alts = {stem(w): {stem(x) for x in (*EXPAND.get(w, ()), *_CLAIM_SAYS.get(stem(w), ()))} for w in q.key}
    top = ranked[0][1]
    best: tuple[float, float, Any] | None = None
    for d, s in ranked[:10]:
        # an article's statement stands for its claim: the ledger's verdict answers it
        spoken, linked = d.kind == "fact" and d.seed and bool(d.facts) and _claim_doc(index, d.facts[0]) is not None, False
        if spoken:
            # the statement links exactly the structures asked about ("is piriformis an antagonist of iliopsoas")
            linked = len(q.entities) >= 2 and set(q.entities[:2]) <= {d.subject, *d.objects}
            d = _claim_doc(index, d.facts[0])
        if d.kind != "claim":
            continue
        if q.entities and q.entities[0] not in _GENERIC_IDS \
                and not set(q.entities[:1]) & {d.subject, *d.objects, *index.children.get(d.subject or "", ()),
                                               *index.parents.get(d.subject or "", ())} \
                and d.subject not in {*q.related, None} and not _names_in(index, q.entities[0], d.body):
            continue  # a loose word ("the hip") names no structure the claim must be about: its words decide
        have = _stems(d.body)
        hits = sum(1 for w in wanted if w in have or alts.get(w, set()) & have)  # lay words as passages say them
        got = hits / len(wanted)
        # a claim further down the list counts when it says every word asked ("is the ilium two large bones")
        if s < top - (1.0 if got == 1.0 and hits >= 2 else 0.6):
            continue
        alone = d is ranked[0][0] and got == 1.0 and len(ranked) > 1 and top - ranked[1][1] >= 0.3
        if spoken and linked and hits == len(wanted):
            got = max(got, share)
        elif not (got >= share and (hits >= 2 or alone)):  # one asked word is enough for a claim far ahead of the rest
            continue
        if best is None or (got, s) > best[:2]:
            best = (got, s, d)
    if best is None:
        return None
    d = best[2]
    claim = index.atlas.claims.get(d.claims[0]) if d.claims else None
    lead = claim_lead(d.status, claim.text if claim else d.body, (claim.basis or "") if claim else "", q.asked or q.text)
    return Decision(lead, d) if lead else None


def _names_in(index: Any, entity: str, text: str) -> bool:
    """True when ``text`` names ``entity`` in words (the claim "the receptors tell the brain" names the brain)."""
    e = index.atlas.entities.get(entity)
    names = [e.name, *e.synonyms] if e is not None else []
    return any(re.search(rf"\b{re.escape(n.lower())}\b", text.lower()) for n in names if n)


def _claim_doc(index: Any, statement: str) -> Any:
    """The claim passage of the article claim a seed statement expresses, or None."""
    return next((index.claim_docs[c] for c in index.claim_of.get(statement, ()) if c in index.claim_docs), None)


def research_decision(index: Any, q: Any, ranked: Sequence[tuple[Any, float]]) -> Any:
    """The verdict of the study result or evidence statement answering a research question (or a yes/no
    question naming a study the atlas cites: "did Heino 1990 link X to Y?"), or None."""
    from iliopsoas.knowledge.ask_predicate import _BETTER, _EQUAL
    from iliopsoas.knowledge.ask_yesno import Decision

    raw = q.asked or q.text
    if not ranked or not (asks_research(raw) or q.studies):
        return None
    evidence_for = _EVIDENCE_FOR.search(raw) is not None
    top = ranked[0][1]
    wanted = set(_wanted(q))
    effect = _effect_stems(raw)
    from iliopsoas.knowledge.ask_tables import stem

    # asked only as the effect of something done ("does foam rolling improve ..."): the result must be about it
    done = _EFFECT_OF.search(raw) if not (_EVIDENCE_FOR.search(raw) or _STUDY_FOUND.search(raw) or q.studies
                                          or _RELATED.search(raw)) else None
    done_stems = {stem(w) for w in _done_words(raw, q.content)} if done is not None else set()
    link_stems = _stems(_LINK_WORDS)
    cands = []
    for n, (d, s) in enumerate(ranked[:25]):
        if s < top - 1.2 or d.kind not in ("claim", "care", "fact") or (d.kind == "fact" and d.seed):
            continue
        if n >= 8 and not (d.kind == "fact" and (d.extra.get("result") or FINDING.search(d.sentence.lower()))):
            continue  # further down, only a study's result (Heino 1990 on length and lordosis) still answers
        if d.kind == "care" and d.predicate != "evidence":
            continue
        have = _stems(f"{d.sentence} {d.body}") | (_CAUSE if d.predicate == "associated_condition" else set())
        if FINDING.search(d.sentence.lower()):
            have |= link_stems  # a correlation found (or not) speaks to a "link" asked
        if done is not None and not done_stems & have:
            continue
        if effect and not effect <= have:
            continue  # "does X cause more lordosis": a result about lordosis, not about another effect
        got = len(have & wanted) / len(wanted) if wanted else 1.0
        if got >= (0.25 if done is not None else 0.34):  # a result about something else ("performance" asked, range of motion found) is no answer
            cands.append((-got, n, d, s))
    for _, _, d, s in sorted(cands, key=lambda c: c[:2]):
        if d.kind == "claim":
            got = claim_decision(index, q, [(d, s)], share=0.5)
            if got is not None:
                return got
            continue
        text = d.sentence.lower()
        if d.kind == "fact" and _BETTER.search(raw) and _EQUAL.search(text):
            return Decision("No", d)  # "did they find longer bouts work better": the result found them equal
        if d.kind == "care":
            if not evidence_for:
                continue
            grade = d.status.split(":", 1)[-1].strip()
            if grade == "very-low" or _NEG_RESULT.search(text):
                return Decision("No", d)
            return Decision("Yes" if grade in ("moderate", "high") else "Only weakly", d)
        if _NEG_RESULT.search(text):
            return Decision("No", d)
        if d.status == "disputed":
            return Decision(NOT_CLEAR, d)
        resultish = bool(d.extra.get("result")) or re.search(r"\b(valid|validity|reliab\w*|trials?|studies|study)\b", text)
        if done is not None and d.kind == "fact" and resultish and _POS_RESULT.search(text):
            # "does lying in the Thomas position increase hip extension": the study found it did; "does stretching
            # hurt performance" and a study that found it helped: No
            return Decision("No" if _HARMFUL.match(done.group(2)) else "Yes", d)
        if resultish and ((evidence_for and _TRIAL.search(f"{text} {d.body.lower()}")) or _STUDY_FOUND.search(raw)) \
                and _POS_RESULT.search(text):
            return Decision("Yes", d)
    return None
