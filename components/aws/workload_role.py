"""An IAM role for one Kubernetes service account, handed to its pods by EKS Pod Identity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.aws.policy import Statement, document, pod_identity_trust
from components.options import child_options
from components.services import ServiceIdentity

# Credentials handed to pods last an hour; the agent renews them before they expire.
SESSION_SECONDS = 3600


@dataclass(frozen=True)
class WorkloadRoleArgs:
    """Inputs of a WorkloadRole."""

    cluster_name: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    identity: ServiceIdentity
    """The only service account that may use the role."""
    statements: pulumi.Input[Sequence[Statement]] = ()
    """The role's own permissions, each naming the ARNs it applies to."""
    managed_policy_arns: Sequence[str] = ()
    """AWS-maintained policies, only for AWS's own add-ons whose needs AWS tracks."""
    associate: bool = True
    """Create the Pod Identity association here; an EKS add-on makes its own when it is False."""
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)


class WorkloadRole(pulumi.ComponentResource):
    """A role trusted by one service account of one cluster, with only the permissions given."""

    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]

    def __init__(self, name: str, args: WorkloadRoleArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        """Create the role, its policy and, unless an add-on does it, the Pod Identity association."""
        super().__init__("slipway:aws:WorkloadRole", name, None, opts)
        child = child_options(self, opts)
        identity = args.identity
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=pulumi.Output.from_input(args.cluster_arn).apply(
                lambda arn: pod_identity_trust(arn, identity.namespace, identity.service_account)
            ),
            description=args.description
            or f"Pod Identity role of {identity.namespace}/{identity.service_account}",
            max_session_duration=SESSION_SECONDS,
            tags=args.tags,
            opts=child,
        )
        if _has_statements(args.statements):
            aws.iam.RolePolicy(
                f"{name}-policy",
                role=role.id,
                policy=pulumi.Output.from_input(args.statements).apply(lambda listed: document(list(listed))),
                opts=child,
            )
        for index, policy_arn in enumerate(args.managed_policy_arns):
            aws.iam.RolePolicyAttachment(
                f"{name}-managed-{index}", role=role.name, policy_arn=policy_arn, opts=child
            )
        if args.associate:
            aws.eks.PodIdentityAssociation(
                f"{name}-association",
                cluster_name=args.cluster_name,
                namespace=identity.namespace,
                service_account=identity.service_account,
                role_arn=role.arn,
                tags=args.tags,
                opts=child,
            )
        self.role_arn = role.arn
        self.role_name = role.name
        self.register_outputs({"roleArn": self.role_arn, "roleName": self.role_name})


def _has_statements(statements: pulumi.Input[Sequence[Statement]]) -> bool:
    # An Output may hold statements we cannot count yet; only a literal empty list means none.
    return isinstance(statements, pulumi.Output) or bool(statements)
