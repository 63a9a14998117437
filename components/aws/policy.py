"""IAM and KMS policy documents as plain data, so tests can read them and nothing calls AWS."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

Statement = dict[str, Any]
VERSION = "2012-10-17"

# The service that hands EKS Pod Identity credentials to pods.
POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"


def allow(
    sid: str,
    actions: Sequence[str],
    resources: Sequence[str],
    conditions: Mapping[str, Mapping[str, Any]] | None = None,
) -> Statement:
    """A statement that allows `actions` on exactly `resources`."""
    statement: Statement = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": sorted(actions),
        "Resource": list(resources),
    }
    if conditions:
        statement["Condition"] = {operator: dict(values) for operator, values in conditions.items()}
    return statement


def document(statements: Sequence[Statement]) -> str:
    """A policy document as the compact, key-sorted JSON AWS stores (stable across runs)."""
    return json.dumps({"Version": VERSION, "Statement": list(statements)}, sort_keys=True)


def service_trust(service: str) -> str:
    """A trust policy that lets one AWS service principal assume the role."""
    return document(
        [
            {
                "Sid": "AssumedByService",
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
            }
        ]
    )


def pod_identity_trust(cluster_arn: str, namespace: str, service_account: str) -> str:
    """A trust policy for EKS Pod Identity that admits one service account of one cluster.

    Pod Identity tags each session with the pod's cluster, namespace and service account; the
    conditions check all three, so a pod association made elsewhere by mistake cannot use the
    role.
    """
    return document(
        [
            {
                "Sid": "AssumedByOneServiceAccount",
                "Effect": "Allow",
                "Principal": {"Service": POD_IDENTITY_PRINCIPAL},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {
                    "StringEquals": {
                        "aws:RequestTag/eks-cluster-arn": cluster_arn,
                        "aws:RequestTag/kubernetes-namespace": namespace,
                        "aws:RequestTag/kubernetes-service-account": service_account,
                    }
                },
            }
        ]
    )


def key_administration(account_id: str, partition: str = "aws") -> Statement:
    """The key policy statement that keeps a KMS key manageable through IAM in its own account.

    Without it a key whose other statements name only services could never be changed or
    deleted again; with it, who may use the key is decided by IAM policies such as the roles'.
    """
    return {
        "Sid": "AccountAdministersThroughIam",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
