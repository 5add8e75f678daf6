"""The registry of analysis types: ANALYSIS_TYPES maps a type name to its AnalysisType.

IMHI types reproduce MentalLLaMA's test sets (github.com/SteveKGYang/MentalLLaMA):
queries from test_data/test_instruction/<set>.csv (swmh from
human_evaluation/test_instruction_expert/swmh.csv, the full swmh test file being too large to
read here), label words from src/label_inference.py get_dict(), lower case, in its order.
"""

from collections.abc import Mapping
from types import MappingProxyType

from .errors import UnknownAnalysisType
from .spec import AnalysisType, Choice

_YES_NO = ("no", "yes")  # label_inference.py get_dict(): {0: 'no', 1: 'yes'}

_CLINICAL = (
    AnalysisType(
        name="depression",
        number=1,
        description="Severity of depressive signs in the text.",
        labels=("none", "mild", "moderate", "severe"),
        max_new_tokens=192,
        asks_confidence=True,
    ),
    AnalysisType(
        name="risk",
        number=1,
        description="Suicide or self-harm risk level; medium and high require attention.",
        labels=("low", "medium", "high"),
        max_new_tokens=192,
        asks_confidence=True,
        extra_result_keys=("requires_attention",),
    ),
    AnalysisType(
        name="wellness",
        number=1,
        description="Overall wellbeing expressed in the text.",
        labels=("poor", "fair", "good"),
        max_new_tokens=192,
        asks_confidence=True,
    ),
    AnalysisType(
        name="progress",
        number=1,
        description="Change in mental state between an earlier text and the current one.",
        labels=("improved", "unchanged", "worsened"),
        inputs=("text", "previous_text"),
        max_new_tokens=224,
        asks_confidence=True,
    ),
    AnalysisType(
        name="sentiment",
        number=1,
        description="Overall sentiment of the text.",
        labels=("negative", "neutral", "positive"),
        max_new_tokens=160,
        asks_confidence=True,
    ),
)

_IRF_FACTORS = Choice(
    name="risk_factor",
    values=("thwarted belongingness", "perceived burdensomeness"),
    default="thwarted belongingness",
    description="Interpersonal risk factor asked about (Irf.csv asks each post both ways).",
)

_WELLNESS_DIMENSIONS = Choice(
    name="dimension",
    values=("spiritual", "physical", "intellectual", "social", "vocational", "emotional"),
    default="emotional",
    description="Wellness dimension asked about (MultiWD.csv asks each post all six).",
)


def _imhi(name: str, source: str, description: str, labels: tuple[str, ...],
          max_new_tokens: int, choices: tuple[Choice, ...] = ()) -> AnalysisType:
    return AnalysisType(
        name=name,
        number=1,
        description=description,
        labels=labels,
        choices=choices,
        max_new_tokens=max_new_tokens,
        family="imhi",
        prompt_style="imhi-query",
        source=source,
    )


# max_new_tokens: about the 99th percentile length of the set's gold answers (label sentence +
# reasoning, ~1.35 LLaMA tokens a word), rounded up to 32. The label comes first, so an answer
# cut short still parses.
_IMHI = (
    _imhi("imhi.dr", "DR", "Does the poster suffer from depression (IMHI DR).", _YES_NO, 256),
    _imhi("imhi.dreaddit", "dreaddit", "Does the poster suffer from stress (IMHI Dreaddit).",
          _YES_NO, 192),
    _imhi("imhi.loneliness", "loneliness",
          "Does the poster suffer from loneliness (IMHI loneliness).", _YES_NO, 256),
    _imhi("imhi.irf", "Irf", "Does the post show an interpersonal risk factor (IMHI IRF).",
          _YES_NO, 288, (_IRF_FACTORS,)),
    _imhi("imhi.multiwd", "MultiWD", "Does a wellness dimension exist in the post (IMHI MultiWD).",
          _YES_NO, 192, (_WELLNESS_DIMENSIONS,)),
    _imhi("imhi.sad", "SAD", "Cause of stress (IMHI SAD).",
          ("school", "financial", "family", "social", "work", "health", "emotional", "everyday",
           "other"), 160),
    _imhi("imhi.cams", "CAMS", "Cause of depression (IMHI CAMS).",
          ("none", "bias", "job", "medication", "relation", "alienation"), 224),
    _imhi("imhi.swmh", "swmh", "Mental disorder symptoms (IMHI SWMH).",
          ("depression", "suicide", "anxiety", "bipolar", "no mental"), 192),
    _imhi("imhi.t-sid", "t-sid", "Mental disorder (IMHI T-SID).",
          ("depression", "suicide", "ptsd", "control"), 256),
)

ANALYSIS_TYPES: Mapping[str, AnalysisType] = MappingProxyType(
    {spec.name: spec for spec in _CLINICAL + _IMHI}
)


def get_type(analysis_type: str) -> AnalysisType:
    """The AnalysisType named `analysis_type`; UnknownAnalysisType otherwise."""
    try:
        return ANALYSIS_TYPES[analysis_type]
    except (KeyError, TypeError):  # TypeError: unhashable names such as lists
        raise UnknownAnalysisType(analysis_type) from None


def prompt_version(analysis_type: str) -> str:
    """The prompt version string of a type, e.g. "risk@1"."""
    return get_type(analysis_type).version
