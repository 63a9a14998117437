"""A customer-managed KMS key with rotation, one per purpose so grants stay narrow."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

# AWS's longest waiting period: a key deleted by mistake can be cancelled for a month.
DELETION_WINDOW_DAYS = 30
ROTATION_PERIOD_DAYS = 365


@dataclass(frozen=True)
class EncryptionKeyArgs:
    """Inputs of an EncryptionKey."""

    purpose: str
    """What the key protects, in a few words; it becomes the key's description and alias."""
    alias_prefix: str
    """The alias path the key is filed under, such as 'slipway/dev'."""


class EncryptionKey(pulumi.ComponentResource):
    """A symmetric KMS key with yearly rotation and an alias naming what it protects."""

    key_arn: pulumi.Output[str]
    key_id: pulumi.Output[str]
    alias_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: EncryptionKeyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Create the key and its alias."""
        super().__init__("slipway:aws:EncryptionKey", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        key = aws.kms.Key(
            f"{name}-key",
            description=f"Slipway {args.purpose}",
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            enable_key_rotation=True,
            rotation_period_in_days=ROTATION_PERIOD_DAYS,
            deletion_window_in_days=DELETION_WINDOW_DAYS,
            multi_region=False,
            opts=child,
        )
        alias = aws.kms.Alias(
            f"{name}-alias",
            name=f"alias/{args.alias_prefix}/{args.purpose}",
            target_key_id=key.key_id,
            opts=child,
        )
        self.key_arn = key.arn
        self.key_id = key.key_id
        self.alias_name = alias.name
        self.register_outputs({"keyArn": self.key_arn, "keyId": self.key_id, "aliasName": self.alias_name})
