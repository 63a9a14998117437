"""The pipeline's steps, each a function of the run state and what it needs to act on.

The same functions run as Argo workflow steps (pipelines/steps.py wraps them) and in order on one
machine (pipelines/local.py). A step that finds the candidate wanting raises StepFailed with the
gate and the numbers; every step leaves a record in the state and an event in the audit trail.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from pipelines import datasets, metrics, registry
from pipelines.audit import AuditEvent, AuditSink
from pipelines.serving.payload import scores
from pipelines.state import Outcome, RunState, StepRecord, now
from pipelines.targets.base import DeployTarget

LATENCY_SAMPLES = 40
WARM_UP_CALLS = 3


class StepFailed(Exception):
    """A step's verdict against the candidate (or a step that could not run), with its numbers."""

    def __init__(self, step: str, detail: str, numbers: dict[str, float] | None = None) -> None:
        """Name the step and say why."""
        super().__init__(f"{step}: {detail}")
        self.step = step
        self.detail = detail
        self.numbers = numbers or {}
        self.state: RunState | None = None
        """The run's state with the failed step recorded, once run_step has seen it."""


@cache
def _model(uri: str) -> Any:
    import mlflow.pyfunc

    return mlflow.pyfunc.load_model(uri)


@cache
def _evaluation(uri: str) -> tuple[pd.DataFrame, str]:
    return datasets.load(datasets.resolve(uri))


def evaluation_data(state: RunState) -> tuple[pd.DataFrame, np.ndarray, str]:
    """The declared evaluation data: features, labels and the data's hash."""
    settings = state.settings
    frame, digest = _evaluation(settings.evaluation_uri)
    features, labels = datasets.split_label(frame, settings.label_column, settings.evaluation_uri)
    return features, labels, digest


def _event(state: RunState, record: StepRecord, kind: str = "step") -> AuditEvent:
    settings = state.settings
    return AuditEvent(
        kind=kind,
        run_id=state.run_id,
        stack=settings.stack,
        team=settings.team,
        model=settings.model_name,
        environment=settings.environment,
        actor=state.actor,
        source_commit=state.source_commit,
        step=record.step if kind == "step" else None,
        version=state.candidate_version,
        outcome=record.outcome.value,
        detail=record.detail,
        started_at=record.started_at,
        finished_at=record.finished_at,
        numbers=record.numbers,
    )


def run_step(
    name: str,
    action: Callable[[RunState], tuple[RunState, str, dict[str, float]]],
    state: RunState,
    sink: AuditSink,
) -> RunState:
    """Run one step: time it, record it in the state and the audit trail, pass on its verdict."""
    started = now()
    try:
        updated, detail, numbers = action(state)
    except StepFailed as failed:
        raise _recorded(failed, state, name, started, sink) from None
    except Exception as error:  # a step that broke is a failed step, recorded like any other
        broken = StepFailed(name, f"{type(error).__name__}: {error}")
        raise _recorded(broken, state, name, started, sink) from error
    outcome = Outcome.SKIPPED if detail.startswith("skipped") else Outcome.PASSED
    record = StepRecord(
        step=name, started_at=started, finished_at=now(), outcome=outcome, detail=detail, numbers=numbers
    )
    sink.write(_event(updated, record))
    return updated.with_step(record)


def _recorded(failure: StepFailed, state: RunState, name: str, started: float, sink: AuditSink) -> StepFailed:
    record = StepRecord(
        step=name,
        started_at=started,
        finished_at=now(),
        outcome=Outcome.FAILED,
        detail=failure.detail,
        numbers=failure.numbers,
    )
    sink.write(_event(state, record))
    failure.state = state.with_step(record)
    return failure


