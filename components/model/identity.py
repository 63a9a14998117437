"""What a model's pipeline may do in AWS: its own prefixes of the artifact store, its own repository."""

from __future__ import annotations

from dataclasses import dataclass

from components.aws.policy import Statement, allow
from components.services import ARGO_ARTIFACT_PREFIX

# ECR's login has no resource of its own: AWS accepts only "*" for this one action.
ECR_LOGIN = "ecr:GetAuthorizationToken"


@dataclass(frozen=True)
class ModelArns:
    """The ARNs a model's pipeline role names."""

    region: str
    artifact_bucket: str
    artifacts_key: str
    repository: str


def prefixes(namespace: str, team: str, model: str) -> tuple[str, str]:
    """The model's workflow artifacts and its audit events in the artifact store."""
    return f"{ARGO_ARTIFACT_PREFIX}/{namespace}", f"audit/{team}/{model}"


def pipeline_statements(arns: ModelArns, namespace: str, team: str, model: str) -> list[Statement]:
    """The pipeline role's permissions: exact ARNs, only the model's own."""
    artifacts, audit = prefixes(namespace, team, model)
    return [
        allow(
            "ListOwnPrefixes",
            ["s3:ListBucket"],
            [arns.artifact_bucket],
            {"StringLike": {"s3:prefix": [f"{artifacts}/*", f"{audit}/*"]}},
        ),
        allow(
            "ReadWriteOwnObjects",
            ["s3:GetObject", "s3:PutObject"],
            [f"{arns.artifact_bucket}/{artifacts}/*", f"{arns.artifact_bucket}/{audit}/*"],
        ),
        allow(
            "UseArtifactsKey",
            ["kms:Decrypt", "kms:GenerateDataKey"],
            [arns.artifacts_key],
            {"StringEquals": {"kms:ViaService": f"s3.{arns.region}.amazonaws.com"}},
        ),
        allow(
            "PushAndPullOwnImages",
            [
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:CompleteLayerUpload",
                "ecr:GetDownloadUrlForLayer",
                "ecr:InitiateLayerUpload",
                "ecr:PutImage",
                "ecr:UploadLayerPart",
            ],
            [arns.repository],
        ),
        allow("LogInToEcr", [ECR_LOGIN], ["*"]),
    ]
