"""The one base of every methodology model and the one loader of every methodology file.

Every file a consultant writes (run params, indicators, strategies, weight schemes,
targets, scoring, incentives, source mappings) is a pydantic model on :class:`Strict`
(unknown keys are errors, values are frozen) read by :func:`load_model`: safe YAML with
no duplicate keys (:func:`helpers.plan.params.read_yaml`), a mapping at the top, and
every validation error as a problem naming the file and the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from helpers.errors import InputError, Problem

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """Base of every methodology model: unknown keys are errors; values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Text(Strict):
    """A text a consultant writes in both report languages (a name, a note, a SMART attribute)."""

    zh: str
    en: str


def load_model(path: str | Path, model: type[M], source: str | None = None, example: str = "") -> M:
    """Read ``path`` (YAML) and validate it as ``model``; :class:`InputError` names
    ``source`` (default: the path) and the key of every problem."""
    from helpers.plan.params import read_yaml, validation_problems

    source = source or str(path)
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise InputError(Problem(source, "must be a mapping of keys to values", fix=f"see {example}" if example else ""))
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise InputError(validation_problems(exc, source)) from None
