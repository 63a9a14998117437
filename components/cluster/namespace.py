"""A namespace under Pod Security 'restricted' whose pods reach nothing they are not allowed to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.containers import api_spec
from components.cluster.traffic import Allow, policy_spec
from components.options import child_options

PART_OF = "slipway"
REASON_ANNOTATION = "slipway.dev/pod-security-reason"
TRAFFIC_REASON_ANNOTATION = "slipway.dev/traffic-reason"


class PodSecurityLevel(StrEnum):
    """Pod Security Standards levels."""

    RESTRICTED = "restricted"
    BASELINE = "baseline"
    PRIVILEGED = "privileged"


def pod_security_labels(level: PodSecurityLevel, kubernetes_version: str) -> dict[str, str]:
    """Labels that enforce, audit and warn at one level, pinned to the cluster's version.

    Pinning the version keeps a cluster upgrade from tightening (and breaking) running
    namespaces before their workloads have been checked against the new rules.
    """
    version = f"v{kubernetes_version}"
    labels: dict[str, str] = {}
    for mode in ("enforce", "audit", "warn"):
        labels[f"pod-security.kubernetes.io/{mode}"] = level.value
        labels[f"pod-security.kubernetes.io/{mode}-version"] = version
    return labels


@dataclass(frozen=True)
class SecureNamespaceArgs:
    """Inputs of a SecureNamespace."""

    namespace: str
    """The namespace's name."""
    kubernetes_version: str
    """The cluster's minor version, such as '1.33', that the Pod Security level is pinned to."""
    level: PodSecurityLevel = PodSecurityLevel.RESTRICTED
    """The Pod Security level; lower it only for a workload that cannot run restricted."""
    level_reason: str = ""
    """Why a level below restricted is needed; required then, and kept on the namespace."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Extra labels, such as the team that owns the namespace."""
    allows: Sequence[Allow] = ()
    """The traffic the namespace's workloads need, each its own policy beside the default deny."""


class SecureNamespace(pulumi.ComponentResource):
    """A namespace, its Pod Security labels, a default-deny policy and the one allow all pods need."""

    namespace: pulumi.Output[str]

    def __init__(
        self, name: str, args: SecureNamespaceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Create the namespace, then deny all traffic in it except DNS lookups."""
        # Checked before registering, so a refused component leaves nothing half-declared.
        if args.level is not PodSecurityLevel.RESTRICTED and not args.level_reason.strip():
            raise ValueError(
                f"namespace {args.namespace!r} asks for Pod Security {args.level.value!r} without a reason"
            )
        super().__init__("slipway:cluster:SecureNamespace", name, None, opts)
        annotations = {REASON_ANNOTATION: args.level_reason} if args.level_reason else None
        labels = {
            "app.kubernetes.io/part-of": PART_OF,
            **args.labels,
            **pod_security_labels(args.level, args.kubernetes_version),
        }
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.namespace, labels=labels, annotations=annotations),
            opts=child_options(self, opts),
        )
        in_namespace = child_options(self, opts, [namespace])
        k8s.networking.v1.NetworkPolicy(
            f"{name}-default-deny",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="default-deny", namespace=args.namespace),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(),
                policy_types=["Ingress", "Egress"],
            ),
            opts=in_namespace,
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-allow-dns",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="allow-dns", namespace=args.namespace),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(),
                policy_types=["Egress"],
                egress=[
                    k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                        to=[
                            k8s.networking.v1.NetworkPolicyPeerArgs(
                                namespace_selector=k8s.meta.v1.LabelSelectorArgs(
                                    match_labels={"kubernetes.io/metadata.name": "kube-system"},
                                ),
                                pod_selector=k8s.meta.v1.LabelSelectorArgs(
                                    match_labels={"k8s-app": "kube-dns"},
                                ),
                            )
                        ],
                        ports=[
                            k8s.networking.v1.NetworkPolicyPortArgs(protocol="UDP", port=53),
                            k8s.networking.v1.NetworkPolicyPortArgs(protocol="TCP", port=53),
                        ],
                    )
                ],
            ),
            opts=in_namespace,
        )
        for allow in args.allows:
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{allow.name}",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=allow.name,
                    namespace=args.namespace,
                    annotations={TRAFFIC_REASON_ANNOTATION: allow.reason} if allow.reason else None,
                ),
                spec=api_spec(policy_spec(allow)),
                opts=in_namespace,
            )
        self.namespace = namespace.metadata.apply(lambda metadata: metadata.name or args.namespace)
        self.register_outputs({"namespace": self.namespace})
