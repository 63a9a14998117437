"""The pipeline on one machine: the same steps, in order, against MLflow and model servers on loopback."""

from __future__ import annotations

import getpass
import logging
import os
import signal
import subprocess
import sys
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TextIO

from pipelines import stages
from pipelines.audit import FileSink
from pipelines.registry import champion as current_champion
from pipelines.registry import client as registry_client
from pipelines.stages import StepFailed, run_step
from pipelines.state import Outcome, RunState, Settings, now
from pipelines.targets.local import LocalServers, LocalTarget, stop_all
from pipelines.tracking import ensure_server, stop_server

HOME_DIRECTORY = ".slipway"


@dataclass(frozen=True)
class LocalRun:
    """What `slipway pipeline run --local` was asked to do."""

    project_dir: Path
    settings: Settings
    model_uri: str | None = None
    training_arguments: dict[str, str] = field(default_factory=dict)
    approved: bool = False


def source_commit(project_dir: Path) -> str:
    """The commit the project is at, or 'unknown' outside a git checkout."""
    try:
        found = subprocess.run(
            ["git", "-C", str(project_dir), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return found.stdout.strip() or "unknown"


def _print_step(out: TextIO, state: RunState) -> None:
    record = state.steps[-1]
    mark = {"passed": "ok", "skipped": "skip", "failed": "FAIL"}.get(
        record.outcome.value, record.outcome.value
    )
    print(f"  {mark:<5} {record.step:<14} {record.seconds:6.1f}s  {record.detail}", file=out)


class _Interrupted(Exception):
    pass


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise _Interrupted(signal.Signals(signum).name)


def run_local(request: LocalRun, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run every step; 0 when the candidate became champion, 1 when it was stopped, 2 on bad input."""
    home = request.project_dir / HOME_DIRECTORY
    os.environ["SLIPWAY_PROJECT_DIR"] = str(request.project_dir)
    _quiet_libraries()
    tracking_uri = ensure_server(home)
    os.environ["MLFLOW_TRACKING_URI"] = tracking_uri

    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    settings = request.settings
    mlflow.set_experiment(f"slipway-{settings.model_name}")
    sink = FileSink(home / "audit.jsonl")
    state = RunState(
        run_id=uuid.uuid4().hex[:12],
        actor=os.environ.get("SLIPWAY_ACTOR") or getpass.getuser(),
        source_commit=source_commit(request.project_dir),
        started_at=now(),
        settings=settings,
        model_uri=request.model_uri,
        training_arguments=dict(request.training_arguments),
    )
    servers = LocalServers(home, settings.model_name)
    target = LocalTarget(
        servers=servers,
        evaluation=lambda: stages.evaluation_data(state)[0],
        environment={"MLFLOW_TRACKING_URI": tracking_uri},
    )
    champion_version = current_champion(registry_client(), settings.model_name)
    champion = target.ensure_champion(settings.model_name, champion_version)
    print(f"pipeline {settings.stack} run {state.run_id} (tracking {tracking_uri})", file=out)
    if champion is not None:
        print(f"  champion: version {champion.version} at {champion.url}", file=out)

    steps: list[tuple[str, Callable[[RunState], tuple[RunState, str, dict[str, float]]]]] = [
        ("train", stages.train),
        ("validate-data", stages.validate_data),
        ("evaluate", stages.evaluate),
        ("compare", stages.compare),
        ("register", stages.register),
    ]
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    deployed = False
    try:
        for name, action in steps:
            state = run_step(name, action, state, sink)
            _print_step(out, state)
        if settings.approval_required and not request.approved:
            raise StepFailed("approve", "this stack requires approval before deploy: rerun with --approve")
        deployed = True
        state = run_step("deploy", lambda s: stages.deploy(s, target), state, sink)
        _print_step(out, state)
        state = run_step("analyse", lambda s: stages.analyse(s, target), state, sink)
        _print_step(out, state)
        state = run_step("promote", lambda s: stages.promote(s, target), state, sink)
        _print_step(out, state)
    except StepFailed as failure:
        state = failure.state or state
        _print_step(out, state)
        if deployed:
            state = run_step("rollback", lambda s: stages.rollback(s, target), state, sink)
            _print_step(out, state)
        state = stages.record_run(
            state, Outcome.ROLLED_BACK if deployed else Outcome.FAILED, str(failure), sink
        )
        _summary(out, state, servers)
        print(f"slipway: {failure}", file=err)
        return 1
    except (KeyboardInterrupt, _Interrupted) as interruption:
        # Whatever was interrupted, the candidate goes and the champion keeps serving.
        target.rollback(state)
        stages.record_run(state, Outcome.FAILED, f"interrupted ({interruption})", sink)
        print(f"slipway: interrupted; the champion was left serving ({interruption})", file=err)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    state = stages.record_run(state, Outcome.PROMOTED, "promoted", sink)
    _summary(out, state, servers)
    return 0


def _quiet_libraries() -> None:
    # The run prints one line per step; MLflow's own progress lines and links would bury them.
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module=r"mlflow(\..*)?")
    warnings.filterwarnings("ignore", category=FutureWarning)


def _summary(out: TextIO, state: RunState, servers: LocalServers) -> None:
    total = now() - state.started_at
    print(
        f"run {state.run_id}: {state.outcome.value if state.outcome else 'unknown'} in {total:.1f}s", file=out
    )
    champion = servers.load().get("champion")
    if champion is not None:
        print(f"champion: version {champion.version} at {champion.url}/invocations", file=out)
    else:
        print("champion: none yet", file=out)


def down(project_dir: Path, out: TextIO = sys.stdout) -> int:
    """Stop every local model server and the tracking server this project started."""
    home = project_dir / HOME_DIRECTORY
    stopped = stop_all(home)
    tracking = stop_server(home)
    if tracking:
        stopped.append(tracking)
    for line in stopped:
        print(f"stopped {line}", file=out)
    if not stopped:
        print("nothing was running", file=out)
    return 0
