"""Run the project's real Pulumi program for one stack under the mock runtime and record it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import runpy
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import settings
from pulumi.runtime.stack import run_in_stack

from components.declaration import (
    Declaration,
    ModelDeclaration,
    PlatformDeclaration,
    declared_stacks,
    load_stack,
    stack_file,
)
from components.declaration.loader import read_stack_config
from components.offline.mocks import PlanError, PlanMocks, StackReferenceTarget
from components.offline.monitor import MethodCall, RecordingMonitor, Registration
from components.offline.values import SECRET, is_secret, reveal

PROGRAM = "__main__.py"
PROJECT_FILE = "Pulumi.yaml"
ORGANIZATION = "organization"


@dataclass(frozen=True)
class Plan:
    """What one stack would create, as the engine received it."""

    project: str
    stack: str
    declaration: Declaration
    registrations: tuple[Registration, ...]
    calls: tuple[MethodCall, ...]
    outputs: dict[str, Any]

    @property
    def secret_output_names(self) -> list[str]:
        """The stack outputs that are secrets."""
        return sorted(name for name, value in self.outputs.items() if is_secret(value))


def find_project(start: Path) -> Path:
    """The nearest directory at or above `start` holding a Pulumi.yaml."""
    for directory in (start, *start.parents):
        if (directory / PROJECT_FILE).is_file():
            return directory
    raise PlanError(f"no {PROJECT_FILE} in {start} or any directory above it")


def project_name(project_dir: Path) -> str:
    """The project's name from its Pulumi.yaml."""
    document = yaml.safe_load((project_dir / PROJECT_FILE).read_text(encoding="utf-8"))
    return str(document["name"])


def engine_config(config: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """A stack file's config as the Pulumi CLI hands it to a program: JSON for structured values.

    Encrypted values cannot be read without the stack's secrets provider, so they reach the
    program as the placeholder "[secret]" and are marked secret, as the CLI would mark them.
    """
    encoded: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in config.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            encoded[key] = SECRET
            secret_keys.append(key)
        elif isinstance(value, dict | list):
            encoded[key] = json.dumps(value, sort_keys=True)
        elif isinstance(value, bool):
            encoded[key] = "true" if value else "false"
        else:
            encoded[key] = str(value)
    return encoded, sorted(secret_keys)


def plan_stack(project_dir: Path, stack: str) -> Plan:
    """Plan one stack, planning first any stack of this project it references."""
    return _plan(project_dir.resolve(), stack, resolving=())


def _plan(project_dir: Path, stack: str, resolving: tuple[str, ...]) -> Plan:
    if stack in resolving:
        chain = " -> ".join((*resolving, stack))
        raise PlanError(f"stack references form a cycle: {chain}")
    declaration = load_stack(project_dir, stack)
    references: dict[str, StackReferenceTarget] = {}
    if isinstance(declaration, ModelDeclaration):
        referenced = declaration.platform_stack.rsplit("/", 1)[-1]
        if referenced in declared_stacks(project_dir):
            upstream = _plan(project_dir, referenced, (*resolving, stack))
            references[referenced] = StackReferenceTarget(
                outputs=reveal(upstream.outputs),
                secret_output_names=upstream.secret_output_names,
            )
    return _run_program(project_dir, stack, declaration, references)


def _region(declaration: Declaration, references: Mapping[str, StackReferenceTarget]) -> str:
    if isinstance(declaration, PlatformDeclaration) and declaration.aws is not None:
        return declaration.aws.region
    for target in references.values():
        region = target.outputs.get("region")
        if isinstance(region, str):
            return region
    return "us-east-1"


def _run_program(
    project_dir: Path,
    stack: str,
    declaration: Declaration,
    references: Mapping[str, StackReferenceTarget],
) -> Plan:
    project = project_name(project_dir)
    path = stack_file(project_dir, stack)
    config, secret_keys = engine_config(read_stack_config(path, f"stacks/{path.name}"))
    mocks = PlanMocks(region=_region(declaration, references), references=references)
    monitor = RecordingMonitor(mocks)

    # Each plan starts from a clean runtime: no root stack, config, RPC or task left by an earlier
    # plan, even one that failed halfway (its unfinished registrations would otherwise run on).
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        settings.ROOT.set(None)
        pulumi.runtime.set_mocks(
            mocks,
            project=project,
            stack=stack,
            preview=False,
            monitor=monitor,
            organization=ORGANIZATION,
            logger=logging.getLogger("slipway.plan"),
        )
        pulumi.runtime.set_all_config(config, secret_keys)
        # set_mocks registers a root stack of its own; the program's run registers the real one.
        settings.ROOT.set(None)
        # The SDK keeps its RPC bookkeeping across runs: a failed run's error would end the next one.
        settings._get_rpc_manager().clear()
        with settings.SETTINGS.lock:
            settings.SETTINGS.outputs.clear()

        program = project_dir / PROGRAM

        def run_program() -> None:
            runpy.run_path(str(program), run_name="__main__")

        with _importable(project_dir):
            loop.run_until_complete(run_in_stack(run_program))
    finally:
        _discard(loop)

    return Plan(
        project=project,
        stack=stack,
        declaration=declaration,
        registrations=tuple(sorted(monitor.registrations, key=lambda r: r.urn)),
        calls=tuple(monitor.calls),
        outputs=dict(monitor.stack_outputs),
    )


def _discard(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel whatever a run left pending and close its loop."""
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()
    # Leave a fresh loop for whatever the process does next, as it had one before.
    asyncio.set_event_loop(asyncio.new_event_loop())


@contextlib.contextmanager
def _importable(project_dir: Path) -> Iterator[None]:
    """Let the program import the project's packages, as `pulumi up` run from the project would."""
    entry = str(project_dir)
    added = entry not in sys.path
    if added:
        sys.path.insert(0, entry)
    try:
        yield
    finally:
        if added:
            sys.path.remove(entry)
