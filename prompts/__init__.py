"""Analysis prompts and parsers for mindq (pure Python; no mindq, web, queue or model imports).

    prompts.render(analysis_type, text, **fields) -> str     the full model prompt
    prompts.parse(analysis_type, raw) -> dict                label/confidence/rationale/raw/parsed
    prompts.prompt_version(analysis_type) -> str             e.g. "risk@1"
    prompts.PARSER_VERSION                                   "parser@<semver>", changes with the parser
    prompts.ANALYSIS_TYPES                                   name -> AnalysisType
"""

from .errors import InvalidField, MissingField, PromptError, UnknownAnalysisType
from .parsing import PARSER_VERSION, parse
from .registry import ANALYSIS_TYPES, get_type, prompt_version
from .rendering import render
from .spec import AnalysisType, Choice

__all__ = [
    "ANALYSIS_TYPES",
    "PARSER_VERSION",
    "AnalysisType",
    "Choice",
    "InvalidField",
    "MissingField",
    "PromptError",
    "UnknownAnalysisType",
    "get_type",
    "parse",
    "prompt_version",
    "render",
]
