"""Security contexts that satisfy Pod Security 'restricted', for our own pods and charts' values."""

from __future__ import annotations

from typing import Any

RUNTIME_DEFAULT_SECCOMP = {"type": "RuntimeDefault"}


def restricted_pod(user: int, group: int | None = None, fs_group: int | None = None) -> dict[str, Any]:
    """A pod security context: a fixed non-root user and the runtime's default seccomp profile."""
    context: dict[str, Any] = {
        "runAsNonRoot": True,
        "runAsUser": user,
        "runAsGroup": user if group is None else group,
        "seccompProfile": dict(RUNTIME_DEFAULT_SECCOMP),
    }
    if fs_group is not None:
        context["fsGroup"] = fs_group
    return context


def restricted_container(read_only_root: bool = True) -> dict[str, Any]:
    """A container security context: no privilege escalation, no capabilities, read-only root."""
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": read_only_root,
        "runAsNonRoot": True,
        "seccompProfile": dict(RUNTIME_DEFAULT_SECCOMP),
    }
