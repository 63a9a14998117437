"""Small builders for the pod specs the platform writes itself: probes, resources, volumes."""

from __future__ import annotations

from typing import Any


def http_probe(path: str, port: int | str, period: int = 10, failures: int = 3) -> dict[str, Any]:
    """An HTTP GET probe."""
    return {
        "httpGet": {"path": path, "port": port},
        "periodSeconds": period,
        "timeoutSeconds": 5,
        "failureThreshold": failures,
    }


def exec_probe(command: list[str], period: int = 10, failures: int = 3) -> dict[str, Any]:
    """A probe that runs a command in the container."""
    return {
        "exec": {"command": command},
        "periodSeconds": period,
        "timeoutSeconds": 5,
        "failureThreshold": failures,
    }


def tcp_probe(port: int | str, period: int = 10, failures: int = 3) -> dict[str, Any]:
    """A probe that opens a TCP connection."""
    return {
        "tcpSocket": {"port": port},
        "periodSeconds": period,
        "timeoutSeconds": 5,
        "failureThreshold": failures,
    }


def resources(cpu: str, memory: str, cpu_limit: str, memory_limit: str) -> dict[str, Any]:
    """Requests and limits."""
    return {
        "requests": {"cpu": cpu, "memory": memory},
        "limits": {"cpu": cpu_limit, "memory": memory_limit},
    }


def scratch_volume(name: str, size: str = "256Mi") -> dict[str, Any]:
    """A size-limited emptyDir, for the writable paths a read-only root filesystem lacks."""
    return {"name": name, "emptyDir": {"sizeLimit": size}}


def secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    """An environment variable read from one key of a Secret."""
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def selector_labels(app: str) -> dict[str, str]:
    """The labels a workload's pods carry and its Service and policies select."""
    return {"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": "slipway"}


def object_meta(
    name: str | None,
    namespace: str | None = None,
    labels: dict[str, str] | None = None,
    annotations: dict[str, Any] | None = None,
) -> Any:
    """Object metadata as the API server takes it.

    Typed Any because the SDK's typed dictionaries do not accept plain nested dicts, which is how
    the specs here are written: the form the API server and its schemas use.
    """
    meta: dict[str, Any] = {}
    if name is not None:
        meta["name"] = name
    if namespace is not None:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = labels
    if annotations:
        meta["annotations"] = annotations
    return meta


def api_spec(spec: dict[str, Any]) -> Any:
    """A spec as the API server takes it (see object_meta for why it is typed Any)."""
    return spec
