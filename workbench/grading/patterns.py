"""The patterns extraction reads a response with (``extract.py``): answer lines, lead-ins and
hedges, corrections, asides, copulas, numbers and units, and the kinds of question that change
where an answer sits (who, where, which year, how many). Pure."""

from __future__ import annotations

import re

INLINE_HTML = re.compile(r"</?(?:sup|sub|strong|b|i|em|span|code)>", re.IGNORECASE)  # 31<sup>st
THINK = re.compile(r"<think>.*?(?:</think>|$)", re.IGNORECASE | re.DOTALL)
FINAL = re.compile(r"\bfinal\s+answer\s*(?:is)?\s*[:：]?\s*(.+)", re.IGNORECASE)
ANSWER_COLON = re.compile(r"(?:^|\s|>|\()(?:\*\*)?answer(?:\*\*)?\s*[:：]\s*(.*)$",
                           re.IGNORECASE)
ANSWER_IS = re.compile(r"\b(?:the\s+)?answer(?:\s+to\s+(?:this|the|your|that)\s+(?:question|"
                        r"puzzle|problem))?\s+(?:is|would\s+be|will\s+be)\s*(?:[:：]|-(?=\s))?"
                        r"\s*(.*)", re.IGNORECASE)  # "-" only as a dash: "is -20" keeps its sign
LEADS = [re.compile(p, re.IGNORECASE) for p in (
    r"^(?:sure|okay|ok|well|yes|no|so|hmm|alright|aw|oh)[,!.]?\s+",
    r"^(?:to summarize|in summary|in conclusion|overall|thus|therefore|hence)[,:]?\s+",
    r"^(?:i think|i believe|i guess|i'm (?:not )?sure,? but|i am (?:not )?sure,? but|"
    r"probably|maybe|perhaps|possibly|likely|definitely|certainly|of course|actually|"
    r"in fact|really|to be (?:specific|precise|exact|honest|clear))\b[,:]?\s*",
    r"^(?:it is|it's|it was|that is|that's|that would be|this is)\s+",
    r"^(?:the\s+)?(?:correct\s+|final\s+)?answer(?:\s+to\s+(?:this|the|your|that)\s+"
    r"(?:question|puzzle|problem))?\s*(?:is|would\s+be|:)\s*:?\s*",
    r"^(?:capital|output|result|response)\s*:\s*",  # "Capital: New York"
    r"^(?:often|usually|generally|typically|commonly|mostly|either|simply|named|called)\s+",
    r"^(?:located|situated|found|based|built|held|housed)\s+(?:in|at|on|near)\s+",
    r"^(?:reported|estimated|measured|known|considered|thought|believed|said|given)\s+"
    r"(?:as|at|to\s+be)\s+",  # "was reported as 299,792 km/s"
    r"^(?:the\s+)?(?:city|town|country|state|island|nation|republic|kingdom) of\s+",
    r"^(?:in|on|at)\s+(?=\d|(?:january|february|march|april|may|june|july|august|september|"
    r"october|november|december)\b)",
)]
TRAILING_HEDGE = re.compile(r",?\s*(?:i think|i believe|i guess|probably|maybe|perhaps|"
                             r"of course|right|i'm not sure|only)\s*[.!?]*$", re.IGNORECASE)
REFUSAL = re.compile(r"^(?:i (?:do not|don't|cannot|can't) (?:know|say|answer)|i'm not sure$|"
                      r"no one can|nobody can|"
                      r"not sure$|unknown$|no idea|no answer|there is no (?:answer|information)|"
                      r"i have no)", re.IGNORECASE)
ASKS = re.compile(r"^(?:is|are|was|were|what|why|how|can|could|do|does|did|who|which|where|"
                   r"when|would|should|will|shall)\b.*\?$", re.IGNORECASE)
ASIDE = re.compile(r";|\s[-–—]\s|\s\(|\.\.\.|…|,\s+(?:which|who|where|when|but|because|as|since|"
                    r"though|although|not|with|at|in|of course|a|an|the|also|it|this|that|they|"
                    r"he|she|one|(?:spoken|located|known|found|built|named|called|founded|"
                    r"situated)\s)\b|[!?](?:\s|$)", re.IGNORECASE)  # ", spoken in": an aside
# Numbers keep their arithmetic ("21 - 4 = 17"): only these end a number's clause.
NUMBER_ASIDE = re.compile(r";|,\s+(?:which|because|since|as|though|although|but)\b",
                           re.IGNORECASE)
WHEN = re.compile(r"\s+(?:in|on|since)\s+\d.*$", re.IGNORECASE)  # "… Curie in 1898"
HEADING = re.compile(r"(?:\*\*)?(?:the\s+)?(?:final\s+)?answer(?:\s+is)?(?:\*\*)?\s*[:：]?"
                      r"\s*(?:\*\*)?", re.IGNORECASE)
ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "st", "mt", "pres", "jr", "sr", "vs", "no", "ft",
                  "gen", "col", "capt", "lt", "sgt", "prof", "rev", "fr"}
