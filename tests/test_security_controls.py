"""The secure defaults of the registry, artifact store, keys and namespaces, asserted on the plan."""

from __future__ import annotations

import json

import pytest

from components.aws.artifact_store import ArtifactStore, ArtifactStoreArgs, bucket_policy
from components.aws.kms import KeyPurpose
from components.aws.registry import untagged_expiry_policy
from components.cluster.namespace import PodSecurityLevel, pod_security_labels
from tests.conftest import planned, resources_of


@pytest.fixture(scope="module", params=["platform-dev", "platform-prod"])
def aws_plan(request):
    return planned(request.param)


def test_every_registry_is_immutable_scanned_and_kms_encrypted(aws_plan):
    repositories = resources_of(aws_plan, "aws:ecr/repository:Repository")
    assert repositories
    for repository in repositories:
        assert repository["imageTagMutability"] == "IMMUTABLE"
        assert repository["imageScanningConfiguration"] == {"scanOnPush": True}
        (encryption,) = repository["encryptionConfigurations"]
        assert encryption["encryptionType"] == "KMS"
        assert encryption["kmsKey"].startswith("arn:aws:kms:")
        assert repository["forceDelete"] is False


def test_untagged_images_expire(aws_plan):
    (lifecycle,) = resources_of(aws_plan, "aws:ecr/lifecyclePolicy:LifecyclePolicy")
    (rule,) = json.loads(lifecycle["policy"])["rules"]
    assert rule["selection"]["tagStatus"] == "untagged"
    assert rule["selection"]["countNumber"] == 14
    assert rule["action"] == {"type": "expire"}


def test_every_kms_key_rotates(aws_plan):
    keys = resources_of(aws_plan, "aws:kms/key:Key")
    assert len(keys) == len(KeyPurpose)
    for key in keys:
        assert key["enableKeyRotation"] is True
        assert key["rotationPeriodInDays"] == 365
        assert key["deletionWindowInDays"] == 30


def test_artifact_bucket_blocks_all_public_access(aws_plan):
    (block,) = resources_of(aws_plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    for control in (
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
    ):
        assert block[control] is True, control
    (ownership,) = resources_of(aws_plan, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}


def test_artifact_bucket_is_kms_encrypted_with_bucket_keys(aws_plan):
    (encryption,) = resources_of(
        aws_plan,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    )
    (rule,) = encryption["rules"]
    default = rule["applyServerSideEncryptionByDefault"]
    assert default["sseAlgorithm"] == "aws:kms"
    artifacts_key = aws_plan.outputs["artifactsKmsKeyArn"]
    assert default["kmsMasterKeyId"] == artifacts_key
    assert rule["bucketKeyEnabled"] is True
    assert rule["blockedEncryptionTypes"] == ["SSE-C"]


def test_artifact_bucket_is_versioned_and_expires_old_versions(aws_plan):
    (versioning,) = resources_of(aws_plan, "aws:s3/bucketVersioning:BucketVersioning")
    assert versioning["versioningConfiguration"]["status"] == "Enabled"
    (lifecycle,) = resources_of(aws_plan, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    (rule,) = lifecycle["rules"]
    expected_days = aws_plan.declaration.artifact_store.noncurrent_version_expiry_days
    assert rule["noncurrentVersionExpiration"]["noncurrentDays"] == expected_days
    assert rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"] == 7


def test_artifact_bucket_policy_denies_plain_http(aws_plan):
    (policy,) = resources_of(aws_plan, "aws:s3/bucketPolicy:BucketPolicy")
    statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}
    insecure = statements["DenyInsecureTransport"]
    assert insecure["Effect"] == "Deny"
    assert insecure["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    bucket = aws_plan.outputs["artifactBucketArn"]
    assert insecure["Resource"] == [bucket, f"{bucket}/*"]


def test_bucket_policy_waits_for_the_public_access_block(aws_plan):
    policy = next(r for r in aws_plan.registrations if r.type == "aws:s3/bucketPolicy:BucketPolicy")
    block = next(
        r
        for r in aws_plan.registrations
        if r.type == "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
    )
    assert block.urn in policy.dependencies


def test_prod_and_dev_differ_in_retention_not_in_controls():
    dev, prod = planned("platform-dev"), planned("platform-prod")

    def lifecycle_days(plan):
        (lifecycle,) = resources_of(plan, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
        return lifecycle["rules"][0]["noncurrentVersionExpiration"]["noncurrentDays"]

    assert (lifecycle_days(dev), lifecycle_days(prod)) == (30, 90)
    for typ in ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "aws:kms/key:Key"):

        def controls(plan, typ=typ):
            return [{k: v for k, v in r.items() if k != "bucket"} for r in resources_of(plan, typ)]

        assert controls(dev) == controls(prod)


def test_aws_provider_tags_every_resource_with_stack_and_environment():
    (provider,) = resources_of(planned("platform-prod"), "pulumi:providers:aws")
    assert provider["region"] == "eu-west-1"
    tags = json.loads(provider["defaultTags"])["tags"]
    assert tags == {
        "cost-center": "ml-platform",
        "slipway:stack": "platform-prod",
        "slipway:environment": "prod",
    }


def test_pod_security_labels_pin_the_version():
    assert pod_security_labels(PodSecurityLevel.BASELINE, "1.31") == {
        "pod-security.kubernetes.io/enforce": "baseline",
        "pod-security.kubernetes.io/enforce-version": "v1.31",
        "pod-security.kubernetes.io/audit": "baseline",
        "pod-security.kubernetes.io/audit-version": "v1.31",
        "pod-security.kubernetes.io/warn": "baseline",
        "pod-security.kubernetes.io/warn-version": "v1.31",
    }


def test_policy_document_covers_bucket_and_objects():
    statements = json.loads(bucket_policy("arn:aws:s3:::b"))["Statement"]
    assert all(s["Resource"] == ["arn:aws:s3:::b", "arn:aws:s3:::b/*"] for s in statements)
    tls = next(s for s in statements if s["Sid"] == "DenyOutdatedTls")
    assert tls["Condition"] == {"NumericLessThan": {"s3:TlsVersion": "1.2"}}


@pytest.mark.parametrize("days", [0, -3])
def test_lifecycle_helpers_refuse_non_positive_days(days):
    with pytest.raises(ValueError, match=f"got {days}"):
        untagged_expiry_policy(days)


def test_artifact_store_refuses_zero_day_retention():
    with pytest.raises(ValueError, match="noncurrent version expiry must be at least 1 day, got 0"):
        ArtifactStore("store", ArtifactStoreArgs(kms_key_arn="arn", noncurrent_version_expiry_days=0))
