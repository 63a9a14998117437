"""What each of the platform's services may do in AWS, as policy statements over exact ARNs.

The Argo controller, Argo Rollouts and the Prometheus stack call nothing in AWS, so they get no
role at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.aws.policy import Statement, allow
from components.services import ARGO_ARTIFACT_PREFIX, MLFLOW_ARTIFACT_PREFIX


@dataclass(frozen=True)
class PlatformArns:
    """The ARNs the services' permissions name, once AWS has assigned them."""

    region: str
    artifact_bucket: str
    artifacts_key: str
    database_secret: str
    database_key: str
    node_volumes_key: str


def _prefix_reader(sid: str, bucket: str, prefix: str) -> Statement:
    return allow(
        sid,
        ["s3:ListBucket"],
        [bucket],
        {"StringLike": {"s3:prefix": [f"{prefix}/", f"{prefix}/*"]}},
    )


def _key_through(sid: str, key: str, service: str, region: str, actions: list[str]) -> Statement:
    # The key may only be used on the role's behalf by the one service that stores its data.
    return allow(
        sid, actions, [key], {"StringEquals": {"kms:ViaService": f"{service}.{region}.amazonaws.com"}}
    )


def _database_secret_reader(arns: PlatformArns) -> list[Statement]:
    return [
        allow(
            "ReadDatabaseSecret",
            ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
            [arns.database_secret],
        ),
        _key_through(
            "DecryptDatabaseSecret", arns.database_key, "secretsmanager", arns.region, ["kms:Decrypt"]
        ),
    ]


def mlflow_statements(arns: PlatformArns) -> list[Statement]:
    """The MLflow server: its own artifact prefix, read and write.

    MLflow serves artifacts through its own API, so clients never need bucket access. Its
    database login is a role of its own (see bootstrap_statements), not the admin secret.
    """
    objects = f"{arns.artifact_bucket}/{MLFLOW_ARTIFACT_PREFIX}/*"
    return [
        _prefix_reader("ListMlflowArtifacts", arns.artifact_bucket, MLFLOW_ARTIFACT_PREFIX),
        allow("ReadWriteMlflowArtifacts", ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"], [objects]),
        _key_through(
            "UseArtifactsKey",
            arns.artifacts_key,
            "s3",
            arns.region,
            ["kms:Decrypt", "kms:GenerateDataKey"],
        ),
    ]


def argo_server_statements(arns: PlatformArns) -> list[Statement]:
    """The Argo server: reads workflow artifacts and logs to show them in its UI, writes nothing."""
    objects = f"{arns.artifact_bucket}/{ARGO_ARTIFACT_PREFIX}/*"
    return [
        _prefix_reader("ListWorkflowArtifacts", arns.artifact_bucket, ARGO_ARTIFACT_PREFIX),
        allow("ReadWorkflowArtifacts", ["s3:GetObject"], [objects]),
        _key_through("DecryptArtifacts", arns.artifacts_key, "s3", arns.region, ["kms:Decrypt"]),
    ]


def bootstrap_statements(arns: PlatformArns) -> list[Statement]:
    """The platform bootstrap Job: the database admin secret, to make each service's own role.

    It is the only reader of that secret; the services log in with the roles it makes.
    """
    return _database_secret_reader(arns)


def ebs_csi_statements(arns: PlatformArns) -> list[Statement]:
    """The EBS CSI driver: AWS's policy covers volumes; this adds the customer key they use."""
    return [
        allow(
            "UseNodeVolumesKey",
            [
                "kms:CreateGrant",
                "kms:Decrypt",
                "kms:DescribeKey",
                "kms:GenerateDataKeyWithoutPlaintext",
                "kms:ReEncrypt*",
            ],
            [arns.node_volumes_key],
        )
    ]
