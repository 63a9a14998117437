"""Customer-managed KMS keys with rotation, one per purpose so each key policy stays narrow."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pulumi
import pulumi_aws as aws

from components.aws.policy import Statement, document, key_administration
from components.options import child_options

# AWS's longest waiting period: a key deleted by mistake can be cancelled for a month.
DELETION_WINDOW_DAYS = 30
ROTATION_PERIOD_DAYS = 365

_USE_ACTIONS = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]


class KeyPurpose(StrEnum):
    """What a key protects; each has its own key and alias."""

    CLUSTER_SECRETS = "cluster-secrets"
    NODE_VOLUMES = "node-volumes"
    LOGS = "logs"
    REGISTRY = "registry"
    ARTIFACTS = "artifacts"
    DATABASE = "database"


@dataclass(frozen=True)
class KeyContext:
    """Where a key lives, which its policy has to name."""

    account_id: str
    region: str
    partition: str = "aws"


def key_policy(purpose: KeyPurpose, where: KeyContext) -> str:
    """The key policy for one purpose: IAM administers it, and named services may use it."""
    statements: list[Statement] = [key_administration(where.account_id, where.partition)]
    if purpose is KeyPurpose.LOGS:
        # CloudWatch Logs encrypts as itself, not as the caller, so it must be named here; the
        # encryption context ties each use to a log group of this account and region.
        statements.append(
            {
                "Sid": "CloudWatchLogsOfThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{where.region}.amazonaws.com"},
                "Action": _USE_ACTIONS,
                "Resource": "*",
                "Condition": {
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            f"arn:{where.partition}:logs:{where.region}:{where.account_id}:log-group:*"
                        )
                    }
                },
            }
        )
    if purpose is KeyPurpose.NODE_VOLUMES:
        # Node volumes are created by the Auto Scaling service-linked role of each node group,
        # which may not exist yet when the key is made (naming it would then be rejected). This is
        # AWS's own aws/ebs key pattern: principals of this account only, and only through EC2.
        statements.append(
            {
                "Sid": "VolumesThroughEc2InThisAccount",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": [*_USE_ACTIONS, "kms:CreateGrant"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:CallerAccount": where.account_id,
                        "kms:ViaService": f"ec2.{where.region}.amazonaws.com",
                    }
                },
            }
        )
    return document(statements)


@dataclass(frozen=True)
class EncryptionKeyArgs:
    """Inputs of an EncryptionKey."""

    purpose: KeyPurpose
    """What the key protects; it decides the key policy and the alias."""
    alias_prefix: str
    """The alias path the key is filed under, such as 'slipway/slipway-dev'."""
    context: pulumi.Input[KeyContext]
    """The account, region and partition the key policy names."""


class EncryptionKey(pulumi.ComponentResource):
    """A symmetric KMS key with yearly rotation, an explicit key policy and an alias."""

    key_arn: pulumi.Output[str]
    key_id: pulumi.Output[str]
    alias_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: EncryptionKeyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Create the key and its alias."""
        super().__init__("slipway:aws:EncryptionKey", name, None, opts)
        child = child_options(self, opts)
        purpose = args.purpose
        key = aws.kms.Key(
            f"{name}-key",
            description=f"Slipway {purpose.value}",
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            enable_key_rotation=True,
            rotation_period_in_days=ROTATION_PERIOD_DAYS,
            deletion_window_in_days=DELETION_WINDOW_DAYS,
            multi_region=False,
            policy=pulumi.Output.from_input(args.context).apply(lambda where: key_policy(purpose, where)),
            opts=child,
        )
        alias = aws.kms.Alias(
            f"{name}-alias",
            name=f"alias/{args.alias_prefix}/{purpose.value}",
            target_key_id=key.key_id,
            opts=child,
        )
        self.key_arn = key.arn
        self.key_id = key.key_id
        self.alias_name = alias.name
        self.register_outputs({"keyArn": self.key_arn, "keyId": self.key_id, "aliasName": self.alias_name})
