"""Errors raised by the prompts package.

Parsing model output never raises; these are for caller mistakes: an unknown
analysis type, or render() called without the fields a template needs.
"""


class PromptError(Exception):
    """Base class of every error this package raises."""


class UnknownAnalysisType(PromptError, KeyError):
    """The analysis type is not in ANALYSIS_TYPES."""

    def __init__(self, name: object) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:  # KeyError would print the repr of the key only
        return f"unknown analysis type {self.name!r}"


class MissingField(PromptError, ValueError):
    """A template input (e.g. progress's previous_text) is missing or empty."""


class InvalidField(PromptError, ValueError):
    """A field is not accepted by the analysis type, or has a value outside its choices."""
