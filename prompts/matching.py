"""Finding a label in a piece of model output.

A Vocabulary lists, per label, the phrases that name it. A segment of an answer is scanned for
those phrases (whole words, case-insensitive); a phrase counts only when it is not negated
(`does not suffer`, `no sign of depression`), and counts more when it is anchored: at the start
of the answer (`yes.`, `work.`) or right after a cue such as `related to`, `shows`, `is`,
`Answer:`. MentalLLaMA's own rule (src/IMHI.py calculate_f1) is a substring test in a fixed
priority order; whole words, negation and anchors make the same answers parse and keep
`know` from reading as `no` and `does not show this risk` as `yes`.
"""

import re
from dataclasses import dataclass

# Words that negate a label phrase when they come shortly before it in the same clause.
_NEGATION = re.compile(
    r"\b(?:not|no|never|without|neither|nor|hardly|none|nothing|absence\s+of|lack(?:s|ing)?\s+of"
    r"|free\s+(?:of|from))\b|n't\b",
    re.IGNORECASE,
)
_NEGATION_WINDOW_WORDS = 10
_CLAUSE_BREAK = re.compile(r"[.;:!?,()\n]|\b(?:but|however|although|though|while|whereas)\b",
                           re.IGNORECASE)
# A label right after one of these cues is the answer, not a passing mention.
_ANCHOR = re.compile(
    r"(?:\b(?:related\s+to|due\s+to|caused\s+by|shows?|is|are|was|appears?(?:\s+to\s+be)?"
    r"|seems?(?:\s+to\s+be)?|(?:would|should|to|must|will)\s+be|as|category\s+of"
    r"|falls?\s+(?:under|into)|level|answer|label|prediction|sentiment|trend|risk)"
    r")\s*:?\s*(?:[a-i][.)]\s*)?(?:(?:the|an?|their|his|her|its|this|that)\s+)?$",
    re.IGNORECASE,
)
# Only punctuation or list markers before the phrase: the answer opens with the label.
_LEADING_ONLY = re.compile(r"[\s\W]*(?:[a-i][.)]\s*)?")
# Markup and punctuation an answer may open with before its label (`**No**`, `- yes`).
_OPENING_NOISE = " \t\n*#>-_\"'(`"
_UNDETERMINED = re.compile(
    r"\b(?:cannot|can\s*not|can't|unable\s+to|not\s+possible\s+to|impossible\s+to"
    r"|difficult\s+to|hard\s+to)\s+(?:be\s+)?(?:determine|tell|say|assess|conclude|know|judge)"
    r"|\bunclear\b|\b(?:insufficient|not\s+enough)\s+(?:information|context|evidence)\b",
    re.IGNORECASE,
)


class Vocabulary:
    """Label phrases of one analysis type.

    `phrases` maps a label to regular-expression alternatives. For yes/no questions,
    `negates_to` names the label a negated phrase stands for: a negated `suffers from
    depression` is an answer `no`, where for other types a negated label just doesn't count.
    """

    def __init__(self, phrases: dict[str, tuple[str, ...]], negates_to: str | None = None):
        self.phrases = dict(phrases)
        self.negates_to = negates_to
        # Whole words only; a leading hyphen also blocks a match (`non-suicidal`).
        self._compiled = [
            (label, re.compile(r"(?<![\w-])(?:" + "|".join(alternatives) + r")(?!\w)",
                               re.IGNORECASE))
            for label, alternatives in self.phrases.items()
        ]

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.phrases)

    def mentions(self, segment: str) -> list["Mention"]:
        """Non-overlapping label phrases in `segment`, in order, longest first at a position."""
        found = [
            (m.start(), -(m.end() - m.start()), label, m.end())
            for label, pattern in self._compiled
            for m in pattern.finditer(segment)
        ]
        found.sort()
        result: list[Mention] = []
        covered_to = -1
        for start, _, label, end in found:
            if start < covered_to:
                continue
            covered_to = end
            result.append(self._classify(segment, label, start))
        return [m for m in result if m.label is not None]

    def _classify(self, segment: str, label: str, start: int) -> "Mention":
        lead = segment[max(0, start - 60):start]
        anchored = (start < 16 and _LEADING_ONLY.fullmatch(segment[:start]) is not None) or (
            _ANCHOR.search(lead) is not None)
        if label != self.negates_to and _NEGATION.search(_clause_before(segment, start)):
            return Mention(self.negates_to, start, False)
        return Mention(label, start, anchored)


@dataclass(frozen=True)
class Mention:
    label: str | None  # None: a negated phrase that stands for no label
    start: int
    anchored: bool


def _clause_before(segment: str, start: int) -> str:
    """The last few words before `start` that belong to the same clause."""
    window = segment[max(0, start - 160):start]
    breaks = list(_CLAUSE_BREAK.finditer(window))
    if breaks:
        window = window[breaks[-1].end():]
    words = window.split()
    return " ".join(words[-_NEGATION_WINDOW_WORDS:])


def undetermined(segment: str) -> bool:
    """Whether the text says the answer cannot be told (`not enough information to determine`)."""
    return _UNDETERMINED.search(segment) is not None


def decide(vocabulary: Vocabulary, segment: str, strict: bool = False,
           anchored_only: bool = False) -> str | None:
    """The label `segment` answers with, or None.

    Anchored mentions win (the earliest); otherwise the most frequent label, and a tie is no
    answer. With `strict` (used when scanning a whole free-text answer) any disagreement
    between the deciding mentions gives None rather than a guess; `anchored_only` ignores
    passing mentions altogether.
    """
    segment = segment.lstrip(_OPENING_NOISE)
    mentions = vocabulary.mentions(segment)
    anchored = [m for m in mentions if m.anchored]
    if not anchored and (anchored_only or _UNDETERMINED.search(segment)):
        return None
    deciding = anchored or mentions
    if not deciding:
        return None
    labels = {m.label for m in deciding}
    if strict and len(labels) > 1:
        return None
    if anchored:
        return anchored[0].label
    counts = {label: sum(1 for m in deciding if m.label == label) for label in labels}
    best = max(counts.values())
    leaders = [label for label, count in counts.items() if count == best]
    return leaders[0] if len(leaders) == 1 else None  # a tie is no answer
