"""Helm releases of the platform's third-party services, each from a named chart at a pinned version."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

ARGO_REPOSITORY = "https://argoproj.github.io/argo-helm"
PROMETHEUS_COMMUNITY_REPOSITORY = "https://prometheus-community.github.io/helm-charts"
NVIDIA_DEVICE_PLUGIN_REPOSITORY = "https://nvidia.github.io/k8s-device-plugin"
NVIDIA_DCGM_REPOSITORY = "https://nvidia.github.io/dcgm-exporter/helm-charts"
# Long enough for CRDs, webhooks and a first image pull; a release that is not ready by then fails.
RELEASE_TIMEOUT_SECONDS = 900
RELEASE_HISTORY = 10


@dataclass(frozen=True)
class Chart:
    """A chart: where it comes from and the one version installed."""

    repository: str
    name: str
    version: str


def chart_release(
    name: str,
    chart: Chart,
    namespace: pulumi.Input[str],
    values: pulumi.Input[dict[str, Any]],
    opts: pulumi.ResourceOptions,
) -> k8s.helm.v3.Release:
    """Install or upgrade one release, all or nothing: a failed upgrade rolls back on its own."""
    if not chart.version:
        raise ValueError(f"chart {chart.name} has no version; every release is pinned")
    return k8s.helm.v3.Release(
        name,
        name=name,
        chart=chart.name,
        version=chart.version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository),
        namespace=namespace,
        values=values,
        atomic=True,
        cleanup_on_fail=True,
        max_history=RELEASE_HISTORY,
        timeout=RELEASE_TIMEOUT_SECONDS,
        create_namespace=False,
        opts=opts,
    )
