"""Declaration problems that name the file, the key path, what was wrong and what is allowed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pulumi


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one key of one stack file."""

    source: str
    path: str
    message: str

    def __str__(self) -> str:
        """The one line a user reads: file, key path, what was wrong and what is allowed."""
        return f"{self.source}: {self.path}: {self.message}"


class DeclarationError(pulumi.RunError):
    """A stack declaration that cannot be used as written.

    A RunError, so that `pulumi up` reports it as one line per problem without a traceback.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        """Collect the problems; there is always at least one."""
        self.problems = tuple(problems)
        if not self.problems:
            raise ValueError("a DeclarationError needs at least one problem")
        super().__init__("\n".join(str(problem) for problem in self.problems))
