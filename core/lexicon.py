"""The words of English committee papers that every stage shares: months and dates, decision words, the
words that shape a question rather than name its topic, and those that name institutions rather than people.

Nothing here names one council or its committees. Those come from `[council]` in config.toml and from the
committees the indexed papers name, gathered in a `CouncilVocabulary`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

# ---- months and dates
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# Lower-case full names, three-letter abbreviations and "sept" -> month number: what members type.
MONTHS: dict[str, int] = {
    **{name.lower(): i for i, name in enumerate(MONTH_NAMES, start=1)},
    **{name[:3].lower(): i for i, name in enumerate(MONTH_NAMES, start=1)},
    "sept": 9,
}
MONTH_PATTERN = "|".join(MONTH_NAMES)
# A month as members write it in a question, full or abbreviated; group 1 is the word.
MONTH_WORD_PATTERN = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
# "11 July 2017", "1st March 2023": the way papers print dates; groups are day, month name, year.
DATE_PATTERN = rf"(\d{{1,2}})(?:st|nd|rd|th)?\s+({MONTH_PATTERN})\s+(\d{{4}})"
_DATE = re.compile(DATE_PATTERN, re.I)


def parse_date(text: str) -> dt.date | None:
    """The first '11 July 2017'-style date in `text`, or None (also for impossible days such as 31 June)."""
    match = _DATE.search(text)
    if not match:
        return None
    day, month, year = match.groups()
    try:
        return dt.date(int(year), MONTHS[month.lower()], int(day))
    except ValueError:
        return None


def long_date(day: dt.date) -> str:
    """'13 July 2021', the way the papers write dates."""
    return f"{day.day} {day:%B %Y}"


# Abbreviations that end in a full stop without ending a sentence (month abbreviations among them).
ABBREVIATIONS = frozenset(
    {
        "cllr",
        "cllrs",
        "no",
        "nos",
        "e.g",
        "i.e",
        "etc",
        "mr",
        "mrs",
        "ms",
        "dr",
        "st",
        "approx",
        "para",
        "paras",
        "ref",
        "vs",
        "cf",
        "fig",
        "dept",
        "govt",
        "p",
        "pp",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "incl",
        "est",
        "ltd",
        "co",
        "op",
    }
)

# ---- decisions
# How minutes head a decision block, and the status each records: in capitals (most systems) or as a word of the
# sentence ("Resolved: That ...", CMIS and councils' own templates). The first spelling of a status is its marker.
RESOLUTION_WORDS: dict[str, Literal["resolved", "not agreed"]] = {
    "RESOLVED": "resolved",
    "UNRESOLVED": "not agreed",
    "Resolved": "resolved",
    "Unresolved": "not agreed",
}
# First parts of words that keep their hyphen when broken over a line ("re-offending", "co-ordinate").
HYPHEN_PREFIXES = frozenset({"anti", "co", "cross", "ex", "multi", "non", "post", "pre", "re", "self", "semi", "well"})

RESOLUTION_LINE = re.compile(r"^\s*(RESOLVED|UNRESOLVED|Resolved|Unresolved)\b\s*[:\-–—]?\s*(.*)$")
# A decision recorded in the discussion rather than in a RESOLVED block.
DEFERRED = re.compile(r"\b(?:deferred|postponed)\b", re.I)
AGREED = re.compile(
    r"\b(?:agreed|approved)\b[^.]*\brecommendations?\b|\brecommendations?\b[^.]*\b(?:were|was) (?:agreed|approved)\b",
    re.I,
)
# A question asking what was decided.
DECISION_QUESTION = re.compile(
    r"\b(?:decid\w*|decision\w*|agree\w*|approve|approval|resolv\w*|resolution\w*|vot(?:e|ed|ing)|recommend\w*|reject\w*|"
    r"defer\w*|endors\w*|sign(?:ed)? off|outcome)\b|"
    # "approved" is a decision only as a verb ("was it approved"), not in "approved foster carers".
    r"\b(?:was|were|been|get|got|it|they|we|be)\s+(?:[\w-]+\s+){0,4}approved\b|\bapproved\s*\?",
    re.I,
)
# Words that make a question a decision question; when one is not, they can be its topic ("approved foster carers").
DECISION_TOPIC_WORDS = frozenset(
    {"decide", "decided", "decision", "decisions", "agree", "agreed", "approve", "approved", "resolve", "resolved"}
)
# A sentence that records a decision.
DECISION_SENTENCE = re.compile(r"\b(?:RESOLVED|agreed|approved|noted|deferred|recommend\w*|endorsed|requested)\b", re.I)

# ---- questions
# Words that carry the shape of a question, not its topic.
QUESTION_WORDS = frozenset(
    {
        # contractions split at the apostrophe ("didn't" -> "didn")
        "didn",
        "doesn",
        "isn",
        "wasn",
        "weren",
        "aren",
        "hasn",
        "haven",
        "hadn",
        "wouldn",
        "couldn",
        "shouldn",
        # asking for a breakdown: the dimension asked is the specific (qa.specifics), not these
        "break",
        "down",
        "broken",
        "breakdown",
        # asking about now: they make a question a recency question (ASKS_RECENT), not its topic
        "now",
        "current",
        "currently",
        "recent",
        "recently",
        "newest",
        "nowadays",
        "presently",
        "upcoming",
        "today",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "did",
        "does",
        "do",
        "done",
        "was",
        "were",
        "we",
        "our",
        "us",
        "about",
        "tell",
        "me",
        "any",
        "there",
        "has",
        "have",
        "had",
        "been",
        "say",
        "said",
        "says",
        "papers",
        "meeting",
        "meetings",
        "committee",
        "council",
        "councillors",
        "members",
        "happened",
        "happen",
        "discussed",
        "discuss",
        "many",
        "much",
        "number",
        "latest",
        "last",
        "year",
        "years",
        "its",
        "it",
        "can",
        "could",
        "would",
        "should",
        "will",
        "please",
        "know",
        "get",
        "got",
        "give",
        "going",
        "from",
        "this",
        "that",
        "these",
        "those",
    }
)
# Capitalised words that start questions or are too common in council papers to single out a topic.
NOT_NAMES = frozenset(
    {
        "what",
        "who",
        "when",
        "where",
        "why",
        "how",
        "which",
        "did",
        "does",
        "do",
        "was",
        "were",
        "is",
        "are",
        "has",
        "have",
        "had",
        "can",
        "could",
        "would",
        "should",
        "will",
        "tell",
        "show",
        "list",
        "give",
        "find",
        "any",
        "the",
        "a",
        "an",
        "in",
        "on",
        "at",
        "of",
        "for",
        "and",
        "or",
        "we",
        "i",
        "our",
        "my",
        "me",
        "us",
        "council",
        "committee",
        "councillor",
        "councillors",
        "members",
        "member",
        "cabinet",
        "chair",
        "meeting",
        "minutes",
        "report",
        "item",
        "page",
        "please",
        "about",
        "there",
        "it",
        "this",
        "that",
    }
) | frozenset(MONTHS)
# Capitalised words of institutions, roles and document furniture: a pair of them is not a person's name. (The
# functions every English council has, such as Children's Services and Overview and Scrutiny, are among them; a
# council's own name and its committees' words are added from the config and the papers: CouncilVocabulary.)
INSTITUTION_WORDS = frozenset(
    {
        "Children",
        "Children's",
        "Childrens",
        "Services",
        "Service",
        "Council",
        "Committee",
        "Local",
        "Authority",
        "Social",
        "Care",
        "Education",
        "Health",
        "Board",
        "Scrutiny",
        "Overview",
        "Majesty's",
        "Chief",
        "Inspector",
        "Her",
        "His",
        "The",
        "Young",
        "People",
        "People's",
        "Ofsted",
        "Family",
        "Families",
        "Safeguarding",
        "Partnership",
        "Corporate",
        "Assistant",
        "Team",
        "Plan",
        "Report",
        "Review",
        "School",
        "Schools",
        "Academy",
        "Centre",
        "Group",
        "Unit",
        "Trust",
        "Youth",
        "Cabinet",
        "Annual",
        "Strategic",
        "Early",
        "Help",
        "Special",
        "Educational",
        "Needs",
        "Executive",
        "Summary",
        "Appendix",
        "Item",
        "Agenda",
        "Page",
        "Key",
        "Stage",
        "Public",
        "County",
        "National",
        "England",
        "Borough",
        "Head",
        "Director",
        "Manager",
        "Officer",
        "Lead",
        "Adult",
        "Adults",
        "Mental",
        "Police",
        "Work",
        "Programme",
        "Development",
        "Improvement",
    }
)
# Members' words for what the papers call something else; each also matches the words after it.
# Keys and words are stemmed, so "jobs" and "posts" are covered by "job" and "post".
SYNONYMS = {
    "job": ["post", "role", "staff"],
    "cut": ["saving", "reduction"],
    "kid": ["child", "children"],
    "money": ["budget", "funding", "grant"],
    "funding": ["budget", "grant"],
    "spend": ["expenditure", "cost"],
    "nursery": ["childcare"],
    "club": ["centre", "hub"],
    "complaint": ["representation"],
    "truancy": ["attendance", "absence"],
    "disabled": ["disabilities", "SEND"],
    "staff": ["workforce"],
    "workers": ["workforce"],
}

# ---- documents
# The first line of the front matter every pack repeats (public information, the venue's Wi-Fi, evacuation,
# filming, the declaring-interests flowchart, the council's vision): matched at the start of a lower-cased line.
BOILERPLATE_START = re.compile(
    r"information for members of the public|access to information and meetings|(?:[\w'’-]+ ){0,3}wi-fi$|"
    r"evacuation procedures|how to view this agenda|declaring interests flowchart|recording of meetings|"
    r"guidelines on filming|helpful reminders for members|vision: "
)
# Text that addresses the reader as a model or gives it orders: an injection attempt, never evidence, never quoted.
INSTRUCTION_LIKE = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b[^.]{0,40}\b(?:instructions?|rules|prompt|above|previous)\b|"
    r"\bsystem prompt\b|"
    r"\byou are (?:now )?(?:an?|the) (?:ai|assistant|model|chatbot|language model)\b|"
    r"\bnew instructions\b|\bas instructed\b|"
    r"\b(?:ai|assistant|chatbot|llm|language model)s?\b[^.]{0,40}"
    r"\b(?:must|should|will|please) (?:say|reply|answer|respond|state|tell)\b|"
    # A directive to the reader ("..., state that ...", "please say that ..."), not a report of what someone said.
    r"(?:^|[,;:]\s*|\b(?:please|must|should)\s+)(?:state|say|reply|respond|answer|write|tell \w+)\s+that\b",
    re.I | re.M,
)


@dataclass(frozen=True)
class CouncilVocabulary:
    """The words that name one council, its area and its committees, from `[council]` and the indexed papers.

    `council` words (lower case) never make a question's topic nor a name to match; `committees` words (lower
    case) are not names to match; `institutions` (as printed: the council's, its area's and its committees' words)
    join INSTITUTION_WORDS, so a pair of them is never taken for a person's name.
    """

    council: frozenset[str] = frozenset()
    committees: frozenset[str] = frozenset()
    institutions: frozenset[str] = frozenset()

    @classmethod
    def build(
        cls, council_names: Iterable[str] = (), places: Iterable[str] = (), committees: Iterable[str] = ()
    ) -> CouncilVocabulary:
        """From the council's own names ("Eastshire County Council"), its area's ("Eastshire") and its committees'."""
        council_words = {w for name in council_names for w in _words(name)}
        committee_words = {form for name in committees for w in _words(name) for form in _forms(w)}
        printed = {w for name in (*council_names, *places) for w in re.findall(r"[\w'’&.-]+", name)}
        return cls(
            frozenset(w.lower() for w in council_words),
            frozenset(w.lower() for w in committee_words),
            frozenset(printed | committee_words),
        )

    @property
    def question_words(self) -> frozenset[str]:
        return QUESTION_WORDS | self.council

    @property
    def not_names(self) -> frozenset[str]:
        return NOT_NAMES | self.council | self.committees

    @property
    def institution_words(self) -> frozenset[str]:
        return INSTITUTION_WORDS | self.institutions


def _words(name: str) -> list[str]:
    return re.findall(r"[A-Za-z][A-Za-z'’&.-]*[A-Za-z]|[A-Za-z]", name)


def _forms(word: str) -> set[str]:
    """A word as papers and questions write it: "Children's", "Children’s", "Childrens" and "Children"."""
    bare = word.replace("’", "'")
    return {word, bare, bare.removesuffix("'s"), bare.replace("'", "")}


# ---- sentences that never lead an answer (they may support one)
# Fields of a report's cover block, as councils' templates print them (English, not one council's).
COVER_FIELD = re.compile(
    r"\b(?:Wards? and communit(?:y|ies) affected|Key Decision\s*:|Report of\s*:|Report to\s*:|Report author\s*:"
    r"|Accountable [\w ,&-]{3,60}:|Contact officer\s*:|Lead officer\s*:|Date of meeting\s*:|Meeting date\s*:"
    r"|Classification\s*:|Decision type\s*:|ITEM:\s*\d"
    r"|This report is (?:public|part|exempt|not for publication))",
    re.I,
)
SALUTATION = re.compile(r"^\W*Dear\b", re.I)
SIGN_OFF = re.compile(r"\b(?:Yours? (?:sincerely|faithfully|truly)|Kind regards|Best wishes|With best wishes)\b", re.I)
# "This report provides/updates ... on", "The purpose of this report is to ...": what a report is for, not a fact.
REPORT_ABOUT = re.compile(
    r"^\W*(?:(?:[A-Z][\w'’&-]*|and|of|the|for|in|on|to)\s+){0,8}?"  # a heading left in front of it
    r"(?:(?:This|The) (?:report|paper|update|briefing|document|item|appendix)\b.{0,60}?\b(?:provides?|updates?|"
    r"sets? out|presents?|outlines?|summari[sz]es?|informs?|gives?|details?|seeks?|asks?|invites?)\b"
    r"|The purpose of (?:this|the) (?:report|paper)\b)",
    re.I | re.S,
)
ATTENDANCE = re.compile(
    r"^\W*(?:Present|Apologies(?: for absence)?|Also (?:present|in attendance)|In attendance|Officers present)\s*:",
    re.I,
)

# ---- what a question asks for
ANSWER_TYPES = ("number", "person", "date", "place", "decision", "reason", "yes_no", "findings", "list", "other")
ASKS_NUMBER = re.compile(
    r"\b(?:how (?:many|much)|number of|numbers|percentage|per ?cent|proportion|rate|cost|costs|budget|spend|"
    r"figures?|total|amount|average|target|score|£)|%",
    re.I,
)
ASKS_PERSON = re.compile(r"\b(?:who|whom|whose|which (?:officer|councillor|member|director))\b", re.I)
ASKS_DATE = re.compile(r"\b(?:when|what date|which date|what year|which year|what time|deadline|by when)\b", re.I)
ASKS_PLACE = re.compile(r"\b(?:where|which (?:school|venue|building|centre|area|ward)|location)\b", re.I)
ASKS_REASON = re.compile(r"\b(?:why|reasons?|because|what caused|cause of)\b", re.I)
ASKS_FINDINGS = re.compile(
    r"\b(?:find|found|findings|judg(?:e)?ments?|concerns?|strengths?|areas for improvement)\b", re.I
)
ASKS_LIST = re.compile(r"\b(?:what are|which are|list|priorities|options|recommendations|actions)\b", re.I)
ASKS_YES_NO = re.compile(r"^\W*(?:is|are|was|were|did|does|do|has|have|had|can|could|will|would|should)\b", re.I)
# A question about now: answered from the newest papers that speak to it.
ASKS_RECENT = re.compile(
    r"\b(?:current(?:ly)?|latest|most recent(?:ly)?|newest|last (?:meeting|time)|next (?:meeting|time)|upcoming|"
    r"still|now|at present|presently|nowadays|these days|today|who is|who's|who chairs)\b",
    re.I,
)
# "the last meeting", "its latest meeting", "the most recent meeting": the newest minuted meeting.
LAST_MEETING = re.compile(r"\b(?:last|latest|most recent|previous|newest) (?:committee )?meeting\b", re.I)
# A question about a meeting itself (where, when, what is on its agenda, whom to tell): the agenda answers it.
ASKS_MEETING = re.compile(
    r"\b(?:agenda|venue|where (?:is|was|will) .{0,60}\bmeet(?:ing)?|(?:meeting|committee) (?:is |was |will be )?held|"
    r"held (?:at|in|where)|apologies|queries|democratic services|what time does|start(?:s|ing)? at|"
    # the committee itself: its chair and members, as the front sheet lists them
    r"(?:who|which councillors?) (?:chairs|is (?:the )?(?:chair|vice-chair)|sits? on|are (?:the )?members)|"
    r"membership|members of the committee|vice-chair of the committee)\b",
    re.I,
)
# When the committee meets next: its work programme lists the meetings ahead.
ASKS_NEXT_MEETING = re.compile(
    r"\b(?:next|future|upcoming|forthcoming|coming) (?:committee )?meetings?\b|\bmeeting dates\b", re.I
)
