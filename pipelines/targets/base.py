"""The one interface every deploy target offers the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from pipelines.state import RunState


@dataclass(frozen=True)
class AnalysisResult:
    """What the live analysis found."""

    passed: bool
    detail: str
    numbers: dict[str, float] = field(default_factory=dict)


class DeployTarget(Protocol):
    """Deploy a registered candidate, judge it live, then promote it or roll it back."""

    def deploy(self, state: RunState) -> str:
        """Put the candidate (state.candidate_version) in front of traffic; return its endpoint."""

    def analyse(self, state: RunState) -> AnalysisResult:
        """Judge the candidate against the declared thresholds."""

    def promote(self, state: RunState) -> str:
        """Make the candidate the one serving; return the champion's endpoint."""

    def rollback(self, state: RunState) -> None:
        """Take the candidate away; the champion serves throughout."""