PERIOD = re.compile(r"\.(?=\s|$)")
COPULA = re.compile(r"\s(?:is|are|was|were|equals|makes|became|becomes|remains|has|have|"
                     r"had)\s", re.IGNORECASE)
PASSIVE = re.compile(r"\s(?:was|were|is|are)\s+\w+(?:ed|en|wn|ght|lt)\s+by\s", re.IGNORECASE)
# an aside between a subject and its verb: "The speed of light (c) was ..."
PARENTHETICAL = re.compile(r"\s\([^()]{1,24}\)(?=\s+(?:is|are|was|were)\s)", re.IGNORECASE)
BOLD = re.compile(r"\*\*(.+?)\*\*")
# "not X, it's Y", "isn't X; it's Y", "Not X, but Y": the corrected answer is Y
CORRECTION = re.compile(  # a leading "not X," or a negation then "it's Y"
    r"^(?:it(?:'s|’s|\s+is|\s+was)\s+)?not\s+[^,;]+[,;]\s*(?:but\s+)?(?:rather\s+)?"
    r"(?:it(?:'s|’s|\s+is|\s+was)\s+)?(?P<a1>.+)|"
    r"\b(?:not|isn't|isn’t|is not|wasn't|was not|aren't|are not)\b[^,;]*[,;]\s*(?:but\s+)?"
    r"(?:rather\s+)?(?:it|that|the answer)(?:'s|’s|\s+is|\s+was)\s+(?P<a2>.+)", re.IGNORECASE)
NEXT_EXEMPLAR = re.compile(r"\n\s*(?:Q|Question)\s*[:：]", re.IGNORECASE)
ASKS_PLACE = re.compile(r"^\s*(?:where|(?:in|at|on)\s+(?:which|what))\b", re.IGNORECASE)
SETTING = re.compile(r"(?:in|on|at|for|during|among)\s+([^,]{1,60}),\s+(?=\S)", re.IGNORECASE)
PLACE_LEAD = re.compile(r"^(?:[Ii]n|[Aa]t|[Oo]n)\s+(?=(?:the\s+)?[A-Z])")
ASKS_YEAR = re.compile(r"\b(?:what|which)\s+year\b|\byear\s+did\b", re.IGNORECASE)
YEAR = re.compile(r"\b(1\d{3}|20\d{2})\b")
ASKS_COUNT = re.compile(r"^\s*how\s+(?:many|much)\b", re.IGNORECASE)
ASKS_WHO = re.compile(r"^\s*(?:who|which\s+(?:band|group|artist|author|composer|painter|writer|"
                       r"singer|person|scientist))\b", re.IGNORECASE)
MADE_BY = re.compile(r"\bby\s+(?P<who>[A-Z][^,;.]*(?:\.[^,;.\s][^,;.]*)*)")
NUMBER_WORDS = re.compile(
    r"\b(?:(?:negative|minus)\s+)?(?:(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|"
    r"eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|"
    r"thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million)[\s-]*)+\b",
    re.IGNORECASE)
SUFFIX = re.compile(r"^\s*(?:jr|sr|d\.?\s?c|inc|ltd|ii|iii|esq)\b\.?", re.IGNORECASE)
NUM = r"[+-]?\$?\d(?:[\d,]*\d)?(?:\.\d+)?(?:\s*/\s*\d+)?"
RESULT = re.compile(rf"=\s*({NUM})")
CONCLUDES = re.compile(rf"\b(?:so|thus|therefore|hence|now)\b[^.\n]*?({NUM})", re.IGNORECASE)
STATES = re.compile(rf"\b(?:is|are|was|were|has|have|had|be|get|gets|got)\s+({NUM})",
                     re.IGNORECASE)
ANY_NUMBER = re.compile(NUM)
UNIT_AFTER = re.compile(r"\s*(°\s?[CF]|km/h|m/s|km|cm|mm|kg|mg|m|g|mph|miles?|degrees "
                         r"(?:celsius|fahrenheit))(?![\w/])", re.IGNORECASE)
WRAP = " \t\n.,;:!?\"'`*“”‘’"
STOP = frozenset("a an the of to in on at for by with from and or is are was were be it its "
                  "what which who whom whose when where how many much does do did has have had "
                  "that this there their his her he she they you your i me my we our".split())
# A lone word no reader takes for an answer ("When", "But", "I'm", "One"): what a rule picked
# from a sentence that gave none. Letters stay answers ("A": a blood type, a choice).
FUNCTION_WORDS = (STOP - {"a", "i"}) | frozenset(
    "but if then so yes no not one im answer hint step here let lets".split())
PARTICLES = {"van", "von", "de", "da", "di", "del", "du", "la", "le", "of", "in", "bin", "al"}
