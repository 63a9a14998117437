"""The Kubernetes provider of a platform stack, always pinned to one declared cluster."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.declaration.platform import KubernetesSettings


def byo_cluster_provider(
    name: str, settings: KubernetesSettings, opts: pulumi.ResourceOptions | None = None
) -> k8s.Provider:
    """A provider for a cluster the user already has, reached through its declared context.

    The context is always set, so a run never lands on whichever context happens to be current
    in the user's kubeconfig.
    """
    return k8s.Provider(
        name,
        context=settings.context,
        kubeconfig=settings.kubeconfig,
        # A cluster that cannot be reached must fail the run, not be dropped from state.
        delete_unreachable=False,
        opts=opts,
    )


def eks_cluster_provider(
    name: str, kubeconfig: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None
) -> k8s.Provider:
    """A provider for the EKS cluster this stack builds, from the cluster's own kubeconfig output.

    The kubeconfig names the cluster's endpoint and gets tokens with `aws eks get-token`, so the
    provider never falls back to whatever kubeconfig the machine running `pulumi up` has.
    """
    return k8s.Provider(
        name,
        kubeconfig=kubeconfig,
        delete_unreachable=False,
        opts=opts,
    )
