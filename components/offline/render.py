"""Write a plan as plan.json and one manifest per Kubernetes object; print its component tree."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from components.offline.engine import Plan
from components.offline.monitor import Registration
from components.offline.values import plain

# Kubernetes resource types that are not API objects: providers, charts and releases.
_NOT_OBJECTS = ("kubernetes:helm.sh/", "kubernetes:yaml", "kubernetes:kustomize")


def plan_document(plan: Plan) -> dict[str, Any]:
    """The plan as plan.json holds it."""
    return {
        "project": plan.project,
        "stack": plan.stack,
        "resources": [
            {
                "urn": r.urn,
                "type": r.type,
                "name": r.name,
                "parent": r.parent,
                "provider": r.provider,
                "dependencies": list(r.dependencies),
                "inputs": plain(r.inputs),
                **({"options": r.options} if r.options else {}),
            }
            for r in plan.registrations
        ],
        "outputs": plain(plan.outputs),
    }


def kubernetes_objects(plan: Plan) -> Iterator[dict[str, Any]]:
    """Every Kubernetes API object the program declares, as the API server would receive it."""
    for registration in plan.registrations:
        if not _is_kubernetes_object(registration):
            continue
        inputs = plain(registration.inputs)
        yield {key: value for key, value in inputs.items() if not key.startswith("__")}


def manifest_filename(obj: dict[str, Any]) -> str:
    """A stable, unique file name for one object: kind, namespace and name."""
    metadata = obj.get("metadata") or {}
    namespace = metadata.get("namespace") or "cluster"
    return f"{obj['kind'].lower()}.{namespace}.{metadata['name']}.yaml"


def write_plan(plan: Plan, out_dir: Path) -> tuple[Path, int]:
    """Write plan.json and manifests/ under out_dir, replacing an earlier plan's files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    plan_path = out_dir / "plan.json"
    plan_path.write_text(json.dumps(plan_document(plan), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    manifests = out_dir / "manifests"
    # Stale manifests from an earlier plan would pass for objects this plan declares.
    shutil.rmtree(manifests, ignore_errors=True)
    manifests.mkdir()
    count = 0
    for obj in kubernetes_objects(plan):
        path = manifests / manifest_filename(obj)
        if path.exists():
            raise ValueError(f"two Kubernetes objects would both be written to {path.name}")
        path.write_text(yaml.safe_dump(obj, sort_keys=True), encoding="utf-8")
        count += 1
    return plan_path, count


def tree_lines(plan: Plan) -> list[str]:
    """The component tree: each component with its children, and counts of plain resources."""
    children: dict[str | None, list[Registration]] = {}
    urns = {r.urn for r in plan.registrations}
    for registration in plan.registrations:
        parent = registration.parent if registration.parent in urns else None
        children.setdefault(parent, []).append(registration)

    lines = [f"{plan.project} {plan.stack}"]

    def walk(parent: str | None, indent: str) -> None:
        kids = sorted(children.get(parent, []), key=lambda r: (r.custom, r.type, r.name))
        components = [kid for kid in kids if not kid.custom]
        counts = Counter(kid.type for kid in kids if kid.custom)
        entries: list[tuple[str, Registration | None]] = [
            (f"{kid.type} {kid.name}", kid) for kid in components
        ]
        entries += [(f"{typ} x{n}", None) for typ, n in sorted(counts.items())]
        for index, (text, kid) in enumerate(entries):
            last = index == len(entries) - 1
            lines.append(f"{indent}{'└─ ' if last else '├─ '}{text}")
            if kid is not None:
                walk(kid.urn, indent + ("   " if last else "│  "))

    walk(None, "")
    return lines


def type_counts(plan: Plan) -> list[tuple[str, int]]:
    """How many resources of each type the plan holds, sorted by type."""
    return sorted(Counter(r.type for r in plan.registrations).items())


def summary_line(plan: Plan, manifest_count: int | None = None) -> str:
    """One closing line: resource, component and object counts."""
    components = sum(1 for r in plan.registrations if not r.custom)
    resources = len(plan.registrations) - components
    objects = sum(1 for r in plan.registrations if _is_kubernetes_object(r))
    line = (
        f"plan {plan.stack}: {resources} resources in {components} components, "
        f"{objects} Kubernetes objects, {len(plan.outputs)} outputs"
    )
    if manifest_count is not None:
        line += f"; {manifest_count} manifests written"
    return line


def _is_kubernetes_object(registration: Registration) -> bool:
    return (
        registration.custom
        and registration.type.startswith("kubernetes:")
        and not registration.type.startswith(_NOT_OBJECTS)
    )
