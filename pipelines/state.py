"""The one document a pipeline run carries from step to step, on Argo and on one machine alike."""

from __future__ import annotations

import re
import time
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from components.declaration.model import ModelDeclaration, RolloutStrategy

CHAMPION_ALIAS = "champion"
_DURATION = re.compile(r"([1-9][0-9]*)(s|m|h)")
_SECONDS = {"s": 1, "m": 60, "h": 3600}


def seconds(duration: str) -> int:
    """A declared duration ('30s', '5m', '1h') in seconds."""
    match = _DURATION.fullmatch(duration)
    if match is None:
        raise ValueError(f"not a duration: {duration!r}")
    return int(match.group(1)) * _SECONDS[match.group(2)]


class Frozen(BaseModel):
    """Base of the state's parts: unknown keys refused, values not changed in place."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Gate(Frozen):
    """One metric bound from the declaration."""

    metric: str
    min: float | None = None
    max: float | None = None

    @property
    def higher_is_better(self) -> bool:
        """Whether the metric improves upwards (it has a lower bound)."""
        return self.min is not None

    def failure(self, value: float) -> str | None:
        """Why the value fails this gate, or None when it passes."""
        if self.min is not None and value < self.min:
            return f"{self.metric} {value:.4f} is below the minimum {self.min}"
        if self.max is not None and value > self.max:
            return f"{self.metric} {value:.4f} is above the maximum {self.max}"
        return None


class Analysis(Frozen):
    """The live thresholds a candidate is judged on."""

    max_error_rate: float
    max_latency_p99_ms: float
    interval_seconds: int
    failure_limit: int


class Settings(Frozen):
    """What the model stack declares that the pipeline acts on."""

    stack: str
    model_name: str
    team: str
    environment: str
    evaluation_uri: str
    label_column: str
    gates: tuple[Gate, ...]
    latency_budget_ms: float
    champion_margin: float
    strategy: RolloutStrategy
    analysis: Analysis
    approval_required: bool
    training_entrypoint: str | None = None
    drift_features: tuple[str, ...] = ()

    @classmethod
    def from_declaration(cls, stack: str, declaration: ModelDeclaration) -> Settings:
        """The settings of one model stack."""
        analysis = declaration.rollout.analysis
        return cls(
            stack=stack,
            model_name=declaration.model.name,
            team=declaration.team,
            environment=declaration.environment.value,
            evaluation_uri=declaration.model.evaluation_data.uri,
            label_column=declaration.model.evaluation_data.label_column,
            gates=tuple(Gate(metric=g.metric, min=g.min, max=g.max) for g in declaration.gates.metrics),
            latency_budget_ms=declaration.gates.latency_budget_ms,
            champion_margin=declaration.gates.champion_margin,
            strategy=declaration.rollout.strategy,
            analysis=Analysis(
                max_error_rate=analysis.max_error_rate,
                max_latency_p99_ms=analysis.max_latency_p99_ms,
                interval_seconds=seconds(analysis.interval),
                failure_limit=analysis.failure_limit,
            ),
            approval_required=declaration.approval.required,
            training_entrypoint=declaration.model.training.entrypoint if declaration.model.training else None,
            drift_features=tuple(declaration.drift.features) if declaration.drift else (),
        )

    @property
    def primary_gate(self) -> Gate:
        """The gate the champion comparison is made on: the first declared."""
        return self.gates[0]


class Outcome(StrEnum):
    """How a step, or the run, ended."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    PROMOTED = "promoted"
    ROLLED_BACK = "rolled_back"


class StepRecord(Frozen):
    """One step's result, kept for the audit trail."""

    step: str
    started_at: float
    finished_at: float
    outcome: Outcome
    detail: str = ""
    numbers: dict[str, float] = Field(default_factory=dict)

    @property
    def seconds(self) -> float:
        """How long the step took."""
        return self.finished_at - self.started_at


class RunState(Frozen):
    """Everything known about one pipeline run so far."""

    run_id: str
    actor: str
    source_commit: str
    started_at: float
    settings: Settings
    training_arguments: dict[str, str] = Field(default_factory=dict)
    model_uri: str | None = None
    data_hash: str | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    champion_version: str | None = None
    champion_metrics: dict[str, float] = Field(default_factory=dict)
    candidate_version: str | None = None
    candidate_endpoint: str | None = None
    champion_endpoint: str | None = None
    analysis: dict[str, float] = Field(default_factory=dict)
    outcome: Outcome | None = None
    steps: tuple[StepRecord, ...] = ()

    def updated(self, **changes: Any) -> RunState:
        """A copy with some fields changed."""
        return self.model_copy(update=changes)

    def with_step(self, record: StepRecord, **changes: Any) -> RunState:
        """A copy with one more step recorded, and some fields changed."""
        return self.model_copy(update={**changes, "steps": (*self.steps, record)})


def now() -> float:
    """Wall-clock time, for records."""
    return time.time()
