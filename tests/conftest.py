"""Shared fixtures: the project's own paths, plans of its example stacks, scratch projects."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.offline.engine import Plan, plan_stack

PROJECT_DIR = Path(__file__).resolve().parent.parent
SHARED_DIR = PROJECT_DIR.parent / "shared"
STACKS = (
    "platform-dev",
    "platform-prod",
    "platform-local",
    "fraud-detector-dev",
    "fraud-detector-prod",
)

_plans: dict[str, Plan] = {}


def planned(stack: str) -> Plan:
    """The plan of one of the project's own stacks, made once per test session."""
    if stack not in _plans:
        _plans[stack] = plan_stack(PROJECT_DIR, stack)
    return _plans[stack]


def stack_config(stack: str) -> dict[str, Any]:
    """A copy of the config mapping of one of the project's own stack files."""
    path = PROJECT_DIR / "stacks" / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    config: dict[str, Any] = document["config"]
    return config


@pytest.fixture
def scratch_project(tmp_path: Path) -> Callable[..., Path]:
    """Make a project in tmp_path: the real program and Pulumi.yaml, with the given stack files."""

    def make(stacks: dict[str, dict[str, Any] | str]) -> Path:
        shutil.copy(PROJECT_DIR / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
        shutil.copy(PROJECT_DIR / "__main__.py", tmp_path / "__main__.py")
        (tmp_path / "stacks").mkdir(exist_ok=True)
        for name, content in stacks.items():
            text = content if isinstance(content, str) else yaml.safe_dump({"config": content})
            (tmp_path / "stacks" / f"Pulumi.{name}.yaml").write_text(text, encoding="utf-8")
        return tmp_path

    return make


def resources_of(plan: Plan, typ: str) -> list[dict[str, Any]]:
    """The recorded inputs of every resource of one type."""
    from components.offline.values import plain

    return [plain(r.inputs) for r in plan.registrations if r.type == typ]


@pytest.fixture
def replan(scratch_project):
    """Plan a copy of one of the project's stacks with some keys changed."""

    def make(stack: str, **changes: Any) -> Plan:
        config = copy.deepcopy(stack_config(stack))
        for key, change in changes.items():
            current = config.get(f"slipway:{key}", {})
            config[f"slipway:{key}"] = change(current) if callable(change) else change
        project = scratch_project({stack: config})
        return plan_stack(project, stack)

    return make


def registrations(plan: Plan, typ: str) -> list[Any]:
    return [r for r in plan.registrations if r.type == typ]


def only(plan: Plan, typ: str) -> dict[str, Any]:
    (inputs,) = resources_of(plan, typ)
    return inputs
