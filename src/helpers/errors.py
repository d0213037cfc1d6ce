"""Errors people can act on.

Every problem with user input is a :class:`Problem`: *where* (file, row, column or
key), *what* is wrong, and *what to do*.  Helpers raise :class:`InputError` with one
or more problems; the CLI prints one line per problem and exits with code 2, never
a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input.

    ``source`` is the file (or parameter name) the problem is in, ``where`` the row,
    column, cell or key inside it, ``what`` the problem and ``fix`` what to do.
    """

    source: str
    what: str
    where: str = ""
    fix: str = ""

    def __str__(self) -> str:
        head = self.source if not self.where else f"{self.source}: {self.where}"
        text = f"{head}: {self.what}"
        if self.fix:
            text += f" — {self.fix}"
        return text


@dataclass
class InputError(Exception):
    """Bad input: carries every problem found, so the user can fix them in one go."""

    problems: list[Problem] = field(default_factory=list)

    def __init__(self, problems: Problem | Iterable[Problem]):
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


def input_error(source: str, what: str, where: str = "", fix: str = "") -> InputError:
    """Shorthand for an :class:`InputError` holding a single :class:`Problem`."""
    return InputError(Problem(source=source, what=what, where=where, fix=fix))