def record_run(state: RunState, outcome: Outcome, detail: str, sink: AuditSink) -> RunState:
    """The run's own audit event: its result and each step's duration."""
    finished = state.updated(outcome=outcome)
    record = StepRecord(
        step="run", started_at=state.started_at, finished_at=now(), outcome=outcome, detail=detail
    )
    event = _event(finished, record, kind="run").model_copy(
        update={"steps": {step.step: round(step.seconds, 3) for step in state.steps}}
    )
    sink.write(event)
    return finished


# The steps. Each returns (new state, what it found, numbers worth keeping).


def train(state: RunState) -> tuple[RunState, str, dict[str, float]]:
    """Run the team's training entrypoint, unless a model was given."""
    if state.model_uri:
        return state, "skipped: model given", {}
    entrypoint = state.settings.training_entrypoint
    if entrypoint is None:
        raise StepFailed("train", "no model to judge: give a model URI or declare model.training.entrypoint")
    module_name, _, function_name = entrypoint.partition(":")
    # The team's code sits in the project, beside the stacks; make it importable from there.
    project = os.environ.get("SLIPWAY_PROJECT_DIR")
    if project and project not in sys.path:
        sys.path.insert(0, project)
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as error:
        raise StepFailed("train", f"cannot import {entrypoint}: {error}") from error
    model_uri = str(function(**state.training_arguments))
    return state.updated(model_uri=model_uri), f"trained {model_uri}", {}


def validate_data(state: RunState) -> tuple[RunState, str, dict[str, float]]:
    """The evaluation data has the label, the columns the model takes, and no sudden holes."""
    assert state.model_uri is not None
    features, labels, digest = evaluation_data(state)
    problems = datasets.schema_problems(features, registry.input_schema(state.model_uri))
    client = registry.client()
    champion = registry.champion(client, state.settings.model_name)
    if champion is not None:
        reference = registry.reference_profile(client, state.settings.model_name, champion)
        if reference is not None:
            problems += datasets.statistics_problems(datasets.profile(features), reference)
    numbers = {"rows": float(len(features)), "positive_share": float(np.mean(labels))}
    if problems:
        raise StepFailed("validate-data", "; ".join(problems), numbers)
    return state.updated(data_hash=digest), f"{len(features)} rows, sha256 {digest[:12]}", numbers


def _latency_p95_ms(model: Any, features: pd.DataFrame) -> float:
    rows = [features.iloc[[index]] for index in range(min(LATENCY_SAMPLES, len(features)))]
    for row in rows[:WARM_UP_CALLS]:
        model.predict(row)
    timings = []
    for row in rows:
        started = time.perf_counter()
        model.predict(row)
        timings.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(timings, 95))


def _score(model_uri: str, features: pd.DataFrame) -> np.ndarray:
    return scores(_model(model_uri).predict(features))


def evaluate(state: RunState) -> tuple[RunState, str, dict[str, float]]:
    """Every declared metric gate and the latency budget, on the declared evaluation data."""
    assert state.model_uri is not None
    settings = state.settings
    features, labels, _ = evaluation_data(state)
    try:
        predicted = _score(state.model_uri, features)
    except Exception as error:
        raise StepFailed("evaluate", f"the model cannot score the evaluation data: {error}") from error
    found = metrics.compute([gate.metric for gate in settings.gates], labels, predicted)
    latency = _latency_p95_ms(_model(state.model_uri), features)
    numbers = {**found, "latency_p95_ms": latency}
    failures = [reason for gate in settings.gates if (reason := gate.failure(found[gate.metric]))]
    if latency > settings.latency_budget_ms:
        failures.append(
            f"latency p95 {latency:.1f} ms is above the budget {settings.latency_budget_ms:.0f} ms"
        )
    if failures:
        raise StepFailed("evaluate", "; ".join(failures), numbers)
    summary = ", ".join(f"{name} {value:.4f}" for name, value in found.items())
    return state.updated(metrics=found), f"{summary}, p95 {latency:.1f} ms", numbers


