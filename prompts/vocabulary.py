"""Label phrases per analysis type (regular-expression alternatives, matched as whole words).

IMHI entries cover MentalLLaMA's own answer wording (the gold answers in
test_data/test_instruction/*.csv, e.g. "This post shows the stress cause related to financial
problem.", and the completion form "financial problem.") and the substrings its rule-based
classifier tests (src/IMHI.py calculate_f1, src/label_inference.py), mapped onto the label words of
label_inference.py get_dict().
"""

from .matching import Vocabulary

_SUFFERS = r"suffer(?:s|ing|ed)?\s+from"


def _yes_no(*concept: str) -> Vocabulary:
    # Yes/no questions: `yes`/`no` themselves, plus the affirmative phrases of the question,
    # which stand for `no` when negated ("does not suffer from stress").
    # A bare `no` is the answer only when the answer opens with it: elsewhere it is a
    # determiner ("no one", "no indication of stress", the latter caught by negation).
    return Vocabulary(
        phrases={
            "no": (r"(?<![\s\S])no",),
            "yes": (r"yes",) + concept,
        },
        negates_to="no",
    )


VOCABULARIES: dict[str, Vocabulary] = {
    # clinical types
    "depression": Vocabulary({
        "none": (r"none", r"minimal", r"no\s+(?:signs?\s+of\s+|evidence\s+of\s+)?depression",
                 r"not\s+depressed"),
        "mild": (r"mild(?:ly)?",),
        "moderate": (r"moderate(?:ly)?", r"medium"),
        "severe": (r"severe(?:ly)?", r"major"),
    }),
    # Ranges such as "medium-high" read as their upper end: a risk answer errs towards attention.
    "risk": Vocabulary({
        "low": (r"low", r"minimal", r"no\s+(?:apparent\s+|significant\s+|immediate\s+)?risk"),
        "medium": (r"low(?:\s*-\s*|\s+to\s+)(?:medium|moderate)", r"medium", r"moderate",
                   r"elevated"),
        "high": (r"(?:medium|moderate)(?:\s*-\s*|\s+to\s+)high", r"high", r"severe",
                 r"imminent", r"acute"),
    }),
    "wellness": Vocabulary({
        "poor": (r"poor", r"low", r"bad"),
        "fair": (r"fair", r"moderate", r"average", r"mixed"),
        "good": (r"good", r"high", r"strong"),
    }),
    "progress": Vocabulary({
        "improved": (r"improv(?:ed|ing|ement|es)?", r"better"),
        "unchanged": (r"unchanged", r"no\s+(?:significant\s+|clear\s+)?change", r"stable",
                      r"(?:stayed|remained|remains|stays)\s+(?:the\s+same|stable)", r"same"),
        "worsened": (r"wors(?:ened|ening|e|t)", r"deteriorat(?:ed|ing|ion)",
                     r"declin(?:ed|ing|e)"),
    }),
    "sentiment": Vocabulary({
        "negative": (r"negative",),
        "neutral": (r"neutral",),
        "positive": (r"positive",),
    }),
    # IMHI yes/no sets: DR, dreaddit, loneliness, Irf, MultiWD
    "imhi.dr": _yes_no(_SUFFERS, r"depress(?:ed|ion|ive)"),
    "imhi.dreaddit": _yes_no(_SUFFERS, r"stress(?:ed|ful)?"),
    "imhi.loneliness": _yes_no(_SUFFERS, r"lonel(?:y|iness)", r"isolated"),
    "imhi.irf": _yes_no(r"shows?\s+(?:this\s+|a\s+|the\s+)?risk",
                        r"(?:at\s+)?risk\s+of\s+(?:thwarted\s+belongingness|perceived\s+burdensomeness)",
                        r"thwarted\s+belongingness", r"perceived\s+burdensomeness"),
    "imhi.multiwd": _yes_no(r"(?:wellness\s+)?dimension\s+exists?", r"exists?", r"present"),
    # IMHI multi-class sets
    "imhi.sad": Vocabulary({
        "school": (r"school(?:work)?", r"college", r"universit(?:y|ies)", r"exams?"),
        "financial": (r"financ(?:ial|es?)(?:\s+problems?)?", r"money"),
        "family": (r"family(?:\s+issues?)?",),
        "social": (r"social(?:\s+relationships?)?",),
        "work": (r"work", r"job"),
        "health": (r"(?<!mental\s)health(?:\s+issues?)?", r"illness"),
        "emotional": (r"emotion(?:al)?(?:\s+turmoil)?",),
        "everyday": (r"everyday(?:\s+decision(?:\s+making)?)?", r"decision(?:\s+making)?"),
        "other": (r"other\s+(?:stress\s+)?causes?", r"other(?=\s*(?:[.)]|$))"),
    }),
    "imhi.cams": Vocabulary({
        "none": (r"none", r"no\s+(?:specific\s+|clear\s+)?causes?"),
        "bias": (r"bias(?:\s+or\s+abuse)?", r"abuse"),
        "job": (r"jobs?(?:\s+and\s+careers?)?", r"careers?", r"unemploy(?:ed|ment)"),
        "medication": (r"medications?",),
        "relation": (r"relationships?", r"relations?"),
        "alienation": (r"alienat(?:ion|ed)",),
    }),
    "imhi.swmh": Vocabulary({
        "depression": (r"depress(?:ion|ive|ed)",),
        "suicide": (r"suicid(?:e|al|ality)", r"self-harm(?:ing)?"),
        "anxiety": (r"anxi(?:ety|ous)",),
        "bipolar": (r"bipolar(?:\s+disorder)?",),
        "no mental": (r"no\s+mental(?:\s+(?:health\s+)?(?:disorders?|illness(?:es)?))?"
                      r"(?:\s+symptoms)?",),
    }),
    "imhi.t-sid": Vocabulary({
        "depression": (r"depress(?:ion|ive|ed)",),
        "suicide": (r"suicid(?:e|al|ality)", r"self-harm(?:ing)?"),
        "ptsd": (r"ptsd", r"post-?traumatic\s+stress(?:\s+disorder)?"),
        "control": (r"no\s+mental(?:\s+(?:health\s+)?(?:disorders?|illness(?:es)?))?",
                    r"control"),
    }),
}
