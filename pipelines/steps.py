"""The pipeline's steps as Argo runs them: one function per template, the run state in and out.

Each is a plain function (callable directly, and in tests); the WorkflowTemplate factory turns it
into a Hera runner script. The audit trail and the deploy target come from the pod's environment.
"""

# No `from __future__ import annotations`: Hera reads these functions' annotations as objects.
import json
import os
from datetime import datetime
from typing import Annotated

from hera.workflows import Parameter

from pipelines import stages
from pipelines.audit import AuditEvent, sink_from_environment
from pipelines.stages import run_step
from pipelines.state import Outcome, RunState, Settings, now
from pipelines.targets.kubernetes import KubernetesTarget, target_from_environment

State = Annotated[RunState, Parameter(name="state")]


class RolledBack(Exception):
    """The candidate was rolled back: the run did its job, and it failed."""


def _target() -> KubernetesTarget:
    return target_from_environment(dict(os.environ))


def start(
    settings: str, model_uri: str, training_arguments: str, source_commit: str, run_id: str, actor: str
) -> State:
    """The run's first state, from the workflow's parameters."""
    return RunState(
        run_id=run_id,
        actor=actor or "unknown",
        source_commit=source_commit or "unknown",
        started_at=now(),
        settings=Settings.model_validate_json(settings),
        model_uri=model_uri or None,
        training_arguments=json.loads(training_arguments or "{}"),
    )


def train(state: State) -> State:
    """Train with the declared entrypoint, unless a model was given."""
    return run_step("train", stages.train, state, sink_from_environment())


def validate_data(state: State) -> State:
    """Check the evaluation data against the model and the champion's reference."""
    return run_step("validate-data", stages.validate_data, state, sink_from_environment())


def evaluate(state: State) -> State:
    """Hold the candidate to the declared gates."""
    return run_step("evaluate", stages.evaluate, state, sink_from_environment())


def compare(state: State) -> State:
    """Hold the candidate to the champion, with the declared margin."""
    return run_step("compare", stages.compare, state, sink_from_environment())


def register(state: State) -> State:
    """Register the candidate with its provenance."""
    return run_step("register", stages.register, state, sink_from_environment())


def deploy(state: State) -> State:
    """Point the model's Rollout at the candidate."""
    target = _target()
    return run_step("deploy", lambda s: stages.deploy(s, target), state, sink_from_environment())


def analyse(state: State) -> State:
    """Follow the Rollout and its analysis to a verdict."""
    target = _target()
    return run_step("analyse", lambda s: stages.analyse(s, target), state, sink_from_environment())


def promote(state: State) -> State:
    """Move the champion alias to the candidate, which already serves."""
    target = _target()
    return run_step("promote", lambda s: stages.promote(s, target), state, sink_from_environment())


def rollback(state: State) -> None:
    """Abort the canary and keep the champion; the run then fails, saying so."""
    target = _target()
    rolled = run_step("rollback", lambda s: stages.rollback(s, target), state, sink_from_environment())
    raise RolledBack(rolled.steps[-1].detail)


def run_outcome(status: str, failures: str) -> Outcome:
    """A finished workflow's outcome: promoted, rolled back (the rollback step ran), or failed."""
    if status == "Succeeded":
        return Outcome.PROMOTED
    try:
        failed = json.loads(failures or "[]")
    except ValueError:
        failed = []
    names = {node.get("displayName") for node in failed if isinstance(node, dict)}
    return Outcome.ROLLED_BACK if "rollback" in names else Outcome.FAILED


def record(
    settings: str, run_id: str, status: str, failures: str, actor: str, source_commit: str, created: str
) -> None:
    """The run's own audit event, from the exit handler: every run is recorded, whatever its end."""
    parsed = Settings.model_validate_json(settings)
    finished = now()
    try:
        started = datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp()
    except ValueError:
        started = finished
    outcome = run_outcome(status, failures)
    sink_from_environment().write(
        AuditEvent(
            kind="run",
            run_id=run_id,
            stack=parsed.stack,
            team=parsed.team,
            model=parsed.model_name,
            environment=parsed.environment,
            actor=actor or "unknown",
            source_commit=source_commit or "unknown",
            outcome=outcome.value,
            detail=f"workflow {status}: {failures}"[:2000],
            started_at=started,
            finished_at=finished,
        )
    )