def compare(state: RunState) -> tuple[RunState, str, dict[str, float]]:
    """The candidate beats the champion by the declared margin on the primary metric."""
    settings = state.settings
    client = registry.client()
    champion = registry.champion(client, settings.model_name)
    if champion is None:
        return state, "no champion yet: the first version to pass its gates becomes it", {}
    gate = settings.primary_gate
    features, labels, _ = evaluation_data(state)
    theirs = metrics.compute(
        [gate.metric], labels, _score(registry.version_uri(settings.model_name, champion), features)
    )
    ours, best = state.metrics[gate.metric], theirs[gate.metric]
    margin = settings.champion_margin
    better = ours >= best + margin if gate.higher_is_better else ours <= best - margin
    numbers = {"candidate": ours, "champion": best, "margin": margin}
    found = state.updated(champion_version=champion, champion_metrics=theirs)
    if not better:
        direction = "at least" if gate.higher_is_better else "at most"
        needed = best + margin if gate.higher_is_better else best - margin
        raise StepFailed(
            "compare",
            f"{gate.metric} {ours:.4f} against champion version {champion}'s {best:.4f}: "
            f"needs {direction} {needed:.4f} (margin {margin})",
            numbers,
        )
    return found, f"{gate.metric} {ours:.4f} against champion version {champion}'s {best:.4f}", numbers


def register(state: RunState) -> tuple[RunState, str, dict[str, float]]:
    """A registry version with its provenance and the reference profile drift checks use."""
    assert state.model_uri is not None
    features, _, digest = evaluation_data(state)
    provenance = {
        "source_commit": state.source_commit,
        "data_hash": digest,
        "pipeline_run_id": state.run_id,
        "actor": state.actor,
        "model_uri": state.model_uri,
        "stack": state.settings.stack,
        **{f"metric.{name}": f"{value:.6f}" for name, value in state.metrics.items()},
        **{f"param.{name}": value for name, value in state.training_arguments.items()},
    }
    version = registry.register(
        registry.client(), state.settings.model_name, state.model_uri, provenance, datasets.profile(features)
    )
    return state.updated(candidate_version=version), f"version {version}", {"version": float(version)}


def deploy(state: RunState, target: DeployTarget) -> tuple[RunState, str, dict[str, float]]:
    """Put the candidate in front of traffic, beside the champion."""
    endpoint = target.deploy(state)
    return state.updated(candidate_endpoint=endpoint), f"candidate at {endpoint}", {}


def analyse(state: RunState, target: DeployTarget) -> tuple[RunState, str, dict[str, float]]:
    """Judge the candidate live against the declared analysis thresholds."""
    result = target.analyse(state)
    if not result.passed:
        raise StepFailed("analyse", result.detail, result.numbers)
    return state.updated(analysis=result.numbers), result.detail, result.numbers


def promote(state: RunState, target: DeployTarget) -> tuple[RunState, str, dict[str, float]]:
    """The candidate serves as champion, then the alias moves: it never names a version not serving."""
    assert state.candidate_version is not None
    endpoint = target.promote(state)
    client = registry.client()
    registry.set_champion(client, state.settings.model_name, state.candidate_version)
    registry.mark(client, state.settings.model_name, state.candidate_version, Outcome.PROMOTED.value)
    promoted = state.updated(champion_endpoint=endpoint, outcome=Outcome.PROMOTED)
    return promoted, f"version {state.candidate_version} is champion at {endpoint}", {}


def rollback(state: RunState, target: DeployTarget) -> tuple[RunState, str, dict[str, float]]:
    """Take the candidate away; the champion and its alias never moved."""
    target.rollback(state)
    if state.candidate_version is not None:
        registry.mark(
            registry.client(), state.settings.model_name, state.candidate_version, Outcome.ROLLED_BACK.value
        )
    champion = state.champion_version or "none"
    return (
        state.updated(outcome=Outcome.ROLLED_BACK),
        f"candidate removed; champion stays version {champion}",
        {},
    )
