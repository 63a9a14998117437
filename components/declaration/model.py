"""The model stack's declaration: one team's model in one environment."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from components.declaration.fields import (
    Cron,
    DnsLabel,
    Duration,
    Environment,
    MetricName,
    Quantity,
    StackName,
    Strict,
)


class Framework(StrEnum):
    """The MLflow flavour the model is logged with."""

    SKLEARN = "sklearn"
    XGBOOST = "xgboost"
    LIGHTGBM = "lightgbm"
    PYTORCH = "pytorch"
    ONNX = "onnx"
    PYFUNC = "pyfunc"


class RolloutStrategy(StrEnum):
    """How a new version meets live traffic."""

    CANARY = "canary"
    BLUE_GREEN = "blueGreen"
    SHADOW = "shadow"


class EvaluationData(Strict):
    """The labelled data a candidate is evaluated on."""

    uri: Annotated[str, Field(min_length=1)]
    label_column: Annotated[str, Field(min_length=1)]


class TrainingSettings(Strict):
    """The team's own training entrypoint, when the pipeline trains."""

    entrypoint: Annotated[str, Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")]
    """A 'module:function' the pipeline image can import."""


class ModelSettings(Strict):
    """What the model is and what it is judged on."""

    name: DnsLabel
    framework: Framework
    evaluation_data: EvaluationData
    training: TrainingSettings | None = None


class ServingSettings(Strict):
    """How the model server runs."""

    min_replicas: Annotated[int, Field(ge=1, le=100)] = 2
    max_replicas: Annotated[int, Field(ge=1, le=100)] = 4
    cpu: Quantity = "500m"
    memory: Quantity = "1Gi"
    gpus: Annotated[int, Field(ge=0, le=8)] = 0
    port: Annotated[int, Field(ge=1024, le=65535)] = 8080


class CanaryStep(Strict):
    """One traffic step of a canary."""

    weight: Annotated[int, Field(ge=1, le=99)]
    pause: Duration


class AnalysisSettings(Strict):
    """The live checks that decide whether a canary goes on."""

    max_error_rate: Annotated[float, Field(ge=0.0, le=1.0)] = 0.01
    max_latency_p99_ms: Annotated[int, Field(ge=1, le=600000)] = 250
    interval: Duration = "1m"
    failure_limit: Annotated[int, Field(ge=0, le=10)] = 1


class RolloutSettings(Strict):
    """How a new version is rolled out."""

    strategy: RolloutStrategy = RolloutStrategy.CANARY
    steps: Annotated[list[CanaryStep], Field(min_length=1, max_length=20)] = [
        CanaryStep(weight=10, pause="5m"),
        CanaryStep(weight=50, pause="10m"),
    ]
    analysis: AnalysisSettings = AnalysisSettings()


class MetricGate(Strict):
    """A bound one evaluation metric must meet."""

    metric: MetricName
    min: float | None = None
    max: float | None = None


class GateSettings(Strict):
    """What a candidate must pass before it meets traffic."""

    metrics: Annotated[list[MetricGate], Field(min_length=1, max_length=50)]
    latency_budget_ms: Annotated[int, Field(ge=1, le=600000)] = 100
    champion_margin: Annotated[float, Field(ge=-1.0, le=1.0)] = 0.0
    """How much better than the champion the candidate's primary metric must be."""


class DriftSettings(Strict):
    """The scheduled drift check."""

    features: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]
    threshold: Annotated[float, Field(gt=0.0, le=1.0)] = 0.2
    schedule: Cron = "0 */6 * * *"
    retrain_on_drift: bool = True


class ApprovalSettings(Strict):
    """Whether a person must approve before a version is promoted."""

    required: bool = False


class ModelDeclaration(Strict):
    """Everything one model stack builds."""

    role: Literal["model"]
    environment: Environment
    platform_stack: StackName
    team: DnsLabel
    model: ModelSettings
    serving: ServingSettings = ServingSettings()
    rollout: RolloutSettings = RolloutSettings()
    gates: GateSettings
    drift: DriftSettings | None = None
    approval: ApprovalSettings = ApprovalSettings()
