"""Everyday and internet wording read as the plain question it is.

"what does the psoas even do lol, everyone at my gym blames it for everything", "how do u stretch ur
hip flexors tbh", "sitting tightens ur hip flexors, legit or nah?": slang words are spelled out
("u" -> you, "ppl" -> people), fillers ("lol", "tbh", "bro") end a clause (so that the social
context around the question can be set aside as a statement), and tag questions ("legit or nah",
"or is that just instagram stuff") become "is that true". A few lay phrasings are put the way the
passages say them: "lift your knee" is hip flexion, "is there an easy way to check X" asks how to
check X, the inguinal fold is the groin crease, a muscle that "feels locked up" is tight and a "cranky" one
irritated, and hours at the wheel or a screen ("after a long drive", "from gaming all day") are sitting.

The result is still the asker's question (punctuation kept, so clauses can be told apart); the
safety recogniser reads the untouched original.
"""

from __future__ import annotations

import re

__all__ = ["plain_question"]

# Internet short forms, spelled out (whole words only).
SLANG: dict[str, str] = {
    "u": "you", "ur": "your", "ppl": "people", "peeps": "people", "wat": "what", "wut": "what", "wot": "what",
    "whats": "what is", "thx": "thanks", "pls": "please", "plz": "please", "bc": "because", "cuz": "because",
    "coz": "because", "cos": "because", "tho": "though", "abt": "about", "smth": "something", "sth": "something",
    "rly": "really", "prolly": "probably", "gonna": "going to", "wanna": "want to", "gotta": "have to",
    "dunno": "do not know", "ya": "you", "yr": "your", "b4": "before", "w/": "with", "w/o": "without",
    "hammies": "hamstrings", "legit": "true", "r": "are", "y": "why", "n": "and", "bcuz": "because", "hrs": "hours",
}
# Fillers that carry no content: they end a clause.
FILLERS = ("lol", "lmao", "lmfao", "rofl", "haha", "hahaha", "hehe", "tbh", "ngl", "fr", "imo", "imho", "idk",
           "btw", "omg", "bro", "bruh", "dude", "fam", "lowkey", "highkey", "smh", "pls help", "help pls",
           "asking for a friend", "asking for my \\w+", "just wondering", "genuinely curious", "quick q",
           "quick question", "serious question", "real question", "honest question", "no joke", "for real")
_FILLER = re.compile(r"(?<![\w'])(" + "|".join(FILLERS) + r")(?![\w'])[.!?]*", re.I)
# "... legit or nah?", "..., true or not", "or is that just instagram stuff": a tag asking whether it is true
_TAG = re.compile(
    r"[,;]?\s*\b(?:(?:is (?:that|this|it) )?(?:true|real|a thing|a real thing) or (?:nah|not|no|what|false|a myth|"
    r"fake|made up|bs)|or nah|or not|or is (?:that|this|it) (?:just |all |only )?(?:a |an )?(?:myth|hype|bs|bro science|"
    r"marketing|nonsense|made up|rubbish|instagram|tiktok|youtube|influencer|gym|internet|social media|wellness)"
    r"(?:\s+\w+){0,2})\s*\??\s*$", re.I)
_EVEN = re.compile(r"\s+\b(?:even|actually|literally)\b(?=\s)", re.I)
_ASKS = re.compile(r"(what|which|where|when|why|how|who|is|are|does|do|did|can|could|should|would|will|has|have|"
                   r"was|were)\b", re.I)
_SO_LIKE = re.compile(r"(^|[,.;!?]\s*)(?:so |well )?(?:like|um+|uh+|hmm+)\b,?\s+", re.I)
# "is there an easy way to check at home if X": how to check X
_WAY = re.compile(r"\b(?:is there|are there|any|is there any|there is) (?:an? |any )?(?:easy |simple |quick |good |"
                  r"safe |proper |reliable )?(?:way|ways|method|test|trick)s? (?:to|for|of) ", re.I)
_LIFT = re.compile(r"\b(lifts?|lifting|raises?|raising|brings?|bringing|pulls?|pulling) (?:up )?(?:the |your |my |a |"
                   r"one )?(knee|knees|thigh|thighs)(?: up)?\b", re.I)
# "my pelvis is rotated": the pelvis tipped forward (anterior tilt), as the sources word it
_ROTATED = re.compile(r"\b(pelvis|pelvic bones?|hips?) (is |are |was |feels |looks |got |gets )?(rotated|twisted|tipped)"
                      r"(?! (back|backward|backwards|forward|forwards|to|left|right))\b", re.I)
_GROIN = re.compile(r"\b(inguinal|groin|hip) (fold|crease|line)s?\b", re.I)
# everyday words for how a muscle feels, as the passages say them: "feel locked up" is tight, "cranky" irritated
_INTENSIFIER = re.compile(r"\s+\b(?:af|asf|hella|super|mega|insanely|crazy|mad)\b(?=\s+\w)|\s+\b(?:af|asf)\b", re.I)
_LOCKED = re.compile(r"\b(feels?|feeling|felt|gets?|getting|got|are|is|so|always|get all) (?:locked|seized|bound|knotted|"
                     r"jammed|gunked|tensed|clenched|wound)(?: up)?\b", re.I)
