"""A container repository: immutable tags, scanned on push, KMS-encrypted, pruned of untagged images."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.options import child_options


def untagged_expiry_policy(days: int) -> str:
    """The ECR lifecycle policy document that expires untagged images after `days` days."""
    if days < 1:
        raise ValueError(f"untagged image expiry must be at least 1 day, got {days}")
    rule = {
        "rulePriority": 1,
        "description": f"Expire untagged images after {days} days",
        "selection": {
            "tagStatus": "untagged",
            "countType": "sinceImagePushed",
            "countUnit": "days",
            "countNumber": days,
        },
        "action": {"type": "expire"},
    }
    return json.dumps({"rules": [rule]}, sort_keys=True)


@dataclass(frozen=True)
class ContainerRegistryArgs:
    """Inputs of a ContainerRegistry."""

    repository_name: pulumi.Input[str]
    """The repository's name, such as 'slipway-prod/runtime'; images are pushed by it."""
    kms_key_arn: pulumi.Input[str]
    """The customer-managed key the repository's images are encrypted with."""
    untagged_image_expiry_days: int = 14
    """How long an untagged image is kept before the lifecycle policy expires it."""


class ContainerRegistry(pulumi.ComponentResource):
    """One ECR repository held to the platform's image rules."""

    repository_url: pulumi.Output[str]
    repository_arn: pulumi.Output[str]
    repository_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: ContainerRegistryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Create the repository and its lifecycle policy."""
        super().__init__("slipway:aws:ContainerRegistry", name, None, opts)
        policy = untagged_expiry_policy(args.untagged_image_expiry_days)
        child = child_options(self, opts)
        repository = aws.ecr.Repository(
            f"{name}-repository",
            name=args.repository_name,
            # A tag that can be re-pointed defeats provenance: what was tested is what runs.
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                scan_on_push=True,
            ),
            encryption_configurations=[
                aws.ecr.RepositoryEncryptionConfigurationArgs(
                    encryption_type="KMS",
                    kms_key=args.kms_key_arn,
                )
            ],
            force_delete=False,
            opts=child,
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            repository=repository.name,
            policy=policy,
            opts=child,
        )
        self.repository_url = repository.repository_url
        self.repository_arn = repository.arn
        self.repository_name = repository.name
        self.register_outputs(
            {
                "repositoryUrl": self.repository_url,
                "repositoryArn": self.repository_arn,
                "repositoryName": self.repository_name,
            }
        )
