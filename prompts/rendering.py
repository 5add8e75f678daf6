"""render(): the full model prompt for one analysis of one text."""

from functools import cache
from importlib import resources
from string import Template
from typing import Any

from .errors import InvalidField, MissingField
from .registry import get_type
from .sanitize import neutralize
from .spec import AnalysisType, Choice


@cache
def load_template(file_name: str) -> Template:
    """The template file `prompts/templates/<file_name>`, without the file's final newline."""
    source = resources.files(__package__).joinpath("templates", file_name).read_text("utf-8")
    return Template(source.removesuffix("\n"))


def _free_text(spec: AnalysisType, name: str, value: Any) -> str:
    if value is None:
        raise MissingField(f"{spec.name} needs {name!r}")
    if not isinstance(value, str):
        raise InvalidField(f"{spec.name}: {name!r} must be a string, not {type(value).__name__}")
    cleaned = neutralize(value)
    if not cleaned:
        raise MissingField(f"{spec.name}: {name!r} is empty")
    return cleaned


def _choice(spec: AnalysisType, choice: Choice, value: Any) -> str:
    if value is None:
        return choice.default
    wanted = " ".join(str(value).replace("_", " ").replace("-", " ").split()).lower()
    if wanted not in choice.values:
        raise InvalidField(
            f"{spec.name}: {choice.name!r} must be one of {list(choice.values)}, not {value!r}"
        )
    return wanted


def bind_fields(spec: AnalysisType, text: Any, fields: dict[str, Any]) -> dict[str, str]:
    """Validated, neutralised template values; raises MissingField / InvalidField."""
    unknown = sorted(set(fields) - set(spec.fields))
    if unknown:
        raise InvalidField(
            f"{spec.name} does not take {unknown}; it takes {list(spec.fields) or 'only text'}"
        )
    values = {"text": _free_text(spec, "text", text)}
    for name in spec.inputs[1:]:
        values[name] = _free_text(spec, name, fields.get(name))
    for choice in spec.choices:
        values[choice.name] = _choice(spec, choice, fields.get(choice.name))
    return values


def render(analysis_type: str, text: str, **fields: Any) -> str:
    """The full prompt for `analysis_type` about `text`.

    `fields` are the type's extra inputs (progress: previous_text) and choices (imhi.irf:
    risk_factor, imhi.multiwd: dimension; None means the default). Raises UnknownAnalysisType,
    MissingField or InvalidField. Texts are neutralised (prompts.sanitize) but not shortened:
    fitting the prompt into the model's context is the engine's token-aware policy.
    """
    spec = get_type(analysis_type)
    values = bind_fields(spec, text, fields)
    return load_template(spec.template_file).substitute(values)
