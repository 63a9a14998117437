"""Rules that span several keys of one declaration, each naming the key to change."""

from __future__ import annotations

from collections.abc import Iterator

from components.declaration.instances import NVIDIA_GPU_FAMILIES, architecture, instance_family
from components.declaration.model import ModelDeclaration
from components.declaration.platform import ArgoAuthMode, Cloud, PlatformDeclaration, PoolKind

Finding = tuple[str, str]
"""A key path (without the 'slipway:' prefix) and what is wrong with it."""


def platform_findings(declaration: PlatformDeclaration) -> Iterator[Finding]:
    """Every cross-key problem of a platform declaration, in key order."""
    if declaration.cloud is Cloud.AWS:
        if declaration.aws is None:
            yield "aws", "required when cloud is 'aws'; allowed: a mapping with at least 'region'"
        if declaration.kubernetes is not None:
            yield "kubernetes", "only for cloud 'kubernetes'; remove it or set cloud: kubernetes"
    else:
        if declaration.kubernetes is None:
            yield (
                "kubernetes",
                "required when cloud is 'kubernetes'; allowed: a mapping with at least 'context'",
            )
        if declaration.aws is not None:
            yield "aws", "only for cloud 'aws'; remove it or set cloud: aws"

    admins = declaration.cluster.admins
    if declaration.cloud is Cloud.AWS and not admins:
        yield (
            "cluster.admins",
            "required when cloud is 'aws': the cluster grants its creator nothing; "
            "allowed: IAM role ARNs such as 'arn:aws:iam::111122223333:role/platform-admin'",
        )
    if declaration.cloud is not Cloud.AWS and admins:
        yield "cluster.admins", "only for cloud 'aws' (EKS access entries); remove it"
    for index, principal in enumerate(admins):
        if principal in admins[:index]:
            yield f"cluster.admins[{index}]", f"{principal!r} is listed twice; list each principal once"

    endpoint = declaration.cluster.endpoint
    if endpoint.public and not endpoint.public_cidrs:
        yield (
            "cluster.endpoint.publicCidrs",
            "required when public is true; allowed: one or more networks such as '203.0.113.0/24'",
        )
    if not endpoint.public and endpoint.public_cidrs:
        yield "cluster.endpoint.publicCidrs", "only used when public is true; remove it"

    argo = declaration.argo
    if argo.server_auth_mode is ArgoAuthMode.SSO and argo.sso is None:
        yield (
            "argo.sso",
            "required when serverAuthMode is 'sso'; allowed: a mapping with issuer and redirectUrl",
        )
    if argo.server_auth_mode is not ArgoAuthMode.SSO and argo.sso is not None:
        yield "argo.sso", "only used when serverAuthMode is 'sso'; remove it or set serverAuthMode: sso"

    yield from _pool_findings(declaration)

    seen_teams: set[str] = set()
    for index, team in enumerate(declaration.teams):
        if team.name in seen_teams:
            yield (
                f"teams[{index}].name",
                f"team {team.name!r} is declared twice; names must be unique",
            )
        seen_teams.add(team.name)


def _pool_findings(declaration: PlatformDeclaration) -> Iterator[Finding]:
    seen: set[str] = set()
    system_pools = 0
    for index, pool in enumerate(declaration.node_pools):
        at = f"nodePools[{index}]"
        if pool.name in seen:
            yield f"{at}.name", f"pool {pool.name!r} is declared twice; names must be unique"
        seen.add(pool.name)
        if pool.min_size > pool.max_size:
            yield (
                f"{at}.minSize",
                f"got {pool.min_size}, more than maxSize {pool.max_size}; allowed: 0 to {pool.max_size}",
            )
        if pool.desired_size is not None and not pool.min_size <= pool.desired_size <= pool.max_size:
            yield (
                f"{at}.desiredSize",
                f"got {pool.desired_size}; allowed: from minSize {pool.min_size} to maxSize {pool.max_size}",
            )
        if pool.kind is PoolKind.SYSTEM:
            system_pools += 1
            if pool.min_size < 1:
                yield (
                    f"{at}.minSize",
                    "got 0; allowed: 1 or more, cluster add-ons run on the system pool",
                )
        architectures = sorted({architecture(instance_type).value for instance_type in pool.instance_types})
        if len(architectures) > 1:
            yield (
                f"{at}.instanceTypes",
                f"mixes CPU architectures ({', '.join(architectures)}); "
                "allowed: all Graviton (arm64) or all x86_64 types in one pool",
            )
        for position, instance_type in enumerate(pool.instance_types):
            family = instance_family(instance_type)
            is_gpu_family = family in NVIDIA_GPU_FAMILIES
            if pool.kind is PoolKind.GPU and not is_gpu_family:
                yield (
                    f"{at}.instanceTypes[{position}]",
                    f"got {instance_type!r}, family {family!r} has no NVIDIA GPU; "
                    f"allowed families: {', '.join(sorted(NVIDIA_GPU_FAMILIES))}",
                )
            if pool.kind is not PoolKind.GPU and is_gpu_family:
                yield (
                    f"{at}.instanceTypes[{position}]",
                    f"got {instance_type!r}, a GPU family in a {pool.kind.value} pool; "
                    "allowed: set kind: gpu, or a non-GPU instance type",
                )
    if declaration.cloud is Cloud.AWS and system_pools != 1:
        yield "nodePools", f"got {system_pools} pools of kind 'system'; allowed: exactly one"


def model_findings(declaration: ModelDeclaration) -> Iterator[Finding]:
    """Every cross-key problem of a model declaration, in key order."""
    serving = declaration.serving
    if serving.min_replicas > serving.max_replicas:
        yield (
            "serving.minReplicas",
            f"got {serving.min_replicas}, more than maxReplicas {serving.max_replicas}; "
            f"allowed: 1 to {serving.max_replicas}",
        )

    previous = 0
    for index, step in enumerate(declaration.rollout.steps):
        if step.weight <= previous:
            yield (
                f"rollout.steps[{index}].weight",
                f"got {step.weight}; allowed: more than the previous step's {previous}, weights only grow",
            )
        previous = step.weight

    seen: set[str] = set()
    for index, gate in enumerate(declaration.gates.metrics):
        at = f"gates.metrics[{index}]"
        if gate.metric in seen:
            yield (
                f"{at}.metric",
                f"metric {gate.metric!r} is gated twice; allowed: one gate per metric",
            )
        seen.add(gate.metric)
        if (gate.min is None) == (gate.max is None):
            yield (
                at,
                "needs exactly one bound; allowed: 'min' (higher is better) or 'max' (lower is better)",
            )