_CRANKY = re.compile(r"\b(cranky|grumpy|angry|aggravated|flared up|flaring up|acting up|upset|unhappy|tweaky)\b", re.I)
# a long time in a seat, said as an activity: "after a long drive", "from gaming all day" is sitting
_SEATED = re.compile(r"\b(after|from|during) (?:a |my |the |all |long |all[- ]day |hours of |an? hour-long |\d+[- ]?(?:hours?|hrs?|h)[- ]"
                     r"(?:long )?)*(?:drive|drives|"
                     r"driving|commute|commuting|flights?|car rides?|road trips?|gaming|video games|game sessions?|"
                     r"binge[- ]watching|movie marathons?|desk work|studying|office work|computer work|work at a desk)\b",
                     re.I)
# a request said as a command asks a question: "walk me through the Ober test" asks how it is done,
# "explain the psoas paradox" what it is; "I'd like to know how ..." asks how
_WALK = re.compile(r"(^|[.!?;]\s+)(?:(?:can|could|would|will) you |please |pls |plz )?(?:walk|talk|take|run|guide) me "
                   r"(?:through|thru)\s+(?:how (?:to do |you do |i do |is |are )?)?(?:the |a |an )?(.+?)\s*(?:please|pls|plz)?[?.!]*$",
                   re.I)
_TELL = re.compile(r"(^|[.!?;]\s+)(?:(?:can|could|would|will) you |please |pls |plz )?(?:explain|describe|define|outline|"
                   r"summari[sz]e|tell me (?:about|what)|tell me|give me an overview of|i(?: would|'d) like to know about|"
                   r"i want to know about)\s+(?!how\b|why\b|what\b|whether\b|if\b|which\b|where\b|when\b)"
                   r"(?:is |are )?(?:the |a |an )?(.+?)\s*(?:please|pls|plz)?[?.!]*$", re.I)
_WANT = re.compile(r"(^|[.!?;]\s+)(?:(?:can|could|would|will) you )?(?:please )?(?:explain|tell me|describe|i(?: would|'d) "
                   r"like to know|i want to know|i wonder|i am wondering|i'm wondering)\s+(?=(?:how|why|what|which|where|when)\b)", re.I)


# "the muscles at the front of my hip" are the hip flexors
_FRONT_HIP = re.compile(r"\b(muscles?) (at|in|on|across) (the )?front of (the |my |your |his |her |our )?hips?\b", re.I)
# "how many have a psoas minor": how many people
_HOW_MANY = re.compile(r"\b(how many)\s+(have|has|are|get|stand|sit|lack)\b", re.I)


def plain_question(question: str) -> str:
    """``question`` with slang spelled out, fillers as clause breaks and tag questions as "is that true"."""
    text = question.replace("\u2019", "'")
    text = _FILLER.sub(",", text)
    text = re.sub(r"[A-Za-z/0-9]+", lambda m: SLANG.get(m.group(0).lower(), m.group(0)), text)
    tagged = _TAG.search(text)
    if tagged:  # a question already asks; a statement with the tag asks whether it is true
        head = text[: tagged.start()].rstrip(" ,;")
        text = head + ("?" if _ASKS.match(head.strip()) else ", is that true?")
    text = _WALK.sub(lambda m: f"{m.group(1)}how is the {m.group(2)} done?", text)
    text = _TELL.sub(lambda m: f"{m.group(1)}what is the {m.group(2)}?", text)
    text = _WANT.sub(lambda m: m.group(1), text)
    text = _EVEN.sub(" ", text)
    text = _SO_LIKE.sub(lambda m: m.group(1), text)
    text = _WAY.sub("how can i ", text)
    text = _LIFT.sub(lambda m: "flexes the hip" if m.group(1).lower().endswith("s") else "flex the hip", text)
    text = _GROIN.sub("groin crease", text)
    text = _INTENSIFIER.sub("", text)
    text = _LOCKED.sub(lambda m: f"{m.group(1)} tight", text)
    text = _CRANKY.sub("irritated", text)
    text = _SEATED.sub(lambda m: f"{m.group(1)} sitting", text)
    text = _ROTATED.sub(lambda m: f"{m.group(1)} {m.group(2) or ''}{m.group(3)} forward", text)
    text = _HOW_MANY.sub(lambda m: f"{m.group(1)} people {m.group(2)}", text)
    text = _FRONT_HIP.sub(lambda m: "hip flexors" if m.group(1).lower().endswith("s") else "hip flexor", text)
    text = re.sub(r"\s*,(\s*,)+", ",", text)
    return re.sub(r"\s+", " ", text).strip(" ,")
